"""一、窗口受理: the counter's matters (counted in the database by SQL
predicates, in a worker thread beside the other sections) and the one-time
notices (告知单) handed over in the period."""

from __future__ import annotations

import uuid
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta
from functools import partial
from typing import Any, Callable, NamedTuple

from sqlalchemy import Integer, and_, case, column, func, literal, or_, select, values

from db.engine import Database
from db.models import Matter, MatterType, NoticeLog, Resident
from desktop.services import workdays
from desktop.services.counter import CHANNELS

from .base import (
    EPOCH,
    Chart,
    Drill,
    Figure,
    Report,
    ReportSection,
    Run,
    Section,
    StationColumn,
    StationColumns,
    Table,
    _Ctx,
    _date,
    _flag,
    _key,
    _names,
    _timed,
    _ts,
    raw,
)


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


MATTER_DIMS = {"category": "分类", "type_code": "事项", "channel": "渠道", "handler": "经办人", "origin": "站点"}
MATTER_SETS = ("accepted", "done", "open_end", "overdue_done", "overdue_open", "returned", "rejected")


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
        col = {
            "category": Matter.category,
            "channel": Matter.channel,
            "handler": Matter.handler_name,
            "origin": Matter.origin,
        }[dim]
        return col == value

    def where(self, drill: Drill):  # type: ignore[no-untyped-def]
        return and_(self.base, self.preds[drill.pred], *(self.dim_filter(k, v) for k, v in drill.filters))

    def _day_table(self, lo: date, hi: date):  # type: ignore[no-untyped-def]
        """The per-day table of working-day numbers from ``lo`` to ``hi``
        (``Calendar.ordinals``, the drill-down's table too) as an inline
        VALUES list (k: day number since EPOCH, o: working-day number), so
        用时 is one subtraction of two looked-up numbers.  Inline rather than
        a stored or temporary table: it is a few hundred rows that depend on
        the calendar as read for this report, it needs no write (a hub
        reading a replica, a read-only session) and each query carries its
        own copy, so the counter's thread and its connection need no setup."""
        return (
            values(column("k", Integer), column("o", Integer), name="workday_no")
            .data([((d - EPOCH).days, n) for d, n in self.cal.ordinals(lo, hi).items()])
            .cte("workday_no")
        )

    def types(self) -> dict[Any, tuple[str, int]]:
        """The matter types by id (as ``_key`` gives it): (code, promised days)."""
        with self.c.db.session() as s:
            return {
                _key(r[0]): (r[1], r[2] or 0)
                for r in s.execute(select(raw(MatterType.id), MatterType.code, MatterType.promised_days))
            }

    def slices(self) -> list[tuple[Any, date | None]]:
        """Four disjoint slices of the matters the period's figures count,
        each selected through the index that finds it (one OR would read the
        year): accepted in the period; accepted earlier and closed in it,
        still open, or closed after it.  With each, the first day the
        working-day formula needs the calendar from: the period's own for the
        first slice, a year before it for the second (``slice_rows`` widens
        it when a matter is older); the last two hold no 办结 (None)."""
        c, m = self.c, Matter
        before = m.accepted_at < c.start_utc
        year_before = c.period.start - timedelta(days=366)
        return [
            (c.in_period(m.accepted_at), c.period.start),
            (and_(m.closed_at >= c.start_utc, m.closed_at < c.end_utc, before), year_before),
            (and_(m.closed_at.is_(None), before), None),
            (and_(m.closed_at >= c.end_utc, before), None),
        ]

    def slice_rows(self, i: int) -> list[dict[str, Any]]:
        """The GROUP BY rows of slice ``i`` (see ``slices``), on a connection
        of its own, so that slices can be counted in threads side by side."""
        c, m, p = self.c, Matter, self.preds
        keys = [
            raw(m.matter_type_id).label("tid"),
            m.matter_name.label("name"),
            m.category.label("category"),
            m.channel.label("channel"),
            m.handler_name.label("handler"),
            m.origin.label("origin"),
        ]
        # Which sets a matter is in, as one small integer (bit i: MATTER_SETS[i]).
        mask = sum((_flag(p[k]) * (1 << i) for i, k in enumerate(MATTER_SETS)), literal(0)).label("sets")
        # 用时 of a matter done in the period: its two day numbers in the
        # inner query, the working days between them in the outer one.
        # OFFSET 0 keeps the inner query a separate step, so each row's day
        # numbers are computed once, not at every use in the outer formula.
        days = [
            case((p["done"], c.day_no(m.accepted_at)), else_=None).label("ka"),
            case((p["done"], c.day_no(m.closed_at)), else_=None).label("kc"),
        ]
        where, lo = self.slices()[i]
        with c.db.session() as s:
            conn = s.connection()
            got = self._slice(conn, keys, mask, days, where, lo)
            first = min((r["ka_min"] for r in got if r["ka_min"] is not None), default=None)
            if lo is not None and first is not None and first < (lo - EPOCH).days:
                # accepted more than a year before it was closed: widen
                got = self._slice(conn, keys, mask, days, where, EPOCH + timedelta(days=int(first) - 1))
        return got

    def _slice(self, conn, keys, mask, days, where, lo: date | None) -> list[dict[str, Any]]:  # type: ignore[no-untyped-def]
        sub = select(*keys, mask, *(days if lo is not None else ())).where(self.base, where).offset(0).subquery()
        group = [sub.c[k.name] for k in keys] + [sub.c.sets]
        source: Any = sub
        if lo is not None:
            wd = self._day_table(lo, self.c.period.end)
            wa, wc = wd.alias("wa"), wd.alias("wc")
            source = sub.outerjoin(wa, wa.c.k == sub.c.ka).outerjoin(wc, wc.c.k == sub.c.kc)
            used = wc.c.o - wa.c.o
            agg = [
                func.sum(used).label("used_sum"),
                func.max(used).label("used_max"),
                func.count(sub.c.ka).label("used_n"),
                func.min(sub.c.ka).label("ka_min"),
            ]
        else:
            agg = [
                literal(None).label("used_sum"),
                literal(None).label("used_max"),
                literal(0).label("used_n"),
                literal(None).label("ka_min"),
            ]
        out = []
        query = select(*group, func.count().label("n"), *agg).select_from(source).group_by(*group)
        for r in conn.execute(query).mappings():
            if r["sets"]:
                row = dict(r)
                row.update((k, bool(r["sets"] & (1 << i))) for i, k in enumerate(MATTER_SETS))
                out.append(row)
        return out

    def facts(self, where) -> list[MatterFact]:  # type: ignore[no-untyped-def]
        """The matters selected by ``where``, one fact each, with 用时 and the
        resident's name (the drill-down shows it)."""
        c = self.c
        cols = (
            Matter.receipt_no,
            Matter.origin,
            raw(Matter.matter_type_id),
            Matter.matter_name,
            Matter.category,
            Matter.channel,
            Matter.handler_name,
            Matter.status,
            raw(Matter.accepted_at),
            raw(Matter.closed_at),
            raw(Matter.promised_date),
            raw(Matter.resident_id),
            Resident.name,
        )
        with c.db.session() as s:
            conn = s.connection()
            # keyed by the id exactly as the driver returns it, like the rows' ids
            types = {
                r[0]: (r[1], r[2] or 0)
                for r in conn.execute(select(raw(MatterType.id), MatterType.code, MatterType.promised_days))
            }
            rows = conn.execute(
                select(*cols)
                .outerjoin(Resident, Resident.id == Matter.resident_id)
                .where(where)
                .order_by(Matter.accepted_at, Matter.receipt_no)
            ).all()
        off = c.off
        parsed = [(r, _ts(r[8]) + off, _ts(r[9]) + off if r[9] is not None else None) for r in rows]
        ordinal = _workday_ordinals(self.cal, [(a, b) for _, a, b in parsed])
        out = []
        promised: dict[Any, date] = {}  # few distinct dates among many rows
        for r, acc, closed in parsed:
            code, days = types.get(r[2], ("", 0))
            used = ordinal[closed.date()] - ordinal[acc.date()] if (closed is not None and r[7] == "done") else None
            due = promised.get(r[10])
            if due is None:
                due = promised[r[10]] = _date(r[10])
            out.append(
                MatterFact(
                    r[0],
                    r[1],
                    r[0],
                    code,
                    r[3],
                    r[4],
                    r[5],
                    r[6],
                    r[7],
                    acc,
                    closed,
                    due,
                    days,
                    r[11],
                    used,
                    r[12] or "",
                )
            )
        return out


