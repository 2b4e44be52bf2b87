"""Home visits (走访): who is due for a visit, recording visits, and what a
visit found.

Rules:

* **Tiers.** How often a resident is visited depends on their special-group
  tags (``DEFAULT_TIERS``, from the issue and DOMAIN.md's three tiers:
  high-risk weekly, key groups monthly, everyone else quarterly).  A
  supervisor changes a tag's interval for the station (``save_tiers``).
  Tiers are a **per-station** setting, not a hub catalogue: the schedule is
  the station's own workload (its grid workers, its caseload), so one
  station's change must not move another's schedule.  The rows travel up to
  the hub like the station's other records, so the hub computes each
  station's due list with that station's own tiers (``_tier_table``).
* **Households.** A household is visited, not a person: its interval is the
  shortest among its live, tagged members (a resident without a household is
  a household of one).  A visit is recorded against the resident on the list
  and the household they live in.
* **Due.** The next visit is due ``interval`` days after the last visit at
  which someone was met; a household never visited is due now.  The week's
  list holds every household due by the end of this week (Sunday); one due
  before today is overdue and comes first within its grid.
* **Not at home.** A 不在家 attempt is recorded as its own outcome and shown
  on the list, but it does **not** reset the due date: nobody was seen, so
  the household stays due (and becomes overdue) until a visit meets someone.
* **Bad input.** A visit in the future, or for a resident who moved out or
  died (or whose record was merged away), is refused with a message and
  nothing is saved.
"""

from __future__ import annotations

import re
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from collections.abc import Callable, Collection
from functools import lru_cache
from itertools import groupby, repeat
from operator import itemgetter
from typing import Any

from sqlalchemy import String, func, select, type_coerce, union
from sqlalchemy.orm import Session

from db.clock import utcnow
from db.engine import Database
from db.errors import ValidationError
from db.models import LocalState, Resident, ResidentTag, Visit, VisitTier
from desktop.services import audit
from desktop.services.context import Actor
from desktop.services.vocab import SPECIAL_GROUPS

OUTCOMES = {"met": "见到", "not_home": "不在家"}
# interval in days → label; 0 = not on the visit schedule
TIER_CHOICES = {7: "每周", 14: "每两周", 30: "每月", 91: "每季度", 0: "不列入走访"}
QUARTERLY = 91
# 高风险 weekly, 重点 monthly, the rest quarterly (issue 17, DOMAIN.md "Home visits")
DEFAULT_TIERS: dict[str, int] = {
    **{tag: QUARTERLY for tag in SPECIAL_GROUPS},
    "独居": 7,
    "空巢": 7,
    "留守老人": 7,
    "特困": 7,
    "低保": 30,
    "残疾人": 30,
    "失能失智": 30,
    "困境儿童": 30,
    "计生特殊家庭": 30,
}
MAX_TEXT = 1000
MAX_BACKDATE_DAYS = 366  # a visit entered later at the desk: within a year


def tier_label(days: int) -> str:
    label = TIER_CHOICES.get(days)  # the usual ones without formatting a default
    return label if label is not None else f"每 {days} 天"


def tier_id(station: str, tag: str) -> uuid.UUID:
    """One record per station and tag: two supervisors' edits of one tag
    (at the station and at the hub) merge instead of adding a second row."""
    return uuid.uuid5(uuid.NAMESPACE_URL, f"station-desk:visit_tiers:{station}:{tag}")


def _station_code(s: Session) -> str:
    code = s.scalar(select(LocalState.station_code).where(LocalState.id == 1))
    if not code:
        raise ValidationError("station", "站点尚未建立。")
    return code


def _tier_table(s: Session) -> dict[str, dict[str, int]]:
    """Station code → tag → interval, for the stations that changed a tier."""
    out: dict[str, dict[str, int]] = defaultdict(lambda: dict(DEFAULT_TIERS))
    for origin, tag, days in s.execute(
        select(VisitTier.origin, VisitTier.tag, VisitTier.days).where(VisitTier.deleted.is_(False))
    ):
        out[origin][tag] = days
    return out


def tiers(db: Database) -> dict[str, int]:
    """This station's interval for every special-group tag."""
    with db.session() as s:
        return dict(_tier_table(s)[_station_code(s)])


