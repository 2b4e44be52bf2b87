"""四、志愿服务: needs received and matched (facts), volunteer services
(done assignments, counted in the database) and the party members' hours
for the year."""

from __future__ import annotations

import json
import uuid
from collections import defaultdict
from datetime import date, datetime
from typing import Any, Callable, NamedTuple

from sqlalchemy import Text, and_, cast, func, select, union

from db.engine import Database
from db.errors import ValidationError
from db.models import Assignment, Need, NeedEvent, Volunteer

from .base import (
    Chart,
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
    _flag,
    _hours,
    _key,
    _names,
    _uid,
    raw,
)


class NeedFact(NamedTuple):
    id: uuid.UUID
    origin: str
    title: str
    skills: tuple[str, ...]
    created: datetime
    status: str
    resident_id: uuid.UUID | None
    matched: datetime | None  # first dispatch
    completed: datetime | None  # the need's 完成 event
    refused: datetime | None
    cancelled: datetime | None


class ServiceFact(NamedTuple):
    id: uuid.UUID
    origin: str
    volunteer_id: uuid.UUID
    volunteer: str
    number: str
    day: date
    hours: float
    skills: tuple[str, ...]
    need_title: str
    resident_id: uuid.UUID | None


def _need_facts(c: _Ctx) -> list[NeedFact]:
    ev_kinds = ("assign", "complete", "refuse", "cancel")
    # needs created in the period, plus needs with an event in it: one
    # SELECT of ids the database evaluates, not a list of ids sent back
    wanted = union(
        select(Need.id).where(c.in_period(Need.created_at), c.where_origin(Need.origin), Need.deleted.is_(False)),
        select(NeedEvent.need_id).where(c.in_period(NeedEvent.at), NeedEvent.kind.in_(ev_kinds)),
    )
    with c.db.session() as s:
        needs = s.execute(
            select(Need.id, Need.origin, Need.title, Need.skills, Need.created_at, Need.status, Need.resident_id).where(
                Need.id.in_(wanted), Need.deleted.is_(False), c.where_origin(Need.origin)
            )
        ).all()
        # each need's first event of each kind, keyed by the id as _key spells it
        firsts: dict[tuple[str, str], datetime] = {
            (_key(need_id), kind): at
            for need_id, kind, at in s.execute(
                select(raw(NeedEvent.need_id), NeedEvent.kind, func.min(NeedEvent.at))
                .where(NeedEvent.need_id.in_(wanted), NeedEvent.kind.in_(ev_kinds))
                .group_by(NeedEvent.need_id, NeedEvent.kind)
            )
        }
    out = []
    for n in needs:
        k = n[0].hex
        out.append(
            NeedFact(
                n[0],
                n[1],
                n[2],
                tuple(n[3] or ()),
                n[4] + c.off,
                n[5],
                n[6],
                c.local(firsts.get((k, "assign"))),
                c.local(firsts.get((k, "complete"))),
                c.local(firsts.get((k, "refuse"))),
                c.local(firsts.get((k, "cancel"))),
            )
        )
    return out


