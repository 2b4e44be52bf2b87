"""Excel ledgers: one sheet per table, real numbers and dates, a frozen bold
header row, widths that fit Chinese, written atomically.

The .xlsx (Office Open XML) is written directly — a handful of small XML
parts and one stream of rows per sheet — rather than through openpyxl's
cell objects: a month's report runs to ~100 000 cells, and openpyxl spends
some 10 µs on each (its streaming mode included) where a formatted string
costs well under one.  openpyxl still reads the files (the tests do, and
the ledger import reads what people bring)."""
from __future__ import annotations

import math
import os
import re
import zipfile
from collections.abc import Sequence
from datetime import date, datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

MAX_WIDTH = 60
_WIDE = re.compile("[\u2e80-\U0010ffff]")  # counts two columns in a fixed-width font
_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")  # not allowed in XML 1.0
_EPOCH = datetime(1899, 12, 30)  # Excel's day 0 (with its 1900 leap-year bug, for dates after March 1900)
DATE_FORMAT = "yyyy-mm-dd"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm"

_NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
_NS_R = 'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"'
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_CT = "application/vnd.openxmlformats-officedocument"


def _width(v: Any) -> int:
    text = v.strftime("%Y-%m-%d %H:%M") if isinstance(v, datetime) else str(v if v is not None else "")
    return len(text) + len(_WIDE.findall(text))


def _col(i: int) -> str:
    """Column letters of a 0-based index: 0 → A, 26 → AA."""
    s = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        s = chr(65 + r) + s
    return s


def _serial(v: date) -> float | int:
    if isinstance(v, datetime):
        if v.tzinfo is not None:
            v = v.astimezone(timezone.utc).replace(tzinfo=None)
        d = v - _EPOCH
        return d.days + (d.seconds + d.microseconds / 1e6) / 86400
    return (v - _EPOCH.date()).days


def _text(s: str) -> str:
    return escape(_ILLEGAL.sub("", s[:32767]))


class _Styles:
    """cellXfs: 0 plain, 1 the header (bold, vertically centred), then one per
    number format in the order first used."""

    def __init__(self) -> None:
        self.formats: dict[str, int] = {}

    def of(self, fmt: str) -> int:
        if fmt not in self.formats:
            self.formats[fmt] = len(self.formats) + 2
        return self.formats[fmt]

    def xml(self) -> str:
        fmts = list(self.formats)
        num = "".join(f'<numFmt numFmtId="{164 + i}" formatCode="{escape(f, {chr(34): "&quot;"})}"/>'
                      for i, f in enumerate(fmts))
        xfs = "".join(f'<xf numFmtId="{164 + i}" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
                      for i in range(len(fmts)))
        return ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                f'<styleSheet {_NS}>'
                + (f'<numFmts count="{len(fmts)}">{num}</numFmts>' if fmts else "")
                + '<fonts count="2"><font><sz val="11"/><name val="Calibri"/><family val="2"/></font>'
                  '<font><b/><sz val="11"/><name val="Calibri"/><family val="2"/></font></fonts>'
                  '<fills count="2"><fill><patternFill patternType="none"/></fill>'
                  '<fill><patternFill patternType="gray125"/></fill></fills>'
                  '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
                  '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
                f'<cellXfs count="{2 + len(fmts)}"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
                  '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1" applyAlignment="1">'
                  '<alignment vertical="center"/></xf>'
                + xfs + '</cellXfs>'
                  '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
                  '</styleSheet>')


class _Strings:
    def __init__(self) -> None:
        self.index: dict[str, int] = {}

    def of(self, s: str) -> int:
        n = self.index.get(s)
        if n is None:
            n = self.index[s] = len(self.index)
        return n

    def xml(self) -> str:
        items = "".join(f'<si><t xml:space="preserve">{_text(s)}</t></si>' for s in self.index)
        return ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                f'<sst {_NS} count="{len(self.index)}" uniqueCount="{len(self.index)}">{items}</sst>')


