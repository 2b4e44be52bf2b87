"""Backups of a station's SQLite file, and restoring from them.

Only the standard library and ``db.errors``: no application code, so the
command line, the window and the start-up path can all use it.

A backup is written with SQLite's online backup API (a consistent snapshot
while the app keeps working), first under a temporary ``.part`` name; it is
switched out of WAL mode (one self-contained file, readable from write-
protected media), flushed to disk, verified — ``PRAGMA integrity_check`` and a
row count per table — and only then renamed to its real name, beside a small
JSON sidecar holding the counts so a list can show them without opening each
backup.  A real name is never written over: names carry the date and time and
get a ``-2``, ``-3`` … suffix if needed.  When anything fails, the temporary
files are removed and a ``db.errors.BackupFailed`` (disk full, read-only,
missing folder, I/O) says so in Chinese; earlier backups and the database are
not touched.

File names: ``station-20261123-153208-auto.sqlite3`` (+ ``.json``), reasons
``auto`` (daily), ``manual`` (立即备份) and ``migration``.  The older
``station.before-<rev>-20261123-153208.sqlite3`` files written by
``db.engine`` before a migration are listed too (reason ``migration``,
without counts until verified).

Backups are encrypted with the station's data key (``db.keys``), like the
station file: the backup API between two SQLCipher connections keyed alike,
or ``sqlcipher_export`` from a clear file.  The sidecar carries the key's
recovery and password wraps (never the machine one), so a backup taken to
another computer opens with the recovery code.  Files are owner-only (0600).

``restore`` needs the database closed (``Database.close()``) — see its
docstring; ``desktop.services.backups.restore`` does the closing and reopening.
"""

from __future__ import annotations

import errno
import json
import logging
import os
import re
import shutil
import sqlite3
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Iterable

from sqlcipher3 import dbapi2 as sqlcipher

from db import keys
from db.errors import (
    BackupDiskFull,
    BackupFailed,
    BackupFolderMissing,
    BackupFolderNotWritable,
    BackupInvalid,
    DatabaseCorrupt,
    DatabaseNotWritable,
    DiskFull,
    DiskIOError,
    StationDeskError,
)

log = logging.getLogger(__name__)

SQL_ERRORS = (sqlite3.Error, sqlcipher.Error)  # clear files from earlier versions, encrypted ones

REASONS = ("auto", "manual", "migration", "import")
ROTATED_REASONS = ("auto", "manual", "import")  # backups before a migration are kept
KEEP_DAILY, KEEP_WEEKLY, KEEP_MONTHLY = 7, 4, 12
RECENT = timedelta(hours=24)  # rotation keeps every backup this young
SUFFIX = ".sqlite3"
PART = ".part"
STAMP = "%Y%m%d-%H%M%S"
SIDECAR_FORMAT = 1

_OURS = re.compile(r"^(?P<stem>.+)-(?P<ts>\d{8}-\d{6})-(?P<reason>auto|manual|migration|import)(?:-\d+)?\.sqlite3$")
_ENGINE = re.compile(r"^(?P<stem>.+)\.before-(?P<rev>.+)-(?P<ts>\d{8}-\d{6})\.sqlite3$")

# Windows error codes that arrive as OSError.winerror
_WIN_DISK_FULL = {39, 112}  # ERROR_HANDLE_DISK_FULL, ERROR_DISK_FULL
_WIN_READ_ONLY = {5, 19}  # ERROR_ACCESS_DENIED, ERROR_WRITE_PROTECT


@dataclass(frozen=True)
class BackupInfo:
    path: Path
    created_at: datetime  # local time, from the file name
    reason: str  # auto | manual | migration | import (before a sync bundle)
    size: int
    counts: dict[str, int] | None = None  # rows per table; None until verified
    verified: bool = False  # integrity_check passed when written (and size unchanged since)
    schema: str | None = None  # alembic revision inside the backup
    extra: dict = field(default_factory=dict, compare=False, repr=False)

    @property
    def residents(self) -> int | None:
        return None if self.counts is None else self.counts.get("residents")

    @property
    def matters(self) -> int | None:
        return None if self.counts is None else self.counts.get("matters")

    @property
    def sidecar(self) -> Path:
        return sidecar_path(self.path)


