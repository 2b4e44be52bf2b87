"""The window opens SQLite with a smaller page cache than the CLI (issue 19:
memory with the 居民 page open); every pooled connection gets it."""

from __future__ import annotations

from db.engine import open_database


def _cache_sizes(db) -> set[int]:  # type: ignore[no-untyped-def]
    conns = [db.engine.connect() for _ in range(2)]  # two pooled connections, each set up on connect
    try:
        return {c.exec_driver_sql("PRAGMA cache_size").scalar() for c in conns}
    finally:
        for c in conns:
            c.close()


def test_cache_size_default_and_for_the_window(tmp_path):
    from desktop.ui.app import WINDOW_CACHE_MIB

    path = tmp_path / "s.sqlite3"
    db = open_database(path)
    try:
        assert _cache_sizes(db) == {-32768}
    finally:
        db.close()
    db = open_database(path, cache_mib=WINDOW_CACHE_MIB)
    try:
        assert _cache_sizes(db) == {-WINDOW_CACHE_MIB * 1024} and WINDOW_CACHE_MIB < 32
    finally:
        db.close()
