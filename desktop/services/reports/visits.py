"""入户走访: visits done against visits due in the period, by tier and by
grid (``desktop.services.visits.figures``), with the households due and the
visits behind every number; the residents met on a visit (and their
household) count as 本期接触."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any, Callable, NamedTuple

from db.engine import Database

from .base import (
    Drill,
    Figure,
    Period,
    Report,
    ReportSection,
    Run,
    Section,
    StationColumn,
    StationColumns,
    Table,
    _Ctx,
    _filters_ok,
    _timed,
)


class VisitFact(NamedTuple):
    id: uuid.UUID
    origin: str
    day: date
    resident: str
    grid: str
    tier: str  # the household's tier ("" when it is not on the schedule)
    outcome: str  # met | not_home
    met: str
    needs: str
    visitor: str


class DueFact(NamedTuple):
    key: uuid.UUID  # the household (or the resident who has none)
    origin: str
    names: str
    grid: str
    tier: str
    address: str
    visits_due: int
    visits_done: int
    met: int
    not_home: int
    last_met: date | None


def _origins(c: _Ctx) -> tuple[str, ...] | None:
    return c.stations or None


class VisitsSection(ReportSection):
    key, title, kinds = "visits", "入户走访", ("visits", "visit_due")
    step = "入户走访"
    contact_label = "接受入户走访"

    def collect(self, run: Run) -> Any:
        from desktop.services import visits

        c = run.ctx
        # The visits themselves are counted by the database; the drill-down
        # reads them (visits_between, the same conditions) when it is opened.
        # Its queries (the schedule, the last visits, the month's counts) go
        # on in a worker thread, beside the sections read after this one.
        return run.pool.submit(
            _timed, lambda: visits.figures(c.db, c.period.start, c.period.end, _origins(c), rows=False)
        )

    def finish(self, run: Run) -> None:
        fig, run.timings["visits_queries"] = run.results[self.key].result()
        run.results[self.key] = fig
        # The tiers of the households on the schedule stay with the report
        # for the drill-down, as (key, tier) pairs.
        run.facts["visit_tiers"] = list(fig.tier_of.items())
        run.facts["visit_due"] = [
            DueFact(
                x.row.key,
                x.row.origin,
                x.row.names,
                x.row.grid or "未分网格",
                x.row.tier,
                x.row.address,
                x.visits_due,
                x.visits_done,
                x.met,
                x.not_home,
                x.row.last_met,
            )
            for x in fig.due
        ]

    def section(self, run: Run) -> Section | None:
        from desktop.services.visits import VisitFigures

        fig: VisitFigures = run.result(self.key)
        if not fig.due and not fig.origins:
            return None
        p = run.ctx.period
        sec = Section(self.key, self.title)
        t = fig.total
        sec.figures += [
            Figure("应走访户", t.households_due, "户", Drill("visit_due", "all", (), f"{p.label} 应走访的户")),
            Figure("已走访户", t.households_visited, "户", Drill("visit_due", "visited", (), f"{p.label} 已走访的户")),
            Figure(
                "未走访户",
                t.households_due - t.households_visited,
                "户",
                Drill("visit_due", "not_visited", (), f"{p.label} 应访未访的户"),
            ),
            Figure("走访（见到）", fig.met_visits, "次", Drill("visits", "met", (), f"{p.label} 入户走访")),
            Figure(
                "不在家",
                fig.not_home_visits,
                "次",
                Drill("visits", "not_home", (), f"{p.label} 走访不在家"),
            ),
            Figure("走访完成率", t.visits_done / t.visits_due if t.visits_due else None, "", None, "pct"),
        ]
        for key, title, lines, dim in (
            ("visits_by_tier", "按走访频次", fig.by_tier, "tier"),
            ("visits_by_grid", "按网格", fig.by_grid, "grid"),
        ):
            rows, drills = [], []
            for line in lines:
                f: tuple[tuple[str, Any], ...] = ((dim, line.label),)
                rows.append(
                    [
                        line.label,
                        line.households_due,
                        line.households_visited,
                        line.visits_due,
                        line.visits_done,
                        line.visits_done / line.visits_due if line.visits_due else None,
                        line.not_home,
                    ]
                )
                drills.append(
                    [
                        None,
                        Drill("visit_due", "all", f, f"{p.label} 应走访：{line.label}"),
                        Drill("visit_due", "visited", f, f"{p.label} 已走访：{line.label}"),
                        None,
                        None,
                        None,
                        Drill("visits", "not_home", f, f"{p.label} 不在家：{line.label}"),
                    ]
                )
            sec.tables.append(
                Table(
                    key,
                    f"走访完成情况（{title}）",
                    [title[1:], "应访户", "已访户", "应访次数", "完成次数", "完成率", "不在家次数"],
                    rows,
                    drills,
                    {1: "int", 2: "int", 3: "int", 4: "int", 5: "pct", 6: "int"},
                )
            )
        sec.notes.append(
            "应访：上次见到后按频次（每周、每月、每季度，站长可调整）到期的户，"
            "本期首次到期记 1 次，此后每满一个周期再记 1 次；"
            "从未走访的户在期初即到期。完成次数：本期见到的走访，每户最多计到应访次数。“不在家”不算走访，该户仍需再访。"
        )
        return sec

    def contacted(self, c: _Ctx) -> list[Any]:
        from desktop.services import visits

        return [visits.visited_sql(c.period.start, c.period.end, _origins(c))]

    def seen_origins(self, run: Run) -> set[str]:
        fig = run.result(self.key)
        return set(fig.origins) | {f.origin for f in run.facts.get("visit_due", [])}

    def per_station(self, run: Run) -> StationColumns | None:
        fig = run.result(self.key)
        due: list[DueFact] = run.facts.get("visit_due", [])
        if not fig.origins and not due:
            return None
        return StationColumns(
            set(fig.origins) | {f.origin for f in due},
            [
                StationColumn(
                    "走访次数",
                    lambda o: fig.met_by_origin.get(o, 0),
                    drill=lambda o, name: Drill("visits", "met", (("origin", o),), f"{name} 入户走访"),
                ),
                StationColumn(
                    "应访未访户",
                    lambda o: sum(1 for f in due if f.origin == o and not f.met),
                    drill=lambda o, name: Drill("visit_due", "not_visited", (("origin", o),), f"{name} 应访未访的户"),
                ),
            ],
        )

    def fact_preds(self, kind: str, period: Period) -> dict[str, Callable[[Any], bool]]:
        if kind == "visits":
            return {"met": lambda f: f.outcome == "met", "not_home": lambda f: f.outcome == "not_home"}
        return {"visited": lambda f: f.met > 0, "not_visited": lambda f: f.met == 0}

    def matching(self, c: _Ctx, report: Report, drill: Drill) -> list[Any]:
        if drill.kind != "visits":
            return super().matching(c, report, drill)
        from desktop.services import visits

        tier_of = dict(report.facts.get("visit_tiers", []))
        facts = [
            VisitFact(
                v.id,
                v.origin,
                v.day,
                v.resident_name,
                v.grid or "未分网格",
                tier_of.get(v.household_id or v.resident_id, ""),
                v.outcome,
                v.met,
                v.needs,
                v.visitor_name,
            )
            for v in sorted(
                visits.visits_between(c.db, c.period.start, c.period.end, origins=_origins(c)),
                key=lambda v: (v.day, v.recorded_at),
            )
        ]
        pred = self.fact_preds(drill.kind, c.period).get(drill.pred, lambda f: True)
        return [f for f in facts if pred(f) and _filters_ok(f, drill.filters)]

    def records(
        self, db: Database, report: Report, drill: Drill, facts: list[Any]
    ) -> tuple[list[str], list[list[Any]]]:
        from desktop.services.visits import OUTCOMES

        st = report.station_names
        if drill.kind == "visits":
            return (
                ["日期", "居民", "网格", "频次", "结果", "见到", "发现的需求", "走访人", "站点"],
                [
                    [
                        f.day,
                        f.resident,
                        f.grid,
                        f.tier,
                        OUTCOMES.get(f.outcome, f.outcome),
                        f.met,
                        f.needs,
                        f.visitor,
                        st.get(f.origin, f.origin),
                    ]
                    for f in facts
                ],
            )
        return (
            ["居民", "网格", "住址", "频次", "应访次数", "完成次数", "见到次数", "不在家次数", "上次见到", "站点"],
            [
                [
                    f.names,
                    f.grid,
                    f.address,
                    f.tier,
                    f.visits_due,
                    f.visits_done,
                    f.met,
                    f.not_home,
                    f.last_met,
                    st.get(f.origin, f.origin),
                ]
                for f in facts
            ],
        )
