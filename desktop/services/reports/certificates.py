"""三、开具证明: certificates issued, voided and reissued, refusals (the
negative list) and the seal register — small lists, kept as facts."""

from __future__ import annotations

import uuid
from collections import Counter, defaultdict
from datetime import datetime
from typing import Any, Callable, NamedTuple

from sqlalchemy import or_, select

from db.engine import Database
from db.models import Certificate, CertificateRefusal, CertificateType, SealLog

from .base import (
    Chart,
    Drill,
    Figure,
    Period,
    Report,
    ReportSection,
    Run,
    Section,
    StationColumn,
    StationColumns,
    Table,
    _Ctx,
    _key,
    _names,
)


class CertFact(NamedTuple):
    id: uuid.UUID
    origin: str
    type_code: str
    type_name: str
    serial: str
    status: str
    issued: datetime | None
    voided: datetime | None
    reissue: bool
    resident_id: uuid.UUID
    handler: str
    copies: int


class RefusalFact(NamedTuple):
    id: uuid.UUID
    origin: str
    type_name: str
    at: datetime
    resident_id: uuid.UUID | None
    actor: str


class SealFact(NamedTuple):
    id: uuid.UUID
    origin: str
    at: datetime
    content: str
    seal: str
    copies: int
    approver: str
    handler: str
    applicant: str


def _cert_facts(c: _Ctx) -> tuple[list[CertFact], list[RefusalFact], list[SealFact]]:
    q = (
        select(
            Certificate.id,
            Certificate.origin,
            CertificateType.code,
            Certificate.type_name,
            Certificate.serial,
            Certificate.status,
            Certificate.issued_at,
            Certificate.voided_at,
            Certificate.replaces_id,
            Certificate.resident_id,
            Certificate.handler_name,
            Certificate.copies,
        )
        .join(CertificateType, CertificateType.id == Certificate.type_id)
        .where(
            Certificate.deleted.is_(False),
            c.where_origin(Certificate.origin),
            or_(c.in_period(Certificate.issued_at), c.in_period(Certificate.voided_at)),
        )
    )
    rq = select(
        CertificateRefusal.id,
        CertificateRefusal.origin,
        CertificateRefusal.type_name,
        CertificateRefusal.at,
        CertificateRefusal.resident_id,
        CertificateRefusal.actor_name,
    ).where(c.in_period(CertificateRefusal.at), c.where_origin(CertificateRefusal.origin))
    sq = (
        select(
            SealLog.id,
            SealLog.origin,
            SealLog.at,
            SealLog.content,
            SealLog.seal,
            SealLog.copies,
            SealLog.approver_name,
            SealLog.handler_name,
            SealLog.applicant_name,
        )
        .where(c.in_period(SealLog.at), c.where_origin(SealLog.origin))
        .order_by(SealLog.at)
    )
    with c.db.session() as s:
        certs = [
            CertFact(
                r[0],
                r[1],
                r[2],
                r[3],
                r[4] or "",
                r[5],
                c.local(r[6]),
                c.local(r[7]),
                r[8] is not None,
                r[9],
                r[10],
                r[11],
            )
            for r in s.execute(q)
        ]
        refusals = [RefusalFact(r[0], r[1], r[2], r[3] + c.off, r[4], r[5]) for r in s.execute(rq)]
        seals = [SealFact(r[0], r[1], r[2] + c.off, r[3], r[4], r[5], r[6] or "", r[7], r[8]) for r in s.execute(sq)]
    return certs, refusals, seals


def _cert_preds(p: Period) -> dict[str, Callable[[CertFact], bool]]:
    return {
        "issued": lambda f: p.contains(f.issued.date() if f.issued else None),
        "voided": lambda f: p.contains(f.voided.date() if f.voided else None),
        "reissued": lambda f: f.reissue and p.contains(f.issued.date() if f.issued else None),
    }


