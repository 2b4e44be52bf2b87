"""Opening a database: SQLite (encrypted with SQLCipher) for a station, PostgreSQL for a hub.

``open_database(url)`` is the single entry point.  On SQLite it sets the
pragmas the product relies on (WAL, foreign keys, synchronous FULL, a busy
timeout), runs ``quick_check``, and, when the schema is older than this
program, copies the file with SQLite's backup API before applying the shipped
alembic migrations.  A database whose schema is newer than the program is
refused untouched.  PostgreSQL goes through the same code path minus the
file-level parts.

A station file is encrypted at rest (``db.keys``): a new file gets a data key
and its key file; an existing clear file from an earlier version is secured on
first open (``_secure_clear_file``: an encrypted, verified backup first, then
an encrypted copy swapped in, then the old clear backups beside it encrypted).
"""

from __future__ import annotations

import logging
import os
import shutil
import sqlite3
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator, TypeVar

from sqlalchemy import Connection, Engine, create_engine, event, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

import db.writes  # noqa: F401  (registers the write-path hooks)
from db import keys, precheck
from db.errors import (
    DatabaseCorrupt,
    DatabaseIsFolder,
    DatabaseMissing,
    DatabaseNotWritable,
    DiskFull,
    DiskIOError,
    StationDeskError,
    WrongKey,
    DatabaseUnavailable,
    NotADatabase,
    SchemaTooNew,
)
from db.schema import SCHEMA_HEAD

log = logging.getLogger(__name__)

SQLITE_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA foreign_keys=ON",
    "PRAGMA synchronous=FULL",
    "PRAGMA busy_timeout=5000",
    # 32 MiB page cache (default 2 MiB): keeps the indexes of a 100 000-resident
    # station in memory, so searches and large imports do not thrash the disk.
    "PRAGMA cache_size=-32768",
)


def normalize_url(path_or_url: str | os.PathLike[str]) -> str:
    """A bare path means a SQLite file."""
    s = str(path_or_url)
    if "://" in s:
        return s
    return "sqlite:///" + str(Path(s).expanduser().resolve())


T = TypeVar("T")


