"""The one-stop counter (接待台): the matter catalogue, accepting a matter
with a receipt or a one-time notice, tracking it, closing it with the
resident's rating, and the rectification a bad rating opens.

Rules (DOMAIN.md): 首问负责制 — whoever accepts owns the matter until it is
transferred; 收件回执制 — every acceptance has a receipt number; 一次性告知 —
missing required material gives a written notice instead of an acceptance;
限时办结 — the promised date counts working days; 好差评 — one rating per
matter, 2 and 1 are bad reviews, each opens a rectification due in 15
working days that closes only with a call-back record.
"""

from __future__ import annotations

import json
import re
import unicodedata
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from collections.abc import Callable

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from db.clock import shared_id, utcnow
from db.engine import Database
from db.errors import StationDeskError, ValidationError
from db.localtime import day_start_utc
from db.models import (
    Account,
    Matter,
    MatterEvent,
    MatterRating,
    MatterType,
    NoticeLog,
    Rectification,
    Resident,
)
from desktop.paths import resources_dir
from desktop.services import accounts, audit, workdays
from desktop.services.context import Actor
from desktop.services.names import fold, plain_initials
from desktop.services.idnumbers import mask
from desktop.services.textsearch import clean_query, contains

MODES = {"direct": "直办", "proxy": "代办", "assist": "协办", "inform": "告知"}
CHANNELS = {"window": "窗口", "visit": "上门", "proxy": "代办", "phone": "电话"}
PROXY_CHANNEL = "proxy"  # only through the 代办 page (proxy.register), with its case
DESK_CHANNELS = {k: v for k, v in CHANNELS.items() if k != PROXY_CHANNEL}  # what 受理事项 offers
STATUSES = {
    "accepted": "已受理",
    "in_progress": "办理中",
    "transferred": "已转办",
    "done": "已办结",
    "returned": "已退回",
    "rejected": "不予受理",
}
OPEN_STATUSES = ("accepted", "in_progress", "transferred")
EVENT_KINDS = {
    "accept": "受理",
    "start": "开始办理",
    "transfer": "转办",
    "return": "退回",
    "reject": "不予受理",
    "close": "办结",
    "rate": "评价",
    "note": "备注",
    "callback": "整改回访",
    "cover": "AB岗代岗",
}
# 国办发〔2019〕51号: five levels; 2 and 1 are bad reviews.
RATINGS = {5: "非常满意", 4: "满意", 3: "基本满意", 2: "不满意", 1: "非常不满意"}
BAD_RATING = 2
RECTIFY_DAYS = 15
MAX_NOTE = 1000
SHIPPED_CATALOGUE = "data/matters.json"
CATALOGUE_FORMAT = "station-desk-matters/1"
RECEIPT_RE = re.compile(r"^\s*(\d{6,12}-\d{8}-\d{4})\s*$")
# Where each action may start from.
TRANSITIONS = {
    "start": ("accepted", "transferred"),
    "transfer": ("accepted", "in_progress", "transferred"),
    "return": ("accepted", "in_progress", "transferred"),
    "reject": ("accepted",),
    "close": ("accepted", "in_progress", "transferred"),
}
AFTER = {"start": "in_progress", "transfer": "transferred", "return": "returned", "reject": "rejected", "close": "done"}


class MissingMaterials(StationDeskError):
    """Required material is missing: give a one-time notice instead."""

    def __init__(self, missing: list[str]):
        super().__init__("missing materials", "缺少必需材料：" + "、".join(missing) + "。请出具一次性告知单。")
        self.missing = missing


# ------------------------------------------------------------------ catalogue


@dataclass
class Material:
    name: str
    required: bool = True
    copies: int = 1
    source: str = ""
    check: str = ""


