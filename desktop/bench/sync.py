"""Benchmark: sync bundles at a busy street's size.

The station is the report benchmark's year (100 000 residents and about a
million matters with their ratings, certificates and volunteer history).  A
fresh hub trusts it; the station writes its first full bundle, the hub
imports it into an empty database; then 1 000 residents are edited at the
station and the incremental bundle goes the same way.  With
``STATION_DESK_BENCH_PG`` naming a PostgreSQL server the full bundle is also
imported into a hub database there.

The station is a copy of the shared report database in the benchmark's own
folder (an export writes its audit line, watermark and key file).  The floor
for the full import, measured in the same run: the same decrypted NDJSON
payload (every part unzipped beforehand, outside the timing) parsed and
loaded with plain ``executemany`` into an empty database of the same schema,
opened the same way, in one transaction — with no checks, merging or change
numbering, only the JSON columns written back as text.  It drops and rebuilds
the large empty tables' indexes as the import does, so it is the cheaper of
the two ways to load: a fair bound.  It is measured just before and just
after the import and averaged (the machine's load drifts over minutes).
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any


def _hub(url: str) -> Any:
    from db.engine import open_database
    from desktop.services import accounts

    db = open_database(url)
    actor = accounts.setup_station(
        db, code="340304000", name="东风街道办事处", level="street", admin_username="admin", admin_password="bench12345"
    )
    return db, actor


def _timed(fn: Any) -> tuple[Any, float]:
    t = time.perf_counter()
    return fn(), time.perf_counter() - t


def extract_payload(bundle_path: Path, hub: Any, folder: Path) -> list[tuple[str, Path]]:
    """The bundle's parts as decrypted, unzipped NDJSON files (written
    through to the disk), in bundle order."""
    from desktop.services.sync import exchange
    from desktop.services.sync.container import open_bundle

    keys = exchange.station_keys(hub)
    with hub.session() as s:
        trusted = exchange._trusted(s)
    folder.mkdir(parents=True, exist_ok=True)
    out: list[tuple[str, Path]] = []
    with open_bundle(bundle_path, keys, trusted.get, temp_dir=folder) as b:
        for name in b.parts():
            path = folder / f"{name}.ndjson"
            with open(path, "wb") as f:
                for chunk in b.chunks(name):
                    f.write(chunk)
                f.flush()
                os.fsync(f.fileno())  # on disk before any timing: no write-back competing with the first floor
            out.append((name, path))
    return out


def import_floor(parts: list[tuple[str, Path]], lines: dict[str, int], db_path: Path) -> tuple[float, int]:
    """Seconds to load the NDJSON parts into an empty, migrated database of
    the same schema with plain ``executemany`` in batches as the import's
    (see the module docstring), and the rows loaded; ``lines`` is each
    part's row count (the import's choice of rebuilding indexes).  The
    database is deleted afterwards."""
    import orjson
    from sqlalchemy import JSON

    from db.base import table_of
    from db.engine import open_database
    from desktop.services.sync import changes
    from desktop.services.sync.exchange import IMPORT_CACHE_KIB

    db = open_database(db_path)
    try:
        t = time.perf_counter()
        n_all = 0
        with db.session() as s:
            conn = s.connection()
            conn.exec_driver_sql(f"PRAGMA cache_size={IMPORT_CACHE_KIB}")  # as the import
            q = conn.dialect.identifier_preparer.quote
            seq = 0
            for name, path in parts:
                model = changes.model_for(name)
                assert model is not None
                table = table_of(model)
                n = int(lines.get(name, 0))
                rebuild = sorted(table.indexes, key=lambda i: i.name or "") if n >= 20_000 else []
                if any(fk.constraint is not None and fk.constraint.deferrable for fk in table.foreign_keys):
                    rebuild = []
                for index in rebuild:
                    index.drop(conn)
                with open(path, "rb") as f:
                    sql, json_cols, batch = "", [], []
                    for line in f:
                        r = orjson.loads(line)
                        if not sql:
                            cols = list(r)
                            json_cols = [i for i, c in enumerate(cols) if isinstance(table.c[c].type, JSON)]
                            sql = (
                                f"INSERT INTO {q(table.name)} ({', '.join(q(c) for c in [*cols, 'seq'])}) "
                                f"VALUES ({', '.join(['?'] * (len(cols) + 1))})"
                            )
                        values = [r[c] for c in cols]
                        for i in json_cols:
                            if values[i] is not None:
                                values[i] = orjson.dumps(values[i]).decode()
                        seq += 1
                        batch.append((*values, seq))
                        if len(batch) >= changes.BATCH:
                            conn.exec_driver_sql(sql, batch)
                            n_all += len(batch)
                            batch = []
                    if batch:
                        conn.exec_driver_sql(sql, batch)
                        n_all += len(batch)
                for index in rebuild:
                    index.create(conn)
        return time.perf_counter() - t, n_all
    finally:
        db.close()
        for leftover in db_path.parent.glob(db_path.name + "*"):  # the database, its journal and key: GBs
            leftover.unlink()


def bench_sync(ctx: Any) -> dict[str, Any]:
    from sqlalchemy import func, select

    from db.engine import backup_sqlite, open_database
    from db.models import Resident
    from desktop.bench.reports import _prepare
    from desktop.services.accounts import system_actor
    from desktop.services.sync import exchange

    url, figures = _prepare(ctx)
    out = Path(tempfile.mkdtemp(prefix="station-bench-sync-"))
    if Path(url).exists():  # a SQLite file: work on a copy, the shared one stays as it is
        url = str(backup_sqlite(Path(url), out / "station.sqlite3"))
    station = open_database(url)
    hub, hub_actor = _hub(str(out / "hub.sqlite3"))
    try:
        actor = system_actor(station)
        exchange.trust_peer(station, actor, exchange.station_keys(hub).peer)
        exchange.trust_peer(hub, hub_actor, exchange.station_keys(station).peer)
        full, secs = _timed(
            lambda: exchange.export_bundle(station, actor, "340304000", out / "full.sdbundle", full=True)
        )
        figures["sync_full_export_s"] = round(secs, 1)
        figures["sync_full_rows"] = full.rows
        figures["sync_full_residents"] = full.counts.get("residents", 0)
        figures["sync_full_matters"] = full.counts.get("matters", 0)
        figures["sync_full_mb"] = round(full.size / 1e6, 1)
        # the floor just before and just after the import, so that both see the same machine
        parts = extract_payload(full.path, hub, out / "payload")
        floors = [import_floor(parts, full.counts, out / "floor-before.sqlite3")]
        res, secs = _timed(lambda: exchange.import_bundle(hub, hub_actor, full.path, temp_dir=out))
        floors.append(import_floor(parts, full.counts, out / "floor-after.sqlite3"))
        for _, p in parts:
            p.unlink()
        figures["sync_full_import_empty_hub_s"] = round(secs, 1)
        figures["sync_full_import_new"] = res.new
        floor_s = sum(f for f, _ in floors) / len(floors)
        figures["sync_import_floor_s"] = round(floor_s, 1)
        figures["sync_import_floor_runs_s"] = [round(f, 1) for f, _ in floors]
        figures["sync_import_floor_rows"] = floors[0][1]
        figures["sync_import_vs_floor_x"] = round(secs / floor_s, 2)

        # 1 000 residents edited at the station
        with station.session() as s:
            for i, r in enumerate(
                s.scalars(select(Resident).where(Resident.deleted.is_(False)).order_by(Resident.seq).limit(1000))
            ):
                r.notes = f"2026年走访 {i}"
        inc, secs = _timed(lambda: exchange.export_bundle(station, actor, "340304000", out / "inc.sdbundle"))
        figures["sync_1000_export_s"] = round(secs, 2)
        figures["sync_1000_rows"] = inc.rows
        figures["sync_1000_kb"] = round(inc.size / 1024, 1)
        res, secs = _timed(lambda: exchange.import_bundle(hub, hub_actor, inc.path, temp_dir=out))
        figures["sync_1000_import_s"] = round(secs, 2)
        figures["sync_1000_updated"] = res.updated
        with hub.session() as s:
            figures["sync_hub_residents"] = s.scalar(select(func.count()).select_from(Resident))

        pg = os.environ.get("STATION_DESK_BENCH_PG")
        if pg:
            pg_hub, pg_actor = _hub(pg)
            try:
                exchange.trust_peer(pg_hub, pg_actor, exchange.station_keys(station).peer)
                # the same bundle was sealed to the SQLite hub's key: seal a fresh one to this hub
                exchange.trust_peer(station, actor, exchange.station_keys(pg_hub).peer)
                full_pg = exchange.export_bundle(station, actor, "340304000", out / "full-pg.sdbundle", full=True)
                _, secs = _timed(lambda: exchange.import_bundle(pg_hub, pg_actor, full_pg.path, temp_dir=out))
                figures["sync_full_import_empty_pg_hub_s"] = round(secs, 1)
            finally:
                pg_hub.close()
    finally:
        station.close()
        hub.close()
        shutil.rmtree(out, ignore_errors=True)
    return figures
