"""services.backups: roles, the folder setting, the daily schedule, audit
lines, and a restore through the service (close, swap, reopen in place)."""

from __future__ import annotations

import shutil
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from db.engine import Database, open_database
from db.errors import BackupFolderMissing, PermissionDenied, SchemaTooNew, ValidationError
from db.models import AuditLog, Resident
from desktop.services import accounts, backups, residents
from desktop.services.idnumbers import make_ric
from desktop.services.residents import ResidentForm
from desktop.settings import Settings


@pytest.fixture
def setup(sqlite_db, tmp_path):
    db = sqlite_db
    admin = accounts.setup_station(
        db,
        code="340304001",
        name="幸福里社区党群服务中心",
        level="community",
        admin_username="admin",
        admin_password="admin123",
    )
    accounts.create_account(db, admin, username="zhan", display_name="王站长", role="supervisor", password="zhan12345")
    accounts.create_account(db, admin, username="desk1", display_name="李前台", role="desk", password="desk12345")
    sup = accounts.authenticate(db, "zhan", "zhan12345")
    desk = accounts.authenticate(db, "desk1", "desk12345")
    settings = Settings(tmp_path / "config" / "settings.json")
    return db, settings, admin, sup, desk


def _register(db, actor, name: str, day: int = 1):  # type: ignore[no-untyped-def]
    return residents.register(db, actor, ResidentForm(name=name, doc_number=make_ric("340304", date(1950, 1, day), 11)))


def _audit(db: Database, action: str) -> list[AuditLog]:
    with db.session() as s:
        return list(s.scalars(select(AuditLog).where(AuditLog.action == action).order_by(AuditLog.seq)))


def test_roles(setup, tmp_path):
    db, settings, admin, sup, desk = setup
    with pytest.raises(PermissionDenied) as e:
        backups.create(db, desk, settings, "manual")
    assert "立即备份" in e.value.user_message and "站长" in e.value.user_message
    info = backups.create(db, sup, settings, "manual")
    auto = backups.create(db, None, settings, "auto")  # the schedule runs whoever is signed in
    for who in (desk, sup):
        with pytest.raises(PermissionDenied):
            backups.restore(db, who, info.path)
        with pytest.raises(PermissionDenied):
            backups.set_folder(db, who, settings, str(tmp_path))
    assert {b.path for b in backups.listing(db, settings)} == {auto.path, info.path}


def test_backup_goes_to_the_default_folder_and_is_audited(setup):
    db, settings, admin, sup, desk = setup
    assert backups.folder(db, settings) == db.path.parent / "backups"
    assert backups.is_default_folder(settings)
    info = backups.create(db, sup, settings, "manual")
    assert info.path.parent == db.path.parent / "backups" and info.verified
    assert info.counts["accounts"] == 3
    line = _audit(db, "backup_create")[-1]
    assert line.actor_name == "zhan"
    assert line.detail["kind"] == "manual" and line.detail["file"] == info.path.name
    assert line.detail["residents"] == 0
    backups.create(db, None, settings, "auto")
    assert _audit(db, "backup_create")[-1].actor_name == backups.SYSTEM_NAME
    text = backups.describe(info)
    assert text.startswith(f"{info.created_at.year}年{info.created_at.month}月{info.created_at.day}日 ")
    assert "居民 0 人" in text and "事项 0 件" in text


def test_daily_due(setup):
    db, settings, admin, sup, desk = setup
    now = datetime(2026, 11, 23, 9, 0)
    assert backups.daily_due(db, settings, now)
    backups.create(db, None, settings, "auto", now=now)
    assert not backups.daily_due(db, settings, now + timedelta(hours=8))
    assert backups.daily_due(db, settings, now + timedelta(days=1, hours=-8))  # after midnight
    assert backups.last_backup(db, settings).created_at == now  # type: ignore[union-attr]


@pytest.mark.slow
def test_rotation_runs_after_each_backup(setup):
    db, settings, *_ = setup
    start = datetime(2026, 1, 1, 8, 0)
    for i in range(40):
        backups.create(db, None, settings, "auto", now=start + timedelta(days=i))
        backups.create(db, None, settings, "auto", now=start + timedelta(days=i, hours=1))
    items = backups.listing(db, settings)
    assert len(items) <= 7 + 4 + 12 and len(items) < 40
    assert items[0].created_at == start + timedelta(days=39, hours=1)
    assert items[1].created_at == start + timedelta(days=39)  # the same day's earlier one stays a day


