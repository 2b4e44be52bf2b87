"""Render every dialog and page offscreen at 1366x768 into screenshots/.

    QT_QPA_PLATFORM=offscreen .venv/bin/python tests/gui/screenshots.py [DB]

Not a test: a way to look at what we built.  With a DB path it uses that
database (e.g. a 100 000-resident demo); otherwise it makes a small demo.
"""
from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
OUT = ROOT / "screenshots"


def main() -> None:
    os.environ.setdefault("STATION_DESK_HOME", tempfile.mkdtemp())
    from PySide6.QtWidgets import QApplication

    from db.engine import open_database
    from desktop.paths import app_paths
    from desktop.services import accounts, demo
    from desktop.settings import Settings
    from desktop.ui.app import make_app
    from desktop.ui.dialogs import FirstRunDialog, LoginDialog, SetupDialog
    from desktop.ui.errors import ErrorDialog
    from desktop.ui.main_window import MainWindow
    from desktop.ui.worker import SerialWorker

    OUT.mkdir(exist_ok=True)
    paths = app_paths()
    settings = Settings(paths.settings_file)
    app = make_app(settings)
    worker = SerialWorker()

    def shot(widget, name: str, size=None) -> None:  # type: ignore[no-untyped-def]
        if size:
            widget.resize(*size)
        widget.show()
        for _ in range(30):
            app.processEvents()
        while worker.pending:
            app.processEvents()
        app.processEvents()
        widget.grab().save(str(OUT / f"{name}.png"))
        print("wrote", OUT / f"{name}.png")

    shot(FirstRunDialog(str(paths.default_db)), "01-first-run")
    tmp = Path(tempfile.mkdtemp())
    empty = open_database(tmp / "empty.sqlite3")
    setup = SetupDialog(empty, worker)
    shot(setup, "02-setup")
    setup.name.setText("幸福里社区党群服务中心")
    setup.code.setText("")
    setup.submit()
    shot(setup, "03-setup-error")

    if len(sys.argv) > 1:
        db = open_database(sys.argv[1])
        user, pw = demo.DEMO_ADMIN, demo.DEMO_PASSWORD
    else:
        db = open_database(tmp / "demo.sqlite3")
        user, pw = demo.create_demo_station(db, n_residents=3000)
    station = accounts.station_info(db)
    login = LoginDialog(db, worker, station.name, last_username=user)
    shot(login, "04-login")
    login.password.setText("wrong-pass1")
    login.submit()
    shot(login, "05-login-failed")
    actor = accounts.authenticate(db, user, pw)
    win = MainWindow(db, actor, station, settings, paths, worker)
    for i, title in enumerate(win.page_titles()):
        win.show_page(i)
        shot(win, f"1{i}-main-{title}", (1366, 768))
    counter_shots(win, shot, db)
    certificate_shots(win, shot, db)
    volunteer_shots(win, shot, db)
    report_shots(win, shot, db)
    win.settings_page.font_size.setValue(16)
    win.show_page(0)
    shot(win, "20-main-font16", (1366, 768))
    win.settings_page.font_size.setValue(11)
    shot(LoginDialog(db, worker, station.name, locked_user=actor), "21-unlock")
    shot(ErrorDialog("程序遇到了一个意外的问题……", "Traceback ..."), "22-error")
    desk = accounts.authenticate(db, "qiantai", demo.DEMO_PASSWORD)
    shot(MainWindow(db, desk, station, settings, paths, worker), "23-main-desk-role", (1366, 768))
    worker.stop()
    QApplication.quit()