def _cell(ref: str, v: Any, fmt: str | None, styles: _Styles, strings: _Strings) -> str:
    if isinstance(v, bool):
        return f'<c r="{ref}" t="b"><v>{int(v)}</v></c>'
    if isinstance(v, (int, float, Decimal)):
        if isinstance(v, float) and not math.isfinite(v):
            return f'<c r="{ref}" t="s"><v>{strings.of(str(v))}</v></c>'
        s = f' s="{styles.of(fmt)}"' if fmt else ""
        return f'<c r="{ref}"{s}><v>{v}</v></c>'
    if isinstance(v, date):
        fmt = fmt or (DATETIME_FORMAT if isinstance(v, datetime) else DATE_FORMAT)
        return f'<c r="{ref}" s="{styles.of(fmt)}"><v>{_serial(v)}</v></c>'
    return f'<c r="{ref}" t="s"><v>{strings.of(str(v))}</v></c>'


def _sheet_xml(headers: Sequence[Any], rows: Sequence[Sequence[Any]], formats: dict[int, str],
               singles: dict[tuple[int, int], str], styles: _Styles, strings: _Strings) -> list[str]:
    ncols = max([len(headers), *(len(r) for r in rows)]) if rows else len(headers)
    widths = [0] * ncols
    for i, h in enumerate(headers):
        widths[i] = _width(h)
    for i in range(ncols):
        # distinct values only: ledgers repeat grids, types and names
        seen = {r[i] for r in rows if i < len(r) and r[i] is not None}
        widths[i] = min(max([widths[i], *(_width(v) for v in seen)]), MAX_WIDTH)
        if i not in formats:
            sample = next((r[i] for r in rows if i < len(r) and r[i] is not None), None)
            if isinstance(sample, datetime):
                formats[i] = DATETIME_FORMAT
            elif isinstance(sample, date):
                formats[i] = DATE_FORMAT
    letters = [_col(i) for i in range(ncols)]
    out = ['<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
           f'<worksheet {_NS} {_NS_R}>'
           '<sheetViews><sheetView workbookViewId="0">'
           '<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>'
           '<selection pane="bottomLeft" activeCell="A2" sqref="A2"/></sheetView></sheetViews>'
           '<sheetFormatPr defaultRowHeight="15"/>']
    if ncols:
        out.append("<cols>" + "".join(f'<col min="{i + 1}" max="{i + 1}" width="{w + 2}" customWidth="1"/>'
                                      for i, w in enumerate(widths)) + "</cols>")
    out.append("<sheetData>")
    out.append('<row r="1">' + "".join(f'<c r="{letters[i]}1" s="1" t="s"><v>{strings.of(str(h))}</v></c>'
                                       for i, h in enumerate(headers)) + "</row>")
    fmt_of = [formats.get(i) for i in range(ncols)]
    for r, row in enumerate(rows):
        n = r + 2
        cells = []
        for i, v in enumerate(row):
            if v is None:
                continue
            fmt = singles.get((r, i)) if singles else None
            cells.append(_cell(f"{letters[i]}{n}", v, fmt or fmt_of[i], styles, strings))
        out.append(f'<row r="{n}">{"".join(cells)}</row>')
    out.append("</sheetData></worksheet>")
    return out


