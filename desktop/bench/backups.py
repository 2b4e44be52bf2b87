"""Benchmark: a backup (online backup API, integrity check, row counts,
sidecar) and a restore on a copy of the benchmark database.

The benchmark database is only read (copied with SQLite's backup API into a
temporary folder); every figure is taken on the copy.  PostgreSQL hubs are
skipped: their backups are the server's job.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path
from typing import Any


def bench_backups(ctx: Any) -> dict[str, Any]:
    from sqlalchemy.engine import make_url

    from db import backup
    from db.engine import backup_sqlite, normalize_url, open_database

    url = normalize_url(ctx.db_url)
    u = make_url(url)
    if u.get_backend_name() != "sqlite" or not u.database:
        return {"backup_skipped": "server database (pg_dump is the server's job)"}
    src = Path(u.database)
    folder = Path(tempfile.mkdtemp(prefix="station-bench-backup-"))
    try:
        copy = backup_sqlite(src, folder / "data" / "station.sqlite3")
        db = open_database(copy)  # WAL mode and the app's pragmas, as in the running app
        try:
            t = time.perf_counter()
            info = backup.make_backup(copy, folder / "backups", "manual")
            backup_s = time.perf_counter() - t
        finally:
            db.close()
        t = time.perf_counter()
        listed = backup.list_backups(folder / "backups")
        list_ms = (time.perf_counter() - t) * 1000
        t = time.perf_counter()
        backup.verify(info.path, quick=True)
        quick_s = time.perf_counter() - t
        t = time.perf_counter()
        backup.restore(info.path, copy)
        restore_s = time.perf_counter() - t
        t = time.perf_counter()
        open_database(copy).close()  # the first open after a restore (quick_check, WAL on)
        reopen_s = time.perf_counter() - t
        return {
            "backup_size_mb": round(info.size / 2**20, 1),
            "backup_with_verify_s": round(backup_s, 2),
            "backup_list_ms": round(list_ms, 1),
            "backup_quick_check_s": round(quick_s, 2),
            "restore_s": round(restore_s, 2),
            "restore_reopen_s": round(reopen_s, 2),
            "backup_residents": info.residents,
            "backups_listed": len(listed),
        }
    finally:
        shutil.rmtree(folder, ignore_errors=True)
