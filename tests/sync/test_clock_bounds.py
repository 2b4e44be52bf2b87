"""Clocks and change numbers from another station are checked before they
are stored: true integers, within 63 bits, and no further ahead of this PC's
clock than ``db.clock.MAX_SKEW_MS``.  A stamp of 2**63-2 once made the hub's
clock a float and every later bundle was refused for good."""

from __future__ import annotations

import uuid
from datetime import date

import pytest

from db import clock
from db.models import LocalState, Resident
from db.writes import SyncRuleViolation, advance
from desktop.services import residents
from desktop.services.idnumbers import make_ric
from desktop.services.residents import ResidentForm
from desktop.services.sync import exchange
from desktop.services.sync.sealed import BundleError
from tests.sync.helpers import forge, full_state, row_as_sent

DAY_MS = 24 * 3600 * 1000


def _future(days: float) -> int:
    return clock.from_wall(clock.wall_clock_ms() + int(days * DAY_MS))


BAD_CLOCKS = {
    "2**63-2": lambda: (1 << 63) - 2,
    "2**63": lambda: 1 << 63,
    "2**64": lambda: 1 << 64,
    "float": lambda: float(clock.next_stamp(0)),
    "negative": lambda: -1,
    "bool": lambda: True,
    "text": lambda: str(clock.next_stamp(0)),
    "two days ahead": lambda: _future(2),
    "year 3000": lambda: clock.from_wall(32503680000000),
}


@pytest.fixture
def ready(pair):
    station, hub = pair
    rid = residents.register(
        station.db, station.admin, ResidentForm(name="张三", doc_number=make_ric("340304", date(1950, 1, 2), 11))
    )
    station.send(hub, full=True)
    return station, hub, rid


def _refused(hub, path, code):
    before = full_state(hub.db)
    with pytest.raises(BundleError) as e:
        exchange.import_bundle(hub.db, hub.admin, path)
    assert e.value.code == code, e.value
    assert "时间" in e.value.user_message or code != "bad_clock"
    assert full_state(hub.db) == before
    return e.value


def _still_works(station, hub):
    """A genuine bundle afterwards goes in, and the hub's clock is sane."""
    residents.register(
        station.db, station.admin, ResidentForm(name="李四", doc_number=make_ric("340304", date(1951, 1, 2), 12))
    )
    assert station.send(hub).new >= 1
    with hub.db.session() as s:
        hlc = s.get(LocalState, 1).hlc
    assert type(hlc) is int and hlc <= clock.ceiling()


# The quick loop tries one of each kind (past the integer range, the wrong
# type, ahead of the wall clock); the full run tries them all.
QUICK_CLOCKS = ("2**63", "text", "two days ahead")


@pytest.mark.parametrize(
    "value",
    [pytest.param(k, id=k, marks=() if k in QUICK_CLOCKS else pytest.mark.slow) for k in BAD_CLOCKS],
)
def test_a_row_clock_out_of_bounds_is_refused(ready, tmp_path, value):
    station, hub, rid = ready
    v = BAD_CLOCKS[value]()
    now = clock.next_stamp(0)
    for over in ({"hlc": v, "field_clocks": {"name": now}}, {"hlc": now, "field_clocks": {"name": v}}):
        row = row_as_sent(station, Resident, rid, name="张三改", **over)
        err = _refused(hub, forge(station, hub, tmp_path / "c.sdbundle", {"residents": [row]}), "bad_clock")
        assert "居民" in err.user_message
    _still_works(station, hub)


def test_a_new_row_and_a_conflict_clock_out_of_bounds_are_refused(ready, tmp_path):
    station, hub, rid = ready
    now = clock.next_stamp(0)
    for value in ("2**63-2", "2**64", "two days ahead"):
        v = BAD_CLOCKS[value]()
        new = row_as_sent(
            station, Resident, rid, id=str(uuid.uuid4()), hlc=v, doc_number=make_ric("340304", date(1960, 3, 4), 21)
        )
        _refused(hub, forge(station, hub, tmp_path / "n.sdbundle", {"residents": [new]}), "bad_clock")
        conflict = {
            "id": str(uuid.uuid4()),
            "origin": station.code,
            "hlc": now,
            "deleted": False,
            "field_clocks": {},
            "table_name": "residents",
            "row_id": str(rid),
            "field": "name",
            "value_a": '"张三"',
            "clock_a": v,
            "station_a": station.code,
            "value_b": '"张"',
            "clock_b": now,
            "station_b": hub.code,
            "found_at": "2026-12-01T00:00:00",
            "found_by": station.code,
            "status": "open",
            "resolved_at": None,
            "resolved_by": None,
        }
        _refused(hub, forge(station, hub, tmp_path / "k.sdbundle", {"sync_conflicts": [conflict]}), "bad_clock")
    _still_works(station, hub)


@pytest.mark.slow
def test_manifest_clocks_and_change_numbers_out_of_bounds_are_refused(ready, tmp_path):
    station, hub, _rid = ready
    for key in ("clock_hi", "ack_hlc"):
        for value in ("2**63-2", "2**64", "float", "negative", "text", "two days ahead"):
            err = _refused(
                hub, forge(station, hub, tmp_path / "m.sdbundle", {}, **{key: BAD_CLOCKS[value]()}), "bad_clock"
            )
            assert "清单" in err.user_message
    for key in ("since_seq", "upto_seq", "ack_seq"):
        for v in (1 << 63, 1 << 64, 12.0, -1, True, "12"):
            _refused(hub, forge(station, hub, tmp_path / "s.sdbundle", {}, **{key: v}), "bad_manifest")
    _still_works(station, hub)


def test_a_clock_a_little_ahead_is_fine(ready, tmp_path):
    """PC clocks drift: an hour ahead is accepted, and the hub's clock moves past it."""
    station, hub, rid = ready
    ahead = _future(1 / 24)
    row = row_as_sent(station, Resident, rid, name="张三改", hlc=ahead, field_clocks={"name": ahead})
    res = exchange.import_bundle(
        hub.db, hub.admin, forge(station, hub, tmp_path / "a.sdbundle", {"residents": [row]}, clock_hi=ahead)
    )
    assert res.updated == 1
    with hub.db.session() as s:
        assert s.get(LocalState, 1).hlc > ahead
    _still_works(station, hub)


def test_the_write_path_refuses_a_poisoned_remote_clock(db):
    """The last line: no caller can move the clock past the bound."""
    from desktop.services import accounts

    accounts.setup_station(
        db, code="340304000", name="东风街道", level="street", admin_username="admin", admin_password="admin123"
    )
    for bad in ((1 << 63) - 2, _future(2)):
        with db.session() as s, pytest.raises(SyncRuleViolation):
            advance(s, 1, bad)
    with db.session() as s:
        assert type(s.get(LocalState, 1).hlc) is int
