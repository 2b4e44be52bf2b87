"""报表 in the window: on demo data pick last month, build, look at every
section, click a figure and a table cell through to their records, preview
the PDF, save it and the Excel workbook."""

from __future__ import annotations

from openpyxl import load_workbook

from desktop.services import demo, reports
from desktop.services.demo import (
    certificates as demo_certificates,
    counter as demo_counter,
    volunteers as demo_volunteers,
)
from tests.gui.test_counter_page import make_window


def test_last_month_report_end_to_end(qtbot, gui, station_db, tmp_path):
    from desktop.ui.pages.reports import RecordsDialog, ReportsPage

    db, admin = station_db
    demo.fill_demo(db, n_residents=300, seed=3)
    demo_counter.fill_counter(db, n_matters=400, seed=3)
    demo_certificates.fill_certificate_history(db, seed=3)
    demo_volunteers.fill_volunteers(db, n_volunteers=30, n_needs=5, seed=3)
    demo_volunteers.fill_volunteer_history(db, seed=3)
    win = make_window(qtbot, gui, db, admin)
    page = next(p for p in win.pages if isinstance(p, ReportsPage))
    win.show_page(win.pages.index(page))
    assert page.kind.currentData() == "last_month"
    page.build_btn.click()
    qtbot.waitUntil(lambda: page.report is not None and page.tabs.count() >= 6, timeout=20000)
    assert [page.tabs.tabText(i) for i in range(6)] == [
        "窗口受理",
        "好差评",
        "开具证明",
        "志愿服务",
        "入户走访",
        "居民信息",
    ]
    assert page.pdf_btn.isEnabled() and not page.progress.isVisible()
    for i in range(page.tabs.count()):
        page.tabs.setCurrentIndex(i)
        qtbot.wait(10)
    # A figure through to its records: 受理 lists exactly that many matters.
    accepted = page.report.section("counter").figures[0]
    assert accepted.value > 0
    opened: list[RecordsDialog] = []
    orig = RecordsDialog.open
    RecordsDialog.open = lambda self: opened.append(self)  # type: ignore[method-assign]
    try:
        page.tabs.setCurrentIndex(0)
        from PySide6.QtWidgets import QPushButton

        card = next(b for b in page.tabs.widget(0).findChildren(QPushButton) if b.text().startswith("受理\n"))
        card.click()
        qtbot.waitUntil(lambda: len(opened) == 1)
        assert opened[0].table.rowCount() == accepted.value
        # A table cell: the 窗口 row's 受理 in 按渠道.
        from PySide6.QtWidgets import QTableWidget

        tables = page.tabs.widget(0).findChildren(QTableWidget)
        by_channel = next(t for t in tables if t.horizontalHeaderItem(0).text() == "渠道")
        row = next(r for r in range(by_channel.rowCount()) if by_channel.item(r, 0).text() == "窗口")
        by_channel.cellClicked.emit(row, 1)
        qtbot.waitUntil(lambda: len(opened) == 2)
        assert opened[1].table.rowCount() == int(by_channel.item(row, 1).text())
        opened[1].export(str(tmp_path / "detail.xlsx"))
        assert load_workbook(tmp_path / "detail.xlsx").active.max_row == opened[1].table.rowCount() + 1
    finally:
        RecordsDialog.open = orig  # type: ignore[method-assign]
    dlg = page.preview_dialog()
    assert len(dlg.doc.pages) >= 6 and "工作报表" in dlg.doc.text
    page.save_pdf(str(tmp_path / "r.pdf"))
    # While the PDF is being written the save buttons wait: a second save
    # (a double click, a shortcut) starts nothing.
    assert not page.pdf_btn.isEnabled() and not page.xlsx_btn.isEnabled()
    page.save_excel(str(tmp_path / "early.xlsx"))
    qtbot.waitUntil(lambda: (tmp_path / "r.pdf").exists() and page.xlsx_btn.isEnabled(), timeout=20000)
    qtbot.waitUntil(lambda: gui.worker.pending == 0)
    assert not (tmp_path / "early.xlsx").exists()
    page.save_excel(str(tmp_path / "r.xlsx"))
    qtbot.waitUntil(lambda: (tmp_path / "r.xlsx").exists() and page.pdf_btn.isEnabled(), timeout=20000)
    assert (tmp_path / "r.pdf").read_bytes().startswith(b"%PDF")
    wb = load_workbook(tmp_path / "r.xlsx")
    assert wb.sheetnames[0] == "概要" and any(n.startswith("窗口受理-") for n in wb.sheetnames)
    ws = wb[next(n for n in wb.sheetnames if n.startswith("窗口受理-按渠道"))]
    assert ws.freeze_panes == "A2" and isinstance(ws.cell(2, 2).value, int)


def test_custom_range_with_end_before_start_says_so(qtbot, gui, station_db, monkeypatch):
    from PySide6.QtCore import QDate

    from desktop.ui.pages import reports as rp

    db, admin = station_db
    win = make_window(qtbot, gui, db, admin)
    page = next(p for p in win.pages if isinstance(p, rp.ReportsPage))
    shown = []
    monkeypatch.setattr(rp, "show_error", lambda parent, e: shown.append(getattr(e, "user_message", str(e))))
    page.kind.setCurrentIndex([k for k, _ in rp.KINDS].index("range"))
    page.start.setDate(QDate(2026, 11, 20))
    page.end.setDate(QDate(2026, 11, 1))
    page.build_btn.click()
    assert shown and "结束日期" in shown[0] and page.report is None
    assert reports.Period.between  # the rule lives in the service
