"""The main window: a sidebar of pages, a status bar, and the idle lock."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from importlib import import_module
from typing import TYPE_CHECKING, cast, overload

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from db.engine import Database
from desktop import APP_NAME
from desktop.paths import AppPaths
from desktop.services import accounts, backups
from desktop.services.accounts import StationInfo
from desktop.services.context import Actor
from desktop.services.search import ResidentIndex
from desktop.settings import Settings
from desktop.ui.pages.backups import BackupScheduler
from desktop.ui.pages.base import Page
from desktop.ui.widgets import base_font, qapp, refresh_scaled_fonts, scaled
from desktop.ui.worker import SerialWorker

if TYPE_CHECKING:  # the pages are imported when first shown (PAGE_SPECS)
    from desktop.ui.pages.certificates import CertificatesPage
    from desktop.ui.pages.counter import CounterPage
    from desktop.ui.pages.residents import ResidentsPage

# The pages in sidebar order: (key, module under desktop.ui.pages, class, title,
# min_role).  A page's module is imported and the page built when it is first
# shown (start-up paid for every page and numpy before), so its title and role
# are repeated here; tests/gui/test_lazy_pages.py checks they match the class.
PAGE_SPECS: list[tuple[str, str, str, str, str]] = [
    ("overview", "overview", "OverviewPage", "概览", "desk"),
    ("counter", "counter", "CounterPage", "接待台", "desk"),
    ("residents", "residents", "ResidentsPage", "居民", "desk"),
    ("certificates", "certificates", "CertificatesPage", "开具证明", "desk"),
    ("volunteers", "volunteers", "VolunteersPage", "志愿服务", "desk"),
    ("visits", "visits", "VisitsPage", "走访", "desk"),
    ("rota", "rota", "RotaPage", "值班", "desk"),
    ("proxy", "proxy", "ProxyPage", "代办", "desk"),
    ("postings", "postings", "PostingsPage", "清单公开", "desk"),
    ("wishes", "wishes", "WishesPage", "心愿·报到", "desk"),
    ("reports", "reports", "ReportsPage", "报表", "supervisor"),
    ("exchange", "exchange", "ExchangePage", "数据交换", "supervisor"),
    ("accounts", "accounts", "AccountsPage", "账户", "supervisor"),
    ("audit", "audit", "AuditPage", "操作日志", "supervisor"),
    ("backups", "backups", "BackupsPage", "数据备份", "supervisor"),
    ("settings", "settings", "SettingsPage", "设置", "desk"),
]


class PageList(Sequence[Page]):
    """The window's pages in sidebar order, each built on first access."""

    def __init__(self, window: MainWindow, keys: list[str]):
        self.window, self.keys = window, keys

    def __len__(self) -> int:
        return len(self.keys)

    @overload
    def __getitem__(self, i: int) -> Page: ...
    @overload
    def __getitem__(self, i: slice) -> list[Page]: ...

    def __getitem__(self, i: int | slice) -> Page | list[Page]:
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        return self.window.page(self.keys[i])

    def index(self, page: object, start: int = 0, stop: int | None = None) -> int:
        """Where a (built) page is, without building the others."""
        for i, key in enumerate(self.keys):
            if self.window.built.get(key) is page:
                return i
        raise ValueError("page not in this window")


ACTIVITY_EVENTS = {
    QEvent.Type.KeyPress,
    QEvent.Type.MouseButtonPress,
    QEvent.Type.MouseMove,
    QEvent.Type.Wheel,
    QEvent.Type.TouchBegin,
}


class _ActivityFilter(QObject):
    active = Signal()

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802
        if event.type() in ACTIVITY_EVENTS:
            self.active.emit()
        return False


