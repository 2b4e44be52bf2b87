"""微心愿 (a resident's small wish, claimed and fulfilled by a sponsor) and
在职党员报到 (a party member working elsewhere reporting to the community).

A wish is its own table, not a kind of ``volunteer_needs``: a need is time to
be dispatched to volunteers (day, slot, hours, 派单/评单) while a wish is a
thing or favour with an estimated value that one sponsor — a party member, a
volunteer or a unit with no volunteer record — takes on as a whole. Putting
wishes among needs would put them in the dispatch pool and the hours ledger.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, DateTime, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, Mutable


class Wish(Mutable, Base):
    """A resident's 微心愿. ``number`` (station code + sequence) is what the
    printed wish board shows, with the surname + 某 and the grid."""

    __tablename__ = "wishes"

    number: Mapped[str] = mapped_column(String(32), unique=True)
    resident_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("residents.id"), index=True)
    title: Mapped[str] = mapped_column(String(64))
    description: Mapped[str | None] = mapped_column(Text)
    value: Mapped[float] = mapped_column(Float, default=0.0)  # estimated, yuan
    grid: Mapped[str | None] = mapped_column(String(32))
    # open 待认领 | claimed 已认领 | fulfilled 已实现
    status: Mapped[str] = mapped_column(String(10), index=True)
    published_on: Mapped[date] = mapped_column(Date, index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    created_by: Mapped[str] = mapped_column(String(32))


class WishClaim(Mutable, Base):
    """认领 of a wish, and its fulfilment (实现) when it comes."""

    __tablename__ = "wish_claims"

    wish_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("wishes.id"), index=True)
    # member 党员 | volunteer 志愿者 | unit 单位
    sponsor_kind: Mapped[str] = mapped_column(String(10))
    volunteer_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("volunteers.id"), index=True)
    sponsor_name: Mapped[str] = mapped_column(String(64))
    contact: Mapped[str | None] = mapped_column(String(32))
    claimed_on: Mapped[date] = mapped_column(Date, index=True)
    claimed_by: Mapped[str] = mapped_column(String(32))
    fulfilled_on: Mapped[date | None] = mapped_column(Date, index=True)
    given: Mapped[str | None] = mapped_column(Text)  # what was given or done
    note: Mapped[str | None] = mapped_column(Text)
    fulfilled_by: Mapped[str | None] = mapped_column(String(32))


class PartyReport(Mutable, Base):
    """在职党员报到: one a year per member; the hours served are the member's
    volunteer service records, never copied here."""

    __tablename__ = "party_reports"

    volunteer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("volunteers.id"), index=True)
    year: Mapped[int] = mapped_column(Integer, index=True)
    unit: Mapped[str] = mapped_column(String(64))
    reported_on: Mapped[date] = mapped_column(Date, index=True)
    posts: Mapped[list[Any]] = mapped_column(default=list)  # service post names
    note: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(32))
