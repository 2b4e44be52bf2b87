"""Preview, print and save documents laid out by ``desktop.documents``.

The same drawing operations reportlab writes into the PDF are painted here
with QPainter, onto the preview and onto the printer, using the same font
file, so the paper matches the saved PDF. Before anything is shown, every
character is checked against the font: a rare name character (生僻字) that
would print as an empty box is reported first.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QMarginsF, QPointF, QRectF, QSizeF, Qt
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontDatabase,
    QFontMetricsF,
    QPageLayout,
    QPageSize,
    QPainter,
    QPen,
    QTransform,
)
from PySide6.QtPrintSupport import QPrintDialog, QPrinter, QPrintPreviewWidget
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop.documents import fonts, pdf
from desktop.documents.layout import QR, Document, Graphic, Line, Page, Rect, Text
from desktop.ui import files
from desktop.ui.errors import show_error
from desktop.ui.widgets import hint, primary

_families: dict[str, str] = {}


def qt_family(font: fonts.Font) -> str:
    """Load the document's font file into Qt once; its family name."""
    if font.path not in _families:
        fid = QFontDatabase.addApplicationFont(font.path)
        fams = QFontDatabase.applicationFontFamilies(fid) if fid >= 0 else []
        _families[font.path] = fams[0] if fams else "Sans Serif"
    return _families[font.path]


def paint_page(p: QPainter, page: Page, font: fonts.Font, dpi: float) -> None:
    """Paint one laid-out page; coordinates are points, the device ``dpi``."""
    k = dpi / 72.0
    family = qt_family(font)
    p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    p.setRenderHint(QPainter.RenderHint.TextAntialiasing, True)
    black = QColor(0, 0, 0)
    for op in page.ops:
        if isinstance(op, Text):
            f = QFont(family)
            f.setPixelSize(max(1, round(op.size * k)))
            f.setBold(op.bold)
            p.setFont(f)
            p.setPen(black)
            p.drawText(QPointF(op.x * k, op.y * k), op.text)
        elif isinstance(op, Line):
            pen = QPen(black, op.width * k)
            if op.dash:
                pen.setStyle(Qt.PenStyle.DashLine)
            p.setPen(pen)
            p.drawLine(QPointF(op.x1 * k, op.y1 * k), QPointF(op.x2 * k, op.y2 * k))
        elif isinstance(op, Rect):
            p.setPen(QPen(black, op.width * k))
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.drawRect(QRectF(op.x * k, op.y * k, op.w * k, op.h * k))
        elif isinstance(op, Graphic):
            p.save()
            p.translate(op.x * k, op.y * k)
            p.scale(k, k)
            paint_drawing(p, op.drawing, family)
            p.restore()
        elif isinstance(op, QR):
            n = len(op.modules)
            cell = op.size / (n + 8) * k
            p.setPen(Qt.PenStyle.NoPen)
            for r, row in enumerate(op.modules):
                for c, dark in enumerate(row):
                    if dark:
                        # a hair wider, so antialiasing leaves no seams between modules
                        p.fillRect(
                            QRectF(op.x * k + (c + 4) * cell, op.y * k + (r + 4) * cell, cell + 0.5, cell + 0.5), black
                        )


def _qcolor(c: Any) -> QColor | None:
    if c is None:
        return None
    return QColor.fromRgbF(float(c.red), float(c.green), float(c.blue), float(getattr(c, "alpha", 1.0)))


