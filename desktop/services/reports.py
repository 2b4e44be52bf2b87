"""报表: the supervisor's report for a period, at a station or across a hub.

How it is built, and why:

* Every figure is a count (or a sum) of the records that satisfy a named
  **predicate**, grouped by a dimension.  The same predicate and the same
  dimension produce the figure's ``Drill`` — so clicking a number lists
  exactly the records behind it, by construction.
* The big record kinds — matters, ratings, volunteer services; a busy
  street's month is ~150 000 matters — are counted **in the database**: the
  predicates are SQL expressions (``_MatterSQL``, ``_RatingSQL``,
  ``_ServiceSQL``), the figures come from GROUP BY queries over the
  period's rows, and ``records()`` selects the rows behind a figure with
  the same expression only when it is opened.  用时 (working days) is
  computed in SQL too: weekdays by arithmetic on day numbers, plus the
  calendar's holidays and 调休 as a short list of corrections.
* The small kinds (certificates, refusals, the seal register, needs,
  residents, changes, notices) are loaded as **facts** — one small tuple
  per record — kept on the report and filtered in Python for the drill.
* Rows are selected by indexed time columns, never a scan of the whole
  year; the counter's queries run in a worker thread while the other
  sections are read (SQLite works outside the GIL).
* Results are the same on SQLite and PostgreSQL: the database only counts
  and sums integers; sorting, ties and float sums are done in Python.
* Dates are the station's local dates.  Timestamps are stored as naive UTC;
  the period's local midnights are converted once.

Definitions a reader of the report needs (also printed in the report):
受理 = accepted in the period; 办结 = closed as done in the period; 期末在办 =
accepted by the end and not closed by then; 超期办结 = done after its promised
date; 超期未办结 = open at the end and past its promised date.  用时 counts
working days after the day of acceptance (holidays and 调休 included).
满意率 = (非常满意+满意)/评价数; 差评 = 不满意 and 非常不满意.
"""
from __future__ import annotations

import json
import uuid
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from operator import attrgetter
from typing import Any, Callable, Iterable, NamedTuple

from sqlalchemy import (Date, Integer, Interval, String, Text, and_, case, cast, func, literal, or_, select, true,
                        type_coerce)

from db.clock import utcnow
from db.engine import Database
from db.errors import ValidationError
from db.localtime import utc_offset
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
from desktop.services.counter import CHANNELS, RATINGS
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


_offset = utc_offset


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
    resident_name: str = ""


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
    resident_name: str = ""


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


MATTER_DIMS = {"category": "分类", "type_code": "事项", "channel": "渠道", "handler": "经办人", "origin": "站点"}
MATTER_SETS = ("accepted", "done", "open_end", "overdue_done", "overdue_open", "returned", "rejected")
EPOCH = date(1970, 1, 5)  # a Monday; SQL day numbers count from it
EPOCH_JULIAN = 2440591.5  # SQLite's julianday('1970-01-05')


# ---------------------------------------------------------------- building

class _Ctx:
    def __init__(self, db: Database, period: Period, stations: tuple[str, ...]):
        self.db, self.period, self.stations = db, period, stations
        self.off = _offset()
        self.start_utc = datetime.combine(period.start, time()) - self.off
        self.end_utc = datetime.combine(period.end + timedelta(days=1), time()) - self.off
        self.sqlite = db.engine.dialect.name == "sqlite"

    def local(self, dt: datetime | None) -> datetime | None:
        return None if dt is None else dt + self.off

    def where_origin(self, col):  # type: ignore[no-untyped-def]
        return col.in_(self.stations) if self.stations else true()

    def in_period(self, col):  # type: ignore[no-untyped-def]
        return and_(col >= self.start_utc, col < self.end_utc)

    def day_no(self, col, local: bool = True):  # type: ignore[no-untyped-def]
        """A timestamp's local date (or a date column's date) as days since
        ``EPOCH``, computed by the database: the same integer on SQLite and
        PostgreSQL, so figures can be grouped and compared there."""
        secs = int(self.off.total_seconds())
        if self.sqlite:
            jd = func.julianday(col, f"{secs:+d} seconds", "start of day") if local else func.julianday(col)
            return cast(jd - EPOCH_JULIAN, Integer)
        d = cast(col + literal(timedelta(seconds=secs), Interval), Date) if local else col
        return type_coerce(d - literal(EPOCH, Date), Integer)


def raw(col):  # type: ignore[no-untyped-def]
    """An id column as the driver returns it (a 32-hex string on SQLite, a
    UUID on PostgreSQL), skipping SQLAlchemy's per-row UUID conversion:
    reports read hundreds of thousands of ids and only compare them."""
    return type_coerce(col, String).label(f"raw_{col.table.name}_{col.key}")


def _key(x: Any) -> str:
    """One spelling for an id whatever form it came in."""
    return x.hex if isinstance(x, uuid.UUID) else str(x).replace("-", "")


def _uid(x: Any) -> uuid.UUID:
    return x if isinstance(x, uuid.UUID) else uuid.UUID(_key(x))


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


def _flag(cond):  # type: ignore[no-untyped-def]
    return case((cond, 1), else_=0)


