"""The 准入 lists and departments' requests checked against them."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from db.errors import PermissionDenied, ValidationError
from db.models import DeptRequest, WorkItem
from desktop import paperwork
from desktop.services import accounts, postings, workitems


@pytest.fixture
def setup(station):
    db, admin = station
    accounts.create_account(db, admin, username="desk1", display_name="李前台", role="desk", password="desk12345")
    desk = accounts.authenticate(db, "desk1", "desk12345")
    items = workitems.catalogue(db)
    return db, admin, desk, items


def _item(items, kind, word):
    return next(t for t in workitems.search(items, word) if t.kind == kind)


def test_the_shipped_lists_have_three_kinds_each_citing_a_basis_and_its_source(setup):
    db, _admin, _desk, items = setup
    kinds = {k: [t for t in items if t.kind == k] for k in workitems.KINDS}
    assert all(len(v) >= 10 for v in kinds.values())
    assert all(t.basis and t.source for t in items)
    # sample entries say they are a sample, not an official text
    assert all("整理示例" in t.source for t in kinds["negative"])
    # search finds the entry by an everyday word, the negative list first
    assert workitems.search(items, "拆违")[0].kind == "negative"
    assert workitems.search(items, "低保")[0].kind == "assist"


def test_a_negative_list_request_is_declined_with_a_numbered_notice_citing_the_rule(setup):
    db, _admin, desk, items = setup
    neg = _item(items, "negative", "拆违")
    today = postings.today()
    r1 = workitems.record_request(
        db,
        desk,
        department="区城市管理局",
        content="请社区负责拆除辖区违建并报送台账",
        received_on=today,
        item_id=neg.id,
    )
    r2 = workitems.record_request(
        db, desk, department="区城市管理局", content="再来一件", received_on=today, item_id=neg.id
    )
    assert (r1.outcome, r1.item_kind) == ("declined", "negative")
    assert r1.serial == f"〔{today.year}〕幸福准字第0001号" and r2.serial.endswith("第0002号")
    doc = paperwork.decline_document(db, r1.id)
    assert neg.name in doc.text and r1.serial in doc.text and "区城市管理局" in doc.text
    assert "意见" in doc.text  # the rule's document is cited


def test_duty_and_assist_are_taken_on_without_a_number_and_cannot_be_printed_as_declined(setup):
    db, _admin, desk, items = setup
    r = workitems.record_request(
        db,
        desk,
        department="街道民政办",
        content="低保家庭入户调查",
        received_on=postings.today(),
        item_id=_item(items, "assist", "低保").id,
    )
    assert (r.outcome, r.serial) == ("accepted", "")
    with pytest.raises(ValidationError):
        paperwork.decline_document(db, r.id)


def test_a_task_on_no_list_is_declined_unless_a_supervisor_takes_it_on_with_a_note(setup):
    db, admin, desk, _items = setup
    today = postings.today()
    r = workitems.record_request(
        db, desk, department="区某局", content="组织辖区商户培训", received_on=today, item_id=None
    )
    assert (r.outcome, r.item_kind) == ("declined", "unlisted") and "准入" in r.basis
    with pytest.raises(PermissionDenied):
        workitems.record_request(
            db, desk, department="区某局", content="x", received_on=today, item_id=None, take_on=True, note="街道同意"
        )
    with pytest.raises(ValidationError):
        workitems.record_request(
            db, admin, department="区某局", content="x", received_on=today, item_id=None, take_on=True
        )
    ok = workitems.record_request(
        db,
        admin,
        department="区某局",
        content="x",
        received_on=today,
        item_id=None,
        take_on=True,
        note="街道办 2026-12-01 准入审核同意",
    )
    assert ok.outcome == "accepted"


def test_bad_input_saves_nothing(setup):
    db, _admin, desk, items = setup
    today = postings.today()
    for kw in (
        {"department": " ", "content": "x"},
        {"department": "局", "content": ""},
        {"department": "局", "content": "x", "received_on": today + timedelta(days=1)},
    ):
        with pytest.raises(ValidationError):
            workitems.record_request(db, desk, **{"received_on": today, "item_id": None, **kw})
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(DeptRequest)) == 0


def test_monitoring_counts_by_department_and_list(setup):
    db, _admin, desk, items = setup
    day = date(2026, 11, 10)
    neg, assist = _item(items, "negative", "台账"), _item(items, "assist", "普查")
    for dept, item in (("区统计局", assist), ("区统计局", neg), ("区统计局", neg), ("区应急局", None)):
        workitems.record_request(
            db, desk, department=dept, content="事项", received_on=day, item_id=item.id if item else None
        )
    workitems.record_request(
        db, desk, department="区应急局", content="下月", received_on=date(2026, 12, 1), item_id=None
    )
    m = workitems.monitoring(db, date(2026, 11, 1), date(2026, 11, 30))
    assert (m.total, m.declined) == (4, 3)
    assert m.by_kind["negative"] == 2 and m.by_kind["assist"] == 1 and m.by_kind["unlisted"] == 1
    assert m.by_department["区统计局"]["negative"] == 2 and m.by_department["区统计局"]["declined"] == 2
    assert workitems.departments(db)[0] == "区统计局"
    assert workitems.monitoring(db, date(2026, 11, 1), date(2026, 11, 30), ("999999999",)).total == 0


def test_only_a_supervisor_edits_the_lists_and_the_file_import_leaves_own_entries_alone(setup, tmp_path):
    db, admin, desk, items = setup
    with pytest.raises(PermissionDenied):
        workitems.save_item(db, desk, None, kind="negative", name="代办快递", basis="本街道规定")
    with pytest.raises(ValidationError):
        workitems.save_item(db, admin, None, kind="negative", name="代办快递", basis=" ")
    own = workitems.save_item(db, admin, None, kind="negative", name="代收快递", basis="本街道减负规定第3条")
    mine = next(t for t in workitems.catalogue(db) if t.id == own)
    assert mine.local and mine.origin_label == "本站增加"
    from desktop.paths import resources_dir

    doc = json.loads((resources_dir() / workitems.SHIPPED).read_text(encoding="utf-8"))
    doc["negative"] = doc["negative"][:3]
    doc["duty"][0]["name"] = "召开居民会议"
    path = tmp_path / "list.json"
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(PermissionDenied):
        workitems.import_catalogue(db, desk, str(path))
    counts = workitems.import_catalogue(db, admin, str(path))
    assert counts == {"added": 0, "updated": 1, "deactivated": 10}
    active = workitems.catalogue(db)
    assert own in {t.id for t in active}
    assert "召开居民会议" in {t.name for t in active}
    with pytest.raises(ValidationError):  # a file entry cannot be edited here
        workitems.save_item(db, admin, active[0].id, kind="duty", name="改", basis="x")
    bad = tmp_path / "bad.json"
    bad.write_text("{", encoding="utf-8")
    with pytest.raises(ValidationError) as e:
        workitems.import_catalogue(db, admin, str(bad))
    assert "工作事项清单" in e.value.user_message
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(WorkItem).where(WorkItem.active.is_(True))) == len(active)
