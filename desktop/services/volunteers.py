"""Volunteer service (志愿服务): the registry, residents' needs (点单), ranked
and explained matches, dispatch (派单), hours and ratings (评单).

Rules (民政部《志愿服务记录与证明出具办法（试行）》, DOMAIN.md): 14–18 needs a
guardian's consent, under 14 cannot register; consent is recorded for holding
the volunteer's personal data; the public identifier is the volunteer number,
never the ID number; hours are the time actually given; records entered more
than 10 working days after the service are flagged as late.
"""

from __future__ import annotations

import json
import re
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, overload

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from db.clock import shared_id, utcnow
from db.engine import Database
from db.errors import ValidationError
from db.models import Assignment, LocalState, Need, NeedEvent, Resident, Skill, Volunteer
from db.localtime import to_local, to_utc
from desktop.paths import resources_dir
from desktop.services import audit, workdays
from desktop.services.context import Actor
from desktop.services.idnumbers import age_on, normalize, validate_ric
from desktop.services.residents import validate_phone
from desktop.services.textsearch import clean_query, contains

if TYPE_CHECKING:
    import numpy as np  # imported where used: the window starts without it

SLOTS = {"am": "上午", "pm": "下午", "eve": "晚上"}
SLOT_HOURS = {"am": (8, 30, 12, 0), "pm": (14, 0, 17, 30), "eve": (18, 30, 21, 0)}
WEEKDAYS = {1: "周一", 2: "周二", 3: "周三", 4: "周四", 5: "周五", 6: "周六", 7: "周日"}
NEED_STATUSES = {
    "review": "审核中",
    "open": "待派单",
    "serving": "服务中",
    "done": "已完成",
    "refused": "已拒绝",
    "cancelled": "已取消",
}
VOLUNTEER_STATUSES = {"active": "在岗", "paused": "暂停", "left": "已退出"}
URGENCY = {1: "一般", 2: "较急", 3: "紧急"}
LATE_WORKING_DAYS = 10
# Score weights (sum 100): what the worker sees, part by part.
WEIGHTS = {
    "skill": 30,
    "availability": 15,
    "nearness": 15,
    "fairness": 10,
    "reliability": 10,
    "rating": 5,
    "continuity": 10,
    "party": 5,
}
PART_LABELS = {
    "skill": "技能",
    "availability": "时间",
    "nearness": "距离",
    "fairness": "轮换",
    "reliability": "守约",
    "rating": "评价",
    "continuity": "熟悉",
    "party": "党员时长",
}
SLOT_RE = re.compile(r"^[1-7](am|pm|eve)$")


# ------------------------------------------------------------------ skills


def ensure_skills(db: Database) -> None:
    with db.session() as s:
        if s.scalar(select(func.count()).select_from(Skill)):
            return
        doc = json.loads((resources_dir() / "data/skills.json").read_text(encoding="utf-8"))
        for k in doc["skills"]:
            s.add(
                Skill(
                    id=shared_id("skills", k["code"]),
                    code=k["code"],
                    name=k["name"],
                    aliases=k.get("aliases"),
                    active=True,
                )
            )


def skills(db: Database) -> dict[str, str]:
    """code → name of the active skills, in the file's order."""
    ensure_skills(db)
    with db.session() as s:
        return {
            k.code: k.name
            for k in s.scalars(
                select(Skill).where(Skill.active.is_(True), Skill.deleted.is_(False)).order_by(Skill.seq)
            )
        }


def save_skill(db: Database, actor: Actor, name: str, aliases: str = "") -> str:
    actor.require("supervisor", "修改技能目录")
    name = " ".join((name or "").split())
    if not name or len(name) > 32:
        raise ValidationError("name", "请填写技能名称（不超过 32 个字）。")
    ensure_skills(db)
    with db.session() as s:
        existing = s.scalar(select(Skill).where(Skill.name == name))
        if existing is not None:
            existing.active, existing.deleted, existing.aliases = True, False, aliases or existing.aliases
            return existing.code
        n = s.scalar(select(func.count()).select_from(Skill)) or 0
        # The station's code in it: two stations' own skills never share a code at the hub.
        code = f"{actor.station_code}-{n + 1}"
        s.add(Skill(code=code, name=name, aliases=aliases or None, active=True))
        audit.record(s, "skill_save", actor)
        return code


# ------------------------------------------------------------------ volunteers


@dataclass
class VolunteerForm:
    name: str = ""
    resident_id: uuid.UUID | None = None
    gender: int = 0
    birth_date: date | None = None
    doc_number: str = ""
    phone: str = ""
    grid: str = ""
    estate: str = ""
    skills: list[str] = field(default_factory=list)
    availability: list[str] = field(default_factory=list)
    unavailable_dates: list[date] = field(default_factory=list)
    weekly_hour_limit: float = 6.0
    party_member: bool = False
    employer: str = ""
    yearly_target_hours: float = 0.0
    guardian_consent: bool = False
    guardian_name: str = ""
    data_consent: bool = False


def _station_code(s: Session) -> str:
    code = s.scalar(select(LocalState.station_code).where(LocalState.id == 1))
    if not code:
        raise ValidationError("station", "站点尚未建立。")
    return code


def _validate_volunteer(db: Database, f: VolunteerForm, today: date) -> VolunteerForm:
    if f.resident_id is not None:
        with db.session() as s:
            r = s.get(Resident, f.resident_id)
            if r is None or r.deleted:
                raise ValidationError("resident", "找不到这位居民。")
            if r.deceased:
                raise ValidationError("resident", "这位居民已标记为已故。")
            f = VolunteerForm(
                **{
                    **f.__dict__,
                    "name": r.name,
                    "gender": r.gender,
                    "birth_date": r.birth_date,
                    "doc_number": r.doc_number or "",
                    "phone": f.phone or r.phone or "",
                    "grid": f.grid or r.grid or "",
                    "estate": f.estate or r.estate or "",
                }
            )
    name = "".join((f.name or "").split())
    if not name or len(name) > 64:
        raise ValidationError("name", "请填写姓名（不超过 64 个字）。")
    doc = normalize(f.doc_number)
    gender, birth = f.gender, f.birth_date
    if doc:
        info = validate_ric(doc, today)
        doc, gender, birth = info.number, info.gender, info.birth_date
    if birth is None:
        raise ValidationError("birth_date", "请填写出生日期或身份证号码（用于核对年龄：未满 14 周岁不能注册）。")
    age = age_on(birth, today)
    if age < 14:
        raise ValidationError("birth_date", f"未满 14 周岁（{age} 岁）不能注册为志愿者，可在监护人陪同下参加活动。")
    if age < 18 and not (f.guardian_consent and f.guardian_name.strip()):
        raise ValidationError(
            "guardian_name", "14—18 周岁的志愿者须经监护人同意：请填写监护人姓名并勾选“监护人已同意”。"
        )
    if not f.data_consent:
        raise ValidationError("data_consent", "须征得本人同意后才能保存其个人信息（勾选“本人已同意”）。")
    if not f.skills:
        raise ValidationError("skills", "请至少选择一项技能。")
    known = skills(db)
    bad = [k for k in f.skills if k not in known]
    if bad:
        raise ValidationError("skills", f"未知的技能：{bad[0]}。")
    if any(not SLOT_RE.match(a) for a in f.availability):
        raise ValidationError("availability", "可服务时间格式不对。")
    if not f.availability:
        raise ValidationError("availability", "请至少勾选一个可服务的时段。")
    if not 0 < float(f.weekly_hour_limit) <= 40:
        raise ValidationError("weekly_hour_limit", "每周最多服务时长应在 0.5 到 40 小时之间。")
    if not 0 <= float(f.yearly_target_hours) <= 500:
        raise ValidationError("yearly_target_hours", "年度服务时长目标应在 0 到 500 小时之间。")
    return VolunteerForm(
        **{
            **f.__dict__,
            "name": name,
            "doc_number": doc,
            "gender": gender,
            "birth_date": birth,
            "phone": validate_phone(f.phone),
            "skills": list(dict.fromkeys(f.skills)),
            "availability": sorted(set(f.availability)),
            "employer": (f.employer or "").strip()[:64],
            "guardian_name": f.guardian_name.strip()[:64],
            "grid": (f.grid or "").strip()[:32],
            "estate": (f.estate or "").strip()[:64],
        }
    )


