"""The SQLite integrity check, started early on a background thread.

``PRAGMA quick_check`` reads the whole file (about 150 ms for a
100 000-resident station).  SQLite releases the GIL while it works, so the
app starts the check first thing and imports Qt and SQLAlchemy meanwhile;
``open_database`` then collects the result.  Only the standard library and
``db.keys`` (whose heavy imports wait for the thread), so starting it costs
nothing.  An encrypted file is checked with its key from this computer.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from pathlib import Path

from db import keys

_pending: dict[str, tuple[threading.Thread, dict]] = {}
_lock = threading.Lock()


def check(path: Path) -> tuple[list[tuple[str]], set[str]]:
    """quick_check rows and the table names; raises the driver's DatabaseError
    (``KeyUnavailable`` when an encrypted file has no key here)."""
    con = keys.connect(f"file:{path}?mode=rw", keys.key_if_encrypted(path), uri=True)
    try:
        rows = con.execute("PRAGMA quick_check").fetchall()
        tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    except MemoryError as e:
        # SQLite answers some scribbled pages with SQLITE_NOMEM (a record
        # length read from garbage), which Python raises as MemoryError.
        raise sqlite3.DatabaseError("database disk image is malformed (out of memory reading it)") from e
    finally:
        con.close()
    return rows, tables


def begin(path: str | os.PathLike[str]) -> None:
    """Start checking ``path`` if it is an existing SQLite file."""
    p = Path(path).expanduser().resolve()
    try:
        with open(p, "rb") as f:
            if f.read(16) != keys.CLEAR_HEADER and not keys.key_path(p).exists():
                return
    except OSError:
        return
    box: dict = {}

    def run() -> None:
        try:
            box["result"] = check(p)
        except BaseException as e:  # noqa: BLE001 - re-raised in collect()
            box["error"] = e

    t = threading.Thread(target=run, name="quick-check", daemon=True)
    with _lock:
        _pending[str(p)] = (t, box)
    t.start()


def collect(path: Path) -> tuple[list[tuple[str]], set[str]]:
    """The result of an early check of ``path``, or a check done now."""
    with _lock:
        started = _pending.pop(str(path), None)
    if started is None:
        return check(path)
    t, box = started
    t.join()
    if "error" in box:
        if not isinstance(box["error"], (sqlite3.DatabaseError, keys.dbapi().DatabaseError)):
            return check(path)  # e.g. no key yet when it started (unlocked since): check now
        raise box["error"]
    return box["result"]
