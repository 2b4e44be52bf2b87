"""report indexes

The monthly report selects rows by when they were closed, rated, voided,
created or happened; without these it would scan a year of records.

Revision ID: 0005_report_indexes
Revises: 0004_volunteers
Create Date: 2026-11-23 09:10:00
"""

from alembic import op

revision = "0005_report_indexes"
down_revision = "0004_volunteers"
branch_labels = None
depends_on = None

INDEXES = [
    ("matters", "closed_at"),
    ("matter_ratings", "at"),
    ("certificates", "voided_at"),
    ("volunteer_needs", "created_at"),
    ("volunteer_need_events", "at"),
]


def upgrade() -> None:
    for table, column in INDEXES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_index(batch_op.f(f"ix_{table}_{column}"), [column], unique=False)


def downgrade() -> None:
    for table, column in reversed(INDEXES):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(batch_op.f(f"ix_{table}_{column}"))
