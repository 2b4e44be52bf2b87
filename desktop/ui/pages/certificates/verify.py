"""核验证明: what a scanned or typed certificate code says: genuine or not,
its status, and (masked) what it certifies."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from desktop.services import certificates as certs
from desktop.ui.widgets import fmt_datetime, scaled


class VerifyDialog(QDialog):
    def __init__(self, parent: QWidget, v: certs.Verification):
        super().__init__(parent)
        self.v = v
        self.setWindowTitle("核验证明")
        lay = QVBoxLayout(self)
        # a refusal notice verifies without a certificate's details
        ok = v.genuine and (v.detail.status == "issued" if v.detail is not None else True)
        head = QLabel(("✔ " if ok else "✕ ") + v.message)
        head.setWordWrap(True)
        scaled(head, 3, True)
        head.setStyleSheet(f"color: {'#067647' if ok else '#b42318'};")
        lay.addWidget(head)
        if v.detail:
            d = v.detail
            lines = [
                f"编号：{d.serial or '（未编号）'}",
                f"类型：{d.type_name}　状态：{d.status_label}",
                f"开具给：{d.resident_name}（证件 {d.resident_doc_masked or '—'}）",
                f"开具单位：{d.station_name}　开具时间：{fmt_datetime(d.issued_at)}",
                f"经办人：{d.handler_name}" + (f"　审批人：{d.approver_name}" if d.approver_name else ""),
            ]
            if d.replaces_serial:
                lines.append(f"补开自：{d.replaces_serial}")
            body = QLabel("\n".join(lines) + "\n\n证明内容：\n" + d.body_masked)
            body.setWordWrap(True)
            body.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            lay.addWidget(body)
        lay.addStretch(1)
        close = QPushButton("关闭")
        close.clicked.connect(self.accept)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(close)
        lay.addLayout(row)
        self.resize(620, 420)
