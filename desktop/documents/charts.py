"""Charts for reports, drawn with reportlab's graphics library.

A chart is a ``reportlab.graphics.shapes.Drawing``: the PDF renders it
natively, and the window paints the same drawing with QPainter
(``desktop.ui.printing.paint_drawing``), so the chart on screen, in the
preview and on paper are one picture.
"""

from __future__ import annotations

from collections.abc import Sequence

from reportlab.graphics.charts.barcharts import HorizontalBarChart, VerticalBarChart
from reportlab.graphics.shapes import Drawing, String
from reportlab.lib import colors

from desktop.documents.fonts import Font

BAR = colors.HexColor("#3b6ea5")
GRID = colors.HexColor("#c8c8c8")


def _label(s: str, n: int = 9) -> str:
    return s if len(s) <= n else s[: n - 1] + "…"


def _nice_max(v: float) -> float:
    if v <= 0:
        return 1.0
    step = 10 ** max(0, len(str(int(v))) - 1)
    return float((int(v / step) + 1) * step)


def _fmt(v: float) -> str:
    return f"{v:,.0f}" if float(v).is_integer() else f"{v:,.1f}"


def drawing(
    kind: str,
    title: str,
    labels: Sequence[str],
    values: Sequence[float],
    font: Font,
    width: float,
    height: float | None = None,
) -> Drawing:
    """A bar chart (``bar``: vertical, ``hbar``: horizontal) of one series
    with its values printed on the bars."""
    values = [float(v or 0) for v in values]
    labels = list(labels) or ["（无数据）"]
    if not values:
        values = [0.0]
    if kind == "hbar":
        height = height or max(90.0, 34 + 18 * len(labels))
    else:
        height = height or 170.0
    d = Drawing(width, height)
    d.add(String(width / 2, height - 13, title, fontName=font.name, fontSize=10, textAnchor="middle"))
    top = _nice_max(max(values))
    chart = HorizontalBarChart() if kind == "hbar" else VerticalBarChart()
    if kind == "hbar":
        chart.x, chart.y = 92, 16
        chart.width, chart.height = width - 92 - 30, height - 16 - 24  # type: ignore[assignment]  # stubs: int
        chart.categoryAxis.labels.dx = -4
        chart.categoryAxis.labels.textAnchor = "end"
        chart.categoryAxis.reverseDirection = 1  # the first (largest) on top
        chart.barLabels.dx = 3
        chart.barLabels.textAnchor = "start"
        chart.barLabels.boxAnchor = "w"
        chart.barLabelFormat = _fmt
        chart.barLabels.fontName = font.name
        chart.barLabels.fontSize = 7
        labels = [_label(s, 8) for s in labels]
    else:
        chart.x, chart.y = 36, 30
        chart.width, chart.height = width - 36 - 12, height - 30 - 26  # type: ignore[assignment]  # stubs: int
        chart.categoryAxis.labels.dy = -4
        chart.categoryAxis.labels.boxAnchor = "n"
        chart.barLabels.dy = 5
        chart.barLabels.boxAnchor = "s"
        chart.barLabelFormat = _fmt
        chart.barLabels.fontName = font.name
        chart.barLabels.fontSize = 7
        labels = [_label(s, 6) for s in labels]
    chart.data = [values]
    chart.categoryAxis.categoryNames = labels
    chart.categoryAxis.labels.fontName = font.name
    chart.categoryAxis.labels.fontSize = 8
    chart.valueAxis.valueMin = 0
    chart.valueAxis.valueMax = top
    chart.valueAxis.valueStep = top / 4 if top >= 4 else 1
    chart.valueAxis.labels.fontName = font.name
    chart.valueAxis.labels.fontSize = 7
    chart.valueAxis.labelTextFormat = _fmt
    chart.valueAxis.visibleGrid = 1
    chart.valueAxis.gridStrokeColor = GRID
    chart.valueAxis.gridStrokeWidth = 0.4
    chart.bars[0].fillColor = BAR
    chart.bars[0].strokeColor = None
    chart.barWidth = 10
    d.add(chart)
    return d