@dataclass
class Database:
    url: str
    engine: Engine
    sessions: sessionmaker[Session]
    path: Path | None = None  # the SQLite file, None on a server
    backup_path: Path | None = None  # written before the last migration
    migrated_from: str | None = None
    key: bytes | None = field(default=None, repr=False)  # the SQLCipher data key (SQLite only)
    secured_now: bool = False  # this open encrypted a clear file from an earlier version
    # A deferred integrity check (open_database(..., defer_check=True)): the
    # first session waits for it; a failed one refuses every session after.
    _confirm: Callable[[], None] | None = field(default=None, repr=False)
    _refused: StationDeskError | None = field(default=None, repr=False)
    _peeking: threading.local = field(default_factory=threading.local, repr=False)  # .on: in before_check
    _checking: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    @property
    def refused(self) -> StationDeskError | None:
        """The deferred integrity check's refusal, once it has failed."""
        return self._refused

    @property
    def check_pending(self) -> bool:
        """Whether the integrity check's verdict on this file is still to come."""
        return self._confirm is not None

    def confirm_integrity(self) -> None:
        """Wait for a deferred integrity check of the file.  Raises
        ``DatabaseCorrupt`` (or the error opening would have raised) if it
        failed, and so does every ``session`` from then on: nothing is
        written to a file the check refused."""
        with self._checking:
            if self._refused is not None:
                raise self._refused
            confirm = self._confirm
            if confirm is None:
                return
            # check_pending stays true until the verdict is in (the sign-in
            # says so while it waits); an error that is no verdict on the
            # file leaves the check to be collected again.
            try:
                confirm()
            except StationDeskError as e:
                self._refused = e
                self._confirm = None
                raise
            self._confirm = None

    def before_check(self, fn: Callable[[], T]) -> T:
        """``fn()`` — a read, such as the station's name for the sign-in —
        without waiting for a deferred integrity check.  Reading a damaged
        page raises; writing waits for the check (``session``)."""
        self._peeking.on = True
        try:
            return fn()
        finally:
            self._peeking.on = False

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session in a transaction: committed on success, rolled back on error."""
        if (self._confirm is not None or self._refused is not None) and not getattr(self._peeking, "on", False):
            self.confirm_integrity()
        with self.sessions.begin() as s:
            yield s

    def display_location(self) -> str:
        return str(self.path) if self.path else make_url(self.url).render_as_string(hide_password=True)

    def close(self) -> None:
        self.engine.dispose()


def _sqlite_engine(url: str, key: bytes | None, cache_mib: int | None = None) -> Engine:
    # hide_parameters: error messages (and so logs) never carry residents' data.
    dbapi = keys.dbapi()
    engine = create_engine(
        url, hide_parameters=True, module=dbapi, connect_args={"isolation_level": None, "check_same_thread": False}
    )

    @event.listens_for(engine, "do_connect")
    def _keyed_connect(_dialect: Any, _record: Any, cargs: list[Any], cparams: dict[str, Any]) -> Any:
        con = dbapi.connect(*cargs, **cparams)
        keys.apply_key(con, key)  # before anything else touches the file
        return con

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        cur = dbapi_conn.cursor()
        for pragma in SQLITE_PRAGMAS:
            cur.execute(pragma)
        if cache_mib is not None:
            cur.execute(f"PRAGMA cache_size=-{int(cache_mib) * 1024}")
        cur.close()

    # The driver runs in autocommit mode; SQLAlchemy emits BEGIN itself so
    # that reads and writes of one unit of work share one transaction.
    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN")

    return engine


# Below this much free space an I/O error while opening is taken for a full disk
# (SQLite reports a -shm file it could not create as "disk I/O error").
LOW_SPACE = 1 << 20


def _open_error(path: Path, e: BaseException) -> StationDeskError:
    """What an SQLite error met while opening ``path`` means for the person at
    the desk: a full disk or an I/O fault is not a damaged database."""
    msg = str(getattr(e, "orig", None) or e).lower()
    try:
        low = shutil.disk_usage(path.parent).free < LOW_SPACE
    except OSError:
        low = False
    if "full" in msg or (low and ("i/o" in msg or "unable to open" in msg)):
        return DiskFull(
            f"{path}: {msg}",
            f"数据库所在的磁盘空间已满，无法打开数据库：\n{path}\n\n"
            "请清理磁盘（或换一个位置存放数据）后重试。数据库没有被改动。",
        )
    if "i/o" in msg:
        return DiskIOError(
            f"{path}: {msg}",
            f"读取数据库时磁盘出错：\n{path}\n\n请检查U盘或硬盘是否已拔出或损坏。程序没有改动这个文件。",
        )
    if "readonly" in msg or "unable to open" in msg:
        return DatabaseNotWritable(str(path), msg)
    if "not a database" in msg and not keys.is_clear(path):
        return WrongKey(str(path), msg)  # the key file does not fit, or page 1 is damaged
    return DatabaseCorrupt(str(path), msg)


def require_existing(path_or_url: str | os.PathLike[str]) -> None:
    """For commands that work on an existing station: a file path must name an
    existing database file (a typo must not create a new, empty station)."""
    url = normalize_url(path_or_url)
    u = make_url(url)
    if u.get_backend_name() != "sqlite" or u.database in (None, "", ":memory:"):
        return
    path = Path(u.database)
    if path.is_dir():
        raise DatabaseIsFolder(str(path))
    if not path.exists():
        raise DatabaseMissing(str(path))


def _check_sqlite_file(path: Path, defer: bool = False) -> tuple[bytes | None, Callable[[], None] | None]:
    """Refuse what we cannot safely open, before SQLAlchemy touches it.
    Returns the data key of an encrypted file (None for a new or clear one)
    and, with ``defer``, the integrity check still to be collected (None
    when it was collected here): an encrypted file whose early check
    (``precheck.begin``) has read the table names opens at once."""
    if path.is_dir():
        raise DatabaseIsFolder(str(path))
    folder = path.parent
    if not folder.exists():
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise DatabaseNotWritable(str(folder), str(e)) from e
    if not os.access(folder, os.W_OK | os.X_OK):
        # WAL mode needs to create -wal and -shm files beside the database.
        raise DatabaseNotWritable(str(folder))
    key = None
    if path.exists():
        if not os.access(path, os.R_OK | os.W_OK):
            raise DatabaseNotWritable(str(path))
        if not keys.is_clear(path):
            if not keys.key_path(path).exists():
                raise NotADatabase(str(path))
            key = keys.station_key(path)
            if defer and precheck.pending(path):
                tables = precheck.tables(path)
                if tables is not None:
                    _ours(path, tables)
                    return key, lambda: _integrity(path)
        _integrity(path)
    return key, None


def _integrity(path: Path) -> None:
    """The integrity check's verdict on ``path`` (collected, or run now)."""
    try:
        rows, tables = precheck.collect(path)
    except (sqlite3.DatabaseError, keys.dbapi().DatabaseError) as e:
        raise _open_error(path, e) from e
    except MemoryError as e:  # a damaged b-tree cell can claim a huge record (SQLITE_NOMEM)
        raise DatabaseCorrupt(str(path), "out of memory reading a damaged page") from e
    if rows != [("ok",)]:
        raise DatabaseCorrupt(str(path), "; ".join(r[0] for r in rows[:5]))
    _ours(path, tables)


