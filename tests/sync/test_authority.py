"""Who may write which records: a station only its own; other stations'
records and the hub's arrive only from the hub; shared catalogue entries
only flow down.  A bundle that breaks this is refused whole, with the hub's
database exactly as it was — on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from datetime import date

import pytest
from sqlalchemy import select

from db import clock
from db.models import MatterType, Resident, ResidentTag, Station, SyncConflict
from desktop.services import counter, residents
from desktop.services.idnumbers import make_ric
from desktop.services.residents import ResidentForm
from desktop.services.sync import exchange
from desktop.services.sync.sealed import BundleError
from tests.sync.conftest import star, trust_both
from tests.sync.helpers import forge, full_state, row_as_sent


@pytest.fixture
def three(db_url, tmp_path):
    """(hub, 幸福里 A, 春晖 B): each station's first bundle is in at the hub,
    and A's resident 张三 is there too."""
    hub, a, b = star(db_url, tmp_path)
    rid = residents.register(
        a.db,
        a.admin,
        ResidentForm(name="张三", doc_number=make_ric("340304", date(1950, 1, 2), 11), phone="13800000001"),
    )
    a.send(hub, full=True)
    b.send(hub, full=True)
    hub.send(b)  # B holds what the hub sends it (A's resident is not among it)
    yield hub, a, b, rid
    for side in (a, b, hub):
        side.db.close()


def _name(side, rid):
    with side.db.session() as s:
        r = s.get(Resident, rid)
        return r.name if r else None


def _refused(side, path, code="not_authorised"):
    before = full_state(side.db)
    with pytest.raises(BundleError) as e:
        exchange.import_bundle(side.db, side.admin, path)
    assert e.value.code == code, e.value
    assert full_state(side.db) == before  # every row of every table, the change sequence and clock
    return e.value


def test_a_station_cannot_rename_another_stations_resident(three, tmp_path):
    hub, a, b, rid = three
    now = clock.next_stamp(0)
    # B signs a bundle carrying A's resident, renamed with a later clock
    row = row_as_sent(a, Resident, rid, name="李鬼", hlc=now, field_clocks={"name": now})
    bad = forge(b, hub, tmp_path / "b-renames-a.sdbundle", {"residents": [row]})
    err = _refused(hub, bad)
    assert b.code in err.user_message and a.code in err.user_message and "“居民”" in err.user_message
    assert _name(hub, rid) == "张三"
    hub.send(a)
    assert _name(a, rid) == "张三"  # nothing passed on to A either
    # B's own genuine bundle still goes in
    residents.register(b.db, b.admin, ResidentForm(name="王五", doc_number=make_ric("340304", date(1952, 1, 2), 13)))
    assert b.send(hub).new >= 1


def test_a_station_cannot_claim_another_origin_for_a_new_record(three, tmp_path):
    hub, a, b, rid = three
    row = row_as_sent(
        a,
        Resident,
        rid,
        id=str(uuid.uuid4()),
        name="冒名",
        origin=hub.code,
        doc_number=make_ric("340304", date(1960, 3, 4), 21),
    )
    err = _refused(hub, forge(b, hub, tmp_path / "claims-hub.sdbundle", {"residents": [row]}))
    assert "属于本站" in err.user_message  # the hub's own records come only from the hub
    row["origin"] = a.code
    _refused(hub, forge(b, hub, tmp_path / "claims-a.sdbundle", {"residents": [row]}))


def test_a_station_cannot_tag_or_conflict_another_stations_resident(three, tmp_path):
    hub, a, b, rid = three
    tag = {
        "id": str(clock.shared_id("resident_tags", f"{rid}:低保")),
        "origin": b.code,
        "hlc": clock.next_stamp(0),
        "deleted": False,
        "field_clocks": {},
        "resident_id": str(rid),
        "tag": "低保",
        "since": None,
        "note": None,
    }
    err = _refused(hub, forge(b, hub, tmp_path / "tag.sdbundle", {"resident_tags": [tag]}))
    assert "“居民标签”" in err.user_message
    now = clock.next_stamp(0)
    conflict = {
        "id": str(uuid.uuid4()),
        "origin": b.code,
        "hlc": now,
        "deleted": False,
        "field_clocks": {},
        "table_name": "residents",
        "row_id": str(rid),
        "field": "name",
        "value_a": '"张三"',
        "clock_a": now,
        "station_a": a.code,
        "value_b": '"李鬼"',
        "clock_b": now - 1,
        "station_b": b.code,
        "found_at": "2026-12-01T00:00:00",
        "found_by": b.code,
        "status": "open",
        "resolved_at": None,
        "resolved_by": None,
    }
    # (a supervisor's 保留 on it would write 李鬼 into A's record)
    _refused(hub, forge(b, hub, tmp_path / "conflict.sdbundle", {"sync_conflicts": [conflict]}))
    conflict.update(row_id=str(uuid.uuid4()))  # about a record that is nowhere
    _refused(hub, forge(b, hub, tmp_path / "conflict2.sdbundle", {"sync_conflicts": [conflict]}))


