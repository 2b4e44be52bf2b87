"""值班: AB岗 pairs, shifts without overlaps, absences with a cover who is
not away too, hand-over events, cover routing of new matters, supervisor-only
edits, and the report's figures — on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest
from sqlalchemy import func, select

from db.errors import PermissionDenied, ValidationError
from db.models import Absence, AuditLog, Matter, MatterEvent, ServiceArea, Shift
from desktop.services import accounts, counter, residents, rota
from desktop.services.idnumbers import make_ric
from desktop.services.residents import ResidentForm
from desktop.services.rota import AreaView, ShiftForm

MONDAY = date(2026, 11, 23)
SATURDAY = date(2026, 11, 28)


@pytest.fixture
def hall(station):
    """A supervisor, A (张敏) and B (刘洋) of 社会救助, a third desk worker
    (陈静) and a resident."""
    db, admin = station
    people = {}
    for user, name, role in (
        ("boss", "王站长", "supervisor"),
        ("a1", "张敏", "desk"),
        ("b1", "刘洋", "desk"),
        ("c1", "陈静", "desk"),
    ):
        accounts.create_account(db, admin, username=user, display_name=name, role=role, password="pass12345")
        people[user] = accounts.authenticate(db, user, "pass12345")
    boss, a, b = people["boss"], people["a1"], people["b1"]
    rid = residents.register(db, boss, ResidentForm(name="王秀英", doc_number=make_ric("340304", date(1940, 3, 5), 22)))
    area = rota.save_area(
        db, boss, AreaView(None, "社会救助", "1号窗口", ["社会救助", "残疾人服务"], a.account_id, b.account_id)
    )
    return db, people, rid, area


def _type(db, category):
    return next(m for m in counter.catalogue(db) if m.category == category and m.mode != "inform")


def _count(db, model):
    with db.session() as s:
        return s.scalar(select(func.count()).select_from(model).where(model.deleted.is_(False)))


def _accept(db, actor, rid, category):
    t = _type(db, category)
    return counter.accept(db, actor, rid, t.id, t.required_materials).matter_id


def test_overlapping_shifts_are_refused_for_one_worker_and_for_one_window(hall):
    db, p, _, area = hall
    boss, a, b = p["boss"], p["a1"], p["b1"]
    rota.save_shift(db, boss, ShiftForm(a.account_id, "1号窗口", MONDAY, time(8, 30), time(12, 0), area_id=area))
    with pytest.raises(ValidationError) as e:  # the same worker at another window
        rota.save_shift(db, boss, ShiftForm(a.account_id, "2号窗口", MONDAY, time(11, 0), time(17, 30)))
    assert "张敏" in e.value.user_message and "重叠" in e.value.user_message
    with pytest.raises(ValidationError) as e:  # another worker at the same window
        rota.save_shift(db, boss, ShiftForm(b.account_id, "1号窗口", MONDAY, time(9, 0), time(10, 0)))
    assert "1号窗口" in e.value.user_message and "刘洋" not in e.value.user_message.split("排了")[0]
    assert _count(db, Shift) == 1
    # back to back is not an overlap
    rota.save_shift(db, boss, ShiftForm(b.account_id, "1号窗口", MONDAY, time(12, 0), time(17, 30)))
    # editing a shift does not clash with itself
    x = rota.shifts(db, MONDAY, MONDAY)[0]
    rota.save_shift(db, boss, ShiftForm(a.account_id, "1号窗口", MONDAY, time(8, 0), time(12, 0), "staggered", id=x.id))
    assert [(v.worker_name, v.times) for v in rota.shifts(db, MONDAY, MONDAY)] == [
        ("张敏", "08:00–12:00"),
        ("刘洋", "12:00–17:30"),
    ]


def test_a_normal_shift_outside_office_hours_must_be_staggered_or_extended(hall):
    db, p, _, _ = hall
    boss, a = p["boss"], p["a1"]
    with pytest.raises(ValidationError) as e:
        rota.save_shift(db, boss, ShiftForm(a.account_id, "1号窗口", SATURDAY, time(9, 0), time(12, 0), "normal"))
    assert "不是工作日" in e.value.user_message
    with pytest.raises(ValidationError) as e:
        rota.save_shift(db, boss, ShiftForm(a.account_id, "1号窗口", MONDAY, time(13, 30), time(20, 0), "normal"))
    assert "延时" in e.value.user_message
    with pytest.raises(ValidationError):
        rota.save_shift(db, boss, ShiftForm(a.account_id, "1号窗口", MONDAY, time(14, 0), time(13, 0), "extended"))
    assert _count(db, Shift) == 0
    rota.save_shift(db, boss, ShiftForm(a.account_id, "1号窗口", SATURDAY, time(9, 0), time(12, 0), "staggered"))
    assert rota.suggest_kind(rota.workdays.load(db), MONDAY, time(13, 30), time(20, 0)) == "extended"


def test_only_a_supervisor_edits_the_rota_and_everyone_reads_it(hall):
    db, p, _, area = hall
    a, c = p["a1"], p["c1"]
    with pytest.raises(PermissionDenied):
        rota.save_shift(db, c, ShiftForm(a.account_id, "1号窗口", MONDAY, time(9, 0), time(12, 0)))
    with pytest.raises(PermissionDenied):
        rota.mark_away(db, c, a.account_id, "leave", datetime(2026, 11, 23, 8), datetime(2026, 11, 24, 18))
    with pytest.raises(PermissionDenied):
        rota.save_area(db, c, AreaView(area, "社会救助", "1号窗口", [], c.account_id, a.account_id))
    rota.save_shift(db, p["boss"], ShiftForm(a.account_id, "1号窗口", MONDAY, time(9, 0), time(12, 0)))
    with pytest.raises(PermissionDenied):
        rota.delete_shift(db, c, rota.shifts(db, MONDAY, MONDAY)[0].id)
    w = rota.week(db, MONDAY + timedelta(days=3))
    assert w.monday == MONDAY and w.windows == ["1号窗口"] and len(w.cells[("1号窗口", MONDAY)]) == 1
    assert _count(db, Absence) == 0


def test_a_pair_is_two_people_and_a_category_belongs_to_one_area(hall):
    db, p, _, _ = hall
    boss, a, b, c = p["boss"], p["a1"], p["b1"], p["c1"]
    with pytest.raises(ValidationError) as e:
        rota.save_area(db, boss, AreaView(None, "养老", "2号窗口", ["养老服务"], c.account_id, c.account_id))
    assert "同一个人" in e.value.user_message
    with pytest.raises(ValidationError) as e:
        rota.save_area(
            db, boss, AreaView(None, "养老", "2号窗口", ["养老服务", "社会救助"], c.account_id, a.account_id)
        )
    assert "社会救助" in e.value.user_message and "一个分类只能归一个片区" in e.value.user_message
    assert _count(db, ServiceArea) == 1
    assert rota.partner(db, a.account_id) == (b.account_id, "刘洋")
    assert rota.partner(db, b.account_id) == (a.account_id, "张敏")


def test_b_cannot_be_away_while_a_is_and_nothing_is_half_saved(hall):
    db, p, rid, _ = hall
    boss, a, b = p["boss"], p["a1"], p["b1"]
    _accept(db, a, rid, "社会救助")
    rota.mark_away(
        db,
        boss,
        b.account_id,
        "training",
        datetime(2026, 12, 7, 8, 30),
        datetime(2026, 12, 9, 17, 30),
        cover_id=p["c1"].account_id,
    )
    events = _count(db, MatterEvent)
    with pytest.raises(ValidationError) as e:  # A away, B (the default cover) away too
        rota.mark_away(db, boss, a.account_id, "leave", datetime(2026, 12, 8, 8, 30), datetime(2026, 12, 10, 17, 30))
    assert "刘洋" in e.value.user_message and "不能同时离岗" in e.value.user_message
    assert _count(db, Absence) == 1 and _count(db, MatterEvent) == events
    # the other way round: 陈静 covers 刘洋 on the 8th, so 陈静 cannot be away then
    with pytest.raises(ValidationError) as e:
        rota.mark_away(
            db,
            boss,
            p["c1"].account_id,
            "field",
            datetime(2026, 12, 8, 9),
            datetime(2026, 12, 8, 11),
            cover_id=a.account_id,
        )
    assert "为刘洋代岗" in e.value.user_message
    # the same worker twice at once
    with pytest.raises(ValidationError) as e:
        rota.mark_away(
            db, boss, b.account_id, "leave", datetime(2026, 12, 9, 8), datetime(2026, 12, 11, 8), cover_id=a.account_id
        )
    assert "时间重叠" in e.value.user_message
    assert _count(db, Absence) == 1
    # after B is back, A may go
    rota.mark_away(db, boss, a.account_id, "leave", datetime(2026, 12, 10, 8), datetime(2026, 12, 11, 18))
    assert _count(db, Absence) == 2


def test_marking_a_away_hands_each_open_matter_to_b_with_an_event(hall):
    db, p, rid, _ = hall
    boss, a, b = p["boss"], p["a1"], p["b1"]
    m1 = _accept(db, a, rid, "社会救助")
    m2 = _accept(db, a, rid, "养老服务")  # any of A's open matters, whatever the area
    m3 = _accept(db, a, rid, "社会救助")
    counter.close(db, a, m3, "已办结", None)
    other = _accept(db, p["c1"], rid, "养老服务")
    now = datetime.now()
    marked = rota.mark_away(db, boss, a.account_id, "leave", now - timedelta(hours=1), now + timedelta(days=2))
    assert (marked.cover_name, marked.handed_over) == ("刘洋", 2)
    for mid in (m1, m2):
        ev = [e for e in counter.get(db, mid).events if e.kind == "cover"]
        assert len(ev) == 1 and ev[0].target == "刘洋" and "张敏请假" in ev[0].note and ev[0].label == "AB岗代岗"
    assert not [e for e in counter.get(db, m3).events if e.kind == "cover"]
    assert not [e for e in counter.get(db, other).events if e.kind == "cover"]
    # B's board shows A's open matters; nobody else's does
    rows = rota.cover_rows(db, b.account_id)
    assert sorted(r.row.id for r in rows) == sorted([m1, m2]) and {r.for_name for r in rows} == {"张敏"}
    assert rota.cover_rows(db, p["c1"].account_id) == []
    assert rota.cover_rows(db, b.account_id, date.today() + timedelta(days=5)) == []  # A is back by then
    with db.session() as s:
        line = s.scalar(select(AuditLog).where(AuditLog.action == "rota_absence_mark"))
        assert line.detail == {"matters": 2}


def test_a_new_matter_of_an_area_whose_a_is_away_goes_to_b(hall):
    db, p, rid, _ = hall
    boss, a, b, c = p["boss"], p["a1"], p["b1"], p["c1"]
    now = datetime.now()
    rota.mark_away(db, boss, a.account_id, "field", now - timedelta(hours=1), now + timedelta(hours=3))
    routed = _accept(db, c, rid, "残疾人服务")  # a category of A's area
    plain = _accept(db, c, rid, "养老服务")  # no area
    d = counter.get(db, routed)
    assert (d.handler_name, d.accepted_by) == ("刘洋", "陈静")
    cover = [e for e in d.events if e.kind == "cover"]
    assert len(cover) == 1 and "张敏外勤不在岗" in cover[0].note and cover[0].target == "刘洋"
    assert counter.get(db, plain).handler_name == "陈静"
    with db.session() as s:
        assert s.get(Matter, routed).handler_id == b.account_id
    # once A is back (absence cancelled) new matters stay with whoever accepts
    rota.cancel_absence(db, boss, rota.absences(db, now.date(), now.date())[0].id)
    assert counter.get(db, _accept(db, c, rid, "社会救助")).handler_name == "陈静"


def later_start_utc(db, absence_id):
    with db.session() as s:
        return s.get(Absence, absence_id).starts_at


def test_withdrawing_a_future_absence_notes_each_matter_and_the_report_drops_its_hand_overs(hall):
    """A leave registered for next week hands A's open matters to B at once
    (the history says so), and the report counts those hand-overs on the day
    the leave begins.  Withdrawn before it begins, each of those matters says
    the hand-over is off and stays with A, and no period counts them.  An
    absence withdrawn after it began did hand over: those still count, and
    the matters go back to A."""
    db, p, rid, _ = hall
    boss, a, b = p["boss"], p["a1"], p["b1"]
    m1 = _accept(db, a, rid, "社会救助")
    m2 = _accept(db, a, rid, "养老服务")
    done = _accept(db, a, rid, "社会救助")
    now = datetime.now()
    later = rota.mark_away(db, boss, a.account_id, "leave", now + timedelta(days=7), now + timedelta(days=8))
    assert later.handed_over == 3
    counter.close(db, a, done, "已办结", None)  # closed meanwhile: nothing to note on it
    today = date.today()
    begins = (now + timedelta(days=7)).date()
    # a hand-over takes effect when the leave begins: not today, on that day
    assert rota.cover_matters(db, today, today) == []
    covered = rota.cover_matters(db, begins, begins)
    assert {x.matter_id for x in covered} == {m1, m2, done}
    assert {x.at for x in covered} == {later_start_utc(db, later.absence_id)}
    assert {x.matter_id for x in rota.cover_matters(db, today, begins)} == {m1, m2, done}
    assert rota.cancel_absence(db, boss, later.absence_id) == 2
    for mid in (m1, m2):
        notes = [e for e in counter.get(db, mid).events if e.kind == "note"]
        assert len(notes) == 1 and "离岗登记已撤销" in notes[0].note and "刘洋不再代岗" in notes[0].note
        assert "仍由张敏办理" in notes[0].note and notes[0].target == "张敏"
    assert not [e for e in counter.get(db, done).events if e.kind == "note"]
    assert rota.cover_matters(db, today, begins) == []  # never happened, not counted
    assert rota.cover_rows(db, b.account_id, today + timedelta(days=7)) == []
    with db.session() as s:
        line = s.scalar(select(AuditLog).where(AuditLog.action == "rota_absence_cancel"))
        assert line.detail == {"matters": 2}
    # begun, then withdrawn: the hand-over happened and counts; the matters go back
    begun = rota.mark_away(db, boss, a.account_id, "field", now - timedelta(hours=2), now + timedelta(hours=4))
    assert rota.cancel_absence(db, boss, begun.absence_id) == 2
    note = [e for e in counter.get(db, m1).events if e.kind == "note"][-1]
    assert "事项交回张敏办理" in note.note
    assert {x.matter_id for x in rota.cover_matters(db, today, today)} == {m1, m2}
    with pytest.raises(PermissionDenied):
        rota.cancel_absence(db, a, begun.absence_id)


def test_copy_week_is_all_or_nothing(hall):
    db, p, _, _ = hall
    boss, a, b = p["boss"], p["a1"], p["b1"]
    rota.save_shift(db, boss, ShiftForm(a.account_id, "1号窗口", MONDAY, time(8, 30), time(17, 30)))
    rota.save_shift(db, boss, ShiftForm(b.account_id, "1号窗口", SATURDAY, time(9, 0), time(12, 0), "staggered"))
    nxt = MONDAY + timedelta(days=7)
    rota.save_shift(
        db,
        boss,
        ShiftForm(b.account_id, "1号窗口", SATURDAY + timedelta(days=7), time(10, 0), time(11, 0), "staggered"),
    )
    with pytest.raises(ValidationError):
        rota.copy_week(db, boss, MONDAY, nxt)
    assert len(rota.shifts(db, nxt, nxt + timedelta(days=6))) == 1
    rota.delete_shift(db, boss, rota.shifts(db, nxt, nxt + timedelta(days=6))[0].id)
    assert rota.copy_week(db, boss, MONDAY, nxt) == 2
    assert [x.times for x in rota.shifts(db, nxt, nxt + timedelta(days=6))] == ["08:30–17:30", "09:00–12:00"]


def test_report_figures_cover_matters_and_hours_outside_office_hours(hall):
    db, p, rid, _ = hall
    boss, a, b, c = p["boss"], p["a1"], p["b1"], p["c1"]
    rota.save_shift(db, boss, ShiftForm(a.account_id, "1号窗口", SATURDAY, time(9, 0), time(12, 0), "staggered"))
    rota.save_shift(db, boss, ShiftForm(b.account_id, "1号窗口", MONDAY, time(13, 30), time(20, 0), "extended"))
    rota.save_shift(db, boss, ShiftForm(c.account_id, "2号窗口", MONDAY, time(17, 0), time(19, 0), "extended"))
    rota.save_shift(db, boss, ShiftForm(c.account_id, "2号窗口", MONDAY, time(8, 30), time(12, 0)))
    spans = rota.outside_hours(db, MONDAY, SATURDAY)
    # Monday 17:30–20:00 once (two windows open together count once), Saturday 09:00–12:00
    assert [(x.day, f"{x.start:%H:%M}", f"{x.end:%H:%M}", x.workers) for x in spans] == [
        (MONDAY, "17:30", "20:00", ("陈静", "刘洋")),
        (SATURDAY, "09:00", "12:00", ("张敏",)),
    ]
    assert sum(x.hours for x in spans) == 5.5
    upto = rota.outside_hours(db, MONDAY, SATURDAY, until=datetime.combine(MONDAY, time(18, 30)))
    assert [(f"{x.start:%H:%M}", f"{x.end:%H:%M}") for x in upto] == [("17:30", "18:30")]  # not the planned rest
    assert rota.outside_hours(db, MONDAY + timedelta(days=1), MONDAY + timedelta(days=4)) == []
    m1 = _accept(db, a, rid, "社会救助")
    now = datetime.now()
    rota.mark_away(db, boss, a.account_id, "leave", now - timedelta(hours=1), now + timedelta(days=1))
    m2 = _accept(db, c, rid, "社会救助")
    today = date.today()
    got = rota.cover_matters(db, today, today)
    assert [x.matter_id for x in got] == [m1, m2] and {x.cover_name for x in got} == {"刘洋"}
    assert rota.cover_matters(db, today - timedelta(days=3), today - timedelta(days=1)) == []
    assert rota.cover_matters(db, today, today, stations=("999999999",)) == []


def test_the_demo_station_has_a_realistic_rota(sqlite_db):
    from desktop.services import demo

    demo.create_demo_station(sqlite_db, n_residents=300, seed=5)
    today = date.today()
    w = rota.week(sqlite_db, today)
    assert [a.window for a in w.areas] == ["1号窗口", "2号窗口", "3号窗口", "4号窗口"]
    kinds = {x.kind for xs in w.cells.values() for x in xs}
    assert kinds == {"normal", "extended", "staggered"} or not any(w.working[d] for d in w.days[:5])
    four = rota.shifts(sqlite_db, rota.monday(today) - timedelta(days=14), rota.monday(today) + timedelta(days=13))
    assert {x.kind for x in four} == {"normal", "extended", "staggered"}
    assert {x.day.weekday() for x in four if x.kind == "staggered"} <= {5}
    assert {x.day.weekday() for x in four if x.kind == "extended"} <= {1, 3}
    away = rota.duty(sqlite_db).away
    assert [(a.worker_name, a.cover_name, a.reason) for a in away] == [("张敏", "刘洋", "leave")]
    covered = rota.cover_matters(sqlite_db, today, today)
    assert len(covered) >= 2 and {c.cover_name for c in covered} == {"刘洋"}


def test_the_report_section_figures_match_their_drill_downs(hall):
    from desktop import paperwork
    from desktop.services import reports
    from desktop.services.reports import Period

    db, p, rid, _ = hall
    boss, a, b, c = p["boss"], p["a1"], p["b1"], p["c1"]
    today = date.today()
    cal = rota.workdays.load(db)
    past = [today - timedelta(days=i) for i in range(1, 15)]
    sat = next(d for d in past if d.weekday() == 5 and not cal.is_working_day(d))
    wed = next(d for d in past if d.weekday() == 2)
    rota.save_shift(db, boss, ShiftForm(a.account_id, "1号窗口", sat, time(9, 0), time(12, 0), "staggered"))
    workday = cal.is_working_day(wed)
    rota.save_shift(
        db,
        boss,
        ShiftForm(b.account_id, "1号窗口", wed, time(13, 30), time(19, 0), "extended" if workday else "staggered"),
    )
    # next week's planned Saturday is not an hour the hall was open yet
    rota.save_shift(
        db, boss, ShiftForm(a.account_id, "1号窗口", sat + timedelta(days=14), time(9, 0), time(12, 0), "staggered")
    )
    m1 = _accept(db, a, rid, "社会救助")
    now = datetime.now()
    rota.mark_away(db, boss, a.account_id, "leave", now - timedelta(hours=1), now + timedelta(hours=4))
    m2 = _accept(db, c, rid, "社会救助")
    report = reports.build(db, boss, Period.between(today - timedelta(days=15), today + timedelta(days=15)))
    sec = next(s for s in report.sections if s.key == "rota")
    assert sec.title.endswith("值班与AB岗")
    figs = {f.label: f for f in sec.figures}
    cover = reports.records(db, boss, report, figs["AB岗代岗办理"].drill)
    assert figs["AB岗代岗办理"].value == len(cover.rows) == 2
    assert sorted(r[1] for r in cover.rows) == sorted(counter.get(db, m).receipt_no for m in (m1, m2))
    assert {r[3] for r in cover.rows} == {"刘洋"}
    open_hours = 3 + (1.5 if workday else 5.5)
    for label, want in (
        ("办公时间外开放", open_hours),
        ("其中休息日（错时）", 3 if workday else open_hours),
        ("其中工作日延时", 1.5 if workday else 0),
    ):
        rec = reports.records(db, boss, report, figs[label].drill)
        assert figs[label].value == round(sum(r[2] for r in rec.rows), 2) == want, label
    table = next(t for t in sec.tables if t.key == "rota_cover_by_person")
    assert table.rows == [["刘洋", 2], ["合计", 2]]
    assert len(reports.records(db, boss, report, table.drills[0][1]).rows) == 2
    # it reaches the PDF too
    assert "值班与AB岗" in paperwork.report_document(report).text
    # a month with no rota and no cover leaves the section out
    empty = reports.build(db, boss, Period.month(2025, 1))
    assert "rota" not in [s.key for s in empty.sections]
