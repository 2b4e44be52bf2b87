"""委托代办: proxy agents (代办员) per village group, and the matters they
take for residents who cannot come to the station.

A proxy matter is an ordinary counter matter (accepted with a receipt by
``counter.accept``, channel 代办) plus a ``ProxyCase``: the agent, the
originals received (name and count), and four steps recorded as they
happen, in order — received (收件) → forwarded (转交, to which office) →
result back (结果取回) → handed back to the resident (交还, with each
original marked returned or not).  A step out of order, or dated before the
step it follows or in the future, is refused with a message; nothing is
saved then.  Forwarding and handing back move the counter matter along
(已转办, 已办结) in the same transaction, with an event on its history.

The monthly 代办台账 counts, for a period: 登记 (registered: received in
it), 办理 (handled: result back in it) and 回复 (replied: handed back to the
resident in it), in total and per agent; ``cases`` lists the records
behind each figure (the drill-down) with the same predicate.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, select, true
from sqlalchemy.orm import Session

from db.clock import utcnow
from db.engine import Database
from db.errors import StationDeskError, ValidationError
from db.localtime import day_start_utc
from db.models import Matter, MatterEvent, MatterType, ProxyAgent, ProxyCase, Resident
from desktop.services import accounts, audit, counter
from desktop.services.context import Actor
from desktop.services.idnumbers import mask

STEPS = {"received": "已收件", "forwarded": "已转交", "result": "结果已取回", "handed_back": "已交还居民"}
ORDER = ("received", "forwarded", "result", "handed_back")
NEXT_ACTION = {"received": "登记转交", "forwarded": "登记结果取回", "result": "交还居民", "handed_back": ""}
FIGURES = {"registered": "登记", "handled": "办理", "replied": "回复"}
# The time column each ledger figure counts (its predicate: that time in the period).
FIGURE_COLUMNS = {"registered": "received_at", "handled": "result_at", "replied": "handed_back_at"}
MAX_ORIGINALS = 30
MAX_COUNT = 50
CLOCK_SLACK = timedelta(minutes=5)  # two desks' clocks differ a little


class NoOriginals(StationDeskError):
    """A hand-over slip for a matter with nothing handed over."""

    def __init__(self) -> None:
        super().__init__(
            "no originals",
            "这件代办没有登记收取任何原件，不需要也不能打印原件交接单。\n"
            "如果其实收了原件，请先在“收取的原件”里补登后再打印。",
        )


# ------------------------------------------------------------------ agents


@dataclass
class AgentForm:
    name: str
    village_group: str
    phone: str = ""
    active: bool = True
    note: str = ""
    id: uuid.UUID | None = None


@dataclass(frozen=True)
class AgentRow:
    id: uuid.UUID
    name: str
    village_group: str
    phone: str
    active: bool
    note: str
    open_cases: int


CN_NUMERALS = {c: i for i, c in enumerate("一二三四五六七八九十", 1)}


def group_key(name: str) -> tuple[int, str]:
    """第二村民小组 before 第十一村民小组: village groups and grids in the
    order of their numbers (Chinese or Arabic), the rest after them."""
    digits = ""
    for ch in name.removeprefix("第"):
        if ch.isdigit():
            digits += ch
        elif ch in CN_NUMERALS:
            digits += "," + str(CN_NUMERALS[ch])
        else:
            break
    if not digits:
        return (10_000, name)
    if "," not in digits:
        return (int(digits), name)
    parts = [int(x) for x in digits.split(",") if x]  # 十一 → 10, 1; 二十 → 2, 10; 二十三 → 2, 10, 3
    n, cur = 0, 0
    for x in parts:
        if x == 10:
            n += (cur or 1) * 10
            cur = 0
        else:
            cur = x
    return (n + cur, name)


def _clean(text: str, limit: int, label: str, field_name: str) -> str:
    text = " ".join((text or "").split())
    if len(text) > limit:
        raise ValidationError(field_name, f"{label}太长，请不超过 {limit} 个字。")
    return text


def save_agent(db: Database, actor: Actor, f: AgentForm) -> uuid.UUID:
    """Add or edit a proxy agent (supervisor: the committee appoints them)."""
    actor.require("supervisor", "管理代办员")
    name = _clean(f.name, 64, "姓名", "name")
    if not name:
        raise ValidationError("name", "请填写代办员姓名。")
    group = _clean(f.village_group, 32, "村民小组", "village_group")
    if not group:
        raise ValidationError("village_group", "请填写代办员负责的村民小组（社区填网格）。")
    phone = _clean(f.phone, 32, "电话", "phone").replace(" ", "")
    if phone and not (phone.replace("-", "").isdigit() and 7 <= len(phone.replace("-", "")) <= 13):
        raise ValidationError("phone", "联系电话应为 7 到 13 位数字（可带区号“-”）。")
    note = _clean(f.note, 200, "备注", "note")
    with db.session() as s:
        same = s.scalar(
            select(ProxyAgent.id).where(
                ProxyAgent.name == name,
                ProxyAgent.village_group == group,
                ProxyAgent.deleted.is_(False),
                ProxyAgent.id != f.id if f.id is not None else true(),
            )
        )
        if same is not None:
            raise ValidationError("name", f"{group}已经有一位叫“{name}”的代办员。")
        if f.id is None:
            a = ProxyAgent()
            s.add(a)
        else:
            got = s.get(ProxyAgent, f.id)
            if got is None or got.deleted:
                raise ValidationError("name", "找不到这位代办员。")
            a = got
        a.name, a.village_group, a.phone, a.active, a.note = name, group, phone or None, bool(f.active), note or None
        s.flush()
        audit.record(s, "proxy_agent_save", actor, target_type="proxy_agents", target_id=a.id)
        return a.id


def agents(db: Database, include_inactive: bool = True) -> list[AgentRow]:
    """The agents, by village group, with how many matters each has open."""
    with db.session() as s:
        open_by = dict(
            s.execute(
                select(ProxyCase.agent_id, func.count())
                .where(ProxyCase.deleted.is_(False), ProxyCase.step != "handed_back")
                .group_by(ProxyCase.agent_id)
            ).all()
        )
        q = select(ProxyAgent).where(ProxyAgent.deleted.is_(False))
        if not include_inactive:
            q = q.where(ProxyAgent.active.is_(True))
        rows = [
            AgentRow(a.id, a.name, a.village_group, a.phone or "", a.active, a.note or "", open_by.get(a.id, 0))
            for a in s.scalars(q)
        ]
    return sorted(rows, key=lambda a: (group_key(a.village_group), not a.active, a.name))


def agent_for(db: Database, resident_id: uuid.UUID) -> uuid.UUID | None:
    """The active agent serving the resident's 村民小组 (or, in a community,
    网格), the one with the fewest open matters; None when there is none."""
    with db.session() as s:
        r = s.get(Resident, resident_id)
        groups = [g for g in ((r.village_group, r.grid) if r else ()) if g]
    for g in groups:
        serving = [a for a in agents(db, include_inactive=False) if a.village_group == g]
        if serving:
            return min(serving, key=lambda a: (a.open_cases, a.name)).id
    return None


# ------------------------------------------------------------------ registering


@dataclass(frozen=True)
class Original:
    name: str
    count: int = 1


@dataclass
class ProxyForm:
    agent_id: uuid.UUID | None
    resident_id: uuid.UUID | None
    matter_type_id: uuid.UUID | None
    originals: list[Original] = field(default_factory=list)
    note: str = ""


@dataclass(frozen=True)
class Registered:
    case_id: uuid.UUID
    matter_id: uuid.UUID
    receipt_no: str
    promised_date: date


def _originals(items: list[Original]) -> list[Original]:
    out: list[Original] = []
    for o in items:
        name = " ".join((o.name or "").split())
        if not name:
            continue
        if len(name) > 100:
            raise ValidationError("originals", f"原件名称太长：{name[:20]}…")
        if not 1 <= int(o.count) <= MAX_COUNT:
            raise ValidationError("originals", f"“{name}”的份数应在 1 到 {MAX_COUNT} 之间。")
        out.append(Original(name, int(o.count)))
    names = [o.name for o in out]
    if len(set(names)) != len(names):
        raise ValidationError("originals", "原件名称有重复，同一种原件请合并写份数。")
    if len(out) > MAX_ORIGINALS:
        raise ValidationError("originals", f"原件最多登记 {MAX_ORIGINALS} 种。")
    return out


def suggested_originals(db: Database, matter_type_id: uuid.UUID) -> list[Original]:
    """The matter's catalogue materials as the originals a proxy usually takes."""
    with db.session() as s:
        t = s.get(MatterType, matter_type_id)
        if t is None:
            return []
        return [Original(m.get("name", ""), int(m.get("copies") or 1)) for m in (t.materials or []) if m.get("name")]