def save_tiers(db: Database, actor: Actor, changes: dict[str, int]) -> dict[str, int]:
    """A supervisor sets the station's interval for some tags; returns all."""
    actor.require("supervisor", "修改走访频次")
    for tag, days in changes.items():
        if tag not in SPECIAL_GROUPS:
            raise ValidationError("tag", f"“{tag}”不是特殊群体标签。")
        if days not in TIER_CHOICES:
            raise ValidationError("days", "走访频次只能选每周、每两周、每月、每季度或不列入走访。")
    with db.session() as s:
        code = _station_code(s)
        current = _tier_table(s)[code]
        changed = []
        for tag, days in changes.items():
            if current.get(tag) == days and s.get(VisitTier, tier_id(code, tag)) is not None:
                continue
            row = s.get(VisitTier, tier_id(code, tag))
            if row is None:
                s.add(VisitTier(id=tier_id(code, tag), tag=tag, days=days, changed_by=actor.display_name))
            elif row.days != days:
                row.days, row.changed_by = days, actor.display_name
            else:
                continue
            current[tag] = days
            changed.append(tag)
        if changed:
            audit.record(s, "visit_tiers", actor, tags=len(changed))
        return dict(current)


# ------------------------------------------------------------------ the schedule

_NUM = re.compile(r"(\d+)")


@lru_cache(maxsize=8192)
def _natural(text: str | None) -> tuple[Any, ...]:
    """'12栋' after '2栋': digits compare as numbers."""
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in _NUM.split(text or "") if p)


def route_key(
    estate: str | None,
    building: str | None,
    unit: str | None,
    room: str | None,
    village_group: str | None,
    house_number: str | None,
    address: str | None,
) -> tuple[Any, ...]:
    """The order a worker walks: estate, building, unit, room (a village:
    group and house number), then the written address."""
    return tuple(_natural(x) for x in (village_group, estate, building, unit, room, house_number, address))


@dataclass
class DueRow:
    key: uuid.UUID  # the household, or the resident who has none
    resident_id: uuid.UUID  # the member on the list (the one with the shortest interval)
    household_id: uuid.UUID | None
    origin: str
    names: str  # the tagged members, 、-joined
    tags: tuple[str, ...]
    grid: str
    address: str
    phone: str
    days: int
    last_met: date | None = None
    last_try: date | None = None  # the latest 不在家 after the last visit
    next_due: date | None = None  # None: never visited, due now
    overdue: bool = False
    parts: tuple[str | None, ...] = field(default=(), repr=False)  # the address fields route_key takes

    @property
    def route(self) -> tuple[Any, ...]:
        """The walking order key (computed when sorting: only the rows shown need it)."""
        return route_key(*self.parts) if self.parts else ()

    @property
    def tier(self) -> str:
        return tier_label(self.days)

    def due_text(self, today: date) -> str:
        if self.next_due is None:
            return "从未走访"
        if self.next_due < today:
            return f"已逾期 {(today - self.next_due).days} 天"
        if self.next_due == today:
            return "今天到期"
        return f"{self.next_due:%m-%d} 到期"


def _live_residents() -> Any:
    return (
        Resident.deleted.is_(False),
        Resident.moved_out.is_(False),
        Resident.deceased.is_(False),
        Resident.merged_into_id.is_(None),
    )


def _raw(col: Any) -> Any:
    """An id column as the driver returns it (SQLite: the 32-hex text the
    Uuid type and the sync write, lower case; PostgreSQL: a UUID): the
    schedule reads tens of thousands of ids, matches them with each other
    and makes a UUID only of those a caller sees."""
    return type_coerce(col, String).label(f"raw_{col.table.name}_{col.key}")


def _fetch(s: Session, q: Any) -> Any:
    """The rows of ``q`` as the driver's plain tuples.  The schedule reads
    tens of thousands of rows once; SQLAlchemy's Row objects (and the
    garbage collector's passes over so many live objects) cost more than
    the reading.  Only for columns without a result type to apply (``_raw``
    ids, text, counts)."""
    with s.connection().execute(q) as res:
        return res.cursor.fetchall()


def _uid(x: Any) -> Any:
    """A raw id as a UUID (None stays None)."""
    if x is None or isinstance(x, uuid.UUID):
        return x
    return uuid.UUID(int=int(x, 16))


def _day(x: Any) -> Any:
    """A raw date (SQLite: ISO text) as a date (None stays None)."""
    return date.fromisoformat(x) if isinstance(x, str) else x


