"""Setup, sign-in and lock-out, driven as a person would."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from db.engine import open_database
from desktop.services import accounts


def type_text(widget, text: str) -> None:
    """Type text, Chinese included (qtbot.keyClicks aborts on non-ASCII)."""
    widget.setFocus()
    for ch in text:
        QTest.sendKeyEvent(QTest.KeyAction.Click, widget, Qt.Key.Key_unknown, ch, Qt.KeyboardModifier.NoModifier)


def test_setup_dialog_explains_a_missing_code_and_keeps_the_form(qtbot, gui, tmp_path):
    from desktop.ui.dialogs import SetupDialog

    db = open_database(tmp_path / "new.sqlite3")
    dlg = SetupDialog(db, gui.worker)
    qtbot.addWidget(dlg)
    type_text(dlg.name, "幸福里社区党群服务中心")
    qtbot.keyClicks(dlg.password, "abc12345")
    qtbot.keyClicks(dlg.password2, "abc12345")
    qtbot.mouseClick(dlg.ok, Qt.MouseButton.LeftButton)
    err = dlg.errors.labels["station_code"]
    assert err.isVisibleTo(dlg) and "请填写站点编码" in err.text()
    assert dlg.name.text() == "幸福里社区党群服务中心"  # nothing typed is lost
    assert dlg.password.text() == "abc12345"
    assert dlg.result() == 0 and accounts.station_info(db) is None

    qtbot.keyClicks(dlg.code, "990304001")
    qtbot.mouseClick(dlg.ok, Qt.MouseButton.LeftButton)
    assert "省级行政区划代码" in dlg.errors.labels["station_code"].text()

    dlg.code.clear()
    qtbot.keyClicks(dlg.code, "340304001")
    dlg.password2.clear()
    qtbot.keyClicks(dlg.password2, "different1")
    qtbot.mouseClick(dlg.ok, Qt.MouseButton.LeftButton)
    assert "不一致" in dlg.errors.labels["password2"].text()
    assert not dlg.errors.labels["station_code"].isVisibleTo(dlg)

    dlg.password2.clear()
    qtbot.keyClicks(dlg.password2, "abc12345")
    qtbot.mouseClick(dlg.ok, Qt.MouseButton.LeftButton)
    assert dlg.result() == dlg.DialogCode.Accepted
    assert dlg.actor is not None and dlg.actor.role == "admin"
    info = accounts.station_info(db)
    assert info.name == "幸福里社区党群服务中心" and info.code == "340304001"
    db.close()


def test_login_wrong_password_then_lockout_then_right_password(qtbot, gui, station_db):
    from desktop.ui.dialogs import LoginDialog

    db, _ = station_db
    dlg = LoginDialog(db, gui.worker, "幸福里社区党群服务中心", last_username="desk1")
    qtbot.addWidget(dlg)
    assert dlg.username.text() == "desk1"
    for _i in range(4):
        qtbot.keyClicks(dlg.password, "wrong-pass")
        qtbot.keyClick(dlg.password, Qt.Key.Key_Return)
        assert "用户名或密码不正确" in dlg.error.text()
        assert dlg.password.text() == ""
    assert "再错 1 次" in dlg.error.text()
    qtbot.keyClicks(dlg.password, "wrong-pass")
    qtbot.keyClick(dlg.password, Qt.Key.Key_Return)
    assert "已锁定" in dlg.error.text()
    qtbot.keyClicks(dlg.password, "desk1234")
    qtbot.keyClick(dlg.password, Qt.Key.Key_Return)
    assert "已锁定" in dlg.error.text() and dlg.actor is None

    # A supervisor-level account unlocks it; then the right password works.
    admin = accounts.authenticate(db, "admin", "admin123")
    desk_id = next(a.id for a in accounts.list_accounts(db, admin) if a.username == "desk1")
    accounts.unlock(db, admin, desk_id)
    qtbot.keyClicks(dlg.password, "desk1234")
    qtbot.keyClick(dlg.password, Qt.Key.Key_Return)
    assert dlg.result() == dlg.DialogCode.Accepted
    assert dlg.actor.username == "desk1" and dlg.actor.role == "desk"


def test_login_empty_fields_are_explained(qtbot, gui, station_db):
    from desktop.ui.dialogs import LoginDialog

    db, _ = station_db
    dlg = LoginDialog(db, gui.worker, "站")
    qtbot.addWidget(dlg)
    qtbot.mouseClick(dlg.ok, Qt.MouseButton.LeftButton)
    assert dlg.error.text() == "请输入用户名。"
    qtbot.keyClicks(dlg.username, "admin")
    qtbot.mouseClick(dlg.ok, Qt.MouseButton.LeftButton)
    assert dlg.error.text() == "请输入密码。"


def test_first_run_offers_demo_or_real(qtbot, gui):
    from desktop.ui.dialogs import FirstRunDialog

    dlg = FirstRunDialog("/tmp/x.sqlite3")
    qtbot.addWidget(dlg)
    qtbot.mouseClick(dlg.demo, Qt.MouseButton.LeftButton)
    assert dlg.choice == FirstRunDialog.DEMO and dlg.result() == dlg.DialogCode.Accepted


def test_enter_after_a_wrong_password_submits_once(qtbot, gui, station_db):
    """Shown on screen, Enter in the password used to reach the dialog's default
    button too: a second submit with the cleared field said 请输入密码。"""
    from desktop.ui.dialogs import LoginDialog

    db, _ = station_db
    admin = accounts.authenticate(db, "admin", "admin123")
    for locked in (None, admin):  # sign-in, then the unlock dialog of a locked screen
        dlg = LoginDialog(db, gui.worker, "站", last_username="desk1", locked_user=locked)
        qtbot.addWidget(dlg)
        dlg.show()
        qtbot.waitExposed(dlg)
        dlg.password.setFocus()
        qtbot.keyClicks(dlg.password, "wrong-pass")
        qtbot.keyClick(dlg.password, Qt.Key.Key_Return)
        assert dlg.error.text() == "用户名或密码不正确。"  # not 请输入密码。 from a second submit
        assert dlg.isVisible() and dlg.actor is None
        dlg.hide()


def test_setup_dialog_names_the_committee_beside_the_centre(qtbot, gui, tmp_path):
    from desktop.services import accounts
    from desktop.ui.dialogs import SetupDialog

    db = open_database(tmp_path / "new.sqlite3")
    dlg = SetupDialog(db, gui.worker)
    qtbot.addWidget(dlg)
    type_text(dlg.name, "前进村党群服务中心")
    dlg.level.setCurrentIndex(dlg.level.findData("village"))
    assert dlg.committee.placeholderText() == "例如：前进村村民委员会"
    type_text(dlg.code, "340304101")
    type_text(dlg.party_org, "中共前进村总支部委员会")
    qtbot.keyClicks(dlg.password, "abc12345")
    qtbot.keyClicks(dlg.password2, "abc12345")
    dlg.resize(600, dlg.sizeHint().height())
    dlg.grab().save(str(tmp_path / "setup.png"))
    qtbot.mouseClick(dlg.ok, Qt.MouseButton.LeftButton)
    info = accounts.station_info(db)
    assert (info.committee, info.party_org) == ("前进村村民委员会", "中共前进村总支部委员会")


def test_a_second_enter_while_signing_in_waits_makes_one_attempt(qtbot, gui, station_db, monkeypatch):
    """On a slow disk signing in waits (for the integrity check, or argon2 on
    an old PC); a hurried second Enter in the password field then must not
    start a second attempt: a wrong password would count twice towards the
    lock-out and a right one log two sign-ins."""
    from PySide6.QtCore import QTimer

    from desktop.ui.dialogs import LoginDialog
    from tests.gui.test_no_reentry import audit_count, slow

    db, _ = station_db
    slow(monkeypatch, accounts, "authenticate", ms=150)
    dlg = LoginDialog(db, gui.worker, "站", last_username="desk1")
    qtbot.addWidget(dlg)
    dlg.password.setText("wrong-pass")
    QTimer.singleShot(30, dlg.password.returnPressed.emit)  # the second Enter, during the wait
    dlg.password.returnPressed.emit()
    qtbot.wait(50)
    gui.settle()
    assert audit_count(db, "login_failed") == 1
    assert "用户名或密码不正确" in dlg.error.text() and dlg.password.text() == ""
    dlg.password.setText("desk1234")
    QTimer.singleShot(30, dlg.password.returnPressed.emit)
    dlg.password.returnPressed.emit()
    qtbot.wait(50)
    gui.settle()
    assert audit_count(db, "login") == 1 and dlg.actor is not None and dlg.actor.username == "desk1"
