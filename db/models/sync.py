"""Sync by export: trusted peers, the bundle history, conflicts and
cross-station duplicates.

``sync_peers``, ``sync_bundles`` and ``sync_duplicates`` are this database's
own bookkeeping and never travel.  ``sync_conflicts`` travels like any
mutable record, so a conflict found at a station shows at the hub and a
supervisor's decision at either end reaches the other.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, DateTime, Integer, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from db.base import STATION_CODE_LEN, Base, Mutable


class SyncPeer(Base):
    """A station (or the hub) whose public keys this station trusts, and
    where the exchange with it stands."""

    __tablename__ = "sync_peers"

    code: Mapped[str] = mapped_column(String(STATION_CODE_LEN), primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(8))  # station | hub
    sign_pub: Mapped[str] = mapped_column(String(64))  # base64 of the raw key
    box_pub: Mapped[str] = mapped_column(String(64))
    fingerprint: Mapped[str] = mapped_column(String(48))
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)
    trusted_at: Mapped[datetime] = mapped_column(DateTime)
    trusted_by: Mapped[str] = mapped_column(String(32))
    # Export side: rows with a local seq above sent_seq have not been sent.
    sent_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    # The upto of the last bundle actually written to it (sent_seq can be
    # ahead: rows that came from this peer are not echoed back).  The next
    # bundle starts here, so the peer can tell whether it missed one.
    sent_upto: Mapped[int] = mapped_column(BigInteger, default=0)
    # Ranges [first, last] of local seqs that hold rows exactly as this peer
    # sent them: not echoed back to it.
    echo: Mapped[list[Any]] = mapped_column(default=list)
    # What the peer has confirmed receiving from us (from its bundles' acks).
    acked_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    acked_hlc: Mapped[int] = mapped_column(BigInteger, default=0)
    # Import side: the peer's seq and clock at its last bundle we applied.
    recv_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    recv_hlc: Mapped[int] = mapped_column(BigInteger, default=0)
    last_export_at: Mapped[datetime | None] = mapped_column(DateTime)
    last_import_at: Mapped[datetime | None] = mapped_column(DateTime)


class SyncBundle(Base):
    """One bundle written or applied here.  Applied bundle ids make a second
    import of the same file a no-op."""

    __tablename__ = "sync_bundles"

    bundle_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    direction: Mapped[str] = mapped_column(String(3))  # out | in
    peer: Mapped[str] = mapped_column(String(STATION_CODE_LEN), index=True)
    at: Mapped[datetime] = mapped_column(DateTime, index=True)
    by: Mapped[str] = mapped_column(String(32))
    file_name: Mapped[str] = mapped_column(String(260))
    full: Mapped[bool] = mapped_column(Boolean, default=False)
    since_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    upto_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    rows: Mapped[int] = mapped_column(BigInteger, default=0)
    size: Mapped[int] = mapped_column(BigInteger, default=0)
    counts: Mapped[dict[str, Any]] = mapped_column(default=dict)  # per table, and the import result


class SyncConflict(Mutable, Base):
    """A field both sides changed since they last met.  ``a`` is the value
    that won by clock (the one in force until a supervisor decides), ``b``
    the one that lost.  Values are JSON as they travel in bundles."""

    __tablename__ = "sync_conflicts"

    table_name: Mapped[str] = mapped_column(String(40))
    row_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    field: Mapped[str] = mapped_column(String(40))
    value_a: Mapped[Any] = mapped_column(Text)  # JSON text
    clock_a: Mapped[int] = mapped_column(BigInteger)
    station_a: Mapped[str] = mapped_column(String(STATION_CODE_LEN))
    value_b: Mapped[Any] = mapped_column(Text)
    clock_b: Mapped[int] = mapped_column(BigInteger)
    station_b: Mapped[str] = mapped_column(String(STATION_CODE_LEN))
    found_at: Mapped[datetime] = mapped_column(DateTime)
    found_by: Mapped[str] = mapped_column(String(STATION_CODE_LEN))  # the station that detected it
    # open | kept_a | kept_b
    status: Mapped[str] = mapped_column(String(8), index=True, default="open")
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime)
    resolved_by: Mapped[str | None] = mapped_column(String(32))


class SyncDuplicate(Base):
    """Two resident records with the same document number, found when a
    bundle brought one of them in.  A supervisor merges them or dismisses
    the flag; the merge itself travels as ordinary changes."""

    __tablename__ = "sync_duplicates"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    resident_a: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)  # already here
    resident_b: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)  # brought by the bundle
    found_at: Mapped[datetime] = mapped_column(DateTime)
    bundle_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    # open | merged | dismissed
    status: Mapped[str] = mapped_column(String(10), index=True, default="open")
    survivor_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime)
    decided_by: Mapped[str | None] = mapped_column(String(32))
    note: Mapped[str | None] = mapped_column(Text)
