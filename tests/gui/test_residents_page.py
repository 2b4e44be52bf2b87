"""居民 page: search as you type, register with a wrong ID number first, the duplicate guard."""

from __future__ import annotations

from PySide6.QtWidgets import QApplication

from desktop.services import accounts, demo
from tests.gui.test_dialogs import type_text


def make_page(qtbot, gui, db, actor):
    from desktop.ui.pages.residents import ResidentsPage

    page = ResidentsPage(db, actor, gui.worker)
    qtbot.addWidget(page)
    page.resize(1200, 700)
    page.show()
    page.activated()
    qtbot.waitUntil(lambda: gui.worker.pending == 0)
    return page


def test_search_as_you_type_and_enter_opens_the_list(qtbot, gui, station_db):
    db, admin = station_db
    demo.fill_demo(db, n_residents=300, seed=5)
    page = make_page(qtbot, gui, db, admin)
    assert page.model.rowCount() == 300 and page.count.text() == "共 300 人"
    name = page.model.hit(0).name
    type_text(page.search, name[:2])
    qtbot.waitUntil(lambda: page.model.hits is not None and gui.worker.pending == 0, timeout=3000)
    hits = page.model.hits
    assert hits and hits[0].name.startswith(name[:2])
    assert "*" in page.model.data(page.model.index(0, 3))  # ID numbers masked in the list
    assert page.d_name.text().startswith(hits[0].name)


def test_register_wrong_id_first_then_right_then_duplicate(qtbot, gui, station_db, monkeypatch, no_modal_boxes):
    from desktop.ui.pages.residents import DuplicateDialog, ResidentDialog

    db, admin = station_db
    page = make_page(qtbot, gui, db, admin)
    dlg = ResidentDialog(page)
    qtbot.addWidget(dlg)
    type_text(dlg.name, "张三")
    qtbot.keyClicks(dlg.doc_number, "110105194912310021")  # wrong check character
    dlg.doc_number.editingFinished.emit()
    assert "校验位不正确" in dlg.errors.labels["doc_number"].text()
    dlg.submit()
    gui.settle()
    assert dlg.result() == 0 and "校验位不正确" in dlg.errors.labels["doc_number"].text()
    assert dlg.name.text() == "张三"  # the form keeps what was typed
    dlg.doc_number.clear()
    qtbot.keyClicks(dlg.doc_number, "110105194912310 02x")
    dlg.doc_number.editingFinished.emit()
    assert dlg.doc_number.text() == "11010519491231002X"
    assert dlg.gender.currentData() == 2 and dlg.birth.date().year() == 1949
    qtbot.keyClicks(dlg.phone, "13812345678")
    dlg.tags["高龄"].setChecked(True)
    dlg.submit()
    gui.settle()
    assert dlg.result() == dlg.DialogCode.Accepted and dlg.saved_id is not None
    first = dlg.saved_id

    # The same person again: the guard offers the existing record.
    again = ResidentDialog(page)
    qtbot.addWidget(again)
    type_text(again.name, "张三")
    again.doc_number.setText("11010519491231002X")
    monkeypatch.setattr(DuplicateDialog, "exec", lambda self: DuplicateDialog.OPEN)
    again.submit()
    gui.settle()
    assert again.open_existing == first and again.result() == 0


def test_desk_worker_cannot_reveal_a_number(qtbot, gui, station_db):
    db, _ = station_db
    desk = accounts.authenticate(db, "desk1", "desk1234")
    page = make_page(qtbot, gui, db, desk)
    assert not page.reveal.isVisibleTo(page)
    QApplication.processEvents()


def test_clicking_save_reaches_the_duplicate_guard(qtbot, gui, station_db, monkeypatch):
    """The 保存 button, clicked with the mouse, must not hand its checked flag
    to submit() as a duplicate reason."""
    from PySide6.QtCore import Qt as _Qt

    from desktop.ui.pages.residents import DuplicateDialog, ResidentDialog

    db, admin = station_db
    page = make_page(qtbot, gui, db, admin)
    seen = []
    monkeypatch.setattr(DuplicateDialog, "exec", lambda self: seen.append(self) or DuplicateDialog.OPEN)
    for _ in range(2):
        dlg = ResidentDialog(page)
        qtbot.addWidget(dlg)
        dlg.name.setText("王芳")
        dlg.doc_number.setText("11010519491231002X")
        qtbot.mouseClick(dlg.ok, _Qt.MouseButton.LeftButton)
        gui.settle()
    assert len(seen) == 1  # second save found the first and offered it
    assert dlg.open_existing is not None


