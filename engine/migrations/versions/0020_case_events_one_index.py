"""case_events: drop ix_case_events_case_id, a prefix of the unique (case_id, seq) index

Every event insert maintained both; every lookup by case (IN lists, equality, the history in seq
order) is served by the unique index alone.

Revision ID: 0020
Revises: 0019
Create Date: 2026-11-29 21:50:00

"""

from typing import Sequence, Union

from alembic import op

revision: str = "0020"
down_revision: Union[str, Sequence[str], None] = "0019"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.drop_index("ix_case_events_case_id", table_name="case_events")


def downgrade() -> None:
    op.create_index("ix_case_events_case_id", "case_events", ["case_id"])