class _ServiceSQL:
    """Volunteer services (done assignments) from the first of the year (or
    the period's start, if earlier) to the period's end."""

    def __init__(self, c: _Ctx):
        self.c = c
        p = c.period
        self.year_start = date(p.end.year, 1, 1)
        first = min(self.year_start, p.start)
        self.base = and_(
            Assignment.status == "done",
            Assignment.deleted.is_(False),
            Assignment.day >= first,
            Assignment.day <= p.end,
            c.where_origin(Assignment.origin),
        )
        in_period = Assignment.day >= p.start
        self.preds = {
            "in_period": in_period,
            "skill": in_period,
            "volunteer": in_period,
            "ytd_volunteer": Assignment.day >= self.year_start,
        }

    @staticmethod
    def _from(q):  # type: ignore[no-untyped-def]
        return (
            q.select_from(Assignment)
            .join(Volunteer, Volunteer.id == Assignment.volunteer_id)
            .join(Need, Need.id == Assignment.need_id)
        )

    def where(self, drill: Drill):  # type: ignore[no-untyped-def]
        conds = []
        for k, v in drill.filters:
            if k == "volunteer_id":
                conds.append(Assignment.volunteer_id == _uid(v))
            elif k == "origin":
                conds.append(Assignment.origin == v)
            elif k != "skill":  # skills are a JSON list: filtered in Python (see facts)
                raise ValidationError("drill", "未知的明细。")
        return and_(self.base, self.preds[drill.pred], *conds)

    def counts(self) -> list[dict[str, Any]]:
        """Services grouped by station, volunteer, the need's skills, hours and
        whether they fall in the period / the year: small, and summed in
        Python in one order so SQLite and PostgreSQL give the same hours."""
        p = self.c.period
        keys = [
            Assignment.origin.label("origin"),
            raw(Volunteer.id).label("vid"),
            Volunteer.name.label("name"),
            Volunteer.number.label("number"),
            cast(Need.skills, Text).label("skills"),
            Assignment.hours.label("hours"),
            _flag(Assignment.day >= p.start).label("in_period"),
            _flag(Assignment.day >= self.year_start).label("ytd"),
        ]
        sub = self._from(select(*keys)).where(self.base).subquery()
        group = [sub.c[k.name] for k in keys]
        with self.c.db.session() as s:
            rows = [
                dict(r)
                for r in s.connection().execute(select(*group, func.count().label("n")).group_by(*group)).mappings()
            ]
        for r in rows:
            r["skills"] = tuple(json.loads(r["skills"]) or ()) if r["skills"] else ()
            r["hours"] = float(r["hours"] or 0)
        rows.sort(key=lambda r: (r["origin"], _key(r["vid"]), r["skills"], r["hours"], r["in_period"], r["ytd"]))
        return rows

    def facts(self, where, skill: str | None = None) -> list[ServiceFact]:  # type: ignore[no-untyped-def]
        q = (
            self._from(
                select(
                    Assignment.id,
                    Assignment.origin,
                    Volunteer.id,
                    Volunteer.name,
                    Volunteer.number,
                    Assignment.day,
                    Assignment.hours,
                    Need.skills,
                    Need.title,
                    Need.resident_id,
                )
            )
            .where(where)
            .order_by(Assignment.day, Volunteer.number)
        )
        with self.c.db.session() as s:
            out = [
                ServiceFact(r[0], r[1], r[2], r[3], r[4], r[5], float(r[6] or 0), tuple(r[7] or ()), r[8], r[9])
                for r in s.execute(q)
            ]
        if skill is not None:
            out = [f for f in out if skill in (f.skills or ("",))]
        return out


def _need_preds(p: Period) -> dict[str, Callable[[NeedFact], bool]]:
    def inside(dt: datetime | None) -> bool:
        return dt is not None and p.contains(dt.date())

    return {
        "received": lambda f: inside(f.created),
        "matched": lambda f: inside(f.matched),
        "completed": lambda f: inside(f.completed),
        "refused": lambda f: inside(f.refused),
        "cancelled": lambda f: inside(f.cancelled),
    }


