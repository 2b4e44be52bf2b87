"""Backups for the application: who may do what, the backup folder setting,
the daily schedule and the audit lines.  The file work is ``db.backup``.

Roles: anyone signed in gets the daily automatic backup (the scheduler runs
it); 立即备份 needs a supervisor (站长); restoring and changing the folder
need an administrator.  Only SQLite stations are backed up here: on a
PostgreSQL hub backups are the server's job (``pg_dump``), and every call
below refuses with a message saying so.

``restore`` closes the database itself, swaps the file and reopens it *in
place* — the same ``Database`` object gets the new engine — so every page
keeps a working reference; the window should still sign in again afterwards,
because the restored data may not hold the current account.  Call it on the
worker thread (it is the only thing using the database meanwhile).
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from db import backup, keys
from db.backup import BackupInfo
from db.engine import Database, open_database
from db.errors import SchemaTooNew, StationDeskError, ValidationError
from desktop.services import audit
from desktop.services.context import Actor
from desktop.settings import Settings

log = logging.getLogger(__name__)

CREATE_ROLE = "supervisor"
RESTORE_ROLE = "admin"
FOLDER_ROLE = "admin"
REASON_LABELS = {"auto": "自动", "manual": "手动", "migration": "升级前", "import": "导入数据前"}
SYSTEM_NAME = "系统"  # the audit log's actor for automatic backups
SERVER_NOTE = (
    "数据库在服务器上（PostgreSQL）。备份由服务器负责，请数据库管理员用 pg_dump 定期备份；"
    "本页的备份和恢复只用于本机数据库。"
)


class NotSupported(StationDeskError):
    user_message = SERVER_NOTE


@dataclass(frozen=True)
class RestoreResult:
    backup: BackupInfo
    set_aside: Path | None  # the replaced database file, kept beside the new one


def supported(db: Database) -> bool:
    return db.is_sqlite and db.path is not None


def _need_file(db: Database) -> Path:
    if not supported(db) or db.path is None:
        raise NotSupported("backups of a server database are the server's job")
    return db.path


def folder(db: Database, settings: Settings) -> Path | None:
    """Where backups go: the setting, or ``backups`` beside the database; None on a server."""
    if not supported(db) or db.path is None:
        return None
    custom = settings["backup_dir"]
    return Path(custom) if custom else backup.default_folder(db.path)


def is_default_folder(settings: Settings) -> bool:
    return not settings["backup_dir"]


def listing(db: Database, settings: Settings) -> list[BackupInfo]:
    """This database's backups in the backup folder, newest first.  Backups that
    ``db.engine`` wrote before a migration (always beside the database) are
    included when the folder was moved elsewhere."""
    where = folder(db, settings)
    if where is None or db.path is None:
        return []
    items = backup.list_backups(where, db.path.stem)
    default = backup.default_folder(db.path)
    if where != default:
        items += [b for b in backup.list_backups(default, db.path.stem) if b.reason == "migration"]
        items.sort(key=lambda b: (b.created_at, b.path.name), reverse=True)
    return items


def reason_label(reason: str) -> str:
    return REASON_LABELS.get(reason, reason)


def when_label(info: BackupInfo) -> str:
    t = info.created_at
    return f"{t.year}年{t.month}月{t.day}日 {t:%H:%M}"


def describe(info: BackupInfo) -> str:
    """``2026年11月23日 15:32，居民 2000 人，事项 250 件`` (counts when known)."""
    parts = [when_label(info)]
    if info.residents is not None:
        parts.append(f"居民 {info.residents} 人")
    if info.matters is not None:
        parts.append(f"事项 {info.matters} 件")
    return "，".join(parts)


def _audit(db: Database, action: str, actor: Actor | None, **detail: Any) -> None:
    """An audit line; a failure here never undoes a finished backup."""
    try:
        with db.session() as s:
            if actor is None:
                audit.record(s, action, actor_name=SYSTEM_NAME, **detail)
            else:
                audit.record(s, action, actor, **detail)
    except Exception:  # noqa: BLE001 - e.g. the database's disk is the full one
        log.exception("could not write the audit line for %s", action)


def create(
    db: Database,
    actor: Actor | None,
    settings: Settings,
    reason: str = "manual",
    *,
    now: datetime | None = None,
    audit_line: bool = True,
) -> BackupInfo:
    """Make a backup now (``manual``: supervisor and up; ``auto``: the schedule),
    then rotate the folder.  Raises ``db.errors.BackupFailed`` kinds.  With
    ``audit_line=False`` the audit line's details are left in
    ``info.extra["audit"]`` for the caller to record in its own transaction
    (a sync import: only when the bundle goes in)."""
    if reason == "manual":
        if actor is None:
            raise ValueError("a manual backup needs an actor")
        actor.require(CREATE_ROLE, "立即备份")
    elif reason not in ("auto", "import"):  # import: before a sync bundle is applied
        raise ValueError(f"unknown reason {reason!r}")
    path = _need_file(db)
    where = folder(db, settings)
    assert where is not None
    # A chosen folder (USB stick, second disk) must exist; the default one is made.
    info = backup.make_backup(path, where, reason, now=now, create_folder=is_default_folder(settings), key=db.key)
    if db.key is not None:  # clear backups an earlier version left here (a USB stick) are encrypted too
        backup.secure_clear_backups(where, path, db.key)
    removed = backup.rotate(where, now, stem=path.stem)
    detail = dict(
        kind=reason,
        file=info.path.name,
        size=info.size,
        residents=info.residents,
        matters=info.matters,
        rotated_out=len(removed),
    )
    if not audit_line:
        info.extra["audit"] = detail
        return info
    _audit(db, "backup_create", actor if reason in ("manual", "import") else None, **detail)
    return info


def last_backup(db: Database, settings: Settings) -> BackupInfo | None:
    items = [b for b in listing(db, settings) if b.reason in ("auto", "manual")]
    return items[0] if items else None


def daily_due(db: Database, settings: Settings, now: datetime | None = None) -> bool:
    """True when this SQLite station has no automatic or manual backup dated
    today (local time) in the backup folder."""
    if not supported(db):
        return False
    now = now or datetime.now()
    last = last_backup(db, settings)
    return last is None or last.created_at.date() < now.date()


def set_folder(db: Database, actor: Actor, settings: Settings, path: str) -> Path:
    """Point backups at ``path`` (an existing, writable folder; "" = the default).
    Administrators only.  Earlier backups stay where they are."""
    actor.require(FOLDER_ROLE, "更改备份文件夹")
    _need_file(db)
    path = (path or "").strip()
    if path:
        p = Path(path).expanduser()
        if not p.is_absolute():
            raise ValidationError("folder", "请选择一个完整的文件夹位置（例如 E:\\备份）。")
        if not p.is_dir():
            raise ValidationError("folder", f"找不到这个文件夹：\n{p}\n\n如果是U盘，请先插好。")
        probe = p / f".station-desk-probe-{os.getpid()}"
        try:
            probe.write_bytes(b"ok")
            probe.unlink()
        except OSError as e:
            raise backup.backup_error(e, p) from e
        value = str(p.resolve())
    else:
        value = ""
    settings.set("backup_dir", value)
    new = folder(db, settings)
    _audit(db, "backup_folder", actor, folder=str(new), default=not value)
    assert new is not None
    return new


def restore(
    db: Database, actor: Actor, backup_path: str | os.PathLike[str], *, now: datetime | None = None
) -> RestoreResult:
    """Replace the station's database with a backup.  Administrators only.

    Verifies the backup first (nothing changes if it is damaged or from a
    newer program), then closes ``db``, swaps the file — the current one is
    renamed ``<name>.replaced-<time>.sqlite3`` beside it, never deleted — and
    reopens ``db`` in place.  The audit line goes into the restored database.
    """
    actor.require(RESTORE_ROLE, "从备份恢复")
    path = _need_file(db)
    src = Path(backup_path)
    counts, schema = backup.verify(src)
    from db.migrations import run

    if schema is not None and schema not in run.known_revisions():
        raise SchemaTooNew(schema)
    info = backup.read_info(src) or BackupInfo(
        src, datetime.fromtimestamp(src.stat().st_mtime), "manual", src.stat().st_size
    )
    if info.counts is None:
        info = BackupInfo(info.path, info.created_at, info.reason, info.size, counts, True, schema)
    db.close()
    try:
        aside = backup.restore(src, path, now=now)
    finally:
        _reopen_in_place(db)
    _audit(
        db,
        "backup_restore",
        actor,
        backup=src.name,
        backup_time=info.created_at.isoformat(),
        set_aside=aside.name if aside else None,
    )
    return RestoreResult(info, aside)


def record_startup_restore(db: Database, info: BackupInfo, set_aside: Path | None, cause: str = "damaged") -> None:
    """The audit line for a restore made without anyone signed in: chosen at
    start-up for a damaged database, or from the command line."""
    _audit(
        db,
        "backup_restore",
        None,
        backup=info.path.name,
        backup_time=info.created_at.isoformat(),
        set_aside=set_aside.name if set_aside else None,
        cause=cause,
    )


def folders_for(db_path: Path, settings: Settings) -> list[Path]:
    """Where a database file's backups may be, without opening it: the chosen
    folder first, then ``backups`` beside the file."""
    found = [backup.default_folder(db_path)]
    if settings["backup_dir"]:
        found.insert(0, Path(settings["backup_dir"]))
    return found


def list_for(db_path: Path, settings: Settings) -> list[BackupInfo]:
    """Every backup of that file in those folders, newest first."""
    items = [b for f in folders_for(db_path, settings) if f.is_dir() for b in backup.list_backups(f, db_path.stem)]
    return sorted(items, key=lambda b: b.created_at, reverse=True)


def warm_key(db_path: Path) -> None:
    """Backups are encrypted with the station's key: unlock it on this computer
    (its key file survives a damaged database) so they can be checked."""
    if keys.key_path(db_path).exists():
        try:
            keys.station_key(db_path)
        except StationDeskError as e:
            log.warning("station key not available: %s", e)


def newest_good_for(db_path: Path, settings: Settings) -> BackupInfo | None:
    """The newest backup that passes its check (for a database that may be too damaged to open)."""
    warm_key(db_path)
    found = [b for b in (backup.newest_good(f, db_path.stem) for f in folders_for(db_path, settings)) if b is not None]
    return max(found, key=lambda b: b.created_at) if found else None


def _reopen_in_place(db: Database) -> None:
    fresh = open_database(db.url)
    db.engine, db.sessions = fresh.engine, fresh.sessions
    db.backup_path, db.migrated_from = fresh.backup_path, fresh.migrated_from
