"""值班: AB岗 cover and 错时/延时 duty.

* A **service area** (业务片区) has a window, the matter catalogue's
  categories it takes (a category belongs to one area at most) and an A岗
  and a B岗 (two different accounts).
* A **shift** is one worker at one window for a span of one local day, of a
  kind: 正常 (inside office hours on a working day), 错时 (weekends, holidays,
  noon, early) or 延时 (evenings). No worker and no window has two shifts at
  once.
* An **absence** (请假/培训/外勤) names who covers: by default the worker's
  partner in their A/B pair. The cover must not be away at the same time,
  and a worker covering a colleague cannot be marked away for that span.
  Marking someone away hands each of their open matters over to the cover:
  a ``cover`` event on each matter (the counter's event log). While the
  absence lasts, the cover's board shows those matters, and a new matter of
  an area whose A is away is given to the cover, again with a ``cover`` event.
  Withdrawing an absence notes on each matter it handed over (still open)
  that the hand-over is off.  The report counts a hand-over as 代岗 when it
  takes effect: when the absence begins (not when it was registered), and
  never for an absence withdrawn before it began (``cover_matters``).
* Only a supervisor edits areas, shifts and absences; everyone signed in
  reads them. The window shows this station's own rota (rows a bundle
  brought from another station stay out of it).

Times are stored as naive UTC; days and clock times here are local
(``db.localtime``).
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from typing import Any, TypeVar

from sqlalchemy import and_, or_, select, true
from sqlalchemy.orm import Session

from db.clock import to_datetime, utcnow
from db.engine import Database
from db.errors import ValidationError
from db.localtime import day_start_utc, to_local, to_utc
from db.models import Absence, Account, Matter, MatterEvent, ServiceArea, Shift
from desktop.services import accounts, audit, counter, workdays
from desktop.services.context import Actor

KINDS = {"normal": "正常", "staggered": "错时", "extended": "延时"}
REASONS = {"leave": "请假", "training": "培训", "field": "外勤"}
OFFICE_START = time(8, 30)
OFFICE_END = time(17, 30)
OFFICE_LABEL = f"工作日 {OFFICE_START:%H:%M}–{OFFICE_END:%H:%M}"
MAX_SHIFT_HOURS = 12
MAX_ABSENCE_DAYS = 90
WEEKDAYS = "一二三四五六日"


def _span(start: datetime, end: datetime) -> str:
    """A local span for a message: 12月7日 08:30 至 12月9日 17:30."""
    s, e = to_local(start), to_local(end)
    if s.date() == e.date():
        return f"{s.month}月{s.day}日 {s:%H:%M}–{e:%H:%M}"
    return f"{s.month}月{s.day}日 {s:%H:%M} 至 {e.month}月{e.day}日 {e:%H:%M}"


def _own(s: Session) -> str:
    return accounts.this_station(s).code


def _account(s: Session, account_id: uuid.UUID | None, what: str) -> Account:
    a = s.get(Account, account_id) if account_id else None
    if a is None or a.deleted or not a.active:
        raise ValidationError(
            what, f"请选择{'一位在用账户的工作人员' if a is None else '在用的工作人员（这个账户已停用）'}。"
        )
    return a


M = TypeVar("M", ServiceArea, Shift, Absence)


def _own_row(s: Session, model: type[M], row_id: uuid.UUID, field_name: str, missing: str) -> M:
    """A live row of this station's rota, or the ``missing`` message."""
    row = s.get(model, row_id)
    if row is None or row.deleted or row.origin != _own(s):
        raise ValidationError(field_name, missing)
    return row


def _retire(
    db: Database, actor: Actor, model: type[M], row_id: uuid.UUID, what: str, missing: str, action: str, target: str
) -> None:
    """Tombstone a shift or an absence (supervisor), with its log line."""
    actor.require("supervisor", what)
    with db.session() as s:
        row = _own_row(s, model, row_id, "id", missing)
        row.retire()
        audit.record(s, action, actor, target_type=target, target_id=row.id)


def workers(db: Database) -> list[tuple[uuid.UUID, str]]:
    """Who can be put on the rota: the active accounts."""
    return counter.colleagues(db)


# ------------------------------------------------------------------ areas