def _households(s: Session, origins: Collection[str] | None = None) -> dict[Any, DueRow]:
    """Every household on the visit schedule (interval > 0), without visits,
    by its raw key (the household's id, or the resident's who has none, as
    the driver returns it); ``origins``: only the residents of these
    stations (a hub's report)."""
    table = _tier_table(s)
    q = (
        select(
            _raw(Resident.id),
            Resident.origin,
            Resident.name,
            _raw(Resident.household_id),
            Resident.grid,
            Resident.estate,
            Resident.building,
            Resident.unit,
            Resident.room,
            Resident.village_group,
            Resident.house_number,
            Resident.address_text,
            Resident.phone,
            ResidentTag.tag,
        )
        .join(ResidentTag, ResidentTag.resident_id == Resident.id)
        .where(*_live_residents(), ResidentTag.deleted.is_(False))
        # by id (raw ids order as the UUIDs do: lower-case 32-hex text on
        # SQLite, UUIDs on PostgreSQL): a resident's tags come together, and
        # the members are taken by (interval, id)
        .order_by(Resident.id)
    )
    if origins is not None:
        q = q.where(Resident.origin.in_(list(origins)))
    # a station's interval by tag, for the tags on the schedule (a tag not
    # in it: not a special group, interval 0)
    days_by: dict[str, dict[str, int]] = {}
    # interval → [(a member's row, their tags)], in id order
    on_schedule: dict[int, list[tuple[Any, tuple[str, ...]]]] = defaultdict(list)
    for _rid, group in groupby(_fetch(s, q), itemgetter(0)):
        person = list(group)  # the resident's rows, one per tag
        r = person[0]
        days_of = days_by.get(r[1])
        if days_of is None:
            days_of = days_by[r[1]] = {t: n for t, n in table[r[1]].items() if t in DEFAULT_TIERS}
        tags = tuple(x[13] for x in person)  # a tuple: one object fewer for the collector to follow
        days = min((n for n in map(days_of.get, tags, repeat(0)) if n), default=0)
        if days:
            on_schedule[days].append((r, tags))
    out: dict[Any, DueRow] = {}
    for interval, r, tags in ((n, r, tags) for n in sorted(on_schedule) for r, tags in on_schedule[n]):
        rid, hid = r[0], r[3]
        key = hid or rid
        d = out.get(key)
        if d is None:
            h = _uid(hid)
            u = _uid(rid)
            out[key] = DueRow(
                h or u,
                u,
                h,
                r[1],
                r[2],  # the names of the members on the schedule, 、-joined
                tuple(sorted(tags)),
                r[4] or "",
                r[11] or "",
                r[12] or "",
                interval,
                parts=(r[5], r[6], r[7], r[8], r[9], r[10], r[11]),
            )
        else:
            d.names += "、" + r[2]
            d.tags = tuple(sorted(set(d.tags) | set(tags)))
            d.phone = d.phone or r[12] or ""
    return out


def _schedule(s: Session, today: date, origins: Collection[str] | None = None) -> dict[Any, DueRow]:
    """``schedule`` by raw household key."""
    rows = _households(s, origins)
    last = (
        select(
            _raw(Visit.household_id), _raw(Visit.resident_id), Visit.outcome, type_coerce(func.max(Visit.day), String)
        )
        .where(Visit.deleted.is_(False), Visit.day <= today)
        .group_by(Visit.household_id, Visit.resident_id, Visit.outcome)
    )
    # the latest day by key, raw (ISO text on SQLite orders as the dates do)
    met: dict[Any, Any] = {}
    tried: dict[Any, Any] = {}
    for hid, rid, outcome, day in _fetch(s, last):
        k = hid or rid
        if k not in rows:
            continue
        bucket = met if outcome == "met" else tried
        b = bucket.get(k)
        if b is None or day > b:
            bucket[k] = day
    for k, d in rows.items():
        m = met.get(k)
        t = tried.get(k)
        d.last_met = _day(m)
        d.last_try = _day(t) if t is not None and (m is None or t > m) else None
        d.next_due = d.last_met + timedelta(days=d.days) if d.last_met else None
        d.overdue = d.next_due is None or d.next_due < today
    return rows


def schedule(db: Database, today: date | None = None, origins: Collection[str] | None = None) -> list[DueRow]:
    """Every household on the schedule with its last visit and next due date."""
    today = today or date.today()
    with db.session() as s:
        return list(_schedule(s, today, origins).values())


def week_end(today: date) -> date:
    return today + timedelta(days=7 - today.isoweekday())