def register(db: Database, actor: Actor, f: ProxyForm, today: date | None = None) -> Registered:
    """Accept a matter taken by a proxy agent: the counter's acceptance
    (receipt number, promised date, 一次性告知 when a required material is
    missing) with channel 代办, and the proxy record with its originals.

    Everything the proxy record needs is checked before the matter is
    accepted, so a refusal saves neither."""
    actor.require("desk", "登记代办")
    if f.agent_id is None:
        raise ValidationError("agent", "请选择代办员。")
    if f.resident_id is None:
        raise ValidationError("resident", "请先选择委托代办的居民。")
    if f.matter_type_id is None:
        raise ValidationError("matter", "请从事项目录中选择代办的事项。")
    originals = _originals(f.originals)
    note = counter._clean_note(f.note)
    with db.session() as s:
        agent = s.get(ProxyAgent, f.agent_id)
        if agent is None or agent.deleted:
            raise ValidationError("agent", "找不到这位代办员。")
        if not agent.active:
            raise ValidationError("agent", f"代办员“{agent.name}”已停用，请选择其他代办员。")
        agent_name, group = agent.name, agent.village_group
        t = s.get(MatterType, f.matter_type_id)
        materials = {m.get("name") for m in (t.materials or [])} if t is not None else set()
    received = [o.name for o in originals if o.name in materials]
    made: list[uuid.UUID] = []

    def add_case(s: Session, matter_id: uuid.UUID) -> None:
        """The proxy record, in the transaction that accepts the matter: a 代办
        matter never exists without its agent and originals."""
        m = s.get(Matter, matter_id)
        assert m is not None
        c = ProxyCase(
            matter_id=matter_id,
            agent_id=f.agent_id,
            agent_name=agent_name,
            village_group=group,
            originals=[{"name": o.name, "count": o.count, "returned": None} for o in originals],
            step="received",
            received_at=m.accepted_at,
            received_by=actor.display_name,
            note=note or None,
        )
        s.add(c)
        s.flush()
        audit.record(s, "proxy_register", actor, target_type="proxy_cases", target_id=c.id)
        made.append(c.id)

    acc = counter.accept(
        db,
        actor,
        f.resident_id,
        f.matter_type_id,
        received,
        channel="proxy",
        note=note,
        today=today,
        on_accepted=add_case,
    )
    return Registered(made[0], acc.matter_id, acc.receipt_no, acc.promised_date)


