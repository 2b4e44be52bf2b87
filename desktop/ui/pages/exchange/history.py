"""交换记录: every bundle written or read, newest first."""

from __future__ import annotations

from typing import Any, Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QVBoxLayout, QWidget

from db.engine import Database
from desktop.services.context import Actor
from desktop.services.sync import exchange
from desktop.ui.pages.exchange.common import ExchangeTab, fill, item, table
from desktop.ui.widgets import fmt_local, fmt_size, hint
from desktop.ui.worker import SerialWorker

HISTORY_COLUMNS = ["时间", "方向", "对方站点", "记录数", "大小", "文件名"]


class HistoryTab(ExchangeTab):
    def __init__(self, db: Database, actor: Actor, worker: SerialWorker, parent: QWidget | None = None):
        super().__init__(db, actor, worker, parent)
        self.history_rows: list[Any] = []
        lay = QVBoxLayout(self)
        lay.setContentsMargins(12, 12, 12, 12)
        self.history_table = table(HISTORY_COLUMNS, 5)
        self.history_table.setTextElideMode(Qt.TextElideMode.ElideMiddle)  # keep the date at the name's end
        lay.addWidget(self.history_table, 1)
        self.history_note = hint("")
        lay.addWidget(self.history_note)

    def reader(self) -> Callable[[], list[Any]]:
        db = self.db
        return lambda: exchange.history(db)

    def show_history(self, items: list[Any]) -> None:
        self.history_rows = items
        rows = []
        for b in items:
            kind = b.direction_label + ("（完整）" if b.full else "")
            tip = f"操作人：{b.by}"
            c = b.counts or {}
            if b.direction == "in" and "new" in c:
                tip += (
                    f"\n新增 {c.get('new', 0):,}，更新 {c.get('updated', 0):,}，未变 {c.get('unchanged', 0):,}，"
                    f"冲突 {c.get('conflicts', 0):,}，疑似重复居民 {c.get('duplicates', 0):,}"
                )
            rows.append(
                [
                    item(fmt_local(b.at), tip=tip),
                    item(kind, tip=tip),
                    item(f"{b.peer_name}（{b.peer}）"),
                    item(f"{b.rows:,}", right=True, tip=tip),
                    item(fmt_size(b.size) if b.size else "—", right=True),
                    item(b.file_name, tip=b.file_name),
                ]
            )
        fill(self.history_table, rows)
        self.history_note.setText("" if items else "还没有导出或导入过数据交换包。")
