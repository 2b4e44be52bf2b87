"""The SQLite integrity check, started early on a background thread.

``PRAGMA quick_check`` reads the whole file (about 150 ms for a
100 000-resident station; an encrypted one, 0.6 s here and seconds on an old
PC's disk).  SQLite releases the GIL while it works, so the app starts the
check first thing and imports Qt and SQLAlchemy meanwhile; ``open_database``
then collects the result.  The thread first reads the table names (the
cheap part, ``tables``) and then runs the check, so the window can open the
file and show its sign-in while the check goes on (``open_database(...,
defer_check=True)``; ``Database.confirm_integrity`` collects it before the
first write).  Only the standard library and ``db.keys`` (whose heavy
imports wait for the thread), so starting it costs nothing.  An encrypted
file is checked with its key from this computer.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from pathlib import Path

from db import keys

_pending: dict[str, _Early] = {}
_lock = threading.Lock()


def _connect(path: Path):  # type: ignore[no-untyped-def]
    return keys.connect(f"file:{path}?mode=rw", keys.key_if_encrypted(path), uri=True)


def _table_names(con) -> set[str]:  # type: ignore[no-untyped-def]
    try:
        return {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    except MemoryError as e:  # a scribbled schema page (see _quick_check)
        raise sqlite3.DatabaseError("database disk image is malformed (out of memory reading it)") from e


def _quick_check(con) -> list[tuple[str]]:  # type: ignore[no-untyped-def]
    try:
        return con.execute("PRAGMA quick_check").fetchall()
    except MemoryError as e:
        # SQLite answers some scribbled pages with SQLITE_NOMEM (a record
        # length read from garbage), which Python raises as MemoryError.
        raise sqlite3.DatabaseError("database disk image is malformed (out of memory reading it)") from e


def check(path: Path) -> tuple[list[tuple[str]], set[str]]:
    """quick_check rows and the table names; raises the driver's DatabaseError
    (``KeyUnavailable`` when an encrypted file has no key here)."""
    con = _connect(path)
    try:
        rows = _quick_check(con)
        tables = _table_names(con)
    finally:
        con.close()
    return rows, tables


class _Early:
    """A check started by ``begin``: the table names first, then quick_check."""

    def __init__(self, path: Path):
        self.path = path
        self.named = threading.Event()  # the table names are read (or reading them failed)
        self.tables: set[str] | None = None
        self.rows: list[tuple[str]] | None = None
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name="quick-check", daemon=True)

    def _run(self) -> None:
        try:
            con = _connect(self.path)
            try:
                try:
                    self.tables = _table_names(con)
                finally:
                    self.named.set()
                self.rows = _quick_check(con)
            finally:
                con.close()
        except BaseException as e:  # noqa: BLE001 - re-raised in collect()
            self.error = e
        finally:
            self.named.set()


def begin(path: str | os.PathLike[str]) -> None:
    """Start checking ``path`` if it is an existing SQLite file."""
    p = Path(path).expanduser().resolve()
    try:
        with open(p, "rb") as f:
            if f.read(16) != keys.CLEAR_HEADER and not keys.key_path(p).exists():
                return
    except OSError:
        return
    early = _Early(p)
    with _lock:
        _pending[str(p)] = early
    early.thread.start()


def _recheck(error: BaseException) -> bool:
    """An early check's error that is not about the file (e.g. no key yet when
    it started, unlocked since): check again now."""
    return not isinstance(error, (sqlite3.DatabaseError, keys.dbapi().DatabaseError))


def pending(path: Path) -> bool:
    """Whether an early check of ``path`` was started and not collected."""
    with _lock:
        return str(path) in _pending


def tables(path: Path) -> set[str] | None:
    """The table names an early check of ``path`` read first, waiting only for
    those; None when there is no early check or it could not read them (then
    ``collect`` tells why).  The check itself goes on: ``collect`` it."""
    with _lock:
        early = _pending.get(str(path))
    if early is None:
        return None
    early.named.wait()
    return early.tables


def collect(path: Path) -> tuple[list[tuple[str]], set[str]]:
    """The result of an early check of ``path``, or a check done now."""
    with _lock:
        early = _pending.pop(str(path), None)
    if early is None:
        return check(path)
    early.thread.join()
    if early.error is not None:
        if _recheck(early.error):
            return check(path)
        raise early.error
    assert early.rows is not None and early.tables is not None
    return early.rows, early.tables
