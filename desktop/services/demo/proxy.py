"""Demo 代办: proxy agents and a month of matters they took, at every step.

The demo station is a community: its residents live in 网格 (第一网格 …),
not 村民小组, so each grid gets its agent (the two busiest grids two), and
an agent's ``village_group`` holds the grid's name — as a community that
runs a 代办 service for its elderly does.  Each matter is an ordinary
counter matter (channel 代办, a receipt number of its day) with its events,
and the proxy record says how far it has come: the older, the further.
"""

from __future__ import annotations

import random
from collections import Counter
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select

from db.clock import new_id, utcnow
from db.engine import Database
from db.localtime import local_date, to_local, to_utc
from db.models import Account, Matter, MatterEvent, ProxyAgent, ProxyCase, Resident, ResidentTag
from db.writes import bulk_insert
from desktop.services import accounts, counter, workdays
from desktop.services.demo.data import ESTATES, GIVEN_FEMALE, GIVEN_MALE, PHONE_PREFIXES, SURNAMES

DESTINATIONS = [
    "街道便民服务中心",
    "区政务服务中心",
    "街道民政科",
    "区社保中心",
    "派出所户籍窗口",
    "区残联",
    "区医保局",
    "街道计生办",
]
RESULTS = [
    "已办结，证件已领回",
    "审核通过，待发放",
    "已录入系统，办理完成",
    "材料已补正并办结",
    "不予受理：不符合条件，已说明原因",
]
# Residents an agent most often runs errands for.
FOR_TAGS = ("高龄", "独居", "空巢", "失能失智", "残疾人", "留守老人")


def _name(r: random.Random) -> str:
    surname = r.choices([s for s, _ in SURNAMES[:30]], [w for _, w in SURNAMES[:30]])[0]
    pool = GIVEN_MALE if r.random() < 0.5 else GIVEN_FEMALE
    return surname + "".join(r.choice(pool) for _ in range(r.choice((1, 2))))


def _office_hours(r: random.Random, after: datetime, stamps: list[datetime], now: datetime) -> list[datetime]:
    """The steps' times moved into the station's office hours (09:00–17:00
    local) of their day, each after the one before; those not yet reached
    by ``now`` are dropped (the matter is not that far yet)."""
    out: list[datetime] = []
    prev = after
    for x in stamps:
        day = max(local_date(x), local_date(prev))
        t = to_utc(datetime.combine(day, time(9)) + timedelta(minutes=r.randrange(0, 480)))
        if t <= prev:
            t = prev + timedelta(minutes=r.randrange(20, 90))
            if to_local(t).hour >= 17:  # past closing: the next morning
                t = to_utc(
                    datetime.combine(local_date(t) + timedelta(days=1), time(9)) + timedelta(minutes=r.randrange(0, 90))
                )
        if t > now:
            break
        out.append(t)
        prev = t
    return out


def _every_step(stamps: list[list[datetime]]) -> None:
    """Whatever day the demo is made on (a Saturday, the day after a
    holiday), let a worker see a case waiting at every step: where no case
    stands at a step, the newest case past it — one whose own step keeps
    another case — is held back there (its later stamps dropped, so its
    times stay in order and in the past)."""
    for k in range(3):  # received, forwarded, result; most are handed back
        have = Counter(len(x) for x in stamps)
        if have[k]:
            continue
        for x in reversed(stamps):  # newest first
            if len(x) > k and have[len(x)] > 1:
                del x[k:]
                break