def test_an_unchanged_copy_of_another_stations_record_passes(three, tmp_path):
    """An older version's bundle carried everything it held: a copy that
    changes nothing is not an edit."""
    hub, a, b, rid = three
    row = row_as_sent(hub, Resident, rid)
    res = exchange.import_bundle(hub.db, hub.admin, forge(b, hub, tmp_path / "copy.sdbundle", {"residents": [row]}))
    assert res.counts["residents"] == {"new": 0, "updated": 0, "unchanged": 1}


def test_station_to_station_bundles_carry_and_change_only_the_senders_own(three, tmp_path):
    hub, a, b, rid = three
    trust_both(a, b)
    counter.ensure_catalogue(a.db)
    counter.ensure_catalogue(b.db)
    with b.db.session() as s:
        shared = s.scalar(select(MatterType).where(MatterType.local.is_(False)).order_by(MatterType.sort))
        shared_id, days = shared.id, shared.promised_days
    with a.db.session() as s:
        s.get(MatterType, shared_id).promised_days = days + 5  # A edits its copy of a shared entry
    hub.send(a)
    r = a.export_to(b, full=True)
    assert r.counts["residents"] == 1  # A's own
    res = exchange.import_bundle(b.db, b.admin, r.path)
    assert res.new >= 1 and _name(b, rid) == "张三"
    with b.db.session() as s:
        assert s.get(MatterType, shared_id).promised_days == days  # B's copy stays
    # A's bundle to B carrying the hub's own records is refused
    now = clock.next_stamp(0)
    row = row_as_sent(
        b, Station, clock.shared_id("stations", hub.code), name="假街道", hlc=now, field_clocks={"name": now}
    )
    _refused(b, forge(a, b, tmp_path / "a-to-b.sdbundle", {"stations": [row]}))


def test_legitimate_flows_keep_working(three, tmp_path):
    """The hub edits A's resident and tags it (they reach A); B edits A's
    resident it got after a merge (the edit stays at B, B's bundles still go
    in); A resolves a conflict the hub found about its record."""
    hub, a, b, rid = three
    residents.update(
        hub.db, hub.admin, rid, ResidentForm(name="张三", doc_number="", phone="13700000000", tags=["高龄"])
    )
    hub.send(a)
    with a.db.session() as s:
        assert s.get(Resident, rid).phone == "13700000000"
        assert [t.tag for t in s.scalars(select(ResidentTag).where(ResidentTag.resident_id == rid))] == ["高龄"]
    # a conflict found at the hub about A's record, resolved at A
    residents.update(a.db, a.admin, rid, ResidentForm(name="张三", doc_number="", phone="13911111111", tags=["高龄"]))
    residents.update(
        hub.db, hub.admin, rid, ResidentForm(name="张三", doc_number="", phone="13922222222", tags=["高龄"])
    )
    assert a.send(hub).conflicts == 1
    hub.send(a)
    [c] = exchange.conflicts(a.db)
    exchange.resolve_conflict(a.db, a.admin, c.id, "b")
    a.send(hub)
    with hub.db.session() as s:
        assert s.get(SyncConflict, c.id).status == "kept_b"
    # A's resident reaches B by a merge at the hub; B edits it; B's bundles still go in
    rb = residents.register(
        b.db, b.admin, ResidentForm(name="张三", doc_number=make_ric("340304", date(1950, 1, 2), 11))
    )
    counter.ensure_catalogue(b.db)
    mt = counter.catalogue(b.db)[0]
    counter.accept(b.db, b.admin, rb, mt.id, received=[m.name for m in mt.materials])  # moves to the survivor
    assert b.send(hub).duplicates == 1
    [d] = exchange.duplicates(hub.db)
    exchange.merge_duplicate(hub.db, hub.admin, d.id, rid)
    hub.send(b)
    assert _name(b, rid) == "张三"
    residents.update(b.db, b.admin, rid, ResidentForm(name="张三丰", doc_number="", tags=[]))
    b.send(hub)  # goes in (the edit of A's record is not B's to send)
    assert _name(hub, rid) == "张三"
    with hub.db.session() as s:
        assert s.get(Resident, rb).merged_into_id == rid
