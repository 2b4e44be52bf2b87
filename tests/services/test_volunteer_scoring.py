"""The vectorised ranking (numpy over whole arrays) against the pair-by-pair
scoring it replaced, kept here as the reference: on random pools with every
hard rule in play, the same candidates in the same order with the same
totals, the same parts and reasons, the same excluded and counts."""

from __future__ import annotations

import pytest

import dataclasses
import random
from collections import defaultdict
from datetime import date, timedelta

from sqlalchemy import select

from db.models import Volunteer
from desktop.services import residents, volunteers as vol
from desktop.services.demo import volunteers as demo_volunteers
from desktop.services.idnumbers import make_ric
from desktop.services.residents import ResidentForm

TODAY = date(2026, 11, 23)  # a Monday


def reference_candidates(pool, need, day):
    """``Pool.candidates_at`` as it was: ``quick_total`` pair by pair."""
    wanted, booked, week = set(need.skills), pool.booked.get((day, need.slot), set()), vol._monday(day)
    out = []
    for e in pool.by_key.get(f"{day.isoweekday()}{need.slot}", ()):
        t = pool.quick_total(e, need, wanted, day, need.slot, booked, week)
        if t is not None and t > 0:
            out.append((t, e))
    out.sort(key=lambda x: (-x[0], x[1].number))
    return out


def reference_rank(pool, need, day, limit=50):
    """``Pool.rank`` as it was: ``score`` for every volunteer left out."""
    wanted = set(need.skills)
    eligible = reference_candidates(pool, need, day)
    ok = {e.id for _, e in eligible}
    excluded, counts = [], defaultdict(int)
    for e in pool.entries:
        if e.id in ok:
            continue
        if wanted and not wanted & e.skills:
            counts["技能不对口且不可派"] += 1
            continue
        _total, _parts, why = pool.score(e, need, day, need.slot)
        why = why or "不可派"
        counts["时间不合适" if "没空" in why else why] += 1
        excluded.append(vol.Excluded(e.id, e.number, e.name, why))
    top = []
    for _quick, e in eligible[:limit]:
        total, parts, _why = pool.score(e, need, day, need.slot)
        top.append(vol.Candidate(e.id, e.number, e.name, e.phone, total, parts, pool.reasons(e, need, parts)))
    top.sort(key=lambda c: (-c.score, c.number))
    return vol.Ranking(need.id, day, need.slot, top, excluded, dict(counts), len(eligible))


def _stir(db, r: random.Random, codes: list[str]) -> None:
    """Every hard rule and score part in play: paused and left volunteers,
    minors with and without consent (some born on 29 February), days off,
    odd skill counts, small weekly limits."""
    with db.session() as s:
        for v in s.scalars(select(Volunteer)):
            x = r.random()
            if x < 0.05:
                v.status = r.choice(("paused", "left"))
            elif x < 0.12:
                v.birth_date = r.choice(
                    (date(2009, 2, 28), date(2008, 2, 29), date(2008, 12, 1), date(2008, 11, 26), date(2010, 6, 1))
                )
                v.guardian_consent = r.random() < 0.4
            if r.random() < 0.3:
                v.unavailable_dates = [
                    (TODAY + timedelta(days=r.randrange(0, 40))).isoformat() for _ in range(r.randrange(1, 6))
                ]
            if r.random() < 0.3:
                v.skills = r.sample(codes, r.randrange(1, 6))
            if r.random() < 0.2:
                v.weekly_hour_limit = r.choice((0.5, 1.0, 2.0, 2.5, 3.0))
            if r.random() < 0.05:
                v.grid, v.estate = None, None


