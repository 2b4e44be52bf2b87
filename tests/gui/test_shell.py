"""The main window, its pages, the idle lock, single instance and the error hook."""

from __future__ import annotations

import sqlite3

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication

from desktop.services import accounts


def make_window(qtbot, gui, db, actor):
    from desktop.ui.main_window import MainWindow

    win = MainWindow(db, actor, accounts.station_info(db), gui.settings, gui.paths, gui.worker)
    qtbot.addWidget(win)
    win.show()
    return win


def test_admin_sees_every_page_and_keyboard_switches(qtbot, gui, station_db):
    db, admin = station_db
    win = make_window(qtbot, gui, db, admin)
    titles = win.page_titles()
    assert titles == [
        "概览",
        "接待台",
        "居民",
        "开具证明",
        "志愿服务",
        "走访",
        "值班",
        "代办",
        "清单公开",
        "心愿·报到",
        "报表",
        "数据交换",
        "账户",
        "操作日志",
        "数据备份",
        "设置",
    ]
    assert "幸福里社区党群服务中心" in win.windowTitle()
    from PySide6.QtWidgets import QLabel

    status = " ".join(w.text() for w in win.statusBar().findChildren(QLabel))
    assert "340304001" in status and "张管理" in status and "管理员" in status
    overview = win.pages[0]
    qtbot.waitUntil(lambda: overview.cards["accounts"].value.text() == "2")
    qtbot.keyClick(win, Qt.Key.Key_9, Qt.KeyboardModifier.ControlModifier)
    assert win.stack.currentIndex() == 8
    win.sidebar.setCurrentRow(titles.index("数据交换"))
    assert win.stack.currentWidget() is win.exchange_page
    win.sidebar.setCurrentRow(titles.index("数据备份"))
    assert win.stack.currentWidget() is win.backups_page
    gui.settle()
    qtbot.keyClick(win, Qt.Key.Key_0, Qt.KeyboardModifier.ControlModifier)  # Ctrl+0 is always 设置
    assert win.stack.currentWidget() is win.settings_page
    qtbot.keyClick(win, Qt.Key.Key_9, Qt.KeyboardModifier.ControlModifier)
    assert win.stack.currentIndex() == 8
    win.sidebar.setCurrentRow(titles.index("操作日志"))
    audit_page = win.pages[titles.index("操作日志")]
    qtbot.waitUntil(lambda: audit_page.table.rowCount() > 0)
    labels = {audit_page.table.item(r, 2).text() for r in range(audit_page.table.rowCount())}
    assert {"建立站点", "新建账户"} <= labels


def test_desk_role_does_not_see_supervisor_pages(qtbot, gui, station_db):
    db, _ = station_db
    desk = accounts.authenticate(db, "desk1", "desk1234")
    win = make_window(qtbot, gui, db, desk)
    assert win.page_titles() == [
        "概览",
        "接待台",
        "居民",
        "开具证明",
        "志愿服务",
        "走访",
        "值班",
        "代办",
        "清单公开",
        "心愿·报到",
        "设置",
    ]
    gui.settle()  # the first page's load is in; keys go to a window at rest
    qtbot.keyClick(win, Qt.Key.Key_0, Qt.KeyboardModifier.ControlModifier)
    assert win.stack.currentWidget() is win.settings_page
    qtbot.keyClick(win, Qt.Key.Key_1, Qt.KeyboardModifier.ControlModifier)
    assert win.stack.currentIndex() == 0
    qtbot.keyClick(win, Qt.Key.Key_0, Qt.KeyboardModifier.ControlModifier)
    assert win.stack.currentWidget() is win.settings_page


