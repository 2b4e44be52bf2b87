"""The import's compiled fast check agrees with the careful one on every
table, and refuses what the careful one refuses."""

from __future__ import annotations

import dataclasses

import pytest

from desktop.services.sync import changes
from tests.sync.helpers import demo_rows_as_sent


@pytest.fixture(scope="module")
def demo_rows(tmp_path_factory):
    return demo_rows_as_sent(tmp_path_factory.mktemp("demo"), 300)


@pytest.mark.parametrize("sqlite", [True, False])
def test_fast_and_careful_agree(demo_rows, sqlite):
    seen = 0
    for model, rows in demo_rows.items():
        rc = changes.raw_codec(model, sqlite)
        careful = dataclasses.replace(rc, fast=None)
        assert rc.fast is not None, model.__tablename__
        for raw in rows:
            assert rc.fast(raw) == careful.encode(raw), model.__tablename__
            seen += 1
    assert seen > 1000


@pytest.mark.parametrize(
    "column,value",
    [
        ("name", "张" * 65),
        ("name", 7),
        ("name", None),
        ("gender", "1"),
        ("gender", True),
        ("hlc", 1 << 63),
        ("moved_out", 1),
        ("birth_date", "1950-02-30"),
        ("household_id", "nope"),
    ],
)
def test_fast_refuses_what_careful_refuses(demo_rows, column, value):
    from db.models import Resident

    raw = dict(demo_rows[Resident][0], **{column: value})
    rc = changes.raw_codec(Resident, True)
    with pytest.raises(Exception):  # noqa: B017 - the compiled check only has to fail; the careful one names why
        rc.fast(raw)
    with pytest.raises(changes.BadRow) as e:
        rc.encode(raw)
    assert e.value.column == column
