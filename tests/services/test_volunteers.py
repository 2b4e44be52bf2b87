"""Volunteers: registry rules, needs, explainable ranking with hard rules,
dispatch, hours and ratings, the weekly plan against the greedy one."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from db.errors import ValidationError
from desktop.services import residents, volunteer_plan as plan, volunteers as vol
from desktop.services.idnumbers import make_ric
from desktop.services.residents import ResidentForm
from desktop.services.volunteers import NeedForm, VolunteerForm

TODAY = date(2026, 11, 23)  # a Monday
WED = date(2026, 11, 25)


def vform(name, seq, **kw):
    base = dict(
        name=name,
        doc_number=make_ric("340304", date(1985, 1, 1), seq),
        phone="13900000000",
        skills=["shopping"],
        availability=["3am", "3pm"],
        data_consent=True,
        grid="一网格",
        estate="幸福里小区",
    )
    base.update(kw)
    return VolunteerForm(**base)


@pytest.fixture
def world(station):
    db, admin = station
    elder = residents.register(
        db,
        admin,
        ResidentForm(
            name="王奶奶", doc_number=make_ric("340304", date(1938, 2, 2), 22), estate="幸福里小区", grid="一网格"
        ),
    )
    return db, admin, elder


def test_registry_age_consent_and_numbers(world):
    db, admin, elder = world
    vid, number = vol.register(db, admin, vform("张三", 11), today=TODAY)
    assert number == "340304001-V0001"
    assert vol.register(db, admin, vform("李四", 31), today=TODAY)[1] == "340304001-V0002"
    with pytest.raises(ValidationError) as e:
        vol.register(db, admin, vform("张三", 11), today=TODAY)
    assert "登记过" in e.value.user_message
    teen = make_ric("340304", date(2010, 6, 1), 51)  # 16
    with pytest.raises(ValidationError) as e:
        vol.register(db, admin, vform("小明", 0, doc_number=teen), today=TODAY)
    assert e.value.field == "guardian_name"
    vol.register(db, admin, vform("小明", 0, doc_number=teen, guardian_consent=True, guardian_name="明爸"), today=TODAY)
    child = make_ric("340304", date(2014, 6, 1), 61)  # 12
    with pytest.raises(ValidationError) as e:
        vol.register(
            db, admin, vform("小红", 0, doc_number=child, guardian_consent=True, guardian_name="x"), today=TODAY
        )
    assert "未满 14" in e.value.user_message
    with pytest.raises(ValidationError) as e:
        vol.register(db, admin, vform("王五", 71, data_consent=False), today=TODAY)
    assert e.value.field == "data_consent"
    with pytest.raises(ValidationError):
        vol.register(db, admin, vform("赵六", 81, skills=["flying"]), today=TODAY)
    rows = vol.list_volunteers(db)
    assert [r.number for r in rows][:2] == ["340304001-V0001", "340304001-V0002"] and "代购" in rows[0].skills
    # From a resident: their details are copied.
    rid, _ = vol.register(
        db,
        admin,
        VolunteerForm(resident_id=elder, skills=["visit"], availability=["1am"], data_consent=True),
        today=TODAY,
    )
    assert any(r.id == rid and r.name == "王奶奶" for r in vol.list_volunteers(db))


def _need(db, admin, elder, **kw):
    f = NeedForm(title="每周代买菜", resident_id=elder, skills=["shopping"], day=WED, slot="am", weekly=True, hours=2)
    for k, v in kw.items():
        setattr(f, k, v)
    nid = vol.create_need(db, admin, f, today=TODAY)
    vol.move_need(db, admin, nid, "accept")
    return vol.get_need(db, nid)


def test_ranking_explains_and_excludes(world):
    db, admin, elder = world
    near, _ = vol.register(db, admin, vform("近邻", 11), today=TODAY)
    far, _ = vol.register(db, admin, vform("远方", 31, grid="五网格", estate="别处"), today=TODAY)
    busy, _ = vol.register(db, admin, vform("没空", 41, availability=["1am"]), today=TODAY)
    paused, _ = vol.register(db, admin, vform("暂停", 51), today=TODAY)
    vol.set_status(db, admin, paused, "paused")
    nohelp, _ = vol.register(db, admin, vform("不会", 61, skills=["legal"]), today=TODAY)
    need = _need(db, admin, elder)
    r = vol.Pool(db, today=TODAY).rank(need)
    assert [c.name for c in r.candidates] == ["近邻", "远方", "不会"]
    top = r.candidates[0]
    assert set(top.parts) == set(vol.WEIGHTS) and top.score == pytest.approx(sum(top.parts.values()), abs=0.2)
    assert top.parts["nearness"] > r.candidates[1].parts["nearness"]
    assert any("代购" in x for x in top.reasons) and any("同网格" in x for x in top.reasons)
    why = {x.name: x.reason for x in r.excluded}
    assert "没空" in why["没空"] and "暂停" in why["暂停"]
    # Booked at that time: excluded for that date only.
    vol.assign(db, admin, need.id, [near], WED)
    r2 = vol.Pool(db, today=TODAY).rank(vol.get_need(db, need.id), WED)
    assert {x.name: x.reason for x in r2.excluded}["近邻"] == "当时已有派单"
    with pytest.raises(ValidationError) as e:
        vol.assign(db, admin, need.id, [near], WED)
    assert "已有派单" in e.value.user_message
    with pytest.raises(ValidationError):
        vol.assign(db, admin, need.id, [busy], WED)


def test_complete_hours_rules_continuity_and_late_flag(world):
    db, admin, elder = world
    a_id, _ = vol.register(db, admin, vform("甲", 11), today=TODAY)
    b_id, _ = vol.register(db, admin, vform("乙", 31), today=TODAY)
    need = _need(db, admin, elder, weekly=False, volunteers_needed=1)
    [asg] = vol.assign(db, admin, need.id, [b_id], WED)
    start, end = datetime(2026, 11, 25, 9, 0), datetime(2026, 11, 25, 11, 0)
    with pytest.raises(ValidationError) as e:
        vol.complete(db, admin, asg, start, end, hours=3, today=WED)
    assert "不能超过实际服务的时间" in e.value.user_message
    with pytest.raises(ValidationError):
        vol.complete(db, admin, asg, end, start, today=WED)
    late = vol.complete(db, admin, asg, start, end, rating=5, comment="很好", today=WED + timedelta(days=30))
    assert late is True
    assert vol.get_need(db, need.id).status == "done"
    with pytest.raises(ValidationError):
        vol.complete(db, admin, asg, start, end, today=WED)
    # 乙 has served 王奶奶 before: the next need ranks 乙 first (continuity), explained.
    need2 = _need(db, admin, elder, weekly=False, day=date(2026, 12, 2))
    r = vol.Pool(db, today=TODAY).rank(need2)
    assert r.candidates[0].name == "乙" and any("服务过这位居民" in x for x in r.candidates[0].reasons)
    # Overlap: another service for 乙 at an overlapping time is refused.
    [asg2] = vol.assign(db, admin, need2.id, [b_id], date(2026, 12, 2))
    lines, by_skill = vol.hours_ledger(db, date(2026, 11, 1), date(2026, 12, 31))
    assert [(x.volunteer_name, x.hours) for x in lines] == [("乙", 2.0)] and by_skill == {"代购": 2.0}
    cert = vol.certificate_data(db, admin, b_id, date(2026, 11, 1), date(2026, 11, 30))
    assert cert.total_hours == 2.0 and cert.volunteer_number.endswith("V0002") and cert.qr.startswith("ZY:")
    ok, msg = vol.verify_certificate(db, cert.qr)
    assert ok and "2 小时" in msg
    forged = cert.qr[:-8] + ("0" * 8 if not cert.qr.endswith("0" * 8) else "1" * 8)
    assert not vol.verify_certificate(db, forged)[0]
    assert not vol.verify_certificate(db, cert.qr.replace("V0002", "V0009"))[0]
    with pytest.raises(ValidationError):
        vol.certificate_data(db, admin, a_id, date(2026, 11, 1), date(2026, 11, 30))  # nothing recorded
    assert asg2


def test_no_overlapping_hours_for_one_volunteer(world):
    db, admin, elder = world
    v, _ = vol.register(db, admin, vform("丙", 11, availability=["3am", "3pm"]), today=TODAY)
    n1 = _need(db, admin, elder, weekly=False, slot="am")
    n2 = _need(db, admin, elder, weekly=False, slot="pm", title="陪聊")
    [a1] = vol.assign(db, admin, n1.id, [v], WED)
    [a2] = vol.assign(db, admin, n2.id, [v], WED)
    vol.complete(db, admin, a1, datetime(2026, 11, 25, 9), datetime(2026, 11, 25, 15), today=WED)
    with pytest.raises(ValidationError) as e:
        vol.complete(db, admin, a2, datetime(2026, 11, 25, 14), datetime(2026, 11, 25, 16), today=WED)
    assert "重叠" in e.value.user_message


def test_weekly_plan_beats_or_equals_greedy_and_respects_limits(world):
    db, admin, elder = world
    # Two needs at the same time; greedy gives the all-rounder to the first (urgent) one
    # and sends the shopper to the legal question; the optimum swaps them.
    allround, _ = vol.register(db, admin, vform("全能", 11, skills=["shopping", "legal"]), today=TODAY)
    special, _ = vol.register(
        db, admin, vform("专才", 31, skills=["shopping"], grid="五网格", estate="别处"), today=TODAY
    )
    n1 = _need(db, admin, elder, weekly=False, urgency=3, title="买菜")
    n2 = _need(db, admin, None, weekly=False, skills=["legal"], title="法律咨询")
    pool = vol.Pool(db, today=TODAY)
    cmp = plan.compare(db, WED, pool)
    assert cmp.optimal.total > cmp.greedy.total
    assert cmp.optimal.filled == cmp.greedy.filled == 2
    assert {p.need_title: p.volunteer_name for p in cmp.optimal.picks} == {"买菜": "专才", "法律咨询": "全能"}
    assert {p.need_title: p.volunteer_name for p in cmp.greedy.picks} == {"买菜": "全能", "法律咨询": "专才"}
    assert cmp.optimal.status == "Optimal"
    made = plan.accept(db, admin, cmp.optimal)
    assert made == 2
    assert plan.week_slots(db, WED - timedelta(days=2)) == []  # everything filled
    assert n1 and n2 and allround and special


def test_hour_limit_is_respected_by_the_plan(world):
    db, admin, elder = world
    v, _ = vol.register(
        db, admin, vform("限时", 11, availability=["3am", "3pm", "4am"], weekly_hour_limit=3), today=TODAY
    )
    for slot, day in (("am", WED), ("pm", WED), ("am", WED + timedelta(days=1))):
        _need(db, admin, elder, weekly=False, slot=slot, day=day, title=f"{day}{slot}")
    cmp = plan.compare(db, WED, vol.Pool(db, today=TODAY))
    assert cmp.optimal.filled == 1 and cmp.greedy.filled == 1  # 2 h each, 3 h a week
    assert v


def test_the_planners_quick_total_is_the_ranked_score(world):
    from desktop.services.demo import volunteers as demo_volunteers

    db, admin, elder = world
    info = demo_volunteers.fill_volunteers(db, n_volunteers=300, n_needs=30, seed=9, today=TODAY)
    pool = vol.Pool(db, today=TODAY)
    checked = 0
    for n in vol.list_needs(db)[:10]:
        day = vol.occurrences(n, info["week"], info["week"] + timedelta(days=6))[0]
        quick = {e.id: t for t, e in pool.candidates_at(n, day)}
        ranked = pool.rank(n, day, limit=1000)
        assert {c.volunteer_id: c.score for c in ranked.candidates} == pytest.approx(quick, abs=0.11)
        assert ranked.eligible == len(quick)
        checked += len(quick)
    assert checked > 50


def test_hours_cannot_be_recorded_before_the_service(world):
    db, admin, elder = world
    v, _ = vol.register(db, admin, vform("丁", 11), today=TODAY)
    n = _need(db, admin, elder, weekly=False)
    [a] = vol.assign(db, admin, n.id, [v], WED)
    with pytest.raises(ValidationError) as e:
        vol.complete(db, admin, a, datetime(2026, 11, 25, 9), datetime(2026, 11, 25, 10), today=TODAY)
    assert "还没有发生" in e.value.user_message


def test_volunteer_numbers_count_past_9999(world):
    from sqlalchemy import select

    from db.models import Volunteer
    from desktop.services.demo import volunteers as demo_volunteers

    db, admin, elder = world
    demo_volunteers.fill_volunteers(db, n_volunteers=2, n_needs=0, seed=1, today=TODAY)
    with db.session() as s:
        first, second = s.scalars(select(Volunteer).order_by(Volunteer.number)).all()
        first.number, second.number = "340304001-V9999", "340304001-V10000"
    assert vol.register(db, admin, vform("新人", 11), today=TODAY)[1] == "340304001-V10001"