@dataclass
class MatterTypeView:
    id: uuid.UUID | None
    code: str
    name: str
    category: str
    mode: str
    promised_days: int
    conditions: str = ""
    process: str = ""
    fee: str = "不收费"
    basis: str = ""
    aliases: str = ""
    materials: list[Material] = field(default_factory=list)
    active: bool = True
    local: bool = False

    @property
    def mode_label(self) -> str:
        return MODES.get(self.mode, self.mode)

    @property
    def required_materials(self) -> list[str]:
        return [m.name for m in self.materials if m.required]

    def matches(self, query: str) -> int:
        """A score for catalogue search: 0 = no match."""
        q = fold(query)
        if not q:
            return 1
        name = fold(self.name)
        if name.startswith(q):
            return 100
        if q in name:
            return 80
        if any(q in fold(a) for a in self.aliases.split(",") if a):
            return 60
        if q in fold(self.category) or q == self.code.lower():
            return 40
        if q.isascii() and q.isalpha() and (plain_initials(self.name).startswith(q) or q in plain_initials(self.name)):
            return 30
        return 0


def _view(t: MatterType) -> MatterTypeView:
    return MatterTypeView(
        t.id,
        t.code,
        t.name,
        t.category,
        t.mode,
        t.promised_days,
        t.conditions or "",
        t.process or "",
        t.fee or "",
        t.basis or "",
        t.aliases or "",
        [
            Material(
                m.get("name", ""),
                bool(m.get("required", True)),
                int(m.get("copies") or 1),
                m.get("source", ""),
                m.get("check", ""),
            )
            for m in (t.materials or [])
        ],
        t.active,
        t.local,
    )


def _row_from_json(item: dict[str, Any], sort: int) -> MatterType:
    return MatterType(
        id=shared_id("matter_types", item["code"]),
        code=item["code"],
        name=item["name"],
        category=item["category"],
        mode=item["mode"],
        promised_days=int(item.get("promised_days") or 0),
        conditions=item.get("conditions"),
        process=item.get("process"),
        fee=item.get("fee") or "不收费",
        basis=item.get("basis"),
        aliases=item.get("aliases"),
        materials=list(item.get("materials") or []),
        active=True,
        local=False,
        sort=sort,
    )


def ensure_catalogue(db: Database) -> None:
    """Seed an empty catalogue from the shipped file (and the calendar)."""
    with db.session() as s:
        if s.scalar(select(func.count()).select_from(MatterType)):
            return
        doc = json.loads((resources_dir() / SHIPPED_CATALOGUE).read_text(encoding="utf-8"))
        if doc.get("format") != CATALOGUE_FORMAT:
            raise ValidationError("catalogue", "内置事项目录文件格式不对。")
        for i, item in enumerate(doc["matters"]):
            s.add(_row_from_json(item, i))


def catalogue(db: Database, include_inactive: bool = False) -> list[MatterTypeView]:
    ensure_catalogue(db)
    q = select(MatterType).where(MatterType.deleted.is_(False)).order_by(MatterType.sort, MatterType.code)
    if not include_inactive:
        q = q.where(MatterType.active.is_(True))
    with db.session() as s:
        return [_view(t) for t in s.scalars(q)]


def use_counts(db: Database, days: int = 365) -> dict[uuid.UUID, int]:
    """How many matters of each type this station accepted in the last ``days``."""
    since = utcnow() - timedelta(days=days)
    with db.session() as s:
        code = accounts.this_station(s).code
        return dict(
            s.execute(
                select(Matter.matter_type_id, func.count())
                .where(Matter.origin == code, Matter.deleted.is_(False), Matter.accepted_at >= since)
                .group_by(Matter.matter_type_id)
            ).all()
        )


def catalogue_by_use(db: Database) -> list[MatterTypeView]:
    """The active catalogue with this station's most used matters first (the
    rest in catalogue order), so the common matter is the first in the list."""
    used = use_counts(db)
    return sorted(catalogue(db), key=lambda t: -used.get(t.id, 0) if t.id else 0)  # sorted() is stable


def search_catalogue(items: list[MatterTypeView], query: str) -> list[MatterTypeView]:
    scored = [(m.matches(query), i, m) for i, m in enumerate(items)]
    return [m for sc, _, m in sorted(scored, key=lambda x: (-x[0], x[1])) if sc > 0]


