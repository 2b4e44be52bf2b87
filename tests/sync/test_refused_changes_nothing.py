"""A refused bundle changes nothing in the database — also when the import
first makes its automatic backup: no audit line, no change number, no clock
step.  What stays is the backup file itself (a copy of the unchanged
database, rotated with the others), documented in docs/sync.md."""

from __future__ import annotations

import uuid
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select

from db import clock
from db.models import AuditLog, Resident
from desktop.services import residents
from desktop.services.idnumbers import make_ric
from desktop.services.residents import ResidentForm
from desktop.services.sync import exchange
from desktop.services.sync.sealed import BundleError
from desktop.settings import Settings
from tests.sync.conftest import make_side, trust_both
from tests.sync.helpers import forge, full_state, row_as_sent


@pytest.fixture
def sides(tmp_path):
    """A station and a SQLite hub (the one that backs up before an import),
    the station's first bundle in."""
    station = make_side(str(tmp_path / "st" / "s.sqlite3"), "340304001", "幸福里社区", "community", tmp_path / "st")
    hub = make_side(str(tmp_path / "hub" / "h.sqlite3"), "340304000", "东风街道", "street", tmp_path / "hub")
    trust_both(station, hub)
    rid = residents.register(
        station.db, station.admin, ResidentForm(name="张三", doc_number=make_ric("340304", date(1950, 1, 2), 11))
    )
    station.send(hub, full=True)
    yield station, hub, rid
    station.db.close()
    hub.db.close()


def _tampered(station, hub, rid, tmp_path):
    residents.register(
        station.db, station.admin, ResidentForm(name="李四", doc_number=make_ric("340304", date(1951, 1, 2), 12))
    )
    good = Path(station.export_to(hub, name="good.sdbundle").path)
    data = bytearray(good.read_bytes())
    data[len(data) // 2] ^= 1
    bad = tmp_path / "tampered.sdbundle"
    bad.write_bytes(bytes(data))
    return bad


def _authority(station, hub, rid, tmp_path):
    row = row_as_sent(
        station,
        Resident,
        rid,
        id=str(uuid.uuid4()),
        origin=hub.code,
        doc_number=make_ric("340304", date(1960, 3, 4), 21),
    )
    return forge(station, hub, tmp_path / "authority.sdbundle", {"residents": [row]})


def _clock(station, hub, rid, tmp_path):
    poison = (1 << 63) - 2
    row = row_as_sent(station, Resident, rid, name="张三改", hlc=poison, field_clocks={"name": poison})
    return forge(station, hub, tmp_path / "clock.sdbundle", {"residents": [row]})


def _late_bad_value(station, hub, rid, tmp_path):
    """A good row first, then a bad one in a later table: refused half-way through applying."""
    now = clock.next_stamp(0)
    good = row_as_sent(station, Resident, rid, name="张三改", hlc=now, field_clocks={"name": now})
    tag = {
        "id": str(uuid.uuid4()),
        "origin": station.code,
        "hlc": now,
        "deleted": False,
        "field_clocks": {},
        "resident_id": str(rid),
        "tag": "高龄" * 20,
        "since": None,
        "note": None,
    }
    return forge(station, hub, tmp_path / "late.sdbundle", {"residents": [good], "resident_tags": [tag]})


KINDS = {
    "tampered": (_tampered, None),
    "authority": (_authority, "not_authorised"),
    "clock": (_clock, "bad_clock"),
    "late bad value": (_late_bad_value, "bad_value"),
}


@pytest.mark.parametrize("kind", list(KINDS))
def test_a_refused_bundle_changes_nothing_even_with_the_backup_first(sides, tmp_path, kind):
    station, hub, rid = sides
    make, code = KINDS[kind]
    bad = make(station, hub, rid, tmp_path)
    settings = Settings(tmp_path / "settings.json")
    before = full_state(hub.db)
    with pytest.raises(BundleError) as e:
        exchange.import_bundle(hub.db, hub.admin, bad, settings=settings)
    if code:
        assert e.value.code == code, e.value
    assert full_state(hub.db) == before  # every table, every row, the change sequence and the clock
    # a genuine bundle afterwards goes in, with the audit line of its own backup
    residents.register(
        station.db, station.admin, ResidentForm(name="王五", doc_number=make_ric("340304", date(1952, 1, 2), 13))
    )
    res = exchange.import_bundle(hub.db, hub.admin, station.export_to(hub, full=True).path, settings=settings)
    assert res.backup and res.new >= 1
    with hub.db.session() as s:
        lines = s.scalars(select(AuditLog.detail).where(AuditLog.action == "backup_create")).all()
        assert len(lines) == 1 and lines[0]["kind"] == "import" and lines[0]["file"] == Path(res.backup).name
        assert s.scalar(select(func.count()).select_from(AuditLog).where(AuditLog.action == "sync_import")) == 2