# ------------------------------------------------------------------ steps


def _live(s: Session, case_id: uuid.UUID) -> tuple[ProxyCase, Matter]:
    c = s.get(ProxyCase, case_id)
    if c is None or c.deleted:
        raise ValidationError("case", "找不到这件代办。")
    m = s.get(Matter, c.matter_id)
    if m is None or m.deleted:
        raise ValidationError("case", "找不到这件代办对应的事项。")
    return c, m


def _when(at: datetime | None, after: datetime, after_label: str, label: str) -> datetime:
    """The step's time (naive UTC): now, or a time entered afterwards —
    never in the future, never before the step it follows."""
    now = utcnow()
    at = at or now
    if at > now + CLOCK_SLACK:
        raise ValidationError("at", f"{label}时间不能晚于现在。")
    if at < after:
        from db.localtime import to_local

        raise ValidationError("at", f"{label}时间不能早于{after_label}时间（{to_local(after):%Y-%m-%d %H:%M}）。")
    return at


def _need_step(c: ProxyCase, wanted: str, action: str) -> None:
    """Refuse a step unless the case stands at the step just before it."""
    if c.step == ORDER[ORDER.index(wanted) - 1]:
        return
    if ORDER.index(c.step) >= ORDER.index(wanted):
        raise ValidationError("step", f"这件代办已经是“{STEPS[c.step]}”，不能再{action}。")
    raise ValidationError("step", f"这件代办当前是“{STEPS[c.step]}”，还不能{action}：请先{NEXT_ACTION[c.step]}。")