def test_changing_the_folder(setup, tmp_path):
    db, settings, admin, *_ = setup
    usb = tmp_path / "usb"
    with pytest.raises(ValidationError) as e:
        backups.set_folder(db, admin, settings, str(usb))
    assert "U盘" in e.value.user_message
    with pytest.raises(ValidationError):
        backups.set_folder(db, admin, settings, "relative/folder")
    usb.mkdir()
    # a backup before the folder moves: migration backups beside the database stay listed
    from db.engine import backup_sqlite

    mig = backup_sqlite(db.path, db.path.parent / "backups" / "station.before-0001_initial-20260101-080000.sqlite3")
    assert backups.set_folder(db, admin, settings, str(usb)) == usb.resolve()
    assert settings["backup_dir"] == str(usb.resolve()) and not backups.is_default_folder(settings)
    assert Settings(settings.path)["backup_dir"] == str(usb.resolve())  # saved
    assert list(usb.iterdir()) == []  # the write probe left nothing behind
    info = backups.create(db, admin, settings, "manual")
    assert info.path.parent == usb.resolve()
    assert [b.path for b in backups.listing(db, settings)] == [info.path, mig]
    assert _audit(db, "backup_folder")[-1].detail["folder"] == str(usb.resolve())
    backups.set_folder(db, admin, settings, "")
    assert backups.folder(db, settings) == db.path.parent / "backups" and settings["backup_dir"] == ""
    # a folder that disappears (stick pulled out): a clear message, nothing made
    backups.set_folder(db, admin, settings, str(usb))
    shutil.rmtree(usb)
    with pytest.raises(BackupFolderMissing) as e:
        backups.create(db, admin, settings, "manual")
    assert "U盘" in e.value.user_message and not usb.exists()  # not re-made on the system disk


def test_restore_round_trip_through_the_service(setup):
    db, settings, admin, sup, desk = setup
    kept = _register(db, desk, "张三", 1)
    info = backups.create(db, admin, settings, "manual")
    gone = _register(db, desk, "李四", 2)
    same_object = db
    result = backups.restore(db, admin, info.path, now=datetime(2026, 11, 23, 17, 0))
    assert db is same_object  # reopened in place: pages keep their reference
    with db.session() as s:
        names = set(s.scalars(select(Resident.name)))
        assert s.get(Resident, kept) is not None and s.get(Resident, gone) is None
    assert names == {"张三"}
    assert result.set_aside == db.path.with_name("station.replaced-20261123-170000.sqlite3")
    assert result.set_aside.exists() and result.backup.residents == 1
    old = open_database(result.set_aside)  # the replaced database is intact
    try:
        with old.session() as s:
            assert set(s.scalars(select(Resident.name))) == {"张三", "李四"}
    finally:
        old.close()
    line = _audit(db, "backup_restore")[-1]  # in the restored database
    assert line.actor_name == "admin" and line.detail["backup"] == info.path.name
    assert line.detail["set_aside"] == result.set_aside.name
    _register(db, desk, "王五", 3)  # the reopened database takes writes


def test_restore_refuses_a_backup_from_a_newer_program(setup, monkeypatch):
    db, settings, admin, *_ = setup
    info = backups.create(db, admin, settings, "manual")
    from db.migrations import run

    monkeypatch.setattr(run, "known_revisions", lambda: {"0001_initial"})
    with pytest.raises(SchemaTooNew):
        backups.restore(db, admin, info.path)
    with db.session() as s:  # untouched and still open
        assert s.scalar(select(AuditLog.id).limit(1)) is not None


def test_a_server_database_is_not_backed_up_here(setup):
    db, settings, admin, *_ = setup
    server = Database(url="postgresql://hub/x", engine=db.engine, sessions=db.sessions, path=None)
    assert not backups.supported(server)
    assert backups.folder(server, settings) is None and backups.listing(server, settings) == []
    assert not backups.daily_due(server, settings)
    with pytest.raises(backups.NotSupported) as e:
        backups.create(server, admin, settings, "manual")
    assert "pg_dump" in e.value.user_message
    with pytest.raises(backups.NotSupported):
        backups.restore(server, admin, Path("x.sqlite3"))