def due_list(db: Database, today: date | None = None, grid: str | None = None) -> list[DueRow]:
    """Households due by the end of this week: by grid, overdue first
    (longest overdue first), then in route order."""
    today = today or date.today()
    end = week_end(today)
    rows = [
        d for d in schedule(db, today) if (d.next_due is None or d.next_due <= end) and (grid is None or d.grid == grid)
    ]
    rows.sort(key=lambda d: (d.grid == "", d.grid, not d.overdue, d.next_due or date.min, d.route))
    return rows


def route_list(db: Database, today: date | None = None, grid: str | None = None) -> list[DueRow]:
    """The week's list in walking order: grid, then address."""
    rows = due_list(db, today, grid)
    rows.sort(key=lambda d: (d.grid == "", d.grid, d.route))
    return rows


def grids(db: Database) -> list[str]:
    with db.session() as s:
        return sorted(g for g in s.scalars(select(Resident.grid).where(Resident.grid.is_not(None)).distinct()) if g)


# ------------------------------------------------------------------ recording


@dataclass
class VisitForm:
    resident_id: uuid.UUID | None = None
    day: date | None = None
    outcome: str = "met"
    met: str = ""  # who was met
    situation: str = ""
    needs: str = ""  # needs found
    visitor_name: str = ""  # empty: the signed-in worker


def _clean(text: str, field_name: str, label: str) -> str:
    text = (text or "").strip()
    if len(text) > MAX_TEXT:
        raise ValidationError(field_name, f"{label}太长（{len(text)} 字），请不超过 {MAX_TEXT} 字。")
    return text


def _visitable(s: Session, resident_id: uuid.UUID | None) -> Resident:
    r = s.get(Resident, resident_id) if resident_id is not None else None
    if r is None or r.deleted:
        if r is not None and r.merged_into_id is not None:
            raise ValidationError("resident", "这位居民的记录已合并到另一条记录，请从列表重新选择。")
        raise ValidationError("resident", "请先选择要走访的居民。")
    if r.deceased:
        raise ValidationError("resident", "这位居民已标记为已故，不能登记走访。如登记有误，请先在“居民”页更正。")
    if r.moved_out:
        raise ValidationError("resident", "这位居民已迁出，不能登记走访。如已迁回，请先在“居民”页更正。")
    return r


def record_visit(db: Database, actor: Actor, f: VisitForm, today: date | None = None) -> uuid.UUID:
    """Record one visit (or a 不在家 attempt); returns its id."""
    actor.require("desk", "登记走访")
    today = today or date.today()
    if f.day is None:
        raise ValidationError("day", "请选择走访日期。")
    if f.day > today:
        raise ValidationError("day", "走访日期不能晚于今天：请在走访之后登记结果。")
    if f.day < today - timedelta(days=MAX_BACKDATE_DAYS):
        raise ValidationError("day", "走访日期早于一年前，请核对日期。")
    if f.outcome not in OUTCOMES:
        raise ValidationError("outcome", "请选择走访结果：见到或不在家。")
    met = " ".join((f.met or "").split())
    if f.outcome == "met" and not met:
        raise ValidationError("met", "请填写见到了谁（如：本人、老伴、女儿）。")
    if len(met) > 64:
        raise ValidationError("met", "“见到”一栏请不超过 64 个字。")
    situation = _clean(f.situation, "situation", "情况")
    needs = _clean(f.needs, "needs", "发现的需求")
    visitor = " ".join((f.visitor_name or "").split()) or actor.display_name
    if len(visitor) > 32:
        raise ValidationError("visitor", "走访人姓名请不超过 32 个字。")
    with db.session() as s:
        r = _visitable(s, f.resident_id)
        v = Visit(
            resident_id=r.id,
            household_id=r.household_id,
            day=f.day,
            outcome=f.outcome,
            visitor_id=actor.account_id if visitor == actor.display_name else None,
            visitor_name=visitor,
            met=met if f.outcome == "met" else (met or None),
            situation=situation or None,
            needs=needs or None,
            recorded_at=utcnow(),
            recorded_by=actor.display_name,
        )
        s.add(v)
        s.flush()
        audit.record(s, "visit_record", actor, target_type="visit", target_id=v.id, outcome=OUTCOMES[f.outcome])
        return v.id


