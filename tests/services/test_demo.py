from collections import Counter
from datetime import date

import pytest
from sqlalchemy import select

from db.models import Household, Resident, ResidentTag
from desktop.services import accounts, demo
from desktop.services.idnumbers import validate_ric

AGE_OLDER = {"父亲", "母亲"}
AGE_YOUNGER = {"子", "女", "孙子", "孙女"}


def _age(b: date, today: date) -> int:
    return today.year - b.year - ((today.month, today.day) < (b.month, b.day))


@pytest.mark.slow
def test_demo_station_is_realistic_and_consistent(sqlite_db):
    user, password = demo.create_demo_station(sqlite_db, n_residents=2000, seed=7)
    assert accounts.authenticate(sqlite_db, user, password).role == "admin"
    assert accounts.authenticate(sqlite_db, "qiantai", password).role == "desk"
    today = date.today()
    with sqlite_db.session() as s:
        residents = s.scalars(select(Resident)).all()
        households = {h.id: h for h in s.scalars(select(Household))}
        tags = s.scalars(select(ResidentTag)).all()
    assert len(residents) == 2000
    numbers = [r.doc_number for r in residents]
    assert len(set(numbers)) == len(numbers)
    for r in residents:
        info = validate_ric(r.doc_number)
        assert info.birth_date == r.birth_date and info.gender == r.gender
        assert r.pinyin and r.initials and r.address_text and r.grid
    by_household: dict = {}
    for r in residents:
        by_household.setdefault(r.household_id, []).append(r)
    assert set(by_household) == set(households)
    for hid, members in by_household.items():
        heads = [m for m in members if m.relation_to_head == "户主"]
        assert len(heads) == 1 and households[hid].head_id == heads[0].id
        head_age = _age(heads[0].birth_date, today)
        for m in members:
            if m.relation_to_head in AGE_YOUNGER:
                assert _age(m.birth_date, today) < head_age
            if m.relation_to_head in AGE_OLDER:
                assert _age(m.birth_date, today) > head_age
    tag_counts = Counter(t.tag for t in tags)
    assert tag_counts["高龄"] > 0 and tag_counts["流动人口"] > 0
    assert any(not ("\u4e00" <= ch <= "\u9fff") for r in residents for ch in r.name)  # rare characters


@pytest.mark.slow
def test_demo_is_deterministic(tmp_path):
    from db.engine import open_database

    names = []
    for i in range(2):
        d = open_database(tmp_path / f"d{i}.sqlite3")
        demo.create_demo_station(d, n_residents=200, seed=3)
        with d.session() as s:
            names.append(sorted(s.scalars(select(Resident.name))))
        d.close()
    assert names[0] == names[1]


@pytest.mark.slow
def test_demo_station_has_weeks_of_home_visits(sqlite_db):
    """Most weekly households visited on schedule, some overdue, some 不在家."""
    from db.models import Visit
    from desktop.services import visits

    demo.create_demo_station(sqlite_db, n_residents=2000, seed=7)
    today = date.today()
    with sqlite_db.session() as s:
        rows = s.scalars(select(Visit)).all()
    assert rows and all(v.day <= today for v in rows)
    outcomes = Counter(v.outcome for v in rows)
    assert 0.02 < outcomes["not_home"] / len(rows) < 0.15
    assert any(v.needs for v in rows) and len({v.visitor_name for v in rows}) > 1
    weekly = [d for d in visits.schedule(sqlite_db, today) if d.days == 7]
    on_time = [d for d in weekly if not d.overdue]
    assert len(weekly) > 20 and 0.7 < len(on_time) / len(weekly) < 0.97
    due = visits.due_list(sqlite_db, today)
    assert due and any(d.overdue for d in due) and len(due) < len(visits.schedule(sqlite_db, today))
