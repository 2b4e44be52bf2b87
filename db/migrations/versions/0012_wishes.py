"""wishes

微心愿 (``wishes``, ``wish_claims``) and 在职党员报到 (``party_reports``):
three new travelling tables, nothing existing changes.

Revision ID: 0012_wishes
Revises: 0011_postings
Create Date: 2026-12-04 18:45:00
"""

from alembic import op
import sqlalchemy as sa


revision = "0012_wishes"
down_revision = "0011_postings"
branch_labels = None
depends_on = None


def _sync_columns() -> list[sa.Column]:
    return [
        sa.Column("field_clocks", sa.JSON(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("origin", sa.String(length=12), nullable=False),
        sa.Column("hlc", sa.BigInteger(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "wishes",
        sa.Column("number", sa.String(length=32), nullable=False),
        sa.Column("resident_id", sa.Uuid(), nullable=False),
        sa.Column("title", sa.String(length=64), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("grid", sa.String(length=32), nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("published_on", sa.Date(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by", sa.String(length=32), nullable=False),
        *_sync_columns(),
        sa.ForeignKeyConstraint(["resident_id"], ["residents.id"], name=op.f("fk_wishes_resident_id_residents")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wishes")),
        sa.UniqueConstraint("number", name=op.f("uq_wishes_number")),
    )
    with op.batch_alter_table("wishes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_wishes_published_on"), ["published_on"], unique=False)
        batch_op.create_index(batch_op.f("ix_wishes_resident_id"), ["resident_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_wishes_seq"), ["seq"], unique=False)
        batch_op.create_index(batch_op.f("ix_wishes_status"), ["status"], unique=False)

    op.create_table(
        "wish_claims",
        sa.Column("wish_id", sa.Uuid(), nullable=False),
        sa.Column("sponsor_kind", sa.String(length=10), nullable=False),
        sa.Column("volunteer_id", sa.Uuid(), nullable=True),
        sa.Column("sponsor_name", sa.String(length=64), nullable=False),
        sa.Column("contact", sa.String(length=32), nullable=True),
        sa.Column("claimed_on", sa.Date(), nullable=False),
        sa.Column("claimed_by", sa.String(length=32), nullable=False),
        sa.Column("fulfilled_on", sa.Date(), nullable=True),
        sa.Column("given", sa.Text(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("fulfilled_by", sa.String(length=32), nullable=True),
        *_sync_columns(),
        sa.ForeignKeyConstraint(
            ["volunteer_id"], ["volunteers.id"], name=op.f("fk_wish_claims_volunteer_id_volunteers")
        ),
        sa.ForeignKeyConstraint(["wish_id"], ["wishes.id"], name=op.f("fk_wish_claims_wish_id_wishes")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wish_claims")),
    )
    with op.batch_alter_table("wish_claims", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_wish_claims_claimed_on"), ["claimed_on"], unique=False)
        batch_op.create_index(batch_op.f("ix_wish_claims_fulfilled_on"), ["fulfilled_on"], unique=False)
        batch_op.create_index(batch_op.f("ix_wish_claims_seq"), ["seq"], unique=False)
        batch_op.create_index(batch_op.f("ix_wish_claims_volunteer_id"), ["volunteer_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_wish_claims_wish_id"), ["wish_id"], unique=False)

    op.create_table(
        "party_reports",
        sa.Column("volunteer_id", sa.Uuid(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("unit", sa.String(length=64), nullable=False),
        sa.Column("reported_on", sa.Date(), nullable=False),
        sa.Column("posts", sa.JSON(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("created_by", sa.String(length=32), nullable=False),
        *_sync_columns(),
        sa.ForeignKeyConstraint(
            ["volunteer_id"], ["volunteers.id"], name=op.f("fk_party_reports_volunteer_id_volunteers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_party_reports")),
    )
    with op.batch_alter_table("party_reports", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_party_reports_reported_on"), ["reported_on"], unique=False)
        batch_op.create_index(batch_op.f("ix_party_reports_seq"), ["seq"], unique=False)
        batch_op.create_index(batch_op.f("ix_party_reports_volunteer_id"), ["volunteer_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_party_reports_year"), ["year"], unique=False)


def downgrade() -> None:
    for table in ("party_reports", "wish_claims", "wishes"):
        op.drop_table(table)
