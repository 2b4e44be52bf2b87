"""Builds the counter's documents from service data: the one place that
knows both the services and the document layouts (the window, the CLI and
the benchmarks all print through here)."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from db.engine import Database
from db.errors import ValidationError
from db.localtime import local_date, to_local
from desktop.documents import counter_docs, fonts
from desktop.documents.layout import Document
from desktop.services import accounts, counter
from desktop.services.context import Actor

if TYPE_CHECKING:  # imported where used, so the window starts without them
    from desktop.services.certificates import Refusal
    from desktop.services.ledger import ImportReport
    from desktop.services.reports import Report


def _station(db: Database) -> accounts.StationInfo:
    info = accounts.station_info(db)
    assert info is not None
    return info


def receipt_document(
    db: Database, matter_id: uuid.UUID, layout: str = "A4", font: fonts.Font | None = None
) -> Document:
    d = counter.get(db, matter_id)
    types = {t.id: t for t in counter.catalogue(db, include_inactive=True)}
    t = types.get(d.matter_type_id)
    copies = {m.name: m.copies for m in t.materials} if t else {}
    st = _station(db)
    info = counter_docs.ReceiptInfo(
        station_name=st.name,
        station_phone=st.phone or "",
        receipt_no=d.receipt_no,
        resident_name=d.resident_name,
        resident_doc_masked=d.resident_doc_masked,
        matter_name=d.matter_name,
        mode_label=t.mode_label if t else "",
        channel_label=counter.CHANNELS.get(d.channel, d.channel),
        materials=[(m, copies.get(m, 1)) for m in d.materials],
        accepted_at=to_local(d.accepted_at),
        worker_name=d.accepted_by,
        promised_date=d.promised_date,
        promised_days=t.promised_days if t else 0,
    )
    return counter_docs.receipt(info, font or fonts.resolve(), layout)


def notice_document(
    db: Database,
    matter_type_id: uuid.UUID,
    *,
    notice_no: str = "",
    resident_name: str = "",
    missing: list[str] | None = None,
    reason: str = "",
    worker_name: str = "",
    layout: str = "A4",
    font: fonts.Font | None = None,
) -> Document:
    t = next(m for m in counter.catalogue(db, include_inactive=True) if m.id == matter_type_id)
    st = _station(db)
    missing = missing or []
    info = counter_docs.NoticeInfo(
        station_name=st.name,
        station_phone=st.phone or "",
        notice_no=notice_no or "（咨询）",
        matter_name=t.name,
        mode_label=t.mode_label,
        basis=t.basis,
        conditions=t.conditions,
        process=t.process,
        fee=t.fee,
        promised_days=t.promised_days,
        materials=[
            counter_docs.NoticeMaterial(m.name, m.required, m.copies, m.source, m.name in missing) for m in t.materials
        ],
        resident_name=resident_name,
        reason=reason,
        worker_name=worker_name,
        day=date.today(),
    )
    return counter_docs.notice(info, font or fonts.resolve(), layout)


# ------------------------------------------------------------------ certificates


def certificate_glyphs(text: str) -> list[str]:
    """Characters the certificate face cannot print: passed to the services
    so a name with one is caught before a serial or seal line is taken."""
    return fonts.resolve_serif().missing(text)


def certificate_document(db: Database, actor: Actor, cert_id: uuid.UUID, font: fonts.Font | None = None) -> Document:
    from desktop.documents import certificate_docs
    from desktop.services import certificates

    p = certificates.printable(db, actor, cert_id)
    d = p.detail
    st = _station(db)
    issued = local_date(d.issued_at or d.requested_at)
    info = certificate_docs.CertificateInfo(
        station_name=d.station_name,
        station_phone=st.phone or "",
        serial=d.serial,
        title=d.title,
        body=p.body_full,
        issued_on=issued,
        handler_name=d.handler_name,
        seal=d.seal,
        qr=p.qr,
        replaces_serial=d.replaces_serial,
        issuer=d.issuer,
    )
    return certificate_docs.certificate(info, font or fonts.resolve_serif())


def refusal_document(db: Database, refusal: Refusal, worker_name: str, font: fonts.Font | None = None) -> Document:
    from desktop.documents import certificate_docs

    st = _station(db)
    info = certificate_docs.RefusalInfo(
        station_name=st.name,
        station_phone=st.phone or "",
        type_name=refusal.type_name,
        basis=refusal.basis,
        redirect=refusal.redirect,
        resident_name=refusal.resident_name,
        worker_name=worker_name,
        day=local_date(refusal.at),
        serial=refusal.serial,
        qr=refusal.qr,
        issuer=refusal.issuer or st.issuer(),
        village=st.level == "village",
    )
    return certificate_docs.refusal_notice(info, font or fonts.resolve_serif())


_local = to_local


def export_certificate_ledgers(
    db: Database, path: str | Path, *, start: date | None = None, end: date | None = None
) -> Path:
    """开具台账, 用印登记 and 拒开记录 for a period, one sheet each."""
    from desktop.documents import sheets
    from desktop.services import certificates

    rows = certificates.ledger(db, start=start, end=end)
    seal = certificates.seal_register(db, start=start, end=end)
    refused = certificates.refusals(db, start=start, end=end)
    counts = certificates.refusal_counts(db, start=start, end=end)
    return sheets.write_workbook(
        path,
        [
            (
                "开具台账",
                [
                    "证明编号",
                    "证明类型",
                    "申请人",
                    "用途",
                    "份数",
                    "状态",
                    "申请时间",
                    "开具时间",
                    "经办人",
                    "审批人",
                    "作废/未通过原因",
                ],
                [
                    [
                        r.serial,
                        r.type_name,
                        r.resident_name,
                        r.purpose,
                        r.copies,
                        r.status_label,
                        _local(r.requested_at),
                        _local(r.issued_at),
                        r.handler_name,
                        r.approver_name,
                        r.void_reason,
                    ]
                    for r in rows
                ],
            ),
            (
                "用印登记",
                ["用印时间", "用印内容", "印章", "份数", "审批人", "经办人", "申请人", "联系电话"],
                [
                    [
                        _local(x.at),
                        x.content,
                        x.seal,
                        x.copies,
                        x.approver_name,
                        x.handler_name,
                        x.applicant_name,
                        x.applicant_phone,
                    ]
                    for x in seal
                ],
            ),
            (
                "拒开记录",
                ["时间", "申请的证明", "居民", "经办人", "备注"],
                [[_local(x.at), x.type_name, x.resident_name, x.actor_name, x.note] for x in refused],
            ),
            ("拒开统计", ["证明类型", "拒开次数"], sorted(([k, v] for k, v in counts.items()), key=lambda kv: -kv[1])),
        ],
    )


def save_import_report(report: ImportReport, path: str | Path) -> Path:
    """A ledger import's problems as an .xlsx (``.xlsx`` added when missing)."""
    from desktop.documents import sheets
    from desktop.services import ledger

    p = Path(path)
    if p.suffix.lower() != ".xlsx":
        p = p.with_name(p.name + ".xlsx")
    try:
        p.parent.mkdir(parents=True, exist_ok=True)
        return sheets.write_workbook(p, ledger.problem_sheets(report), freeze={0: "D2"})
    except OSError as e:
        raise ledger.LedgerFileError(
            f"cannot save {p}: {e}",
            f"无法保存问题清单到：\n{p}\n\n如果同名文件正在 Excel 中打开，请先关闭，或换一个文件名。",
        ) from e


