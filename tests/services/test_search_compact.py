"""The compact resident index (issue 19): an edit keeps the resident's slot
(result lists hold slots) and its old values stop matching; compacting the
blobs changes no result; the whole-registry list is current first, by pinyin."""

from __future__ import annotations

from datetime import date

from db.models import Resident
from desktop.services.names import name_pinyin
from desktop.services.search import ResidentIndex


def _add(s, name, **kw):  # type: ignore[no-untyped-def]
    py, ini = name_pinyin(name)
    r = Resident(name=name, pinyin=py, initials=ini, **kw)
    s.add(r)
    s.flush()
    return r


def test_edits_keep_the_slot_and_old_values_stop_matching(station):
    db, _ = station
    with db.session() as s:
        rid = _add(
            s, "周芷若", birth_date=date(1985, 4, 3), gender=2, phone="13812340000", address_text="峨眉小区1栋"
        ).id
        _add(s, "张无忌", gender=1, address_text="光明顶2栋")
        _add(s, "殷离", gender=2, moved_out=True)
    ix = ResidentIndex(db)
    ix.warm()
    slot = ix.slot_of.get(rid)
    hit = ix.hit_at(slot)
    assert (hit.name, hit.gender, hit.birth_date, hit.phone, hit.address) == (
        "周芷若",
        2,
        date(1985, 4, 3),
        "13812340000",
        "峨眉小区1栋",
    )
    for new_name in ("周芷", "赵敏"):
        with db.session() as s:
            r = s.get(Resident, rid)
            r.name, (r.pinyin, r.initials) = new_name, name_pinyin(new_name)
            r.phone = None
        assert [h.name for h in ix.search(new_name)] == [new_name]
    assert ix.slot_of.get(rid) == slot and ix.hit_at(slot).name == "赵敏" and ix.hit_at(slot).phone == ""
    assert ix.search("周芷若") == [] and ix.search("1381234") == []
    assert [h.name for h in ix.search("zm")] == ["赵敏"]
    before = [(h.name, h.score, h.matched) for q in ("赵", "zm", "小区", "张") for h in ix.search(q)]
    ix._compact()
    assert [(h.name, h.score, h.matched) for q in ("赵", "zm", "小区", "张") for h in ix.search(q)] == before
    assert [ix.hit_at(i).name for i in ix.live_slots()] == ["张无忌", "赵敏", "殷离"]
    with db.session() as s:
        s.get(Resident, rid).retire()
    assert ix.search("赵敏") == [] and ix.hit_of(rid) is None
    assert [ix.hit_at(i).name for i in ix.live_slots()] == ["张无忌", "殷离"]
