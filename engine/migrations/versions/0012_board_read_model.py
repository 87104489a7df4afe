"""board read model: each dossier's board group, lanes and amber moment, and the board's count deltas, backfilled

Revision ID: 0012
Revises: 0013
Create Date: 2026-11-29 15:50:00

"""

from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op
from sqlalchemy.orm import Session


revision: str = "0012"
down_revision: Union[str, Sequence[str], None] = '0013'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.add_column("cases", sa.Column("board_group", sa.Integer(), nullable=True))
    op.add_column("cases", sa.Column("board_lanes", sa.Text(), nullable=True))
    op.add_column("cases", sa.Column("amber_at", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "board_counts",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True),
        sa.Column("procedure_id", sa.String(100), nullable=False),
        sa.Column("board_group", sa.Integer(), nullable=False),
        sa.Column("lanes", sa.Text(), nullable=False),
        sa.Column("kind", sa.Integer(), nullable=False),
        sa.Column("bucket", sa.DateTime(timezone=True), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
    )
    op.create_index(
        "ix_board_counts_bucket",
        "board_counts",
        ["bucket", "procedure_id", "board_group", "lanes", "kind", "n"],
    )
    op.create_index(
        "ix_cases_board_due",
        "cases",
        ["board_group", "due_at", "id", "amber_at", "procedure_id", "board_lanes"],
    )
    op.create_index("ix_cases_board_amber", "cases", ["board_group", "amber_at", "procedure_id", "board_lanes"])
    op.create_index(
        "ix_cases_late_receipt",
        "cases",
        ["receipt_due_at", "id"],
        sqlite_where=sa.text(LATE_RECEIPT),
        postgresql_where=sa.text(LATE_RECEIPT),
    )
    _backfill()


# engine.models.LATE_RECEIPT as of this revision (a migration keeps its own copy).
LATE_RECEIPT = "receipt_due_at IS NOT NULL AND status <> 1 AND (received_at IS NULL OR received_at > receipt_due_at)"


def _backfill() -> None:
    """The read model of the dossiers already stored, by the engine's own rebuild (the one place its
    rules live), under this deployment's threshold and calendar with its stored overrides."""
    from engine import board
    from engine.calendar_store import build_calendar
    from engine.settings import EngineSettings

    settings = EngineSettings.from_env()
    session = Session(bind=op.get_bind())
    calendar = build_calendar(session, settings.calendar)
    board.rebuild(session, calendar, settings.amber_threshold)
    session.flush()


def downgrade() -> None:
    op.drop_index("ix_cases_late_receipt", table_name="cases")
    op.drop_index("ix_cases_board_amber", table_name="cases")
    op.drop_index("ix_cases_board_due", table_name="cases")
    op.drop_index("ix_board_counts_bucket", table_name="board_counts")
    op.drop_table("board_counts")
    # Plain ALTER TABLE ... DROP COLUMN (SQLite >= 3.35): a batch copy of ``cases`` would trip the
    # foreign keys of the rows that reference it.
    for column in ("amber_at", "board_lanes", "board_group"):
        op.drop_column("cases", column)