# ------------------------------------------------------------------ volunteers


def volunteer_certificate_document(
    db: Database, actor: Actor, volunteer_id: uuid.UUID, start: date, end: date, font: fonts.Font | None = None
) -> Document:
    from desktop.documents import volunteer_docs
    from desktop.services import volunteers

    font = font or fonts.resolve_serif()
    issued = volunteers.issue_certificate(db, actor, volunteer_id, start, end, glyphs=font.missing)
    data = issued.data
    st = _station(db)
    info = volunteer_docs.VolunteerCertificateInfo(
        station_name=st.name,
        station_phone=st.phone or "",
        volunteer_number=data.volunteer_number,
        volunteer_name=data.volunteer_name,
        start=start,
        end=end,
        rows=[(r.day, r.title, r.content, r.place, r.hours) for r in data.records],
        total_hours=data.total_hours,
        qr=data.qr,
        issued_on=date.today(),
        serial=issued.serial,
        doc_type=issued.doc_type,
        doc_masked=issued.doc_masked,
        issuer=st.issuer(),
        handler_name=issued.handler_name,
    )
    return volunteer_docs.volunteer_certificate(info, font)


def dispatch_document(
    db: Database, need_id: uuid.UUID, day: date, dispatcher: str, font: fonts.Font | None = None
) -> Document:
    from db.models import Resident
    from desktop.documents import volunteer_docs
    from desktop.services import volunteers

    need = volunteers.get_need(db, need_id)
    rows = [
        a for a in volunteers.assignments(db, need_id=need_id, start=day, end=day) if a.status in ("assigned", "done")
    ]
    phone = ""
    if need.resident_id:
        with db.session() as s:
            resident = s.get(Resident, need.resident_id)
            phone = (resident.phone if resident else "") or ""
    st = _station(db)
    info = volunteer_docs.DispatchInfo(
        station_name=st.name,
        station_phone=st.phone or "",
        need_title=need.title,
        description=volunteers.need_description(db, need_id),
        number=f"{st.code}-PD{day:%Y%m%d}-{need_id.hex[-6:].upper()}",
        when=f"{day:%Y年%m月%d日} {volunteers.WEEKDAYS[day.isoweekday()]}{volunteers.SLOTS[need.slot]}",
        place=need.place,
        resident_name=need.resident_name,
        resident_phone=phone,
        volunteers=[(a.volunteer_name, a.volunteer_number, a.volunteer_phone) for a in rows],
        dispatcher=dispatcher,
        day=date.today(),
    )
    return volunteer_docs.dispatch_sheet(info, font or fonts.resolve())


