"""Demo duty: four service areas with their A/B pairs, four weeks of rota
(two past, this one, the next) with 延时 evenings on Tuesday and Thursday and
a 错时 Saturday morning, one colleague on leave now with B covering (the
hand-over events on her matters) and a new matter routed to B. Written
through the rota and counter services, as a supervisor would."""

from __future__ import annotations

import random
import uuid
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select

from db.engine import Database
from db.models import Account, Matter, Resident
from desktop.services import accounts, counter, rota, workdays
from desktop.services.context import Actor
from desktop.services.rota import AreaView, ShiftForm

EXTRA_STAFF = (("zhangmin", "张敏"), ("liuyang", "刘洋"), ("chenjing", "陈静"), ("zhaolei", "赵磊"))
# area, window, categories, A, B (display names)
AREAS = (
    ("社会救助与残疾人服务", "1号窗口", ["社会救助", "残疾人服务"], "张敏", "刘洋"),
    ("社保就业与退役军人", "2号窗口", ["社会保障", "就业创业", "退役军人服务"], "刘洋", "张敏"),
    ("养老医疗与卫生健康", "3号窗口", ["养老服务", "医疗保障", "卫生健康"], "陈静", "李前台"),
    ("户籍证明与咨询", "4号窗口", ["户籍与居住", "开具证明", "咨询告知"], "李前台", "陈静"),
)
NORMAL = (time(8, 30), time(17, 30))
EVENING = (time(17, 30), time(19, 30))  # 延时, Tuesday and Thursday
SATURDAY = (time(9, 0), time(12, 0))  # 错时


def _actor(db: Database, username: str) -> Actor:
    with db.session() as s:
        a = s.scalar(select(Account).where(Account.username == username))
        code = accounts.this_station(s).code
    assert a is not None
    return Actor(a.id, a.username, a.display_name, a.role, code)


def fill_rota(db: Database, admin: Actor, password: str, seed: int = 1, today: date | None = None) -> dict[str, Any]:
    today = today or date.today()
    r = random.Random(seed)
    for username, name in EXTRA_STAFF:
        accounts.create_account(db, admin, username=username, display_name=name, role="desk", password=password)
    boss = _actor(db, "zhanzhang")
    with db.session() as s:
        ids = {a.display_name: a.id for a in s.scalars(select(Account).where(Account.active.is_(True)))}
    area_ids: dict[str, uuid.UUID] = {}
    for name, window, cats, a, b in AREAS:
        area_ids[window] = rota.save_area(db, boss, AreaView(None, name, window, cats, ids[a], ids[b]))
    cal = workdays.load(db)
    first = rota.monday(today) - timedelta(days=14)
    evening_pool = ["刘洋", "陈静", "赵磊", "张敏"]
    saturday_pool = ["赵磊", "李前台", "刘洋", "陈静"]
    n = 0
    for wk in range(4):
        mon = first + timedelta(days=7 * wk)
        for i in range(5):
            day = mon + timedelta(days=i)
            if not cal.is_working_day(day):
                continue
            for _name, window, _cats, a, _b in AREAS:
                rota.save_shift(db, boss, ShiftForm(ids[a], window, day, *NORMAL, "normal", area_ids[window]))
                n += 1
            if i in (1, 3):  # Tuesday, Thursday evenings at 1号窗口 (a colleague from another window)
                who = evening_pool[(wk * 2 + i // 2 + r.randrange(2)) % len(evening_pool)]
                window = "1号窗口" if who != "张敏" else "2号窗口"
                rota.save_shift(
                    db, boss, ShiftForm(ids[who], window, day, *EVENING, "extended", area_ids[window], "延时服务")
                )
                n += 1
        sat = mon + timedelta(days=5)
        if not cal.is_working_day(sat):
            rota.save_shift(
                db,
                boss,
                ShiftForm(
                    ids[saturday_pool[wk % 4]],
                    "1号窗口",
                    sat,
                    *SATURDAY,
                    "staggered",
                    area_ids["1号窗口"],
                    "周六错时服务",
                ),
            )
            n += 1
    # 张敏 (A of 社会救助) on leave since yesterday morning until the day after tomorrow: 刘洋 covers.
    a_id = ids["张敏"]
    with db.session() as s:
        cats = AREAS[0][2]
        open_ = s.scalars(
            select(Matter)
            .where(Matter.status.in_(counter.OPEN_STATUSES))
            .order_by(Matter.category.in_(cats).desc(), Matter.accepted_at.desc())
            .limit(6)
        ).all()
        for m in open_:  # her matters (her area's first), as if she had accepted them
            m.handler_id, m.handler_name = a_id, "张敏"
    start = datetime.combine(today - timedelta(days=1), NORMAL[0])
    end = datetime.combine(today + timedelta(days=2), NORMAL[1])
    marked = rota.mark_away(db, boss, a_id, "leave", start, end, note="年休假")
    # a past day of training for 陈静, 李前台 covering
    past = first + timedelta(days=9)
    rota.mark_away(
        db,
        boss,
        ids["陈静"],
        "training",
        datetime.combine(past, NORMAL[0]),
        datetime.combine(past, NORMAL[1]),
        note="街道业务培训",
    )
    # a new 社会救助 matter accepted by the desk goes to 刘洋
    desk = _actor(db, "qiantai")
    t = next((x for x in counter.catalogue(db) if x.category == "社会救助" and x.mode != "inform"), None)
    with db.session() as s:
        rid = s.scalar(
            select(Resident.id)
            .where(Resident.deceased.is_(False), Resident.moved_out.is_(False))
            .order_by(Resident.id)
            .limit(1)
        )
    routed = 0
    if t is not None and t.id is not None and rid is not None:
        counter.accept(db, desk, rid, t.id, t.required_materials, note="演示：A岗请假，转B岗办理")
        routed = 1
    return {"shifts": n, "handed_over": marked.handed_over, "routed": routed}