def _ours(path: Path, tables: set[str]) -> None:
    if tables and "alembic_version" not in tables:
        # Someone else's SQLite file: refuse before WAL mode rewrites its header.
        raise NotADatabase(str(path))


def _secure_clear_file(path: Path) -> tuple[bytes, Path | None]:
    """Encrypt a station file written by an earlier (clear) version, in place.

    1. a data key and key file (``keys.create``; reused if an earlier attempt
       was interrupted);
    2. a verified backup (``migration``), already encrypted — no clear copy
       is ever written;
    3. the clear file is checkpointed out of WAL mode, copied encrypted under a
       temporary name with ``sqlcipher_export``, the copy verified (same rows
       per table), and renamed over the clear file;
    4. clear backups left in the default backup folder are encrypted too.
    Until step 3's rename the clear file is untouched, so a failure or power
    cut leaves the station as it was (with an encrypted backup of it)."""
    from db import backup
    from db.migrations import run

    con = keys.connect(path.resolve().as_uri() + "?mode=ro", None, uri=True)
    try:
        rev = con.execute("SELECT version_num FROM alembic_version").fetchone()
    except keys.dbapi().Error:
        rev = None
    finally:
        con.close()
    if rev is not None and rev[0] not in run.known_revisions():
        raise SchemaTooNew(rev[0])  # refused untouched, as before
    key = keys.create(path)
    folder = backup.default_folder(path)
    # An SQLite file with no tables yet (precheck refuses tables without our
    # stamp) holds nothing to back up: it is simply swapped for an encrypted one.
    made = backup.make_backup(path, folder, "migration", key=key) if rev is not None else None
    con = keys.connect(path, None)
    try:
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
        con.execute("PRAGMA journal_mode=DELETE").fetchall()
    finally:
        con.close()
    tmp = path.with_name(path.name + ".securing")
    for stale in (tmp, Path(str(tmp) + "-journal")):
        stale.unlink(missing_ok=True)
    try:
        keys.export_encrypted(path.resolve().as_uri() + "?mode=ro", tmp, key)
        if made is not None:
            counts, _schema = backup.verify(tmp, key=key)
            if counts != made.counts:
                raise DatabaseCorrupt(str(path), "encrypted copy differs from the clear file")
        backup.fsync_file(tmp)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    backup.fsync_dir(path.parent)
    secured = backup.secure_clear_backups(folder, path, key)
    log.info("station file encrypted at rest; %d earlier backups encrypted", secured)
    return key, made.path if made is not None else None


def discard_new_file(path: Path) -> None:
    """Remove a station file this run created and left without a station (the
    set-up was cancelled), with its -wal/-shm and key file, so the next start
    offers the welcome again.  The database must be closed."""
    keys.forget(path)
    for suffix in ("", "-wal", "-shm", "-journal", keys.KEY_SUFFIX):
        try:
            Path(str(path) + suffix).unlink()
        except FileNotFoundError:
            pass


