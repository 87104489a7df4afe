"""The SLA board: breached and approaching dossiers per procedure, receipt breaches, apologies."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask.typing import ResponseReturnValue

from .security import HEADS, engine, requires

bp = Blueprint("board", __name__, url_prefix="/board")


@bp.get("/")
@requires("desk_clerk", *HEADS, "auditor")
def board() -> ResponseReturnValue:
    eng = engine()
    return render_template("board.html", board=eng.sla_board(), satisfaction=eng.satisfaction())
