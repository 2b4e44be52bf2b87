"""Reading a ledger workbook's rows quickly, with openpyxl's own results.

openpyxl (read-only, values only) reads a 10 000-row ledger in seconds, most
of it building one object per inline string and re-parsing the whole sheet
once just to look for its size.  This module keeps openpyxl for the
workbook — the package, the sheet list and order, the active sheet, shared
strings, number formats (which cells are dates) and the date system — and
reads each sheet's rows with the standard library's expat parser, turning
every cell into the value openpyxl's ``WorkSheetParser.parse_cell`` gives
with ``data_only=True``, and every row into what
``ReadOnlyWorksheet.iter_rows(min_row=1, min_col=1, values_only=True)``
yields after ``reset_dimensions()``: rows missing from the file come as
empty tuples, a row is as wide as its last cell, holes are None.
``tests/services/test_ledger_xlsx.py`` compares the two on every workbook
the ledger tests write, and on hand-written sheet XML with the rare forms
(rich text, phonetic runs, booleans, errors, ISO dates, formulas' cached
values, rows and cells without references).
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator, Sequence
from typing import IO, Any
from xml.parsers import expat

from openpyxl.reader.excel import ExcelReader
from openpyxl.utils.cell import coordinate_to_tuple
from openpyxl.utils.datetime import from_excel, from_ISO8601
from openpyxl.worksheet._read_only import ReadOnlyWorksheet
from openpyxl.xml.constants import SHEET_MAIN_NS

_NS = SHEET_MAIN_NS + "}"  # expat joins namespace and name with the separator below
_ROW, _V, _IS = _NS + "row", _NS + "v", _NS + "is"
_CHUNK = 1 << 16


class _SizelessSheet(ReadOnlyWorksheet):
    """openpyxl's read-only sheet without its size: it costs a whole extra
    pass over a sheet written without a <dimension>, and the ledger reads
    what is there (reset_dimensions) anyway."""

    def _get_size(self) -> None:
        return None


class _Reader(ExcelReader):
    """``load_workbook(read_only=True)`` with sizeless sheets."""

    def read_worksheets(self) -> None:
        # openpyxl's own read_worksheets (read-only branch), line for line;
        # its stubs type these attributes more narrowly than it uses them.
        for sheet, rel in self.parser.find_sheets():
            if rel.target not in self.valid_files:
                continue
            if "chartsheet" in rel.Type:
                self.read_chartsheet(sheet, rel)  # type: ignore[arg-type]
                continue
            ws = _SizelessSheet(self.wb, sheet.name, rel.target, self.shared_strings)
            ws.sheet_state = sheet.state  # type: ignore[assignment]
            self.wb._sheets.append(ws)  # type: ignore[attr-defined]


def load_workbook(path: Any) -> Any:
    """The workbook as ``openpyxl.load_workbook(path, read_only=True,
    data_only=True, keep_links=False)`` opens it, less the sheets' sizes."""
    reader = _Reader(path, read_only=True, data_only=True, keep_links=False)
    reader.read()
    return reader.wb


def _number(text: str) -> int | float:
    return float(text) if ("." in text or "E" in text or "e" in text) else int(text)


