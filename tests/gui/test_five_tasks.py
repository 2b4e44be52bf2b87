"""The five daily tasks at the desk, done with real clicks and keys on a
demo-like station, counting the actions (issue 14, "fewer steps").

Each click, each press of a shortcut key and each text entry is one action;
the text goes into the widget that has the keyboard focus at that moment, so
moving the focus costs an action too.  Counts start with the resident open
in 居民 (the first three tasks) or on the page the task starts from.  Dialogs
are shown and driven while open (their ``exec`` is replaced by "show, do the
steps, hide", so no nested modal loop can hang the test), and the operating
system's print dialog is replaced by one that prints to a PDF file: pressing
打印 really paints the document onto a printer.

Goals: accept a common matter and print the receipt ≤ 6; issue a 居住证明 and
print it ≤ 8; find a resident by initials and ID tail ≤ 4; refuse an
abolished certificate with its notice ≤ 4; assign the best volunteer ≤ 4.
"""

from __future__ import annotations

import subprocess

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QDialog
from sqlalchemy import select

from db.models import Assignment, Resident
from desktop.services import accounts, certificates as certs, counter, volunteers as vol
from tests.gui.test_counter_page import make_window

GOALS = {"accept": 6, "issue": 8, "find": 4, "refuse": 4, "dispatch": 4}


class Desk:
    """The worker's hands: every method is one counted action."""

    def __init__(self, qtbot, gui):
        self.qtbot = qtbot
        self.gui = gui
        self.actions = 0

    def click(self, widget) -> None:
        self.actions += 1
        self.qtbot.mouseClick(widget, Qt.MouseButton.LeftButton)
        self.gui.settle()  # page actions answer from the worker

    def double_click_row(self, view, row: int) -> None:  # type: ignore[no-untyped-def]
        """One double click: press and release, then the second press that Qt
        reports as a double click (QTest sends only that second half)."""
        self.actions += 1
        pos = view.visualRect(view.model().index(row, 0)).center()
        self.qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=pos)
        self.qtbot.mouseDClick(view.viewport(), Qt.MouseButton.LeftButton, pos=pos)

    def key(self, key: Qt.Key) -> None:
        """Press a key where Qt would deliver it: to an open popup (a
        completer's list) first, else to the focused widget."""
        self.actions += 1
        QTest.keyClick(QApplication.activePopupWidget() or QApplication.focusWidget(), key)
        QTest.qWait(200)  # a button's shortcut "animates" the click: it lands 100 ms later
        self.gui.settle()

    def type(self, text: str, into) -> None:  # type: ignore[no-untyped-def]
        """Type into the focused widget (``into`` says which one that must be)."""
        assert QApplication.focusWidget() is into, f"focus is on {QApplication.focusWidget()!r}"
        self.actions += 1
        for ch in text:
            QTest.sendKeyEvent(QTest.KeyAction.Click, into, Qt.Key.Key_unknown, ch, Qt.KeyboardModifier.NoModifier)


def drive(monkeypatch, qtbot, gui, cls, steps) -> None:  # type: ignore[no-untyped-def]
    """While a ``cls`` dialog is open, ``steps(dialog)`` works it."""

    def exec_(dlg):  # type: ignore[no-untyped-def]
        dlg.show()
        qtbot.waitExposed(dlg)
        dlg.activateWindow()
        qtbot.waitUntil(lambda: QApplication.activeWindow() is dlg and gui.worker.pending == 0)
        try:
            steps(dlg)
            gui.settle()
        finally:
            dlg.hide()
        return dlg.result()

    monkeypatch.setattr(cls, "exec", exec_)


@pytest.fixture
def printed(monkeypatch, tmp_path):
    """The system print dialog, answered 打印 to a PDF file; the files printed."""
    from PySide6.QtPrintSupport import QPrinter

    from desktop.ui import printing

    files: list = []

    class PrintToFile:
        def __init__(self, printer, _parent):  # type: ignore[no-untyped-def]
            self.printer = printer

        def exec(self):  # type: ignore[no-untyped-def]
            files.append(tmp_path / f"printed{len(files) + 1}.pdf")
            self.printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
            self.printer.setOutputFileName(str(files[-1]))
            return QDialog.DialogCode.Accepted

    monkeypatch.setattr(printing, "QPrintDialog", PrintToFile)
    return files