def register(db: Database, actor: Actor, form: VolunteerForm, today: date | None = None) -> tuple[uuid.UUID, str]:
    """Register a volunteer; returns (id, volunteer number)."""
    actor.require("desk", "登记志愿者")
    today = today or date.today()
    f = _validate_volunteer(db, form, today)
    with db.session() as s:
        if f.doc_number and s.scalar(
            select(func.count())
            .select_from(Volunteer)
            .where(Volunteer.doc_number == f.doc_number, Volunteer.deleted.is_(False))
        ):
            raise ValidationError("doc_number", "这位志愿者已经登记过了。")
        code = _station_code(s)
        prefix = f"{code}-V"
        # numerically: "V9999" sorts after "V10000" as text
        taken = [
            x[len(prefix) :] for x in s.scalars(select(Volunteer.number).where(Volunteer.number.like(prefix + "%")))
        ]
        number = f"{prefix}{max((int(x) for x in taken if x.isdigit()), default=0) + 1:04d}"
        v = Volunteer(number=number, registered_on=today, consent_at=utcnow(), status="active")
        _apply(v, f)
        s.add(v)
        s.flush()
        audit.record(s, "volunteer_register", actor, target_type="volunteer", target_id=v.id)
        return v.id, number


def _apply(v: Volunteer, f: VolunteerForm) -> None:
    v.resident_id, v.name, v.gender, v.birth_date = f.resident_id, f.name, f.gender, f.birth_date
    v.doc_number, v.phone, v.grid, v.estate = f.doc_number or None, f.phone or None, f.grid or None, f.estate or None
    v.skills, v.availability = list(f.skills), list(f.availability)
    v.unavailable_dates = [d.isoformat() for d in f.unavailable_dates]
    v.weekly_hour_limit, v.party_member = float(f.weekly_hour_limit), bool(f.party_member)
    v.employer, v.yearly_target_hours = f.employer or None, float(f.yearly_target_hours)
    v.guardian_consent, v.guardian_name = bool(f.guardian_consent), f.guardian_name or None


def set_status(db: Database, actor: Actor, volunteer_id: uuid.UUID, status: str) -> None:
    actor.require("desk", "修改志愿者状态")
    if status not in VOLUNTEER_STATUSES:
        raise ValidationError("status", "未知的状态。")
    with db.session() as s:
        v = s.get(Volunteer, volunteer_id)
        if v is None:
            raise ValidationError("volunteer", "找不到这位志愿者。")
        v.status = status
        audit.record(s, "volunteer_status", actor, target_type="volunteer", target_id=v.id)


@dataclass(frozen=True)
class VolunteerRow:
    id: uuid.UUID
    number: str
    name: str
    phone: str
    skills: list[str]
    grid: str
    estate: str
    status: str
    party_member: bool
    hours_this_year: float


def list_volunteers(db: Database, text: str = "") -> list[VolunteerRow]:
    names = skills(db)
    year_start = datetime(date.today().year, 1, 1)
    with db.session() as s:
        hours = dict(
            s.execute(
                select(Assignment.volunteer_id, func.sum(Assignment.hours))
                .where(Assignment.status == "done", Assignment.started_at >= year_start)
                .group_by(Assignment.volunteer_id)
            ).all()
        )
        q = select(Volunteer).where(Volunteer.deleted.is_(False)).order_by(Volunteer.number)
        if t := clean_query(text):
            q = q.where(contains(Volunteer.name, t) | contains(Volunteer.number, t) | contains(Volunteer.phone, t))
        return [
            VolunteerRow(
                v.id,
                v.number,
                v.name,
                v.phone or "",
                [names.get(k, k) for k in v.skills],
                v.grid or "",
                v.estate or "",
                v.status,
                v.party_member,
                round(hours.get(v.id) or 0, 1),
            )
            for v in s.scalars(q.limit(5000))
        ]


# ------------------------------------------------------------------ needs


@dataclass
class NeedForm:
    title: str = ""
    resident_id: uuid.UUID | None = None
    description: str = ""
    skills: list[str] = field(default_factory=list)
    day: date | None = None
    slot: str = "am"
    weekly: bool = False
    until: date | None = None
    hours: float = 2.0
    place: str = ""
    urgency: int = 1
    volunteers_needed: int = 1


def create_need(
    db: Database,
    actor: Actor,
    f: NeedForm,
    today: date | None = None,
    on_created: Callable[[Session, uuid.UUID], None] | None = None,
) -> uuid.UUID:
    """点单: record a need; it waits in 审核中 until a worker accepts it.
    ``on_created(session, need_id)`` runs in the same transaction."""
    actor.require("desk", "登记服务需求")
    today = today or date.today()
    title = " ".join((f.title or "").split())
    if not title or len(title) > 64:
        raise ValidationError("title", "请填写需求标题（不超过 64 个字）。")
    if f.day is None or f.day < today:
        raise ValidationError("day", "请选择今天或以后的服务日期。")
    if f.slot not in SLOTS:
        raise ValidationError("slot", "请选择上午、下午或晚上。")
    if f.weekly and f.until is not None and f.until < f.day:
        raise ValidationError("until", "结束日期不能早于开始日期。")
    if not 0.5 <= float(f.hours) <= 8:
        raise ValidationError("hours", "每次服务时长应在 0.5 到 8 小时之间。")
    if not 1 <= int(f.volunteers_needed) <= 20:
        raise ValidationError("volunteers_needed", "需要的人数应在 1 到 20 之间。")
    if f.urgency not in URGENCY:
        raise ValidationError("urgency", "请选择紧急程度。")
    known = skills(db)
    if any(k not in known for k in f.skills):
        raise ValidationError("skills", "有未知的技能。")
    if len(f.description or "") > 1000:
        raise ValidationError("description", "说明太长，请不超过 1000 字。")
    with db.session() as s:
        grid = estate = None
        place = (f.place or "").strip()[:100]
        if f.resident_id is not None:
            r = s.get(Resident, f.resident_id)
            if r is None or r.deleted:
                raise ValidationError("resident", "找不到这位居民。")
            grid, estate = r.grid, r.estate
            place = place or (r.address_text or "")
        n = Need(
            resident_id=f.resident_id,
            title=title,
            description=(f.description or "").strip() or None,
            skills=list(f.skills),
            day=f.day,
            slot=f.slot,
            weekly=bool(f.weekly),
            until=f.until if f.weekly else None,
            hours=float(f.hours),
            place=place or None,
            grid=grid,
            estate=estate,
            urgency=int(f.urgency),
            volunteers_needed=int(f.volunteers_needed),
            status="review",
            created_at=utcnow(),
            created_by=actor.display_name,
        )
        s.add(n)
        s.flush()
        s.add(NeedEvent(need_id=n.id, at=utcnow(), kind="create", actor_name=actor.display_name))
        audit.record(s, "need_create", actor, target_type="need", target_id=n.id)
        if on_created is not None:
            on_created(s, n.id)
        return n.id


