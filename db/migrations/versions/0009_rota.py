"""rota

AB岗 and 错时/延时 duty: ``service_areas`` (an area's window, the matter
categories it takes, its A岗 and B岗), ``duty_shifts`` (who works which
window when, and the kind: 正常/错时/延时) and ``duty_absences`` (who is away,
why, and who covers).

Revision ID: 0009_rota
Revises: 0008_visits
Create Date: 2026-12-04 18:30:00
"""

from alembic import op
import sqlalchemy as sa


revision = "0009_rota"
down_revision = "0008_visits"
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
        "service_areas",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("window", sa.String(length=16), nullable=False),
        sa.Column("categories", sa.JSON(), nullable=False),
        sa.Column("a_id", sa.Uuid(), nullable=False),
        sa.Column("a_name", sa.String(length=32), nullable=False),
        sa.Column("b_id", sa.Uuid(), nullable=False),
        sa.Column("b_name", sa.String(length=32), nullable=False),
        sa.Column("sort", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        *_sync_columns(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_service_areas")),
    )
    with op.batch_alter_table("service_areas", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_service_areas_seq"), ["seq"], unique=False)

    op.create_table(
        "duty_shifts",
        sa.Column("worker_id", sa.Uuid(), nullable=False),
        sa.Column("worker_name", sa.String(length=32), nullable=False),
        sa.Column("window", sa.String(length=16), nullable=False),
        sa.Column("area_id", sa.Uuid(), nullable=True),
        sa.Column("starts_at", sa.DateTime(), nullable=False),
        sa.Column("ends_at", sa.DateTime(), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        *_sync_columns(),
        sa.ForeignKeyConstraint(["area_id"], ["service_areas.id"], name=op.f("fk_duty_shifts_area_id_service_areas")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_duty_shifts")),
    )
    with op.batch_alter_table("duty_shifts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_duty_shifts_area_id"), ["area_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_duty_shifts_seq"), ["seq"], unique=False)
        batch_op.create_index(batch_op.f("ix_duty_shifts_starts_at"), ["starts_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_duty_shifts_worker_id"), ["worker_id"], unique=False)

    op.create_table(
        "duty_absences",
        sa.Column("worker_id", sa.Uuid(), nullable=False),
        sa.Column("worker_name", sa.String(length=32), nullable=False),
        sa.Column("reason", sa.String(length=12), nullable=False),
        sa.Column("starts_at", sa.DateTime(), nullable=False),
        sa.Column("ends_at", sa.DateTime(), nullable=False),
        sa.Column("cover_id", sa.Uuid(), nullable=False),
        sa.Column("cover_name", sa.String(length=32), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by", sa.String(length=32), nullable=False),
        *_sync_columns(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_duty_absences")),
    )
    with op.batch_alter_table("duty_absences", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_duty_absences_cover_id"), ["cover_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_duty_absences_ends_at"), ["ends_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_duty_absences_seq"), ["seq"], unique=False)
        batch_op.create_index(batch_op.f("ix_duty_absences_starts_at"), ["starts_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_duty_absences_worker_id"), ["worker_id"], unique=False)


def downgrade() -> None:
    op.drop_table("duty_absences")
    op.drop_table("duty_shifts")
    op.drop_table("service_areas")
