"""数据备份 page, the daily scheduler, and the start-up offer of a backup
when the database is damaged."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from db import backup
from db.engine import Database, open_database
from db.models import Resident
from desktop.services import accounts, backups, residents
from desktop.services.residents import ResidentForm


def make_page(qtbot, gui, db, actor):  # type: ignore[no-untyped-def]
    from desktop.ui.pages.backups import BackupsPage

    page = BackupsPage(db, actor, gui.worker, settings=gui.settings)
    qtbot.addWidget(page)
    page.resize(1366 - 200, 768 - 60)  # the main window's page area on a 1366×768 screen
    page.show()
    page.activated()
    qtbot.waitUntil(lambda: gui.worker.pending == 0)
    return page


def _cells(page, row):  # type: ignore[no-untyped-def]
    return [page.table.item(row, c).text() for c in range(page.table.columnCount())]


def test_list_backup_now_and_screenshot(qtbot, gui, station_db, no_modal_boxes):
    db, admin = station_db
    from desktop.services import demo

    demo.fill_demo(db, n_residents=120, seed=2)
    backups.create(db, None, gui.settings, "auto", now=datetime.now() - timedelta(days=1))
    page = make_page(qtbot, gui, db, admin)
    assert page.title == "数据备份" and page.min_role == "supervisor"
    assert page.table.rowCount() == 1
    cells = _cells(page, 0)
    assert cells[1] == "自动" and cells[3] == "120 人" and cells[4] == "0 件" and cells[5] == "✓"
    assert "backups" in page.folder_label.text() and "默认" in page.folder_note.text()
    assert page.folder_label.toolTip() == page.folder_label.text()
    assert page.change_folder.isEnabled()
    assert not page.restore_button.isEnabled()  # nothing selected yet
    made = []
    page.backup_made.connect(made.append)
    page.backup_now.click()
    gui.settle()
    qtbot.waitUntil(lambda: page.table.rowCount() == 2)
    assert made and made[0].verified and _cells(page, 0)[1] == "手动"
    assert "备份完成并已校验" in page.notice.text()
    assert page.last.text().startswith("最近一次备份：")
    assert no_modal_boxes == []
    page.table.selectRow(0)
    assert page.restore_button.isEnabled()
    page.grab().save("/tmp/backups_page.png")


def test_supervisor_may_back_up_but_not_restore_or_move(qtbot, gui, station_db, no_modal_boxes):
    db, admin = station_db
    accounts.create_account(db, admin, username="zhan", display_name="王站长", role="supervisor", password="zhan12345")
    sup = accounts.authenticate(db, "zhan", "zhan12345")
    backups.create(db, admin, gui.settings, "manual")
    page = make_page(qtbot, gui, db, sup)
    page.table.selectRow(0)
    assert page.backup_now.isEnabled()
    assert not page.restore_button.isEnabled() and not page.change_folder.isEnabled()
    assert "管理员" in page.restore_button.toolTip()
    page.restore_selected()  # even if called, nothing happens
    assert no_modal_boxes == []


def test_restore_from_the_page(qtbot, gui, station_db, no_modal_boxes):
    db, admin = station_db
    info = backups.create(db, admin, gui.settings, "manual", now=datetime(2026, 11, 20, 9, 30))
    from datetime import date

    from desktop.services.idnumbers import make_ric

    residents.register(db, admin, ResidentForm(name="恢复后不见", doc_number=make_ric("340304", date(1960, 5, 5), 21)))
    page = make_page(qtbot, gui, db, admin)
    row = next(i for i, b in enumerate(page.items) if b.path == info.path)
    page.table.selectRow(row)
    got = []
    page.restored.connect(got.append)
    page.restore_button.click()
    gui.settle()
    qtbot.waitUntil(lambda: bool(got))
    assert "replaced" in got[0]
    assert no_modal_boxes and no_modal_boxes[-1][0] == "information"
    assert "2026年11月20日 09:30" in no_modal_boxes[-1][1] and "请重新登录" in no_modal_boxes[-1][1]
    with db.session() as s:  # the same Database object now reads the restored file
        assert s.scalar(select(Resident).where(Resident.name == "恢复后不见")) is None


def test_restore_can_be_cancelled(qtbot, gui, station_db, no_modal_boxes, monkeypatch):
    from PySide6.QtWidgets import QMessageBox

    db, admin = station_db
    backups.create(db, admin, gui.settings, "manual")
    asked = []
    monkeypatch.setattr(
        QMessageBox, "question", staticmethod(lambda *a, **k: asked.append(a[2]) or QMessageBox.StandardButton.No)
    )
    page = make_page(qtbot, gui, db, admin)
    page.table.selectRow(0)
    before = db.path.read_bytes()
    page.restore_button.click()
    gui.settle()
    assert asked and "不会删除" in asked[0] and "之后录入的所有内容" in asked[0]
    assert db.path.read_bytes() == before
    assert not any(p.name.startswith("station.replaced") for p in db.path.parent.iterdir())


def test_backup_failure_shows_a_chinese_message(qtbot, gui, station_db, no_modal_boxes, tmp_path):
    db, admin = station_db
    usb = tmp_path / "usb"
    usb.mkdir()
    backups.set_folder(db, admin, gui.settings, str(usb))
    usb.rmdir()  # the stick was pulled out
    page = make_page(qtbot, gui, db, admin)
    page.backup_now.click()
    gui.settle()
    assert no_modal_boxes and no_modal_boxes[-1][0] == "warning"
    assert "找不到备份文件夹" in no_modal_boxes[-1][1]
    assert page.backup_now.isEnabled()


def test_changing_the_folder_from_the_page(qtbot, gui, station_db, no_modal_boxes, tmp_path):
    db, admin = station_db
    target = tmp_path / "second disk"
    target.mkdir()
    page = make_page(qtbot, gui, db, admin)
    page.choose_folder(str(target))
    gui.settle()
    assert page.folder_label.text() == str(target) and page.folder_note.isHidden()
    assert "以后的备份保存到" in page.notice.text()
    page.default_folder.click()
    gui.settle()
    assert "默认" in page.folder_note.text() and not page.folder_note.isHidden()


def test_server_database_disables_the_page(qtbot, gui, station_db):
    db, admin = station_db
    server = Database(url="postgresql://hub/x", engine=db.engine, sessions=db.sessions, path=None)
    page = make_page(qtbot, gui, server, admin)
    assert not page.backup_now.isEnabled() and not page.restore_button.isEnabled()
    assert not page.change_folder.isEnabled()
    assert "pg_dump" in page.policy.text()


def test_scheduler_makes_the_daily_backup_once(qtbot, gui, station_db):
    from desktop.ui.pages.backups import BackupScheduler

    db, admin = station_db
    now = [datetime(2026, 11, 23, 8, 1)]
    sched = BackupScheduler(db, gui.settings, gui.worker, clock=lambda: now[0])
    made, failed = [], []
    sched.made.connect(made.append)
    sched.failed.connect(failed.append)
    sched.check()
    qtbot.waitUntil(lambda: not sched.busy)
    assert len(made) == 1 and made[0].reason == "auto"
    now[0] += timedelta(minutes=10)
    sched.check()
    qtbot.waitUntil(lambda: not sched.busy)
    assert len(made) == 1  # today's is there
    now[0] += timedelta(days=1)
    sched.check()
    qtbot.waitUntil(lambda: not sched.busy)
    assert len(made) == 2 and not failed
    sched.start()
    assert sched._first.isActive() and sched._every.interval() == 10 * 60_000
    sched.stop()


def test_scheduler_reports_a_failure_once_an_hour(qtbot, gui, station_db, tmp_path):
    from desktop.ui.pages.backups import BackupScheduler

    db, admin = station_db
    usb = tmp_path / "usb"
    usb.mkdir()
    backups.set_folder(db, admin, gui.settings, str(usb))
    usb.rmdir()
    now = [datetime(2026, 11, 23, 8, 1)]
    sched = BackupScheduler(db, gui.settings, gui.worker, clock=lambda: now[0])
    failed = []
    sched.failed.connect(failed.append)
    sched.check()
    qtbot.waitUntil(lambda: not sched.busy)
    assert len(failed) == 1 and "找不到备份文件夹" in failed[0]
    now[0] += timedelta(minutes=10)
    sched.check()
    assert not sched.busy and len(failed) == 1  # not retried within the hour
    now[0] += timedelta(hours=1)
    usb.mkdir()
    sched.check()
    qtbot.waitUntil(lambda: not sched.busy)
    assert len(failed) == 1 and backup.list_backups(usb)


# ------------------------------------------------ start-up with a damaged database


def _damage(path) -> None:  # type: ignore[no-untyped-def]
    data = bytearray(path.read_bytes())
    data[4096 * 2 : 4096 * 5] = b"\x5a" * (4096 * 3)
    path.write_bytes(bytes(data))


def test_damaged_database_offers_the_newest_good_backup(qtbot, gui, station_db, no_modal_boxes, monkeypatch):
    from db.errors import DatabaseCorrupt
    from desktop.ui import app

    db, admin = station_db
    path, url = db.path, db.url
    old = backups.create(db, admin, gui.settings, "auto", now=datetime(2026, 11, 21, 8, 0))
    newest = backups.create(db, admin, gui.settings, "auto", now=datetime(2026, 11, 22, 8, 0))
    newest.path.write_bytes(newest.path.read_bytes()[:3000])  # the newest is itself broken
    db.close()
    _damage(path)
    with pytest.raises(DatabaseCorrupt) as e:
        open_database(url)
    offers = []
    monkeypatch.setattr(app, "ask_restore_after_corruption", lambda msg, offer: offers.append(offer) or True)
    recovered = app.offer_backup_after_corruption(url, gui.settings, gui.worker, e.value)
    assert recovered is not None
    try:
        assert offers == [backups.describe(old)]
        assert offers[0].startswith("2026年11月21日 08:00，居民 0 人")
        damaged = [p for p in path.parent.iterdir() if ".damaged-" in p.name and p.suffix == ".sqlite3"]
        assert len(damaged) == 1  # kept aside, not deleted (with a copy of its key file)
        assert "损坏的数据库文件没有删除" in no_modal_boxes[-1][1]
        assert accounts.station_info(recovered) is not None
        with recovered.session() as s:
            from db.models import AuditLog

            line = s.scalar(select(AuditLog).where(AuditLog.action == "backup_restore"))
            assert line is not None and line.detail["cause"] == "damaged"
    finally:
        recovered.close()


def test_damaged_database_without_backups_or_declined(qtbot, gui, station_db, no_modal_boxes, monkeypatch):
    from db.errors import DatabaseCorrupt
    from desktop.ui import app

    db, admin = station_db
    path, url = db.path, db.url
    db.close()
    _damage(path)
    err = DatabaseCorrupt(str(path), "test")
    assert app.offer_backup_after_corruption(url, gui.settings, gui.worker, err) is None
    assert "没有找到可用的备份" in no_modal_boxes[-1][1]
    other = path.with_name("other.sqlite3")
    open_database(other).close()
    backup.make_backup(other, path.parent / "backups", "auto")
    # a backup of another database file does not count as this station's
    assert app.offer_backup_after_corruption(url, gui.settings, gui.worker, err) is None
    # declined: nothing changes
    good = path.with_name("station2.sqlite3")
    open_database(good).close()
    monkeypatch.setattr(app, "ask_restore_after_corruption", lambda msg, offer: False)
    before = path.read_bytes()
    backup.make_backup(good, path.parent / "backups", "auto")
    (path.parent / "backups" / backup.list_backups(path.parent / "backups", "station2")[0].path.name).rename(
        path.parent / "backups" / "station-20261122-080000-auto.sqlite3"
    )
    assert app.offer_backup_after_corruption(url, gui.settings, gui.worker, err) is None
    assert path.read_bytes() == before
    assert not [p for p in path.parent.iterdir() if ".damaged-" in p.name]


def test_a_long_folder_path_stays_on_one_line(qtbot, gui, station_db, no_modal_boxes, tmp_path):
    """A backup folder deep in a USB stick's tree is shortened in the middle
    on one line (the whole path in the tooltip), so the page still fits."""
    db, admin = station_db
    deep = tmp_path.joinpath(*[f"第{i}层文件夹-station-backups" for i in range(12)])
    deep.mkdir(parents=True)
    page = make_page(qtbot, gui, db, admin)
    page.choose_folder(str(deep))
    gui.settle()
    label = page.folder_label
    assert label.text() == str(deep) and label.toolTip() == str(deep)
    shown = super(type(label), label).text()  # what is painted
    assert "…" in shown and len(shown) < len(str(deep))
    fm = label.fontMetrics()
    assert label.sizeHint().height() <= fm.height() + 12 and fm.horizontalAdvance(shown) <= label.width()  # one line