@dataclass(frozen=True)
class VisitRow:
    id: uuid.UUID
    origin: str
    resident_id: uuid.UUID
    household_id: uuid.UUID | None
    resident_name: str
    grid: str
    address: str
    day: date
    outcome: str
    visitor_name: str
    met: str
    situation: str
    needs: str
    need_id: uuid.UUID | None
    matter_id: uuid.UUID | None
    recorded_at: datetime

    @property
    def outcome_label(self) -> str:
        return OUTCOMES.get(self.outcome, self.outcome)

    @property
    def follow_up(self) -> str:
        parts = (["已转志愿服务需求"] if self.need_id else []) + (["已转受理事项"] if self.matter_id else [])
        return "、".join(parts)


def _visit_rows(s: Session, *conds: Any) -> list[VisitRow]:
    # The columns a VisitRow shows, not Visit objects: a month's report reads
    # tens of thousands of visits, and building ORM objects (and decoding
    # their field clocks) took most of its time.
    v = Visit
    q = (
        select(
            v.id,
            v.origin,
            v.resident_id,
            v.household_id,
            Resident.name,
            Resident.grid,
            Resident.address_text,
            v.day,
            v.outcome,
            v.visitor_name,
            v.met,
            v.situation,
            v.needs,
            v.need_id,
            v.matter_id,
            v.recorded_at,
        )
        .join(Resident, Resident.id == v.resident_id)
        .where(v.deleted.is_(False), *conds)
        .order_by(v.day.desc(), v.recorded_at.desc())
    )
    return [
        VisitRow(
            r[0],
            r[1],
            r[2],
            r[3],
            r[4],
            r[5] or "",
            r[6] or "",
            r[7],
            r[8],
            r[9],
            r[10] or "",
            r[11] or "",
            r[12] or "",
            r[13],
            r[14],
            r[15],
        )
        for r in s.execute(q)
    ]


def _between(start: date, end: date, origins: Collection[str] | None) -> list[Any]:
    """The visits made in ``start``..``end`` (by these stations), as
    conditions on Visit: what the report counts and what its drill-down lists."""
    conds = [Visit.day >= start, Visit.day <= end]
    if origins is not None:
        conds.append(Visit.origin.in_(list(origins)))
    return conds


def visits_between(
    db: Database, start: date, end: date, grid: str | None = None, origins: Collection[str] | None = None
) -> list[VisitRow]:
    """Visits (and 不在家 attempts) made in ``start``..``end``, newest first;
    ``origins``: only those recorded by these stations."""
    with db.session() as s:
        conds = _between(start, end, origins) + ([Resident.grid == grid] if grid else [])
        return _visit_rows(s, *conds)


def _visit_counts(
    s: Session, start: date, end: date, origins: Collection[str] | None
) -> list[tuple[Any, str, str, int]]:
    """``visit_counts`` with the household key raw (see ``_raw``)."""
    q = (
        select(_raw(Visit.household_id), _raw(Visit.resident_id), Visit.origin, Visit.outcome, func.count())
        .join(Resident, Resident.id == Visit.resident_id)
        .where(Visit.deleted.is_(False), *_between(start, end, origins))
        .group_by(Visit.household_id, Visit.resident_id, Visit.origin, Visit.outcome)
    )
    return [(hid or rid, origin, outcome, n) for hid, rid, origin, outcome, n in _fetch(s, q)]


def visit_counts(
    db: Database, start: date, end: date, origins: Collection[str] | None = None
) -> list[tuple[uuid.UUID, str, str, int]]:
    """The visits ``visits_between`` lists, counted by the database:
    (household key — the household, or the resident who has none —, origin,
    outcome, count)."""
    with db.session() as s:
        return [(_uid(k), origin, outcome, n) for k, origin, outcome, n in _visit_counts(s, start, end, origins)]


def visits_for(db: Database, resident_id: uuid.UUID, limit: int = 50) -> list[VisitRow]:
    """A resident's visit log: visits to them and to their household."""
    with db.session() as s:
        r = s.get(Resident, resident_id)
        if r is None:
            return []
        cond = Visit.resident_id == resident_id
        if r.household_id is not None:
            cond = cond | (Visit.household_id == r.household_id)
        return _visit_rows(s, cond)[:limit]


# ------------------------------------------------------------------ follow-ups


def _own_visit(s: Session, visit_id: uuid.UUID) -> Visit:
    v = s.get(Visit, visit_id)
    if v is None or v.deleted:
        raise ValidationError("visit", "找不到这条走访记录。")
    code = _station_code(s)
    if v.origin != code:
        raise ValidationError("visit", f"这条走访记录由站点 {v.origin} 登记，只能由该站处理其中的需求。")
    return v