@dataclass
class AreaView:
    id: uuid.UUID | None
    name: str
    window: str
    categories: list[str]
    a_id: uuid.UUID | None
    b_id: uuid.UUID | None
    a_name: str = ""
    b_name: str = ""
    active: bool = True


def areas(db: Database) -> list[AreaView]:
    with db.session() as s:
        own = _own(s)
        return [
            AreaView(a.id, a.name, a.window, list(a.categories or []), a.a_id, a.b_id, a.a_name, a.b_name, a.active)
            for a in s.scalars(
                select(ServiceArea)
                .where(ServiceArea.origin == own, ServiceArea.deleted.is_(False), ServiceArea.active.is_(True))
                .order_by(ServiceArea.sort, ServiceArea.name)
            )
        ]


def save_area(db: Database, actor: Actor, v: AreaView) -> uuid.UUID:
    """Add or edit a service area and its A/B pair (supervisor)."""
    actor.require("supervisor", "修改AB岗")
    name = " ".join((v.name or "").split())
    window = " ".join((v.window or "").split())
    if not name:
        raise ValidationError("name", "请填写业务片区的名称。")
    if len(name) > 32 or len(window) > 16:
        raise ValidationError("name", "名称请不超过 32 个字，窗口请不超过 16 个字。")
    if not window:
        raise ValidationError("window", "请填写这个片区的窗口（例如“1号窗口”）。")
    cats = sorted({c.strip() for c in v.categories if c.strip()})
    if v.a_id is not None and v.a_id == v.b_id:
        raise ValidationError("b_id", "A岗和B岗不能是同一个人。")
    with db.session() as s:
        a = _account(s, v.a_id, "a_id")
        b = _account(s, v.b_id, "b_id")
        own = _own(s)
        others = s.scalars(
            select(ServiceArea).where(
                ServiceArea.origin == own, ServiceArea.deleted.is_(False), ServiceArea.active.is_(True)
            )
        )
        for o in others:
            if o.id == v.id:
                continue
            if o.name == name:
                raise ValidationError("name", f"已经有名为“{name}”的业务片区。")
            taken = sorted(set(cats) & set(o.categories or []))
            if taken:
                raise ValidationError(
                    "categories", f"事项分类“{taken[0]}”已经归“{o.name}”片区，一个分类只能归一个片区。"
                )
        found = _own_row(s, ServiceArea, v.id, "name", "找不到这个业务片区。") if v.id is not None else None
        row = found or ServiceArea(sort=len(areas(db)))
        s.add(row)
        row.name, row.window, row.categories = name, window, cats
        row.a_id, row.a_name, row.b_id, row.b_name = a.id, a.display_name, b.id, b.display_name
        row.active = True
        s.flush()
        audit.record(s, "rota_area_save", actor, target_type="service_area", target_id=row.id)
        return row.id


def partner(db: Database, worker_id: uuid.UUID) -> tuple[uuid.UUID, str] | None:
    """The other half of the worker's first A/B pair (B for an A, A for a B)."""
    for a in areas(db):
        if a.a_id == worker_id and a.b_id:
            return a.b_id, a.b_name
        if a.b_id == worker_id and a.a_id:
            return a.a_id, a.a_name
    return None


# ------------------------------------------------------------------ shifts


@dataclass(frozen=True)
class ShiftView:
    id: uuid.UUID
    worker_id: uuid.UUID
    worker_name: str
    window: str
    area_id: uuid.UUID | None
    starts_at: datetime  # local
    ends_at: datetime  # local
    kind: str
    note: str

    @property
    def day(self) -> date:
        return self.starts_at.date()

    @property
    def kind_label(self) -> str:
        return KINDS.get(self.kind, self.kind)

    @property
    def hours(self) -> float:
        return (self.ends_at - self.starts_at).total_seconds() / 3600

    @property
    def times(self) -> str:
        return f"{self.starts_at:%H:%M}–{self.ends_at:%H:%M}"


@dataclass
class ShiftForm:
    worker_id: uuid.UUID | None
    window: str
    day: date
    start: time
    end: time
    kind: str = "normal"
    area_id: uuid.UUID | None = None
    note: str = ""
    id: uuid.UUID | None = None


