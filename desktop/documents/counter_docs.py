"""The counter's paper: the acceptance receipt (受理回执) in A4, A5 and 80 mm
roll layouts, and the one-time notice (一次性告知单)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from reportlab.lib.units import mm

from desktop.documents.fonts import Font
from desktop.documents.layout import A4, A5, Builder, Document, ROLL80, cn_date

LAYOUTS = {"A4": A4, "A5": A5, "80mm": ROLL80}
COMPLAINT_LINE = "12345 政务服务便民热线"


# Papers a worker looks at and hands back: an ID card is seen, not kept.
ORIGINALS_SEEN = (
    "身份证",
    "户口簿",
    "户口本",
    "居住证",
    "结婚证",
    "离婚证",
    "残疾人证",
    "护照",
    "通行证",
    "驾驶证",
    "出生医学证明",
    "不动产权证",
    "房产证",
    "营业执照",
    "社保卡",
    "优待证",
)
PROXY_NOTE = (
    "本事项为代办：承诺时限已包含本站核对材料和转交上级部门的时间；办理结果以上级部门的决定为准，本站收到后通知您。"
)


def material_line(name: str, copies: int) -> str:
    """验原件 (seen and handed back) or 收 N 份 (kept)."""
    if any(k in name for k in ORIGINALS_SEEN):
        return f"{name}：验原件（当场退还），收复印件 {copies} 份"
    return f"{name}：收 {copies} 份"


def cn_datetime(dt: datetime) -> str:
    return f"{cn_date(dt)} {dt:%H:%M}"


@dataclass
class ReceiptInfo:
    station_name: str
    station_phone: str
    receipt_no: str
    resident_name: str
    resident_doc_masked: str
    matter_name: str
    mode_label: str
    channel_label: str
    materials: list[tuple[str, int]]  # (name, copies) received
    accepted_at: datetime  # local time
    worker_name: str
    promised_date: date
    promised_days: int


@dataclass
class NoticeMaterial:
    name: str
    required: bool
    copies: int
    source: str
    missing: bool = False


@dataclass
class NoticeInfo:
    station_name: str
    station_phone: str
    notice_no: str
    matter_name: str
    mode_label: str
    basis: str
    conditions: str
    process: str
    fee: str
    promised_days: int
    materials: list[NoticeMaterial] = field(default_factory=list)
    resident_name: str = ""
    reason: str = ""
    worker_name: str = ""
    day: date | None = None


def receipt(info: ReceiptInfo, font: Font, layout: str = "A4") -> Document:
    size = LAYOUTS[layout]
    roll = layout == "80mm"
    margin = 4 * mm if roll else (20 * mm if layout == "A4" else 12 * mm)
    body = 8.5 if roll else (12 if layout == "A4" else 10)
    b = Builder(font, size, margin, f"受理回执 {info.receipt_no}")
    b.line(body + 2, info.station_name, bold=True, align="center")
    b.line(body + 8 if not roll else body + 5, "受 理 回 执", bold=True, align="center", leading=1.8)
    b.line(body - 1, f"回执编号：{info.receipt_no}", align="center")
    b.rule()
    label_w = (body * 6.2) if not roll else body * 5.5
    b.field("申 请 人：", info.resident_name, body, label_w)
    b.field("证件号码：", info.resident_doc_masked or "—", body, label_w)
    matter = info.matter_name
    if info.mode_label and info.mode_label not in matter:
        matter += f"（{info.mode_label}）"
    b.field("受理事项：", matter, body, label_w)
    b.field("受理渠道：", info.channel_label, body, label_w)
    b.field("受理时间：", cn_datetime(info.accepted_at), body, label_w)
    b.field("受 理 人：", info.worker_name, body, label_w)
    promised = cn_date(info.promised_date)
    if info.promised_days:
        promised += f"（{info.promised_days} 个工作日内）"
    else:
        promised += "（当场办结）"
    b.field("承诺时限：", promised, body, label_w)
    b.space(body * 0.3)
    b.line(body, "已收材料：", bold=True)
    if info.materials:
        for i, (name, copies) in enumerate(info.materials, 1):
            b.para(f"{i}. {material_line(name, copies)}", body, indent=body)
    else:
        b.para("无需提交材料", body, indent=body)
    if info.mode_label == "代办":
        b.para(PROXY_NOTE, body - 1)
    b.rule(dash=True)
    b.para(
        "查询进度：凭本回执编号到服务窗口查询，或拨打站点电话 "
        f"{info.station_phone or '（见窗口公示）'}。到窗口时出示本回执二维码，工作人员扫码即可调出办理记录。",
        body - 1,
    )
    b.para(f"如对服务不满意，可向站长反映，或拨打 {COMPLAINT_LINE}。", body - 1)
    b.space(body * 0.6)
    qr_size = (30 * mm) if not roll else (28 * mm)
    if roll:
        b.qr(info.receipt_no, qr_size)
        b.line(body - 1, info.receipt_no, align="center")
        b.space(body * 0.5)
        b.line(body, f"{info.station_name}", align="center")
        b.line(body, cn_date(info.accepted_at.date()), align="center")
    else:
        top = b.y
        b.qr(info.receipt_no, qr_size, x=b.margin)
        end = b.y
        b.y = top + qr_size * 0.3
        b.line(body, f"{info.station_name}（盖章）", align="right")
        b.line(body, cn_date(info.accepted_at.date()), align="right")
        b.y = max(end, b.y)
        b.line(body - 3, "窗口扫码调取记录", indent=2 * mm)
    if layout == "A4":
        stub(b, info, body - 1.5, promised)
    return b.finish()


def stub(b: Builder, info: ReceiptInfo, size: float, promised: str) -> None:
    """存根: the station's copy below a cut line, signed by the applicant."""
    b.space(size)
    b.rule(dash=True)
    b.line(size - 2, "沿虚线剪开，以下为存根，由本站留存", align="center")
    b.line(size + 2, "受理回执（存根）", bold=True, align="center", leading=1.8)
    b.para(f"回执编号：{info.receipt_no}　　申请人：{info.resident_name}　　受理人：{info.worker_name}", size)
    b.para(f"受理事项：{info.matter_name}　　受理时间：{cn_datetime(info.accepted_at)}", size)
    b.para(f"承诺时限：{promised}　　收件：" + ("、".join(n for n, _ in info.materials) or "无"), size)
    b.space(size * 0.5)
    b.line(size, "申请人签字：______________　　日期：______________", align="right")