def export_volunteer_hours(db: Database, path: str | Path, start: date, end: date) -> Path:
    """Hours by volunteer, by skill, and party members against their yearly target."""
    from desktop.documents import sheets
    from desktop.services import volunteers

    lines, by_skill = volunteers.hours_ledger(db, start, end)
    party = [x for x in lines if x.party_member]
    return sheets.write_workbook(
        path,
        [
            (
                "按志愿者",
                ["志愿者编号", "姓名", "服务次数", "服务时长（小时）"],
                [[x.volunteer_number, x.volunteer_name, x.services, x.hours] for x in lines],
            ),
            ("按技能", ["技能", "服务时长（小时）"], [[k, round(v, 2)] for k, v in by_skill.items()]),
            (
                "在职党员",
                ["志愿者编号", "姓名", "工作单位", "年度目标（小时）", "已服务（小时）", "尚差（小时）"],
                [
                    [
                        x.volunteer_number,
                        x.volunteer_name,
                        x.employer,
                        x.target,
                        x.hours,
                        max(round(x.target - x.hours, 2), 0),
                    ]
                    for x in party
                ],
            ),
        ],
    )


# ------------------------------------------------------------------ 代办


def proxy_slip_document(
    db: Database, case_id: uuid.UUID, layout: str = "A4", font: fonts.Font | None = None
) -> Document:
    """The 代办原件交接单 of a proxy matter (refused when it has no originals)."""
    from desktop.documents import proxy_docs
    from desktop.services import proxy

    d = proxy.slip_data(db, case_id)
    r = d.row
    st = _station(db)
    info = proxy_docs.SlipInfo(
        station_name=st.name,
        station_phone=st.phone or "",
        receipt_no=r.receipt_no,
        matter_name=r.matter_name,
        resident_name=r.resident_name,
        resident_doc_masked=d.resident_doc_masked,
        resident_phone=d.resident_phone,
        agent_name=r.agent_name,
        agent_phone=d.agent_phone,
        village_group=r.village_group,
        worker_name=d.received_by,
        originals=[(o.name, o.count, o.returned) for o in d.originals],
        received_at=to_local(r.received_at),
        forwarded_to=r.forwarded_to,
        handed_back_at=to_local(r.handed_back_at) if r.handed_back_at else None,
        day=date.today(),
    )
    return proxy_docs.handover_slip(info, font or fonts.resolve(), layout)


def export_proxy_ledger(
    db: Database, path: str | Path, start: date, end: date, origins: tuple[str, ...] | None = None
) -> Path:
    """The 代办台账 for a period: the figures per agent, and each figure's records."""
    from desktop.documents import sheets
    from desktop.services import proxy

    led = proxy.ledger(db, start, end, origins)
    detail = []
    for key, label in proxy.FIGURES.items():
        for r in proxy.cases(db, key, start, end, origins):
            detail.append(
                [
                    label,
                    r.receipt_no,
                    r.resident_name,
                    r.matter_name,
                    r.agent_name,
                    r.village_group,
                    _local(r.received_at),
                    r.forwarded_to,
                    _local(r.forwarded_at),
                    _local(r.result_at),
                    _local(r.handed_back_at),
                    r.step_label,
                ]
            )
    return sheets.write_workbook(
        path,
        [
            (
                "代办台账",
                ["村民小组", "代办员", "登记", "办理", "回复"],
                [[a.village_group, a.agent_name, a.registered, a.handled, a.replied] for a in led.by_agent]
                + [["合计", "", led.registered, led.handled, led.replied]],
            ),
            (
                "明细",
                [
                    "项目",
                    "回执编号",
                    "委托人",
                    "事项",
                    "代办员",
                    "村民小组",
                    "收件时间",
                    "转交去向",
                    "转交时间",
                    "结果取回时间",
                    "交还时间",
                    "当前状态",
                ],
                detail,
            ),
        ],
        title=f"代办台账 {start:%Y-%m-%d} 至 {end:%Y-%m-%d}",
    )


def report_document(report: Report, font: fonts.Font | None = None) -> Document:
    """The report built by ``services.reports.build`` laid out for print."""
    from desktop.documents import report_docs

    return report_docs.build(report, font or fonts.resolve())


