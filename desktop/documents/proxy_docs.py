"""委托代办原件交接单: what a proxy agent took from a resident and gave back,
with the signatures of both at each hand-over (A4 or A5)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from reportlab.lib.units import mm

from desktop.documents.counter_docs import cn_datetime
from desktop.documents.fonts import Font
from desktop.documents.layout import A4, A5, Builder, Document, cn_date

LAYOUTS = {"A4": A4, "A5": A5}
BLANK = "____年__月__日"


@dataclass
class SlipInfo:
    station_name: str
    station_phone: str
    receipt_no: str
    matter_name: str
    resident_name: str
    resident_doc_masked: str
    resident_phone: str
    agent_name: str
    agent_phone: str
    village_group: str
    worker_name: str
    originals: list[tuple[str, int, bool | None]]  # name, count, returned (None: not yet)
    received_at: datetime  # local time
    forwarded_to: str = ""
    handed_back_at: datetime | None = None  # local time
    day: date | None = None  # printed on


def _returned(flag: bool | None) -> str:
    if flag is None:
        return "□已退还 □未退还"  # ticked by hand at the hand-back
    return "已退还" if flag else "未退还"


def handover_slip(info: SlipInfo, font: Font, layout: str = "A4") -> Document:
    a5 = layout == "A5"
    body = 10 if a5 else 12
    margin = 12 * mm if a5 else 20 * mm
    b = Builder(font, LAYOUTS[layout], margin, f"代办原件交接单 {info.receipt_no}")
    b.line(body + 1, info.station_name, bold=True, align="center")
    b.line(body + (6 if a5 else 8), "委托代办原件交接单", bold=True, align="center", leading=1.8)
    b.line(body - 1, f"回执编号：{info.receipt_no}", align="center")
    b.rule()
    lw = body * 6.2
    b.field("代办事项：", info.matter_name, body, lw)
    who = info.resident_name + (f"（证件号码 {info.resident_doc_masked}）" if info.resident_doc_masked else "")
    b.field("委 托 人：", who + (f"　电话 {info.resident_phone}" if info.resident_phone else ""), body, lw)
    b.field(
        "代 办 员：",
        f"{info.agent_name}（{info.village_group}）" + (f"　电话 {info.agent_phone}" if info.agent_phone else ""),
        body,
        lw,
    )
    b.field("收件时间：", cn_datetime(info.received_at), body, lw)
    if info.forwarded_to:
        b.field("转交去向：", info.forwarded_to, body, lw)
    b.space(body * 0.4)
    b.line(body, "交接的原件：", bold=True)
    rows = [[str(i), name, f"{count}", _returned(ret)] for i, (name, count, ret) in enumerate(info.originals, 1)]
    b.table(["序号", "原件名称", "份数", "交还居民时"], rows, [0.1, 0.5, 0.12, 0.28], body - 1, right={2})
    total = sum(c for _, c, _ in info.originals)
    b.line(body - 1, f"共 {len(info.originals)} 种、{total} 份。", align="right")
    b.space(body * 0.6)
    gap = 7 * mm if a5 else 10 * mm
    b.line(body, "一、收件（委托人将以上原件交代办员）", bold=True)
    b.space(gap * 0.4)
    b.line(body, "委托人签字：____________　　代办员签字：____________", leading=1.8)
    b.line(body, f"经办人：{info.worker_name or '____________'}　　日期：{cn_date(info.received_at)}", leading=1.8)
    b.space(gap * 0.6)
    b.line(body, "二、交还（代办员将办理结果和以上原件交还委托人）", bold=True)
    b.space(gap * 0.4)
    b.line(body, "委托人签字：____________　　代办员签字：____________", leading=1.8)
    back = cn_date(info.handed_back_at) if info.handed_back_at else BLANK
    b.line(body, f"经办人：____________　　日期：{back}", leading=1.8)
    b.space(body * 0.6)
    b.para(
        "说明：代办不收取任何费用。原件请当面清点；未退还的原件须写明去向。"
        + (f"有疑问请联系站点：{info.station_phone}。" if info.station_phone else ""),
        body - 1.5,
    )
    b.space(body * 0.4)
    b.line(
        body - 1, f"本单一式两份，委托人、站点各执一份。打印日期：{cn_date(info.day or date.today())}", align="right"
    )
    return b.finish()