def fill_proxy(
    db: Database, *, n_cases: int = 45, seed: int = 1, today: date | None = None, days: int = 31
) -> dict[str, Any]:
    """Agents for the demo's grids and ``n_cases`` proxy matters received
    over the last ``days`` (working days), each as far along as its age
    makes likely."""
    # A demo made for another day is made as at that day's closing time.
    now = utcnow() if today is None else to_utc(datetime.combine(today, time(17, 30)))
    today = today or date.today()
    r = random.Random(seed)
    info = accounts.station_info(db)
    assert info is not None
    cal = workdays.load(db)
    types = [t for t in counter.catalogue(db) if t.mode == "proxy"] or [
        t for t in counter.catalogue(db) if t.mode != "inform"
    ]
    grids = [g for _, g in ESTATES]
    agents: list[dict[str, Any]] = []
    for i, g in enumerate(grids):
        for _ in range(2 if i < 2 else 1):
            agents.append(
                {
                    "id": new_id(),
                    "name": _name(r),
                    "village_group": g,
                    "active": True,
                    "phone": r.choice(PHONE_PREFIXES) + f"{r.randrange(0, 10**8):08d}",
                    "note": "网格员兼代办员" if r.random() < 0.5 else "楼栋长",
                }
            )
    agents.append(
        {"id": new_id(), "name": _name(r), "village_group": grids[-1], "active": False, "phone": None, "note": "已调岗"}
    )
    since = to_utc(datetime.combine(today - timedelta(days=days), time()))
    with db.session() as s:
        staff = [a.display_name for a in s.scalars(select(Account).where(Account.active.is_(True)))]
        tagged = set(s.scalars(select(ResidentTag.resident_id).where(ResidentTag.tag.in_(FOR_TAGS))))
        by_grid: dict[str, list[Any]] = {}
        for rid, grid in s.execute(
            select(Resident.id, Resident.grid).where(
                Resident.deceased.is_(False), Resident.moved_out.is_(False), Resident.deleted.is_(False)
            )
        ):
            if grid:
                by_grid.setdefault(grid, []).append(rid)
        last: dict[str, str] = {}  # the day's last receipt number: go on from it
        for no in s.scalars(select(Matter.receipt_no).where(Matter.accepted_at >= since - timedelta(days=1))):
            key = no[: no.rindex("-") + 1]
            last[key] = max(last.get(key, ""), no)
    working = [today - timedelta(days=i) for i in range(days) if cal.is_working_day(today - timedelta(days=i))]
    if not working or not staff or not by_grid:
        return {"agents": 0, "cases": 0}
    active = [a for a in agents if a["active"]]
    seq: dict[date, int] = {}
    matters: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    cases: list[dict[str, Any]] = []
    steps = dict.fromkeys(("received", "forwarded", "result", "handed_back"), 0)
    when = sorted(
        to_utc(datetime.combine(r.choice(working), time(8, 30)) + timedelta(minutes=r.randrange(0, 480)))
        for _ in range(n_cases)
    )
    plans: list[tuple[datetime, Any, list[datetime]]] = []
    for at in when:
        if at > now:
            at = now - timedelta(minutes=r.randrange(5, 60))
        t = r.choice(types)
        age_h = (now - at).total_seconds() / 3600
        # how far it has come: forwarded within a day or two, result after the promised time, back soon after
        fwd = at + timedelta(hours=r.uniform(2, 40))
        res = fwd + timedelta(days=max(1, t.promised_days) * r.uniform(0.4, 1.1))
        back = res + timedelta(hours=r.uniform(3, 48))
        if age_h > 24 * 25 and r.random() < 0.7:  # a month old: mostly back by now
            res = min(res, fwd + (now - fwd) * 0.6)
            back = min(back, res + (now - res) * r.uniform(0.1, 0.6))
        plans.append((at, t, _office_hours(r, at, [fwd, res, back], now)))
    _every_step([stamps for _, _, stamps in plans])
    for at, t, stamps in plans:
        agent = r.choice(active)
        people = by_grid.get(agent["village_group"]) or [x for v in by_grid.values() for x in v]
        favoured = [p for p in people if p in tagged]
        rid = r.choice(favoured if favoured and r.random() < 0.75 else people)
        day = local_date(at)
        prefix = f"{info.code}-{day:%Y%m%d}-"
        if day not in seq:
            prev = last.get(prefix)
            seq[day] = int(prev[len(prefix) :]) if prev else 0
        seq[day] += 1
        worker = r.choice(staff)
        mid = new_id()
        step = ("received", "forwarded", "result", "handed_back")[len(stamps)]
        steps[step] += 1
        mats = [m for m in t.materials if m.required or r.random() < 0.4]
        kept = r.random() < 0.08 and len(mats) > 1
        originals = [
            {
                "name": m.name,
                "count": m.copies,
                "returned": (None if step != "handed_back" else not (kept and i == len(mats) - 1)),
            }
            for i, m in enumerate(mats)
        ]
        result = r.choice(RESULTS) if step in ("result", "handed_back") else None
        status = {"received": "accepted", "forwarded": "transferred", "result": "transferred", "handed_back": "done"}[
            step
        ]
        dest = r.choice(DESTINATIONS)
        matters.append(
            {
                "id": mid,
                "receipt_no": f"{prefix}{seq[day]:04d}",
                "resident_id": rid,
                "matter_type_id": t.id,
                "matter_name": t.name,
                "category": t.category,
                "channel": "proxy",
                "status": status,
                "accepted_at": at,
                "promised_date": cal.add_working_days(day, t.promised_days),
                "handler_id": None,
                "handler_name": worker,
                "accepted_by": worker,
                "materials": [m.name for m in mats],
                "note": f"代办员{agent['name']}代为申请",
                "result": result if status == "done" else None,
                "closed_at": stamps[2] if status == "done" else None,
                "rating": None,
            }
        )
        ev: list[tuple[str, datetime, str | None, str | None]] = [
            ("accept", at, f"代办员{agent['name']}代为申请", None)
        ]
        if len(stamps) >= 1:
            ev.append(("transfer", stamps[0], f"代办员{agent['name']}转交", dest))
        if len(stamps) >= 2:
            ev.append(("note", stamps[1], f"代办结果已取回：{result}", None))
        if len(stamps) >= 3:
            ev.append(("close", stamps[2], result, None))
        for kind, t_at, note, target in ev:
            events.append(
                {
                    "matter_id": mid,
                    "at": t_at,
                    "kind": kind,
                    "actor_id": None,
                    "actor_name": worker,
                    "note": note,
                    "target": target,
                }
            )
        cases.append(
            {
                "matter_id": mid,
                "agent_id": agent["id"],
                "agent_name": agent["name"],
                "village_group": agent["village_group"],
                "originals": originals,
                "step": step,
                "received_at": at,
                "received_by": worker,
                "forwarded_to": dest if stamps else None,
                "forwarded_at": stamps[0] if stamps else None,
                "result_at": stamps[1] if len(stamps) > 1 else None,
                "result": result,
                "handed_back_at": stamps[2] if len(stamps) > 2 else None,
                "note": (f"{originals[-1]['name']}由受理部门留存" if kept and step == "handed_back" else None),
            }
        )
    with db.session() as s:
        bulk_insert(s, ProxyAgent, agents)
        bulk_insert(s, Matter, matters)
        bulk_insert(s, MatterEvent, events)
        bulk_insert(s, ProxyCase, cases)
    return {"agents": len(agents), "cases": len(cases), **steps}
