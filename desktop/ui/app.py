"""Start-up: one instance per database, the look, first run, sign-in, main window."""

from __future__ import annotations

import hashlib
import logging
import sys
import time
from pathlib import Path
from functools import partial
from typing import TYPE_CHECKING, cast

from PySide6.QtCore import QLibraryInfo, QLocale, QLockFile, Qt, QTimer, QTranslator
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication, QMessageBox

from desktop import APP_NAME, APP_NAME_EN
from desktop.paths import AppPaths, resources_dir
from desktop.settings import Settings
from desktop.ui.widgets import base_font

if TYPE_CHECKING:
    from db.engine import Database
    from db.errors import StationDeskError
    from desktop.services.accounts import StationInfo
    from desktop.ui.pages.residents import ResidentsPage
    from desktop.ui.worker import SerialWorker

log = logging.getLogger("desktop")

RESOURCES = resources_dir()
_translator = None  # kept alive for the life of the application
# SQLite page cache per connection in the window (the CLI keeps 32 MiB): its
# searches run on the in-memory resident index, and 32 MiB filled by the
# overview's counts held ~25 MB more for the whole session (issue 19).
WINDOW_CACHE_MIB = 8


def make_app(settings: Settings) -> QApplication:
    app = cast("QApplication | None", QApplication.instance())
    if app is None:
        QGuiApplication.setHighDpiScaleFactorRoundingPolicy(Qt.HighDpiScaleFactorRoundingPolicy.PassThrough)
        app = QApplication(sys.argv[:1])
    app.setApplicationName(APP_NAME_EN)
    app.setApplicationDisplayName(APP_NAME)
    app.setFont(base_font(settings["font_size"]))
    install_translations(app)
    from desktop.ui import files

    files.use_settings(settings)
    try:
        qss = (RESOURCES / "style.qss").read_text(encoding="utf-8")
        app.setStyleSheet(qss.replace("@RES@", RESOURCES.as_posix()))
    except OSError:
        log.warning("style sheet missing; using the platform look")
    return app


def install_translations(app: QApplication) -> bool:
    """Qt's own Chinese texts: 确定/取消 in message boxes and button boxes,
    file and print dialogs, the context menus of text fields.  The files ship
    with PySide6 (``qtbase_zh_CN.qm`` under ``PySide6/Qt/translations``)."""
    global _translator
    if _translator is not None:
        return True
    QLocale.setDefault(QLocale(QLocale.Language.Chinese, QLocale.Country.China))
    translator = QTranslator(app)
    folder = QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)
    if not translator.load("qtbase_zh_CN", folder):
        log.warning("Qt's Chinese translations not found; standard dialogs stay in English")
        return False
    app.installTranslator(translator)
    gaps = _QtGaps(app)
    app.installTranslator(gaps)  # installed last, asked first
    _translator = (translator, gaps)
    return True


class _QtGaps(QTranslator):
    """Texts Qt's own Chinese file lacks for this Qt version (the labels of
    Qt's file dialog, used where the system has no native one)."""

    TEXTS = {("QFileDialog", "&Look in:"): "查找范围(&L)：", ("QFileDialog", "Files of &type:"): "文件类型(&T)："}

    # None is a null QString: "not here, ask the next translator".  An empty
    # string would be taken as the translation (blank buttons: test_look).
    def translate(self, context: str, source: str, disambiguation: str | None = None, n: int = -1) -> str | None:
        return self.TEXTS.get((context, source))

    def isEmpty(self) -> bool:  # noqa: N802
        return False


def instance_lock(paths: AppPaths, db_url: str) -> QLockFile | None:
    """A lock per database; None when another instance holds it."""
    paths.data.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha1(db_url.encode("utf-8")).hexdigest()[:16]
    lock = QLockFile(str(paths.data / f"instance-{digest}.lock"))
    lock.setStaleLockTime(0)  # a crashed instance's lock is detected by its dead pid
    if not lock.tryLock(200):
        return None
    return lock