def test_household_dialog_sets_head_relation_and_moves(qtbot, gui, station_db, monkeypatch, no_modal_boxes):
    from datetime import date

    from PySide6.QtWidgets import QInputDialog

    from desktop.services import households, residents
    from desktop.services.idnumbers import make_ric
    from desktop.services.residents import ResidentForm
    from desktop.ui.pages.households import HouseholdDialog, MoveDialog

    db, admin = station_db
    ids = [
        residents.register(
            db, admin, ResidentForm(name=n, doc_number=make_ric("340304", date(y, 1, 2), s), estate="幸福里小区")
        )
        for n, y, s in (("张建国", 1960, 11), ("张伟", 1988, 31), ("王芳", 1990, 42))
    ]
    hid = households.new_household(db, admin, ids[0])
    households.move(db, admin, ids[1], hid, "子")
    other = households.new_household(db, admin, ids[2], number="H777777")
    page = make_page(qtbot, gui, db, admin)
    page.select_resident(ids[1])
    qtbot.waitUntil(lambda: page.current == ids[1] and "户主 张建国 · 2 人" in page.family.text())
    dlg = HouseholdDialog(page, db, admin, gui.worker, ids[1])
    qtbot.addWidget(dlg)
    gui.settle()
    assert dlg.table.rowCount() == 2 and dlg.selected().id == ids[1]
    dlg.act("head")
    gui.settle()
    assert dlg.view.head_id == ids[1] and "户主 张伟" in dlg.title.text()
    dlg.table.selectRow([m.id for m in dlg.members].index(ids[0]))
    monkeypatch.setattr(QInputDialog, "getItem", staticmethod(lambda *a, **k: ("父亲", True)))
    dlg.act("relation")
    gui.settle()
    assert {m.name: m.relation for m in dlg.members}["张建国"] == "父亲"

    def move(md):
        md.query.setText("H777777")
        md.relation.setCurrentText("配偶")
        md.submit()  # before the search is back: not whichever household was listed before
        assert "正在查找" in md.errors.labels["household"].text() and md.result() == 0
        gui.settle()
        md.submit()
        gui.settle()
        return md.result()

    monkeypatch.setattr(MoveDialog, "exec", move)
    dlg.table.selectRow([m.id for m in dlg.members].index(ids[0]))
    dlg.act("move")
    gui.settle()
    assert [m.name for m in dlg.members] == ["张伟"]
    assert {m.name: m.relation for m in households.get(db, other).members} == {"王芳": "户主", "张建国": "配偶"}


def test_a_hub_lists_whose_resident_each_is(qtbot, gui, tmp_path):
    from datetime import date

    from desktop.services import residents
    from desktop.services.idnumbers import make_ric
    from desktop.services.residents import ResidentForm
    from desktop.ui.pages.residents import STATION_COLUMN
    from tests.sync.conftest import make_side, trust_both

    hub = make_side(str(tmp_path / "hub" / "hub.sqlite3"), "340304000", "东风街道", "street", tmp_path / "hub")
    st = make_side(str(tmp_path / "st" / "st.sqlite3"), "340304001", "幸福里社区", "community", tmp_path / "st")
    try:
        trust_both(st, hub)
        residents.register(
            st.db, st.admin, ResidentForm(name="张三", doc_number=make_ric("340304", date(1950, 1, 2), 1))
        )
        residents.register(
            hub.db, hub.admin, ResidentForm(name="李四", doc_number=make_ric("340304", date(1951, 1, 2), 2))
        )
        st.send(hub, full=True)
        page = make_page(qtbot, gui, hub.db, hub.admin)
        m = page.model
        from PySide6.QtCore import Qt

        assert m.rowCount() == 2 and m.columnCount() == 9
        assert m.headerData(8, Qt.Orientation.Horizontal) == STATION_COLUMN
        where = {m.data(m.index(r, 0)): m.data(m.index(r, 8)) for r in range(2)}
        assert where == {"张三": "幸福里社区", "李四": "东风街道"}
        page.grab().save(str(tmp_path / "hub-residents.png"))
    finally:
        st.db.close()
        hub.db.close()


