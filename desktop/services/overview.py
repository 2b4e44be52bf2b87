"""The station at a glance: what the overview page shows."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, select

from db.engine import Database
from db.models import Account, Household, Resident, ResidentTag
from desktop.services.vocab import SPECIAL_GROUPS


@dataclass(frozen=True)
class Overview:
    residents: int
    households: int
    moved_out: int
    deceased: int
    accounts: int
    by_residency: dict[str, int] = field(default_factory=dict)
    by_tag: dict[str, int] = field(default_factory=dict)


def overview(db: Database) -> Overview:
    live = Resident.deleted.is_(False)
    with db.session() as s:
        current = live & Resident.moved_out.is_(False) & Resident.deceased.is_(False)
        residents = s.scalar(select(func.count()).select_from(Resident).where(current)) or 0
        moved = s.scalar(select(func.count()).select_from(Resident).where(live & Resident.moved_out.is_(True))) or 0
        dead = s.scalar(select(func.count()).select_from(Resident).where(live & Resident.deceased.is_(True))) or 0
        households = s.scalar(select(func.count()).select_from(Household).where(Household.deleted.is_(False))) or 0
        accounts = (
            s.scalar(
                select(func.count()).select_from(Account).where(Account.deleted.is_(False), Account.active.is_(True))
            )
            or 0
        )
        by_res = dict(
            s.execute(select(Resident.residency, func.count()).where(current).group_by(Resident.residency)).all()
        )
        tag_rows = s.execute(
            select(ResidentTag.tag, func.count())
            .join(Resident, Resident.id == ResidentTag.resident_id)
            .where(ResidentTag.deleted.is_(False), current)
            .group_by(ResidentTag.tag)
        ).all()
    counts = dict(tag_rows)
    by_tag = {t: counts.get(t, 0) for t in SPECIAL_GROUPS}
    return Overview(residents, households, moved, dead, accounts, by_res, by_tag)
