"""The refuse panel: an abolished type, why it is not issued, where the
resident should go instead, and 登记并打印告知单."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QVBoxLayout, QWidget

from db.engine import Database
from desktop.services import certificates as certs
from desktop.services.context import Actor
from desktop.services.search import ResidentIndex
from desktop.ui.pages.certificates.common import CertTab, glyphs
from desktop.ui.pickers import ResidentPicker
from desktop.ui.widgets import primary, scaled
from desktop.ui.worker import SerialWorker


class RefusePanel(CertTab):
    """``done`` once a refusal is recorded (before its notice is shown)."""

    done = Signal()

    def __init__(
        self, db: Database, actor: Actor, worker: SerialWorker, index: ResidentIndex, parent: QWidget | None = None
    ):
        super().__init__(db, actor, worker, parent)
        self.type: certs.CertTypeView | None = None
        lay = QHBoxLayout(self)
        left = QVBoxLayout()
        self.r_title = QLabel()
        scaled(self.r_title, 4, True)
        self.r_title.setStyleSheet("color: #b42318;")
        self.r_why = QLabel()
        self.r_why.setWordWrap(True)
        self.r_where = QLabel()
        self.r_where.setWordWrap(True)
        scaled(self.r_where, 1)
        left.addWidget(self.r_title)
        left.addWidget(self.r_why)
        left.addWidget(QLabel("<b>请告诉居民去哪里办：</b>"))
        left.addWidget(self.r_where)
        left.addStretch(1)
        lay.addLayout(left, 3)
        right = QVBoxLayout()
        right.addWidget(QLabel("居民（可不选）"))
        self.r_picker = ResidentPicker(index, optional=True, worker=worker)
        right.addWidget(self.r_picker, 1)
        self.refuse_btn = primary("登记并打印告知单")
        self.refuse_btn.setDefault(False)
        self.refuse_btn.clicked.connect(lambda _c=False: self.refuse())
        right.addWidget(self.refuse_btn)
        lay.addLayout(right, 2)

    def show_type(self, t: certs.CertTypeView) -> None:
        self.type = t
        self.r_title.setText(f"“{t.name}”不予出具")
        self.r_why.setText(f"依据：{t.basis}")
        self.r_where.setText(t.redirect)

    def refuse(self) -> None:
        t = self.type
        if t is None or t.kind != "abolished":
            return
        from desktop import paperwork
        from desktop.ui.printing import show_preview

        db, actor, rid = self.db, self.actor, self.r_picker.resident_id

        def refused(r: certs.Refusal) -> None:
            self.done.emit()
            show_preview(
                self,
                "不予出具证明告知单",
                lambda _layout: paperwork.refusal_document(db, r, actor.display_name),
                suggested_name=f"告知单-{t.name}.pdf",
            )

        self.worker.op(
            lambda: certs.refuse(db, actor, t.id, rid, glyphs=glyphs), refused, busy=[self.refuse_btn], parent=self
        )