def validate_matter_type(v: MatterTypeView) -> MatterTypeView:
    name = " ".join((v.name or "").split())
    if not name:
        raise ValidationError("name", "请填写事项名称。")
    if len(name) > 64:
        raise ValidationError("name", "事项名称太长，请不超过 64 个字。")
    if not (v.category or "").strip():
        raise ValidationError("category", "请填写事项分类。")
    if v.mode not in MODES:
        raise ValidationError("mode", "请选择办理方式。")
    if not 0 <= int(v.promised_days) <= 365:
        raise ValidationError("promised_days", "承诺时限应在 0 到 365 个工作日之间。")
    mats = []
    for m in v.materials:
        if not m.name.strip():
            continue
        if len(m.name) > 100:
            raise ValidationError("materials", f"材料名称太长：{m.name[:20]}…")
        if not 1 <= int(m.copies) <= 20:
            raise ValidationError("materials", f"“{m.name}”的份数应在 1 到 20 之间。")
        mats.append(Material(m.name.strip(), bool(m.required), int(m.copies), m.source.strip(), m.check.strip()))
    names = [m.name for m in mats]
    if len(set(names)) != len(names):
        raise ValidationError("materials", "材料名称有重复。")
    for f_name, limit in (("conditions", 2000), ("process", 2000), ("basis", 1000), ("fee", 64), ("aliases", 200)):
        if len(getattr(v, f_name) or "") > limit:
            raise ValidationError(f_name, f"内容太长，请不超过 {limit} 个字。")
    return MatterTypeView(
        v.id,
        (v.code or "").strip()[:32],
        name,
        v.category.strip(),
        v.mode,
        int(v.promised_days),
        v.conditions.strip(),
        v.process.strip(),
        v.fee.strip() or "不收费",
        v.basis.strip(),
        v.aliases.strip(),
        mats,
        v.active,
        v.local,
    )


def save_matter_type(db: Database, actor: Actor, v: MatterTypeView) -> uuid.UUID:
    """Add or edit an entry of the station's catalogue (supervisor)."""
    actor.require("supervisor", "修改事项目录")
    v = validate_matter_type(v)
    mats = [m.__dict__ for m in v.materials]
    with db.session() as s:
        t: MatterType | None
        if v.id is None:
            n = s.scalar(select(func.count()).select_from(MatterType)) or 0
            t = MatterType(code=v.code or f"BD-{n + 1:02d}", local=True, sort=1000 + n)
            s.add(t)
        else:
            t = s.get(MatterType, v.id)
            if t is None or t.deleted:
                raise ValidationError("name", "找不到这个事项。")
        t.name, t.category, t.mode, t.promised_days = v.name, v.category, v.mode, v.promised_days
        t.conditions, t.process, t.fee, t.basis = v.conditions, v.process, v.fee, v.basis
        t.aliases, t.materials, t.active = v.aliases, mats, v.active
        s.flush()
        audit.record(s, "matter_type_save", actor, target_type="matter_type", target_id=t.id)
        return t.id


# ------------------------------------------------------------------ numbers


def _station(db: Database) -> accounts.StationInfo:
    info = accounts.station_info(db)
    if info is None:
        raise ValidationError("station", "站点尚未建立。")
    return info


def _next_number(s: Session, column: InstrumentedAttribute[str], prefix: str) -> str:
    """The next ``prefix`` + 4-digit number, inside the writing transaction
    (SQLite allows one writer at a time, so two desks cannot take the same)."""
    last = s.scalar(select(func.max(column)).where(column.like(prefix + "%")))
    n = int(last[len(prefix) :]) + 1 if last else 1
    return f"{prefix}{n:04d}"


def local_today() -> date:
    return date.today()


# ------------------------------------------------------------------ accepting


def _clean_note(note: str, label: str = "备注") -> str:
    note = (note or "").strip()
    if len(note) > MAX_NOTE:
        raise ValidationError("note", f"{label}太长（{len(note)} 字），请不超过 {MAX_NOTE} 字。")
    return note


@dataclass(frozen=True)
class Accepted:
    matter_id: uuid.UUID
    receipt_no: str
    promised_date: date