def run_app(db_url: str | None, paths: AppPaths, settings: Settings) -> int:
    from desktop.ui.errors import install_excepthook, setup_logging

    setup_logging(paths.log_file)
    app = make_app(settings)
    install_excepthook()
    url = db_url or str(paths.default_db)
    lock = instance_lock(paths, url)
    if lock is None:
        QMessageBox.information(
            None, APP_NAME, f"{APP_NAME}已经在运行，并打开了这个数据库。\n请在任务栏中找到已打开的窗口。"
        )
        return 0
    try:
        return _run(app, url, paths, settings)
    finally:
        lock.unlock()


def _run(app: QApplication, url: str, paths: AppPaths, settings: Settings) -> int:
    from db.engine import discard_new_file, normalize_url
    from db.errors import DatabaseCorrupt, StationDeskError
    from desktop.services import accounts, demo
    from desktop.ui.dialogs import FirstRunDialog, LoginDialog, SetupDialog
    from desktop.ui.main_window import MainWindow
    from desktop.ui.worker import SerialWorker

    worker = SerialWorker()
    choice = 0
    full = normalize_url(url)
    new_file: Path | None = None  # the station file this run creates, if any
    if full.startswith("sqlite:///") and not Path(full[len("sqlite:///") :]).exists():
        new_file = Path(full[len("sqlite:///") :])
        first = FirstRunDialog(str(new_file))
        if not first.exec():
            return 0
        choice = first.choice

    def restored(damaged: BaseException, broken: Database | None) -> tuple[Database, StationInfo | None] | None:
        """The damaged file closed and its newest good backup offered: the
        restored station, or None (the message shown)."""
        if broken is not None:
            worker.call(broken.close)
        if not isinstance(damaged, StationDeskError):
            raise damaged
        if not isinstance(damaged, DatabaseCorrupt):
            QMessageBox.critical(None, APP_NAME, damaged.user_message)
            return None
        recovered = offer_backup_after_corruption(url, settings, worker, damaged)
        if recovered is None:
            return None
        return recovered, worker.call(partial(accounts.station_info, recovered))

    opened: Database | None = None
    try:
        # The sign-in shows while the file's integrity check goes on (it
        # waits for the check before anything is written).
        opened = open_or_unlock(url, worker, defer_check=True)
        if opened is None:
            return 0
        station = station_before_check(opened, worker)
        db = opened
    except DatabaseCorrupt as e:
        got = restored(e, opened)
        if got is None:
            return 2
        db, station = got
    except StationDeskError as e:
        QMessageBox.critical(None, APP_NAME, e.user_message)
        return 2
    actor = None

    def abandon(rc: int) -> int:
        """Set-up not finished: an empty file made now must not hide the welcome next time."""
        worker.call(db.close)
        if new_file is not None:
            worker.call(lambda: discard_new_file(new_file))
        return rc

    if station is None:
        if choice == FirstRunDialog.DEMO:
            try:
                user, password = worker.call(
                    lambda: demo.create_demo_station(db, n_residents=2000),
                    label="正在生成演示站点（约 2000 位虚构居民）…",
                )
            except StationDeskError as e:
                QMessageBox.critical(None, APP_NAME, e.user_message)
                return abandon(2)
            settings.set("last_username", user)
            QMessageBox.information(
                None,
                APP_NAME,
                f"演示站点已建立。\n\n用户名：{user}\n密码：{password}\n\n另有站长 zhanzhang、前台 qiantai，密码相同。",
            )
        else:
            setup = SetupDialog(db, worker)
            if not setup.exec():
                return abandon(0)
            actor = setup.actor
        station = worker.call(lambda: accounts.station_info(db))
    assert station is not None
    while actor is None:
        login = LoginDialog(db, worker, station.name, last_username=settings["last_username"])
        login.watch_integrity()
        if login.exec():
            actor = login.actor
            break
        if login.damaged is None:
            return 0
        got = restored(login.damaged, db)
        if got is None:
            return 2
        db, station = got
        assert station is not None
    assert actor is not None
    if actor.role == "admin":
        show_recovery_code_once(db, worker)
    settings.set("last_username", actor.username)
    win = MainWindow(db, actor, station, settings, paths, worker)
    app.setProperty("mainWindow", win)
    win.show()
    if settings.recovered_from_corruption:
        win.statusBar().showMessage("设置文件已损坏，已恢复默认设置（原文件保存为 settings.json.corrupt）。", 15000)
    try:
        return app.exec()
    finally:
        worker.stop()
        db.close()


