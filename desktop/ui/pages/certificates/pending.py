"""待审批: certificates a desk worker submitted that need the station head;
同意并开具 issues and prints, 不同意 records the reason."""

from __future__ import annotations

from typing import Callable

from PySide6.QtWidgets import QHBoxLayout, QInputDialog, QPushButton, QVBoxLayout, QWidget

from db.engine import Database
from desktop.services import certificates as certs
from desktop.services.context import Actor
from desktop.ui.pages.certificates.common import CertTab, glyphs
from desktop.ui.widgets import fill_table, fmt_datetime, hint, primary, simple_table
from desktop.ui.worker import SerialWorker


class PendingTab(CertTab):
    def __init__(self, db: Database, actor: Actor, worker: SerialWorker, parent: QWidget | None = None):
        super().__init__(db, actor, worker, parent)
        self.pending_rows: list[certs.CertRow] = []
        self.pending_table = simple_table(["申请时间", "证明类型", "居民", "用途", "经办人"], 3)
        pl = QVBoxLayout(self)
        pl.addWidget(self.pending_table)
        prow = QHBoxLayout()
        self.approve_btn = primary("同意并开具")
        self.approve_btn.setDefault(False)
        self.approve_btn.clicked.connect(lambda _c=False: self.approve())
        self.decline_btn = QPushButton("不同意…")
        self.decline_btn.clicked.connect(lambda _c=False: self.decline())
        sup = actor.at_least(certs.APPROVER_ROLE)
        for b in (self.approve_btn, self.decline_btn):
            b.setEnabled(sup)
            prow.addWidget(b)
        prow.addWidget(hint("" if sup else "审批需要站长：按 F12 锁屏，点“切换用户”由站长登录后在这里同意。"), 1)
        pl.addLayout(prow)

    def reader(self) -> Callable[[], list[certs.CertRow]]:
        db = self.db
        return lambda: certs.pending(db)

    def show_rows(self, pend: list[certs.CertRow]) -> None:
        self.pending_rows = pend
        fill_table(
            self.pending_table,
            [[fmt_datetime(r.requested_at), r.type_name, r.resident_name, r.purpose, r.handler_name] for r in pend],
        )
        self.retitled.emit(f"待审批 {len(pend)}")

    def approve(self) -> None:
        row = self.selected(self.pending_table, self.pending_rows)
        if row is None:
            return
        db, actor = self.db, self.actor
        self.run(
            lambda: certs.approve(db, actor, row.id, glyphs=glyphs),
            [self.approve_btn, self.decline_btn],
            self.print_then(),
        )

    def decline(self) -> None:
        row = self.selected(self.pending_table, self.pending_rows)
        if row is None:
            return
        reason, ok = QInputDialog.getText(self, "不同意开具", "理由（会记入台账）：")
        if ok:
            db, actor = self.db, self.actor
            self.run(lambda: certs.decline(db, actor, row.id, reason), [self.approve_btn, self.decline_btn])
