"""开具证明 in the window: issue a 居住证明, void and reissue it, refuse 亲属关系证明
with a printed notice, verify the QR codes, approve a queued request, export the ledger."""

from __future__ import annotations

from datetime import date

from PySide6.QtWidgets import QInputDialog

from desktop.services import accounts, certificates as certs, residents
from desktop.services.idnumbers import make_ric
from desktop.services.residents import ResidentForm
from tests.gui.test_counter_page import make_window
from tests.gui.test_dialogs import type_text


def _setup(qtbot, gui, station_db, monkeypatch, tmp_path, actor=None):
    from desktop.ui.printing import PreviewDialog

    db, admin = station_db
    rid = residents.register(
        db,
        admin,
        ResidentForm(
            name="赵丽",
            doc_number=make_ric("340304", date(1980, 5, 6), 21),
            phone="13812345678",
            estate="幸福里小区",
            building="3",
        ),
    )
    win = make_window(qtbot, gui, db, actor or admin)
    page = win.certificates_page
    win.show_page(win.pages.index(page))
    qtbot.waitUntil(lambda: gui.worker.pending == 0)
    previews = []

    def fake_exec(self):
        previews.append(self)
        self.save_pdf(str(tmp_path / f"doc{len(previews)}.pdf"))
        return 0

    monkeypatch.setattr(PreviewDialog, "exec", fake_exec)
    return db, admin, rid, page, previews


def test_issue_void_reissue_refuse_verify_export(qtbot, gui, station_db, monkeypatch, no_modal_boxes, tmp_path):
    from desktop.ui.pages import certificates as cp

    db, admin, rid, page, previews = _setup(qtbot, gui, station_db, monkeypatch, tmp_path)
    # Find the type by an alias and issue it.
    type_text(page.search, "居住")
    assert page.current.name == "居住证明" and page.stack.currentWidget() is page.issue_panel
    type_text(page.picker.edit, "赵丽")
    gui.settle()
    assert page.picker.resident_id == rid
    page.field_edits["since"].setText("2015年3月")
    page.field_edits["purpose"].setText("子女入学")
    page.issue()  # materials not ticked
    gui.settle()
    assert "核验" in page.message.text() and not previews
    page.tick_all()
    page.issue()
    gui.settle()
    assert previews and previews[-1].doc.title.startswith("居住证明 〔")
    assert (tmp_path / "doc1.pdf").read_bytes().startswith(b"%PDF")
    qtbot.waitUntil(lambda: page.ledger_table.rowCount() == 1)
    first = page.ledger_rows[0]
    qr_first = certs.printable(db, admin, first.id).qr
    # Reissue (the old one is voided, keeps its number).
    page.ledger_table.selectRow(0)
    monkeypatch.setattr(QInputDialog, "getText", staticmethod(lambda *a, **k: ("原件遗失", True)))
    page.reissue_selected()
    qtbot.waitUntil(lambda: page.ledger_table.rowCount() == 2 and gui.worker.pending == 0)
    by_status = {r.status: r for r in page.ledger_rows}
    assert set(by_status) == {"issued", "voided"} and by_status["voided"].id == first.id
    assert "补开" in previews[-1].doc.text
    qr_new = certs.printable(db, admin, by_status["issued"].id).qr
    # Verify: scan both codes into the search box.
    seen = []
    monkeypatch.setattr(cp.VerifyDialog, "exec", lambda self: seen.append(self.v) or 0)
    for code in (qr_new, qr_first):
        page.search.setText(code)
        page.search.returnPressed.emit()
        gui.settle()
    assert seen[0].genuine and seen[0].detail.status == "issued"
    assert seen[1].detail.status == "voided" and by_status["issued"].serial in seen[1].message
    page.search.setText(qr_new[:-8] + "AAAAAAAA")
    page.search.returnPressed.emit()
    gui.settle()
    assert not seen[2].genuine and "伪造" in seen[2].message
    # Refuse 亲属关系证明 with a printed notice.
    page.search.clear()
    type_text(page.search, "亲属")
    assert page.current.kind == "abolished" and page.stack.currentWidget() is page.refuse_panel
    assert "派出所" in page.r_where.text()
    type_text(page.r_picker.edit, "赵丽")
    gui.settle()
    page.refuse()
    gui.settle()
    assert "不予出具" in previews[-1].doc.text and "亲属关系证明" in previews[-1].doc.text
    qtbot.waitUntil(lambda: page.refusal_table.rowCount() == 1)
    assert page.seal_table.rowCount() == 2
    # Export the ledgers.
    out = tmp_path / "台账.xlsx"
    page.export(str(out))
    gui.settle()
    from openpyxl import load_workbook

    wb = load_workbook(out)
    assert wb.sheetnames == ["开具台账", "用印登记", "拒开记录", "拒开统计"]
    rows = list(wb["开具台账"].iter_rows(min_row=2, values_only=True))
    assert len(rows) == 2 and {r[5] for r in rows} == {"已开具", "已作废"}
    assert list(wb["拒开统计"].iter_rows(min_row=2, values_only=True)) == [("亲属关系证明", 1)]
    assert wb["开具台账"].freeze_panes == "A2"


