"""Demo 微心愿 (about 20, at every stage) and 在职党员 report-ins (about 15,
the party members with the most service hours this year, each linked to a
resident of the right age so the feedback letter can be issued). Written
through the service, so numbers, statuses and checks are the real ones."""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, select

from db.engine import Database
from db.models import Assignment, Resident, Volunteer
from desktop.services import volunteers as vol, wishes
from desktop.services.context import Actor

WISHES = [
    ("一台助听器", 280),
    ("冬天的棉被一床", 150),
    ("孩子的一套课外书", 80),
    ("一个新书包", 60),
    ("电动轮椅维修", 200),
    ("一台电饭煲", 120),
    ("一件羽绒服", 260),
    ("老花镜一副", 40),
    ("陪我去一次公园", 0),
    ("一部老年手机", 180),
    ("学习用台灯", 70),
    ("防滑拖鞋和扶手安装", 150),
    ("一套书法字帖和毛笔", 90),
    ("一辆儿童自行车", 300),
    ("一台电暖器", 160),
    ("一盒降压药分装盒", 20),
    ("一个助行器", 130),
    ("全家福照片", 100),
    ("一双棉鞋", 80),
    ("一本新华字典", 30),
    ("一台收音机", 60),
]
UNITS = ["市财政局", "市教育局", "区人民医院", "市税务局", "区住建局", "市图书馆", "区法院", "市供电公司"]
SPONSOR_UNITS = [
    ("市财政局机关党支部", "0552-3012345"),
    ("区人民医院团委", "0552-3023456"),
    ("淮河银行幸福里支行", "0552-3034567"),
    ("锦绣物业服务中心", "13955201234"),
]
GIFTS = ["已送到家中，居民很满意", "已送达并拍照留存（照片不入系统）", "已由认领人陪同送达", "已送达，居民表示感谢"]


def fill_wishes(
    db: Database, actor: Actor, *, n_wishes: int = 20, n_members: int = 15, seed: int = 1, today: date | None = None
) -> dict[str, Any]:
    today = today or date.today()
    r = random.Random(seed + 23)
    year_start = date(today.year, 1, 1)
    with db.session() as s:
        elders = list(
            s.scalars(
                select(Resident.id)
                .where(
                    Resident.deceased.is_(False),
                    Resident.moved_out.is_(False),
                    Resident.birth_date < date(today.year - 65, 1, 1),
                )
                .order_by(Resident.doc_number)
                .limit(2000)
            )
        )
        adults = list(
            s.scalars(
                select(Resident)
                .where(
                    Resident.deceased.is_(False),
                    Resident.moved_out.is_(False),
                    Resident.birth_date.between(date(today.year - 55, 1, 1), date(today.year - 25, 1, 1)),
                )
                .order_by(Resident.doc_number)
                .limit(500)
            )
        )
        by_hours = s.execute(
            select(Volunteer.id, func.sum(Assignment.hours).label("h"))
            .join(Assignment, Assignment.volunteer_id == Volunteer.id)
            .where(
                Volunteer.party_member.is_(True),
                Volunteer.status == "active",
                Assignment.status == "done",
                Assignment.day >= year_start,
            )
            .group_by(Volunteer.id, Volunteer.number)
            .order_by(func.sum(Assignment.hours).desc(), Volunteer.number)
            .limit(n_members)
        ).all()
        members = [vid for vid, _h in by_hours]
        # each member is one of the community's residents (the letter names them by their record)
        for vid, res in zip(members, r.sample(adults, min(len(adults), len(members))), strict=False):
            v = s.get(Volunteer, vid)
            assert v is not None
            v.resident_id, v.name, v.gender, v.birth_date = res.id, res.name, res.gender, res.birth_date
            v.doc_number, v.phone = res.doc_number, res.phone or v.phone
    volunteers = [v for v in vol.list_volunteers(db) if v.status == "active"]
    made = {"wishes": 0, "claimed": 0, "fulfilled": 0, "reported_in": 0}
    if elders:
        for title, value in r.sample(WISHES, min(n_wishes, len(WISHES))):
            published = today - timedelta(days=r.randrange(3, 75))
            wid, _n = wishes.add_wish(db, actor, r.choice(elders), title, value, today=published)
            made["wishes"] += 1
            fate = r.choices(["open", "claimed", "fulfilled"], [3, 3, 4])[0]
            if fate == "open":
                continue
            claimed = min(published + timedelta(days=r.randrange(0, 6)), today)
            if r.random() < 0.3 or not volunteers:
                unit, contact = r.choice(SPONSOR_UNITS)
                wishes.claim(db, actor, wid, unit=unit, contact=contact, today=claimed)
            else:
                party = [v for v in volunteers if v.party_member]
                pick = r.choice(party if party and r.random() < 0.6 else volunteers)
                wishes.claim(db, actor, wid, volunteer_id=pick.id, today=claimed)
            made["claimed"] += 1
            if fate == "fulfilled":
                done = min(claimed + timedelta(days=r.randrange(1, 12)), today)
                wishes.fulfil(db, actor, wid, r.choice(GIFTS), on=done, today=today)
                made["fulfilled"] += 1
    for vid in members:
        reported = year_start + timedelta(days=r.randrange(0, max((today - year_start).days, 1)))
        wishes.report_in(
            db,
            actor,
            vid,
            r.choice(UNITS),
            min(reported, today),
            r.sample(wishes.POSTS, r.randrange(1, 4)),
            today=today,
        )
        made["reported_in"] += 1
    return made
