"""志愿服务记录证明 (volunteer service certificate) and the dispatch sheet (派单)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from reportlab.lib.units import mm

from desktop.documents.certificate_docs import signature, verify_line
from desktop.documents.fonts import Font
from desktop.documents.layout import A4, Builder, Document, cn_date


@dataclass
class VolunteerCertificateInfo:
    station_name: str
    station_phone: str
    volunteer_number: str
    volunteer_name: str
    start: date
    end: date
    rows: list[tuple[date, str, str, str, float]]  # day, activity, content, place, hours
    total_hours: float
    qr: str
    issued_on: date
    serial: str = ""
    doc_type: str = "居民身份证"
    doc_masked: str = ""
    issuer: str = ""  # the recording unit: the committee
    handler_name: str = ""


def volunteer_certificate(info: VolunteerCertificateInfo, font: Font) -> Document:
    b = Builder(font, A4, 20 * mm, f"志愿服务记录证明 {info.serial or info.volunteer_number}")
    body = 12
    issuer = info.issuer or info.station_name
    b.line(20, "志愿服务记录证明", bold=True, align="center", leading=2.2)
    if info.serial:
        b.line(11.5, info.serial, align="right", leading=1.8)
    doc = f"，{info.doc_type}号码：{info.doc_masked}" if info.doc_masked else ""
    b.para(
        f"\u3000\u3000兹证明志愿者{info.volunteer_name}（志愿者编号：{info.volunteer_number}{doc}）于"
        f"{cn_date(info.start)}至{cn_date(info.end)}期间，参加{issuer}组织的志愿服务（服务地点：{info.station_name}等），"
        f"累计服务时间 {info.total_hours:g} 小时。服务记录如下：",
        body,
        leading=1.8,
    )
    b.space(4)
    b.table(
        ["服务日期", "服务项目", "服务内容", "服务地点", "时长（小时）"],
        [[f"{d:%Y-%m-%d}", act, content, place or "—", f"{h:g}"] for d, act, content, place, h in info.rows],
        [0.16, 0.22, 0.22, 0.26, 0.14],
        body - 2,
    )
    b.space(6)
    b.para(
        f"\u3000\u3000以上服务时间为志愿者实际提供服务的时间，依据《志愿服务条例》和民政部"
        f"《志愿服务记录与证明出具办法（试行）》如实记录。记录单位：{issuer}。",
        body,
        leading=1.8,
    )
    b.space(6 * mm)
    b.line(body, f"负责人：____________（签字）　　经办人：{info.handler_name or '____________'}", leading=1.8)
    b.space(10 * mm)
    signature(b, issuer, info.issued_on, body, 20 * mm)
    b.space(12 * mm)
    qr_top = b.y
    b.qr(info.qr, 24 * mm, x=b.margin)
    b.y = qr_top + 6 * mm
    b.para(verify_line(issuer, info.station_phone), 9.5, indent=30 * mm)
    b.para("本证明免费出具。" + (f"已登记用印（{info.serial}）。" if info.serial else ""), 9.5, indent=30 * mm)
    return b.finish()


@dataclass
class DispatchInfo:
    station_name: str
    station_phone: str
    need_title: str
    description: str
    when: str
    place: str
    resident_name: str
    resident_phone: str
    volunteers: list[tuple[str, str, str]]  # name, number, phone
    dispatcher: str
    day: date
    number: str = ""  # 派单编号


def dispatch_sheet(info: DispatchInfo, font: Font) -> Document:
    b = Builder(font, (148 * mm, 210 * mm), 12 * mm, f"派单 {info.need_title} {info.when}")
    body = 11
    b.line(body + 1, info.station_name, bold=True, align="center")
    b.line(18, "志愿服务派单", bold=True, align="center", leading=2.0)
    if info.number:
        b.line(body - 1, f"派单编号：{info.number}", align="center")
    b.rule()
    lw = body * 5.2
    b.field("服务项目：", info.need_title, body, lw)
    b.field("需求描述：", info.description or "—", body, lw)
    b.field("服务时间：", info.when, body, lw)
    b.field("服务地点：", info.place or "—", body, lw)
    b.field("服务对象：", info.resident_name, body, lw)
    b.field("对象电话：", info.resident_phone or "—", body, lw)
    b.space(body * 0.4)
    b.line(body, "派出志愿者：", bold=True)
    b.table(["姓名", "志愿者编号", "电话"], [list(v) for v in info.volunteers], [0.3, 0.4, 0.3], body - 1)
    b.space(body * 0.6)
    b.para(
        f"有问题请联系站点：{info.station_phone or '（见窗口公示）'}。服务结束后请告知实际开始、结束时间，"
        "由站点登记服务时长。",
        body - 1,
    )
    b.space(body * 0.6)
    b.line(body, "服务对象确认（服务结束后填写）：", bold=True)
    b.table(
        ["实际服务时间", "服务对象签字", "评价（请勾选一项）"],
        [["____:____\n至 ____:____", "\n\n", "□非常满意 □满意 □基本满意\n□不满意 □非常不满意"]],
        [0.25, 0.3, 0.45],
        body - 1.5,
    )
    b.space(body * 0.6)
    b.line(body, f"派单人：{info.dispatcher}　{cn_date(info.day)}", align="right")
    return b.finish()
