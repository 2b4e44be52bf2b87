"""The one-stop counter: the matter catalogue, accepted matters and what
happened to them, ratings, rectifications, one-time notices and the
working-day calendar."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import Boolean, Date, DateTime, ForeignKey, Index, Integer, String, Text, Uuid, text
from sqlalchemy.orm import Mapped, mapped_column

from db.base import AppendOnly, Base, Mutable


class MatterType(Mutable, Base):
    """A matter in the station's catalogue (事项目录). Seeded from
    ``resources/matters.json``; a supervisor edits the station's copy."""

    __tablename__ = "matter_types"

    code: Mapped[str] = mapped_column(String(32), index=True)
    name: Mapped[str] = mapped_column(String(64))
    category: Mapped[str] = mapped_column(String(32))
    # direct 直办 | proxy 代办 | assist 协办 | inform 告知
    mode: Mapped[str] = mapped_column(String(16))
    conditions: Mapped[str | None] = mapped_column(Text)
    process: Mapped[str | None] = mapped_column(Text)
    promised_days: Mapped[int] = mapped_column(Integer, default=0)
    fee: Mapped[str | None] = mapped_column(String(64))
    basis: Mapped[str | None] = mapped_column(Text)
    # [{"name", "required", "copies", "source", "check"}, ...]
    materials: Mapped[list[Any]] = mapped_column(default=list)
    aliases: Mapped[str | None] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # True for an entry the station added itself (stays local when the hub
    # sends a catalogue update).
    local: Mapped[bool] = mapped_column(Boolean, default=False)
    sort: Mapped[int] = mapped_column(Integer, default=0)


class Matter(Mutable, Base):
    """A matter accepted for a resident (受理). Its current state; the history
    is in ``matter_events``."""

    __tablename__ = "matters"
    # The report's 期末在办: the open matters with every column it counts by
    # and tests (migrations 0013, 0014), so it never reads their rows.
    __table_args__ = (
        Index(
            "ix_matters_open",
            "accepted_at",
            "matter_type_id",
            "matter_name",
            "category",
            "channel",
            "handler_name",
            "origin",
            "status",
            "promised_date",
            "deleted",
            "closed_at",
            sqlite_where=text("closed_at IS NULL"),
            postgresql_where=text("closed_at IS NULL"),
        ),
        # Closing times, for ranges of them (办结 in a period); partial, so
        # that "closed_at IS NULL" finds ix_matters_open, not this (0014).
        Index(
            "ix_matters_closed_at",
            "closed_at",
            sqlite_where=text("closed_at IS NOT NULL"),
            postgresql_where=text("closed_at IS NOT NULL"),
        ),
        # 本期接触: the residents of the period's matters, from the index alone.
        Index("ix_matters_accepted_resident", "accepted_at", "resident_id", "deleted"),
    )

    receipt_no: Mapped[str] = mapped_column(String(40), unique=True)
    resident_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("residents.id"), index=True)
    matter_type_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("matter_types.id"), index=True)
    # Snapshots, so a later catalogue edit does not rewrite what was accepted.
    matter_name: Mapped[str] = mapped_column(String(64))
    category: Mapped[str] = mapped_column(String(32))
    channel: Mapped[str] = mapped_column(String(16))
    # accepted 受理 | in_progress 办理中 | transferred 转办 | done 办结
    # | returned 退回 | rejected 不予受理
    status: Mapped[str] = mapped_column(String(16), index=True)
    accepted_at: Mapped[datetime] = mapped_column(DateTime, index=True)
    promised_date: Mapped[date] = mapped_column(Date, index=True)
    handler_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, index=True)
    handler_name: Mapped[str] = mapped_column(String(32))
    accepted_by: Mapped[str] = mapped_column(String(32))
    materials: Mapped[list[Any]] = mapped_column(default=list)
    note: Mapped[str | None] = mapped_column(Text)
    result: Mapped[str | None] = mapped_column(Text)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime)
    rating: Mapped[int | None] = mapped_column(Integer)


class MatterEvent(AppendOnly, Base):
    """Something that happened to a matter: accepted, started, transferred,
    returned, refused, closed, rated, called back."""

    __tablename__ = "matter_events"

    matter_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("matters.id"), index=True)
    at: Mapped[datetime] = mapped_column(DateTime)
    kind: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    actor_name: Mapped[str] = mapped_column(String(32))
    note: Mapped[str | None] = mapped_column(Text)
    target: Mapped[str | None] = mapped_column(String(64))


class MatterRating(AppendOnly, Base):
    """The resident's 好差评 for a matter: one per visit (一次一评)."""

    __tablename__ = "matter_ratings"

    matter_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("matters.id"), unique=True)
    at: Mapped[datetime] = mapped_column(DateTime, index=True)
    # 5 非常满意 … 1 非常不满意
    level: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str | None] = mapped_column(Text)
    recorded_by: Mapped[str] = mapped_column(String(32))


class Rectification(Mutable, Base):
    """整改: opened by a bad review, due in 15 working days, closed only with a
    call-back to the resident."""

    __tablename__ = "rectifications"

    matter_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("matters.id"), unique=True)
    opened_at: Mapped[datetime] = mapped_column(DateTime)
    due_date: Mapped[date] = mapped_column(Date, index=True)
    # open | done
    status: Mapped[str] = mapped_column(String(8), index=True)
    measures: Mapped[str | None] = mapped_column(Text)
    callback_at: Mapped[datetime | None] = mapped_column(DateTime)
    callback_by: Mapped[str | None] = mapped_column(String(32))
    callback_note: Mapped[str | None] = mapped_column(Text)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime)


class NoticeLog(AppendOnly, Base):
    """A one-time notice (一次性告知单) handed to a resident."""

    __tablename__ = "notices"

    notice_no: Mapped[str] = mapped_column(String(40), unique=True)
    matter_type_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("matter_types.id"), index=True)
    resident_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("residents.id"), index=True)
    at: Mapped[datetime] = mapped_column(DateTime)
    actor_name: Mapped[str] = mapped_column(String(32))
    missing: Mapped[list[Any]] = mapped_column(default=list)
    reason: Mapped[str | None] = mapped_column(Text)


class CalendarDay(Mutable, Base):
    """A day that breaks the Monday–Friday rule: a public holiday on a
    weekday, or a make-up working day (调休) on a weekend."""

    __tablename__ = "calendar_days"

    day: Mapped[date] = mapped_column(Date, unique=True)
    # holiday | workday
    kind: Mapped[str] = mapped_column(String(8))
    name: Mapped[str] = mapped_column(String(32))
