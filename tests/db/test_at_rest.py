"""The station file on a stolen or shared PC (issue 15): the database and its
backups are unreadable without the key, owner-only, and a clear file from an
earlier version is encrypted on first open, after a backup."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import stat
from pathlib import Path

import pytest

from db import backup, keys
from db.engine import open_database
from db.errors import KeyUnavailable, WrongKey
from desktop.services import accounts

ID_NUMBER = "340304199001011234"


def _station(path: Path):
    db = open_database(path)
    admin = accounts.setup_station(
        db,
        code="340304001",
        name="幸福里社区党群服务中心",
        level="community",
        admin_username="admin",
        admin_password="admin123",
    )
    with db.engine.begin() as c:  # an ID number, as the registry holds 100 000 of them
        c.exec_driver_sql("CREATE TABLE IF NOT EXISTS probe (v TEXT)")
        c.exec_driver_sql("INSERT INTO probe VALUES (?)", (ID_NUMBER,))
    return db, admin


def _plain_sqlite_cannot_read(path: Path) -> None:
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        with pytest.raises(sqlite3.DatabaseError, match="not a database"):
            con.execute("SELECT count(*) FROM sqlite_master").fetchall()
    finally:
        con.close()
    assert ID_NUMBER.encode() not in path.read_bytes()


def test_a_stolen_copy_of_the_station_file_and_of_a_backup_cannot_be_read(tmp_path):
    path = tmp_path / "station.sqlite3"
    db, _ = _station(path)
    made = backup.make_backup(path, tmp_path / "backups", "manual")
    db.close()
    for f in (path, made.path):
        _plain_sqlite_cannot_read(f)
        assert stat.S_IMODE(os.stat(f).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(keys.key_path(path)).st_mode) == 0o600
    # the sidecar carries no key, only wraps a secret must open
    side = json.loads(made.sidecar.read_text(encoding="utf-8"))
    assert {w["kind"] for w in side["key"]["wraps"]} == {"recovery", "password"}


def test_a_copy_on_another_computer_needs_the_recovery_code(tmp_path, monkeypatch):
    path = tmp_path / "station.sqlite3"
    db, _ = _station(path)
    code = keys.take_recovery_code(path)
    db.close()
    stolen = tmp_path / "usb" / "station.sqlite3"
    stolen.parent.mkdir()
    shutil.copy(path, stolen)
    shutil.copy(keys.key_path(path), keys.key_path(stolen))  # even with its key file
    monkeypatch.setenv("STATION_DESK_HOME", str(tmp_path / "thief"))
    keys.forget()
    with pytest.raises(KeyUnavailable) as e:
        open_database(stolen)
    assert "恢复码" in e.value.user_message
    # the administrator forgot the password: the recovery code opens it
    keys.unlock(stolen, code)
    db = open_database(stolen)
    with db.engine.connect() as c:
        assert c.exec_driver_sql("SELECT v FROM probe").scalar() == ID_NUMBER
    assert accounts.station_info(db).code == "340304001"
    db.close()


def test_a_backup_alone_opens_with_the_recovery_code_from_its_sidecar(tmp_path, monkeypatch):
    path = tmp_path / "station.sqlite3"
    db, _ = _station(path)
    code = keys.take_recovery_code(path)
    made = backup.make_backup(path, tmp_path / "backups", "manual")
    db.close()
    monkeypatch.setenv("STATION_DESK_HOME", str(tmp_path / "new-pc"))
    keys.forget()
    wraps = json.loads(made.sidecar.read_text(encoding="utf-8"))["key"]
    key = keys.unlock_wraps(wraps, code)
    assert keys.unlock_wraps(wraps, "admin123") == key  # or the administrator's password
    con = keys.connect(made.path, key)
    assert con.execute("SELECT v FROM probe").fetchone()[0] == ID_NUMBER
    con.close()


def test_a_key_file_of_another_station_is_a_clear_chinese_refusal(tmp_path):
    a, b = tmp_path / "a.sqlite3", tmp_path / "b.sqlite3"
    open_database(a).close()
    open_database(b).close()
    keys.forget()
    shutil.copy(keys.key_path(b), keys.key_path(a))
    before = a.read_bytes()
    with pytest.raises(WrongKey) as e:
        open_database(a)
    assert "无法用密钥解开这个加密的数据库" in e.value.user_message
    assert a.read_bytes() == before


def _clear_station(path: Path) -> None:
    """A station file as the previous (clear) version left it, with a clear backup."""
    db, _ = _station(path)
    made = backup.make_backup(path, backup.default_folder(path), "auto")
    db.close()
    key = keys.station_key(path)
    for f in (path, made.path):
        clear = f.with_name("clear-" + f.name)
        con = keys.connect(f, key)
        con.execute("ATTACH DATABASE ? AS plain KEY ''", (str(clear),))
        con.execute("SELECT sqlcipher_export('plain')").fetchall()
        con.execute(f"PRAGMA plain.user_version = {con.execute('PRAGMA user_version').fetchone()[0]}")
        con.execute("DETACH DATABASE plain")
        con.close()
        os.replace(clear, f)
        for suffix in ("-wal", "-shm"):
            Path(str(f) + suffix).unlink(missing_ok=True)
    side = json.loads(made.sidecar.read_text(encoding="utf-8"))
    side.pop("key")
    side["size"] = made.path.stat().st_size
    made.sidecar.write_text(json.dumps(side), encoding="utf-8")
    keys.key_path(path).unlink()
    keys.forget()
    assert sqlite3.connect(path).execute("SELECT v FROM probe").fetchone()[0] == ID_NUMBER


def test_a_clear_database_is_encrypted_on_first_open_after_a_backup(tmp_path):
    path = tmp_path / "station.sqlite3"
    _clear_station(path)
    db = open_database(path)
    assert db.secured_now and db.backup_path is not None
    with db.engine.connect() as c:
        assert c.exec_driver_sql("SELECT v FROM probe").scalar() == ID_NUMBER
    assert accounts.station_info(db).code == "340304001"
    db.close()
    _plain_sqlite_cannot_read(path)
    # a backup was made first (encrypted already), and the old clear one is encrypted too
    listed = backup.list_backups(backup.default_folder(path), "station")
    assert {b.reason for b in listed} == {"auto", "migration"}
    assert db.backup_path in [b.path for b in listed]
    for b in listed:
        _plain_sqlite_cannot_read(b.path)
        counts, _ = backup.verify(b.path)
        assert counts["probe"] == 1 and b.size == b.path.stat().st_size
    # nothing clear left beside the database
    leftovers = [p.name for p in tmp_path.rglob("*") if p.is_file() and keys.is_clear(p) and p.suffix == ".sqlite3"]
    assert leftovers == []
    assert keys.take_recovery_code(path)  # the administrator is shown the new recovery code
    again = open_database(path)
    assert again.secured_now is False
    again.close()


def test_an_empty_sqlite_file_becomes_an_encrypted_station(tmp_path):
    path = tmp_path / "station.sqlite3"
    con = sqlite3.connect(path)  # an SQLite file with a header and no tables
    con.execute("CREATE TABLE x (a)")
    con.execute("DROP TABLE x")
    con.commit()
    con.close()
    assert keys.is_clear(path) and path.stat().st_size > 0
    db, _ = _station(path)
    db.close()
    _plain_sqlite_cannot_read(path)
