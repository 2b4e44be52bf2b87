"""sync

Trusted peers and their watermarks, the bundle history, conflicts (which
travel) and cross-station duplicate flags (which do not); residents get
``merged_into_id`` for the tombstone a duplicate merge leaves.

Revision ID: 0006_sync
Revises: 0005_report_indexes
Create Date: 2026-12-01 19:12:02.165131
"""

import json
import uuid
from typing import Any, Callable

from alembic import op
import sqlalchemy as sa

# db.clock.shared_id, copied: a migration must not change when the code does.
_SEED_NAMESPACE = uuid.UUID("6f1d3c2e-9a4b-5e7f-8c21-0d3b5a7e9f10")


def _shared_id(table: str, key: str) -> uuid.UUID:
    return uuid.uuid5(_SEED_NAMESPACE, f"{table}:{key}")


revision = "0006_sync"
down_revision = "0005_report_indexes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sync_bundles",
        sa.Column("bundle_id", sa.Uuid(), nullable=False),
        sa.Column("direction", sa.String(length=3), nullable=False),
        sa.Column("peer", sa.String(length=12), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("by", sa.String(length=32), nullable=False),
        sa.Column("file_name", sa.String(length=260), nullable=False),
        sa.Column("full", sa.Boolean(), nullable=False),
        sa.Column("since_seq", sa.BigInteger(), nullable=False),
        sa.Column("upto_seq", sa.BigInteger(), nullable=False),
        sa.Column("rows", sa.BigInteger(), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("bundle_id", name=op.f("pk_sync_bundles")),
    )
    with op.batch_alter_table("sync_bundles", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sync_bundles_at"), ["at"], unique=False)
        batch_op.create_index(batch_op.f("ix_sync_bundles_peer"), ["peer"], unique=False)

    op.create_table(
        "sync_conflicts",
        sa.Column("table_name", sa.String(length=40), nullable=False),
        sa.Column("row_id", sa.Uuid(), nullable=False),
        sa.Column("field", sa.String(length=40), nullable=False),
        sa.Column("value_a", sa.Text(), nullable=False),
        sa.Column("clock_a", sa.BigInteger(), nullable=False),
        sa.Column("station_a", sa.String(length=12), nullable=False),
        sa.Column("value_b", sa.Text(), nullable=False),
        sa.Column("clock_b", sa.BigInteger(), nullable=False),
        sa.Column("station_b", sa.String(length=12), nullable=False),
        sa.Column("found_at", sa.DateTime(), nullable=False),
        sa.Column("found_by", sa.String(length=12), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("resolved_at", sa.DateTime(), nullable=True),
        sa.Column("resolved_by", sa.String(length=32), nullable=True),
        sa.Column("field_clocks", sa.JSON(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("origin", sa.String(length=12), nullable=False),
        sa.Column("hlc", sa.BigInteger(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_conflicts")),
    )
    with op.batch_alter_table("sync_conflicts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sync_conflicts_row_id"), ["row_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_sync_conflicts_seq"), ["seq"], unique=False)
        batch_op.create_index(batch_op.f("ix_sync_conflicts_status"), ["status"], unique=False)

    op.create_table(
        "sync_duplicates",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("resident_a", sa.Uuid(), nullable=False),
        sa.Column("resident_b", sa.Uuid(), nullable=False),
        sa.Column("found_at", sa.DateTime(), nullable=False),
        sa.Column("bundle_id", sa.Uuid(), nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("survivor_id", sa.Uuid(), nullable=True),
        sa.Column("decided_at", sa.DateTime(), nullable=True),
        sa.Column("decided_by", sa.String(length=32), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_duplicates")),
    )
    with op.batch_alter_table("sync_duplicates", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sync_duplicates_resident_a"), ["resident_a"], unique=False)
        batch_op.create_index(batch_op.f("ix_sync_duplicates_resident_b"), ["resident_b"], unique=False)
        batch_op.create_index(batch_op.f("ix_sync_duplicates_status"), ["status"], unique=False)

    op.create_table(
        "sync_peers",
        sa.Column("code", sa.String(length=12), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=8), nullable=False),
        sa.Column("sign_pub", sa.String(length=64), nullable=False),
        sa.Column("box_pub", sa.String(length=64), nullable=False),
        sa.Column("fingerprint", sa.String(length=48), nullable=False),
        sa.Column("revoked", sa.Boolean(), nullable=False),
        sa.Column("trusted_at", sa.DateTime(), nullable=False),
        sa.Column("trusted_by", sa.String(length=32), nullable=False),
        sa.Column("sent_seq", sa.BigInteger(), nullable=False),
        sa.Column("sent_upto", sa.BigInteger(), nullable=False),
        sa.Column("echo", sa.JSON(), nullable=False),
        sa.Column("acked_seq", sa.BigInteger(), nullable=False),
        sa.Column("acked_hlc", sa.BigInteger(), nullable=False),
        sa.Column("recv_seq", sa.BigInteger(), nullable=False),
        sa.Column("recv_hlc", sa.BigInteger(), nullable=False),
        sa.Column("last_export_at", sa.DateTime(), nullable=True),
        sa.Column("last_import_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_sync_peers")),
    )
    with op.batch_alter_table("residents", schema=None) as batch_op:
        batch_op.add_column(sa.Column("merged_into_id", sa.Uuid(), nullable=True))
        batch_op.create_index(batch_op.f("ix_residents_merged_into_id"), ["merged_into_id"], unique=False)

    _rekey_shared_catalogue()


def _rekey_shared_catalogue() -> None:
    """Stations made before sync seeded the shipped catalogue (matters,
    certificate types, skills, holidays) and their own station record with
    random ids; give those entries
    the shared id every station now uses, so the same entry at two stations
    is one record at the hub.  References move with them.  A station's own
    skills get codes carrying the station code (two stations' "local1" would
    collide at the hub), and the volunteers' and needs' skill lists follow."""
    bind = op.get_bind()
    sqlite = bind.dialect.name == "sqlite"
    insp = sa.inspect(bind)
    md = sa.MetaData()
    names = insp.get_table_names()
    tables: dict[str, sa.Table] = {
        n: sa.Table(n, md, autoload_with=bind)
        for n in (
            "matter_types",
            "certificate_types",
            "skills",
            "calendar_days",
            "local_state",
            "volunteers",
            "volunteer_needs",
            "stations",
        )
        if n in names
    }
    children: dict[str, list[tuple[str, str]]] = {}
    for n in names:
        for fk in insp.get_foreign_keys(n):
            children.setdefault(fk["referred_table"], []).append((n, fk["constrained_columns"][0]))

    def raw(u: uuid.UUID) -> str | uuid.UUID:  # the id as this engine stores it
        return u.hex if sqlite else u

    def rekey(name: str, key_of: Callable[[Any], str | None]) -> None:
        t = tables[name]
        for row in bind.execute(sa.select(t)).mappings().all():
            key = key_of(row)
            if key is None:
                continue
            new = raw(_shared_id(name, key))
            old = row["id"]
            if str(old).replace("-", "") == str(new).replace("-", ""):
                continue
            if bind.execute(sa.select(sa.func.count()).select_from(t).where(t.c.id == new)).scalar():
                continue  # already there (two copies of one entry): leave this one as it is
            refs = children.get(name, [])
            if not refs:  # nothing points at it (skills, holidays: unique keys, so no copy)
                bind.execute(sa.update(t).where(t.c.id == old).values(id=new))
                continue
            # a copy under the new id, the references moved to it, the old row gone
            bind.execute(sa.insert(t).values({**row, "id": new}))
            for child, col in refs:
                c = sa.table(child, sa.column(col))
                bind.execute(sa.update(c).where(c.c[col] == old).values({col: new}))
            bind.execute(sa.delete(t).where(t.c.id == old))

    def flag(v: object) -> bool:
        return bool(v) and v not in ("0", "false")

    if "matter_types" in tables:
        rekey("matter_types", lambda r: None if flag(r["local"]) else r["code"])
    if "certificate_types" in tables:
        rekey("certificate_types", lambda r: None if flag(r["local"]) else f"{r['kind']}:{r['code']}")
    if "calendar_days" in tables:
        rekey("calendar_days", lambda r: str(r["day"])[:10])
    if "stations" in tables:
        rekey("stations", lambda r: r["code"])
    if "skills" in tables:
        station = bind.execute(sa.select(tables["local_state"].c.station_code)).scalar() or "local"
        t = tables["skills"]
        renamed: dict[str, str] = {}
        for row in bind.execute(sa.select(t.c.id, t.c.code).where(t.c.code.like("local%"))).all():
            code = f"{station}-{row.code[len('local') :]}"
            bind.execute(sa.update(t).where(t.c.id == row.id).values(code=code))
            renamed[row.code] = code
        for name in ("volunteers", "volunteer_needs"):
            if renamed and name in tables:
                v = tables[name]
                for row in bind.execute(sa.select(v.c.id, v.c.skills)).all():
                    skills = row.skills if isinstance(row.skills, list) else json.loads(row.skills or "[]")
                    if any(k in renamed for k in skills):
                        bind.execute(
                            sa.update(v).where(v.c.id == row.id).values(skills=[renamed.get(k, k) for k in skills])
                        )
        rekey("skills", lambda r: None if str(r["code"]).startswith(f"{station}-") else r["code"])


def downgrade() -> None:
    with op.batch_alter_table("residents", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_residents_merged_into_id"))
        batch_op.drop_column("merged_into_id")

    op.drop_table("sync_peers")
    with op.batch_alter_table("sync_duplicates", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sync_duplicates_status"))
        batch_op.drop_index(batch_op.f("ix_sync_duplicates_resident_b"))
        batch_op.drop_index(batch_op.f("ix_sync_duplicates_resident_a"))

    op.drop_table("sync_duplicates")
    with op.batch_alter_table("sync_conflicts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sync_conflicts_status"))
        batch_op.drop_index(batch_op.f("ix_sync_conflicts_seq"))
        batch_op.drop_index(batch_op.f("ix_sync_conflicts_row_id"))

    op.drop_table("sync_conflicts")
    with op.batch_alter_table("sync_bundles", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sync_bundles_peer"))
        batch_op.drop_index(batch_op.f("ix_sync_bundles_at"))

    op.drop_table("sync_bundles")