def write_workbook(path: str | Path, sheets: Sequence[tuple[Any, ...]], *, title: str = "",
                   cell_formats: dict[tuple[int, int, int], str] | None = None) -> Path:
    """``sheets``: (title, headers, rows) or (title, headers, rows, formats)
    where ``formats`` maps a column index to an Excel number format;
    ``cell_formats`` maps (sheet, row, column) — indexes into ``sheets`` and
    its rows — to a format for single cells. Returns the path written."""
    styles, strings = _Styles(), _Strings()
    names: list[str] = []
    for sheet_title, *_ in sheets:
        name, n = (str(sheet_title)[:31] or "Sheet"), 1
        while name in names:
            name = f"{str(sheet_title)[:29]}{n}"
            n += 1
        names.append(name)
    path = Path(path)
    tmp = path.with_name(path.name + ".part")
    try:
        with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as z:
            for k, (_t, headers, rows, *rest) in enumerate(sheets):
                formats: dict[int, str] = dict(rest[0]) if rest else {}
                singles = {(r, c): f for (s, r, c), f in (cell_formats or {}).items() if s == k}
                parts = _sheet_xml(headers, rows, formats, singles, styles, strings)
                with z.open(f"xl/worksheets/sheet{k + 1}.xml", "w") as f:
                    for i in range(0, len(parts), 2000):
                        f.write("".join(parts[i:i + 2000]).encode("utf-8"))
            n = len(sheets)
            z.writestr("xl/styles.xml", styles.xml())
            z.writestr("xl/sharedStrings.xml", strings.xml())
            z.writestr("xl/workbook.xml", '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                       f'<workbook {_NS} {_NS_R}><bookViews><workbookView activeTab="0"/></bookViews><sheets>'
                       + "".join(f'<sheet name="{escape(nm, {chr(34): "&quot;"})}" sheetId="{i + 1}" r:id="rId{i + 1}"/>'
                                 for i, nm in enumerate(names)) + "</sheets></workbook>")
            z.writestr("xl/_rels/workbook.xml.rels", '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                       f'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
                       + "".join(f'<Relationship Id="rId{i + 1}" Type="{_REL}/worksheet" '
                                 f'Target="worksheets/sheet{i + 1}.xml"/>' for i in range(n))
                       + f'<Relationship Id="rId{n + 1}" Type="{_REL}/styles" Target="styles.xml"/>'
                       f'<Relationship Id="rId{n + 2}" Type="{_REL}/sharedStrings" Target="sharedStrings.xml"/>'
                       "</Relationships>")
            z.writestr("_rels/.rels", '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                       '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
                       f'<Relationship Id="rId1" Type="{_REL}/officeDocument" Target="xl/workbook.xml"/>'
                       '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/relationships/'
                       'metadata/core-properties" Target="docProps/core.xml"/>'
                       f'<Relationship Id="rId3" Type="{_REL}/extended-properties" Target="docProps/app.xml"/>'
                       "</Relationships>")
            now = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
            z.writestr("docProps/core.xml", '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                       '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/'
                       'core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/" '
                       'xmlns:dcterms="http://purl.org/dc/terms/" '
                       'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
                       + (f"<dc:title>{_text(title)}</dc:title><dc:creator>社区一站通</dc:creator>" if title else "")
                       + f'<dcterms:created xsi:type="dcterms:W3CDTF">{now}</dcterms:created>'
                       f'<dcterms:modified xsi:type="dcterms:W3CDTF">{now}</dcterms:modified>'
                       "</cp:coreProperties>")
            z.writestr("docProps/app.xml", '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                       '<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties">'
                       "<Application>社区一站通</Application></Properties>")
            z.writestr("[Content_Types].xml", '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                       '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
                       '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
                       '<Default Extension="xml" ContentType="application/xml"/>'
                       f'<Override PartName="/xl/workbook.xml" ContentType="{_CT}.spreadsheetml.sheet.main+xml"/>'
                       + "".join(f'<Override PartName="/xl/worksheets/sheet{i + 1}.xml" '
                                 f'ContentType="{_CT}.spreadsheetml.worksheet+xml"/>' for i in range(n))
                       + f'<Override PartName="/xl/styles.xml" ContentType="{_CT}.spreadsheetml.styles+xml"/>'
                       f'<Override PartName="/xl/sharedStrings.xml" ContentType="{_CT}.spreadsheetml.sharedStrings+xml"/>'
                       '<Override PartName="/docProps/core.xml" '
                       'ContentType="application/vnd.openxmlformats-package.core-properties+xml"/>'
                       f'<Override PartName="/docProps/app.xml" ContentType="{_CT}.extended-properties+xml"/>'
                       "</Types>")
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path
