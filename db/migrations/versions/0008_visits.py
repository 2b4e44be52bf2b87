"""visits

Home visits (走访): ``visit_tiers`` (each station's interval by
special-group tag; no rows means the shipped defaults) and ``visits`` (one
visit or one not-at-home attempt to a special-group household).

Revision ID: 0008_visits
Revises: 0007_paper
Create Date: 2026-12-04 18:40:00
"""

from alembic import op
import sqlalchemy as sa


revision = "0008_visits"
down_revision = "0007_paper"
branch_labels = None
depends_on = None


def _sync_columns(mutable: bool = True) -> list[sa.Column]:
    cols = [sa.Column("field_clocks", sa.JSON(), nullable=False)] if mutable else []
    return cols + [
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("origin", sa.String(length=12), nullable=False),
        sa.Column("hlc", sa.BigInteger(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "visit_tiers",
        sa.Column("tag", sa.String(length=16), nullable=False),
        sa.Column("days", sa.Integer(), nullable=False),
        sa.Column("changed_by", sa.String(length=32), nullable=True),
        *_sync_columns(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_visit_tiers")),
    )
    with op.batch_alter_table("visit_tiers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_visit_tiers_seq"), ["seq"], unique=False)
        batch_op.create_index(batch_op.f("ix_visit_tiers_tag"), ["tag"], unique=False)

    op.create_table(
        "visits",
        sa.Column("resident_id", sa.Uuid(), nullable=False),
        sa.Column("household_id", sa.Uuid(), nullable=True),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("outcome", sa.String(length=12), nullable=False),
        sa.Column("visitor_id", sa.Uuid(), nullable=True),
        sa.Column("visitor_name", sa.String(length=32), nullable=False),
        sa.Column("met", sa.String(length=64), nullable=True),
        sa.Column("situation", sa.Text(), nullable=True),
        sa.Column("needs", sa.Text(), nullable=True),
        sa.Column("need_id", sa.Uuid(), nullable=True),
        sa.Column("matter_id", sa.Uuid(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        sa.Column("recorded_by", sa.String(length=32), nullable=False),
        *_sync_columns(),
        sa.ForeignKeyConstraint(["household_id"], ["households.id"], name=op.f("fk_visits_household_id_households")),
        sa.ForeignKeyConstraint(["matter_id"], ["matters.id"], name=op.f("fk_visits_matter_id_matters")),
        sa.ForeignKeyConstraint(["need_id"], ["volunteer_needs.id"], name=op.f("fk_visits_need_id_volunteer_needs")),
        sa.ForeignKeyConstraint(["resident_id"], ["residents.id"], name=op.f("fk_visits_resident_id_residents")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_visits")),
    )
    with op.batch_alter_table("visits", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_visits_day"), ["day"], unique=False)
        batch_op.create_index(batch_op.f("ix_visits_household_id"), ["household_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_visits_resident_id"), ["resident_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_visits_seq"), ["seq"], unique=False)


def downgrade() -> None:
    op.drop_table("visits")
    op.drop_table("visit_tiers")
