"""The 代办 register (委托代办): the proxy agents (代办员) of each village
group, and what happened to a matter a proxy took for a resident — the
originals received and given back, where it was forwarded, and when the
result came back to the resident."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, DateTime, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, Mutable


class ProxyAgent(Mutable, Base):
    """A proxy agent (代办员): usually a village-group leader or a grid worker
    who carries residents' matters to the higher offices for free."""

    __tablename__ = "proxy_agents"

    name: Mapped[str] = mapped_column(String(64))
    phone: Mapped[str | None] = mapped_column(String(32))
    # The 村民小组 served (in a community without village groups: the 网格).
    village_group: Mapped[str] = mapped_column(String(32), index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    note: Mapped[str | None] = mapped_column(String(200))


class ProxyCase(Mutable, Base):
    """One matter taken by a proxy agent. The matter itself (receipt number,
    resident, catalogue entry) is in ``matters``; this is the proxy's part,
    each step stamped as it happens: received → forwarded → result back →
    handed back to the resident."""

    __tablename__ = "proxy_cases"

    matter_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("matters.id"), unique=True)
    agent_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("proxy_agents.id"), index=True)
    # Snapshots, so renaming an agent does not rewrite a past hand-over.
    agent_name: Mapped[str] = mapped_column(String(64))
    village_group: Mapped[str] = mapped_column(String(32))
    # [{"name": str, "count": int, "returned": bool | None}, ...]
    originals: Mapped[list[Any]] = mapped_column(default=list)
    # received | forwarded | result | handed_back
    step: Mapped[str] = mapped_column(String(12), index=True)
    received_at: Mapped[datetime] = mapped_column(DateTime, index=True)
    received_by: Mapped[str] = mapped_column(String(32))
    forwarded_to: Mapped[str | None] = mapped_column(String(64))
    forwarded_at: Mapped[datetime | None] = mapped_column(DateTime, index=True)
    result_at: Mapped[datetime | None] = mapped_column(DateTime, index=True)
    result: Mapped[str | None] = mapped_column(Text)
    handed_back_at: Mapped[datetime | None] = mapped_column(DateTime, index=True)
    note: Mapped[str | None] = mapped_column(Text)