def test_desk_submits_supervisor_approves(qtbot, gui, station_db, monkeypatch, no_modal_boxes, tmp_path):
    db, admin = station_db
    desk = accounts.authenticate(db, "desk1", "desk1234")
    db, admin, rid, page, previews = _setup(qtbot, gui, station_db, monkeypatch, tmp_path, actor=desk)
    page.select_type("R05")
    assert page.issue_btn.text() == "提交站长审批" and not page.approve_btn.isEnabled()
    page.picker.search("赵丽")
    gui.settle()
    page.field_edits["service"].setText("本年度参加志愿服务 12 次")
    page.field_edits["purpose"].setText("向所在单位反馈")
    page.tick_all()
    page.issue()
    gui.settle()
    assert no_modal_boxes and "审批" in no_modal_boxes[-1][1] and not previews
    qtbot.waitUntil(lambda: page.pending_table.rowCount() == 1)
    # The supervisor signs in on the same PC and approves.
    win2 = make_window(qtbot, gui, db, admin)
    sup_page = win2.certificates_page
    win2.show_page(win2.pages.index(sup_page))
    qtbot.waitUntil(lambda: sup_page.pending_table.rowCount() == 1)
    sup_page.pending_table.selectRow(0)
    sup_page.approve()
    gui.settle()
    assert previews and "〔" in previews[-1].doc.title
    qtbot.waitUntil(lambda: sup_page.pending_table.rowCount() == 0)
    assert certs.ledger(db)[0].approver_name == "张管理"


def test_supervisor_adds_a_local_certificate_and_imports_a_city_catalogue(
    qtbot, gui, station_db, monkeypatch, no_modal_boxes, tmp_path
):
    import json

    from desktop.ui.pages import certificates as cp

    db, admin, rid, page, previews = _setup(qtbot, gui, station_db, monkeypatch, tmp_path)
    dlg = cp.CertCatalogueDialog(page)
    qtbot.addWidget(dlg)
    gui.settle()
    n = dlg.table.rowCount()

    def fill(ed):
        ed.name.setText("住宅专项维修资金使用证明")
        ed.submit()
        gui.settle()
        assert not ed.errors.labels["basis"].isHidden()
        ed.basis.setText("本市住宅专项维修资金管理办法第十二条")
        ed.fields.setText("工程名称")
        ed.body.setPlainText("兹证明{姓名}所在楼栋{工程名称}已经业主表决。用于{用途}。")
        ed.submit()
        gui.settle()
        return ed.result()

    monkeypatch.setattr(cp.CertTypeDialog, "exec", fill)
    dlg.act("add")
    gui.settle()
    assert dlg.table.rowCount() == n + 1 and dlg.changed
    doc = json.loads((certs.resources_dir() / certs.SHIPPED).read_text(encoding="utf-8"))
    doc["retained"].append({**doc["retained"][0], "code": "C09", "name": "权属来源证明", "aliases": "权属"})
    f = tmp_path / "city.json"
    f.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    dlg.act("import", str(f))
    gui.settle()
    assert "新增 1 项" in no_modal_boxes[-1][1]
    monkeypatch.setattr(cp.CertCatalogueDialog, "exec", lambda self: 0)
    dlg.page.types = certs.catalogue(db)
    type_text(page.search, "维修资金")
    assert page.current.name == "住宅专项维修资金使用证明" and "工程名称" in page.field_edits


