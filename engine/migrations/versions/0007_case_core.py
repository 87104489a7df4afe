"""case core: the history format of each case, and the typed SLA state of stored rows

Revision ID: 0007
Revises: 0005
Create Date: 2026-11-29 10:40:00

Cases started before this revision keep history format 1 (no task_cancelled events, withdrawal
recorded as a bare status change); new cases are started with format 2. The SLA JSON of paused
cases gains ``waiting_for`` (what the clock waits for: status 6 is a fee, anything else documents),
so a fee wait is never read as a supplementation.
"""
import json
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0007'
down_revision: Union[str, Sequence[str], None] = '0005'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('cases') as batch:
        batch.add_column(sa.Column('history_format', sa.Integer(), server_default='1', nullable=False))
    bind = op.get_bind()
    cases = sa.table('cases', sa.column('id', sa.Integer), sa.column('status', sa.Integer),
                     sa.column('sla', sa.JSON))
    for row in bind.execute(sa.select(cases.c.id, cases.c.status, cases.c.sla)).fetchall():
        state = row.sla if isinstance(row.sla, dict) else json.loads(row.sla or "{}")
        if state.get('paused_at') and 'waiting_for' not in state:
            state['waiting_for'] = 'payment' if row.status == 6 else 'supplementation'
            bind.execute(sa.update(cases).where(cases.c.id == row.id).values(sla=state))


def downgrade() -> None:
    with op.batch_alter_table('cases') as batch:
        batch.drop_column('history_format')
