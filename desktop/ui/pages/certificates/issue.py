"""The issue panel: the chosen retained type's form (its fields, the
materials to check, copies), the resident, and 开具并打印 (or 提交站长审批
for a type that needs the station head)."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QStringListModel, Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QCompleter,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from db.engine import Database
from desktop.services import certificates as certs
from desktop.services.context import Actor
from desktop.services.search import ResidentIndex
from desktop.ui.errors import show_error
from desktop.ui.pages.certificates.common import CertTab, glyphs
from desktop.ui.pickers import ResidentPicker
from desktop.ui.widgets import FormErrors, hint, primary, scaled
from desktop.ui.worker import SerialWorker


class ChoiceCompleter(QCompleter):
    """Suggestions that step aside once the text is one of them: nothing is
    left to choose, so the next key (Tab, F8) goes to the form, not the list."""

    def splitPath(self, path: str) -> list[str]:  # noqa: N802
        model = self.model()
        if isinstance(model, QStringListModel) and path in model.stringList():
            return ["\0"]  # matches nothing: the popup closes
        return super().splitPath(path)


class IssuePanel(CertTab):
    """``done`` after a certificate is issued or submitted (the page starts
    the next resident and refreshes); ``refused_as`` with a type id when the
    service found the request on the negative list and refused it instead."""

    done = Signal()
    refused_as = Signal(object)

    def __init__(
        self, db: Database, actor: Actor, worker: SerialWorker, index: ResidentIndex, parent: QWidget | None = None
    ):
        super().__init__(db, actor, worker, parent)
        self.type: certs.CertTypeView | None = None
        self.purposes = QStringListModel(list(certs.DEFAULT_PURPOSES))  # suggestions for 用途
        lay = QHBoxLayout(self)
        left = QVBoxLayout()
        self.i_title = QLabel()
        scaled(self.i_title, 4, True)
        self.i_info = hint("")
        left.addWidget(self.i_title)
        left.addWidget(self.i_info)
        self.picker = ResidentPicker(index, worker=worker)
        left.addWidget(self.picker, 1)
        lay.addLayout(left, 1)
        right = QVBoxLayout()
        self.form = QFormLayout()
        self.errors = FormErrors(self.form)
        self.field_edits: dict[str, Any] = {}  # QLineEdit, or QComboBox for a choice
        right.addLayout(self.form)
        self.materials = QListWidget()
        self.materials.setMaximumHeight(96)
        head = QHBoxLayout()
        head.addWidget(QLabel("核验材料（全部核验后才能开具）"), 1)
        self.all_btn = QPushButton("材料齐全 (F8)")
        self.all_btn.setToolTip("全部材料已核验：一次勾选")
        self.all_btn.setShortcut("F8")
        self.all_btn.clicked.connect(lambda _c=False: self.tick_all())
        head.addWidget(self.all_btn)
        right.addLayout(head)
        right.addWidget(self.materials)
        row = QHBoxLayout()
        self.copies = QSpinBox()
        self.copies.setRange(1, 10)
        self.copies.setSuffix(" 份")
        row.addWidget(QLabel("份数"))
        row.addWidget(self.copies)
        row.addStretch(1)
        self.issue_btn = primary("开具并打印")
        self.issue_btn.setDefault(False)
        self.issue_btn.clicked.connect(lambda _c=False: self.issue())
        row.addWidget(self.issue_btn)
        right.addLayout(row)
        self.message = QLabel()
        self.message.setObjectName("error")
        self.message.setWordWrap(True)
        right.addWidget(self.message)
        lay.addLayout(right, 1)

    def load_purposes(self) -> None:
        """用途 suggestions: the station's common purposes."""
        db = self.db
        self.worker.run(lambda: certs.common_purposes(db), self.purposes.setStringList, lambda _e: None)

    def show_type(self, t: certs.CertTypeView) -> None:
        """The form of retained type ``t``: its fields, materials and button."""
        self.type = t
        approval = "须站长审批" if t.needs_approval else "当场开具"
        self.i_title.setText(f"{t.name}　[{t.kind_label} · {approval}]")
        self.i_info.setText(f"{t.purpose}\n依据：{t.basis}")
        while self.form.rowCount():
            self.form.removeRow(0)
        self.errors = FormErrors(self.form)
        self.field_edits = {}
        for f in t.fields:
            e: QLineEdit | QComboBox
            if f.choices:  # 据实出具: what it certifies comes from a short list
                e = QComboBox()
                e.addItems(list(f.choices))
            else:
                e = QLineEdit()
                e.setMaxLength(certs.MAX_VALUE)
                if f.key == "purpose":
                    e.setPlaceholderText("输入一两个字，可从常用用途中选")
                    suggest = ChoiceCompleter(self.purposes, e)
                    suggest.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
                    suggest.setFilterMode(Qt.MatchFlag.MatchContains)
                    e.setCompleter(suggest)
            self.errors.add(f.key, f.label + ("" if f.required else "（选填）"), e)
            self.field_edits[f.key] = e
        if t.kind == "factual":
            reason = QLineEdit()
            reason.setPlaceholderText("为什么需要出具（会记录在台账中）")
            self.errors.add("reason", "出具理由", reason)
            self.field_edits["reason"] = reason
        self.materials.clear()
        for m in t.materials:
            item = QListWidgetItem(m)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Unchecked)
            self.materials.addItem(item)
        needs_sup = t.needs_approval and not self.actor.at_least(certs.APPROVER_ROLE)
        self.issue_btn.setText("提交站长审批" if needs_sup else "开具并打印")

    def clear(self) -> None:
        """Nobody picked, nothing ticked, empty fields, one copy."""
        self.picker.clear()
        for e in self.field_edits.values():
            if isinstance(e, QLineEdit):
                e.clear()
            else:  # a choice (据实出具's facts): back to the first
                e.setCurrentIndex(0)
        for i in range(self.materials.count()):
            self.materials.item(i).setCheckState(Qt.CheckState.Unchecked)
        self.copies.setValue(1)

    def unsaved(self) -> bool:
        """Typed text, or a 据实出具 choice moved off its first entry."""
        return any(
            e.text().strip() if isinstance(e, QLineEdit) else e.currentIndex() > 0 for e in self.field_edits.values()
        )

    def tick_all(self) -> None:
        for i in range(self.materials.count()):
            self.materials.item(i).setCheckState(Qt.CheckState.Checked)

    def _seen(self) -> list[str]:
        return [
            self.materials.item(i).text()
            for i in range(self.materials.count())
            if self.materials.item(i).checkState() == Qt.CheckState.Checked
        ]

    def issue(self) -> None:
        t = self.type
        if t is None or t.kind == "abolished":
            return
        self.errors.clear()
        self.message.clear()
        rid = self.picker.resident_id
        if rid is None:
            self.message.setText("请先选择居民。")
            self.picker.edit.setFocus()
            return
        values = {
            k: (e.currentText() if isinstance(e, QComboBox) else e.text())
            for k, e in self.field_edits.items()
            if k != "reason"
        }
        reason = self.field_edits["reason"].text() if "reason" in self.field_edits else ""
        db, actor, seen, copies = self.db, self.actor, self._seen(), self.copies.value()
        from db.errors import ValidationError

        def failed(e: BaseException) -> None:
            if isinstance(e, ValidationError):
                if not self.errors.show(e.field, e.user_message):
                    self.message.setText(e.user_message)
                return
            show_error(self, e)
            if isinstance(e, certs.NegativeListMatch):  # refused with that item's notice, not issued
                self.refused_as.emit(e.type_id)

        self.worker.op(
            lambda: certs.issue(db, actor, rid, t.id, values, seen, copies, reason, glyphs=glyphs),
            self._issued,
            busy=[self.issue_btn],
            on_error=failed,
            label="正在开具…",
            parent=self,
        )

    def _issued(self, res: certs.Issued) -> None:
        self.done.emit()
        if res.status == "pending":
            QMessageBox.information(
                self,
                "已提交审批",
                "这类证明须站长审批，已放入“待审批”。请站长在本机登录（F12 锁屏 → 切换用户）后同意，即可开具打印。",
            )
            return
        self.printing.emit(res.id)