def _shift_view(x: Shift) -> ShiftView:
    return ShiftView(
        x.id,
        x.worker_id,
        x.worker_name,
        x.window,
        x.area_id,
        to_local(x.starts_at),
        to_local(x.ends_at),
        x.kind,
        x.note or "",
    )


def _live_shifts(own: str) -> list[Any]:
    return [Shift.origin == own, Shift.deleted.is_(False)]


def shifts(db: Database, start: date, end: date) -> list[ShiftView]:
    """This station's shifts on local days ``start`` … ``end``."""
    with db.session() as s:
        own = _own(s)
        q = (
            select(Shift)
            .where(
                *_live_shifts(own),
                Shift.starts_at >= day_start_utc(start),
                Shift.starts_at < day_start_utc(end + timedelta(days=1)),
            )
            .order_by(Shift.starts_at, Shift.window)
        )
        return [_shift_view(x) for x in s.scalars(q)]


def suggest_kind(cal: workdays.Calendar, day: date, start: time, end: time) -> str:
    """正常 inside office hours on a working day; 延时 running past the end of
    office hours on a working day; otherwise 错时."""
    if cal.is_working_day(day):
        if OFFICE_START <= start and end <= OFFICE_END:
            return "normal"
        if start >= OFFICE_START and end > OFFICE_END:
            return "extended"
    return "staggered"


def _check_shift(s: Session, own: str, cal: workdays.Calendar, f: ShiftForm) -> tuple[Account, datetime, datetime]:
    if f.kind not in KINDS:
        raise ValidationError("kind", "请选择班次类型（正常、错时或延时）。")
    window = " ".join((f.window or "").split())
    if not window or len(window) > 16:
        raise ValidationError("window", "请填写窗口（不超过 16 个字）。")
    if f.end <= f.start:
        raise ValidationError("end", "下班时间要晚于上班时间（一个班次在同一天内）。")
    worker = _account(s, f.worker_id, "worker_id")
    start = to_utc(datetime.combine(f.day, f.start))
    end = to_utc(datetime.combine(f.day, f.end))
    if end - start > timedelta(hours=MAX_SHIFT_HOURS):
        raise ValidationError("end", f"一个班次不能超过 {MAX_SHIFT_HOURS} 小时。")
    if f.kind == "normal" and suggest_kind(cal, f.day, f.start, f.end) != "normal":
        why = "这一天不是工作日" if not cal.is_working_day(f.day) else f"超出了办公时间（{OFFICE_LABEL}）"
        raise ValidationError("kind", f"{why}，请把班次类型选为“错时”或“延时”。")
    if f.area_id is not None:
        area = s.get(ServiceArea, f.area_id)
        if area is None or area.deleted or area.origin != own:
            raise ValidationError("area_id", "找不到这个业务片区。")
    clash = s.scalars(
        select(Shift).where(
            *_live_shifts(own), Shift.starts_at < end, Shift.ends_at > start, Shift.id != f.id if f.id else true()
        )
    ).all()
    for c in clash:
        if c.worker_id == worker.id:
            raise ValidationError(
                "start",
                f"{worker.display_name}在{_span(c.starts_at, c.ends_at)}已经排在{c.window}，班次时间重叠。请调整时间。",
            )
        if c.window == window:
            raise ValidationError(
                "start",
                f"{window}在{_span(c.starts_at, c.ends_at)}已经排了{c.worker_name}，"
                "同一窗口班次时间重叠。请调整时间或换一个窗口。",
            )
    return worker, start, end


def save_shift(db: Database, actor: Actor, f: ShiftForm) -> uuid.UUID:
    """Add or edit a shift (supervisor). Overlaps are refused."""
    actor.require("supervisor", "排班")
    note = (f.note or "").strip()
    if len(note) > 200:
        raise ValidationError("note", "备注请不超过 200 个字。")
    cal = workdays.load(db)
    with db.session() as s:
        own = _own(s)
        worker, start, end = _check_shift(s, own, cal, f)
        found = _own_row(s, Shift, f.id, "id", "找不到这个班次。") if f.id is not None else None
        x = found or Shift()
        s.add(x)
        x.worker_id, x.worker_name, x.window = worker.id, worker.display_name, " ".join(f.window.split())
        x.area_id, x.starts_at, x.ends_at, x.kind, x.note = f.area_id, start, end, f.kind, note or None
        s.flush()
        audit.record(s, "rota_shift_save", actor, target_type="shift", target_id=x.id)
        return x.id


