from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def _no_leftover_windows(qapp):
    """Delete the windows a test left behind (a main window run_app made, a
    dialog never closed).  Left alive, every later test's make_app re-styles
    them all: after the app-flow tests 5 600 widgets made each set-up 2 s."""
    from PySide6.QtCore import QCoreApplication, QEvent

    before = set(qapp.topLevelWidgets())
    yield
    for w in qapp.topLevelWidgets():
        if w not in before:
            w.close()
            w.deleteLater()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    qapp.processEvents()


@pytest.fixture
def gui(qapp, qtbot, tmp_path, monkeypatch):
    """An app look, a worker, settings and paths in a temporary home."""
    from desktop.paths import app_paths
    from desktop.settings import Settings
    from desktop.ui.app import make_app
    from desktop.ui.worker import SerialWorker

    import sys
    import threading

    # run_app installs its own hooks; give each test the ones it started with.
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)
    monkeypatch.setattr(threading, "excepthook", threading.excepthook)
    paths = app_paths()
    settings = Settings(paths.settings_file)
    make_app(settings)
    worker = SerialWorker()

    class G:
        pass

    g = G()
    g.paths, g.settings, g.worker, g.tmp = paths, settings, worker, tmp_path
    # Page actions run on the worker: wait until every job (and what its
    # callback started) has come back.
    g.settle = lambda timeout=5000: qtbot.waitUntil(lambda: worker.pending == 0, timeout=timeout)
    yield g
    worker.stop()


@pytest.fixture
def station_db(tmp_path):
    from desktop.services import accounts
    from tests.templates import fresh

    db = fresh(tmp_path / "station.sqlite3")
    admin = accounts.setup_station(
        db,
        code="340304001",
        name="幸福里社区党群服务中心",
        level="community",
        admin_username="admin",
        admin_password="admin123",
        admin_display_name="张管理",
    )
    accounts.create_account(db, admin, username="desk1", display_name="李前台", role="desk", password="desk1234")
    yield db, admin
    db.close()


@pytest.fixture
def no_modal_boxes(monkeypatch):
    """Record message boxes instead of blocking on them."""
    from PySide6.QtWidgets import QMessageBox

    shown: list[tuple[str, str]] = []
    for kind in ("information", "warning", "critical"):
        monkeypatch.setattr(
            QMessageBox,
            kind,
            staticmethod(
                lambda parent, title, text, *a, _k=kind, **kw: shown.append((_k, text)) or QMessageBox.StandardButton.Ok
            ),
        )
    monkeypatch.setattr(QMessageBox, "question", staticmethod(lambda *a, **kw: QMessageBox.StandardButton.Yes))
    return shown


@pytest.fixture(autouse=True)
def unexpected_errors_fail(request, monkeypatch):
    """An unexpected-error dialog in a GUI test is a failure, not a hang.

    The real dialog is modal and would wait forever offscreen; a test that
    means to show one patches ``ErrorDialog.exec`` itself (after this runs).
    """
    from desktop.ui import errors

    def fail(self):  # type: ignore[no-untyped-def]
        pytest.fail(
            "unexpected error dialog:\n" + self.details.toPlainText()
            if hasattr(self, "details")
            else "unexpected error dialog"
        )

    monkeypatch.setattr(errors.ErrorDialog, "exec", fail)


@pytest.fixture(autouse=True)
def discard_prompts(monkeypatch):
    """丢弃已填写的内容？ is answered 丢弃 and recorded, so closing a test's
    windows never waits on it.  A test sets ``.answer = False`` to keep typing;
    ``.real`` is the real prompt."""
    from desktop.ui import widgets

    class Prompts(list):
        answer = True
        real = staticmethod(widgets.ask_discard)

    asked = Prompts()

    def ask(parent):  # type: ignore[no-untyped-def]
        asked.append(parent)
        return asked.answer

    monkeypatch.setattr(widgets, "ask_discard", ask)
    return asked
