"""The community work-item lists (工作事项准入) and the tasks departments
push down to the committee.

The lists have the certificate catalogue's shape: the province's or city's
file (shipped as an honest sample, imported over it by a supervisor) gives
shared entries that flow from the street hub to its stations; an entry the
hub adds itself (``supplement``) flows down too; an entry a station adds
(``local``) stays at the station. Three lists: 依法履职 (the committee's own
duties), 依法协助 (what it assists government with) and the negative list
(不应由村(社区)承担: work that must not be pushed onto it).

A worker records a department's request and picks the list entry it
matches (with search). The list decides the outcome: a duty or assist task
is taken on; a task on the negative list is declined with a numbered notice
(〔2026〕幸福准字第0001号) citing the rule; a task on no list has not been
through 准入 and is declined too, unless a supervisor takes it on. The
figures (what was pushed down, by which department, how often) feed the
month's 减负 monitoring.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from db.clock import shared_id, utcnow
from db.engine import Database
from db.errors import ValidationError
from db.localtime import local_date, to_local
from db.models import DeptRequest, WorkItem
from desktop.paths import resources_dir
from desktop.services import accounts, audit
from desktop.services.certificates import match_score, merge_file_rows, read_catalogue_file, serial_prefix
from desktop.services.context import Actor

KINDS = {"duty": "依法履职", "assist": "依法协助", "negative": "负面清单"}
KIND_TITLES = {
    "duty": "村（社区）依法履行职责事项清单",
    "assist": "村（社区）依法协助政府工作事项清单",
    "negative": "不应由村（社区）承担的工作事项清单（负面清单）",
}
UNLISTED = "unlisted"
ITEM_KINDS = {**KINDS, UNLISTED: "未列入清单"}
OUTCOMES = {"accepted": "已承接", "declined": "已退回"}
UNLISTED_BASIS = (
    "工作事项准入制度：未列入本地村（社区）工作事项清单的事项，须经街道（乡镇）审核准入、"
    "明确经费和工作条件后，方可交由村（社区）承担"
)
SHIPPED = "data/work_items.json"
FORMAT = "station-desk-work-items/1"
APPROVER_ROLE = "supervisor"
MAX_CONTENT = 2000


@dataclass(frozen=True)
class WorkItemView:
    id: uuid.UUID
    code: str
    kind: str
    name: str
    aliases: str
    category: str
    basis: str
    source: str
    active: bool
    local: bool
    supplement: bool

    @property
    def kind_label(self) -> str:
        return KINDS[self.kind]

    @property
    def origin_label(self) -> str:
        return "本站增加" if self.local else "街道补充" if self.supplement else "上级清单"

    def matches(self, query: str) -> int:
        return match_score(self.name, self.aliases, query)


def _view(t: WorkItem) -> WorkItemView:
    return WorkItemView(
        t.id,
        t.code,
        t.kind,
        t.name,
        t.aliases or "",
        t.category or "",
        t.basis or "",
        t.source or "",
        t.active,
        t.local,
        t.supplement,
    )


def _rows_from_doc(doc: dict[str, Any]) -> list[WorkItem]:
    if doc.get("format") != FORMAT:
        raise ValidationError("file", "这不是社区一站通的工作事项清单文件（格式标记不对）。")
    rows: list[WorkItem] = []
    for base, kind in enumerate(KINDS):
        for i, r in enumerate(doc.get(kind) or []):
            if not (r.get("code") and r.get("name")):
                raise ValidationError("file", f"清单文件中“{KINDS[kind]}”的第 {i + 1} 项缺少编号或名称。")
            if not (r.get("basis") or "").strip():
                raise ValidationError("file", f"清单事项“{r['name']}”没有写明依据。")
            rows.append(
                WorkItem(
                    id=shared_id("work_items", f"{kind}:{r['code']}"),
                    code=r["code"],
                    kind=kind,
                    name=r["name"],
                    aliases=r.get("aliases") or None,
                    category=r.get("category"),
                    basis=r["basis"],
                    source=r.get("source"),
                    active=True,
                    local=False,
                    supplement=False,
                    sort=base * 1000 + i,
                )
            )
    return rows


def ensure_catalogue(db: Database) -> None:
    with db.session() as s:
        if s.scalar(select(func.count()).select_from(WorkItem)):
            return
        doc = json.loads((resources_dir() / SHIPPED).read_text(encoding="utf-8"))
        for row in _rows_from_doc(doc):
            s.add(row)


def catalogue(db: Database, include_inactive: bool = False) -> list[WorkItemView]:
    ensure_catalogue(db)
    q = select(WorkItem).where(WorkItem.deleted.is_(False)).order_by(WorkItem.sort, WorkItem.code)
    if not include_inactive:
        q = q.where(WorkItem.active.is_(True))
    with db.session() as s:
        return [_view(t) for t in s.scalars(q)]


def search(items: list[WorkItemView], query: str) -> list[WorkItemView]:
    """Matching entries, best first; among equal matches the negative list
    comes first (the answer the worker most needs to see)."""
    scored = [(t.matches(query), t.kind != "negative", i, t) for i, t in enumerate(items)]
    return [t for sc, _, _, t in sorted(scored, key=lambda x: (-x[0], x[1], x[2])) if sc > 0]


def import_catalogue(db: Database, actor: Actor, path: str) -> dict[str, int]:
    """Load the province's or city's lists. Entries from a file are matched
    by list and code; the hub's and the station's own entries are left alone."""
    actor.require(APPROVER_ROLE, "导入工作事项清单")
    incoming = _rows_from_doc(read_catalogue_file(path, "工作事项清单"))
    if not incoming:
        raise ValidationError("file", "工作事项清单文件是空的。")
    ensure_catalogue(db)
    with db.session() as s:
        existing = list(
            s.scalars(
                select(WorkItem).where(
                    WorkItem.deleted.is_(False), WorkItem.local.is_(False), WorkItem.supplement.is_(False)
                )
            )
        )
        counts: dict[str, Any] = merge_file_rows(
            s, existing, incoming, ("name", "aliases", "category", "basis", "source")
        )
        audit.record(s, "work_item_import", actor, **counts)
    return counts


def save_item(
    db: Database,
    actor: Actor,
    item_id: uuid.UUID | None,
    *,
    kind: str,
    name: str,
    basis: str,
    aliases: str = "",
    category: str = "",
) -> uuid.UUID:
    """Add or edit an entry of this database's own. At a street hub it is a
    supplement that flows down to the hub's stations; at a station it is
    local (marked 本站增加) and stays there. It must cite its basis."""
    actor.require(APPROVER_ROLE, "修改工作事项清单")
    if kind not in KINDS:
        raise ValidationError("kind", "请选择清单：依法履职、依法协助或负面清单。")
    name = " ".join((name or "").split())
    if not name or len(name) > 100:
        raise ValidationError("name", "请填写事项名称（不超过 100 个字）。")
    basis = (basis or "").strip()
    if not basis:
        raise ValidationError("basis", "本站增加的清单事项必须写明依据（文件名称、文号或条款）。")
    if len(basis) > MAX_CONTENT:
        raise ValidationError("basis", f"依据太长，请不超过 {MAX_CONTENT} 字。")
    ensure_catalogue(db)
    with db.session() as s:
        hub = accounts.this_station(s).level == "street"
        if item_id is None:
            mine = WorkItem.supplement.is_(True) if hub else WorkItem.local.is_(True)
            n = s.scalar(select(func.count()).select_from(WorkItem).where(mine)) or 0
            t = WorkItem(
                code=f"{'J' if hub else 'L'}{n + 1:02d}", local=not hub, supplement=hub, sort=5000 + n, active=True
            )
            s.add(t)
        else:
            found = s.get(WorkItem, item_id)
            if found is None or found.deleted:
                raise ValidationError("name", "找不到这个清单事项。")
            t = found
            if not (t.supplement if hub else t.local):
                raise ValidationError("name", "上级下发的清单事项不能在本站修改，只能启用或停用。")
        t.kind, t.name, t.basis = kind, name, basis
        t.aliases, t.category = aliases.strip() or None, category.strip() or None
        t.source = "街道（乡镇）补充" if hub else "本站增加"
        s.flush()
        audit.record(s, "work_item_save", actor, target_type="work_item", target_id=t.id)
        return t.id


def set_item_active(db: Database, actor: Actor, item_id: uuid.UUID, active: bool) -> None:
    actor.require(APPROVER_ROLE, "修改工作事项清单")
    with db.session() as s:
        t = s.get(WorkItem, item_id)
        if t is None or t.deleted:
            raise ValidationError("name", "找不到这个清单事项。")
        t.active = bool(active)
        audit.record(s, "work_item_save", actor, target_type="work_item", target_id=t.id)


# ------------------------------------------------------------------ requests


@dataclass(frozen=True)
class RequestRow:
    id: uuid.UUID
    at: datetime
    received_on: date
    department: str
    content: str
    item_name: str
    item_kind: str
    outcome: str
    basis: str
    note: str
    actor_name: str
    serial: str  # the notice's number when declined
    origin: str

    @property
    def kind_label(self) -> str:
        return ITEM_KINDS.get(self.item_kind, self.item_kind)

    @property
    def outcome_label(self) -> str:
        return OUTCOMES.get(self.outcome, self.outcome)


def notice_serial(year: int, number: int, prefix: str) -> str:
    return f"〔{year}〕{prefix}准字第{number:04d}号"


def _row(r: DeptRequest, prefix: str) -> RequestRow:
    serial = notice_serial(r.year, r.number, prefix) if r.year and r.number else ""
    return RequestRow(
        r.id,
        r.at,
        r.received_on,
        r.department,
        r.content,
        r.item_name or "",
        r.item_kind,
        r.outcome,
        r.basis or "",
        r.note or "",
        r.actor_name,
        serial,
        r.origin,
    )


def _clean(text: str, label: str, limit: int) -> str:
    text = (text or "").strip()
    if len(text) > limit:
        raise ValidationError(label, f"“{label}”太长（{len(text)} 字），请不超过 {limit} 字。")
    return text


def record_request(
    db: Database,
    actor: Actor,
    *,
    department: str,
    content: str,
    received_on: date,
    item_id: uuid.UUID | None,
    take_on: bool = False,
    note: str = "",
) -> RequestRow:
    """Record a task a department asked the committee to do. The list entry
    decides: 依法履职/依法协助 is taken on; the negative list is declined with
    a numbered notice citing its rule. A task on no list is declined (it has
    not been through 准入) unless ``take_on``, which needs a supervisor."""
    actor.require("desk", "登记部门下派事项")
    department = " ".join(_clean(department, "下派部门", 64).split())
    if not department:
        raise ValidationError("department", "请填写下派事项的部门，如：区城市管理局。")
    content = _clean(content, "事项内容", MAX_CONTENT)
    if not content:
        raise ValidationError("content", "请写明部门要求做的事。")
    note = _clean(note, "备注", MAX_CONTENT)
    today = local_date(utcnow())
    if received_on > today:
        raise ValidationError("received_on", "收到日期不能晚于今天。")
    with db.session() as s:
        item = None
        if item_id is not None:
            item = s.get(WorkItem, item_id)
            if item is None or item.deleted or not item.active:
                raise ValidationError("item", "找不到这个清单事项（可能已停用），请重新选择。")
        kind = item.kind if item else UNLISTED
        if kind == UNLISTED and take_on:
            actor.require(APPROVER_ROLE, "承接未列入清单的事项")
            if not note:
                raise ValidationError("note", "承接未列入清单的事项，请在备注中写明经谁审核同意。")
        outcome = "accepted" if kind in ("duty", "assist") or (kind == UNLISTED and take_on) else "declined"
        st = accounts.this_station(s)
        now = utcnow()
        year = number = None
        if outcome == "declined":
            year = to_local(now).year
            number = (
                s.scalar(
                    select(func.max(DeptRequest.number)).where(DeptRequest.origin == st.code, DeptRequest.year == year)
                )
                or 0
            ) + 1
        row = DeptRequest(
            at=now,
            received_on=received_on,
            department=department,
            content=content,
            item_id=item.id if item else None,
            item_name=item.name if item else None,
            item_kind=kind,
            outcome=outcome,
            basis=(item.basis if item else UNLISTED_BASIS) or None,
            note=note or None,
            actor_name=actor.display_name,
            year=year,
            number=number,
        )
        s.add(row)
        s.flush()
        audit.record(s, "dept_request", actor, target_type="dept_request", target_id=row.id, outcome=OUTCOMES[outcome])
        return _row(row, serial_prefix(st.name))


def _prefixes(s: Session) -> dict[str, str]:
    from db.models import Station

    return {code: serial_prefix(name) for code, name in s.execute(select(Station.code, Station.name))}


def requests(
    db: Database, *, start: date | None = None, end: date | None = None, department: str = "", limit: int = 2000
) -> list[RequestRow]:
    """Requests received in [start, end] (local dates), newest first."""
    q = select(DeptRequest).where(DeptRequest.deleted.is_(False))
    if start is not None:
        q = q.where(DeptRequest.received_on >= start)
    if end is not None:
        q = q.where(DeptRequest.received_on <= end)
    if department:
        q = q.where(DeptRequest.department == department)
    with db.session() as s:
        pre = _prefixes(s)
        return [
            _row(r, pre.get(r.origin, "社区"))
            for r in s.scalars(q.order_by(DeptRequest.received_on.desc(), DeptRequest.at.desc()).limit(limit))
        ]


def get_request(db: Database, request_id: uuid.UUID) -> RequestRow:
    with db.session() as s:
        r = s.get(DeptRequest, request_id)
        if r is None or r.deleted:
            raise ValidationError("request", "找不到这条下派事项记录。")
        return _row(r, _prefixes(s).get(r.origin, "社区"))


def departments(db: Database, limit: int = 200) -> list[str]:
    """Departments seen before, most frequent first (for the input's completer)."""
    with db.session() as s:
        rows = s.execute(
            select(DeptRequest.department, func.count())
            .group_by(DeptRequest.department)
            .order_by(func.count().desc(), DeptRequest.department)
            .limit(limit)
        ).all()
    return [d for d, _ in rows]


@dataclass
class Monitoring:
    """减负 monitoring for a period: what was pushed down, by whom, how often."""

    total: int
    declined: int
    by_kind: dict[str, int]  # duty | assist | negative | unlisted
    by_department: dict[str, dict[str, int]]  # department → kind → count (and "declined")


def monitoring(db: Database, start: date, end: date, stations: tuple[str, ...] = ()) -> Monitoring:
    """Requests received in [start, end] (local dates) at ``stations`` (all
    the database holds when empty: a hub's whole street)."""
    q = (
        select(DeptRequest.department, DeptRequest.item_kind, DeptRequest.outcome, func.count())
        .where(DeptRequest.deleted.is_(False), DeptRequest.received_on >= start, DeptRequest.received_on <= end)
        .group_by(DeptRequest.department, DeptRequest.item_kind, DeptRequest.outcome)
    )
    if stations:
        q = q.where(DeptRequest.origin.in_(stations))
    m = Monitoring(0, 0, {k: 0 for k in ITEM_KINDS}, {})
    with db.session() as s:
        for dept, kind, outcome, n in s.execute(q):
            m.total += n
            m.by_kind[kind] = m.by_kind.get(kind, 0) + n
            d = m.by_department.setdefault(dept, {k: 0 for k in (*ITEM_KINDS, "declined", "total")})
            d[kind] = d.get(kind, 0) + n
            d["total"] += n
            if outcome == "declined":
                m.declined += n
                d["declined"] += n
    return m
