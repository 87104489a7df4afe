"""Auditor pages: case history replay, integrity verification, reports and the Decision 766 scorecard."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask.typing import ResponseReturnValue

from .security import requires

bp = Blueprint("auditor", __name__, url_prefix="/auditor")


@bp.get("/")
@requires("auditor", "director")
def index() -> ResponseReturnValue:
    return render_template("auditor/index.html")