def sidecar_path(backup: Path) -> Path:
    return backup.with_suffix(".json")


def default_folder(db_path: str | os.PathLike[str]) -> Path:
    """``backups`` beside the database (where ``db.engine`` puts migration backups)."""
    return Path(db_path).parent / "backups"


# ------------------------------------------------------------------ errors


def _errno_of(e: BaseException) -> int | None:
    return getattr(e, "errno", None)


def backup_error(e: BaseException, folder: Path, source: Path | None = None) -> StationDeskError:
    """Map an OS or SQLite error met while writing into ``folder``."""
    if isinstance(e, StationDeskError):
        return e
    where = str(folder)
    if isinstance(e, OSError):
        code, win = e.errno, getattr(e, "winerror", None)
        if code in (errno.ENOSPC, getattr(errno, "EDQUOT", -1), errno.EFBIG) or win in _WIN_DISK_FULL:
            return BackupDiskFull(where, str(e))
        if code in (errno.EROFS, errno.EACCES, errno.EPERM) or win in _WIN_READ_ONLY:
            return BackupFolderNotWritable(where, str(e))
        if code == errno.ENOENT and not folder.is_dir():
            return BackupFolderMissing(where, str(e))
        return BackupFailed(where, str(e))
    text = str(e).lower()
    if "malformed" in text or "not a database" in text:
        return DatabaseCorrupt(str(source or "?"), str(e))
    if "full" in text or ("disk i/o error" in text and _short_of_space(folder, source)):
        return BackupDiskFull(where, str(e))
    if "readonly" in text or "read-only" in text or "unable to open" in text or "permission" in text:
        if not folder.is_dir():
            return BackupFolderMissing(where, str(e))
        return BackupFolderNotWritable(where, str(e))
    return BackupFailed(where, str(e))


def _short_of_space(folder: Path, source: Path | None) -> bool:
    """Whether ``folder`` lacks room for a copy of ``source`` (plus a tenth for
    the journal and the sidecar).  SQLite reports a disk that filled up while
    it switched the copy's journal as a bare "disk I/O error"; this tells the
    worker the real reason: the stick is full."""
    try:
        need = int((source.stat().st_size if source else 0) * 1.1) + 64 * 1024
        return shutil.disk_usage(folder).free < need
    except OSError:
        return False


def _restore_error(e: BaseException, where: Path) -> StationDeskError:
    """Errors while putting a backup in place beside the database."""
    if isinstance(e, StationDeskError):
        return e
    code, win = _errno_of(e), getattr(e, "winerror", None)
    text = str(e).lower()
    if code == errno.ENOSPC or win in _WIN_DISK_FULL or "full" in text:
        return DiskFull(str(e), "磁盘空间不够，恢复没有进行。当前数据库保持原样。请清理磁盘后重试。")
    if code in (errno.EROFS, errno.EACCES, errno.EPERM) or win in _WIN_READ_ONLY or "readonly" in text:
        return DatabaseNotWritable(str(where), str(e))
    return DiskIOError(str(e), "读写磁盘时出错，恢复没有完成。当前数据库保持原样。请检查磁盘后重试。")


# ------------------------------------------------------------------ helpers


def _ro_uri(path: Path) -> str:
    # immutable: no locks, no -wal/-shm files (works on write-protected media);
    # right for a backup, which nobody writes once it has its name.
    return path.resolve().as_uri() + "?mode=ro&immutable=1"


def _live_ro_uri(path: Path) -> str:
    return path.resolve().as_uri() + "?mode=ro"


def fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_BINARY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_dir(folder: Path) -> None:
    if os.name == "nt":  # directories cannot be opened for fsync on Windows
        return
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _unlink_quietly(*paths: Path) -> None:
    for p in paths:
        try:
            p.unlink()
        except FileNotFoundError:
            pass
        except OSError as e:  # read-only media: nothing was left there anyway
            log.warning("could not remove %s: %s", p.name, e)


