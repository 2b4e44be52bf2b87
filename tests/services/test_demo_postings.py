"""The demo station has departments' requests (some declined) and postings
(lists up, a 低保 posting in its 公示期, one overdue)."""

from __future__ import annotations

import pytest

from desktop.services import demo, postings, workitems


@pytest.mark.slow
def test_demo_has_requests_and_postings_with_one_overdue(sqlite_db):
    demo.create_demo_station(sqlite_db, n_residents=300, seed=3)
    rows = workitems.requests(sqlite_db)
    assert len(rows) >= 8
    declined = [r for r in rows if r.outcome == "declined"]
    assert 2 <= len(declined) < len(rows)
    assert {r.item_kind for r in declined} == {"negative", "unlisted"}
    assert all(r.serial for r in declined)
    b = postings.board(sqlite_db)
    assert len(b.overdue) == 1 and b.overdue[0].category == "finance"
    assert len(b.up) == 5 and len(b.waiting) == 1
    assert any(p.period_days == 7 for p in b.up)
    assert {p.source for p in b.up} >= {"certificates", "work_items", "matters"}
