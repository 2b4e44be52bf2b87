"""``residents import FILE``: the command a supervisor's script would run."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import func, select

from db.engine import open_database
from db.models import AuditLog, Resident
from desktop.cli import ledger as cli_ledger
from desktop.services import accounts
from desktop.services.idnumbers import make_ric

ROOT = Path(__file__).resolve().parents[2]
HEADERS = ["姓名", "性别", "身份证号码", "联系电话", "人员类别"]


def parser() -> argparse.ArgumentParser:
    """The main parser's shape: --db before the sub-command."""
    p = argparse.ArgumentParser(prog="python -m desktop")
    p.add_argument("--db")
    sub = p.add_subparsers(dest="command")
    cli_ledger.add_parser(sub)
    return p


def run(capsys, *argv: str) -> tuple[int, str, str]:
    args = parser().parse_args(list(argv))
    assert args.command == "residents"
    rc = cli_ledger.cmd_residents(args)
    out, err = capsys.readouterr()
    return rc, out, err


@pytest.fixture
def station_file(tmp_path):
    path = tmp_path / "station.sqlite3"
    db = open_database(path)
    admin = accounts.setup_station(
        db,
        code="340304001",
        name="幸福里社区党群服务中心",
        level="community",
        admin_username="admin",
        admin_password="admin123",
        admin_display_name="张管理",
    )
    accounts.create_account(db, admin, username="zz", display_name="王站长", role="supervisor", password="zz123456")
    accounts.create_account(db, admin, username="desk1", display_name="李前台", role="desk", password="desk1234")
    db.close()
    return str(path)


def ledger_file(path: Path, n_good: int = 3, n_bad: int = 0) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["幸福里社区居民台账"])
    ws.append(HEADERS)
    for i in range(n_good):
        ws.append([f"居民{i}", "", make_ric("340304", date(1950, 1, 1 + i), 10 + i), f"1381234{i:04d}", "高龄"])
    for i in range(n_bad):
        ws.append([f"坏行{i}", "", make_ric("340304", date(1960, 1, 1 + i), 10 + i), "12345", ""])
    wb.save(path)
    return path


def residents_in(url: str) -> int:
    db = open_database(url)
    try:
        with db.session() as s:
            return s.scalar(select(func.count()).select_from(Resident))
    finally:
        db.close()


def audit_lines(url: str) -> list[AuditLog]:
    db = open_database(url)
    try:
        with db.session() as s:
            return list(s.scalars(select(AuditLog).where(AuditLog.action == "residents_import")))
    finally:
        db.close()


def test_json_output_and_the_system_actor(capsys, station_file, tmp_path):
    f = ledger_file(tmp_path / "台账.xlsx", n_good=3, n_bad=1)
    rc, out, err = run(capsys, "--db", station_file, "residents", "import", str(f), "--json")
    assert rc == 0, err
    j = json.loads(out)
    assert {k: j[k] for k in ("rows", "imported", "updated", "rejected")} == {
        "rows": 4,
        "imported": 3,
        "updated": 0,
        "rejected": 1,
    }
    assert j["errors"] == [{"row": 6, "field": "联系电话", "message": j["errors"][0]["message"]}]
    assert "格式不对" in j["errors"][0]["message"] and j["warnings"] == []
    assert "\\u" not in out  # ensure_ascii=False
    assert residents_in(station_file) == 3
    [line] = audit_lines(station_file)
    assert line.actor_name == "admin" and line.detail["imported"] == 3  # the first active administrator

    # Again: nothing new.
    rc, out, _ = run(capsys, "--db", station_file, "residents", "import", str(f), "--json")
    j = json.loads(out)
    assert rc == 0 and (j["imported"], j["updated"], j["unchanged"]) == (0, 0, 3)
    assert residents_in(station_file) == 3


def test_system_actor_is_the_first_active_admin_as_stored(station_file):
    db = open_database(station_file)
    try:
        actor = cli_ledger.system_actor(db)
        assert (actor.username, actor.display_name, actor.role, actor.station_code) == (
            "admin",
            "张管理",
            "admin",
            "340304001",
        )
        assert cli_ledger.system_actor(db, "zz").display_name == "王站长"
    finally:
        db.close()


def test_text_summary_lists_the_first_twenty_problems(capsys, station_file, tmp_path):
    f = ledger_file(tmp_path / "t.xlsx", n_good=2, n_bad=25)
    rc, out, _ = run(capsys, "--db", station_file, "residents", "import", str(f), "--dry-run")
    assert rc == 0
    lines = out.splitlines()
    assert lines[0].startswith("检查完成（没有写入）：共 27 行，可新增 2 人") and "25 行有问题" in lines[0]
    problems = [x for x in lines if x.strip().startswith("第 ")]
    assert len(problems) == 20 and problems[0].strip().startswith("第 5 行　联系电话：")
    assert "还有 5 条问题" in out
    assert residents_in(station_file) == 0 and audit_lines(station_file) == []


@pytest.mark.parametrize(
    "name, content, fragment",
    [
        ("missing.xlsx", None, "找不到文件"),
        ("broken.xlsx", b"PK\x03\x04broken", "已损坏"),
        ("notes.docx", b"hello", "不支持"),
    ],
)
def test_a_file_that_cannot_be_read_exits_2(capsys, station_file, tmp_path, name, content, fragment):
    f = tmp_path / name
    if content is not None:
        f.write_bytes(content)
    rc, out, err = run(capsys, "--db", station_file, "residents", "import", str(f), "--json")
    assert rc == 2 and out == ""
    assert err.startswith("错误：") and fragment in err and "Traceback" not in err


