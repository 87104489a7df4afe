"""read model builds: what the SLA board was last rebuilt with, so init-db rebuilds it only when
its settings change

Revision ID: 0019
Revises: 0018
Create Date: 2026-11-29 19:30:00

"""

from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: Union[str, Sequence[str], None] = "0018"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table(
        "read_model_builds",
        sa.Column("name", sa.String(50), primary_key=True),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("built_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("read_model_builds")
