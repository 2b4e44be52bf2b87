"""本站密钥: the strip above the tabs with this station's name, its
fingerprint to read over the phone, and exporting its public key file."""

from __future__ import annotations

from typing import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QGroupBox, QHBoxLayout, QLabel, QMessageBox, QPushButton, QVBoxLayout, QWidget

from db.engine import Database
from desktop.services.context import Actor
from desktop.services.sync import exchange
from desktop.ui import files
from desktop.ui.pages.exchange.common import ADMIN_ONLY, PEER_FILTER, ExchangeTab, fingerprint_text, role_label
from desktop.ui.widgets import hint, scaled
from desktop.ui.worker import SerialWorker


class KeyStrip(ExchangeTab):
    """This station's key: who it is, its fingerprint, 导出本站公钥文件."""

    def __init__(self, db: Database, actor: Actor, worker: SerialWorker, parent: QWidget | None = None):
        super().__init__(db, actor, worker, parent)
        self.identity: tuple[str, str, str, str] | None = None
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        box = QGroupBox("本站密钥")
        outer.addWidget(box)
        lay = QHBoxLayout(box)
        lay.setSpacing(16)
        left = QVBoxLayout()
        left.setSpacing(2)
        self.station_label = QLabel("正在读取本站密钥…")
        scaled(self.station_label, 1, True)
        self.station_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.fingerprint_caption = hint("本站指纹：对方导入本站公钥时，电话里逐组核对")
        left.addWidget(self.station_label)
        left.addWidget(self.fingerprint_caption)
        lay.addLayout(left)
        self.fingerprint = QLabel("")
        self.fingerprint.setObjectName("fingerprint")
        self.fingerprint.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.fingerprint.setStyleSheet("QLabel#fingerprint { color: #1e3a5f; }")
        scaled(self.fingerprint, 7, True)
        lay.addWidget(self.fingerprint, 1, Qt.AlignmentFlag.AlignCenter)
        self.export_key_btn = QPushButton("导出本站公钥文件…")
        self.export_key_btn.clicked.connect(lambda _c=False: self.export_key())
        if not self.is_admin:
            self.export_key_btn.setEnabled(False)
            self.export_key_btn.setToolTip(ADMIN_ONLY)
        lay.addWidget(self.export_key_btn)

    def reader(self) -> Callable[[], tuple[str, str, str, str]]:
        db = self.db
        return lambda: exchange.my_identity(db)

    def show_identity(self, ident: tuple[str, str, str, str]) -> None:
        self.identity = ident
        code, name, role, fp = ident
        self.station_label.setText(f"{name}（{code}） · {role_label(role)}")
        self.fingerprint.setText(fingerprint_text(fp, 3))  # two lines: fits beside the button at 14 pt

    def show_unreadable(self, msg: str | None) -> None:
        """The page could not be read: say so here, with the reason when known."""
        self.station_label.setText("无法读取数据交换信息。")
        if msg:
            self.fingerprint_caption.setText(msg)

    def export_key(self, path: str | None = None) -> None:
        if not self.is_admin:
            return
        if path is None:
            code = self.identity[0] if self.identity else self.actor.station_code
            path = files.save_file(self, "导出本站公钥文件", f"{code}-公钥.json", PEER_FILTER)
            if not path:
                return
        db, actor, out = self.db, self.actor, path

        def exported(fp: str) -> None:
            QMessageBox.information(
                self,
                "已导出本站公钥",
                f"本站公钥文件已保存：\n{out}\n\n把这个文件交给对方站点的管理员导入。对方导入时，请在电话里把下面的指纹"
                f"念给对方核对：\n\n{fingerprint_text(fp, 3)}\n\n公钥文件不含任何居民数据，也不能用来冒充本站。",
            )

        self.op(lambda: exchange.export_public_key(db, actor, out), exported, [self.export_key_btn])
