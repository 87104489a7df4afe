"""audit digests: daily seal over every case's chain head

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 10:40:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0004'
down_revision: Union[str, Sequence[str], None] = '0003'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table('audit_digests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('day', sa.String(length=10), nullable=False),
    sa.Column('as_of', sa.DateTime(timezone=True), nullable=False),
    sa.Column('case_count', sa.Integer(), nullable=False),
    sa.Column('event_count', sa.BigInteger(), nullable=False),
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.Column('prev_seal', sa.String(length=64), nullable=False),
    sa.Column('seal', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('day')
    )
    op.create_table('audit_digest_entries',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('digest_id', sa.Integer(), nullable=False),
    sa.Column('case_code', sa.String(length=80), nullable=False),
    sa.Column('last_seq', sa.Integer(), nullable=False),
    sa.Column('last_hash', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['digest_id'], ['audit_digests.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('digest_id', 'case_code')
    )
    with op.batch_alter_table('audit_digest_entries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_digest_entries_digest_id'), ['digest_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('audit_digest_entries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_digest_entries_digest_id'))
    op.drop_table('audit_digest_entries')
    op.drop_table('audit_digests')
