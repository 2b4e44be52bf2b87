"""Write a laid-out ``Document`` as a PDF with reportlab, the font embedded.

The file is written to a temporary name beside the target and renamed when
complete, so a full disk or a crash never leaves half a PDF under the name.
"""

from __future__ import annotations

import io
import os
from pathlib import Path

from reportlab.pdfgen.canvas import Canvas

from desktop.documents.fonts import Font
from desktop.documents.layout import QR, Document, Graphic, Line, Rect, Text


def render(doc: Document, font: Font) -> bytes:
    font = doc.font or font  # a document prints in the face it was measured with
    buf = io.BytesIO()
    # The canvas's initial font is the embedded one: reportlab's default
    # (Helvetica, never embedded) would otherwise be named on every page.
    c = Canvas(buf, pageCompression=1, initialFontName=font.name)  # type: ignore[arg-type]  # a name: types-reportlab says float
    c.setTitle(doc.title)
    c.setAuthor("社区一站通")
    c.setCreator("社区一站通 (Station Desk)")
    for page in doc.pages:
        h = page.height
        c.setPageSize((page.width, h))
        for op in page.ops:
            if isinstance(op, Text):
                t = c.beginText(op.x, h - op.y)
                t.setFont(font.name, op.size)
                if op.bold:  # the CJK fonts have no bold face: fill and stroke the outline
                    t.setTextRenderMode(2)
                    c.setLineWidth(op.size / 30)
                t.textOut(op.text)
                c.drawText(t)
            elif isinstance(op, Line):
                c.setLineWidth(op.width)
                c.setDash(2, 2) if op.dash else c.setDash()
                c.line(op.x1, h - op.y1, op.x2, h - op.y2)
                c.setDash()
            elif isinstance(op, Rect):
                c.setLineWidth(op.width)
                c.rect(op.x, h - op.y - op.h, op.w, op.h, stroke=1, fill=0)
            elif isinstance(op, Graphic):
                from reportlab.graphics import renderPDF
                from reportlab.graphics.shapes import STATE_DEFAULTS

                # a chart's renderer starts from Helvetica (never embedded) whatever its labels use
                default = STATE_DEFAULTS["fontName"]
                STATE_DEFAULTS["fontName"] = font.name
                try:
                    renderPDF.draw(op.drawing, c, op.x, h - op.y - op.h)
                finally:
                    STATE_DEFAULTS["fontName"] = default
            elif isinstance(op, QR):
                n = len(op.modules)
                cell = op.size / (n + 8)  # 4-module quiet zone each side
                c.setFillColorRGB(0, 0, 0)
                for r, row in enumerate(op.modules):
                    for col, dark in enumerate(row):
                        if dark:
                            c.rect(op.x + (col + 4) * cell, h - op.y - (r + 5) * cell, cell, cell, stroke=0, fill=1)
        c.showPage()
    c.save()
    return buf.getvalue()


def save(data: bytes, path: str | Path) -> Path:
    """Write atomically: temporary file, flush to disk, rename."""
    path = Path(path)
    tmp = path.with_name(path.name + ".part")
    try:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path
