"""接待台 end to end in the window: find the resident, accept a matter (missing
material first), print the receipt, scan it back, close with a bad rating,
and see the rectification item."""

from __future__ import annotations

from datetime import date

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox

from desktop.services import accounts, counter, residents
from desktop.services.idnumbers import make_ric
from desktop.services.residents import ResidentForm
from tests.gui.test_dialogs import type_text


def make_window(qtbot, gui, db, actor):
    from desktop.ui.main_window import MainWindow

    win = MainWindow(db, actor, accounts.station_info(db), gui.settings, gui.paths, gui.worker)
    qtbot.addWidget(win)
    win.resize(1366, 768)
    win.show()
    qtbot.waitUntil(lambda: gui.worker.pending == 0)
    return win


def _resident(db, actor, name="王秀英"):
    return residents.register(
        db, actor, ResidentForm(name=name, doc_number=make_ric("340304", date(1940, 3, 5), 22), phone="13812345678")
    )


def test_accept_print_scan_close_with_bad_rating(qtbot, gui, station_db, monkeypatch, no_modal_boxes, tmp_path):
    from desktop.ui.pages import counter as cp
    from desktop.ui.printing import PreviewDialog

    db, admin = station_db
    rid = _resident(db, admin)
    win = make_window(qtbot, gui, db, admin)
    page = win.counter_page
    win.show_page(win.pages.index(page))
    qtbot.waitUntil(lambda: gui.worker.pending == 0)

    previews: list[PreviewDialog] = []

    def fake_exec(self):
        previews.append(self)
        self.save_pdf(str(tmp_path / f"doc{len(previews)}.pdf"))
        return 0

    monkeypatch.setattr(PreviewDialog, "exec", fake_exec)
    questions = []
    monkeypatch.setattr(
        QMessageBox,
        "question",
        staticmethod(lambda parent, title, text, *a, **kw: questions.append(text) or QMessageBox.StandardButton.No),
    )

    def fill(dlg):
        type_text(dlg.who, "王秀")
        gui.settle()
        assert dlg.resident_id == rid
        dlg.what.setText("老年人优待证")
        assert dlg.current.name == "老年人优待证办理"
        assert "2026" in dlg.type_info.text() or "办结" in dlg.type_info.text()
        dlg.tick(dlg.current.required_materials[:1])  # the photo is missing
        dlg.submit()
        gui.settle()
        assert questions and "缺少必需材料" in questions[-1]
        assert dlg.result() == 0 and dlg.accepted_matter is None
        dlg.tick(dlg.current.required_materials)
        dlg.channel.setCurrentIndex(dlg.channel.findData("visit"))
        dlg.submit()
        gui.settle()
        return dlg.result()

    monkeypatch.setattr(cp.AcceptDialog, "exec", fill)
    page.accept_btn.click()
    qtbot.waitUntil(lambda: gui.worker.pending == 0)
    # The receipt was previewed and saved as a PDF.
    assert previews and previews[0].doc.title.startswith("受理回执 340304001-")
    receipt_no = previews[0].doc.title.split()[-1]
    assert (tmp_path / "doc1.pdf").read_bytes().startswith(b"%PDF")
    assert page.models["open"].rowCount() == 1
    assert page.models["open"].rows[0].channel == "visit"

    # Scan the QR code back: the scanner types the receipt number and Enter.
    opened = []
    monkeypatch.setattr(cp.MatterDialog, "exec", lambda self: opened.append(self) or 0)
    page.scan.setFocus()
    qtbot.keyClicks(page.scan, receipt_no)
    qtbot.keyClick(page.scan, Qt.Key.Key_Return)
    gui.settle()
    assert opened and opened[0].detail.receipt_no == receipt_no
    md = opened[0]
    assert md.buttons["close"].isEnabled() and md.buttons["rate"].isHidden()

    # Close with a bad rating: a rectification is opened and shown to the supervisor.
    def close_bad(dlg):
        dlg.result_.setPlainText("已制证，居民已领取")
        dlg.radios[2].setChecked(True)
        dlg.comment.setText("跑了两趟")
        dlg.submit()
        gui.settle()
        return dlg.result()

    monkeypatch.setattr(cp.CloseDialog, "exec", close_bad)
    md.act("close")
    gui.settle()
    assert any("差评整改" == k or "整改" in t for k, t in no_modal_boxes)
    assert md.detail.status == "done" and md.detail.rating == 2
    assert md.detail.rectification is not None and md.detail.rectification.status == "open"
    page.refresh()
    qtbot.waitUntil(lambda: gui.worker.pending == 0)
    assert page.rect_table.rowCount() == 1 and page.rect_table.item(0, 3).text() == "不满意"
    assert page.models["open"].rowCount() == 0

    # The supervisor records the call-back and the item closes.
    def callback(dlg):
        dlg.measures.setPlainText("调整上门服务排班")
        dlg.submit()
        gui.settle()
        assert dlg.result() == 0 and not dlg.errors.labels["callback_note"].isHidden()
        dlg.callback.setPlainText("11月25日电话回访，居民满意")
        dlg.submit()
        gui.settle()
        return dlg.result()

    monkeypatch.setattr(cp.CallbackDialog, "exec", callback)
    md.act("callback")
    gui.settle()
    assert md.detail.rectification.status == "done"
    page.refresh()
    qtbot.waitUntil(lambda: gui.worker.pending == 0)
    assert page.rect_table.rowCount() == 0


