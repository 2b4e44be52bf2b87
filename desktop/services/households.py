"""Households (户): members, the head, each member's relation to the head,
moving a resident to another household or into a new one.

Nothing is deleted: a household left without members keeps its record (and
its number) with no head; moving out or death are marks on the resident.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from db.engine import Database
from db.errors import ValidationError
from db.models import Household, Resident
from desktop.services import audit
from desktop.services.context import Actor
from desktop.services.idnumbers import mask
from desktop.services.vocab import RELATIONS
from desktop.services.textsearch import clean_query, contains

HEAD = "户主"


@dataclass(frozen=True)
class Member:
    id: uuid.UUID
    name: str
    relation: str
    birth_date: date | None
    doc_masked: str
    status: str  # "" | 已迁出 | 已故


@dataclass(frozen=True)
class HouseholdView:
    id: uuid.UUID
    number: str
    address: str
    head_id: uuid.UUID | None
    members: list[Member]

    @property
    def head_name(self) -> str:
        return next((m.name for m in self.members if m.id == self.head_id), "")

    def summary(self) -> str:
        live = [m for m in self.members if not m.status]
        head = self.head_name or "（无户主）"
        return f"户号 {self.number or '—'} · 户主 {head} · {len(live)} 人"


def _status(r: Resident) -> str:
    return "已故" if r.deceased else ("已迁出" if r.moved_out else "")


def _view(s: Session, h: Household) -> HouseholdView:
    rows = s.scalars(
        select(Resident).where(Resident.household_id == h.id, Resident.deleted.is_(False)).order_by(Resident.birth_date)
    ).all()
    members = [
        Member(r.id, r.name, r.relation_to_head or "", r.birth_date, mask(r.doc_number or ""), _status(r)) for r in rows
    ]
    members.sort(
        key=lambda m: (
            m.id != h.head_id,
            m.status != "",
            RELATIONS.index(m.relation) if m.relation in RELATIONS else 99,
        )
    )
    return HouseholdView(h.id, h.number or "", h.address_text or "", h.head_id, members)


def _resident(s: Session, rid: uuid.UUID) -> Resident:
    r = s.get(Resident, rid)
    if r is None or r.deleted:
        raise ValidationError("resident", "找不到这位居民。")
    return r


def _household(s: Session, hid: uuid.UUID) -> Household:
    h = s.get(Household, hid)
    if h is None or h.deleted:
        raise ValidationError("household", "找不到这一户。")
    return h


def _relation(relation: str) -> str:
    relation = (relation or "").strip()
    if relation not in RELATIONS:
        raise ValidationError("relation", "请选择与户主的关系。")
    return relation


def of_resident(db: Database, rid: uuid.UUID) -> HouseholdView | None:
    with db.session() as s:
        r = _resident(s, rid)
        if r.household_id is None:
            return None
        return _view(s, _household(s, r.household_id))


def get(db: Database, hid: uuid.UUID) -> HouseholdView:
    with db.session() as s:
        return _view(s, _household(s, hid))


def search(db: Database, text: str, limit: int = 30) -> list[HouseholdView]:
    """Households by number, address fragment or the head's name."""
    t = clean_query(text)
    if not t:
        return []
    with db.session() as s:
        q = (
            select(Household)
            .outerjoin(Resident, Resident.id == Household.head_id)
            .where(
                Household.deleted.is_(False),
                or_(contains(Household.number, t), contains(Household.address_text, t), contains(Resident.name, t)),
            )
            .order_by(Household.number)
            .limit(limit)
        )
        return [_view(s, h) for h in s.scalars(q)]


def _leave(s: Session, r: Resident) -> None:
    """Take ``r`` out of its household; a head leaves the household headless."""
    if r.household_id is None:
        return
    old = s.get(Household, r.household_id)
    if old is not None and old.head_id == r.id:
        old.head_id = None


def move(db: Database, actor: Actor, rid: uuid.UUID, hid: uuid.UUID, relation: str) -> None:
    """Move a resident into another household with a relation to its head."""
    actor.require("desk", "调整户籍成员")
    relation = _relation(relation)
    with db.session() as s:
        r = _resident(s, rid)
        h = _household(s, hid)
        if r.household_id == h.id:
            raise ValidationError("household", "这位居民已经在这一户。")
        if relation == HEAD and h.head_id is not None:
            raise ValidationError("relation", "这一户已有户主；请先选其他关系，迁入后再“设为户主”。")
        _leave(s, r)
        r.household_id = h.id
        r.relation_to_head = relation
        if relation == HEAD:
            h.head_id = r.id
        audit.record(s, "household_move", actor, target_type="resident", target_id=r.id)


def new_household(db: Database, actor: Actor, rid: uuid.UUID, number: str = "", address: str = "") -> uuid.UUID:
    """立户: the resident leaves their household and heads a new one."""
    actor.require("desk", "立户")
    number = " ".join((number or "").split())[:32]
    with db.session() as s:
        r = _resident(s, rid)
        if number and s.scalar(
            select(func.count()).select_from(Household).where(Household.number == number, Household.deleted.is_(False))
        ):
            raise ValidationError("number", f"户号 {number} 已被使用。")
        if not number:
            n = s.scalar(select(func.count()).select_from(Household)) or 0
            number = f"H{n + 1:06d}"
            while s.scalar(select(func.count()).select_from(Household).where(Household.number == number)):
                n += 1
                number = f"H{n + 1:06d}"
        _leave(s, r)
        h = Household(number=number, head_id=r.id, address_text=(address or r.address_text or "")[:200] or None)
        s.add(h)
        s.flush()
        r.household_id, r.relation_to_head = h.id, HEAD
        audit.record(s, "household_create", actor, target_type="household", target_id=h.id)
        return h.id


def set_head(db: Database, actor: Actor, hid: uuid.UUID, rid: uuid.UUID) -> None:
    """Make a member the head. The old head's relation must be re-entered
    (it was relative to themselves): it becomes 其他 until the worker sets it."""
    actor.require("desk", "变更户主")
    with db.session() as s:
        h = _household(s, hid)
        r = _resident(s, rid)
        if r.household_id != h.id:
            raise ValidationError("resident", "只能把本户成员设为户主。")
        if r.deceased or r.moved_out:
            raise ValidationError("resident", "已故或已迁出的成员不能设为户主。")
        if h.head_id == r.id:
            return
        if h.head_id is not None:
            old = s.get(Resident, h.head_id)
            if old is not None:
                old.relation_to_head = "其他"
        h.head_id, r.relation_to_head = r.id, HEAD
        audit.record(s, "household_head", actor, target_type="household", target_id=h.id)


def set_relation(db: Database, actor: Actor, rid: uuid.UUID, relation: str) -> None:
    actor.require("desk", "修改与户主关系")
    relation = _relation(relation)
    with db.session() as s:
        r = _resident(s, rid)
        if r.household_id is None:
            raise ValidationError("household", "这位居民还没有归户。")
        h = _household(s, r.household_id)
        if relation == HEAD and h.head_id != r.id:
            raise ValidationError("relation", "要改为户主，请用“设为户主”。")
        if relation != HEAD and h.head_id == r.id:
            raise ValidationError("relation", "户主的关系只能是“户主”；请先把其他成员设为户主。")
        r.relation_to_head = relation
        audit.record(s, "household_relation", actor, target_type="resident", target_id=r.id)
