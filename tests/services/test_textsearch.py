"""Searches typed into a box: LIKE wildcards are literal, NUL and a huge
query are handled with a clear message — on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from desktop.services import counter, demo, households, volunteers
from desktop.services.demo import counter as demo_counter, volunteers as demo_volunteers
from desktop.services.search import ResidentIndex
from desktop.services.textsearch import MAX_QUERY, QueryTooLong


@pytest.fixture
def filled(station):
    db, admin = station
    demo.fill_demo(db, n_residents=30, seed=4)
    demo_counter.fill_counter(db, n_matters=20, seed=4)
    demo_volunteers.fill_volunteers(db, n_volunteers=5, n_needs=1, seed=4)
    return db


def searches(db):
    return {
        "households": lambda t: households.search(db, t),
        "matters": lambda t: counter.search_matters(db, t),
        "volunteers": lambda t: volunteers.list_volunteers(db, t),
    }


def test_wildcards_and_backslash_match_only_themselves(filled):
    db = filled
    # the searches work: a real fragment of each finds its record
    h = households.search(db, "1")[0]
    assert h.id in [x.id for x in households.search(db, h.number[-3:])]
    m = counter.recent(db, 1)[0]
    assert counter.search_matters(db, m.receipt_no[-6:])[0].receipt_no == m.receipt_no
    v = volunteers.list_volunteers(db)[0]
    assert [x.id for x in volunteers.list_volunteers(db, v.name)] == [v.id]
    for name, fn in searches(db).items():
        for typed in ("%", "_", "%%", "_ _", "\\", "a\\", "\\%", "zz\x00zz", "%\x00_"):
            assert fn(typed) == [], (name, typed)
    # NUL alone is an empty search, as if nothing was typed
    assert households.search(db, "\x00") == [] and len(volunteers.list_volunteers(db, "\x00")) == 5


def test_a_huge_query_is_a_clear_message(filled):
    db = filled
    for name, fn in searches(db).items():
        assert isinstance(fn("字" * MAX_QUERY), list)
        with pytest.raises(QueryTooLong) as e:
            fn("字" * 100_000)
        assert "搜索内容太长" in e.value.user_message, name


def test_the_resident_search_takes_a_huge_query_quickly(filled):
    import time

    index = ResidentIndex(filled)
    t0 = time.perf_counter()
    assert index.search("1" * 100_000) == [] and index.search("字" * 100_000) == []
    assert time.perf_counter() - t0 < 2
