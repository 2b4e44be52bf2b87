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
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from desktop.ui.worker import SerialWorker

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
    exchange_shots(win, shot, db, settings, paths, worker)
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


def _settle(worker: SerialWorker) -> None:
    """Until every queued background read has come back to the window."""
    from PySide6.QtWidgets import QApplication

    QApplication.processEvents()
    while worker.pending:
        QApplication.processEvents()
    QApplication.processEvents()


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
    _settle(page.worker)  # the catalogue loads off the GUI thread
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
        pv = PreviewDialog(
            win,
            "受理回执",
            lambda lay: paperwork.receipt_document(db, rows[0].id, lay),
            layouts=("A4", "A5", "80mm"),
            layout=layout,
        )
        shot(pv, f"35-receipt-preview-{layout}", (760, 700))
    t = counter.catalogue(db)[0]
    pv = PreviewDialog(
        win,
        "一次性告知单",
        lambda lay: paperwork.notice_document(
            db,
            t.id,
            notice_no="340304001-GZ20261123-0001",
            resident_name="王秀英",
            missing=[t.materials[2].name],
            layout=lay,
        ),
        layouts=("A4", "A5"),
    )
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


def exchange_shots(win, shot, db, settings, paths, worker) -> None:  # type: ignore[no-untyped-def]
    """数据交换 with a street hub made beside the demo: keys exchanged, a full
    export to the hub, both sides changing one resident's phone (a conflict at
    the station), the same person registered at both (a duplicate at the hub)."""
    import dataclasses
    import tempfile

    from sqlalchemy import select

    from db.engine import open_database
    from db.models import Resident
    from desktop.services import accounts, residents
    from desktop.services.residents import ResidentForm
    from desktop.services.sync import exchange
    from desktop.ui.main_window import MainWindow
    from desktop.ui.pages.exchange import TrustPeerDialog

    page = win.exchange_page
    folder = Path(tempfile.mkdtemp())
    hub = open_database(folder / "hub.sqlite3")
    hadmin = accounts.setup_station(
        hub,
        code="340304000",
        name="幸福街道党群服务中心",
        level="street",
        admin_username="admin",
        admin_password="admin123",
        admin_display_name="街道管理员",
    )
    admin = win.actor  # the demo administrator
    shot(TrustPeerDialog(page, exchange.station_keys(hub).peer), "70-exchange-trust")
    exchange.trust_peer(db, admin, exchange.station_keys(hub).peer)
    exchange.trust_peer(hub, hadmin, exchange.station_keys(db).peer)
    with db.session() as s:
        edited, twin = [
            (r.id, r.name, r.doc_number)
            for r in s.scalars(select(Resident).where(Resident.doc_number.is_not(None)).limit(2))
        ]
    rid = edited[0]
    # The street office had registered one of the station's residents on its own.
    residents.register(hub, hadmin, ResidentForm(name=twin[1], doc_number=twin[2], phone="13955556666"))
    full = exchange.export_bundle(
        db, admin, "340304000", folder / exchange.default_bundle_name(db, "340304000", True), full=True
    )
    exchange.import_bundle(hub, hadmin, full.path)
    residents.update(hub, hadmin, rid, dataclasses.replace(residents.get(hub, rid).form, phone="13912345678"))
    residents.update(db, admin, rid, dataclasses.replace(residents.get(db, rid).form, phone="13700002222"))
    back = exchange.export_bundle(hub, hadmin, "340304001", folder / "back.sdbundle")
    exchange.export_bundle(db, admin, "340304000", folder / "up.sdbundle")

    win.show_page(win.pages.index(page))
    page.import_bundle(back.path)
    shot(win, "71-exchange-transfer", (1366, 768))
    for tab in (page.TAB_PEERS, page.TAB_HISTORY, page.TAB_CONFLICTS):
        page.tabs.setCurrentIndex(tab)
        shot(win, f"7{tab + 1}-exchange-{page.tabs.tabText(tab).split()[0]}", (1366, 768))
    hub_win = MainWindow(hub, hadmin, accounts.station_info(hub), settings, paths, worker)
    hub_page = hub_win.exchange_page
    hub_win.show_page(hub_win.pages.index(hub_page))
    hub_page.tabs.setCurrentIndex(hub_page.TAB_DUPLICATES)
    shot(hub_win, "75-exchange-hub-duplicates", (1366, 768))
    hub_win.close()


if __name__ == "__main__":
    main()