def _copy_sqlite(source: Path, source_uri: str, dest: Path, key: bytes | None) -> None:
    """Copy into ``dest`` (a new file, encrypted with ``key``), rollback-journal
    mode, owner-only, synced.  An encrypted source is copied with the backup
    API (both ends keyed alike); a clear one from an earlier version is
    exported encrypted."""
    if key is not None and keys.is_clear(source):
        keys.export_encrypted(source_uri, dest, key)
    else:
        src = keys.connect(source_uri, key, uri=True)
        try:
            out = keys.connect(dest, key)
            try:
                src.backup(out)
                # The copied header says WAL; a backup is one self-contained file.
                out.execute("PRAGMA journal_mode=DELETE").fetchall()
            finally:
                out.close()
        finally:
            src.close()
    keys.owner_only(dest)
    fsync_file(dest)


def verify(
    path: str | os.PathLike[str], *, quick: bool = False, key: bytes | None = None
) -> tuple[dict[str, int], str | None]:
    """Check a backup file: integrity (``quick_check`` if ``quick``) and that it
    is a station database.  An encrypted one is read with ``key``, else with a
    key this process has unlocked (``keys.key_for_file``).  Returns (rows per
    table, schema revision); raises ``BackupInvalid``."""
    p = Path(path)
    try:
        with open(p, "rb") as f:
            if not f.read(16):
                raise BackupInvalid(str(p), "empty file")
        if keys.is_clear(p):
            key = None
        elif key is None:
            key = keys.key_for_file(p)
    except OSError as e:
        raise BackupInvalid(str(p), str(e)) from e
    except StationDeskError as e:  # WrongKey: not ours, damaged, or another station's key
        err = BackupInvalid(str(p), str(e))
        err.user_message = (
            f"这个备份是加密的，本机没有能打开它的密钥：\n{p}\n\n"
            "它可能来自另一台电脑，或已损坏。当前数据库没有改动。"
            "在新电脑上恢复时，请提供建立站点时的恢复码（命令行：backup restore 备份文件 --recovery-code 恢复码）。"
        )
        raise err from e
    try:
        con = keys.connect(_ro_uri(p), key, uri=True)
    except SQL_ERRORS as e:
        raise BackupInvalid(str(p), str(e)) from e
    try:
        rows = con.execute("PRAGMA quick_check" if quick else "PRAGMA integrity_check").fetchall()
        if rows != [("ok",)]:
            raise BackupInvalid(str(p), "; ".join(str(r[0]) for r in rows[:5]))
        tables = [
            r[0]
            for r in con.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
            )
        ]
        if "alembic_version" not in tables:
            raise BackupInvalid(str(p), "not a station database")
        schema = con.execute("SELECT version_num FROM alembic_version").fetchone()
        counts = {
            t: int(con.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0]) for t in tables if t != "alembic_version"
        }
    except SQL_ERRORS as e:
        raise BackupInvalid(str(p), str(e)) from e
    finally:
        con.close()
    return counts, (schema[0] if schema else None)


def _parse_name(name: str) -> tuple[str, datetime, str] | None:
    """(stem, created_at, reason) for a backup's file name, else None."""
    for rx in (_OURS, _ENGINE):
        m = rx.match(name)
        if m:
            try:
                ts = datetime.strptime(m["ts"], STAMP)
            except ValueError:
                return None
            reason = m.groupdict().get("reason") or "migration"
            return m["stem"], ts, reason
    return None