def notice(info: NoticeInfo, font: Font, layout: str = "A4") -> Document:
    size = LAYOUTS["A4" if layout == "80mm" else layout]
    margin = 20 * mm if layout == "A4" else 12 * mm
    body = 11 if layout == "A4" else 9.5
    b = Builder(font, size, margin, f"一次性告知单 {info.notice_no}")
    b.line(body + 2, info.station_name, bold=True, align="center")
    b.line(body + 8, "一次性告知单", bold=True, align="center", leading=1.8)
    b.line(body - 1, f"编号：{info.notice_no}", align="center")
    b.rule()
    if info.resident_name:
        b.para(f"{info.resident_name}：", body)
    b.para(f"您咨询（申请）办理的“{info.matter_name}”，现将有关事项一次性告知如下：", body, indent=2 * body)
    b.space(body * 0.3)
    label_w = body * 6.2
    b.field("办理方式：", info.mode_label, body, label_w)
    b.field("办理依据：", info.basis, body, label_w)
    b.field("办理条件：", info.conditions, body, label_w)
    b.field("办理流程：", info.process, body, label_w)
    b.field("收费标准：", info.fee or "不收费", body, label_w)
    b.field("承诺时限：", f"{info.promised_days} 个工作日" if info.promised_days else "当场办结", body, label_w)
    b.space(body * 0.4)
    b.line(body, "所需材料：", bold=True)
    if info.materials:
        rows = [
            [
                str(i),
                m.name + ("（尚缺）" if m.missing else ""),
                "必需" if m.required else "视情况",
                str(m.copies),
                m.source or "—",
            ]
            for i, m in enumerate(info.materials, 1)
        ]
        b.table(["序号", "材料名称", "要求", "份数", "获取途径"], rows, [0.08, 0.44, 0.13, 0.09, 0.26], body - 1)
    else:
        b.para("无需提交材料。", body, indent=body)
    missing = [m.name for m in info.materials if m.missing]
    if missing or info.reason:
        b.space(body * 0.5)
        b.line(body, "本次未予受理的原因：", bold=True)
        text = info.reason or ""
        if missing:
            text = "缺少必需材料：" + "、".join(missing) + "。请备齐后再来办理。" + (" " + text if text else "")
        b.para(text, body, indent=body)
    b.space(body * 0.5)
    b.para(f"咨询电话：{info.station_phone or '（见窗口公示）'}　　投诉电话：{COMPLAINT_LINE}", body)
    b.space(body)
    if info.worker_name:
        b.line(body, f"告知人：{info.worker_name}", align="right")
    b.line(body, f"{info.station_name}（盖章）", align="right")
    b.line(body, cn_date(info.day or date.today()), align="right")
    return b.finish()
