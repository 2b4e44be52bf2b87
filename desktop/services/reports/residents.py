"""五、居民信息: residents registered in the period, changes to their
records, and the special groups — with who among them no section contacted
in the period (本期接触: the ``contacted`` hook of every registered section)."""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import datetime, timedelta
from operator import attrgetter
from typing import Any, Callable, NamedTuple

from sqlalchemy import and_, select

from db.engine import Database
from db.models import AuditLog, Resident, ResidentTag
from desktop.services.vocab import SPECIAL_GROUPS

from .base import (
    Chart,
    Drill,
    Figure,
    Period,
    Report,
    ReportSection,
    Run,
    Section,
    Table,
    _Ctx,
    _flag,
    _key,
    _names,
    raw,
)


class ResidentFact(NamedTuple):
    id: uuid.UUID
    origin: str
    name: str
    grid: str
    address: str
    tags: tuple[str, ...]
    registered: datetime | None  # from the id's UUIDv7 time, local
    contacted: bool


class ChangeFact(NamedTuple):
    id: uuid.UUID
    origin: str
    at: datetime
    action: str
    actor: str
    resident_id: uuid.UUID | None


def _resident_facts(c: _Ctx, contacted: Any) -> tuple[list[ResidentFact], list[ResidentFact]]:
    """(special-group residents, residents registered in the period).
    ``contacted``: a SQL condition on ``Resident.id`` (``Run.contacted``)."""

    def bound(dt: datetime) -> uuid.UUID:
        # A UUIDv7 starts with its creation time in milliseconds (48 bits), so
        # ids created in [start, end) sort between these two and the primary
        # key index finds them: no "created" column is needed.
        ms = int((dt - datetime(1970, 1, 1)).total_seconds() * 1000)
        return uuid.UUID(int=ms << 80)

    lo, hi = bound(c.start_utc), bound(c.end_utc)
    live = and_(
        Resident.deleted.is_(False),
        Resident.moved_out.is_(False),
        Resident.deceased.is_(False),
        c.where_origin(Resident.origin),
    )
    with c.db.session() as s:
        conn = s.connection()
        people: dict[Any, list[Any]] = {}
        for rid, origin, name, grid, address, tag, seen in conn.execute(
            select(
                raw(Resident.id),
                Resident.origin,
                Resident.name,
                Resident.grid,
                Resident.address_text,
                ResidentTag.tag,
                _flag(contacted),
            )
            .join(Resident, Resident.id == ResidentTag.resident_id)
            .where(ResidentTag.deleted.is_(False), live)
        ).all():
            person = people.get(rid)
            if person is None:
                people[rid] = [origin, name, grid or "", address or "", [tag], bool(seen)]
            else:
                person[4].append(tag)
        special = [
            ResidentFact(rid, o, n, g, a, tuple(sorted(tags)), None, seen)
            for rid, (o, n, g, a, tags, seen) in people.items()
        ]
        new = [
            ResidentFact(r[0], r[1], r[2], r[3] or "", r[4] or "", (), _uuid_time(uuid.UUID(_key(r[0])), c), True)
            for r in s.execute(
                select(Resident.id, Resident.origin, Resident.name, Resident.grid, Resident.address_text).where(
                    Resident.id >= lo, Resident.id < hi, Resident.deleted.is_(False), c.where_origin(Resident.origin)
                )
            )
        ]
    special.sort(key=attrgetter("grid", "name"))
    return special, new


def _uuid_time(u: uuid.UUID, c: _Ctx) -> datetime:
    return datetime(1970, 1, 1) + timedelta(milliseconds=u.int >> 80) + c.off


# How the note under 特殊群体 names the contacts of the built-in sections; a
# section adds its own words with ReportSection.contact_label.
CONTACTS = ["办事", "开证明", "提出或接受志愿服务", "收到告知单"]

CHANGE_ACTIONS = {
    "resident_update": "资料修改",
    "resident_moved_out": "迁出",
    "resident_deceased": "去世",
    "household_move": "户内成员变动",
    "household_relation": "与户主关系变动",
    "household_head": "户主变更",
    "household_create": "新立户",
}


def _change_facts(c: _Ctx) -> list[ChangeFact]:
    with c.db.session() as s:
        return [
            ChangeFact(r[0], r[1], r[2] + c.off, r[3], r[4] or "", r[5] if r[6] == "resident" else None)
            for r in s.execute(
                select(
                    AuditLog.id,
                    AuditLog.origin,
                    AuditLog.at,
                    AuditLog.action,
                    AuditLog.actor_name,
                    AuditLog.target_id,
                    AuditLog.target_type,
                ).where(
                    c.in_period(AuditLog.at), AuditLog.action.in_(list(CHANGE_ACTIONS)), c.where_origin(AuditLog.origin)
                )
            )
        ]


