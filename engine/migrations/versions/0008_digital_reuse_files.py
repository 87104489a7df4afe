"""citizen data store (reuse), file-store rows without blobs, signed results, receipts and cash payments

Revision ID: 0008
Revises: 0006a
Create Date: 2026-11-29 13:00:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0008'
down_revision: Union[str, Sequence[str], None] = '0006a'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table(
        'citizen_data_items',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('cccd', sa.String(length=12), nullable=False),
        sa.Column('data_code', sa.String(length=50), nullable=False),
        sa.Column('name', sa.String(length=300), nullable=False),
        sa.Column('filename', sa.String(length=255), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('size', sa.Integer(), nullable=False),
        sa.Column('source', sa.String(length=20), nullable=False),
        sa.Column('source_case_code', sa.String(length=30), nullable=False),
        sa.Column('procedure_id', sa.String(length=100), nullable=False),
        sa.Column('document_code', sa.String(length=50), nullable=False),
        sa.Column('stored_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('valid_until', sa.Date(), nullable=True),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index(
        'ix_citizen_data_items_owner', 'citizen_data_items', ['cccd', 'data_code', 'valid_until'], unique=False
    )
    with op.batch_alter_table('dossier_documents') as batch:
        batch.alter_column('content', existing_type=sa.LargeBinary(), nullable=True)
    with op.batch_alter_table('case_results') as batch:
        batch.alter_column('content', existing_type=sa.LargeBinary(), nullable=True)
        batch.add_column(sa.Column('signer', sa.String(length=300), nullable=True))
    with op.batch_alter_table('payments') as batch:
        batch.add_column(sa.Column('method', sa.String(length=10), nullable=False, server_default='online'))
        batch.add_column(sa.Column('recorded_by', sa.String(length=100), nullable=True))
        batch.add_column(sa.Column('receipt_number', sa.String(length=40), nullable=True))
        batch.create_unique_constraint('uq_payments_receipt_number', ['receipt_number'])


def downgrade() -> None:
    with op.batch_alter_table('payments') as batch:
        batch.drop_constraint('uq_payments_receipt_number', type_='unique')
        batch.drop_column('receipt_number')
        batch.drop_column('recorded_by')
        batch.drop_column('method')
    with op.batch_alter_table('case_results') as batch:
        batch.drop_column('signer')
    op.drop_index('ix_citizen_data_items_owner', table_name='citizen_data_items')
    op.drop_table('citizen_data_items')
