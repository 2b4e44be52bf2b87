"""AB岗 and 错时/延时 duty (值班): service areas with their A/B pair, the
rota's shifts and who is away (and who covers)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, DateTime, ForeignKey, Integer, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, Mutable


class ServiceArea(Mutable, Base):
    """A service area (业务片区) of the hall with its A岗 and B岗. The matter
    catalogue's categories it takes (``categories``) route a new matter of
    that area to B while A is away. Workers are accounts; their names are
    kept beside the ids because accounts stay on the PC they belong to."""

    __tablename__ = "service_areas"

    name: Mapped[str] = mapped_column(String(32))
    window: Mapped[str] = mapped_column(String(16))
    categories: Mapped[list[Any]] = mapped_column(default=list)  # matter_types.category values
    a_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    a_name: Mapped[str] = mapped_column(String(32))
    b_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    b_name: Mapped[str] = mapped_column(String(32))
    sort: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Shift(Mutable, Base):
    """One worker at one window for one span of one local day."""

    __tablename__ = "duty_shifts"

    worker_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    worker_name: Mapped[str] = mapped_column(String(32))
    window: Mapped[str] = mapped_column(String(16))
    area_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("service_areas.id"), index=True)
    starts_at: Mapped[datetime] = mapped_column(DateTime, index=True)
    ends_at: Mapped[datetime] = mapped_column(DateTime)
    # normal 正常 | staggered 错时 | extended 延时
    kind: Mapped[str] = mapped_column(String(12))
    note: Mapped[str | None] = mapped_column(Text)


class Absence(Mutable, Base):
    """A worker away (请假/培训/外勤) and the colleague who covers (B岗)."""

    __tablename__ = "duty_absences"

    worker_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    worker_name: Mapped[str] = mapped_column(String(32))
    # leave 请假 | training 培训 | field 外勤
    reason: Mapped[str] = mapped_column(String(12))
    starts_at: Mapped[datetime] = mapped_column(DateTime, index=True)
    ends_at: Mapped[datetime] = mapped_column(DateTime, index=True)
    cover_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    cover_name: Mapped[str] = mapped_column(String(32))
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    created_by: Mapped[str] = mapped_column(String(32))
