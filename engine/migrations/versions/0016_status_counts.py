"""status counts: the board's count deltas also keep the open dossiers per status (the desk totals)

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-29 18:45:00

"""

from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op
from sqlalchemy.orm import Session

revision: str = "0016"
down_revision: Union[str, Sequence[str], None] = "0015"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

# engine.board.STATUS as of this revision (a migration keeps its own copy).
STATUS = 4


def upgrade() -> None:
    """The dossiers already stored get their status counts from the engine's own rebuild (the one
    place the board's rules live), which rewrites every count row from the case rows."""
    from engine import board
    from engine.calendar_store import build_calendar
    from engine.settings import EngineSettings

    settings = EngineSettings.from_env()
    session = Session(bind=op.get_bind())
    calendar = build_calendar(session, settings.calendar)
    board.rebuild(session, calendar, settings.amber_threshold)
    session.flush()


def downgrade() -> None:
    op.execute(sa.text(f"DELETE FROM board_counts WHERE kind = {STATUS}"))
