"""A double click does the work once (issue 14, "No re-entry").

Each action used to wait for the worker in a nested event loop with its
button still enabled: a second click delivered inside that loop ran the
action again (two certificates with two serial numbers when the write took
60 ms). Here the write is made to take 60 ms, the button is clicked twice
20 ms apart, and the database holds exactly one record.
"""

from __future__ import annotations

import time
from datetime import date

from PySide6.QtCore import Qt, QTimer
from sqlalchemy import func, select

from db.models import AuditLog
from desktop.services import certificates as certs, counter, residents, volunteers as vol
from desktop.services.idnumbers import make_ric
from desktop.services.residents import ResidentForm
from tests.gui.test_counter_page import make_window
from tests.gui.test_dialogs import type_text


def slow(monkeypatch, module, name: str, ms: int = 60) -> None:
    """The real service function, taking ``ms`` longer (a busy disk)."""
    real = getattr(module, name)

    def slowly(*a, **kw):
        time.sleep(ms / 1000)
        return real(*a, **kw)

    monkeypatch.setattr(module, name, slowly)


def double_click(qtbot, gui, button) -> None:
    """Two clicks 20 ms apart, as an impatient hand gives them; then wait."""
    assert button.isEnabled()
    QTimer.singleShot(20, lambda: qtbot.mouseClick(button, Qt.MouseButton.LeftButton))
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    qtbot.wait(50)
    gui.settle()


def audit_count(db, action: str) -> int:
    with db.session() as s:
        return s.scalar(select(func.count()).select_from(AuditLog).where(AuditLog.action == action))


def _resident(db, actor, name="赵丽"):
    return residents.register(
        db,
        actor,
        ResidentForm(
            name=name, doc_number=make_ric("340304", date(1950, 5, 6), 21), phone="13812345678", estate="幸福里小区"
        ),
    )


def _certificates_page(qtbot, gui, station_db, monkeypatch):
    from desktop.ui.printing import PreviewDialog

    db, admin = station_db
    rid = _resident(db, admin)
    win = make_window(qtbot, gui, db, admin)
    page = win.certificates_page
    win.show_page(win.pages.index(page))
    gui.settle()
    monkeypatch.setattr(PreviewDialog, "exec", lambda self: 0)
    return db, rid, page


def test_issue_clicked_twice_issues_one_certificate(qtbot, gui, station_db, monkeypatch, no_modal_boxes):
    db, rid, page = _certificates_page(qtbot, gui, station_db, monkeypatch)
    type_text(page.search, "居住")
    type_text(page.picker.edit, "赵丽")
    gui.settle()
    assert page.picker.resident_id == rid
    page.field_edits["since"].setText("2015年3月")
    page.field_edits["purpose"].setText("子女入学")
    page.tick_all()
    slow(monkeypatch, certs, "issue")
    double_click(qtbot, gui, page.issue_btn)
    assert len(certs.ledger(db)) == 1
    assert audit_count(db, "certificate_issue") == 1
    assert page.issue_btn.isEnabled()  # back once the result is in


def test_refuse_clicked_twice_records_one_refusal(qtbot, gui, station_db, monkeypatch, no_modal_boxes):
    db, rid, page = _certificates_page(qtbot, gui, station_db, monkeypatch)
    type_text(page.search, "亲属")
    assert page.current.kind == "abolished"
    slow(monkeypatch, certs, "refuse")
    double_click(qtbot, gui, page.refuse_btn)
    assert len(certs.refusals(db)) == 1


def test_accept_clicked_twice_accepts_one_matter(qtbot, gui, station_db, monkeypatch, no_modal_boxes):
    from desktop.ui.pages import counter as cp

    db, admin = station_db
    rid = _resident(db, admin)
    win = make_window(qtbot, gui, db, admin)
    page = win.counter_page
    dlg = cp.AcceptDialog(page, rid)
    qtbot.addWidget(dlg)
    dlg.show()
    gui.settle()  # the catalogue is in
    dlg.what.setText("流动人口居住登记")
    assert dlg.current is not None
    dlg.tick(dlg.current.required_materials)
    slow(monkeypatch, counter, "accept")
    double_click(qtbot, gui, dlg.ok)
    assert len(counter.recent(db, 10)) == 1
    assert dlg.accepted_matter is not None


