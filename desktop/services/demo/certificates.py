"""Demo certificates: a few issued, one waiting for approval, one voided and
reissued, and refusals of abolished types, so the ledgers are not empty."""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import func, select

from db.clock import new_id
from db.engine import Database
from db.models import Account, Certificate, CertificateRefusal, LocalState, Resident, SealLog, Station
from db.writes import bulk_insert
from desktop.services import certificates as certs
from desktop.services.context import Actor

PURPOSES = ["子女入学", "办理居住证", "单位入职", "申请公租房", "办理社保"]


def fill_certificates(
    db: Database, admin: Actor, desk: Actor | None = None, *, n: int = 30, seed: int = 1
) -> dict[str, Any]:
    r = random.Random(seed)
    by = {t.code: t for t in certs.catalogue(db)}
    with db.session() as s:
        people = list(
            s.scalars(
                select(Resident.id).where(Resident.deceased.is_(False), Resident.moved_out.is_(False)).limit(2000)
            )
        )
    if not people:
        return {"certificates": 0}
    made = 0
    for _ in range(n):
        t = by["R01"] if r.random() < 0.7 else by["R04"]
        vals = (
            {"since": f"{r.randrange(2000, 2024)}年{r.randrange(1, 13)}月", "purpose": r.choice(PURPOSES)}
            if t.code == "R01"
            else {"activity": "2026年暑期社区垃圾分类宣传活动", "purpose": "学校社会实践"}
        )
        certs.issue(db, admin, r.choice(people), t.id, vals, t.materials)
        made += 1
    first = certs.ledger(db, status="issued")[-1]
    certs.reissue(db, admin, first.id, "原件遗失")
    if desk is not None:
        t = by["R05"]  # needs approval: one request waits for the supervisor
        certs.issue(
            db,
            desk,
            r.choice(people),
            t.id,
            {"service": "本年度参加社区志愿服务 12 次", "purpose": "向所在单位反馈"},
            t.materials,
        )
    refused = 0
    for code in ("N01", "N01", "N08", "N10", "N05", "N01", "N20", "N14"):
        certs.refuse(db, desk or admin, by[code].id, r.choice(people))
        refused += 1
    return {"certificates": made + 2, "refusals": refused}


def fill_certificate_history(
    db: Database, *, days: int = 90, per_day: float = 1.2, seed: int = 1, today: date | None = None
) -> dict[str, Any]:
    """Certificates, seal-register lines and refusals over the last ``days``
    (before today), written with bulk inserts, so last month's report has a
    certificates section.  Serials run in time order from 1 in each year;
    certificates issued today through the service continue the numbering."""
    today = today or date.today()
    r = random.Random(seed + 7)
    by = {t.code: t for t in certs.catalogue(db)}
    with db.session() as s:
        st = s.scalar(select(Station).where(Station.code == select(LocalState.station_code).scalar_subquery()))
        staff = [a.display_name for a in s.scalars(select(Account).where(Account.active.is_(True)))]
        people = s.execute(
            select(
                Resident.id, Resident.name, Resident.phone, Resident.gender, Resident.birth_date, Resident.address_text
            )
            .where(Resident.deceased.is_(False), Resident.moved_out.is_(False))
            .limit(2000)
        ).all()
    if not people or st is None:
        return {"certificates": 0}
    prefix = certs.serial_prefix(st.name)
    stamps: list[datetime] = []
    for back in range(days, 0, -1):
        day = today - timedelta(days=back)
        if day.weekday() >= 5:
            continue
        for _ in range(int(per_day) + (r.random() < per_day % 1)):
            stamps.append(datetime.combine(day, time(8, 30)) + timedelta(minutes=r.randrange(0, 480)))
    stamps.sort()
    with db.session() as s:  # continue after any serials already taken (the report benchmark adds a year)
        numbers: dict[int, int] = {
            y: n or 0
            for y, n in s.execute(
                select(Certificate.year, func.max(Certificate.number))
                .where(Certificate.year.is_not(None))
                .group_by(Certificate.year)
            ).all()
            if y is not None
        }
    rows, seals, refusals = [], [], []
    for at in stamps:
        p = r.choice(people)
        if r.random() < 0.2:  # someone asked for an abolished certificate
            t = by[r.choice(("N01", "N01", "N08", "N10", "N05", "N20", "N14", "N03"))]
            refusals.append(
                {
                    "at": at,
                    "type_id": t.id,
                    "type_name": t.name,
                    "resident_id": p.id,
                    "actor_name": r.choice(staff),
                    "note": None,
                }
            )
            continue
        t = by["R01"] if r.random() < 0.7 else by["R04"]
        vals = (
            {"since": f"{r.randrange(2000, 2024)}年{r.randrange(1, 13)}月", "purpose": r.choice(PURPOSES)}
            if t.code == "R01"
            else {"activity": f"{at.year}年社区志愿服务活动", "purpose": "学校社会实践"}
        )
        n = numbers[at.year] = numbers.get(at.year, 0) + 1
        serial = certs.serial_text(at.year, n, prefix)
        handler = r.choice(staff)
        body = certs._render(t, p, vals)  # type: ignore[arg-type]  # the row has the attributes the template needs
        cid = new_id()
        rows.append(
            {
                "id": cid,
                "type_id": t.id,
                "type_name": t.name,
                "resident_id": p.id,
                "status": "issued",
                "year": at.year,
                "number": n,
                "serial": serial,
                "title": t.title,
                "body": body,
                "field_values": vals,
                "materials_seen": list(t.materials),
                "copies": 1,
                "reason": None,
                "requested_at": at,
                "handler_id": None,
                "handler_name": handler,
                "approver_name": None,
                "issued_at": at,
                "voided_at": None,
                "voided_by": None,
                "void_reason": None,
                "replaces_id": None,
                "replaced_by_id": None,
            }
        )
        seals.append(
            {
                "at": at,
                "certificate_id": cid,
                "content": f"{t.title}（{serial}）",
                "seal": t.seal,
                "copies": 1,
                "approver_name": None,
                "handler_name": handler,
                "applicant_name": p.name,
                "applicant_phone": p.phone,
            }
        )
    with db.session() as s:
        bulk_insert(s, Certificate, rows)
        bulk_insert(s, SealLog, seals)
        bulk_insert(s, CertificateRefusal, refusals)
    return {"certificates": len(rows), "refusals": len(refusals)}
