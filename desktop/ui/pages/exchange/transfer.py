"""导出 / 导入: choose a trusted station and write a bundle for it (changes
or everything), or read a bundle from one; progress comes back from the
worker thread through ``Progress`` (a queued signal), never by touching a
widget there."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from db.engine import Database
from desktop.services.context import Actor
from desktop.services.sync import exchange
from desktop.settings import Settings
from desktop.ui import files
from desktop.ui.errors import show_error
from desktop.ui.pages.exchange.common import ExchangeTab, restyle, role_label, show_failure, user_message
from desktop.ui.widgets import fmt_local, fmt_size, hint, primary, scaled
from desktop.ui.worker import SerialWorker

BUNDLE_FILTER = "数据交换包 (*.sdbundle);;所有文件 (*)"
ALREADY_TEXT = "这个数据交换包以前已经导入过，没有任何变化。"
NOTHING_CHANGED = "本站数据没有任何改变。"


class Progress(QObject):
    step = Signal(int, int, str)


class TransferTab(ExchangeTab):
    """Export to a peer, import from one; ``started`` asks the page to show
    this tab while a bundle is written or read."""

    started = Signal()

    def __init__(
        self,
        db: Database,
        actor: Actor,
        worker: SerialWorker,
        *,
        settings: Settings | None = None,
        parent: QWidget | None = None,
    ):
        super().__init__(db, actor, worker, parent)
        self.settings = settings  # with settings, a SQLite station backs up before every import
        self.peer_rows: list[Any] = []
        self.busy = False
        self.last_result: Any = None
        self.progress_sig = Progress()
        self.progress_sig.step.connect(self._on_step)

        lay = QVBoxLayout(self)
        lay.setContentsMargins(12, 12, 12, 12)
        lay.setSpacing(12)

        out = QGroupBox("导出给对方")
        ol = QVBoxLayout(out)
        row = QHBoxLayout()
        row.addWidget(QLabel("对方站点"))
        self.peer_combo = QComboBox()
        self.peer_combo.setMinimumWidth(360)
        self.peer_combo.setPlaceholderText("（还没有信任的站点）")
        self.peer_combo.currentIndexChanged.connect(lambda _i: self._peer_chosen())
        row.addWidget(self.peer_combo)
        self.export_btn = primary("导出变更…")
        self.export_btn.setShortcut("F2")
        self.export_btn.setToolTip("F2：只导出对方还没有收到的变更")
        self.export_btn.clicked.connect(lambda _c=False: self.export_bundle(False))
        self.full_btn = QPushButton("完整导出…")
        self.full_btn.setToolTip("导出本站全部数据：对方第一次接收，或对方数据丢失需要重建时使用")
        self.full_btn.clicked.connect(lambda _c=False: self.export_bundle(True))
        row.addWidget(self.export_btn)
        row.addWidget(self.full_btn)
        row.addStretch(1)
        ol.addLayout(row)
        self.peer_note = hint("")
        ol.addWidget(self.peer_note)
        lay.addWidget(out)

        inn = QGroupBox("导入对方的数据包")
        il = QVBoxLayout(inn)
        row = QHBoxLayout()
        self.import_btn = QPushButton("导入数据包…")
        self.import_btn.setShortcut("F3")
        self.import_btn.setToolTip("F3")
        self.import_btn.clicked.connect(lambda _c=False: self.import_bundle())
        row.addWidget(self.import_btn)
        row.addWidget(
            hint(
                "导入前会先校验整个文件（签名、完整性、发给本站）；有任何问题都不会改动本站数据。"
                "同一个数据包导入两次不会重复。"
            ),
            1,
        )
        il.addLayout(row)
        lay.addWidget(inn)

        self.progress = QProgressBar()
        self.progress.setVisible(False)
        self.progress.setTextVisible(True)
        lay.addWidget(self.progress)
        self.result = QLabel("")
        self.result.setObjectName("notice")
        self.result.setWordWrap(True)
        self.result.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        scaled(self.result, 1)
        lay.addWidget(self.result)
        lay.addStretch(1)

    # ------------------------------------------------------------ showing
    def show_peers(self, peers: list[Any]) -> None:
        """The trusted stations (from 信任的站点's read): the ones not revoked
        are the choices, the chosen one kept when it still is one."""
        self.peer_rows = peers
        chosen = self.peer_combo.currentData()
        self.peer_combo.blockSignals(True)
        self.peer_combo.clear()
        for p in peers:
            if not p.revoked:
                self.peer_combo.addItem(f"{p.name}（{p.code}） · {role_label(p.role)}", p.code)
        i = self.peer_combo.findData(chosen) if chosen else -1
        self.peer_combo.setCurrentIndex(max(i, 0) if self.peer_combo.count() else -1)
        self.peer_combo.blockSignals(False)
        self._peer_chosen()

    def _peer_chosen(self) -> None:
        code = self.peer_combo.currentData()
        p = next((p for p in self.peer_rows if p.code == code), None)
        if p is None:
            self.peer_note.setText(
                "还没有信任的站点。先在“信任的站点”页导入对方的公钥文件。"
                if not any(not q.revoked for q in self.peer_rows)
                else ""
            )
        else:
            parts = [
                f"待发送 {p.pending:,} 条变更" if p.pending else "没有待发送的变更",
                f"上次导出：{fmt_local(p.last_export_at)}",
                f"上次导入：{fmt_local(p.last_import_at)}",
            ]
            if p.unconfirmed:
                parts.append("上次发送的数据包对方尚未确认收到")
            self.peer_note.setText("；".join(parts) + "。")
        self.update_buttons()

    def say(self, text: str) -> None:
        """A line from another tab (trusted, revoked) in the result."""
        self.result.setText(text)

    def update_buttons(self) -> None:
        idle = not self.busy
        has_peer = self.peer_combo.currentData() is not None
        for b in (self.export_btn, self.full_btn):
            b.setEnabled(idle and self.may_exchange and has_peer)
        self.import_btn.setEnabled(idle and self.may_exchange)

    # ------------------------------------------------------------ bundles
    def _start(self, text: str) -> None:
        self.busy = True
        self.update_buttons()
        self.started.emit()
        self.progress.setRange(0, 0)
        self.progress.setFormat(text)
        self.progress.setVisible(True)
        self.result.setObjectName("notice")
        self.result.setText(text)
        restyle(self.result)

    def _finish(self) -> None:
        self.busy = False
        self.progress.setVisible(False)
        self.update_buttons()

    def _on_step(self, done: int, total: int, label: str) -> None:
        if total > 0:
            self.progress.setRange(0, total)
            self.progress.setValue(min(done, total))
            self.progress.setFormat(f"{label}　%p%")
        else:
            self.progress.setRange(0, 0)
            self.progress.setFormat(label)

    def export_bundle(self, full: bool, path: str | None = None) -> None:
        to = self.peer_combo.currentData()
        if to is None or self.busy:
            return
        db, actor = self.db, self.actor
        if path is None:

            def ask(name: str) -> None:
                chosen = files.save_file(self, "完整导出" if full else "导出变更", name, BUNDLE_FILTER)
                if chosen:
                    self.export_bundle(full, chosen)

            self.op(lambda: exchange.default_bundle_name(db, to, full), ask, [self.export_btn, self.full_btn])
            return
        self._start("正在完整导出…" if full else "正在导出变更…")
        emit: Callable[[int, int, str], None] = self.progress_sig.step.emit
        out = path

        def work() -> Any:
            return exchange.export_bundle(db, actor, to, out, full=full, progress=emit)

        self.worker.run(work, self._exported, self._export_failed)

    def _exported(self, r: Any) -> None:
        self._finish()
        self.last_result = r
        peer = next((p for p in self.peer_rows if p.code == r.target), None)
        who = f"{peer.name}（{r.target}）" if peer else r.target
        kind = "完整导出" if r.full else "导出变更"
        self.result.setObjectName("notice")
        self.result.setText(
            f"{kind}完成：给 {who} 的 {r.rows:,} 条记录，{fmt_size(r.size)}。\n文件：{r.path}\n"
            "请把这个文件拷贝给对方导入。文件已加密，只有对方能打开。"
        )
        restyle(self.result)
        self.reload.emit()

    def _export_failed(self, exc: BaseException) -> None:
        self._finish()
        self.result.setObjectName("error")
        self.result.setText("没有导出。")
        restyle(self.result)
        show_failure(self, exc, "没有导出")
        self.reload.emit()

    def import_bundle(self, path: str | None = None) -> None:
        if self.busy:
            return
        if path is None:
            path = files.open_file(self, "导入数据包", BUNDLE_FILTER)
            if not path:
                return
        self._start("正在校验并导入数据包…")
        db, actor, emit, src, settings = self.db, self.actor, self.progress_sig.step.emit, path, self.settings

        def work() -> Any:
            if settings is None:
                return exchange.import_bundle(db, actor, src, progress=emit)
            return exchange.import_bundle(db, actor, src, progress=emit, settings=settings)

        self.worker.run(work, self._imported, self._import_failed)

    def _imported(self, r: Any) -> None:
        self._finish()
        self.last_result = r
        self.result.setObjectName("notice")
        if r.already:
            text = ALREADY_TEXT
        else:
            text = (
                f"已导入 {r.source_name}（{r.source}）的数据包：新增 {r.new:,} 条，更新 {r.updated:,} 条，"
                f"未变 {r.unchanged:,} 条；冲突 {r.conflicts:,} 处，疑似重复居民 {r.duplicates:,} 人。"
            )
            todo = []
            if r.conflicts:
                todo.append("“冲突”")
            if r.duplicates:
                todo.append("“疑似重复居民”")
            if todo:
                text += f"\n请到{'和'.join(todo)}页核对处理。"
            if r.backup:
                text += f"\n导入前已自动备份：{Path(r.backup).name}"
        self.result.setText(text)
        restyle(self.result)
        self.reload.emit()

    def _import_failed(self, exc: BaseException) -> None:
        self._finish()
        msg = user_message(exc)
        self.result.setObjectName("error")
        self.result.setText("数据包没有导入，" + NOTHING_CHANGED)
        restyle(self.result)
        if msg is None:
            show_error(self, exc)
        else:
            if "没有导入任何数据" not in msg and NOTHING_CHANGED not in msg:
                msg += "\n\n" + NOTHING_CHANGED
            QMessageBox.warning(self, "数据包没有导入", msg)
        self.reload.emit()