def _not_yet_linked(v: Visit, column: str, done: str) -> None:
    if getattr(v, column) is not None:
        raise ValidationError("visit", f"这条走访发现的需求已经{done}。")


def _follow_up_check(db: Database, visit_id: uuid.UUID, column: str, done: str) -> Visit:
    with db.session() as s:
        v = _own_visit(s, visit_id)
        if not (v.needs or "").strip():
            raise ValidationError("needs", "这次走访没有记录发现的需求。")
        _not_yet_linked(v, column, done)
        _visitable(s, v.resident_id)
        s.expunge(v)
        return v


def _linker(actor: Actor, visit_id: uuid.UUID, column: str, done: str) -> Callable[[Session, uuid.UUID], None]:
    """Record the follow-up on the visit inside the transaction that makes the
    need or the matter: both are saved or neither, and a second conversion
    racing the first finds the visit already linked and makes nothing."""

    def link(s: Session, target: uuid.UUID) -> None:
        v = _own_visit(s, visit_id)
        _not_yet_linked(v, column, done)
        setattr(v, column, target)
        audit.record(
            s,
            "visit_follow_up",
            actor,
            target_type="visit",
            target_id=v.id,
            follow_up="志愿服务需求" if column == "need_id" else "受理事项",
        )

    return link


def need_from_visit(
    db: Database, actor: Actor, visit_id: uuid.UUID, title: str = "", today: date | None = None
) -> uuid.UUID:
    """Turn the need a visit found into a volunteer need (点单, 审核中) for the
    resident, through the volunteer service; returns the need's id."""
    from desktop.services import volunteers

    actor.require("desk", "登记服务需求")
    today = today or date.today()
    v = _follow_up_check(db, visit_id, "need_id", "转为志愿服务需求")
    text = " ".join((v.needs or "").split())
    title = " ".join((title or "").split()) or text[:30]
    need_id = volunteers.create_need(
        db,
        actor,
        volunteers.NeedForm(
            title=title[:64],
            resident_id=v.resident_id,
            description=f"走访发现（{v.day:%Y-%m-%d}，{v.visitor_name}）：{text}"[:1000],
            day=today + timedelta(days=1),
            urgency=2,
        ),
        today=today,
        on_created=_linker(actor, visit_id, "need_id", "转为志愿服务需求"),
    )
    return need_id


def matter_from_visit(
    db: Database,
    actor: Actor,
    visit_id: uuid.UUID,
    matter_type_id: uuid.UUID,
    received: list[str],
    today: date | None = None,
) -> Any:
    """Accept a counter matter (渠道：上门) for the resident from what a visit
    found, through the counter service; returns its ``counter.Accepted``."""
    from desktop.services import counter

    actor.require("desk", "受理事项")
    v = _follow_up_check(db, visit_id, "matter_id", "转为受理事项")
    note = f"走访发现（{v.day:%Y-%m-%d}）：{' '.join((v.needs or '').split())}"
    return counter.accept(
        db,
        actor,
        v.resident_id,
        matter_type_id,
        received,
        channel="visit",
        note=note[: counter.MAX_NOTE],
        today=today,
        on_accepted=_linker(actor, visit_id, "matter_id", "转为受理事项"),
    )


# ------------------------------------------------------------------ report figures


@dataclass
class TierLine:
    label: str  # a tier (每周 …) or a grid
    households_due: int = 0
    households_visited: int = 0
    visits_due: int = 0
    visits_done: int = 0  # met visits counted against the due ones (at most as many as due)
    not_home: int = 0

    @property
    def rate(self) -> float:
        return round(100 * self.visits_done / self.visits_due, 1) if self.visits_due else 0.0


@dataclass(frozen=True)
class DueLine:
    """One household due in the period, and what was done."""

    row: DueRow
    visits_due: int
    visits_done: int  # met visits, up to visits_due
    met: int  # met visits in the period
    not_home: int