def _resident_section(
    c: _Ctx,
    title: str,
    extra_contacts: list[str],
    special: list[ResidentFact],
    new: list[ResidentFact],
    changes: list[ChangeFact],
) -> Section:
    p = c.period
    sec = Section("residents", title)
    by_action = Counter(f.action for f in changes)
    sec.figures.append(
        Figure("新登记居民", len(new), "人", Drill("residents", "registered", (), f"{p.label} 新登记居民"))
    )
    sec.figures.append(Figure("信息变动", len(changes), "次", Drill("changes", "all", (), f"{p.label} 居民信息变动")))
    sec.figures.append(Figure("特殊群体", len(special), "人", Drill("special", "all", (), "特殊群体居民")))
    silent = [f for f in special if not f.contacted]
    sec.figures.append(
        Figure(
            "特殊群体本期未接触",
            len(silent),
            "人",
            Drill("special", "no_contact", (), f"{p.label} 未接触的特殊群体居民"),
        )
    )
    crow = [[label, by_action.get(a, 0)] for a, label in CHANGE_ACTIONS.items()]
    cdr = [
        [None, Drill("changes", "action", (("action", a),), f"{p.label} {label}")]
        for a, label in CHANGE_ACTIONS.items()
    ]
    sec.tables.append(
        Table(
            "resident_changes",
            "登记与变动",
            ["项目", "次数"],
            [["新登记居民", len(new)], *crow],
            [[None, Drill("residents", "registered", (), f"{p.label} 新登记居民")], *cdr],
            {1: "int"},
            widths=[0.7, 0.3],
        )
    )
    groups = Counter(t for f in special for t in f.tags)
    silent_groups = Counter(t for f in silent for t in f.tags)
    grows = [[g, groups.get(g, 0), silent_groups.get(g, 0)] for g in SPECIAL_GROUPS]
    gdr = [
        [
            None,
            Drill("special", "tag", (("tag", g),), f"特殊群体：{g}"),
            Drill("special", "tag_no_contact", (("tag", g),), f"{p.label} 未接触：{g}"),
        ]
        for g in SPECIAL_GROUPS
    ]
    sec.tables.append(
        Table(
            "special_groups",
            "特殊群体（期末）",
            ["群体", "人数", "本期未接触"],
            grows,
            gdr,
            {1: "int", 2: "int"},
            note=f"一人可属多个群体；“接触”指本期在本站{'、'.join(CONTACTS + extra_contacts)}。",
            widths=[0.5, 0.25, 0.25],
        )
    )
    # The street gets counts, not names: who they are is an in-app drill-down
    # (and the station's own work list), never on the paper or sheet sent up.
    by_grid_tag = Counter((f.grid or "", t) for f in silent for t in f.tags)
    keys = sorted(by_grid_tag, key=lambda k: (k[0], SPECIAL_GROUPS.index(k[1]) if k[1] in SPECIAL_GROUPS else 99))
    srows = [[g or "（未分网格）", t, by_grid_tag[(g, t)]] for g, t in keys]
    sdr = [
        [
            None,
            None,
            Drill("special", "tag_no_contact", (("grid", g), ("tag", t)), f"{p.label} 未接触：{g or '未分网格'} {t}"),
        ]
        for g, t in keys
    ]
    sec.tables.append(
        Table(
            "no_contact",
            "本期未接触的特殊群体（按网格和群体计数，请安排走访）",
            ["网格", "群体", "未接触人数"],
            srows,
            sdr,
            {2: "int"},
            note="名单不随报表上报：在本软件中点击人数查看，供本站安排走访。",
            widths=[0.4, 0.35, 0.25],
        )
    )
    sec.charts.append(
        Chart(
            "hbar",
            "特殊群体人数",
            [g for g in SPECIAL_GROUPS if groups.get(g)],
            [groups[g] for g in SPECIAL_GROUPS if groups.get(g)],
        )
    )
    return sec


class ResidentsSection(ReportSection):
    key, title, kinds = "residents", "居民信息", ("special", "residents", "changes")

    def collect(self, run: Run) -> Any:
        c = run.ctx
        # Read in a worker thread: the special groups with their contacts
        # are one large query (every section's contacts, evaluated by the
        # database), which goes on beside the sections read after this one.
        return run.pool.submit(_resident_facts, c, run.contacted()), _change_facts(c)

    def finish(self, run: Run) -> None:
        facts, changes = run.results[self.key]
        special, new = facts.result()
        run.facts.update(special=special, residents=new, changes=changes)
        run.results[self.key] = None

    def section(self, run: Run) -> Section | None:
        f = run.facts
        extra = [sec.contact_label for sec in run.sections if sec.contact_label]
        return _resident_section(run.ctx, self.title, extra, f["special"], f["residents"], f["changes"])

    def seen_origins(self, run: Run) -> set[str]:
        return {f.origin for f in run.facts["residents"]} | {f.origin for f in run.facts["special"]}

    def fact_preds(self, kind: str, period: Period) -> dict[str, Callable[[Any], bool]]:
        if kind != "special":
            return {}
        return {"no_contact": lambda f: not f.contacted, "tag_no_contact": lambda f: not f.contacted}

    def records(
        self, db: Database, report: Report, drill: Drill, facts: list[Any]
    ) -> tuple[list[str], list[list[Any]]]:
        k = drill.kind
        if k == "changes":
            names = _names(db, (f.resident_id for f in facts))
            rows = [
                [
                    f.at,
                    CHANGE_ACTIONS.get(f.action, f.action),
                    names.get(_key(f.resident_id), "") if f.resident_id else "",
                    f.actor,
                ]
                for f in sorted(facts, key=lambda f: f.at)
            ]
            return ["时间", "变动", "居民", "经办人"], rows
        rows = [
            [f.name, f.grid, "、".join(f.tags), f.address, f.registered, "是" if f.contacted else "否"] for f in facts
        ]
        cols = ["姓名", "网格", "群体", "住址", "登记时间", "本期接触"]
        if k == "special":
            return cols[:4] + cols[5:], [r[:4] + r[5:] for r in rows]
        return cols[:2] + cols[3:5], [r[:2] + r[3:5] for r in rows]
