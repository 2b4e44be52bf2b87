"""微心愿 and 在职党员报到.

微心愿: a resident's small wish with an estimated value is published (待认领),
认领 by a sponsor — a party member or a volunteer from the volunteer registry,
or a unit by name and contact — (已认领), and fulfilled with a record of what
was given (已实现). Each step is refused if the wish is not in the step
before it, so a wish is claimed once and fulfilled once. The printed wish
board shows the wish number, the resident's surname + 某 and the grid: never
the full name, ID number or address.

在职党员报到: a party member in the volunteer registry who works elsewhere
reports in (unit, date, chosen service posts), once a year. The hours they
serve are their volunteer service records (``volunteer_assignments`` done),
queried whenever shown — never copied — against the registry's yearly
target. The year's feedback letter to the member's unit is the catalogue's
在职党员到居住地社区报到情况反馈 (R05), issued through
``desktop.services.certificates`` so it takes a serial and a seal-register
line (and, from a desk worker, waits for a supervisor's approval like any
certificate that needs one).
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from db.clock import utcnow
from db.engine import Database
from db.errors import ValidationError
from db.models import Assignment, PartyReport, Resident, Volunteer, Wish, WishClaim
from desktop.services import accounts, audit, certificates
from desktop.services.context import Actor
from desktop.services.names import COMPOUND_SURNAMES
from desktop.services.residents import validate_phone

WISH_STATUSES = {"open": "待认领", "claimed": "已认领", "fulfilled": "已实现"}
SPONSOR_KINDS = {"member": "党员", "volunteer": "志愿者", "unit": "单位"}
MAX_WISH_VALUE = 1000.0  # yuan: a 微心愿 is small; more is a matter for 救助, not a wish board
# The station's service posts (服务岗位) a reporting member chooses from.
POSTS = (
    "政策宣传",
    "环境整治",
    "文明劝导",
    "关爱帮扶",
    "治安巡逻",
    "矛盾调解",
    "文体活动",
    "便民服务",
    "应急值守",
    "垃圾分类督导",
)
FEEDBACK_CODE = "R05"  # certificate catalogue: 在职党员到居住地社区报到情况反馈
FEEDBACK_MATERIAL = "党员本人居民身份证"


def _text(value: str, name: str, label: str, limit: int, required: bool = False) -> str:
    v = " ".join((value or "").split())
    if required and not v:
        raise ValidationError(name, f"请填写“{label}”。")
    if len(v) > limit:
        raise ValidationError(name, f"“{label}”太长（{len(v)} 字），请不超过 {limit} 字。")
    return v


def masked_name(name: str) -> str:
    """张三丰 → 张某; 欧阳娜娜 → 欧阳某: what the public board may show."""
    name = "".join((name or "").split())
    if not name:
        return "某"
    return (name[:2] if name[:2] in COMPOUND_SURNAMES else name[0]) + "某"


def _station_code(s: Session) -> str:
    return accounts.this_station(s).code


def check_value(value: float) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValidationError("value", "心愿估值请填写数字（元）。") from None
    if not math.isfinite(v) or v < 0:
        raise ValidationError("value", "心愿估值不能为负数。")
    if v > MAX_WISH_VALUE:
        raise ValidationError(
            "value", f"心愿估值 {v:g} 元超过微心愿上限 {MAX_WISH_VALUE:g} 元；较大的困难请按救助或帮扶事项办理。"
        )
    return round(v, 2)


def _not_future(day: date, today: date, label: str) -> date:
    if day > today:
        raise ValidationError("date", f"{label}不能晚于今天（{today:%Y-%m-%d}）。")
    return day


# ------------------------------------------------------------------ wishes


def add_wish(
    db: Database,
    actor: Actor,
    resident_id: uuid.UUID,
    title: str,
    value: float,
    description: str = "",
    today: date | None = None,
) -> tuple[uuid.UUID, str]:
    """Publish a resident's wish (待认领); returns (id, wish number)."""
    actor.require("desk", "登记微心愿")
    today = today or date.today()
    title = _text(title, "title", "心愿内容", 64, required=True)
    description = _text(description, "description", "说明", 500)
    v = check_value(value)
    with db.session() as s:
        r = s.get(Resident, resident_id)
        if r is None or r.deleted:
            raise ValidationError("resident", "请先选择许愿的居民。")
        if r.deceased or r.moved_out:
            raise ValidationError("resident", "这位居民已标记为已故或已迁出，不能登记心愿。")
        prefix = f"{_station_code(s)}-W"
        taken = [x[len(prefix) :] for x in s.scalars(select(Wish.number).where(Wish.number.like(prefix + "%")))]
        number = f"{prefix}{max((int(x) for x in taken if x.isdigit()), default=0) + 1:04d}"
        w = Wish(
            number=number,
            resident_id=r.id,
            title=title,
            description=description or None,
            value=v,
            grid=r.grid,
            status="open",
            published_on=today,
            created_at=utcnow(),
            created_by=actor.display_name,
        )
        s.add(w)
        s.flush()
        audit.record(s, "wish_add", actor, target_type="wish", target_id=w.id)
        return w.id, number


