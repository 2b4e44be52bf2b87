"""What "the database is exactly as it was" means in the sync tests."""
from __future__ import annotations

from sqlalchemy import func, select

from db.models import LocalState, SyncBundle, SyncDuplicate, SyncPeer
from desktop.services.sync import changes


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