def test_dispatch_clicked_twice_dispatches_once(qtbot, gui, station_db, monkeypatch, no_modal_boxes):
    from desktop.ui.pages import volunteers as vp

    db, admin = station_db
    _resident(db, admin, "王奶奶")
    today = date.today()
    vol.register(
        db,
        admin,
        vol.VolunteerForm(
            name="张志愿",
            doc_number=make_ric("340304", date(1985, 1, 1), 11),
            skills=["shopping"],
            availability=[f"{today.isoweekday()}am"],
            data_consent=True,
        ),
    )
    nid = vol.create_need(db, admin, vol.NeedForm(title="代买菜", skills=["shopping"], day=today, slot="am"))
    vol.move_need(db, admin, nid, "accept")
    win = make_window(qtbot, gui, db, admin)
    page = win.volunteers_page
    need = next(n for n in vol.list_needs(db) if n.id == nid)
    dlg = vp.MatchDialog(page, need)
    qtbot.addWidget(dlg)
    dlg.show()
    gui.settle()
    assert dlg.table.rowCount() == 1
    slow(monkeypatch, vol, "assign")
    double_click(qtbot, gui, dlg.ok)
    assert len(vol.assignments(db, need_id=nid)) == 1
    assert audit_count(db, "need_assign") == 1
    assert not no_modal_boxes  # no second attempt, no "already booked" message


def test_import_clicked_twice_imports_once(qtbot, gui, station_db, monkeypatch, no_modal_boxes, tmp_path):
    from desktop.services import ledger
    from tests.gui.test_ledger_import import ledger_xlsx, make_dialog

    db, admin = station_db
    dlg = make_dialog(qtbot, gui, db, admin)
    dlg.load_file(ledger_xlsx(tmp_path / "t.xlsx", bad=False))
    gui.settle()
    slow(monkeypatch, ledger, "import_ledger")
    double_click(qtbot, gui, dlg.do_import)
    assert audit_count(db, "residents_import") == 1
    assert dlg.report is not None and dlg.report.imported == 6


def test_save_clicked_twice_registers_one_resident(qtbot, gui, station_db, monkeypatch, no_modal_boxes):
    """保存 in the resident form: with no ID number there is no duplicate guard
    to catch a second save, so only the busy button keeps it to one record."""
    from db.models import Resident
    from desktop.ui.pages.residents import ResidentDialog
    from tests.gui.test_residents_page import make_page

    db, admin = station_db
    page = make_page(qtbot, gui, db, admin)
    slow(monkeypatch, residents, "register")
    dlg = ResidentDialog(page)
    qtbot.addWidget(dlg)
    dlg.show()
    type_text(dlg.name, "王五")
    double_click(qtbot, gui, dlg.ok)
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(Resident).where(Resident.name == "王五")) == 1
    assert dlg.result() == dlg.DialogCode.Accepted and dlg.saved_id is not None


def test_a_result_for_a_closed_dialog_is_dropped_and_the_button_comes_back(qtbot, gui):
    """A read that comes back after its dialog was closed and deleted does not
    touch the dead widgets (it used to raise "Internal C++ object already
    deleted"), and a button the action held elsewhere is enabled again."""
    from PySide6.QtCore import QCoreApplication, QEvent
    from PySide6.QtWidgets import QDialog, QLabel, QPushButton, QVBoxLayout

    page_button = QPushButton("导出")
    qtbot.addWidget(page_button)
    dlg = QDialog()
    label = QLabel("…", dlg)
    QVBoxLayout(dlg).addWidget(label)
    delivered: list[str] = []

    def read() -> str:
        time.sleep(0.1)
        return "共 3 人"

    gui.worker.op(read, lambda text: delivered.append(text) or label.setText(text), busy=[page_button], parent=dlg)
    assert not page_button.isEnabled()
    dlg.deleteLater()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    gui.settle()
    assert delivered == [] and page_button.isEnabled()
    # the same read for a living dialog is delivered
    dlg2 = QDialog()
    qtbot.addWidget(dlg2)
    gui.worker.op(read, delivered.append, busy=[page_button], parent=dlg2)
    gui.settle()
    assert delivered == ["共 3 人"] and page_button.isEnabled()


def test_a_result_for_a_deleted_pages_own_method_is_dropped_without_a_parent(qtbot, gui):
    """A page that loads with ``worker.run(load, self._show)`` and no parent
    (概览, 设置 and others) is closed before its load is back: the result is
    dropped, not handed to the dead page (it raised "Internal C++ object
    already deleted" in a window test's teardown)."""
    from PySide6.QtCore import QCoreApplication, QEvent
    from PySide6.QtWidgets import QLabel

    delivered: list[str] = []

    class Page(QLabel):
        def show_text(self, text: str) -> None:
            delivered.append(text)
            self.setText(text)

    def read() -> str:
        time.sleep(0.1)
        return "共 3 人"

    page = Page("…")
    gui.worker.run(read, page.show_text)
    page.deleteLater()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    gui.settle()
    assert delivered == []
    alive = Page("…")
    qtbot.addWidget(alive)
    gui.worker.run(read, alive.show_text)  # a living page gets it
    gui.settle()
    assert delivered == ["共 3 人"] and alive.text() == "共 3 人"