def _live_wish(s: Session, wish_id: uuid.UUID) -> Wish:
    w = s.get(Wish, wish_id, with_for_update=True)
    if w is None or w.deleted:
        raise ValidationError("wish", "找不到这个心愿。")
    return w


def _active_claim(s: Session, wish_id: uuid.UUID) -> WishClaim | None:
    return s.scalar(
        select(WishClaim)
        .where(WishClaim.wish_id == wish_id, WishClaim.deleted.is_(False))
        .order_by(WishClaim.claimed_on.desc())
        .limit(1)
    )


def claim(
    db: Database,
    actor: Actor,
    wish_id: uuid.UUID,
    *,
    volunteer_id: uuid.UUID | None = None,
    unit: str = "",
    contact: str = "",
    today: date | None = None,
) -> uuid.UUID:
    """认领: by a volunteer-registry record (a party member or a volunteer)
    or by a unit (name and contact phone)."""
    actor.require("desk", "认领微心愿")
    today = today or date.today()
    unit = _text(unit, "unit", "认领单位", 64)
    if (volunteer_id is None) == (not unit):
        raise ValidationError("sponsor", "请选择认领的党员或志愿者，或者填写认领单位（二选一）。")
    if unit:
        contact = validate_phone(contact)
        if not contact:
            raise ValidationError("contact", "单位认领须留联系电话。")
    with db.session() as s:
        w = _live_wish(s, wish_id)
        if w.status != "open":
            who = _active_claim(s, w.id)
            raise ValidationError(
                "status",
                f"心愿“{w.title}”{WISH_STATUSES[w.status]}"
                + (f"（认领人：{who.sponsor_name}）" if who else "")
                + "，不能再认领。",
            )
        if volunteer_id is not None:
            v = s.get(Volunteer, volunteer_id)
            if v is None or v.deleted:
                raise ValidationError("volunteer", "找不到这位志愿者。")
            if v.status != "active":
                raise ValidationError("volunteer", f"志愿者 {v.name} 不在岗，不能认领。")
            kind, name, phone = ("member" if v.party_member else "volunteer"), v.name, v.phone
        else:
            kind, name, phone = "unit", unit, contact
        c = WishClaim(
            wish_id=w.id,
            sponsor_kind=kind,
            volunteer_id=volunteer_id,
            sponsor_name=name,
            contact=phone or None,
            claimed_on=today,
            claimed_by=actor.display_name,
        )
        s.add(c)
        w.status = "claimed"
        s.flush()
        audit.record(s, "wish_claim", actor, target_type="wish", target_id=w.id)
        return c.id


def fulfil(
    db: Database,
    actor: Actor,
    wish_id: uuid.UUID,
    given: str,
    note: str = "",
    on: date | None = None,
    today: date | None = None,
) -> None:
    """实现: record what was given or done, and when."""
    actor.require("desk", "登记心愿实现")
    today = today or date.today()
    on = _not_future(on or today, today, "实现日期")
    given = _text(given, "given", "实现情况", 200, required=True)
    note = _text(note, "note", "备注", 500)
    with db.session() as s:
        w = _live_wish(s, wish_id)
        if w.status == "open":
            raise ValidationError("status", f"心愿“{w.title}”还没有人认领，请先登记认领再登记实现。")
        if w.status == "fulfilled":
            raise ValidationError("status", f"心愿“{w.title}”已经实现过了。")
        c = _active_claim(s, w.id)
        if c is None:
            raise ValidationError("status", "找不到这个心愿的认领记录。")
        if on < c.claimed_on:
            raise ValidationError("date", f"实现日期不能早于认领日期（{c.claimed_on:%Y-%m-%d}）。")
        c.fulfilled_on, c.given, c.note, c.fulfilled_by = on, given, note or None, actor.display_name
        w.status = "fulfilled"
        audit.record(s, "wish_fulfil", actor, target_type="wish", target_id=w.id)


@dataclass(frozen=True)
class WishRow:
    id: uuid.UUID
    number: str
    title: str
    description: str
    value: float
    resident_name: str
    grid: str
    status: str
    published_on: date
    sponsor_kind: str
    sponsor_name: str
    contact: str
    claimed_on: date | None
    fulfilled_on: date | None
    given: str

    @property
    def status_label(self) -> str:
        return WISH_STATUSES[self.status]

    @property
    def sponsor_label(self) -> str:
        if not self.sponsor_name:
            return ""
        return f"{self.sponsor_name}（{SPONSOR_KINDS.get(self.sponsor_kind, '')}）"


