"""数据交换: this station's key and fingerprint, the trusted peers, writing and
reading bundle files, the exchange history, field conflicts and possible
duplicate residents found by imports.

All database and file work runs on the serial worker through
``desktop.services.sync.exchange``; export and import report progress from
the worker thread through ``_Progress`` (a queued signal), never by touching
a widget there.  The services check every role again; the page only hides
what the signed-in account may not do.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Callable

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from db.engine import Database
from desktop.services.context import Actor
from desktop.services.sync import exchange
from desktop.services.sync.views import ROLE_LABELS
from desktop.settings import Settings
from desktop.ui import files
from desktop.ui.errors import show_error
from desktop.ui.pages.base import Page
from desktop.ui.widgets import fmt_date, fmt_size, hint, primary, scaled, simple_table
from desktop.ui.worker import SerialWorker

log = logging.getLogger(__name__)

ADMIN_ONLY = "需要管理员权限。"
RED = QColor("#b42318")
AMBER = QColor("#9a5b00")
BUNDLE_FILTER = "数据交换包 (*.sdbundle);;所有文件 (*)"
PEER_FILTER = "站点公钥文件 (*.json);;所有文件 (*)"
TRUST_TEXT = "请与对方电话核对以下指纹，完全一致后再点“信任”"
ALREADY_TEXT = "这个数据交换包以前已经导入过，没有任何变化。"
NOTHING_CHANGED = "本站数据没有任何改变。"

PEER_COLUMNS = ["编码", "名称", "类型", "指纹", "上次导出", "上次导入", "待发送", "状态"]
HISTORY_COLUMNS = ["时间", "方向", "对方站点", "记录数", "大小", "文件名"]
CONFLICT_COLUMNS = ["类别", "记录", "字段", "A 值（生效中）", "A 来自", "B 值（未采用）", "B 来自", "状态"]
DUPLICATE_COLUMNS = ["姓名", "证件号码", "本站记录", "数据包带来的记录", "发现时间", "状态"]


# ---------------------------------------------------------------- formatting

def fmt_local(dt: datetime | None) -> str:
    """A local time (as the sync views give them) as ``2026年12月1日 15:30``."""
    if dt is None:
        return "—"
    if dt.tzinfo is not None:
        dt = dt.astimezone()
    return f"{fmt_date(dt)} {dt:%H:%M}"


def fingerprint_text(fp: str, per_line: int = 6) -> str:
    """The fingerprint's digit groups, spaced for reading aloud; ``per_line``
    groups to a line."""
    groups = fp.split() or [fp]
    lines = ["\u2002".join(groups[i:i + per_line]) for i in range(0, len(groups), per_line)]
    return "\n".join(lines)


def fmt_short(dt: datetime | None) -> str:
    """``12月1日 15:30`` this year, ``2025年12月1日 15:30`` otherwise (table cells)."""
    if dt is None:
        return "—"
    if dt.tzinfo is not None:
        dt = dt.astimezone()
    if dt.year == datetime.now().year:
        return f"{dt.month}月{dt.day}日 {dt:%H:%M}"
    return fmt_local(dt)


def role_label(role: str) -> str:
    return ROLE_LABELS.get(role, role)


def user_message(exc: BaseException) -> str | None:
    """The Chinese message of an error the person can act on (sync errors included)."""
    from db.errors import friendly

    known = friendly(exc)
    return known.user_message if known is not None else None


def show_failure(parent: QWidget | None, exc: BaseException, title: str = "无法完成") -> None:
    msg = user_message(exc)
    if msg is None:
        show_error(parent, exc)
    else:
        QMessageBox.warning(parent, title, msg)


def _item(text: str, *, right: bool = False, tip: str = "", color: QColor | None = None) -> QTableWidgetItem:
    it = QTableWidgetItem(text)
    if right:
        it.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    if tip:
        it.setToolTip(tip)
    if color is not None:
        it.setForeground(color)
    return it


def _fill(table: QTableWidget, rows: list[list[QTableWidgetItem]], stretch: tuple[int, ...] = ()) -> None:
    """Replace the rows; columns fit their contents, the ``stretch`` ones (or
    else the last) share what is left, so no name is cut short."""
    table.setRowCount(len(rows))
    for r, cells in enumerate(rows):
        for c, it in enumerate(cells):
            table.setItem(r, c, it)
    header = table.horizontalHeader()
    for c in range(table.columnCount()):
        header.setSectionResizeMode(c, QHeaderView.ResizeMode.Stretch if c in stretch
                                    else QHeaderView.ResizeMode.ResizeToContents)
    header.setStretchLastSection(not stretch)


def _table(headers: list[str], stretch: int) -> QTableWidget:
    t = simple_table(headers, stretch)
    t.setAlternatingRowColors(True)
    t.setWordWrap(False)
    return t


def _selected_row(table: QTableWidget) -> int | None:
    rows = {i.row() for i in table.selectedIndexes()}
    return rows.pop() if len(rows) == 1 else None


class _Progress(QObject):
    step = Signal(int, int, str)


@dataclass
class Snapshot:
    """Everything the page shows, read in one worker job."""

    identity: tuple[str, str, str, str]
    peers: list[Any]
    history: list[Any]
    conflicts: list[Any]
    duplicates: list[Any]
    open_conflicts: int
    open_duplicates: int
    errors: list[str] = field(default_factory=list)


# ---------------------------------------------------------------- dialogs

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
            warn = QLabel(f"注意：本站已信任过编码为 {peer.code} 的站点（{known.name}），但密钥不同。"
                          "点“信任”后将用新密钥替换旧密钥，以后用旧密钥签名的数据包将不再接受。"
                          "只有对方确实换了电脑或重新生成了密钥时才这样做。")
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
        self.fingerprint.setStyleSheet("QLabel#fingerprint { background: #ffffff; border: 1px solid #dde3ea;"
                                       " border-radius: 8px; padding: 14px; color: #1e3a5f; }")
        scaled(self.fingerprint, 12, True)
        lay.addWidget(self.fingerprint)
        lay.addWidget(hint("指纹由对方站点的密钥算出：只要有一位数字不同，就说明文件不是对方的，或被人换过，"
                           "请点“取消”。"))
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


class ValuePanel(QGroupBox):
    """One side of a conflict: the value, where and when it was set, and a
    button to keep it."""

    def __init__(self, title: str, button_text: str, parent: QWidget | None = None):
        super().__init__(title, parent)
        lay = QVBoxLayout(self)
        lay.setSpacing(6)
        self.value = QLabel("—")
        self.value.setWordWrap(True)
        self.value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        scaled(self.value, 4, True)
        self.source = hint("")
        self.keep = QPushButton(button_text)
        lay.addWidget(self.value)
        lay.addWidget(self.source)
        lay.addStretch(1)
        lay.addWidget(self.keep, alignment=Qt.AlignmentFlag.AlignLeft)

    def show_side(self, side: Any | None, note: str = "") -> None:
        if side is None:
            self.value.setText("—")
            self.source.setText("")
            return
        self.value.setText(side.value)
        src = f"{side.station_name}（{side.station}） · {fmt_local(side.at)}"
        if side.by:
            src += f" · {side.by}"
        self.source.setText(src + (f"\n{note}" if note else ""))


class ResidentPanel(QGroupBox):
    """One of two possibly duplicate resident records."""

    FIELDS = [("name", "姓名"), ("doc", "证件号码"), ("origin", "登记站点"), ("household", "户 / 住址"),
              ("phone", "联系电话"), ("refs", "关联记录")]

    def __init__(self, title: str, button_text: str, parent: QWidget | None = None):
        super().__init__(title, parent)
        lay = QVBoxLayout(self)
        grid = QGridLayout()
        grid.setHorizontalSpacing(12)
        grid.setVerticalSpacing(4)
        self.values: dict[str, QLabel] = {}
        for i, (key, label) in enumerate(self.FIELDS):
            name = QLabel(label)
            name.setObjectName("hint")
            v = QLabel("—")
            v.setWordWrap(True)
            v.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            if key == "name":
                scaled(v, 3, True)
            grid.addWidget(name, i, 0, alignment=Qt.AlignmentFlag.AlignTop)
            grid.addWidget(v, i, 1)
            self.values[key] = v
        grid.setColumnStretch(1, 1)
        lay.addLayout(grid)
        lay.addStretch(1)
        self.keep = QPushButton(button_text)
        lay.addWidget(self.keep, alignment=Qt.AlignmentFlag.AlignLeft)

    def show_resident(self, r: Any | None) -> None:
        if r is None:
            for v in self.values.values():
                v.setText("—")
            return
        self.values["name"].setText(r.name + ("（已合并）" if r.deleted else ""))
        self.values["doc"].setText(r.masked_doc or "—")
        self.values["origin"].setText(f"{r.origin_name}（{r.origin}）")
        self.values["household"].setText(r.household or "—")
        self.values["phone"].setText(r.phone_masked or "—")
        self.values["refs"].setText(f"{r.references} 条（事项、证明、志愿服务需求等）")


# ---------------------------------------------------------------- the page

class ExchangePage(Page):
    title = "数据交换"
    min_role = "supervisor"

    TAB_TRANSFER, TAB_PEERS, TAB_HISTORY, TAB_CONFLICTS, TAB_DUPLICATES = range(5)

    def __init__(self, db: Database, actor: Actor, worker: SerialWorker, *, settings: Settings | None = None,
                 parent: QWidget | None = None):
        super().__init__(db, actor, worker, parent)
        self.settings = settings  # with settings, a SQLite station backs up before every import
        self.is_admin = actor.at_least("admin")
        self.may_exchange = actor.at_least("supervisor")
        self.identity: tuple[str, str, str, str] | None = None
        self.peer_rows: list[Any] = []
        self.history_rows: list[Any] = []
        self.conflict_rows: list[Any] = []
        self.duplicate_rows: list[Any] = []
        self.busy = False
        self.last_result: Any = None
        self.conflict_msg = ""  # shown once after the next refresh
        self.duplicate_msg = ""
        self.progress_sig = _Progress()
        self.progress_sig.step.connect(self._on_step)

        self.layout_.addWidget(self._key_strip())
        self.tabs = QTabWidget()
        self.tabs.addTab(self._transfer_tab(), "导出 / 导入")
        self.tabs.addTab(self._peers_tab(), "信任的站点")
        self.tabs.addTab(self._history_tab(), "交换记录")
        self.tabs.addTab(self._conflicts_tab(), "冲突")
        self.tabs.addTab(self._duplicates_tab(), "疑似重复居民")
        self.layout_.addWidget(self.tabs, 1)
        self._update_buttons()

    # ------------------------------------------------------------ building
    def _key_strip(self) -> QWidget:
        box = QGroupBox("本站密钥")
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
        return box

    def _transfer_tab(self) -> QWidget:
        w = QWidget()
        lay = QVBoxLayout(w)
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
        row.addWidget(hint("导入前会先校验整个文件（签名、完整性、发给本站）；有任何问题都不会改动本站数据。"
                           "同一个数据包导入两次不会重复。"), 1)
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
        return w

    def _peers_tab(self) -> QWidget:
        w = QWidget()
        lay = QVBoxLayout(w)
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
        row.addWidget(hint("对方的公钥文件由对方管理员在“数据交换”页导出，用U盘或微信传过来；"
                           "导入时请电话核对指纹。"), 1)
        lay.addLayout(row)
        self.peer_table = _table(PEER_COLUMNS, 1)
        self.peer_table.itemSelectionChanged.connect(self._update_buttons)
        lay.addWidget(self.peer_table, 1)
        return w

    def _history_tab(self) -> QWidget:
        w = QWidget()
        lay = QVBoxLayout(w)
        lay.setContentsMargins(12, 12, 12, 12)
        self.history_table = _table(HISTORY_COLUMNS, 5)
        self.history_table.setTextElideMode(Qt.TextElideMode.ElideMiddle)  # keep the date at the name's end
        lay.addWidget(self.history_table, 1)
        self.history_note = hint("")
        lay.addWidget(self.history_note)
        return w

    def _pair_tab(self, text: str, columns: list[str], stretch: int, on_select: Any,
                  left: QWidget, right: QWidget) -> tuple[QWidget, QVBoxLayout, QCheckBox, QTableWidget]:
        """A list of pairs above two panels side by side (conflicts, duplicates)."""
        w = QWidget()
        lay = QVBoxLayout(w)
        lay.setContentsMargins(12, 12, 12, 12)
        top = QHBoxLayout()
        top.addWidget(hint(text), 1)
        show_done = QCheckBox("显示已处理")
        show_done.toggled.connect(lambda _on: self.activated())
        top.addWidget(show_done)
        lay.addLayout(top)
        table = _table(columns, stretch)
        table.itemSelectionChanged.connect(on_select)
        lay.addWidget(table, 1)
        sides = QHBoxLayout()
        sides.addWidget(left, 1)
        sides.addWidget(right, 1)
        lay.addLayout(sides)
        return w, lay, show_done, table

    def _conflicts_tab(self) -> QWidget:
        self.panel_a = ValuePanel("A：现在生效的值", "保留此值（A）")
        self.panel_b = ValuePanel("B：未采用的值", "保留此值（B）")
        self.panel_a.keep.clicked.connect(lambda _c=False: self.keep_value("a"))
        self.panel_b.keep.clicked.connect(lambda _c=False: self.keep_value("b"))
        w, lay, self.show_resolved, self.conflict_table = self._pair_tab(
            "两个站点都改过同一个字段时，先按时间较晚的值（A）生效，另一个值（B）保留在这里。"
            "选中一条，点“保留此值”决定用哪一个。", CONFLICT_COLUMNS, 3, self._conflict_selected,
            self.panel_a, self.panel_b)
        self.conflict_note = QLabel("")
        self.conflict_note.setObjectName("notice")
        lay.addWidget(self.conflict_note)
        return w

    def _duplicates_tab(self) -> QWidget:
        self.left = ResidentPanel("左：本站的记录", "保留左边并合并")
        self.right = ResidentPanel("右：数据包带来的记录", "保留右边并合并")
        self.left.keep.clicked.connect(lambda _c=False: self.merge("a"))
        self.right.keep.clicked.connect(lambda _c=False: self.merge("b"))
        w, lay, self.show_decided, self.duplicate_table = self._pair_tab(
            "导入的数据包里有与本站居民证件号码相同的记录。核对后保留一条并合并，或确认不是同一人。",
            DUPLICATE_COLUMNS, 0, self._duplicate_selected, self.left, self.right)
        foot = QHBoxLayout()
        self.dismiss_btn = QPushButton("不是同一人")
        self.dismiss_btn.clicked.connect(lambda _c=False: self.dismiss())
        foot.addWidget(self.dismiss_btn)
        self.duplicate_note = QLabel("")
        self.duplicate_note.setObjectName("notice")
        foot.addWidget(self.duplicate_note, 1)
        lay.addLayout(foot)
        return w

    # ------------------------------------------------------------ loading
    def activated(self) -> None:
        db = self.db
        conflict_status = None if self.show_resolved.isChecked() else "open"
        dup_status = None if self.show_decided.isChecked() else "open"

        def load() -> Snapshot:
            ident = exchange.my_identity(db)
            confs = exchange.conflicts(db, conflict_status)
            dups = exchange.duplicates(db, dup_status)
            open_c = len(confs) if conflict_status else sum(1 for c in confs if c.status == "open")
            open_d = len(dups) if dup_status else sum(1 for d in dups if d.status == "open")
            return Snapshot(ident, exchange.peers(db), exchange.history(db), confs, dups, open_c, open_d)

        self.worker.run(load, self._show, self._load_failed)

    def _load_failed(self, exc: BaseException) -> None:
        log.warning("loading the exchange page failed: %s", exc)
        msg = user_message(exc)
        self.station_label.setText("无法读取数据交换信息。")
        if msg:
            self.fingerprint_caption.setText(msg)
        else:
            show_error(self, exc)

    def _show(self, snap: Snapshot) -> None:
        self._show_identity(snap.identity)
        self._show_peers(snap.peers)
        self._show_history(snap.history)
        self._show_conflicts(snap.conflicts, snap.open_conflicts)
        self._show_duplicates(snap.duplicates, snap.open_duplicates)
        self._update_buttons()

    def _show_identity(self, ident: tuple[str, str, str, str]) -> None:
        self.identity = ident
        code, name, role, fp = ident
        self.station_label.setText(f"{name}（{code}） · {role_label(role)}")
        self.fingerprint.setText(fingerprint_text(fp, 3))  # two lines: fits beside the button at 14 pt

    def _show_peers(self, peers: list[Any]) -> None:
        self.peer_rows = peers
        rows = []
        for p in peers:
            if p.revoked:
                status, color, tip = "已注销", RED, "这个站点的密钥已注销：不再接受它的数据包，也不能再导出给它。"
            elif p.unconfirmed:
                status, color, tip = "未确认", AMBER, "已经导出给对方，对方还没有确认收到（对方导入后、下次发来数据包时确认）。"
            else:
                status, color, tip = "正常", None, ""
            rows.append([_item(p.code), _item(p.name), _item(role_label(p.role)), _item(p.fingerprint),
                         _item(fmt_short(p.last_export_at), tip=fmt_local(p.last_export_at)),
                         _item(fmt_short(p.last_import_at), tip=fmt_local(p.last_import_at)),
                         _item(f"{p.pending:,}", right=True), _item(status, tip=tip, color=color)])
        _fill(self.peer_table, rows)
        self.tabs.setTabText(self.TAB_PEERS, f"信任的站点 {len(peers)}" if peers else "信任的站点")

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
            self.peer_note.setText("还没有信任的站点。先在“信任的站点”页导入对方的公钥文件。"
                                   if not any(not q.revoked for q in self.peer_rows) else "")
        else:
            parts = [f"待发送 {p.pending:,} 条变更" if p.pending else "没有待发送的变更",
                     f"上次导出：{fmt_local(p.last_export_at)}", f"上次导入：{fmt_local(p.last_import_at)}"]
            if p.unconfirmed:
                parts.append("上次发送的数据包对方尚未确认收到")
            self.peer_note.setText("；".join(parts) + "。")
        self._update_buttons()

    def _show_history(self, items: list[Any]) -> None:
        self.history_rows = items
        rows = []
        for b in items:
            kind = b.direction_label + ("（完整）" if b.full else "")
            tip = f"操作人：{b.by}"
            c = b.counts or {}
            if b.direction == "in" and "new" in c:
                tip += (f"\n新增 {c.get('new', 0):,}，更新 {c.get('updated', 0):,}，未变 {c.get('unchanged', 0):,}，"
                        f"冲突 {c.get('conflicts', 0):,}，疑似重复居民 {c.get('duplicates', 0):,}")
            rows.append([_item(fmt_local(b.at), tip=tip), _item(kind, tip=tip),
                         _item(f"{b.peer_name}（{b.peer}）"), _item(f"{b.rows:,}", right=True, tip=tip),
                         _item(fmt_size(b.size) if b.size else "—", right=True), _item(b.file_name, tip=b.file_name)])
        _fill(self.history_table, rows)
        self.history_note.setText("" if items else "还没有导出或导入过数据交换包。")

    def _show_conflicts(self, items: list[Any], open_count: int) -> None:
        selected = self._current_conflict()
        self.conflict_rows = items
        rows = []
        for c in items:
            color = None if c.status == "open" else QColor("#5b6b7f")
            rows.append([_item(c.table_label), _item(c.record_label), _item(c.field_label),
                         _item(c.a.value, tip=c.a.value),
                         _item(f"{c.a.station} · {fmt_short(c.a.at)}",
                               tip=f"{c.a.station_name}（{c.a.station}）" + (f" · {c.a.by}" if c.a.by else "")),
                         _item(c.b.value, tip=c.b.value),
                         _item(f"{c.b.station} · {fmt_short(c.b.at)}",
                               tip=f"{c.b.station_name}（{c.b.station}）" + (f" · {c.b.by}" if c.b.by else "")),
                         _item(c.status_label, color=color)])
        _fill(self.conflict_table, rows, stretch=(3, 5))
        self.tabs.setTabText(self.TAB_CONFLICTS, f"冲突 {open_count}" if open_count else "冲突")
        if self.conflict_msg:
            self.conflict_note.setText(self.conflict_msg)
            self.conflict_msg = ""
        elif not items:
            self.conflict_note.setText("没有待处理的冲突。" if not self.show_resolved.isChecked() else "没有冲突记录。")
        else:
            self.conflict_note.setText("")
        again = next((i for i, c in enumerate(items) if selected is not None and c.id == selected.id), None)
        if again is not None:
            self.conflict_table.selectRow(again)
        elif items:
            self.conflict_table.selectRow(0)
        self._conflict_selected()

    def _show_duplicates(self, items: list[Any], open_count: int) -> None:
        selected = self._current_duplicate()
        self.duplicate_rows = items
        rows = []
        for d in items:
            rows.append([_item(d.a.name if d.a.name == d.b.name else f"{d.a.name} / {d.b.name}"),
                         _item(d.a.masked_doc),
                         _item(d.a.origin_name, tip=f"{d.a.origin_name}（{d.a.origin}）"),
                         _item(d.b.origin_name, tip=f"{d.b.origin_name}（{d.b.origin}）"),
                         _item(fmt_short(d.found_at), tip=fmt_local(d.found_at)),
                         _item(d.status_label)])
        _fill(self.duplicate_table, rows)
        self.tabs.setTabText(self.TAB_DUPLICATES, f"疑似重复居民 {open_count}" if open_count else "疑似重复居民")
        if self.duplicate_msg:
            self.duplicate_note.setText(self.duplicate_msg)
            self.duplicate_msg = ""
        elif not items:
            self.duplicate_note.setText("没有待处理的疑似重复居民。" if not self.show_decided.isChecked()
                                        else "没有疑似重复记录。")
        else:
            self.duplicate_note.setText("")
        again = next((i for i, d in enumerate(items) if selected is not None and d.id == selected.id), None)
        if again is not None:
            self.duplicate_table.selectRow(again)
        elif items:
            self.duplicate_table.selectRow(0)
        self._duplicate_selected()

    # ------------------------------------------------------------ selection
    def selected_peer(self) -> Any | None:
        r = _selected_row(self.peer_table)
        return self.peer_rows[r] if r is not None and r < len(self.peer_rows) else None

    def _current_conflict(self) -> Any | None:
        r = _selected_row(self.conflict_table)
        return self.conflict_rows[r] if r is not None and r < len(self.conflict_rows) else None

    def _current_duplicate(self) -> Any | None:
        r = _selected_row(self.duplicate_table)
        return self.duplicate_rows[r] if r is not None and r < len(self.duplicate_rows) else None

    def _conflict_selected(self) -> None:
        c = self._current_conflict()
        if c is None:
            self.panel_a.show_side(None)
            self.panel_b.show_side(None)
            self.panel_a.setTitle("A：现在生效的值")
            self.panel_b.setTitle("B：未采用的值")
        else:
            what = f"{c.record_label} · {c.field_label}"
            self.panel_a.setTitle(f"A：现在生效的值 — {what}")
            self.panel_b.setTitle(f"B：未采用的值 — {what}")
            later = c.status == "open" and c.current not in (c.a.value, c.b.value)
            note_a = "（已保留）" if c.status == "kept_a" else f"记录后来又改成了：{c.current}" if later else ""
            self.panel_a.show_side(c.a, note_a)
            self.panel_b.show_side(c.b, "（已保留）" if c.status == "kept_b" else "")
        self._update_buttons()

    def _duplicate_selected(self) -> None:
        d = self._current_duplicate()
        self.left.show_resident(d.a if d else None)
        self.right.show_resident(d.b if d else None)
        self._update_buttons()

    def _update_buttons(self) -> None:
        idle = not self.busy
        has_peer = self.peer_combo.currentData() is not None
        for b in (self.export_btn, self.full_btn):
            b.setEnabled(idle and self.may_exchange and has_peer)
        self.import_btn.setEnabled(idle and self.may_exchange)
        p = self.selected_peer()
        self.revoke_btn.setEnabled(self.is_admin and p is not None and not p.revoked)
        c = self._current_conflict()
        for panel in (self.panel_a, self.panel_b):
            panel.keep.setEnabled(self.may_exchange and c is not None and c.status == "open")
        d = self._current_duplicate()
        can = self.may_exchange and d is not None and d.status == "open"
        self.left.keep.setEnabled(can)
        self.right.keep.setEnabled(can)
        self.dismiss_btn.setEnabled(can)

    # ------------------------------------------------------------ keys and peers
    def _op(self, fn, done, busy, title: str = "无法完成", reload_on_error: bool = False) -> None:  # type: ignore[no-untyped-def]
        """``fn`` on the worker with ``busy`` off until it is back; a failure
        is explained (and the page reloaded when it may have changed)."""
        def failed(exc: BaseException) -> None:
            show_failure(self, exc, title)
            if reload_on_error:
                self.activated()

        self.worker.op(fn, done, busy=busy, on_error=failed, parent=self)

    def export_key(self, path: str | None = None) -> None:
        if not self.is_admin:
            return
        if path is None:
            code = self.identity[0] if self.identity else self.actor.station_code
            path = files.save_file(self, "导出本站公钥文件", f"{code}-公钥.json", PEER_FILTER)
            if not path:
                return
        db, actor = self.db, self.actor

        def exported(fp: str) -> None:
            QMessageBox.information(
                self, "已导出本站公钥",
                f"本站公钥文件已保存：\n{path}\n\n把这个文件交给对方站点的管理员导入。对方导入时，请在电话里把下面的指纹"
                f"念给对方核对：\n\n{fingerprint_text(fp, 3)}\n\n公钥文件不含任何居民数据，也不能用来冒充本站。")

        self._op(lambda: exchange.export_public_key(db, actor, path), exported, [self.export_key_btn])

    def import_peer_key(self, path: str | None = None) -> None:
        if not self.is_admin:
            return
        if path is None:
            path = files.open_file(self, "导入对方公钥文件", PEER_FILTER)
            if not path:
                return
        self._op(lambda: exchange.read_peer_file(path), lambda peer: self._trust(path, peer), [self.trust_btn],
                 "无法读取公钥文件")

    def _trust(self, path: str, peer: Any) -> None:
        known = next((p for p in self.peer_rows if p.code == peer.code), None)
        dlg = TrustPeerDialog(self, peer, known)
        if not dlg.exec():
            return
        db, actor = self.db, self.actor

        def trusted(view: Any) -> None:
            self.result.setText(f"已信任 {view.name}（{view.code}）。现在可以和它交换数据了。")
            self.activated()

        self._op(lambda: exchange.trust_peer(db, actor, peer), trusted, [self.trust_btn])

    def revoke_selected(self) -> None:
        p = self.selected_peer()
        if p is None or p.revoked or not self.is_admin:
            return
        answer = QMessageBox.question(
            self, "注销密钥",
            f"注销 {p.name}（{p.code}）的密钥？\n\n注销后，本站不再接受这把密钥签名的数据包，也不能再导出给它。"
            "对方电脑丢失、被盗或重装后使用，对方需重新生成密钥，再把新的公钥文件交给本站导入。\n\n"
            "已经导入的数据不受影响。确定注销吗？",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, QMessageBox.StandardButton.No)
        if answer != QMessageBox.StandardButton.Yes:
            return
        db, actor, code = self.db, self.actor, p.code

        def revoked(_r: Any) -> None:
            self.result.setText(f"已注销 {p.name}（{p.code}）的密钥。")
            self.activated()

        self._op(lambda: exchange.revoke_peer(db, actor, code), revoked, [self.revoke_btn])

    # ------------------------------------------------------------ bundles
    def _start(self, text: str) -> None:
        self.busy = True
        self._update_buttons()
        self.tabs.setCurrentIndex(self.TAB_TRANSFER)
        self.progress.setRange(0, 0)
        self.progress.setFormat(text)
        self.progress.setVisible(True)
        self.result.setObjectName("notice")
        self.result.setText(text)
        self._restyle(self.result)

    def _finish(self) -> None:
        self.busy = False
        self.progress.setVisible(False)
        self._update_buttons()

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

            self._op(lambda: exchange.default_bundle_name(db, to, full), ask,
                     [self.export_btn, self.full_btn])
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
        self.result.setText(f"{kind}完成：给 {who} 的 {r.rows:,} 条记录，{fmt_size(r.size)}。\n文件：{r.path}\n"
                            "请把这个文件拷贝给对方导入。文件已加密，只有对方能打开。")
        self._restyle(self.result)
        self.activated()

    def _export_failed(self, exc: BaseException) -> None:
        self._finish()
        self.result.setObjectName("error")
        self.result.setText("没有导出。")
        self._restyle(self.result)
        show_failure(self, exc, "没有导出")
        self.activated()

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
            text = (f"已导入 {r.source_name}（{r.source}）的数据包：新增 {r.new:,} 条，更新 {r.updated:,} 条，"
                    f"未变 {r.unchanged:,} 条；冲突 {r.conflicts:,} 处，疑似重复居民 {r.duplicates:,} 人。")
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
        self._restyle(self.result)
        self.activated()

    def _import_failed(self, exc: BaseException) -> None:
        self._finish()
        msg = user_message(exc)
        self.result.setObjectName("error")
        self.result.setText("数据包没有导入，" + NOTHING_CHANGED)
        self._restyle(self.result)
        if msg is None:
            show_error(self, exc)
        else:
            if "没有导入任何数据" not in msg and NOTHING_CHANGED not in msg:
                msg += "\n\n" + NOTHING_CHANGED
            QMessageBox.warning(self, "数据包没有导入", msg)
        self.activated()

    @staticmethod
    def _restyle(w: QWidget) -> None:
        w.style().unpolish(w)
        w.style().polish(w)

    # ------------------------------------------------------------ conflicts
    def keep_value(self, keep: str) -> None:
        c = self._current_conflict()
        if c is None or c.status != "open":
            return
        db, actor, cid = self.db, self.actor, c.id

        def resolved(_r: Any) -> None:
            side = c.a if keep == "a" else c.b
            self.conflict_msg = f"已保留 {c.record_label} 的{c.field_label}：{side.value}"
            self.activated()

        self._op(lambda: exchange.resolve_conflict(db, actor, cid, keep), resolved,
                 [self.panel_a.keep, self.panel_b.keep], reload_on_error=True)

    # ------------------------------------------------------------ duplicates
    def merge(self, keep: str, confirm: bool = True) -> None:
        d = self._current_duplicate()
        if d is None or d.status != "open":
            return
        survivor, other = (d.a, d.b) if keep == "a" else (d.b, d.a)
        if confirm:
            text = (f"保留{'左边' if keep == 'a' else '右边'}的记录：{survivor.name}（{survivor.origin_name}登记），"
                    f"合并另一条（{other.origin_name}登记）。\n\n"
                    "合并后：\n"
                    "· 另一条记录不再出现在查询中，只留下一个指向保留记录的标记；\n"
                    f"· 它名下的 {other.references} 条事项、证明、志愿服务需求等记录转到保留的这条记录下；\n"
                    "· 合并会随下次数据交换同步到其他站点。\n\n"
                    "请先核对两条确属同一人。确定合并吗？")
            answer = QMessageBox.question(self, "合并重复居民", text,
                                          QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                                          QMessageBox.StandardButton.No)
            if answer != QMessageBox.StandardButton.Yes:
                return
        db, actor, did, sid = self.db, self.actor, d.id, survivor.id

        def merged(_r: Any) -> None:
            self.duplicate_msg = f"已合并：保留 {survivor.origin_name} 登记的 {survivor.name}。"
            self.activated()

        self._op(lambda: exchange.merge_duplicate(db, actor, did, sid), merged,
                 [self.left.keep, self.right.keep, self.dismiss_btn], reload_on_error=True)

    def dismiss(self) -> None:
        d = self._current_duplicate()
        if d is None or d.status != "open":
            return
        db, actor, did = self.db, self.actor, d.id

        def dismissed(_r: Any) -> None:
            self.duplicate_msg = f"已标记：{d.a.name} 的两条记录不是同一人，不再提示。"
            self.activated()

        self._op(lambda: exchange.dismiss_duplicate(db, actor, did), dismissed,
                 [self.left.keep, self.right.keep, self.dismiss_btn], reload_on_error=True)
