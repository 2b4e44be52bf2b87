from datetime import date

import pytest
from sqlalchemy import select

from db.errors import ValidationError
from db.models import AuditLog, Resident, ResidentTag
from desktop.services import residents
from desktop.services.residents import DuplicateFound, ResidentForm

ZHANG = "11010519491231002X"


def form(**kw):
    base = dict(name="张 三", doc_number=" 110105 19491231 002x ", phone="138 1234 5678", estate="幸福里小区",
                building="3", unit="2", room="501", tags=["高龄", "独居"])
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
    rid = residents.register(db, admin, form(name="Maria Lopez", doc_type="passport", doc_number="P1234567",
                                             gender=2, birth_date=date(1985, 4, 1), tags=[]))
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
    second = residents.register(db, admin, form(doc_number="", phone="", gender=2, birth_date=date(1949, 12, 31)),
                                duplicate_reason="同名同生日，经核实不是同一人")
    assert second != first
    with db.session() as s:
        line = s.scalars(select(AuditLog).where(AuditLog.action == "resident_create")
                         .order_by(AuditLog.seq)).all()[-1]
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
