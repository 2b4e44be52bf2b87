"""The weekly 值班表: A4 landscape, one page, every window and shift of the
week with its kind, who covers whom, the A/B pairs and the office hours."""

from __future__ import annotations

from datetime import date, datetime, time

from desktop import paperwork
from desktop.documents import fonts
from desktop.services import accounts, rota
from desktop.services.rota import AreaView, ShiftForm

MONDAY = date(2026, 11, 23)


def test_the_weekly_sheet_is_a_landscape_page_with_the_whole_week(station):
    db, admin = station
    for user, name in (("a1", "张敏"), ("b1", "刘洋")):
        accounts.create_account(db, admin, username=user, display_name=name, role="desk", password="pass12345")
    a = accounts.authenticate(db, "a1", "pass12345")
    b = accounts.authenticate(db, "b1", "pass12345")
    rota.save_area(db, admin, AreaView(None, "社会救助", "1号窗口", ["社会救助"], a.account_id, b.account_id))
    rota.save_shift(db, admin, ShiftForm(a.account_id, "1号窗口", MONDAY, time(8, 30), time(17, 30)))
    rota.save_shift(db, admin, ShiftForm(b.account_id, "1号窗口", MONDAY, time(17, 30), time(19, 30), "extended"))
    rota.save_shift(
        db, admin, ShiftForm(b.account_id, "2号窗口", date(2026, 11, 28), time(9, 0), time(12, 0), "staggered")
    )
    rota.mark_away(db, admin, a.account_id, "training", datetime(2026, 11, 24, 8, 30), datetime(2026, 11, 24, 17, 30))
    doc = paperwork.rota_sheet_document(db, date(2026, 11, 26), fonts.resolve())
    assert len(doc.pages) == 1
    page = doc.pages[0]
    assert page.width > page.height  # landscape
    text = doc.text
    for s in (
        "值班表",
        "2026年11月23日",
        "1号窗口",
        "2号窗口",
        "11月28日 周六",
        "（休息日）",
        "张敏",
        "08:30–17:30",
        "刘洋 延时",
        "17:30–19:30",
        "刘洋 错时",
        "09:00–12:00",
        "A岗 张敏，B岗 刘洋",
        "张敏 培训",
        "刘洋代岗",
        "工作日 08:30–17:30",
    ):
        assert s in text, s
    assert not fonts.resolve().missing(text)