def _two_residents(db, admin):
    from datetime import date

    from desktop.services import residents
    from desktop.services.idnumbers import make_ric
    from desktop.services.residents import ResidentForm

    first = residents.register(
        db, admin, ResidentForm(name="艾青", doc_number=make_ric("340304", date(1960, 1, 2), 11))
    )
    doc = make_ric("340304", date(1971, 3, 4), 23)
    wanted = residents.register(db, admin, ResidentForm(name="赵明", doc_number=doc))
    return first, wanted, doc


def test_enter_right_after_fast_typing_opens_the_resident_typed(qtbot, gui, station_db, monkeypatch):
    """A scanner (or fast hands) types the ID tail and Enter within a few ms:
    the edit form is the one for that tail, not for whoever was first in the
    list before the search ran."""
    from PySide6.QtCore import Qt

    from desktop.ui.pages.residents import ResidentDialog

    db, admin = station_db
    first, wanted, doc = _two_residents(db, admin)
    page = make_page(qtbot, gui, db, admin)
    assert page.model.hit(0).id == first  # 艾 sorts before 赵
    opened = []
    monkeypatch.setattr(ResidentDialog, "exec", lambda self: opened.append(self.view.id) or 0)
    page.search.setFocus()
    qtbot.keyClicks(page.search, doc[-4:])
    qtbot.keyClick(page.search, Qt.Key.Key_Return)
    gui.settle()
    assert opened == [wanted]


def test_a_certificate_code_scanned_in_residents_is_offered_not_a_resident(qtbot, gui, station_db, monkeypatch):
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QMessageBox

    from desktop.services import certificates as certs
    from desktop.ui.pages import certificates as cp
    from desktop.ui.pages.residents import ResidentDialog

    db, admin = station_db
    _first, wanted, _doc = _two_residents(db, admin)
    t = next(x for x in certs.catalogue(db) if x.code == "R01")
    issued = certs.issue(db, admin, wanted, t.id, {"since": "2015年", "purpose": "入学"}, t.materials)
    qr = certs.printable(db, admin, issued.id).qr
    page = make_page(qtbot, gui, db, admin)
    opened, asked, verified = [], [], []
    monkeypatch.setattr(ResidentDialog, "exec", lambda self: opened.append(self.view.id) or 0)
    monkeypatch.setattr(
        QMessageBox,
        "question",
        staticmethod(lambda parent, title, text, *a, **kw: asked.append(text) or QMessageBox.StandardButton.Yes),
    )
    monkeypatch.setattr(cp.VerifyDialog, "exec", lambda self: verified.append(self.v) or 0)
    page.search.setFocus()
    qtbot.keyClicks(page.search, qr)
    qtbot.keyClick(page.search, Qt.Key.Key_Return)
    gui.settle()
    assert not opened  # nobody's edit form
    assert asked and "证明" in asked[0] and "不是居民" in asked[0]
    assert verified and verified[0].genuine and verified[0].detail.id == issued.id


def test_enter_twice_on_a_resident_opens_one_form(qtbot, gui, station_db, monkeypatch):
    """Enter is not a button: while the record loads, a second Enter (or F2
    style shortcut) finds the action busy instead of opening a second form."""
    from PySide6.QtCore import Qt

    from desktop.ui.pages.residents import ResidentDialog

    db, admin = station_db
    first, _wanted, _doc = _two_residents(db, admin)
    page = make_page(qtbot, gui, db, admin)
    opened = []
    monkeypatch.setattr(ResidentDialog, "exec", lambda self: opened.append(self.view.id) or 0)
    page.table.setFocus()
    page.table.selectRow(0)
    qtbot.keyClick(page.table, Qt.Key.Key_Return)
    qtbot.keyClick(page.table, Qt.Key.Key_Return)
    gui.settle()
    assert opened == [first]


