"""register days: the rows of dossier_facts by local submission day (register_days), so a register
page's total sums days instead of counting dossiers; backfilled from dossier_facts

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-29 18:30:00

"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op
from sqlalchemy.orm import Session


revision: str = '0017'
down_revision: Union[str, Sequence[str], None] = "0016"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table(
        'register_days',
        sa.Column('day', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('n', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('day'),
    )
    # Backfill with the engine's own rule (reports.local_day through engine.register_days) from
    # the cached facts: SQLite has no time zones, so the days are counted in Python.
    from engine import register_days

    with Session(bind=op.get_bind()) as session:
        register_days.rebuild(session)


def downgrade() -> None:
    op.drop_table('register_days')
