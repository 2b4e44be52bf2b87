"""二、好差评: the period's ratings of live matters, counted in the database,
the bad ones listed with their rectification and call-back."""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import date, datetime
from typing import Any, NamedTuple

from sqlalchemy import and_, func, select, true

from db.engine import Database
from db.models import Matter, MatterRating, Rectification, Resident
from desktop.services.counter import RATINGS

from .base import (
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
    _ts,
    raw,
)


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


class _RatingSQL:
    """好差评 as SQL: the period's ratings (of live matters) and the
    predicates behind its figures."""

    def __init__(self, c: _Ctx):
        self.c = c
        self.base = and_(c.in_period(MatterRating.at), c.where_origin(Matter.origin), Matter.deleted.is_(False))
        self.preds = {
            "all": true(),
            "good": MatterRating.level >= 4,
            "bad": MatterRating.level <= 2,
            "bad_closed": and_(MatterRating.level <= 2, Rectification.status == "done"),
            "level": true(),
        }

    @staticmethod
    def _from(q):  # type: ignore[no-untyped-def]
        return (
            q.select_from(MatterRating)
            .join(Matter, Matter.id == MatterRating.matter_id)
            .outerjoin(Rectification, and_(Rectification.matter_id == Matter.id, Rectification.deleted.is_(False)))
        )

    def where(self, drill: Drill):  # type: ignore[no-untyped-def]
        cols = {"level": MatterRating.level, "origin": Matter.origin}
        return and_(self.base, self.preds[drill.pred], *(cols[k] == v for k, v in drill.filters))

    def counts(self) -> list[tuple[str, int, int]]:
        """(origin, level, count) of the period's ratings.  (Rectifications
        concern only the bad ones, which the report lists anyway.)"""
        q = (
            select(Matter.origin, MatterRating.level, func.count())
            .select_from(MatterRating)
            .join(Matter, Matter.id == MatterRating.matter_id)
            .where(self.base)
            .group_by(Matter.origin, MatterRating.level)
        )
        with self.c.db.session() as s:
            return [(r[0], r[1], r[2]) for r in s.connection().execute(q)]

    def facts(self, where) -> list[RatingFact]:  # type: ignore[no-untyped-def]
        c = self.c
        q = (
            self._from(
                select(
                    raw(MatterRating.id),
                    Matter.origin,
                    raw(Matter.id),
                    Matter.receipt_no,
                    Matter.matter_name,
                    raw(MatterRating.at),
                    MatterRating.level,
                    MatterRating.comment,
                    raw(Matter.resident_id),
                    Rectification.status,
                    Rectification.due_date,
                    Rectification.callback_at,
                    Rectification.callback_by,
                    Rectification.callback_note,
                    Rectification.measures,
                    Resident.name,
                )
            )
            .outerjoin(Resident, Resident.id == Matter.resident_id)
            .where(where)
        )
        q = q.order_by(MatterRating.at, Matter.receipt_no)
        with c.db.session() as s:
            rows = s.connection().execute(q).all()
        return [
            RatingFact(
                r[0],
                r[1],
                r[2],
                r[3],
                r[4],
                _ts(r[5]) + c.off,
                r[6],
                r[7] or "",
                r[8],
                r[9] or "",
                r[10],
                c.local(r[11]),
                r[12] or "",
                r[13] or "",
                r[14] or "",
                r[15] or "",
            )
            for r in rows
        ]


RECT_STATUS = {"open": "整改中", "done": "已整改回访", "": "—"}


