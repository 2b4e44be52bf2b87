"""Shared fixtures.

``db_url`` runs a test on a fresh SQLite file and, when
``STATION_DESK_TEST_PG`` holds a PostgreSQL server URL (CI sets it), on a
fresh PostgreSQL database too.
"""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# A cheap scrypt for the key wraps (db/keys.py); production uses the strong one.
os.environ.setdefault("STATION_DESK_TEST_FAST_KDF", "1")

PG_URL = os.environ.get("STATION_DESK_TEST_PG", "")
ENGINES = [
    "sqlite",
    pytest.param("postgresql", marks=pytest.mark.skipif(not PG_URL, reason="STATION_DESK_TEST_PG not set")),
]


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path_factory, monkeypatch):
    """Never touch the real user's data folder (nor its machine key)."""
    monkeypatch.setenv("STATION_DESK_HOME", str(tmp_path_factory.mktemp("home")))
    from db import keys

    keys.forget()


@pytest.fixture
def mount_tmpfs(tmp_path):
    """mount_tmpfs("1m") -> a folder on a tmpfs of that size, unmounted after the
    test (root only; skips where mounting is not permitted)."""
    import subprocess

    mounted = []

    def mount(size: str, name: str = "stick"):
        mnt = tmp_path / name
        mnt.mkdir()
        if os.geteuid() != 0:
            pytest.skip("mounting a tmpfs needs root")
        r = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(mnt)], capture_output=True)
        if r.returncode != 0:
            pytest.skip(f"cannot mount a tmpfs here: {r.stderr.decode(errors='replace').strip()}")
        mounted.append(mnt)
        return mnt

    yield mount
    for mnt in mounted:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


@pytest.fixture(params=ENGINES)
def db_url(request, tmp_path):
    if request.param == "sqlite":
        yield str(tmp_path / "station.sqlite3")
        return
    from tests.templates import pg_database

    url, drop = pg_database(PG_URL)
    try:
        yield url
    finally:
        drop()


@pytest.fixture(scope="session", autouse=True)
def _templates():
    """Migrated template databases for the session (tests/templates.py)."""
    from tests import templates

    yield
    templates.cleanup()


@pytest.fixture
def db(db_url):
    from tests.templates import fresh

    d = fresh(db_url)
    yield d
    d.close()


@pytest.fixture
def sqlite_db(tmp_path):
    from tests.templates import fresh

    d = fresh(tmp_path / "station.sqlite3")
    yield d
    d.close()


@pytest.fixture
def station(db):
    """A set-up station; returns (db, admin Actor)."""
    from desktop.services import accounts

    admin = accounts.setup_station(
        db,
        code="340304001",
        name="幸福里社区党群服务中心",
        level="community",
        admin_username="admin",
        admin_password="admin123",
    )
    return db, admin
