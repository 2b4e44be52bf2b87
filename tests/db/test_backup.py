"""db.backup: writing, verifying, listing, rotating and restoring backups,
and failing cleanly on a full or read-only backup location."""

from __future__ import annotations

import errno
import hashlib
import os
import shutil
import sqlite3
import subprocess
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from db import backup, keys
from db.backup import BackupInfo
from db.engine import open_database
from db.errors import (
    BackupDiskFull,
    BackupFailed,
    BackupFolderMissing,
    BackupFolderNotWritable,
    BackupInvalid,
    friendly,
)


@pytest.fixture
def station_file(tmp_path):
    """A closed station database with a few residents; returns its path."""
    from desktop.services import accounts, demo

    path = tmp_path / "data" / "station.sqlite3"
    db = open_database(path)
    accounts.setup_station(
        db,
        code="340304001",
        name="幸福里社区党群服务中心",
        level="community",
        admin_username="admin",
        admin_password="admin123",
    )
    demo.fill_demo(db, n_residents=40, seed=3)
    db.close()
    return path


def _digest(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


def _names(folder: Path) -> set[str]:
    return {p.name for p in folder.iterdir()} if folder.exists() else set()


def _add_resident(path: Path, name: str = "新居民") -> None:
    from desktop.services import accounts, residents
    from desktop.services.idnumbers import make_ric
    from desktop.services.residents import ResidentForm

    db = open_database(path)
    try:
        actor = accounts.authenticate(db, "admin", "admin123")
        residents.register(
            db,
            actor,
            ResidentForm(name=name, doc_number=make_ric("340304", date(1950, 1, 2), 77)),
            duplicate_reason="test",
        )
    finally:
        db.close()


# ------------------------------------------------------------------ writing


def test_backup_is_verified_self_contained_and_listed(station_file, tmp_path):
    folder = tmp_path / "bk"
    when = datetime(2026, 11, 23, 15, 32, 8)
    info = backup.make_backup(station_file, folder, "manual", now=when)
    assert info.path == folder / "station-20261123-153208-manual.sqlite3"
    assert info.verified and info.created_at == when and info.reason == "manual"
    assert info.counts["residents"] == 40 and info.counts["accounts"] == 1
    assert info.size == info.path.stat().st_size
    # one file plus its sidecar; nothing temporary, no -wal/-shm
    assert _names(folder) == {info.path.name, "station-20261123-153208-manual.json"}
    con = keys.connect(info.path, keys.station_key(station_file))
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == "delete"  # rollback journal, not WAL
    con.close()
    listed = backup.list_backups(folder)
    assert [b.path for b in listed] == [info.path]
    assert listed[0].counts == info.counts and listed[0].verified and listed[0].residents == 40
    counts, schema = backup.verify(info.path)
    assert counts == info.counts and schema == info.schema
    # the backup opens as a station database (given its key file: it is encrypted)
    shutil.copyfile(keys.key_path(station_file), keys.key_path(info.path))
    db = open_database(info.path)
    db.close()


def test_backup_of_an_open_database_while_it_is_written(station_file, tmp_path):
    db = open_database(station_file)
    try:
        with db.engine.connect() as conn:  # an open reader does not block the backup
            conn.exec_driver_sql("SELECT count(*) FROM residents").scalar()
            info = backup.make_backup(station_file, tmp_path / "bk", "auto")
    finally:
        db.close()
    assert info.counts["residents"] == 40


def test_names_never_collide_and_nothing_is_overwritten(station_file, tmp_path):
    folder = tmp_path / "bk"
    when = datetime(2026, 11, 23, 8, 0, 0)
    a = backup.make_backup(station_file, folder, "auto", now=when)
    before = _digest(a.path)
    b = backup.make_backup(station_file, folder, "auto", now=when)
    c = backup.make_backup(station_file, folder, "auto", now=when)
    assert [a.path.name, b.path.name, c.path.name] == [
        "station-20261123-080000-auto.sqlite3",
        "station-20261123-080000-auto-2.sqlite3",
        "station-20261123-080000-auto-3.sqlite3",
    ]
    assert _digest(a.path) == before
    assert len(backup.list_backups(folder)) == 3


def test_listing_knows_migration_backups_and_distrusts_changed_files(station_file, tmp_path):
    folder = tmp_path / "bk"
    good = backup.make_backup(station_file, folder, "manual", now=datetime(2026, 11, 20, 9, 0))
    from db.engine import backup_sqlite

    old = backup_sqlite(station_file, folder / "station.before-0003_certificates-20261121-100000.sqlite3")
    (folder / "notes.txt").write_text("x")
    (folder / "other-20261122-100000-auto.sqlite3").write_bytes(b"")  # another database's backup
    (folder / "station-20261122-100000-auto.sqlite3.part").write_bytes(b"half")
    items = backup.list_backups(folder, "station")
    assert [b.path for b in items] == [old, good.path]
    assert items[0].reason == "migration" and items[0].counts is None and not items[0].verified
    assert items[0].created_at == datetime(2026, 11, 21, 10, 0)
    assert len(backup.list_backups(folder)) == 3  # without a stem: every backup
    # a backup changed after it was verified is no longer shown as verified
    with open(good.path, "ab") as f:
        f.write(b"\0" * 10)
    assert not backup.list_backups(folder, "station")[1].verified
    assert backup.list_backups(tmp_path / "no such folder") == []


def test_stale_temporary_files_are_cleared(station_file, tmp_path):
    folder = tmp_path / "bk"
    folder.mkdir()
    stale = folder / "station-20261122-100000-auto.sqlite3.part"
    stale.write_bytes(b"left by a power cut")
    foreign = folder / "other-20261122-100000-auto.sqlite3.part"
    foreign.write_bytes(b"not ours")
    backup.make_backup(station_file, folder, "auto")
    assert not stale.exists() and foreign.exists()


def test_verify_rejects_damaged_and_foreign_files(station_file, tmp_path):
    info = backup.make_backup(station_file, tmp_path / "bk", "manual")
    damaged = tmp_path / "damaged.sqlite3"
    data = bytearray(info.path.read_bytes())
    page = 4096
    for i in range(3 * page, 6 * page):  # wipe a few b-tree pages
        data[i] = 0x5A
    damaged.write_bytes(bytes(data))
    with pytest.raises(BackupInvalid) as e:
        backup.verify(damaged)
    assert "已损坏" in e.value.user_message
    truncated = tmp_path / "short.sqlite3"
    truncated.write_bytes(info.path.read_bytes()[: len(data) // 3])
    with pytest.raises(BackupInvalid):
        backup.verify(truncated)
    text = tmp_path / "text.sqlite3"
    text.write_text("hello")
    with pytest.raises(BackupInvalid):
        backup.verify(text)
    foreign = tmp_path / "foreign.sqlite3"
    con = sqlite3.connect(foreign)
    con.execute("CREATE TABLE t(x)")
    con.commit()
    con.close()
    with pytest.raises(BackupInvalid):
        backup.verify(foreign)


# ------------------------------------------------------------------ failures


@pytest.mark.parametrize(
    "code, kind, words",
    [
        (errno.ENOSPC, BackupDiskFull, "空间已满"),
        (errno.EROFS, BackupFolderNotWritable, "只读"),
        (errno.EACCES, BackupFolderNotWritable, "写入权限"),
        (errno.EIO, BackupFailed, "读写"),
    ],
)
@pytest.mark.parametrize("stage", ["copy", "sidecar", "rename"])
def test_os_errors_leave_earlier_backups_and_database_untouched(
    station_file, tmp_path, monkeypatch, code, kind, words, stage
):
    folder = tmp_path / "bk"
    earlier = backup.make_backup(station_file, folder, "auto", now=datetime(2026, 11, 22, 8, 0))
    before = {p.name: _digest(p) for p in folder.iterdir()}
    db_before = _digest(station_file)
    err = OSError(code, os.strerror(code))
    if stage == "copy":
        real = backup._copy_sqlite

        def copy(*a):  # type: ignore[no-untyped-def]
            real(*a)  # a half-written file exists when the error comes
            raise err

        monkeypatch.setattr(backup, "_copy_sqlite", copy)
    elif stage == "sidecar":
        monkeypatch.setattr(backup.json, "dump", lambda *a, **k: (_ for _ in ()).throw(err))
    else:
        real_replace = os.replace

        def replace(a, b):  # type: ignore[no-untyped-def]
            if str(b).endswith(".json"):  # the backup has its name, the sidecar fails
                raise err
            return real_replace(a, b)

        monkeypatch.setattr(backup.os, "replace", replace)
    with pytest.raises(kind) as e:
        backup.make_backup(station_file, folder, "manual", now=datetime(2026, 11, 23, 8, 0))
    assert words in e.value.user_message
    assert "以前的备份都没有受影响" in e.value.user_message or kind is BackupFailed
    assert friendly(e.value) is e.value
    after = {p.name: _digest(p) for p in folder.iterdir()}
    assert after == before  # nothing new, nothing partial, nothing changed
    assert _digest(station_file) == db_before
    assert [b.path for b in backup.list_backups(folder)] == [earlier.path]


def test_sqlite_full_error_is_disk_full(station_file, tmp_path, monkeypatch):
    def copy(*a):  # type: ignore[no-untyped-def]
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(backup, "_copy_sqlite", copy)
    with pytest.raises(BackupDiskFull):
        backup.make_backup(station_file, tmp_path / "bk", "manual")


def test_missing_folder_on_an_unplugged_stick(station_file, tmp_path):
    gone = tmp_path / "usb" / "备份"
    with pytest.raises(BackupFolderMissing) as e:
        backup.make_backup(station_file, gone, "auto")
    assert "U盘" in e.value.user_message
    assert not (tmp_path / "usb").exists()  # no folder made on the system disk


def test_windows_error_codes_map_too(tmp_path):
    e = OSError(errno.EINVAL, "There is not enough space on the disk")
    e.winerror = 112  # type: ignore[attr-defined]
    assert isinstance(backup.backup_error(e, tmp_path), BackupDiskFull)
    e = OSError(errno.EINVAL, "The media is write protected")
    e.winerror = 19  # type: ignore[attr-defined]
    assert isinstance(backup.backup_error(e, tmp_path), BackupFolderNotWritable)


@pytest.fixture
def small_tmpfs(mount_tmpfs):
    """A 2 MiB tmpfs (root only): room for one backup of the small station,
    not for one of the demo-filled one; skips when mounting is not permitted."""
    return mount_tmpfs("2m")


def test_real_full_tmpfs(station_file, small_tmpfs):
    first = backup.make_backup(station_file, small_tmpfs, "auto", now=datetime(2026, 11, 22, 8, 0))
    kept = _digest(first.path)
    from desktop.services import demo

    db = open_database(station_file)
    demo.fill_demo(db, n_residents=1500, seed=5)  # now bigger than the space left
    db.close()
    db_before = _digest(station_file)
    with pytest.raises(BackupDiskFull) as e:
        backup.make_backup(station_file, small_tmpfs, "manual", now=datetime(2026, 11, 23, 8, 0))
    assert "空间已满" in e.value.user_message
    assert _names(small_tmpfs) == {first.path.name, first.sidecar.name}
    assert _digest(first.path) == kept and _digest(station_file) == db_before
    assert backup.list_backups(small_tmpfs)[0].verified


def test_a_stick_too_small_for_the_copy_is_a_full_disk(station_file, mount_tmpfs):
    """On a 1 MiB stick the copy of a 1 MB station fills the disk while SQLite
    switches its journal, which SQLite calls a bare "disk I/O error": the
    worker is told the stick is full, and nothing is left on it."""
    stick = mount_tmpfs("1m")
    assert station_file.stat().st_size > 900 * 1024
    with pytest.raises(BackupDiskFull) as e:
        backup.make_backup(station_file, stick, "manual", now=datetime(2026, 11, 23, 8, 0))
    assert "空间已满" in e.value.user_message
    assert _names(stick) == set()


def test_real_read_only_mount(station_file, small_tmpfs):
    first = backup.make_backup(station_file, small_tmpfs, "auto", now=datetime(2026, 11, 22, 8, 0))
    r = subprocess.run(["mount", "-o", "remount,ro", str(small_tmpfs)], capture_output=True)
    if r.returncode != 0:
        pytest.skip("cannot remount read-only here")
    with pytest.raises(BackupFolderNotWritable) as e:
        backup.make_backup(station_file, small_tmpfs, "manual")
    assert "只读" in e.value.user_message
    assert _names(small_tmpfs) == {first.path.name, first.sidecar.name}
    # a backup on write-protected media still lists, verifies and restores
    assert backup.list_backups(small_tmpfs)[0].verified
    backup.verify(first.path)
    backup.restore(first.path, station_file)
    db = open_database(station_file)
    db.close()


# ------------------------------------------------------------------ rotation


def _fake(folder: Path, when: datetime, reason: str = "auto", stem: str = "station") -> Path:
    p = folder / f"{stem}-{when:%Y%m%d-%H%M%S}-{reason}.sqlite3"
    p.write_bytes(b"")
    return p


def _infos(paths: list[Path]) -> list[BackupInfo]:
    return [backup.read_info(p) for p in paths]  # type: ignore[misc]


def test_rotation_keeps_7_daily_4_weekly_12_monthly(tmp_path):
    folder = tmp_path / "bk"
    folder.mkdir()
    now = datetime(2026, 11, 23, 18, 0)  # a Monday
    made = []
    day = now - timedelta(days=500)
    while day <= now:
        made.append(_fake(folder, day.replace(hour=8)))
        if day.day % 3 == 0:  # a few manual backups later the same day
            made.append(_fake(folder, day.replace(hour=16), "manual"))
        day += timedelta(days=1)
    migration = folder / "station.before-0001_initial-20250101-090000.sqlite3"
    migration.write_bytes(b"")
    other = _fake(folder, datetime(2024, 1, 1, 8), stem="other")

    infos = _infos(made)
    expected: set[Path] = set()
    for keyf, n in ((lambda d: d.date(), 7), (lambda d: d.isocalendar()[:2], 4), (lambda d: (d.year, d.month), 12)):
        periods: dict = {}
        for b in sorted(infos, key=lambda b: b.created_at, reverse=True):
            periods.setdefault(keyf(b.created_at), b.path)
        expected.update(list(periods.values())[:n])
    expected.update(b.path for b in infos if b.created_at >= now - timedelta(hours=24))

    removed = backup.rotate(folder, now, stem="station")
    left = {p for p in folder.iterdir()}
    assert left == expected | {migration, other}
    assert set(removed) == set(made) - expected
    # the 7 newest days, 4 newest weeks and 12 newest months are all represented
    kept_infos = [b for b in infos if b.path in expected]
    assert len({b.created_at.date() for b in kept_infos if b.created_at > now - timedelta(days=7)}) == 7
    assert len({(b.created_at.year, b.created_at.month) for b in kept_infos}) == 12
    assert len(kept_infos) <= 7 + 4 + 12
    newest = max(infos, key=lambda b: b.created_at)
    assert newest.path in left
    # a second run removes nothing more
    assert backup.rotate(folder, now, stem="station") == []


def test_rotation_never_removes_the_newest_or_future_dated(tmp_path):
    folder = tmp_path / "bk"
    folder.mkdir()
    now = datetime(2026, 11, 23, 18, 0)
    old = [_fake(folder, now - timedelta(days=i)) for i in range(2, 5)]
    future = _fake(folder, now + timedelta(days=30))  # the PC's clock was wrong then
    assert backup.select_kept(_infos(old), now, daily=0, weekly=0, monthly=0) == {old[0]}
    removed = backup.rotate(folder, now, daily=0, weekly=0, monthly=0)
    assert set(removed) == set(old) and future.exists()
    lonely = tmp_path / "one"
    lonely.mkdir()
    only = _fake(lonely, now - timedelta(days=900))
    assert backup.rotate(lonely, now, daily=0, weekly=0, monthly=0) == []
    assert only.exists()


def test_rotation_keeps_everything_from_the_last_day(tmp_path):
    folder = tmp_path / "bk"
    folder.mkdir()
    now = datetime(2026, 11, 23, 18, 0)
    today = [_fake(folder, now.replace(hour=h), "manual") for h in (9, 11, 17)]
    yesterday = [_fake(folder, now.replace(hour=h) - timedelta(days=1), "auto") for h in (8, 19)]
    removed = backup.rotate(folder, now)
    assert removed == [yesterday[0]]  # 34 hours old and not the newest of its day
    assert all(p.exists() for p in today + yesterday[1:])


def test_rotation_after_a_long_closure_keeps_a_week_of_working_days(tmp_path):
    folder = tmp_path / "bk"
    folder.mkdir()
    now = datetime(2026, 10, 9, 9, 0)
    # backups up to the National Day holiday, then a week closed, then two days
    days = [datetime(2026, 9, d, 8) for d in range(15, 31)] + [datetime(2026, 10, 8, 8), datetime(2026, 10, 9, 8)]
    paths = [_fake(folder, d) for d in days]
    backup.rotate(folder, now)
    kept_days = sorted(backup.read_info(p).created_at.date() for p in paths if p.exists())  # type: ignore[union-attr]
    assert kept_days[-7:] == [
        date(2026, 9, 26),
        date(2026, 9, 27),
        date(2026, 9, 28),
        date(2026, 9, 29),
        date(2026, 9, 30),
        date(2026, 10, 8),
        date(2026, 10, 9),
    ]


# ------------------------------------------------------------------ restore


def test_restore_round_trip_keeps_the_replaced_file(station_file, tmp_path):
    info = backup.make_backup(station_file, tmp_path / "bk", "manual")
    _add_resident(station_file, "恢复后应消失")
    db = open_database(station_file)
    db.close()
    aside = backup.restore(info.path, station_file, now=datetime(2026, 11, 23, 16, 0))
    assert aside == station_file.with_name("station.replaced-20261123-160000.sqlite3")
    con = keys.connect(station_file, keys.station_key(station_file))
    assert con.execute("SELECT count(*) FROM residents").fetchone()[0] == 40
    con.close()
    con = keys.connect(aside, keys.station_key(station_file))
    assert con.execute("SELECT count(*) FROM residents WHERE name = '恢复后应消失'").fetchone()[0] == 1
    con.close()
    db = open_database(station_file)  # opens (WAL again) and passes the checks
    db.close()
    assert _names(station_file.parent) >= {"station.sqlite3", aside.name}
    assert not any(n.endswith(".restoring") for n in _names(station_file.parent))
    # a second restore in the same second gets its own aside name
    again = backup.restore(info.path, station_file, now=datetime(2026, 11, 23, 16, 0))
    assert again is not None and again != aside and aside.exists()


def test_restore_moves_wal_files_with_the_replaced_database(station_file, tmp_path):
    info = backup.make_backup(station_file, tmp_path / "bk", "manual")
    # a crashed program left a WAL with a committed row in it
    con = keys.connect(station_file, keys.station_key(station_file))
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA wal_autocheckpoint=0")
    con.execute("UPDATE stations SET name = '只在WAL里'")
    con.commit()
    wal = Path(str(station_file) + "-wal")
    assert wal.exists() and wal.stat().st_size > 0
    copy = tmp_path / "crash"
    copy.mkdir()
    for s in ("", "-wal", "-shm"):
        p = Path(str(station_file) + s)
        if p.exists():
            (copy / p.name).write_bytes(p.read_bytes())
    con.close()
    for s in ("", "-wal", "-shm"):
        p = Path(str(station_file) + s)
        p.unlink(missing_ok=True)
        if (copy / p.name).exists():
            p.write_bytes((copy / p.name).read_bytes())
    aside = backup.restore(info.path, station_file)
    assert aside is not None and Path(str(aside) + "-wal").exists()
    con = keys.connect(aside, keys.station_key(station_file))
    assert con.execute("SELECT name FROM stations").fetchone()[0] == "只在WAL里"
    con.close()


def test_restore_refuses_a_damaged_backup_and_changes_nothing(station_file, tmp_path):
    info = backup.make_backup(station_file, tmp_path / "bk", "manual")
    data = bytearray(info.path.read_bytes())
    data[4096 * 2 : 4096 * 4] = b"\x5a" * (4096 * 2)
    info.path.write_bytes(bytes(data))
    before = _digest(station_file)
    listing = _names(station_file.parent)
    with pytest.raises(BackupInvalid):
        backup.restore(info.path, station_file)
    assert _digest(station_file) == before and _names(station_file.parent) == listing


def test_restore_failure_puts_the_database_back(station_file, tmp_path, monkeypatch):
    info = backup.make_backup(station_file, tmp_path / "bk", "manual")
    before = _digest(station_file)
    names = _names(station_file.parent)
    real_replace = os.replace

    def replace(a, b):  # type: ignore[no-untyped-def]
        if str(a).endswith(".restoring"):
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_replace(a, b)

    monkeypatch.setattr(backup.os, "replace", replace)
    with pytest.raises(Exception) as e:
        backup.restore(info.path, station_file)
    assert "当前数据库保持原样" in e.value.user_message  # type: ignore[attr-defined]
    assert _digest(station_file) == before
    assert _names(station_file.parent) == names  # nothing left over, nothing missing


def test_newest_good_skips_damaged_backups(station_file, tmp_path):
    folder = tmp_path / "bk"
    good = backup.make_backup(station_file, folder, "auto", now=datetime(2026, 11, 21, 8, 0))
    bad = backup.make_backup(station_file, folder, "auto", now=datetime(2026, 11, 22, 8, 0))
    bad.path.write_bytes(bad.path.read_bytes()[:5000])
    found = backup.newest_good(folder, "station")
    assert found is not None and found.path == good.path and found.residents == 40
    assert backup.newest_good(tmp_path / "none", "station") is None


def test_unknown_reason_is_a_programming_error(station_file, tmp_path):
    with pytest.raises(ValueError):
        backup.make_backup(station_file, tmp_path, "weekly")
