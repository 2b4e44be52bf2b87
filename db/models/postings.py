"""The work-item lists (工作事项准入), departments' requests checked against
them, and notice-board postings (村(居)务公开)."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import Boolean, Date, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from db.base import AppendOnly, Base, Mutable


class WorkItem(Mutable, Base):
    """An entry of the 准入 lists: ``duty`` (依法履职), ``assist`` (依法协助)
    or ``negative`` (不应由村(社区)承担). From the province's or city's file
    (shared id), added by the street hub (``supplement``: flows down to its
    stations), or added by the station itself (``local``: stays there)."""

    __tablename__ = "work_items"

    code: Mapped[str] = mapped_column(String(32), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(100))
    aliases: Mapped[str | None] = mapped_column(String(300))
    category: Mapped[str | None] = mapped_column(String(32))
    basis: Mapped[str | None] = mapped_column(Text)  # the rule a notice cites
    source: Mapped[str | None] = mapped_column(Text)  # where the entry comes from, said honestly
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    local: Mapped[bool] = mapped_column(Boolean, default=False)
    supplement: Mapped[bool] = mapped_column(Boolean, default=False)
    sort: Mapped[int] = mapped_column(Integer, default=0)


class DeptRequest(AppendOnly, Base):
    """A task a department asked the committee to take on, the list entry it
    matched and what the committee did: ``accepted`` or ``declined`` (with a
    numbered notice, 〔2026〕幸福准字第0001号, per station and year)."""

    __tablename__ = "dept_requests"
    __table_args__ = (UniqueConstraint("origin", "year", "number"),)

    at: Mapped[datetime] = mapped_column(DateTime, index=True)
    received_on: Mapped[date] = mapped_column(Date, index=True)
    department: Mapped[str] = mapped_column(String(64), index=True)
    content: Mapped[str] = mapped_column(Text)
    item_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("work_items.id"), index=True)
    item_name: Mapped[str | None] = mapped_column(String(100))
    item_kind: Mapped[str] = mapped_column(String(16))  # duty | assist | negative | unlisted
    outcome: Mapped[str] = mapped_column(String(12), index=True)  # accepted | declined
    basis: Mapped[str | None] = mapped_column(Text)  # the rule cited, as printed
    note: Mapped[str | None] = mapped_column(Text)
    actor_name: Mapped[str] = mapped_column(String(32))
    year: Mapped[int | None] = mapped_column(Integer)
    number: Mapped[int | None] = mapped_column(Integer)


class Posting(Mutable, Base):
    """A notice on the board (党务/村务/财务/服务): what it says, when it
    should go up and come down, its 公示期, and when it really did."""

    __tablename__ = "postings"

    title: Mapped[str] = mapped_column(String(100))
    body: Mapped[str] = mapped_column(Text)
    category: Mapped[str] = mapped_column(String(12), index=True)  # party | affairs | finance | service
    source: Mapped[str] = mapped_column(String(16), default="manual")  # manual or the list it was made from
    period_days: Mapped[int | None] = mapped_column(Integer)  # 公示期, when one applies
    on_date: Mapped[date] = mapped_column(Date, index=True)
    off_date: Mapped[date] = mapped_column(Date, index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    created_by: Mapped[str] = mapped_column(String(32))
    posted_at: Mapped[datetime | None] = mapped_column(DateTime, index=True)
    posted_by: Mapped[str | None] = mapped_column(String(32))
    removed_at: Mapped[datetime | None] = mapped_column(DateTime, index=True)
    removed_by: Mapped[str | None] = mapped_column(String(32))
    removed_note: Mapped[str | None] = mapped_column(Text)  # why it came down before its 公示期 ended
