"""报表: the supervisor's report for a period, at a station or across a hub.

How it is built, and why:

* Each section first loads the period's **facts** — one small tuple per
  record that can count towards a figure (a matter, a rating, a certificate, a
  refusal, a need, a service…), selected by indexed time columns, never a
  scan of the whole year.
* Every figure is then a count (or a sum) over the facts that satisfy a
  named **predicate**, grouped by a dimension.  The same predicate and the
  same dimension produce the figure's ``Drill`` — so clicking a number lists
  exactly the records behind it, by construction.
* Dates are the station's local dates.  Timestamps are stored as naive UTC;
  the period's local midnights are converted once, and each fact's times once.

Definitions a reader of the report needs (also printed in the report):
受理 = accepted in the period; 办结 = closed as done in the period; 期末在办 =
accepted by the end and not closed by then; 超期办结 = done after its promised
date; 超期未办结 = open at the end and past its promised date.  用时 counts
working days after the day of acceptance (holidays and 调休 included).
满意率 = (非常满意+满意)/评价数; 差评 = 不满意 and 非常不满意.
"""
from __future__ import annotations

import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any, Callable, Iterable, NamedTuple

from sqlalchemy import String, and_, func, or_, select, type_coerce

from db.clock import utcnow
from db.engine import Database
from db.errors import ValidationError
from db.models import (
    Assignment,
    AuditLog,
    Certificate,
    CertificateRefusal,
    CertificateType,
    Matter,
    MatterRating,
    MatterType,
    Need,
    NeedEvent,
    NoticeLog,
    Rectification,
    Resident,
    ResidentTag,
    SealLog,
    Station,
    Volunteer,
)
from desktop.services import accounts, workdays
from desktop.services.context import Actor
from desktop.services.counter import CHANNELS, OPEN_STATUSES, RATINGS
from desktop.services.vocab import SPECIAL_GROUPS

MAX_DAYS = 3 * 366 + 1  # a range longer than three years is a typo, not a report
CHUNK = 900  # ids per IN (...) on SQLite


# ---------------------------------------------------------------- periods