def _volunteer_section(
    c: _Ctx,
    title: str,
    needs: list[NeedFact],
    services: list[dict[str, Any]],
    skill_names: dict[str, str],
    party: list[Any],
) -> Section:
    p = c.period
    preds = _need_preds(p)
    member = {k: [f for f in needs if pr(f)] for k, pr in preds.items()}
    sec = Section("volunteers", title)
    waits = [
        (f.matched - f.created).total_seconds() / 3600
        for f in member["matched"]
        if f.matched is not None and f.matched >= f.created
    ]
    in_period = [r for r in services if r["in_period"]]
    for key, label in (
        ("received", "收到需求"),
        ("matched", "派单"),
        ("completed", "完成"),
        ("refused", "拒绝"),
        ("cancelled", "取消"),
    ):
        sec.figures.append(Figure(label, len(member[key]), "件", Drill("needs", key, (), f"{p.label} 需求{label}")))
    sec.figures += [
        Figure(
            "需求到派单平均",
            round(sum(waits) / len(waits), 1) if waits else None,
            "小时",
            Drill("needs", "matched", (), f"{p.label} 已派单需求"),
            "hours",
        ),
        Figure(
            "需求到派单最长",
            round(max(waits), 1) if waits else None,
            "小时",
            Drill("needs", "matched", (), f"{p.label} 已派单需求"),
            "hours",
        ),
        Figure(
            "服务人次",
            sum(r["n"] for r in in_period),
            "人次",
            Drill("services", "in_period", (), f"{p.label} 志愿服务记录"),
        ),
        Figure(
            "服务时长",
            _hours((r["hours"], r["n"]) for r in in_period),
            "小时",
            Drill("services", "in_period", (), f"{p.label} 志愿服务记录"),
            "hours",
        ),
    ]
    by_skill: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in in_period:
        for k in r["skills"] or ("",):
            by_skill[k].append(r)
    skill_hours = {k: _hours((r["hours"], r["n"]) for r in rs) for k, rs in by_skill.items()}
    rows, drills = [], []
    for k in sorted(by_skill, key=lambda k: (-skill_hours[k], k)):
        name = skill_names.get(k, k) or "（未注明）"
        rows.append([name, sum(r["n"] for r in by_skill[k]), skill_hours[k]])
        drills.append(
            [
                None,
                Drill("services", "skill", (("skill", k),), f"{p.label} {name}"),
                Drill("services", "skill", (("skill", k),), f"{p.label} {name}"),
            ]
        )
    sec.tables.append(
        Table(
            "hours_by_skill",
            "服务时长（按技能）",
            ["技能", "人次", "小时"],
            rows,
            drills,
            {1: "int", 2: "hours"},
            note="一项需求涉及几种技能时，其时长计入每一种。",
            widths=[0.5, 0.25, 0.25],
        )
    )
    by_vol: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in in_period:
        by_vol[_key(r["vid"])].append(r)
    vol_hours = {v: _hours((r["hours"], r["n"]) for r in rs) for v, rs in by_vol.items()}
    vrows, vdr = [], []
    for vid in sorted(by_vol, key=lambda v: (-vol_hours[v], by_vol[v][0]["number"], v)):
        first = by_vol[vid][0]
        vrows.append([first["number"], first["name"], sum(r["n"] for r in by_vol[vid]), vol_hours[vid]])
        d = Drill("services", "volunteer", (("volunteer_id", _uid(vid)),), f"{p.label} {first['name']}")
        vdr.append([None, None, d, d])
    sec.tables.append(
        Table(
            "hours_by_volunteer",
            "服务时长（按志愿者）",
            ["志愿者编号", "姓名", "人次", "小时"],
            vrows,
            vdr,
            {2: "int", 3: "hours"},
            widths=[0.3, 0.3, 0.2, 0.2],
        )
    )
    ytd: dict[str, list[tuple[float, int]]] = defaultdict(list)
    for r in services:
        if r["ytd"]:
            ytd[_key(r["vid"])].append((r["hours"], r["n"]))
    prows, pdr = [], []
    for vid, number, name, employer, target in party:
        h = _hours(ytd.get(_key(vid), ()))
        prows.append(
            [
                number,
                name,
                employer or "—",
                target,
                h,
                max(0.0, round((target or 0) - h, 2)),
                (h / target) if target else None,
            ]
        )
        d = Drill("services", "ytd_volunteer", (("volunteer_id", vid),), f"{p.end.year}年 {name} 服务记录")
        pdr.append([None, None, None, None, d, None, None])
    sec.tables.append(
        Table(
            "party_members",
            f"在职党员服务时长（{p.end.year}年1月1日至{p.end.month}月{p.end.day}日）",
            ["编号", "姓名", "工作单位", "年度目标", "已服务", "尚差", "完成率"],
            prows,
            pdr,
            {3: "hours", 4: "hours", 5: "hours", 6: "pct"},
            widths=[0.16, 0.13, 0.25, 0.11, 0.11, 0.11, 0.13],
        )
    )
    if rows:
        sec.charts.append(Chart("hbar", "服务时长（按技能，小时）", [r[0] for r in rows[:8]], [r[2] for r in rows[:8]]))
    return sec


