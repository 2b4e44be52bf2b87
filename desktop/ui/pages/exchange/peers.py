"""信任的站点: the stations whose bundles this one accepts, importing another
station's public key (checked by its fingerprint over the phone) and
revoking one."""

from __future__ import annotations

from typing import Any, Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QHBoxLayout, QLabel, QMessageBox, QPushButton, QVBoxLayout, QWidget

from db.engine import Database
from desktop.services.context import Actor
from desktop.services.sync import exchange
from desktop.ui import files
from desktop.ui.pages.exchange.common import (
    ADMIN_ONLY,
    AMBER,
    PEER_FILTER,
    RED,
    ExchangeTab,
    fill,
    fingerprint_text,
    item,
    role_label,
    selected_item,
    table,
)
from desktop.ui.widgets import fmt_local, fmt_short, hint, scaled
from desktop.ui.worker import SerialWorker

TRUST_TEXT = "请与对方电话核对以下指纹，完全一致后再点“信任”"
PEER_COLUMNS = ["编码", "名称", "类型", "指纹", "上次导出", "上次导入", "待发送", "状态"]


class TrustPeerDialog(QDialog):
    """Confirm another station's public key: who it says it is and the
    fingerprint, big, to read over the phone."""

    def __init__(self, parent: QWidget | None, peer: Any, known: Any | None = None):
        super().__init__(parent)
        self.peer = peer
        self.setWindowTitle("信任对方站点")
        self.setMinimumWidth(620)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(28, 20, 28, 20)
        lay.setSpacing(10)
        who = QLabel(f"{peer.name}")
        scaled(who, 4, True)
        who.setWordWrap(True)
        lay.addWidget(who)
        lay.addWidget(QLabel(f"站点编码：{peer.code}　　类型：{role_label(peer.role)}"))
        if known is not None and "".join(known.fingerprint.split()) != "".join(peer.fingerprint.split()):
            warn = QLabel(
                f"注意：本站已信任过编码为 {peer.code} 的站点（{known.name}），但密钥不同。"
                "点“信任”后将用新密钥替换旧密钥，以后用旧密钥签名的数据包将不再接受。"
                "只有对方确实换了电脑或重新生成了密钥时才这样做。"
            )
            warn.setObjectName("error")
            warn.setWordWrap(True)
            lay.addWidget(warn)
        elif known is not None:
            lay.addWidget(hint("本站已经信任这个站点的这把密钥；再次信任不会改变什么。"))
        self.instruction = QLabel(TRUST_TEXT)
        self.instruction.setWordWrap(True)
        scaled(self.instruction, 1, True)
        lay.addWidget(self.instruction)
        self.fingerprint = QLabel(fingerprint_text(peer.fingerprint, 3))
        self.fingerprint.setObjectName("fingerprint")
        self.fingerprint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.fingerprint.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.fingerprint.setStyleSheet(
            "QLabel#fingerprint { background: #ffffff; border: 1px solid #dde3ea;"
            " border-radius: 8px; padding: 14px; color: #1e3a5f; }"
        )
        scaled(self.fingerprint, 12, True)
        lay.addWidget(self.fingerprint)
        lay.addWidget(
            hint("指纹由对方站点的密钥算出：只要有一位数字不同，就说明文件不是对方的，或被人换过，请点“取消”。")
        )
        row = QHBoxLayout()
        row.addStretch(1)
        self.cancel = QPushButton("取消")
        self.cancel.clicked.connect(self.reject)
        self.trust = QPushButton("信任")
        self.trust.setProperty("primary", True)
        self.trust.setAutoDefault(False)
        self.trust.clicked.connect(self.accept)
        self.cancel.setDefault(True)  # Enter must not trust a key nobody checked
        row.addWidget(self.cancel)
        row.addWidget(self.trust)
        lay.addLayout(row)
        self.cancel.setFocus()


