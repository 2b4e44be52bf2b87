"""What "the database is exactly as it was" means in the sync tests, and
bundles crafted by hand (signed by a trusted station, with our own rows)."""

from __future__ import annotations

import json
from pathlib import Path

import orjson
from sqlalchemy import MetaData, func, select

from db.clock import new_id
from db.models import LocalState, SyncBundle, SyncDuplicate, SyncPeer
from db.schema import SCHEMA_HEAD
from desktop.services.sync import changes, container, exchange
from desktop.services.sync.container import BundleWriter


def snapshot(db) -> dict:
    """Row count and highest change number of every travelling table, the
    local sequence and clock, and the sync bookkeeping."""
    out: dict = {}
    with db.session() as s:
        for m in changes.travelling():
            t = m.__table__
            out[t.name] = tuple(s.execute(select(func.count(), func.max(t.c.seq), func.max(t.c.hlc))).one())
        out["local_state"] = tuple(s.execute(select(LocalState.seq, LocalState.hlc)).one())
        out["bundles"] = s.scalar(select(func.count()).select_from(SyncBundle))
        out["duplicates"] = s.scalar(select(func.count()).select_from(SyncDuplicate))
        out["peers"] = sorted(tuple(r) for r in s.execute(select(SyncPeer.code, SyncPeer.recv_seq, SyncPeer.sent_seq)))
    return out


def full_state(db) -> dict:
    """Every row of every table in the database (the sync bookkeeping, the
    accounts and the migration stamp too), in key order."""
    meta = MetaData()
    meta.reflect(bind=db.engine)
    out: dict = {}
    with db.engine.connect() as conn:
        for t in sorted(meta.tables.values(), key=lambda t: t.name):
            key = list(t.primary_key.columns) or list(t.columns)
            out[t.name] = [tuple(r) for r in conn.execute(select(t).order_by(*key))]
    return out


def manifest(sender, receiver, **over) -> dict:
    """A manifest as ``sender`` would write it for ``receiver`` now (full)."""
    with sender.db.session() as s:
        st = s.get(LocalState, 1)
        p = s.get(SyncPeer, receiver.code)
        m = {
            "format": exchange.FORMAT,
            "schema": SCHEMA_HEAD,
            "app_version": "test",
            "bundle_id": str(new_id()),
            "source": sender.code,
            "source_name": "x",
            "target": receiver.code,
            "created_at": "2026-12-01T00:00:00",
            "full": True,
            "since_seq": p.sent_upto,
            "upto_seq": st.seq,
            "clock_hi": st.hlc,
            "ack_seq": p.recv_seq,
            "ack_hlc": p.recv_hlc,
            "tables": [],
        }
    m.update(over)
    return m


def _encodes(value) -> bool:
    try:
        orjson.dumps(value)
    except TypeError:  # an integer past 64 bits: only an attacker's own encoder writes it
        return False
    return True


def forge(sender, receiver, out: Path, parts: dict, signer=None, **over) -> Path:
    """A bundle signed by ``signer`` (the sender's own keys by default)
    carrying ``parts``: table → rows (dicts) or raw bytes.  Rows and manifest
    values orjson cannot write (integers past 64 bits) are written with the
    json module, as a hand-made bundle could be."""
    signer = signer or exchange.station_keys(sender.db)
    recipient = exchange.station_keys(receiver.db).peer
    m = manifest(sender, receiver, **over)
    saved = container.canonical_manifest
    if not _encodes(m):
        container.canonical_manifest = lambda mf, default=None: json.dumps(
            mf, sort_keys=True, separators=(",", ":"), ensure_ascii=False
        ).encode()
    try:
        with BundleWriter(out, signer=signer, recipient=recipient, manifest=m) as w:
            for table, rows in parts.items():
                if isinstance(rows, list) and not _encodes(rows):
                    rows = b"".join(json.dumps(r, ensure_ascii=False).encode() + b"\n" for r in rows)
                if isinstance(rows, bytes):
                    w.write_bytes(table, [rows])
                else:
                    w.write_rows(table, rows)
    finally:
        container.canonical_manifest = saved
    return out


def row_as_sent(side, model, row_id, **over) -> dict:
    """A row of ``side`` as it travels (JSON values), with ``over`` changed."""
    c = changes.codec(model)
    with side.db.session() as s:
        row = dict(
            s.connection()
            .execute(select(*[c.table.c[n] for n in c.columns]).where(c.table.c.id == row_id))
            .one()
            ._mapping
        )
    row = orjson.loads(orjson.dumps(row))
    row.update(over)
    return row


def demo_rows_as_sent(folder: Path, limit: int) -> dict:
    """Every travelling table's rows (the first ``limit``) from a small demo
    station, as they travel: exported, through JSON and back."""
    from db.engine import open_database
    from desktop.services import demo

    db = open_database(folder / "demo.sqlite3")
    demo.create_demo_station(db, n_residents=150, seed=4)
    out = {}
    with db.session() as s:
        upto = s.get(LocalState, 1).seq
        scope = changes.Scope(since=0, upto=upto, me="x", target="y", hub_to_station=False)
        for m in changes.travelling():
            out[m] = [orjson.loads(orjson.dumps(r)) for r in changes.export_rows(s, m, scope, {})][:limit]
    db.close()
    return out
