"""微心愿与在职党员: wishes published, claimed and fulfilled in the period
(and the value of those fulfilled), party members reported in, and the hours
the reported-in members served in the period — small lists, kept as facts.

A wish counts under each step whose date falls in the period (published,
claimed, fulfilled); the member hours are the done volunteer services in the
period of everyone with a report-in for a year the period touches."""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import date
from typing import Any, Callable, NamedTuple

from sqlalchemy import or_, select

from db.engine import Database
from db.models import Assignment, PartyReport, Volunteer, Wish, WishClaim
from desktop.services.wishes import SPONSOR_KINDS

from .base import Drill, Figure, Period, Report, ReportSection, Run, Section, Table, _chunks, _Ctx, _names


class WishFact(NamedTuple):
    id: uuid.UUID
    origin: str
    number: str
    title: str
    value: float
    resident_id: uuid.UUID
    grid: str
    published: date
    claimed: date | None
    fulfilled: date | None
    sponsor_kind: str
    sponsor: str


class ReportInFact(NamedTuple):
    id: uuid.UUID
    origin: str
    volunteer_id: uuid.UUID
    number: str
    name: str
    unit: str
    reported_on: date
    posts: tuple[str, ...]


class MemberServiceFact(NamedTuple):
    id: uuid.UUID
    origin: str
    volunteer_id: uuid.UUID
    number: str
    name: str
    unit: str
    day: date
    hours: float


def _facts(c: _Ctx) -> tuple[list[WishFact], list[ReportInFact], list[MemberServiceFact]]:
    p = c.period

    def within(col):  # type: ignore[no-untyped-def]
        return col.between(p.start, p.end)

    wq = (
        select(
            Wish.id,
            Wish.origin,
            Wish.number,
            Wish.title,
            Wish.value,
            Wish.resident_id,
            Wish.grid,
            Wish.published_on,
            WishClaim.claimed_on,
            WishClaim.fulfilled_on,
            WishClaim.sponsor_kind,
            WishClaim.sponsor_name,
        )
        .outerjoin(WishClaim, (WishClaim.wish_id == Wish.id) & WishClaim.deleted.is_(False))
        .where(
            Wish.deleted.is_(False),
            c.where_origin(Wish.origin),
            or_(within(Wish.published_on), within(WishClaim.claimed_on), within(WishClaim.fulfilled_on)),
        )
    )
    members = (
        select(
            PartyReport.id,
            PartyReport.origin,
            Volunteer.id,
            Volunteer.number,
            Volunteer.name,
            PartyReport.unit,
            PartyReport.reported_on,
            PartyReport.posts,
            PartyReport.year,
        )
        .join(Volunteer, Volunteer.id == PartyReport.volunteer_id)
        .where(
            PartyReport.deleted.is_(False),
            c.where_origin(PartyReport.origin),
            PartyReport.year.between(p.start.year, p.end.year),
        )
    )
    with c.db.session() as s:
        wishes = [
            WishFact(
                r[0], r[1], r[2], r[3], float(r[4] or 0), r[5], r[6] or "", r[7], r[8], r[9], r[10] or "", r[11] or ""
            )
            for r in s.execute(wq)
        ]
        rows = s.execute(members).all()
        reports = [
            ReportInFact(r[0], r[1], r[2], r[3], r[4], r[5], r[6], tuple(r[7] or ())) for r in rows if p.contains(r[6])
        ]
        who: dict[uuid.UUID, tuple[str, str, str, str]] = {}
        for r in sorted(rows, key=lambda r: r[8]):  # the latest year's unit
            who[r[2]] = (r[1], r[3], r[4], r[5])
        services: list[MemberServiceFact] = []
        for chunk in _chunks(list(who)):
            for a in s.execute(
                select(Assignment.id, Assignment.volunteer_id, Assignment.day, Assignment.hours).where(
                    Assignment.status == "done",
                    Assignment.deleted.is_(False),
                    within(Assignment.day),
                    Assignment.volunteer_id.in_(chunk),
                )
            ):
                origin, number, name, unit = who[a[1]]
                services.append(MemberServiceFact(a[0], origin, a[1], number, name, unit, a[2], float(a[3] or 0)))
    return wishes, reports, services


def _wish_preds(p: Period) -> dict[str, Callable[[WishFact], bool]]:
    return {
        "published": lambda f: p.contains(f.published),
        "claimed": lambda f: p.contains(f.claimed),
        "fulfilled": lambda f: p.contains(f.fulfilled),
    }


def _total(facts: list[MemberServiceFact]) -> float:
    return round(sum(sorted(f.hours for f in facts)), 2)