def pdf_text(path) -> str:  # type: ignore[no-untyped-def]
    return subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout


@pytest.fixture
def station(station_db):
    """A demo-like station: 400 residents, three months of matters, some
    certificates, volunteers and open needs; the desk worker signed in."""
    from desktop.services import demo
    from desktop.services.demo import (
        certificates as demo_certificates,
        counter as demo_counter,
        volunteers as demo_volunteers,
    )

    db, admin = station_db
    demo.fill_demo(db, n_residents=400, seed=3)
    demo_counter.fill_counter(db, n_matters=300, seed=3)
    demo_certificates.fill_certificates(db, admin, n=20, seed=3)
    demo_volunteers.fill_volunteers(db, n_volunteers=80, n_needs=12, seed=5)
    return db, accounts.authenticate(db, "desk1", "desk1234")


@pytest.mark.slow
def test_the_five_daily_tasks_within_their_goals(qtbot, gui, station, monkeypatch, printed, no_modal_boxes):
    from desktop.ui.pages.counter import AcceptDialog
    from desktop.ui.pages.volunteers import MatchDialog
    from desktop.ui.printing import PreviewDialog

    db, desk_actor = station
    with db.session() as s:
        people = s.execute(
            select(Resident.id, Resident.initials, Resident.doc_number, Resident.name)
            .where(Resident.deceased.is_(False), Resident.moved_out.is_(False), Resident.doc_number.is_not(None))
            .order_by(Resident.seq)
        ).all()
    win = make_window(qtbot, gui, db, desk_actor)
    residents_page, index = win.residents_page, win.residents_page.index
    # Someone whose initials alone find several people: the ID tail picks them out.
    rid, initials, doc, name = next(p for p in people if len(p[1]) >= 2 and len(index.search(p[1], limit=200)) > 3)
    counts: dict[str, int] = {}

    def open_resident() -> None:  # not counted: "after the resident is open"
        win.show_resident(rid)
        win.activateWindow()  # back from the dialogs of the task before
        qtbot.waitUntil(
            lambda: residents_page.current == rid and gui.worker.pending == 0 and QApplication.activeWindow() is win
        )

    # ---- find a resident by initials and ID tail (from another page)
    win.show_page(0)
    qtbot.waitUntil(lambda: gui.worker.pending == 0)
    hands = Desk(qtbot, gui)
    sidebar = win.sidebar
    hands.actions += 1
    item = sidebar.item(win.pages.index(residents_page))
    qtbot.mouseClick(sidebar.viewport(), Qt.MouseButton.LeftButton, pos=sidebar.visualItemRect(item).center())
    hands.type(f"{initials} {doc[-4:]}", into=residents_page.search)
    # The first hit is selected and shown as the results arrive: nothing more to press.
    qtbot.waitUntil(lambda: residents_page._shown_query == residents_page.search.text() and gui.worker.pending == 0)
    assert residents_page.current == rid and residents_page.model.rowCount() == 1
    assert residents_page.d_name.text().startswith(name)
    counts["find"] = hands.actions

    # ---- accept a common matter and print the receipt
    open_resident()
    common = counter.catalogue_by_use(db)[0]
    used = counter.use_counts(db)
    assert used[common.id] == max(used.values())
    hands = Desk(qtbot, gui)

    def accept_steps(dlg):  # type: ignore[no-untyped-def]
        assert dlg.resident_id == rid and dlg.current.id == common.id  # carried over; the common matter on top
        hands.key(Qt.Key.Key_F8)  # 材料齐全
        assert set(dlg.received()) == set(common.required_materials)
        hands.click(dlg.ok)
        assert dlg.accepted_matter is not None

    drive(monkeypatch, qtbot, gui, AcceptDialog, accept_steps)
    drive(monkeypatch, qtbot, gui, PreviewDialog, lambda dlg: hands.click(dlg.print_btn))
    hands.click(residents_page.accept_btn)
    qtbot.waitUntil(lambda: gui.worker.pending == 0)
    newest = counter.for_resident(db, rid)[0]
    assert newest.matter_name == common.name and newest.status in counter.OPEN_STATUSES + ("done",)
    assert newest.receipt_no in pdf_text(printed[-1])
    counts["accept"] = hands.actions

    # ---- issue a 居住证明 and print it
    open_resident()
    page = win.certificates_page
    hands = Desk(qtbot, gui)
    drive(monkeypatch, qtbot, gui, PreviewDialog, lambda dlg: hands.click(dlg.print_btn))
    hands.click(residents_page.issue_btn)
    qtbot.waitUntil(lambda: page.picker.resident_id == rid and gui.worker.pending == 0)
    assert win.stack.currentWidget() is page and page.current.name == "居住证明"
    hands.key(Qt.Key.Key_Return)  # the first type's form
    hands.type("2015年3月", into=page.field_edits["since"])
    hands.key(Qt.Key.Key_Tab)
    hands.type("子女入学", into=page.field_edits["purpose"])
    assert QApplication.activePopupWidget() is None  # a whole suggestion typed: the list steps aside for F8
    hands.key(Qt.Key.Key_F8)  # 材料齐全
    hands.click(page.issue_btn)
    qtbot.waitUntil(lambda: gui.worker.pending == 0)
    issued = certs.for_resident(db, rid)[0]
    assert issued.type_name == "居住证明" and issued.status == "issued" and issued.purpose == "子女入学"
    assert issued.serial and f"第{issued.serial.split('第')[1]}" in pdf_text(printed[-1]).replace(" ", "")
    counts["issue"] = hands.actions

    # ---- refuse an abolished certificate with its notice
    open_resident()
    before = len(certs.refusals(db))
    hands = Desk(qtbot, gui)
    drive(monkeypatch, qtbot, gui, PreviewDialog, lambda dlg: hands.click(dlg.print_btn))
    hands.click(residents_page.issue_btn)
    qtbot.waitUntil(lambda: page.r_picker.resident_id == rid and gui.worker.pending == 0)
    hands.type("亲属", into=page.search)
    assert page.current.kind == "abolished"
    hands.click(page.refuse_btn)
    qtbot.waitUntil(lambda: gui.worker.pending == 0)
    refused = certs.refusals(db)
    assert len(refused) == before + 1 and refused[0].type_name == "亲属关系证明" and refused[0].resident_name == name
    assert "不予出具" in pdf_text(printed[-1])
    counts["refuse"] = hands.actions

    # ---- assign the best volunteer to an open need (from another page)
    vpage = win.volunteers_page
    need = next(
        n
        for n in vol.list_needs(db)
        if n.status == "open" and n.volunteers_needed == 1 and vol.Pool(db).rank(n, n.day, limit=5).candidates
    )
    best = vol.Pool(db).rank(need, need.day, limit=5).candidates[0]
    win.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is win)
    hands = Desk(qtbot, gui)
    drive(monkeypatch, qtbot, gui, MatchDialog, lambda dlg: hands.click(dlg.ok))
    hands.actions += 1
    item = sidebar.item(win.pages.index(vpage))
    qtbot.mouseClick(sidebar.viewport(), Qt.MouseButton.LeftButton, pos=sidebar.visualItemRect(item).center())
    qtbot.waitUntil(lambda: gui.worker.pending == 0 and vpage.need_table.rowCount() > 0)
    hands.double_click_row(vpage.need_table, next(i for i, n in enumerate(vpage.needs) if n.id == need.id))
    qtbot.waitUntil(lambda: gui.worker.pending == 0)
    with db.session() as s:
        sent = s.scalars(select(Assignment.volunteer_id).where(Assignment.need_id == need.id)).all()
    assert sent == [best.volunteer_id]
    assert vpage.needs[vpage.need_table.currentRow()].id == need.id and best.name in vpage.need_note.text()
    counts["dispatch"] = hands.actions

    print("\n" + "\n".join(f"{k}: {v} (goal ≤ {GOALS[k]})" for k, v in counts.items()))
    for task, n in counts.items():
        assert n <= GOALS[task], (task, n)
