"""值班与AB岗: matters handled by cover (a ``cover`` event in the period —
handed over when A was marked away, or routed to B at acceptance) and the
hours the rota kept the hall open outside office hours (weekends and
holidays, and working days before or after ``rota.OFFICE_START``–
``OFFICE_END``; two windows open at once count once; up to now, not the
rota planned ahead). Both are small lists,
kept as facts; the figures come from ``services.rota``."""

from __future__ import annotations

import uuid
from collections import Counter, defaultdict
from datetime import date, datetime
from typing import Any, Callable, NamedTuple

from db.engine import Database
from desktop.services import rota

from .base import Drill, Figure, Period, Report, ReportSection, Run, Section, StationColumn, StationColumns, Table


class CoverFact(NamedTuple):
    id: uuid.UUID  # the matter
    origin: str
    at: datetime  # local: the first cover event in the period
    receipt_no: str
    matter_name: str
    cover_name: str
    handed_by: str
    note: str


class OpenFact(NamedTuple):
    id: str  # origin, day and start: one stretch of one station's day
    origin: str
    day: date
    start: datetime  # local
    end: datetime  # local
    hours: float
    workers: str
    kinds: str
    offday: bool  # a weekend or holiday (else a working day's evening or early morning)


def _open_preds(p: Period) -> dict[str, Callable[[OpenFact], bool]]:
    return {"all": lambda f: True, "offday": lambda f: f.offday, "workday": lambda f: not f.offday}


def _hours(facts: list[OpenFact]) -> float:
    return round(sum(f.hours for f in facts), 2)


