"""家庭成员: a resident's household — members, head, relations — and moving
a member to another household or into a new one."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QFormLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QLineEdit,
    QListWidget,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from db.engine import Database
from desktop.services import households
from desktop.services.context import Actor
from desktop.services.vocab import RELATIONS
from desktop.services.textsearch import MAX_QUERY
from desktop.ui.errors import show_error
from desktop.ui.widgets import FormErrors, action_row, dialog_buttons, fmt_age, hint, scaled
from desktop.ui.worker import SerialWorker


class HouseholdDialog(QDialog):
    def __init__(
        self, parent: QWidget | None, db: Database, actor: Actor, worker: SerialWorker, resident_id: uuid.UUID
    ):
        super().__init__(parent)
        self.db, self.actor, self.worker, self.resident_id = db, actor, worker, resident_id
        self.setWindowTitle("家庭成员")
        self.changed = False
        lay = QVBoxLayout(self)
        self.title = QLabel()
        scaled(self.title, 3, True)
        lay.addWidget(self.title)
        self.table = QTableWidget(0, 5)
        self.table.setHorizontalHeaderLabels(["姓名", "与户主关系", "年龄", "证件号码", "状态"])
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.horizontalHeader().setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        lay.addWidget(self.table, 1)
        lay.addWidget(hint("选中一位成员，再点下面的按钮。户主变更后，原户主的关系会变为“其他”，请重新选择。"))
        self.buttons = action_row(
            self,
            (("head", "设为户主"), ("relation", "修改关系…"), ("move", "迁入其他户…"), ("new", "单独立户…")),
            self.act,
        )
        self.resize(760, 440)
        self.view: households.HouseholdView | None = None
        self.members: list[households.Member] = []
        self.load()

    def load(self) -> None:
        db, rid = self.db, self.resident_id
        self.worker.op(lambda: households.of_resident(db, rid), self._show, busy=self.buttons.values(), parent=self)

    def _show(self, view: households.HouseholdView | None) -> None:
        self.view = view
        if self.view is None:
            self.title.setText("这位居民还没有归户")
            self.table.setRowCount(0)
            for k in ("head", "relation"):
                self.buttons[k].setEnabled(False)
            self.members = []
            return
        v = self.view
        self.title.setText(f"{v.summary()}　{v.address}")
        self.members = v.members
        self.table.setRowCount(len(v.members))
        select_row = 0
        for r, m in enumerate(v.members):
            for c, text in enumerate([m.name, m.relation or "—", fmt_age(m.birth_date), m.doc_masked or "—", m.status]):
                self.table.setItem(r, c, QTableWidgetItem(text))
            if m.id == self.resident_id:
                select_row = r
        self.table.selectRow(select_row)

    def selected(self) -> households.Member | None:
        row = self.table.currentRow()
        return self.members[row] if 0 <= row < len(self.members) else None

    def _run(self, fn: Callable[[], object]) -> None:
        def done(_r: object) -> None:
            self.changed = True
            self.load()

        self.worker.op(fn, done, busy=self.buttons.values(), parent=self)

    def act(self, key: str) -> None:
        db, actor = self.db, self.actor
        m = self.selected()
        rid = m.id if m else self.resident_id
        if key == "head" and m and self.view:
            hid = self.view.id
            self._run(lambda: households.set_head(db, actor, hid, rid))
        elif key == "relation" and m:
            choices = [x for x in RELATIONS if x != households.HEAD]
            rel, ok = QInputDialog.getItem(
                self,
                "修改关系",
                f"{m.name} 与户主的关系：",
                choices,
                max(0, choices.index(m.relation)) if m.relation in choices else 0,
                False,
            )
            if ok:
                self._run(lambda: households.set_relation(db, actor, rid, rel))
        elif key == "move":
            dlg = MoveDialog(self, rid)
            if dlg.exec():
                self.changed = True
                self.load()
        elif key == "new":
            number, ok = QInputDialog.getText(self, "单独立户", "新户号（留空自动编号）：")
            if ok:
                self._run(lambda: households.new_household(db, actor, rid, number))


class MoveDialog(QDialog):
    """Find the target household by number, address or head's name."""

    def __init__(self, parent: HouseholdDialog, resident_id: uuid.UUID):
        super().__init__(parent)
        self.parent_, self.resident_id = parent, resident_id
        self.setWindowTitle("迁入其他户")
        lay = QVBoxLayout(self)
        form = QFormLayout()
        self.errors = FormErrors(form)
        self.query = QLineEdit()
        self.query.setMaxLength(MAX_QUERY)  # searched as typed, on the UI thread
        self.query.setPlaceholderText("户号、地址或户主姓名")
        self.query.textChanged.connect(self._search)
        self.list = QListWidget()
        self.relation = QComboBox()
        self.relation.addItems(list(RELATIONS))
        self.relation.setCurrentIndex(RELATIONS.index("其他"))
        self.errors.add("household", "迁入到", self.query)
        form.addRow("", self.list)
        self.errors.add("relation", "与户主关系", self.relation)
        lay.addLayout(form)
        self.ok = dialog_buttons(self, "迁入", self.submit)
        self.found: list[households.HouseholdView] = []
        self.shown_query = ""  # the text whose households the list shows
        self.resize(560, 420)

    def _search(self, text: str) -> None:
        """Search on the worker (18–36 ms a keystroke at 100 000 residents);
        the hits of an earlier text are dropped when they come back."""
        db, here = self.parent_.db, self.parent_.view.id if self.parent_.view else None
        self.parent_.worker.run(
            lambda: [h for h in households.search(db, text) if h.id != here],
            lambda found: self._show(text, found),
            lambda e: show_error(self, e),
        )

    def _show(self, text: str, found: list[households.HouseholdView]) -> None:
        if text != self.query.text():
            return
        self.shown_query, self.found = text, found
        self.list.clear()
        for h in self.found:
            self.list.addItem(f"{h.summary()}　{h.address}")
        if self.found:
            self.list.setCurrentRow(0)

    def submit(self) -> None:
        self.errors.clear()
        row = self.list.currentRow()
        if self.shown_query != self.query.text():
            self.errors.show("household", "正在查找，请稍候再点“迁入”。")
            return
        if not 0 <= row < len(self.found):
            self.errors.show("household", "请先查找并选中要迁入的户。")
            return
        p, hid, rid, rel = self.parent_, self.found[row].id, self.resident_id, self.relation.currentText()
        self.errors.submit(
            p.worker,
            lambda: households.move(p.db, p.actor, rid, hid, rel),
            self,
            lambda _r: self.accept(),
            busy=[self.ok],
        )