def _event(s: Session, actor: Actor, m: Matter, kind: str, at: datetime, note: str, target: str = "") -> None:
    s.add(
        MatterEvent(
            matter_id=m.id,
            at=at,
            kind=kind,
            actor_id=actor.account_id,
            actor_name=actor.display_name,
            note=note or None,
            target=target or None,
        )
    )


def forward(db: Database, actor: Actor, case_id: uuid.UUID, to: str, at: datetime | None = None) -> str:
    """The agent handed the matter to an office (乡镇/街道便民服务中心, a
    department...): the counter matter becomes 已转办."""
    actor.require("desk", "登记代办转交")
    to = _clean(to, 64, "转交去向", "to")
    if not to:
        raise ValidationError("to", "请写明转交到哪里（如：镇便民服务中心社保窗口）。")
    with db.session() as s:
        c, m = _live(s, case_id)
        _need_step(c, "forwarded", "登记转交")
        if m.status not in counter.OPEN_STATUSES:
            raise ValidationError("step", f"这个事项在接待台已是“{counter.STATUSES[m.status]}”，不能再转交。")
        when = _when(at, c.received_at, "收件", "转交")
        c.step, c.forwarded_to, c.forwarded_at = "forwarded", to, when
        m.status = "transferred"
        _event(s, actor, m, "transfer", when, f"代办员{c.agent_name}转交", to)
        audit.record(s, "proxy_forward", actor, target_type="proxy_cases", target_id=c.id)
        return c.step


def result_back(db: Database, actor: Actor, case_id: uuid.UUID, result: str, at: datetime | None = None) -> str:
    """The office's result (the card, the approval, a refusal...) came back
    to the agent."""
    actor.require("desk", "登记代办结果")
    result = counter._clean_note(result, "办理结果")
    if not result:
        raise ValidationError("result", "请写明办理结果（如：已批准，证件已领回）。")
    with db.session() as s:
        c, m = _live(s, case_id)
        _need_step(c, "result", "登记结果取回")
        assert c.forwarded_at is not None
        when = _when(at, c.forwarded_at, "转交", "结果取回")
        c.step, c.result, c.result_at = "result", result, when
        _event(s, actor, m, "note", when, f"代办结果已取回：{result}")
        audit.record(s, "proxy_result", actor, target_type="proxy_cases", target_id=c.id)
        return c.step


