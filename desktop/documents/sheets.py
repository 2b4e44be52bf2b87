"""Excel ledgers (openpyxl): one sheet per table, real numbers and dates,
a frozen bold header row, widths that fit Chinese, written atomically."""
from __future__ import annotations

import os
from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font


def _width(v: Any) -> int:
    text = v.strftime("%Y-%m-%d %H:%M") if isinstance(v, datetime) else str(v if v is not None else "")
    return sum(2 if ord(c) > 0x2E7F else 1 for c in text)


def write_workbook(path: str | Path, sheets: Sequence[tuple[Any, ...]], *, title: str = "",
                   cell_formats: dict[tuple[int, int, int], str] | None = None) -> Path:
    """``sheets``: (title, headers, rows) or (title, headers, rows, formats)
    where ``formats`` maps a column index to an Excel number format;
    ``cell_formats`` maps (sheet, row, column) — indexes into ``sheets`` and
    its rows — to a format for single cells. Returns the path written."""
    wb = Workbook()
    wb.remove(wb.active)
    if title:
        wb.properties.title = title
        wb.properties.creator = "社区一站通"
    bold = Font(bold=True)
    for sheet_no, (sheet_title, headers, rows, *rest) in enumerate(sheets):
        formats: dict[int, str] = rest[0] if rest else {}
        ws = wb.create_sheet(sheet_title[:31])
        ws.append(list(headers))
        for cell in ws[1]:
            cell.font = bold
            cell.alignment = Alignment(vertical="center")
        widths = [_width(h) for h in headers]
        for row in rows:
            ws.append(list(row))
            for i, v in enumerate(row):
                widths[i] = max(widths[i], min(_width(v), 60))
        for i, w in enumerate(widths, 1):
            ws.column_dimensions[ws.cell(1, i).column_letter].width = w + 2
        for col in range(1, len(headers) + 1):
            fmt = None
            sample = next((r[col - 1] for r in rows if r[col - 1] is not None), None)
            if col - 1 in formats:
                fmt = formats[col - 1]
            elif isinstance(sample, datetime):
                fmt = "yyyy-mm-dd hh:mm"
            elif isinstance(sample, date):
                fmt = "yyyy-mm-dd"
            if fmt:
                for (cell,) in ws.iter_rows(min_row=2, min_col=col, max_col=col):
                    cell.number_format = fmt
        for (k, r, c), fmt in (cell_formats or {}).items():
            if k == sheet_no:
                ws.cell(r + 2, c + 1).number_format = fmt
        ws.freeze_panes = "A2"
    path = Path(path)
    tmp = path.with_name(path.name + ".part")
    try:
        wb.save(tmp)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path
