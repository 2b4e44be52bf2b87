"""用印登记: every use of the seal in the period chosen on 开具台账."""

from __future__ import annotations

from datetime import date
from typing import Callable

from PySide6.QtWidgets import QVBoxLayout, QWidget

from db.engine import Database
from desktop.services import certificates as certs
from desktop.services.context import Actor
from desktop.ui.pages.certificates.common import CertTab
from desktop.ui.widgets import fill_table, fmt_datetime, simple_table
from desktop.ui.worker import SerialWorker


class SealTab(CertTab):
    def __init__(self, db: Database, actor: Actor, worker: SerialWorker, parent: QWidget | None = None):
        super().__init__(db, actor, worker, parent)
        self.seal_table = simple_table(
            ["用印时间", "用印内容", "印章", "份数", "审批人", "经办人", "申请人", "电话"], 1
        )
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.seal_table)

    def reader(self, start: date | None, end: date | None) -> Callable[[], list[certs.SealLine]]:
        db = self.db
        return lambda: certs.seal_register(db, start=start, end=end)

    def show_rows(self, seal: list[certs.SealLine]) -> None:
        fill_table(
            self.seal_table,
            [
                [
                    fmt_datetime(x.at),
                    x.content,
                    x.seal,
                    str(x.copies),
                    x.approver_name,
                    x.handler_name,
                    x.applicant_name,
                    x.applicant_phone,
                ]
                for x in seal
            ],
        )