class MainWindow(QMainWindow):
    signed_out = Signal()

    def __init__(
        self,
        db: Database,
        actor: Actor,
        station: StationInfo,
        settings: Settings,
        paths: AppPaths,
        worker: SerialWorker,
    ):
        super().__init__()
        self.db, self.actor, self.station = db, actor, station
        self.settings, self.paths, self.worker = settings, paths, worker
        self.locked = False
        self.leaving = False  # closing without asking about typed input
        self.setWindowTitle(f"{station.name} — {APP_NAME}")
        self.resize(1280, 720)
        self.setMinimumSize(960, 600)

        central = QWidget()
        outer = QHBoxLayout(central)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(0)
        side = QWidget()
        side.setObjectName("sideColumn")
        side_lay = QVBoxLayout(side)
        side_lay.setContentsMargins(0, 0, 0, 0)
        side_lay.setSpacing(0)
        brand = QLabel(APP_NAME)
        brand.setObjectName("brand")
        scaled(brand, 5, True)
        sub = QLabel(station.level_label + "工作台")
        sub.setObjectName("brandSub")
        sub.setWordWrap(True)  # a hub's "街道/乡镇（汇总中心）工作台" is wider than the sidebar
        self.sidebar = QListWidget()
        self.sidebar.setObjectName("sidebar")
        self.sidebar.setFixedWidth(200)
        brand.setFixedWidth(200)
        sub.setFixedWidth(200)
        side_lay.addWidget(brand)
        side_lay.addWidget(sub)
        side_lay.addWidget(self.sidebar, 1)
        self.stack = QStackedWidget()
        outer.addWidget(side)
        outer.addWidget(self.stack, 1)
        self.setCentralWidget(central)
        self.central = central  # covered while locked

        self.index = ResidentIndex(db)  # one search copy for every page and picker
        self.built: dict[str, Page] = {}
        specs = [sp for sp in PAGE_SPECS if actor.at_least(sp[4])]
        self.pages = PageList(self, [sp[0] for sp in specs])
        last = len(specs) - 1
        for i, (_key, _module, _cls, title, _role) in enumerate(specs):
            self.stack.addWidget(QWidget())  # a stand-in until the page is first shown
            item = QListWidgetItem(title)
            self.sidebar.addItem(item)
            # Ctrl+1 … Ctrl+9 for the first nine pages and Ctrl+0 for the last
            # (设置), so every role finds 设置 on the same key; with eleven
            # pages the tenth is reached by the sidebar (Alt+M) or the mouse.
            keys = ([f"Ctrl+{i + 1}"] if i < 9 else []) + (["Ctrl+0"] if i == last else [])
            if keys:
                item.setToolTip(" / ".join(keys))
                act = QAction(self)
                act.setShortcuts([QKeySequence(k) for k in keys])
                act.triggered.connect(lambda _=False, i=i: self.show_page(i))
                self.addAction(act)
        self.sidebar.currentRowChanged.connect(self._page_changed)

        lock = QAction("锁屏", self)
        lock.setShortcut(QKeySequence("F12"))
        lock.triggered.connect(self.lock)
        self.addAction(lock)
        side_menu = QAction("切换到侧栏", self)
        side_menu.setShortcut(QKeySequence("Alt+M"))
        side_menu.triggered.connect(self.sidebar.setFocus)
        self.addAction(side_menu)

        sb = self.statusBar()
        sb.addWidget(QLabel(f"{station.name}（{station.code}）"))
        sb.addWidget(QLabel(f"{actor.display_name} · {actor.role_label}"))
        where = QLabel(f"数据库：{db.display_location()}")
        where.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        sb.addPermanentWidget(where)
        sb.addPermanentWidget(QLabel("F12 锁屏"))

        # Daily backups while the app runs (SQLite only; see desktop.services.backups).
        self.backup_scheduler = BackupScheduler(db, settings, worker, self)
        self.backup_scheduler.made.connect(
            lambda i: self.statusBar().showMessage(f"已自动备份（{backups.when_label(i)}）", 10000)
        )
        self.backup_scheduler.failed.connect(lambda m: self.statusBar().showMessage(m, 60000))
        self.backup_scheduler.start()

        self._idle = QTimer(self)
        self._idle.setSingleShot(True)
        self._idle.timeout.connect(self.lock)
        self._activity = _ActivityFilter(self)
        self._activity.active.connect(self._restart_idle)
        qapp().installEventFilter(self._activity)
        self._restart_idle()
        self.show_page(0)
        # After the first page's own loading: the resident search copy, so the
        # first keystroke in 居民 or any picker is as quick as the others. A
        # failure here is not shown: the first search tries again and says why.
        self.worker.run(self.index.warm, None, lambda _e: None)

    # ------------------------------------------------------------- pages
    def page(self, key: str) -> Page:
        """The page ``key`` (see PAGE_SPECS), built now if it was not yet.
        A page the role may not see is built outside the sidebar, as before."""
        page = self.built.get(key)
        if page is not None:
            return page
        _key, module, cls, _title, _role = next(sp for sp in PAGE_SPECS if sp[0] == key)
        page_class = getattr(import_module(f"desktop.ui.pages.{module}"), cls)
        db, actor, worker, settings = self.db, self.actor, self.worker, self.settings
        if key == "settings":
            note = (
                "便携模式：数据保存在程序旁的 data 文件夹。"
                if self.paths.portable
                else f"设置与日志保存在 {self.paths.config} 和 {self.paths.logs}。"
            )
            page = page_class(db, actor, worker, settings=settings, location=db.display_location(), paths_note=note)
            page.font_size_changed.connect(self.apply_font_size)
            page.idle_minutes_changed.connect(lambda _m: self._restart_idle())
        elif key in ("residents", "certificates", "volunteers", "visits"):
            page = page_class(db, actor, worker, index=self.index)
        elif key == "wishes":
            page = page_class(db, actor, worker, index=self.index)
        elif key == "counter":
            page = page_class(db, actor, worker, index=self.index, settings=settings)
        elif key in ("backups", "exchange"):
            page = page_class(db, actor, worker, settings=settings)
        else:
            page = page_class(db, actor, worker)
        self.built[key] = page
        if key == "counter":
            page.open_resident.connect(self.show_resident)
        elif key == "residents":
            page.accept_for.connect(self.accept_for)
            page.issue_for.connect(self.issue_for)
            page.open_matter.connect(self.open_matter)
        elif key == "backups":
            page.restored.connect(self._after_restore)
        if key in self.pages.keys:
            i = self.pages.keys.index(key)
            stand_in = self.stack.widget(i)
            assert stand_in is not None  # every sidebar entry has a stand-in until built
            current = self.stack.currentIndex()
            self.stack.insertWidget(i, page)
            self.stack.removeWidget(stand_in)
            stand_in.deleteLater()
            self.stack.setCurrentIndex(current)
        return page

    residents_page = property(lambda self: self.page("residents"))
    counter_page = property(lambda self: self.page("counter"))
    certificates_page = property(lambda self: self.page("certificates"))
    volunteers_page = property(lambda self: self.page("volunteers"))
    visits_page = property(lambda self: self.page("visits"))
    backups_page = property(lambda self: self.page("backups"))
    exchange_page = property(lambda self: self.page("exchange"))
    settings_page = property(lambda self: self.page("settings"))

    def show_page(self, index: int) -> None:
        if 0 <= index < len(self.pages):
            self.sidebar.setCurrentRow(index)

    def _show(self, key: str) -> Page:
        self.show_page(self.pages.keys.index(key))
        return self.page(key)

    def show_resident(self, rid: uuid.UUID) -> None:
        cast("ResidentsPage", self._show("residents")).select_resident(rid)

    def accept_for(self, rid: uuid.UUID) -> None:
        cast("CounterPage", self._show("counter")).accept_matter(rid)

    def issue_for(self, rid: uuid.UUID) -> None:
        cast("CertificatesPage", self._show("certificates")).preselect(rid)

    def open_matter(self, mid: uuid.UUID) -> None:
        cast("CounterPage", self._show("counter")).open_matter(mid)

    def _after_restore(self, _aside: str) -> None:
        """The data changed under every page: sign in again and rebuild the window."""
        from desktop.ui.dialogs import LoginDialog

        self.station = self.worker.call(lambda: accounts.station_info(self.db))
        self.central.setVisible(False)
        dlg = LoginDialog(self.db, self.worker, self.station.name, parent=self)
        if dlg.exec() and dlg.actor is not None:
            self.switch_user(dlg.actor)
        else:
            self.leaving = True
            self.close()

    def page_titles(self) -> list[str]:
        return [self.sidebar.item(i).text() for i in range(self.sidebar.count())]

    def _page_changed(self, index: int) -> None:
        if index < 0:
            return
        page = self.pages[index]
        self.stack.setCurrentIndex(index)
        page.activated()

    # -------------------------------------------------------------- look
    def apply_font_size(self, size: int) -> None:
        app = qapp()
        app.setFont(base_font(size))
        # Widgets polished by a style sheet keep their font until the sheet is
        # applied again.
        app.setStyleSheet(app.styleSheet())
        refresh_scaled_fonts()

    # -------------------------------------------------------- idle lock
    def _restart_idle(self) -> None:
        minutes = self.settings["idle_lock_minutes"]
        if minutes and not self.locked:
            self._idle.start(minutes * 60_000)
        else:
            self._idle.stop()

    def lock(self) -> None:
        """Cover the window and ask for a password (same user, or switch)."""
        if self.locked:
            return
        from desktop.ui.dialogs import LoginDialog

        self.locked = True
        self._idle.stop()
        self.central.setVisible(False)
        self.worker.run(lambda: accounts.record_event(self.db, self.actor, "screen_lock"))
        dlg = LoginDialog(self.db, self.worker, self.station.name, locked_user=self.actor, parent=self)
        self.lock_dialog: LoginDialog | None = dlg
        dlg.exec()
        self.lock_dialog = None
        self.locked = False
        if dlg.actor is not None and dlg.actor.account_id != self.actor.account_id:
            self.switch_user(dlg.actor)
            return
        self.central.setVisible(True)
        self._restart_idle()

    def switch_user(self, actor: Actor) -> None:
        """Another worker took over the desk: a fresh window for their role."""
        win = MainWindow(self.db, actor, self.station, self.settings, self.paths, self.worker)
        self.settings.set("last_username", actor.username)
        qapp().setProperty("mainWindow", win)
        win.setGeometry(self.geometry())
        win.show()
        self.leaving = True  # the next worker takes over; the last one's typing goes
        self.close()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802
        from desktop.ui.widgets import ask_discard

        # only the pages opened can hold typed input: closing builds no others
        if not self.leaving and any(p.unsaved() for p in self.built.values()) and not ask_discard(self):
            event.ignore()
            return
        self.backup_scheduler.stop()
        qapp().removeEventFilter(self._activity)
        self._idle.stop()
        super().closeEvent(event)