def accept(
    db: Database,
    actor: Actor,
    resident_id: uuid.UUID,
    matter_type_id: uuid.UUID,
    received: list[str],
    channel: str = "window",
    note: str = "",
    today: date | None = None,
    on_accepted: Callable[[Session, uuid.UUID], None] | None = None,
) -> Accepted:
    """Accept a matter and mint its receipt number. Raises MissingMaterials
    when a required material was not ticked.  ``on_accepted(session,
    matter_id)`` runs in the same transaction (a caller's own record of the
    matter, such as a visit's follow-up, commits with it or not at all)."""
    actor.require("desk", "受理事项")
    if channel not in CHANNELS:
        raise ValidationError("channel", "请选择受理渠道。")
    if channel == PROXY_CHANNEL and on_accepted is None:
        # 代办 is registered with its agent and originals (proxy.register,
        # which writes its case through on_accepted), never as a bare matter.
        raise ValidationError("channel", "代办事项请在“代办”页登记：选择代办员并登记收到的原件。")
    note = _clean_note(note)
    today = today or local_today()
    st = _station(db)
    cal = workdays.load(db)
    with db.session() as s:
        t = s.get(MatterType, matter_type_id)
        if t is None or t.deleted or not t.active:
            raise ValidationError("matter", "请从事项目录中选择一个事项。")
        r = s.get(Resident, resident_id)
        if r is None or r.deleted:
            raise ValidationError("resident", "找不到这位居民。")
        if r.deceased:
            raise ValidationError("resident", "这位居民已标记为已故，不能为其受理事项。")
        view = _view(t)
        names = [m.name for m in view.materials]
        unknown = [x for x in received if x not in names]
        if unknown:
            raise ValidationError("materials", f"“{unknown[0]}”不是这个事项的材料。")
        missing = [m for m in view.required_materials if m not in received]
        if missing:
            raise MissingMaterials(missing)
        now = utcnow()
        from desktop.services import rota  # (rota reads the counter's rows)

        away = rota.cover_for(s, t.category, now)  # A岗 away: the matter goes to the cover
        handler = (away.cover_id, away.cover_name) if away else (actor.account_id, actor.display_name)
        receipt = _next_number(s, Matter.receipt_no, f"{st.code}-{today:%Y%m%d}-")
        promised = cal.add_working_days(today, t.promised_days)
        m = Matter(
            receipt_no=receipt,
            resident_id=r.id,
            matter_type_id=t.id,
            matter_name=t.name,
            category=t.category,
            channel=channel,
            status="done" if t.mode == "inform" else "accepted",
            accepted_at=now,
            promised_date=promised,
            handler_id=handler[0],
            handler_name=handler[1],
            accepted_by=actor.display_name,
            materials=[x for x in names if x in received],
            note=note or None,
        )
        s.add(m)
        s.flush()
        s.add(
            MatterEvent(
                matter_id=m.id,
                at=now,
                kind="accept",
                actor_id=actor.account_id,
                actor_name=actor.display_name,
                note=note or None,
            )
        )
        if away is not None:
            add_event(s, m.id, "cover", actor, note=rota.cover_note(away), target=away.cover_name, at=now)
        audit.record(s, "matter_accept", actor, target_type="matter", target_id=m.id)
        if on_accepted is not None:
            on_accepted(s, m.id)
        return Accepted(m.id, receipt, promised)


def record_notice(
    db: Database,
    actor: Actor,
    matter_type_id: uuid.UUID,
    resident_id: uuid.UUID | None,
    missing: list[str],
    reason: str = "",
    today: date | None = None,
) -> str:
    """Log a one-time notice handed to a resident; returns its number."""
    actor.require("desk", "出具一次性告知单")
    reason = _clean_note(reason, "原因")
    today = today or local_today()
    st = _station(db)
    with db.session() as s:
        t = s.get(MatterType, matter_type_id)
        if t is None or t.deleted:
            raise ValidationError("matter", "请从事项目录中选择一个事项。")
        no = _next_number(s, NoticeLog.notice_no, f"{st.code}-GZ{today:%Y%m%d}-")
        n = NoticeLog(
            notice_no=no,
            matter_type_id=t.id,
            resident_id=resident_id,
            at=utcnow(),
            actor_name=actor.display_name,
            missing=list(missing),
            reason=reason or None,
        )
        s.add(n)
        s.flush()
        audit.record(s, "notice_issue", actor, target_type="notice", target_id=n.id)
        return no


