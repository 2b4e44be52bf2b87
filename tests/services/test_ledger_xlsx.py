"""The ledger's fast .xlsx row reader gives openpyxl's own values."""

from __future__ import annotations

import zipfile
from datetime import date, datetime, time
from pathlib import Path

import openpyxl
import pytest

from desktop.bench.ledger import write_ledger
from desktop.services import ledger, ledger_xlsx


def openpyxl_rows(path: Path) -> tuple[list[str], str | None, dict[str, list]]:
    wb = openpyxl.load_workbook(path, read_only=True, data_only=True, keep_links=False)
    try:
        out = {}
        for ws in wb.worksheets:
            ws.reset_dimensions()
            out[ws.title] = list(ws.iter_rows(min_row=1, min_col=1, values_only=True))
        return [ws.title for ws in wb.worksheets], wb.active.title if wb.active else None, out
    finally:
        wb.close()


def fast_rows(path: Path) -> tuple[list[str], str | None, dict[str, list]]:
    wb = ledger_xlsx.load_workbook(path)
    try:
        out = {ws.title: list(ledger_xlsx.iter_values(ws)) for ws in wb.worksheets}
        return [ws.title for ws in wb.worksheets], wb.active.title if wb.active else None, out
    finally:
        wb.close()


def assert_same(path: Path) -> None:
    want = openpyxl_rows(path)
    got = fast_rows(path)
    assert got == want
    for sheet, rows in want[2].items():  # equal values of the same types (1 == 1.0 == True otherwise)
        for a, b in zip(rows, got[2][sheet], strict=True):
            assert [type(x) for x in a] == [type(x) for x in b]


CELLS = [
    "张三",
    "  spaces kept  ",
    "line\nbreak",
    "<&>\"'",
    "𠀀生僻字",
    0,
    -7,
    12345678901234567,
    3.5,
    1e-5,
    1.10105e17,
    True,
    False,
    datetime(1949, 10, 1),
    datetime(2024, 2, 29, 13, 45, 10),
    date(1990, 1, 2),
    time(8, 30),
    None,
    "",
    "=1+1",
]


@pytest.mark.parametrize("write_only", [False, True], ids=["workbook", "write-only"])
def test_openpyxl_written_workbooks(tmp_path, write_only):
    wb = openpyxl.Workbook(write_only=write_only)
    if not write_only:
        wb.remove(wb.active)
    first = wb.create_sheet("说明")
    ledger_ws = wb.create_sheet("台账")
    hidden = wb.create_sheet("隐藏")
    for ws in (first, ledger_ws, hidden):
        ws.append(["title"])
        ws.append([])
        ws.append(["姓名", "身份证号码"])
        ws.append(CELLS)
        ws.append(list(reversed(CELLS)))
        ws.append([None, None, "far"])
        ws.append([])
        ws.append([])
    hidden.sheet_state = "hidden"
    if not write_only:
        wb.active = 1
    wb.save(tmp_path / "w.xlsx")
    assert_same(tmp_path / "w.xlsx")


def test_the_benchmark_ledger(tmp_path):
    write_ledger(tmp_path / "l.xlsx", 300, today=date(2024, 6, 1))
    assert_same(tmp_path / "l.xlsx")


NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
RARE_ROWS = """<row r="1"><c r="A1" t="inlineStr"><is><t>plain</t></is></c>
<c r="C1" t="inlineStr"><is><r><rPr><b/></rPr><t>bold</t></r><r><t xml:space="preserve"> and </t></r><rPh sb="0" eb="1"><t>ZHU</t></rPh><r><t>more</t></r></is></c>
<c r="D1" t="inlineStr"><is><r><t>after</t></r><t>plain last</t></is></c>
<c r="E1" t="inlineStr"/><c r="F1" t="inlineStr"><is/></c><c r="G1" t="inlineStr"><is><t/></is></c></row>
<row r="3"><c r="B3" t="b"><v>1</v></c><c r="A3" t="b"><v>0</v></c></row>
<row><c t="e"><v>#N/A</v></c><c t="str"><f>A1</f><v>cached</v></c><c><f>1+1</f><v>2</v></c><c><f>1+1</f></c></row>
<row r="7"><c r="A7" t="d"><v>2024-03-05T10:20:30</v></c><c r="B7" t="s"><v>0</v></c><c r="C7"><v>1E+3</v></c>
<c r="D7" s="1"><v>45000</v></c><c r="E7" s="1"><v>45000.5</v></c><c r="F7" s="0"><v>7</v></c><c r="H7"><v></v></c></row>
<row r="6"><c r="A6"><v>6</v></c></row>
<row r="9" spans="1:3" ht="20" customHeight="1"><c r="A9" t="s"><v>1</v></c><c r="C9"><v>0.1</v></c></row>"""


def hand_written(tmp_path: Path, rows: str) -> Path:
    """An openpyxl workbook whose sheet XML is replaced by ``rows``."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws["A1"] = "shared one"
    ws["A2"] = "shared two"
    ws["B1"] = datetime(2020, 1, 1)  # a date style, s="1"
    src = tmp_path / "src.xlsx"
    wb.save(src)
    out = tmp_path / "rare.xlsx"
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = (
                    f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{NS}"><dimension ref="A1:B2"/>'
                    f"<sheetData>{rows}</sheetData></worksheet>"
                ).encode()
            elif item.filename == "[Content_Types].xml":  # Excel's shared strings (openpyxl writes inline ones)
                data = data.replace(
                    b"</Types>",
                    b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
                    b'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>',
                )
            zout.writestr(item, data)
        zout.writestr(
            "xl/sharedStrings.xml",
            f'<sst xmlns="{NS}" count="2" uniqueCount="2"><si><t>共享一</t></si>'
            "<si><r><t>rich </t></r><r><t>shared</t></r></si></sst>",
        )
    return out


def test_hand_written_sheet_with_the_rare_forms(tmp_path):
    p = hand_written(tmp_path, RARE_ROWS)
    assert_same(p)
    rows = fast_rows(p)[2]["Sheet"]
    assert rows[0] == ("plain", None, "bold and more", "plain lastafter", None, "", "")
    assert rows[6][1] == "共享一" and rows[8][0] == "rich shared"
    assert rows[1] == []  # row 2 is not in the file


def test_prefixed_namespace(tmp_path):
    p = hand_written(tmp_path, "")
    with zipfile.ZipFile(p) as z:
        parts = {i.filename: z.read(i.filename) for i in z.infolist()}
    parts["xl/worksheets/sheet1.xml"] = (
        f'<x:worksheet xmlns:x="{NS}"><x:sheetData><x:row r="2"><x:c r="B2" t="inlineStr"><x:is><x:t>王五</x:t>'
        "</x:is></x:c></x:row></x:sheetData></x:worksheet>"
    ).encode()
    q = tmp_path / "prefixed.xlsx"
    with zipfile.ZipFile(q, "w") as z:
        for name, data in parts.items():
            z.writestr(name, data)
    assert_same(q)
    assert fast_rows(q)[2]["Sheet"] == [[], (None, "王五")]


def test_read_table_uses_it_and_a_broken_sheet_is_still_refused(tmp_path):
    write_ledger(tmp_path / "l.xlsx", 50, today=date(2024, 6, 1))
    t = ledger.read_table(tmp_path / "l.xlsx")
    assert t.header_row == 2 and len(t.rows) == 50
    bad = hand_written(tmp_path, '<row r="1"><c r="A1"><v>1</v></c>')  # not well-formed
    with pytest.raises(ledger.LedgerFileError):
        ledger.read_table(bad)
