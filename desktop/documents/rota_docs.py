"""The weekly 值班表 for the hall's notice board: A4 landscape, windows down
the side and the seven days across, large enough to read from a step away;
the A/B pairs and who is away underneath."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from reportlab.lib.units import mm

from desktop.documents.fonts import Font
from desktop.documents.layout import Builder, Document, cn_date

A4_LANDSCAPE = (297 * mm, 210 * mm)
WEEKDAYS = "一二三四五六日"


@dataclass
class RotaSheetInfo:
    station_name: str
    station_phone: str
    monday: date
    days: list[date]
    working: list[bool]  # per day
    # window, then per day the cell's lines ("张敏 08:30–12:00", "刘洋 17:30–20:00 延时")
    rows: list[tuple[str, list[list[str]]]]
    pairs: list[tuple[str, str, str, str]]  # area, window, A, B
    away: list[str]  # "张敏 请假 12月7日–12月9日，刘洋代岗"
    office: str  # "工作日 08:30–17:30"
    printed_on: date


def rota_sheet(info: RotaSheetInfo, font: Font) -> Document:
    b = Builder(font, A4_LANDSCAPE, 12 * mm, f"值班表 {info.monday:%Y-%m-%d}")
    body = 14
    b.line(22, f"{info.station_name}值班表", bold=True, align="center", leading=1.7)
    end = info.days[-1]
    b.line(body + 1, f"{cn_date(info.monday)}（星期一）至 {cn_date(end)}（星期日）", align="center", leading=1.8)
    heads = ["窗口"] + [
        f"{d.month}月{d.day}日 周{WEEKDAYS[d.weekday()]}" + ("" if w else "\n（休息日）")
        for d, w in zip(info.days, info.working, strict=True)
    ]
    rows = [[window] + ["\n".join(cell) if cell else "—" for cell in cells] for window, cells in info.rows]
    if not rows:
        rows = [["—"] + ["本周未排班"] + ["—"] * 6]
    b.table(heads, rows, [0.09] + [0.13] * 7, body)
    b.space(body * 0.5)
    if info.pairs:
        b.line(body, "AB岗（A岗不在时由B岗代为受理、办理）：", bold=True, leading=1.6)
        half = (len(info.pairs) + 1) // 2
        for i in range(half):
            pair = [f"{area}（{window}）：A岗 {a}，B岗 {bb}" for area, window, a, bb in info.pairs[i::half]]
            b.line(body - 1, "　　".join(pair), leading=1.5)
    if info.away:
        b.para("本周不在岗：" + "；".join(info.away) + "。", body - 1, leading=1.5)
    b.para(
        f"办公时间：{info.office}。“错时”为周末、节假日或午间等错时上班，“延时”为下班后延时服务。"
        f"咨询电话：{info.station_phone or '见窗口公示'}。",
        body - 2,
        leading=1.5,
    )
    b.line(body - 2, f"{info.station_name}　{cn_date(info.printed_on)}", align="right")
    return b.finish()
