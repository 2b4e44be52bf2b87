"""Every bad bundle is refused with a Chinese message and leaves the
receiving database exactly as it was."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from datetime import date
from pathlib import Path

import orjson
import pytest

from db import clock
from desktop.services import residents
from desktop.services.idnumbers import make_ric
from desktop.services.residents import ResidentForm
from desktop.services.sync import exchange, keys as keymod
from desktop.services.sync.container import BundleWriter
from desktop.services.sync.sealed import BundleError
from tests.sync.conftest import make_side, trust_both
from tests.sync.helpers import forge, manifest, row_as_sent, snapshot

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def ready(pair):
    """A station whose first bundle the hub has applied, and a genuine second bundle."""
    station, hub = pair
    rid = residents.register(
        station.db,
        station.admin,
        ResidentForm(name="张三", doc_number=make_ric("340304", date(1950, 1, 2), 11), phone="13800000001"),
    )
    station.send(hub, full=True)
    residents.register(
        station.db,
        station.admin,
        ResidentForm(name="李四", doc_number=make_ric("340304", date(1951, 1, 2), 12), phone="13800000002"),
    )
    good = station.export_to(hub)
    return station, hub, rid, Path(good.path)


def _refused(hub, path, code=None):
    before = snapshot(hub.db)
    with pytest.raises(BundleError) as e:
        exchange.import_bundle(hub.db, hub.admin, path)
    assert e.value.user_message and any("\u4e00" <= ch <= "\u9fff" for ch in e.value.user_message)
    if code:
        assert e.value.code in ((code,) if isinstance(code, str) else code), e.value
    assert snapshot(hub.db) == before
    return e.value


def _manifest(station, hub, **over):
    return manifest(station, hub, **over)


def _forge(station, hub, tmp_path, parts: dict, name="forged.sdbundle", signer=None, **over):
    return forge(station, hub, tmp_path / name, parts, signer=signer, **over)


def _resident_row(station, rid, **over):
    """The station's resident as it travels, changed."""
    from db.models import Resident

    return row_as_sent(station, Resident, rid, **over)


def test_the_genuine_bundle_applies(ready):
    station, hub, _rid, good = ready
    res = exchange.import_bundle(hub.db, hub.admin, good)
    assert res.new >= 1