NEED_MOVES = {
    "accept": ("review", "open"),
    "refuse": ("review", "refused"),
    "cancel": (None, "cancelled"),
    "complete": (None, "done"),
}


def move_need(db: Database, actor: Actor, need_id: uuid.UUID, kind: str, note: str = "") -> str:
    """接单 (accept), refuse, cancel or complete a need; returns the new status."""
    actor.require("desk", "处理服务需求")
    if kind not in NEED_MOVES:
        raise ValidationError("kind", "未知的操作。")
    note = (note or "").strip()[:500]
    if kind in ("refuse", "cancel") and not note:
        raise ValidationError("note", "请写明原因（会告知居民）。")
    src, dst = NEED_MOVES[kind]
    with db.session() as s:
        n = s.get(Need, need_id)
        if n is None or n.deleted:
            raise ValidationError("need", "找不到这条需求。")
        if src is not None and n.status != src:
            raise ValidationError("status", f"这条需求当前是“{NEED_STATUSES[n.status]}”，不能这样操作。")
        if n.status in ("done", "refused", "cancelled"):
            raise ValidationError("status", f"这条需求已经{NEED_STATUSES[n.status]}。")
        n.status = dst
        if kind == "cancel":
            for a in s.scalars(select(Assignment).where(Assignment.need_id == n.id, Assignment.status == "assigned")):
                a.status = "cancelled"
        s.add(NeedEvent(need_id=n.id, at=utcnow(), kind=kind, actor_name=actor.display_name, note=note or None))
        audit.record(s, "need_" + kind, actor, target_type="need", target_id=n.id)
        return dst


@dataclass(frozen=True)
class NeedRow:
    id: uuid.UUID
    title: str
    resident_name: str
    skills: list[str]
    day: date
    slot: str
    weekly: bool
    until: date | None
    hours: float
    place: str
    urgency: int
    volunteers_needed: int
    status: str
    assigned: int
    grid: str
    estate: str
    resident_id: uuid.UUID | None

    def when(self) -> str:
        if self.weekly:
            return f"每{WEEKDAYS[self.day.isoweekday()]}{SLOTS[self.slot]}（{self.day:%m-%d} 起）"
        return f"{self.day:%Y-%m-%d} {WEEKDAYS[self.day.isoweekday()]}{SLOTS[self.slot]}"


def _need_row(n: Need, name: str | None, assigned: int) -> NeedRow:
    return NeedRow(
        n.id,
        n.title,
        name or "（站点活动）",
        list(n.skills or []),
        n.day,
        n.slot,
        n.weekly,
        n.until,
        n.hours,
        n.place or "",
        n.urgency,
        n.volunteers_needed,
        n.status,
        assigned,
        n.grid or "",
        n.estate or "",
        n.resident_id,
    )


def list_needs(db: Database, statuses: tuple[str, ...] = ("review", "open", "serving")) -> list[NeedRow]:
    with db.session() as s:
        counts = dict(
            s.execute(
                select(Assignment.need_id, func.count())
                .where(Assignment.status.in_(("assigned", "done")))
                .group_by(Assignment.need_id)
            ).all()
        )
        q = (
            select(Need, Resident.name)
            .outerjoin(Resident, Resident.id == Need.resident_id)
            .where(Need.deleted.is_(False), Need.status.in_(statuses))
            .order_by(Need.urgency.desc(), Need.day)
        )
        return [_need_row(n, name, counts.get(n.id, 0)) for n, name in s.execute(q)]


def get_need(db: Database, need_id: uuid.UUID) -> NeedRow:
    with db.session() as s:
        n = s.get(Need, need_id)
        if n is None or n.deleted:
            raise ValidationError("need", "找不到这条需求。")
        name = s.scalar(select(Resident.name).where(Resident.id == n.resident_id)) if n.resident_id else None
        assigned = (
            s.scalar(
                select(func.count())
                .select_from(Assignment)
                .where(Assignment.need_id == n.id, Assignment.status.in_(("assigned", "done")))
            )
            or 0
        )
        return _need_row(n, name, assigned)


def occurrences(need: NeedRow, start: date, end: date) -> list[date]:
    """The dates of a need between start and end inclusive."""
    if not need.weekly:
        return [need.day] if start <= need.day <= end else []
    out = []
    d = max(start, need.day)
    d += timedelta(days=(need.day.isoweekday() - d.isoweekday()) % 7)
    last = min(end, need.until) if need.until else end
    while d <= last:
        out.append(d)
        d += timedelta(days=7)
    return out


# ------------------------------------------------------------------ matching


@dataclass
class PoolEntry:
    id: uuid.UUID
    number: str
    name: str
    phone: str
    birth_date: date | None
    skills: frozenset[str]
    availability: frozenset[str]
    unavailable: frozenset[date]
    grid: str
    estate: str
    weekly_limit: float
    status: str
    party_member: bool
    target: float
    guardian_ok: bool
    static: dict[str, float] = field(default_factory=dict)  # weighted parts that do not depend on the need
    static_total: float = 0.0


@dataclass(frozen=True)
class Candidate:
    volunteer_id: uuid.UUID
    number: str
    name: str
    phone: str
    score: float
    parts: dict[str, float]
    reasons: list[str]


@dataclass(frozen=True)
class Excluded:
    volunteer_id: uuid.UUID
    number: str
    name: str
    reason: str


