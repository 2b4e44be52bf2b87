"""Demo counter history: matters accepted over the last months with their
events, ratings and rectifications, so the board, the timeline and (later)
the reports have something realistic to show. Written with bulk inserts."""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select

from db.clock import new_id
from db.engine import Database
from db.models import Account, Matter, MatterEvent, MatterRating, Rectification, Resident
from db.writes import bulk_insert
from desktop.services import accounts, counter, workdays

RATING_WEIGHTS = {5: 70, 4: 20, 3: 6, 2: 3, 1: 1}
# 代办 matters come with their cases from demo.proxy, never bare from here.
CHANNEL_WEIGHTS = {"window": 85, "visit": 9, "phone": 6}
RESULTS = ["已办结，居民已领取。", "已报街道审核通过。", "已录入系统，办理完成。", "材料已转交上级部门并办结。"]
COMMENTS = {
    5: ["办事很快", "工作人员很耐心", ""],
    4: ["挺好", ""],
    3: ["还行", "等的时间有点长"],
    2: ["跑了两趟", "等太久"],
    1: ["态度不好", "一直没有结果"],
}


def fill_counter(
    db: Database,
    *,
    n_matters: int,
    seed: int = 1,
    today: date | None = None,
    days: int = 90,
    seq_base: int = 0,
    with_events: bool = True,
    newest: int = 0,
) -> dict[str, Any]:
    """``seq_base`` offsets the receipts' daily numbers so several calls can
    fill one database (the report benchmark writes a year in chunks);
    ``with_events=False`` skips the event history the reports do not read.
    Matters fall on working days from ``days`` back to ``newest`` days back
    and are written in time order, as a station writes them (so rows of one
    month sit together in the file, as they do in real use)."""
    today = today or date.today()
    r = random.Random(seed)
    info = accounts.station_info(db)
    assert info is not None
    types = [t for t in counter.catalogue(db) if t.mode != "inform"] + counter.catalogue(db)[-1:]
    cal = workdays.load(db)
    with db.session() as s:
        staff = [(a.id, a.display_name) for a in s.scalars(select(Account).where(Account.active.is_(True)))]
        people = list(s.scalars(select(Resident.id).where(Resident.deceased.is_(False)).limit(50_000)))
    if not people or not n_matters:
        return {"matters": 0}
    per_day: dict[date, int] = {}
    matters: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    ratings: list[dict[str, Any]] = []
    rects: list[dict[str, Any]] = []
    workdays_back = [
        today - timedelta(days=i) for i in range(newest, days) if cal.is_working_day(today - timedelta(days=i))
    ]
    when = sorted(
        datetime.combine(r.choice(workdays_back), time(8, 30)) + timedelta(minutes=r.randrange(0, 480))
        for _ in range(n_matters)
    )
    for at in when:
        day = at.date()
        t = r.choice(types)
        seq = per_day[day] = per_day.get(day, seq_base) + 1
        handler = r.choice(staff)
        promised = cal.add_working_days(day, t.promised_days)
        mid = new_id()
        age_days = (today - day).days
        if t.mode == "inform":
            status = "done"
        elif promised < today:
            status = r.choices(["done", "returned", "in_progress"], [92, 4, 4])[0]
        else:
            status = r.choices(["accepted", "in_progress", "done"], [45, 40, 15])[0]
        closed: datetime | None = None
        if status in ("done", "returned"):
            span = max(0, min(age_days, (promised - day).days))
            closed = at + timedelta(days=r.randrange(0, span + 1), minutes=r.randrange(5, 120))
            if closed.date() > today:
                closed = at + timedelta(minutes=30)
        rating = (
            r.choices(list(RATING_WEIGHTS), list(RATING_WEIGHTS.values()))[0]
            if status == "done" and r.random() < 0.85
            else None
        )
        mats = [m.name for m in t.materials if m.required or r.random() < 0.4]
        matters.append(
            {
                "id": mid,
                "receipt_no": f"{info.code}-{day:%Y%m%d}-{seq:04d}",
                "resident_id": r.choice(people),
                "matter_type_id": t.id,
                "matter_name": t.name,
                "category": t.category,
                "channel": r.choices(list(CHANNEL_WEIGHTS), list(CHANNEL_WEIGHTS.values()))[0],
                "status": status,
                "accepted_at": at,
                "promised_date": promised,
                "handler_id": handler[0],
                "handler_name": handler[1],
                "accepted_by": handler[1],
                "materials": mats,
                "note": None,
                "result": r.choice(RESULTS) if status == "done" else None,
                "closed_at": closed,
                "rating": rating,
            }
        )
        ev: list[tuple[str, datetime | None, str | None]] = [("accept", at, None)]
        if status in ("in_progress", "done") and t.mode != "inform":
            ev.append(("start", at + timedelta(minutes=20), "已开始办理"))
        if status == "done":
            ev.append(("close", closed, matters[-1]["result"]))
        if status == "returned":
            ev.append(("return", closed, "材料需补正，已一次性告知"))
        for kind, ev_at, note in ev if with_events else ():
            events.append(
                {
                    "matter_id": mid,
                    "at": ev_at,
                    "kind": kind,
                    "actor_id": handler[0],
                    "actor_name": handler[1],
                    "note": note,
                    "target": None,
                }
            )
        if rating is not None:
            assert closed is not None  # only done matters are rated
            comment = r.choice(COMMENTS[rating]) or None
            ratings.append(
                {"matter_id": mid, "at": closed, "level": rating, "comment": comment, "recorded_by": handler[1]}
            )
            if with_events:
                events.append(
                    {
                        "matter_id": mid,
                        "at": closed,
                        "kind": "rate",
                        "actor_id": handler[0],
                        "actor_name": handler[1],
                        "note": counter.RATINGS[rating],
                        "target": None,
                    }
                )
            if rating <= counter.BAD_RATING:
                due = cal.add_working_days(closed.date(), counter.RECTIFY_DAYS)
                done = due < today and r.random() < 0.85
                rects.append(
                    {
                        "matter_id": mid,
                        "opened_at": closed,
                        "due_date": due,
                        "status": "done" if done else "open",
                        "measures": "已约谈经办人，调整窗口排班" if done else None,
                        "callback_at": closed + timedelta(days=5) if done else None,
                        "callback_by": "站长" if done else None,
                        "callback_note": "电话回访，居民认可整改" if done else None,
                        "closed_at": closed + timedelta(days=5) if done else None,
                    }
                )
    with db.session() as s:
        bulk_insert(s, Matter, matters)
        bulk_insert(s, MatterEvent, events)
        bulk_insert(s, MatterRating, ratings)
        bulk_insert(s, Rectification, rects)
    return {"matters": len(matters), "events": len(events), "ratings": len(ratings), "rectifications": len(rects)}