def test_residents_page_accepts_for_the_selected_resident_and_scans_receipts(qtbot, gui, station_db, monkeypatch):
    from desktop.ui.pages import counter as cp

    db, admin = station_db
    rid = _resident(db, admin)
    t = next(m for m in counter.catalogue(db) if m.name == "流动人口居住登记")
    acc = counter.accept(db, admin, rid, t.id, t.required_materials)
    win = make_window(qtbot, gui, db, admin)
    res = win.residents_page
    win.show_page(win.pages.index(res))
    qtbot.waitUntil(lambda: gui.worker.pending == 0 and res.current == rid)
    qtbot.waitUntil(lambda: res.history.count() == 1)
    assert "流动人口居住登记" in res.history.item(0).text()

    seen = []
    monkeypatch.setattr(cp.AcceptDialog, "exec", lambda self: seen.append(self.resident_id) or 0)
    res.accept_btn.click()
    gui.settle()
    assert seen == [rid] and win.stack.currentWidget() is win.counter_page

    opened = []
    monkeypatch.setattr(cp.MatterDialog, "exec", lambda self: opened.append(self.matter_id) or 0)
    win.show_page(win.pages.index(res))
    res.search.setText(acc.receipt_no)
    res.search.returnPressed.emit()
    gui.settle()
    assert opened == [acc.matter_id]
    res.history.itemActivated.emit(res.history.item(0))
    gui.settle()
    assert opened == [acc.matter_id, acc.matter_id]


def test_rare_name_character_is_warned_before_printing(qtbot, gui, station_db, monkeypatch, no_modal_boxes, tmp_path):
    from desktop import paperwork
    from desktop.ui.printing import PreviewDialog

    db, admin = station_db
    rare = "\U0002a6a5"
    rid = _resident(db, admin, name=f"王{rare}")
    t = next(m for m in counter.catalogue(db) if m.name == "流动人口居住登记")
    acc = counter.accept(db, admin, rid, t.id, t.required_materials)
    dlg = PreviewDialog(
        None, "受理回执", lambda lay: paperwork.receipt_document(db, acc.matter_id, lay), layouts=("A4", "A5", "80mm")
    )
    qtbot.addWidget(dlg)
    assert rare in dlg.glyphs.text()
    # Saving asks first; the patched box answers Ok (not Yes), so nothing is written.
    assert dlg.save_pdf(str(tmp_path / "r.pdf")) is None
    assert no_modal_boxes and no_modal_boxes[-1][0] == "warning" and rare in no_modal_boxes[-1][1]
    assert not (tmp_path / "r.pdf").exists()
    # Changing the paper lays the receipt out again.
    dlg.paper.setCurrentIndex(2)
    assert dlg.layout_name == "80mm" and dlg.doc.pages[0].width < 300