def _read_sidecar(path: Path, size: int) -> dict | None:
    try:
        data = json.loads(sidecar_path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("size") != size or not isinstance(data.get("counts"), dict):
        return None  # missing, damaged, or the backup changed since it was verified
    return data


def read_info(path: Path) -> BackupInfo | None:
    parsed = _parse_name(path.name)
    if parsed is None:
        return None
    _stem, created, reason = parsed
    try:
        size = path.stat().st_size
    except OSError:
        return None
    side = _read_sidecar(path, size)
    if side is None:
        return BackupInfo(path, created, reason, size)
    return BackupInfo(
        path,
        created,
        reason,
        size,
        counts={k: int(v) for k, v in side["counts"].items()},
        verified=side.get("integrity") == "ok",
        schema=side.get("schema"),
        extra=side,
    )


def list_backups(folder: str | os.PathLike[str], stem: str | None = None) -> list[BackupInfo]:
    """Backups in ``folder`` (of the database named ``stem``, if given), newest first.
    A missing or unreadable folder gives an empty list."""
    f = Path(folder)
    try:
        names = [e for e in os.scandir(f) if e.is_file() and e.name.endswith(SUFFIX)]
    except OSError:
        return []
    out = []
    for entry in names:
        parsed = _parse_name(entry.name)
        if parsed is None or (stem is not None and parsed[0] != stem):
            continue
        info = read_info(f / entry.name)
        if info is not None:
            out.append(info)
    out.sort(key=lambda b: (b.created_at, b.path.name), reverse=True)
    return out


def newest_good(folder: str | os.PathLike[str], stem: str | None = None) -> BackupInfo | None:
    """The newest backup that passes a quick check now (for the start-up offer)."""
    for b in list_backups(folder, stem):
        try:
            counts, schema = verify(b.path, quick=True)
        except BackupInvalid as e:
            log.warning("backup %s unusable: %s", b.path.name, e)
            continue
        if b.counts is None:
            b = BackupInfo(b.path, b.created_at, b.reason, b.size, counts, False, schema)
        return b
    return None


def _unique_target(folder: Path, stem: str, when: datetime, reason: str) -> Path:
    base = f"{stem}-{when.strftime(STAMP)}-{reason}"
    candidate = folder / f"{base}{SUFFIX}"
    n = 2
    while candidate.exists() or candidate.with_name(candidate.name + PART).exists() or sidecar_path(candidate).exists():
        candidate = folder / f"{base}-{n}{SUFFIX}"
        n += 1
    return candidate


_SIDE_FILES = ("-journal", "-wal", "-shm")  # what SQLite keeps beside a file it writes


def _remove_stale_parts(folder: Path, stem: str) -> None:
    """Temporary files a crash or power cut left behind (this database's only)."""
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return
    for e in entries:
        if e.name.startswith(stem + "-") and e.name.endswith((PART, *(PART + x for x in _SIDE_FILES))):
            _unlink_quietly(folder / e.name)


# ------------------------------------------------------------------ backup


def _check_source(src: Path, key: bytes | None) -> None:
    """Raise DatabaseCorrupt if the live database itself fails ``quick_check``."""
    try:
        con = keys.connect(_live_ro_uri(src), None if keys.is_clear(src) else key, uri=True)
        try:
            rows = con.execute("PRAGMA quick_check").fetchall()
        finally:
            con.close()
    except SQL_ERRORS as e:
        raise DatabaseCorrupt(str(src), str(e)) from e
    if rows != [("ok",)]:
        raise DatabaseCorrupt(str(src), "; ".join(str(r[0]) for r in rows[:5]))


def make_backup(
    db_path: str | os.PathLike[str],
    folder: str | os.PathLike[str],
    reason: str = "manual",
    *,
    now: datetime | None = None,
    create_folder: bool = True,
    key: bytes | None = None,
) -> BackupInfo:
    """Back up the (possibly open) database at ``db_path`` into ``folder``.

    With ``create_folder`` the folder is made if its parent exists; without,
    it must exist (a folder someone chose on a USB stick: when the stick is
    out, that is an error, not a new folder on the system disk).  Raises ``BackupFailed`` and
    its kinds for the backup location, ``DatabaseCorrupt`` when the database
    itself cannot be read.  The backup is encrypted with ``key`` (default: the
    station's data key, ``keys.station_key``).
    """
    if reason not in REASONS:
        raise ValueError(f"unknown backup reason {reason!r}")
    src, dest_dir = Path(db_path), Path(folder)
    now = (now or datetime.now()).replace(microsecond=0)
    if not src.is_file():
        raise DatabaseCorrupt(str(src), "database file missing")
    if key is None and keys.key_path(src).exists():
        key = keys.station_key(src)
    if not dest_dir.is_dir():
        if not create_folder:
            raise BackupFolderMissing(str(dest_dir), "folder missing")
        try:
            dest_dir.mkdir()
        except OSError as e:
            raise backup_error(e, dest_dir) from e
    stem = src.stem
    _remove_stale_parts(dest_dir, stem)
    final = _unique_target(dest_dir, stem, now, reason)
    tmp = final.with_name(final.name + PART)
    side_final = sidecar_path(final)
    side_tmp = side_final.with_name(side_final.name + PART)
    renamed = False
    try:
        _copy_sqlite(src, _live_ro_uri(src), tmp, key)
        try:
            counts, schema = verify(tmp, key=key)
        except BackupInvalid as e:
            # Just written and already bad: the source or the medium is faulty.
            _check_source(src, key)
            raise BackupFailed(str(dest_dir), f"verification failed: {e}") from e
        size = tmp.stat().st_size
        meta = {
            "format": SIDECAR_FORMAT,
            "created_at": now.isoformat(),
            "reason": reason,
            "size": size,
            "integrity": "ok",
            "schema": schema,
            "source": src.name,
            "counts": counts,
        }
        if key is not None:
            meta["key"] = keys.portable_wraps(src)
        with open(side_tmp, "w", encoding="utf-8") as f:
            json.dump(meta, f, ensure_ascii=False, indent=1)
            f.flush()
            os.fsync(f.fileno())
        keys.owner_only(side_tmp)
        if final.exists() or side_final.exists():  # never write over a backup
            raise BackupFailed(str(dest_dir), f"{final.name} appeared meanwhile")
        os.replace(tmp, final)
        renamed = True
        os.replace(side_tmp, side_final)
        fsync_dir(dest_dir)
    except BaseException as e:
        # the copy starts in WAL (its header says so) until it is switched:
        # a failure then leaves -wal and -shm beside it too
        _unlink_quietly(tmp, *(tmp.with_name(tmp.name + x) for x in _SIDE_FILES), side_tmp)
        if renamed:  # all or nothing: a backup without its counts is not "made"
            _unlink_quietly(final)
        if isinstance(e, (OSError, *SQL_ERRORS)):
            raise backup_error(e, dest_dir, src) from e
        raise
    log.info("backup written: %s (%d bytes, %s)", final.name, size, reason)
    return BackupInfo(final, now, reason, size, counts, True, schema, meta)


# ------------------------------------------------------------------ rotation


def _period_keys(b: BackupInfo) -> dict[str, tuple]:
    d = b.created_at.date()
    iso = d.isocalendar()
    return {"daily": (d,), "weekly": (iso[0], iso[1]), "monthly": (d.year, d.month)}


def select_kept(
    backups: Iterable[BackupInfo],
    now: datetime,
    *,
    daily: int = KEEP_DAILY,
    weekly: int = KEEP_WEEKLY,
    monthly: int = KEEP_MONTHLY,
) -> set[Path]:
    """Which backups rotation keeps: for each rule, the newest backup of each of
    the most recent ``n`` days / ISO weeks / months that have a backup (a
    station closed for a holiday keeps a week of working days); the union of
    the rules; always the newest; everything from the last ``RECENT`` (24 h),
    so a backup someone just made never vanishes at once; and anything dated
    after ``now`` (a clock put right) is left alone."""
    items = sorted(backups, key=lambda b: (b.created_at, b.path.name), reverse=True)
    keep: set[Path] = set()
    if not items:
        return keep
    keep.add(items[0].path)
    for rule, n in (("daily", daily), ("weekly", weekly), ("monthly", monthly)):
        seen: set[tuple] = set()
        for b in items:
            key = _period_keys(b)[rule]
            if key in seen:
                continue
            if len(seen) >= n:
                break
            seen.add(key)
            keep.add(b.path)
    keep.update(b.path for b in items if b.created_at >= now - RECENT)
    return keep


def rotate(
    folder: str | os.PathLike[str],
    now: datetime | None = None,
    *,
    stem: str | None = None,
    daily: int = KEEP_DAILY,
    weekly: int = KEEP_WEEKLY,
    monthly: int = KEEP_MONTHLY,
) -> list[Path]:
    """Delete automatic and manual backups that ``select_kept`` does not keep;
    returns what was removed.  Backups taken before a migration are kept.
    A file that cannot be removed (read-only media) is left and logged."""
    now = now or datetime.now()
    rotated = [b for b in list_backups(folder, stem) if b.reason in ROTATED_REASONS]
    by_stem: dict[str, list[BackupInfo]] = {}
    for b in rotated:
        parsed = _parse_name(b.path.name)
        by_stem.setdefault(parsed[0] if parsed else "", []).append(b)
    removed = []
    for group in by_stem.values():
        keep = select_kept(group, now, daily=daily, weekly=weekly, monthly=monthly)
        for b in group:
            if b.path in keep:
                continue
            try:
                b.path.unlink()
            except FileNotFoundError:
                pass
            except OSError as e:
                log.warning("rotation could not remove %s: %s", b.path.name, e)
                continue
            _unlink_quietly(b.sidecar)
            removed.append(b.path)
    return removed


# ------------------------------------------------------------------ restore


def _aside_name(db_path: Path, label: str, now: datetime) -> Path:
    base = f"{db_path.stem}.{label}-{now.strftime(STAMP)}"
    candidate = db_path.with_name(base + db_path.suffix)
    n = 2
    while any(Path(str(candidate) + s).exists() for s in ("", "-wal", "-shm", "-journal")):
        candidate = db_path.with_name(f"{base}-{n}{db_path.suffix}")
        n += 1
    return candidate


def set_aside(db_path: str | os.PathLike[str], label: str = "replaced", *, now: datetime | None = None) -> Path | None:
    """Rename a closed database and its ``-wal``/``-shm``/``-journal`` files to
    ``<stem>.<label>-<time><suffix>`` beside it; nothing is deleted (the key
    file of an encrypted one is copied beside it, so it can still be opened).
    Returns the new name, or None if there was no file."""
    p = Path(db_path)
    if not p.exists():
        return None
    aside = _aside_name(p, label, (now or datetime.now()).replace(microsecond=0))
    moved: list[tuple[Path, Path]] = []
    try:
        for s in ("", "-wal", "-shm", "-journal"):
            a, b = Path(str(p) + s), Path(str(aside) + s)
            if a.exists():
                os.replace(a, b)
                moved.append((a, b))
    except OSError:
        for a, b in reversed(moved):  # put back what was moved
            try:
                os.replace(b, a)
            except OSError:
                log.error("could not move %s back to %s", b.name, a.name)
        raise
    if keys.key_path(p).exists():  # the set-aside file keeps the station's key: it stays openable
        try:
            shutil.copyfile(keys.key_path(p), keys.key_path(aside))
            keys.owner_only(keys.key_path(aside))
        except OSError as e:
            log.warning("could not copy the key file beside %s: %s", aside.name, e)
    fsync_dir(p.parent)
    return aside


def restore(
    backup_path: str | os.PathLike[str],
    db_path: str | os.PathLike[str],
    *,
    aside_label: str = "replaced",
    now: datetime | None = None,
    key: bytes | None = None,
) -> Path | None:
    """Replace the database at ``db_path`` with a copy of ``backup_path``.

    **The caller must have closed the database** (every connection:
    ``Database.close()``) and reopen it afterwards; on Windows an open file
    cannot be renamed, elsewhere the open connections would keep writing to
    the set-aside file.  ``desktop.services.backups.restore`` does both.

    Steps: verify the backup fully (``BackupInvalid`` otherwise, nothing
    changed); copy it beside the database under a temporary name and check
    the copy; rename the current database (with its -wal/-shm) to
    ``<stem>.<aside_label>-<time>.sqlite3`` — kept, never deleted; rename the
    copy into place.  Returns the set-aside path (None if there was no file).
    On any failure the current database stays (or is put back) where it was.
    """
    src, dst = Path(backup_path), Path(db_path)
    if key is None and keys.key_path(dst).exists():
        key = keys.station_key(dst)  # a clear backup from an earlier version is restored encrypted
    verify(src, key=key)
    tmp = dst.with_name(dst.name + ".restoring")
    _unlink_quietly(tmp, Path(str(tmp) + "-journal"))
    try:
        _copy_sqlite(src, _ro_uri(src), tmp, key)
        rows = keys.connect(_ro_uri(tmp), key, uri=True)
        try:
            if rows.execute("PRAGMA quick_check").fetchall() != [("ok",)]:
                raise DiskIOError(
                    "copy of backup failed quick_check", "复制备份时读写出错，恢复没有完成。当前数据库保持原样。"
                )
        finally:
            rows.close()
    except BaseException as e:
        _unlink_quietly(tmp, Path(str(tmp) + "-journal"))
        if isinstance(e, (OSError, *SQL_ERRORS)):
            raise _restore_error(e, dst.parent) from e
        raise
    try:
        aside = set_aside(dst, aside_label, now=now)
    except OSError as e:
        _unlink_quietly(tmp)
        raise _restore_error(e, dst.parent) from e
    try:
        os.replace(tmp, dst)
    except OSError as e:
        if aside is not None:
            for s in ("", "-wal", "-shm", "-journal"):
                a = Path(str(aside) + s)
                if a.exists():
                    try:
                        os.replace(a, Path(str(dst) + s))
                    except OSError:
                        log.error("could not put %s back", a.name)
            _unlink_quietly(keys.key_path(aside))
        _unlink_quietly(tmp)
        raise _restore_error(e, dst.parent) from e
    fsync_dir(dst.parent)
    log.info("restored %s from %s; previous file kept as %s", dst.name, src.name, aside.name if aside else "-")
    return aside


# ------------------------------------------------------------------ at rest


def secure_clear_backups(folder: str | os.PathLike[str], db_path: str | os.PathLike[str], key: bytes) -> int:
    """Encrypt this station's backups in ``folder`` still in clear (written by
    an earlier version): each is exported encrypted under a temporary name,
    verified to hold the same rows, and renamed over the clear one; its
    sidecar is updated.  A backup that fails is left as it was (logged).
    Returns how many were encrypted."""
    done = 0
    for b in list_backups(folder, Path(db_path).stem):
        if not keys.is_clear(b.path):
            continue
        tmp = b.path.with_name(b.path.name + PART)
        try:
            before, schema = verify(b.path)
            _unlink_quietly(tmp)
            keys.export_encrypted(_ro_uri(b.path), tmp, key)
            after, _ = verify(tmp, key=key)
            if after != before:
                raise BackupInvalid(str(b.path), "encrypted copy differs")
            fsync_file(tmp)
            os.replace(tmp, b.path)
        except (StationDeskError, OSError, *SQL_ERRORS) as e:
            _unlink_quietly(tmp)
            log.warning("could not encrypt backup %s: %s", b.path.name, e)
            continue
        meta = (
            dict(b.extra)
            if b.extra
            else {
                "format": SIDECAR_FORMAT,
                "created_at": b.created_at.isoformat(),
                "reason": b.reason,
                "integrity": "ok",
                "schema": schema,
                "counts": before,
            }
        )
        meta["size"] = b.path.stat().st_size
        meta["key"] = keys.portable_wraps(db_path)
        try:
            side = b.sidecar
            side_tmp = side.with_name(side.name + PART)
            side_tmp.write_text(json.dumps(meta, ensure_ascii=False, indent=1), encoding="utf-8")
            os.replace(side_tmp, side)
        except OSError as e:
            log.warning("could not update the sidecar of %s: %s", b.path.name, e)
        done += 1
    fsync_dir(Path(folder))
    return done
