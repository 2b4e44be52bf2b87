"""Benchmark: sync bundles at a busy street's size.

The station is the report benchmark's year (100 000 residents and about a
million matters with their ratings, certificates and volunteer history).  A
fresh hub trusts it; the station writes its first full bundle, the hub
imports it into an empty database; then 1 000 residents are edited at the
station and the incremental bundle goes the same way.  With
``STATION_DESK_BENCH_PG`` naming a PostgreSQL server the full bundle is also
imported into a hub database there.
"""

from __future__ import annotations

import os
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


def bench_sync(ctx: Any) -> dict[str, Any]:
    from sqlalchemy import func, select

    from db.engine import open_database
    from db.models import Resident
    from desktop.bench.reports import _prepare
    from desktop.services.accounts import system_actor
    from desktop.services.sync import exchange

    url, figures = _prepare(ctx)
    out = Path(tempfile.mkdtemp(prefix="station-bench-sync-"))
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
        res, secs = _timed(lambda: exchange.import_bundle(hub, hub_actor, full.path, temp_dir=out))
        figures["sync_full_import_empty_hub_s"] = round(secs, 1)
        figures["sync_full_import_new"] = res.new

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
        for p in out.glob("*.sdbundle"):
            p.unlink()
    return figures