def test_supervisor_edits_the_catalogue_desk_cannot(qtbot, gui, station_db, monkeypatch, no_modal_boxes):
    from desktop.ui.pages import counter as cp

    db, admin = station_db
    win = make_window(qtbot, gui, db, admin)
    cat = cp.CatalogueDialog(win.counter_page)
    qtbot.addWidget(cat)
    gui.settle()
    n = cat.table.rowCount()
    dlg = cp.MatterTypeDialog(cat, None)
    qtbot.addWidget(dlg)
    dlg.submit()
    gui.settle()
    assert not dlg.errors.labels["name"].isHidden()
    dlg.name.setText("社区食堂助餐登记")
    dlg.category.setText("养老服务")
    from PySide6.QtWidgets import QTableWidgetItem

    dlg.mats.setItem(0, 0, QTableWidgetItem("居民身份证"))
    dlg.mats.setItem(0, 2, QTableWidgetItem("25"))
    dlg.submit()
    gui.settle()
    assert dlg.result() == 0 and "份数" in dlg.errors.labels["materials"].text()
    dlg.mats.setItem(0, 2, QTableWidgetItem("1"))
    dlg.submit()
    gui.settle()
    assert dlg.result() == 1
    cat.load()
    gui.settle()
    assert cat.table.rowCount() == n + 1
    desk = accounts.authenticate(db, "desk1", "desk1234")
    win2 = make_window(qtbot, gui, db, desk)
    cat2 = cp.CatalogueDialog(win2.counter_page)
    qtbot.addWidget(cat2)
    cat2.edit(None)
    assert no_modal_boxes[-1][0] == "information" and "站长" in no_modal_boxes[-1][1]


def test_settings_page_imports_next_years_holidays(qtbot, gui, station_db, no_modal_boxes, tmp_path):
    import json

    db, admin = station_db
    win = make_window(qtbot, gui, db, admin)
    sp = win.settings_page
    win.show_page(win.pages.index(sp))
    qtbot.waitUntil(lambda: "2026" in sp.holidays.text())
    assert "2027 年、" not in sp.holidays.text() and "2026 年" in sp.holidays.text()
    f = tmp_path / "2027.json"
    f.write_text(
        json.dumps(
            {
                "format": "station-desk-holidays/1",
                "years": [2027],
                "days": [{"date": "2027-01-01", "kind": "holiday", "name": "元旦"}],
            }
        ),
        encoding="utf-8",
    )
    sp._import_holidays(str(f))
    qtbot.waitUntil(lambda: "2026 年、2027 年" in sp.holidays.text())
    bad = tmp_path / "bad.json"
    bad.write_text("{not json", encoding="utf-8")
    sp._import_holidays(str(bad))
    gui.settle()
    assert no_modal_boxes[-1][0] == "warning" and "JSON" in no_modal_boxes[-1][1]
    desk = accounts.authenticate(db, "desk1", "desk1234")
    assert not make_window(qtbot, gui, db, desk).settings_page.import_holidays.isEnabled()


def test_transfer_to_a_colleague_from_the_matter_dialog(qtbot, gui, station_db, monkeypatch, no_modal_boxes):
    from desktop.ui.pages import counter as cp

    db, admin = station_db
    rid = _resident(db, admin)
    t = next(m for m in counter.catalogue(db) if m.name == "老年人优待证办理")
    acc = counter.accept(db, admin, rid, t.id, t.required_materials)
    win = make_window(qtbot, gui, db, admin)
    md = cp.MatterDialog(win.counter_page, acc.matter_id)
    qtbot.addWidget(md)
    gui.settle()

    def transfer(dlg):
        gui.settle()  # the colleagues are listed
        dlg.submit()  # nobody chosen
        gui.settle()
        assert not dlg.errors.labels["target"].isHidden()
        dlg.target.setCurrentIndex(dlg.target.findText("李前台"))
        dlg.note.setPlainText("AB岗顶岗")
        dlg.submit()
        gui.settle()
        return dlg.result()

    monkeypatch.setattr(cp.NoteDialog, "exec", transfer)
    md.act("transfer")
    gui.settle()
    assert md.detail.status == "transferred" and md.detail.handler_name == "李前台"
    desk = accounts.authenticate(db, "desk1", "desk1234")
    assert [r.id for r in counter.board(db).mine(desk)] == [acc.matter_id]