def delete_shift(db: Database, actor: Actor, shift_id: uuid.UUID) -> None:
    _retire(db, actor, Shift, shift_id, "排班", "找不到这个班次。", "rota_shift_delete", "shift")


def copy_week(db: Database, actor: Actor, from_monday: date, to_monday: date) -> int:
    """Copy one week's shifts to another week; all or nothing (a clash with
    a shift already there refuses the whole copy)."""
    actor.require("supervisor", "排班")
    source = shifts(db, from_monday, from_monday + timedelta(days=6))
    if not source:
        raise ValidationError("week", "要复制的那一周还没有排班。")
    shift = to_monday - from_monday
    cal = workdays.load(db)
    with db.session() as s:
        own = _own(s)
        for v in source:
            day = v.day + shift
            kind = v.kind if v.kind != "normal" or cal.is_working_day(day) else "staggered"
            f = ShiftForm(v.worker_id, v.window, day, v.starts_at.time(), v.ends_at.time(), kind, v.area_id, v.note)
            worker, start, end = _check_shift(s, own, cal, f)
            s.add(
                Shift(
                    worker_id=worker.id,
                    worker_name=worker.display_name,
                    window=v.window,
                    area_id=v.area_id,
                    starts_at=start,
                    ends_at=end,
                    kind=kind,
                    note=v.note or None,
                )
            )
            s.flush()  # the next shift's overlap check sees this one
        audit.record(s, "rota_week_copy", actor, rows=len(source))
    return len(source)


# ------------------------------------------------------------------ absences


@dataclass(frozen=True)
class AbsenceView:
    id: uuid.UUID
    worker_id: uuid.UUID
    worker_name: str
    reason: str
    starts_at: datetime  # local
    ends_at: datetime  # local
    cover_id: uuid.UUID
    cover_name: str
    note: str

    @property
    def reason_label(self) -> str:
        return REASONS.get(self.reason, self.reason)

    @property
    def span(self) -> str:
        return _span(to_utc(self.starts_at), to_utc(self.ends_at))


def _absence_view(a: Absence) -> AbsenceView:
    return AbsenceView(
        a.id,
        a.worker_id,
        a.worker_name,
        a.reason,
        to_local(a.starts_at),
        to_local(a.ends_at),
        a.cover_id,
        a.cover_name,
        a.note or "",
    )


def _overlapping(own: str, start: datetime, end: datetime) -> list[Any]:
    return [Absence.origin == own, Absence.deleted.is_(False), Absence.starts_at < end, Absence.ends_at > start]


def absences(db: Database, start: date, end: date) -> list[AbsenceView]:
    """This station's absences touching local days ``start`` … ``end``."""
    with db.session() as s:
        q = select(Absence).where(*_overlapping(_own(s), day_start_utc(start), day_start_utc(end + timedelta(days=1))))
        return [_absence_view(a) for a in s.scalars(q.order_by(Absence.starts_at))]


@dataclass(frozen=True)
class Marked:
    absence_id: uuid.UUID
    cover_name: str
    handed_over: int


