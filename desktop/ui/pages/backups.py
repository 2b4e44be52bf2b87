"""数据备份: the backup folder, the list of backups, 立即备份 and restoring;
and ``BackupScheduler``, the daily automatic backup while the app runs.

Restoring runs ``services.backups.restore`` on the worker: it closes the
database, swaps the file and reopens the *same* ``Database`` object, so the
other pages keep working.  The page then emits ``restored(path)`` (the
set-aside file); the main window should ask for a sign-in again and rebuild
itself, because the restored data may not hold the current account and the
pages' caches (the resident search index) describe the old data.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Callable

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QWidget,
)

from db.backup import BackupInfo
from db.engine import Database
from desktop.services import backups
from desktop.services.context import Actor
from desktop.settings import Settings
from desktop.ui import files
from desktop.ui.errors import show_error
from desktop.ui.pages.base import Page
from desktop.ui.widgets import PathLabel, fmt_size, hint, primary
from desktop.ui.worker import SerialWorker

log = logging.getLogger(__name__)

COLUMNS = ["备份时间", "类型", "大小", "居民", "事项", "校验"]


def _count(n: int | None, unit: str) -> str:
    return "—" if n is None else f"{n:,} {unit}"


class BackupsPage(Page):
    title = "数据备份"
    min_role = "supervisor"
    restored = Signal(str)  # the set-aside (replaced) database file
    backup_made = Signal(object)  # BackupInfo

    def __init__(
        self, db: Database, actor: Actor, worker: SerialWorker, *, settings: Settings, parent: QWidget | None = None
    ) -> None:
        super().__init__(db, actor, worker, parent)
        self.settings = settings
        self.items: list[BackupInfo] = []
        self.supported = backups.supported(db)
        is_admin = actor.at_least(backups.RESTORE_ROLE)

        box = QGroupBox("备份文件夹")
        form = QFormLayout(box)
        self.folder_label = PathLabel()  # one line, shortened in the middle; the whole path in its tooltip
        self.change_folder = QPushButton("更改…")
        self.change_folder.clicked.connect(lambda _c=False: self.choose_folder())
        self.default_folder = QPushButton("恢复默认")
        self.default_folder.clicked.connect(lambda _c=False: self.choose_folder(""))
        for b in (self.change_folder, self.default_folder):
            b.setEnabled(is_admin and self.supported)
            if not is_admin:
                b.setToolTip("需要管理员权限。")
        self.folder_note = hint("")
        self.folder_note.setWordWrap(False)  # short; the path beside it gives way instead
        self.folder_note.setVisible(False)
        row = QHBoxLayout()
        row.addWidget(self.folder_label, 1)
        row.addWidget(self.folder_note)
        row.addWidget(self.change_folder)
        row.addWidget(self.default_folder)
        form.addRow("位置", row)
        self.policy = hint(
            "程序运行时每天自动备份一次；保留最近 7 天、4 周和 12 个月的备份，更早的自动删除"
            "（升级前的备份一直保留）。建议把备份文件夹设在另一块硬盘或U盘上：电脑硬盘坏了，数据还在。"
        )
        form.addRow("", self.policy)
        self.layout_.addWidget(box)

        actions = QHBoxLayout()
        self.backup_now = primary("立即备份")
        self.backup_now.setDefault(False)
        self.backup_now.clicked.connect(lambda _c=False: self.make_backup())
        self.restore_button = QPushButton("恢复所选备份…")
        self.restore_button.clicked.connect(lambda _c=False: self.restore_selected())
        self.restore_button.setEnabled(False)
        self.is_admin = is_admin
        if not is_admin:
            self.restore_button.setToolTip("需要管理员权限。")
        self.last = QLabel()
        actions.addWidget(self.backup_now)
        actions.addWidget(self.restore_button)
        actions.addSpacing(16)
        actions.addWidget(self.last, 1)
        self.layout_.addLayout(actions)

        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().setVisible(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.table.itemSelectionChanged.connect(self._selection)
        self.table.doubleClicked.connect(lambda _i: self.restore_selected())
        self.layout_.addWidget(self.table, 1)

        self.notice = QLabel()
        self.notice.setObjectName("notice")
        self.notice.setWordWrap(True)
        self.layout_.addWidget(self.notice)

        if not self.supported:
            self.folder_label.setText("（服务器数据库）")
            self.policy.setText(backups.SERVER_NOTE)
            self.backup_now.setEnabled(False)
            self.table.setEnabled(False)
            self.last.setText("备份由数据库服务器负责。")
        else:
            self._show_folder()

    # ------------------------------------------------------------ showing
    def _show_folder(self) -> None:
        where = backups.folder(self.db, self.settings)
        self.folder_label.setText(str(where))
        default = backups.is_default_folder(self.settings)
        self.folder_note.setText("默认：数据库旁的 backups 文件夹" if default else "")
        self.folder_note.setVisible(default)

    def activated(self) -> None:
        if not self.supported:
            return
        db, settings = self.db, self.settings
        self.worker.run(lambda: backups.listing(db, settings), self._show, self._list_failed)

    def _list_failed(self, exc: BaseException) -> None:
        self.notice.setText("无法读取备份文件夹。")
        log.warning("listing backups failed: %s", exc)

    def _show(self, items: list[BackupInfo]) -> None:
        self.items = items
        self.table.setRowCount(len(items))
        for i, b in enumerate(items):
            cells = [
                backups.when_label(b),
                backups.reason_label(b.reason),
                fmt_size(b.size),
                _count(b.residents, "人"),
                _count(b.matters, "件"),
                "✓" if b.verified else "未校验",
            ]
            for j, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if j >= 2:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                if j == 0:
                    item.setToolTip(str(b.path))
                self.table.setItem(i, j, item)
        newest = next((b for b in items if b.reason in ("auto", "manual")), None)
        self.last.setText(f"最近一次备份：{backups.when_label(newest)}" if newest else "还没有备份。")
        if not items and not self.notice.text():  # keep what an action just reported
            self.notice.setText("备份文件夹里还没有备份。点“立即备份”做第一份。")
        self._selection()

    def selected(self) -> BackupInfo | None:
        rows = {i.row() for i in self.table.selectedIndexes()}
        if len(rows) != 1:
            return None
        r = rows.pop()
        return self.items[r] if 0 <= r < len(self.items) else None

    def _selection(self) -> None:
        self.restore_button.setEnabled(self.supported and self.is_admin and self.selected() is not None)

    # ------------------------------------------------------------ actions
    def make_backup(self) -> None:
        db, actor, settings = self.db, self.actor, self.settings
        self.notice.clear()

        def made(info: BackupInfo) -> None:
            self.notice.setText(f"备份完成并已校验：{info.path.name}（{fmt_size(info.size)}）")
            self.backup_made.emit(info)
            self.activated()

        self.worker.op(
            lambda: backups.create(db, actor, settings, "manual"),
            made,
            busy=[self.backup_now],
            label="正在备份并校验…",
            parent=self,
        )

    def choose_folder(self, path: str | None = None) -> None:
        if path is None:
            start = str(backups.folder(self.db, self.settings) or "")
            path = files.choose_folder(self, "选择备份文件夹", start or None)
            if not path:
                return
        db, actor, settings = self.db, self.actor, self.settings

        def moved(where: object) -> None:
            self._show_folder()
            self.notice.setText(f"以后的备份保存到：{where}。以前的备份留在原来的位置。")
            self.activated()

        self.worker.op(
            lambda: backups.set_folder(db, actor, settings, path),
            moved,
            busy=[self.change_folder, self.default_folder],
            parent=self,
        )

    def restore_selected(self) -> None:
        b = self.selected()
        if b is None or not self.is_admin or not self.supported:
            return
        text = (
            f"用这份备份替换当前数据库：\n\n{backups.describe(b)}（{backups.reason_label(b.reason)}备份）\n\n"
            "这份备份之后录入的所有内容（登记、受理、证明、账户变动等）都不会出现在恢复后的数据库中。\n"
            "当前数据库不会删除：它会改名保存在原来的文件夹里（名字里带有“replaced”和当前时间）。\n\n"
            "恢复后需要重新登录。确定要恢复吗？"
        )
        answer = QMessageBox.question(
            self,
            "恢复备份",
            text,
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No,
        )
        if answer != QMessageBox.StandardButton.Yes:
            return
        db, actor, path = self.db, self.actor, b.path

        def failed(e: BaseException) -> None:
            show_error(self, e)
            self.activated()

        self.worker.op(
            lambda: backups.restore(db, actor, path),
            self._restored,
            busy=[self.restore_button, self.backup_now],
            on_error=failed,
            label="正在校验备份并恢复…",
            parent=self,
        )

    def _restored(self, result: backups.RestoreResult) -> None:
        aside = str(result.set_aside) if result.set_aside else ""
        QMessageBox.information(
            self,
            "已恢复",
            f"已恢复到 {backups.when_label(result.backup)} 的备份。\n\n"
            + (f"原来的数据库保存为：\n{aside}\n\n" if aside else "")
            + "请重新登录。",
        )
        self.notice.setText(f"已恢复到 {backups.when_label(result.backup)} 的备份。")
        self.activated()
        self.restored.emit(aside)


class BackupScheduler(QObject):
    """The daily automatic backup: checks 1 minute after start and then every
    10 minutes whether today's backup is missing, and makes it on the worker.
    A failure is reported once through ``failed`` (for the status bar) and
    retried an hour later, so an unplugged USB stick does not nag."""

    made = Signal(object)  # BackupInfo
    failed = Signal(str)  # a Chinese message

    FIRST_MS = 60_000
    EVERY_MS = 10 * 60_000
    RETRY_AFTER_S = 3600

    def __init__(
        self,
        db: Database,
        settings: Settings,
        worker: SerialWorker,
        parent: QObject | None = None,
        *,
        clock: Callable[[], datetime] = datetime.now,
    ):
        super().__init__(parent)
        self.db, self.settings, self.worker, self.clock = db, settings, worker, clock
        self.busy = False
        self.failed_at: datetime | None = None
        self._first = QTimer(self)
        self._first.setSingleShot(True)
        self._first.timeout.connect(self.check)
        self._every = QTimer(self)
        self._every.timeout.connect(self.check)

    def start(self) -> None:
        if not backups.supported(self.db):
            return
        self._first.start(self.FIRST_MS)
        self._every.start(self.EVERY_MS)

    def stop(self) -> None:
        self._first.stop()
        self._every.stop()

    def check(self) -> None:
        if self.busy:
            return
        now = self.clock()
        if self.failed_at is not None and (now - self.failed_at).total_seconds() < self.RETRY_AFTER_S:
            return
        db, settings = self.db, self.settings

        def job() -> BackupInfo | None:
            if not backups.daily_due(db, settings, now):
                return None
            return backups.create(db, None, settings, "auto", now=now)

        self.busy = True
        self.worker.run(job, self._done, self._failed)

    def _done(self, info: BackupInfo | None) -> None:
        self.busy = False
        self.failed_at = None
        if info is not None:
            self.made.emit(info)

    def _failed(self, exc: BaseException) -> None:
        from db.errors import friendly

        self.busy = False
        self.failed_at = self.clock()
        known = friendly(exc)
        log.warning("automatic backup failed: %s", exc)
        self.failed.emit(known.user_message if known else "自动备份没有完成。请到“数据备份”页查看。")
