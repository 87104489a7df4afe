"""desk search: each dossier's code, applicant name and CCCD folded in cases.search_key, backfilled

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-29 14:40:00

"""

import unicodedata
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op


revision: str = "0011"
down_revision: Union[str, Sequence[str], None] = "0010"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def _fold(text: str) -> str:
    # engine.text.search_key as of this revision (a migration keeps its own copy)
    decomposed = unicodedata.normalize("NFD", text.casefold().replace("đ", "d"))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).strip()


def upgrade() -> None:
    op.add_column("cases", sa.Column("search_key", sa.Text(), nullable=True))
    cases = sa.table(
        "cases",
        sa.column("id", sa.Integer),
        sa.column("code", sa.String),
        sa.column("applicant_name", sa.String),
        sa.column("applicant", sa.JSON),
        sa.column("search_key", sa.Text),
    )
    connection = op.get_bind()
    last = 0
    while True:
        rows = connection.execute(
            sa.select(cases.c.id, cases.c.code, cases.c.applicant_name, cases.c.applicant)
            .where(cases.c.id > last)
            .order_by(cases.c.id)
            .limit(5000)
        ).all()
        if not rows:
            break
        connection.execute(
            cases.update()
            .where(cases.c.id == sa.bindparam("case_id"))
            .values(search_key=sa.bindparam("key")),
            [
                {
                    "case_id": r.id,
                    "key": "\n".join(
                        _fold(str(v) if v else "")
                        for v in (r.code, r.applicant_name, (r.applicant or {}).get("id_number"))
                    ),
                }
                for r in rows
            ],
        )
        last = rows[-1].id


def downgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.drop_column("search_key")
