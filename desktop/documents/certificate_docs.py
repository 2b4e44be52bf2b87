"""Certificates (证明) and refusal notices (不予出具告知单), A4."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from reportlab.lib.units import mm

from desktop.documents.fonts import Font
from desktop.documents.layout import A4, Builder, Document, Line, Text, cn_date

COMPLAINT_LINE = "12345 政务服务便民热线"



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


def seal_area(b: Builder, cx: float, cy: float, r: float, label: str) -> None:
    """A dashed circle where the seal goes, with its name, drawn as line segments."""
    import math

    steps = 48
    for i in range(0, steps, 2):
        a1, a2 = 2 * math.pi * i / steps, 2 * math.pi * (i + 1) / steps
        b.page.ops.append(Line(cx + r * math.cos(a1), cy + r * math.sin(a1), cx + r * math.cos(a2),
                               cy + r * math.sin(a2), 0.5))
    size = 8
    w = b.measure(label, size)
    b.page.ops.append(Text(cx - w / 2, cy + r * 0.72, label, size))  # low in the circle, clear of the name
    b.all_text.append(label)


def certificate(info: CertificateInfo, font: Font) -> Document:
    b = Builder(font, A4, 25 * mm, f"{info.title} {info.serial}")
    body = 15
    b.space(10 * mm)
    b.line(24, info.title, bold=True, align="center", leading=2.0)
    b.line(11.5, info.serial, align="right", leading=2.2)
    for para in info.body.split("\n"):
        b.para("\u3000\u3000" + para.strip(), body, leading=1.9)
    b.space(8 * mm)
    b.line(body, "特此证明。", indent=2 * body, leading=1.9)
    b.space(18 * mm)
    top = b.y
    b.line(body, info.station_name, align="right", leading=1.8)
    b.line(body, cn_date(info.issued_on), align="right", leading=1.8)
    name_w = b.measure(info.station_name, body)
    seal_area(b, b.margin + b.inner - name_w / 2, top + body * 1.2, 21 * mm, f"（{info.seal}）")
    b.space(14 * mm)
    qr_top = b.y
    b.qr(info.qr, 26 * mm, x=b.margin)
    b.y = qr_top + 6 * mm
    notes = [f"经办人：{info.handler_name}　　咨询电话：{info.station_phone or '（见窗口公示）'}",
             "扫描左侧二维码，可在任一社区服务站核验本证明的真伪。",
             "本证明仅用于上述用途，涂改无效。"]
    if info.replaces_serial:
        notes.append(f"本证明为补开，原 {info.replaces_serial} 作废。")
    for n in notes:
        b.para(n, 9.5, indent=32 * mm, leading=1.6)
    return b.finish()


def refusal_notice(info: RefusalInfo, font: Font) -> Document:
    b = Builder(font, A4, 22 * mm, f"不予出具证明告知单 {info.type_name}")
    body = 12
    b.line(body + 2, info.station_name, bold=True, align="center")
    b.line(20, "不予出具证明告知单", bold=True, align="center", leading=2.0)
    b.rule()
    b.para(f"{info.resident_name or '居民'}：", body, leading=1.8)
    b.para(f"\u3000\u3000您申请开具的“{info.type_name}”，依据{info.basis}，不属于村（社区）应当出具的证明事项，"
           "本社区不予出具。", body, leading=1.8)
    b.space(body * 0.4)
    b.line(body, "您可以这样办：", bold=True, leading=1.8)
    b.para("\u3000\u3000" + info.redirect, body, leading=1.8)
    b.space(body * 0.4)
    b.para("\u3000\u3000如办事单位仍要求您提供该证明，可向其出示本告知单；也可拨打 "
           f"{COMPLAINT_LINE} 反映。", body, leading=1.8)
    b.space(body)
    b.para(f"咨询电话：{info.station_phone or '（见窗口公示）'}　　告知人：{info.worker_name}", body)
    b.space(body * 2)
    b.line(body, f"{info.station_name}", align="right", leading=1.8)
    b.line(body, cn_date(info.day), align="right", leading=1.8)
    return b.finish()
