"""applicant CCCD: each dossier's applicant CCCD without spaces in cases.applicant_cccd, indexed, backfilled

Revision ID: 0014
Revises: 0011
Create Date: 2026-11-29 16:00:00

"""

from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op


revision: str = "0014"
down_revision: Union[str, Sequence[str], None] = "0011"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def _key(id_number: object) -> str | None:
    # engine.text.cccd_key as of this revision (a migration keeps its own copy)
    number = "".join(str(id_number).split()) if id_number else ""
    return number or None


def upgrade() -> None:
    op.add_column("cases", sa.Column("applicant_cccd", sa.String(length=20), nullable=True))
    cases = sa.table(
        "cases",
        sa.column("id", sa.Integer),
        sa.column("applicant", sa.JSON),
        sa.column("applicant_cccd", sa.String),
    )
    connection = op.get_bind()
    last = 0
    while True:
        rows = connection.execute(
            sa.select(cases.c.id, cases.c.applicant).where(cases.c.id > last).order_by(cases.c.id).limit(5000)
        ).all()
        if not rows:
            break
        keyed = [
            {"case_id": r.id, "key": key}
            for r in rows
            if (key := _key((r.applicant or {}).get("id_number"))) is not None
        ]
        if keyed:
            connection.execute(
                cases.update()
                .where(cases.c.id == sa.bindparam("case_id"))
                .values(applicant_cccd=sa.bindparam("key")),
                keyed,
            )
        last = rows[-1].id
    op.create_index("ix_cases_applicant_cccd", "cases", ["applicant_cccd", "submitted_at", "id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_cases_applicant_cccd", table_name="cases")
    # A plain DROP COLUMN (SQLite >= 3.35): a batch copy of ``cases`` would trip its foreign keys.
    op.drop_column("cases", "applicant_cccd")