class ExcludedList(Sequence[Excluded]):
    """Who is out and why, built one by one when read: a ranking over 10 000
    volunteers leaves a thousand out, and the screen names the first dozen."""

    def __init__(self, entries: list[PoolEntry], rows: list[int], reasons: list[str]):
        self._entries, self._rows, self._reasons = entries, rows, reasons

    def __len__(self) -> int:
        return len(self._rows)

    def _one(self, k: int) -> Excluded:
        e = self._entries[self._rows[k]]
        return Excluded(e.id, e.number, e.name, self._reasons[k])

    @overload
    def __getitem__(self, k: int) -> Excluded: ...
    @overload
    def __getitem__(self, k: slice) -> list[Excluded]: ...

    def __getitem__(self, k: int | slice) -> Excluded | list[Excluded]:
        if isinstance(k, slice):
            return [self._one(i) for i in range(*k.indices(len(self)))]
        return self._one(range(len(self))[k])

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Sequence) and list(self) == list(other)

    def __repr__(self) -> str:
        return f"ExcludedList({len(self)})"


@dataclass(frozen=True)
class Ranking:
    need_id: uuid.UUID
    day: date
    slot: str
    candidates: list[Candidate]
    excluded: Sequence[Excluded]  # an ExcludedList: built when read
    excluded_counts: dict[str, int] = field(default_factory=dict)
    eligible: int = 0


