"""The demo's 微心愿 and 在职党员: wishes at every stage, members reported in
with hours from the demo's own service records, a feedback letter issuable."""

from __future__ import annotations

import pytest

from collections import Counter
from datetime import date

from sqlalchemy import select

from db.models import Account
from desktop.services import demo, wishes
from desktop.services.context import Actor


@pytest.mark.slow
def test_demo_has_wishes_at_every_stage_and_members_with_hours(sqlite_db):
    demo.create_demo_station(sqlite_db, n_residents=3200, seed=7)
    rows = wishes.list_wishes(sqlite_db)
    stages = Counter(w.status for w in rows)
    assert len(rows) == 20 and set(stages) == {"open", "claimed", "fulfilled"}
    assert {w.sponsor_kind for w in rows if w.sponsor_kind} >= {"unit", "member"}
    board = wishes.board(sqlite_db)
    assert len(board.lines) == stages["open"] and all(x.who.endswith("某") for x in board.lines)
    members = wishes.members(sqlite_db, date.today().year)
    assert len(members) == 15 and all(m.hours > 0 and m.has_resident for m in members)
    with sqlite_db.session() as s:
        acct = s.scalar(select(Account).where(Account.username == demo.DEMO_ADMIN))
        admin = Actor(acct.id, acct.username, acct.display_name, acct.role, demo.DEMO_CODE)
    issued = wishes.feedback_letter(sqlite_db, admin, members[0].report_id, [wishes.FEEDBACK_MATERIAL])
    assert issued.status == "issued" and issued.serial
