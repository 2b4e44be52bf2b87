"""Opening databases: migrations, refusals, and bad files that must stay untouched."""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text

import db.engine as engine_mod
from db import keys
from db.base import Base
from db.engine import open_database
from db.errors import DatabaseCorrupt, DatabaseNotWritable, DatabaseUnavailable, NotADatabase, SchemaTooNew
from db.migrations import run
from db.schema import SCHEMA_HEAD


def _digest(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


def test_schema_head_constant_matches_the_migrations():
    assert SCHEMA_HEAD == run.head()


def test_models_and_migrations_agree(db):
    with db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
    assert diff == []


def test_fresh_database_is_at_head_with_wal_and_pragmas(sqlite_db):
    assert engine_mod.current_revision(sqlite_db.engine) == SCHEMA_HEAD
    with sqlite_db.engine.connect() as c:
        assert c.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert c.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert c.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
        assert c.exec_driver_sql("PRAGMA busy_timeout").scalar() == 5000


def test_newer_schema_is_refused_and_left_untouched(db_url):
    d = open_database(db_url)
    with d.engine.begin() as c:
        c.execute(text("UPDATE alembic_version SET version_num = '0099_from_the_future'"))
    d.close()
    before = _digest(Path(db_url)) if "://" not in db_url else None
    with pytest.raises(SchemaTooNew) as e:
        open_database(db_url)
    assert "升级" in e.value.user_message
    if before:
        assert _digest(Path(db_url)) == before


def test_older_schema_is_backed_up_then_migrated(tmp_path, monkeypatch):
    path = tmp_path / "station.sqlite3"
    open_database(path).close()
    # A later version of the program ships a second migration.
    scripts = tmp_path / "migrations"
    shutil.copytree(run.HERE, scripts, ignore=shutil.ignore_patterns("__pycache__"))
    (scripts / "versions" / "9999_test.py").write_text(
        "from alembic import op\nimport sqlalchemy as sa\n"
        f"revision = '9999_test'\ndown_revision = '{SCHEMA_HEAD}'\nbranch_labels = None\ndepends_on = None\n"
        "def upgrade():\n    op.create_table('later_table', sa.Column('id', sa.Integer, primary_key=True))\n"
        "def downgrade():\n    op.drop_table('later_table')\n",
        encoding="utf-8",
    )
    monkeypatch.setattr(run, "HERE", scripts)
    monkeypatch.setattr(engine_mod, "SCHEMA_HEAD", "9999_test")
    d = open_database(path)
    assert d.migrated_from == SCHEMA_HEAD
    assert d.backup_path is not None and d.backup_path.exists()
    assert engine_mod.current_revision(d.engine) == "9999_test"
    d.close()
    con = keys.connect(d.backup_path, d.key)
    assert con.execute("SELECT version_num FROM alembic_version").fetchone() == (SCHEMA_HEAD,)
    con.close()


def test_a_file_that_is_not_a_database_is_refused_untouched(tmp_path):
    p = tmp_path / "notes.sqlite3"
    p.write_bytes("这不是数据库".encode() * 100)
    before = _digest(p)
    with pytest.raises(NotADatabase) as e:
        open_database(p)
    assert "不是" in e.value.user_message
    assert _digest(p) == before


def test_a_corrupt_database_is_refused_untouched(tmp_path):
    p = tmp_path / "station.sqlite3"
    d = open_database(p)
    d.close()
    with keys.connect(p, keys.station_key(p)) as con:  # checkpoint the WAL so the pages are in the main file
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    data = bytearray(p.read_bytes())
    page = 4096
    for i in range(page * 2 + 100, min(len(data), page * 6), 7):  # scribble over b-tree pages
        data[i] = 0xA5
    p.write_bytes(bytes(data))
    before = _digest(p)
    with pytest.raises(DatabaseCorrupt) as e:
        open_database(p)
    assert "损坏" in e.value.user_message
    assert _digest(p) == before


def test_a_folder_without_write_access_gets_a_clear_message(tmp_path, monkeypatch):
    folder = tmp_path / "readonly"
    folder.mkdir()
    real_access = os.access
    monkeypatch.setattr(engine_mod.os, "access", lambda p, m: False if Path(p) == folder else real_access(p, m))
    with pytest.raises(DatabaseNotWritable) as e:
        open_database(folder / "station.sqlite3")
    assert "无法写入" in e.value.user_message
    assert not (folder / "station.sqlite3").exists()


def test_foreign_tables_without_our_stamp_are_not_touched(tmp_path):
    p = tmp_path / "other.sqlite3"
    con = sqlite3.connect(p)
    con.execute("CREATE TABLE ledger (name TEXT)")
    con.commit()
    con.close()
    before = _digest(p)
    with pytest.raises(NotADatabase):
        open_database(p)
    assert _digest(p) == before


def test_unreachable_server_gets_a_clear_message():
    with pytest.raises(DatabaseUnavailable) as e:
        open_database("postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=2")
    assert "无法连接" in e.value.user_message


def test_a_foundation_database_is_migrated_to_the_counter_schema(tmp_path):
    """A station that ran the first release opens in this one with its data."""
    from sqlalchemy import create_engine

    path = tmp_path / "old.sqlite3"
    eng = create_engine(f"sqlite:///{path}")
    run.upgrade(eng, "0001_foundation")
    with eng.begin() as c:
        c.execute(text("CREATE TABLE keep_me (x INTEGER)"))
        c.execute(text("INSERT INTO keep_me VALUES (42)"))
    eng.dispose()
    d = open_database(path)
    try:
        assert d.migrated_from == "0001_foundation"
        assert engine_mod.current_revision(d.engine) == SCHEMA_HEAD
        with d.engine.connect() as c:
            assert c.execute(text("SELECT x FROM keep_me")).scalar() == 42
            assert c.execute(text("SELECT count(*) FROM matters")).scalar() == 0
    finally:
        d.close()


def _fill(folder: Path) -> None:
    """Take every free byte of the file system under ``folder``."""
    fd = os.open(folder / "filler", os.O_WRONLY | os.O_CREAT)
    try:
        while True:
            os.write(fd, b"x" * 512)
    except OSError:
        pass
    finally:
        os.close(fd)


def test_a_full_disk_is_reported_as_a_full_disk_not_as_damage(tmp_path, mount_tmpfs):
    """Issue 15 item 10: SQLite cannot create the -shm file on a full disk and
    says "disk I/O error"; that used to come out as 数据库文件已损坏."""
    made = open_database(tmp_path / "s.sqlite3")
    made.close()
    disk = mount_tmpfs("1200k")
    path = disk / "s.sqlite3"
    shutil.copy(tmp_path / "s.sqlite3", path)
    shutil.copy(keys.key_path(tmp_path / "s.sqlite3"), keys.key_path(path))
    before = _digest(path)
    _fill(disk)
    from db.errors import DiskFull

    with pytest.raises(DiskFull) as e:
        open_database(path)
    assert "磁盘空间已满" in e.value.user_message and "损坏" not in e.value.user_message
    assert _digest(path) == before


# ------------------------------------------------ the integrity check deferred past the sign-in


def _station_with_pages(p: Path) -> None:
    """A station file whose last pages hold residents (what a scribble hits
    first), checkpointed so the pages are in the main file."""
    from desktop.services import demo

    d = open_database(p)
    demo.create_demo_station(d, n_residents=300)
    d.close()
    with keys.connect(p, keys.station_key(p)) as con:
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def _scribble_tail(p: Path, pages: int = 3) -> None:
    data = bytearray(p.read_bytes())
    page = 4096
    for i in range(len(data) - page * pages + 100, len(data), 7):
        data[i] = 0xA5
    p.write_bytes(bytes(data))


def test_a_deferred_check_lets_the_sign_in_read_and_waits_before_writing(tmp_path):
    from db import precheck
    from desktop.services import accounts

    p = tmp_path / "station.sqlite3"
    _station_with_pages(p)
    precheck.begin(p)
    d = open_database(p, defer_check=True)
    try:
        assert d.check_pending
        assert d.before_check(lambda: accounts.station_info(d)) is not None
        assert d.check_pending  # a read before the check does not collect it
        with d.session() as s:  # the first session waits for it
            assert s.execute(text("SELECT 1")).scalar() == 1
        assert not d.check_pending and d.refused is None
    finally:
        d.close()
    # without an early check (the command line), nothing is deferred
    d = open_database(p, defer_check=True)
    assert not d.check_pending
    d.close()


def test_a_damaged_file_opened_for_the_sign_in_is_refused_before_any_write(tmp_path):
    from db import precheck
    from desktop.services import accounts

    p = tmp_path / "station.sqlite3"
    _station_with_pages(p)
    _scribble_tail(p)
    before = _digest(p)
    with pytest.raises(DatabaseCorrupt):  # opened the usual way, refused at once
        open_database(p)
    precheck.begin(p)
    d = open_database(p, defer_check=True)  # the sign-in opens ...
    try:
        assert d.before_check(lambda: accounts.station_info(d)) is not None
        with pytest.raises(DatabaseCorrupt) as e:  # ... and the check's verdict comes before any write
            accounts.authenticate(d, "admin", "demo1234")
        assert "损坏" in e.value.user_message
        assert d.refused is e.value
        with pytest.raises(DatabaseCorrupt), d.session():  # every session after, too
            pass
    finally:
        d.close()
    assert _digest(p) == before  # untouched: no failed-attempt counter, no last sign-in


def test_a_file_that_needs_migrating_is_checked_before_it_is_migrated(tmp_path, monkeypatch):
    from db import precheck

    p = tmp_path / "station.sqlite3"
    _station_with_pages(p)
    precheck.begin(p)
    collected = []
    real = engine_mod._integrity
    monkeypatch.setattr(engine_mod, "_integrity", lambda path: collected.append(path) or real(path))
    monkeypatch.setattr(engine_mod, "current_revision", lambda _engine: "0001_previous")
    migrated = []
    monkeypatch.setattr(engine_mod, "_migrate", lambda db, rev, allowed: migrated.append(collected[:]))
    d = open_database(p, defer_check=True)
    try:
        assert migrated == [[p]] and not d.check_pending  # collected before the migration started
    finally:
        d.close()


def test_the_check_is_pending_until_its_verdict_is_in(tmp_path, monkeypatch):
    """The sign-in asks whether the verdict is still to come (to say 正在检查
    while it waits): true while another thread collects it, false after."""
    import threading

    from db import precheck

    p = tmp_path / "station.sqlite3"
    _station_with_pages(p)
    started, release = threading.Event(), threading.Event()
    real = precheck._quick_check

    def held(con):  # type: ignore[no-untyped-def]
        started.set()
        release.wait(10)
        return real(con)

    monkeypatch.setattr(precheck, "_quick_check", held)
    precheck.begin(p)
    d = open_database(p, defer_check=True)
    try:
        collector = threading.Thread(target=d.confirm_integrity)
        collector.start()
        assert started.wait(10)
        assert d.check_pending  # being collected, verdict not in yet
        release.set()
        collector.join(10)
        assert not d.check_pending and d.refused is None
    finally:
        release.set()
        d.close()


def test_an_error_that_is_no_verdict_leaves_the_check_to_collect_again(tmp_path, monkeypatch):
    from db import precheck

    p = tmp_path / "station.sqlite3"
    _station_with_pages(p)
    precheck.begin(p)
    d = open_database(p, defer_check=True)
    try:
        real = engine_mod._integrity
        monkeypatch.setattr(engine_mod, "_integrity", lambda path: (_ for _ in ()).throw(OSError("interrupted")))
        with pytest.raises(OSError):
            d.confirm_integrity()
        assert d.check_pending and d.refused is None  # not passed, not refused: asked again
        monkeypatch.setattr(engine_mod, "_integrity", real)
        with d.session() as s:
            assert s.execute(text("SELECT 1")).scalar() == 1
        assert not d.check_pending
    finally:
        d.close()
