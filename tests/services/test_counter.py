"""The counter: catalogue, acceptance with receipt numbers, one-time notices,
tracking, closing with 好差评 and rectifications."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from db.errors import PermissionDenied, ValidationError
from db.models import AuditLog, Matter, MatterEvent, Rectification
from desktop.services import accounts, counter, residents
from desktop.services.counter import Material, MissingMaterials, MatterTypeView
from desktop.services.idnumbers import make_ric
from desktop.services.residents import ResidentForm

MONDAY = date(2026, 11, 23)


@pytest.fixture
def desk(station):
    db, admin = station
    accounts.create_account(db, admin, username="desk1", display_name="李前台", role="desk", password="desk12345")
    actor = accounts.authenticate(db, "desk1", "desk12345")
    rid = residents.register(
        db, actor, ResidentForm(name="王秀英", doc_number=make_ric("340304", date(1940, 3, 5), 22), phone="13812345678")
    )
    return db, admin, actor, rid


def _type(db, name):
    return next(m for m in counter.catalogue(db) if m.name.startswith(name))


def test_shipped_catalogue_is_complete_and_searchable(station):
    db, _ = station
    items = counter.catalogue(db)
    assert len(items) >= 20
    for m in items:
        assert m.mode in counter.MODES and m.category and m.basis
        assert m.mode == "inform" or m.materials
    assert counter.search_catalogue(items, "低保")[0].name.startswith("最低生活保障")
    assert counter.search_catalogue(items, "准生证")[0].name == "生育登记"  # alias
    assert counter.search_catalogue(items, "jzz")[0].name.startswith("居住证")  # initials
    assert counter.search_catalogue(items, "完全无关的词") == []


def test_accept_mints_receipt_numbers_per_day_and_counts_working_days(desk):
    db, _, actor, rid = desk
    t = _type(db, "居住证申领")  # 10 working days
    a1 = counter.accept(db, actor, rid, t.id, t.required_materials, "window", today=MONDAY)
    a2 = counter.accept(db, actor, rid, t.id, t.required_materials, "visit", today=MONDAY)
    a3 = counter.accept(db, actor, rid, t.id, t.required_materials, "phone", today=date(2026, 11, 24))
    assert (a1.receipt_no, a2.receipt_no) == ("340304001-20261123-0001", "340304001-20261123-0002")
    assert a3.receipt_no == "340304001-20261124-0001"
    assert a1.promised_date == date(2026, 12, 7)
    # National Day: accepted 2026-09-30, 10 working days -> 10-8,9,10(Sat),12..16,19,20 -> 10-20.
    a4 = counter.accept(db, actor, rid, t.id, t.required_materials, today=date(2026, 9, 30))
    assert a4.promised_date == date(2026, 10, 20)
    d = counter.get(db, a1.matter_id)
    assert d.status == "accepted" and d.handler_name == "李前台" and d.resident_name == "王秀英"
    assert d.resident_doc_masked == "*" * 14 + make_ric("340304", date(1940, 3, 5), 22)[-4:]
    assert [e.kind for e in d.events] == ["accept"]
    assert counter.find_by_receipt(db, " 340304001-20261123-0002 ") == a2.matter_id
    assert counter.find_by_receipt(db, "３４０３０４００１-20261123-0002") == a2.matter_id  # full-width scan
    assert counter.find_by_receipt(db, "340304001-20261123-0099") is None
    assert counter.find_by_receipt(db, "王秀英") is None


def test_missing_required_material_refuses_and_notice_is_logged(desk):
    db, _, actor, rid = desk
    t = _type(db, "最低生活保障")
    some = t.required_materials[:1]
    with pytest.raises(MissingMaterials) as e:
        counter.accept(db, actor, rid, t.id, some, today=MONDAY)
    assert set(e.value.missing) == set(t.required_materials[1:])
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(Matter)) == 0
    no = counter.record_notice(db, actor, t.id, rid, e.value.missing, "材料不全", today=MONDAY)
    assert no == "340304001-GZ20261123-0001"
    with pytest.raises(ValidationError) as e:
        counter.accept(db, actor, rid, t.id, [*t.required_materials, "不存在的材料"], today=MONDAY)
    assert "不是这个事项的材料" in e.value.user_message


def test_inform_only_matter_is_done_at_once(desk):
    db, _, actor, rid = desk
    t = _type(db, "政策咨询")
    a = counter.accept(db, actor, rid, t.id, [], today=MONDAY)
    assert counter.get(db, a.matter_id).status == "done" and a.promised_date == MONDAY


def test_track_transfer_close_and_good_rating(desk):
    db, _, actor, rid = desk
    t = _type(db, "高龄津贴")
    a = counter.accept(db, actor, rid, t.id, t.required_materials, today=MONDAY)
    assert counter.transition(db, actor, a.matter_id, "start", "已报街道") == "in_progress"
    with pytest.raises(ValidationError) as e:
        counter.transition(db, actor, a.matter_id, "transfer")
    assert e.value.field == "target"
    assert counter.transition(db, actor, a.matter_id, "transfer", "AB岗", target="张站长") == "transferred"
    with pytest.raises(ValidationError):
        counter.transition(db, actor, a.matter_id, "reject", "不符合条件")  # only from accepted
    c = counter.close(db, actor, a.matter_id, "已发放", 5, "很好", today=MONDAY)
    assert c.status == "done" and c.rectification_id is None
    d = counter.get(db, a.matter_id)
    assert [e.kind for e in d.events] == ["accept", "start", "transfer", "close", "rate"]
    assert d.rating == 5
    with pytest.raises(ValidationError) as e:
        counter.rate(db, actor, a.matter_id, 4)  # one rating per matter
    assert "一次一评" in e.value.user_message
    with pytest.raises(ValidationError):
        counter.close(db, actor, a.matter_id, "again", None)


def test_bad_rating_opens_rectification_due_in_15_working_days(desk):
    db, admin, actor, rid = desk
    t = _type(db, "老年人优待证")
    a = counter.accept(db, actor, rid, t.id, t.required_materials, today=date(2026, 9, 24))
    c = counter.close(db, actor, a.matter_id, "已办结", 2, "等太久", today=date(2026, 9, 24))
    assert c.rectification_due == date(2026, 10, 22)
    with pytest.raises(PermissionDenied):
        counter.rectifications(db, actor)
    open_ = counter.rectifications(db, admin)
    assert [(r.resident_name, r.rating, r.comment) for r in open_] == [("王秀英", 2, "等太久")]
    with pytest.raises(PermissionDenied):
        counter.record_callback(db, actor, c.rectification_id, "改进", "已回访")
    with pytest.raises(ValidationError) as e:
        counter.record_callback(db, admin, c.rectification_id, "调整窗口排班", "")
    assert e.value.field == "callback_note"
    counter.record_callback(db, admin, c.rectification_id, "调整窗口排班", "电话回访，居民表示认可")
    assert counter.rectifications(db, admin) == []
    d = counter.get(db, a.matter_id)
    assert d.rectification.status == "done" and d.events[-1].kind == "callback"
    with pytest.raises(ValidationError):
        counter.record_callback(db, admin, c.rectification_id, "x", "y")


def test_board_due_overdue_mine(desk):
    db, admin, actor, rid = desk
    t = _type(db, "流动人口居住登记")  # 0 days
    t5 = _type(db, "老年人优待证")  # 5 days
    due = counter.accept(db, actor, rid, t.id, t.required_materials, today=MONDAY)
    old = counter.accept(db, actor, rid, t5.id, t5.required_materials, today=date(2026, 11, 2))
    other = counter.accept(db, admin, rid, t5.id, t5.required_materials, today=MONDAY)
    b = counter.board(db, today=MONDAY)
    assert [r.id for r in b.overdue()] == [old.matter_id]
    assert [r.id for r in b.due_today()] == [due.matter_id]
    assert {r.id for r in b.mine(actor)} == {due.matter_id, old.matter_id}
    assert other.matter_id in {r.id for r in b.open} and b.accepted_today >= 0
    counter.transition(db, actor, old.matter_id, "return", "材料需补正")
    assert old.matter_id not in {r.id for r in counter.board(db, today=MONDAY).open}
    assert [r.receipt_no for r in counter.for_resident(db, rid)][0] in {due.receipt_no, other.receipt_no}


def test_bad_input_never_writes(desk):
    db, _, actor, rid = desk
    t = _type(db, "老年人优待证")
    with db.session() as s:
        before = (
            s.scalar(select(func.count()).select_from(MatterEvent)),
            s.scalar(select(func.count()).select_from(AuditLog)),
        )
    for kwargs in ({"channel": "fax"}, {"note": "长" * 5000}):
        with pytest.raises(ValidationError):
            counter.accept(db, actor, rid, t.id, t.required_materials, **kwargs)
    a = counter.accept(db, actor, rid, t.id, t.required_materials, today=MONDAY)
    with pytest.raises(ValidationError):
        counter.close(db, actor, a.matter_id, "", 5)
    with pytest.raises(ValidationError):
        counter.close(db, actor, a.matter_id, "ok", 7)
    with pytest.raises(ValidationError):
        counter.transition(db, actor, a.matter_id, "reject", "")
    assert counter.get(db, a.matter_id).status == "accepted"
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(MatterEvent)) == before[0] + 1
        assert s.scalar(select(func.count()).select_from(Rectification)) == 0
    residents.mark_deceased(db, actor, rid, MONDAY)
    with pytest.raises(ValidationError) as e:
        counter.accept(db, actor, rid, t.id, t.required_materials)
    assert "已故" in e.value.user_message


def test_supervisor_edits_the_catalogue(desk):
    db, admin, actor, _ = desk
    v = MatterTypeView(
        None,
        "",
        "社区食堂助餐登记",
        "养老服务",
        "direct",
        2,
        materials=[Material("居民身份证", True, 1, "本人", "核对"), Material("", True)],
    )
    with pytest.raises(PermissionDenied):
        counter.save_matter_type(db, actor, v)
    new_id = counter.save_matter_type(db, admin, v)
    got = next(m for m in counter.catalogue(db) if m.id == new_id)
    assert got.local and got.code.startswith("BD-") and [m.name for m in got.materials] == ["居民身份证"]
    got.promised_days = 400
    with pytest.raises(ValidationError) as e:
        counter.save_matter_type(db, admin, got)
    assert e.value.field == "promised_days"
    got.promised_days, got.active = 3, False
    counter.save_matter_type(db, admin, got)
    assert new_id not in {m.id for m in counter.catalogue(db)}
    assert new_id in {m.id for m in counter.catalogue(db, include_inactive=True)}


def test_transfer_to_a_colleague_moves_it_to_their_list(desk):
    db, admin, actor, rid = desk
    t = _type(db, "老年人优待证")
    a = counter.accept(db, actor, rid, t.id, t.required_materials, today=MONDAY)
    names = dict((n, i) for i, n in counter.colleagues(db))
    assert {"管理员", "李前台"} <= set(names)
    counter.transition(db, actor, a.matter_id, "transfer", "AB岗顶岗", to_account=names["管理员"])
    b = counter.board(db, today=MONDAY)
    assert [r.id for r in b.mine(admin)] == [a.matter_id] and b.mine(actor) == []
    d = counter.get(db, a.matter_id)
    assert d.handler_name == "管理员" and d.accepted_by == "李前台" and d.events[-1].target == "管理员"
    # To an office: the handler keeps following it.
    counter.transition(db, admin, a.matter_id, "transfer", "", target="街道民政办")
    assert counter.get(db, a.matter_id).handler_name == "管理员"


def test_counts_for_the_overview(desk):
    db, _, actor, rid = desk
    t0 = _type(db, "流动人口居住登记")
    t5 = _type(db, "老年人优待证")
    counter.accept(db, actor, rid, t0.id, t0.required_materials, today=MONDAY)
    old = counter.accept(db, actor, rid, t5.id, t5.required_materials, today=date(2026, 11, 2))
    counter.close(db, actor, old.matter_id, "ok", 1, today=MONDAY)
    counter.accept(db, actor, rid, t5.id, t5.required_materials, today=date(2026, 11, 2))
    assert counter.counts(db, MONDAY) == {"open": 2, "due_today": 1, "overdue": 1, "rectifications": 1}


def test_catalogue_by_use_puts_this_stations_common_matters_first(desk):
    db, admin, actor, rid = desk
    plain = [t.name for t in counter.catalogue(db)]
    assert [t.name for t in counter.catalogue_by_use(db)] == plain  # nothing accepted yet: catalogue order
    old_age, card = _type(db, "高龄津贴"), _type(db, "老年人优待证")
    for t, n in ((old_age, 2), (card, 3)):
        for _ in range(n):
            counter.accept(db, actor, rid, t.id, t.required_materials, today=MONDAY)
    ordered = [t.name for t in counter.catalogue_by_use(db)]
    assert ordered[:2] == [card.name, old_age.name]
    assert ordered[2:] == [n for n in plain if n not in (card.name, old_age.name)]
    # Matters another station accepted (arrived by sync) do not count for this one.
    with db.session() as s:
        for m in s.scalars(select(Matter).where(Matter.matter_type_id == card.id)):
            m.origin = "340304002"
    assert counter.use_counts(db) == {old_age.id: 2}
    assert [t.name for t in counter.catalogue_by_use(db)][0] == old_age.name
    assert counter.search_catalogue(counter.catalogue_by_use(db), "老年")[0].name == card.name  # search ranks first
