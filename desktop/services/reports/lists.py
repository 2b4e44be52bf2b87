"""减负与公开: what departments pushed down to the committee in the period
(by department and by list — 依法履职, 依法协助, the negative list, on no
list — and how many were declined), and the notice board (postings put up
in the period, up at its end, overdue to come down) — small lists, kept as
facts.

"At its end" is the end of the period, or now for a period still running,
so the current month's figures equal what the 清单公开 page shows."""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import date, datetime
from typing import Any, Callable, NamedTuple

from sqlalchemy import and_, or_, select

from db.clock import utcnow
from db.engine import Database
from db.models import DeptRequest, Posting

from .base import Drill, Figure, Period, Report, ReportSection, Run, Section, Table, _Ctx

KIND_COLUMNS = (("duty", "依法履职"), ("assist", "依法协助"), ("negative", "负面清单"), ("unlisted", "未列入清单"))


class RequestFact(NamedTuple):
    id: uuid.UUID
    origin: str
    received_on: date
    department: str
    item_kind: str
    item_name: str
    outcome: str
    actor: str
    content: str


class PostingFact(NamedTuple):
    id: uuid.UUID
    origin: str
    title: str
    category: str
    on_date: date
    off_date: date
    posted_at: datetime | None  # local
    removed_at: datetime | None  # local
    posted_in_period: bool
    up_at_end: bool
    overdue_at_end: bool


def _as_of(c: _Ctx) -> tuple[datetime, date]:
    """The instant (stored UTC) and local date the board is counted at."""
    now = utcnow()
    if now < c.end_utc:
        return now, (now + c.off).date()
    return c.end_utc, c.period.end


def _facts(c: _Ctx) -> tuple[list[RequestFact], list[PostingFact]]:
    p = c.period
    rq = select(
        DeptRequest.id,
        DeptRequest.origin,
        DeptRequest.received_on,
        DeptRequest.department,
        DeptRequest.item_kind,
        DeptRequest.item_name,
        DeptRequest.outcome,
        DeptRequest.actor_name,
        DeptRequest.content,
    ).where(
        DeptRequest.deleted.is_(False),
        DeptRequest.received_on >= p.start,
        DeptRequest.received_on <= p.end,
        c.where_origin(DeptRequest.origin),
    )
    at, day = _as_of(c)
    up = and_(
        Posting.posted_at.is_not(None),
        Posting.posted_at < at,
        or_(Posting.removed_at.is_(None), Posting.removed_at >= at),
    )
    pq = select(
        Posting.id,
        Posting.origin,
        Posting.title,
        Posting.category,
        Posting.on_date,
        Posting.off_date,
        Posting.posted_at,
        Posting.removed_at,
    ).where(Posting.deleted.is_(False), c.where_origin(Posting.origin), or_(c.in_period(Posting.posted_at), up))
    with c.db.session() as s:
        requests = [RequestFact(r[0], r[1], r[2], r[3], r[4], r[5] or "", r[6], r[7], r[8]) for r in s.execute(rq)]
        postings = []
        for r in s.execute(pq):
            posted, removed = r[6], r[7]
            is_up = posted is not None and posted < at and (removed is None or removed >= at)
            postings.append(
                PostingFact(
                    r[0],
                    r[1],
                    r[2],
                    r[3],
                    r[4],
                    r[5],
                    c.local(posted),
                    c.local(removed),
                    posted is not None and c.start_utc <= posted < c.end_utc,
                    is_up,
                    is_up and r[5] < day,
                )
            )
    return requests, postings


def _of_kind(kind: str) -> Callable[[Any], bool]:
    return lambda f: f.item_kind == kind


def _request_preds() -> dict[str, Callable[[Any], bool]]:
    return {
        "all": lambda f: True,
        "declined": lambda f: f.outcome == "declined",
        **{kind: _of_kind(kind) for kind, _label in KIND_COLUMNS},
    }


POSTING_PREDS: dict[str, Callable[[Any], bool]] = {
    "posted": lambda f: f.posted_in_period,
    "up": lambda f: f.up_at_end,
    "overdue": lambda f: f.overdue_at_end,
}


