from datetime import date

import pytest
from sqlalchemy import func, select

from db.errors import ValidationError
from db.models import AuditLog, Resident, ResidentTag
from desktop.services import residents
from desktop.services.idnumbers import make_ric, mask
from desktop.services.residents import DuplicateFound, ResidentForm

ZHANG = "11010519491231002X"


def form(**kw):
    base = dict(
        name="张 三",
        doc_number=" 110105 19491231 002x ",
        phone="138 1234 5678",
        estate="幸福里小区",
        building="3",
        unit="2",
        room="501",
        tags=["高龄", "独居"],
    )
    base.update(kw)
    return ResidentForm(**base)


def test_register_normalises_fills_from_the_id_and_audits(station):
    db, admin = station
    rid = residents.register(db, admin, form())
    v = residents.get(db, rid)
    assert v.form.name == "张三" and v.form.gender == 2 and v.form.birth_date == date(1949, 12, 31)
    assert v.form.phone == "13812345678" and v.form.address_text == "幸福里小区3栋2单元501室"
    assert v.doc_masked == "**************002X" and v.form.doc_number == ""
    assert v.form.tags == ["高龄", "独居"]
    with db.session() as s:
        r = s.get(Resident, rid)
        assert (r.pinyin, r.initials, r.doc_number) == ("zhangsan", "zs", ZHANG)
        line = s.scalar(select(AuditLog).where(AuditLog.action == "resident_create"))
        assert line.target_id == rid and "张" not in str(line.detail) and "1101" not in str(line.detail)


@pytest.mark.parametrize(
    "changes, field, fragment",
    [
        (dict(name="  "), "name", "请填写姓名"),
        (dict(name="长" * 500), "name", "太长"),
        (dict(doc_number="110105194912310021"), "doc_number", "校验位"),
        (dict(phone="12345"), "phone", "格式不对"),
        (dict(phone="12812345678"), "phone", "第二位"),
        (dict(tags=["VIP"]), "tags", "未知的人员类别"),
        (dict(notes="备" * 3000), "notes", "太长"),
    ],
)
def test_bad_input_names_the_field(station, changes, field, fragment):
    db, admin = station
    with pytest.raises(ValidationError) as e:
        residents.register(db, admin, form(**changes))
    assert e.value.field == field and fragment in e.value.user_message
    with db.session() as s:
        assert s.scalar(select(Resident).where(Resident.deleted.is_(False))) is None


def test_other_documents_skip_the_id_check(station):
    db, admin = station
    rid = residents.register(
        db,
        admin,
        form(
            name="Maria Lopez",
            doc_type="passport",
            doc_number="P1234567",
            gender=2,
            birth_date=date(1985, 4, 1),
            tags=[],
        ),
    )
    assert residents.get(db, rid).doc_masked == "****4567"


def test_duplicate_guard_by_number_and_by_name(station):
    db, admin = station
    first = residents.register(db, admin, form())
    with pytest.raises(DuplicateFound) as e:
        residents.register(db, admin, form(phone=""))
    assert e.value.candidates[0].id == first and e.value.candidates[0].reason == "证件号码相同"
    with pytest.raises(DuplicateFound) as e:
        residents.register(db, admin, form(doc_number="", gender=2, birth_date=None))
    assert e.value.candidates[0].reason == "姓名和电话相同"
    second = residents.register(
        db,
        admin,
        form(doc_number="", phone="", gender=2, birth_date=date(1949, 12, 31)),
        duplicate_reason="同名同生日，经核实不是同一人",
    )
    assert second != first
    with db.session() as s:
        line = s.scalars(select(AuditLog).where(AuditLog.action == "resident_create").order_by(AuditLog.seq)).all()[-1]
        assert line.detail == {"duplicate_override": True}


def test_update_keeps_the_number_and_tags_travel_as_tombstones(station):
    db, admin = station
    rid = residents.register(db, admin, form())
    v = residents.get(db, rid)
    f = v.form
    f.tags = ["高龄"]
    f.phone = "0552-1234567"
    residents.update(db, admin, rid, f)
    v2 = residents.get(db, rid)
    assert v2.doc_masked == v.doc_masked and v2.form.phone == "0552-1234567" and v2.form.tags == ["高龄"]
    with db.session() as s:
        tags = {t.tag: t.deleted for t in s.scalars(select(ResidentTag).where(ResidentTag.resident_id == rid))}
    assert tags == {"高龄": False, "独居": True}
    f.tags = ["高龄", "独居"]
    residents.update(db, admin, rid, f)
    assert residents.get(db, rid).form.tags == ["高龄", "独居"]