def _cert_section(
    c: _Ctx, title: str, certs: list[CertFact], refusals: list[RefusalFact], seals: list[SealFact]
) -> Section:
    p = c.period
    preds = _cert_preds(p)
    member = {k: [f for f in certs if pr(f)] for k, pr in preds.items()}
    sec = Section("certificates", title)
    sec.figures += [
        Figure("开具", len(member["issued"]), "份", Drill("certificates", "issued", (), f"{p.label} 开具证明")),
        Figure("作废", len(member["voided"]), "份", Drill("certificates", "voided", (), f"{p.label} 作废证明")),
        Figure("补开", len(member["reissued"]), "份", Drill("certificates", "reissued", (), f"{p.label} 补开证明")),
        Figure("拒开（负面清单）", len(refusals), "次", Drill("refusals", "all", (), f"{p.label} 拒开记录")),
        Figure("用印", len(seals), "次", Drill("seals", "all", (), f"{p.label} 用印登记")),
    ]
    by_type: dict[str, dict[str, int]] = defaultdict(Counter)
    type_names: dict[str, str] = {}
    for k in ("issued", "voided", "reissued"):
        for f in member[k]:
            by_type[f.type_code][k] += 1
            type_names[f.type_code] = f.type_name
    rows: list[list[Any]] = []
    drills: list[list[Drill | None]] = []
    for code in sorted(by_type, key=lambda t: (-by_type[t]["issued"], type_names[t])):
        n = type_names[code]
        rows.append([n, by_type[code]["issued"], by_type[code]["voided"], by_type[code]["reissued"]])
        drills.append(
            [None]
            + [
                Drill("certificates", k, (("type_code", code),), f"{p.label} {n} {t}")
                for k, t in (("issued", "开具"), ("voided", "作废"), ("reissued", "补开"))
            ]
        )
    if rows:
        rows.append(["合计", *(sum(r[i] for r in rows) for i in (1, 2, 3))])
        drills.append(
            [None]
            + [
                Drill("certificates", k, (), f"{p.label} {t}")
                for k, t in (("issued", "开具"), ("voided", "作废"), ("reissued", "补开"))
            ]
        )
    sec.tables.append(
        Table(
            "certificates_by_type",
            "按证明类型",
            ["证明类型", "开具", "作废", "补开"],
            rows,
            drills,
            {1: "int", 2: "int", 3: "int"},
            widths=[0.46, 0.18, 0.18, 0.18],
        )
    )
    ref = Counter(f.type_name for f in refusals)
    rrows = [[n, k] for n, k in sorted(ref.items(), key=lambda kv: (-kv[1], kv[0]))]
    rdr = [[None, Drill("refusals", "type", (("type_name", n),), f"{p.label} 拒开：{n}")] for n, _ in rrows]
    if rrows:
        rrows.append(["合计", len(refusals)])
        rdr.append([None, Drill("refusals", "all", (), f"{p.label} 拒开记录")])
    sec.tables.append(
        Table(
            "refusals_by_type",
            "拒开统计（不应由社区出具的证明事项）",
            ["证明事项", "次数"],
            rrows,
            rdr,
            {1: "int"},
            note="居民来开负面清单上的证明时，本站出具告知单并指引去向；此表为清理“万能章”的佐证。",
            widths=[0.75, 0.25],
        )
    )
    srows = [[f.at, f.content, f.seal, f.copies, f.approver or "—", f.handler, f.applicant] for f in seals]
    sec.tables.append(
        Table(
            "seal_register",
            "用印登记",
            ["用印时间", "用印事由", "印章", "份数", "批准人", "经办人", "申请人"],
            srows,
            [[None] * 7 for _ in srows],
            {0: "datetime", 3: "int"},
            widths=[0.16, 0.3, 0.14, 0.07, 0.1, 0.1, 0.13],
        )
    )
    if rows:
        top = rows[:-1][:8]
        sec.charts.append(Chart("hbar", "开具份数（按类型）", [r[0] for r in top], [r[1] for r in top]))
    return sec


class CertificatesSection(ReportSection):
    key, title, kinds = "certificates", "开具证明", ("certificates", "refusals", "seals")

    def collect(self, run: Run) -> Any:
        certs, refusals, seals = _cert_facts(run.ctx)
        run.facts.update(certificates=certs, refusals=refusals, seals=seals)

    def section(self, run: Run) -> Section | None:
        f = run.facts
        return _cert_section(run.ctx, self.title, f["certificates"], f["refusals"], f["seals"])

    def contacted(self, c: _Ctx) -> list[Any]:
        return [
            select(Certificate.resident_id).where(
                Certificate.deleted.is_(False),
                c.where_origin(Certificate.origin),
                or_(c.in_period(Certificate.issued_at), c.in_period(Certificate.voided_at)),
            ),
            select(CertificateRefusal.resident_id).where(
                c.in_period(CertificateRefusal.at),
                c.where_origin(CertificateRefusal.origin),
                CertificateRefusal.resident_id.is_not(None),
            ),
        ]

    def per_station(self, run: Run) -> StationColumns | None:
        certs: list[CertFact] = run.facts["certificates"]
        refusals: list[RefusalFact] = run.facts["refusals"]
        issued = _cert_preds(run.ctx.period)["issued"]
        return StationColumns(
            {f.origin for f in certs},
            [
                StationColumn(
                    "开具证明",
                    lambda o: sum(1 for f in certs if f.origin == o and issued(f)),
                    width=0.11,
                    drill=lambda o, name: Drill("certificates", "issued", (("origin", o),), f"{name} 开具证明"),
                ),
                StationColumn(
                    "拒开",
                    lambda o: sum(1 for f in refusals if f.origin == o),
                    drill=lambda o, name: Drill("refusals", "all", (("origin", o),), f"{name} 拒开"),
                ),
            ],
        )

    def fact_preds(self, kind: str, period: Period) -> dict[str, Callable[[Any], bool]]:
        return _cert_preds(period) if kind == "certificates" else {}

    def records(
        self, db: Database, report: Report, drill: Drill, facts: list[Any]
    ) -> tuple[list[str], list[list[Any]]]:
        k = drill.kind
        if k == "seals":
            rows = [[f.at, f.content, f.seal, f.copies, f.approver, f.handler, f.applicant] for f in facts]
            return ["用印时间", "用印事由", "印章", "份数", "批准人", "经办人", "申请人"], rows
        names = _names(db, (f.resident_id for f in facts))
        if k == "refusals":
            rows = [
                [f.at, f.type_name, names.get(_key(f.resident_id), "") if f.resident_id else "（未登记）", f.actor]
                for f in sorted(facts, key=lambda f: f.at)
            ]
            return ["时间", "证明事项", "居民", "经办人"], rows
        from desktop.services.certificates import STATUSES as CSTAT

        rows = [
            [
                f.serial,
                f.type_name,
                names.get(_key(f.resident_id), ""),
                f.issued,
                f.voided,
                "补开" if f.reissue else "",
                CSTAT.get(f.status, f.status),
                f.handler,
                f.copies,
            ]
            for f in sorted(facts, key=lambda f: f.issued or f.voided or datetime.min)
        ]
        return ["编号", "证明类型", "居民", "开具时间", "作废时间", "补开", "状态", "经办人", "份数"], rows
