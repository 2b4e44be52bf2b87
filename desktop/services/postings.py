"""村(居)务公开: postings on the notice board.

A posting has a title, a body, a category (党务/村(居)务/财务/服务), the dates
it should go up and come down, and a 公示期 where one applies (a 低保 family
is posted for 7 days before the town reviews it). A supervisor writes it;
any worker records when it really went up and came down. What is up now and
what is overdue to come down are listed; taking a posting down before its
公示期 has run needs a reason, which is kept.

Four lists the station must publish are made into postings in one click:
the certificates it may issue, the 准入 lists, the service menu (the matter
catalogue) and last month's 好差评 results.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from db.clock import utcnow
from db.engine import Database
from db.errors import ValidationError
from db.localtime import local_date
from db.models import Posting
from desktop.services import accounts, audit, certificates, counter, workitems
from desktop.services.context import Actor

CATEGORIES = {"party": "党务", "affairs": "村务", "finance": "财务", "service": "服务"}
SOURCES = {
    "manual": "手工填写",
    "certificates": "证明事项清单",
    "work_items": "工作事项清单",
    "matters": "服务事项清单",
    "ratings": "好差评结果",
}
# 公示期 the domain fixes: a 低保 (and 特困) family is posted for 7 days.
PRESETS = {"低保、特困等救助对象公示": 7}
DEFAULT_DAYS = 30  # how long a list stays up when nothing else is said
APPROVER_ROLE = "supervisor"
MAX_TITLE = 100
MAX_BODY = 8000


def category_label(category: str, village: bool = False) -> str:
    """村务 at a village, 居务 at a community."""
    if category == "affairs":
        return "村务" if village else "居务"
    return CATEGORIES.get(category, category)


@dataclass(frozen=True)
class PostingView:
    id: uuid.UUID
    title: str
    body: str
    category: str
    source: str
    period_days: int | None
    on_date: date
    off_date: date
    created_by: str
    posted_at: datetime | None
    posted_by: str
    removed_at: datetime | None
    removed_by: str
    removed_note: str

    @property
    def up(self) -> bool:
        return self.posted_at is not None and self.removed_at is None

    @property
    def period_end(self) -> date | None:
        """The first day the posting may come down: its 公示期 counted from
        the day it really went up (or was meant to)."""
        if not self.period_days:
            return None
        start = local_date(self.posted_at) if self.posted_at else self.on_date
        return start + timedelta(days=self.period_days)

    def overdue(self, today: date) -> bool:
        return self.up and self.off_date < today

    def status(self, today: date) -> str:
        if self.removed_at is not None:
            return "已撤下"
        if self.posted_at is None:
            return "待张贴" if self.on_date <= today else "未到张贴日"
        return "逾期未撤" if self.off_date < today else "公示中"


def _view(p: Posting) -> PostingView:
    return PostingView(
        p.id,
        p.title,
        p.body,
        p.category,
        p.source,
        p.period_days,
        p.on_date,
        p.off_date,
        p.created_by,
        p.posted_at,
        p.posted_by or "",
        p.removed_at,
        p.removed_by or "",
        p.removed_note or "",
    )


def today() -> date:
    return local_date(utcnow())


def create(
    db: Database,
    actor: Actor,
    *,
    title: str,
    body: str,
    category: str,
    on_date: date,
    off_date: date | None = None,
    period_days: int | None = None,
    source: str = "manual",
) -> uuid.UUID:
    """Write a posting. With a 公示期 it stays up at least that many days;
    without an off date it comes down after the 公示期 (or 30 days)."""
    actor.require(APPROVER_ROLE, "编写公开栏公示")
    title = " ".join((title or "").split())
    if not title or len(title) > MAX_TITLE:
        raise ValidationError("title", f"请填写公示标题（不超过 {MAX_TITLE} 个字）。")
    body = (body or "").strip()
    if not body:
        raise ValidationError("body", "请填写公示内容。")
    if len(body) > MAX_BODY:
        raise ValidationError("body", f"公示内容太长（{len(body)} 字），请不超过 {MAX_BODY} 字，或分成几份公示。")
    if category not in CATEGORIES:
        raise ValidationError("category", "请选择公开类别：党务、村（居）务、财务或服务。")
    if source not in SOURCES:
        raise ValidationError("source", "未知的公示来源。")
    if period_days is not None and not 1 <= period_days <= 365:
        raise ValidationError("period_days", "公示期应为 1 到 365 天；不需要公示期的请留空。")
    earliest = on_date + timedelta(days=period_days) if period_days else on_date
    if off_date is None:
        off_date = earliest if period_days else on_date + timedelta(days=DEFAULT_DAYS)
    if off_date < on_date:
        raise ValidationError("off_date", "撤下日期不能早于张贴日期。")
    if off_date < earliest:
        raise ValidationError("off_date", f"公示期 {period_days} 天：撤下日期不能早于 {earliest:%Y-%m-%d}。")
    with db.session() as s:
        p = Posting(
            title=title,
            body=body,
            category=category,
            source=source,
            period_days=period_days,
            on_date=on_date,
            off_date=off_date,
            created_at=utcnow(),
            created_by=actor.display_name,
        )
        s.add(p)
        s.flush()
        audit.record(s, "posting_create", actor, target_type="posting", target_id=p.id, source=SOURCES[source])
        return p.id


def _live(s: Session, posting_id: uuid.UUID) -> Posting:
    p = s.get(Posting, posting_id)
    if p is None or p.deleted:
        raise ValidationError("posting", "找不到这份公示。")
    return p


def mark_up(db: Database, actor: Actor, posting_id: uuid.UUID) -> None:
    """Record that the posting went up on the board (now). A posting with a
    公示期 that goes up late comes down that much later."""
    actor.require("desk", "登记张贴")
    with db.session() as s:
        p = _live(s, posting_id)
        if p.removed_at is not None:
            raise ValidationError("posting", "这份公示已经撤下，不能再登记张贴；需要重新公示请新建一份。")
        if p.posted_at is not None:
            raise ValidationError("posting", "这份公示已经登记过张贴。")
        p.posted_at, p.posted_by = utcnow(), actor.display_name
        if p.period_days:  # up later than planned: the 公示期 still runs in full
            p.off_date = max(p.off_date, local_date(p.posted_at) + timedelta(days=p.period_days))
        audit.record(s, "posting_up", actor, target_type="posting", target_id=p.id)


def mark_down(db: Database, actor: Actor, posting_id: uuid.UUID, note: str = "") -> None:
    """Record that the posting came down (now). Before its 公示期 has run,
    a reason is required and kept."""
    actor.require("desk", "登记撤下")
    note = (note or "").strip()
    if len(note) > 500:
        raise ValidationError("note", "原因太长，请不超过 500 字。")
    with db.session() as s:
        p = _live(s, posting_id)
        if p.posted_at is None:
            raise ValidationError("posting", "这份公示还没有登记张贴。")
        if p.removed_at is not None:
            raise ValidationError("posting", "这份公示已经登记过撤下。")
        end = _view(p).period_end
        if end is not None and today() < end and not note:
            raise ValidationError("note", f"公示期 {p.period_days} 天，要到 {end:%Y-%m-%d} 才满；提前撤下请写明原因。")
        p.removed_at, p.removed_by, p.removed_note = utcnow(), actor.display_name, note or None
        audit.record(s, "posting_down", actor, target_type="posting", target_id=p.id)


def get(db: Database, posting_id: uuid.UUID) -> PostingView:
    with db.session() as s:
        return _view(_live(s, posting_id))


@dataclass
class Board:
    up: list[PostingView]  # on the board now
    overdue: list[PostingView]  # on the board past their off date
    waiting: list[PostingView]  # due to go up and not up yet
    all: list[PostingView]  # every posting, newest first


def board(db: Database, on: date | None = None, limit: int = 500) -> Board:
    on = on or today()
    with db.session() as s:
        own = accounts.this_station(s).code
        rows = [
            _view(p)
            for p in s.scalars(
                select(Posting)
                .where(Posting.deleted.is_(False), Posting.origin == own)
                .order_by(Posting.on_date.desc(), Posting.created_at.desc())
                .limit(limit)
            )
        ]
        # what is up never falls off the list, however old
        older_up = [
            _view(p)
            for p in s.scalars(
                select(Posting).where(
                    Posting.deleted.is_(False),
                    Posting.origin == own,
                    Posting.posted_at.is_not(None),
                    Posting.removed_at.is_(None),
                    Posting.id.not_in([r.id for r in rows] or [uuid.uuid4()]),
                )
            )
        ]
    every = rows + older_up
    return Board(
        up=[p for p in every if p.up],
        overdue=[p for p in every if p.overdue(on)],
        waiting=[p for p in every if p.posted_at is None and p.removed_at is None and p.on_date <= on],
        all=rows,
    )


def counts(db: Database, on: date | None = None, stations: tuple[str, ...] = ()) -> dict[str, int]:
    """Postings up now and overdue to come down, at ``stations`` (all when empty)."""
    on = on or today()
    base = [Posting.deleted.is_(False), Posting.posted_at.is_not(None), Posting.removed_at.is_(None)]
    if stations:
        base.append(Posting.origin.in_(stations))
    with db.session() as s:
        up = s.scalar(select(func.count()).select_from(Posting).where(*base)) or 0
        overdue = s.scalar(select(func.count()).select_from(Posting).where(*base, Posting.off_date < on)) or 0
    return {"up": up, "overdue": overdue}


# ------------------------------------------------------------------ one-click postings


def _numbered(lines: list[str]) -> str:
    return "\n".join(f"{i}. {ln}" for i, ln in enumerate(lines, 1))


def certificates_text(db: Database) -> tuple[str, str]:
    items = certificates.catalogue(db)
    issuable = [t for t in items if t.kind == "retained"]
    refused = [t for t in items if t.kind == "abolished"]
    body = (
        "一、本社区可以出具的证明\n"
        + _numbered([t.name + (f"（{t.purpose}）" if t.purpose else "") for t in issuable])
        + "\n\n二、不应由村（社区）出具的证明（可到有关部门办理或采用告知承诺）\n"
        + "、".join(t.name for t in refused)
        + "\n\n以上清单以外、确需证明的事项，经核实后据实出具。"
    )
    return "村（社区）证明事项清单", body


def work_items_text(db: Database) -> tuple[str, str]:
    items = workitems.catalogue(db)
    parts = []
    for i, (kind, title) in enumerate(workitems.KIND_TITLES.items()):
        names = [t.name for t in items if t.kind == kind]
        parts.append(f"{'一二三'[i]}、{title}\n" + _numbered(names))
    body = "\n\n".join(parts) + (
        "\n\n未列入清单的事项，须经街道（乡镇）审核准入后方可交由村（社区）承担；负面清单内的事项，村（社区）有权拒绝。"
    )
    return "村（社区）工作事项清单", body


def matters_text(db: Database) -> tuple[str, str]:
    items = counter.catalogue(db)
    by_cat: dict[str, list[str]] = {}
    for t in items:
        limit = f"，{t.promised_days}个工作日" if t.promised_days else ""
        by_cat.setdefault(t.category or "其他", []).append(f"{t.name}（{t.mode_label}{limit}）")
    body = "\n\n".join(f"【{cat}】\n" + _numbered(names) for cat, names in by_cat.items())
    return (
        "便民服务事项清单",
        body + "\n\n直办：在本站办结；代办：本站代为到上级部门办理；协办：协助办理；告知：提供咨询指引。",
    )


def _last_month(on: date) -> tuple[date, date]:
    end = on.replace(day=1) - timedelta(days=1)
    return end.replace(day=1), end


def ratings_text(db: Database, on: date | None = None) -> tuple[str, str]:
    start, end = _last_month(on or today())
    summary = counter.rating_summary(db, start, end)
    total = sum(summary.values())
    lines = [f"{start.year}年{start.month}月，本站共收到办事群众评价 {total} 件。"]
    for level in sorted(summary, reverse=True):
        n = summary[level]
        share = f"（{n * 100 / total:.1f}%）" if total else ""
        lines.append(f"{counter.RATINGS[level]}：{n} 件{share}")
    good = summary.get(5, 0) + summary.get(4, 0) + summary.get(3, 0)
    bad = total - good
    if total:
        lines.append(f"满意率（含基本满意）：{good * 100 / total:.1f}%。")
    lines.append(f"差评 {bad} 件，均按规定在 {counter.RECTIFY_DAYS} 个工作日内整改并回访。" if bad else "本月无差评。")
    lines.append("欢迎群众继续监督评价，投诉可拨打 12345 政务服务便民热线。")
    return f"{start.year}年{start.month}月政务服务“好差评”结果", "\n".join(lines)


GENERATORS = {
    "certificates": (certificates_text, "service"),
    "work_items": (work_items_text, "affairs"),
    "matters": (matters_text, "service"),
    "ratings": (ratings_text, "service"),
}


def post_list(db: Database, actor: Actor, source: str, on_date: date | None = None) -> uuid.UUID:
    """One click: the named list as a posting, up from ``on_date`` for 30 days."""
    actor.require(APPROVER_ROLE, "编写公开栏公示")
    if source not in GENERATORS:
        raise ValidationError("source", "未知的公示来源。")
    make, category = GENERATORS[source]
    title, body = make(db)
    return create(db, actor, title=title, body=body, category=category, on_date=on_date or today(), source=source)
