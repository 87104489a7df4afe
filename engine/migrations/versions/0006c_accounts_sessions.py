"""accounts and sessions: forced password change, account audit, reset links, server-side sessions;
hourly audit checkpoints (longer digest keys)

Revision ID: 0006c
Revises: 0006e
Create Date: 2026-11-29 10:00:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa



revision: str = '0006c'
down_revision: Union[str, Sequence[str], None] = '0006e'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('audit_digests') as batch:
        batch.alter_column('day', existing_type=sa.String(length=10), type_=sa.String(length=20))
    with op.batch_alter_table('users') as batch:
        batch.add_column(sa.Column('must_change_password', sa.Boolean(), nullable=False, server_default=sa.false()))
    op.create_table('account_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=100), nullable=False),
    sa.Column('username', sa.String(length=100), nullable=False),
    sa.Column('action', sa.String(length=40), nullable=False),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_account_events_at'), 'account_events', ['at'], unique=False)
    op.create_index(op.f('ix_account_events_username'), 'account_events', ['username'], unique=False)
    op.create_table('password_resets',
    sa.Column('token_digest', sa.String(length=64), nullable=False),
    sa.Column('username', sa.String(length=100), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('token_digest')
    )
    op.create_index(op.f('ix_password_resets_username'), 'password_resets', ['username'], unique=False)
    op.create_table('web_sessions',
    sa.Column('id_digest', sa.String(length=64), nullable=False),
    sa.Column('username', sa.String(length=100), nullable=True),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id_digest')
    )
    op.create_index(op.f('ix_web_sessions_last_seen_at'), 'web_sessions', ['last_seen_at'], unique=False)
    op.create_index(op.f('ix_web_sessions_username'), 'web_sessions', ['username'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('audit_digests') as batch:
        batch.alter_column('day', existing_type=sa.String(length=20), type_=sa.String(length=10))
    op.drop_table('web_sessions')
    op.drop_table('password_resets')
    op.drop_table('account_events')
    with op.batch_alter_table('users') as batch:
        batch.drop_column('must_change_password')
