"""冲突: a field both stations changed; the later value (A) is in force, the
other (B) waits here until someone keeps one of them."""

from __future__ import annotations

from typing import Any, Callable

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QGroupBox, QLabel, QPushButton, QVBoxLayout, QWidget

from db.engine import Database
from desktop.services.context import Actor
from desktop.services.sync import exchange
from desktop.ui.pages.exchange.common import ExchangeTab, fill, item, open_pairs, reselect, selected_item
from desktop.ui.widgets import fmt_local, fmt_short, hint, scaled
from desktop.ui.worker import SerialWorker

CONFLICT_COLUMNS = ["类别", "记录", "字段", "A 值（生效中）", "A 来自", "B 值（未采用）", "B 来自", "状态"]


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


class ConflictsTab(ExchangeTab):
    def __init__(self, db: Database, actor: Actor, worker: SerialWorker, parent: QWidget | None = None):
        super().__init__(db, actor, worker, parent)
        self.conflict_rows: list[Any] = []
        self.conflict_msg = ""  # shown once after the next refresh
        self.panel_a = ValuePanel("A：现在生效的值", "保留此值（A）")
        self.panel_b = ValuePanel("B：未采用的值", "保留此值（B）")
        self.panel_a.keep.clicked.connect(lambda _c=False: self.keep_value("a"))
        self.panel_b.keep.clicked.connect(lambda _c=False: self.keep_value("b"))
        lay, self.show_resolved, self.conflict_table = self.pair_layout(
            "两个站点都改过同一个字段时，先按时间较晚的值（A）生效，另一个值（B）保留在这里。"
            "选中一条，点“保留此值”决定用哪一个。",
            CONFLICT_COLUMNS,
            3,
            self._conflict_selected,
            self.panel_a,
            self.panel_b,
        )
        self.conflict_note = QLabel("")
        self.conflict_note.setObjectName("notice")
        lay.addWidget(self.conflict_note)

    def reader(self) -> Callable[[], tuple[list[Any], int]]:
        """What to read on the worker: the conflicts shown (open ones unless
        显示已处理) and how many are open."""
        return open_pairs(exchange.conflicts, self.db, self.show_resolved.isChecked())

    def show_conflicts(self, found: tuple[list[Any], int]) -> None:
        items, open_count = found
        selected = self.current_conflict()
        self.conflict_rows = items
        rows = []
        for c in items:
            color = None if c.status == "open" else QColor("#5b6b7f")
            rows.append(
                [
                    item(c.table_label),
                    item(c.record_label),
                    item(c.field_label),
                    item(c.a.value, tip=c.a.value),
                    item(
                        f"{c.a.station} · {fmt_short(c.a.at)}",
                        tip=f"{c.a.station_name}（{c.a.station}）" + (f" · {c.a.by}" if c.a.by else ""),
                    ),
                    item(c.b.value, tip=c.b.value),
                    item(
                        f"{c.b.station} · {fmt_short(c.b.at)}",
                        tip=f"{c.b.station_name}（{c.b.station}）" + (f" · {c.b.by}" if c.b.by else ""),
                    ),
                    item(c.status_label, color=color),
                ]
            )
        fill(self.conflict_table, rows, stretch=(3, 5))
        self.retitled.emit(f"冲突 {open_count}" if open_count else "冲突")
        if self.conflict_msg:
            self.conflict_note.setText(self.conflict_msg)
            self.conflict_msg = ""
        elif not items:
            self.conflict_note.setText("没有待处理的冲突。" if not self.show_resolved.isChecked() else "没有冲突记录。")
        else:
            self.conflict_note.setText("")
        reselect(self.conflict_table, items, selected)
        self._conflict_selected()

    def current_conflict(self) -> Any | None:
        return selected_item(self.conflict_table, self.conflict_rows)

    def _conflict_selected(self) -> None:
        c = self.current_conflict()
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
        self.update_buttons()

    def update_buttons(self) -> None:
        c = self.current_conflict()
        for panel in (self.panel_a, self.panel_b):
            panel.keep.setEnabled(self.may_exchange and c is not None and c.status == "open")

    def keep_value(self, keep: str) -> None:
        c = self.current_conflict()
        if c is None or c.status != "open":
            return
        db, actor, cid = self.db, self.actor, c.id

        def resolved(_r: Any) -> None:
            side = c.a if keep == "a" else c.b
            self.conflict_msg = f"已保留 {c.record_label} 的{c.field_label}：{side.value}"
            self.reload.emit()

        self.op(
            lambda: exchange.resolve_conflict(db, actor, cid, keep),
            resolved,
            [self.panel_a.keep, self.panel_b.keep],
            reload_on_error=True,
        )
