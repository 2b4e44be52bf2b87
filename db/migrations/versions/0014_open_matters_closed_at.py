"""open matters index carries closed_at; the closed_at index holds closed ones

``ix_matters_open`` (0013) holds the open matters with every column the
counter's 期末在办 slice groups by, but not ``closed_at`` itself, which the
slice's set tests read (办结 in the period, 期末在办): SQLite then took the
plain ``ix_matters_closed_at`` index and looked up each open matter's row
(35 000 rows, ~0.4 s for a busy street's month).  With ``closed_at`` in the
index (always NULL there, one byte a row) the slice reads the partial index
alone (~0.08 s).

``ix_matters_closed_at`` becomes partial (``WHERE closed_at IS NOT
NULL``): every query of it asks for a range of closing times, which the
partial index answers, and the open matters are ``ix_matters_open``'s.
Without this, SQLite (with no statistics) takes ``closed_at IS NULL`` as
an equality on the plain index — "a few rows" — and prefers it to the
covering partial one.

Only indexes are rebuilt: no table or synced column changes.

Revision ID: 0014_open_matters_closed_at
Revises: 0013_report_indexes
Create Date: 2026-12-05 13:00:00
"""

from alembic import op
import sqlalchemy as sa


revision = "0014_open_matters_closed_at"
down_revision = "0013_report_indexes"
branch_labels = None
depends_on = None

OPEN = "closed_at IS NULL"
CLOSED = "closed_at IS NOT NULL"
BEFORE = [
    "accepted_at",
    "matter_type_id",
    "matter_name",
    "category",
    "channel",
    "handler_name",
    "origin",
    "status",
    "promised_date",
    "deleted",
]
AFTER = [*BEFORE, "closed_at"]


def _index(columns: list[str]) -> None:
    op.create_index(
        "ix_matters_open",
        "matters",
        columns,
        unique=False,
        sqlite_where=sa.text(OPEN),
        postgresql_where=sa.text(OPEN),
    )


def upgrade() -> None:
    op.drop_index("ix_matters_open", table_name="matters")
    _index(AFTER)
    op.drop_index("ix_matters_closed_at", table_name="matters")
    op.create_index(
        "ix_matters_closed_at",
        "matters",
        ["closed_at"],
        unique=False,
        sqlite_where=sa.text(CLOSED),
        postgresql_where=sa.text(CLOSED),
    )


def downgrade() -> None:
    op.drop_index("ix_matters_closed_at", table_name="matters")
    op.create_index("ix_matters_closed_at", "matters", ["closed_at"], unique=False)
    op.drop_index("ix_matters_open", table_name="matters")
    _index(BEFORE)