def counter_shots(win, shot, db) -> None:  # type: ignore[no-untyped-def]
    """The counter: board, accept dialog, a matter, the receipt preview, the catalogue."""
    from desktop import paperwork
    from desktop.services import counter
    from desktop.ui.pages.counter import AcceptDialog, CatalogueDialog, CloseDialog, MatterDialog, MatterTypeDialog
    from desktop.ui.printing import PreviewDialog

    page = win.counter_page
    win.show_page(win.pages.index(page))
    page.tabs.setCurrentIndex(2)
    shot(win, "30-counter-overdue", (1366, 768))
    if win.actor.at_least("supervisor"):
        page.tabs.setCurrentIndex(page.rect_tab)
        shot(win, "31-counter-rectifications", (1366, 768))
    dlg = AcceptDialog(page)
    dlg.who.setText("王")
    dlg.what.setText("低保")
    dlg.tick(dlg.current.required_materials[:2])
    shot(dlg, "32-accept")
    rows = page.models["open"].rows
    md = MatterDialog(page, rows[0].id)
    shot(md, "33-matter")
    cd = CloseDialog(md)
    cd.radios[2].setChecked(True)
    shot(cd, "34-close-rate")
    for layout in ("A4", "A5", "80mm"):
        pv = PreviewDialog(win, "受理回执", lambda lay: paperwork.receipt_document(db, rows[0].id, lay),
                           layouts=("A4", "A5", "80mm"), layout=layout)
        shot(pv, f"35-receipt-preview-{layout}", (760, 700))
    t = counter.catalogue(db)[0]
    pv = PreviewDialog(win, "一次性告知单", lambda lay: paperwork.notice_document(
        db, t.id, notice_no="340304001-GZ20261123-0001", resident_name="王秀英", missing=[t.materials[2].name],
        layout=lay), layouts=("A4", "A5"))
    shot(pv, "36-notice-preview", (760, 700))
    cat = CatalogueDialog(page)
    shot(cat, "37-catalogue")
    shot(MatterTypeDialog(cat, cat.items[0]), "38-matter-type")
    res = win.residents_page
    win.show_page(win.pages.index(res))
    res.select_resident(counter.get(db, rows[0].id).resident_id)
    shot(win, "39-residents-timeline", (1366, 768))


def certificate_shots(win, shot, db) -> None:  # type: ignore[no-untyped-def]
    from desktop import paperwork
    from desktop.services import certificates as certs
    from desktop.ui.pages.certificates import VerifyDialog
    from desktop.ui.printing import PreviewDialog

    page = win.certificates_page
    win.show_page(win.pages.index(page))
    page.search.setText("居住")
    page.picker.search("王")
    page.field_edits["since"].setText("2015年3月")
    page.field_edits["purpose"].setText("子女入学")
    page.tick_all()
    shot(win, "40-certificates-issue", (1366, 768))
    PreviewDialog.exec = lambda self: 0  # type: ignore[method-assign]  # no modal preview in a script
    page.issue()
    page.search.setText("单身")
    page.r_picker.search("王")
    shot(win, "41-certificates-refuse", (1366, 768))
    rows = certs.ledger(db, status="issued")
    if rows:
        doc = paperwork.certificate_document(db, win.actor, rows[0].id)
        shot(PreviewDialog(win, doc.title, lambda _l: doc), "42-certificate-preview", (760, 700))
        shot(VerifyDialog(win, certs.verify(db, certs.printable(db, win.actor, rows[0].id).qr)), "43-verify")
    page.tabs.setCurrentIndex(1)
    shot(win, "44-certificates-ledger", (1366, 768))


def volunteer_shots(win, shot, db) -> None:  # type: ignore[no-untyped-def]
    from desktop.services import volunteers as vol
    from desktop.ui.pages.volunteers import MatchDialog, NeedDialog, VolunteerDialog

    page = win.volunteers_page
    win.show_page(win.pages.index(page))
    shot(win, "50-volunteers-needs", (1366, 768))
    needs = vol.list_needs(db)
    if needs:
        shot(MatchDialog(page, needs[0]), "51-match", (1180, 620))
    page.tabs.setCurrentIndex(2)
    if needs:
        page.week.setDate(page.week.date().addDays(0))
        from PySide6.QtCore import QDate

        d = vol.occurrences(needs[0], needs[0].day, needs[0].day + __import__("datetime").timedelta(6))[0]
        page.week.setDate(QDate(d.year, d.month, d.day))
        page.run_plan()
    shot(win, "52-weekly-plan", (1366, 768))
    page.tabs.setCurrentIndex(3)
    shot(win, "53-volunteers", (1366, 768))
    shot(VolunteerDialog(page), "54-register-volunteer")
    shot(NeedDialog(page), "55-need")


def report_shots(win, shot, db) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtWidgets import QApplication

    from desktop.services import reports
    from desktop.ui.pages.reports import RecordsDialog, ReportsPage

    page = next(p for p in win.pages if isinstance(p, ReportsPage))
    win.show_page(win.pages.index(page))
    page.build_btn.click()
    while page.report is None:
        QApplication.processEvents()
    for i in range(page.tabs.count()):
        page.tabs.setCurrentIndex(i)
        shot(win, f"6{i}-report-{page.tabs.tabText(i)}", (1366, 768))
    fig = page.report.section("counter").figures[0]
    shot(RecordsDialog(page, reports.records(db, page.actor, page.report, fig.drill)), "67-report-records")
    shot(page.preview_dialog(), "68-report-preview", (1000, 740))


if __name__ == "__main__":
    main()