def test_accounts_page_creates_an_account(qtbot, gui, station_db, no_modal_boxes, monkeypatch):
    from desktop.ui.pages.accounts import NewAccountDialog

    db, admin = station_db
    win = make_window(qtbot, gui, db, admin)
    page = win.page("accounts")
    win.show_page(win.pages.index(page))
    i = win.page_titles().index("账户")
    win.show_page(i)
    page = win.pages[i]
    qtbot.waitUntil(lambda: page.table.rowCount() == 2)

    def fill_and_submit(dlg):
        qtbot.keyClicks(dlg.username, "sup2")
        dlg.display.setText("赵站长")
        dlg.role.setCurrentIndex(dlg.role.findData("supervisor"))
        qtbot.keyClicks(dlg.password, "short")
        dlg.submit()
        gui.settle()
        assert "至少需要 8 位" in dlg.errors.labels["password"].text()
        dlg.password.setText("sup2pass1")
        dlg.submit()
        gui.settle()
        return dlg.result()

    monkeypatch.setattr(NewAccountDialog, "exec", fill_and_submit)
    page._new()
    qtbot.waitUntil(lambda: page.table.rowCount() == 3)
    assert accounts.authenticate(db, "sup2", "sup2pass1").role == "supervisor"


def test_idle_lock_covers_the_window_and_unlocks(qtbot, gui, station_db):
    from desktop.ui.dialogs import LoginDialog

    db, admin = station_db
    gui.settings.set("idle_lock_minutes", 1)
    win = make_window(qtbot, gui, db, admin)
    assert win._idle.isActive() and win._idle.interval() == 60_000
    seen = {}

    def unlock():
        dlg = QApplication.activeModalWidget()
        assert isinstance(dlg, LoginDialog)
        seen["covered"] = not win.centralWidget().isVisible()
        dlg.reject()  # Esc does not get past a locked screen
        seen["still_open"] = dlg.isVisible()
        dlg.password.setText("wrong-pass")
        dlg.submit()
        seen["error"] = dlg.error.text()
        dlg.password.setText("admin123")
        dlg.submit()

    QTimer.singleShot(50, unlock)
    win._idle.timeout.emit()  # as if ten idle minutes had passed
    assert seen == {"covered": True, "still_open": True, "error": "用户名或密码不正确。"}
    assert win.centralWidget().isVisible() and not win.locked
    from sqlalchemy import select

    from db.models import AuditLog

    with db.session() as s:
        assert "screen_lock" in set(s.scalars(select(AuditLog.action)))


def test_font_size_setting_applies_live_and_is_saved(qtbot, gui, station_db):
    db, admin = station_db
    win = make_window(qtbot, gui, db, admin)
    win.show_page(4)
    win.settings_page.font_size.setValue(16)
    assert QApplication.font().pointSize() == 16
    assert win.pages[0].cards["residents"].value.font().pointSize() == 26
    from desktop.settings import Settings

    assert Settings(gui.paths.settings_file)["font_size"] == 16
    win.settings_page.font_size.setValue(11)


def test_second_instance_on_the_same_database_is_refused(gui):
    from desktop.ui.app import instance_lock

    first = instance_lock(gui.paths, "/data/station.sqlite3")
    assert first is not None
    assert instance_lock(gui.paths, "/data/station.sqlite3") is None
    other = instance_lock(gui.paths, "/data/other.sqlite3")
    assert other is not None
    first.unlock()
    again = instance_lock(gui.paths, "/data/station.sqlite3")
    assert again is not None
    again.unlock()
    other.unlock()


def test_exception_hook_shows_a_friendly_dialog_with_details(qtbot, gui, monkeypatch, no_modal_boxes):
    from desktop.ui import errors

    shown = []
    monkeypatch.setattr(errors.ErrorDialog, "exec", lambda self: shown.append(self) or 0)
    try:
        raise RuntimeError("boom")
    except RuntimeError as e:
        errors._hook(type(e), e, e.__traceback__)
    dlg = shown[0]
    assert "意外的问题" in dlg.message.text() and "已经保存的数据不受影响" in dlg.message.text()
    assert "RuntimeError: boom" in dlg.details.toPlainText()
    dlg._copy()
    assert "RuntimeError: boom" in QApplication.clipboard().text()

    # A full disk is a known error: a plain Chinese message, no traceback.
    disk = sqlite3.OperationalError("database or disk is full")
    errors._hook(type(disk), disk, None)
    assert no_modal_boxes[-1][0] == "warning" and "磁盘空间已满" in no_modal_boxes[-1][1]
