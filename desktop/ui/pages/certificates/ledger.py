"""开具台账: the certificates issued, filtered by period (which 用印登记 and
拒开记录 follow too), type, status and handler; print, void, reissue, and
the Excel export of all three ledgers."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Callable

from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from db.engine import Database
from desktop.services import certificates as certs
from desktop.services.context import Actor
from desktop.ui import files
from desktop.ui.errors import show_error
from desktop.ui.pages.certificates.common import PERIODS, RED, CertTab, glyphs, period_range
from desktop.ui.widgets import fill_table, fmt_datetime, simple_table
from desktop.ui.worker import SerialWorker


class LedgerTab(CertTab):
    """Its filters changing asks the page to refresh (``changed``)."""

    def __init__(self, db: Database, actor: Actor, worker: SerialWorker, parent: QWidget | None = None):
        super().__init__(db, actor, worker, parent)
        self.ledger_rows: list[certs.CertRow] = []
        self.ledger_table = simple_table(
            ["证明编号", "证明类型", "居民", "用途", "状态", "开具时间", "经办人", "审批人"], 3
        )
        ll = QVBoxLayout(self)
        frow = QHBoxLayout()
        self.period = QComboBox()
        self.period.addItems(list(PERIODS))
        self.period.currentIndexChanged.connect(lambda _i: self.changed.emit())
        self.status_filter = QComboBox()
        self.status_filter.addItem("全部状态", "")
        for code, label in certs.STATUSES.items():
            self.status_filter.addItem(label, code)
        self.status_filter.currentIndexChanged.connect(lambda _i: self.changed.emit())
        self.type_filter = QComboBox()
        self.type_filter.addItem("全部类型", None)
        # long type names must not push the row off the page at 14 pt
        self.type_filter.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.type_filter.setMinimumContentsLength(8)
        self.type_filter.currentIndexChanged.connect(lambda _i: self.changed.emit())
        self.handler_filter = QLineEdit()
        self.handler_filter.setPlaceholderText("经办人")
        self.handler_filter.setMinimumWidth(90)
        self.handler_filter.setMaximumWidth(160)
        self.handler_filter.editingFinished.connect(self.changed.emit)
        frow.addWidget(QLabel("期间"))
        frow.addWidget(self.period)
        frow.addWidget(self.type_filter)
        frow.addWidget(self.status_filter)
        frow.addWidget(self.handler_filter)
        frow.addStretch(1)
        self.print_btn = QPushButton("打印")
        self.print_btn.clicked.connect(lambda _c=False: self.print_selected())
        self.void_btn = QPushButton("作废…")
        self.void_btn.clicked.connect(lambda _c=False: self.void_selected())
        self.reissue_btn = QPushButton("补开…")
        self.reissue_btn.clicked.connect(lambda _c=False: self.reissue_selected())
        self.export_btn = QPushButton("导出 Excel…")
        self.export_btn.clicked.connect(lambda _c=False: self.export())
        for b in (self.print_btn, self.void_btn, self.reissue_btn, self.export_btn):
            frow.addWidget(b)
        sup = actor.at_least(certs.APPROVER_ROLE)
        self.void_btn.setEnabled(sup)
        self.reissue_btn.setEnabled(sup)
        ll.addLayout(frow)
        ll.addWidget(self.ledger_table)

    def span(self) -> tuple[date | None, date | None]:
        """The chosen period's first and last day (None: all)."""
        return period_range(self.period.currentText())

    def fill_type_filter(self, types: list[certs.CertTypeView]) -> None:
        self.type_filter.blockSignals(True)
        current = self.type_filter.currentData()
        while self.type_filter.count() > 1:
            self.type_filter.removeItem(1)
        for t in types:
            if t.issuable:
                self.type_filter.addItem(t.name, str(t.id))  # str: QComboBox.findData matches it
        self.type_filter.setCurrentIndex(max(0, self.type_filter.findData(current)))
        self.type_filter.blockSignals(False)

    def reader(self) -> Callable[[], list[certs.CertRow]]:
        db = self.db
        start, end = self.span()
        type_id = uuid.UUID(self.type_filter.currentData()) if self.type_filter.currentData() else None
        status = self.status_filter.currentData()
        handler = self.handler_filter.text().strip()
        return lambda: certs.ledger(db, start=start, end=end, type_id=type_id, status=status, handler=handler)

    def show_rows(self, led: list[certs.CertRow]) -> None:
        self.ledger_rows = led
        fill_table(
            self.ledger_table,
            [
                [
                    r.serial or "（未编号）",
                    r.type_name,
                    r.resident_name,
                    r.purpose,
                    r.status_label,
                    fmt_datetime(r.issued_at),
                    r.handler_name,
                    r.approver_name,
                ]
                for r in led
            ],
        )
        for i, r in enumerate(led):
            if r.status in ("voided", "declined"):
                for c in range(self.ledger_table.columnCount()):
                    cell = self.ledger_table.item(i, c)
                    if cell is not None:
                        cell.setForeground(RED)

    def void_selected(self) -> None:
        row = self.selected(self.ledger_table, self.ledger_rows)
        if row is None:
            return
        reason, ok = QInputDialog.getText(self, "作废证明", f"作废 {row.serial} 的原因（编号保留，不会删除）：")
        if ok:
            db, actor = self.db, self.actor
            self.run(lambda: certs.void(db, actor, row.id, reason), [self.void_btn, self.reissue_btn])

    def reissue_selected(self) -> None:
        row = self.selected(self.ledger_table, self.ledger_rows)
        if row is None:
            return
        reason, ok = QInputDialog.getText(self, "补开证明", f"补开 {row.serial} 的原因（原证明将作废）：")
        if not ok:
            return
        db, actor = self.db, self.actor
        self.run(
            lambda: certs.reissue(db, actor, row.id, reason, glyphs=glyphs),
            [self.void_btn, self.reissue_btn],
            self.print_then(),
        )

    def print_selected(self) -> None:
        row = self.selected(self.ledger_table, self.ledger_rows)
        if row is not None:
            self.printing.emit(row.id)

    def export(self, path: str | None = None) -> None:
        from desktop import paperwork

        start, end = self.span()
        if path is None:
            path = files.save_file(self, "导出证明台账", f"证明台账-{self.period.currentText()}.xlsx", files.EXCEL)
            if not path:
                return
        db, out = self.db, path

        def failed(e: BaseException) -> None:
            if isinstance(e, OSError):
                QMessageBox.warning(
                    self, "无法保存", f"台账没有导出：{e.strerror or e}。请换一个文件夹或检查磁盘空间。"
                )
            else:
                show_error(self, e)

        def saved(_r: object) -> None:
            files.show_saved(self, "已导出", f"证明台账已导出到：\n{out}", out)

        self.worker.op(
            lambda: paperwork.export_certificate_ledgers(db, out, start=start, end=end),
            saved,
            busy=[self.export_btn],
            on_error=failed,
            label="正在导出…",
            parent=self,
        )
