"""Station, accounts, the audit log and this database's local state."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, DateTime, Integer, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from db.base import STATION_CODE_LEN, AppendOnly, Base, Mutable


class LocalState(Base):
    """One row, never synced: which station this database belongs to, the
    local change sequence and the last clock stamp issued here."""

    __tablename__ = "local_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    station_code: Mapped[str | None] = mapped_column(String(STATION_CODE_LEN))
    seq: Mapped[int] = mapped_column(BigInteger, default=0)
    hlc: Mapped[int] = mapped_column(BigInteger, default=0)


class Station(Mutable, Base):
    """A community or village station, or a street/town hub."""

    __tablename__ = "stations"

    code: Mapped[str] = mapped_column(String(STATION_CODE_LEN), unique=True)
    name: Mapped[str] = mapped_column(String(64))
    # community | village | street
    level: Mapped[str] = mapped_column(String(16))
    phone: Mapped[str | None] = mapped_column(String(32))
    address: Mapped[str | None] = mapped_column(String(128))
    parent_code: Mapped[str | None] = mapped_column(String(STATION_CODE_LEN))
    # Who issues its certificates (the centre is the place, not the issuer):
    # the 居民委员会 / 村民委员会, and the party organisation for party matters.
    committee: Mapped[str | None] = mapped_column(String(64))
    party_org: Mapped[str | None] = mapped_column(String(64))


class Account(Mutable, Base):
    """A worker who signs in. Roles: desk (前台), supervisor (站长), admin (管理员)."""

    __tablename__ = "accounts"

    username: Mapped[str] = mapped_column(String(32), unique=True)
    display_name: Mapped[str] = mapped_column(String(32))
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str] = mapped_column(String(256))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_attempts: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(DateTime)
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime)


class AuditLog(AppendOnly, Base):
    """Who did what, when. Holds no personal data: targets are ids, never an
    ID number or a name."""

    __tablename__ = "audit_log"

    at: Mapped[datetime] = mapped_column(DateTime, index=True)
    actor_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    actor_name: Mapped[str | None] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(String(32), index=True)
    target_type: Mapped[str | None] = mapped_column(String(32))
    target_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)
