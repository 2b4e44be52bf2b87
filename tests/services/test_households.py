"""Households: head, relations, moving members, new households; never deleting."""

from __future__ import annotations

from datetime import date

import pytest

from db.errors import ValidationError
from desktop.services import households, residents
from desktop.services.idnumbers import make_ric
from desktop.services.residents import ResidentForm


def _r(db, actor, name, year, seq):
    return residents.register(
        db,
        actor,
        ResidentForm(
            name=name,
            doc_number=make_ric("340304", date(year, 1, 2), seq),
            estate="幸福里小区",
            building="3",
            unit="1",
            room="502",
        ),
    )


def test_build_a_household_change_head_and_move(station):
    db, admin = station
    dad, mum, son, other = (
        _r(db, admin, n, y, s)
        for n, y, s in (("张建国", 1960, 11), ("李秀兰", 1962, 22), ("张伟", 1988, 31), ("王芳", 1990, 42))
    )
    hid = households.new_household(db, admin, dad)
    assert households.of_resident(db, dad).head_id == dad
    households.move(db, admin, mum, hid, "配偶")
    households.move(db, admin, son, hid, "子")
    h = households.get(db, hid)
    assert [m.name for m in h.members] == ["张建国", "李秀兰", "张伟"]
    assert h.summary().startswith(f"户号 {h.number} · 户主 张建国 · 3 人")
    assert h.address == "幸福里小区3栋1单元502室"
    with pytest.raises(ValidationError) as e:
        households.move(db, admin, other, hid, "户主")
    assert "已有户主" in e.value.user_message
    with pytest.raises(ValidationError):
        households.move(db, admin, other, hid, "朋友")  # not a relation
    with pytest.raises(ValidationError):
        households.move(db, admin, son, hid, "子")  # already there
    # Head changes: the old head's relation must be re-entered.
    households.set_head(db, admin, hid, son)
    h = households.get(db, hid)
    assert h.head_id == son and {m.name: m.relation for m in h.members}["张建国"] == "其他"
    households.set_relation(db, admin, dad, "父亲")
    with pytest.raises(ValidationError):
        households.set_relation(db, admin, son, "子")  # the head stays 户主
    with pytest.raises(ValidationError):
        households.set_relation(db, admin, dad, "户主")
    # The head moves out to a new household: the old one is headless, not deleted.
    new = households.new_household(db, admin, son, number="H900001")
    assert households.get(db, hid).head_id is None and households.get(db, hid).summary().endswith("2 人")
    assert "（无户主）" in households.get(db, hid).summary()
    with pytest.raises(ValidationError) as e:
        households.new_household(db, admin, other, number="H900001")
    assert "已被使用" in e.value.user_message
    assert [h.id for h in households.search(db, "H900001")] == [new]
    assert hid in {h.id for h in households.search(db, "幸福里")}
    residents.mark_deceased(db, admin, mum, date(2026, 1, 1))
    with pytest.raises(ValidationError):
        households.set_head(db, admin, hid, mum)
    assert {m.name: m.status for m in households.get(db, hid).members}["李秀兰"] == "已故"
