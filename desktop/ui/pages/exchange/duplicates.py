"""疑似重复居民: a resident a bundle brought whose ID number this station
already has; keep one record and merge the other into it, or mark them as
two people."""

from __future__ import annotations

from typing import Any, Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from db.engine import Database
from desktop.services.context import Actor
from desktop.services.sync import exchange
from desktop.ui.pages.exchange.common import ExchangeTab, fill, item, open_pairs, reselect, selected_item
from desktop.ui.widgets import fmt_local, fmt_short, scaled
from desktop.ui.worker import SerialWorker

DUPLICATE_COLUMNS = ["姓名", "证件号码", "本站记录", "数据包带来的记录", "发现时间", "状态"]


class ResidentPanel(QGroupBox):
    """One of two possibly duplicate resident records."""

    FIELDS = [
        ("name", "姓名"),
        ("doc", "证件号码"),
        ("origin", "登记站点"),
        ("household", "户 / 住址"),
        ("phone", "联系电话"),
        ("refs", "关联记录"),
    ]

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


class DuplicatesTab(ExchangeTab):
    def __init__(self, db: Database, actor: Actor, worker: SerialWorker, parent: QWidget | None = None):
        super().__init__(db, actor, worker, parent)
        self.duplicate_rows: list[Any] = []
        self.duplicate_msg = ""  # shown once after the next refresh
        self.left = ResidentPanel("左：本站的记录", "保留左边并合并")
        self.right = ResidentPanel("右：数据包带来的记录", "保留右边并合并")
        self.left.keep.clicked.connect(lambda _c=False: self.merge("a"))
        self.right.keep.clicked.connect(lambda _c=False: self.merge("b"))
        lay, self.show_decided, self.duplicate_table = self.pair_layout(
            "导入的数据包里有与本站居民证件号码相同的记录。核对后保留一条并合并，或确认不是同一人。",
            DUPLICATE_COLUMNS,
            0,
            self._duplicate_selected,
            self.left,
            self.right,
        )
        foot = QHBoxLayout()
        self.dismiss_btn = QPushButton("不是同一人")
        self.dismiss_btn.clicked.connect(lambda _c=False: self.dismiss())
        foot.addWidget(self.dismiss_btn)
        self.duplicate_note = QLabel("")
        self.duplicate_note.setObjectName("notice")
        foot.addWidget(self.duplicate_note, 1)
        lay.addLayout(foot)

    def reader(self) -> Callable[[], tuple[list[Any], int]]:
        """What to read on the worker: the pairs shown (open ones unless
        显示已处理) and how many are open."""
        return open_pairs(exchange.duplicates, self.db, self.show_decided.isChecked())

    def show_duplicates(self, found: tuple[list[Any], int]) -> None:
        items, open_count = found
        selected = self.current_duplicate()
        self.duplicate_rows = items
        rows = []
        for d in items:
            rows.append(
                [
                    item(d.a.name if d.a.name == d.b.name else f"{d.a.name} / {d.b.name}"),
                    item(d.a.masked_doc),
                    item(d.a.origin_name, tip=f"{d.a.origin_name}（{d.a.origin}）"),
                    item(d.b.origin_name, tip=f"{d.b.origin_name}（{d.b.origin}）"),
                    item(fmt_short(d.found_at), tip=fmt_local(d.found_at)),
                    item(d.status_label),
                ]
            )
        fill(self.duplicate_table, rows)
        self.retitled.emit(f"疑似重复居民 {open_count}" if open_count else "疑似重复居民")
        if self.duplicate_msg:
            self.duplicate_note.setText(self.duplicate_msg)
            self.duplicate_msg = ""
        elif not items:
            self.duplicate_note.setText(
                "没有待处理的疑似重复居民。" if not self.show_decided.isChecked() else "没有疑似重复记录。"
            )
        else:
            self.duplicate_note.setText("")
        reselect(self.duplicate_table, items, selected)
        self._duplicate_selected()

    def current_duplicate(self) -> Any | None:
        return selected_item(self.duplicate_table, self.duplicate_rows)

    def _duplicate_selected(self) -> None:
        d = self.current_duplicate()
        self.left.show_resident(d.a if d else None)
        self.right.show_resident(d.b if d else None)
        self.update_buttons()

    def update_buttons(self) -> None:
        d = self.current_duplicate()
        can = self.may_exchange and d is not None and d.status == "open"
        self.left.keep.setEnabled(can)
        self.right.keep.setEnabled(can)
        self.dismiss_btn.setEnabled(can)

    def merge(self, keep: str, confirm: bool = True) -> None:
        d = self.current_duplicate()
        if d is None or d.status != "open":
            return
        survivor, other = (d.a, d.b) if keep == "a" else (d.b, d.a)
        if confirm:
            text = (
                f"保留{'左边' if keep == 'a' else '右边'}的记录：{survivor.name}（{survivor.origin_name}登记），"
                f"合并另一条（{other.origin_name}登记）。\n\n"
                "合并后：\n"
                "· 另一条记录不再出现在查询中，只留下一个指向保留记录的标记；\n"
                f"· 它名下的 {other.references} 条事项、证明、志愿服务需求等记录转到保留的这条记录下；\n"
                "· 合并会随下次数据交换同步到其他站点。\n\n"
                "请先核对两条确属同一人。确定合并吗？"
            )
            answer = QMessageBox.question(
                self,
                "合并重复居民",
                text,
                QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                QMessageBox.StandardButton.No,
            )
            if answer != QMessageBox.StandardButton.Yes:
                return
        db, actor, did, sid = self.db, self.actor, d.id, survivor.id

        def merged(_r: Any) -> None:
            self.duplicate_msg = f"已合并：保留 {survivor.origin_name} 登记的 {survivor.name}。"
            self.reload.emit()

        self.op(
            lambda: exchange.merge_duplicate(db, actor, did, sid),
            merged,
            [self.left.keep, self.right.keep, self.dismiss_btn],
            reload_on_error=True,
        )

    def dismiss(self) -> None:
        d = self.current_duplicate()
        if d is None or d.status != "open":
            return
        db, actor, did = self.db, self.actor, d.id

        def dismissed(_r: Any) -> None:
            self.duplicate_msg = f"已标记：{d.a.name} 的两条记录不是同一人，不再提示。"
            self.reload.emit()

        self.op(
            lambda: exchange.dismiss_duplicate(db, actor, did),
            dismissed,
            [self.left.keep, self.right.keep, self.dismiss_btn],
            reload_on_error=True,
        )