@dataclass(frozen=True)
class Period:
    start: date
    end: date  # inclusive
    label: str

    @classmethod
    def month(cls, year: int, month: int) -> Period:
        nxt = date(year + (month == 12), month % 12 + 1, 1)
        return cls(date(year, month, 1), nxt - timedelta(days=1), f"{year}年{month}月")

    @classmethod
    def quarter(cls, year: int, q: int) -> Period:
        if q not in (1, 2, 3, 4):
            raise ValidationError("quarter", "季度应为 1 到 4。")
        first = cls.month(year, 3 * q - 2)
        last = cls.month(year, 3 * q)
        return cls(first.start, last.end, f"{year}年第{'一二三四'[q - 1]}季度")

    @classmethod
    def year(cls, year: int) -> Period:
        return cls(date(year, 1, 1), date(year, 12, 31), f"{year}年")

    @classmethod
    def between(cls, start: date, end: date) -> Period:
        if end < start:
            raise ValidationError("end", "结束日期不能早于开始日期。")
        if (end - start).days > MAX_DAYS:
            raise ValidationError("end", "统计区间最长三年，请缩短后再试。")
        for p in (cls.month(start.year, start.month), cls.quarter(start.year, (start.month + 2) // 3),
                  cls.year(start.year)):
            if (p.start, p.end) == (start, end):
                return p
        return cls(start, end, f"{start.year}年{start.month}月{start.day}日至{end.year}年{end.month}月{end.day}日")

    @classmethod
    def last_month(cls, today: date) -> Period:
        prev = today.replace(day=1) - timedelta(days=1)
        return cls.month(prev.year, prev.month)

    def contains(self, d: date | None) -> bool:
        return d is not None and self.start <= d <= self.end


def _offset() -> timedelta:
    """The station's UTC offset (China has no daylight saving time)."""
    off = datetime.now().astimezone().utcoffset()
    return off or timedelta(0)


# ---------------------------------------------------------------- results

@dataclass(frozen=True)
class Drill:
    """Which records stand behind a figure: a fact list, a predicate, and
    dimension filters.  Hashable, so the window can keep it on a cell."""

    kind: str
    pred: str
    filters: tuple[tuple[str, Any], ...] = ()
    title: str = ""


@dataclass
class Figure:
    label: str
    value: float | int | None
    unit: str = ""
    drill: Drill | None = None
    fmt: str = "int"  # int | pct | days | hours


@dataclass
class Table:
    key: str
    title: str
    columns: list[str]
    rows: list[list[Any]]
    drills: list[list[Drill | None]] = field(default_factory=list)
    # column index → int | pct | days | hours | date | datetime | text
    formats: dict[int, str] = field(default_factory=dict)
    note: str = ""
    widths: list[float] | None = None  # fractions of the page width in the PDF


@dataclass
class Chart:
    kind: str  # bar | hbar | pie
    title: str
    labels: list[str]
    values: list[float]


@dataclass
class Section:
    key: str
    title: str
    figures: list[Figure] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    charts: list[Chart] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass
class Report:
    title: str
    station_label: str
    stations: tuple[str, ...]  # the origins included; () = every station in the data
    station_names: dict[str, str]
    period: Period
    prepared_by: str
    generated_at: datetime  # local time
    sections: list[Section]
    facts: dict[str, list[Any]] = field(default_factory=dict, repr=False)
    timings: dict[str, float] = field(default_factory=dict, repr=False)

    def section(self, key: str) -> Section:
        return next(s for s in self.sections if s.key == key)


@dataclass
class Records:
    title: str
    columns: list[str]
    rows: list[list[Any]]


# ---------------------------------------------------------------- facts

class MatterFact(NamedTuple):
    id: uuid.UUID
    origin: str
    receipt_no: str
    type_code: str
    matter: str
    category: str
    channel: str
    handler: str
    status: str
    accepted: datetime  # local
    closed: datetime | None  # local
    promised: date
    promised_days: int
    resident_id: uuid.UUID
    used_days: int | None  # working days from acceptance to closing, when done


class RatingFact(NamedTuple):
    id: uuid.UUID
    origin: str
    matter_id: uuid.UUID
    receipt_no: str
    matter: str
    at: datetime
    level: int
    comment: str
    resident_id: uuid.UUID
    rect_status: str  # "" | open | closed
    rect_due: date | None
    callback_at: datetime | None
    callback_by: str
    callback_note: str
    measures: str


class CertFact(NamedTuple):
    id: uuid.UUID
    origin: str
    type_code: str
    type_name: str
    serial: str
    status: str
    issued: datetime | None
    voided: datetime | None
    reissue: bool
    resident_id: uuid.UUID
    handler: str
    copies: int


class RefusalFact(NamedTuple):
    id: uuid.UUID
    origin: str
    type_name: str
    at: datetime
    resident_id: uuid.UUID | None
    actor: str


class SealFact(NamedTuple):
    id: uuid.UUID
    origin: str
    at: datetime
    content: str
    seal: str
    copies: int
    approver: str
    handler: str
    applicant: str


class NeedFact(NamedTuple):
    id: uuid.UUID
    origin: str
    title: str
    skills: tuple[str, ...]
    created: datetime
    status: str
    resident_id: uuid.UUID | None
    matched: datetime | None  # first dispatch
    completed: datetime | None  # the need's 完成 event
    refused: datetime | None
    cancelled: datetime | None


class ServiceFact(NamedTuple):
    id: uuid.UUID
    origin: str
    volunteer_id: uuid.UUID
    volunteer: str
    number: str
    day: date
    hours: float
    skills: tuple[str, ...]
    need_title: str
    resident_id: uuid.UUID | None


class ResidentFact(NamedTuple):
    id: uuid.UUID
    origin: str
    name: str
    grid: str
    address: str
    tags: tuple[str, ...]
    registered: datetime | None  # from the id's UUIDv7 time, local
    contacted: bool


class ChangeFact(NamedTuple):
    id: uuid.UUID
    origin: str
    at: datetime
    action: str
    actor: str
    resident_id: uuid.UUID | None


# Predicates: one name → one rule, used by the figures and by the drill.
def _matter_preds(p: Period) -> dict[str, Callable[[MatterFact], bool]]:
    end_excl = datetime.combine(p.end + timedelta(days=1), time())
    start = datetime.combine(p.start, time())

    def open_end(f: MatterFact) -> bool:
        return f.accepted < end_excl and (f.closed is None or f.closed >= end_excl)

    return {
        "accepted": lambda f: start <= f.accepted < end_excl,
        "done": lambda f: f.status == "done" and f.closed is not None and start <= f.closed < end_excl,
        "open_end": open_end,
        "overdue_done": lambda f: (f.status == "done" and f.closed is not None and start <= f.closed < end_excl
                                   and f.closed.date() > f.promised),
        "overdue_open": lambda f: open_end(f) and f.promised < p.end,
        "returned": lambda f: f.status == "returned" and f.closed is not None and start <= f.closed < end_excl,
        "rejected": lambda f: f.status == "rejected" and f.closed is not None and start <= f.closed < end_excl,
    }


def _classify_matters(facts: list[MatterFact], p: Period) -> dict[str, list[MatterFact]]:
    """The facts in each of ``_matter_preds``' sets, in one pass (the same
    rules written inline for speed; a test holds every figure to the
    predicates through the drill-down)."""
    end_excl = datetime.combine(p.end + timedelta(days=1), time())
    start = datetime.combine(p.start, time())
    out: dict[str, list[MatterFact]] = {k: [] for k in ("accepted", "done", "open_end", "overdue_done",
                                                          "overdue_open", "returned", "rejected")}
    accepted, done, open_end = out["accepted"], out["done"], out["open_end"]
    for f in facts:
        acc, closed, status = f.accepted, f.closed, f.status
        if start <= acc < end_excl:
            accepted.append(f)
        if acc < end_excl and (closed is None or closed >= end_excl):
            open_end.append(f)
            if f.promised < p.end:
                out["overdue_open"].append(f)
        elif closed is not None and start <= closed < end_excl:
            if status == "done":
                done.append(f)
                if closed.date() > f.promised:
                    out["overdue_done"].append(f)
            elif status in ("returned", "rejected"):
                out[status].append(f)
    return out


MATTER_DIMS = {"category": "分类", "type_code": "事项", "channel": "渠道", "handler": "经办人", "origin": "站点"}


# ---------------------------------------------------------------- building

class _Ctx:
    def __init__(self, db: Database, period: Period, stations: tuple[str, ...]):
        self.db, self.period, self.stations = db, period, stations
        self.off = _offset()
        self.start_utc = datetime.combine(period.start, time()) - self.off
        self.end_utc = datetime.combine(period.end + timedelta(days=1), time()) - self.off

    def local(self, dt: datetime | None) -> datetime | None:
        return None if dt is None else dt + self.off

    def where_origin(self, col):  # type: ignore[no-untyped-def]
        return col.in_(self.stations) if self.stations else True

    def in_period(self, col):  # type: ignore[no-untyped-def]
        return and_(col >= self.start_utc, col < self.end_utc)


def raw(col):  # type: ignore[no-untyped-def]
    """An id column as the driver returns it (a 32-hex string on SQLite, a
    UUID on PostgreSQL), skipping SQLAlchemy's per-row UUID conversion:
    reports read hundreds of thousands of ids and only compare them."""
    return type_coerce(col, String).label(f"raw_{col.table.name}_{col.key}")


def _key(x: Any) -> str:
    """One spelling for an id whatever form it came in."""
    return x.hex if isinstance(x, uuid.UUID) else str(x).replace("-", "")


def _chunks(ids: list[Any]) -> Iterable[list[Any]]:
    for i in range(0, len(ids), CHUNK):
        yield ids[i:i + CHUNK]


def _dt(v: Any) -> datetime | None:
    """A timestamp read raw: SQLite gives its ISO text, PostgreSQL a datetime."""
    if v is None or isinstance(v, datetime):
        return v
    return datetime.fromisoformat(v)


def _day(v: Any) -> date | None:
    if v is None or isinstance(v, date):
        return v
    return date.fromisoformat(v)


def _matter_facts(c: _Ctx, cal: workdays.Calendar) -> list[MatterFact]:
    # Timestamps and ids are read raw and parsed here: at a busy street the
    # month's matters are ~150 000 rows and SQLAlchemy's per-value processors
    # would cost more than the query itself.
    cols = (Matter.receipt_no, Matter.origin, MatterType.code, Matter.matter_name, Matter.category,
            Matter.channel, Matter.handler_name, Matter.status, raw(Matter.accepted_at), raw(Matter.closed_at),
            raw(Matter.promised_date), MatterType.promised_days, raw(Matter.resident_id))
    base = select(*cols).join(MatterType, MatterType.id == Matter.matter_type_id).where(
        Matter.deleted.is_(False), c.where_origin(Matter.origin))
    before = Matter.accepted_at < c.start_utc
    queries = [
        base.where(c.in_period(Matter.accepted_at)),                       # accepted in the period
        base.where(c.in_period(Matter.closed_at), before),                  # closed in it, accepted earlier
        base.where(Matter.status.in_(OPEN_STATUSES), before),               # still open, accepted earlier
        base.where(Matter.closed_at >= c.end_utc, before),                  # open at the end, closed since
    ]
    rows: list[Any] = []
    with c.db.session() as s:
        conn = s.connection()
        for q in queries:
            rows.extend(conn.execute(q).all())
    off = c.off
    parsed = []
    for r in rows:
        closed = r[9]
        parsed.append((r, _dt(r[8]) + off, _dt(closed) + off if closed is not None else None))
    ordinal = _workday_ordinals(cal, [(p[1], p[2]) for p in parsed])
    facts = []
    for r, acc, closed in parsed:
        used = ordinal[closed.date()] - ordinal[acc.date()] if (closed is not None and r[7] == "done") else None
        facts.append(MatterFact(r[0], r[1], r[0], r[2], r[3], r[4], r[5], r[6], r[7], acc, closed, _day(r[10]),
                                r[11] or 0, r[12], used))
    return facts


def _workday_ordinals(cal: workdays.Calendar, spans: list[tuple[datetime, datetime | None]]) -> dict[date, int]:
    """Working days counted from the earliest date: the difference of two
    ordinals is the working days after the first date up to the second."""
    if not spans:
        return {}
    lo = min(a for a, _ in spans).date()
    hi = max((b for _, b in spans if b is not None), default=None)
    last = max(hi.date(), lo) if hi else lo
    d, n, out = lo, 0, {}
    while d <= last:
        if cal.is_working_day(d):
            n += 1
        out[d] = n
        d += timedelta(days=1)
    return out


def _fmt_type_names(facts: list[MatterFact]) -> dict[str, str]:
    return {f.type_code: f.matter for f in facts}


def _counter_section(c: _Ctx, facts: list[MatterFact], notices: int) -> Section:
    p = c.period
    member = _classify_matters(facts, p)
    sec = Section("counter", "一、窗口受理")
    labels = [("accepted", "受理"), ("done", "办结"), ("open_end", "期末在办"), ("overdue_done", "超期办结"),
              ("overdue_open", "超期未办结"), ("returned", "退回"), ("rejected", "不予受理")]
    for key, label in labels:
        sec.figures.append(Figure(label, len(member[key]), "件", Drill("matters", key, (), f"{p.label} {label}")))
    sec.figures.append(Figure("一次性告知", notices, "次", Drill("notices", "in_period", (), f"{p.label} 一次性告知")))
    done = member["done"]
    used = [f.used_days for f in done if f.used_days is not None]
    sec.figures.append(Figure("平均用时", round(sum(used) / len(used), 1) if used else None, "个工作日",
                              Drill("matters", "done", (), f"{p.label} 办结"), "days"))
    sec.figures.append(Figure("最长用时", max(used) if used else None, "个工作日",
                              Drill("matters", "done", (), f"{p.label} 办结"), "days"))

    names = _fmt_type_names(facts)

    def by(dim: str, title: str, key: str, label_of: Callable[[Any], str], with_promise: bool = False) -> Table:
        groups: dict[Any, dict[str, list[MatterFact]]] = defaultdict(lambda: defaultdict(list))
        for k in ("accepted", "done", "open_end", "overdue_done", "overdue_open"):
            for f in member[k]:
                groups[getattr(f, dim)][k].append(f)
        cols = [MATTER_DIMS[dim], "受理", "办结", "期末在办", "超期办结", "超期未办结", "平均用时", "最长用时"]
        if with_promise:
            cols.append("承诺时限")
        rows, drills = [], []
        order = sorted(groups, key=lambda g: (-len(groups[g]["accepted"]), label_of(g)))
        for g in order:
            grp = groups[g]
            u = [f.used_days for f in grp["done"] if f.used_days is not None]
            flt = ((dim, g),)
            lab = label_of(g)
            row = [lab, len(grp["accepted"]), len(grp["done"]), len(grp["open_end"]), len(grp["overdue_done"]),
                   len(grp["overdue_open"]), round(sum(u) / len(u), 1) if u else None, max(u) if u else None]
            d = [None] + [Drill("matters", k, flt, f"{p.label} {lab} {t}") for k, t in
                          (("accepted", "受理"), ("done", "办结"), ("open_end", "期末在办"),
                           ("overdue_done", "超期办结"), ("overdue_open", "超期未办结"))]
            d += [Drill("matters", "done", flt, f"{p.label} {lab} 办结")] * 2
            if with_promise:
                pd = next((f.promised_days for f in grp["accepted"] + grp["done"] + grp["open_end"]), None)
                row.append(pd)
                d.append(None)
            rows.append(row)
            drills.append(d)
        total = [("合计"), *(sum(r[i] for r in rows) for i in range(1, 6))]
        u_all = used
        total += [round(sum(u_all) / len(u_all), 1) if u_all else None, max(u_all) if u_all else None]
        if with_promise:
            total.append(None)
        if rows:
            rows.append(total)
            drills.append([None] + [Drill("matters", k, (), f"{p.label} {t}") for k, t in
                                    (("accepted", "受理"), ("done", "办结"), ("open_end", "期末在办"),
                                     ("overdue_done", "超期办结"), ("overdue_open", "超期未办结"))]
                          + [Drill("matters", "done", (), f"{p.label} 办结")] * 2 + ([None] if with_promise else []))
        fmts = {i: "int" for i in range(1, 6)} | {6: "days", 7: "days"}
        if with_promise:
            fmts[8] = "days"
        widths = [0.24, 0.09, 0.09, 0.1, 0.1, 0.11, 0.1, 0.09] + ([0.08] if with_promise else [])
        if with_promise:
            widths = [0.2, 0.08, 0.08, 0.09, 0.09, 0.1, 0.09, 0.09, 0.08]
        return Table(key, title, cols, rows, drills, fmts, widths=[w / sum(widths) for w in widths])

    sec.tables.append(by("category", "按分类", "counter_category", str))
    sec.tables.append(by("type_code", "按事项", "counter_matter", lambda g: names.get(g, g), with_promise=True))
    sec.tables.append(by("channel", "按渠道", "counter_channel", lambda g: CHANNELS.get(g, g)))
    sec.tables.append(by("handler", "按经办人（首问负责人）", "counter_worker", str))
    ch = Counter(f.channel for f in member["accepted"])
    sec.charts.append(Chart("bar", "受理件数（按渠道）", [CHANNELS[k] for k in CHANNELS], [ch.get(k, 0) for k in CHANNELS]))
    cats = Counter(f.category for f in member["accepted"]).most_common(10)
    if cats:
        sec.charts.append(Chart("hbar", "受理件数（按分类）", [k for k, _ in cats], [v for _, v in cats]))
    sec.notes.append("受理＝本期受理；办结＝本期办结；期末在办＝期末尚未办结（含本期以前受理的）；超期＝晚于承诺日期。"
                     "用时按工作日计（受理当天不计，节假日与调休已扣除）。")
    return sec


def _rating_facts(c: _Ctx) -> list[RatingFact]:
    q = (select(raw(MatterRating.id), Matter.origin, raw(Matter.id), Matter.receipt_no, Matter.matter_name,
                raw(MatterRating.at), MatterRating.level, MatterRating.comment, raw(Matter.resident_id),
                Rectification.status, Rectification.due_date, Rectification.callback_at, Rectification.callback_by,
                Rectification.callback_note, Rectification.measures)
         .join(Matter, Matter.id == MatterRating.matter_id)
         .outerjoin(Rectification, and_(Rectification.matter_id == Matter.id, Rectification.deleted.is_(False)))
         .where(c.in_period(MatterRating.at), c.where_origin(Matter.origin), Matter.deleted.is_(False)))
    with c.db.session() as s:
        rows = s.connection().execute(q).all()
    return [RatingFact(r[0], r[1], r[2], r[3], r[4], _dt(r[5]) + c.off, r[6], r[7] or "", r[8], r[9] or "", r[10],
                       c.local(r[11]), r[12] or "", r[13] or "", r[14] or "") for r in rows]


RECT_STATUS = {"open": "整改中", "done": "已整改回访", "": "—"}


def _satisfaction_section(c: _Ctx, facts: list[RatingFact], done_count: int) -> Section:
    p = c.period
    sec = Section("satisfaction", "二、好差评")
    total = len(facts)
    levels = Counter(f.level for f in facts)
    good = levels[5] + levels[4]
    bad = levels[2] + levels[1]
    sec.figures += [
        Figure("评价数", total, "条", Drill("ratings", "all", (), f"{p.label} 评价")),
        Figure("满意率", good / total if total else None, "", Drill("ratings", "good", (), f"{p.label} 满意（5、4）"), "pct"),
        Figure("差评", bad, "条", Drill("ratings", "bad", (), f"{p.label} 差评")),
        Figure("差评已整改回访", sum(1 for f in facts if f.level <= 2 and f.rect_status == "done"), "条",
               Drill("ratings", "bad_closed", (), f"{p.label} 差评已整改回访")),
        Figure("评价率", total / done_count if done_count else None, "", None, "pct"),
    ]
    rows, drills = [], []
    for lv in (5, 4, 3, 2, 1):
        rows.append([RATINGS[lv], levels[lv], levels[lv] / total if total else None])
        drills.append([None, Drill("ratings", "level", (("level", lv),), f"{p.label} {RATINGS[lv]}"), None])
    if total:
        rows.append(["合计", total, 1.0])
        drills.append([None, Drill("ratings", "all", (), f"{p.label} 评价"), None])
    sec.tables.append(Table("rating_levels", "评价等级分布", ["等级", "条数", "占比"], rows, drills,
                            {1: "int", 2: "pct"}, widths=[0.4, 0.3, 0.3]))
    bad_rows, bad_drills = [], []
    for f in sorted((f for f in facts if f.level <= 2), key=lambda f: f.at):
        bad_rows.append([f.at.date(), f.receipt_no, f.matter, RATINGS[f.level], f.comment or "—",
                         RECT_STATUS.get(f.rect_status, f.rect_status), f.rect_due,
                         f.callback_at.date() if f.callback_at else None,
                         f"{f.callback_by}：{f.callback_note}" if f.callback_at else "—"])
        bad_drills.append([None] * 9)
    sec.tables.append(Table("bad_reviews", "差评及整改", ["评价日期", "回执号", "事项", "等级", "意见", "整改", "整改期限",
                                                        "回访日期", "回访记录"], bad_rows, bad_drills,
                            {0: "date", 6: "date", 7: "date"},
                            widths=[0.1, 0.15, 0.11, 0.09, 0.14, 0.09, 0.1, 0.1, 0.12]))
    sec.charts.append(Chart("bar", "评价等级分布", [RATINGS[lv] for lv in (5, 4, 3, 2, 1)],
                            [levels[lv] for lv in (5, 4, 3, 2, 1)]))
    sec.notes.append("满意率＝（非常满意＋满意）÷ 评价数；差评＝不满意、非常不满意，每条须在 15 个工作日内整改并回访。"
                     "评价率＝评价数 ÷ 本期办结件数。")
    return sec


def _cert_facts(c: _Ctx) -> tuple[list[CertFact], list[RefusalFact], list[SealFact]]:
    q = (select(Certificate.id, Certificate.origin, CertificateType.code, Certificate.type_name, Certificate.serial,
                Certificate.status, Certificate.issued_at, Certificate.voided_at, Certificate.replaces_id,
                Certificate.resident_id, Certificate.handler_name, Certificate.copies)
         .join(CertificateType, CertificateType.id == Certificate.type_id)
         .where(Certificate.deleted.is_(False), c.where_origin(Certificate.origin),
                or_(c.in_period(Certificate.issued_at), c.in_period(Certificate.voided_at))))
    rq = (select(CertificateRefusal.id, CertificateRefusal.origin, CertificateRefusal.type_name,
                 CertificateRefusal.at, CertificateRefusal.resident_id, CertificateRefusal.actor_name)
          .where(c.in_period(CertificateRefusal.at), c.where_origin(CertificateRefusal.origin)))
    sq = (select(SealLog.id, SealLog.origin, SealLog.at, SealLog.content, SealLog.seal, SealLog.copies,
                 SealLog.approver_name, SealLog.handler_name, SealLog.applicant_name)
          .where(c.in_period(SealLog.at), c.where_origin(SealLog.origin)).order_by(SealLog.at))
    with c.db.session() as s:
        certs = [CertFact(r[0], r[1], r[2], r[3], r[4] or "", r[5], c.local(r[6]), c.local(r[7]), r[8] is not None,
                          r[9], r[10], r[11]) for r in s.execute(q)]
        refusals = [RefusalFact(r[0], r[1], r[2], r[3] + c.off, r[4], r[5]) for r in s.execute(rq)]
        seals = [SealFact(r[0], r[1], r[2] + c.off, r[3], r[4], r[5], r[6] or "", r[7], r[8]) for r in s.execute(sq)]
    return certs, refusals, seals


def _cert_preds(p: Period) -> dict[str, Callable[[CertFact], bool]]:
    return {
        "issued": lambda f: p.contains(f.issued.date() if f.issued else None),
        "voided": lambda f: p.contains(f.voided.date() if f.voided else None),
        "reissued": lambda f: f.reissue and p.contains(f.issued.date() if f.issued else None),
    }


def _cert_section(c: _Ctx, certs: list[CertFact], refusals: list[RefusalFact], seals: list[SealFact]) -> Section:
    p = c.period
    preds = _cert_preds(p)
    member = {k: [f for f in certs if pr(f)] for k, pr in preds.items()}
    sec = Section("certificates", "三、开具证明")
    sec.figures += [
        Figure("开具", len(member["issued"]), "份", Drill("certificates", "issued", (), f"{p.label} 开具证明")),
        Figure("作废", len(member["voided"]), "份", Drill("certificates", "voided", (), f"{p.label} 作废证明")),
        Figure("补开", len(member["reissued"]), "份", Drill("certificates", "reissued", (), f"{p.label} 补开证明")),
        Figure("拒开（负面清单）", len(refusals), "次", Drill("refusals", "all", (), f"{p.label} 拒开记录")),
        Figure("用印", len(seals), "次", Drill("seals", "all", (), f"{p.label} 用印登记")),
    ]
    by_type: dict[str, dict[str, int]] = defaultdict(Counter)
    type_names: dict[str, str] = {}
    for k in ("issued", "voided", "reissued"):
        for f in member[k]:
            by_type[f.type_code][k] += 1
            type_names[f.type_code] = f.type_name
    rows, drills = [], []
    for code in sorted(by_type, key=lambda t: (-by_type[t]["issued"], type_names[t])):
        n = type_names[code]
        rows.append([n, by_type[code]["issued"], by_type[code]["voided"], by_type[code]["reissued"]])
        drills.append([None] + [Drill("certificates", k, (("type_code", code),), f"{p.label} {n} {t}")
                                for k, t in (("issued", "开具"), ("voided", "作废"), ("reissued", "补开"))])
    if rows:
        rows.append(["合计", *(sum(r[i] for r in rows) for i in (1, 2, 3))])
        drills.append([None] + [Drill("certificates", k, (), f"{p.label} {t}")
                                for k, t in (("issued", "开具"), ("voided", "作废"), ("reissued", "补开"))])
    sec.tables.append(Table("certificates_by_type", "按证明类型", ["证明类型", "开具", "作废", "补开"], rows, drills,
                            {1: "int", 2: "int", 3: "int"}, widths=[0.46, 0.18, 0.18, 0.18]))
    ref = Counter(f.type_name for f in refusals)
    rrows = [[n, k] for n, k in sorted(ref.items(), key=lambda kv: (-kv[1], kv[0]))]
    rdr = [[None, Drill("refusals", "type", (("type_name", n),), f"{p.label} 拒开：{n}")] for n, _ in rrows]
    if rrows:
        rrows.append(["合计", len(refusals)])
        rdr.append([None, Drill("refusals", "all", (), f"{p.label} 拒开记录")])
    sec.tables.append(Table("refusals_by_type", "拒开统计（不应由社区出具的证明事项）", ["证明事项", "次数"], rrows, rdr,
                            {1: "int"}, note="居民来开负面清单上的证明时，本站出具告知单并指引去向；此表为清理“万能章”的佐证。",
                            widths=[0.75, 0.25]))
    srows = [[f.at, f.content, f.seal, f.copies, f.approver or "—", f.handler, f.applicant] for f in seals]
    sec.tables.append(Table("seal_register", "用印登记", ["用印时间", "用印事由", "印章", "份数", "批准人", "经办人", "申请人"],
                            srows, [[None] * 7 for _ in srows], {0: "datetime", 3: "int"},
                            widths=[0.16, 0.3, 0.14, 0.07, 0.1, 0.1, 0.13]))
    if rows:
        top = rows[:-1][:8]
        sec.charts.append(Chart("hbar", "开具份数（按类型）", [r[0] for r in top], [r[1] for r in top]))
    return sec


def _need_facts(c: _Ctx) -> list[NeedFact]:
    ev_kinds = ("assign", "complete", "refuse", "cancel")
    with c.db.session() as s:
        # needs created in the period, plus needs with an event in it
        ids = set(s.scalars(select(Need.id).where(c.in_period(Need.created_at), c.where_origin(Need.origin),
                                                  Need.deleted.is_(False))))
        ids |= set(s.scalars(select(NeedEvent.need_id).where(c.in_period(NeedEvent.at),
                                                             NeedEvent.kind.in_(ev_kinds))))
        needs: dict[uuid.UUID, Any] = {}
        firsts: dict[tuple[uuid.UUID, str], datetime] = {}
        for chunk in _chunks(list(ids)):
            for n in s.execute(select(Need.id, Need.origin, Need.title, Need.skills, Need.created_at, Need.status,
                                      Need.resident_id).where(Need.id.in_(chunk), Need.deleted.is_(False),
                                                              c.where_origin(Need.origin))):
                needs[n[0]] = n
            for need_id, kind, at in s.execute(select(NeedEvent.need_id, NeedEvent.kind, func.min(NeedEvent.at))
                                               .where(NeedEvent.need_id.in_(chunk), NeedEvent.kind.in_(ev_kinds))
                                               .group_by(NeedEvent.need_id, NeedEvent.kind)):
                firsts[(need_id, kind)] = at
    return [NeedFact(n[0], n[1], n[2], tuple(n[3] or ()), n[4] + c.off, n[5], n[6],
                     c.local(firsts.get((n[0], "assign"))), c.local(firsts.get((n[0], "complete"))),
                     c.local(firsts.get((n[0], "refuse"))), c.local(firsts.get((n[0], "cancel"))))
            for n in needs.values()]


def _service_facts(c: _Ctx, start: date, end: date) -> list[ServiceFact]:
    q = (select(Assignment.id, Assignment.origin, Volunteer.id, Volunteer.name, Volunteer.number, Assignment.day,
                Assignment.hours, Need.skills, Need.title, Need.resident_id)
         .join(Volunteer, Volunteer.id == Assignment.volunteer_id).join(Need, Need.id == Assignment.need_id)
         .where(Assignment.status == "done", Assignment.deleted.is_(False), Assignment.day >= start,
                Assignment.day <= end, c.where_origin(Assignment.origin)))
    with c.db.session() as s:
        return [ServiceFact(r[0], r[1], r[2], r[3], r[4], r[5], float(r[6] or 0), tuple(r[7] or ()), r[8], r[9])
                for r in s.execute(q)]


def _need_preds(p: Period) -> dict[str, Callable[[NeedFact], bool]]:
    def inside(dt: datetime | None) -> bool:
        return dt is not None and p.contains(dt.date())

    return {
        "received": lambda f: inside(f.created),
        "matched": lambda f: inside(f.matched),
        "completed": lambda f: inside(f.completed),
        "refused": lambda f: inside(f.refused),
        "cancelled": lambda f: inside(f.cancelled),
    }


def _volunteer_section(c: _Ctx, needs: list[NeedFact], services: list[ServiceFact],
                       ytd: list[ServiceFact], skill_names: dict[str, str]) -> Section:
    p = c.period
    preds = _need_preds(p)
    member = {k: [f for f in needs if pr(f)] for k, pr in preds.items()}
    sec = Section("volunteers", "四、志愿服务")
    waits = [(f.matched - f.created).total_seconds() / 3600 for f in member["matched"] if f.matched >= f.created]
    in_period = [f for f in services if p.contains(f.day)]
    for key, label in (("received", "收到需求"), ("matched", "派单"), ("completed", "完成"), ("refused", "拒绝"),
                       ("cancelled", "取消")):
        sec.figures.append(Figure(label, len(member[key]), "件", Drill("needs", key, (), f"{p.label} 需求{label}")))
    sec.figures += [
        Figure("需求到派单平均", round(sum(waits) / len(waits), 1) if waits else None, "小时",
               Drill("needs", "matched", (), f"{p.label} 已派单需求"), "hours"),
        Figure("需求到派单最长", round(max(waits), 1) if waits else None, "小时",
               Drill("needs", "matched", (), f"{p.label} 已派单需求"), "hours"),
        Figure("服务人次", len(in_period), "人次", Drill("services", "in_period", (), f"{p.label} 志愿服务记录")),
        Figure("服务时长", round(sum(f.hours for f in in_period), 2), "小时",
               Drill("services", "in_period", (), f"{p.label} 志愿服务记录"), "hours"),
    ]
    by_skill: dict[str, list[ServiceFact]] = defaultdict(list)
    for f in in_period:
        for k in f.skills or ("",):
            by_skill[k].append(f)
    rows, drills = [], []
    for k in sorted(by_skill, key=lambda k: -sum(f.hours for f in by_skill[k])):
        name = skill_names.get(k, k) or "（未注明）"
        rows.append([name, len(by_skill[k]), round(sum(f.hours for f in by_skill[k]), 2)])
        drills.append([None, Drill("services", "skill", (("skill", k),), f"{p.label} {name}"),
                       Drill("services", "skill", (("skill", k),), f"{p.label} {name}")])
    sec.tables.append(Table("hours_by_skill", "服务时长（按技能）", ["技能", "人次", "小时"], rows, drills,
                            {1: "int", 2: "hours"}, note="一项需求涉及几种技能时，其时长计入每一种。",
                            widths=[0.5, 0.25, 0.25]))
    by_vol: dict[uuid.UUID, list[ServiceFact]] = defaultdict(list)
    for f in in_period:
        by_vol[f.volunteer_id].append(f)
    vrows, vdr = [], []
    for vid in sorted(by_vol, key=lambda v: (-sum(f.hours for f in by_vol[v]), by_vol[v][0].number)):
        fs = by_vol[vid]
        vrows.append([fs[0].number, fs[0].volunteer, len(fs), round(sum(f.hours for f in fs), 2)])
        d = Drill("services", "volunteer", (("volunteer_id", vid),), f"{p.label} {fs[0].volunteer}")
        vdr.append([None, None, d, d])
    sec.tables.append(Table("hours_by_volunteer", "服务时长（按志愿者）", ["志愿者编号", "姓名", "人次", "小时"], vrows, vdr,
                            {2: "int", 3: "hours"}, widths=[0.3, 0.3, 0.2, 0.2]))
    with c.db.session() as s:
        party = s.execute(select(Volunteer.id, Volunteer.number, Volunteer.name, Volunteer.employer,
                                 Volunteer.yearly_target_hours)
                          .where(Volunteer.party_member.is_(True), Volunteer.deleted.is_(False),
                                 c.where_origin(Volunteer.origin)).order_by(Volunteer.number)).all()
    ytd_hours: dict[uuid.UUID, float] = defaultdict(float)
    for f in ytd:
        ytd_hours[f.volunteer_id] += f.hours
    prows, pdr = [], []
    for vid, number, name, employer, target in party:
        h = round(ytd_hours.get(vid, 0.0), 2)
        prows.append([number, name, employer or "—", target, h, max(0.0, round((target or 0) - h, 2)),
                      (h / target) if target else None])
        d = Drill("services", "ytd_volunteer", (("volunteer_id", vid),), f"{p.end.year}年 {name} 服务记录")
        pdr.append([None, None, None, None, d, None, None])
    sec.tables.append(Table("party_members", f"在职党员服务时长（{p.end.year}年1月1日至{p.end.month}月{p.end.day}日）",
                            ["编号", "姓名", "工作单位", "年度目标", "已服务", "尚差", "完成率"], prows, pdr,
                            {3: "hours", 4: "hours", 5: "hours", 6: "pct"},
                            widths=[0.16, 0.13, 0.25, 0.11, 0.11, 0.11, 0.13]))
    if rows:
        sec.charts.append(Chart("hbar", "服务时长（按技能，小时）", [r[0] for r in rows[:8]], [r[2] for r in rows[:8]]))
    return sec


def _resident_facts(c: _Ctx, contacted: set[str]) -> tuple[list[ResidentFact], list[ResidentFact]]:
    """(special-group residents, residents registered in the period)."""
    def bound(dt: datetime) -> uuid.UUID:
        # A UUIDv7 starts with its creation time in milliseconds (48 bits), so
        # ids created in [start, end) sort between these two and the primary
        # key index finds them: no "created" column is needed.
        ms = int((dt - datetime(1970, 1, 1)).total_seconds() * 1000)
        return uuid.UUID(int=ms << 80)

    lo, hi = bound(c.start_utc), bound(c.end_utc)
    live = and_(Resident.deleted.is_(False), Resident.moved_out.is_(False), Resident.deceased.is_(False),
                c.where_origin(Resident.origin))
    with c.db.session() as s:
        people: dict[Any, list[Any]] = {}
        for rid, origin, name, grid, address, tag in s.execute(
                select(raw(Resident.id), Resident.origin, Resident.name, Resident.grid, Resident.address_text,
                       ResidentTag.tag)
                .join(Resident, Resident.id == ResidentTag.resident_id)
                .where(ResidentTag.deleted.is_(False), live)):
            if rid in people:
                people[rid][4].append(tag)
            else:
                people[rid] = [origin, name, grid or "", address or "", [tag]]
        special = [ResidentFact(rid, o, n, g, a, tuple(sorted(tags)), None, _key(rid) in contacted)
                   for rid, (o, n, g, a, tags) in people.items()]
        new = [ResidentFact(r[0], r[1], r[2], r[3] or "", r[4] or "", (), _uuid_time(uuid.UUID(_key(r[0])), c), True)
               for r in s.execute(select(Resident.id, Resident.origin, Resident.name, Resident.grid,
                                         Resident.address_text)
                                  .where(Resident.id >= lo, Resident.id < hi, Resident.deleted.is_(False),
                                         c.where_origin(Resident.origin)))]
    special.sort(key=lambda f: (f.grid, f.name))
    return special, new


def _uuid_time(u: uuid.UUID, c: _Ctx) -> datetime:
    return datetime(1970, 1, 1) + timedelta(milliseconds=u.int >> 80) + c.off


CHANGE_ACTIONS = {
    "resident_update": "资料修改",
    "resident_moved_out": "迁出",
    "resident_deceased": "去世",
    "household_move": "户内成员变动",
    "household_relation": "与户主关系变动",
    "household_head": "户主变更",
    "household_create": "新立户",
}


def _change_facts(c: _Ctx) -> list[ChangeFact]:
    with c.db.session() as s:
        return [ChangeFact(r[0], r[1], r[2] + c.off, r[3], r[4] or "", r[5] if r[6] == "resident" else None)
                for r in s.execute(select(AuditLog.id, AuditLog.origin, AuditLog.at, AuditLog.action,
                                          AuditLog.actor_name, AuditLog.target_id, AuditLog.target_type)
                                   .where(c.in_period(AuditLog.at), AuditLog.action.in_(list(CHANGE_ACTIONS)),
                                          c.where_origin(AuditLog.origin)))]


def _contacts(c: _Ctx, matters: list[MatterFact], certs: list[CertFact], refusals: list[RefusalFact],
              needs: list[NeedFact], services: list[ServiceFact]) -> set[str]:
    """Residents the station served or saw in the period."""
    p = c.period
    acc = _matter_preds(p)["accepted"]
    ids: list[Any] = [f.resident_id for f in matters if acc(f)]
    ids += [f.resident_id for f in certs]
    ids += [f.resident_id for f in refusals if f.resident_id]
    ids += [f.resident_id for f in needs if f.resident_id and p.contains(f.created.date())]
    ids += [f.resident_id for f in services if f.resident_id and p.contains(f.day)]
    with c.db.session() as s:
        ids += list(s.scalars(select(raw(NoticeLog.resident_id)).where(c.in_period(NoticeLog.at),
                                                                       NoticeLog.resident_id.is_not(None))))
    out = {_key(i) for i in ids}
    return out


def _resident_section(c: _Ctx, special: list[ResidentFact], new: list[ResidentFact],
                      changes: list[ChangeFact]) -> Section:
    p = c.period
    sec = Section("residents", "五、居民信息")
    by_action = Counter(f.action for f in changes)
    sec.figures.append(Figure("新登记居民", len(new), "人", Drill("residents", "registered", (), f"{p.label} 新登记居民")))
    sec.figures.append(Figure("信息变动", len(changes), "次", Drill("changes", "all", (), f"{p.label} 居民信息变动")))
    sec.figures.append(Figure("特殊群体", len(special), "人", Drill("special", "all", (), "特殊群体居民")))
    silent = [f for f in special if not f.contacted]
    sec.figures.append(Figure("特殊群体本期未接触", len(silent), "人",
                              Drill("special", "no_contact", (), f"{p.label} 未接触的特殊群体居民")))
    crow = [[label, by_action.get(a, 0)] for a, label in CHANGE_ACTIONS.items()]
    cdr = [[None, Drill("changes", "action", (("action", a),), f"{p.label} {label}")] for a, label in CHANGE_ACTIONS.items()]
    sec.tables.append(Table("resident_changes", "登记与变动", ["项目", "次数"], [["新登记居民", len(new)], *crow],
                            [[None, Drill("residents", "registered", (), f"{p.label} 新登记居民")], *cdr], {1: "int"},
                            widths=[0.7, 0.3]))
    groups = Counter(t for f in special for t in f.tags)
    silent_groups = Counter(t for f in silent for t in f.tags)
    grows = [[g, groups.get(g, 0), silent_groups.get(g, 0)] for g in SPECIAL_GROUPS]
    gdr = [[None, Drill("special", "tag", (("tag", g),), f"特殊群体：{g}"),
            Drill("special", "tag_no_contact", (("tag", g),), f"{p.label} 未接触：{g}")] for g in SPECIAL_GROUPS]
    sec.tables.append(Table("special_groups", "特殊群体（期末）", ["群体", "人数", "本期未接触"], grows, gdr,
                            {1: "int", 2: "int"}, note="一人可属多个群体；“接触”指本期在本站办事、开证明、提出或接受志愿服务、收到告知单。",
                            widths=[0.5, 0.25, 0.25]))
    srows = [[f.name, f.grid or "—", "、".join(f.tags), f.address or "—"] for f in silent]
    sec.tables.append(Table("no_contact", "本期未接触的特殊群体居民（请安排走访）", ["姓名", "网格", "群体", "住址"], srows,
                            [[None] * 4 for _ in srows], widths=[0.15, 0.15, 0.3, 0.4]))
    sec.charts.append(Chart("hbar", "特殊群体人数", [g for g in SPECIAL_GROUPS if groups.get(g)],
                            [groups[g] for g in SPECIAL_GROUPS if groups.get(g)]))
    return sec


def _comparison_section(c: _Ctx, report_facts: dict[str, list[Any]], names: dict[str, str]) -> Section:
    p = c.period
    mp = _matter_preds(p)
    cp = _cert_preds(p)
    origins = sorted({f.origin for f in report_facts["matters"]} | {f.origin for f in report_facts["certificates"]}
                     | {f.origin for f in report_facts["ratings"]} | {f.origin for f in report_facts["services"]}
                     | set(c.stations))
    rows, drills = [], []
    for o in origins:
        flt = (("origin", o),)
        ms = [f for f in report_facts["matters"] if f.origin == o]
        rs = [f for f in report_facts["ratings"] if f.origin == o]
        good = sum(1 for f in rs if f.level >= 4)
        sv = [f for f in report_facts["services"] if f.origin == o and p.contains(f.day)]
        rows.append([names.get(o, o), sum(1 for f in ms if mp["accepted"](f)), sum(1 for f in ms if mp["done"](f)),
                     sum(1 for f in ms if mp["overdue_done"](f) or mp["overdue_open"](f)),
                     len(rs), good / len(rs) if rs else None,
                     sum(1 for f in report_facts["certificates"] if f.origin == o and cp["issued"](f)),
                     sum(1 for f in report_facts["refusals"] if f.origin == o),
                     round(sum(f.hours for f in sv), 2)])
        n = names.get(o, o)
        drills.append([None, Drill("matters", "accepted", flt, f"{n} 受理"), Drill("matters", "done", flt, f"{n} 办结"),
                       Drill("matters", "overdue_any", flt, f"{n} 超期"), Drill("ratings", "all", flt, f"{n} 评价"),
                       None, Drill("certificates", "issued", flt, f"{n} 开具证明"),
                       Drill("refusals", "all", flt, f"{n} 拒开"), Drill("services", "in_period", flt, f"{n} 志愿服务")])
    sec = Section("comparison", "六、各站对比")
    sec.tables.append(Table("stations", "各站主要指标", ["站点", "受理", "办结", "超期", "评价", "满意率", "开具证明", "拒开",
                                                       "志愿服务小时"], rows, drills,
                            {1: "int", 2: "int", 3: "int", 4: "int", 5: "pct", 6: "int", 7: "int", 8: "hours"},
                            widths=[0.24, 0.08, 0.08, 0.08, 0.08, 0.1, 0.11, 0.08, 0.15]))
    if rows:
        sec.charts.append(Chart("hbar", "受理件数（按站点）", [r[0] for r in rows], [r[1] for r in rows]))
    return sec


def station_choices(db: Database) -> list[tuple[str, str]]:
    """(code, name) of every station whose records this database holds."""
    with db.session() as s:
        rows = s.execute(select(Station.code, Station.name).where(Station.deleted.is_(False))
                         .order_by(Station.code)).all()
    return [(r[0], r[1]) for r in rows]


def build(db: Database, actor: Actor, period: Period, stations: Iterable[str] | None = None,
          progress: Callable[[int, int, str], None] | None = None, today: date | None = None) -> Report:
    """The report for ``period``.  ``stations``: origin codes to include;
    None or empty means every station whose records are in this database
    (at a station that is the station itself; at a hub, all of them)."""
    import time as _time

    actor.require("supervisor", "查看报表")
    stations = tuple(sorted(set(stations or ())))
    c = _Ctx(db, period, stations)
    steps = ["窗口受理", "好差评", "开具证明", "志愿服务", "居民信息", "各站对比"]
    timings: dict[str, float] = {}
    t0 = _time.perf_counter()

    def step(i: int) -> None:
        if progress:
            progress(i, len(steps), steps[i] if i < len(steps) else "完成")

    step(0)
    cal = workdays.load(db)
    matters = _matter_facts(c, cal)
    with db.session() as s:
        notices = list(s.execute(select(NoticeLog.id, NoticeLog.origin, NoticeLog.at, NoticeLog.notice_no,
                                        NoticeLog.resident_id, NoticeLog.actor_name, MatterType.name)
                                 .join(MatterType, MatterType.id == NoticeLog.matter_type_id)
                                 .where(c.in_period(NoticeLog.at), c.where_origin(NoticeLog.origin))).all())
    sections = [_counter_section(c, matters, len(notices))]
    timings["counter"] = _time.perf_counter() - t0
    step(1)
    ratings = _rating_facts(c)
    done_count = next(f.value for f in sections[0].figures if f.label == "办结")
    sections.append(_satisfaction_section(c, ratings, done_count))
    step(2)
    certs, refusals, seals = _cert_facts(c)
    sections.append(_cert_section(c, certs, refusals, seals))
    step(3)
    needs = _need_facts(c)
    year_start = date(period.end.year, 1, 1)
    ytd = _service_facts(c, min(year_start, period.start), period.end)
    from desktop.services.volunteers import skills as skill_names

    sections.append(_volunteer_section(c, needs, ytd, [f for f in ytd if f.day >= year_start], skill_names(db)))
    timings["certificates_volunteers"] = _time.perf_counter() - t0 - timings["counter"]
    step(4)
    contacted = _contacts(c, matters, certs, refusals, needs, ytd)
    special, new = _resident_facts(c, contacted)
    changes = _change_facts(c)
    sections.append(_resident_section(c, special, new, changes))
    facts = {"matters": matters, "ratings": ratings, "certificates": certs, "refusals": refusals, "seals": seals,
             "needs": needs, "services": ytd, "special": special, "residents": new, "changes": changes,
             "notices": [tuple(n) for n in notices]}
    all_names = dict(station_choices(db))
    here = accounts.station_info(db)
    origins_seen = {f.origin for f in matters} | {f.origin for f in new} | {f.origin for f in special}
    step(5)
    if len(stations) > 1 or (not stations and len(origins_seen - {None}) > 1):
        sections.append(_comparison_section(c, facts, all_names))
    step(6)
    if stations:
        label = "、".join(all_names.get(x, x) for x in stations)
    else:
        label = here.name if here and origins_seen <= {here.code} else (
            f"{here.name}（含全部 {len(origins_seen)} 个站点）" if here else "全部站点")
    timings["total"] = _time.perf_counter() - t0
    now_local = utcnow() + c.off
    return Report(f"{label} {period.label}工作报表", label, stations, all_names, period, actor.display_name,
                  now_local, sections, facts, timings)


# ---------------------------------------------------------------- drill-down

def _filters_ok(f: Any, filters: tuple[tuple[str, Any], ...]) -> bool:
    for k, v in filters:
        if k == "skill":
            if v not in (f.skills or ("",)):
                return False
        elif k == "tag":
            if v not in f.tags:
                return False
        elif getattr(f, k) != v:
            return False
    return True


def matching(report: Report, drill: Drill) -> list[Any]:
    """The facts behind a figure."""
    p = report.period
    facts = report.facts.get(drill.kind, [])
    if drill.kind == "matters":
        preds = _matter_preds(p)
        preds["overdue_any"] = lambda f: preds["overdue_done"](f) or preds["overdue_open"](f)
        pred = preds[drill.pred]
    elif drill.kind == "ratings":
        pred = {"all": lambda f: True, "good": lambda f: f.level >= 4, "bad": lambda f: f.level <= 2,
                "bad_closed": lambda f: f.level <= 2 and f.rect_status == "done",
                "level": lambda f: True}[drill.pred]
    elif drill.kind == "certificates":
        pred = _cert_preds(p)[drill.pred]
    elif drill.kind == "needs":
        pred = _need_preds(p)[drill.pred]
    elif drill.kind == "services":
        year_start = date(p.end.year, 1, 1)
        pred = {"in_period": lambda f: p.contains(f.day), "skill": lambda f: p.contains(f.day),
                "volunteer": lambda f: p.contains(f.day),
                "ytd_volunteer": lambda f: year_start <= f.day <= p.end}[drill.pred]
    elif drill.kind == "special":
        pred = {"all": lambda f: True, "tag": lambda f: True, "no_contact": lambda f: not f.contacted,
                "tag_no_contact": lambda f: not f.contacted}[drill.pred]
    else:  # refusals, seals, residents, changes, notices: every fact is in the period
        pred = (lambda f: True)
    return [f for f in facts if pred(f) and _filters_ok(f, drill.filters)]


def _names(db: Database, ids: Iterable[Any]) -> dict[str, str]:
    """Residents' names by ``_key`` of their id."""
    wanted = list({uuid.UUID(_key(i)) for i in ids if i is not None})
    out: dict[str, str] = {}
    with db.session() as s:
        for chunk in _chunks(wanted):
            out.update({k.hex: n for k, n in s.execute(select(Resident.id, Resident.name)
                                                        .where(Resident.id.in_(chunk))).all()})
    return out


def records(db: Database, actor: Actor, report: Report, drill: Drill, limit: int | None = None) -> Records:
    """The records behind a figure, as a table for the window or a sheet.
    Names are shown (the supervisor follows up on them); ID numbers never."""
    actor.require("supervisor", "查看报表明细")
    facts = matching(report, drill)
    if limit is not None:
        facts = facts[:limit]
    st = report.station_names
    k = drill.kind
    if k == "matters":
        names = _names(db, (f.resident_id for f in facts))
        from desktop.services.counter import STATUSES

        rows = [[f.receipt_no, names.get(_key(f.resident_id), ""), f.matter, CHANNELS.get(f.channel, f.channel), f.handler,
                 f.accepted, f.promised, f.closed, STATUSES.get(f.status, f.status), f.used_days, st.get(f.origin, f.origin)]
                for f in sorted(facts, key=lambda f: f.accepted)]
        cols = ["回执号", "居民", "事项", "渠道", "经办人", "受理时间", "承诺日期", "办结时间", "状态", "用时(工作日)", "站点"]
    elif k == "ratings":
        names = _names(db, (f.resident_id for f in facts))
        rows = [[f.at, f.receipt_no, names.get(_key(f.resident_id), ""), f.matter, RATINGS[f.level], f.comment,
                 RECT_STATUS.get(f.rect_status, f.rect_status)] for f in sorted(facts, key=lambda f: f.at)]
        cols = ["评价时间", "回执号", "居民", "事项", "等级", "意见", "整改"]
    elif k == "certificates":
        names = _names(db, (f.resident_id for f in facts))
        from desktop.services.certificates import STATUSES as CSTAT

        rows = [[f.serial, f.type_name, names.get(_key(f.resident_id), ""), f.issued, f.voided, "补开" if f.reissue else "",
                 CSTAT.get(f.status, f.status), f.handler, f.copies]
                for f in sorted(facts, key=lambda f: f.issued or f.voided or datetime.min)]
        cols = ["编号", "证明类型", "居民", "开具时间", "作废时间", "补开", "状态", "经办人", "份数"]
    elif k == "refusals":
        names = _names(db, (f.resident_id for f in facts))
        rows = [[f.at, f.type_name, names.get(_key(f.resident_id), "") if f.resident_id else "（未登记）", f.actor]
                for f in sorted(facts, key=lambda f: f.at)]
        cols = ["时间", "证明事项", "居民", "经办人"]
    elif k == "seals":
        rows = [[f.at, f.content, f.seal, f.copies, f.approver, f.handler, f.applicant] for f in facts]
        cols = ["用印时间", "用印事由", "印章", "份数", "批准人", "经办人", "申请人"]
    elif k == "needs":
        names = _names(db, (f.resident_id for f in facts))
        from desktop.services.volunteers import NEED_STATUSES

        rows = [[f.created, f.title, names.get(_key(f.resident_id), "") if f.resident_id else "（本站）", f.matched,
                 round((f.matched - f.created).total_seconds() / 3600, 1) if f.matched else None,
                 NEED_STATUSES.get(f.status, f.status)] for f in sorted(facts, key=lambda f: f.created)]
        cols = ["提出时间", "需求", "居民", "首次派单", "等待(小时)", "状态"]
    elif k == "services":
        names = _names(db, (f.resident_id for f in facts))
        rows = [[f.day, f.number, f.volunteer, f.need_title, names.get(_key(f.resident_id), "") if f.resident_id else "",
                 f.hours] for f in sorted(facts, key=lambda f: (f.day, f.number))]
        cols = ["日期", "志愿者编号", "志愿者", "服务项目", "服务对象", "小时"]
    elif k in ("special", "residents"):
        rows = [[f.name, f.grid, "、".join(f.tags), f.address, f.registered, "是" if f.contacted else "否"]
                for f in facts]
        cols = ["姓名", "网格", "群体", "住址", "登记时间", "本期接触"]
        if k == "special":
            rows, cols = [r[:4] + r[5:] for r in rows], cols[:4] + cols[5:]
        else:
            rows, cols = [r[:2] + r[3:5] for r in rows], cols[:2] + cols[3:5]
    elif k == "changes":
        names = _names(db, (f.resident_id for f in facts))
        rows = [[f.at, CHANGE_ACTIONS.get(f.action, f.action), names.get(_key(f.resident_id), "") if f.resident_id else "",
                 f.actor] for f in sorted(facts, key=lambda f: f.at)]
        cols = ["时间", "变动", "居民", "经办人"]
    elif k == "notices":
        names = _names(db, (n[4] for n in facts))
        rows = [[n[2] + _offset(), n[3], n[6], names.get(_key(n[4]), "") if n[4] else "", n[5]]
                for n in sorted(facts, key=lambda n: n[2])]
        cols = ["时间", "告知单号", "事项", "居民", "经办人"]
    else:
        raise ValidationError("drill", "未知的明细。")
    return Records(drill.title, cols, rows)