def backup_sqlite(path: Path, dest: Path) -> Path:
    """Copy a live SQLite database consistently with the backup API (for the
    benchmarks); an encrypted one stays encrypted and gets a copy of its key file."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(dest.name + ".part")
    key = keys.key_if_encrypted(path)
    src = keys.connect(f"file:{path}?mode=ro", key, uri=True)
    try:
        out = keys.connect(tmp, key)
        try:
            src.backup(out)
        finally:
            out.close()
    finally:
        src.close()
    os.replace(tmp, dest)
    if key is not None:
        shutil.copyfile(keys.key_path(path), keys.key_path(dest))
        keys.owner_only(keys.key_path(dest))
    return dest


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        if not inspect(conn).has_table("alembic_version"):
            return None
        return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


def _has_tables(engine: Engine) -> bool:
    with engine.connect() as conn:
        return bool(inspect(conn).get_table_names())


def open_database(
    path_or_url: str | os.PathLike[str],
    *,
    migrate: bool = True,
    cache_mib: int | None = None,
    defer_check: bool = False,
) -> Database:
    """Open (and migrate) a station database; ``cache_mib`` sets SQLite's page
    cache per connection (default 32 MiB, see SQLITE_PRAGMAS).

    ``defer_check`` (the window, whose sign-in can show while the check
    runs): an encrypted file whose early integrity check (``precheck.begin``)
    is under way opens without waiting for it, unless it needs migrating;
    ``Database.confirm_integrity`` — or the first ``session`` — waits for it
    and refuses the file if it failed."""
    url = normalize_url(path_or_url)
    u = make_url(url)
    path: Path | None = None
    if u.get_backend_name() == "sqlite":
        if u.database in (None, "", ":memory:"):
            raise ValueError("an in-memory database cannot hold a station")
        path = Path(u.database)
        key, confirm = _check_sqlite_file(path, defer_check)
        secured_backup = None
        if key is None:
            if path.exists() and path.stat().st_size > 0:
                key, secured_backup = _secure_clear_file(path)
            else:
                key = keys.create(path)
        engine = _sqlite_engine(url, key, cache_mib)
        try:
            with engine.connect():
                pass
            for suffix in ("", "-wal", "-shm"):
                if Path(str(path) + suffix).exists():
                    keys.owner_only(Path(str(path) + suffix))
        except OperationalError as e:
            engine.dispose()
            err = _open_error(path, e)
            if isinstance(err, DatabaseCorrupt):
                raise
            raise err from e
    else:
        engine = create_engine(url, pool_pre_ping=True, hide_parameters=True)
        try:
            with engine.connect():
                pass
        except DBAPIError as e:
            engine.dispose()
            raise DatabaseUnavailable(str(e.orig)) from e

    db = Database(url=url, engine=engine, sessions=sessionmaker(engine, expire_on_commit=False), path=path)
    if path is not None:
        db.key, db.secured_now, db.backup_path = key, secured_backup is not None, secured_backup
        db._confirm = confirm
    try:
        rev = current_revision(engine)
        if rev != SCHEMA_HEAD:
            db.confirm_integrity()  # a migration writes: only to a file the check passed
            _migrate(db, rev, migrate)
    except BaseException:
        engine.dispose()
        raise
    return db


def _migrate(db: Database, rev: str | None, allowed: bool) -> None:
    from db.migrations import run

    known = run.known_revisions()
    if rev is not None and rev not in known:
        raise SchemaTooNew(rev)
    if rev is None and _has_tables(db.engine):
        # Tables but no alembic stamp: not ours (or damaged); do not touch it.
        raise NotADatabase(db.display_location())
    if not allowed:
        raise RuntimeError(f"schema {rev} needs migration to {SCHEMA_HEAD}")
    if rev is not None and db.path is not None:
        # The same verified, rotation-safe backup the 数据备份 page lists (as 升级前).
        from db import backup

        db.backup_path = backup.make_backup(db.path, backup.default_folder(db.path), "migration", key=db.key).path
        log.info("backed up database before migrating from %s", rev)
    run.upgrade(db.engine)
    db.migrated_from = rev
