"""Escape, 取消 or closing a form with typed input asks 丢弃已填写的内容？ first;
an untouched form closes at once."""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QDialog, QLineEdit, QMessageBox, QPushButton

from tests.gui.test_counter_page import make_window
from tests.gui.test_dialogs import type_text


def _shown(qtbot, dlg):
    qtbot.addWidget(dlg)
    dlg.show()
    qtbot.waitExposed(dlg)
    return dlg


def _first_edit(dlg) -> QLineEdit:
    return next(
        w
        for w in dlg.findChildren(QLineEdit)
        if w.isVisibleTo(dlg) and w.isEnabled() and not w.isReadOnly() and w.window() is dlg
    )


def test_escape_on_a_typed_form_asks_and_keeps_it(qtbot, gui, station_db, discard_prompts):
    from desktop.ui.pages.residents import ResidentDialog

    db, admin = station_db
    win = make_window(qtbot, gui, db, admin)
    dlg = _shown(qtbot, ResidentDialog(win.residents_page))
    type_text(dlg.name, "张")
    discard_prompts.answer = False
    qtbot.keyClick(dlg.name, Qt.Key.Key_Escape)
    assert len(discard_prompts) == 1 and dlg.isVisible()  # 继续填写: nothing lost
    assert dlg.name.text() == "张"
    dlg.close()  # the window's close button asks too
    assert len(discard_prompts) == 2 and dlg.isVisible()
    discard_prompts.answer = True
    qtbot.keyClick(dlg.name, Qt.Key.Key_Escape)
    assert len(discard_prompts) == 3 and not dlg.isVisible() and dlg.result() == QDialog.DialogCode.Rejected


def test_an_untouched_form_closes_without_asking(qtbot, gui, station_db, discard_prompts):
    from desktop.ui.pages.residents import ResidentDialog

    db, admin = station_db
    win = make_window(qtbot, gui, db, admin)
    dlg = _shown(qtbot, ResidentDialog(win.residents_page))
    qtbot.keyClick(dlg.name, Qt.Key.Key_Escape)
    assert discard_prompts == [] and not dlg.isVisible()
    # Typing and deleting it again is no change either.
    dlg = _shown(qtbot, ResidentDialog(win.residents_page))
    qtbot.keyClicks(dlg.phone, "13")
    qtbot.keyClick(dlg.phone, Qt.Key.Key_Backspace)
    qtbot.keyClick(dlg.phone, Qt.Key.Key_Backspace)
    qtbot.keyClick(dlg.phone, Qt.Key.Key_Escape)
    assert discard_prompts == [] and not dlg.isVisible()


def test_every_form_dialog_asks_on_escape_and_cancel(qtbot, gui, station_db, discard_prompts):
    from desktop.ui.pages.accounts import NewAccountDialog
    from desktop.ui.pages.counter import AcceptDialog
    from desktop.ui.pages.volunteers import NeedDialog, VolunteerDialog

    db, admin = station_db
    win = make_window(qtbot, gui, db, admin)
    accounts_page = next(p for p in win.pages if p.title == "账户")
    makers = [
        lambda: AcceptDialog(win.counter_page),
        lambda: NeedDialog(win.volunteers_page),
        lambda: VolunteerDialog(win.volunteers_page),
        lambda: NewAccountDialog(accounts_page),
    ]
    discard_prompts.answer = False
    for make in makers:
        dlg = _shown(qtbot, make())
        edit = _first_edit(dlg)
        type_text(edit, "王")
        before = len(discard_prompts)
        qtbot.keyClick(edit, Qt.Key.Key_Escape)
        cancel = next(b for b in dlg.findChildren(QPushButton) if b.text() == "取消")
        cancel.click()
        assert len(discard_prompts) == before + 2 and dlg.isVisible(), type(dlg).__name__
        discard_prompts.answer = True
        cancel.click()
        assert not dlg.isVisible(), type(dlg).__name__
        discard_prompts.answer = False


def test_closing_the_window_with_a_typed_certificate_form_asks(qtbot, gui, station_db, discard_prompts):
    db, admin = station_db
    win = make_window(qtbot, gui, db, admin)
    page = win.certificates_page
    win.show_page(win.pages.index(page))
    qtbot.waitUntil(lambda: gui.worker.pending == 0)
    type_text(page.search, "居住")
    assert page.current.name == "居住证明" and page.field_edits
    win.close()
    assert discard_prompts == [] and not win.isVisible()  # nothing typed: no question
    win.show()
    type_text(next(iter(page.field_edits.values())), "子女入学")
    discard_prompts.answer = False
    win.close()
    assert len(discard_prompts) == 1 and win.isVisible()
    settings = win.settings_page
    next(iter(page.field_edits.values())).clear()
    qtbot.keyClicks(settings.old, "abc")
    win.close()
    assert len(discard_prompts) == 2 and win.isVisible()
    discard_prompts.answer = True
    win.close()
    assert not win.isVisible()


def test_the_question_is_in_chinese_and_defaults_to_keep_typing(qtbot, gui, discard_prompts):
    parent = QDialog()
    qtbot.addWidget(parent)
    seen = []

    def answer(which: str) -> None:
        box = QApplication.activeModalWidget()
        assert isinstance(box, QMessageBox)
        seen.append((box.text(), box.defaultButton().text(), [b.text() for b in box.buttons()]))
        next(b for b in box.buttons() if b.text() == which).click()

    QTimer.singleShot(0, lambda: answer("丢弃"))
    assert discard_prompts.real(parent) is True
    QTimer.singleShot(0, lambda: answer("继续填写"))
    assert discard_prompts.real(parent) is False
    assert seen[0][0] == "丢弃已填写的内容？" and seen[0][1] == "继续填写" and set(seen[0][2]) == {"丢弃", "继续填写"}