def test_truncated_file(ready, tmp_path):
    _station, hub, _rid, good = ready
    bad = tmp_path / "cut.sdbundle"
    bad.write_bytes(good.read_bytes()[: good.stat().st_size * 2 // 3])
    _refused(hub, bad, ("truncated", "damaged"))  # a small file is one chunk: cut, it fails to authenticate


@pytest.mark.parametrize("where", [0.02, 0.5, 0.98])
def test_one_flipped_byte(ready, tmp_path, where):
    _station, hub, _rid, good = ready
    data = bytearray(good.read_bytes())
    i = max(80, int(len(data) * where)) if where < 0.5 else int(len(data) * where)
    data[i] ^= 0x01
    bad = tmp_path / "flip.sdbundle"
    bad.write_bytes(bytes(data))
    _refused(hub, bad)


def test_signed_by_an_untrusted_station(ready, tmp_path):
    station, hub, _rid, _good = ready
    stranger = keymod.generate(station.code, "冒名站点")
    bad = _forge(station, hub, tmp_path, {}, signer=stranger)
    err = _refused(hub, bad, "bad_signature")
    assert "签名" in err.user_message


def test_signer_not_trusted_at_all(ready, tmp_path):
    station, hub, _rid, _good = ready
    other = keymod.generate("340304099", "未知站点")
    bad = tmp_path / "u.sdbundle"
    with BundleWriter(
        bad,
        signer=other,
        recipient=exchange.station_keys(hub.db).peer,
        manifest=_manifest(station, hub, source="340304099"),
    ) as w:
        w.write_rows("residents", [])
    _refused(hub, bad, "untrusted")


def test_a_bundle_for_another_station(ready, tmp_path):
    station, hub, _rid, _good = ready
    third = make_side(str(tmp_path / "c" / "c.sqlite3"), "340304002", "春晖社区", "community", tmp_path / "c")
    try:
        trust_both(station, third)
        r = station.export_to(third, full=True)
        _refused(hub, r.path, "wrong_station")
    finally:
        third.db.close()


def test_a_bundle_from_a_newer_schema(ready, tmp_path):
    station, hub, _rid, _good = ready
    bad = _forge(station, hub, tmp_path, {}, schema="9999_future")
    err = _refused(hub, bad, "schema_too_new")
    assert "升级" in err.user_message


def test_a_newer_bundle_format(ready, tmp_path):
    station, hub, _rid, _good = ready
    _refused(hub, _forge(station, hub, tmp_path, {}, format="station-desk-sync/2"), "too_new")


def test_malformed_json_row(ready, tmp_path):
    station, hub, _rid, _good = ready
    bad = _forge(station, hub, tmp_path, {"residents": b'{"id": "01a2", "name": \n'})
    _refused(hub, bad, "bad_row")


def test_a_bad_id_number(ready, tmp_path):
    station, hub, rid, _good = ready
    now = clock.next_stamp(0)  # a change made now: it would win
    row = _resident_row(station, rid, doc_number="340304195001021234", hlc=now, field_clocks={"doc_number": now})
    err = _refused(hub, _forge(station, hub, tmp_path, {"residents": [row]}), "bad_value")
    assert "证件号码" in err.user_message


def test_an_absurdly_long_name(ready, tmp_path):
    station, hub, rid, _good = ready
    row = _resident_row(station, rid, name="张" * 5000)
    err = _refused(hub, _forge(station, hub, tmp_path, {"residents": [row]}), "bad_value")
    assert "姓名" in err.user_message


def test_a_ten_megabyte_name_is_refused_before_parsing(ready, tmp_path):
    station, hub, rid, _good = ready
    row = _resident_row(station, rid)
    line = orjson.dumps(row).replace(
        b'"name":"\xe5\xbc\xa0\xe4\xb8\x89"', b'"name":"' + os.urandom(5_000_000).hex().encode() + b'"'
    )
    _refused(hub, _forge(station, hub, tmp_path, {"residents": line + b"\n"}), "line_too_long")


@pytest.mark.parametrize(
    "column,value",
    [
        ("hlc", "soon"),
        ("gender", True),
        ("birth_date", "2026-13-45"),
        ("id", "not-a-uuid"),
        ("deleted", None),
        ("colour", "red"),
        ("gender", 1 << 40),
    ],
)  # past a 32-bit column
def test_impossible_values(ready, tmp_path, column, value):
    station, hub, rid, _good = ready
    row = _resident_row(station, rid, **{column: value})
    _refused(hub, _forge(station, hub, tmp_path, {"residents": [row]}), "bad_clock" if column == "hlc" else "bad_value")


def test_an_unknown_foreign_key(ready, tmp_path):
    station, hub, rid, _good = ready
    import uuid

    row = _resident_row(station, rid, id=str(uuid.uuid4()), household_id=str(uuid.uuid4()))
    _refused(hub, _forge(station, hub, tmp_path, {"residents": [row]}), "bad_reference")


def test_a_missing_earlier_bundle_is_noticed(ready, tmp_path):
    station, hub, _rid, good = ready
    # the second bundle is lost on the way; the third cannot be applied alone
    residents.register(
        station.db,
        station.admin,
        ResidentForm(name="王五", doc_number=make_ric("340304", date(1952, 1, 2), 13), phone="13800000003"),
    )
    third = station.export_to(hub)
    err = _refused(hub, third.path, "gap")
    assert "完整导出" in err.user_message
    # applying them in order works
    exchange.import_bundle(hub.db, hub.admin, good)
    assert exchange.import_bundle(hub.db, hub.admin, third.path).new >= 1


def test_a_file_that_is_not_a_bundle(ready, tmp_path):
    _station, hub, _rid, _good = ready
    bad = tmp_path / "photo.sdbundle"
    bad.write_bytes(b"\xff\xd8\xff\xe0" + os.urandom(5000))
    _refused(hub, bad)
    _refused(hub, tmp_path / "nowhere.sdbundle", "not_found")


KILL_SCRIPT = r"""
import sys
sys.path.insert(0, {root!r})
from db.engine import open_database
from sqlalchemy import select
from db.models import Account
from desktop.services.context import Actor
from desktop.services.sync import exchange
db = open_database({db!r})
with db.session() as s:  # not accounts.authenticate: signing in writes an audit line
    a = s.scalar(select(Account).where(Account.username == "admin"))
    actor = Actor(a.id, a.username, a.display_name, a.role, "340304000")
def progress(done, total, label):
    if done:
        print("applying", done, flush=True)
exchange.import_bundle(db, actor, {path!r}, progress)
print("finished", flush=True)
"""


@pytest.mark.slow
def test_an_import_killed_half_way_changes_nothing(tmp_path):
    station = make_side(str(tmp_path / "st" / "s.sqlite3"), "340304001", "幸福里社区", "community", tmp_path / "st")
    hub = make_side(str(tmp_path / "hub" / "h.sqlite3"), "340304000", "东风街道", "street", tmp_path / "hub")
    try:
        trust_both(station, hub)
        _many_residents(station, 20_000)
        r = station.export_to(hub, full=True)
        before = snapshot(hub.db)
        hub_url = str(tmp_path / "hub" / "h.sqlite3")
    finally:
        hub.db.close()
    script = KILL_SCRIPT.format(root=str(ROOT), db=hub_url, path=r.path)
    env = dict(os.environ)
    killed = 0
    for _attempt in range(3):
        p = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, env=env)
        assert p.stdout is not None
        line = p.stdout.readline()  # the first batch is being applied
        while line and not line.startswith("applying"):
            line = p.stdout.readline()
        if line.startswith("applying") and int(line.split()[1]) < 20_000:
            os.kill(p.pid, signal.SIGKILL)
            killed += 1
        p.wait(timeout=120)
        from db.engine import open_database

        db = open_database(hub_url)  # quick_check runs on open
        try:
            assert snapshot(db) == before
        finally:
            db.close()
    assert killed >= 1
    station.db.close()


def _many_residents(side, n):
    from db.models import Resident
    from db.writes import bulk_insert

    rows = [
        {
            "name": f"居民{i}",
            "pinyin": "",
            "initials": "",
            "gender": 1,
            "doc_type": "ric",
            "doc_number": make_ric("340304", date(1960, 1, 1 + i % 28), i % 999),
            "residency": "registered",
            "moved_out": False,
            "deceased": False,
        }
        for i in range(n)
    ]
    with side.db.session() as s:
        bulk_insert(s, Resident, rows)


def test_a_bundle_from_last_years_version_applies_with_defaults(ready, tmp_path):
    """An older station's rows lack the columns added since; they take their defaults."""
    import uuid

    from db.models import Resident

    station, hub, rid, _good = ready
    row = _resident_row(
        station, rid, id=str(uuid.uuid4()), name="旧版本登记", doc_number=make_ric("340304", date(1960, 3, 4), 21)
    )
    del row["merged_into_id"]  # added by 0006_sync
    res = exchange.import_bundle(
        hub.db, hub.admin, _forge(station, hub, tmp_path, {"residents": [row]}, schema="0005_report_indexes")
    )
    assert res.new == 1
    with hub.db.session() as s:
        r = s.get(Resident, uuid.UUID(row["id"]))
        assert r.name == "旧版本登记" and r.merged_into_id is None


@pytest.mark.slow
def test_a_full_disk_during_import_changes_nothing(tmp_path, mount_tmpfs):
    """The hub's database on a small filesystem: the import runs out of space half-way."""
    disk = mount_tmpfs("3m", "hubdisk")
    station = make_side(str(tmp_path / "st" / "s.sqlite3"), "340304001", "幸福里社区", "community", tmp_path / "st")
    hub = make_side(str(disk / "h.sqlite3"), "340304000", "东风街道", "street", tmp_path / "hub")
    try:
        trust_both(station, hub)
        _many_residents(station, 20_000)
        r = station.export_to(hub, full=True)
        err = _refused(hub, r.path, "disk_full")
        assert "磁盘空间不足" in err.user_message
    finally:
        station.db.close()
        hub.db.close()
    from db.engine import open_database

    db = open_database(disk / "h.sqlite3")  # opens and passes its check
    db.close()


def test_no_backup_no_import(tmp_path):
    """The backup before an import fails (the stick it goes to is gone): nothing is imported."""
    from db.errors import StationDeskError
    from desktop.settings import Settings

    station = make_side(str(tmp_path / "st" / "s.sqlite3"), "340304001", "幸福里社区", "community", tmp_path / "st")
    hub = make_side(str(tmp_path / "hub" / "h.sqlite3"), "340304000", "东风街道", "street", tmp_path / "hub")
    try:
        trust_both(station, hub)
        residents.register(
            station.db, station.admin, ResidentForm(name="张三", doc_number=make_ric("340304", date(1950, 1, 2), 11))
        )
        r = station.export_to(hub, full=True)
        settings = Settings(tmp_path / "settings.json")
        settings.set("backup_dir", str(tmp_path / "pulled-out-stick"))
        before = snapshot(hub.db)
        with pytest.raises(StationDeskError) as e:
            exchange.import_bundle(hub.db, hub.admin, r.path, settings=settings)
        assert e.value.user_message
        assert snapshot(hub.db) == before
        assert exchange.import_bundle(hub.db, hub.admin, r.path).new >= 1  # with the stick back, it goes in
    finally:
        station.db.close()
        hub.db.close()


# ---------------------------------------------------------------- altered parts
# The import hashes each part as it reads it (once); an altered part is the
# reason given whatever else its content or the manifest would fail on first.


def _altered(station, hub, tmp_path, parts: dict, altered: dict, name="altered.sdbundle", **over):
    """A bundle signed by the station whose manifest describes ``parts``
    (table → rows) while the members of the tables in ``altered`` hold other
    bytes (table → JSON lines)."""
    import hashlib

    m = manifest(station, hub, **over)
    out = tmp_path / name
    honest = {t: b"".join(orjson.dumps(r) + b"\n" for r in rows) for t, rows in parts.items()}
    altered = dict(altered)
    for t, other in altered.items():  # the same length (the zip's sizes are checked on opening): pad with spaces
        width = max(len(honest[t]), len(other))
        honest[t], altered[t] = (_pad(d, width) for d in (honest[t], other))
    with BundleWriter(
        out, signer=exchange.station_keys(station.db), recipient=exchange.station_keys(hub.db).peer, manifest=m
    ) as w:
        for table, data in honest.items():
            w.write_bytes(table, [altered.get(table, data)])
            w._parts[-1].update(
                kind="jsonl", size=len(data), sha256=hashlib.sha256(data).hexdigest(), lines=data.count(b"\n")
            )
    return out


def _pad(data: bytes, width: int) -> bytes:
    """``data`` made ``width`` bytes long with spaces before its last newline (or at its end)."""
    if data.endswith(b"\n"):
        return data[:-1] + b" " * (width - len(data)) + b"\n"
    return data + b" " * (width - len(data))


def _one_line(row) -> bytes:
    return orjson.dumps(row) + b"\n"


@pytest.mark.parametrize("content", ["other_resident", "bad_row", "bad_reference", "bad_value", "too_few_lines"])
def test_an_altered_part_is_refused_as_altered(ready, tmp_path, content):
    station, hub, rid, _good = ready
    import uuid

    row = _resident_row(station, rid, name="张三丰")
    other = {
        "other_resident": _one_line(_resident_row(station, rid, name="李鬼")),  # would apply cleanly
        "bad_row": b'{"id": "01a2", "name": \n',
        "bad_reference": _one_line(_resident_row(station, rid, id=str(uuid.uuid4()), household_id=str(uuid.uuid4()))),
        "bad_value": _one_line(_resident_row(station, rid, name="张" * 500)),
        "too_few_lines": b"",
    }[content]
    err = _refused(hub, _altered(station, hub, tmp_path, {"residents": [row]}, {"residents": other}), "part_hash")
    assert "residents" in err.user_message
    # the altered line first in a part of several reads (1 MiB each): it is parsed before the hash is known
    rows = [row] * 6000  # (the first batch of 2000 lines is read before the end of the part)
    tail = b"".join(_one_line(r) for r in rows[1:])
    long = _altered(station, hub, tmp_path, {"residents": rows}, {"residents": other + tail}, name="long.sdbundle")
    assert len(tail) > 3 << 20
    _refused(hub, long, "part_hash")
    # the same bundle unaltered applies
    res = exchange.import_bundle(
        hub.db, hub.admin, forge(station, hub, tmp_path / "honest.sdbundle", {"residents": [row]})
    )
    assert res.updated == 1


def test_an_altered_later_part_is_refused_after_the_earlier_ones_were_read(ready, tmp_path):
    """Households come before residents: their rows are merged (in the
    transaction) before the residents' part turns out altered."""
    station, hub, rid, _good = ready
    from db.models import Household

    with station.db.session() as s:
        from sqlalchemy import select

        hid = s.scalar(select(Household.id).limit(1))
    parts = {"residents": [_resident_row(station, rid, name="张三丰")]}
    if hid is not None:
        parts = {"households": [row_as_sent(station, Household, hid, address_text="新地址")], **parts}
    bad = _altered(station, hub, tmp_path, parts, {"residents": b'{"id": 1}\n'})
    err = _refused(hub, bad, "part_hash")
    assert "residents" in err.user_message


def test_an_altered_part_outranks_the_manifest_checks(ready, tmp_path):
    """A gap in the sequence, or a bundle already imported: still the altered part is named."""
    station, hub, rid, _good = ready
    row = _resident_row(station, rid, name="张三丰")
    altered = {"residents": _one_line(_resident_row(station, rid, name="李鬼"))}
    gap = _altered(station, hub, tmp_path, {"residents": [row]}, altered, full=False, since_seq=10**6)
    _refused(hub, gap, "part_hash")
    _refused(
        hub,
        _altered(station, hub, tmp_path, {"residents": [row]}, altered, name="new.sdbundle", schema="9999_future"),
        "part_hash",
    )
    # a bundle already in, and an altered copy of it
    bundle_id = str(clock.new_id())
    honest = forge(station, hub, tmp_path / "honest.sdbundle", {"residents": [row]}, bundle_id=bundle_id)
    assert exchange.import_bundle(hub.db, hub.admin, honest).updated == 1
    assert exchange.import_bundle(hub.db, hub.admin, honest).already
    copy = _altered(station, hub, tmp_path, {"residents": [row]}, altered, name="copy.sdbundle", bundle_id=bundle_id)
    _refused(hub, copy, "part_hash")
