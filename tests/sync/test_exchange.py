"""Sync between a station and its hub through bundle files: export, import,
merge, conflicts, duplicates, catalogues — on SQLite and PostgreSQL (the hub
runs on the engine under test)."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from db.errors import PermissionDenied
from db.models import Matter, MatterType, Resident, ResidentTag
from desktop.services import accounts, counter, residents
from desktop.services.idnumbers import make_ric
from desktop.services.residents import ResidentForm
from desktop.services.sync import exchange
from desktop.services.sync.sealed import BundleError
from tests.sync.conftest import local_matter_type, make_side, star, trust_both

from tests.sync.helpers import snapshot


def _register(side, name, n, **kw):
    return residents.register(
        side.db,
        side.admin,
        ResidentForm(
            name=name, doc_number=make_ric("340304", date(1950, 1, 2), n), phone=kw.pop("phone", "13800000001"), **kw
        ),
    )


def _edit(side, rid, **changes):
    v = residents.get(side.db, rid)
    with side.db.session() as s:
        r = s.get(Resident, rid)
        form = ResidentForm(
            name=r.name,
            doc_number="",
            phone=r.phone or "",
            notes=r.notes or "",
            grid=r.grid or "",
            tags=[t.tag for t in r.tags if not t.deleted],
        )
    from dataclasses import replace

    residents.update(side.db, side.admin, rid, replace(form, **changes))
    return v


def _resident(side, rid):
    with side.db.session() as s:
        r = s.get(Resident, rid)
        return {
            "name": r.name,
            "phone": r.phone,
            "notes": r.notes,
            "grid": r.grid,
            "deleted": r.deleted,
            "merged_into_id": r.merged_into_id,
            "hlc": r.hlc,
            "field_clocks": dict(r.field_clocks),
        }


def test_first_full_exchange_and_second_import_changes_nothing(pair):
    station, hub = pair
    rid = _register(station, "张三", 11)
    r = station.export_to(hub, full=True)
    assert r.full and r.counts["residents"] == 1 and r.rows >= 2
    first = exchange.import_bundle(hub.db, hub.admin, r.path)
    assert not first.already and first.new >= 2 and first.conflicts == 0
    assert _resident(hub, rid)["name"] == "张三"
    before = snapshot(hub.db)
    again = exchange.import_bundle(hub.db, hub.admin, r.path)
    assert again.already and (again.new, again.updated) == (0, 0)
    assert snapshot(hub.db) == before
    hist = exchange.history(hub.db)
    assert [h.direction for h in hist][:1] == ["in"] and hist[0].peer == station.code


def test_incremental_bundle_carries_only_the_changes(pair):
    station, hub = pair
    ids = [_register(station, f"居民{i}", 20 + i) for i in range(5)]
    station.send(hub, full=True)
    _edit(station, ids[0], phone="13911112222")
    r = station.export_to(hub)
    assert r.counts["residents"] == 1  # one changed resident, not five
    res = exchange.import_bundle(hub.db, hub.admin, r.path)
    assert res.updated == 1 and res.counts["residents"] == {"new": 0, "updated": 1, "unchanged": 0}
    assert _resident(hub, ids[0])["phone"] == "13911112222"
    # nothing changed since: the next bundle holds only its own audit line
    assert station.export_to(hub).counts["residents"] == 0


def test_both_sides_converge_and_a_field_changed_on_both_is_a_conflict(pair):
    station, hub = pair
    rid = _register(station, "李四", 12, notes="原备注")
    station.send(hub, full=True)
    hub.send(station)
    # different fields: both survive
    _edit(station, rid, grid="第一网格")
    _edit(hub, rid, notes="街道核实过")
    # the same field on both sides
    _edit(station, rid, phone="13900000002")
    _edit(hub, rid, phone="13700000003")
    up = station.send(hub)
    down = hub.send(station)
    assert up.conflicts + down.conflicts == 1
    a, b = _resident(station, rid), _resident(hub, rid)
    assert a == b  # converged, clocks included
    assert a["grid"] == "第一网格" and a["notes"] == "街道核实过"
    assert a["phone"] == "13700000003"  # the later change wins until a supervisor decides
    for side in (station, hub):  # the conflict travelled: both ends list it
        [c] = exchange.conflicts(side.db)
        assert (c.table, c.field, c.record_label) == ("residents", "phone", "李四")
        assert c.a.value == "13700000003" and c.a.station == hub.code
        assert c.b.value == "13900000002" and c.b.station == station.code
        assert c.current == "13700000003"
    # who: the hub holds both stations' audit lines
    [c] = exchange.conflicts(hub.db)
    assert c.a.by == hub.admin.username and c.b.by == station.admin.username  # as the audit log names them
    # the supervisor at the hub keeps the station's value; it travels down
    exchange.resolve_conflict(hub.db, hub.admin, c.id, "b")
    assert _resident(hub, rid)["phone"] == "13900000002"
    hub.send(station)
    assert _resident(station, rid)["phone"] == "13900000002"
    assert exchange.conflicts(station.db) == [] and exchange.conflicts(hub.db) == []
    [done] = exchange.conflicts(station.db, status=None)
    assert done.status == "kept_b" and done.resolved_by
    station.send(hub)
    assert _resident(station, rid) == _resident(hub, rid)


def test_a_change_made_after_seeing_the_other_is_not_a_conflict(pair):
    station, hub = pair
    rid = _register(station, "王五", 13)
    station.send(hub, full=True)
    _edit(station, rid, phone="13900000009")
    station.send(hub)
    _edit(hub, rid, phone="13700000009")  # the hub saw the station's change first
    _edit(station, rid, notes="另一个字段")
    assert station.send(hub).conflicts == 0
    assert hub.send(station).conflicts == 0
    assert _resident(station, rid) == _resident(hub, rid)
    assert _resident(station, rid)["phone"] == "13700000009"


def test_catalogue_flows_down_and_local_entries_stay_local(pair):
    station, hub = pair
    counter.ensure_catalogue(station.db)
    counter.ensure_catalogue(hub.db)
    local_id = local_matter_type(station, "本站自办事项")
    station.send(hub, full=True)
    with hub.db.session() as s:
        shared = s.scalar(select(MatterType).where(MatterType.local.is_(False)).order_by(MatterType.sort))
        shared.promised_days = 9
        shared_id = shared.id
        assert s.get(MatterType, local_id) is not None  # the hub knows it (matters point at it)
    with station.db.session() as s:
        # the same entry at the station: one row, not two
        assert s.scalar(select(func.count()).select_from(MatterType).where(MatterType.id == shared_id)) == 1
        s.get(MatterType, local_id).name = "本站自办事项（改）"
    station.send(hub)
    hub.send(station)
    with station.db.session() as s:
        assert s.get(MatterType, shared_id).promised_days == 9  # the hub's update arrived
        assert s.get(MatterType, local_id).name == "本站自办事项（改）"
        n_types = s.scalar(select(func.count()).select_from(MatterType))
    with hub.db.session() as s:
        assert s.scalar(select(func.count()).select_from(MatterType)) == n_types
    # a station's own change to a hub entry never overwrites the hub's catalogue
    with station.db.session() as s:
        s.get(MatterType, shared_id).promised_days = 2
    station.send(hub)
    with hub.db.session() as s:
        assert s.get(MatterType, shared_id).promised_days == 9


def test_duplicate_residents_across_stations_are_flagged_and_merged(db_url, tmp_path):
    hub, a, b = star(db_url, tmp_path)
    try:
        ra = _register(a, "赵六", 31, phone="13800000031")
        rb = _register(b, "赵六", 31, phone="")  # the same person, registered again at B
        counter.ensure_catalogue(b.db)
        mt = counter.catalogue(b.db)[0]
        matter = counter.accept(b.db, b.admin, rb, mt.id, received=[m.name for m in mt.materials])
        assert a.send(hub, full=True).duplicates == 0
        res = b.send(hub, full=True)
        assert res.duplicates == 1
        [d] = exchange.duplicates(hub.db)
        assert {d.a.id, d.b.id} == {ra, rb}
        assert d.a.masked_doc.count("*") >= 8  # never the whole number on screen
        exchange.merge_duplicate(hub.db, hub.admin, d.id, ra)
        assert exchange.duplicates(hub.db) == []
        gone = _resident(hub, rb)
        assert gone["deleted"] and gone["merged_into_id"] == ra
        with hub.db.session() as s:
            assert s.scalar(select(Matter.resident_id).where(Matter.origin == b.code)) == ra
        # the merge travels: B gets the tombstone and the survivor its matters now point at
        hub.send(b)
        gone_b = _resident(b, rb)
        assert gone_b["deleted"] and gone_b["merged_into_id"] == ra
        assert _resident(b, ra)["name"] == "赵六"
        with b.db.session() as s:
            assert s.scalar(select(Matter.resident_id)) == ra
        assert matter.receipt_no
        # importing B's own copy again flags nothing new
        assert b.send(hub).duplicates == 0
    finally:
        for side in (a, b, hub):
            side.db.close()


def test_tags_added_on_both_sides_merge_instead_of_colliding(pair):
    station, hub = pair
    rid = _register(station, "孙七", 14)
    station.send(hub, full=True)
    _edit(station, rid, tags=["高龄"])
    _edit(hub, rid, tags=["高龄"])
    station.send(hub)
    hub.send(station)
    for side in (station, hub):
        with side.db.session() as s:
            assert s.scalar(select(func.count()).select_from(ResidentTag).where(ResidentTag.resident_id == rid)) == 1


def test_roles_and_trust_are_enforced(pair, tmp_path):
    station, hub = pair
    desk = accounts.create_account(
        station.db, station.admin, username="qiantai", display_name="前台", role="desk", password="desk12345"
    )
    desk_actor = accounts.authenticate(station.db, "qiantai", "desk12345")
    with pytest.raises(PermissionDenied):
        exchange.export_bundle(station.db, desk_actor, hub.code, tmp_path / "x.sdbundle")
    with pytest.raises(PermissionDenied):
        exchange.trust_peer(station.db, desk_actor, exchange.station_keys(hub.db).peer)
    r = station.export_to(hub)
    exchange.revoke_peer(hub.db, hub.admin, station.code)
    with pytest.raises(BundleError) as e:
        exchange.import_bundle(hub.db, hub.admin, r.path)
    assert e.value.code == "revoked"
    assert desk is not None


def test_peer_file_round_trip_shows_the_fingerprint(pair, tmp_path):
    station, hub = pair
    out = tmp_path / "station.peer.json"
    fp = exchange.export_public_key(station.db, station.admin, out)
    peer = exchange.read_peer_file(out)
    assert peer.code == station.code and peer.fingerprint == fp
    assert len(fp.split()) == 6
    [p] = exchange.peers(hub.db)
    assert p.fingerprint == fp and p.role == "station"


def test_backup_is_made_before_an_import(pair, tmp_path):
    from desktop.settings import Settings

    station, hub = pair
    if not hub.db.is_sqlite:
        hub, station = station, hub  # back up the SQLite side
    settings = Settings(tmp_path / "settings.json")
    r = station.export_to(hub, full=True)
    res = exchange.import_bundle(hub.db, hub.admin, r.path, settings=settings)
    assert res.backup and "import" in res.backup
    from db.backup import verify

    counts, schema = verify(res.backup)  # raises when the copy is damaged
    assert counts["residents"] == 0 and schema


def test_rows_from_the_peer_are_not_echoed_back_but_a_winning_local_value_is(pair):
    station, hub = pair
    ids = [_register(station, f"居民{i}", 40 + i) for i in range(20)]
    station.send(hub, full=True)
    back = hub.export_to(station)
    assert back.counts["residents"] == 0  # the station's twenty residents do not come back
    exchange.import_bundle(station.db, station.admin, back.path)
    # a conflict the hub wins: the winning value must travel back, and converge
    _edit(station, ids[1], phone="13900000001")
    _edit(hub, ids[1], phone="13700000001")
    res = station.send(hub)
    assert res.conflicts == 1
    down = hub.export_to(station)
    assert down.counts["residents"] == 1
    exchange.import_bundle(station.db, station.admin, down.path)
    assert _resident(station, ids[1]) == _resident(hub, ids[1])
    [p] = exchange.peers(hub.db)
    assert p.pending <= 2  # the export's and the import's own audit lines at most


def test_a_first_import_rebuilds_the_indexes_it_set_aside(pair, monkeypatch):
    from sqlalchemy import inspect

    from desktop.services.sync import changes

    monkeypatch.setattr(changes, "REBUILD_INDEXES_FROM", 1)  # every table, however small
    station, hub = pair
    rid = _register(station, "周八", 15, tags=["高龄"])
    counter.ensure_catalogue(station.db)
    mt = counter.catalogue(station.db)[0]
    counter.accept(station.db, station.admin, rid, mt.id, received=[m.name for m in mt.materials])
    res = station.send(hub, full=True)
    assert res.counts["matters"]["new"] == 1 and res.counts["residents"]["new"] == 1
    insp = inspect(hub.db.engine)
    for table in ("matters", "residents", "resident_tags"):
        have = {i["name"] for i in insp.get_indexes(table)}
        want = {i.name for i in changes.model_for(table).__table__.indexes}
        assert want <= have, (table, want - have)


def test_a_station_rebuilt_from_the_hub_gets_its_own_records_and_local_entries(db_url, tmp_path):
    """A new PC for a station: a fresh database with the station's code, filled by a full export from the hub."""
    hub, old, other = star(db_url, tmp_path)
    try:
        local_id = local_matter_type(old, "本站自办事项")
        rid = _register(old, "吴九", 16)
        counter.accept(old.db, old.admin, rid, local_id, received=[])
        local_matter_type(other, "春晖自办事项")
        old.send(hub, full=True)
        other.send(hub, full=True)
        new = make_side(str(tmp_path / "new" / "s.sqlite3"), "340304001", "幸福里社区", "community", tmp_path / "new")
        try:
            trust_both(new, hub)  # the new PC's keys replace the old ones at the hub
            res = hub.send(new, full=True)
            assert res.counts["matters"]["new"] == 1 and res.counts["residents"]["new"] == 1
            with new.db.session() as s:
                names = set(s.scalars(select(MatterType.name).where(MatterType.local.is_(True))))
            assert names == {"本站自办事项"}  # its own, not 春晖's
        finally:
            new.db.close()
    finally:
        for side in (old, other, hub):
            side.db.close()