class WishesSection(ReportSection):
    key, title, kinds = "wishes", "微心愿与在职党员", ("wishes", "report_ins", "member_services")

    def collect(self, run: Run) -> Any:
        wishes, reports, services = _facts(run.ctx)
        run.facts.update(wishes=wishes, report_ins=reports, member_services=services)

    def section(self, run: Run) -> Section | None:
        p = run.ctx.period
        wishes: list[WishFact] = run.facts["wishes"]
        reports: list[ReportInFact] = run.facts["report_ins"]
        services: list[MemberServiceFact] = run.facts["member_services"]
        if not (wishes or reports or services):
            return None
        preds = _wish_preds(p)
        member = {k: [f for f in wishes if pr(f)] for k, pr in preds.items()}
        sec = Section(self.key, self.title)
        sec.figures += [
            Figure(
                "发布心愿", len(member["published"]), "个", Drill("wishes", "published", (), f"{p.label} 发布的心愿")
            ),
            Figure("认领心愿", len(member["claimed"]), "个", Drill("wishes", "claimed", (), f"{p.label} 认领的心愿")),
            Figure(
                "实现心愿", len(member["fulfilled"]), "个", Drill("wishes", "fulfilled", (), f"{p.label} 实现的心愿")
            ),
            Figure(
                "实现心愿估值",
                round(sum(sorted(f.value for f in member["fulfilled"])), 2),
                "元",
                Drill("wishes", "fulfilled", (), f"{p.label} 实现的心愿"),
                fmt="hours",
            ),
            Figure("在职党员报到", len(reports), "人", Drill("report_ins", "all", (), f"{p.label} 在职党员报到")),
            Figure(
                "报到党员服务时长",
                _total(services),
                "小时",
                Drill("member_services", "all", (), f"{p.label} 报到党员的服务记录"),
                fmt="hours",
            ),
        ]
        kinds = Counter(f.sponsor_kind for f in member["claimed"])
        rows: list[list[Any]] = [[SPONSOR_KINDS.get(k, k), n] for k, n in sorted(kinds.items())]
        drills: list[list[Drill | None]] = [
            [None, Drill("wishes", "claimed", (("sponsor_kind", k),), f"{p.label} {SPONSOR_KINDS.get(k, k)}认领的心愿")]
            for k in sorted(kinds)
        ]
        sec.tables.append(
            Table(
                "wishes_by_sponsor",
                "心愿认领（按认领人类别）",
                ["认领人", "心愿数"],
                rows,
                drills,
                {1: "int"},
                widths=[0.6, 0.4],
            )
        )
        by_member: dict[uuid.UUID, list[MemberServiceFact]] = {}
        for f in services:
            by_member.setdefault(f.volunteer_id, []).append(f)
        mrows: list[list[Any]] = []
        mdr: list[list[Drill | None]] = []
        for vid, fs in sorted(by_member.items(), key=lambda kv: kv[1][0].number):
            mrows.append([fs[0].number, fs[0].name, fs[0].unit, _total(fs), len(fs)])
            mdr.append(
                [
                    None,
                    None,
                    None,
                    Drill("member_services", "all", (("volunteer_id", vid),), f"{p.label} {fs[0].name} 服务记录"),
                    None,
                ]
            )
        sec.tables.append(
            Table(
                "member_hours",
                "报到党员本期服务时长",
                ["编号", "姓名", "工作单位", "服务时长", "服务次数"],
                mrows,
                mdr,
                {3: "hours", 4: "int"},
                widths=[0.22, 0.14, 0.34, 0.15, 0.15],
            )
        )
        return sec

    def fact_preds(self, kind: str, period: Period) -> dict[str, Callable[[Any], bool]]:
        return dict(_wish_preds(period)) if kind == "wishes" else {}

    def records(
        self, db: Database, report: Report, drill: Drill, facts: list[Any]
    ) -> tuple[list[str], list[list[Any]]]:
        if drill.kind == "wishes":
            names = _names(db, [f.resident_id for f in facts])
            return (
                ["心愿编号", "心愿", "居民", "网格", "估值（元）", "发布", "认领人", "认领", "实现"],
                [
                    [
                        f.number,
                        f.title,
                        names.get(f.resident_id.hex, ""),
                        f.grid,
                        f.value,
                        f.published,
                        f.sponsor or "—",
                        f.claimed,
                        f.fulfilled,
                    ]
                    for f in sorted(facts, key=lambda f: f.number)
                ],
            )
        if drill.kind == "report_ins":
            return (
                ["编号", "姓名", "工作单位", "报到日期", "服务岗位"],
                [
                    [f.number, f.name, f.unit, f.reported_on, "、".join(f.posts)]
                    for f in sorted(facts, key=lambda f: (f.reported_on, f.number))
                ],
            )
        return (
            ["日期", "编号", "姓名", "工作单位", "时长"],
            [[f.day, f.number, f.name, f.unit, f.hours] for f in sorted(facts, key=lambda f: (f.day, f.number))],
        )
