"""Volunteer benchmarks: ranking 10 000 volunteers for one need, and the
weekly plan of 500 needs over 5 000 volunteers (optimal and greedy)."""
from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path
from typing import Any


def _copy(url: str, dest: Path) -> str:
    from db.engine import backup_sqlite, normalize_url

    return str(backup_sqlite(Path(normalize_url(url)[len("sqlite:///"):]), dest))


def bench_volunteers(ctx: Any) -> dict[str, Any]:
    from db.engine import open_database
    from desktop.services import demo_volunteers, volunteer_plan as plan, volunteers as vol

    figures: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        # Ranking: 10 000 volunteers.
        url = _copy(ctx.db_url, Path(tmp) / "rank.sqlite3")
        db = open_database(url)
        try:
            info = demo_volunteers.fill_volunteers(db, n_volunteers=10_000, n_needs=50, seed=3)
            t = time.perf_counter()
            pool = vol.Pool(db)
            figures["volunteer_pool_load_10000_ms"] = round((time.perf_counter() - t) * 1000, 1)
            needs = vol.list_needs(db)
            times = []
            for n in needs[:30]:
                t = time.perf_counter()
                r = pool.rank(n, vol.occurrences(n, info["week"], info["week"] + __import__("datetime").timedelta(6))[0]
                              if vol.occurrences(n, info["week"], info["week"] + __import__("datetime").timedelta(6))
                              else n.day)
                times.append((time.perf_counter() - t) * 1000)
                assert r.candidates or r.excluded
            figures["rank_10000_volunteers_ms_median"] = round(statistics.median(times), 1)
            figures["rank_10000_volunteers_ms_max"] = round(max(times), 1)
        finally:
            db.close()
        # Weekly plan: 500 needs, 5 000 volunteers.
        url = _copy(ctx.db_url, Path(tmp) / "plan.sqlite3")
        db = open_database(url)
        try:
            info = demo_volunteers.fill_volunteers(db, n_volunteers=5_000, n_needs=500, seed=4)
            t = time.perf_counter()
            cmp = plan.compare(db, info["week"])
            figures["weekly_plan_500_needs_5000_volunteers_s"] = round(time.perf_counter() - t, 2)
            figures["weekly_plan_slots"] = len(cmp.optimal.slots)
            figures["weekly_plan_wanted"] = cmp.optimal.wanted
            figures["weekly_plan_optimal_total"] = cmp.optimal.total
            figures["weekly_plan_optimal_filled"] = cmp.optimal.filled
            figures["weekly_plan_optimal_solver_s"] = cmp.optimal.seconds
            figures["weekly_plan_optimal_status"] = cmp.optimal.status
            figures["weekly_plan_greedy_total"] = cmp.greedy.total
            figures["weekly_plan_greedy_filled"] = cmp.greedy.filled
        finally:
            db.close()
    return figures