def hand_back(
    db: Database, actor: Actor, case_id: uuid.UUID, returned: list[bool], note: str = "", at: datetime | None = None
) -> str:
    """The result and the originals went back to the resident; each
    original is marked returned or not (a kept one needs a reason). The
    counter matter is closed (办结) with the result."""
    actor.require("desk", "登记交还居民")
    note = counter._clean_note(note)
    with db.session() as s:
        c, m = _live(s, case_id)
        _need_step(c, "handed_back", "交还居民")
        items = [dict(o) for o in (c.originals or [])]
        if len(returned) != len(items):
            raise ValidationError("originals", "请逐项确认原件是否已退还。")
        if not all(returned) and not note:
            kept = "、".join(o["name"] for o, r in zip(items, returned, strict=False) if not r)
            raise ValidationError("note", f"原件“{kept}”没有退还，请在备注里写明原因（如：已由审批部门收存）。")
        assert c.result_at is not None
        when = _when(at, c.result_at, "结果取回", "交还")
        for o, r in zip(items, returned, strict=False):
            o["returned"] = bool(r)
        c.originals, c.step, c.handed_back_at = items, "handed_back", when
        if note:
            c.note = ((c.note + "\n") if c.note else "") + note
        if m.status in counter.OPEN_STATUSES:
            m.status, m.result, m.closed_at = "done", c.result, when
            _event(s, actor, m, "close", when, c.result or "")
        audit.record(s, "proxy_hand_back", actor, target_type="proxy_cases", target_id=c.id)
        return c.step


# ------------------------------------------------------------------ reading


@dataclass(frozen=True)
class CaseRow:
    id: uuid.UUID
    matter_id: uuid.UUID
    receipt_no: str
    resident_name: str
    matter_name: str
    agent_id: uuid.UUID
    agent_name: str
    village_group: str
    step: str
    received_at: datetime
    forwarded_to: str
    forwarded_at: datetime | None
    result_at: datetime | None
    handed_back_at: datetime | None
    originals: int  # pieces received
    promised_date: date
    origin: str

    @property
    def step_label(self) -> str:
        return STEPS[self.step]

    @property
    def next_action(self) -> str:
        return NEXT_ACTION[self.step]


def _case_rows(s: Session, where: Any, limit: int | None = None) -> list[CaseRow]:
    q = (
        select(ProxyCase, Matter.receipt_no, Matter.matter_name, Matter.promised_date, Resident.name)
        .join(Matter, Matter.id == ProxyCase.matter_id)
        .join(Resident, Resident.id == Matter.resident_id)
        .where(ProxyCase.deleted.is_(False), where)
        .order_by(ProxyCase.received_at, ProxyCase.id)
    )
    if limit:
        q = q.limit(limit)
    return [
        CaseRow(
            c.id,
            c.matter_id,
            receipt,
            rname,
            mname,
            c.agent_id,
            c.agent_name,
            c.village_group,
            c.step,
            c.received_at,
            c.forwarded_to or "",
            c.forwarded_at,
            c.result_at,
            c.handed_back_at,
            sum(int(o.get("count") or 1) for o in (c.originals or [])),
            promised,
            c.origin,
        )
        for c, receipt, mname, promised, rname in s.execute(q)
    ]


def open_cases(db: Database, limit: int = 2000) -> list[CaseRow]:
    """Proxy matters not yet handed back, oldest first."""
    with db.session() as s:
        return _case_rows(s, ProxyCase.step != "handed_back", limit)


def recent_cases(db: Database, days: int = 60, limit: int = 2000) -> list[CaseRow]:
    since = utcnow() - timedelta(days=days)
    with db.session() as s:
        return _case_rows(s, ProxyCase.received_at >= since, limit)


@dataclass(frozen=True)
class OriginalView:
    name: str
    count: int
    returned: bool | None


@dataclass(frozen=True)
class CaseDetail:
    row: CaseRow
    resident_doc_masked: str
    resident_phone: str
    resident_address: str
    agent_phone: str
    originals: list[OriginalView]
    result: str
    received_by: str
    note: str


def get(db: Database, case_id: uuid.UUID) -> CaseDetail:
    with db.session() as s:
        rows = _case_rows(s, ProxyCase.id == case_id)
        if not rows:
            raise ValidationError("case", "找不到这件代办。")
        c, m = _live(s, case_id)
        r = s.get(Resident, m.resident_id)
        a = s.get(ProxyAgent, c.agent_id)
        assert r is not None
        return CaseDetail(
            rows[0],
            mask(r.doc_number or ""),
            r.phone or "",
            r.address_text or "",
            (a.phone or "") if a else "",
            [OriginalView(o.get("name", ""), int(o.get("count") or 1), o.get("returned")) for o in (c.originals or [])],
            c.result or "",
            c.received_by,
            c.note or "",
        )