@dataclass
class VisitFigures:
    start: date
    end: date
    visits: list[VisitRow]  # every visit in the period (met and not at home); [] unless asked for
    by_tier: list[TierLine]
    by_grid: list[TierLine]
    total: TierLine
    due: list[DueLine] = field(default_factory=list)  # the households due in the period
    tier_of: dict[uuid.UUID, str] = field(default_factory=dict)  # household key → its tier (on the schedule)
    # every visit in the period, counted: met, not at home, met by the recording station
    met_visits: int = 0
    not_home_visits: int = 0
    met_by_origin: dict[str, int] = field(default_factory=dict)
    origins: set[str] = field(default_factory=set)  # stations that recorded a visit in the period

    @property
    def due_keys(self) -> set[uuid.UUID]:
        return {x.row.key for x in self.due}

    @property
    def visited_keys(self) -> set[uuid.UUID]:
        return {x.row.key for x in self.due if x.met}

    @property
    def met(self) -> list[VisitRow]:
        return [v for v in self.visits if v.outcome == "met"]


def figures(
    db: Database, start: date, end: date, origins: Collection[str] | None = None, rows: bool = True
) -> VisitFigures:
    """Visits done against visits due in ``start``..``end``, by tier and by grid.

    A household is due in the period when its next visit (from the last
    visit that met someone before ``start``; never visited: due at
    ``start``) falls on or before ``end``; it is due once for that date and
    once more for every further interval inside the period.  Met visits count
    against those, at most as many as are due.

    The visits are counted by the database (``visit_counts``); ``rows``
    also lists them (``visits``: the report reads them only when a figure
    is opened, by the same conditions)."""
    # by raw household key (``_raw``): the visits' keys match the schedule's
    # without a UUID made for each
    with db.session() as s:
        sched = _schedule(s, start - timedelta(days=1), origins)
        counts = _visit_counts(s, start, end, origins)
    met_n: dict[Any, int] = defaultdict(int)
    not_home: dict[Any, int] = defaultdict(int)
    tiers_: dict[int, TierLine] = {}
    grids_: dict[str, TierLine] = {}
    total = TierLine("合计")
    fig = VisitFigures(start, end, [], [], [], total, tier_of={d.key: d.tier for d in sched.values()})
    by_origin: dict[str, int] = defaultdict(int)
    for k, origin, outcome, n in counts:
        (met_n if outcome == "met" else not_home)[k] += n
        fig.origins.add(origin)
        if outcome == "met":
            fig.met_visits += n
            by_origin[origin] += n
        elif outcome == "not_home":
            fig.not_home_visits += n
    fig.met_by_origin = dict(by_origin)
    if rows:
        fig.visits = visits_between(db, start, end, origins=origins)
    for k, d in sched.items():
        first = d.next_due if d.next_due is not None and d.next_due > start else start
        if first > end:
            continue
        due = 1 + (end - first).days // d.days
        done = min(met_n.get(k, 0), due)
        fig.due.append(DueLine(d, due, done, met_n.get(k, 0), not_home.get(k, 0)))
        for line in (
            tiers_.setdefault(d.days, TierLine(d.tier)),
            grids_.setdefault(d.grid, TierLine(d.grid or "未分网格")),
            total,
        ):
            line.households_due += 1
            line.households_visited += 1 if met_n.get(k) else 0
            line.visits_due += due
            line.visits_done += done
            line.not_home += not_home.get(k, 0)
    fig.due.sort(key=lambda x: (x.row.grid == "", x.row.grid, x.row.route))
    fig.by_tier = [tiers_[k] for k in sorted(tiers_)]
    fig.by_grid = [grids_[k] for k in sorted(grids_, key=lambda g: (g == "", g))]
    return fig


def visited_sql(start: date, end: date, origins: Collection[str] | None = None) -> Any:
    """Residents met on a visit in the period, as a SELECT of resident ids
    for the database to evaluate: the visited resident and the members of
    their household (for the report's 本期接触)."""
    met = [Visit.deleted.is_(False), Visit.outcome == "met", Visit.day >= start, Visit.day <= end]
    if origins is not None:
        met.append(Visit.origin.in_(list(origins)))
    # Two selects, each through its index (residents by id, by household),
    # rather than one OR that reads every resident.
    return union(
        select(Resident.id).where(Resident.id.in_(select(Visit.resident_id).where(*met))),
        select(Resident.id).where(
            Resident.household_id.in_(select(Visit.household_id).where(*met, Visit.household_id.is_not(None)))
        ),
    )


def visited_residents(db: Database, start: date, end: date, origins: Collection[str] | None = None) -> set[uuid.UUID]:
    """``visited_sql`` as a set."""
    with db.session() as s:
        return set(s.scalars(visited_sql(start, end, origins)))
