"""Weekly planning: for every open need of a week, the assignment of
volunteers that maximises the total fit, under each volunteer's
availability, one place at a time, and weekly hour limit.

It is an integer program (a need may want several volunteers; hour limits
weigh each assignment by its hours), solved with HiGHS (``highspy``). The
greedy one-by-one plan — most urgent first, best free candidate each time —
is computed beside it so the worker sees what the optimiser gains.
"""

from __future__ import annotations

import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import TYPE_CHECKING

import numpy as np

from db.engine import Database
from desktop.services import volunteers as vol
from desktop.services.context import Actor

if TYPE_CHECKING:
    import highspy

# One slot's eligible volunteers, best first: (pool entry rows, totals), as Pool.totals_at gives them.
Ranked = tuple[np.ndarray, np.ndarray]

CANDIDATES_PER_SLOT = 40  # the greedy plan looks this far down each occurrence's ranking
COLUMNS_PER_SLOT = 10  # the optimiser starts from the best few per occurrence and adds more when needed
TIME_LIMIT_S = 4.0
STEP = 0.1  # every score is rounded to 0.1, so a better plan totals at least 0.1 more
MIP_ABS_GAP = 0.099  # below STEP: HiGHS stops only when no better plan exists among its columns
MAX_ROUNDS = 6  # models solved at most while showing that pruning loses nothing


@dataclass(frozen=True)
class Slot:
    """One occurrence of a need that still wants volunteers."""

    need: vol.NeedRow
    day: date
    wanted: int


@dataclass(frozen=True)
class Pick:
    need_id: uuid.UUID
    need_title: str
    day: date
    slot: str
    volunteer_id: uuid.UUID
    volunteer_name: str
    volunteer_number: str
    score: float


@dataclass
class Plan:
    week_start: date
    slots: list[Slot]
    picks: list[Pick]
    total: float
    filled: int
    wanted: int
    seconds: float
    status: str = ""
    by_slot: dict[tuple[uuid.UUID, date], list[Pick]] = field(default_factory=dict)
    bound: float = 0.0  # optimal: no plan of the week can total more (the LP relaxation's dual bound)
    columns: int = 0  # optimal: volunteer–slot pairs HiGHS saw
    rounds: int = 0  # optimal: models solved until pruning was shown harmless
    pairs: int = 0  # optimal: eligible volunteer–slot pairs scored


@dataclass
class Comparison:
    optimal: Plan
    greedy: Plan


def week_slots(db: Database, week_start: date) -> list[Slot]:
    end = week_start + timedelta(days=6)
    out = []
    taken: dict[tuple[uuid.UUID, date], int] = defaultdict(int)
    for a in vol.assignments(db, start=week_start, end=end):
        if a.status in ("assigned", "done"):
            taken[(a.need_id, a.day)] += 1
    for n in vol.list_needs(db, statuses=("open", "serving")):
        for d in vol.occurrences(n, week_start, end):
            wanted = n.volunteers_needed - taken[(n.id, d)]
            if wanted > 0:
                out.append(Slot(n, d, wanted))
    out.sort(key=lambda s: (-s.need.urgency, s.day, s.need.slot, s.need.title))
    return out


def _candidates(pool: vol.Pool, slots: list[Slot]) -> list[list[tuple[float, vol.PoolEntry]]]:
    return [pool.candidates_at(s.need, s.day, CANDIDATES_PER_SLOT) for s in slots]


def _quiet_highs() -> highspy.Highs:
    """A HiGHS instance without its banner on stdout (the CLI prints JSON there)."""
    import os
    import sys

    import highspy

    sys.stdout.flush()
    saved = os.dup(1)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 1)
        h = highspy.Highs()
        h.setOptionValue("output_flag", False)
    finally:
        os.dup2(saved, 1)
        os.close(saved)
        os.close(devnull)
    return h


def _plan(
    week_start: date, slots: list[Slot], chosen: list[tuple[int, float, vol.PoolEntry]], t0: float, status: str
) -> Plan:
    picks = [
        Pick(slots[i].need.id, slots[i].need.title, slots[i].day, slots[i].need.slot, e.id, e.name, e.number, score)
        for i, score, e in chosen
    ]
    by_slot: dict[tuple[uuid.UUID, date], list[Pick]] = defaultdict(list)
    for p in picks:
        by_slot[(p.need_id, p.day)].append(p)
    return Plan(
        week_start,
        slots,
        picks,
        round(sum(p.score for p in picks), 1),
        len(picks),
        sum(s.wanted for s in slots),
        round(time.perf_counter() - t0, 3),
        status,
        dict(by_slot),
    )