class _MatterSQL:
    """The counter's figures as SQL: one predicate per set of matters
    (受理, 办结, 期末在办, …) and one column per dimension.  The figures are
    counted with these predicates in GROUP BY queries and the drill-down
    selects rows with the same predicates, so a number and its records agree
    by construction."""

    def __init__(self, c: _Ctx, cal: workdays.Calendar):
        self.c, self.cal = c, cal
        m = Matter
        acc, closed, status = m.accepted_at, m.closed_at, m.status
        closed_in = and_(closed >= c.start_utc, closed < c.end_utc)
        done = and_(status == "done", closed_in)
        open_end = and_(acc < c.end_utc, or_(closed.is_(None), closed >= c.end_utc))
        overdue_open = and_(open_end, m.promised_date < c.period.end)
        overdue_done = and_(done, c.day_no(closed) > c.day_no(m.promised_date, local=False))
        self.preds = {
            "accepted": c.in_period(acc),
            "done": done,
            "open_end": open_end,
            "overdue_done": overdue_done,
            "overdue_open": overdue_open,
            "overdue_any": or_(overdue_done, overdue_open),
            "returned": and_(status == "returned", closed_in),
            "rejected": and_(status == "rejected", closed_in),
        }
        self.base = and_(m.deleted.is_(False), c.where_origin(m.origin))

    @staticmethod
    def dim_filter(dim: str, value: Any):  # type: ignore[no-untyped-def]
        if dim == "type_code":
            return Matter.matter_type_id.in_(select(MatterType.id).where(MatterType.code == value))
        col = {"category": Matter.category, "channel": Matter.channel, "handler": Matter.handler_name,
               "origin": Matter.origin}[dim]
        return col == value

    def where(self, drill: Drill):  # type: ignore[no-untyped-def]
        return and_(self.base, self.preds[drill.pred], *(self.dim_filter(k, v) for k, v in drill.filters))

    def _working_ordinal(self, k, lo: date, hi: date):  # type: ignore[no-untyped-def]
        """Working days from EPOCH up to day number ``k``, in SQL: weekdays by
        arithmetic, then the calendar's holidays on weekdays and make-up
        working days on weekends after ``lo`` up to ``hi`` (earlier ones
        cancel in a difference of two dates on or after ``lo``)."""
        k1 = k + 1
        ordinal = 5 * (k1 // 7) + case((k1 % 7 > 5, 5), else_=k1 % 7)
        cal = self.cal
        for d in sorted((cal.holidays | cal.workdays)):
            if not (lo < d <= hi):
                continue
            delta = int(cal.is_working_day(d)) - int(d.weekday() < 5)
            if delta:
                ordinal = ordinal + case((k >= (d - EPOCH).days, delta), else_=0)
        return ordinal

    def counts(self) -> tuple[list[dict[str, Any]], dict[Any, tuple[str, int]]]:
        """One row per combination of dimensions and sets, with its count and
        the sum, maximum and count of 用时 of the 办结 among them; and the
        matter types by id (code, promised days)."""
        c, m, p = self.c, Matter, self.preds
        keys = [raw(m.matter_type_id).label("tid"), m.matter_name.label("name"), m.category.label("category"),
                m.channel.label("channel"), m.handler_name.label("handler"), m.origin.label("origin")]
        # Which sets a matter is in, as one small integer (bit i: MATTER_SETS[i]).
        mask = sum((_flag(p[k]) * (1 << i) for i, k in enumerate(MATTER_SETS)), literal(0)).label("sets")
        # 用时 of a matter done in the period: its two day numbers in the
        # inner query, the working days between them in the outer one.
        # OFFSET 0 keeps the inner query a separate step, so each row's day
        # numbers are computed once, not at every use in the outer formula.
        days = [case((p["done"], c.day_no(m.accepted_at)), else_=None).label("ka"),
                case((p["done"], c.day_no(m.closed_at)), else_=None).label("kc")]
        before = m.accepted_at < c.start_utc
        # Four disjoint slices, each selected through the index that finds it
        # (one OR would read the year): accepted in the period; accepted
        # earlier and closed in it, still open, or closed after it.  The
        # working-day formula needs the calendar's exceptions from the
        # earliest acceptance on: the period's own for the first slice, a
        # year before it for the second (checked below); the last two hold
        # no 办结.
        year_before = c.period.start - timedelta(days=366)
        slices = [(c.in_period(m.accepted_at), c.period.start),
                  (and_(m.closed_at >= c.start_utc, m.closed_at < c.end_utc, before), year_before),
                  (and_(m.closed_at.is_(None), before), None),
                  (and_(m.closed_at >= c.end_utc, before), None)]
        rows: list[dict[str, Any]] = []
        with c.db.session() as s:
            conn = s.connection()
            types = {_key(r[0]): (r[1], r[2] or 0) for r in conn.execute(
                select(raw(MatterType.id), MatterType.code, MatterType.promised_days))}
            for where, lo in slices:
                got = self._slice(conn, keys, mask, days, where, lo)
                first = min((r["ka_min"] for r in got if r["ka_min"] is not None), default=None)
                if lo is not None and first is not None and first < (lo - EPOCH).days:
                    # accepted more than a year before it was closed: widen
                    got = self._slice(conn, keys, mask, days, where, EPOCH + timedelta(days=int(first) - 1))
                rows += got
        return rows, types

    def _slice(self, conn, keys, mask, days, where, lo: date | None) -> list[dict[str, Any]]:  # type: ignore[no-untyped-def]
        sub = select(*keys, mask, *(days if lo is not None else ())).where(self.base, where).offset(0).subquery()
        group = [sub.c[k.name] for k in keys] + [sub.c.sets]
        if lo is not None:
            end = self.c.period.end
            used = self._working_ordinal(sub.c.kc, lo, end) - self._working_ordinal(sub.c.ka, lo, end)
            agg = [func.sum(used).label("used_sum"), func.max(used).label("used_max"),
                   func.count(sub.c.ka).label("used_n"), func.min(sub.c.ka).label("ka_min")]
        else:
            agg = [literal(None).label("used_sum"), literal(None).label("used_max"), literal(0).label("used_n"),
                   literal(None).label("ka_min")]
        out = []
        for r in conn.execute(select(*group, func.count().label("n"), *agg).group_by(*group)).mappings():
            if r["sets"]:
                row = dict(r)
                row.update((k, bool(r["sets"] & (1 << i))) for i, k in enumerate(MATTER_SETS))
                out.append(row)
        return out

    def facts(self, where) -> list[MatterFact]:  # type: ignore[no-untyped-def]
        """The matters selected by ``where``, one fact each, with 用时 and the
        resident's name (the drill-down shows it)."""
        c = self.c
        cols = (Matter.receipt_no, Matter.origin, raw(Matter.matter_type_id), Matter.matter_name, Matter.category,
                Matter.channel, Matter.handler_name, Matter.status, raw(Matter.accepted_at), raw(Matter.closed_at),
                raw(Matter.promised_date), raw(Matter.resident_id), Resident.name)
        with c.db.session() as s:
            conn = s.connection()
            # keyed by the id exactly as the driver returns it, like the rows' ids
            types = {r[0]: (r[1], r[2] or 0) for r in conn.execute(
                select(raw(MatterType.id), MatterType.code, MatterType.promised_days))}
            rows = conn.execute(select(*cols).outerjoin(Resident, Resident.id == Matter.resident_id).where(where)
                                .order_by(Matter.accepted_at, Matter.receipt_no)).all()
        off = c.off
        parsed = [(r, _dt(r[8]) + off, _dt(r[9]) + off if r[9] is not None else None) for r in rows]
        ordinal = _workday_ordinals(self.cal, [(a, b) for _, a, b in parsed])
        out = []
        promised: dict[Any, date | None] = {}  # few distinct dates among many rows
        for r, acc, closed in parsed:
            code, days = types.get(r[2], ("", 0))
            used = ordinal[closed.date()] - ordinal[acc.date()] if (closed is not None and r[7] == "done") else None
            due = promised.get(r[10])
            if due is None:
                due = promised[r[10]] = _day(r[10])
            out.append(MatterFact(r[0], r[1], r[0], code, r[3], r[4], r[5], r[6], r[7], acc, closed, due,
                                  days, r[11], used, r[12] or ""))
        return out


def _workday_ordinals(cal: workdays.Calendar, spans: list[tuple[datetime, datetime | None]]) -> dict[date, int]:
    """Working days counted from the earliest date: the difference of two
    ordinals is the working days after the first date up to the second."""
    if not spans:
        return {}
    lo = min(a for a, _ in spans).date()
    hi = max((b for _, b in spans if b is not None), default=None)
    last = max(hi.date(), lo) if hi else lo
    last = max(last, max(a for a, _ in spans).date())
    d, n, out = lo, 0, {}
    while d <= last:
        if cal.is_working_day(d):
            n += 1
        out[d] = n
        d += timedelta(days=1)
    return out


class _Tally:
    """Counts and 用时 of one group of matters, per set."""

    __slots__ = ("n", "used_sum", "used_max", "used_n")

    def __init__(self) -> None:
        self.n = dict.fromkeys(MATTER_SETS, 0)
        self.used_sum = self.used_n = 0
        self.used_max: int | None = None

    def add(self, r: dict[str, Any]) -> None:
        for k in MATTER_SETS:
            if r[k]:
                self.n[k] += r["n"]
        if r["used_n"]:
            self.used_sum += int(r["used_sum"])
            self.used_n += r["used_n"]
            mx = int(r["used_max"])
            self.used_max = mx if self.used_max is None else max(self.used_max, mx)

    def avg(self) -> float | None:
        return round(self.used_sum / self.used_n, 1) if self.used_n else None


def _matter_tallies(rows: list[dict[str, Any]], types: dict[Any, tuple[str, int]]
                    ) -> tuple[_Tally, dict[str, dict[Any, _Tally]], dict[str, str], dict[str, int]]:
    """(the whole period, per dimension per value, type names by code,
    promised days by code)."""
    total = _Tally()
    by: dict[str, dict[Any, _Tally]] = {d: defaultdict(_Tally) for d in MATTER_DIMS}
    name_counts: dict[str, Counter[str]] = defaultdict(Counter)
    promised: dict[str, Counter[int]] = defaultdict(Counter)
    for r in rows:
        code, days = types.get(_key(r["tid"]), ("", 0))
        total.add(r)
        for dim in MATTER_DIMS:
            by[dim][code if dim == "type_code" else r[dim]].add(r)
        name_counts[code][r["name"]] += r["n"]
        promised[code][days] += r["n"]
    # Several spellings of one type (a catalogue edit, another station's
    # copy): the commonest names the row.
    names = {code: min(cn.items(), key=lambda kv: (-kv[1], kv[0]))[0] for code, cn in name_counts.items()}
    days = {code: min(pc.items(), key=lambda kv: (-kv[1], kv[0]))[0] for code, pc in promised.items()}
    return total, by, names, days


def _counter_section(c: _Ctx, total: _Tally, by_dim: dict[str, dict[Any, _Tally]], names: dict[str, str],
                     promised: dict[str, int], notices: int) -> Section:
    p = c.period
    sec = Section("counter", "一、窗口受理")
    labels = [("accepted", "受理"), ("done", "办结"), ("open_end", "期末在办"), ("overdue_done", "超期办结"),
              ("overdue_open", "超期未办结"), ("returned", "退回"), ("rejected", "不予受理")]
    for key, label in labels:
        sec.figures.append(Figure(label, total.n[key], "件", Drill("matters", key, (), f"{p.label} {label}")))
    sec.figures.append(Figure("一次性告知", notices, "次", Drill("notices", "in_period", (), f"{p.label} 一次性告知")))
    sec.figures.append(Figure("平均用时", total.avg(), "个工作日", Drill("matters", "done", (), f"{p.label} 办结"), "days"))
    sec.figures.append(Figure("最长用时", total.used_max, "个工作日", Drill("matters", "done", (), f"{p.label} 办结"),
                              "days"))
    sets = (("accepted", "受理"), ("done", "办结"), ("open_end", "期末在办"), ("overdue_done", "超期办结"),
            ("overdue_open", "超期未办结"))

    def by(dim: str, title: str, key: str, label_of: Callable[[Any], str], with_promise: bool = False) -> Table:
        groups = {g: t for g, t in by_dim[dim].items() if any(t.n[k] for k, _ in sets)}
        cols = [MATTER_DIMS[dim], "受理", "办结", "期末在办", "超期办结", "超期未办结", "平均用时", "最长用时"]
        if with_promise:
            cols.append("承诺时限")
        rows, drills = [], []
        for g in sorted(groups, key=lambda g: (-groups[g].n["accepted"], label_of(g))):
            t = groups[g]
            flt = ((dim, g),)
            lab = label_of(g)
            row = [lab, *(t.n[k] for k, _ in sets), t.avg(), t.used_max]
            d = [None] + [Drill("matters", k, flt, f"{p.label} {lab} {n}") for k, n in sets]
            d += [Drill("matters", "done", flt, f"{p.label} {lab} 办结")] * 2
            if with_promise:
                row.append(promised.get(g))
                d.append(None)
            rows.append(row)
            drills.append(d)
        if rows:
            rows.append(["合计", *(sum(r[i] for r in rows) for i in range(1, 6)), total.avg(), total.used_max]
                        + ([None] if with_promise else []))
            drills.append([None] + [Drill("matters", k, (), f"{p.label} {n}") for k, n in sets]
                          + [Drill("matters", "done", (), f"{p.label} 办结")] * 2 + ([None] if with_promise else []))
        fmts = {i: "int" for i in range(1, 6)} | {6: "days", 7: "days"}
        widths = [0.24, 0.09, 0.09, 0.1, 0.1, 0.11, 0.1, 0.09]
        if with_promise:
            fmts[8] = "days"
            widths = [0.2, 0.08, 0.08, 0.09, 0.09, 0.1, 0.09, 0.09, 0.08]
        return Table(key, title, cols, rows, drills, fmts, widths=[w / sum(widths) for w in widths])

    sec.tables.append(by("category", "按分类", "counter_category", str))
    sec.tables.append(by("type_code", "按事项", "counter_matter", lambda g: names.get(g, g), with_promise=True))
    sec.tables.append(by("channel", "按渠道", "counter_channel", lambda g: CHANNELS.get(g, g)))
    sec.tables.append(by("handler", "按经办人（首问负责人）", "counter_worker", str))
    ch = {g: t.n["accepted"] for g, t in by_dim["channel"].items()}
    sec.charts.append(Chart("bar", "受理件数（按渠道）", [CHANNELS[k] for k in CHANNELS], [ch.get(k, 0) for k in CHANNELS]))
    cats = sorted(((g, t.n["accepted"]) for g, t in by_dim["category"].items() if t.n["accepted"]),
                  key=lambda kv: (-kv[1], kv[0]))[:10]
    if cats:
        sec.charts.append(Chart("hbar", "受理件数（按分类）", [k for k, _ in cats], [v for _, v in cats]))
    sec.notes.append("受理＝本期受理；办结＝本期办结；期末在办＝期末尚未办结（含本期以前受理的）；超期＝晚于承诺日期。"
                     "用时按工作日计（受理当天不计，节假日与调休已扣除）。")
    return sec


class _RatingSQL:
    """好差评 as SQL: the period's ratings (of live matters) and the
    predicates behind its figures."""

    def __init__(self, c: _Ctx):
        self.c = c
        self.base = and_(c.in_period(MatterRating.at), c.where_origin(Matter.origin), Matter.deleted.is_(False))
        self.preds = {"all": true(), "good": MatterRating.level >= 4, "bad": MatterRating.level <= 2,
                      "bad_closed": and_(MatterRating.level <= 2, Rectification.status == "done"),
                      "level": true()}

    @staticmethod
    def _from(q):  # type: ignore[no-untyped-def]
        return (q.select_from(MatterRating).join(Matter, Matter.id == MatterRating.matter_id)
                .outerjoin(Rectification, and_(Rectification.matter_id == Matter.id, Rectification.deleted.is_(False))))

    def where(self, drill: Drill):  # type: ignore[no-untyped-def]
        cols = {"level": MatterRating.level, "origin": Matter.origin}
        return and_(self.base, self.preds[drill.pred], *(cols[k] == v for k, v in drill.filters))

    def counts(self) -> list[tuple[str, int, int]]:
        """(origin, level, count) of the period's ratings.  (Rectifications
        concern only the bad ones, which the report lists anyway.)"""
        q = (select(Matter.origin, MatterRating.level, func.count()).select_from(MatterRating)
             .join(Matter, Matter.id == MatterRating.matter_id).where(self.base)
             .group_by(Matter.origin, MatterRating.level))
        with self.c.db.session() as s:
            return [(r[0], r[1], r[2]) for r in s.connection().execute(q)]

    def facts(self, where) -> list[RatingFact]:  # type: ignore[no-untyped-def]
        c = self.c
        q = self._from(select(raw(MatterRating.id), Matter.origin, raw(Matter.id), Matter.receipt_no, Matter.matter_name,
                              raw(MatterRating.at), MatterRating.level, MatterRating.comment, raw(Matter.resident_id),
                              Rectification.status, Rectification.due_date, Rectification.callback_at,
                              Rectification.callback_by, Rectification.callback_note, Rectification.measures,
                              Resident.name)
                       ).outerjoin(Resident, Resident.id == Matter.resident_id).where(where)
        q = q.order_by(MatterRating.at, Matter.receipt_no)
        with c.db.session() as s:
            rows = s.connection().execute(q).all()
        return [RatingFact(r[0], r[1], r[2], r[3], r[4], _dt(r[5]) + c.off, r[6], r[7] or "", r[8], r[9] or "", r[10],
                           c.local(r[11]), r[12] or "", r[13] or "", r[14] or "", r[15] or "") for r in rows]


RECT_STATUS = {"open": "整改中", "done": "已整改回访", "": "—"}


def _satisfaction_section(c: _Ctx, counts: list[tuple[str, int, int]], bad_facts: list[RatingFact],
                          done_count: int) -> Section:
    p = c.period
    sec = Section("satisfaction", "二、好差评")
    levels: Counter[int] = Counter()
    for _o, lv, n in counts:
        levels[lv] += n
    total = sum(levels.values())
    good = levels[5] + levels[4]
    bad = levels[2] + levels[1]
    bad_closed = sum(1 for f in bad_facts if f.rect_status == "done")
    sec.figures += [
        Figure("评价数", total, "条", Drill("ratings", "all", (), f"{p.label} 评价")),
        Figure("满意率", good / total if total else None, "", Drill("ratings", "good", (), f"{p.label} 满意（5、4）"), "pct"),
        Figure("差评", bad, "条", Drill("ratings", "bad", (), f"{p.label} 差评")),
        Figure("差评已整改回访", bad_closed, "条", Drill("ratings", "bad_closed", (), f"{p.label} 差评已整改回访")),
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
    for f in bad_facts:
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


class _ServiceSQL:
    """Volunteer services (done assignments) from the first of the year (or
    the period's start, if earlier) to the period's end."""

    def __init__(self, c: _Ctx):
        self.c = c
        p = c.period
        self.year_start = date(p.end.year, 1, 1)
        first = min(self.year_start, p.start)
        self.base = and_(Assignment.status == "done", Assignment.deleted.is_(False), Assignment.day >= first,
                         Assignment.day <= p.end, c.where_origin(Assignment.origin))
        in_period = Assignment.day >= p.start
        self.preds = {"in_period": in_period, "skill": in_period, "volunteer": in_period,
                      "ytd_volunteer": Assignment.day >= self.year_start}

    @staticmethod
    def _from(q):  # type: ignore[no-untyped-def]
        return (q.select_from(Assignment).join(Volunteer, Volunteer.id == Assignment.volunteer_id)
                .join(Need, Need.id == Assignment.need_id))

    def where(self, drill: Drill):  # type: ignore[no-untyped-def]
        conds = []
        for k, v in drill.filters:
            if k == "volunteer_id":
                conds.append(Assignment.volunteer_id == _uid(v))
            elif k == "origin":
                conds.append(Assignment.origin == v)
            elif k != "skill":  # skills are a JSON list: filtered in Python (see facts)
                raise ValidationError("drill", "未知的明细。")
        return and_(self.base, self.preds[drill.pred], *conds)

    def counts(self) -> list[dict[str, Any]]:
        """Services grouped by station, volunteer, the need's skills, hours and
        whether they fall in the period / the year: small, and summed in
        Python in one order so SQLite and PostgreSQL give the same hours."""
        p = self.c.period
        keys = [Assignment.origin.label("origin"), raw(Volunteer.id).label("vid"), Volunteer.name.label("name"),
                Volunteer.number.label("number"), cast(Need.skills, Text).label("skills"),
                Assignment.hours.label("hours"), _flag(Assignment.day >= p.start).label("in_period"),
                _flag(Assignment.day >= self.year_start).label("ytd")]
        sub = self._from(select(*keys)).where(self.base).subquery()
        group = [sub.c[k.name] for k in keys]
        with self.c.db.session() as s:
            rows = [dict(r) for r in s.connection().execute(select(*group, func.count().label("n")).group_by(*group))
                    .mappings()]
        for r in rows:
            r["skills"] = tuple(json.loads(r["skills"]) or ()) if r["skills"] else ()
            r["hours"] = float(r["hours"] or 0)
        rows.sort(key=lambda r: (r["origin"], _key(r["vid"]), r["skills"], r["hours"], r["in_period"], r["ytd"]))
        return rows

    def facts(self, where, skill: str | None = None) -> list[ServiceFact]:  # type: ignore[no-untyped-def]
        q = self._from(select(Assignment.id, Assignment.origin, Volunteer.id, Volunteer.name, Volunteer.number,
                              Assignment.day, Assignment.hours, Need.skills, Need.title, Need.resident_id)
                       ).where(where).order_by(Assignment.day, Volunteer.number)
        with self.c.db.session() as s:
            out = [ServiceFact(r[0], r[1], r[2], r[3], r[4], r[5], float(r[6] or 0), tuple(r[7] or ()), r[8], r[9])
                   for r in s.execute(q)]
        if skill is not None:
            out = [f for f in out if skill in (f.skills or ("",))]
        return out


def _hours(pairs: Iterable[tuple[float, int]]) -> float:
    """Σ hours × count, added in a fixed order, to two decimals."""
    return round(sum(h * n for h, n in sorted(pairs)), 2)


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


def _volunteer_section(c: _Ctx, needs: list[NeedFact], services: list[dict[str, Any]],
                       skill_names: dict[str, str]) -> Section:
    p = c.period
    preds = _need_preds(p)
    member = {k: [f for f in needs if pr(f)] for k, pr in preds.items()}
    sec = Section("volunteers", "四、志愿服务")
    waits = [(f.matched - f.created).total_seconds() / 3600 for f in member["matched"] if f.matched >= f.created]
    in_period = [r for r in services if r["in_period"]]
    for key, label in (("received", "收到需求"), ("matched", "派单"), ("completed", "完成"), ("refused", "拒绝"),
                       ("cancelled", "取消")):
        sec.figures.append(Figure(label, len(member[key]), "件", Drill("needs", key, (), f"{p.label} 需求{label}")))
    sec.figures += [
        Figure("需求到派单平均", round(sum(waits) / len(waits), 1) if waits else None, "小时",
               Drill("needs", "matched", (), f"{p.label} 已派单需求"), "hours"),
        Figure("需求到派单最长", round(max(waits), 1) if waits else None, "小时",
               Drill("needs", "matched", (), f"{p.label} 已派单需求"), "hours"),
        Figure("服务人次", sum(r["n"] for r in in_period), "人次",
               Drill("services", "in_period", (), f"{p.label} 志愿服务记录")),
        Figure("服务时长", _hours((r["hours"], r["n"]) for r in in_period), "小时",
               Drill("services", "in_period", (), f"{p.label} 志愿服务记录"), "hours"),
    ]
    by_skill: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in in_period:
        for k in r["skills"] or ("",):
            by_skill[k].append(r)
    skill_hours = {k: _hours((r["hours"], r["n"]) for r in rs) for k, rs in by_skill.items()}
    rows, drills = [], []
    for k in sorted(by_skill, key=lambda k: (-skill_hours[k], k)):
        name = skill_names.get(k, k) or "（未注明）"
        rows.append([name, sum(r["n"] for r in by_skill[k]), skill_hours[k]])
        drills.append([None, Drill("services", "skill", (("skill", k),), f"{p.label} {name}"),
                       Drill("services", "skill", (("skill", k),), f"{p.label} {name}")])
    sec.tables.append(Table("hours_by_skill", "服务时长（按技能）", ["技能", "人次", "小时"], rows, drills,
                            {1: "int", 2: "hours"}, note="一项需求涉及几种技能时，其时长计入每一种。",
                            widths=[0.5, 0.25, 0.25]))
    by_vol: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in in_period:
        by_vol[_key(r["vid"])].append(r)
    vol_hours = {v: _hours((r["hours"], r["n"]) for r in rs) for v, rs in by_vol.items()}
    vrows, vdr = [], []
    for vid in sorted(by_vol, key=lambda v: (-vol_hours[v], by_vol[v][0]["number"], v)):
        first = by_vol[vid][0]
        vrows.append([first["number"], first["name"], sum(r["n"] for r in by_vol[vid]), vol_hours[vid]])
        d = Drill("services", "volunteer", (("volunteer_id", _uid(vid)),), f"{p.label} {first['name']}")
        vdr.append([None, None, d, d])
    sec.tables.append(Table("hours_by_volunteer", "服务时长（按志愿者）", ["志愿者编号", "姓名", "人次", "小时"], vrows, vdr,
                            {2: "int", 3: "hours"}, widths=[0.3, 0.3, 0.2, 0.2]))
    with c.db.session() as s:
        party = s.execute(select(Volunteer.id, Volunteer.number, Volunteer.name, Volunteer.employer,
                                 Volunteer.yearly_target_hours)
                          .where(Volunteer.party_member.is_(True), Volunteer.deleted.is_(False),
                                 c.where_origin(Volunteer.origin)).order_by(Volunteer.number)).all()
    ytd: dict[str, list[tuple[float, int]]] = defaultdict(list)
    for r in services:
        if r["ytd"]:
            ytd[_key(r["vid"])].append((r["hours"], r["n"]))
    prows, pdr = [], []
    for vid, number, name, employer, target in party:
        h = _hours(ytd.get(_key(vid), ()))
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


def _resident_facts(c: _Ctx, contacted) -> tuple[list[ResidentFact], list[ResidentFact]]:  # type: ignore[no-untyped-def]
    """(special-group residents, residents registered in the period).
    ``contacted``: a SQL condition on ``Resident.id`` (see ``_contacted``)."""
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
        conn = s.connection()
        people: dict[Any, list[Any]] = {}
        for rid, origin, name, grid, address, tag, seen in conn.execute(
                select(raw(Resident.id), Resident.origin, Resident.name, Resident.grid, Resident.address_text,
                       ResidentTag.tag, _flag(contacted))
                .join(Resident, Resident.id == ResidentTag.resident_id)
                .where(ResidentTag.deleted.is_(False), live)).all():
            person = people.get(rid)
            if person is None:
                people[rid] = [origin, name, grid or "", address or "", [tag], bool(seen)]
            else:
                person[4].append(tag)
        special = [ResidentFact(rid, o, n, g, a, tuple(sorted(tags)), None, seen)
                   for rid, (o, n, g, a, tags, seen) in people.items()]
        new = [ResidentFact(r[0], r[1], r[2], r[3] or "", r[4] or "", (), _uuid_time(uuid.UUID(_key(r[0])), c), True)
               for r in s.execute(select(Resident.id, Resident.origin, Resident.name, Resident.grid,
                                         Resident.address_text)
                                  .where(Resident.id >= lo, Resident.id < hi, Resident.deleted.is_(False),
                                         c.where_origin(Resident.origin)))]
    special.sort(key=attrgetter("grid", "name"))
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


def _contacted(c: _Ctx, msql: _MatterSQL, ssql: _ServiceSQL):  # type: ignore[no-untyped-def]
    """Residents the station served or saw in the period, as a condition on
    ``Resident.id`` for the database to evaluate: matters accepted,
    certificates issued or voided, refusals, needs raised, services received
    and one-time notices handed over."""
    subs = [
        select(Matter.resident_id).where(msql.where(Drill("matters", "accepted"))),
        select(Certificate.resident_id).where(Certificate.deleted.is_(False), c.where_origin(Certificate.origin),
                                              or_(c.in_period(Certificate.issued_at), c.in_period(Certificate.voided_at))),
        select(CertificateRefusal.resident_id).where(c.in_period(CertificateRefusal.at),
                                                     c.where_origin(CertificateRefusal.origin),
                                                     CertificateRefusal.resident_id.is_not(None)),
        select(Need.resident_id).where(c.in_period(Need.created_at), c.where_origin(Need.origin),
                                       Need.deleted.is_(False), Need.resident_id.is_not(None)),
        ssql._from(select(Need.resident_id)).where(ssql.where(Drill("services", "in_period")),
                                                   Need.resident_id.is_not(None)),
        select(NoticeLog.resident_id).where(c.in_period(NoticeLog.at), NoticeLog.resident_id.is_not(None)),
    ]
    return or_(*(Resident.id.in_(q) for q in subs))


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
    # The street gets counts, not names: who they are is an in-app drill-down
    # (and the station's own work list), never on the paper or sheet sent up.
    by_grid_tag = Counter((f.grid or "", t) for f in silent for t in f.tags)
    keys = sorted(by_grid_tag, key=lambda k: (k[0], SPECIAL_GROUPS.index(k[1]) if k[1] in SPECIAL_GROUPS else 99))
    srows = [[g or "（未分网格）", t, by_grid_tag[(g, t)]] for g, t in keys]
    sdr = [[None, None, Drill("special", "tag_no_contact", (("grid", g), ("tag", t)),
                              f"{p.label} 未接触：{g or '未分网格'} {t}")] for g, t in keys]
    sec.tables.append(Table("no_contact", "本期未接触的特殊群体（按网格和群体计数，请安排走访）", ["网格", "群体", "未接触人数"],
                            srows, sdr, {2: "int"}, note="名单不随报表上报：在本软件中点击人数查看，供本站安排走访。",
                            widths=[0.4, 0.35, 0.25]))
    sec.charts.append(Chart("hbar", "特殊群体人数", [g for g in SPECIAL_GROUPS if groups.get(g)],
                            [groups[g] for g in SPECIAL_GROUPS if groups.get(g)]))
    return sec


def _comparison_section(c: _Ctx, matters: dict[Any, _Tally], ratings: list[tuple[str, int, int]],
                        certs: list[CertFact], refusals: list[RefusalFact], services: list[dict[str, Any]],
                        names: dict[str, str]) -> Section:
    p = c.period
    cp = _cert_preds(p)
    origins = sorted(set(matters) | {f.origin for f in certs} | {r[0] for r in ratings}
                     | {r["origin"] for r in services} | set(c.stations))
    rows, drills = [], []
    for o in origins:
        flt = (("origin", o),)
        t = matters.get(o) or _Tally()
        rated = sum(r[2] for r in ratings if r[0] == o)
        good = sum(r[2] for r in ratings if r[0] == o and r[1] >= 4)
        rows.append([names.get(o, o), t.n["accepted"], t.n["done"], t.n["overdue_done"] + t.n["overdue_open"],
                     rated, good / rated if rated else None,
                     sum(1 for f in certs if f.origin == o and cp["issued"](f)),
                     sum(1 for f in refusals if f.origin == o),
                     _hours((r["hours"], r["n"]) for r in services if r["origin"] == o and r["in_period"])])
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


def _timed(fn: Callable[[], Any]) -> tuple[Any, float]:
    import time as _time

    t = _time.perf_counter()
    return fn(), _time.perf_counter() - t


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

    def mark(name: str) -> None:  # seconds since the previous mark
        timings[name] = _time.perf_counter() - t0 - sum(v for k, v in timings.items() if k != "counter_queries")

    step(0)
    cal = workdays.load(db)
    msql, rsql, ssql = _MatterSQL(c, cal), _RatingSQL(c), _ServiceSQL(c)
    # The counter's GROUP BY queries are the largest part and run inside
    # the database driver, which releases the GIL: they go on in a thread
    # (on its own connection) while the other sections are read here.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="report-counter") as pool:
        counted = pool.submit(_timed, msql.counts)
        with db.session() as s:
            notices = list(s.execute(select(NoticeLog.id, NoticeLog.origin, NoticeLog.at, NoticeLog.notice_no,
                                            NoticeLog.resident_id, NoticeLog.actor_name, MatterType.name)
                                     .join(MatterType, MatterType.id == NoticeLog.matter_type_id)
                                     .where(c.in_period(NoticeLog.at), c.where_origin(NoticeLog.origin))).all())
        step(1)
        rating_counts = rsql.counts()
        bad = rsql.facts(rsql.where(Drill("ratings", "bad")))
        mark("satisfaction")
        step(2)
        certs, refusals, seals = _cert_facts(c)
        mark("certificates")
        step(3)
        needs = _need_facts(c)
        services = ssql.counts()
        from desktop.services.volunteers import skills as skill_names

        volunteer_section = _volunteer_section(c, needs, services, skill_names(db))
        mark("volunteers")
        step(4)
        special, new = _resident_facts(c, _contacted(c, msql, ssql))
        changes = _change_facts(c)
        mark("residents")
        (matter_rows, types), timings["counter_queries"] = counted.result()
    total, by_dim, type_names, promised = _matter_tallies(matter_rows, types)
    sections = [_counter_section(c, total, by_dim, type_names, promised, len(notices)),
                _satisfaction_section(c, rating_counts, bad, total.n["done"]),
                _cert_section(c, certs, refusals, seals), volunteer_section,
                _resident_section(c, special, new, changes)]
    mark("counter")
    # The small lists stay with the report for the drill-down; matters,
    # ratings and services are read again, by the same predicates, when a
    # figure is opened.
    facts = {"certificates": certs, "refusals": refusals, "seals": seals, "needs": needs, "special": special,
             "residents": new, "changes": changes, "notices": [tuple(n) for n in notices]}
    all_names = dict(station_choices(db))
    here = accounts.station_info(db)
    origins_seen = set(by_dim["origin"]) | {f.origin for f in new} | {f.origin for f in special}
    step(5)
    if len(stations) > 1 or (not stations and len(origins_seen - {None}) > 1):
        sections.append(_comparison_section(c, by_dim["origin"], rating_counts, certs, refusals, services, all_names))
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


def matching(db: Database, report: Report, drill: Drill) -> list[Any]:
    """The facts behind a figure: matters, ratings and services selected
    from the database by the figure's own predicate, the other (small)
    lists filtered from those the report kept."""
    p = report.period
    if drill.kind in ("matters", "ratings", "services"):
        c = _Ctx(db, p, report.stations)
        if drill.kind == "matters":
            msql = _MatterSQL(c, workdays.load(db))
            return msql.facts(msql.where(drill))
        if drill.kind == "ratings":
            rsql = _RatingSQL(c)
            return rsql.facts(rsql.where(drill))
        ssql = _ServiceSQL(c)
        return ssql.facts(ssql.where(drill), skill=dict(drill.filters).get("skill"))
    facts = report.facts.get(drill.kind, [])
    if drill.kind == "certificates":
        pred = _cert_preds(p)[drill.pred]
    elif drill.kind == "needs":
        pred = _need_preds(p)[drill.pred]
    elif drill.kind == "special":
        pred = {"all": lambda f: True, "tag": lambda f: True, "no_contact": lambda f: not f.contacted,
                "tag_no_contact": lambda f: not f.contacted}[drill.pred]
    else:  # refusals, seals, residents, changes, notices: every fact is in the period
        pred = (lambda f: True)  # noqa: E731
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
    facts = matching(db, report, drill)
    if limit is not None:
        facts = facts[:limit]
    st = report.station_names
    k = drill.kind
    if k == "matters":
        from desktop.services.counter import STATUSES

        rows = [[f.receipt_no, f.resident_name, f.matter, CHANNELS.get(f.channel, f.channel), f.handler,
                 f.accepted, f.promised, f.closed, STATUSES.get(f.status, f.status), f.used_days, st.get(f.origin, f.origin)]
                for f in sorted(facts, key=lambda f: f.accepted)]
        cols = ["回执号", "居民", "事项", "渠道", "经办人", "受理时间", "承诺日期", "办结时间", "状态", "用时(工作日)", "站点"]
    elif k == "ratings":
        rows = [[f.at, f.receipt_no, f.resident_name, f.matter, RATINGS[f.level], f.comment,
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