def list_wishes(db: Database, status: str = "", *, start: date | None = None, end: date | None = None) -> list[WishRow]:
    """Wishes (newest first), with their claim; ``start``/``end`` bound the publishing date."""
    q = (
        select(Wish, Resident.name, WishClaim)
        .join(Resident, Resident.id == Wish.resident_id)
        .outerjoin(WishClaim, (WishClaim.wish_id == Wish.id) & WishClaim.deleted.is_(False))
        .where(Wish.deleted.is_(False))
    )
    if status:
        q = q.where(Wish.status == status)
    if start:
        q = q.where(Wish.published_on >= start)
    if end:
        q = q.where(Wish.published_on <= end)
    with db.session() as s:
        return [
            WishRow(
                w.id,
                w.number,
                w.title,
                w.description or "",
                w.value,
                rname,
                w.grid or "",
                w.status,
                w.published_on,
                c.sponsor_kind if c else "",
                c.sponsor_name if c else "",
                (c.contact or "") if c else "",
                c.claimed_on if c else None,
                c.fulfilled_on if c else None,
                (c.given or "") if c else "",
            )
            for w, rname, c in s.execute(q.order_by(Wish.published_on.desc(), Wish.number.desc()).limit(5000))
        ]


@dataclass(frozen=True)
class BoardLine:
    number: str
    title: str
    who: str  # surname + 某
    grid: str
    value: float


@dataclass(frozen=True)
class WishBoard:
    station_name: str
    station_phone: str
    day: date
    lines: list[BoardLine]


def board(db: Database, today: date | None = None) -> WishBoard:
    """The wishes waiting for a sponsor, as the public board shows them."""
    st = accounts.station_info(db)
    lines = [
        BoardLine(w.number, w.title, masked_name(w.resident_name), w.grid, w.value)
        for w in reversed(list_wishes(db, "open"))
    ]
    return WishBoard(st.name if st else "", (st.phone or "") if st else "", today or date.today(), lines)


# ------------------------------------------------------------------ 在职党员报到


def served(s: Session, volunteer_ids: list[uuid.UUID], start: date, end: date) -> dict[uuid.UUID, tuple[float, int]]:
    """(hours, services) each volunteer served between two dates: their done
    service records, summed by the database."""
    if not volunteer_ids:
        return {}
    rows = s.execute(
        select(Assignment.volunteer_id, func.sum(Assignment.hours), func.count())
        .where(
            Assignment.status == "done",
            Assignment.deleted.is_(False),
            Assignment.day >= start,
            Assignment.day <= end,
            Assignment.volunteer_id.in_(volunteer_ids),
        )
        .group_by(Assignment.volunteer_id)
    ).all()
    return {vid: (round(float(h or 0), 2), int(n)) for vid, h, n in rows}


def report_in(
    db: Database,
    actor: Actor,
    volunteer_id: uuid.UUID,
    unit: str,
    reported_on: date,
    posts: list[str],
    note: str = "",
    today: date | None = None,
) -> uuid.UUID:
    """在职党员报到 for the year of ``reported_on``: once per member and year."""
    actor.require("desk", "登记在职党员报到")
    today = today or date.today()
    _not_future(reported_on, today, "报到日期")
    unit = _text(unit, "unit", "工作单位", 64, required=True)
    note = _text(note, "note", "备注", 500)
    chosen = list(dict.fromkeys(posts))
    unknown = [p for p in chosen if p not in POSTS]
    if unknown:
        raise ValidationError("posts", "服务岗位请从站点的岗位清单中选择：" + "、".join(POSTS) + "。")
    if not chosen:
        raise ValidationError("posts", "请至少选择一个服务岗位。")
    with db.session() as s:
        v = s.get(Volunteer, volunteer_id)
        if v is None or v.deleted:
            raise ValidationError("volunteer", "找不到这位志愿者。")
        if not v.party_member:
            raise ValidationError(
                "volunteer", f"{v.name}在志愿者名册中没有标记为在职党员，请先在“志愿服务”中修改其登记。"
            )
        dup = s.scalar(
            select(PartyReport.reported_on).where(
                PartyReport.volunteer_id == v.id, PartyReport.year == reported_on.year, PartyReport.deleted.is_(False)
            )
        )
        if dup is not None:
            raise ValidationError(
                "duplicate", f"{v.name} {reported_on.year} 年已经报到过了（{dup:%Y-%m-%d}），不能重复报到。"
            )
        p = PartyReport(
            volunteer_id=v.id,
            year=reported_on.year,
            unit=unit,
            reported_on=reported_on,
            posts=chosen,
            note=note or None,
            created_by=actor.display_name,
        )
        s.add(p)
        s.flush()
        audit.record(s, "party_report", actor, target_type="party_report", target_id=p.id)
        return p.id


