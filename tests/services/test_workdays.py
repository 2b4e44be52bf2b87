"""Working days: weekends, public holidays and make-up working days (调休)."""

from __future__ import annotations

import json
from datetime import date

import pytest

from db.errors import PermissionDenied, ValidationError
from desktop.services import accounts, workdays


@pytest.fixture
def cal(station):
    db, _ = station
    return workdays.load(db)


def test_plain_weeks_skip_the_weekend(cal):
    # Monday 2026-11-23 + 5 working days = next Monday.
    assert cal.add_working_days(date(2026, 11, 23), 5) == date(2026, 11, 30)
    # Accepted on a Friday, 1 working day -> Monday.
    assert cal.add_working_days(date(2026, 11, 27), 1) == date(2026, 11, 30)
    assert cal.add_working_days(date(2026, 11, 27), 0) == date(2026, 11, 27)


def test_national_day_holiday_and_make_up_days(cal):
    # 2026-09-30 (Wed) + 1: 10-01..10-07 off (weekdays 1,2,5,6,7 are holidays), 10-08 Thursday.
    assert cal.add_working_days(date(2026, 9, 30), 1) == date(2026, 10, 8)
    # Saturday 2026-10-10 is a make-up working day: Friday 10-09 + 1 = Saturday 10-10.
    assert cal.is_working_day(date(2026, 10, 10))
    assert cal.add_working_days(date(2026, 10, 9), 1) == date(2026, 10, 10)
    # Sunday 2026-09-20 is a make-up working day too.
    assert cal.add_working_days(date(2026, 9, 18), 1) == date(2026, 9, 20)


def test_spring_festival_2026(cal):
    # Saturday 2026-02-14 is worked; 02-16..02-23 off; 02-24 is the next working day after 02-14.
    assert cal.add_working_days(date(2026, 2, 13), 1) == date(2026, 2, 14)
    assert cal.add_working_days(date(2026, 2, 14), 1) == date(2026, 2, 24)
    assert cal.working_days_between(date(2026, 2, 13), date(2026, 2, 24)) == 2


def test_fifteen_working_days_for_a_rectification(cal):
    # From Thursday 2026-09-24, counted by hand: 9-25 中秋 off; 9-28, 29, 30 (3);
    # 10-1..7 国庆 off; 10-8, 9 (5); Saturday 10-10 worked (6); 10-12..16 (11);
    # 10-19..22 (15).
    assert cal.add_working_days(date(2026, 9, 24), 15) == date(2026, 10, 22)


def test_years_not_covered_are_known(cal):
    assert cal.covers(date(2026, 5, 1)) and not cal.covers(date(2027, 1, 1))
    # Outside the file, weekends only.
    assert cal.add_working_days(date(2027, 1, 1), 1) == date(2027, 1, 4)


def _file(tmp_path, days, years=(2027,), fmt=workdays.FORMAT):
    p = tmp_path / "h.json"
    p.write_text(json.dumps({"format": fmt, "years": list(years), "days": days}), encoding="utf-8")
    return p


def test_supervisor_imports_next_years_file(station, tmp_path):
    db, admin = station
    p = _file(
        tmp_path,
        [
            {"date": "2027-01-01", "kind": "holiday", "name": "元旦"},
            {"date": "2027-02-08", "kind": "holiday", "name": "春节"},
            {"date": "2027-02-20", "kind": "workday", "name": "调休"},
        ],
    )
    assert workdays.import_file(db, admin, p) == 3
    cal = workdays.load(db)
    assert cal.covers(date(2027, 3, 1)) and cal.covers(date(2026, 3, 1))
    assert not cal.is_working_day(date(2027, 2, 8)) and cal.is_working_day(date(2027, 2, 20))
    # Importing a corrected 2027 file replaces 2027 only.
    p = _file(tmp_path, [{"date": "2027-01-01", "kind": "holiday", "name": "元旦"}])
    workdays.import_file(db, admin, p)
    cal = workdays.load(db)
    assert cal.is_working_day(date(2027, 2, 8)) and not cal.is_working_day(date(2027, 2, 20))
    assert not cal.is_working_day(date(2026, 10, 1))


@pytest.mark.parametrize(
    "days, fmt, fragment",
    [
        ([{"date": "2027-13-01", "kind": "holiday"}], workdays.FORMAT, "日期"),
        ([{"date": "2027-01-01", "kind": "party"}], workdays.FORMAT, "类型"),
        ([{"date": "2028-01-01", "kind": "holiday"}], workdays.FORMAT, "不在"),
        ([{"date": "2027-02-01", "kind": "holiday"}], workdays.FORMAT, "元旦"),
        ([], "something-else", "格式"),
    ],
)
def test_bad_holiday_files_change_nothing(station, tmp_path, days, fmt, fragment):
    db, admin = station
    before = workdays.load(db)
    with pytest.raises(ValidationError) as e:
        workdays.import_file(db, admin, _file(tmp_path, days, fmt=fmt))
    assert fragment in e.value.user_message
    assert workdays.load(db) == before


def test_not_json_and_desk_role(station, tmp_path):
    db, admin = station
    p = tmp_path / "x.json"
    p.write_bytes(b"\x00\x01garbage")
    with pytest.raises(ValidationError):
        workdays.import_file(db, admin, p)
    desk = accounts.create_account(db, admin, username="desk9", display_name="前台", role="desk", password="desk12345")
    desk_actor = accounts.authenticate(db, "desk9", "desk12345")
    with pytest.raises(PermissionDenied):
        workdays.import_file(db, desk_actor, _file(tmp_path, [{"date": "2027-01-01", "kind": "holiday"}]))
    assert desk is not None