@pytest.mark.slow
def test_vectorised_ranking_is_the_pair_by_pair_ranking(station):
    db, admin = station
    r = random.Random(19)
    for k in range(12):
        residents.register(
            db,
            admin,
            ResidentForm(
                name=f"老人{k}", doc_number=make_ric("340304", date(1940, 3, 3), 100 + k), estate="幸福里小区"
            ),
        )
    info = demo_volunteers.fill_volunteers(db, n_volunteers=1500, n_needs=60, seed=19, today=TODAY)
    demo_volunteers.fill_volunteer_history(db, days=60, per_day=6, seed=19, today=TODAY)
    codes = list(vol.skills(db))
    _stir(db, r, codes)
    for need in vol.list_needs(db, statuses=("open",))[:12]:  # booked times and hours in the weeks compared
        day = vol.occurrences(need, info["week"], info["week"] + timedelta(days=6))[0]
        best = vol.Pool(db, today=TODAY).rank(need, day, limit=3).candidates
        vol.assign(db, admin, need.id, [c.volunteer_id for c in best], day)
    pool = vol.Pool(db, today=TODAY)
    assert any(pool.booked.values()) and any(pool.week_hours.values()) and pool.served
    served = [rid for rs in pool.served.values() for rid in rs][:20] + [None]
    grids = sorted({e.grid for e in pool.entries}) + [""]
    estates = sorted({e.estate for e in pool.entries}) + [""]
    needs = vol.list_needs(db)
    compared = named = 0
    parts_seen: set[float] = set()
    for k in range(120):
        base = needs[k % len(needs)]
        day = TODAY + timedelta(days=r.randrange(0, 21))
        need = dataclasses.replace(
            base,
            day=day,
            slot=r.choice(("am", "pm", "eve")),
            weekly=r.random() < 0.5,
            skills=r.sample(codes, r.choice((0, 1, 2, 3, 5, 7))),
            hours=r.choice((0.5, 1.5, 2.0, 3.0, 4.0)),
            grid=r.choice(grids),
            estate=r.choice(estates),
            resident_id=r.choice(served),
        )
        old = reference_candidates(pool, need, day)
        new = pool.candidates_at(need, day)
        assert [(t, e.id) for t, e in new] == [(t, e.id) for t, e in old]
        assert pool.candidates_at(need, day, limit=7) == new[:7]
        limit = r.choice((5, 30, 50, 10_000))
        want, got = reference_rank(pool, need, day, limit), pool.rank(need, day, limit)
        assert got.candidates == want.candidates
        assert [(a.volunteer_id, a.score) for a in got.candidates] == [
            (a.volunteer_id, a.score) for a in want.candidates
        ]
        assert got.excluded == want.excluded and len(got.excluded) == len(want.excluded)
        assert got.excluded[:12] == want.excluded[:12] and (not want.excluded or got.excluded[-1] == want.excluded[-1])
        assert list(got.excluded_counts.items()) == list(want.excluded_counts.items())
        assert got.eligible == want.eligible
        compared += len(old)
        named += len(want.excluded)
        parts_seen.update(t for t, _ in old)
    assert compared > 10_000 and named > 1000 and len(parts_seen) > 100


def test_arrays_follow_assignments_made_after_loading(station):
    """Dispatch books the pool it checked against: the next occurrence that
    week sees the hours and the booked time."""
    db, _admin = station
    info = demo_volunteers.fill_volunteers(db, n_volunteers=200, n_needs=10, seed=5, today=TODAY)
    pool = vol.Pool(db, today=TODAY)
    need = vol.list_needs(db)[0]
    day = vol.occurrences(need, info["week"], info["week"] + timedelta(days=6))[0]
    first = pool.candidates_at(need, day)
    _t, e = first[0]
    pool.book(e.id, day, need.slot, e.weekly_limit)
    assert e.id not in {x.id for _, x in pool.candidates_at(need, day)}
    assert [(t, x.id) for t, x in pool.candidates_at(need, day)] == [
        (t, x.id) for t, x in reference_candidates(pool, need, day)
    ]


@pytest.mark.slow
def test_pruned_weekly_plan_is_optimal_over_every_pair(station, monkeypatch):
    """HiGHS starts from three volunteers per occurrence, which alone loses
    (the best volunteers clash); the reduced-cost check adds columns until
    no left-out pair can improve, and the total is the optimum over all
    pairs, under the bound."""
    import numpy as np

    from desktop.services import volunteer_plan as plan

    db, _admin = station
    info = demo_volunteers.fill_volunteers(db, n_volunteers=100, n_needs=100, seed=23, today=TODAY)
    _stir(db, random.Random(23), list(vol.skills(db)))
    pool = vol.Pool(db, today=TODAY)
    slots = plan.week_slots(db, info["week"])
    ranked = [pool.totals_at(s.need, s.day) for s in slots]
    monkeypatch.setattr(plan, "COLUMNS_PER_SLOT", 10_000)
    full = plan.optimal(pool, info["week"], slots, ranked)
    assert full.columns == full.pairs > 1000 and full.rounds == 1 and full.status == "Optimal"
    monkeypatch.setattr(plan, "COLUMNS_PER_SLOT", 3)
    pruned = plan.optimal(pool, info["week"], slots, ranked)
    assert pruned.rounds > 1
    assert abs(pruned.total - full.total) < 1e-6
    assert pruned.bound >= pruned.total - 1e-6 and full.bound >= full.total - 1e-6
    assert sum(len(v) for v in pruned.by_slot.values()) == pruned.filled == len(pruned.picks) > 100
    # Without the check, the first pruned model alone is worse.
    first = plan._Model(pool, info["week"], slots, ranked, [min(3, len(r)) for r, _t in ranked])
    x = np.asarray(first.solve(integer=True).getSolution().col_value) > 0.5
    assert first.score[x].sum() < full.total - 1
    # The plan keeps every hard rule: one place per volunteer and time, the weekly room.
    times = [(p.volunteer_id, p.day, p.slot) for p in pruned.picks]
    assert len(times) == len(set(times))
    hours: dict = defaultdict(float)
    for p in pruned.picks:
        hours[p.volunteer_id] += next(s.need.hours for s in slots if s.need.id == p.need_id)
    limit = {e.id: e.weekly_limit - pool.week_hours.get((e.id, info["week"]), 0.0) for e in pool.entries}
    assert all(h <= limit[v] + 1e-9 for v, h in hours.items())
