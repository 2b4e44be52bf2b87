"""Volunteer benchmarks: ranking 10 000 volunteers for one need, and the
weekly plan of 500 needs over 5 000 volunteers (optimal and greedy).

Each figure is printed beside its floor measured in the same run: for the
ranking, ``score_floor`` — the weighted sum of the same pool arrays and a
sort, in numpy, without the hard rules, the explanations or any Python
object per volunteer; for the plan, the same floor for every occurrence,
the solver's own time beside the whole, and the bound no plan can beat
(the LP relaxation's, over every pair) beside the total."""

from __future__ import annotations

import statistics
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any


def _copy(url: str, dest: Path) -> str:
    from db.engine import backup_sqlite, normalize_url

    return str(backup_sqlite(Path(normalize_url(url)[len("sqlite:///") :]), dest))


def score_floor(pool: Any, need: Any) -> Any:
    """The floor of ranking: every volunteer's need-dependent parts plus the
    static ones over the pool's arrays, then the order — nothing else."""
    import numpy as np

    from desktop.services.volunteers import WEIGHTS

    cols = [pool._skill_col[k] for k in need.skills if k in pool._skill_col]
    skill = pool._skills[:, cols].sum(axis=1) / max(len(need.skills), 1)
    near = np.where(
        pool._grid == pool._grid_code.get(need.grid, -1),
        1.0,
        np.where(pool._estate == pool._estate_code.get(need.estate, -1), 0.7, 0.3),
    )
    total = WEIGHTS["skill"] * skill + WEIGHTS["availability"] + WEIGHTS["nearness"] * near + pool._static_total
    return np.argsort(-total, kind="stable")


def _p95(xs: list[float]) -> float:
    return round(sorted(xs)[int(len(xs) * 0.95)], 2)  # as bench.py counts p95


def bench_volunteers(ctx: Any) -> dict[str, Any]:
    from db.engine import open_database
    from desktop.services import volunteer_plan as plan, volunteers as vol
    from desktop.services.demo import volunteers as demo_volunteers

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
            needs = vol.list_needs(db)[:30]
            week_end = info["week"] + timedelta(days=6)
            days = [(vol.occurrences(n, info["week"], week_end) or [n.day])[0] for n in needs]
            times, floor = [], []
            for _round in range(3):
                for n, day in zip(needs, days, strict=True):
                    t = time.perf_counter()
                    r = pool.rank(n, day)
                    times.append((time.perf_counter() - t) * 1000)
                    assert r.candidates or r.excluded
                    t = time.perf_counter()
                    score_floor(pool, n)
                    floor.append((time.perf_counter() - t) * 1000)
            figures["rank_10000_volunteers_ms_median"] = round(statistics.median(times), 2)
            figures["rank_10000_volunteers_ms_p95"] = _p95(times)
            figures["rank_10000_volunteers_ms_max"] = round(max(times), 2)
            figures["rank_10000_floor_numpy_scoring_ms_median"] = round(statistics.median(floor), 3)
            figures["rank_10000_floor_numpy_scoring_ms_p95"] = _p95(floor)
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
            figures["weekly_plan_lp_bound"] = cmp.optimal.bound
            figures["weekly_plan_pairs_scored"] = cmp.optimal.pairs
            figures["weekly_plan_pairs_to_solver"] = cmp.optimal.columns
            figures["weekly_plan_optimal_rounds"] = cmp.optimal.rounds
            figures["weekly_plan_optimal_filled"] = cmp.optimal.filled
            figures["weekly_plan_optimal_solver_s"] = cmp.optimal.seconds
            figures["weekly_plan_optimal_status"] = cmp.optimal.status
            figures["weekly_plan_greedy_total"] = cmp.greedy.total
            figures["weekly_plan_greedy_filled"] = cmp.greedy.filled
            # Floor: the weighted sums and the order alone for every occurrence, numpy over the same pool.
            pool = vol.Pool(db)
            t = time.perf_counter()
            for s in cmp.optimal.slots:
                score_floor(pool, s.need)
            figures["weekly_plan_floor_numpy_scoring_s"] = round(time.perf_counter() - t, 3)
        finally:
            db.close()
    return figures
