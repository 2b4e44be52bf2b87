"""Certificates (证明) and refusal notices (不予出具告知单), A4."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from reportlab.lib.units import mm

from desktop.documents.fonts import Font
from desktop.documents.layout import A4, Builder, Document, Line, Text, cn_date

COMPLAINT_LINE = "12345 政务服务便民热线"
CLOSING = "特此证明。"


def verify_line(issuer: str, phone: str) -> str:
    """Where a paper can be checked: the body that issued it, and the street
    hub that holds the synced records; not "any station", which may not."""
    return (
        f"扫描左侧二维码或凭编号，可向开具单位{issuer}核验真伪，电话：{phone or '见窗口公示'}；"
        "数据已同步的街道（乡镇）汇总中心也可核验。"
    )


@dataclass
class CertificateInfo:
    station_name: str
    station_phone: str
    serial: str
    title: str
    body: str  # with the full ID number
    issued_on: date
    handler_name: str
    seal: str
    qr: str
    replaces_serial: str = ""
    issuer: str = ""  # the committee that signs and stamps (the centre is only the place)


@dataclass
class RefusalInfo:
    station_name: str
    station_phone: str
    type_name: str
    basis: str
    redirect: str
    resident_name: str
    worker_name: str
    day: date
    serial: str = ""
    qr: str = ""
    issuer: str = ""
    village: bool = False


def seal_area(b: Builder, cx: float, cy: float, r: float, label: str) -> None:
    """A dashed circle where the seal goes, with its name, drawn as line segments."""
    import math

    steps = 48
    for i in range(0, steps, 2):
        a1, a2 = 2 * math.pi * i / steps, 2 * math.pi * (i + 1) / steps
        b.page.ops.append(
            Line(cx + r * math.cos(a1), cy + r * math.sin(a1), cx + r * math.cos(a2), cy + r * math.sin(a2), 0.5)
        )
    size = 8
    w = b.measure(label, size)
    b.page.ops.append(Text(cx - w / 2, cy + r * 0.72, label, size))  # low in the circle, clear of the name
    b.all_text.append(label)


def signature(b: Builder, issuer: str, day: date, size: float, r: float = 21 * mm) -> None:
    """The issuer's name and the date, right-aligned, under a seal circle
    that names the same body."""
    top = b.y
    b.line(size, issuer, align="right", leading=1.8)
    b.line(size, cn_date(day), align="right", leading=1.8)
    name_w = b.measure(issuer, size)
    seal_area(b, b.margin + b.inner - name_w / 2, top + size * 1.2, r, "（盖章）")


def closing_needed(body: str) -> bool:
    """A body that already ends with its own 特此… line gets no second one."""
    return not any(line.strip().startswith("特此") for line in body.split("\n"))


def certificate(info: CertificateInfo, font: Font) -> Document:
    b = Builder(font, A4, 25 * mm, f"{info.title} {info.serial}")
    body = 15
    b.space(10 * mm)
    b.line(24, info.title, bold=True, align="center", leading=2.0)
    b.line(11.5, info.serial, align="right", leading=2.2)
    for para in info.body.split("\n"):
        b.para("\u3000\u3000" + para.strip(), body, leading=1.9)
    if closing_needed(info.body):
        b.space(4 * mm)
        b.line(body, CLOSING, indent=2 * body, leading=1.9)
    b.space(18 * mm)
    issuer = info.issuer or info.station_name
    signature(b, issuer, info.issued_on, body)
    b.space(14 * mm)
    qr_top = b.y
    b.qr(info.qr, 26 * mm, x=b.margin)
    b.y = qr_top + 6 * mm
    notes = [
        f"经办人：{info.handler_name}　　办理地点：{info.station_name}",
        verify_line(issuer, info.station_phone),
        "本证明仅用于上述用途，涂改无效。",
    ]
    if info.replaces_serial:
        notes.append(f"本证明为补开，原 {info.replaces_serial} 作废。")
    for n in notes:
        b.para(n, 9.5, indent=32 * mm, leading=1.6)
    return b.finish()


def refusal_notice(info: RefusalInfo, font: Font) -> Document:
    b = Builder(font, A4, 22 * mm, f"不予出具证明告知单 {info.serial or info.type_name}")
    body = 12
    issuer = info.issuer or info.station_name
    b.line(body + 2, issuer, bold=True, align="center")
    b.line(20, "不予出具证明告知单", bold=True, align="center", leading=2.0)
    if info.serial:
        b.line(11.5, info.serial, align="right", leading=1.8)
    b.rule()
    b.para(f"{info.resident_name or '居民'}：", body, leading=1.8)
    here = "本村" if info.village else "本社区"
    b.para(
        f"\u3000\u3000您申请开具的“{info.type_name}”，依据{info.basis}，不属于村（社区）应当出具的证明事项，"
        f"{here}不予出具。",
        body,
        leading=1.8,
    )
    b.space(body * 0.4)
    b.line(body, "您可以这样办：", bold=True, leading=1.8)
    b.para("\u3000\u3000" + info.redirect, body, leading=1.8)
    b.space(body * 0.4)
    b.para(
        f"\u3000\u3000如办事单位仍要求您提供该证明，可向其出示本告知单；也可拨打 {COMPLAINT_LINE} 反映。",
        body,
        leading=1.8,
    )
    b.space(body)
    b.para(f"咨询电话：{info.station_phone or '（见窗口公示）'}　　告知人：{info.worker_name}", body)
    b.space(12 * mm)
    signature(b, issuer, info.day, body)
    if info.qr:
        b.space(10 * mm)
        qr_top = b.y
        b.qr(info.qr, 24 * mm, x=b.margin)
        b.y = qr_top + 6 * mm
        b.para(verify_line(issuer, info.station_phone), 9.5, indent=30 * mm, leading=1.6)
    return b.finish()