def _party_members(c: _Ctx) -> list[Any]:
    """(id, number, name, employer, yearly target) of the party members."""
    with c.db.session() as s:
        return list(
            s.execute(
                select(
                    Volunteer.id, Volunteer.number, Volunteer.name, Volunteer.employer, Volunteer.yearly_target_hours
                )
                .where(Volunteer.party_member.is_(True), Volunteer.deleted.is_(False), c.where_origin(Volunteer.origin))
                .order_by(Volunteer.number)
            ).all()
        )


class VolunteerResult(NamedTuple):
    services: list[dict[str, Any]]  # _ServiceSQL.counts()
    skill_names: dict[str, str]
    party: list[Any]


class VolunteersSection(ReportSection):
    key, title, kinds = "volunteers", "志愿服务", ("needs", "services")

    def collect(self, run: Run) -> Any:
        from desktop.services.volunteers import skills as skill_names

        c = run.ctx
        # The services are counted in a worker thread while the needs (a
        # few) and the party members are read here.
        services = run.pool.submit(_ServiceSQL(c).counts)
        run.facts["needs"] = _need_facts(c)
        return services, skill_names(c.db), _party_members(c)

    def finish(self, run: Run) -> None:
        services, names, party = run.results[self.key]
        run.results[self.key] = VolunteerResult(services.result(), names, party)

    def section(self, run: Run) -> Section | None:
        r: VolunteerResult = run.result(self.key)
        return _volunteer_section(run.ctx, self.title, run.facts["needs"], r.services, r.skill_names, r.party)

    def contacted(self, c: _Ctx) -> list[Any]:
        ssql = _ServiceSQL(c)
        return [
            select(Need.resident_id).where(
                c.in_period(Need.created_at),
                c.where_origin(Need.origin),
                Need.deleted.is_(False),
                Need.resident_id.is_not(None),
            ),
            ssql._from(select(Need.resident_id)).where(
                ssql.where(Drill("services", "in_period")), Need.resident_id.is_not(None)
            ),
        ]

    def per_station(self, run: Run) -> StationColumns | None:
        services: list[dict[str, Any]] = run.result(self.key).services
        return StationColumns(
            {r["origin"] for r in services},
            [
                StationColumn(
                    "志愿服务小时",
                    lambda o: _hours((r["hours"], r["n"]) for r in services if r["origin"] == o and r["in_period"]),
                    "hours",
                    0.15,
                    drill=lambda o, name: Drill("services", "in_period", (("origin", o),), f"{name} 志愿服务"),
                ),
            ],
        )

    def fact_preds(self, kind: str, period: Period) -> dict[str, Callable[[Any], bool]]:
        return _need_preds(period)

    def matching(self, c: _Ctx, report: Report, drill: Drill) -> list[Any]:
        if drill.kind == "needs":
            return super().matching(c, report, drill)
        ssql = _ServiceSQL(c)
        return ssql.facts(ssql.where(drill), skill=dict(drill.filters).get("skill"))

    def records(
        self, db: Database, report: Report, drill: Drill, facts: list[Any]
    ) -> tuple[list[str], list[list[Any]]]:
        names = _names(db, (f.resident_id for f in facts))
        if drill.kind == "needs":
            from desktop.services.volunteers import NEED_STATUSES

            rows = [
                [
                    f.created,
                    f.title,
                    names.get(_key(f.resident_id), "") if f.resident_id else "（本站）",
                    f.matched,
                    round((f.matched - f.created).total_seconds() / 3600, 1) if f.matched else None,
                    NEED_STATUSES.get(f.status, f.status),
                ]
                for f in sorted(facts, key=lambda f: f.created)
            ]
            return ["提出时间", "需求", "居民", "首次派单", "等待(小时)", "状态"], rows
        rows = [
            [
                f.day,
                f.number,
                f.volunteer,
                f.need_title,
                names.get(_key(f.resident_id), "") if f.resident_id else "",
                f.hours,
            ]
            for f in sorted(facts, key=lambda f: (f.day, f.number))
        ]
        return ["日期", "志愿者编号", "志愿者", "服务项目", "服务对象", "小时"], rows
