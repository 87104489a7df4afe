"""scorecard targets: the plan's 766 targets per year, set by an admin, with history

Revision ID: 0006e
Revises: 0006f
Create Date: 2026-11-29 10:00:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0006e'
down_revision: Union[str, Sequence[str], None] = '0006f'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table('scorecard_targets',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=20), nullable=False),
    sa.Column('target', sa.Double(), nullable=False),
    sa.Column('note', sa.String(length=500), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=100), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_scorecard_targets_year'), 'scorecard_targets', ['year'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_scorecard_targets_year'), table_name='scorecard_targets')
    op.drop_table('scorecard_targets')