def test_no_name_column_exits_2(capsys, station_file, tmp_path):
    f = tmp_path / "t.csv"
    f.write_text("电话,身份证号\n13812345678,1\n", encoding="utf-8")
    rc, _, err = run(capsys, "--db", station_file, "residents", "import", str(f))
    assert rc == 2 and "姓名" in err


def test_user_option_and_roles(capsys, station_file, tmp_path):
    f = ledger_file(tmp_path / "t.xlsx")
    rc, _, err = run(capsys, "--db", station_file, "residents", "import", str(f), "--user", "desk1")
    assert rc == 2 and "需要站长或以上权限" in err
    rc, out, _ = run(capsys, "--db", station_file, "residents", "import", str(f), "--user", "desk1", "--dry-run")
    assert rc == 0 and "可新增 3 人" in out
    rc, _, err = run(capsys, "--db", station_file, "residents", "import", str(f), "--user", "nobody")
    assert rc == 2 and "找不到可用的账户" in err
    rc, out, _ = run(capsys, "--db", station_file, "residents", "import", str(f), "--user", "zz")
    assert rc == 0 and "新增 3 人" in out
    [line] = audit_lines(station_file)
    assert line.actor_name == "zz"


def test_without_a_subcommand(capsys, station_file):
    rc, _, err = run(capsys, "--db", station_file, "residents")
    assert rc == 2 and "residents import" in err


def test_through_python_m_desktop_once_wired(station_file, tmp_path):
    from desktop import cli

    if "residents" not in cli.COMMANDS:
        pytest.skip("residents command not wired into desktop/cli/__init__.py yet")
    f = ledger_file(tmp_path / "t.xlsx")
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    r = subprocess.run(
        [sys.executable, "-m", "desktop", "--db", station_file, "residents", "import", str(f), "--json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["imported"] == 3
    bad = subprocess.run(
        [sys.executable, "-m", "desktop", "--db", station_file, "residents", "import", str(tmp_path / "none.xlsx")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert bad.returncode == 2 and bad.stderr.startswith("错误：")


def test_a_conflict_is_listed_and_written_only_with_confirm_conflicts(capsys, station_file, tmp_path):
    from desktop.services import residents
    from desktop.services.residents import ResidentForm

    db = open_database(station_file)
    try:
        registered = make_ric("340304", date(1950, 1, 2), 11)  # row 4 of the file below
        residents.register(db, cli_ledger.system_actor(db), ResidentForm(name="王桂兰", doc_number=registered))
    finally:
        db.close()
    f = ledger_file(tmp_path / "t.xlsx", n_good=3)  # rows 3-5: 居民0..居民2; row 4 carries 王桂兰's number

    def name_of_row4() -> str:
        db = open_database(station_file)
        try:
            with db.session() as s:
                return s.scalar(select(Resident.name).where(Resident.doc_number == registered))
        finally:
            db.close()

    for extra in (["--dry-run"], []):
        rc, out, err = run(capsys, "--db", station_file, "residents", "import", str(f), "--json", *extra)
        j = json.loads(out)
        assert rc == 0 and (j["imported"], j["unconfirmed"]) == (2, 1), err
        assert j["conflicts"] == [
            {
                "row": 4,
                "existing_name": "王桂兰",
                "file_name": "居民1",
                "doc_masked": j["conflicts"][0]["doc_masked"],
                "confirmed": False,
            }
        ]
        assert registered not in out
        assert name_of_row4() == "王桂兰"
    rc, out, _ = run(capsys, "--db", station_file, "residents", "import", str(f))
    assert "第 4 行　姓名不一致" in out and "--confirm-conflicts 4" in out and name_of_row4() == "王桂兰"

    rc, out, _ = run(capsys, "--db", station_file, "residents", "import", str(f), "--confirm-conflicts", "3,5-9")
    assert rc == 0 and name_of_row4() == "王桂兰"  # row 4 not named
    rc, out, _ = run(capsys, "--db", station_file, "residents", "import", str(f), "--confirm-conflicts", "4", "--json")
    j = json.loads(out)
    assert rc == 0 and (j["updated"], j["unconfirmed"]) == (1, 0) and j["conflicts"][0]["confirmed"]
    assert name_of_row4() == "居民1"


def test_confirm_conflicts_is_documented_and_checked(capsys, station_file, tmp_path):
    with pytest.raises(SystemExit):
        parser().parse_args(["residents", "import", "--help"])
    out = capsys.readouterr().out
    assert "--confirm-conflicts ROWS" in out and "'all'" in out
    for bad in ("x", "5-3", "0"):
        with pytest.raises(SystemExit) as e:
            parser().parse_args(["residents", "import", "t.xlsx", "--confirm-conflicts", bad])
        assert e.value.code == 2
    assert capsys.readouterr().err.count("请写成 5,9-11 或 all") == 3
    args = parser().parse_args(["residents", "import", "t.xlsx", "--confirm-conflicts", "5, 9-11"])
    assert args.confirm_conflicts == {5, 9, 10, 11}
    assert (
        parser().parse_args(["residents", "import", "t.xlsx", "--confirm-conflicts", "ALL"]).confirm_conflicts == "all"
    )