def greedy(
    pool: vol.Pool, week_start: date, slots: list[Slot], cands: list[list[tuple[float, vol.PoolEntry]]] | None = None
) -> Plan:
    t0 = time.perf_counter()
    cands = cands if cands is not None else _candidates(pool, slots)
    busy: set[tuple[uuid.UUID, date, str]] = set()
    hours: dict[uuid.UUID, float] = defaultdict(float)
    chosen = []
    for i, s in enumerate(slots):
        got = 0
        for score, e in cands[i]:
            if got >= s.wanted:
                break
            room = e.weekly_limit - pool.week_hours.get((e.id, week_start), 0.0) - hours[e.id]
            if (e.id, s.day, s.need.slot) in busy or room + 1e-9 < s.need.hours:
                continue
            busy.add((e.id, s.day, s.need.slot))
            hours[e.id] += s.need.hours
            chosen.append((i, score, e))
            got += 1
    return _plan(week_start, slots, chosen, t0, "greedy")


class _Model:
    """The integer program over a prefix of each slot's ranking: x[j] = 1
    when column j (a volunteer for a slot) is chosen; at most ``wanted`` per
    slot, one place per volunteer and time, the weekly hour room."""

    def __init__(
        self, pool: vol.Pool, week_start: date, slots: list[Slot], ranked: list[Ranked], keep: list[int]
    ) -> None:
        self.slot = np.concatenate([np.full(k, i, dtype=np.int64) for i, k in enumerate(keep)])
        self.entry = np.concatenate([r[:k] for (r, _t), k in zip(ranked, keep, strict=True)])
        self.score = np.concatenate([t[:k] for (_r, t), k in zip(ranked, keep, strict=True)])
        n, self.n_slots = len(self.slot), len(slots)
        # Rows: one per slot, then per (volunteer, time) taken twice, then per volunteer short of room.
        wanted = np.array([float(s.wanted) for s in slots])
        time_of: dict[tuple[date, str], int] = {}
        self.time_index = np.array(
            [time_of.setdefault((s.day, s.need.slot), len(time_of)) for s in slots], dtype=np.int64
        )
        self.n_times = max(len(time_of), 1)
        self.hours = np.array([s.need.hours for s in slots])
        week = pool._week(week_start)
        self.room = pool._limit - week
        time_key = self.entry * self.n_times + self.time_index[self.slot]
        keys, inv, cnt = np.unique(time_key, return_inverse=True, return_counts=True)
        self.time_keys = keys[cnt > 1]
        time_row = np.full(len(keys), -1, dtype=np.int64)
        time_row[cnt > 1] = len(slots) + np.arange(int((cnt > 1).sum()))
        col_time = time_row[inv]
        col_hours = self.hours[self.slot]
        vols, vinv = np.unique(self.entry, return_inverse=True)
        load = np.bincount(vinv, weights=col_hours, minlength=len(vols))
        tight = load > self.room[vols] + 1e-9
        first_vol_row = len(slots) + len(self.time_keys)
        self.vol_row = np.full(len(pool.entries), -1, dtype=np.int64)
        self.vol_row[vols[tight]] = first_vol_row + np.arange(int(tight.sum()))
        col_vol = self.vol_row[self.entry]
        self.n_rows = first_vol_row + int(tight.sum())
        self.upper = np.concatenate([wanted, np.ones(len(self.time_keys)), self.room[vols[tight]]])
        cols = np.arange(n)
        has_t, has_v = col_time >= 0, col_vol >= 0
        r = np.concatenate([self.slot, col_time[has_t], col_vol[has_v]])
        c = np.concatenate([cols, cols[has_t], cols[has_v]])
        v = np.concatenate([np.ones(n), np.ones(int(has_t.sum())), col_hours[has_v]])
        order = np.lexsort((r, c))
        self.index, self.value = r[order].astype(np.int32), v[order]
        self.start = np.searchsorted(c[order], np.arange(n + 1)).astype(np.int32)

    def solve(self, integer: bool) -> highspy.Highs:
        import highspy

        n = len(self.slot)
        lp = highspy.HighsLp()
        lp.num_col_, lp.num_row_ = n, self.n_rows
        lp.col_cost_ = -self.score  # HiGHS minimises
        lp.col_lower_, lp.col_upper_ = np.zeros(n), np.ones(n)
        lp.row_lower_, lp.row_upper_ = np.full(self.n_rows, -highspy.kHighsInf), self.upper
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_, lp.a_matrix_.index_, lp.a_matrix_.value_ = self.start, self.index, self.value
        if integer:
            lp.integrality_ = [highspy.HighsVarType.kInteger] * n
        h = _quiet_highs()
        h.setOptionValue("time_limit", TIME_LIMIT_S)
        h.setOptionValue("mip_rel_gap", 0.0)
        h.setOptionValue("mip_abs_gap", MIP_ABS_GAP)
        h.setOptionValue("threads", 1)
        h.passModel(lp)
        h.run()
        return h

    def reduced(self, duals: np.ndarray, slot: np.ndarray, entry: np.ndarray, score: np.ndarray) -> np.ndarray:
        """score − (the duals of the column's rows) for any columns, in the model or not."""
        y = np.maximum(duals, 0.0)
        a = y[slot].copy()
        key = entry * self.n_times + self.time_index[slot]
        pos = np.minimum(np.searchsorted(self.time_keys, key), max(len(self.time_keys) - 1, 0))
        if len(self.time_keys):
            hit = self.time_keys[pos] == key
            a[hit] += y[self.n_slots + pos[hit]]
        vr = self.vol_row[entry]
        a[vr >= 0] += self.hours[slot[vr >= 0]] * y[vr[vr >= 0]]
        return score - a


