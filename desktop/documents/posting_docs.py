"""Notice-board postings (公开栏, A4 or A3 in large type) and the notice that
declines a department's task (不予承接告知单, A4)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from reportlab.lib.units import mm

from desktop.documents.certificate_docs import signature
from desktop.documents.fonts import Font
from desktop.documents.layout import A3, A4, Builder, Document, cn_date

# (paper, margin, title size, body size): read from a few steps away
SIZES = {"A4": (A4, 20 * mm, 28.0, 18.0), "A3": (A3, 26 * mm, 40.0, 26.0)}


@dataclass
class PostingInfo:
    issuer: str  # the committee that posts it
    category_label: str  # 党务 / 居务 / 村务 / 财务 / 服务
    title: str
    body: str
    on_date: date
    off_date: date
    period_days: int | None
    phone: str


def posting(info: PostingInfo, font: Font, layout: str = "A4") -> Document:
    paper, margin, title_size, size = SIZES[layout]
    b = Builder(font, paper, margin, f"{info.category_label}公开 {info.title}")
    b.line(size, f"【{info.category_label}公开】", bold=True, align="left", leading=1.6)
    for ln in b.wrap(info.title, title_size, b.inner):
        b.line(title_size, ln, bold=True, align="center", leading=1.45)
    b.rule(gap=size * 0.4)
    for para in info.body.split("\n"):
        if not para.strip():
            b.space(size * 0.5)
            continue
        heading = para.startswith(("【", "一、", "二、", "三、"))
        plain = heading or para[:1].isdigit()
        b.para(para.strip() if plain else "\u3000\u3000" + para.strip(), size, leading=1.55, bold=heading)
    b.space(size)
    if info.period_days:
        end = info.on_date.toordinal() + info.period_days - 1
        b.para(
            f"公示期 {info.period_days} 天：{cn_date(info.on_date)}至{cn_date(date.fromordinal(end))}。"
            f"如有异议，请在公示期内向{info.issuer}反映，电话：{info.phone or '见窗口公示'}。",
            size * 0.85,
            leading=1.55,
        )
    else:
        b.para(
            f"公开时间：{cn_date(info.on_date)}至{cn_date(info.off_date)}。监督电话：{info.phone or '见窗口公示'}。",
            size * 0.85,
            leading=1.55,
        )
    r = 21 * mm if layout == "A4" else 28 * mm
    b.space(max(size * 1.5, r - size * 1.2 + 4 * mm))  # the seal circle clear of the text above
    signature(b, info.issuer, info.on_date, size, r=r)
    return b.finish()


@dataclass
class DeclineInfo:
    issuer: str
    phone: str
    serial: str
    department: str
    received_on: date
    content: str
    item_name: str  # the negative-list entry, or "" when on no list
    basis: str
    worker_name: str
    day: date


def decline_notice(info: DeclineInfo, font: Font) -> Document:
    b = Builder(font, A4, 22 * mm, f"不予承接告知单 {info.serial}")
    body = 12.5
    b.line(body + 2, info.issuer, bold=True, align="center")
    b.line(20, "工作事项不予承接告知单", bold=True, align="center", leading=2.0)
    b.line(11.5, info.serial, align="right", leading=1.8)
    b.rule()
    b.para(f"{info.department}：", body, leading=1.8)
    b.para(f"\u3000\u3000贵单位于{cn_date(info.received_on)}交由我村（社区）办理的以下事项：", body, leading=1.8)
    b.para("\u3000\u3000" + info.content, body, leading=1.8)
    if info.item_name:
        reason = f"属于《不应由村（社区）承担的工作事项清单》中的“{info.item_name}”"
    else:
        reason = "未列入本地村（社区）工作事项清单，也未经街道（乡镇）审核准入"
    b.para(f"\u3000\u3000经核对，该事项{reason}。依据{info.basis}，我村（社区）不予承接，特此告知。", body, leading=1.8)
    b.para(
        "\u3000\u3000如确需村（社区）协助，请按工作事项准入程序报街道（乡镇）审核，明确经费和工作条件后再行交办。",
        body,
        leading=1.8,
    )
    b.space(body)
    b.para(f"联系电话：{info.phone or '（见窗口公示）'}　　经办人：{info.worker_name}", body)
    b.space(14 * mm)
    signature(b, info.issuer, info.day, body)
    return b.finish()