class PeersTab(ExchangeTab):
    """The trusted stations' table, 导入对方公钥 and 注销密钥 (administrators)."""

    def __init__(self, db: Database, actor: Actor, worker: SerialWorker, parent: QWidget | None = None):
        super().__init__(db, actor, worker, parent)
        self.peer_rows: list[Any] = []
        lay = QVBoxLayout(self)
        lay.setContentsMargins(12, 12, 12, 12)
        row = QHBoxLayout()
        self.trust_btn = QPushButton("导入对方公钥…")
        self.trust_btn.clicked.connect(lambda _c=False: self.import_peer_key())
        self.revoke_btn = QPushButton("注销密钥")
        self.revoke_btn.setProperty("danger", True)
        self.revoke_btn.clicked.connect(lambda _c=False: self.revoke_selected())
        if not self.is_admin:
            for b in (self.trust_btn, self.revoke_btn):
                b.setEnabled(False)
                b.setToolTip(ADMIN_ONLY)
        row.addWidget(self.trust_btn)
        row.addWidget(self.revoke_btn)
        row.addWidget(
            hint("对方的公钥文件由对方管理员在“数据交换”页导出，用U盘或微信传过来；导入时请电话核对指纹。"), 1
        )
        lay.addLayout(row)
        self.peer_table = table(PEER_COLUMNS, 1)
        self.peer_table.itemSelectionChanged.connect(self.update_buttons)
        lay.addWidget(self.peer_table, 1)

    def reader(self) -> Callable[[], list[Any]]:
        db = self.db
        return lambda: exchange.peers(db)

    def show_peers(self, peers: list[Any]) -> None:
        self.peer_rows = peers
        rows = []
        for p in peers:
            if p.revoked:
                status, color, tip = "已注销", RED, "这个站点的密钥已注销：不再接受它的数据包，也不能再导出给它。"
            elif p.unconfirmed:
                status, color, tip = (
                    "未确认",
                    AMBER,
                    "已经导出给对方，对方还没有确认收到（对方导入后、下次发来数据包时确认）。",
                )
            else:
                status, color, tip = "正常", None, ""
            rows.append(
                [
                    item(p.code),
                    item(p.name),
                    item(role_label(p.role)),
                    item(p.fingerprint),
                    item(fmt_short(p.last_export_at), tip=fmt_local(p.last_export_at)),
                    item(fmt_short(p.last_import_at), tip=fmt_local(p.last_import_at)),
                    item(f"{p.pending:,}", right=True),
                    item(status, tip=tip, color=color),
                ]
            )
        fill(self.peer_table, rows)
        self.retitled.emit(f"信任的站点 {len(peers)}" if peers else "信任的站点")
        self.update_buttons()

    def selected_peer(self) -> Any | None:
        return selected_item(self.peer_table, self.peer_rows)

    def update_buttons(self) -> None:
        p = self.selected_peer()
        self.revoke_btn.setEnabled(self.is_admin and p is not None and not p.revoked)

    def import_peer_key(self, path: str | None = None) -> None:
        if not self.is_admin:
            return
        if path is None:
            path = files.open_file(self, "导入对方公钥文件", PEER_FILTER)
            if not path:
                return
        src = path
        self.op(
            lambda: exchange.read_peer_file(src), lambda peer: self._trust(peer), [self.trust_btn], "无法读取公钥文件"
        )

    def _trust(self, peer: Any) -> None:
        known = next((p for p in self.peer_rows if p.code == peer.code), None)
        dlg = TrustPeerDialog(self, peer, known)
        if not dlg.exec():
            return
        db, actor = self.db, self.actor

        def trusted(view: Any) -> None:
            self.notice.emit(f"已信任 {view.name}（{view.code}）。现在可以和它交换数据了。")
            self.reload.emit()

        self.op(lambda: exchange.trust_peer(db, actor, peer), trusted, [self.trust_btn])

    def revoke_selected(self) -> None:
        p = self.selected_peer()
        if p is None or p.revoked or not self.is_admin:
            return
        answer = QMessageBox.question(
            self,
            "注销密钥",
            f"注销 {p.name}（{p.code}）的密钥？\n\n注销后，本站不再接受这把密钥签名的数据包，也不能再导出给它。"
            "对方电脑丢失、被盗或重装后使用，对方需重新生成密钥，再把新的公钥文件交给本站导入。\n\n"
            "已经导入的数据不受影响。确定注销吗？",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No,
        )
        if answer != QMessageBox.StandardButton.Yes:
            return
        db, actor, code = self.db, self.actor, p.code

        def revoked(_r: Any) -> None:
            self.notice.emit(f"已注销 {p.name}（{p.code}）的密钥。")
            self.reload.emit()

        self.op(lambda: exchange.revoke_peer(db, actor, code), revoked, [self.revoke_btn])