def slip_data(db: Database, case_id: uuid.UUID) -> CaseDetail:
    """What the hand-over slip (原件交接单) prints; refused when no
    original was received."""
    d = get(db, case_id)
    if not d.originals:
        raise NoOriginals()
    return d


# ------------------------------------------------------------------ ledger


@dataclass(frozen=True)
class AgentFigures:
    agent_id: uuid.UUID
    agent_name: str
    village_group: str
    registered: int
    handled: int
    replied: int


@dataclass(frozen=True)
class Ledger:
    start: date
    end: date
    registered: int
    handled: int
    replied: int
    by_agent: list[AgentFigures]

    def figure(self, key: str) -> int:
        return int(getattr(self, key))


def _in_period(col: Any, start: date, end: date) -> Any:
    return and_(col >= day_start_utc(start), col < day_start_utc(end + timedelta(days=1)))


def _scope(origins: tuple[str, ...] | None) -> Any:
    return ProxyCase.origin.in_(origins) if origins else true()


def month_range(year: int, month: int) -> tuple[date, date]:
    start = date(year, month, 1)
    nxt = date(year + (month == 12), month % 12 + 1, 1)
    return start, nxt - timedelta(days=1)


def own_station(db: Database) -> tuple[str, ...]:
    with db.session() as s:
        return (accounts.this_station(s).code,)


def figure_where(key: str, start: date, end: date, origins: tuple[str, ...] | None = None) -> Any:
    """The predicate of one ledger figure: the one both the count and the
    drill-down use."""
    if key not in FIGURE_COLUMNS:
        raise ValidationError("figure", "未知的台账项目。")
    col = getattr(ProxyCase, FIGURE_COLUMNS[key])
    return and_(ProxyCase.deleted.is_(False), _scope(origins), _in_period(col, start, end))


def ledger(db: Database, start: date, end: date, origins: tuple[str, ...] | None = None) -> Ledger:
    """登记 / 办理 / 回复 for ``start``..``end`` (local dates), in total and
    per agent; ``origins`` limits it to those stations' records."""
    if end < start:
        raise ValidationError("period", "结束日期不能早于开始日期。")
    per: dict[uuid.UUID, dict[str, Any]] = {}
    totals = dict.fromkeys(FIGURES, 0)
    with db.session() as s:
        for key in FIGURES:
            q = (
                select(ProxyCase.agent_id, func.count())
                .where(figure_where(key, start, end, origins))
                .group_by(ProxyCase.agent_id)
            )
            for agent_id, n in s.execute(q):
                per.setdefault(agent_id, dict.fromkeys(FIGURES, 0))[key] = n
                totals[key] += n
        names = (
            {a.id: (a.name, a.village_group) for a in s.scalars(select(ProxyAgent).where(ProxyAgent.id.in_(list(per))))}
            if per
            else {}
        )
    rows = sorted(
        (AgentFigures(aid, *names.get(aid, ("（未知）", "")), **v) for aid, v in per.items()),
        key=lambda r: (group_key(r.village_group), r.agent_name, str(r.agent_id)),
    )
    return Ledger(start, end, totals["registered"], totals["handled"], totals["replied"], rows)


def cases(
    db: Database,
    key: str,
    start: date,
    end: date,
    origins: tuple[str, ...] | None = None,
    agent_id: uuid.UUID | None = None,
) -> list[CaseRow]:
    """The records behind one ledger figure (optionally one agent's)."""
    where = figure_where(key, start, end, origins)
    if agent_id is not None:
        where = and_(where, ProxyCase.agent_id == agent_id)
    with db.session() as s:
        return _case_rows(s, where)
