"""Searching residents and households never runs on the GUI thread (issue 14):
at 100 000 residents the first keystroke in a picker loaded the whole index
there (2.2 s) and each keystroke in 迁入其他户 queried the database (18–36 ms)."""

from __future__ import annotations

import threading
from datetime import date

from desktop.services import households, residents
from desktop.services.idnumbers import make_ric
from desktop.services.residents import ResidentForm
from desktop.services.search import ResidentIndex
from tests.gui.test_counter_page import make_window
from tests.gui.test_dialogs import type_text


def record_threads(monkeypatch, owner, name: str) -> list[str]:
    """Call the real ``owner.name`` and note the thread each call runs on."""
    real, seen = getattr(owner, name), []

    def wrapped(*a, **kw):
        seen.append(threading.current_thread().name)
        return real(*a, **kw)

    monkeypatch.setattr(owner, name, wrapped)
    return seen


def test_the_resident_picker_searches_on_the_worker(qtbot, gui, station_db, monkeypatch):
    db, admin = station_db
    ai = residents.register(db, admin, ResidentForm(name="艾青", doc_number=make_ric("340304", date(1960, 1, 2), 11)))
    zhao = residents.register(db, admin, ResidentForm(name="赵明", doc_number=make_ric("340304", date(1971, 3, 4), 23)))
    win = make_window(qtbot, gui, db, admin)
    page = win.certificates_page
    win.show_page(win.pages.index(page))
    gui.settle()
    seen = record_threads(monkeypatch, ResidentIndex, "search")
    type_text(page.picker.edit, "赵明")
    assert page.picker.resident_id is None  # nothing picked before this text's hits are in
    gui.settle()
    assert page.picker.resident_id == zhao
    assert seen and threading.main_thread().name not in seen
    # Two searches in a row: the first one's hits are dropped when they come back.
    page.picker.search("艾")
    page.picker.search("赵")
    gui.settle()
    assert [h.id for h in page.picker.hits] == [zhao] and page.picker.resident_id == zhao
    page.picker.search("艾青")
    gui.settle()
    assert page.picker.resident_id == ai


def test_the_sign_in_warms_the_resident_index_in_the_background(qtbot, gui, station_db):
    db, admin = station_db
    residents.register(db, admin, ResidentForm(name="艾青", doc_number=make_ric("340304", date(1960, 1, 2), 11)))
    win = make_window(qtbot, gui, db, admin)  # opens on 工作台, not 居民
    index = win.residents_page.index
    assert len(index) == 1 and index._blobs is not None


def test_moving_to_another_household_searches_on_the_worker(qtbot, gui, station_db, monkeypatch):
    from desktop.ui.pages.households import HouseholdDialog, MoveDialog
    from tests.gui.test_residents_page import make_page

    db, admin = station_db
    a = residents.register(db, admin, ResidentForm(name="张伟", doc_number=make_ric("340304", date(1988, 1, 2), 31)))
    b = residents.register(db, admin, ResidentForm(name="王芳", doc_number=make_ric("340304", date(1990, 1, 2), 42)))
    households.new_household(db, admin, a)
    households.new_household(db, admin, b, number="H777777")
    page = make_page(qtbot, gui, db, admin)
    dlg = HouseholdDialog(page, db, admin, gui.worker, a)
    qtbot.addWidget(dlg)
    gui.settle()
    seen = record_threads(monkeypatch, households, "search")
    md = MoveDialog(dlg, a)
    qtbot.addWidget(md)
    type_text(md.query, "H777")
    gui.settle()
    assert md.list.count() == 1 and "王芳" in md.list.item(0).text()
    assert seen and threading.main_thread().name not in seen


def test_enter_in_a_picker_waits_for_the_hits_of_the_text_typed(qtbot, gui, station_db, monkeypatch, no_modal_boxes):
    """A scanner types an ID tail and Enter into 受理事项's resident box within
    milliseconds: the Enter is held until that tail's hits are in, then
    accepts the matter for that resident (not 请先选择居民, not someone else)."""
    from PySide6.QtCore import Qt

    from desktop.services import counter
    from desktop.ui.pages import counter as cp

    db, admin = station_db
    residents.register(db, admin, ResidentForm(name="艾青", doc_number=make_ric("340304", date(1960, 1, 2), 11)))
    doc = make_ric("340304", date(1971, 3, 4), 23)
    zhao = residents.register(db, admin, ResidentForm(name="赵明", doc_number=doc))
    win = make_window(qtbot, gui, db, admin)
    dlg = cp.AcceptDialog(win.counter_page)
    qtbot.addWidget(dlg)
    dlg.show()
    gui.settle()
    dlg.what.setText("流动人口居住登记")
    dlg.tick(dlg.current.required_materials)
    monkeypatch.setattr(cp.CounterPage, "print_receipt", lambda self, mid: None)
    dlg.who.setFocus()
    qtbot.keyClicks(dlg.who, doc[-6:])
    qtbot.keyClick(dlg.who, Qt.Key.Key_Return)
    gui.settle()
    assert dlg.accepted_matter is not None and not dlg.message.isVisible()
    assert counter.get(db, dlg.accepted_matter).resident_id == zhao
