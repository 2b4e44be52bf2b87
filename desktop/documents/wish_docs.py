"""The 微心愿 board (微心愿认领公示): A4, large type, for the notice board."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from reportlab.lib.units import mm

from desktop.documents.fonts import Font
from desktop.documents.layout import A4, Builder, Document, cn_date


@dataclass
class WishBoardInfo:
    station_name: str
    station_phone: str
    day: date
    rows: list[tuple[str, str, str, str, float]]  # number, wish, surname + 某, grid, value


def wish_board(info: WishBoardInfo, font: Font) -> Document:
    b = Builder(font, A4, 18 * mm, f"微心愿认领公示 {info.day:%Y-%m-%d}")
    body = 13
    b.line(body + 1, info.station_name, bold=True, align="center")
    b.line(24, "微心愿认领公示", bold=True, align="center", leading=2.0)
    b.rule()
    phone = f"或致电 {info.station_phone}" if info.station_phone else ""
    b.para(
        f"\u3000\u3000下列是辖区居民的“微心愿”，欢迎党员、志愿者和爱心单位认领。认领请到{info.station_name}"
        f"{phone}，报上心愿编号；心愿由社区工作人员陪同送达。",
        body,
        leading=1.7,
    )
    b.space(4)
    if info.rows:
        b.table(
            ["心愿编号", "心愿内容", "许愿人", "网格", "估值（元）"],
            [[n, title, who, grid or "—", f"{v:g}"] for n, title, who, grid, v in info.rows],
            [0.25, 0.34, 0.12, 0.15, 0.14],
            body - 1,
            right={4},
        )
    else:
        b.line(body, "目前没有待认领的心愿，感谢大家的关心。", align="center", leading=2.0)
    b.space(6)
    b.para(
        f"共 {len(info.rows)} 个心愿待认领，估值合计 {sum(r[4] for r in info.rows):g} 元。"
        "为保护居民隐私，只公示姓氏和所在网格。",
        body - 1,
        leading=1.6,
    )
    b.space(8 * mm)
    b.line(body, f"{info.station_name}　{cn_date(info.day)}", align="right")
    return b.finish()
