"""report facts read model: dossier_facts (one row of reports.DossierFacts per dossier), cases.facts_seq
and the stale dossiers' partial index, backfilled from every dossier's history

Revision ID: 0013
Revises: 0014
Create Date: 2026-11-29 16:00:00

"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op
from sqlalchemy.orm import Session


revision: str = '0013'
down_revision: Union[str, Sequence[str], None] = '0014'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.add_column('cases', sa.Column('facts_seq', sa.Integer(), server_default='0', nullable=False))
    op.create_index('ix_cases_facts_stale', 'cases', [sa.text('(last_seq - facts_seq)')], unique=False)
    op.create_table(
        'dossier_facts',
        sa.Column('case_id', sa.Integer(), nullable=False),
        sa.Column('code', sa.String(length=80), nullable=False),
        sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('received_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('latest_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('facts', sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(['case_id'], ['cases.id']),
        sa.PrimaryKeyConstraint('case_id'),
    )
    op.create_index('ix_dossier_facts_register', 'dossier_facts', ['submitted_at', 'code'], unique=False)
    op.create_index('ix_dossier_facts_latest', 'dossier_facts', ['latest_at', 'submitted_at'], unique=False)
    op.create_index(
        'ix_dossier_facts_open', 'dossier_facts', ['received_at'], unique=False,
        sqlite_where=sa.text('ended_at IS NULL'),
        postgresql_where=sa.text('ended_at IS NULL'),
    )
    # Backfill with the engine's own rule (reports.dossier_facts through engine.facts_store): the
    # read model is a cache of that function, so no copy of it may live here. Every dossier with a
    # history is stale now (facts_seq 0 < last_seq); rebuild() recomputes them all in rounds.
    from engine import facts_store

    with Session(bind=op.get_bind()) as session:
        facts_store.rebuild(session, sums=False)  # their tables come with 0015 and 0017


def downgrade() -> None:
    op.drop_index('ix_dossier_facts_open', table_name='dossier_facts')
    op.drop_index('ix_dossier_facts_latest', table_name='dossier_facts')
    op.drop_index('ix_dossier_facts_register', table_name='dossier_facts')
    op.drop_table('dossier_facts')
    op.drop_index('ix_cases_facts_stale', table_name='cases')
    # A plain DROP COLUMN (SQLite 3.35+): a batch copy of ``cases`` would trip its foreign keys.
    op.drop_column('cases', 'facts_seq')
