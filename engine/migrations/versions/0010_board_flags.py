"""board flags: partial indexes of the two SLA flags the board lists (day-off appointments, repeat supplements)

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-29 14:30:00

"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op


revision: str = '0010'
down_revision: Union[str, Sequence[str], None] = '0009'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

# Spelt as engine.models.flagged_predicate(dialect, flag, "sla") (a migration keeps its own copy).
_SQLITE = "instr(json_extract(sla, '$.flags'), '\"{flag}\"') > 0"
_POSTGRESQL = "CAST(sla -> 'flags' AS jsonb) @> '[\"{flag}\"]'"
FLAGS = ('appointment_on_day_off', 'repeat_supplement')


def upgrade() -> None:
    for flag in FLAGS:
        op.create_index(
            f'ix_cases_flag_{flag}', 'cases',
            ['due_at', 'id', 'procedure_id', 'completed', 'finished_at', 'status'],
            unique=False,
            sqlite_where=sa.text(_SQLITE.format(flag=flag)),
            postgresql_where=sa.text(_POSTGRESQL.format(flag=flag)),
        )


def downgrade() -> None:
    for flag in FLAGS:
        op.drop_index(f'ix_cases_flag_{flag}', table_name='cases')