@dataclass(frozen=True)
class MemberRow:
    report_id: uuid.UUID
    volunteer_id: uuid.UUID
    volunteer_number: str
    name: str
    phone: str
    unit: str
    reported_on: date
    posts: list[str]
    year: int
    target: float
    hours: float
    services: int
    has_resident: bool

    @property
    def progress(self) -> str:
        if not self.target:
            return "未设目标"
        return f"{min(self.hours / self.target, 9.99):.0%}"


def members(db: Database, year: int, today: date | None = None) -> list[MemberRow]:
    """Everyone who reported in for ``year``, with the hours served that year so far."""
    today = today or date.today()
    end = min(date(year, 12, 31), max(today, date(year, 1, 1)))
    with db.session() as s:
        rows = s.execute(
            select(PartyReport, Volunteer)
            .join(Volunteer, Volunteer.id == PartyReport.volunteer_id)
            .where(PartyReport.year == year, PartyReport.deleted.is_(False))
            .order_by(Volunteer.number)
        ).all()
        hours = served(s, [v.id for _p, v in rows], date(year, 1, 1), end)
        return [
            MemberRow(
                p.id,
                v.id,
                v.number,
                v.name,
                v.phone or "",
                p.unit,
                p.reported_on,
                list(p.posts or []),
                year,
                v.yearly_target_hours or 0.0,
                *hours.get(v.id, (0.0, 0)),
                v.resident_id is not None,
            )
            for p, v in rows
        ]


def feedback_text(m: MemberRow, today: date) -> dict[str, str]:
    """The R05 template's fields for a member's year."""
    cn = certificates.cn_date
    end = min(date(m.year, 12, 31), today)
    served_text = f"参加社区志愿服务{m.services}次、累计{m.hours:g}小时" if m.services else "尚无社区志愿服务记录"
    service = (
        f"报到日期为{cn(m.reported_on)}，认领{'、'.join(m.posts)}服务岗位；"
        f"{cn(date(m.year, 1, 1))}至{cn(end)}{served_text}"
    )
    if m.target:
        done = "已完成年度目标" if m.hours >= m.target else f"完成{m.hours / m.target:.0%}"
        service += f"（年度目标{m.target:g}小时，{done}）"
    return {"service": service, "purpose": f"向所在单位（{m.unit}）反馈到居住地社区报到和服务情况"}


def feedback_letter(
    db: Database,
    actor: Actor,
    report_id: uuid.UUID,
    materials_seen: list[str],
    glyphs: certificates.GlyphCheck | None = None,
    today: date | None = None,
) -> certificates.Issued:
    """The year's feedback letter to the member's unit: a certificate of the
    catalogue's R05 type, with its serial and seal-register line (or waiting
    for a supervisor's approval). The certificate names the member by their
    resident record, so a member without one cannot have a letter."""
    actor.require("desk", "出具报到情况反馈")
    today = today or date.today()
    with db.session() as s:
        p = s.get(PartyReport, report_id)
        if p is None or p.deleted:
            raise ValidationError("report", "找不到这条报到记录。")
        year, resident_id = p.year, s.scalar(select(Volunteer.resident_id).where(Volunteer.id == p.volunteer_id))
    m = next(x for x in members(db, year, today) if x.report_id == report_id)
    if resident_id is None:
        raise ValidationError(
            "resident",
            f"{m.name}的志愿者登记没有关联居民档案，反馈函须写明其公民身份号码，"
            "请先在“居民”中登记此人，并在志愿者登记中选择该居民。",
        )
    t = next((x for x in certificates.catalogue(db) if x.code == FEEDBACK_CODE), None)
    if t is None:
        raise ValidationError("type", "证明目录中没有启用“在职党员到居住地社区报到情况反馈”，请站长在证明目录中启用。")
    return certificates.issue(db, actor, resident_id, t.id, feedback_text(m, today), materials_seen, glyphs=glyphs)


def letters(db: Database, report_id: uuid.UUID) -> list[certificates.CertRow]:
    """The member's feedback letters (newest first) in the certificate ledger."""
    with db.session() as s:
        p = s.get(PartyReport, report_id)
        rid = s.scalar(select(Volunteer.resident_id).where(Volunteer.id == p.volunteer_id)) if p else None
    if p is None or rid is None:
        return []
    t = next((x for x in certificates.catalogue(db, include_inactive=True) if x.code == FEEDBACK_CODE), None)
    rows = [
        c
        for c in certificates.for_resident(db, rid)
        if t is not None and c.type_name == t.name and (c.requested_at.year in (p.year, p.year + 1))
    ]
    return rows
