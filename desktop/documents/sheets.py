"""Excel ledgers (openpyxl): one sheet per table, real numbers and dates,
a frozen bold header row, widths that fit Chinese, written atomically."""

from __future__ import annotations

import os
from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

import re

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.utils import get_column_letter
from openpyxl.styles import Alignment, Font

MAX_WIDTH = 60  # characters; longer text wraps in Excel rather than widening the column
_BAD_TITLE = re.compile(r"[\\/*?:\[\]]")
# OWASP CSV/formula injection: text starting with one of these may be taken
# as a formula (or a DDE call) by Excel or LibreOffice.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _clean(v: Any) -> Any:
    """Text as a worksheet may hold it: control characters (a pasted note,
    a scanner's stray byte) would make openpyxl refuse the whole file."""
    if isinstance(v, str) and ILLEGAL_CHARACTERS_RE.search(v):
        return ILLEGAL_CHARACTERS_RE.sub("", v)
    return v


def cell(ws: Any, v: Any) -> Any:
    """The one way a value goes into any worksheet the program writes.

    Text is always a string cell, never a formula: openpyxl would store
    ``=cmd|'/C calc'!A0`` (a resident's "name" from a ledger) as a live
    formula. Text starting with ``= + - @``, a tab or a carriage return also
    gets Excel's quote prefix, so editing the cell in Excel keeps it text.
    The text itself is kept as typed, so it reads back unchanged."""
    c = WriteOnlyCell(ws, value=_clean(v))
    if isinstance(c.value, str):
        c.data_type = "s"
        if c.value.startswith(FORMULA_START):
            c.quotePrefix = True
    return c


def _titles(names: list[str]) -> list[str]:
    """Sheet names Excel accepts: no []:*?/\\, at most 31 characters, unique."""
    out: list[str] = []
    for name in names:
        base = _BAD_TITLE.sub("_", name or "Sheet")[:31] or "Sheet"
        title, n = base, 1
        while title in out:
            title = f"{base[: 31 - len(str(n))]}{n}"
            n += 1
        out.append(title)
    return out


def _width(v: Any) -> int:
    text = v.strftime("%Y-%m-%d %H:%M") if isinstance(v, datetime) else str(v if v is not None else "")
    return sum(2 if ord(c) > 0x2E7F else 1 for c in text)


def write_workbook(
    path: str | Path,
    sheets: Sequence[tuple[Any, ...]],
    *,
    title: str = "",
    cell_formats: dict[tuple[int, int, int], str] | None = None,
    freeze: dict[int, str] | None = None,
) -> Path:
    """``sheets``: (title, headers, rows) or (title, headers, rows, formats)
    where ``formats`` maps a column index to an Excel number format;
    ``cell_formats`` maps (sheet, row, column) — indexes into ``sheets`` and
    its rows — to a format for single cells; ``freeze`` maps a sheet index
    to its frozen corner (default "A2", the header row). Every value goes in
    through ``cell``. Returns the path written.

    Written in openpyxl's streaming (write-only) mode: a report's sheets run
    to tens of thousands of rows and the normal mode is several times slower."""
    wb = Workbook(write_only=True)
    if title:
        wb.properties.title = title
        wb.properties.creator = "社区一站通"
    bold = Font(bold=True)
    middle = Alignment(vertical="center")
    titles = _titles([s[0] for s in sheets])
    for sheet_no, (_title, headers, rows, *rest) in enumerate(sheets):
        formats: dict[int, str] = dict(rest[0]) if rest else {}
        ws = wb.create_sheet(titles[sheet_no])
        widths = [_width(h) for h in headers]
        for row in rows:
            for i, v in enumerate(row):
                w = _width(v)
                if w > widths[i]:
                    widths[i] = min(w, MAX_WIDTH)
        for i, w in enumerate(widths):
            ws.column_dimensions[get_column_letter(i + 1)].width = w + 2
            if i not in formats:
                sample = next((r[i] for r in rows if r[i] is not None), None)
                if isinstance(sample, datetime):
                    formats[i] = "yyyy-mm-dd hh:mm"
                elif isinstance(sample, date):
                    formats[i] = "yyyy-mm-dd"
        ws.freeze_panes = (freeze or {}).get(sheet_no, "A2")
        header = []
        for h in headers:
            c = cell(ws, h)
            c.font, c.alignment = bold, middle
            header.append(c)
        ws.append(header)
        singles = {(r, c): fmt for (k, r, c), fmt in (cell_formats or {}).items() if k == sheet_no}
        for r, row in enumerate(rows):
            out: list[Any] = []
            for i, v in enumerate(row):
                fmt = singles.get((r, i)) or formats.get(i)
                if isinstance(v, str) or (fmt and v is not None):
                    c = cell(ws, v)
                    if fmt:
                        c.number_format = fmt
                    out.append(c)
                else:
                    out.append(v)
            ws.append(out)
    path = Path(path)
    tmp = path.with_name(path.name + ".part")
    try:
        wb.save(tmp)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path
