"""run_app end to end, as a newcomer meets it: no data -> demo -> sign in -> main window."""

from __future__ import annotations

import re
import time

import pytest

from PySide6.QtCore import QEventLoop, QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

from desktop.services import accounts


def drive(steps, monkeypatch):
    """Act on whatever modal dialog is up, every 50 ms, until the main window shows.

    The application's own event loop is replaced by a local one: quitting the
    real one would leave Qt refusing to run event loops in later tests."""
    from desktop.ui.dialogs import FirstRunDialog, LoginDialog, SetupDialog

    log = []
    main_loop = QEventLoop()
    monkeypatch.setattr(QApplication, "exec", lambda self: main_loop.exec())
    deadline = time.monotonic() + 60

    def tick():
        if steps.get("stop"):  # run_app returned without a main window
            return
        if time.monotonic() > deadline:  # a dialog that keeps coming back: fail, do not hang CI
            log.append("timeout")
            w = QApplication.activeModalWidget()
            if w is not None:
                w.reject()
            main_loop.exit(1)
            return
        app = QApplication.instance()
        win = app.property("mainWindow")
        if win is not None and win.isVisible():
            log.append(("main", win.windowTitle(), win.page_titles()))
            win.close()
            main_loop.exit(0)
            return
        w = QApplication.activeModalWidget()
        if isinstance(w, FirstRunDialog):
            log.append("first-run")
            steps["first_run"](w)
        elif isinstance(w, QMessageBox):
            log.append(("message", w.text()))
            w.accept()
        elif isinstance(w, SetupDialog):
            log.append("setup")
            steps["setup"](w)
        elif isinstance(w, LoginDialog):
            log.append("login")
            w.password.setText(steps["password"])
            w.submit()
        QTimer.singleShot(50, tick)

    QTimer.singleShot(50, tick)
    return log


