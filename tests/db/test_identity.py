"""The write path maintains sync identity on SQLite and PostgreSQL alike."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text, update, delete, insert

from db import clock
from db.models import AuditLog, Household, LocalState, Resident
from db.writes import APPLYING_REMOTE, NoStation, SyncRuleViolation, bulk_insert, changed_since


def _resident(**kw):
    base = dict(name="张三", pinyin="zhangsan", initials="zs", gender=1, doc_type="ric")
    base.update(kw)
    return Resident(**base)


def test_new_rows_get_identity(station):
    db, _ = station
    with db.session() as s:
        r = _resident()
        s.add(r)
        s.flush()
        assert r.id.version == 7
        assert r.origin == "340304001"
        assert r.hlc > 0 and r.seq > 0
        assert r.deleted is False
        assert r.field_clocks == {}


def test_updates_advance_clock_seq_and_field_clocks(station):
    db, _ = station
    with db.session() as s:
        r = _resident()
        s.add(r)
    first_hlc, first_seq = r.hlc, r.seq
    with db.session() as s:
        r = s.get(Resident, r.id)
        r.phone = "13800000000"
    assert r.hlc > first_hlc
    assert r.seq > first_seq
    assert r.field_clocks == {"phone": r.hlc}
    with db.session() as s:
        r = s.get(Resident, r.id)
        r.notes = "行动不便"
    assert set(r.field_clocks) == {"phone", "notes"}
    assert r.field_clocks["notes"] > r.field_clocks["phone"]


def test_unchanged_objects_are_not_restamped(station):
    db, _ = station
    with db.session() as s:
        r = _resident()
        s.add(r)
    with db.session() as s:
        r2 = s.get(Resident, r.id)
        r2.name = "张三"  # same value
    assert r2.seq == r.seq and r2.hlc == r.hlc


def test_clock_is_monotonic_across_sessions_when_wall_clock_steps_back(station, monkeypatch):
    db, _ = station
    stamps = []
    for wall in [2_000_000_000_000, 1_000_000_000_000, 1_000_000_000_000]:
        monkeypatch.setattr(clock, "wall_clock_ms", lambda w=wall: w)
        with db.session() as s:
            r = _resident()
            s.add(r)
        stamps.append(r.hlc)
    assert stamps[0] < stamps[1] < stamps[2]
    with db.session() as s:
        assert s.get(LocalState, 1).hlc == stamps[2]


def test_delete_is_refused_and_retire_tombstones(station):
    db, _ = station
    with db.session() as s:
        r = _resident()
        s.add(r)
    with pytest.raises(SyncRuleViolation):
        with db.session() as s:
            s.delete(s.get(Resident, r.id))
    with db.session() as s:
        r2 = s.get(Resident, r.id)
        r2.retire()
    assert r2.deleted is True
    assert "deleted" in r2.field_clocks
    assert r2.seq > r.seq
    with db.session() as s:  # the row is still there, as a tombstone
        assert s.scalar(select(Resident.deleted).where(Resident.id == r.id)) is True


def test_append_only_rows_cannot_change(station):
    db, _ = station
    with db.session() as s:
        line = s.scalars(select(AuditLog)).first()
        line.action = "tampered"
        with pytest.raises(SyncRuleViolation):
            s.flush()
        s.rollback()
    with pytest.raises(SyncRuleViolation):
        with db.session() as s:
            s.scalars(select(AuditLog)).first().deleted = True


def test_bulk_writes_that_bypass_the_write_path_are_refused(station):
    db, _ = station
    for stmt in (
        update(Resident).values(notes="x"),
        delete(Resident),
        insert(Resident).values(name="李四", pinyin="", initials=""),
    ):
        with pytest.raises(SyncRuleViolation):
            with db.session() as s:
                s.execute(stmt)


def test_bulk_insert_stamps_rows(station):
    db, _ = station
    with db.session() as s:
        before = s.get(LocalState, 1).seq
        ids = bulk_insert(s, Resident, [dict(name=f"王{i}", pinyin="", initials="") for i in range(50)])
    with db.session() as s:
        rows = s.scalars(select(Resident).where(Resident.id.in_(ids)).order_by(Resident.seq)).all()
        assert [r.seq for r in rows] == list(range(before + 1, before + 51))
        assert {r.origin for r in rows} == {"340304001"}
        assert all(r.hlc > 0 and r.field_clocks == {} for r in rows)


def test_change_sequence_finds_what_a_peer_has_not_seen(station):
    db, _ = station
    with db.session() as s:
        a, b = _resident(name="甲"), _resident(name="乙")
        s.add_all([a, b])
    with db.session() as s:
        watermark = s.get(LocalState, 1).seq
    with db.session() as s:
        s.get(Resident, a.id).phone = "13900000000"
        s.add(Household(number="H1"))
    with db.session() as s:
        changed = list(changed_since(s, Resident, watermark))
        assert [r.id for r in changed] == [a.id]
        assert len(list(changed_since(s, Household, watermark))) == 1


def test_rows_cannot_be_written_before_setup(db):
    with pytest.raises(NoStation):
        with db.session() as s:
            s.add(_resident())


def test_remote_rows_keep_their_identity_and_move_the_clock(station):
    db, _ = station
    future = clock.from_wall(clock.wall_clock_ms() + 3_600_000)  # a peer's clock an hour ahead
    with db.session() as s:
        s.info[APPLYING_REMOTE] = True
        r = _resident(origin="340304002", hlc=future, field_clocks={"phone": future})
        s.add(r)
    assert r.origin == "340304002" and r.hlc == future and r.seq > 0
    with db.session() as s:
        local = _resident(name="本站")
        s.add(local)
    assert local.hlc > future


def test_sequence_is_gapless_under_interleaved_writers(station):
    """Two sessions writing in turn still get distinct, increasing sequences."""
    db, _ = station
    seqs = []
    for i in range(20):
        with db.session() as s:
            s.add(_resident(name=f"赵{i}"))
            s.flush()
            seqs.append(s.execute(text("SELECT seq FROM local_state WHERE id = 1")).scalar())
    assert seqs == sorted(seqs) and len(set(seqs)) == 20