# ------------------------------------------------ encryption at rest (docs/security.md)


def open_or_unlock(url: str, worker: SerialWorker, *, defer_check: bool = False) -> Database | None:
    """Open the database; an encrypted file this computer has no key for (copied
    from another PC, profile wiped) asks for the recovery code or an
    administrator's password.  None when the person gives up.  ``defer_check``:
    see ``open_database``."""
    from db import keys
    from db.engine import open_database
    from db.errors import KeyUnavailable, WrongSecret

    def opening() -> Database:
        return open_database(url, cache_mib=WINDOW_CACHE_MIB, defer_check=defer_check)

    while True:
        try:
            return worker.call(opening, label="正在打开数据库…")
        except KeyUnavailable as e:
            locked, secret = e.path, ask_unlock_secret(e.user_message)
            if secret is None:
                return None
            try:
                worker.call(partial(keys.unlock, locked, secret), label="正在解锁数据库…")
            except WrongSecret as wrong:
                QMessageBox.warning(None, APP_NAME, wrong.user_message)


def station_before_check(db: Database, worker: SerialWorker) -> StationInfo | None:
    """The station (its name heads the sign-in), read while the file's
    integrity check may still run.  A damaged file that fails this read
    raises the check's verdict (``DatabaseCorrupt``) rather than the read's."""
    from desktop.services import accounts

    try:
        return worker.call(lambda: db.before_check(lambda: accounts.station_info(db)))
    except Exception:
        worker.call(db.confirm_integrity)  # raises DatabaseCorrupt if that is why
        raise


def ask_unlock_secret(message: str) -> str | None:
    from PySide6.QtWidgets import QInputDialog, QLineEdit

    box = QInputDialog()
    box.setWindowTitle(f"解锁数据库 — {APP_NAME}")
    box.setLabelText(message + "\n\n恢复码或管理员密码：")
    box.setTextEchoMode(QLineEdit.EchoMode.Password)
    box.setOkButtonText("解锁")
    box.setCancelButtonText("退出")
    if not box.exec():
        return None
    return box.textValue().strip() or None


def show_recovery_code_once(db: Database, worker: SerialWorker) -> None:
    """The recovery code, shown once to an administrator (after set-up, or the
    first sign-in after a clear database was encrypted)."""
    from db import keys

    path = db.path
    if path is None or not keys.has_pending_recovery(path):
        return
    code = worker.call(lambda: keys.take_recovery_code(path))
    if not code:
        return
    box = QMessageBox(QMessageBox.Icon.Information, APP_NAME, "")
    box.setTextFormat(Qt.TextFormat.RichText)
    box.setText(
        "<p>本站数据库已加密保存。恢复码（只显示这一次）：</p>"
        f"<p style='font-family:Consolas,monospace; font-size:16pt; white-space:nowrap'><b>{code}</b></p>"
        "<p>请现在把恢复码打印或抄写下来，锁在柜子里，不要存在这台电脑上。<br>"
        "忘记管理员密码、换电脑或重装系统后，要用它才能打开数据。</p>"
    )
    box.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    box.addButton("我已抄写好", QMessageBox.ButtonRole.AcceptRole)
    box.exec()


# ------------------------------------------------ a damaged database at start-up
# When the integrity check fails, offer the newest backup that passes a quick
# check instead of only reporting the damage.  The damaged file is renamed
# (``<name>.damaged-<time>.sqlite3``), never deleted.


def offer_backup_after_corruption(
    url: str, settings: Settings, worker: SerialWorker, error: StationDeskError
) -> Database | None:
    """Returns the reopened Database after a restore, or None (message shown)."""
    from db import backup
    from db.engine import normalize_url, open_database
    from db.errors import StationDeskError
    from desktop.services import backups

    full = normalize_url(url)
    if not full.startswith("sqlite:///"):
        QMessageBox.critical(None, APP_NAME, error.user_message)
        return None
    path = Path(full[len("sqlite:///") :])
    best = worker.call(lambda: backups.newest_good_for(path, settings), label="数据库已损坏，正在查找可用的备份…")
    if best is None:
        QMessageBox.critical(None, APP_NAME, error.user_message + "\n\n备份文件夹里没有找到可用的备份。")
        return None
    if not ask_restore_after_corruption(error.user_message, backups.describe(best)):
        return None
    try:
        aside = worker.call(lambda: backup.restore(best.path, path, aside_label="damaged"), label="正在从备份恢复…")
        db = worker.call(lambda: open_database(url, cache_mib=WINDOW_CACHE_MIB), label="正在打开数据库…")
    except StationDeskError as e:
        QMessageBox.critical(None, APP_NAME, e.user_message)
        return None
    worker.call(lambda: backups.record_startup_restore(db, best, aside))
    QMessageBox.information(
        None,
        APP_NAME,
        f"已从备份恢复（{backups.describe(best)}）。\n\n"
        f"损坏的数据库文件没有删除，已改名保存为：\n{aside}\n\n"
        "备份之后录入的内容不在恢复后的数据库中，请核对最近的登记和受理。",
    )
    return db


