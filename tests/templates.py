"""Migrated template databases, made once per test session and copied for
each test that needs a fresh station database.

Migrating an empty database takes ~0.2 s on SQLite and ~0.45 s on
PostgreSQL; a suite that opens a thousand of them spent minutes there.  A
copy is the same database: the migrations insert nothing that differs
between two runs (only ``local_state``'s fixed first row), and a station's
identity is made later by ``setup_station``.

* SQLite: the template file and its key file are copied beside the test's
  path.  The key file's machine wrap needs the template's machine secret, so
  a test home that has none yet gets that secret (a home that already has
  its own — a test simulating another PC — gets a real migration instead).
* PostgreSQL: ``CREATE DATABASE … TEMPLATE`` copies the migrated template.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from pathlib import Path
from typing import Callable

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

_sqlite: tuple[Path, bytes] | None = None  # (template file, machine secret)
_pg: dict[str, str] = {}  # server URL -> template database name
_dirs: list[str] = []


def _sqlite_template() -> tuple[Path, bytes]:
    global _sqlite
    if _sqlite is None:
        from db import keys
        from db.engine import open_database

        home = tempfile.mkdtemp(prefix="station-template-")
        _dirs.append(home)
        before = os.environ.get("STATION_DESK_HOME")
        os.environ["STATION_DESK_HOME"] = home
        try:
            path = Path(home) / "template.sqlite3"
            open_database(path).close()
            secret = (keys.machine_dir() / keys.MACHINE_SECRET).read_bytes()
        finally:
            if before is None:
                del os.environ["STATION_DESK_HOME"]
            else:
                os.environ["STATION_DESK_HOME"] = before
            keys.forget()
        _sqlite = (path, secret)
    return _sqlite


def copy_sqlite(path: Path) -> bool:
    """Put a migrated empty station database at ``path``; False when this
    test's home holds another machine secret (then migrate for real)."""
    from db import keys

    template, secret = _sqlite_template()
    mine = keys.machine_dir() / keys.MACHINE_SECRET
    if mine.exists():
        if mine.read_bytes() != secret:
            return False
    else:
        keys._write_private(mine, secret)
    path.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", keys.KEY_SUFFIX):
        shutil.copyfile(str(template) + suffix, str(path) + suffix)
        keys.owner_only(Path(str(path) + suffix))
    return True


def _admin(server: str):  # -> Engine
    return create_engine(server, isolation_level="AUTOCOMMIT")


def _pg_template(server: str) -> str:
    if server not in _pg:
        from db.engine import open_database

        name = "tmpl_" + uuid.uuid4().hex[:12]
        admin = _admin(server)
        with admin.connect() as c:
            c.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        open_database(make_url(server).set(database=name).render_as_string(hide_password=False)).close()
        _pg[server] = name
    return _pg[server]


def fresh(url_or_path: str | Path):  # -> Database
    """A migrated, empty station database: copied from the session's
    template to a SQLite path that does not exist yet; a PostgreSQL database
    made by ``pg_database`` is a template copy already."""
    from db.engine import open_database

    s = str(url_or_path)
    if "://" not in s:
        path = Path(s)
        if not path.exists():
            copy_sqlite(path)
        return open_database(path)
    return open_database(s)


def pg_database(server: str) -> tuple[str, Callable[[], None]]:
    """A new PostgreSQL database, a copy of the migrated template: (url, drop)."""
    template = _pg_template(server)
    name = "t_" + uuid.uuid4().hex[:12]
    admin = _admin(server)
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    url = make_url(server).set(database=name).render_as_string(hide_password=False)

    def drop() -> None:
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return url, drop


def cleanup() -> None:
    """Drop the templates (end of the session)."""
    for server, name in list(_pg.items()):
        admin = _admin(server)
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
        del _pg[server]
    for d in _dirs:
        shutil.rmtree(d, ignore_errors=True)
    _dirs.clear()
