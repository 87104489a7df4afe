"""read-side indexes: SLA board, desk queue, and partial open-item indexes for the tasklists

Revision ID: 0006a
Revises: 0006d
Create Date: 2026-11-29 10:45:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0006a'
down_revision: Union[str, Sequence[str], None] = '0006d'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

OPEN = sa.text("completed_at IS NULL")


def upgrade() -> None:
    op.create_index(
        'ix_cases_open_due', 'cases',
        ['completed', 'due_at', 'status', 'finished_at', 'received_at', 'procedure_id', 'id'],
        unique=False,
    )
    op.create_index(
        'ix_cases_board', 'cases',
        ['completed', 'status', 'procedure_id', 'due_at', 'received_at', 'receipt_due_at', 'finished_at'],
        unique=False,
    )
    op.create_index('ix_cases_receipt_due', 'cases', ['receipt_due_at', 'status', 'received_at'], unique=False)
    op.create_index(
        'ix_cases_apologised', 'cases',
        ['due_at', 'id', 'procedure_id', 'completed', 'finished_at', 'status', 'received_at'],
        unique=False,
        sqlite_where=sa.text("json_extract(sla, '$.apologies') > 0"),
        postgresql_where=sa.text("CAST(sla ->> 'apologies' AS INTEGER) > 0"),
    )
    op.create_index('ix_cases_desk', 'cases', ['status', 'receipt_due_at', 'submitted_at', 'id'], unique=False)
    op.create_index('ix_work_items_case_open', 'work_items', ['case_id', 'completed_at', 'lane'], unique=False)
    op.drop_index('ix_work_items_case', table_name='work_items')
    op.drop_index('ix_work_items_open', table_name='work_items')
    op.create_index(
        'ix_work_items_role_open', 'work_items', ['role', 'due_at', 'id'], unique=False,
        sqlite_where=OPEN, postgresql_where=OPEN,
    )
    op.create_index(
        'ix_work_items_assignee_open', 'work_items', ['assignee', 'due_at', 'id'], unique=False,
        sqlite_where=OPEN, postgresql_where=OPEN,
    )


def downgrade() -> None:
    op.drop_index('ix_work_items_assignee_open', table_name='work_items')
    op.drop_index('ix_work_items_role_open', table_name='work_items')
    op.create_index('ix_work_items_case', 'work_items', ['case_id'], unique=False)
    op.create_index('ix_work_items_open', 'work_items', ['completed_at', 'role', 'due_at'], unique=False)
    op.drop_index('ix_work_items_case_open', table_name='work_items')
    op.drop_index('ix_cases_desk', table_name='cases')
    op.drop_index('ix_cases_apologised', table_name='cases')
    op.drop_index('ix_cases_receipt_due', table_name='cases')
    op.drop_index('ix_cases_board', table_name='cases')
    op.drop_index('ix_cases_open_due', table_name='cases')