# ------------------------------------------------------------------ tracking


def add_event(
    s: Session,
    matter_id: uuid.UUID,
    kind: str,
    actor: Actor,
    note: str | None = None,
    target: str | None = None,
    at: datetime | None = None,
) -> MatterEvent:
    """One line of a matter's history (``EVENT_KINDS``), in the caller's transaction."""
    e = MatterEvent(
        matter_id=matter_id,
        at=at or utcnow(),
        kind=kind,
        actor_id=actor.account_id,
        actor_name=actor.display_name,
        note=note or None,
        target=target or None,
    )
    s.add(e)
    return e


def _live_matter(s: Session, matter_id: uuid.UUID) -> Matter:
    m = s.get(Matter, matter_id)
    if m is None or m.deleted:
        raise ValidationError("matter", "找不到这个事项。")
    return m


def colleagues(db: Database) -> list[tuple[uuid.UUID, str]]:
    """Active accounts a matter can be transferred to (AB岗)."""
    with db.session() as s:
        return [
            (a.id, a.display_name)
            for a in s.scalars(
                select(Account)
                .where(Account.active.is_(True), Account.deleted.is_(False))
                .order_by(Account.display_name)
            )
        ]


def transition(
    db: Database,
    actor: Actor,
    matter_id: uuid.UUID,
    kind: str,
    note: str = "",
    target: str = "",
    to_account: uuid.UUID | None = None,
) -> str:
    """Start, transfer, return or refuse a matter; returns the new status.

    A transfer to a colleague (``to_account``) makes them the handler, so the
    matter moves to their 我的 list (首问负责制 hands over with it); a
    transfer to another office keeps the handler, who follows it up."""
    actor.require("desk", "办理事项")
    if kind not in ("start", "transfer", "return", "reject"):
        raise ValidationError("kind", "未知的操作。")
    note = _clean_note(note)
    target = " ".join((target or "").split())[:64]
    if kind in ("return", "reject") and not note:
        raise ValidationError("note", "退回或不予受理时，请写明原因（会告知居民）。")
    if kind == "transfer" and not target and to_account is None:
        raise ValidationError("target", "请写明转给谁（同事或部门）。")
    with db.session() as s:
        m = _live_matter(s, matter_id)
        if m.status not in TRANSITIONS[kind]:
            raise ValidationError("status", f"这个事项当前是“{STATUSES[m.status]}”，不能{EVENT_KINDS[kind]}。")
        if kind == "transfer" and to_account is not None:
            acct = s.get(Account, to_account)
            if acct is None or not acct.active or acct.deleted:
                raise ValidationError("target", "这个同事的账户已停用，请选择其他人。")
            m.handler_id, m.handler_name = acct.id, acct.display_name
            target = acct.display_name
        m.status = AFTER[kind]
        if kind in ("return", "reject"):
            m.closed_at = utcnow()
        s.add(
            MatterEvent(
                matter_id=m.id,
                at=utcnow(),
                kind=kind,
                actor_id=actor.account_id,
                actor_name=actor.display_name,
                note=note or None,
                target=target or None,
            )
        )
        audit.record(s, "matter_" + kind, actor, target_type="matter", target_id=m.id)
        return m.status


@dataclass(frozen=True)
class Closed:
    status: str
    rectification_id: uuid.UUID | None
    rectification_due: date | None


def close(
    db: Database,
    actor: Actor,
    matter_id: uuid.UUID,
    result: str,
    rating: int | None,
    comment: str = "",
    today: date | None = None,
) -> Closed:
    """办结 with the result and, when the resident gives one, the rating.

    A rating of 2 or 1 opens a rectification due in 15 working days."""
    actor.require("desk", "办结事项")
    result = _clean_note(result, "办理结果")
    if not result:
        raise ValidationError("result", "请填写办理结果。")
    comment = _clean_note(comment, "评价意见")
    if rating is not None and rating not in RATINGS:
        raise ValidationError("rating", "请选择评价等级。")
    today = today or local_today()
    cal = workdays.load(db)
    with db.session() as s:
        m = _live_matter(s, matter_id)
        if m.status not in TRANSITIONS["close"]:
            raise ValidationError("status", f"这个事项当前是“{STATUSES[m.status]}”，不能办结。")
        now = utcnow()
        m.status, m.result, m.closed_at = "done", result, now
        s.add(
            MatterEvent(
                matter_id=m.id,
                at=now,
                kind="close",
                actor_id=actor.account_id,
                actor_name=actor.display_name,
                note=result,
            )
        )
        audit.record(s, "matter_close", actor, target_type="matter", target_id=m.id)
        rect = _rate(s, actor, m, rating, comment, now, today, cal) if rating is not None else None
        return Closed(m.status, rect.id if rect else None, rect.due_date if rect else None)