def _workday_ordinals(cal: workdays.Calendar, spans: list[tuple[datetime, datetime | None]]) -> dict[date, int]:
    """The working-day numbers (``Calendar.ordinals``, as the figures' SQL
    reads them) of every day the spans touch."""
    if not spans:
        return {}
    first = min(a for a, _ in spans).date()
    last = max([a.date() for a, _ in spans] + [b.date() for _, b in spans if b is not None])
    return cal.ordinals(first, last)


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


def _matter_tallies(
    rows: list[dict[str, Any]], types: dict[Any, tuple[str, int]]
) -> tuple[_Tally, dict[str, dict[Any, _Tally]], dict[str, str], dict[str, int]]:
    """(the whole period, per dimension per value, type names by code,
    promised days by code)."""
    total = _Tally()
    by: dict[str, dict[Any, _Tally]] = {d: defaultdict(_Tally) for d in MATTER_DIMS}
    name_counts: dict[str, Counter[str]] = defaultdict(Counter)
    promised: dict[str, Counter[int]] = defaultdict(Counter)
    for r in rows:
        code, pdays = types.get(_key(r["tid"]), ("", 0))
        total.add(r)
        for dim in MATTER_DIMS:
            by[dim][code if dim == "type_code" else r[dim]].add(r)
        name_counts[code][r["name"]] += r["n"]
        promised[code][pdays] += r["n"]
    # Several spellings of one type (a catalogue edit, another station's
    # copy): the commonest names the row.
    names = {code: min(cn.items(), key=lambda kv: (-kv[1], kv[0]))[0] for code, cn in name_counts.items()}
    days = {code: min(pc.items(), key=lambda kv: (-kv[1], kv[0]))[0] for code, pc in promised.items()}
    return total, by, names, days