def test_moved_out_and_deceased_are_marks_not_deletions(station):
    db, admin = station
    rid = residents.register(db, admin, form())
    residents.mark_moved_out(db, admin, rid, date(2026, 1, 5))
    residents.mark_deceased(db, admin, rid, date(2026, 2, 6))
    v = residents.get(db, rid)
    assert v.moved_out and v.moved_out_date == date(2026, 1, 5) and v.deceased


def test_an_identical_id_number_is_refused_for_everyone_even_with_a_reason(station):
    from desktop.services import accounts
    from desktop.services.residents import SameDocumentNumber

    db, admin = station
    first = residents.register(db, admin, form())
    accounts.create_account(db, admin, username="zz", display_name="王站长", role="supervisor", password="zz123456")
    boss = accounts.authenticate(db, "zz", "zz123456")
    for actor in (admin, boss):
        with pytest.raises(SameDocumentNumber) as e:
            residents.register(db, actor, form(name="张三丰", phone=""), duplicate_reason="我确定是另一个人")
        assert not e.value.may_save_anyway and "不能登记两次" in e.value.user_message
        [c] = e.value.candidates
        assert c.id == first and c.same_document and c.doc_masked == mask(ZHANG) and ZHANG not in str(c)
    # Other documents too: the same type and number is one person.
    residents.register(db, admin, form(name="Maria", doc_type="passport", doc_number="P1234567", gender=2, tags=[]))
    with pytest.raises(SameDocumentNumber):
        residents.register(
            db,
            admin,
            form(name="Mario", doc_type="passport", doc_number="p 1234567", gender=1, tags=[]),
            duplicate_reason="x",
        )
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(Resident)) == 2
        assert s.scalar(select(func.count()).select_from(AuditLog).where(AuditLog.action == "resident_create")) == 2


def test_a_near_match_may_still_be_saved_with_a_reason(station):
    from desktop.services.residents import SameDocumentNumber

    db, admin = station
    residents.register(db, admin, form())
    other = make_ric("110105", date(1949, 12, 31), 4)  # same name and birth date, another number
    with pytest.raises(DuplicateFound) as e:
        residents.register(db, admin, form(doc_number=other, phone=""))
    assert not isinstance(e.value, SameDocumentNumber) and e.value.may_save_anyway
    assert e.value.candidates[0].reason == "姓名和出生日期相同" and not e.value.candidates[0].same_document
    assert residents.register(db, admin, form(doc_number=other, phone=""), duplicate_reason="同名同生日，已核对")


def test_a_deleted_record_does_not_block_its_number(station):
    db, admin = station
    rid = residents.register(db, admin, form())
    with db.session() as s:
        s.get(Resident, rid).deleted = True  # a tombstone (merged away at the hub)
    assert residents.register(db, admin, form()) != rid


def test_editing_cannot_take_another_residents_number(station):
    from desktop.services.residents import SameDocumentNumber

    db, admin = station
    zhang = residents.register(db, admin, form())
    li = residents.register(
        db, admin, form(name="李四", doc_number=make_ric("110105", date(1960, 1, 1), 3), phone="", tags=[])
    )
    f = residents.get(db, li).form
    f.doc_number = ZHANG
    with pytest.raises(SameDocumentNumber) as e:
        residents.update(db, admin, li, f, duplicate_reason="我确定")
    assert e.value.candidates[0].id == zhang
    with db.session() as s:
        assert s.get(Resident, li).name == "李四" and s.get(Resident, li).doc_number != ZHANG
    # Editing a record without touching its number is fine.
    f = residents.get(db, li).form
    f.phone = "13900000000"
    residents.update(db, admin, li, f)


def test_a_record_already_sharing_its_number_can_still_be_edited(station):
    """Two stations registered the same person before a sync: both records
    stay editable (with a reason) until they are merged."""
    from desktop.services.residents import SameDocumentNumber, _apply

    db, admin = station
    first = residents.register(db, admin, form())
    with db.session() as s:
        twin = Resident()
        _apply(twin, residents.validate(form(name="张三", phone="")))
        s.add(twin)
        s.flush()
        twin_id = twin.id
    f = residents.get(db, twin_id).form
    f.notes = "待合并"
    with pytest.raises(DuplicateFound) as e:
        residents.update(db, admin, twin_id, f)
    assert not isinstance(e.value, SameDocumentNumber) and e.value.candidates[0].id == first
    residents.update(db, admin, twin_id, f, duplicate_reason="与另一站点重复登记，待合并")
    assert residents.get(db, twin_id).form.notes == "待合并"
