"""走访任务单: the list a worker takes out on a round, one grid per page run,
in walking order, with blank columns to write what happened."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from reportlab.lib.units import mm

from desktop.documents.fonts import Font
from desktop.documents.layout import Builder, Document, cn_date

A4_LANDSCAPE = (297 * mm, 210 * mm)


@dataclass
class VisitListLine:
    address: str
    names: str
    tags: str
    phone: str
    tier: str
    due: str  # 从未走访 / 已逾期 3 天 / 12-05 到期
    last: str  # the last visit (or 不在家 attempt)


@dataclass
class VisitListInfo:
    station_name: str
    station_phone: str
    worker_name: str
    week_start: date
    week_end: date
    printed_on: date
    grids: list[tuple[str, list[VisitListLine]]]  # grid → its households in route order


def visit_list(info: VisitListInfo, font: Font) -> Document:
    body = 12  # read outdoors, at a door, by older workers: larger than the counter's papers
    b = Builder(font, A4_LANDSCAPE, 12 * mm, f"走访任务单 {info.week_start:%Y-%m-%d}")
    if not info.grids:
        b.line(18, "走访任务单", bold=True, align="center", leading=2.0)
        b.para("本周没有需要走访的户。", body)
        return b.finish()
    for n, (grid, lines) in enumerate(info.grids):
        if n:
            b.need(b.height)  # each grid starts a page (one worker, one grid)
        b.line(18, "走访任务单", bold=True, align="center", leading=2.0)
        b.line(
            body,
            f"{info.station_name}　网格：{grid or '未分网格'}　走访人：{info.worker_name}　"
            f"本周：{info.week_start:%m月%d日}—{info.week_end:%m月%d日}　共 {len(lines)} 户",
            leading=1.8,
        )
        b.table(
            ["序号", "住址", "居民", "群体", "电话", "频次 / 到期", "上次走访", "结果", "见到谁、情况、发现的需求"],
            [
                [
                    str(i),
                    x.address or "—",
                    x.names,
                    x.tags,
                    x.phone or "—",
                    f"{x.tier}\n{x.due}",
                    x.last or "—",
                    "□见到 □不在家\n日期：____",
                    "\n",
                ]
                for i, x in enumerate(lines, 1)
            ],
            [0.04, 0.16, 0.08, 0.085, 0.1, 0.085, 0.08, 0.125, 0.245],
            body - 1,
        )
        b.space(body)
        b.para(
            "“不在家”请写明日期，本户仍在待走访名单中，请改日再访。发现的需求回站后在“走访”页登记，可一键转为志愿服务需求或受理事项。"
            f"站点电话：{info.station_phone or '（见窗口公示）'}。",
            body - 1.5,
        )
        b.space(body * 0.6)
        b.line(body, f"走访人签字：______________　　打印日期：{cn_date(info.printed_on)}", align="right")
    return b.finish()
