"""The report's building blocks, shared by every section module: the period
and its context (``_Ctx``), the result dataclasses (Figure, Table, Chart,
Section, Report, Records, Drill), small helpers for raw ids, timestamps and
names, and the section protocol (``ReportSection``, ``Run``,
``StationColumn``) that the modules of this package implement.  See the
package docstring for how to add a section."""

from __future__ import annotations

import time as _time
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import cached_property
from typing import TYPE_CHECKING, Any, Callable, Iterable

from sqlalchemy import Date, Integer, Interval, String, and_, case, cast, func, literal, select, true, type_coerce

from db.engine import Database
from db.errors import ValidationError
from db.localtime import utc_offset
from db.models import Resident
from desktop.services import workdays

if TYPE_CHECKING:
    from concurrent.futures import ThreadPoolExecutor

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
        for p in (
            cls.month(start.year, start.month),
            cls.quarter(start.year, (start.month + 2) // 3),
            cls.year(start.year),
        ):
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

    @cached_property
    def calendar(self) -> workdays.Calendar:
        """The working-day calendar (holidays, 调休), read once per report."""
        return workdays.load(self.db)

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
        yield ids[i : i + CHUNK]


def _dt(v: Any) -> datetime | None:
    """A timestamp read raw: SQLite gives its ISO text, PostgreSQL a datetime."""
    if v is None or isinstance(v, datetime):
        return v
    return datetime.fromisoformat(v)


def _ts(v: Any) -> datetime:
    """A NOT NULL timestamp read raw."""
    return v if isinstance(v, datetime) else datetime.fromisoformat(v)


def _date(v: Any) -> date:
    """A NOT NULL date read raw."""
    return v if isinstance(v, date) else date.fromisoformat(v)


def _day(v: Any) -> date | None:
    if v is None or isinstance(v, date):
        return v
    return date.fromisoformat(v)


def _flag(cond):  # type: ignore[no-untyped-def]
    return case((cond, 1), else_=0)


def _hours(pairs: Iterable[tuple[float, int]]) -> float:
    """Σ hours × count, added in a fixed order, to two decimals."""
    return round(sum(h * n for h, n in sorted(pairs)), 2)


def _timed(fn: Callable[[], Any]) -> tuple[Any, float]:

    t = _time.perf_counter()
    return fn(), _time.perf_counter() - t


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


def _names(db: Database, ids: Iterable[Any]) -> dict[str, str]:
    """Residents' names by ``_key`` of their id."""
    wanted = list({uuid.UUID(_key(i)) for i in ids if i is not None})
    out: dict[str, str] = {}
    with db.session() as s:
        for chunk in _chunks(wanted):
            out.update(
                {k.hex: n for k, n in s.execute(select(Resident.id, Resident.name).where(Resident.id.in_(chunk))).all()}
            )
    return out


# ---------------------------------------------------------------- the section protocol


@dataclass
class StationColumn:
    """One column a section adds to 各站对比: its heading, its value for a
    station (origin code), its cell format and PDF width (a fraction of the
    page, before the columns are scaled to fit), and optionally the drill
    behind a cell, given (origin, station name)."""

    label: str
    value: Callable[[str], Any]
    fmt: str = "int"
    width: float = 0.08
    drill: Callable[[str, str], Drill | None] | None = None


@dataclass
class StationColumns:
    """A section's contribution to 各站对比: the stations it has records for
    (each gets a row) and its columns, in order."""

    origins: set[str]
    columns: list[StationColumn]


class Run:
    """One report being built: the period's context, what each section
    collected (``results``, by section key), the facts kept on the report
    for the drill-down (``facts``, by drill kind), the registered sections,
    and a two-thread pool for work a section wants to run beside the others
    (the counter's GROUP BY queries, the visit schedule)."""

    def __init__(self, ctx: _Ctx, sections: list[ReportSection], pool: ThreadPoolExecutor) -> None:
        self.ctx, self.db, self.sections, self.pool = ctx, ctx.db, sections, pool
        self.results: dict[str, Any] = {}
        self.facts: dict[str, list[Any]] = {}
        self.timings: dict[str, float] = {}
        # set by build() after every finish(), before any section():
        self.seen_origins: set[str] = set()  # union of the sections' seen_origins
        self.station_names: dict[str, str] = {}  # every station's name by code

    def result(self, key: str) -> Any:
        """What the section ``key`` collected (and finished); a section reads
        another's result only through this, naming it."""
        return self.results[key]

    def contacted(self) -> Any:
        """本期接触: a condition on ``Resident.id`` true for the residents any
        registered section says it contacted in the period."""
        from sqlalchemy import or_

        subs = [q for sec in self.sections for q in sec.contacted(self.ctx)]
        return or_(*(Resident.id.in_(q) for q in subs))


class ReportSection:
    """One section of the report.  Subclass it in a module of its own, set
    the class attributes, override what the section needs, and add an
    instance to ``SECTIONS`` (registry.py).  Everything has a default that
    does nothing, so a small section overrides ``collect``, ``section`` and,
    if its figures can be clicked, ``records``.

    Order of calls in ``build()``: ``collect`` of every section, in list
    order (one progress step each); then ``finish`` of every section; then
    ``section`` of every section, whose non-None results are the report's
    sections, numbered 一、二、… in that order."""

    key: str = ""  # Section.key, and the key of its result in Run.results
    title: str = ""  # without its number: build() numbers the sections shown
    step: str = ""  # the progress label while collecting (default: title)
    kinds: tuple[str, ...] = ()  # the Drill kinds this section owns (matching/records)
    # with ``contacted``: the words for its contacts in the note under 特殊群体
    # (“接触”指本期在本站办事、…), e.g. "接受入户走访"; the built-in sections' are fixed
    contact_label: str = ""

    # ---- building
    def collect(self, run: Run) -> Any:
        """Read the period's records; return what ``section`` needs (kept in
        ``run.results[key]``).  Put the small lists the drill-down filters
        into ``run.facts[kind]`` (one NamedTuple per record)."""
        return None

    def finish(self, run: Run) -> None:
        """Wait for work started in ``collect`` (e.g. on ``run.pool``) and
        complete ``run.results[key]``.  Called after every collect."""

    def section(self, run: Run) -> Section | None:
        """The section's figures, tables, charts and notes, or None to leave
        it out of this report.  Set ``key`` and ``title`` from the class."""
        return None

    # ---- declared cross-section inputs
    def contacted(self, c: _Ctx) -> list[Any]:
        """SELECTs of one resident-id column: the residents this section's
        records show the station served or saw in the period (本期接触 in the
        residents section).  Return [] when the section contacts nobody;
        otherwise set ``contact_label`` too."""
        return []

    def seen_origins(self, run: Run) -> set[str]:
        """The stations (origin codes) whose records this section counted;
        the report's label and whether 各站对比 is shown depend on them."""
        return set()

    def per_station(self, run: Run) -> StationColumns | None:
        """Columns for 各站对比, or None for no columns."""
        return None

    # ---- drill-down
    def fact_preds(self, kind: str, period: Period) -> dict[str, Callable[[Any], bool]]:
        """For kinds kept in ``run.facts``: the predicate of each ``Drill.pred``.
        Default: every fact kept is in the period, whatever the pred."""
        return {}

    def matching(self, c: _Ctx, report: Report, drill: Drill) -> list[Any]:
        """The facts behind ``drill`` (one of ``kinds``).  Default: the facts
        the report kept for the kind, filtered by ``fact_preds`` and the
        drill's filters.  Big kinds override this with a SQL select."""
        pred = self.fact_preds(drill.kind, c.period).get(drill.pred, lambda f: True)
        return [f for f in report.facts.get(drill.kind, []) if pred(f) and _filters_ok(f, drill.filters)]

    def records(
        self, db: Database, report: Report, drill: Drill, facts: list[Any]
    ) -> tuple[list[str], list[list[Any]]]:
        """(columns, rows) of the drill-down table for ``facts``."""
        raise ValidationError("drill", "未知的明细。")


NUMERALS = "一二三四五六七八九十"


def numbered(i: int, title: str) -> str:
    """一、窗口受理 …: the i-th (from 0) section's heading."""
    n = NUMERALS[i] if i < 10 else ("十" + NUMERALS[i - 10] if i < 19 else str(i + 1))
    return f"{n}、{title}"
