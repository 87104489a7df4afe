"""register window: cases by submission time (the register reads only its window's dossiers)

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-29 14:00:00

"""
from typing import Sequence, Union

from alembic import op


revision: str = '0009'
down_revision: Union[str, Sequence[str], None] = '0008'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_index('ix_cases_submitted', 'cases', ['submitted_at', 'id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_cases_submitted', table_name='cases')
