"""拒开记录: the certificates refused (abolished types), in the period chosen
on 开具台账."""

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


class RefusalsTab(CertTab):
    def __init__(self, db: Database, actor: Actor, worker: SerialWorker, parent: QWidget | None = None):
        super().__init__(db, actor, worker, parent)
        self.refusal_table = simple_table(["时间", "申请的证明", "居民", "经办人", "备注"], 4)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.refusal_table)

    def reader(self, start: date | None, end: date | None) -> Callable[[], list[certs.RefusalLine]]:
        db = self.db
        return lambda: certs.refusals(db, start=start, end=end)

    def show_rows(self, refused: list[certs.RefusalLine]) -> None:
        fill_table(
            self.refusal_table,
            [[fmt_datetime(x.at), x.type_name, x.resident_name or "—", x.actor_name, x.note] for x in refused],
        )
        self.retitled.emit(f"拒开记录 {len(refused)}")