def mark_away(
    db: Database,
    actor: Actor,
    worker_id: uuid.UUID | None,
    reason: str,
    start: datetime,
    end: datetime,
    cover_id: uuid.UUID | None = None,
    note: str = "",
) -> Marked:
    """Mark a worker away from ``start`` to ``end`` (local times) with a
    cover (the worker's A/B partner unless named); each of the worker's open
    matters gets a hand-over event naming the cover."""
    actor.require("supervisor", "登记离岗")
    if reason not in REASONS:
        raise ValidationError("reason", "请选择离岗原因（请假、培训或外勤）。")
    if end <= start:
        raise ValidationError("end", "结束时间要晚于开始时间。")
    if end - start > timedelta(days=MAX_ABSENCE_DAYS):
        raise ValidationError("end", f"一次离岗登记不超过 {MAX_ABSENCE_DAYS} 天，更长的请分段登记。")
    note = (note or "").strip()
    if len(note) > 200:
        raise ValidationError("note", "备注请不超过 200 个字。")
    if cover_id is None and worker_id is not None:
        p = partner(db, worker_id)
        if p is None:
            raise ValidationError("cover_id", "这位工作人员还没有AB岗搭档，请选择由谁代岗。")
        cover_id = p[0]
    s_utc, e_utc = to_utc(start), to_utc(end)
    with db.session() as s:
        own = _own(s)
        worker = _account(s, worker_id, "worker_id")
        cover = _account(s, cover_id, "cover_id")
        if cover.id == worker.id:
            raise ValidationError("cover_id", "代岗人不能是离岗的本人。")
        for a in s.scalars(select(Absence).where(*_overlapping(own, s_utc, e_utc))):
            span = _span(a.starts_at, a.ends_at)
            if a.worker_id == worker.id:
                raise ValidationError(
                    "start", f"{worker.display_name}在{span}已经登记了{REASONS[a.reason]}，时间重叠。"
                )
            if a.worker_id == cover.id:
                raise ValidationError(
                    "cover_id",
                    f"{cover.display_name}在{span}也不在岗（{REASONS[a.reason]}），"
                    "A岗、B岗不能同时离岗。请另选代岗人，或调整时间。",
                )
            if a.cover_id == worker.id:
                raise ValidationError(
                    "worker_id",
                    f"{worker.display_name}在{span}要为{a.worker_name}代岗，A岗、B岗不能同时离岗。请先另行安排代岗。",
                )
        now = utcnow()
        row = Absence(
            worker_id=worker.id,
            worker_name=worker.display_name,
            reason=reason,
            starts_at=s_utc,
            ends_at=e_utc,
            cover_id=cover.id,
            cover_name=cover.display_name,
            note=note or None,
            created_at=now,
            created_by=actor.display_name,
        )
        s.add(row)
        s.flush()
        text = f"{worker.display_name}{REASONS[reason]}（{_span(s_utc, e_utc)}），由{cover.display_name}代岗"
        open_ = s.scalars(
            select(Matter).where(
                Matter.deleted.is_(False), Matter.handler_id == worker.id, Matter.status.in_(counter.OPEN_STATUSES)
            )
        ).all()
        for m in open_:
            counter.add_event(s, m.id, "cover", actor, note=text, target=cover.display_name, at=now)
        audit.record(s, "rota_absence_mark", actor, target_type="absence", target_id=row.id, matters=len(open_))
        return Marked(row.id, cover.display_name, len(open_))


def _handed_over_by(a: Absence) -> tuple[Any, ...]:
    """The hand-over events ``mark_away`` wrote for absence ``a`` (joined to
    their matters): written in its transaction, at its ``created_at``, naming
    its cover, on that station's matters."""
    return (
        MatterEvent.kind == "cover",
        MatterEvent.at == a.created_at,
        MatterEvent.target == a.cover_name,
        Matter.origin == a.origin,
    )


def cancel_absence(db: Database, actor: Actor, absence_id: uuid.UUID) -> int:
    """Withdraw an absence (supervisor).  Each still-open matter it handed
    over gets a note in its history that the hand-over is off and the matter
    stays with (or goes back to) the worker; the report no longer counts the
    hand-overs of an absence withdrawn before it began (``cover_matters``).
    Returns how many matters got the note."""
    actor.require("supervisor", "撤销离岗登记")
    with db.session() as s:
        a = _own_row(s, Absence, absence_id, "id", "找不到这条离岗登记。")
        now = utcnow()
        began = a.starts_at <= now
        a.retire()
        what = f"{a.worker_name}{REASONS.get(a.reason, a.reason)}（{_span(a.starts_at, a.ends_at)}）"
        text = (
            f"离岗登记已撤销：{what}，事项交回{a.worker_name}办理"
            if began
            else f"离岗登记已撤销：{what}，{a.cover_name}不再代岗，事项仍由{a.worker_name}办理"
        )
        handed = s.scalars(
            select(Matter.id)
            .join(MatterEvent, MatterEvent.matter_id == Matter.id)
            .where(*_handed_over_by(a), Matter.deleted.is_(False), Matter.status.in_(counter.OPEN_STATUSES))
            .distinct()
        ).all()
        for mid in handed:
            counter.add_event(s, mid, "note", actor, note=text, target=a.worker_name, at=now)
        audit.record(s, "rota_absence_cancel", actor, target_type="absence", target_id=a.id, matters=len(handed))
        return len(handed)


