"""Opening a database: SQLite for a station, PostgreSQL for a hub.

``open_database(url)`` is the single entry point.  On SQLite it sets the
pragmas the product relies on (WAL, foreign keys, synchronous FULL, a busy
timeout), runs ``quick_check``, and, when the schema is older than this
program, copies the file with SQLite's backup API before applying the shipped
alembic migrations.  A database whose schema is newer than the program is
refused untouched.  PostgreSQL goes through the same code path minus the
file-level parts.
"""
from __future__ import annotations

import logging
import os
import sqlite3
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from sqlalchemy import Engine, create_engine, event, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

import db.writes  # noqa: F401  (registers the write-path hooks)
from db import precheck
from db.errors import (
    DatabaseCorrupt,
    DatabaseNotWritable,
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


@dataclass
class Database:
    url: str
    engine: Engine
    sessions: sessionmaker[Session]
    path: Path | None = None  # the SQLite file, None on a server
    backup_path: Path | None = None  # written before the last migration
    migrated_from: str | None = None

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session in a transaction: committed on success, rolled back on error."""
        with self.sessions.begin() as s:
            yield s

    def display_location(self) -> str:
        return str(self.path) if self.path else make_url(self.url).render_as_string(hide_password=True)

    def close(self) -> None:
        self.engine.dispose()


def _sqlite_engine(url: str, cache_mib: int | None = None) -> Engine:
    # hide_parameters: error messages (and so logs) never carry residents' data.
    engine = create_engine(url, hide_parameters=True,
                           connect_args={"isolation_level": None, "check_same_thread": False})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):  # type: ignore[no-untyped-def]
        cur = dbapi_conn.cursor()
        for pragma in SQLITE_PRAGMAS:
            cur.execute(pragma)
        if cache_mib is not None:
            cur.execute(f"PRAGMA cache_size=-{int(cache_mib) * 1024}")
        cur.close()

    # The driver runs in autocommit mode; SQLAlchemy emits BEGIN itself so
    # that reads and writes of one unit of work share one transaction.
    @event.listens_for(engine, "begin")
    def _on_begin(conn):  # type: ignore[no-untyped-def]
        conn.exec_driver_sql("BEGIN")

    return engine


def _check_sqlite_file(path: Path) -> None:
    """Refuse what we cannot safely open, before SQLAlchemy touches it."""
    folder = path.parent
    if not folder.exists():
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise DatabaseNotWritable(str(folder), str(e)) from e
    if not os.access(folder, os.W_OK | os.X_OK):
        # WAL mode needs to create -wal and -shm files beside the database.
        raise DatabaseNotWritable(str(folder))
    if path.exists():
        if not os.access(path, os.R_OK | os.W_OK):
            raise DatabaseNotWritable(str(path))
        with open(path, "rb") as f:
            head = f.read(16)
        if head and head != b"SQLite format 3\x00":
            raise NotADatabase(str(path))
        try:
            rows, tables = precheck.collect(path)
        except sqlite3.DatabaseError as e:
            raise DatabaseCorrupt(str(path), str(e)) from e
        if rows != [("ok",)]:
            raise DatabaseCorrupt(str(path), "; ".join(r[0] for r in rows[:5]))
        if tables and "alembic_version" not in tables:
            # Someone else's SQLite file: refuse before WAL mode rewrites its header.
            raise NotADatabase(str(path))


def backup_sqlite(path: Path, dest: Path) -> Path:
    """Copy a live SQLite database consistently with the backup API."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(dest.name + ".part")
    src = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        out = sqlite3.connect(tmp)
        try:
            src.backup(out)
        finally:
            out.close()
    finally:
        src.close()
    os.replace(tmp, dest)
    return dest


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        if not inspect(conn).has_table("alembic_version"):
            return None
        return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


def _has_tables(engine: Engine) -> bool:
    with engine.connect() as conn:
        return bool(inspect(conn).get_table_names())


def open_database(path_or_url: str | os.PathLike[str], *, migrate: bool = True,
                  cache_mib: int | None = None) -> Database:
    """Open (and migrate) a station database; ``cache_mib`` sets SQLite's page
    cache per connection (default 32 MiB, see SQLITE_PRAGMAS)."""
    url = normalize_url(path_or_url)
    u = make_url(url)
    path: Path | None = None
    if u.get_backend_name() == "sqlite":
        if u.database in (None, "", ":memory:"):
            raise ValueError("an in-memory database cannot hold a station")
        path = Path(u.database)
        _check_sqlite_file(path)
        engine = _sqlite_engine(url, cache_mib)
        try:
            with engine.connect():
                pass
        except OperationalError as e:
            engine.dispose()
            msg = str(e.orig).lower()
            if "readonly" in msg or "unable to open" in msg:
                raise DatabaseNotWritable(str(path), str(e.orig)) from e
            raise
    else:
        engine = create_engine(url, pool_pre_ping=True, hide_parameters=True)
        try:
            with engine.connect():
                pass
        except DBAPIError as e:
            engine.dispose()
            raise DatabaseUnavailable(str(e.orig)) from e

    db = Database(url=url, engine=engine, sessions=sessionmaker(engine, expire_on_commit=False), path=path)
    try:
        rev = current_revision(engine)
        if rev != SCHEMA_HEAD:
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

        db.backup_path = backup.make_backup(db.path, backup.default_folder(db.path), "migration").path
        log.info("backed up database before migrating from %s", rev)
    run.upgrade(db.engine)
    db.migrated_from = rev