def paint_drawing(p: QPainter, drawing: Any, family: str) -> None:
    """Paint a reportlab ``Drawing`` (a chart) with its top-left corner at the
    painter's origin, one unit per point: the same shapes the PDF gets, so the
    chart in the window is the chart on paper.  reportlab's y axis points up."""
    from reportlab.graphics import shapes as rs

    p.save()
    p.translate(0, drawing.height)
    p.scale(1, -1)

    def pen(node: Any) -> QPen | Qt.PenStyle:
        col = _qcolor(getattr(node, "strokeColor", None))
        width = getattr(node, "strokeWidth", 1) or 0
        if col is None or width <= 0:
            return Qt.PenStyle.NoPen
        q = QPen(col, float(width))
        if getattr(node, "strokeDashArray", None):
            q.setStyle(Qt.PenStyle.DashLine)
        return q

    def brush(node: Any) -> QColor | Qt.BrushStyle:
        col = _qcolor(getattr(node, "fillColor", None))
        return col if col is not None else Qt.BrushStyle.NoBrush

    def walk(node: Any) -> None:
        if isinstance(node, rs.Group):
            p.save()
            a, b, c, d, e, f = getattr(node, "transform", (1, 0, 0, 1, 0, 0))
            p.setTransform(QTransform(a, b, c, d, e, f), True)
            for child in node.getContents():
                walk(child)
            p.restore()
        elif isinstance(node, rs.String):
            col = _qcolor(node.fillColor) or QColor(0, 0, 0)
            font = QFont(family)
            font.setPixelSize(max(1, round(node.fontSize)))
            fm = QFontMetricsF(font)
            w = fm.horizontalAdvance(node.text)
            x = node.x - {"middle": w / 2, "end": w}.get(node.textAnchor, 0)
            p.save()
            p.translate(x, node.y)
            p.scale(1, -1)
            p.setFont(font)
            p.setPen(col)
            p.drawText(QPointF(0, 0), node.text)
            p.restore()
        elif isinstance(node, rs.Rect):
            p.setPen(pen(node))
            p.setBrush(brush(node))
            p.drawRect(QRectF(node.x, node.y, node.width, node.height))
        elif isinstance(node, rs.Line):
            p.setPen(pen(node))
            p.drawLine(QPointF(node.x1, node.y1), QPointF(node.x2, node.y2))
        elif isinstance(node, (rs.PolyLine, rs.Polygon)):
            pts = [QPointF(node.points[i], node.points[i + 1]) for i in range(0, len(node.points) - 1, 2)]
            p.setPen(pen(node))
            if isinstance(node, rs.Polygon):
                p.setBrush(brush(node))
                p.drawPolygon(pts)
            else:
                p.drawPolyline(pts)
        elif isinstance(node, (rs.Wedge, rs.Circle, rs.Ellipse)):
            walk(
                node.asPolygon()
                if isinstance(node, rs.Wedge)
                else rs.Polygon(
                    [
                        v
                        for a in range(0, 361, 5)
                        for v in (
                            node.cx + getattr(node, "r", getattr(node, "rx", 0)) * math.cos(math.radians(a)),
                            node.cy + getattr(node, "r", getattr(node, "ry", 0)) * math.sin(math.radians(a)),
                        )
                    ],
                    fillColor=node.fillColor,
                    strokeColor=node.strokeColor,
                    strokeWidth=node.strokeWidth,
                )
            )
        elif hasattr(node, "draw"):  # a widget (chart, axis, label): draw it into primitive shapes
            walk(node.draw())

    for child in drawing.getContents():
        walk(child)
    p.restore()


def setup_printer(printer: QPrinter, doc: Document) -> None:
    first = doc.pages[0]
    size = QPageSize(
        QSizeF(first.width / 72 * 25.4, first.height / 72 * 25.4),
        QPageSize.Unit.Millimeter,
        "",
        QPageSize.SizeMatchPolicy.FuzzyMatch,
    )
    printer.setPageLayout(QPageLayout(size, QPageLayout.Orientation.Portrait, QMarginsF(0, 0, 0, 0)))
    printer.setFullPage(True)
    printer.setDocName(doc.title)


def paint_document(printer: QPrinter, doc: Document, font: fonts.Font) -> None:
    p = QPainter(printer)
    try:
        for i, page in enumerate(doc.pages):
            if i:
                printer.newPage()
            paint_page(p, page, font, printer.resolution())
    finally:
        p.end()


def glyph_warning(parent: QWidget | None, doc: Document, font: fonts.Font) -> bool:
    """Warn about characters the font cannot print; True to go on."""
    missing = font.missing(doc.text)
    if not missing:
        return True
    chars = "、".join(f"“{c}”(U+{ord(c):04X})" for c in missing[:8])
    answer = QMessageBox.warning(
        parent,
        "有字打印不出来",
        f"当前字体（{font.family}）没有这些字的字形，打印出来会是空白或方框：{chars}。\n\n"
        "可以在“设置”中换用包含这些字的字体；或者继续打印，然后在纸上手写补全。是否继续？",
        QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
        QMessageBox.StandardButton.No,
    )
    return answer == QMessageBox.StandardButton.Yes