class _SheetRows:
    """An expat handler set that collects (row number, [(column, value)])."""

    def __init__(self, ws: Any) -> None:
        wb = ws.parent
        self.strings = ws._shared_strings
        self.epoch = wb.epoch
        self.dates = wb._date_formats
        self.timedeltas = wb._timedelta_formats
        self.done: list[tuple[int, list[tuple[int, Any]]]] = []
        self.row_no = self.col_no = 0
        self.cells: list[tuple[int, Any]] | None = None
        self.depth = 0  # element depth inside the current row (1: a cell)
        # the current cell
        self.kind = "n"
        self.coord: str | None = None
        self.style: Any = 0
        self.v: list[str] = []  # text of its first <v>
        self.in_v = self.seen_v = self.seen_is = False
        self.in_is = False
        self.plain: str | None = None  # <is><t>
        self.runs: list[str | None] = []  # <is><r><t>, one per run
        self.text: list[str] | None = None  # the <t> being read
        self.t_target = ""  # "plain" | "run"
        self.d3 = ""  # local name of the <is> child being read

    def start(self, name: str, attrs: dict[str, str]) -> None:
        if self.cells is None:
            if name == _ROW:
                r = attrs.get("r")
                if r is not None:
                    try:
                        self.row_no = int(r)
                    except ValueError:
                        f = float(r)
                        if not f.is_integer():
                            raise ValueError(f"{r} is not a valid row number") from None
                        self.row_no = int(f)
                else:
                    self.row_no += 1
                self.col_no = 0
                self.cells = []
                self.depth = 0
            return
        self.depth += 1
        d = self.depth
        if d == 1:  # every child of a row is a cell, as openpyxl reads it
            self.kind = attrs.get("t", "n")
            self.coord = attrs.get("r")
            style: Any = attrs.get("s", 0)
            self.style = int(style) if style else style
            self.v = []
            self.in_v = self.seen_v = self.seen_is = self.in_is = False
            self.plain, self.runs, self.text = None, [], None
        elif d == 2:
            if name == _V and not self.seen_v:
                self.seen_v = self.in_v = True
            elif name == _IS and not self.seen_is:
                self.seen_is = self.in_is = True
        elif self.in_is:
            local = name.rsplit("}", 1)[-1]
            if d == 3:
                self.d3 = local
                if local == "t":
                    self.text, self.t_target = [], "plain"
                elif local == "r":
                    self.runs.append(None)
            elif d == 4 and local == "t" and self.d3 == "r":
                self.text, self.t_target = [], "run"

    def data(self, text: str) -> None:
        if self.text is not None:
            self.text.append(text)
        elif self.in_v:
            self.v.append(text)

    def end(self, name: str) -> None:
        if self.cells is None:
            return
        d = self.depth
        self.depth -= 1
        if d == 0:  # the row itself
            self.done.append((self.row_no, self.cells))
            self.cells = None
        elif d == 1:
            self.cells.append(self._cell())
        elif d == 2:
            self.in_v = False
            if name == _IS:
                self.in_is = False
        elif d == 3:
            self.d3 = ""
            if self.text is not None and self.t_target == "plain":
                self.plain, self.text = "".join(self.text), None
        elif d == 4 and self.text is not None and self.t_target == "run":
            self.runs[-1], self.text = "".join(self.text), None

    def _cell(self) -> tuple[int, Any]:
        kind = self.kind
        if self.coord:
            column = coordinate_to_tuple(self.coord)[1]
            self.col_no = column
        else:
            self.col_no += 1
            column = self.col_no
        if kind == "inlineStr":
            if not self.seen_is:
                return column, None
            parts = ([self.plain] if self.plain is not None else []) + [r for r in self.runs if r is not None]
            return column, "".join(parts)
        value: Any = "".join(self.v) or None
        if value is None:
            return column, None
        if kind == "n":
            value = _number(value)
            if self.style in self.dates:
                try:
                    value = from_excel(value, self.epoch, timedelta=self.style in self.timedeltas)
                except (OverflowError, ValueError):
                    warnings.warn(
                        f"Cell {self.coord} is marked as a date but the serial value {value} is outside "
                        "the limits for dates. The cell will be treated as an error.",
                        stacklevel=2,
                    )
                    value = "#VALUE!"
        elif kind == "s":
            value = self.strings[int(value)]
        elif kind == "b":
            value = bool(int(value))
        elif kind == "d":
            value = from_ISO8601(value)
        return column, value


def _row_values(cells: list[tuple[int, Any]]) -> tuple[Any, ...]:
    """ReadOnlyWorksheet._get_row(values_only=True): as wide as the last
    cell in the file's order; a cell beyond that width is dropped."""
    if not cells:
        return ()
    width = cells[-1][0]
    out: list[Any] = [None] * width
    for col, value in cells:
        if 1 <= col <= width:
            out[col - 1] = value
    return tuple(out)


def iter_values(ws: Any) -> Iterator[Sequence[Any]]:
    """Every row of a read-only sheet from row 1, as
    ``ws.iter_rows(min_row=1, min_col=1, values_only=True)`` yields them
    after ``ws.reset_dimensions()``."""
    src: IO[bytes] = ws._get_source()
    try:
        rows = _SheetRows(ws)
        p = expat.ParserCreate(namespace_separator="}")
        p.buffer_text = True
        p.StartElementHandler = rows.start
        p.EndElementHandler = rows.end
        p.CharacterDataHandler = rows.data
        counter = 1
        while True:
            chunk = src.read(_CHUNK)
            p.Parse(chunk, not chunk)
            for idx, cells in rows.done:
                while counter < idx:  # rows missing from the file: [] as openpyxl gives them
                    counter += 1
                    yield []
                if counter <= idx:
                    counter += 1
                    yield _row_values(cells)
            rows.done.clear()
            if not chunk:
                break
    finally:
        src.close()
