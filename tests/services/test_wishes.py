"""微心愿 (publish, claim once, fulfil once, the board's masking) and 在职党员报到
(once a year, posts from the list, hours queried from service records, the
feedback letter through the certificate machinery) — on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from db.errors import PermissionDenied, ValidationError
from db.models import PartyReport, SealLog, Wish, WishClaim
from desktop.services import accounts, certificates, residents, volunteers as vol, wishes
from desktop.services.context import Actor
from desktop.services.idnumbers import make_ric
from desktop.services.residents import ResidentForm
from desktop.services.volunteers import NeedForm, VolunteerForm

TODAY = date(2026, 11, 23)  # a Monday
WED = date(2026, 11, 25)


@pytest.fixture
def world(station):
    db, admin = station
    accounts.create_account(db, admin, username="desk1", display_name="李前台", role="desk", password="desk12345")
    desk = accounts.authenticate(db, "desk1", "desk12345")
    elder = residents.register(
        db,
        admin,
        ResidentForm(
            name="欧阳秀英",
            doc_number=make_ric("340304", date(1940, 2, 2), 22),
            estate="幸福里小区",
            grid="一网格",
            building="3",
            unit="2",
            room="301",
        ),
    )
    member_res = residents.register(
        db, admin, ResidentForm(name="刘建国", doc_number=make_ric("340304", date(1980, 5, 6), 31), grid="二网格")
    )
    member, _ = vol.register(
        db,
        admin,
        VolunteerForm(
            resident_id=member_res,
            skills=["shopping"],
            availability=["3am"],
            data_consent=True,
            party_member=True,
            employer="市财政局",
            yearly_target_hours=20,
        ),
        today=TODAY - timedelta(days=300),
    )
    helper, _ = vol.register(
        db,
        admin,
        VolunteerForm(
            name="张志愿",
            doc_number=make_ric("340304", date(1990, 1, 1), 41),
            phone="13900000001",
            skills=["shopping"],
            availability=["3am"],
            data_consent=True,
        ),
        today=TODAY - timedelta(days=300),
    )
    return db, admin, desk, elder, member, helper


def _count(db, model) -> int:
    with db.session() as s:
        return s.scalar(select(func.count()).select_from(model))


def test_a_wish_is_published_claimed_once_and_fulfilled_once(world):
    db, admin, desk, elder, member, helper = world
    wid, number = wishes.add_wish(db, desk, elder, "一台助听器", 280, "耳背，听不清电话", today=TODAY)
    assert number == "340304001-W0001"
    assert wishes.add_wish(db, desk, elder, "一床冬被", 150, today=TODAY)[1] == "340304001-W0002"
    [row] = [w for w in wishes.list_wishes(db) if w.id == wid]
    assert (row.status_label, row.grid, row.sponsor_name) == ("待认领", "一网格", "")
    # fulfilling an unclaimed wish is refused
    with pytest.raises(ValidationError) as e:
        wishes.fulfil(db, desk, wid, "送去助听器一台", today=TODAY)
    assert "还没有人认领" in e.value.user_message
    wishes.claim(db, desk, wid, volunteer_id=member, today=TODAY)
    # a second claim, by anyone, is refused and saves nothing
    claims = _count(db, WishClaim)
    for kw in ({"volunteer_id": helper}, {"unit": "市财政局机关党支部", "contact": "05521234567"}):
        with pytest.raises(ValidationError) as e:
            wishes.claim(db, desk, wid, today=TODAY, **kw)
        assert "已认领" in e.value.user_message and "刘建国" in e.value.user_message
    assert _count(db, WishClaim) == claims
    [row] = [w for w in wishes.list_wishes(db) if w.id == wid]
    assert (row.status, row.sponsor_label) == ("claimed", "刘建国（党员）")
    with pytest.raises(ValidationError) as e:
        wishes.fulfil(db, desk, wid, "送去助听器一台", on=TODAY + timedelta(days=1), today=TODAY)
    assert "不能晚于今天" in e.value.user_message
    with pytest.raises(ValidationError) as e:
        wishes.fulfil(db, desk, wid, "   ", today=TODAY)
    assert "实现情况" in e.value.user_message
    wishes.fulfil(db, desk, wid, "送去助听器一台并教会使用", today=WED)
    with pytest.raises(ValidationError) as e:
        wishes.fulfil(db, desk, wid, "又送一台", today=WED)
    assert "已经实现" in e.value.user_message
    with pytest.raises(ValidationError) as e:
        wishes.claim(db, desk, wid, volunteer_id=helper, today=WED)
    assert "已实现" in e.value.user_message
    [row] = [w for w in wishes.list_wishes(db) if w.id == wid]
    assert (row.status_label, row.fulfilled_on, row.given) == ("已实现", WED, "送去助听器一台并教会使用")


def test_a_unit_claims_with_name_and_phone(world):
    db, admin, desk, elder, member, helper = world
    wid, _ = wishes.add_wish(db, desk, elder, "一床冬被", 150, today=TODAY)
    with pytest.raises(ValidationError) as e:
        wishes.claim(db, desk, wid, unit="市财政局机关党支部", today=TODAY)
    assert "联系电话" in e.value.user_message
    with pytest.raises(ValidationError) as e:
        wishes.claim(db, desk, wid, today=TODAY)
    assert "二选一" in e.value.user_message
    with pytest.raises(ValidationError):
        wishes.claim(db, desk, wid, volunteer_id=helper, unit="某单位", contact="13900000002", today=TODAY)
    assert _count(db, WishClaim) == 0
    wishes.claim(db, desk, wid, unit="市财政局机关党支部", contact="0552-1234567", today=TODAY)
    [row] = wishes.list_wishes(db)
    assert (row.sponsor_label, row.contact) == ("市财政局机关党支部（单位）", "0552-1234567")


@pytest.mark.parametrize("value", [-1, 1000.5, float("nan"), "很多"])
def test_absurd_values_are_refused(world, value):
    db, admin, desk, elder, *_ = world
    with pytest.raises(ValidationError) as e:
        wishes.add_wish(db, desk, elder, "一台助听器", value, today=TODAY)
    assert "估值" in e.value.user_message
    assert _count(db, Wish) == 0


def test_the_board_shows_surname_and_grid_only(world):
    db, admin, desk, elder, member, helper = world
    wishes.add_wish(db, desk, elder, "一台助听器", 280, today=TODAY)
    claimed, _ = wishes.add_wish(db, desk, elder, "一床冬被", 150, today=TODAY)
    wishes.claim(db, desk, claimed, volunteer_id=helper, today=TODAY)
    b = wishes.board(db, today=TODAY)
    assert [(x.title, x.who, x.grid, x.value) for x in b.lines] == [("一台助听器", "欧阳某", "一网格", 280)]
    assert wishes.masked_name("张三丰") == "张某" and wishes.masked_name("") == "某"


def test_the_board_pdf_has_no_name_id_or_address(world):
    from desktop import paperwork
    from desktop.documents import fonts, pdf

    db, admin, desk, elder, *_ = world
    wishes.add_wish(db, desk, elder, "一台助听器", 280, today=TODAY)
    doc = paperwork.wish_board_document(db, today=TODAY)
    text = doc.text
    assert "欧阳某" in text and "一台助听器" in text and "一网格" in text and "340304001-W0001" in text
    assert "欧阳秀英" not in text and "秀英" not in text and "301" not in text and "1940" not in text
    assert pdf.render(doc, fonts.resolve()).startswith(b"%PDF")


def _serve(db, admin, elder, volunteer_id, day, hours):
    f = NeedForm(title="代买菜", resident_id=elder, skills=["shopping"], day=day, slot="am", hours=hours)
    nid = vol.create_need(db, admin, f, today=day - timedelta(days=2))
    vol.move_need(db, admin, nid, "accept")
    [a] = vol.assign(db, admin, nid, [volunteer_id], day)
    start = datetime(day.year, day.month, day.day, 1, 0)  # 09:00 local is 01:00 UTC
    vol.complete(db, admin, a, start, start + timedelta(hours=hours), hours=hours, today=day)


def test_report_in_once_a_year_with_posts_and_hours_from_service_records(world):
    db, admin, desk, elder, member, helper = world
    with pytest.raises(ValidationError) as e:
        wishes.report_in(db, desk, member, "市财政局", TODAY + timedelta(days=1), ["政策宣传"], today=TODAY)
    assert "不能晚于今天" in e.value.user_message
    with pytest.raises(ValidationError) as e:
        wishes.report_in(db, desk, member, "市财政局", date(2026, 3, 2), ["开飞机"], today=TODAY)
    assert "岗位清单" in e.value.user_message
    with pytest.raises(ValidationError) as e:
        wishes.report_in(db, desk, member, "市财政局", date(2026, 3, 2), [], today=TODAY)
    assert "至少选择" in e.value.user_message
    with pytest.raises(ValidationError) as e:
        wishes.report_in(db, desk, helper, "某公司", date(2026, 3, 2), ["政策宣传"], today=TODAY)
    assert "没有标记为在职党员" in e.value.user_message
    rid = wishes.report_in(db, desk, member, "市财政局", date(2026, 3, 2), ["政策宣传", "关爱帮扶"], today=TODAY)
    with pytest.raises(ValidationError) as e:
        wishes.report_in(db, desk, member, "市财政局", date(2026, 6, 1), ["环境整治"], today=TODAY)
    assert "已经报到过了" in e.value.user_message and "2026-03-02" in e.value.user_message
    assert _count(db, PartyReport) == 1
    # next year is a new report-in
    wishes.report_in(db, desk, member, "市财政局", date(2027, 1, 5), ["环境整治"], today=date(2027, 1, 6))
    [m] = wishes.members(db, 2026, today=TODAY)
    assert (m.report_id, m.hours, m.services, m.target, m.progress) == (rid, 0.0, 0, 20.0, "0%")
    _serve(db, admin, elder, member, WED - timedelta(days=7), 3)
    _serve(db, admin, elder, member, WED - timedelta(days=14), 2.5)
    _serve(db, admin, elder, helper, WED - timedelta(days=14), 2)  # someone else's hours do not count
    [m] = wishes.members(db, 2026, today=TODAY)
    assert (m.hours, m.services, m.progress) == (5.5, 2, "28%")
    assert wishes.members(db, 2027, today=date(2027, 1, 6))[0].hours == 0.0  # last year's hours stay there


def test_feedback_letter_goes_through_the_certificate_ledger(world):
    db, admin, desk, elder, member, helper = world
    rid = wishes.report_in(db, desk, member, "市财政局", date(2026, 3, 2), ["政策宣传", "关爱帮扶"], today=TODAY)
    _serve(db, admin, elder, member, WED - timedelta(days=7), 3)
    with pytest.raises(ValidationError) as e:
        wishes.feedback_letter(db, desk, rid, [], today=TODAY)
    assert "党员本人居民身份证" in e.value.user_message
    seals = _count(db, SealLog)
    # from a desk worker it waits for approval (R05 needs it): no serial, no seal line yet
    pending = wishes.feedback_letter(db, desk, rid, [wishes.FEEDBACK_MATERIAL], today=TODAY)
    assert (pending.status, pending.serial) == ("pending", None) and _count(db, SealLog) == seals
    issued = certificates.approve(db, admin, pending.id)
    assert issued.serial.startswith("〔2026〕") and _count(db, SealLog) == seals + 1
    d = certificates.get(db, issued.id)
    assert d.title == "在职党员到社区报到情况反馈" and d.seal == "社区党组织章"
    assert "刘建国同志" in d.body_masked and "政策宣传、关爱帮扶" in d.body_masked
    assert "累计3小时" in d.body_masked and "年度目标20小时，完成15%" in d.body_masked
    assert "向所在单位（市财政局）反馈" in d.body_masked
    assert [c.id for c in wishes.letters(db, rid)] == [issued.id]
    # a supervisor's letter is issued at once
    direct = wishes.feedback_letter(db, admin, rid, [wishes.FEEDBACK_MATERIAL], today=TODAY)
    assert direct.status == "issued" and direct.serial and _count(db, SealLog) == seals + 2


def test_feedback_letter_needs_a_resident_record(world):
    db, admin, desk, elder, member, helper = world
    outside, _ = vol.register(
        db,
        admin,
        VolunteerForm(
            name="孙外来",
            doc_number=make_ric("340304", date(1975, 1, 1), 51),
            phone="13900000003",
            skills=["shopping"],
            availability=["3am"],
            data_consent=True,
            party_member=True,
        ),
        today=TODAY,
    )
    rid = wishes.report_in(db, desk, outside, "市教育局", date(2026, 4, 1), ["文明劝导"], today=TODAY)
    with pytest.raises(ValidationError) as e:
        wishes.feedback_letter(db, admin, rid, [wishes.FEEDBACK_MATERIAL], today=TODAY)
    assert "没有关联居民档案" in e.value.user_message


def test_roles_are_enforced_in_the_service(world):
    db, admin, desk, elder, member, helper = world
    nobody = Actor(uuid.uuid4(), "guest", "访客", "guest", "340304001")
    wid, _ = wishes.add_wish(db, desk, elder, "一台助听器", 280, today=TODAY)
    for call in (
        lambda: wishes.add_wish(db, nobody, elder, "x", 1, today=TODAY),
        lambda: wishes.claim(db, nobody, wid, volunteer_id=helper, today=TODAY),
        lambda: wishes.report_in(db, nobody, member, "市财政局", TODAY, ["政策宣传"], today=TODAY),
    ):
        with pytest.raises(PermissionDenied):
            call()
    assert _count(db, WishClaim) == 0 and _count(db, PartyReport) == 0


def test_report_section_figures_agree_with_their_drill_down(world):
    from desktop.services import reports
    from desktop.services.reports import Period

    db, admin, desk, elder, member, helper = world
    a, _ = wishes.add_wish(db, desk, elder, "一台助听器", 280, today=date(2026, 11, 3))
    b, _ = wishes.add_wish(db, desk, elder, "一床冬被", 150.5, today=date(2026, 11, 4))
    wishes.add_wish(db, desk, elder, "一套书", 60, today=date(2026, 12, 1))
    wishes.claim(db, desk, a, volunteer_id=member, today=date(2026, 11, 5))
    wishes.claim(db, desk, b, unit="市财政局机关党支部", contact="13900000009", today=date(2026, 11, 6))
    wishes.fulfil(db, desk, a, "送去助听器", today=date(2026, 11, 20))
    wishes.fulfil(db, desk, b, "送去冬被", today=date(2026, 12, 2))
    wishes.report_in(db, desk, member, "市财政局", date(2026, 11, 2), ["政策宣传"], today=TODAY)
    _serve(db, admin, elder, member, date(2026, 11, 18), 3)
    _serve(db, admin, elder, member, date(2026, 12, 2), 2)
    _serve(db, admin, elder, helper, date(2026, 11, 18), 4)  # not a reported-in member

    def figures(period):
        report = reports.build(db, admin, period)
        sec = report.section("wishes")
        out = {}
        for f in sec.figures:
            behind = reports.matching(db, report, f.drill)
            rows = reports.records(db, admin, report, f.drill).rows
            assert len(rows) == len(behind)
            if f.unit == "小时":
                assert f.value == round(sum(r[-1] for r in rows), 2)
            elif f.unit == "元":
                assert f.value == round(sum(r[4] for r in rows), 2)
            else:
                assert f.value == len(behind)
            out[f.label] = f.value
        return report, sec, out

    report, sec, nov = figures(Period.month(2026, 11))
    assert nov == {
        "发布心愿": 2,
        "认领心愿": 2,
        "实现心愿": 1,
        "实现心愿估值": 280.0,
        "在职党员报到": 1,
        "报到党员服务时长": 3.0,
    }
    by_sponsor = next(t for t in sec.tables if t.key == "wishes_by_sponsor")
    assert by_sponsor.rows == [["党员", 1], ["单位", 1]]
    unit_drill = by_sponsor.drills[1][1]
    assert [r[6] for r in reports.records(db, admin, report, unit_drill).rows] == ["市财政局机关党支部"]
    hours = next(t for t in sec.tables if t.key == "member_hours")
    assert [r[1:4] for r in hours.rows] == [["刘建国", "市财政局", 3.0]]
    names = reports.records(db, admin, report, sec.figures[0].drill).rows
    assert {r[2] for r in names} == {"欧阳秀英"}  # the supervisor sees names; never ID numbers
    _report, _sec, dec = figures(Period.month(2026, 12))
    assert dec == {
        "发布心愿": 1,
        "认领心愿": 0,
        "实现心愿": 1,
        "实现心愿估值": 150.5,
        "在职党员报到": 0,
        "报到党员服务时长": 2.0,
    }
    assert all(s.key != "wishes" for s in reports.build(db, admin, Period.month(2026, 10)).sections)