class Pool:
    """Volunteers and their history, loaded once, so ranking one need over
    10 000 volunteers is pure arithmetic."""

    def __init__(self, db: Database, today: date | None = None):
        self.db = db
        self.today = today or date.today()
        self.load()

    def load(self) -> None:
        db, today = self.db, self.today
        names = skills(db)
        self.skill_names = names
        month_ago = datetime.combine(today - timedelta(days=30), datetime.min.time())
        year_start = datetime(today.year, 1, 1)
        with db.session() as s:
            # Columns, not ORM objects: building 10 000 instances was most of the load.
            V = Volunteer  # noqa: N806 - a table alias, read like SQL
            self.entries = [
                PoolEntry(
                    vid,
                    number,
                    name,
                    phone or "",
                    birth,
                    frozenset(sk or []),
                    frozenset(avail or []),
                    frozenset(date.fromisoformat(x) for x in (away or [])),
                    grid or "",
                    estate or "",
                    limit,
                    status,
                    party,
                    target,
                    guardian,
                )
                for (
                    vid,
                    number,
                    name,
                    phone,
                    birth,
                    sk,
                    avail,
                    away,
                    grid,
                    estate,
                    limit,
                    status,
                    party,
                    target,
                    guardian,
                ) in s.execute(
                    select(
                        V.id,
                        V.number,
                        V.name,
                        V.phone,
                        V.birth_date,
                        V.skills,
                        V.availability,
                        V.unavailable_dates,
                        V.grid,
                        V.estate,
                        V.weekly_hour_limit,
                        V.status,
                        V.party_member,
                        V.yearly_target_hours,
                        V.guardian_consent,
                    ).where(V.deleted.is_(False))
                )
            ]
            rows = s.execute(
                select(
                    Assignment.volunteer_id,
                    Assignment.status,
                    Assignment.hours,
                    Assignment.rating,
                    Assignment.started_at,
                    Assignment.day,
                    Assignment.slot,
                    Need.resident_id,
                    Need.hours,
                )
                .join(Need, Need.id == Assignment.need_id)
                .where(Assignment.status != "cancelled")
            ).all()
        self.recent_hours: dict[uuid.UUID, float] = defaultdict(float)
        self.year_hours: dict[uuid.UUID, float] = defaultdict(float)
        self.done: dict[uuid.UUID, int] = defaultdict(int)
        self.no_show: dict[uuid.UUID, int] = defaultdict(int)
        self.ratings: dict[uuid.UUID, list[int]] = defaultdict(list)
        self.served: dict[uuid.UUID, set[uuid.UUID]] = defaultdict(set)
        self.booked: dict[tuple[date, str], set[uuid.UUID]] = defaultdict(set)
        self.week_hours: dict[tuple[uuid.UUID, date], float] = defaultdict(float)
        for vid, status, hours, rating, started, day, slot, resident_id, need_hours in rows:
            if status == "done":
                self.done[vid] += 1
                h = hours or 0.0
                if started and started >= month_ago:
                    self.recent_hours[vid] += h
                if started and started >= year_start:
                    self.year_hours[vid] += h
                if rating:
                    self.ratings[vid].append(rating)
                if resident_id:
                    self.served[vid].add(resident_id)
            elif status == "no_show":
                self.no_show[vid] += 1
            if status in ("assigned", "done"):
                self.booked[(day, slot)].add(vid)
                self.week_hours[(vid, _monday(day))] += hours if status == "done" and hours else need_hours
        self.by_key: dict[str, list[PoolEntry]] = defaultdict(list)
        for e in self.entries:
            done, missed, rates = self.done.get(e.id, 0), self.no_show.get(e.id, 0), self.ratings.get(e.id, [])
            parts = {
                "fairness": 1.0 - min(self.recent_hours.get(e.id, 0.0) / 20.0, 1.0),
                "reliability": (done + 2) / (done + missed + 2),
                "rating": (sum(rates) + 8) / (len(rates) + 2) / 5,
                "party": (
                    min(max(e.target - self.year_hours.get(e.id, 0.0), 0.0) / e.target, 1.0)
                    if e.party_member and e.target > 0
                    else 0.0
                ),
            }
            e.static = {k: round(WEIGHTS[k] * v, 1) for k, v in parts.items()}
            e.static_total = sum(e.static.values())
            for key in e.availability:
                self.by_key[key].append(e)
        self._build_arrays()

    def _build_arrays(self) -> None:
        """The pool as numpy arrays, one row per entry, for scoring every
        volunteer of a need at once (``totals_at``). numpy is imported here,
        on first use, not when the app starts."""
        import numpy as np

        es, n = self.entries, len(self.entries)
        self._index = {e.id: i for i, e in enumerate(es)}
        self._active = np.array([e.status == "active" for e in es], dtype=bool)
        # A volunteer is a minor on ``day`` while day < 18th birthday (29 Feb: 1 Mar), as age_on counts.
        self._adult_from = np.array(
            [_eighteenth(e.birth_date) if e.birth_date and not e.guardian_ok else 0 for e in es], dtype=np.int64
        )
        self._limit = np.array([e.weekly_limit for e in es], dtype=float)
        self._static_total = np.array([e.static_total for e in es], dtype=float)
        codes = sorted({k for e in es for k in e.skills})
        self._skill_col = {k: j for j, k in enumerate(codes)}
        self._skills = np.zeros((n, max(len(codes), 1)), dtype=np.uint8)
        for i, e in enumerate(es):
            for k in e.skills:
                self._skills[i, self._skill_col[k]] = 1
        self._grid_code: dict[str, int] = {}
        self._estate_code: dict[str, int] = {}
        self._grid = np.array([self._grid_code.setdefault(e.grid, len(self._grid_code)) for e in es], dtype=np.int64)
        self._estate = np.array(
            [self._estate_code.setdefault(e.estate, len(self._estate_code)) for e in es], dtype=np.int64
        )
        self._number_rank = np.empty(n, dtype=np.int64)
        self._number_rank[sorted(range(n), key=lambda i: es[i].number)] = np.arange(n)
        key_rows: dict[str, list[int]] = defaultdict(list)  # by_key's lists as rows, in the same order
        unavailable: dict[date, list[int]] = defaultdict(list)
        for i, e in enumerate(es):
            for key in e.availability:
                key_rows[key].append(i)
            for d in e.unavailable:
                unavailable[d].append(i)
        self._key_rows = {k: np.array(v, dtype=np.int64) for k, v in key_rows.items()}
        self._unavailable = {d: np.array(v, dtype=np.int64) for d, v in unavailable.items()}
        served: dict[uuid.UUID, list[int]] = defaultdict(list)
        for vid, residents in self.served.items():
            if vid in self._index:
                for r in residents:
                    served[r].append(self._index[vid])
        self._served_by = {r: np.array(v, dtype=np.int64) for r, v in served.items()}
        self._week_cache: dict[date, np.ndarray] = {}
        # Why each volunteer is out, as label ids: the status and weekly-limit labels are per entry.
        self._labels: list[str] = []
        self._label_id: dict[str, int] = {}
        status = {x: self._label(f"{VOLUNTEER_STATUSES.get(x, x)}，不派单") for x in {e.status for e in es}}
        full = {x: self._label(f"本周已满 {x:g} 小时") for x in {e.weekly_limit for e in es}}
        self._status_label = np.array([status[e.status] for e in es], dtype=np.int64)
        self._full_label = np.array([full[e.weekly_limit] for e in es], dtype=np.int64)

    def _label(self, text: str) -> int:
        if text not in self._label_id:
            self._label_id[text] = len(self._labels)
            self._labels.append(text)
        return self._label_id[text]

    def book(self, volunteer_id: uuid.UUID, day: date, slot: str, hours: float) -> None:
        """Count an assignment made after loading (the hard rules see it)."""
        self.booked[(day, slot)].add(volunteer_id)
        self.week_hours[(volunteer_id, _monday(day))] += hours
        self._week_cache.pop(_monday(day), None)

    def _week(self, week: date) -> np.ndarray:
        """Hours already booked in ``week``, one value per entry."""
        import numpy as np

        if week not in self._week_cache:
            v = np.zeros(len(self.entries))
            for (vid, w), h in self.week_hours.items():
                if w == week and vid in self._index:
                    v[self._index[vid]] = h
            self._week_cache[week] = v
        return self._week_cache[week]

    def _rows(self, ids: Iterable[uuid.UUID]) -> list[int]:
        return [self._index[v] for v in ids if v in self._index]

    def _hard_rules(self, need: NeedRow, day: date) -> np.ndarray:
        """Per entry, the label id of the first hard rule that excludes it
        on this occurrence (the order of ``score``), or -1."""
        import numpy as np

        n = len(self.entries)
        out = np.full(n, -1, dtype=np.int64)
        busy = np.zeros(n, dtype=bool)
        busy[self._rows(self.booked.get((day, need.slot), ()))] = True
        full = self._week(_monday(day)) + need.hours > self._limit + 1e-9
        out[full] = self._full_label[full]
        out[busy] = self._label("当时已有派单")
        away = np.ones(n, dtype=bool)
        away[self._key_rows.get(f"{day.isoweekday()}{need.slot}", [])] = False
        away[self._unavailable.get(day, [])] = True
        out[away] = self._label(f"{WEEKDAYS[day.isoweekday()]}{SLOTS[need.slot]}没空")
        out[day.toordinal() < self._adult_from] = self._label("未满 18 周岁，缺监护人同意")
        out[~self._active] = self._status_label[~self._active]
        return out

    def totals_at(self, need: NeedRow, day: date, excluded: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Every eligible volunteer for one occurrence as arrays (entry rows,
        totals), best first: ``quick_total`` over whole arrays, the same
        floating-point operations in the same order and Python's rounding, so
        the totals and the order are identical to scoring pair by pair."""
        import numpy as np

        rules = self._hard_rules(need, day) if excluded is None else excluded
        rows = self._key_rows.get(f"{day.isoweekday()}{need.slot}")
        if rows is None or not len(rows):
            return np.zeros(0, dtype=np.int64), np.zeros(0)
        rows = rows[rules[rows] < 0]
        wanted = set(need.skills)
        if wanted:
            cols = [self._skill_col[k] for k in wanted if k in self._skill_col]
            # numpy's stubs want arrays in ix_; a list of column numbers is what it documents too
            have = self._skills[np.ix_(rows, cols)].sum(axis=1) if cols else np.zeros(len(rows))  # type: ignore[arg-type]
            skill = have.astype(float) / len(wanted)
        else:
            skill = np.ones(len(rows))
        avail = np.ones(len(rows))
        if need.weekly:
            away = np.zeros(len(self.entries), dtype=np.int64)
            for i in range(4):
                away[self._unavailable.get(day + timedelta(days=7 * i), [])] += 1
            avail = (4 - away[rows]).astype(float) / 4
        near = np.full(len(rows), 0.3)
        if need.estate and need.estate in self._estate_code:
            near[self._estate[rows] == self._estate_code[need.estate]] = 0.7
        if need.grid and need.grid in self._grid_code:
            near[self._grid[rows] == self._grid_code[need.grid]] = 1.0
        cont = np.zeros(len(rows))
        if need.resident_id and need.resident_id in self._served_by:
            mark = np.zeros(len(self.entries), dtype=bool)
            mark[self._served_by[need.resident_id]] = True
            cont[mark[rows]] = 1.0
        raw = (
            WEIGHTS["skill"] * skill
            + WEIGHTS["availability"] * avail
            + WEIGHTS["nearness"] * near
            + WEIGHTS["continuity"] * cont
            + self._static_total[rows]
        )
        totals = _round1(raw)
        keep = totals > 0
        rows, totals = rows[keep], totals[keep]
        order = np.lexsort((self._number_rank[rows], -totals))
        return rows[order], totals[order]

    def score(self, e: PoolEntry, need: NeedRow, day: date, slot: str) -> tuple[float, dict[str, float], str | None]:
        """(total, parts, exclusion reason or None) of one volunteer for one occurrence."""
        if e.status != "active":
            return 0.0, {}, f"{VOLUNTEER_STATUSES.get(e.status, e.status)}，不派单"
        if e.birth_date and age_on(e.birth_date, day) < 18 and not e.guardian_ok:
            return 0.0, {}, "未满 18 周岁，缺监护人同意"
        key = f"{day.isoweekday()}{slot}"
        if key not in e.availability or day in e.unavailable:
            return 0.0, {}, f"{WEEKDAYS[day.isoweekday()]}{SLOTS[slot]}没空"
        if e.id in self.booked.get((day, slot), ()):
            return 0.0, {}, "当时已有派单"
        if self.week_hours.get((e.id, _monday(day)), 0.0) + need.hours > e.weekly_limit + 1e-9:
            return 0.0, {}, f"本周已满 {e.weekly_limit:g} 小时"
        wanted = set(need.skills)
        parts = {
            "skill": len(wanted & e.skills) / len(wanted) if wanted else 1.0,
            "availability": 1.0,
            "nearness": 1.0
            if need.grid and e.grid == need.grid
            else 0.7
            if need.estate and e.estate == need.estate
            else 0.3,
            "continuity": 1.0 if need.resident_id and need.resident_id in self.served.get(e.id, ()) else 0.0,
        }
        if need.weekly:  # how many of the next four occurrences the volunteer can take
            nxt = [day + timedelta(days=7 * i) for i in range(4)]
            parts["availability"] = sum(1 for d in nxt if d not in e.unavailable) / 4
        weighted = {k: round(WEIGHTS[k] * v, 1) for k, v in parts.items()}
        weighted.update(e.static)
        return round(sum(weighted.values()), 1), weighted, None

    def quick_total(
        self, e: PoolEntry, need: NeedRow, wanted: set[str], day: date, slot: str, booked: set[uuid.UUID], week: date
    ) -> float | None:
        """The total only, or None when a hard rule excludes; same rules and
        weights as ``score``. The pair-by-pair reference that ``totals_at``
        computes over whole arrays (tests/services/test_volunteer_scoring.py
        holds them identical); ranking and planning use ``totals_at``."""
        if e.status != "active" or day in e.unavailable or e.id in booked:
            return None
        if e.birth_date and not e.guardian_ok and age_on(e.birth_date, day) < 18:
            return None
        if self.week_hours.get((e.id, week), 0.0) + need.hours > e.weekly_limit + 1e-9:
            return None
        skill = len(wanted & e.skills) / len(wanted) if wanted else 1.0
        near = 1.0 if need.grid and e.grid == need.grid else 0.7 if need.estate and e.estate == need.estate else 0.3
        cont = 1.0 if need.resident_id and need.resident_id in self.served.get(e.id, ()) else 0.0
        avail = 1.0
        if need.weekly and e.unavailable:
            avail = sum(1 for i in range(4) if day + timedelta(days=7 * i) not in e.unavailable) / 4
        return round(
            WEIGHTS["skill"] * skill
            + WEIGHTS["availability"] * avail
            + WEIGHTS["nearness"] * near
            + WEIGHTS["continuity"] * cont
            + e.static_total,
            1,
        )

    def candidates_at(self, need: NeedRow, day: date, limit: int | None = None) -> list[tuple[float, PoolEntry]]:
        """Every eligible volunteer for one occurrence with their total, best
        first (the first ``limit`` only when given)."""
        rows, totals = self.totals_at(need, day)
        rows, totals = rows[:limit], totals[:limit]
        es = self.entries
        return [(t, es[i]) for t, i in zip(totals.tolist(), rows.tolist(), strict=True)]

    def reasons(self, e: PoolEntry, need: NeedRow, parts: dict[str, float]) -> list[str]:
        out = []
        have = [self.skill_names.get(k, k) for k in need.skills if k in e.skills]
        if have:
            out.append("会" + "、".join(have))
        elif need.skills:
            out.append("技能不完全对口")
        if parts.get("nearness", 0) >= WEIGHTS["nearness"]:
            out.append("同网格")
        elif parts.get("nearness", 0) >= 0.7 * WEIGHTS["nearness"]:
            out.append("同小区")
        if parts.get("continuity"):
            out.append("服务过这位居民")
        recent = self.recent_hours.get(e.id, 0.0)
        out.append(f"近 30 天服务 {recent:g} 小时")
        if self.no_show.get(e.id):
            out.append(f"爽约 {self.no_show[e.id]} 次")
        if parts.get("party"):
            out.append(f"在职党员，今年还差 {max(e.target - self.year_hours.get(e.id, 0.0), 0):g} 小时")
        return out

    def rank(self, need: NeedRow, day: date | None = None, limit: int = 50) -> Ranking:
        """The best candidates with their score parts and reasons, and why the
        others are out: every excluded volunteer who has a wanted skill is
        listed by name; the rest are only counted."""
        import numpy as np

        day = day or need.day
        rules = self._hard_rules(need, day)
        rows, totals = self.totals_at(need, day, rules)
        eligible = [(t, self.entries[i]) for t, i in zip(totals[:limit].tolist(), rows[:limit].tolist(), strict=True)]
        out = np.ones(len(self.entries), dtype=bool)
        out[rows] = False
        rules = np.where(out & (rules < 0), self._label("不可派"), rules)
        named = out.copy()
        count_as = rules.copy()
        away = self._label_id.get(f"{WEEKDAYS[day.isoweekday()]}{SLOTS[need.slot]}没空", -2)
        count_as[rules == away] = self._label("时间不合适")
        cols = [self._skill_col[k] for k in set(need.skills) if k in self._skill_col]
        if need.skills:
            mismatch = out & ~(self._skills[:, cols].any(axis=1) if cols else np.zeros(len(out), dtype=bool))
            named &= ~mismatch
            count_as[mismatch] = self._label("技能不对口且不可派")
        ids, first, n = np.unique(count_as[out], return_index=True, return_counts=True)
        counts = {self._labels[ids[k]]: int(n[k]) for k in np.argsort(first, kind="stable")}
        labels = self._labels
        excluded = ExcludedList(
            self.entries, np.flatnonzero(named).tolist(), [labels[r] for r in rules[named].tolist()]
        )
        top = []
        for _quick, e in eligible[:limit]:
            total, parts, _why = self.score(e, need, day, need.slot)
            top.append(Candidate(e.id, e.number, e.name, e.phone, total, parts, self.reasons(e, need, parts)))
        top.sort(key=lambda c: (-c.score, c.number))
        return Ranking(need.id, day, need.slot, top, excluded, counts, len(rows))


def _monday(d: date) -> date:
    return d - timedelta(days=d.isoweekday() - 1)


def _eighteenth(birth: date) -> int:
    """The ordinal of the first day ``age_on`` counts 18 years (29 Feb → 1 Mar)."""
    try:
        return birth.replace(year=birth.year + 18).toordinal()
    except ValueError:
        return date(birth.year + 18, 3, 1).toordinal()


def _round1(x: np.ndarray) -> np.ndarray:
    """Python's ``round(v, 1)`` over an array: numpy's rint(10·v)/10 agrees
    except within a hair of a half tenth, where Python's own round decides."""
    import numpy as np

    y = x * 10
    out = np.rint(y) / 10
    near_half = np.abs(y - np.floor(y) - 0.5) < 1e-6
    for k in np.flatnonzero(near_half).tolist():
        out[k] = round(float(x[k]), 1)
    return out


# ------------------------------------------------------------------ dispatch


def assign(
    db: Database,
    actor: Actor,
    need_id: uuid.UUID,
    volunteer_ids: list[uuid.UUID],
    day: date | None = None,
    scores: dict[uuid.UUID, float] | None = None,
) -> list[uuid.UUID]:
    """派单: send volunteers to a need on a date; the hard rules are checked again."""
    actor.require("desk", "派单")
    need = get_need(db, need_id)
    if need.status not in ("open", "serving"):
        raise ValidationError("status", f"这条需求当前是“{NEED_STATUSES[need.status]}”，请先接单。")
    day = day or need.day
    if day not in occurrences(need, day, day):
        raise ValidationError("day", "这一天没有这项服务。")
    if not volunteer_ids:
        raise ValidationError("volunteers", "请选择志愿者。")
    pool = Pool(db)
    by_id = {e.id: e for e in pool.entries}
    made = []
    with db.session() as s:
        for vid in volunteer_ids:
            e = by_id.get(vid)
            if e is None:
                raise ValidationError("volunteers", "找不到这位志愿者。")
            total, _parts, why = pool.score(e, need, day, need.slot)
            if why:
                raise ValidationError("volunteers", f"{e.name}（{e.number}）：{why}。")
            a = Assignment(
                need_id=need.id,
                volunteer_id=vid,
                day=day,
                slot=need.slot,
                status="assigned",
                assigned_at=utcnow(),
                assigned_by=actor.display_name,
                score=(scores or {}).get(vid, total),
            )
            s.add(a)
            s.flush()
            pool.book(vid, day, need.slot, need.hours)
            made.append(a.id)
        n = s.get(Need, need.id)
        assert n is not None
        if n.status == "open":
            n.status = "serving"
        s.add(
            NeedEvent(
                need_id=n.id,
                at=utcnow(),
                kind="assign",
                actor_name=actor.display_name,
                note="、".join(by_id[v].name for v in volunteer_ids),
            )
        )
        audit.record(s, "need_assign", actor, target_type="need", target_id=n.id, volunteers=len(volunteer_ids))
    return made


def complete(
    db: Database,
    actor: Actor,
    assignment_id: uuid.UUID,
    started: datetime,
    ended: datetime,
    hours: float | None = None,
    rating: int | None = None,
    comment: str = "",
    no_show: bool = False,
    today: date | None = None,
) -> bool:
    """评单: record what happened. Returns True when the record is late
    (entered more than 10 working days after the service)."""
    actor.require("desk", "记录服务时长")
    today = today or date.today()
    cal = workdays.load(db)  # before the write transaction: it may seed the calendar
    with db.session() as s:
        a = s.get(Assignment, assignment_id)
        if a is None or a.deleted:
            raise ValidationError("assignment", "找不到这条派单。")
        if a.status != "assigned":
            raise ValidationError("status", "这条派单已经记录过了。")
        late = cal.working_days_between(a.day, today) > LATE_WORKING_DAYS
        now = utcnow()
        if no_show:
            a.status, a.recorded_at, a.recorded_by, a.late = "no_show", now, actor.display_name, late
            a.comment = (comment or "").strip()[:500] or None
            audit.record(s, "assignment_no_show", actor, target_type="assignment", target_id=a.id)
            return late
        if a.day > today:
            raise ValidationError("started", "服务还没有发生，不能登记时长。")
        if ended <= started:
            raise ValidationError("ended", "结束时间应晚于开始时间。")
        if started.date() != a.day:
            raise ValidationError("started", f"服务日期应是派单的日期 {a.day:%Y-%m-%d}。")
        given = (ended - started).total_seconds() / 3600
        hours = round(given, 2) if hours is None else float(hours)
        if hours <= 0:
            raise ValidationError("hours", "服务时长应大于 0。")
        if hours > given + 1e-9:
            raise ValidationError("hours", f"服务时长不能超过实际服务的时间（{given:g} 小时）。")
        if rating is not None and rating not in (1, 2, 3, 4, 5):
            raise ValidationError("rating", "评价应为 1 到 5 星。")
        start_utc, end_utc = to_utc(started), to_utc(ended)
        clash = s.scalar(
            select(Assignment).where(
                Assignment.volunteer_id == a.volunteer_id,
                Assignment.id != a.id,
                Assignment.status == "done",
                Assignment.started_at < end_utc,
                Assignment.ended_at > start_utc,
            )
        )
        if clash is not None:
            raise ValidationError("started", "这段时间与这位志愿者已记录的另一次服务重叠。")
        a.started_at, a.ended_at, a.hours = start_utc, end_utc, round(hours, 2)
        a.rating, a.comment = rating, (comment or "").strip()[:500] or None
        a.status, a.recorded_at, a.recorded_by, a.late = "done", now, actor.display_name, late
        n = s.get(Need, a.need_id)
        if n is not None and not n.weekly:
            left = s.scalar(
                select(func.count())
                .select_from(Assignment)
                .where(Assignment.need_id == n.id, Assignment.status == "assigned")
            )
            if not left and n.status == "serving":
                n.status = "done"
                s.add(NeedEvent(need_id=n.id, at=now, kind="complete", actor_name=actor.display_name))
        audit.record(s, "assignment_done", actor, target_type="assignment", target_id=a.id)
        return late


@dataclass(frozen=True)
class AssignmentRow:
    id: uuid.UUID
    need_id: uuid.UUID
    need_title: str
    volunteer_id: uuid.UUID
    volunteer_number: str
    volunteer_name: str
    volunteer_phone: str
    resident_name: str
    place: str
    day: date
    slot: str
    status: str
    hours: float | None
    rating: int | None
    late: bool
    started_at: datetime | None
    ended_at: datetime | None
    skills: list[str]


def assignments(
    db: Database,
    *,
    need_id: uuid.UUID | None = None,
    volunteer_id: uuid.UUID | None = None,
    status: str = "",
    start: date | None = None,
    end: date | None = None,
) -> list[AssignmentRow]:
    q = (
        select(Assignment, Need, Volunteer, Resident.name)
        .join(Need, Need.id == Assignment.need_id)
        .join(Volunteer, Volunteer.id == Assignment.volunteer_id)
        .outerjoin(Resident, Resident.id == Need.resident_id)
    )
    if need_id:
        q = q.where(Assignment.need_id == need_id)
    if volunteer_id:
        q = q.where(Assignment.volunteer_id == volunteer_id)
    if status:
        q = q.where(Assignment.status == status)
    if start:
        q = q.where(Assignment.day >= start)
    if end:
        q = q.where(Assignment.day <= end)
    with db.session() as s:
        return [
            AssignmentRow(
                a.id,
                n.id,
                n.title,
                v.id,
                v.number,
                v.name,
                v.phone or "",
                rname or "（站点活动）",
                n.place or "",
                a.day,
                a.slot,
                a.status,
                a.hours,
                a.rating,
                a.late,
                to_local(a.started_at),
                to_local(a.ended_at),
                list(n.skills or []),
            )
            for a, n, v, rname in s.execute(q.order_by(Assignment.day, Assignment.slot))
        ]


@dataclass(frozen=True)
class HoursLine:
    volunteer_number: str
    volunteer_name: str
    party_member: bool
    employer: str
    target: float
    hours: float
    services: int


def hours_ledger(db: Database, start: date, end: date) -> tuple[list[HoursLine], dict[str, float]]:
    """Hours by volunteer and by skill for a period."""
    names = skills(db)
    rows = assignments(db, status="done", start=start, end=end)
    by_vol: dict[uuid.UUID, list[AssignmentRow]] = defaultdict(list)
    by_skill: dict[str, float] = defaultdict(float)
    for r in rows:
        by_vol[r.volunteer_id].append(r)
        for k in r.skills or ["(无)"]:
            by_skill[names.get(k, k)] += r.hours or 0
    with db.session() as s:
        vols = {v.id: v for v in s.scalars(select(Volunteer).where(Volunteer.id.in_(list(by_vol))))}
    lines = [
        HoursLine(
            vols[vid].number,
            vols[vid].name,
            vols[vid].party_member,
            vols[vid].employer or "",
            vols[vid].yearly_target_hours,
            round(sum(x.hours or 0 for x in rs), 2),
            len(rs),
        )
        for vid, rs in by_vol.items()
    ]
    lines.sort(key=lambda x: x.volunteer_number)
    return lines, dict(sorted(by_skill.items(), key=lambda kv: -kv[1]))


@dataclass(frozen=True)
class ServiceRecord:
    day: date
    title: str
    content: str
    place: str
    hours: float


@dataclass(frozen=True)
class CertificateData:
    volunteer_number: str
    volunteer_name: str
    start: date
    end: date
    records: list[ServiceRecord]
    total_hours: float
    qr: str


def certificate_data(db: Database, actor: Actor, volunteer_id: uuid.UUID, start: date, end: date) -> CertificateData:
    """志愿服务记录证明 for a period: only hours actually given and recorded."""
    actor.require("desk", "出具志愿服务记录证明")
    names = skills(db)
    with db.session() as s:
        v = s.get(Volunteer, volunteer_id)
        if v is None or v.deleted:
            raise ValidationError("volunteer", "找不到这位志愿者。")
        number, name = v.number, v.name
    rows = assignments(db, volunteer_id=volunteer_id, status="done", start=start, end=end)
    if not rows:
        raise ValidationError("period", "这段时间没有已记录的服务，不能出具证明。")
    with db.session() as s:  # what was done: the need's own description, else the skills used
        said = dict(s.execute(select(Need.id, Need.description).where(Need.id.in_({r.need_id for r in rows}))).all())
    recs = [
        ServiceRecord(
            r.day,
            r.need_title,
            (said.get(r.need_id) or "").strip() or "、".join(names.get(k, k) for k in r.skills) or r.need_title,
            r.place,
            r.hours or 0,
        )
        for r in rows
    ]
    total = round(sum(r.hours for r in recs), 2)
    with db.session() as s:
        audit.record(s, "volunteer_certificate", actor, target_type="volunteer", target_id=volunteer_id)
    return CertificateData(
        number,
        name,
        start,
        end,
        recs,
        total,
        f"ZY:{number}:{start:%Y%m%d}:{end:%Y%m%d}:{_check(volunteer_id, start, end, total)}",
    )


@dataclass(frozen=True)
class IssuedVolunteerCertificate:
    data: CertificateData
    serial: str  # 〔2026〕幸福志证字第0001号
    doc_type: str  # 居民身份证 …
    doc_masked: str
    handler_name: str


def issue_certificate(
    db: Database,
    actor: Actor,
    volunteer_id: uuid.UUID,
    start: date,
    end: date,
    glyphs: Callable[[str], list[str]] | None = None,
) -> IssuedVolunteerCertificate:
    """出具 a 志愿服务记录证明: the records, then (once the certificate font
    can print every character) a number and a seal-register line."""
    from db.models import SealLog
    from desktop.services import accounts
    from desktop.services.certificates import MissingGlyphs, serial_prefix
    from desktop.services.idnumbers import mask
    from desktop.services.vocab import DOC_TYPES

    data = certificate_data(db, actor, volunteer_id, start, end)
    with db.session() as s:
        v = s.get(Volunteer, volunteer_id)
        assert v is not None
        doc_type = "ric"
        if v.resident_id:
            r = s.get(Resident, v.resident_id)
            doc_type = (r.doc_type if r else None) or "ric"
        st = accounts.this_station(s)
        issuer = accounts.info_of(st).issuer()
        if glyphs is not None:
            missing = glyphs(
                data.volunteer_name + issuer + "".join(x.title + x.content + x.place for x in data.records)
            )
            if missing:
                raise MissingGlyphs(missing)
        now = utcnow()
        year = to_local(now).year
        head = f"〔{year}〕{serial_prefix(st.name)}志证字第"
        taken = (
            s.scalar(
                select(func.count())
                .select_from(SealLog)
                .where(SealLog.origin == st.code, SealLog.serial.like(f"〔{year}〕%志证字第%"))
            )
            or 0
        )
        serial = f"{head}{taken + 1:04d}号"
        s.add(
            SealLog(
                at=now,
                certificate_id=None,
                content=f"志愿服务记录证明（{serial}）",
                seal="村民委员会章" if st.level == "village" else "居民委员会章",
                copies=1,
                approver_name=None,
                handler_name=actor.display_name,
                applicant_name=v.name,
                applicant_phone=v.phone,
                serial=serial,
            )
        )
        audit.record(s, "volunteer_certificate_issue", actor, target_type="volunteer", target_id=volunteer_id)
        return IssuedVolunteerCertificate(
            data, serial, DOC_TYPES.get(doc_type, "居民身份证"), mask(v.doc_number or ""), actor.display_name
        )


def need_description(db: Database, need_id: uuid.UUID) -> str:
    """What the resident asked for, in their words (for the dispatch sheet)."""
    with db.session() as s:
        return (s.scalar(select(Need.description).where(Need.id == need_id)) or "").strip()


def _check(volunteer_id: uuid.UUID, start: date, end: date, total: float) -> str:
    import hashlib

    return hashlib.sha256(f"{volunteer_id}|{start}|{end}|{total:g}".encode()).hexdigest()[:8].upper()


def verify_certificate(db: Database, code: str) -> tuple[bool, str]:
    """Check a scanned 志愿服务记录证明 QR: the hours recorded now for that
    volunteer and period must give the same check value."""
    m = re.match(r"^ZY:(\S+-V\d+):(\d{8}):(\d{8}):([0-9A-F]{8})$", (code or "").strip().upper())
    if not m:
        return False, "无法识别的志愿服务记录证明二维码。"
    number = m.group(1)
    start = datetime.strptime(m.group(2), "%Y%m%d").date()
    end = datetime.strptime(m.group(3), "%Y%m%d").date()
    with db.session() as s:
        v = s.scalar(select(Volunteer).where(Volunteer.number == number))
        if v is None:
            return False, f"查无志愿者 {number}（本站及已同步的站点）。"
        vid, name = v.id, v.name
    total = round(sum(a.hours or 0 for a in assignments(db, volunteer_id=vid, status="done", start=start, end=end)), 2)
    if _check(vid, start, end, total) != m.group(4):
        return False, f"校验不符：{name}（{number}）这段时间的记录与证明不一致，证明可能被改动过。"
    return (
        True,
        f"证明有效：{name}（{number}）{start:%Y年%m月%d日}至{end:%Y年%m月%d日}服务 {total:g} 小时，与记录一致。",
    )