def rate(
    db: Database, actor: Actor, matter_id: uuid.UUID, rating: int, comment: str = "", today: date | None = None
) -> Closed:
    """Record a rating for a matter closed earlier (the resident came back)."""
    actor.require("desk", "记录评价")
    if rating not in RATINGS:
        raise ValidationError("rating", "请选择评价等级。")
    comment = _clean_note(comment, "评价意见")
    cal = workdays.load(db)
    with db.session() as s:
        m = _live_matter(s, matter_id)
        rect = _rate(s, actor, m, rating, comment, utcnow(), today or local_today(), cal)
        return Closed(m.status, rect.id if rect else None, rect.due_date if rect else None)


def _rate(
    s: Session, actor: Actor, m: Matter, rating: int, comment: str, now: datetime, today: date, cal: workdays.Calendar
) -> Rectification | None:
    if m.rating is not None:
        raise ValidationError("rating", "这个事项已经评价过了（一次一评）。")
    m.rating = rating
    s.add(MatterRating(matter_id=m.id, at=now, level=rating, comment=comment or None, recorded_by=actor.display_name))
    s.add(
        MatterEvent(
            matter_id=m.id,
            at=now,
            kind="rate",
            actor_id=actor.account_id,
            actor_name=actor.display_name,
            note=f"{RATINGS[rating]}" + (f"：{comment}" if comment else ""),
        )
    )
    if rating > BAD_RATING:
        return None
    rect = Rectification(
        matter_id=m.id, opened_at=now, due_date=cal.add_working_days(today, RECTIFY_DAYS), status="open"
    )
    s.add(rect)
    s.flush()
    audit.record(s, "rectification_open", actor, target_type="matter", target_id=m.id)
    return rect


def record_callback(db: Database, actor: Actor, rectification_id: uuid.UUID, measures: str, callback_note: str) -> None:
    """Close a rectification: what was done, and the call-back to the resident."""
    actor.require("supervisor", "完成整改")
    measures = _clean_note(measures, "整改措施")
    callback_note = _clean_note(callback_note, "回访记录")
    if not measures:
        raise ValidationError("measures", "请填写整改措施。")
    if not callback_note:
        raise ValidationError("callback_note", "整改必须回访居民：请填写回访情况。")
    with db.session() as s:
        r = s.get(Rectification, rectification_id)
        if r is None or r.deleted:
            raise ValidationError("rectification", "找不到这条整改。")
        if r.status != "open":
            raise ValidationError("rectification", "这条整改已经完成。")
        now = utcnow()
        r.measures, r.callback_note, r.callback_at, r.callback_by = measures, callback_note, now, actor.display_name
        r.status, r.closed_at = "done", now
        s.add(
            MatterEvent(
                matter_id=r.matter_id,
                at=now,
                kind="callback",
                actor_id=actor.account_id,
                actor_name=actor.display_name,
                note=callback_note,
            )
        )
        audit.record(s, "rectification_close", actor, target_type="matter", target_id=r.matter_id)


# ------------------------------------------------------------------ reading


@dataclass(frozen=True)
class MatterRow:
    id: uuid.UUID
    receipt_no: str
    resident_name: str
    matter_name: str
    channel: str
    status: str
    accepted_at: datetime
    promised_date: date
    handler_name: str
    handler_id: uuid.UUID | None
    rating: int | None

    def overdue(self, today: date) -> bool:
        return self.status in OPEN_STATUSES and self.promised_date < today