class PreviewDialog(QDialog):
    """Preview a document; print it, or save it as PDF.

    ``build(layout)`` lays the document out again when the paper changes
    (receipts come in A4, A5 and 80 mm roll)."""

    def __init__(
        self,
        parent: QWidget | None,
        title: str,
        build: Callable[[str], Document],
        layouts: tuple[str, ...] = ("A4",),
        layout: str = "A4",
        suggested_name: str = "document.pdf",
    ):
        super().__init__(parent)
        self.setWindowTitle(title)
        self.build, self.suggested_name = build, suggested_name
        self.layout_name = layout if layout in layouts else layouts[0]
        self.doc = build(self.layout_name)
        self.font_ = self.doc.font or fonts.resolve()  # certificates: the 宋体/仿宋 face
        self.printed = False
        self.saved_path: Path | None = None

        lay = QVBoxLayout(self)
        bar = QHBoxLayout()
        self.paper = QComboBox()
        for name in layouts:
            self.paper.addItem(
                {"A4": "A4 纸", "A3": "A3 纸", "A5": "A5 纸", "80mm": "80 毫米热敏小票"}.get(name, name), name
            )
        self.paper.setCurrentIndex(layouts.index(self.layout_name))
        self.paper.currentIndexChanged.connect(self._relayout)
        self.paper.setVisible(len(layouts) > 1)
        bar.addWidget(QLabel("纸张：") if len(layouts) > 1 else QLabel(""))
        bar.addWidget(self.paper)
        bar.addWidget(hint(f"字体：{self.font_.family}"), 1)
        self.save_btn = QPushButton("另存为 PDF…")
        self.save_btn.clicked.connect(lambda _c=False: self.save_pdf())
        self.print_btn = primary("打印… (Ctrl+P)")
        self.print_btn.setShortcut("Ctrl+P")
        self.print_btn.clicked.connect(lambda _c=False: self.print_())
        close = QPushButton("关闭")
        close.clicked.connect(self.accept)
        bar.addWidget(self.save_btn)
        bar.addWidget(self.print_btn)
        bar.addWidget(close)
        lay.addLayout(bar)
        self.glyphs = QLabel()
        self.glyphs.setObjectName("error")
        self.glyphs.setWordWrap(True)
        lay.addWidget(self.glyphs)
        self._check_glyphs()

        self.printer = QPrinter(QPrinter.PrinterMode.HighResolution)
        setup_printer(self.printer, self.doc)
        self.view = QPrintPreviewWidget(self.printer, self)
        self.view.paintRequested.connect(lambda printer: paint_document(printer, self.doc, self.font_))
        lay.addWidget(self.view, 1)
        self.resize(760, 680)

    def _check_glyphs(self) -> None:
        missing = self.font_.missing(self.doc.text)
        self.glyphs.setText(
            "注意：当前字体没有这些字的字形，打印出来会是空白：" + "、".join(missing) + "。打印或保存前会再提醒。"
            if missing
            else ""
        )
        self.glyphs.setVisible(bool(missing))

    def _relayout(self) -> None:
        self.layout_name = self.paper.currentData()
        self.doc = self.build(self.layout_name)
        self._check_glyphs()
        setup_printer(self.printer, self.doc)
        self.view.updatePreview()
        self.view.fitInView()

    def print_(self) -> bool:
        if not glyph_warning(self, self.doc, self.font_):
            return False
        dlg = QPrintDialog(self.printer, self)
        if dlg.exec() != QDialog.DialogCode.Accepted:
            return False
        setup_printer(self.printer, self.doc)
        paint_document(self.printer, self.doc, self.font_)
        self.printed = True
        self.accept()  # printed: the preview has done its job (one click fewer at the desk)
        return True

    def save_pdf(self, path: str | None = None) -> Path | None:
        if not glyph_warning(self, self.doc, self.font_):
            return None
        if path is None:
            path = files.save_file(self, "另存为 PDF", self.suggested_name, files.PDF)
            if not path:
                return None
        try:
            self.saved_path = pdf.save(pdf.render(self.doc, self.font_), path)
        except OSError as e:
            QMessageBox.warning(self, "无法保存", f"PDF 没有保存：{e.strerror or e}。\n请换一个文件夹或检查磁盘空间。")
            return None
        except Exception as e:  # noqa: BLE001 - shown to the user with details
            show_error(self, e)
            return None
        files.show_saved(self, "已保存", f"PDF 已保存到：\n{self.saved_path}", self.saved_path)
        return self.saved_path


def show_preview(
    parent: QWidget | None, title: str, build: Callable[[str], Document], **kw: Any
) -> PreviewDialog | None:
    try:
        dlg = PreviewDialog(parent, title, build, **kw)
    except Exception as e:  # noqa: BLE001 - e.g. no usable font
        show_error(parent, e)
        return None
    dlg.exec()
    return dlg
