"""report indexes (2)

Covering indexes for the monthly report, so its queries read an index
and never the rows behind it:

* ``ix_matters_open``: the matters not yet closed (a partial index, a few
  per cent of the table), with every column the counter's 期末在办 slice
  groups and tests.  The slice "accepted before the month and still open"
  otherwise looks up each of tens of thousands of rows in the table.
* ``ix_matters_accepted_resident``: the matters accepted in a period with
  their resident, which 本期接触 (办事) reads for every special-group
  resident, without looking up each matter's row.
* ``ix_visits_day_who``: the period's visits with who was visited (and
  where, and how), which 本期接触 (接受入户走访) and the month's visit
  counts read, without looking up each visit's row.
* ``ix_visits_last``: visits by household, resident and outcome with the
  day, in the order the visit schedule groups them for each household's
  last visit, so that GROUP BY reads the index in order without a sort or
  the table.

Only new indexes: no table or synced column changes.

Revision ID: 0013_report_indexes
Revises: 0012_wishes
Create Date: 2026-12-05 08:40:00
"""

from alembic import op
import sqlalchemy as sa


revision = "0013_report_indexes"
down_revision = "0012_wishes"
branch_labels = None
depends_on = None

OPEN = "closed_at IS NULL"
MATTERS_OPEN = [
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
MATTERS_ACCEPTED = ["accepted_at", "resident_id", "deleted"]
VISITS_DAY_WHO = ["day", "deleted", "household_id", "resident_id", "origin", "outcome"]
VISITS_LAST = ["household_id", "resident_id", "outcome", "day", "deleted"]


def upgrade() -> None:
    op.create_index(
        "ix_matters_open",
        "matters",
        MATTERS_OPEN,
        unique=False,
        sqlite_where=sa.text(OPEN),
        postgresql_where=sa.text(OPEN),
    )
    op.create_index("ix_matters_accepted_resident", "matters", MATTERS_ACCEPTED, unique=False)
    op.create_index("ix_visits_last", "visits", VISITS_LAST, unique=False)
    op.create_index("ix_visits_day_who", "visits", VISITS_DAY_WHO, unique=False)


def downgrade() -> None:
    op.drop_index("ix_visits_day_who", table_name="visits")
    op.drop_index("ix_visits_last", table_name="visits")
    op.drop_index("ix_matters_accepted_resident", table_name="matters")
    op.drop_index("ix_matters_open", table_name="matters")