def save_report_pdf(report: Report, path: str | Path, font: fonts.Font | None = None) -> Path:
    from desktop.documents import pdf

    font = font or fonts.resolve()
    return pdf.save(pdf.render(report_document(report, font), font), path)


def export_report_excel(report: Report, path: str | Path) -> Path:
    from desktop.documents import report_docs

    return report_docs.write_excel(report, path)


# ------------------------------------------------------------------ rota


def rota_sheet_document(db: Database, any_day: date, font: fonts.Font | None = None) -> Document:
    """The weekly 值班表 of the week holding ``any_day`` (A4 landscape)."""
    from desktop.documents import rota_docs
    from desktop.services import rota

    w = rota.week(db, any_day)
    st = _station(db)
    rows = [(window, [w.cell_lines(window, d) for d in w.days]) for window in w.windows]
    info = rota_docs.RotaSheetInfo(
        station_name=st.name,
        station_phone=st.phone or "",
        monday=w.monday,
        days=w.days,
        working=[w.working[d] for d in w.days],
        rows=rows,
        pairs=[(a.name, a.window, a.a_name, a.b_name) for a in w.areas],
        away=[f"{a.worker_name} {a.reason_label} {a.span}，{a.cover_name}代岗" for a in w.absences],
        office=rota.OFFICE_LABEL,
        printed_on=date.today(),
    )
    return rota_docs.rota_sheet(info, font or fonts.resolve())


# ------------------------------------------------------------------ lists and postings


def posting_document(
    db: Database, posting_id: uuid.UUID, layout: str = "A4", font: fonts.Font | None = None
) -> Document:
    """A notice-board posting, A4 or A3, in large type."""
    from desktop.documents import posting_docs
    from desktop.services import postings

    p = postings.get(db, posting_id)
    st = _station(db)
    info = posting_docs.PostingInfo(
        issuer=st.issuer(),
        category_label=postings.category_label(p.category, st.level == "village"),
        title=p.title,
        body=p.body,
        on_date=p.on_date,
        off_date=p.off_date,
        period_days=p.period_days,
        phone=st.phone or "",
    )
    return posting_docs.posting(info, font or fonts.resolve(), layout)


def decline_document(db: Database, request_id: uuid.UUID, font: fonts.Font | None = None) -> Document:
    """The numbered notice that declines a department's task, citing the rule."""
    from desktop.documents import posting_docs
    from desktop.services import workitems

    r = workitems.get_request(db, request_id)
    if r.outcome != "declined":
        raise ValidationError("request", "只有已退回的下派事项才有不予承接告知单。")
    st = _station(db)
    info = posting_docs.DeclineInfo(
        issuer=st.issuer(),
        phone=st.phone or "",
        serial=r.serial,
        department=r.department,
        received_on=r.received_on,
        content=r.content,
        item_name=r.item_name if r.item_kind == "negative" else "",
        basis=r.basis,
        worker_name=r.actor_name,
        day=local_date(r.at),
    )
    return posting_docs.decline_notice(info, font or fonts.resolve_serif())


# ------------------------------------------------------------------ 微心愿


def wish_board_document(db: Database, today: date | None = None, font: fonts.Font | None = None) -> Document:
    from desktop.documents import wish_docs
    from desktop.services import wishes

    bd = wishes.board(db, today)
    info = wish_docs.WishBoardInfo(
        bd.station_name, bd.station_phone, bd.day, [(x.number, x.title, x.who, x.grid, x.value) for x in bd.lines]
    )
    return wish_docs.wish_board(info, font or fonts.resolve())


# ------------------------------------------------------------------ visits


def visit_list_document(
    db: Database, worker_name: str, grid: str | None = None, today: date | None = None, font: fonts.Font | None = None
) -> Document:
    """走访任务单: this week's due households, by grid and in walking order."""
    from desktop.documents import visit_docs
    from desktop.services import visits

    today = today or date.today()
    by_grid: dict[str, list[visit_docs.VisitListLine]] = {}
    for d in visits.route_list(db, today, grid):
        last = ""
        if d.last_met:
            last = f"{d.last_met:%m-%d}见到"
        if d.last_try:
            last += ("\n" if last else "") + f"{d.last_try:%m-%d}不在家"
        by_grid.setdefault(d.grid, []).append(
            visit_docs.VisitListLine(d.address, d.names, "、".join(d.tags), d.phone, d.tier, d.due_text(today), last)
        )
    st = _station(db)
    end = visits.week_end(today)
    info = visit_docs.VisitListInfo(
        st.name, st.phone or "", worker_name, end - timedelta(days=6), end, today, list(by_grid.items())
    )
    return visit_docs.visit_list(info, font or fonts.resolve())
