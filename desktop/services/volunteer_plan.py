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

import numpy as np

from db.engine import Database
from desktop.services import volunteers as vol
from desktop.services.context import Actor

CANDIDATES_PER_SLOT = 40  # the best few per occurrence: the optimum is almost never further down
TIME_LIMIT_S = 4.0


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
    return [pool.candidates_at(s.need, s.day)[:CANDIDATES_PER_SLOT] for s in slots]


def _quiet_highs():  # type: ignore[no-untyped-def]
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


def _plan(week_start: date, slots: list[Slot], chosen: list[tuple[int, float, vol.PoolEntry]], t0: float,
          status: str) -> Plan:
    picks = [Pick(slots[i].need.id, slots[i].need.title, slots[i].day, slots[i].need.slot, e.id, e.name, e.number,
                  score) for i, score, e in chosen]
    by_slot: dict[tuple[uuid.UUID, date], list[Pick]] = defaultdict(list)
    for p in picks:
        by_slot[(p.need_id, p.day)].append(p)
    return Plan(week_start, slots, picks, round(sum(p.score for p in picks), 1), len(picks),
                sum(s.wanted for s in slots), round(time.perf_counter() - t0, 3), status, dict(by_slot))


def greedy(pool: vol.Pool, week_start: date, slots: list[Slot],
           cands: list[list[tuple[float, vol.PoolEntry]]] | None = None) -> Plan:
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


def optimal(pool: vol.Pool, week_start: date, slots: list[Slot],
            cands: list[list[tuple[float, vol.PoolEntry]]] | None = None) -> Plan:
    import highspy

    t0 = time.perf_counter()
    cands = cands if cands is not None else _candidates(pool, slots)
    var: list[tuple[int, float, vol.PoolEntry]] = [(i, score, e) for i, cs in enumerate(cands) for score, e in cs]
    if not var:
        return _plan(week_start, slots, [], t0, "empty")
    n = len(var)
    rows: list[tuple[list[int], list[float], float]] = []  # (columns, coefficients, upper bound)
    by_slot: dict[int, list[int]] = defaultdict(list)
    by_time: dict[tuple[uuid.UUID, date, str], list[int]] = defaultdict(list)
    by_vol: dict[uuid.UUID, list[int]] = defaultdict(list)
    for j, (i, _score, e) in enumerate(var):
        by_slot[i].append(j)
        by_time[(e.id, slots[i].day, slots[i].need.slot)].append(j)
        by_vol[e.id].append(j)
    for i, cols in by_slot.items():
        rows.append((cols, [1.0] * len(cols), float(slots[i].wanted)))
    for cols in by_time.values():
        if len(cols) > 1:
            rows.append((cols, [1.0] * len(cols), 1.0))
    entries = {e.id: e for _, _, e in var}
    for vid, cols in by_vol.items():
        need_hours = [slots[var[j][0]].need.hours for j in cols]
        room = entries[vid].weekly_limit - pool.week_hours.get((vid, week_start), 0.0)
        if sum(need_hours) > room + 1e-9:
            rows.append((cols, need_hours, room))
    # Column-wise sparse matrix for HiGHS.
    col_rows: list[list[tuple[int, float]]] = [[] for _ in range(n)]
    for r, (cols, coefs, _ub) in enumerate(rows):
        for j, c in zip(cols, coefs, strict=True):
            col_rows[j].append((r, c))
    start, index, value = [0], [], []
    for entries_j in col_rows:
        for r, c in entries_j:
            index.append(r)
            value.append(c)
        start.append(len(index))
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = n, len(rows)
    lp.col_cost_ = np.array([-score for _, score, _ in var], dtype=float)  # HiGHS minimises
    lp.col_lower_ = np.zeros(n)
    lp.col_upper_ = np.ones(n)
    lp.row_lower_ = np.full(len(rows), -highspy.kHighsInf)
    lp.row_upper_ = np.array([ub for _, _, ub in rows], dtype=float)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = np.array(start, dtype=np.int32)
    lp.a_matrix_.index_ = np.array(index, dtype=np.int32)
    lp.a_matrix_.value_ = np.array(value, dtype=float)
    lp.integrality_ = [highspy.HighsVarType.kInteger] * n
    h = _quiet_highs()
    h.setOptionValue("time_limit", TIME_LIMIT_S)
    h.setOptionValue("mip_rel_gap", 1e-4)
    h.setOptionValue("threads", 1)
    h.passModel(lp)
    h.run()
    status = h.modelStatusToString(h.getModelStatus())
    x = h.getSolution().col_value
    chosen = [var[j] for j in range(n) if x[j] > 0.5]
    return _plan(week_start, slots, chosen, t0, status)


def compare(db: Database, week_start: date, pool: vol.Pool | None = None) -> Comparison:
    week_start = week_start - timedelta(days=week_start.isoweekday() - 1)
    pool = pool or vol.Pool(db)
    slots = week_slots(db, week_start)
    cands = _candidates(pool, slots)
    return Comparison(optimal(pool, week_start, slots, cands), greedy(pool, week_start, slots, cands))


def accept(db: Database, actor: Actor, plan: Plan) -> int:
    """Turn a proposed plan into assignments, one need-date at a time."""
    actor.require("desk", "接受派单计划")
    made = 0
    for (need_id, day), picks in plan.by_slot.items():
        made += len(vol.assign(db, actor, need_id, [p.volunteer_id for p in picks], day,
                               scores={p.volunteer_id: p.score for p in picks}))
    return made
