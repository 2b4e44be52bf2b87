"""The columnar decoding of new rows (desktop/services/sync/columns.py)
gives exactly what the careful per-value path gives, for every column type
of every travelling table; whatever it does not pass goes to the careful
path, so a bad value in a first import is refused with the same message."""

from __future__ import annotations

import dataclasses
import gc
from datetime import date

import pytest
from sqlalchemy import select
from sqlalchemy import JSON, BigInteger, Boolean, Date, DateTime, Float, Integer, String, Text, Uuid

from db import clock
from db.models import Resident
from desktop.services import residents
from desktop.services.idnumbers import make_ric
from desktop.services.residents import ResidentForm
from desktop.services.sync import changes, exchange
from desktop.services.sync.sealed import BundleError
from tests.sync.helpers import demo_rows_as_sent, forge, snapshot

LIMIT = clock.MAX_STAMP


@pytest.fixture(scope="module")
def demo_rows(tmp_path_factory):
    return demo_rows_as_sent(tmp_path_factory.mktemp("demo"), 500)


def _careful(model, sqlite, raws):
    rc = dataclasses.replace(changes.raw_codec(model, sqlite), fast=None)
    return [tuple(rc.encode(r)) for r in raws]


def _rows(decoded):
    """The decoded columns as rows (tuples in column order); each column holds every row."""
    columns, _raw = decoded
    return list(zip(*columns, strict=True))


@pytest.mark.parametrize("sqlite", [True, False])
def test_columns_and_careful_agree_on_every_table(demo_rows, sqlite):
    types: set[type] = set()
    rows = 0
    for model, raws in demo_rows.items():
        if not raws:
            continue
        cc = changes.column_codec(model, sqlite)
        assert cc is not None, model.__tablename__
        got = cc.decode(raws, LIMIT)
        assert got is not None, model.__tablename__  # what an export writes takes the columnar path
        assert _rows(got) == _careful(model, sqlite, raws), model.__tablename__
        types |= {type(model.__table__.c[n].type) for n in cc.columns}
        rows += len(raws)
    assert rows > 2000
    # every type a travelling column has was decoded both ways
    declared = {type(c.type) for m in changes.travelling() for c in m.__table__.columns if c.name != "seq"}
    assert declared == types
    assert {Uuid, DateTime, Date, Boolean, BigInteger, Integer, Float, JSON, String, Text} == types


FORMS = [  # (table, column, a value as it may arrive, what is stored in SQLite)
    ("residents", "household_id", "0f1e2d3c4b5a69788796a5b4c3d2e1f0", "0f1e2d3c4b5a69788796a5b4c3d2e1f0"),
    ("residents", "household_id", "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0", "0f1e2d3c4b5a69788796a5b4c3d2e1f0"),
    ("residents", "household_id", "0F1E2D3C-4B5A-6978-8796-A5B4C3D2E1F0", "0f1e2d3c4b5a69788796a5b4c3d2e1f0"),
    ("matters", "accepted_at", "2026-11-01 08:30:00.123456", "2026-11-01 08:30:00.123456"),
    ("matters", "accepted_at", "2026-11-01T08:30:00", "2026-11-01 08:30:00.000000"),  # a PostgreSQL station's
    ("matters", "accepted_at", "2026-11-01T16:30:00+08:00", "2026-11-01 08:30:00.000000"),
    ("residents", "birth_date", "2024-02-29", "2024-02-29"),
    ("volunteers", "weekly_hour_limit", 8, 8.0),
    ("volunteers", "weekly_hour_limit", 7.5, 7.5),
]


def _model(table):
    return changes.model_for(table)


@pytest.mark.parametrize("table,column,value,stored", FORMS)
def test_each_form_of_a_value_round_trips(demo_rows, table, column, value, stored):
    """A column in another form: the same stored value as the careful path gives."""
    model = _model(table)
    raws = [dict(r) for r in demo_rows[model][:50]]
    assert raws, table
    for r in raws:
        r[column] = value
    got = changes.column_codec(model, True).decode(raws, LIMIT)
    assert got is not None
    i = changes.raw_codec(model, True).columns.index(column)
    assert {row[i] for row in _rows(got)} == {stored}
    assert _rows(got) == _careful(model, True, raws)


