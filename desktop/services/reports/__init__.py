"""报表: the supervisor's report for a period, at a station or across a hub.

The package: ``base.py`` holds the dataclasses, the period context
(``_Ctx``) and the section protocol (``ReportSection``); each section is one
module (``counter``, ``satisfaction``, ``certificates``, ``volunteers``,
``residents``, ``comparison``); ``registry.SECTIONS`` lists them in report
order, and ``build()``, ``matching()`` and ``records()`` below only iterate
that list.

How to add a section — write ONE module like ``certificates.py`` (small
facts filtered in Python) or ``satisfaction.py`` (a big kind counted in SQL),
and add an instance to ``SECTIONS`` in ``registry.py``, before
``ComparisonSection`` (which stays last).  The module:

1. defines its facts as NamedTuples (one per record the drill-down lists);
2. subclasses ``ReportSection`` with ``key`` (Section.key, unique),
   ``title`` without its number (build() numbers the sections shown:
   一、二、…), optionally ``step`` (the progress label, default the title),
   and ``kinds``: the ``Drill.kind`` values it owns (unique across sections);
3. ``collect(run)`` reads the period's records (``run.ctx``: ``period``,
   ``stations``, ``in_period(col)``, ``where_origin(col)``, ``local(dt)``,
   ``off``, ``calendar``), puts the lists its drills filter into
   ``run.facts[kind]`` and returns whatever ``section()`` needs (kept as
   ``run.results[key]``; read another section's result only via
   ``run.result("counter")``);
4. ``section(run)`` returns its ``Section(self.key, self.title, …)`` with
   figures, tables, charts and notes (each clickable number carries a
   ``Drill(kind, pred, filters, title)``), or None to leave it out;
5. for the drill-down: ``fact_preds(kind, period)`` maps each ``pred`` to a
   Python predicate on its facts (default: every kept fact matches) — or
   ``matching(c, report, drill)`` selects from the database with the same
   SQL predicate as the figure (big kinds) — and ``records(db, report,
   drill, facts)`` gives the drill-down's (columns, rows);
6. declared cross-section inputs, all optional: ``contacted(c)`` — SELECTs
   of resident ids the section contacted in the period (they count towards
   本期接触 in 居民信息; set ``contact_label`` too, e.g. "接受入户走访", for
   the note that says what 接触 means); ``per_station(run)`` — ``StationColumns`` for
   各站对比; ``seen_origins(run)`` — stations its records came from.

``tests/services/test_report_sections.py`` registers a throwaway section
(audit-log entries) with ``registry.registered(...)`` and shows the whole
path: figure, drill-down, PDF and Excel.

A minimal section module (``desktop/services/reports/visits.py``)::

    import uuid
    from datetime import datetime
    from typing import Any, NamedTuple
    from sqlalchemy import select
    from db.engine import Database
    from .base import Drill, Figure, Report, ReportSection, Run, Section, _Ctx

    class VisitFact(NamedTuple):
        id: uuid.UUID
        origin: str
        at: datetime  # local: c.local(row.at)
        resident_id: uuid.UUID

    class VisitsSection(ReportSection):
        key, title, kinds = "visits", "入户走访", ("visits",)
        contact_label = "接受入户走访"

        def collect(self, run: Run) -> Any:
            c = run.ctx
            ...  # select rows WHERE c.in_period(Visit.at), c.where_origin(Visit.origin)
            run.facts["visits"] = [VisitFact(...) for r in rows]

        def section(self, run: Run) -> Section | None:
            p = run.ctx.period
            sec = Section(self.key, self.title)
            sec.figures.append(Figure("走访", len(run.facts["visits"]), "户",
                                      Drill("visits", "all", (), f"{p.label} 走访")))
            return sec

        def contacted(self, c: _Ctx) -> list[Any]:  # the visited count as 本期接触
            return [select(Visit.resident_id).where(c.in_period(Visit.at), c.where_origin(Visit.origin))]

        def records(
            self, db: Database, report: Report, drill: Drill, facts: list[Any]
        ) -> tuple[list[str], list[list[Any]]]:
            return ["时间", "居民"], [[f.at, ...] for f in sorted(facts, key=lambda f: f.at)]

and in ``registry.py``: ``from .visits import VisitsSection`` and
``VisitsSection(),`` in ``SECTIONS`` before ``ComparisonSection()``.
Work that should run beside the other sections goes on ``run.pool`` in
``collect`` and is awaited in ``finish`` (see ``counter.py``).  Names in the
drill-down: ``base._names(db, ids)``; never ID numbers.

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
  year; the counter's queries and the visit schedule run in worker threads
  while the other sections are read (SQLite works outside the GIL).
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

import time as _time
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from typing import Callable, Iterable

from sqlalchemy import select

from db.clock import utcnow
from db.engine import Database
from db.errors import ValidationError
from db.models import Station
from desktop.services import accounts, gcpause
from desktop.services.context import Actor

from . import registry
from .base import (
    CHUNK,
    MAX_DAYS,
    Chart,
    Drill,
    Figure,
    Period,
    Records,
    Report,
    ReportSection,
    Run,
    Section,
    StationColumn,
    StationColumns,
    Table,
    _Ctx,
    numbered,
)
from .certificates import CertFact, RefusalFact, SealFact
from .counter import MATTER_DIMS, MATTER_SETS, MatterFact, NoticeFact
from .registry import SECTIONS
from .residents import CHANGE_ACTIONS, ChangeFact, ResidentFact
from .satisfaction import RECT_STATUS, RatingFact
from .volunteers import NeedFact, ServiceFact

__all__ = [
    "CHANGE_ACTIONS",
    "CHUNK",
    "MATTER_DIMS",
    "MATTER_SETS",
    "MAX_DAYS",
    "RECT_STATUS",
    "SECTIONS",
    "CertFact",
    "ChangeFact",
    "Chart",
    "Drill",
    "Figure",
    "MatterFact",
    "NeedFact",
    "NoticeFact",
    "Period",
    "RatingFact",
    "Records",
    "RefusalFact",
    "Report",
    "ReportSection",
    "ResidentFact",
    "Run",
    "SealFact",
    "Section",
    "ServiceFact",
    "StationColumn",
    "StationColumns",
    "Table",
    "build",
    "matching",
    "records",
    "registry",
    "station_choices",
]


def station_choices(db: Database) -> list[tuple[str, str]]:
    """(code, name) of every station whose records this database holds."""
    with db.session() as s:
        rows = s.execute(
            select(Station.code, Station.name).where(Station.deleted.is_(False)).order_by(Station.code)
        ).all()
    return [(r[0], r[1]) for r in rows]


def build(
    db: Database,
    actor: Actor,
    period: Period,
    stations: Iterable[str] | None = None,
    progress: Callable[[int, int, str], None] | None = None,
    today: date | None = None,
) -> Report:
    """The report for ``period``.  ``stations``: origin codes to include;
    None or empty means every station whose records are in this database
    (at a station that is the station itself; at a hub, all of them)."""
    actor.require("supervisor", "查看报表")
    stations = tuple(sorted(set(stations or ())))
    c = _Ctx(db, period, stations)
    sections = list(SECTIONS)
    steps = [s.step or s.title for s in sections]
    t0 = last = _time.perf_counter()

    def step(i: int) -> None:
        if progress:
            progress(i, len(steps), steps[i] if i < len(steps) else "完成")

    # Workers for the big GROUP BY queries (the counter's slices, the
    # ratings) and the visit schedule, beside each other and beside the
    # sections read in this thread: the database works outside the GIL.
    # The facts read stay alive until the report is done: the cyclic
    # collector would walk them again and again meanwhile (gcpause).
    with gcpause.paused(), ThreadPoolExecutor(max_workers=4, thread_name_prefix="report-worker") as pool:
        run = Run(c, sections, pool)
        timings = run.timings

        def mark(name: str) -> None:  # seconds since the previous mark, added to ``name``
            nonlocal last
            now = _time.perf_counter()
            timings[name] = timings.get(name, 0.0) + now - last
            last = now

        for i, sec in enumerate(sections):
            step(i)
            run.results[sec.key] = sec.collect(run)
            mark(sec.key)
        for sec in sections:
            sec.finish(run)
            mark(sec.key)
    run.station_names = dict(station_choices(db))
    run.seen_origins = set().union(*(sec.seen_origins(run) for sec in sections))
    shown: list[Section] = []
    for sec in sections:
        got = sec.section(run)
        if got is not None:
            got.title = numbered(len(shown), got.title)
            shown.append(got)
        mark(sec.key)
    step(len(steps))
    all_names, seen = run.station_names, run.seen_origins
    here = accounts.station_info(db)
    if stations:
        label = "、".join(all_names.get(x, x) for x in stations)
    else:
        label = (
            here.name
            if here and seen <= {here.code}
            else (f"{here.name}（含全部 {len(seen)} 个站点）" if here else "全部站点")
        )
    timings["total"] = _time.perf_counter() - t0
    now_local = utcnow() + c.off
    # The small lists stay with the report for the drill-down, by drill kind;
    # matters, ratings and services are read again, by the same predicates,
    # when a figure is opened.
    return Report(
        f"{label} {period.label}工作报表",
        label,
        stations,
        all_names,
        period,
        actor.display_name,
        now_local,
        shown,
        run.facts,
        timings,
    )


def matching(db: Database, report: Report, drill: Drill) -> list[object]:
    """The facts behind a figure: the big kinds selected from the database
    by the figure's own predicate, the small lists filtered from those the
    report kept — by the section that owns the drill's kind."""
    sec = registry.owner(drill.kind)
    if sec is None:
        return []
    return sec.matching(_Ctx(db, report.period, report.stations), report, drill)


def records(db: Database, actor: Actor, report: Report, drill: Drill, limit: int | None = None) -> Records:
    """The records behind a figure, as a table for the window or a sheet.
    Names are shown (the supervisor follows up on them); ID numbers never."""
    actor.require("supervisor", "查看报表明细")
    facts = matching(db, report, drill)
    if limit is not None:
        facts = facts[:limit]
    sec = registry.owner(drill.kind)
    if sec is None:
        raise ValidationError("drill", "未知的明细。")
    cols, rows = sec.records(db, report, drill, facts)
    return Records(drill.title, cols, rows)