def _counter_section(
    c: _Ctx,
    title: str,
    total: _Tally,
    by_dim: dict[str, dict[Any, _Tally]],
    names: dict[str, str],
    promised: dict[str, int],
    notices: int,
) -> Section:
    p = c.period
    sec = Section("counter", title)
    labels = [
        ("accepted", "受理"),
        ("done", "办结"),
        ("open_end", "期末在办"),
        ("overdue_done", "超期办结"),
        ("overdue_open", "超期未办结"),
        ("returned", "退回"),
        ("rejected", "不予受理"),
    ]
    for key, label in labels:
        sec.figures.append(Figure(label, total.n[key], "件", Drill("matters", key, (), f"{p.label} {label}")))
    sec.figures.append(Figure("一次性告知", notices, "次", Drill("notices", "in_period", (), f"{p.label} 一次性告知")))
    sec.figures.append(
        Figure("平均用时", total.avg(), "个工作日", Drill("matters", "done", (), f"{p.label} 办结"), "days")
    )
    sec.figures.append(
        Figure("最长用时", total.used_max, "个工作日", Drill("matters", "done", (), f"{p.label} 办结"), "days")
    )
    sets = (
        ("accepted", "受理"),
        ("done", "办结"),
        ("open_end", "期末在办"),
        ("overdue_done", "超期办结"),
        ("overdue_open", "超期未办结"),
    )

    def by(dim: str, title: str, key: str, label_of: Callable[[Any], str], with_promise: bool = False) -> Table:
        groups = {g: t for g, t in by_dim[dim].items() if any(t.n[k] for k, _ in sets)}
        cols = [MATTER_DIMS[dim], "受理", "办结", "期末在办", "超期办结", "超期未办结", "平均用时", "最长用时"]
        if with_promise:
            cols.append("承诺时限")
        rows: list[list[Any]] = []
        drills: list[list[Drill | None]] = []
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
            rows.append(
                ["合计", *(sum(r[i] for r in rows) for i in range(1, 6)), total.avg(), total.used_max]
                + ([None] if with_promise else [])
            )
            drills.append(
                [None]
                + [Drill("matters", k, (), f"{p.label} {n}") for k, n in sets]
                + [Drill("matters", "done", (), f"{p.label} 办结")] * 2
                + ([None] if with_promise else [])
            )
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
    sec.charts.append(
        Chart("bar", "受理件数（按渠道）", [CHANNELS[k] for k in CHANNELS], [ch.get(k, 0) for k in CHANNELS])
    )
    cats = sorted(
        ((g, t.n["accepted"]) for g, t in by_dim["category"].items() if t.n["accepted"]), key=lambda kv: (-kv[1], kv[0])
    )[:10]
    if cats:
        sec.charts.append(Chart("hbar", "受理件数（按分类）", [k for k, _ in cats], [v for _, v in cats]))
    sec.notes.append(
        "受理＝本期受理；办结＝本期办结；期末在办＝期末尚未办结（含本期以前受理的）；超期＝晚于承诺日期。"
        "用时按工作日计（受理当天不计，节假日与调休已扣除）。"
    )
    return sec


class NoticeFact(NamedTuple):
    id: uuid.UUID
    origin: str
    at: datetime  # local
    notice_no: str
    resident_id: uuid.UUID | None
    actor: str
    matter: str  # the matter type's name


class CounterResult:
    """What the counter section keeps: the period's tallies (whole, and per
    dimension per value), the type names and promised days by code."""

    def __init__(self, rows: list[dict[str, Any]], types: dict[Any, tuple[str, int]], notices: int) -> None:
        self.total, self.by_dim, self.type_names, self.promised = _matter_tallies(rows, types)
        self.notices = notices


