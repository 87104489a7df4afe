"""timers pending index: the claim walks the unfired timers in (due_at, id) order

Revision ID: 0018
Revises: 0017
Create Date: 2026-11-29 18:50:00

"""

from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: Union[str, Sequence[str], None] = "0017"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_index(
        "ix_timers_pending",
        "timers",
        ["due_at", "id"],
        sqlite_where=sa.text("fired_at IS NULL"),
        postgresql_where=sa.text("fired_at IS NULL"),
    )
    op.drop_index("ix_timers_due", table_name="timers")


def downgrade() -> None:
    op.create_index("ix_timers_due", "timers", ["fired_at", "due_at"])
    op.drop_index("ix_timers_pending", table_name="timers")
