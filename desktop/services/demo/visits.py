"""Demo home visits: the last weeks of each grid worker's rounds, written
with bulk inserts.  Most households are visited on their tier's schedule;
some fell behind (overdue on the week's list), some attempts found nobody at
home (a visit a few days later usually follows), and a few visits found a
need that still waits to be turned into a volunteer need or a matter."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta
from typing import Any

from db.clock import utcnow
from db.engine import Database
from db.localtime import to_utc
from db.models import Visit
from db.writes import bulk_insert
from desktop.services import visits

WORKERS = ["刘网格员", "陈网格员", "周网格员", "吴网格员", "郑网格员", "孙网格员"]
MET = ["本人", "本人", "本人", "老伴", "女儿", "儿子", "儿媳", "保姆"]
SITUATIONS = [
    "身体尚可，生活能自理",
    "血压偏高，按时服药",
    "独自在家，精神状态好",
    "腿脚不便，很少下楼",
    "家中整洁，燃气阀门已关",
    "子女每周来看望",
    "刚出院，在家休养",
    "天冷，提醒注意保暖",
    "讲了防诈骗常识",
    "电费已交，水电正常",
]
NEEDS = [
    "需要有人陪同去医院复查",
    "家里灯泡坏了，希望上门维修",
    "想学用手机挂号",
    "行动不便，希望送餐上门",
    "咨询高龄津贴怎么申领",
    "希望有人每周来陪着聊聊天",
    "残疾人证到期需要换领",
]


def fill_visits(db: Database, *, weeks: int = 12, seed: int = 1, today: date | None = None) -> dict[str, Any]:
    """Visits to every household on the schedule over the last ``weeks``."""
    today = today or date.today()
    r = random.Random(seed + 23)
    households = sorted(visits.schedule(db, today), key=lambda d: str(d.key))
    grids = sorted({d.grid for d in households})
    worker = {g: WORKERS[i % len(WORKERS)] for i, g in enumerate(grids)}
    start = today - timedelta(weeks=weeks)
    rows: list[dict[str, Any]] = []
    for d in households:
        behind = r.random() < 0.12  # this household fell behind: no visit for a while
        stop = today - timedelta(days=d.days + r.randrange(3, 25)) if behind else today
        if d.days >= visits.QUARTERLY:
            if r.random() < 0.25:
                continue  # not reached yet this quarter
            day = today - timedelta(days=r.randrange(0, d.days + 20))
        else:
            day = start + timedelta(days=r.randrange(0, d.days))
        while day <= min(stop, today):
            if r.random() < 0.07:  # nobody at home: try again a few days later
                rows.append(_row(r, d, day, "not_home", worker[d.grid], today))
                day += timedelta(days=r.randrange(1, 4))
                if day > today:
                    break
            rows.append(_row(r, d, day, "met", worker[d.grid], today))
            day += timedelta(days=d.days + r.choice((-1, 0, 0, 0, 1, 2)))
    with db.session() as s:
        for i in range(0, len(rows), 5000):
            bulk_insert(s, Visit, rows[i : i + 5000])
    return {"visits": len(rows), "households": len(households)}


def _row(r: random.Random, d: visits.DueRow, day: date, outcome: str, worker: str, today: date) -> dict[str, Any]:
    entered = datetime.combine(day, datetime.min.time()) + timedelta(hours=r.randrange(8, 10), minutes=r.randrange(60))
    if r.random() < 0.3:  # entered at the desk the next working day
        entered += timedelta(days=1)
    entered = min(to_utc(entered), utcnow())
    met = outcome == "met"
    return {
        "resident_id": d.resident_id,
        "household_id": d.household_id,
        "day": day,
        "outcome": outcome,
        "visitor_id": None,
        "visitor_name": worker,
        "met": r.choice(MET) if met else None,
        "situation": r.choice(SITUATIONS) if met else "敲门无人应答，已在门上留联系卡",
        "needs": r.choice(NEEDS) if met and r.random() < 0.06 else None,
        "need_id": None,
        "matter_id": None,
        "recorded_at": entered,
        "recorded_by": worker,
    }
