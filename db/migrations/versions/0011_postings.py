"""postings

The work-item lists (``work_items``, 工作事项准入), departments' requests
checked against them (``dept_requests``) and notice-board postings
(``postings``, 村(居)务公开).

Revision ID: 0011_postings
Revises: 0010_proxy
Create Date: 2026-12-04 18:40:00
"""

from alembic import op
import sqlalchemy as sa


revision = "0011_postings"
down_revision = "0010_proxy"
branch_labels = None
depends_on = None


def _sync_columns(mutable: bool) -> list[sa.Column]:
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
        "work_items",
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("aliases", sa.String(length=300), nullable=True),
        sa.Column("category", sa.String(length=32), nullable=True),
        sa.Column("basis", sa.Text(), nullable=True),
        sa.Column("source", sa.Text(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("local", sa.Boolean(), nullable=False),
        sa.Column("supplement", sa.Boolean(), nullable=False),
        sa.Column("sort", sa.Integer(), nullable=False),
        *_sync_columns(True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_work_items")),
    )
    with op.batch_alter_table("work_items", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_work_items_code"), ["code"], unique=False)
        batch_op.create_index(batch_op.f("ix_work_items_seq"), ["seq"], unique=False)

    op.create_table(
        "dept_requests",
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("received_on", sa.Date(), nullable=False),
        sa.Column("department", sa.String(length=64), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("item_id", sa.Uuid(), nullable=True),
        sa.Column("item_name", sa.String(length=100), nullable=True),
        sa.Column("item_kind", sa.String(length=16), nullable=False),
        sa.Column("outcome", sa.String(length=12), nullable=False),
        sa.Column("basis", sa.Text(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("actor_name", sa.String(length=32), nullable=False),
        sa.Column("year", sa.Integer(), nullable=True),
        sa.Column("number", sa.Integer(), nullable=True),
        *_sync_columns(False),
        sa.ForeignKeyConstraint(["item_id"], ["work_items.id"], name=op.f("fk_dept_requests_item_id_work_items")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dept_requests")),
        sa.UniqueConstraint("origin", "year", "number", name=op.f("uq_dept_requests_origin_year_number")),
    )
    with op.batch_alter_table("dept_requests", schema=None) as batch_op:
        for col in ("at", "received_on", "department", "item_id", "outcome", "seq"):
            batch_op.create_index(batch_op.f(f"ix_dept_requests_{col}"), [col], unique=False)

    op.create_table(
        "postings",
        sa.Column("title", sa.String(length=100), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("category", sa.String(length=12), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("period_days", sa.Integer(), nullable=True),
        sa.Column("on_date", sa.Date(), nullable=False),
        sa.Column("off_date", sa.Date(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by", sa.String(length=32), nullable=False),
        sa.Column("posted_at", sa.DateTime(), nullable=True),
        sa.Column("posted_by", sa.String(length=32), nullable=True),
        sa.Column("removed_at", sa.DateTime(), nullable=True),
        sa.Column("removed_by", sa.String(length=32), nullable=True),
        sa.Column("removed_note", sa.Text(), nullable=True),
        *_sync_columns(True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_postings")),
    )
    with op.batch_alter_table("postings", schema=None) as batch_op:
        for col in ("category", "on_date", "off_date", "posted_at", "removed_at", "seq"):
            batch_op.create_index(batch_op.f(f"ix_postings_{col}"), [col], unique=False)


def downgrade() -> None:
    op.drop_table("postings")
    op.drop_table("dept_requests")
    op.drop_table("work_items")
