"""Demo certificates: a few issued, one waiting for approval, one voided and
reissued, and refusals of abolished types, so the ledgers are not empty."""
from __future__ import annotations

import random
from typing import Any

from sqlalchemy import select

from db.engine import Database
from db.models import Resident
from desktop.services import certificates as certs
from desktop.services.context import Actor

PURPOSES = ["子女入学", "办理居住证", "单位入职", "申请公租房", "办理社保"]


def fill_certificates(db: Database, admin: Actor, desk: Actor | None = None, *, n: int = 30,
                      seed: int = 1) -> dict[str, Any]:
    r = random.Random(seed)
    by = {t.code: t for t in certs.catalogue(db)}
    with db.session() as s:
        people = list(s.scalars(select(Resident.id).where(Resident.deceased.is_(False), Resident.moved_out.is_(False))
                                .limit(2000)))
    if not people:
        return {"certificates": 0}
    made = 0
    for _ in range(n):
        t = by["R01"] if r.random() < 0.7 else by["R04"]
        vals = ({"since": f"{r.randrange(2000, 2024)}年{r.randrange(1, 13)}月", "purpose": r.choice(PURPOSES)}
                if t.code == "R01" else {"activity": "2026年暑期社区垃圾分类宣传活动", "purpose": "学校社会实践"})
        certs.issue(db, admin, r.choice(people), t.id, vals, t.materials)
        made += 1
    first = certs.ledger(db, status="issued")[-1]
    certs.reissue(db, admin, first.id, "原件遗失")
    if desk is not None:
        t = by["R02"]
        certs.issue(db, desk, r.choice(people), t.id, {"situation": "家庭成员患重病，收入低于低保标准",
                                                       "purpose": "申请临时救助"}, t.materials)
    refused = 0
    for code in ("N01", "N01", "N08", "N10", "N05", "N01", "N20", "N14"):
        certs.refuse(db, desk or admin, by[code].id, r.choice(people))
        refused += 1
    return {"certificates": made + 2, "refusals": refused}
