"""foundation: stations, accounts, audit log, residents, households, tags

Revision ID: 0001_foundation
Revises:
Create Date: 2026-11-22 16:14:46.341675
"""

from alembic import op
import sqlalchemy as sa


revision = "0001_foundation"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    op.create_table(
        "accounts",
        sa.Column("username", sa.String(length=32), nullable=False),
        sa.Column("display_name", sa.String(length=32), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("password_hash", sa.String(length=256), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("failed_attempts", sa.Integer(), nullable=False),
        sa.Column("locked_until", sa.DateTime(), nullable=True),
        sa.Column("last_login_at", sa.DateTime(), nullable=True),
        sa.Column("field_clocks", sa.JSON(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("origin", sa.String(length=12), nullable=False),
        sa.Column("hlc", sa.BigInteger(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_accounts")),
        sa.UniqueConstraint("username", name=op.f("uq_accounts_username")),
    )
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_accounts_seq"), ["seq"], unique=False)

    op.create_table(
        "audit_log",
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("actor_id", sa.Uuid(), nullable=True),
        sa.Column("actor_name", sa.String(length=32), nullable=True),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("target_type", sa.String(length=32), nullable=True),
        sa.Column("target_id", sa.Uuid(), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("origin", sa.String(length=12), nullable=False),
        sa.Column("hlc", sa.BigInteger(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_log_action"), ["action"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_log_at"), ["at"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_log_seq"), ["seq"], unique=False)

    op.create_table(
        "households",
        sa.Column("number", sa.String(length=32), nullable=True),
        sa.Column("head_id", sa.Uuid(), nullable=True),
        sa.Column("address_text", sa.String(length=200), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("field_clocks", sa.JSON(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("origin", sa.String(length=12), nullable=False),
        sa.Column("hlc", sa.BigInteger(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        # households.head_id -> residents.id is circular; on PostgreSQL it is added
        # below once residents exists (SQLite accepts the forward reference).
        *(
            [
                sa.ForeignKeyConstraint(
                    ["head_id"],
                    ["residents.id"],
                    name="fk_households_head_id_residents",
                    deferrable=True,
                    initially="DEFERRED",
                )
            ]
            if sqlite
            else []
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_households")),
    )
    with op.batch_alter_table("households", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_households_head_id"), ["head_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_households_number"), ["number"], unique=False)
        batch_op.create_index(batch_op.f("ix_households_seq"), ["seq"], unique=False)

    op.create_table(
        "local_state",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("station_code", sa.String(length=12), nullable=True),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("hlc", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_local_state")),
    )
    op.create_table(
        "stations",
        sa.Column("code", sa.String(length=12), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("phone", sa.String(length=32), nullable=True),
        sa.Column("address", sa.String(length=128), nullable=True),
        sa.Column("parent_code", sa.String(length=12), nullable=True),
        sa.Column("field_clocks", sa.JSON(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("origin", sa.String(length=12), nullable=False),
        sa.Column("hlc", sa.BigInteger(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stations")),
        sa.UniqueConstraint("code", name=op.f("uq_stations_code")),
    )
    with op.batch_alter_table("stations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_stations_seq"), ["seq"], unique=False)

    op.create_table(
        "residents",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("pinyin", sa.String(length=256), nullable=False),
        sa.Column("initials", sa.String(length=64), nullable=False),
        sa.Column("gender", sa.Integer(), nullable=False),
        sa.Column("birth_date", sa.Date(), nullable=True),
        sa.Column("doc_type", sa.String(length=16), nullable=False),
        sa.Column("doc_number", sa.String(length=32), nullable=True),
        sa.Column("phone", sa.String(length=32), nullable=True),
        sa.Column("ethnicity", sa.String(length=2), nullable=True),
        sa.Column("household_id", sa.Uuid(), nullable=True),
        sa.Column("relation_to_head", sa.String(length=16), nullable=True),
        sa.Column("estate", sa.String(length=64), nullable=True),
        sa.Column("building", sa.String(length=16), nullable=True),
        sa.Column("unit", sa.String(length=16), nullable=True),
        sa.Column("room", sa.String(length=16), nullable=True),
        sa.Column("village_group", sa.String(length=32), nullable=True),
        sa.Column("house_number", sa.String(length=32), nullable=True),
        sa.Column("address_text", sa.String(length=200), nullable=True),
        sa.Column("grid", sa.String(length=32), nullable=True),
        sa.Column("residency", sa.String(length=16), nullable=False),
        sa.Column("moved_out", sa.Boolean(), nullable=False),
        sa.Column("moved_out_date", sa.Date(), nullable=True),
        sa.Column("deceased", sa.Boolean(), nullable=False),
        sa.Column("deceased_date", sa.Date(), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("field_clocks", sa.JSON(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("origin", sa.String(length=12), nullable=False),
        sa.Column("hlc", sa.BigInteger(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["household_id"], ["households.id"], name=op.f("fk_residents_household_id_households")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_residents")),
    )
    with op.batch_alter_table("residents", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_residents_doc_number"), ["doc_number"], unique=False)
        batch_op.create_index(batch_op.f("ix_residents_grid"), ["grid"], unique=False)
        batch_op.create_index(batch_op.f("ix_residents_household_id"), ["household_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_residents_initials"), ["initials"], unique=False)
        batch_op.create_index(batch_op.f("ix_residents_name"), ["name"], unique=False)
        batch_op.create_index("ix_residents_name_birth", ["name", "birth_date"], unique=False)
        batch_op.create_index(batch_op.f("ix_residents_phone"), ["phone"], unique=False)
        batch_op.create_index(batch_op.f("ix_residents_pinyin"), ["pinyin"], unique=False)
        batch_op.create_index(batch_op.f("ix_residents_seq"), ["seq"], unique=False)

    op.create_table(
        "resident_tags",
        sa.Column("resident_id", sa.Uuid(), nullable=False),
        sa.Column("tag", sa.String(length=16), nullable=False),
        sa.Column("since", sa.Date(), nullable=True),
        sa.Column("note", sa.String(length=200), nullable=True),
        sa.Column("field_clocks", sa.JSON(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("origin", sa.String(length=12), nullable=False),
        sa.Column("hlc", sa.BigInteger(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["resident_id"], ["residents.id"], name=op.f("fk_resident_tags_resident_id_residents")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_resident_tags")),
        sa.UniqueConstraint("resident_id", "tag", name=op.f("uq_resident_tags_resident_id_tag")),
    )
    with op.batch_alter_table("resident_tags", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_resident_tags_resident_id"), ["resident_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_resident_tags_seq"), ["seq"], unique=False)
        batch_op.create_index(batch_op.f("ix_resident_tags_tag"), ["tag"], unique=False)

    if not sqlite:
        op.create_foreign_key(
            "fk_households_head_id_residents",
            "households",
            "residents",
            ["head_id"],
            ["id"],
            deferrable=True,
            initially="DEFERRED",
        )

    local_state = sa.table(
        "local_state", sa.column("id", sa.Integer), sa.column("seq", sa.BigInteger), sa.column("hlc", sa.BigInteger)
    )
    op.bulk_insert(local_state, [{"id": 1, "seq": 0, "hlc": 0}])


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        op.drop_constraint("fk_households_head_id_residents", "households", type_="foreignkey")
    with op.batch_alter_table("resident_tags", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_resident_tags_tag"))
        batch_op.drop_index(batch_op.f("ix_resident_tags_seq"))
        batch_op.drop_index(batch_op.f("ix_resident_tags_resident_id"))

    op.drop_table("resident_tags")
    with op.batch_alter_table("residents", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_residents_seq"))
        batch_op.drop_index(batch_op.f("ix_residents_pinyin"))
        batch_op.drop_index(batch_op.f("ix_residents_phone"))
        batch_op.drop_index("ix_residents_name_birth")
        batch_op.drop_index(batch_op.f("ix_residents_name"))
        batch_op.drop_index(batch_op.f("ix_residents_initials"))
        batch_op.drop_index(batch_op.f("ix_residents_household_id"))
        batch_op.drop_index(batch_op.f("ix_residents_grid"))
        batch_op.drop_index(batch_op.f("ix_residents_doc_number"))

    op.drop_table("residents")
    with op.batch_alter_table("stations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_stations_seq"))

    op.drop_table("stations")
    op.drop_table("local_state")
    with op.batch_alter_table("households", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_households_seq"))
        batch_op.drop_index(batch_op.f("ix_households_number"))
        batch_op.drop_index(batch_op.f("ix_households_head_id"))

    op.drop_table("households")
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_log_seq"))
        batch_op.drop_index(batch_op.f("ix_audit_log_at"))
        batch_op.drop_index(batch_op.f("ix_audit_log_action"))

    op.drop_table("audit_log")
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_accounts_seq"))

    op.drop_table("accounts")