class CounterSection(ReportSection):
    key, title, kinds = "counter", "窗口受理", ("matters", "notices")

    def collect(self, run: Run) -> Any:
        c = run.ctx
        # The counter's GROUP BY queries are the largest part and run inside
        # the database driver, which releases the GIL: its slices go on in
        # worker threads (each on its own connection) while the other
        # sections are read.
        msql = _MatterSQL(c, c.calendar)
        futures = [run.pool.submit(_timed, partial(msql.slice_rows, i)) for i in range(len(msql.slices()))]
        types = msql.types()
        with c.db.session() as s:
            run.facts["notices"] = [
                NoticeFact(r[0], r[1], r[2] + c.off, r[3], r[4], r[5], r[6])
                for r in s.execute(
                    select(
                        NoticeLog.id,
                        NoticeLog.origin,
                        NoticeLog.at,
                        NoticeLog.notice_no,
                        NoticeLog.resident_id,
                        NoticeLog.actor_name,
                        MatterType.name,
                    )
                    .join(MatterType, MatterType.id == NoticeLog.matter_type_id)
                    .where(c.in_period(NoticeLog.at), c.where_origin(NoticeLog.origin))
                ).all()
            ]
        return futures, types

    def finish(self, run: Run) -> None:
        futures, types = run.results[self.key]
        rows: list[dict[str, Any]] = []
        took = 0.0
        for f in futures:
            got, t = f.result()
            rows += got
            took += t
        run.timings["counter_queries"] = took  # the slices' own times, added
        run.results[self.key] = CounterResult(rows, types, len(run.facts["notices"]))

    def section(self, run: Run) -> Section | None:
        r: CounterResult = run.result(self.key)
        return _counter_section(run.ctx, self.title, r.total, r.by_dim, r.type_names, r.promised, r.notices)

    def contacted(self, c: _Ctx) -> list[Any]:
        msql = _MatterSQL(c, c.calendar)
        return [
            select(Matter.resident_id).where(msql.where(Drill("matters", "accepted"))),
            select(NoticeLog.resident_id).where(c.in_period(NoticeLog.at), NoticeLog.resident_id.is_not(None)),
        ]

    def seen_origins(self, run: Run) -> set[str]:
        return set(run.result(self.key).by_dim["origin"])

    def per_station(self, run: Run) -> StationColumns | None:
        by_origin: dict[Any, _Tally] = run.result(self.key).by_dim["origin"]

        def n(o: str) -> _Tally:
            return by_origin.get(o) or _Tally()

        return StationColumns(
            set(by_origin),
            [
                StationColumn(
                    "受理",
                    lambda o: n(o).n["accepted"],
                    drill=lambda o, name: Drill("matters", "accepted", (("origin", o),), f"{name} 受理"),
                ),
                StationColumn(
                    "办结",
                    lambda o: n(o).n["done"],
                    drill=lambda o, name: Drill("matters", "done", (("origin", o),), f"{name} 办结"),
                ),
                StationColumn(
                    "超期",
                    lambda o: n(o).n["overdue_done"] + n(o).n["overdue_open"],
                    drill=lambda o, name: Drill("matters", "overdue_any", (("origin", o),), f"{name} 超期"),
                ),
            ],
        )

    def matching(self, c: _Ctx, report: Report, drill: Drill) -> list[Any]:
        if drill.kind == "notices":
            return super().matching(c, report, drill)
        msql = _MatterSQL(c, c.calendar)
        return msql.facts(msql.where(drill))

    def records(
        self, db: Database, report: Report, drill: Drill, facts: list[Any]
    ) -> tuple[list[str], list[list[Any]]]:
        if drill.kind == "notices":
            names = _names(db, (n.resident_id for n in facts))
            rows = [
                [n.at, n.notice_no, n.matter, names.get(_key(n.resident_id), "") if n.resident_id else "", n.actor]
                for n in sorted(facts, key=lambda n: n.at)
            ]
            return ["时间", "告知单号", "事项", "居民", "经办人"], rows
        from desktop.services.counter import STATUSES

        st = report.station_names
        rows = [
            [
                f.receipt_no,
                f.resident_name,
                f.matter,
                CHANNELS.get(f.channel, f.channel),
                f.handler,
                f.accepted,
                f.promised,
                f.closed,
                STATUSES.get(f.status, f.status),
                f.used_days,
                st.get(f.origin, f.origin),
            ]
            for f in sorted(facts, key=lambda f: f.accepted)
        ]
        return [
            "回执号",
            "居民",
            "事项",
            "渠道",
            "经办人",
            "受理时间",
            "承诺日期",
            "办结时间",
            "状态",
            "用时(工作日)",
            "站点",
        ], rows