BAD = [
    ("residents", "name", "张" * 65),
    ("residents", "name", 7),
    ("residents", "name", None),
    ("residents", "gender", "1"),
    ("residents", "gender", True),
    ("residents", "gender", 1 << 40),
    ("residents", "hlc", 1 << 63),
    ("residents", "hlc", -1),
    ("residents", "hlc", "soon"),
    ("residents", "hlc", 1.5),
    ("residents", "moved_out", 1),
    ("residents", "deleted", None),
    ("residents", "birth_date", "1950-02-30"),
    ("residents", "birth_date", "1950-2-3"),
    ("residents", "birth_date", 19500203),
    ("residents", "household_id", "nope"),
    ("residents", "household_id", "g" * 32),
    ("residents", "id", "not-a-uuid"),
    ("residents", "id", None),
    ("residents", "origin", ""),
    ("residents", "field_clocks", {"name": "soon"}),
    ("residents", "field_clocks", {"name": -5}),
    ("residents", "field_clocks", []),
    ("residents", "colour", "red"),
    ("matters", "accepted_at", "2026-11-01 25:00:00.000000"),
    ("matters", "accepted_at", "2026-02-30 08:00:00.000000"),
    ("matters", "accepted_at", "yesterday"),
    ("matters", "accepted_at", None),
    ("volunteers", "weekly_hour_limit", "8"),
    ("volunteers", "weekly_hour_limit", True),
]


@pytest.mark.parametrize("table,column,value", BAD)
def test_what_careful_refuses_the_columns_do_not_pass(demo_rows, table, column, value):
    model = _model(table)
    raws = [dict(r) for r in demo_rows[model][:20]]
    assert column in raws[0] or column == "colour"
    raws[7][column] = value
    assert changes.column_codec(model, True).decode(raws, LIMIT) is None
    rc = changes.raw_codec(model, True)
    mutable = changes.codec(model).mutable
    with pytest.raises(changes.BadRow) as e:
        values = rc.encode(raws[7])
        i = rc.columns.index
        changes.check_identity(values[i("origin")], values[i("hlc")], raws[7].get("field_clocks"), mutable, LIMIT)
    assert e.value.column == column


def test_a_missing_column_or_a_record_twice_takes_the_careful_path(demo_rows):
    raws = [dict(r) for r in demo_rows[Resident][:20]]
    cc = changes.column_codec(Resident, True)
    assert cc.decode(raws, LIMIT) is not None
    assert cc.decode([*raws, dict(raws[3])], LIMIT) is None  # the careful path keeps the later copy
    short = [dict(r) for r in raws]
    del short[5]["notes"]  # an older bundle: the default fills it in
    assert cc.decode(short, LIMIT) is None
    assert cc.decode([*raws[:3], ["not", "a", "row"]], LIMIT) is None


def test_a_clock_past_the_limit_is_not_passed(demo_rows):
    raws = [dict(r) for r in demo_rows[Resident][:20]]
    limit = max(r["hlc"] for r in raws)
    cc = changes.column_codec(Resident, True)
    assert cc.decode(raws, limit) is not None
    assert cc.decode(raws, limit - 1) is None


@pytest.mark.parametrize(
    "column,value,label",
    [("name", "张" * 5000, "姓名"), ("birth_date", "1950-02-30", "出生日期"), ("phone", 13800000001, "联系电话")],
)
def test_a_bad_value_in_a_first_import_is_refused_with_the_message(pair, tmp_path, column, value, label):
    """Into an empty hub (the columnar path), with the careful path's message."""
    station, hub = pair
    for i in range(3):
        residents.register(
            station.db,
            station.admin,
            ResidentForm(name=f"张{i}", doc_number=make_ric("340304", date(1950, 1, 2 + i), 11 + i)),
        )
    good = station.export_to(hub, full=True)
    from tests.sync.helpers import row_as_sent

    with station.db.session() as s:
        ids = list(s.scalars(select(Resident.id).order_by(Resident.seq)))
    rows = [row_as_sent(station, Resident, rid) for rid in ids]
    rows[1][column] = value
    bad = forge(station, hub, tmp_path / "bad.sdbundle", {"residents": rows})
    before = snapshot(hub.db)
    with pytest.raises(BundleError) as e:
        exchange.import_bundle(hub.db, hub.admin, bad)
    assert e.value.code == "bad_value"
    assert f"（{label}：" in e.value.user_message and "整个包没有导入" in e.value.user_message
    assert snapshot(hub.db) == before
    assert gc.isenabled()  # the import pauses the cyclic collector, and resumes it when refused too
    # the genuine bundle still applies, every record new
    assert exchange.import_bundle(hub.db, hub.admin, good.path).new >= 3
    assert gc.isenabled()
