"""走访 in the window, as a desk worker would use it at 1366×768: the week's
list by grid, a double click on a household, the result typed in, 保存
clicked twice (one visit), the household leaving the list, the found need
turned into a volunteer need in one click, and the printed 任务单."""

from __future__ import annotations

from datetime import date, timedelta

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from sqlalchemy import func, select

from db.models import Need, Visit
from desktop.services import accounts, residents, visits
from desktop.services.residents import ResidentForm
from desktop.services.visits import VisitForm
from tests.gui.test_counter_page import make_window
from tests.gui.test_no_reentry import double_click, slow


def type_cn(widget, text: str) -> None:
    widget.setFocus()
    for ch in text:
        QTest.sendKeyEvent(QTest.KeyAction.Click, widget, Qt.Key.Key_unknown, ch, Qt.KeyboardModifier.NoModifier)


def _visits(db) -> int:
    with db.session() as s:
        return s.scalar(select(func.count()).select_from(Visit))


def test_record_a_visit_end_to_end(qtbot, gui, station_db, monkeypatch, no_modal_boxes, tmp_path):
    from desktop.ui.pages import visits as vp
    from desktop.ui.printing import PreviewDialog

    db, admin = station_db
    alone = residents.register(
        db,
        admin,
        ResidentForm(
            name="王奶奶",
            tags=["独居"],
            grid="第一网格",
            estate="幸福里",
            building="3",
            unit="1",
            room="201",
            phone="13800000001",
        ),
    )
    old = residents.register(
        db,
        admin,
        ResidentForm(
            name="赵爷爷", tags=["特困"], grid="第二网格", estate="和平苑", building="1", unit="1", room="101"
        ),
    )
    visits.record_visit(db, admin, VisitForm(resident_id=old, day=date.today() - timedelta(days=9), met="本人"))
    desk = accounts.authenticate(db, "desk1", "desk1234")
    win = make_window(qtbot, gui, db, desk)
    page = win.visits_page
    win.show_page(win.pages.index(page))
    qtbot.waitUntil(lambda: gui.worker.pending == 0 and page.due_table.rowCount() == 2)
    assert not page.tier_btn.isEnabled()  # 站长 only
    assert page.due_table.item(0, 0).text() == "从未走访" and page.due_table.item(0, 3).text() == "王奶奶"
    assert page.due_table.item(1, 0).text() == "已逾期 2 天"
    page.grab().save(str(tmp_path / "visits.png"))
    # the grid filter
    page.grid.setCurrentIndex(page.grid.findData("第二网格"))
    qtbot.waitUntil(lambda: gui.worker.pending == 0 and page.due_table.rowCount() == 1)
    page.grid.setCurrentIndex(0)
    qtbot.waitUntil(lambda: gui.worker.pending == 0 and page.due_table.rowCount() == 2)

    slow(monkeypatch, visits, "record_visit")
    seen = {}

    def fill(dlg):
        type_cn(dlg.met, "本人")
        type_cn(dlg.situation, "身体尚可")
        type_cn(dlg.needs, "需要陪同去医院复查")
        seen["shot"] = dlg.grab()
        double_click(qtbot, gui, dlg.ok)
        return dlg.result()

    monkeypatch.setattr(vp.VisitDialog, "exec", fill)
    page.due_table.selectRow(0)
    page.due_table.cellDoubleClicked.emit(0, 0)
    gui.settle()
    seen["shot"].save(str(tmp_path / "dialog.png"))
    assert _visits(db) == 2  # the earlier one and exactly one new
    qtbot.waitUntil(lambda: page.due_table.rowCount() == 1)
    assert page.due_table.item(0, 3).text() == "赵爷爷"
    assert "转为志愿服务需求" in page.note.text()
    # the found need becomes a volunteer need in one click
    page.tabs.setCurrentIndex(1)
    qtbot.waitUntil(lambda: page.log_table.rowCount() == 2)
    row = next(i for i in range(2) if page.log_table.item(i, 1).text() == "王奶奶")
    page.log_table.selectRow(row)
    double_click(qtbot, gui, page.need_btn)
    with db.session() as s:
        [n] = s.scalars(select(Need)).all()
        assert n.resident_id == alone and n.status == "review"
    qtbot.waitUntil(
        lambda: (
            gui.worker.pending == 0
            and any(page.log_table.item(i, 8).text() == "已转志愿服务需求" for i in range(page.log_table.rowCount()))
        )
    )
    page.grab().save(str(tmp_path / "log.png"))

    # a visit in the future: a message under the date, nothing saved
    def future(dlg):
        dlg.day.setDate(dlg.day.date().addDays(1))
        type_cn(dlg.met, "本人")
        dlg.submit()
        gui.settle()
        assert "不能晚于今天" in dlg.errors.labels["day"].text() and not dlg.errors.labels["day"].isHidden()
        return 0

    monkeypatch.setattr(vp.VisitDialog, "exec", future)
    page.tabs.setCurrentIndex(0)
    page.due_table.selectRow(0)
    page.record()
    gui.settle()
    assert _visits(db) == 2
    # the printed list
    shown = []
    monkeypatch.setattr(PreviewDialog, "exec", lambda self: shown.append(self) or 0)
    page.print_btn.click()
    gui.settle()
    assert shown and "走访任务单" in shown[0].windowTitle()