def optimal(pool: vol.Pool, week_start: date, slots: list[Slot], ranked: list[Ranked] | None = None) -> Plan:
    """The best plan over every eligible volunteer of every slot, with an
    upper bound on any plan's total (``Plan.bound``, shown beside the total).

    HiGHS first sees only the best ``COLUMNS_PER_SLOT`` pairs of each slot.
    Pruning can lose optimality in general (a slot's top volunteers may all
    be needed elsewhere at that time or out of weekly hours), so it is
    checked, not assumed. Let y ≥ 0 be the row duals of the LP relaxation
    of the pruned model, and rc_j = score_j − yᵀA_j for every eligible pair
    j, pruned or not. Every plan x of the whole problem (x in {0, 1},
    A·x ≤ b) satisfies

        total(x) = yᵀA·x + Σ rc_j·x_j ≤ yᵀb + Σ rc_j·x_j,

    so ``bound`` = yᵀb + Σ_j max(rc_j, 0) bounds every plan, and a plan that
    uses a pruned pair k with rc_k ≤ 0 totals at most ``bound`` + rc_k.
    Columns are added (longer prefixes of each slot's ranking, re-solving)
    until no pruned pair has rc_k > 0 and none has ``bound`` + rc_k ≥
    total + ``STEP`` (scores are multiples of 0.1, so a better plan totals
    at least 0.1 more). Then no plan using a pruned pair beats the plan
    found, and among the others HiGHS's optimum (absolute gap below 0.1)
    is the best: the plan is optimal for the whole problem.
    """
    t0 = time.perf_counter()
    ranked = ranked if ranked is not None else [pool.totals_at(s.need, s.day) for s in slots]
    keep = [min(COLUMNS_PER_SLOT, len(r)) for r, _t in ranked]
    if not sum(keep):
        return _plan(week_start, slots, [], t0, "empty")
    out_slot = np.concatenate([np.full(len(r), i, dtype=np.int64) for i, (r, _t) in enumerate(ranked)])
    out_entry = np.concatenate([r for r, _t in ranked])
    out_score = np.concatenate([t for _r, t in ranked])
    out_pos = np.concatenate([np.arange(len(r)) for r, _t in ranked])
    status, total, rounds = "", 0.0, 0
    while True:
        rounds += 1
        m = _Model(pool, week_start, slots, ranked, keep)
        h = m.solve(integer=False)
        duals = -np.asarray(h.getSolution().row_dual)
        rc = m.reduced(duals, out_slot, out_entry, out_score)
        left = out_pos >= np.asarray(keep)[out_slot]
        bound = float(np.maximum(duals, 0.0) @ m.upper + np.maximum(rc, 0.0).sum())
        grow = left & (rc > 1e-9)
        if not grow.any():
            h = m.solve(integer=True)
            status = h.modelStatusToString(h.getModelStatus())
            x = np.asarray(h.getSolution().col_value) > 0.5
            total = float(m.score[x].sum())
            grow = left & (bound + rc > total + STEP - 1e-6)
            if not grow.any():
                break
            if rounds >= MAX_ROUNDS:
                status += "（未能证明未入选的志愿者不会更好）"
                break
        for i, p in zip(out_slot[grow].tolist(), out_pos[grow].tolist(), strict=True):
            keep[i] = max(keep[i], p + 1)
    es = pool.entries
    chosen = [
        (i, sc, es[e]) for i, e, sc in zip(m.slot[x].tolist(), m.entry[x].tolist(), m.score[x].tolist(), strict=True)
    ]
    out = _plan(week_start, slots, chosen, t0, status)
    out.bound, out.columns, out.rounds, out.pairs = round(bound, 1), len(m.slot), rounds, len(out_slot)
    return out


def compare(db: Database, week_start: date, pool: vol.Pool | None = None) -> Comparison:
    week_start = week_start - timedelta(days=week_start.isoweekday() - 1)
    pool = pool or vol.Pool(db)
    slots = week_slots(db, week_start)
    ranked = [pool.totals_at(s.need, s.day) for s in slots]
    es = pool.entries
    cands = [
        [(t, es[e]) for t, e in zip(ts[:CANDIDATES_PER_SLOT].tolist(), rs[:CANDIDATES_PER_SLOT].tolist(), strict=True)]
        for rs, ts in ranked
    ]
    return Comparison(optimal(pool, week_start, slots, ranked), greedy(pool, week_start, slots, cands))


def accept(db: Database, actor: Actor, plan: Plan) -> int:
    """Turn a proposed plan into assignments, one need-date at a time."""
    actor.require("desk", "接受派单计划")
    made = 0
    for (need_id, day), picks in plan.by_slot.items():
        made += len(
            vol.assign(
                db,
                actor,
                need_id,
                [p.volunteer_id for p in picks],
                day,
                scores={p.volunteer_id: p.score for p in picks},
            )
        )
    return made