def cover_for(s: Session, category: str, at: datetime) -> Absence | None:
    """The absence that sends a new matter of ``category`` to a cover: its
    area's A is away at ``at`` (stored UTC)."""
    own = _own(s)
    for area in s.scalars(
        select(ServiceArea).where(
            ServiceArea.origin == own, ServiceArea.deleted.is_(False), ServiceArea.active.is_(True)
        )
    ):
        if category in (area.categories or []):
            return s.scalar(
                select(Absence)
                .where(*_overlapping(own, at, at + timedelta(microseconds=1)), Absence.worker_id == area.a_id)
                .limit(1)
            )
    return None


def cover_note(a: Absence) -> str:
    """The event note on a new matter given to the cover."""
    return f"{a.worker_name}{REASONS.get(a.reason, a.reason)}不在岗，本事项由B岗{a.cover_name}代为办理"


@dataclass(frozen=True)
class CoverRow:
    row: counter.MatterRow
    for_name: str  # whose matter it is (the absent worker)
    reason: str


def cover_rows(db: Database, account_id: uuid.UUID, today: date | None = None) -> list[CoverRow]:
    """The open matters of colleagues the account covers today (A away)."""
    today = today or counter.local_today()
    with db.session() as s:
        away = s.scalars(
            select(Absence).where(
                *_overlapping(_own(s), day_start_utc(today), day_start_utc(today + timedelta(days=1))),
                Absence.cover_id == account_id,
            )
        ).all()
        out: list[CoverRow] = []
        for a in away:
            q = (
                select(Matter)
                .where(
                    Matter.deleted.is_(False),
                    Matter.handler_id == a.worker_id,
                    Matter.status.in_(counter.OPEN_STATUSES),
                )
                .order_by(Matter.promised_date, Matter.accepted_at)
            )
            out += [CoverRow(r, a.worker_name, REASONS.get(a.reason, a.reason)) for r in counter.matter_rows(s, q)]
        return out


# ------------------------------------------------------------------ who is on duty


@dataclass(frozen=True)
class Duty:
    now: datetime  # local
    today: list[ShiftView]
    away: list[AbsenceView]

    def on_now(self) -> list[ShiftView]:
        return [x for x in self.today if x.starts_at <= self.now < x.ends_at]

    def line(self) -> str:
        """今日值班：… for the counter's header."""
        away = {a.worker_id: a for a in self.away}
        if not self.today:
            text = "今日值班：今天没有排班"
        else:
            on = {x.id for x in self.on_now()}
            parts = []
            for x in self.today:
                kind = "" if x.kind == "normal" else f" {x.kind_label}"
                a = away.get(x.worker_id)
                mark = f"（{a.reason_label}，{a.cover_name}代岗）" if a else "（在岗）" if x.id in on else ""
                parts.append(f"{x.window} {x.worker_name} {x.times}{kind}{mark}")
            text = "今日值班：" + "、".join(parts)
        rest = [a for a in self.away if a.worker_id not in {x.worker_id for x in self.today}]
        if rest:
            text += "　不在岗：" + "、".join(f"{a.worker_name}{a.reason_label}（{a.cover_name}代岗）" for a in rest)
        return text


def duty(db: Database, now: datetime | None = None) -> Duty:
    """Today's shifts and absences (``now`` is local time)."""
    now = now or datetime.now()
    today = now.date()
    with db.session() as s:
        q = select(Absence).where(*_overlapping(_own(s), to_utc(now), to_utc(now) + timedelta(microseconds=1)))
        away = [_absence_view(a) for a in s.scalars(q.order_by(Absence.starts_at))]
    return Duty(now, shifts(db, today, today), away)


# ------------------------------------------------------------------ the week


def monday(d: date) -> date:
    return d - timedelta(days=d.weekday())