def test_list_detail_and_edit_show_nothing_that_rebuilds_the_number(qtbot, gui, station_db, tmp_path):
    """Two residents whose numbers share only the last 4 (other area codes,
    other birth dates, same age and gender) look the same in the search list
    and the detail panel; the birth date is not shown, the ID-tail search
    finds both, and the edit form keeps the birth date hidden with the number."""
    from datetime import date

    from desktop.services import residents
    from desktop.services.idnumbers import validate_ric
    from desktop.services.residents import ResidentForm
    from desktop.ui.pages.residents import ResidentDialog
    from tests.services.test_idnumbers import look_alikes

    db, admin = station_db
    a, b = look_alikes(date.today())
    for n in (a, b):
        residents.register(db, admin, ResidentForm(name="王芳", doc_number=n), duplicate_reason="测试")
    page = make_page(qtbot, gui, db, admin)
    page.resize(1366, 768)
    type_text(page.search, a[-4:])  # the ID-tail search
    qtbot.waitUntil(lambda: page.model.hits is not None and gui.worker.pending == 0, timeout=3000)
    assert {h.doc_masked for h in page.model.hits} == {"*" * 14 + a[-4:]} and len(page.model.hits) == 2
    rows, panels = [], []
    for r in range(2):
        rows.append(tuple(page.model.data(page.model.index(r, c)) for c in range(page.model.columnCount())))
        page.table.selectRow(r)
        qtbot.waitUntil(lambda: gui.worker.pending == 0)
        panels.append(page.d_name.text() + page.d_body.text())
    assert rows[0] == rows[1] and panels[0] == panels[1]
    assert "年龄" in page.d_body.text() and "出生日期" not in page.d_body.text()
    shown = " ".join(map(str, rows)) + " ".join(panels)
    for n in (a, b):
        info = validate_ric(n)
        for text in (n[:6], n[6:14], f"{info.birth_date.month}月{info.birth_date.day}日", str(info.birth_date)):
            assert text not in shown, text
    page.grab().save(str(tmp_path / "residents.png"))  # looked at while writing this test
    # the edit form: the birth date follows the (hidden) number
    view = residents.get(db, page.model.hits[0].id)
    dlg = ResidentDialog(page, view)
    qtbot.addWidget(dlg)
    dlg.show()
    dlg.grab().save(str(tmp_path / "edit.png"))
    assert not dlg.birth.isEnabled() and dlg.birth.text() == "（随身份证号码）"
    assert dlg.form().birth_date == view.form.birth_date  # saving keeps it


def test_an_identical_id_number_offers_only_the_existing_record(qtbot, gui, station_db, monkeypatch, tmp_path):
    """Even a supervisor cannot save a second resident with the same ID
    number: the dialog has no 仍然保存, and a forced 仍然保存 saves nothing;
    打开已有记录 selects the existing one.  A near match keeps 仍然保存."""
    from datetime import date

    from sqlalchemy import func, select

    from db.models import Resident
    from desktop.services import residents
    from desktop.services.idnumbers import make_ric, mask
    from desktop.services.residents import ResidentForm
    from desktop.ui.pages.residents import DuplicateDialog, ResidentDialog

    db, admin = station_db
    number = make_ric("340304", date(1950, 3, 4), 21)
    first = residents.register(db, admin, ResidentForm(name="张桂兰", doc_number=number, phone="13812345678"))
    page = make_page(qtbot, gui, db, admin)
    seen: list[DuplicateDialog] = []

    def force_save_anyway(self):  # what 仍然保存 would return, had it been there
        seen.append(self)
        self.show()
        self.grab().save(str(tmp_path / "same-number.png"))
        self.reason = "我确定是另一个人"
        return DuplicateDialog.SAVE_ANYWAY

    monkeypatch.setattr(DuplicateDialog, "exec", force_save_anyway)
    dlg = ResidentDialog(page)
    qtbot.addWidget(dlg)
    type_text(dlg.name, "张桂芝")
    dlg.doc_number.setText(number)
    dlg.submit()
    gui.settle()
    [dup] = seen
    assert dup.windowTitle() == "证件号码已登记" and not dup.anyway.isVisibleTo(dup)
    assert dup.list.count() == 1 and mask(number) in dup.list.item(0).text() and number not in dup.list.item(0).text()
    assert dlg.result() == 0 and dlg.saved_id is None
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(Resident)) == 1

    monkeypatch.setattr(DuplicateDialog, "exec", lambda self: DuplicateDialog.OPEN)
    dlg.submit()
    gui.settle()
    assert dlg.open_existing == first

    # A near match (same name and birth date, another number) may still be saved with a reason.
    near: list[DuplicateDialog] = []

    def save_anyway(self):
        near.append(self)
        self.reason = "同名同生日，已核对身份证"
        return DuplicateDialog.SAVE_ANYWAY

    other = ResidentDialog(page)
    qtbot.addWidget(other)
    type_text(other.name, "张桂兰")
    other.doc_number.setText(make_ric("340304", date(1950, 3, 4), 35))

    monkeypatch.setattr(DuplicateDialog, "exec", save_anyway)
    other.submit()
    gui.settle()
    assert near[0].windowTitle() == "可能重复" and near[0].anyway.isVisibleTo(near[0])
    assert other.result() == other.DialogCode.Accepted and other.saved_id not in (None, first)