@pytest.mark.slow
def test_fresh_machine_demo_station_to_main_window(qapp, gui, monkeypatch):
    from desktop.ui.app import run_app

    qapp.setProperty("mainWindow", None)
    log = drive({"first_run": lambda d: d.demo.click(), "password": "demo1234"}, monkeypatch)
    rc = run_app(None, gui.paths, gui.settings)
    assert rc == 0
    assert log[0] == "first-run"
    assert any(isinstance(x, tuple) and x[0] == "message" and "演示站点已建立" in x[1] for x in log)
    main = [x for x in log if isinstance(x, tuple) and x[0] == "main"][0]
    assert "社区一站通" in main[1] and main[2] == [
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
    from db.engine import open_database

    db = open_database(gui.paths.default_db)
    assert accounts.station_info(db).code == "340304001"
    db.close()
    qapp.setProperty("mainWindow", None)


def test_second_instance_says_so_and_exits_cleanly(qapp, gui, monkeypatch):
    from desktop.ui.app import instance_lock, run_app

    url = str(gui.tmp / "s.sqlite3")
    held = instance_lock(gui.paths, url)
    said = []
    monkeypatch.setattr(QMessageBox, "information", staticmethod(lambda p, t, text, *a: said.append(text)))
    assert run_app(url, gui.paths, gui.settings) == 0
    assert "已经在运行" in said[0]
    held.unlock()


def test_corrupt_database_is_refused_with_a_message(qapp, gui, monkeypatch):
    from desktop.ui.app import run_app

    bad = gui.tmp / "bad.sqlite3"
    bad.write_bytes(b"SQLite format 3\x00" + b"\xff" * 5000)
    said = []
    monkeypatch.setattr(QMessageBox, "critical", staticmethod(lambda p, t, text, *a: said.append(text)))
    assert run_app(str(bad), gui.paths, gui.settings) == 2
    assert "损坏" in said[0] or "不是" in said[0]
    assert bad.read_bytes() == b"SQLite format 3\x00" + b"\xff" * 5000


def test_cancelling_station_setup_leaves_no_file_and_the_welcome_returns(qapp, gui, monkeypatch):
    """Issue 14, first run: 建立正式站点 then 取消 used to leave an empty
    station file, so the next start skipped the welcome and went straight to
    the set-up form (and the demo choice was gone for good)."""
    from desktop.ui.app import run_app

    qapp.setProperty("mainWindow", None)
    steps = {"first_run": lambda d: d.real.click(), "setup": lambda d: d.reject()}
    log = drive(steps, monkeypatch)
    assert run_app(None, gui.paths, gui.settings) == 0
    steps["stop"] = True
    assert log == ["first-run", "setup"]
    data = gui.paths.default_db.parent
    assert not gui.paths.default_db.exists()
    assert [p.name for p in data.iterdir() if p.name.startswith("station")] == []

    again = {"first_run": lambda d: d.reject()}
    log2 = drive(again, monkeypatch)
    assert run_app(None, gui.paths, gui.settings) == 0
    again["stop"] = True
    assert log2 == ["first-run"]
    qapp.setProperty("mainWindow", None)


@pytest.mark.slow
def test_a_station_file_copied_to_another_pc_asks_for_the_recovery_code(qapp, gui, monkeypatch, tmp_path):
    """Encryption at rest: the file opens without a question on the PC that made
    it; elsewhere (no machine key) it asks for the recovery code, refuses a
    wrong one in Chinese, and opens with the right one.  The administrator
    sees the recovery code once, at the first sign-in after set-up."""
    from PySide6.QtWidgets import QInputDialog

    from db import keys
    from db.engine import open_database
    from desktop.ui.app import run_app
    from desktop.ui.dialogs import LoginDialog

    path = tmp_path / "station.sqlite3"
    db = open_database(path)
    accounts.setup_station(
        db,
        code="340304001",
        name="幸福里社区党群服务中心",
        level="community",
        admin_username="admin",
        admin_password="admin123",
    )
    db.close()

    def run(answers):
        log, main_loop = [], QEventLoop()
        monkeypatch.setattr(QApplication, "exec", lambda self: main_loop.exec())
        qapp.setProperty("mainWindow", None)

        def tick():
            win = QApplication.instance().property("mainWindow")
            if win is not None and win.isVisible():
                log.append("main")
                win.close()
                main_loop.exit(0)
                return
            w = QApplication.activeModalWidget()
            if isinstance(w, QInputDialog):
                log.append("unlock")
                w.setTextValue(answers.pop(0))
                w.accept()
            elif isinstance(w, QMessageBox):
                log.append(("message", w.text()))
                w.accept()
            elif isinstance(w, LoginDialog):
                log.append("login")
                w.username.setText("admin")
                w.password.setText("admin123")
                w.submit()
            QTimer.singleShot(50, tick)

        QTimer.singleShot(50, tick)
        assert run_app(str(path), gui.paths, gui.settings) == 0
        qapp.setProperty("mainWindow", None)
        return log

    first = run([])
    assert first[0] == "login" and first[-1] == "main"
    shown = [m[1] for m in first if isinstance(m, tuple) and "恢复码（只显示这一次）" in m[1]]
    assert len(shown) == 1
    code = re.search(r"[0-9A-Z]{4}(?:-[0-9A-Z]{4}){5}", shown[0]).group(0)
    assert run([]) == ["login", "main"]  # the code is not shown again

    monkeypatch.setenv("STATION_DESK_HOME", str(tmp_path / "another-pc"))
    keys.forget()
    log = run(["AAAA-BBBB-CCCC-DDDD-EEEE-FFFF", code])
    assert log[0] == "unlock"
    assert isinstance(log[1], tuple) and "恢复码或管理员密码不正确" in log[1][1]
    assert log[2:] == ["unlock", "login", "main"]


@pytest.mark.slow
def test_a_file_damaged_behind_the_sign_in_offers_the_backup_then_signs_in(qapp, gui, monkeypatch):
    """The sign-in shows while the integrity check still runs; when the check
    then fails, the dialog closes, the newest good backup is offered, and the
    person signs in to the restored station.  Nothing was written to the
    damaged file, which is kept aside."""
    import hashlib

    from db import keys, precheck
    from db.engine import open_database
    from desktop.services import backups, demo
    from desktop.ui import app as app_mod
    from desktop.ui.app import run_app

    path = gui.tmp / "station.sqlite3"
    db = open_database(path)
    demo.create_demo_station(db, n_residents=300)
    admin = accounts.authenticate(db, "admin", "demo1234")
    backups.create(db, admin, gui.settings, "auto")
    db.close()
    gui.settings.set("last_username", "admin")  # a returning worker: the sign-in knows the name
    with keys.connect(path, keys.station_key(path)) as con:
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    data = bytearray(path.read_bytes())
    for i in range(len(data) - 3 * 4096 + 100, len(data), 7):
        data[i] = 0xA5
    path.write_bytes(bytes(data))
    damaged = hashlib.sha256(path.read_bytes()).hexdigest()

    offers = []
    monkeypatch.setattr(app_mod, "ask_restore_after_corruption", lambda msg, offer: offers.append(msg) or True)
    qapp.setProperty("mainWindow", None)
    log = drive({"password": "demo1234"}, monkeypatch)
    slow = precheck._quick_check  # an old PC's disk: the check outlasts the sign-in's first moments

    def slow_check(con):
        time.sleep(0.5)
        return slow(con)

    monkeypatch.setattr(precheck, "_quick_check", slow_check)
    precheck.begin(path)  # as the gui command does, first thing
    assert run_app(str(path), gui.paths, gui.settings) == 0
    assert log[0] == "login" and offers and "损坏" in offers[0]
    assert any(isinstance(x, tuple) and x[0] == "message" and "已从备份恢复" in x[1] for x in log)
    assert [x for x in log if isinstance(x, tuple) and x[0] == "main"]
    aside = [p for p in path.parent.iterdir() if ".damaged-" in p.name and p.suffix == ".sqlite3"]
    assert len(aside) == 1 and hashlib.sha256(aside[0].read_bytes()).hexdigest() == damaged
    qapp.setProperty("mainWindow", None)