class ListsSection(ReportSection):
    key, title, kinds = "lists", "减负与公开", ("dept_requests", "postings")
    step = "部门下派事项与公开栏"

    def collect(self, run: Run) -> Any:
        requests, postings = _facts(run.ctx)
        run.facts.update(dept_requests=requests, postings=postings)

    def section(self, run: Run) -> Section | None:
        requests: list[RequestFact] = run.facts["dept_requests"]
        postings: list[PostingFact] = run.facts["postings"]
        if not requests and not postings:
            return None
        p = run.ctx.period
        rp = _request_preds()
        sec = Section(self.key, self.title)
        sec.figures += [
            Figure("部门下派事项", len(requests), "件", Drill("dept_requests", "all", (), f"{p.label} 部门下派事项")),
            Figure(
                "其中负面清单",
                sum(map(rp["negative"], requests)),
                "件",
                Drill("dept_requests", "negative", (), f"{p.label} 负面清单上的下派事项"),
            ),
            Figure(
                "未经准入",
                sum(map(rp["unlisted"], requests)),
                "件",
                Drill("dept_requests", "unlisted", (), f"{p.label} 未列入清单的下派事项"),
            ),
            Figure(
                "已退回",
                sum(map(rp["declined"], requests)),
                "件",
                Drill("dept_requests", "declined", (), f"{p.label} 退回的下派事项"),
            ),
        ]
        sec.figures += [
            Figure(label, sum(map(POSTING_PREDS[k], postings)), "份", Drill("postings", k, (), f"{p.label} {title}"))
            for k, label, title in (
                ("posted", "本期张贴公示", "张贴的公示"),
                ("up", "期末公示中", "期末公示中"),
                ("overdue", "逾期未撤", "逾期未撤的公示"),
            )
        ]
        by_dept = Counter(f.department for f in requests)
        rows: list[list[Any]] = []
        drills: list[list[Drill | None]] = []
        for dept in sorted(by_dept, key=lambda d: (-by_dept[d], d)):
            mine = [f for f in requests if f.department == dept]
            flt = (("department", dept),)
            rows.append(
                [dept, *(sum(map(rp[k], mine)) for k, _ in KIND_COLUMNS), sum(map(rp["declined"], mine)), len(mine)]
            )
            drills.append(
                [
                    None,
                    *(Drill("dept_requests", k, flt, f"{p.label} {dept} {label}") for k, label in KIND_COLUMNS),
                    Drill("dept_requests", "declined", flt, f"{p.label} {dept} 退回"),
                    Drill("dept_requests", "all", flt, f"{p.label} {dept}"),
                ]
            )
        if rows:
            rows.append(["合计", *(sum(r[i] for r in rows) for i in range(1, 7))])
            drills.append(
                [
                    None,
                    *(Drill("dept_requests", k, (), f"{p.label} {label}") for k, label in KIND_COLUMNS),
                    Drill("dept_requests", "declined", (), f"{p.label} 退回"),
                    Drill("dept_requests", "all", (), f"{p.label} 部门下派事项"),
                ]
            )
        sec.tables.append(
            Table(
                "requests_by_department",
                "减负监测：按下派部门",
                ["下派部门", *(label for _, label in KIND_COLUMNS), "已退回", "合计"],
                rows,
                drills,
                {i: "int" for i in range(1, 7)},
                note="负面清单上的和未经准入的事项，本站出具《工作事项不予承接告知单》退回；"
                "此表为基层减负监测的依据：哪些部门、多少次把什么工作压给村（社区）。",
                widths=[0.28, 0.12, 0.12, 0.12, 0.12, 0.12, 0.12],
            )
        )
        return sec

    def fact_preds(self, kind: str, period: Period) -> dict[str, Callable[[Any], bool]]:
        return _request_preds() if kind == "dept_requests" else POSTING_PREDS

    def records(
        self, db: Database, report: Report, drill: Drill, facts: list[Any]
    ) -> tuple[list[str], list[list[Any]]]:
        from desktop.services.postings import category_label
        from desktop.services.workitems import ITEM_KINDS, OUTCOMES

        if drill.kind == "postings":
            rows = [
                [
                    f.title,
                    category_label(f.category),
                    f.on_date,
                    f.off_date,
                    f.posted_at,
                    f.removed_at,
                    "逾期未撤" if f.overdue_at_end else "",
                ]
                for f in sorted(facts, key=lambda f: (f.posted_at or datetime.min, f.title))
            ]
            return ["标题", "类别", "张贴日期", "撤下日期", "实际张贴", "实际撤下", "期末"], rows
        rows = [
            [
                f.received_on,
                f.department,
                f.content,
                ITEM_KINDS.get(f.item_kind, f.item_kind),
                f.item_name,
                OUTCOMES.get(f.outcome, f.outcome),
                f.actor,
            ]
            for f in sorted(facts, key=lambda f: (f.received_on, f.department))
        ]
        return ["收到日期", "下派部门", "事项内容", "清单", "清单事项", "结果", "经办人"], rows
