"""The supervisor's report as a document and as an Excel workbook.

Takes the report built by ``desktop.services.reports`` (read by attribute, so
this layer does not import the services): a title page with the station,
period, who prepared it and the signature lines, then each section's
figures, charts and tables.  Long lists are cut in the PDF (the Excel file
has every row).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from reportlab.lib.units import mm

from desktop.documents import charts, sheets
from desktop.documents.fonts import Font
from desktop.documents.formatting import figure_text, format_value
from desktop.documents.layout import A4, Builder, Document, cn_date

PDF_ROW_LIMIT = 200
# 用时 and hours read as on screen and in the PDF: 10, 2.3, 1544.5 (not 10.0)
EXCEL_FORMATS = {
    "pct": "0.0%",
    "days": "General",
    "hours": "General",
    "int": "#,##0",
    "date": "yyyy-mm-dd",
    "datetime": "yyyy-mm-dd hh:mm",
}


def _figures(b: Builder, figures: list[Any], size: float) -> None:
    cells = [[f.label, figure_text(f)] for f in figures]
    rows = []
    for i in range(0, len(cells), 3):
        chunk = cells[i : i + 3] + [["", ""]] * (3 - len(cells[i : i + 3]))
        rows.append([x for pair in chunk for x in pair])
    b.table(["项目", "数值"] * 3, rows, [0.2, 0.133] * 3, size, right={1, 3, 5})


def _charts(b: Builder, items: list[Any], font: Font) -> None:
    half = (b.inner - 12) / 2
    pending = [c for c in items if c.labels]
    i = 0
    while i < len(pending):
        pair = pending[i : i + 2]
        # one height for a pair, so the two charts' titles line up
        h = max(max(90.0, 34 + 18 * len(c.labels)) if c.kind == "hbar" else 170.0 for c in pair)
        drawings = [charts.drawing(c.kind, c.title, c.labels, c.values, font, half, h) for c in pair]
        b.need(h)
        for k, d in enumerate(drawings):
            b.graphic(d, x=b.margin + k * (half + 12), advance=k == len(drawings) - 1)
        i += 2
        b.space(6)


def build(report: Any, font: Font) -> Document:
    b = Builder(font, A4, 18 * mm, report.title)
    # -- title page
    b.space(120)
    b.line(24, report.station_label, bold=True, align="center", leading=1.6)
    b.line(20, f"{report.period.label}工作报表", bold=True, align="center", leading=2.2)
    b.line(12, f"统计期间：{cn_date(report.period.start)}至{cn_date(report.period.end)}", align="center")
    b.space(60)
    lw = 90
    b.field("编制单位：", report.station_label, 12, lw, leading=2.0)
    b.field("编制人：", report.prepared_by, 12, lw, leading=2.0)
    b.field("编制日期：", cn_date(report.generated_at), 12, lw, leading=2.0)
    b.space(30)
    b.line(12, "编制人（签字）：________________    审核人（签字）：________________", leading=2.4)
    b.line(12, "日期：______年____月____日                     （盖章）", leading=2.4)
    b.space(40)
    b.para(
        "本报表由“社区一站通”根据本站台账自动汇总；软件“报表”页中点击任一数字可查看其对应的每一条记录。"
        "居民身份证号码不出现在本报表中。",
        9,
    )
    # -- sections
    for sec in report.sections:
        b._new_page()
        b.line(15, sec.title, bold=True, leading=1.8)
        if sec.figures:
            _figures(b, sec.figures, 9)
            b.space(10)
        if sec.charts:
            _charts(b, sec.charts, font)
        for t in sec.tables:
            b.need(60)
            b.line(11, t.title, bold=True, leading=1.9)
            if t.note:
                b.para(t.note, 8.5)
            if not t.rows:
                b.line(9, "（本期无记录）", leading=1.8)
                b.space(6)
                continue
            rows = t.rows[:PDF_ROW_LIMIT]
            text = [[format_value(v, t.formats.get(i, "")) for i, v in enumerate(r)] for r in rows]
            widths = t.widths or [1 / len(t.columns)] * len(t.columns)
            right = {i for i, f in t.formats.items() if f in ("int", "pct", "days", "hours")}
            b.table(t.columns, text, widths, 8.5, right=right)
            if len(t.rows) > PDF_ROW_LIMIT:
                b.line(8.5, f"另有 {len(t.rows) - PDF_ROW_LIMIT} 行未打印，完整名单见同期 Excel 报表。", leading=1.8)
            b.space(10)
        for n in sec.notes:
            b.para("注：" + n, 8.5)
    doc = b.finish()
    total = len(doc.pages)
    for i, page in enumerate(doc.pages[1:], start=2):  # page numbers, not on the title page
        from desktop.documents.layout import Text

        label = f"{report.station_label} {report.period.label}工作报表 · 第 {i} 页 共 {total} 页"
        w = b.measure(label, 8)
        page.ops.append(Text((page.width - w) / 2, page.height - 10 * mm, label, 8))
    return doc


def _sheet_title(prefix: str, title: str, used: set[str]) -> str:
    bad = set("[]:*?/\\")
    name = "".join(ch for ch in f"{prefix}{title}" if ch not in bad)
    name = name.replace("（", "(").replace("）", ")")[:31]
    base, n = name, 2
    while name in used:
        name = f"{base[:28]}{n}"
        n += 1
    used.add(name)
    return name


def write_excel(report: Any, path: str | Path) -> Path:
    """One sheet per table (a single header row each, frozen, so the street
    office can paste columns), after a 概要 sheet with every figure.
    Numbers and dates are real cells with number formats, never text."""
    used: set[str] = set()
    summary = [
        [sec.title, f.label, f.value, f.unit or ("%" if f.fmt == "pct" else "")]
        for sec in report.sections
        for f in sec.figures
    ]
    out: list[tuple[str, list[str], list[list[Any]], dict[int, str]]] = [
        (_sheet_title("", "概要", used), ["板块", "指标", "数值", "单位"], summary, {})
    ]
    pct_rows = {i for i, sec_f in enumerate((f for sec in report.sections for f in sec.figures)) if sec_f.fmt == "pct"}
    for sec in report.sections:
        short = sec.title.split("、", 1)[-1]
        for t in sec.tables:
            fmts = {i: EXCEL_FORMATS[f] for i, f in t.formats.items() if f in EXCEL_FORMATS}
            out.append((_sheet_title(short + "-", t.title, used), t.columns, t.rows, fmts))
    return sheets.write_workbook(
        path,
        out,
        title=f"{report.title}（{cn_date(report.period.start)}至"
        f"{cn_date(report.period.end)}，编制：{report.prepared_by}）",
        cell_formats={(0, r, 2): EXCEL_FORMATS["pct"] for r in pct_rows},
    )
