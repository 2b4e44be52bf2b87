"""A resident's timeline: everything the station did for one person, newest
first. Each area adds its records here as it comes to exist (matters and
one-time notices, certificates and refusals now; volunteer requests later)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from db.engine import Database
from db.models import CertificateRefusal, MatterType, NoticeLog
from desktop.services import counter


@dataclass(frozen=True)
class TimelineItem:
    at: datetime  # UTC
    kind: str  # matter | notice | certificate | refusal
    title: str
    detail: str
    ref_id: uuid.UUID


def for_resident(db: Database, resident_id: uuid.UUID, limit: int = 200) -> list[TimelineItem]:
    items = []
    for m in counter.for_resident(db, resident_id):
        state = counter.STATUSES.get(m.status, m.status)
        if m.rating is not None:
            state += f"，{counter.RATINGS[m.rating]}"
        items.append(TimelineItem(m.accepted_at, "matter", m.matter_name, f"{state}　{m.receipt_no}", m.id))
    with db.session() as s:
        q = (
            select(NoticeLog, MatterType.name)
            .join(MatterType, MatterType.id == NoticeLog.matter_type_id)
            .where(NoticeLog.resident_id == resident_id)
        )
        for n, name in s.execute(q):
            why = "缺：" + "、".join(n.missing) if n.missing else (n.reason or "咨询")
            items.append(TimelineItem(n.at, "notice", f"一次性告知：{name}", why, n.id))
    from desktop.services import certificates

    for c in certificates.for_resident(db, resident_id):
        items.append(
            TimelineItem(
                c.requested_at,
                "certificate",
                f"证明：{c.type_name}",
                f"{c.status_label}　{c.serial or ''}".rstrip(),
                c.id,
            )
        )
    with db.session() as s:
        refused = select(CertificateRefusal).where(CertificateRefusal.resident_id == resident_id)
        for r in s.scalars(refused):
            items.append(TimelineItem(r.at, "refusal", f"不予出具：{r.type_name}", "已告知去向", r.id))
    from desktop.services import visits

    for v in visits.visits_for(db, resident_id):  # (entered at; the title says the day of the visit)
        who = f"见到{v.met}" if v.outcome == "met" else v.outcome_label
        items.append(
            TimelineItem(
                v.recorded_at,
                "visit",
                f"走访（{v.day:%m月%d日}）：{who}",
                "　".join(
                    x
                    for x in (v.resident_name, v.situation, v.needs and "需求：" + v.needs, v.follow_up, v.visitor_name)
                    if x
                ),
                v.id,
            )
        )
    items.sort(key=lambda i: i.at, reverse=True)
    return items[:limit]
