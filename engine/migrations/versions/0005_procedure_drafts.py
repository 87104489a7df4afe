"""procedure drafts: a designer's saved, not yet deployed edit

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 12:40:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0005'
down_revision: Union[str, Sequence[str], None] = '0004'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table('procedure_drafts',
    sa.Column('procedure_id', sa.String(length=100), nullable=False),
    sa.Column('xml', sa.Text(), nullable=False),
    sa.Column('base_version', sa.Integer(), nullable=False),
    sa.Column('valid', sa.Boolean(), nullable=False),
    sa.Column('saved_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('saved_by', sa.String(length=100), nullable=False),
    sa.PrimaryKeyConstraint('procedure_id')
    )


def downgrade() -> None:
    op.drop_table('procedure_drafts')
