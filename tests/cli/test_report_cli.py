"""``python -m desktop report``: the scheduled monthly run, and its errors."""

from __future__ import annotations

import json

from openpyxl import load_workbook

from tests.cli.test_cli import cli


def test_report_writes_pdf_and_excel_and_prints_figures(tmp_path):
    db = str(tmp_path / "s.sqlite3")
    assert cli("--db", db, "demo", "--residents", "300").returncode == 0
    r = cli(
        "--db",
        db,
        "report",
        "--from",
        "2026-01-01",
        "--to",
        "2026-12-31",
        "--pdf",
        str(tmp_path / "r.pdf"),
        "--xlsx",
        str(tmp_path / "r.xlsx"),
        "--json",
    )
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["from"] == "2026-01-01" and out["title"].endswith("2026年工作报表")
    assert out["sections"]["counter"]["受理"] > 0 and out["sections"]["certificates"]["开具"] > 0
    assert (tmp_path / "r.pdf").read_bytes().startswith(b"%PDF")
    wb = load_workbook(tmp_path / "r.xlsx")
    summary = {(row[0], row[1]): row[2] for row in wb["概要"].iter_rows(min_row=2, values_only=True)}
    assert summary[("一、窗口受理", "受理")] == out["sections"]["counter"]["受理"]
    by_channel = wb[next(n for n in wb.sheetnames if n.startswith("窗口受理-按渠道"))]
    assert [c.value for c in by_channel[1]][6:8] == ["平均用时", "最长用时"]
    assert by_channel["G2"].number_format == by_channel["H2"].number_format == "General"  # 10, not 10.0
    assert by_channel["B2"].number_format == "#,##0"
    plain = cli("--db", db, "report", "--month", "2026-11")
    assert plain.returncode == 0 and "2026年11月工作报表" in plain.stdout


def test_report_bad_arguments_exit_2_with_a_chinese_message(tmp_path):
    db = str(tmp_path / "s.sqlite3")
    assert (
        cli(
            "--db",
            db,
            "init",
            "--station-code",
            "340304001",
            "--station-name",
            "幸福里社区党群服务中心",
            "--admin",
            "admin:admin123",
        ).returncode
        == 0
    )
    for args, message in (
        (["--from", "2026-13-01", "--to", "2026-12-31"], "日期格式"),
        (["--from", "2026-12-01"], "一起给出"),
        (["--from", "2026-12-31", "--to", "2026-12-01"], "结束日期"),
        (["--month", "11/2026"], "YYYY-MM"),
        (["--user", "nobody"], "找不到"),
    ):
        r = cli("--db", db, "report", *args)
        assert r.returncode == 2 and message in r.stderr, (args, r.stderr)