@dataclass(frozen=True)
class Week:
    monday: date
    days: list[date]
    windows: list[str]
    cells: dict[tuple[str, date], list[ShiftView]]
    areas: list[AreaView]
    absences: list[AbsenceView]
    working: dict[date, bool]

    @property
    def sunday(self) -> date:
        return self.days[-1]

    def away_on(self, worker_id: uuid.UUID, day: date) -> AbsenceView | None:
        """The worker's absence touching local day ``day``, if any."""
        for a in self.absences:
            if a.worker_id == worker_id and a.starts_at.date() <= day <= (a.ends_at - timedelta(seconds=1)).date():
                return a
        return None

    def cell_lines(self, window: str, day: date) -> list[str]:
        """A grid cell as lines: name (and kind), times, and who covers."""
        out = []
        for x in self.cells.get((window, day), []):
            out.append(x.worker_name + ("" if x.kind == "normal" else f" {x.kind_label}"))
            out.append(x.times)
            a = self.away_on(x.worker_id, day)
            if a is not None:
                out.append(f"↳{a.reason_label}，{a.cover_name}代岗")
        return out

    def hours(self) -> dict[str, float]:
        """Hours on the rota by kind."""
        out: dict[str, float] = defaultdict(float)
        for xs in self.cells.values():
            for x in xs:
                out[x.kind] += x.hours
        return dict(out)


def week(db: Database, any_day: date) -> Week:
    """The rota of the week holding ``any_day``: windows × days."""
    mon = monday(any_day)
    days = [mon + timedelta(days=i) for i in range(7)]
    rows = shifts(db, mon, days[-1])
    ars = areas(db)
    windows = list(dict.fromkeys([a.window for a in ars] + sorted({x.window for x in rows})))
    cells: dict[tuple[str, date], list[ShiftView]] = defaultdict(list)
    for x in rows:
        cells[(x.window, x.day)].append(x)
    cal = workdays.load(db)
    return Week(
        mon, days, windows, dict(cells), ars, absences(db, mon, days[-1]), {d: cal.is_working_day(d) for d in days}
    )


# ------------------------------------------------------------------ report figures


def _withdrawn_at(a: Absence) -> datetime:
    """When a tombstoned absence was withdrawn (naive UTC): the clock of its
    ``deleted`` field, which travels with it."""
    stamp = (a.field_clocks or {}).get("deleted") or a.hlc
    return to_datetime(int(stamp)).replace(tzinfo=None)


@dataclass(frozen=True)
class CoverMatter:
    matter_id: uuid.UUID
    origin: str
    receipt_no: str
    matter_name: str
    at: datetime  # stored UTC
    handed_by: str  # who recorded the hand-over
    cover_name: str
    note: str


def cover_matters(db: Database, start: date, end: date, stations: tuple[str, ...] = ()) -> list[CoverMatter]:
    """Matters handled by cover in local days ``start`` … ``end``: each matter
    with a hand-over (``cover`` event) that took effect in the period, once
    (its first).  A new matter given to the cover takes effect when it is
    accepted; the hand-overs ``mark_away`` writes take effect when the
    absence begins (a leave registered in November for December counts in
    December), and those of an absence withdrawn before it began never
    happened and are not counted."""
    lo, hi = day_start_utc(start), day_start_utc(end + timedelta(days=1))
    where_origin = Matter.origin.in_(stations) if stations else true()
    with db.session() as s:
        # the absences whose hand-overs were written in the period or take
        # effect in it, by what identifies their events (``_handed_over_by``)
        marks = {
            (a.origin, a.created_at, a.cover_name): a
            for a in s.scalars(
                select(Absence).where(
                    Absence.created_at < hi,
                    or_(Absence.created_at >= lo, and_(Absence.starts_at >= lo, Absence.starts_at < hi)),
                    Absence.origin.in_(stations) if stations else true(),
                )
            )
        }
        # registered before the period, beginning in it
        early = [a for a in marks.values() if a.created_at < lo]
        cols = (MatterEvent, Matter.origin, Matter.receipt_no, Matter.matter_name)
        queries = [
            select(*cols)
            .join(Matter, Matter.id == MatterEvent.matter_id)
            .where(
                MatterEvent.kind == "cover",
                MatterEvent.at >= lo,
                MatterEvent.at < hi,
                Matter.deleted.is_(False),
                where_origin,
            )
        ]
        queries += [
            select(*cols)
            .join(Matter, Matter.id == MatterEvent.matter_id)
            .where(*_handed_over_by(a), Matter.deleted.is_(False))
            for a in early
        ]
        events = [row for q in queries for row in s.execute(q)]
    found: list[tuple[datetime, int, CoverMatter]] = []
    for e, origin, receipt, name in events:
        a = marks.get((origin, e.at, e.target or ""))
        at = e.at
        if a is not None:
            if a.deleted and _withdrawn_at(a) < a.starts_at:
                continue  # withdrawn before it began: no hand-over happened
            at = max(e.at, a.starts_at)
        if lo <= at < hi:
            found.append(
                (
                    at,
                    e.hlc,
                    CoverMatter(e.matter_id, origin, receipt, name, at, e.actor_name, e.target or "", e.note or ""),
                )
            )
    seen: dict[uuid.UUID, CoverMatter] = {}
    for _at, _hlc, c in sorted(found, key=lambda x: (x[0], x[1])):
        seen.setdefault(c.matter_id, c)
    return sorted(seen.values(), key=lambda c: (c.at, c.receipt_no))


