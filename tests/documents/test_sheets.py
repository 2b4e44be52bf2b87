"""The Excel writer: what openpyxl (and so Excel) reads back."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from openpyxl import load_workbook

from desktop.documents import sheets


def test_values_formats_and_layout_read_back(tmp_path):
    rows = [
        ["王秀英", 3, 2.5, date(2026, 11, 3), datetime(2026, 11, 3, 9, 30), True, None, 'a<b & "c"\x01'],
        ["  前后空格 ", 10, 10.0, None, None, False, Decimal("1.25"), "x" * 80],
    ]
    out = sheets.write_workbook(
        tmp_path / "t.xlsx",
        [
            (
                "明细",
                ["姓名", "件数", "小时", "日期", "时间", "是否", "金额", "备注"],
                rows,
                {1: "#,##0", 2: "General"},
            ),
            ("明细", ["指标", "数值"], [["满意率", 0.9], ["受理", 5]]),
            ("空表", ["列"], []),
        ],
        title="幸福里 2026年11月工作报表",
        cell_formats={(1, 0, 1): "0.0%"},
    )
    assert out == tmp_path / "t.xlsx" and not (tmp_path / "t.xlsx.part").exists()
    wb = load_workbook(out)
    assert wb.sheetnames == ["明细", "明细1", "空表"]
    assert wb.properties.title == "幸福里 2026年11月工作报表" and wb.properties.creator == "社区一站通"
    ws = wb["明细"]
    assert ws.freeze_panes == "A2" and ws["A1"].font.b and ws["A1"].value == "姓名"
    got = [list(r) for r in ws.iter_rows(min_row=2, values_only=True)]
    assert got[0] == ["王秀英", 3, 2.5, datetime(2026, 11, 3), datetime(2026, 11, 3, 9, 30), True, None, 'a<b & "c"']
    assert got[1][:3] == ["  前后空格 ", 10, 10] and got[1][5] is False and got[1][6] == 1.25
    assert ws["B2"].number_format == "#,##0" and ws["C3"].number_format == "General"
    assert ws["D2"].number_format == "yyyy-mm-dd" and ws["E2"].number_format == "yyyy-mm-dd hh:mm"
    assert ws.column_dimensions["A"].width == 11 + 2  # "  前后空格 ": Chinese characters count two
    assert ws.column_dimensions["H"].width == sheets.MAX_WIDTH + 2
    second = wb["明细1"]
    assert second["B2"].number_format == "0.0%" and second["B3"].number_format == "General"
    assert wb["空表"].max_row == 1
