"""Demo (and benchmark) volunteers and needs, written with bulk inserts."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from db.clock import new_id, utcnow
from db.engine import Database
from db.models import Assignment, LocalState, Need, NeedEvent, Resident, Volunteer
from db.writes import bulk_insert
from desktop.services import volunteers as vol
from desktop.services.demo.data import ESTATES

SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀英华慧巧美"
TITLES = [
    ("每周代买菜", ["shopping"], True),
    ("陪同去医院复查", ["escort"], False),
    ("修理电视机", ["appliance"], False),
    ("教用智能手机挂号", ["phone"], False),
    ("上门理发", ["haircut"], False),
    ("孩子作业辅导", ["tutor"], True),
    ("独居老人陪伴聊天", ["visit", "counsel"], True),
    ("法律咨询：遗产问题", ["legal"], False),
    ("送餐到家", ["meals"], True),
    ("楼道清洁", ["cleaning"], False),
    ("量血压", ["health"], True),
]


def fill_volunteers(
    db: Database, *, n_volunteers: int, n_needs: int, seed: int = 1, today: date | None = None
) -> dict[str, Any]:
    today = today or date.today()
    r = random.Random(seed)
    codes = list(vol.skills(db))
    with db.session() as s:
        station = s.scalar(select(LocalState.station_code).where(LocalState.id == 1))
        start = s.scalar(select(func.count()).select_from(Volunteer)) or 0
        elders = list(
            s.scalars(
                select(Resident.id)
                .where(Resident.deceased.is_(False), Resident.birth_date < date(today.year - 70, 1, 1))
                .limit(5000)
            )
        )
    slots = [f"{d}{sl}" for d in range(1, 8) for sl in ("am", "pm", "eve")]
    vols = []
    for i in range(n_volunteers):
        estate, grid = r.choice(ESTATES)
        party = r.random() < 0.25
        vols.append(
            {
                "number": f"{station}-V{start + i + 1:04d}",
                "resident_id": None,
                "name": r.choice(SURNAMES) + "".join(r.choice(GIVEN) for _ in range(r.choice((1, 2)))),
                "gender": r.choice((1, 2)),
                "birth_date": date(r.randrange(1950, 2004), r.randrange(1, 13), 1),
                "doc_number": None,
                "phone": f"139{r.randrange(0, 10**8):08d}",
                "grid": grid,
                "estate": estate,
                "skills": r.sample(codes, r.choice((1, 1, 2, 3))),
                "availability": sorted(r.sample(slots, r.randrange(2, 9))),
                "unavailable_dates": [],
                "weekly_hour_limit": float(r.choice((4, 6, 8, 10))),
                "party_member": party,
                "employer": "市直机关" if party else None,
                "yearly_target_hours": 50.0 if party else 0.0,
                "guardian_consent": False,
                "guardian_name": None,
                "consent_at": utcnow(),
                "status": "active",
                "registered_on": today - timedelta(days=r.randrange(1, 900)),
            }
        )
    needs = []
    monday = today - timedelta(days=today.isoweekday() - 1) + timedelta(days=7)
    for _ in range(n_needs):
        title, sk, weekly = r.choice(TITLES)
        day = monday + timedelta(days=r.randrange(0, 7))
        estate, grid = r.choice(ESTATES)
        needs.append(
            {
                "resident_id": r.choice(elders) if elders else None,
                "title": title,
                "description": None,
                "skills": sk,
                "day": day,
                "slot": r.choice(("am", "pm", "eve")),
                "weekly": weekly,
                "until": day + timedelta(days=56) if weekly else None,
                "hours": float(r.choice((1, 1.5, 2, 2, 3))),
                "place": f"{estate}{r.randrange(1, 30)}栋",
                "grid": grid,
                "estate": estate,
                "urgency": r.choice((1, 1, 2, 3)),
                "volunteers_needed": r.choice((1, 1, 1, 2)),
                "status": "open",
                "created_at": datetime.now(),
                "created_by": "演示",
            }
        )
    with db.session() as s:
        bulk_insert(s, Volunteer, vols)
        bulk_insert(s, Need, needs)
    return {"volunteers": n_volunteers, "needs": n_needs, "week": monday}


def fill_volunteer_history(
    db: Database, *, days: int = 90, per_day: float = 2.0, seed: int = 1, today: date | None = None
) -> dict[str, Any]:
    """Needs of the last ``days`` with their whole story — received, taken,
    dispatched, served with hours and ratings, a few refused, cancelled or
    missed — written with bulk inserts, so the reports and the hours ledger
    have history.  Runs after ``fill_volunteers``."""
    today = today or date.today()
    r = random.Random(seed + 11)
    with db.session() as s:
        vols = s.execute(
            select(Volunteer.id, Volunteer.skills, Volunteer.name).where(Volunteer.status == "active")
        ).all()
        elders = list(
            s.scalars(
                select(Resident.id)
                .where(Resident.deceased.is_(False), Resident.birth_date < date(today.year - 70, 1, 1))
                .limit(5000)
            )
        )
    if not vols:
        return {"needs": 0}
    by_skill: dict[str, list[Any]] = {}
    for v in vols:
        for k in v.skills or []:
            by_skill.setdefault(k, []).append(v)
    needs, events, assignments = [], [], []
    busy: set[tuple[Any, date, str]] = set()
    for back in range(days, 0, -1):
        created_day = today - timedelta(days=back)
        for _ in range(int(per_day) + (r.random() < per_day % 1)):
            title, sk, _weekly = r.choice(TITLES)
            estate, grid = r.choice(ESTATES)
            created = datetime.combine(created_day, datetime.min.time()) + timedelta(minutes=r.randrange(480, 1080))
            day = created_day + timedelta(days=r.randrange(1, 6))
            slot = r.choice(("am", "pm", "eve"))
            hours = float(r.choice((1, 1.5, 2, 2, 3)))
            nid = new_id()
            fate = r.choices(["served", "refused", "cancelled"], [90, 5, 5])[0]
            status = {"served": "done", "refused": "refused", "cancelled": "cancelled"}[fate]
            if fate == "served" and day >= today:
                status = "serving"
            needs.append(
                {
                    "id": nid,
                    "resident_id": r.choice(elders) if elders else None,
                    "title": title,
                    "description": None,
                    "skills": sk,
                    "day": day,
                    "slot": slot,
                    "weekly": False,
                    "until": None,
                    "hours": hours,
                    "place": f"{estate}{r.randrange(1, 30)}栋",
                    "grid": grid,
                    "estate": estate,
                    "urgency": r.choice((1, 1, 2, 3)),
                    "volunteers_needed": 1,
                    "status": status,
                    "created_at": created,
                    "created_by": "演示",
                }
            )
            events.append({"need_id": nid, "at": created, "kind": "create", "actor_name": "演示", "note": None})
            accepted = created + timedelta(minutes=r.randrange(10, 240))
            if fate == "refused":
                events.append(
                    {
                        "need_id": nid,
                        "at": accepted,
                        "kind": "refuse",
                        "actor_name": "演示",
                        "note": "不属于志愿服务范围，已转介相关部门",
                    }
                )
                continue
            events.append({"need_id": nid, "at": accepted, "kind": "accept", "actor_name": "演示", "note": None})
            if fate == "cancelled":
                events.append(
                    {
                        "need_id": nid,
                        "at": accepted + timedelta(hours=20),
                        "kind": "cancel",
                        "actor_name": "演示",
                        "note": "居民家属已自行安排",
                    }
                )
                continue
            pool = [v for k in sk for v in by_skill.get(k, [])] or list(vols)
            pick = next((c for c in r.sample(pool, min(len(pool), 8)) if (c.id, day, slot) not in busy), None)
            if pick is None:
                continue
            busy.add((pick.id, day, slot))
            assigned = accepted + timedelta(hours=r.randrange(1, 30))
            events.append({"need_id": nid, "at": assigned, "kind": "assign", "actor_name": "演示", "note": pick.name})
            h0, m0, _h1, _m1 = vol.SLOT_HOURS[slot]
            start = datetime.combine(day, datetime.min.time()) + timedelta(hours=h0, minutes=m0)
            row = {
                "need_id": nid,
                "volunteer_id": pick.id,
                "day": day,
                "slot": slot,
                "status": "assigned",
                "assigned_at": assigned,
                "assigned_by": "演示",
                "score": float(r.randrange(40, 90)),
                "started_at": None,
                "ended_at": None,
                "hours": None,
                "rating": None,
                "comment": None,
                "recorded_at": None,
                "recorded_by": None,
                "late": False,
            }
            if day < today:
                if r.random() < 0.04:
                    row.update(status="no_show", recorded_at=start + timedelta(days=1), recorded_by="演示")
                else:
                    row.update(
                        status="done",
                        started_at=start,
                        ended_at=start + timedelta(hours=hours),
                        hours=hours,
                        rating=r.choice((5, 5, 5, 4, 4, 3)),
                        recorded_at=start + timedelta(days=1),
                        recorded_by="演示",
                    )
                    events.append(
                        {
                            "need_id": nid,
                            "at": start + timedelta(days=1),
                            "kind": "complete",
                            "actor_name": "演示",
                            "note": None,
                        }
                    )
            assignments.append(row)
    with db.session() as s:
        bulk_insert(s, Need, needs)
        bulk_insert(s, NeedEvent, events)
        bulk_insert(s, Assignment, assignments)
    return {"needs": len(needs), "assignments": len(assignments)}
