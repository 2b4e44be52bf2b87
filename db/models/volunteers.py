"""Volunteers (志愿服务): the skill vocabulary, volunteers, residents' needs
(点单), assignments (派单) with actual hours and ratings (评单)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import Boolean, Date, DateTime, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from db.base import AppendOnly, Base, Mutable


class Skill(Mutable, Base):
    __tablename__ = "skills"

    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(32))
    aliases: Mapped[str | None] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Volunteer(Mutable, Base):
    """A volunteer, from a resident record or an outside person. The public
    identifier is ``number`` (station code + sequence), never the ID number."""

    __tablename__ = "volunteers"

    number: Mapped[str] = mapped_column(String(32), unique=True)
    resident_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("residents.id"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    gender: Mapped[int] = mapped_column(Integer, default=0)
    birth_date: Mapped[date | None] = mapped_column(Date)
    doc_number: Mapped[str | None] = mapped_column(String(32))
    phone: Mapped[str | None] = mapped_column(String(32))
    grid: Mapped[str | None] = mapped_column(String(32))
    estate: Mapped[str | None] = mapped_column(String(64))
    skills: Mapped[list[Any]] = mapped_column(default=list)  # skill codes
    # ["1am", "1pm", "3eve", ...]: ISO weekday 1-7 × am/pm/eve
    availability: Mapped[list[Any]] = mapped_column(default=list)
    unavailable_dates: Mapped[list[Any]] = mapped_column(default=list)  # ISO dates
    weekly_hour_limit: Mapped[float] = mapped_column(Float, default=6.0)
    party_member: Mapped[bool] = mapped_column(Boolean, default=False)
    employer: Mapped[str | None] = mapped_column(String(64))
    yearly_target_hours: Mapped[float] = mapped_column(Float, default=0.0)
    guardian_consent: Mapped[bool] = mapped_column(Boolean, default=False)
    guardian_name: Mapped[str | None] = mapped_column(String(64))
    consent_at: Mapped[datetime | None] = mapped_column(DateTime)
    # active | paused | left
    status: Mapped[str] = mapped_column(String(8), default="active", index=True)
    registered_on: Mapped[date] = mapped_column(Date)


class Need(Mutable, Base):
    """A resident's (or the station's) request for help (点单)."""

    __tablename__ = "volunteer_needs"

    resident_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("residents.id"), index=True)
    title: Mapped[str] = mapped_column(String(64))
    description: Mapped[str | None] = mapped_column(Text)
    skills: Mapped[list[Any]] = mapped_column(default=list)
    # one-off: day + slot; weekly: weekday + slot (day is the first date)
    day: Mapped[date] = mapped_column(Date, index=True)
    slot: Mapped[str] = mapped_column(String(4))  # am | pm | eve
    weekly: Mapped[bool] = mapped_column(Boolean, default=False)
    until: Mapped[date | None] = mapped_column(Date)
    hours: Mapped[float] = mapped_column(Float, default=2.0)
    place: Mapped[str | None] = mapped_column(String(100))
    grid: Mapped[str | None] = mapped_column(String(32))
    estate: Mapped[str | None] = mapped_column(String(64))
    urgency: Mapped[int] = mapped_column(Integer, default=2)  # 1 normal, 2 soon, 3 urgent
    volunteers_needed: Mapped[int] = mapped_column(Integer, default=1)
    # review 审核中 | open 待派单 | serving 服务中 | done 已完成 | refused 已拒绝 | cancelled 已取消
    status: Mapped[str] = mapped_column(String(12), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, index=True)
    created_by: Mapped[str] = mapped_column(String(32))


class NeedEvent(AppendOnly, Base):
    __tablename__ = "volunteer_need_events"

    need_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("volunteer_needs.id"), index=True)
    at: Mapped[datetime] = mapped_column(DateTime, index=True)
    kind: Mapped[str] = mapped_column(String(16))
    actor_name: Mapped[str] = mapped_column(String(32))
    note: Mapped[str | None] = mapped_column(Text)


class Assignment(Mutable, Base):
    """A volunteer sent to a need on one date (派单), and what happened (评单)."""

    __tablename__ = "volunteer_assignments"

    need_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("volunteer_needs.id"), index=True)
    volunteer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("volunteers.id"), index=True)
    day: Mapped[date] = mapped_column(Date, index=True)
    slot: Mapped[str] = mapped_column(String(4))
    # assigned | done | no_show | cancelled
    status: Mapped[str] = mapped_column(String(10), index=True)
    assigned_at: Mapped[datetime] = mapped_column(DateTime)
    assigned_by: Mapped[str] = mapped_column(String(32))
    score: Mapped[float] = mapped_column(Float, default=0.0)
    started_at: Mapped[datetime | None] = mapped_column(DateTime)
    ended_at: Mapped[datetime | None] = mapped_column(DateTime)
    hours: Mapped[float | None] = mapped_column(Float)
    rating: Mapped[int | None] = mapped_column(Integer)
    comment: Mapped[str | None] = mapped_column(Text)
    recorded_at: Mapped[datetime | None] = mapped_column(DateTime)
    recorded_by: Mapped[str | None] = mapped_column(String(32))
    late: Mapped[bool] = mapped_column(Boolean, default=False)
