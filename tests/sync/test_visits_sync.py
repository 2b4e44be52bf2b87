"""Visits and visit tiers travel like every station record: up to the hub,
station to station (only the sender's own), and nobody but the owner (or its
hub) may change them — on SQLite and PostgreSQL at the hub."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from db import clock
from db.models import Visit, VisitTier
from desktop.services import residents, visits
from desktop.services.residents import ResidentForm
from desktop.services.sync.sealed import BundleError
from desktop.services.sync import exchange
from desktop.services.visits import VisitForm
from tests.sync.conftest import star, trust_both
from tests.sync.helpers import forge, full_state, row_as_sent


@pytest.fixture
def three(db_url, tmp_path):
    hub, a, b = star(db_url, tmp_path)
    yield hub, a, b
    for side in (a, b, hub):
        side.db.close()


def _visit(side, vid):
    with side.db.session() as s:
        v = s.get(Visit, vid)
        return None if v is None else (v.origin, v.day, v.outcome, v.met, v.situation)


def test_a_visit_recorded_at_a_reaches_the_hub_and_b_and_only_a_may_change_it(three, tmp_path):
    hub, a, b = three
    rid = residents.register(a.db, a.admin, ResidentForm(name="独居甲", tags=["低保"], grid="第一网格"))
    visits.save_tiers(a.db, a.admin, {"低保": 7})  # A's own tier: weekly
    day = date.today() - timedelta(days=1)
    vid = visits.record_visit(a.db, a.admin, VisitForm(resident_id=rid, day=day, met="本人", situation="身体尚可"))
    a.send(hub, full=True)
    assert _visit(hub, vid) == (a.code, day, "met", "本人", "身体尚可")
    # the hub computes A's schedule with A's tiers (the hub's own stay the defaults)
    [row] = [r for r in visits.schedule(hub.db) if r.resident_id == rid]
    assert row.days == 7 and row.last_met == day
    assert visits.tiers(hub.db)["低保"] == 30
    # station to station: A's own visit (and its resident) reach B
    b.send(hub, full=True)
    trust_both(a, b)
    res = exchange.import_bundle(b.db, b.admin, a.export_to(b, full=True).path)
    assert res.counts["visits"]["new"] == 1 and _visit(b, vid) == _visit(hub, vid)
    # B may not change A's visit, nor claim a new one in A's name, nor set A's tiers
    now = clock.next_stamp(0)
    changed = row_as_sent(a, Visit, vid, situation="改过的", hlc=now, field_clocks={"situation": now})
    claimed = row_as_sent(a, Visit, vid, id=str(uuid.uuid4()))
    tier = row_as_sent(a, VisitTier, visits.tier_id(a.code, "低保"), days=91, hlc=now, field_clocks={"days": now})
    for n, parts in enumerate(({"visits": [changed]}, {"visits": [claimed]}, {"visit_tiers": [tier]})):
        before = full_state(hub.db)
        with pytest.raises(BundleError) as e:
            exchange.import_bundle(hub.db, hub.admin, forge(b, hub, tmp_path / f"b-{n}.sdbundle", parts))
        assert e.value.code == "not_authorised" and a.code in e.value.user_message
        assert full_state(hub.db) == before
    assert _visit(hub, vid)[4] == "身体尚可"
    # a later change at A (a found need linked) still reaches the hub
    with a.db.session() as s:
        s.get(Visit, vid).situation = "身体尚可，血压偏高"
    a.send(hub)
    assert _visit(hub, vid)[4] == "身体尚可，血压偏高"
    # B's own visits go up too: the hub holds both stations' visits
    visits.record_visit(
        b.db,
        b.admin,
        VisitForm(
            resident_id=residents.register(b.db, b.admin, ResidentForm(name="空巢乙", tags=["空巢"])),
            day=day,
            outcome="not_home",
        ),
    )
    assert b.send(hub).counts["visits"]["new"] == 1
    with hub.db.session() as s:
        assert sorted(s.scalars(select(Visit.origin))) == sorted([a.code, b.code])
    # the hub's report for one station counts that station's visits and households only
    only_a = visits.figures(hub.db, day, day, origins=[a.code])
    assert [v.id for v in only_a.visits] == [vid] and only_a.total.households_due == 1
    assert len(visits.figures(hub.db, day, day).visits) == 2
    assert visits.visited_residents(hub.db, day, day) == {rid}  # B's attempt found nobody at home
