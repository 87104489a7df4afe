"""Administration: the working-calendar override table and outbox incidents."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask.typing import ResponseReturnValue

from .security import requires

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.get("/")
@requires("admin")
def index() -> ResponseReturnValue:
    return render_template("admin/index.html")