def matter_rows(s: Session, q: Select[Matter]) -> list[MatterRow]:
    """Board rows for a ``select(Matter)`` query (the resident's name joined)."""
    return _rows(s, q)


def _rows(s: Session, q: Select[Matter]) -> list[MatterRow]:
    named = q.join(Resident, Resident.id == Matter.resident_id).add_columns(Resident.name)
    return [
        MatterRow(
            m.id,
            m.receipt_no,
            name,
            m.matter_name,
            m.channel,
            m.status,
            m.accepted_at,
            m.promised_date,
            m.handler_name,
            m.handler_id,
            m.rating,
        )
        for m, name in s.execute(named)
    ]


@dataclass(frozen=True)
class Board:
    today: date
    open: list[MatterRow]
    accepted_today: int
    closed_today: int

    def due_today(self) -> list[MatterRow]:
        return [r for r in self.open if r.promised_date == self.today]

    def overdue(self) -> list[MatterRow]:
        return [r for r in self.open if r.promised_date < self.today]

    def mine(self, actor: Actor) -> list[MatterRow]:
        return [r for r in self.open if r.handler_id == actor.account_id]


def board(db: Database, today: date | None = None, limit: int = 2000) -> Board:
    """Today's board: every open matter (most urgent first) and today's counts."""
    today = today or local_today()
    start = day_start_utc(today)
    with db.session() as s:
        rows = _rows(
            s,
            select(Matter)
            .where(Matter.deleted.is_(False), Matter.status.in_(OPEN_STATUSES))
            .order_by(Matter.promised_date, Matter.accepted_at)
            .limit(limit),
        )
        accepted = s.scalar(select(func.count()).select_from(Matter).where(Matter.accepted_at >= start)) or 0
        closed = (
            s.scalar(select(func.count()).select_from(Matter).where(Matter.closed_at >= start, Matter.status == "done"))
            or 0
        )
    return Board(today, rows, accepted, closed)


def counts(db: Database, today: date | None = None) -> dict[str, int]:
    """The counter at a glance: open, due today, overdue, open rectifications."""
    today = today or local_today()
    open_ = (Matter.deleted.is_(False)) & Matter.status.in_(OPEN_STATUSES)
    with db.session() as s:

        def n(q: Select[int]) -> int:
            return s.scalar(q) or 0

        return {
            "open": n(select(func.count()).select_from(Matter).where(open_)),
            "due_today": n(select(func.count()).select_from(Matter).where(open_, Matter.promised_date == today)),
            "overdue": n(select(func.count()).select_from(Matter).where(open_, Matter.promised_date < today)),
            "rectifications": n(select(func.count()).select_from(Rectification).where(Rectification.status == "open")),
        }


def rating_summary(db: Database, start: date, end: date) -> dict[int, int]:
    """This station's 好差评 given in [start, end] (local dates): level → count."""
    with db.session() as s:
        code = accounts.this_station(s).code
        rows = s.execute(
            select(MatterRating.level, func.count())
            .join(Matter, Matter.id == MatterRating.matter_id)
            .where(
                Matter.origin == code,
                Matter.deleted.is_(False),
                MatterRating.at >= day_start_utc(start),
                MatterRating.at < day_start_utc(end + timedelta(days=1)),
            )
            .group_by(MatterRating.level)
        ).all()
    out = {level: 0 for level in RATINGS}
    for level, n in rows:
        out[level] = n
    return out


def recent(db: Database, limit: int = 200) -> list[MatterRow]:
    with db.session() as s:
        return _rows(
            s, select(Matter).where(Matter.deleted.is_(False)).order_by(Matter.accepted_at.desc()).limit(limit)
        )


def find_by_receipt(db: Database, code: str) -> uuid.UUID | None:
    """The matter a typed or scanned receipt number names, or None."""
    m = RECEIPT_RE.match(unicodedata.normalize("NFKC", code or ""))
    if not m:
        return None
    with db.session() as s:
        return s.scalar(select(Matter.id).where(Matter.receipt_no == m.group(1)))


def looks_like_receipt(code: str) -> bool:
    return bool(RECEIPT_RE.match(unicodedata.normalize("NFKC", code or "")))


