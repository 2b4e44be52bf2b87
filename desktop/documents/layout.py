"""A document as a list of pages of simple drawing operations.

One layout, two renderers: ``desktop.documents.pdf`` writes it with
reportlab (embedded font), and the window paints the same operations with
QPainter for preview and printing, so what is previewed is what is printed
and saved. Coordinates are points (1/72 inch) from the top-left corner.
Text is measured with the embedded font's metrics and wrapped by character
(Chinese has no spaces), keeping closing punctuation off the start of a line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from reportlab.graphics.barcode import qrencoder
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth

from desktop.documents.fonts import Font

A4 = (210 * mm, 297 * mm)
A3 = (297 * mm, 420 * mm)
A5 = (148 * mm, 210 * mm)
ROLL80 = (80 * mm, None)  # height follows the content
TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9\-.:/@_*]*|.", re.DOTALL)
TRAILING_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9\-.:/@_*]*$")  # a number or word ending a line
NO_LINE_START = set("，。、；：？！）》」』】”’,.;:?!)")


@dataclass(frozen=True)
class Text:
    x: float
    y: float  # baseline
    text: str
    size: float
    bold: bool = False


@dataclass(frozen=True)
class Line:
    x1: float
    y1: float
    x2: float
    y2: float
    width: float = 0.6
    dash: bool = False


@dataclass(frozen=True)
class Rect:
    x: float
    y: float
    w: float
    h: float
    width: float = 0.6


@dataclass(frozen=True)
class QR:
    x: float
    y: float
    size: float
    modules: tuple[tuple[bool, ...], ...]


@dataclass(frozen=True)
class Graphic:
    """A reportlab ``Drawing`` (a chart) placed with its top-left corner at x, y."""

    x: float
    y: float
    w: float
    h: float
    drawing: Any = field(compare=False)


Op = Text | Line | Rect | QR | Graphic


@dataclass
class Page:
    width: float
    height: float
    ops: list[Op] = field(default_factory=list)


@dataclass
class Document:
    title: str
    pages: list[Page]
    text: str  # every character printed, for the glyph check
    font: Font | None = None  # the face it was measured with (certificates: 宋体/仿宋)


def cn_date(d: date) -> str:
    """``2026年11月22日``: how dates print on every document."""
    return f"{d.year}年{d.month}月{d.day}日"


def qr_modules(data: str) -> tuple[tuple[bool, ...], ...]:
    code = qrencoder.QRCode(None, qrencoder.QRErrorCorrectLevel.M)
    code.addData(data)
    code.make()
    n = code.getModuleCount()
    return tuple(tuple(bool(code.isDark(r, c)) for c in range(n)) for r in range(n))


def _drawing_text(drawing: Any) -> str:
    """Every string a chart prints, for the glyph check."""
    out: list[str] = []

    def walk(node: Any) -> None:
        text = getattr(node, "text", None)
        if isinstance(text, str):
            out.append(text)
        names = getattr(node, "categoryNames", None)
        if names:
            out.extend(str(n) for n in names)
        for child in getattr(node, "contents", []) or []:
            walk(child)
        for attr in ("categoryAxis", "valueAxis"):
            if hasattr(node, attr):
                walk(getattr(node, attr))

    walk(drawing)
    return "".join(out)


class Builder:
    """Flows text down a page; starts a new page when one is full."""

    def __init__(self, font: Font, size: tuple[float, float | None], margin: float, title: str):
        self.font, self.margin, self.title = font, margin, title
        self.width = size[0]
        self.roll = size[1] is None
        self.height = size[1] or 100_000.0
        self.pages: list[Page] = []
        self.all_text: list[str] = []
        self._new_page()

    # -- geometry
    @property
    def inner(self) -> float:
        return self.width - 2 * self.margin

    def measure(self, s: str, size: float) -> float:
        return stringWidth(s, self.font.name, size)

    def _new_page(self) -> None:
        self.page = Page(self.width, self.height)
        self.pages.append(self.page)
        self.y = self.margin

    def need(self, h: float) -> None:
        if not self.roll and self.y + h > self.height - self.margin:
            self._new_page()

    def space(self, h: float) -> None:
        self.y += h

    # -- drawing
    def wrap(self, s: str, size: float, width: float) -> list[str]:
        """Break into lines no wider than ``width``: anywhere between Chinese
        characters, but never inside a run of Latin letters and digits (a
        phone or receipt number stays whole unless it is wider than a line)."""
        lines: list[str] = []
        for para in (s or "").split("\n"):
            if self.measure(para, size) <= width:  # most table cells: one line, no breaking to do
                lines.append(para)
                continue
            cur = ""
            for tok in TOKEN.findall(para):
                if cur and self.measure(cur + tok, size) > width:
                    run = TRAILING_WORD.search(cur)
                    if (
                        tok in NO_LINE_START
                        and len(cur) > 1
                        and (not cur[-1].isascii() or (run and len(run.group()) < len(cur)))
                    ):
                        # carry the last character (and any closing marks before the
                        # punctuation), or the whole number it ends with, down with it,
                        # so no line starts with "）" or "；"
                        if cur[-1].isascii():
                            k = len(run.group())  # type: ignore[union-attr]
                        else:
                            k = 1
                            while k < len(cur) - 1 and cur[-k] in NO_LINE_START:
                                k += 1
                        lines.append(cur[:-k])
                        cur = cur[-k:] + tok
                    else:
                        lines.append(cur)
                        cur = tok
                else:
                    cur += tok
                while len(cur) > 1 and self.measure(cur, size) > width:  # a token wider than a line
                    cut = len(cur) - 1
                    while cut > 1 and self.measure(cur[:cut], size) > width:
                        cut -= 1
                    lines.append(cur[:cut])
                    cur = cur[cut:]
            lines.append(cur)
        return lines

    def text_at(self, x: float, baseline: float, s: str, size: float, bold: bool = False) -> None:
        self.page.ops.append(Text(x, baseline, s, size, bold))
        self.all_text.append(s)

    def line(
        self, size: float, s: str, *, bold: bool = False, align: str = "left", indent: float = 0, leading: float = 1.5
    ) -> None:
        h = size * leading
        self.need(h)
        w = self.measure(s, size)
        if align == "center":
            x = self.margin + (self.inner - w) / 2
        elif align == "right":
            x = self.margin + self.inner - w
        else:
            x = self.margin + indent
        self.text_at(x, self.y + size, s, size, bold)
        self.y += h

    def para(self, s: str, size: float, *, indent: float = 0, leading: float = 1.5, bold: bool = False) -> None:
        for ln in self.wrap(s, size, self.inner - indent):
            self.line(size, ln, indent=indent, leading=leading, bold=bold)

    def field(self, label: str, value: str, size: float, label_width: float, leading: float = 1.5) -> None:
        """``label``: value, the value wrapping under itself."""
        lines = self.wrap(value or "—", size, self.inner - label_width)
        self.need(size * leading * min(len(lines), 3))
        self.text_at(self.margin, self.y + size, label, size, True)
        for ln in lines:
            self.need(size * leading)
            self.text_at(self.margin + label_width, self.y + size, ln, size)
            self.y += size * leading

    def rule(self, dash: bool = False, gap: float = 4) -> None:
        self.need(gap * 2)
        self.y += gap
        self.page.ops.append(Line(self.margin, self.y, self.margin + self.inner, self.y, 0.6, dash))
        self.y += gap

    def qr(self, data: str, size: float, x: float | None = None) -> None:
        self.need(size)
        x = self.margin + (self.inner - size) / 2 if x is None else x
        self.page.ops.append(QR(x, self.y, size, qr_modules(data)))
        self.y += size

    def graphic(self, drawing: Any, x: float | None = None, advance: bool = True) -> None:
        """Place a chart; ``advance=False`` leaves the flow where it was
        (for a second chart beside the first)."""
        self.need(drawing.height)
        x = self.margin if x is None else x
        self.page.ops.append(Graphic(x, self.y, drawing.width, drawing.height, drawing))
        self.all_text.append(_drawing_text(drawing))
        if advance:
            self.y += drawing.height

    def table(
        self,
        headers: list[str],
        rows: list[list[str]],
        widths: list[float],
        size: float,
        right: frozenset[int] | set[int] = frozenset(),
    ) -> None:
        """A ruled table; widths are fractions of the inner width, ``right``
        the columns aligned right (numbers).  The header row repeats at the
        top of every page the table runs onto."""
        cols = [w * self.inner for w in widths]
        pad = size * 0.35

        def row(cells: list[str], bold: bool) -> None:
            wrapped = [self.wrap(c, size, cw - 2 * pad) for c, cw in zip(cells, cols, strict=True)]
            h = max(len(w) for w in wrapped) * size * 1.35 + 2 * pad
            page = self.page
            self.need(h)
            if self.page is not page and not bold:
                row(headers, True)
            x = self.margin
            for i, (lines, cw) in enumerate(zip(wrapped, cols, strict=True)):
                self.page.ops.append(Rect(x, self.y, cw, h))
                for k, ln in enumerate(lines):
                    tx = x + cw - pad - self.measure(ln, size) if (i in right and not bold) else x + pad
                    self.text_at(tx, self.y + pad + size + k * size * 1.35, ln, size, bold)
                x += cw
            self.y += h

        row(headers, True)
        for r in rows:
            row(r, False)

    def finish(self) -> Document:
        if self.roll:
            self.page.height = self.height = self.y + self.margin
        return Document(self.title, self.pages, "".join(self.all_text), self.font)
