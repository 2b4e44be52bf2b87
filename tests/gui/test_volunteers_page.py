"""志愿服务 in the window: register a volunteer, record an elderly resident's
weekly shopping need, rank with reasons, assign, record hours and a rating,
print the certificate, and run a weekly plan on demo data."""

from __future__ import annotations

from datetime import date, timedelta

from PySide6.QtCore import QDate, QTime

from desktop.services import residents, volunteers as vol
from desktop.services.idnumbers import make_ric
from desktop.services.residents import ResidentForm
from tests.gui.test_counter_page import make_window


def test_register_need_rank_assign_record_certificate(qtbot, gui, station_db, monkeypatch, no_modal_boxes, tmp_path):
    from desktop.ui.pages import volunteers as vp
    from desktop.ui.printing import PreviewDialog

    db, admin = station_db
    residents.register(
        db,
        admin,
        ResidentForm(
            name="王奶奶", doc_number=make_ric("340304", date(1938, 2, 2), 22), estate="幸福里小区", grid="一网格"
        ),
    )
    win = make_window(qtbot, gui, db, admin)
    page = win.volunteers_page
    win.show_page(win.pages.index(page))
    qtbot.waitUntil(lambda: gui.worker.pending == 0 and bool(page.skill_names))
    tomorrow = date.today()  # the service happens today, so its hours can be recorded
    key = f"{tomorrow.isoweekday()}am"

    def register(dlg):
        dlg.name.setText("张志愿")
        dlg.doc.setText(make_ric("340304", date(1985, 1, 1), 11))
        dlg.skill_boxes["shopping"].setChecked(True)
        dlg.avail[key].setChecked(True)
        dlg.submit()  # no consent yet
        gui.settle()
        assert not dlg.errors.labels["data_consent"].isHidden()
        dlg.consent.setChecked(True)
        dlg.submit()
        gui.settle()
        return dlg.result()

    monkeypatch.setattr(vp.VolunteerDialog, "exec", register)
    page.register()
    gui.settle()
    assert "志愿者编号：340304001-V0001" in no_modal_boxes[-1][1]

    def need(dlg):
        dlg.picker.search("王奶奶")
        gui.settle()
        dlg.title_.setText("每周代买菜")
        dlg.skill_boxes["shopping"].setChecked(True)
        dlg.day.setDate(QDate(tomorrow.year, tomorrow.month, tomorrow.day))
        dlg.weekly.setChecked(True)
        dlg.submit()
        gui.settle()
        return dlg.result()

    monkeypatch.setattr(vp.NeedDialog, "exec", need)
    page.new_need()
    qtbot.waitUntil(lambda: page.need_table.rowCount() == 1 and gui.worker.pending == 0)
    assert page.need_table.item(0, 0).text() == "审核中"
    page.need_table.selectRow(0)
    page.need_action("accept")
    qtbot.waitUntil(lambda: gui.worker.pending == 0 and page.need_table.item(0, 0).text() == "待派单")
    page.need_table.selectRow(0)

    def match(dlg):
        gui.settle()
        assert dlg.table.rowCount() == 1 and dlg.table.item(0, 1).text() == "张志愿"
        assert "代购" in dlg.table.item(0, dlg.table.columnCount() - 1).text()  # the reasons
        dlg.submit()
        gui.settle()
        return dlg.result()

    monkeypatch.setattr(vp.MatchDialog, "exec", match)
    page.need_action("match")
    qtbot.waitUntil(lambda: gui.worker.pending == 0 and page.asg_table.rowCount() == 1)

    def record(dlg):
        dlg.start.setTime(QTime(9, 0))
        dlg.end.setTime(QTime(10, 30))
        dlg.rating.setCurrentIndex(1)  # ★★★★★
        dlg.submit()
        gui.settle()
        return dlg.result()

    monkeypatch.setattr(vp.RecordDialog, "exec", record)
    page.asg_table.selectRow(0)
    page.record()
    qtbot.waitUntil(lambda: gui.worker.pending == 0 and page.asg_table.item(0, 9).text() == "1.5")
    assert page.asg_table.item(0, 10).text() == "★★★★★"
    # The certificate.
    previews = []
    monkeypatch.setattr(PreviewDialog, "exec", lambda self: previews.append(self) or 0)
    page.vol_table.selectRow(0)
    page.certificate()
    gui.settle()
    assert previews and "志愿服务记录证明" in previews[0].doc.text and "1.5" in previews[0].doc.text
    assert make_ric("340304", date(1985, 1, 1), 11) not in previews[0].doc.text  # never the ID number
    assert previews[0].save_pdf(str(tmp_path / "v.pdf")) is not None
    # The dispatch sheet and the hours ledger.
    page.asg_table.selectRow(0)
    previews.clear()
    page.print_dispatch()
    assert previews and "志愿服务派单" in previews[0].doc.text and "张志愿" in previews[0].doc.text
    page.export_hours(str(tmp_path / "hours.xlsx"))
    gui.settle()
    from openpyxl import load_workbook

    wb = load_workbook(tmp_path / "hours.xlsx")
    assert list(wb["按志愿者"].iter_rows(min_row=2, values_only=True)) == [("340304001-V0001", "张志愿", 1, 1.5)]
    assert list(wb["按技能"].iter_rows(min_row=2, values_only=True)) == [("代购", 1.5)]


