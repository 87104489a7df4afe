"""report rollup: the periodic report's figures by local day and group (report_groups,
report_rollup) and the dossiers it cannot hold (report_irregular), backfilled from dossier_facts

Revision ID: 0015
Revises: 0012
Create Date: 2026-11-29 17:00:00

"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op
from sqlalchemy.orm import Session


revision: str = '0015'
down_revision: Union[str, Sequence[str], None] = '0012'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table(
        'report_groups',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('procedure_id', sa.String(length=255), nullable=False),
        sa.Column('procedure_name', sa.String(length=500), nullable=False),
        sa.Column('unit', sa.String(length=255), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('procedure_id', 'procedure_name', 'unit', name='uq_report_groups'),
    )
    op.create_table(
        'report_rollup',
        sa.Column('field', sa.String(length=32), nullable=False),
        sa.Column('day', sa.Integer(), nullable=False),
        sa.Column('prev', sa.Integer(), nullable=False),
        sa.Column('group_id', sa.Integer(), nullable=False),
        sa.Column('n', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['group_id'], ['report_groups.id']),
        sa.PrimaryKeyConstraint('field', 'day', 'prev', 'group_id'),
    )
    op.create_table(
        'report_irregular',
        sa.Column('case_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['case_id'], ['cases.id']),
        sa.PrimaryKeyConstraint('case_id'),
    )
    # Backfill with the engine's own rule (reports.rollup_contributions through
    # engine.report_rollup) from the cached facts: the rollup is a sum of that function.
    from engine import report_rollup

    with Session(bind=op.get_bind()) as session:
        report_rollup.rebuild(session)


def downgrade() -> None:
    op.drop_table('report_irregular')
    op.drop_table('report_rollup')
    op.drop_table('report_groups')