def ask_restore_after_corruption(message: str, offer: str) -> bool:
    box = QMessageBox(QMessageBox.Icon.Critical, APP_NAME, message)
    restore = box.addButton(f"恢复最近的备份（{offer}）", QMessageBox.ButtonRole.AcceptRole)
    box.addButton("退出", QMessageBox.ButtonRole.RejectRole)
    box.setDefaultButton(restore)
    box.exec()
    return box.clickedButton() is restore


def startup_probe(db_url: str, username: str, password: str, search: str = "王") -> dict[str, float]:
    """For the benchmark: the real start-up path minus typing the password.
    Returns the times (``time.time()``) of a painted sign-in and a painted
    main window, and RSS there, after the first page's figures and with 居民
    open after a search."""
    import psutil

    from desktop.paths import app_paths

    paths = app_paths()
    settings = Settings(paths.settings_file)
    app = make_app(settings)
    from desktop.services import accounts
    from desktop.ui.dialogs import LoginDialog
    from desktop.ui.main_window import MainWindow
    from desktop.ui.worker import SerialWorker

    result: dict[str, float] = {}
    worker = SerialWorker()
    db = open_or_unlock(db_url, worker, defer_check=True)
    assert db is not None
    station = station_before_check(db, worker)
    assert station is not None
    # the sign-in, painted (the integrity check may still be running)
    login = LoginDialog(db, worker, station.name, last_username=username)
    login.watch_integrity()
    login.show()
    login.repaint()
    result["sign_in_at"] = time.time()
    login.hide()
    actor = worker.call(lambda: accounts.authenticate(db, username, password))  # waits for the check
    login.deleteLater()
    win = MainWindow(db, actor, station, settings, paths, worker)
    win.show()
    proc = psutil.Process()

    def ready() -> None:
        win.repaint()
        result["ready_at"] = time.time()  # the benchmark subtracts its own spawn time
        # psutil's create_time is only as precise as the kernel's boot time
        # (whole seconds), so this is a rough figure for a probe run by hand.
        result["ready_s_approx"] = round(result["ready_at"] - proc.create_time(), 3)
        result["rss_mb"] = round(proc.memory_info().rss / 2**20, 1)
        # the first page's figures on screen, then the worker idle (the
        # resident search copy warmed behind them), and the memory after
        QTimer.singleShot(0, wait_figures)

    def wait_figures() -> None:
        if win.page("overview").updated.text() == "正在统计…":  # type: ignore[attr-defined]
            QTimer.singleShot(5, wait_figures)
            return
        result["overview_figures_at"] = time.time()
        wait_idle()

    def wait_idle() -> None:
        if worker.pending:
            QTimer.singleShot(20, wait_idle)
            return
        result["overview_loaded_at"] = time.time()
        result["rss_mb_after_overview"] = round(proc.memory_info().rss / 2**20, 1)
        # then the 居民 page with a search typed, as at the desk
        page = win.residents_page
        win.show_page(win.pages.index(page))
        page.search.setText(search)
        page.run_search()
        QTimer.singleShot(20, lambda: wait_search(page))

    def wait_search(page: ResidentsPage) -> None:
        if worker.pending or page._shown_query != search:
            QTimer.singleShot(20, lambda: wait_search(page))
            return
        result["rss_mb_residents_after_search"] = round(proc.memory_info().rss / 2**20, 1)
        app.quit()

    QTimer.singleShot(0, ready)
    app.exec()
    worker.stop()
    db.close()
    return result
