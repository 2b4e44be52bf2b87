"""End-to-end CLI: the same commands a supervisor's script would run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def cli(*args: str, env_extra: dict | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", **(env_extra or {}))
    return subprocess.run(
        [sys.executable, "-m", "desktop", *args], cwd=ROOT, capture_output=True, text=True, env=env, timeout=300
    )


def test_init_sets_up_a_station(tmp_path):
    db = str(tmp_path / "s.sqlite3")
    r = cli(
        "--db",
        db,
        "init",
        "--station-code",
        "340304001",
        "--station-name",
        "幸福里社区党群服务中心",
        "--admin",
        "admin:admin123",
    )
    assert r.returncode == 0, r.stderr
    assert "幸福里社区党群服务中心" in r.stdout
    again = cli("--db", db, "init", "--station-code", "340304001", "--station-name", "x", "--admin", "a1:abc12345")
    assert again.returncode == 2 and "已经建立过站点" in again.stderr


@pytest.mark.parametrize(
    "args, message",
    [
        (["--station-code", "", "--station-name", "站", "--admin", "admin:admin123"], "请填写站点编码"),
        (["--station-code", "340304001", "--station-name", "站", "--admin", "admin"], "用户名:密码"),
        (["--station-code", "340304001", "--station-name", "站", "--admin", "admin:123"], "密码至少"),
    ],
)
def test_init_bad_input_gets_a_chinese_message(tmp_path, args, message):
    r = cli("--db", str(tmp_path / "s.sqlite3"), "init", *args)
    assert r.returncode == 2
    assert message in r.stderr
    assert "Traceback" not in r.stderr


def test_corrupt_database_is_refused_by_every_command(tmp_path):
    p = tmp_path / "s.sqlite3"
    p.write_bytes(b"garbage" * 1000)
    r = cli("--db", str(p), "demo", "--residents", "10")
    assert r.returncode == 2 and "不是社区一站通的数据库" in r.stderr
    assert p.read_bytes() == b"garbage" * 1000


def test_demo_creates_a_station_and_can_add_more(tmp_path):
    db = str(tmp_path / "demo.sqlite3")
    r = cli("--db", db, "demo", "--residents", "300", "--json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["login"]["username"] and out["station"]["code"]
    from db.engine import open_database
    from desktop.services import accounts

    d = open_database(db)
    try:
        assert accounts.authenticate(d, out["login"]["username"], out["login"]["password"]).role == "admin"
        from sqlalchemy import func, select

        from db.models import Resident

        with d.session() as s:
            assert s.scalar(select(func.count()).select_from(Resident)) == 300
    finally:
        d.close()


def test_bench_prints_one_json_object(tmp_path):
    r = cli("bench", "--json", "--residents", "300", "--keep", str(tmp_path))
    assert r.returncode == 0, r.stderr
    figures = json.loads(r.stdout)
    for key in ("open_db_ms", "login_ms", "startup_to_main_window_s_median", "rss_mb_main_window"):
        assert isinstance(figures[key], (int, float)) and figures[key] > 0


# ---- issue 15 item 10: --db names a folder, or a file that is not there


@pytest.mark.parametrize(
    "command",
    [
        ["residents", "import", "ledger.xlsx"],
        ["report", "--month", "2026-11"],
        ["backup", "create"],
        ["keys", "export", "--out", "k.json"],
        ["bundle", "import", "b.bundle"],
        ["backup", "list"],
    ],
)
def test_a_mistyped_db_is_an_error_not_a_new_empty_station(tmp_path, capsys, command):
    from desktop.cli import main

    typo = tmp_path / "statoin.sqlite3"
    assert main(["--db", str(typo), *command]) == 2
    err = capsys.readouterr().err
    assert "找不到数据库文件" in err and str(typo) in err
    assert not typo.exists() and list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "command",
    [
        ["init", "--station-code", "340304001", "--station-name", "站", "--admin", "admin:admin123"],
        ["report", "--month", "2026-11"],
    ],
)
def test_db_naming_a_folder_is_a_clear_error(tmp_path, capsys, command):
    from desktop.cli import main

    assert main(["--db", str(tmp_path), *command]) == 2
    err = capsys.readouterr().err
    assert "这是一个文件夹，不是数据库文件" in err and "Traceback" not in err
    assert list(tmp_path.iterdir()) == []


def test_init_prints_the_recovery_code_once_and_unlock_uses_it_on_another_computer(tmp_path):
    """Encryption at rest from the command line (docs/security.md)."""
    import re

    db = str(tmp_path / "s.sqlite3")
    r = cli(
        "--db",
        db,
        "init",
        "--station-code",
        "340304001",
        "--station-name",
        "幸福里社区党群服务中心",
        "--admin",
        "admin:admin123",
    )
    assert r.returncode == 0, r.stderr
    code = re.search(r"恢复码（只显示这一次）：(\S+)", r.stdout).group(1)
    other = {"STATION_DESK_HOME": str(tmp_path / "another-pc")}
    refused = cli("--db", db, "backup", "create", env_extra=other)
    assert refused.returncode == 2 and "本机没有保存它的密钥" in refused.stderr
    wrong = cli("--db", db, "unlock", "--recovery-code", "AAAA-BBBB-CCCC-DDDD-EEEE-FFFF", env_extra=other)
    assert wrong.returncode == 2 and "恢复码或管理员密码不正确" in wrong.stderr
    ok = cli("--db", db, "unlock", "--recovery-code", code.lower(), env_extra=other)
    assert ok.returncode == 0, ok.stderr
    assert cli("--db", db, "backup", "create", env_extra=other).returncode == 0


def test_a_backup_is_restored_on_a_new_computer_with_the_recovery_code(tmp_path):
    import re

    db = str(tmp_path / "old-pc" / "s.sqlite3")
    (tmp_path / "old-pc").mkdir()
    r = cli(
        "--db",
        db,
        "init",
        "--station-code",
        "340304001",
        "--station-name",
        "幸福里社区党群服务中心",
        "--admin",
        "admin:admin123",
    )
    code = re.search(r"恢复码（只显示这一次）：(\S+)", r.stdout).group(1)
    made = json.loads(cli("--db", db, "backup", "create", "--json").stdout)
    new_pc = {"STATION_DESK_HOME": str(tmp_path / "new-pc")}
    fresh = str(tmp_path / "new-pc-data" / "s.sqlite3")
    (tmp_path / "new-pc-data").mkdir()
    without = cli("--db", fresh, "backup", "restore", made["path"], env_extra=new_pc)
    assert without.returncode == 2 and "恢复码" in without.stderr and not Path(fresh).exists()
    restored = cli("--db", fresh, "backup", "restore", made["path"], "--recovery-code", code, env_extra=new_pc)
    assert restored.returncode == 0, restored.stderr
    again = cli("--db", fresh, "backup", "create", "--json", env_extra=new_pc)
    assert again.returncode == 0 and json.loads(again.stdout)["residents"] == 0
