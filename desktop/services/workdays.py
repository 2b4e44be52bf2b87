"""Working days: Monday to Friday, minus public holidays, plus make-up
working days (调休), from a holiday file the supervisor can update.

The shipped file (``resources/data/holidays.json``) seeds the station's
``calendar_days`` on first use; a supervisor imports next year's file when
the State Council publishes it (usually in November). Years the file does not
cover count weekends only, and ``covered_until`` lets the window say so.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import func, select

from db.clock import shared_id
from db.engine import Database
from db.errors import ValidationError
from db.models import CalendarDay
from desktop.paths import resources_dir
from desktop.services import audit
from desktop.services.context import Actor

FORMAT = "station-desk-holidays/1"
SHIPPED = "data/holidays.json"


@dataclass(frozen=True)
class Calendar:
    """An in-memory view: fast enough to compute thousands of due dates."""

    holidays: frozenset[date]
    workdays: frozenset[date]
    names: dict[date, str]
    years: frozenset[int]

    def is_working_day(self, d: date) -> bool:
        if d in self.workdays:
            return True
        if d in self.holidays:
            return False
        return d.weekday() < 5

    def add_working_days(self, start: date, n: int) -> date:
        """The date ``n`` working days after ``start`` (the day of acceptance
        does not count). ``n == 0`` is the same day."""
        d = start
        while n > 0:
            d += timedelta(days=1)
            if self.is_working_day(d):
                n -= 1
        return d

    def working_days_between(self, start: date, end: date) -> int:
        """Working days after ``start`` up to and including ``end``."""
        if end <= start:
            return 0
        return sum(1 for i in range(1, (end - start).days + 1) if self.is_working_day(start + timedelta(days=i)))

    def ordinals(self, first: date, last: date) -> dict[date, int]:
        """Each day from ``first`` to ``last`` numbered by the working days
        counted from ``first`` (``first`` itself is 0): the difference of two
        days' numbers is the working days after the earlier one up to and
        including the later one, as ``working_days_between`` counts them.
        The report's 用时 reads this table, in SQL and in its drill-down."""
        out: dict[date, int] = {}
        d, n = first, 0
        while d <= last:
            if d > first and self.is_working_day(d):
                n += 1
            out[d] = n
            d += timedelta(days=1)
        return out

    def covers(self, d: date) -> bool:
        return d.year in self.years


def parse_file(data: bytes | str) -> list[tuple[date, str, str]]:
    """Check a holiday file and return (date, kind, name) rows."""
    try:
        doc = json.loads(data)
    except (ValueError, UnicodeDecodeError) as e:
        raise ValidationError("file", "节假日文件无法读取：不是有效的 JSON 文件。") from e
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise ValidationError("file", "这不是社区一站通的节假日文件（格式标记不对）。")
    rows = []
    for i, item in enumerate(doc.get("days") or [], 1):
        try:
            d = date.fromisoformat(item["date"])
            kind = item["kind"]
            name = str(item.get("name") or "")[:32]
        except (KeyError, TypeError, ValueError) as e:
            raise ValidationError("file", f"节假日文件第 {i} 条有误：日期应写成 2026-10-01。") from e
        if kind not in ("holiday", "workday"):
            raise ValidationError("file", f"节假日文件第 {i} 条有误：类型只能是 holiday 或 workday。")
        rows.append((d, kind, name))
    years = doc.get("years")
    if not isinstance(years, list) or not all(isinstance(y, int) for y in years):
        raise ValidationError("file", "节假日文件缺少 years（收录的年份）。")
    stray = [d for d, _, _ in rows if d.year not in years]
    if stray:
        raise ValidationError("file", f"节假日文件中的 {stray[0]} 不在它声明的年份 {years} 之内。")
    return rows + [(date(y, 1, 1), "year", "") for y in years]


def _apply(db: Database, rows: list[tuple[date, str, str]]) -> int:
    """Replace the calendar for the years the rows cover; returns days written.

    Every file lists 1 January of each year it covers (a holiday even on a
    weekend): that row is how ``load`` knows which years are covered.
    """
    years = {d.year for d, k, _ in rows if k == "year"}
    days = {d: (k, n) for d, k, n in rows if k != "year"}
    for y in years:
        if days.get(date(y, 1, 1), ("",))[0] != "holiday":
            raise ValidationError("file", f"节假日文件中 {y} 年缺少元旦（1 月 1 日），文件可能不完整。")
    with db.session() as s:
        existing = {c.day: c for c in s.scalars(select(CalendarDay)) if c.day.year in years}
        for d, c in existing.items():
            if d not in days and not c.deleted:
                c.deleted = True
        for d, (k, n) in days.items():
            found = existing.get(d)
            if found is None:
                s.add(CalendarDay(id=shared_id("calendar_days", d.isoformat()), day=d, kind=k, name=n))
            elif (found.kind, found.name, found.deleted) != (k, n, False):
                found.kind, found.name, found.deleted = k, n, False
    return len(days)


def ensure_seeded(db: Database) -> None:
    """Load the shipped holiday file into an empty calendar."""
    with db.session() as s:
        if s.scalar(select(func.count()).select_from(CalendarDay)):
            return
    _apply(db, parse_file((resources_dir() / SHIPPED).read_bytes()))


def import_file(db: Database, actor: Actor, path: str | Path) -> int:
    actor.require("supervisor", "更新节假日")
    try:
        data = Path(path).read_bytes()
    except OSError as e:
        raise ValidationError("file", f"无法打开节假日文件：{e.strerror or e}") from e
    rows = parse_file(data)
    ensure_seeded(db)  # otherwise the shipped years would never load afterwards
    n = _apply(db, rows)
    with db.session() as s:
        audit.record(s, "holidays_import", actor, days=n)
    return n


def load(db: Database) -> Calendar:
    ensure_seeded(db)
    with db.session() as s:
        rows = s.execute(
            select(CalendarDay.day, CalendarDay.kind, CalendarDay.name).where(CalendarDay.deleted.is_(False))
        ).all()
    holidays = frozenset(d for d, k, _ in rows if k == "holiday")
    workdays = frozenset(d for d, k, _ in rows if k == "workday")
    # A year counts as covered when its New Year's Day is in the calendar.
    years = frozenset(d.year for d in holidays if d.month == 1 and d.day == 1)
    return Calendar(holidays, workdays, {d: n for d, _, n in rows}, years)
