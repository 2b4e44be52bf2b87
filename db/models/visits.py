"""Home visits (走访): each station's visit tiers by special-group tag, and
the visits its workers make to special-group households."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import Date, DateTime, ForeignKey, Index, Integer, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, Mutable


class VisitTier(Mutable, Base):
    """How often a station visits residents with one tag (``days`` between
    visits, 0 = not on the schedule).  One row per station and tag, with an
    id derived from both (``desktop.services.visits.tier_id``), so two edits
    of one tag are one record.  A station's own setting: it travels up to the
    hub like the station's other records and is never pushed down to others."""

    __tablename__ = "visit_tiers"

    tag: Mapped[str] = mapped_column(String(16), index=True)
    days: Mapped[int] = mapped_column(Integer)
    changed_by: Mapped[str | None] = mapped_column(String(32))


class Visit(Mutable, Base):
    """One home visit, or one attempt (``outcome`` ``not_home``).  A need found
    on the visit can become a volunteer need (``need_id``) or a counter matter
    (``matter_id``)."""

    __tablename__ = "visits"
    # The visit schedule's last visit per household, read from the index in
    # its GROUP BY order (migration 0013).
    # 本期接触 and the month's counts: who was visited in a period, from the
    # index alone.
    __table_args__ = (
        Index("ix_visits_last", "household_id", "resident_id", "outcome", "day", "deleted"),
        Index("ix_visits_day_who", "day", "deleted", "household_id", "resident_id", "origin", "outcome"),
    )

    resident_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("residents.id"), index=True)
    household_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("households.id"), index=True)
    day: Mapped[date] = mapped_column(Date, index=True)
    # met (见到) | not_home (不在家)
    outcome: Mapped[str] = mapped_column(String(12))
    visitor_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)  # an account: no foreign key (accounts stay local)
    visitor_name: Mapped[str] = mapped_column(String(32))
    met: Mapped[str | None] = mapped_column(String(64))  # who was met: 本人, 老伴, 女儿 ...
    situation: Mapped[str | None] = mapped_column(Text)
    needs: Mapped[str | None] = mapped_column(Text)  # needs found
    need_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("volunteer_needs.id"))
    matter_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("matters.id"))
    recorded_at: Mapped[datetime] = mapped_column(DateTime)
    recorded_by: Mapped[str] = mapped_column(String(32))