def _satisfaction_section(
    c: _Ctx, title: str, counts: list[tuple[str, int, int]], bad_facts: list[RatingFact], done_count: int
) -> Section:
    p = c.period
    sec = Section("satisfaction", title)
    levels: Counter[int] = Counter()
    for _o, lv, n in counts:
        levels[lv] += n
    total = sum(levels.values())
    good = levels[5] + levels[4]
    bad = levels[2] + levels[1]
    bad_closed = sum(1 for f in bad_facts if f.rect_status == "done")
    sec.figures += [
        Figure("评价数", total, "条", Drill("ratings", "all", (), f"{p.label} 评价")),
        Figure(
            "满意率",
            good / total if total else None,
            "",
            Drill("ratings", "good", (), f"{p.label} 满意（5、4）"),
            "pct",
        ),
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
    sec.tables.append(
        Table(
            "rating_levels",
            "评价等级分布",
            ["等级", "条数", "占比"],
            rows,
            drills,
            {1: "int", 2: "pct"},
            widths=[0.4, 0.3, 0.3],
        )
    )
    bad_rows: list[list[Any]] = []
    bad_drills: list[list[Drill | None]] = []
    for f in bad_facts:
        bad_rows.append(
            [
                f.at.date(),
                f.receipt_no,
                f.matter,
                RATINGS[f.level],
                f.comment or "—",
                RECT_STATUS.get(f.rect_status, f.rect_status),
                f.rect_due,
                f.callback_at.date() if f.callback_at else None,
                f"{f.callback_by}：{f.callback_note}" if f.callback_at else "—",
            ]
        )
        bad_drills.append([None] * 9)
    sec.tables.append(
        Table(
            "bad_reviews",
            "差评及整改",
            ["评价日期", "回执号", "事项", "等级", "意见", "整改", "整改期限", "回访日期", "回访记录"],
            bad_rows,
            bad_drills,
            {0: "date", 6: "date", 7: "date"},
            widths=[0.1, 0.15, 0.11, 0.09, 0.14, 0.09, 0.1, 0.1, 0.12],
        )
    )
    sec.charts.append(
        Chart("bar", "评价等级分布", [RATINGS[lv] for lv in (5, 4, 3, 2, 1)], [levels[lv] for lv in (5, 4, 3, 2, 1)])
    )
    sec.notes.append(
        "满意率＝（非常满意＋满意）÷ 评价数；差评＝不满意、非常不满意，每条须在 15 个工作日内整改并回访。"
        "评价率＝评价数 ÷ 本期办结件数。"
    )
    return sec


class SatisfactionResult(NamedTuple):
    counts: list[tuple[str, int, int]]  # (origin, level, count)
    bad: list[RatingFact]


class SatisfactionSection(ReportSection):
    key, title, kinds = "satisfaction", "好差评", ("ratings",)

    def collect(self, run: Run) -> Any:
        rsql = _RatingSQL(run.ctx)
        # The month's ratings are counted in a worker thread (the database
        # joins each to its matter, outside the GIL); the few bad ones are
        # listed here meanwhile.
        counts = run.pool.submit(rsql.counts)
        return counts, rsql.facts(rsql.where(Drill("ratings", "bad")))

    def finish(self, run: Run) -> None:
        counts, bad = run.results[self.key]
        run.results[self.key] = SatisfactionResult(counts.result(), bad)

    def section(self, run: Run) -> Section | None:
        r: SatisfactionResult = run.result(self.key)
        # 评价率 divides by the counter's 办结: read from its result, by name
        done = run.result("counter").total.n["done"]
        return _satisfaction_section(run.ctx, self.title, r.counts, r.bad, done)

    def per_station(self, run: Run) -> StationColumns | None:
        counts: list[tuple[str, int, int]] = run.result(self.key).counts

        def rated(o: str) -> int:
            return sum(r[2] for r in counts if r[0] == o)

        def good(o: str) -> float | None:
            n = rated(o)
            return sum(r[2] for r in counts if r[0] == o and r[1] >= 4) / n if n else None

        return StationColumns(
            {r[0] for r in counts},
            [
                StationColumn(
                    "评价", rated, drill=lambda o, name: Drill("ratings", "all", (("origin", o),), f"{name} 评价")
                ),
                StationColumn("满意率", good, "pct", 0.1),
            ],
        )

    def matching(self, c: _Ctx, report: Report, drill: Drill) -> list[Any]:
        rsql = _RatingSQL(c)
        return rsql.facts(rsql.where(drill))

    def records(
        self, db: Database, report: Report, drill: Drill, facts: list[Any]
    ) -> tuple[list[str], list[list[Any]]]:
        rows = [
            [
                f.at,
                f.receipt_no,
                f.resident_name,
                f.matter,
                RATINGS[f.level],
                f.comment,
                RECT_STATUS.get(f.rect_status, f.rect_status),
            ]
            for f in sorted(facts, key=lambda f: f.at)
        ]
        return ["评价时间", "回执号", "居民", "事项", "等级", "意见", "整改"], rows