class RotaSection(ReportSection):
    key, title, kinds = "rota", "值班与AB岗", ("rota_cover", "rota_hours")

    def collect(self, run: Run) -> Any:
        c = run.ctx
        p = c.period
        covers = rota.cover_matters(c.db, p.start, p.end, c.stations)
        spans = rota.outside_hours(c.db, p.start, p.end, c.stations, until=datetime.now())  # not the planned rest
        cal = c.calendar
        run.facts["rota_cover"] = [
            CoverFact(
                x.matter_id,
                x.origin,
                c.local(x.at) or x.at,
                x.receipt_no,
                x.matter_name,
                x.cover_name,
                x.handed_by,
                x.note,
            )
            for x in covers
        ]
        run.facts["rota_hours"] = [
            OpenFact(
                f"{x.origin}:{x.day.isoformat()}:{x.start:%H%M}",
                x.origin,
                x.day,
                x.start,
                x.end,
                round(x.hours, 2),
                "、".join(x.workers),
                "、".join(x.kinds),
                not cal.is_working_day(x.day),
            )
            for x in spans
        ]

    def section(self, run: Run) -> Section | None:
        covers: list[CoverFact] = run.facts["rota_cover"]
        spans: list[OpenFact] = run.facts["rota_hours"]
        if not covers and not spans:
            return None
        p = run.ctx.period
        preds = _open_preds(p)
        sec = Section(self.key, self.title)
        sec.figures += [
            Figure("AB岗代岗办理", len(covers), "件", Drill("rota_cover", "all", (), f"{p.label} AB岗代岗事项")),
            Figure(
                "办公时间外开放",
                _hours(spans),
                "小时",
                Drill("rota_hours", "all", (), f"{p.label} 办公时间外开放"),
                fmt="hours",
            ),
            Figure(
                "其中休息日（错时）",
                _hours([f for f in spans if preds["offday"](f)]),
                "小时",
                Drill("rota_hours", "offday", (), f"{p.label} 休息日开放"),
                fmt="hours",
            ),
            Figure(
                "其中工作日延时",
                _hours([f for f in spans if preds["workday"](f)]),
                "小时",
                Drill("rota_hours", "workday", (), f"{p.label} 工作日办公时间外开放"),
                fmt="hours",
            ),
        ]
        by_cover = Counter(f.cover_name for f in covers)
        rows: list[list[Any]] = [[n, k] for n, k in sorted(by_cover.items(), key=lambda kv: (-kv[1], kv[0]))]
        drills: list[list[Drill | None]] = [
            [None, Drill("rota_cover", "all", (("cover_name", n),), f"{p.label} {n}代岗办理")] for n, _ in rows
        ]
        if rows:
            rows.append(["合计", len(covers)])
            drills.append([None, Drill("rota_cover", "all", (), f"{p.label} AB岗代岗事项")])
        sec.tables.append(
            Table(
                "rota_cover_by_person",
                "AB岗代岗（按代岗人）",
                ["代岗人", "事项数"],
                rows,
                drills,
                {1: "int"},
                widths=[0.7, 0.3],
            )
        )
        by_kind: dict[str, list[OpenFact]] = defaultdict(list)
        for f in spans:
            by_kind["offday" if f.offday else "workday"].append(f)
        hrows: list[list[Any]] = []
        hdrills: list[list[Drill | None]] = []
        for pred, label in (("offday", "休息日（周末、节假日）"), ("workday", "工作日办公时间外")):
            fs = by_kind.get(pred, [])
            hrows.append([label, len({f.day for f in fs}), _hours(fs)])
            d = Drill("rota_hours", pred, (), f"{p.label} {label}开放")
            hdrills.append([None, d, d])
        hrows.append(["合计", len({f.day for f in spans}), _hours(spans)])
        all_ = Drill("rota_hours", "all", (), f"{p.label} 办公时间外开放")
        hdrills.append([None, all_, all_])
        sec.tables.append(
            Table(
                "rota_hours",
                "办公时间外开放（错时、延时）",
                ["类别", "天数", "小时"],
                hrows,
                hdrills,
                {1: "int", 2: "hours"},
                widths=[0.5, 0.25, 0.25],
                note=f"办公时间为{rota.OFFICE_LABEL}；按排班计算，几个窗口同时开放只计一次。",
            )
        )
        sec.notes.append(
            "AB岗代岗 = 本期有“AB岗代岗”记录的事项：A岗离岗时移交B岗的在办事项，以及A岗不在时受理、"
            "直接交B岗办理的新事项。"
        )
        return sec

    def seen_origins(self, run: Run) -> set[str]:
        return {f.origin for f in run.facts["rota_cover"]} | {f.origin for f in run.facts["rota_hours"]}

    def per_station(self, run: Run) -> StationColumns | None:
        covers: list[CoverFact] = run.facts["rota_cover"]
        spans: list[OpenFact] = run.facts["rota_hours"]
        if not covers and not spans:
            return None
        return StationColumns(
            self.seen_origins(run),
            [
                StationColumn(
                    "代岗事项",
                    lambda o: sum(1 for f in covers if f.origin == o),
                    drill=lambda o, name: Drill("rota_cover", "all", (("origin", o),), f"{name} AB岗代岗事项"),
                ),
                StationColumn(
                    "错时延时(小时)",
                    lambda o: _hours([f for f in spans if f.origin == o]),
                    "hours",
                    0.1,
                    drill=lambda o, name: Drill("rota_hours", "all", (("origin", o),), f"{name} 办公时间外开放"),
                ),
            ],
        )

    def fact_preds(self, kind: str, period: Period) -> dict[str, Callable[[Any], bool]]:
        return dict(_open_preds(period)) if kind == "rota_hours" else {}

    def records(
        self, db: Database, report: Report, drill: Drill, facts: list[Any]
    ) -> tuple[list[str], list[list[Any]]]:
        if drill.kind == "rota_cover":
            return (
                ["时间", "回执编号", "事项", "代岗人", "记录人", "说明"],
                [
                    [f.at, f.receipt_no, f.matter_name, f.cover_name, f.handed_by, f.note]
                    for f in sorted(facts, key=lambda f: (f.at, f.receipt_no))
                ],
            )
        return (
            ["日期", "开放时间", "小时", "值班人员", "类型"],
            [
                [f.day, f"{f.start:%H:%M}–{f.end:%H:%M}", f.hours, f.workers, f.kinds]
                for f in sorted(facts, key=lambda f: (f.day, f.start, f.origin))
            ],
        )
