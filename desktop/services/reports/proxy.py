"""委托代办: the period's 代办台账 — 登记 (received in the period), 办理
(result back in it) and 回复 (handed back to the resident in it), in total
and per agent.  A small kind: the proxy records touched in the period are
kept as facts and filtered in Python for the drill-down, by the same
definitions as ``desktop.services.proxy.ledger`` (a test holds them equal).
Shown when the period has proxy records or the stations have agents."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Callable, NamedTuple

from sqlalchemy import func, or_, select

from db.engine import Database
from db.models import Matter, ProxyAgent, ProxyCase
from desktop.services.proxy import STEPS, group_key

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
    _key,
    _names,
)

KIND = "proxy_cases"
FIGURES = (("registered", "登记"), ("handled", "办理"), ("replied", "回复"))


class ProxyFact(NamedTuple):
    id: uuid.UUID
    origin: str
    agent_id: str  # _key of the agent's id (drill filters compare it)
    agent: str
    group: str
    receipt_no: str
    matter_name: str
    resident_id: uuid.UUID
    received: datetime  # local times from here on
    forwarded: datetime | None
    forwarded_to: str
    result: datetime | None
    handed_back: datetime | None
    step: str


def _preds(p: Period) -> dict[str, Callable[[ProxyFact], bool]]:
    return {
        "registered": lambda f: p.contains(f.received.date()),
        "handled": lambda f: p.contains(f.result.date() if f.result else None),
        "replied": lambda f: p.contains(f.handed_back.date() if f.handed_back else None),
    }


def _facts(c: _Ctx) -> tuple[list[ProxyFact], int]:
    q = (
        select(
            ProxyCase.id,
            ProxyCase.origin,
            ProxyCase.agent_id,
            ProxyCase.agent_name,
            ProxyCase.village_group,
            Matter.receipt_no,
            Matter.matter_name,
            Matter.resident_id,
            ProxyCase.received_at,
            ProxyCase.forwarded_at,
            ProxyCase.forwarded_to,
            ProxyCase.result_at,
            ProxyCase.handed_back_at,
            ProxyCase.step,
        )
        .join(Matter, Matter.id == ProxyCase.matter_id)
        .where(
            ProxyCase.deleted.is_(False),
            c.where_origin(ProxyCase.origin),
            or_(
                c.in_period(ProxyCase.received_at),
                c.in_period(ProxyCase.result_at),
                c.in_period(ProxyCase.handed_back_at),
            ),
        )
    )
    with c.db.session() as s:
        facts = [
            ProxyFact(
                r[0],
                r[1],
                _key(r[2]),
                r[3],
                r[4],
                r[5],
                r[6],
                r[7],
                r[8] + c.off,
                c.local(r[9]),
                r[10] or "",
                c.local(r[11]),
                c.local(r[12]),
                r[13],
            )
            for r in s.execute(q)
        ]
        agents = (
            s.scalar(
                select(func.count())
                .select_from(ProxyAgent)
                .where(ProxyAgent.deleted.is_(False), c.where_origin(ProxyAgent.origin))
            )
            or 0
        )
    return facts, agents


class ProxySection(ReportSection):
    key, title, kinds = "proxy", "委托代办", (KIND,)

    def collect(self, run: Run) -> Any:
        facts, agents = _facts(run.ctx)
        run.facts[KIND] = facts
        return agents

    def section(self, run: Run) -> Section | None:
        facts: list[ProxyFact] = run.facts[KIND]
        if not facts and not run.results.get(self.key):
            return None  # a station without a 代办 service
        p = run.ctx.period
        preds = _preds(p)
        sec = Section(self.key, self.title)
        for pred, label in FIGURES:
            sec.figures.append(
                Figure(
                    label,
                    sum(1 for f in facts if preds[pred](f)),
                    "件",
                    Drill(KIND, pred, (), f"{p.label} 代办{label}"),
                )
            )
        agents = sorted({(f.agent_id, f.agent, f.group) for f in facts}, key=lambda a: (group_key(a[2]), a[1], a[0]))
        rows: list[list[Any]] = []
        drills: list[list[Drill | None]] = []
        for aid, name, group in agents:
            mine = [f for f in facts if f.agent_id == aid]
            rows.append([group, name, *(sum(1 for f in mine if preds[k](f)) for k, _ in FIGURES)])
            drills.append(
                [
                    None,
                    None,
                    *(Drill(KIND, k, (("agent_id", aid),), f"{p.label} {name} 代办{label}") for k, label in FIGURES),
                ]
            )
        if rows:
            rows.append(["合计", "", *(fig.value for fig in sec.figures)])
            drills.append([None, None, *(fig.drill for fig in sec.figures)])
        sec.tables.append(
            Table(
                "proxy_by_agent",
                "代办台账（按代办员）",
                ["村民小组/网格", "代办员", "登记", "办理", "回复"],
                rows,
                drills,
                {2: "int", 3: "int", 4: "int"},
                widths=[0.28, 0.3, 0.14, 0.14, 0.14],
            )
        )
        sec.notes.append(
            "登记＝本期代办员收件的事项；办理＝本期取回办理结果的；回复＝本期把结果和原件交还居民的。"
            "一件代办可以在不同的月份分别计入登记、办理和回复。"
        )
        return sec

    def seen_origins(self, run: Run) -> set[str]:
        return {f.origin for f in run.facts[KIND]}

    def per_station(self, run: Run) -> StationColumns | None:
        facts: list[ProxyFact] = run.facts[KIND]
        registered = _preds(run.ctx.period)["registered"]
        return StationColumns(
            {f.origin for f in facts},
            [
                StationColumn(
                    "代办登记",
                    lambda o: sum(1 for f in facts if f.origin == o and registered(f)),
                    drill=lambda o, name: Drill(KIND, "registered", (("origin", o),), f"{name} 代办登记"),
                )
            ],
        )

    def fact_preds(self, kind: str, period: Period) -> dict[str, Callable[[Any], bool]]:
        return _preds(period)

    def records(
        self, db: Database, report: Report, drill: Drill, facts: list[Any]
    ) -> tuple[list[str], list[list[Any]]]:
        names = _names(db, (f.resident_id for f in facts))
        rows = [
            [
                f.receipt_no,
                names.get(_key(f.resident_id), ""),
                f.matter_name,
                f.agent,
                f.group,
                f.received,
                f.forwarded_to,
                f.result,
                f.handed_back,
                STEPS.get(f.step, f.step),
            ]
            for f in sorted(facts, key=lambda f: (f.received, f.receipt_no))
        ]
        return [
            "回执编号",
            "委托人",
            "事项",
            "代办员",
            "村民小组/网格",
            "收件时间",
            "转交去向",
            "结果取回",
            "交还居民",
            "当前状态",
        ], rows