def test_weekly_plan_on_demo_data(qtbot, gui, station_db, no_modal_boxes):
    from desktop.services import demo
    from desktop.services.demo import volunteers as demo_volunteers

    db, admin = station_db
    demo.fill_demo(db, n_residents=400, seed=3)
    info = demo_volunteers.fill_volunteers(db, n_volunteers=120, n_needs=25, seed=5)
    win = make_window(qtbot, gui, db, admin)
    page = win.volunteers_page
    win.show_page(win.pages.index(page))
    qtbot.waitUntil(lambda: gui.worker.pending == 0)
    page.tabs.setCurrentIndex(2)
    w = info["week"]
    page.week.setDate(QDate(w.year, w.month, w.day))
    page.run_plan()
    gui.settle()
    c = page.comparison
    assert c is not None and c.optimal.total >= c.greedy.total and c.optimal.filled > 0
    assert "优化计划" in page.plan_summary.text() and page.plan_table.rowCount() == len(c.optimal.slots)
    page.accept_plan()
    gui.settle()
    assert "已按优化计划派单" in no_modal_boxes[-1][1]
    assert len(vol.assignments(db, start=w, end=w + timedelta(days=6))) == c.optimal.filled


def test_supervisor_adds_a_skill_and_exception_dates_are_kept(qtbot, gui, station_db, monkeypatch, no_modal_boxes):
    from PySide6.QtWidgets import QInputDialog

    from desktop.ui.pages import volunteers as vp

    db, admin = station_db
    win = make_window(qtbot, gui, db, admin)
    page = win.volunteers_page
    win.show_page(win.pages.index(page))
    qtbot.waitUntil(lambda: gui.worker.pending == 0 and bool(page.skill_names))
    monkeypatch.setattr(QInputDialog, "getText", staticmethod(lambda *a, **k: ("缝补衣物", True)))
    page.add_skill()
    gui.settle()
    assert "缝补衣物" in page.skill_names.values()
    dlg = vp.VolunteerDialog(page)
    qtbot.addWidget(dlg)
    dlg.name.setText("钱师傅")
    dlg.doc.setText(make_ric("340304", date(1960, 1, 1), 11))
    dlg.skill_boxes[next(k for k, v in page.skill_names.items() if v == "缝补衣物")].setChecked(True)
    dlg.avail["1am"].setChecked(True)
    dlg.consent.setChecked(True)
    dlg.away.setText("2026-12-01、明天")
    dlg.submit()
    gui.settle()
    assert "看不懂" in dlg.errors.labels["unavailable_dates"].text() and dlg.result() == 0
    dlg.away.setText("2026-12-01、2026-12-08")
    dlg.submit()
    gui.settle()
    assert dlg.result() == 1
    pool = vol.Pool(db)
    e = next(x for x in pool.entries if x.name == "钱师傅")
    assert e.unavailable == {date(2026, 12, 1), date(2026, 12, 8)}


def test_after_dispatch_the_same_need_stays_selected_and_a_message_says_what_was_done(
    qtbot, gui, station_db, monkeypatch, no_modal_boxes
):
    """Issue 14, stale form: after 派单 the list does not jump away from the
    need, and a line says who was sent where (no box to click away)."""
    from PySide6.QtCore import Qt

    from desktop.ui.pages import volunteers as vp

    db, admin = station_db
    today = date.today()
    wang = residents.register(
        db, admin, ResidentForm(name="王奶奶", doc_number=make_ric("340304", date(1938, 2, 2), 22))
    )
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
    needs = [
        vol.create_need(db, admin, vol.NeedForm(title=t, resident_id=wang, skills=["shopping"], day=today, urgency=u))
        for t, u in (("代买菜", 1), ("代买药", 2), ("代取快递", 1))
    ]
    for nid in needs:
        vol.move_need(db, admin, nid, "accept")
    win = make_window(qtbot, gui, db, admin)
    page = win.volunteers_page
    win.show_page(win.pages.index(page))
    qtbot.waitUntil(lambda: gui.worker.pending == 0 and page.need_table.rowCount() == 3)
    row = next(i for i, n in enumerate(page.needs) if n.title == "代买菜")
    page.need_table.selectRow(row)

    def match(dlg):
        gui.settle()  # the ranking loads on the worker
        dlg.submit()
        gui.settle()
        return dlg.result()

    monkeypatch.setattr(vp.MatchDialog, "exec", match)
    qtbot.mouseClick(page.need_buttons["match"], Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: gui.worker.pending == 0 and page.asg_table.rowCount() == 1)
    r = page.need_table.currentRow()
    assert page.needs[r].title == "代买菜" and page.needs[r].assigned == 1
    assert page.need_note.text() == f"已派单：张志愿 → 代买菜（{today.year}年{today.month}月{today.day}日）"