def test_ledger_filters_by_status_and_type(qtbot, gui, station_db, monkeypatch, no_modal_boxes, tmp_path):
    db, admin, rid, page, previews = _setup(qtbot, gui, station_db, monkeypatch, tmp_path)
    by = {t.code: t for t in certs.catalogue(db)}
    a = certs.issue(db, admin, rid, by["R01"].id, {"since": "2015年", "purpose": "入学"}, by["R01"].materials)
    certs.issue(db, admin, rid, by["R04"].id, {"activity": "垃圾分类宣传", "purpose": "学校"}, by["R04"].materials)
    certs.void(db, admin, a.id, "写错")
    page.refresh()
    qtbot.waitUntil(lambda: gui.worker.pending == 0)
    qtbot.waitUntil(lambda: page.ledger_table.rowCount() == 2 and gui.worker.pending == 0)
    page.status_filter.setCurrentIndex(page.status_filter.findData("voided"))
    qtbot.waitUntil(lambda: page.ledger_table.rowCount() == 1 and gui.worker.pending == 0)
    assert page.ledger_rows[0].id == a.id
    page.status_filter.setCurrentIndex(0)
    page.type_filter.setCurrentIndex(page.type_filter.findText("参加社区实践活动证明"))
    qtbot.waitUntil(lambda: gui.worker.pending == 0 and page.ledger_table.rowCount() == 1)
    assert page.ledger_rows[0].type_name == "参加社区实践活动证明"


def test_form_is_clean_for_the_next_resident_after_issue_and_refuse(
    qtbot, gui, station_db, monkeypatch, no_modal_boxes, tmp_path
):
    """Issue 14, stale form: after a certificate is issued (or refused) the
    resident and the ticked materials do not stay for the next person."""
    db, admin, rid, page, previews = _setup(qtbot, gui, station_db, monkeypatch, tmp_path)
    type_text(page.search, "居住")
    type_text(page.picker.edit, "赵丽")
    gui.settle()
    page.field_edits["since"].setText("2015年3月")
    page.field_edits["purpose"].setText("子女入学")
    page.tick_all()
    page.copies.setValue(2)
    page.issue()
    gui.settle()
    assert previews and previews[-1].doc.title.startswith("居住证明 〔")
    assert page.picker.resident_id is None and page.picker.edit.text() == "" and page.picker.list.count() == 0
    assert page._seen() == [] and page.materials.count() == 3  # unticked, still listed for the next one
    assert all(not e.text() for e in page.field_edits.values()) and page.copies.value() == 1
    page.issue()  # nothing is issued again for the previous resident
    gui.settle()
    assert "请先选择居民" in page.message.text() and len(certs.ledger(db)) == 1
    # Refuse: the resident picked for the notice is cleared too.
    page.search.clear()
    type_text(page.search, "亲属")
    type_text(page.r_picker.edit, "赵丽")
    gui.settle()
    assert page.r_picker.resident_id == rid
    page.refuse()
    gui.settle()
    assert "不予出具" in previews[-1].doc.text
    assert page.r_picker.resident_id is None and page.r_picker.edit.text() == ""


def test_purpose_suggestions_come_from_past_certificates(qtbot, gui, station_db, monkeypatch, no_modal_boxes, tmp_path):
    from PySide6.QtWidgets import QApplication

    db, admin, rid, page, previews = _setup(qtbot, gui, station_db, monkeypatch, tmp_path)
    r01 = next(t for t in certs.catalogue(db) if t.code == "R01")
    certs.issue(db, admin, rid, r01.id, {"since": "2015年", "purpose": "办理出国签证"}, r01.materials)
    page.window().activateWindow()
    page.activated()
    qtbot.waitUntil(lambda: gui.worker.pending == 0 and QApplication.activeWindow() is page.window())
    type_text(page.search, "居住")
    purpose = page.field_edits["purpose"]
    type_text(purpose, "办理")
    popup = purpose.completer().popup()
    shown = [popup.model().index(i, 0).data() for i in range(popup.model().rowCount())]
    assert popup.isVisible() and shown[0] == "办理出国签证" and "办理居住证" in shown  # past first, then usual
    type_text(purpose, "出国签证")
    assert not popup.isVisible()  # the whole suggestion is typed: nothing left to choose, the list closes


def test_unsaved_reads_a_choice_field_without_failing(qtbot, gui, station_db, monkeypatch, no_modal_boxes, tmp_path):
    """据实出具 (F01) has a choice among its fields: leaving the page asks about
    unsaved work by the choice moved off its first entry, or typed text."""
    from PySide6.QtWidgets import QComboBox

    db, admin, rid, page, previews = _setup(qtbot, gui, station_db, monkeypatch, tmp_path)
    page.select_type("F01")
    subject = page.field_edits["subject"]
    assert isinstance(subject, QComboBox)
    assert page.unsaved() is False
    subject.setCurrentIndex(2)
    assert page.unsaved() is True
    subject.setCurrentIndex(0)
    assert page.unsaved() is False
    page.field_edits["facts"].setText("2019年起在本社区居住")
    assert page.unsaved() is True
    page.issue_panel.clear()
    assert page.unsaved() is False
