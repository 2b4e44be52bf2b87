"""村(居)务公开 postings: 公示期, up/down records, the board, one-click lists."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from db.errors import PermissionDenied, ValidationError
from db.models import Posting
from desktop import paperwork
from desktop.services import accounts, certificates, counter, postings, workitems


@pytest.fixture
def setup(station):
    db, admin = station
    accounts.create_account(db, admin, username="desk1", display_name="李前台", role="desk", password="desk12345")
    desk = accounts.authenticate(db, "desk1", "desk12345")
    return db, admin, desk


def _backdate(db, pid, days):
    with db.session() as s:
        p = s.get(Posting, pid)
        p.posted_at -= timedelta(days=days)


def test_a_posting_with_a_period_stays_up_for_it(setup):
    db, admin, desk = setup
    today = postings.today()
    with pytest.raises(PermissionDenied):
        postings.create(db, desk, title="低保公示", body="x", category="affairs", on_date=today, period_days=7)
    with pytest.raises(ValidationError):  # off before the 7 days have run
        postings.create(
            db,
            admin,
            title="低保公示",
            body="x",
            category="affairs",
            on_date=today,
            period_days=7,
            off_date=today + timedelta(days=5),
        )
    pid = postings.create(
        db,
        admin,
        title="2026年12月低保对象公示",
        body="张某某家庭 3 人",
        category="affairs",
        on_date=today,
        period_days=postings.PRESETS["低保、特困等救助对象公示"],
    )
    p = postings.get(db, pid)
    assert p.off_date == today + timedelta(days=7)
    postings.mark_up(db, desk, pid)
    with pytest.raises(ValidationError):
        postings.mark_up(db, desk, pid)  # a second click records nothing
    with pytest.raises(ValidationError) as e:  # early: a reason is needed
        postings.mark_down(db, desk, pid)
    assert "原因" in e.value.user_message
    postings.mark_down(db, desk, pid, note="家庭情况变化，撤回重新审核")
    p = postings.get(db, pid)
    assert p.removed_note.startswith("家庭") and not p.up


def test_the_board_lists_what_is_up_overdue_and_waiting(setup):
    db, admin, desk = setup
    today = postings.today()
    old = postings.create(
        db,
        admin,
        title="三季度财务公开",
        body="收支明细",
        category="finance",
        on_date=today - timedelta(days=40),
        off_date=today - timedelta(days=10),
    )
    now = postings.create(db, admin, title="党费收缴公开", body="x", category="party", on_date=today)
    waiting = postings.create(db, admin, title="服务公开", body="x", category="service", on_date=today)
    done = postings.create(
        db, admin, title="已撤下", body="x", category="service", on_date=today - timedelta(days=3), off_date=today
    )
    for pid in (old, now, done):
        postings.mark_up(db, desk, pid)
    _backdate(db, old, 40)
    postings.mark_down(db, desk, done)
    b = postings.board(db)
    assert {p.id for p in b.up} == {old, now}
    assert [p.id for p in b.overdue] == [old]
    assert [p.id for p in b.waiting] == [waiting]
    assert postings.counts(db) == {"up": 2, "overdue": 1}
    assert postings.get(db, old).status(today) == "逾期未撤"


def test_one_click_lists_become_postings(setup):
    db, admin, desk = setup
    with pytest.raises(PermissionDenied):
        postings.post_list(db, desk, "certificates")
    ids = {src: postings.post_list(db, admin, src) for src in postings.GENERATORS}
    cert = postings.get(db, ids["certificates"])
    assert all(t.name in cert.body for t in certificates.catalogue(db) if t.kind == "retained")
    wi = postings.get(db, ids["work_items"])
    assert all(t.name in wi.body for t in workitems.catalogue(db))
    menu = postings.get(db, ids["matters"])
    assert all(t.name in menu.body for t in counter.catalogue(db))
    rating = postings.get(db, ids["ratings"])
    assert "好差评" in rating.title and "0 件" in rating.body
    with db.session() as s:
        assert {p.source for p in s.scalars(select(Posting))} == set(postings.GENERATORS)


def test_ratings_posting_counts_last_month_only(setup):
    from desktop.services import residents
    from desktop.services.idnumbers import make_ric
    from desktop.services.residents import ResidentForm

    db, admin, desk = setup
    rid = residents.register(
        db, desk, ResidentForm(name="赵丽", doc_number=make_ric("340304", date(1980, 1, 2), 12), phone="13812345678")
    )
    mt = counter.catalogue(db)[0]
    for level in (5, 5, 2):
        m = counter.accept(db, desk, rid, mt.id, received=[x.name for x in mt.materials])
        counter.close(db, desk, m.matter_id, "办结", level)
    today = postings.today()
    next_month = (today.replace(day=28) + timedelta(days=5)).replace(day=3)
    title, body = postings.ratings_text(db, next_month)
    assert f"{today.month}月" in title and "共收到办事群众评价 3 件" in body and "差评 1 件" in body
    _t, body_now = postings.ratings_text(db, today)
    assert "共收到办事群众评价 0 件" in body_now


def test_posting_prints_on_a4_and_a3_in_large_type(setup):
    db, admin, _desk = setup
    pid = postings.post_list(db, admin, "work_items")
    a4 = paperwork.posting_document(db, pid, "A4")
    a3 = paperwork.posting_document(db, pid, "A3")
    assert round(a3.pages[0].width) == 842 and round(a4.pages[0].width) == 595
    sizes = {op.size for op in a3.pages[0].ops if hasattr(op, "size") and hasattr(op, "text")}
    assert min(sizes) >= 16 and "居务公开" in a4.text
    assert "幸福里社区居民委员会" in a4.text


def test_a_late_posting_keeps_its_full_period(setup):
    db, admin, desk = setup
    today = postings.today()
    pid = postings.create(
        db, admin, title="低保公示", body="x", category="affairs", on_date=today - timedelta(days=3), period_days=7
    )
    assert postings.get(db, pid).off_date == today + timedelta(days=4)
    postings.mark_up(db, desk, pid)  # three days late
    p = postings.get(db, pid)
    assert p.off_date == today + timedelta(days=7) == p.period_end