@dataclass(frozen=True)
class OpenSpan:
    """The hall open outside office hours on one local day: a stretch the
    rota covers, with who was on."""

    origin: str
    day: date
    start: datetime  # local
    end: datetime  # local
    workers: tuple[str, ...]
    kinds: tuple[str, ...] = field(default=())

    @property
    def hours(self) -> float:
        return (self.end - self.start).total_seconds() / 3600


def outside_hours(
    db: Database, start: date, end: date, stations: tuple[str, ...] = (), until: datetime | None = None
) -> list[OpenSpan]:
    """The stretches of local days ``start`` … ``end`` when the rota had the
    hall open outside office hours (weekends and holidays all day; working
    days before and after ``OFFICE_START``–``OFFICE_END``). Two windows open
    at once count once: the hall is open or not. ``until`` (local) leaves out
    what the rota plans after it (the report counts hours the hall was open)."""
    cal = workdays.load(db)
    lo, hi = day_start_utc(start), day_start_utc(end + timedelta(days=1))
    with db.session() as s:
        rows = s.scalars(
            select(Shift).where(
                Shift.deleted.is_(False),
                Shift.starts_at >= lo,
                Shift.starts_at < hi,
                Shift.origin.in_(stations) if stations else true(),
            )
        ).all()
        by_day: dict[tuple[str, date], list[ShiftView]] = defaultdict(list)
        for row in rows:
            v = _shift_view(row)
            by_day[(row.origin, v.day)].append(v)
    out: list[OpenSpan] = []
    for (origin, day), xs in sorted(by_day.items()):
        pieces: list[tuple[datetime, datetime, ShiftView]] = []
        for x in xs:
            if cal.is_working_day(day):
                o_s, o_e = datetime.combine(day, OFFICE_START), datetime.combine(day, OFFICE_END)
                for a, b in ((x.starts_at, min(x.ends_at, o_s)), (max(x.starts_at, o_e), x.ends_at)):
                    if b > a:
                        pieces.append((a, b, x))
            else:
                pieces.append((x.starts_at, x.ends_at, x))
        if until is not None:
            pieces = [(a, min(b, until), x) for a, b, x in pieces if a < until]
        pieces.sort(key=lambda p: (p[0], p[1], p[2].worker_name, p[2].window))
        cur: list[tuple[datetime, datetime, ShiftView]] = []
        for p in pieces + [(datetime.max, datetime.max, xs[0])]:
            if cur and p[0] > max(c[1] for c in cur):
                out.append(
                    OpenSpan(
                        origin,
                        day,
                        cur[0][0],
                        max(c[1] for c in cur),
                        tuple(dict.fromkeys(c[2].worker_name for c in cur)),
                        tuple(dict.fromkeys(c[2].kind_label for c in cur)),
                    )
                )
                cur = []
            if p[0] != datetime.max:
                cur.append(p)
    return out