@dataclass(frozen=True)
class EventView:
    at: datetime
    kind: str
    actor_name: str
    note: str
    target: str

    @property
    def label(self) -> str:
        return EVENT_KINDS.get(self.kind, self.kind)


@dataclass(frozen=True)
class RectificationView:
    id: uuid.UUID
    matter_id: uuid.UUID
    receipt_no: str
    resident_name: str
    matter_name: str
    rating: int
    comment: str
    opened_at: datetime
    due_date: date
    status: str
    measures: str
    callback_note: str
    callback_at: datetime | None


@dataclass(frozen=True)
class MatterDetail:
    id: uuid.UUID
    receipt_no: str
    resident_id: uuid.UUID
    resident_name: str
    resident_doc_masked: str
    resident_phone: str
    matter_type_id: uuid.UUID
    matter_name: str
    category: str
    channel: str
    status: str
    accepted_at: datetime
    promised_date: date
    handler_name: str
    accepted_by: str
    materials: list[str]
    note: str
    result: str
    rating: int | None
    events: list[EventView]
    rectification: RectificationView | None

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


def get(db: Database, matter_id: uuid.UUID) -> MatterDetail:
    with db.session() as s:
        m = _live_matter(s, matter_id)
        r = s.get(Resident, m.resident_id)
        assert r is not None
        events = [
            EventView(e.at, e.kind, e.actor_name, e.note or "", e.target or "")
            for e in s.scalars(
                select(MatterEvent).where(MatterEvent.matter_id == m.id).order_by(MatterEvent.at, MatterEvent.hlc)
            )
        ]
        rect = s.scalar(select(Rectification).where(Rectification.matter_id == m.id))
        rv = _rect_view(s, rect, m, r.name) if rect else None
        return MatterDetail(
            m.id,
            m.receipt_no,
            r.id,
            r.name,
            mask(r.doc_number or ""),
            r.phone or "",
            m.matter_type_id,
            m.matter_name,
            m.category,
            m.channel,
            m.status,
            m.accepted_at,
            m.promised_date,
            m.handler_name,
            m.accepted_by,
            list(m.materials or []),
            m.note or "",
            m.result or "",
            m.rating,
            events,
            rv,
        )


def _rect_view(s: Session, rect: Rectification, m: Matter, resident_name: str) -> RectificationView:
    rating = s.scalar(select(MatterRating).where(MatterRating.matter_id == m.id))
    return RectificationView(
        rect.id,
        m.id,
        m.receipt_no,
        resident_name,
        m.matter_name,
        rating.level if rating else 0,
        (rating.comment or "") if rating else "",
        rect.opened_at,
        rect.due_date,
        rect.status,
        rect.measures or "",
        rect.callback_note or "",
        rect.callback_at,
    )


def rectifications(db: Database, actor: Actor, only_open: bool = True) -> list[RectificationView]:
    actor.require("supervisor", "查看整改")
    q = (
        select(Rectification, Matter, Resident.name)
        .join(Matter, Matter.id == Rectification.matter_id)
        .join(Resident, Resident.id == Matter.resident_id)
        .order_by(Rectification.due_date)
    )
    if only_open:
        q = q.where(Rectification.status == "open")
    with db.session() as s:
        return [_rect_view(s, rect, m, name) for rect, m, name in s.execute(q)]


def for_resident(db: Database, resident_id: uuid.UUID) -> list[MatterRow]:
    with db.session() as s:
        return _rows(
            s,
            select(Matter)
            .where(Matter.resident_id == resident_id, Matter.deleted.is_(False))
            .order_by(Matter.accepted_at.desc()),
        )


def search_matters(db: Database, text: str, limit: int = 100) -> list[MatterRow]:
    """Matters by receipt number fragment, resident name or matter name."""
    t = clean_query(text)
    if not t:
        return recent(db, limit)
    with db.session() as s:
        return _rows(
            s,
            select(Matter)
            .where(
                Matter.deleted.is_(False),
                or_(contains(Matter.receipt_no, t), contains(Matter.matter_name, t), contains(Resident.name, t)),
            )
            .order_by(Matter.accepted_at.desc())
            .limit(limit),
        )
