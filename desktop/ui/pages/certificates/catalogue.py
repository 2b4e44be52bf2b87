"""证明目录: the catalogue of certificate types (the national negative list,
the retained entries, 据实出具), the station's own types, and importing a
province/city catalogue file."""

from __future__ import annotations

import re
from typing import Any

from PySide6.QtWidgets import QComboBox, QDialog, QFormLayout, QLineEdit, QMessageBox, QPlainTextEdit, QVBoxLayout

from desktop.services import certificates as certs
from desktop.ui import files
from desktop.ui.errors import show_error
from desktop.ui.pages.base import Page
from desktop.ui.pages.certificates.common import RED
from desktop.ui.widgets import FormErrors, action_row, dialog_buttons, fill_table, hint, simple_table


class CertCatalogueDialog(QDialog):
    """The certificate catalogue: the national negative list, the retained
    entries (from the province/city file, or the station's own), 据实出具."""

    def __init__(self, page: Page):
        super().__init__(page)
        self.page = page
        self.setWindowTitle("证明目录")
        self.changed = False
        lay = QVBoxLayout(self)
        self.can_edit = page.actor.at_least(certs.APPROVER_ROLE)
        lay.addWidget(
            hint(
                "默认“可以出具”部分仅为示例：请导入本省、市公布的保留清单（JSON 目录文件）。"
                "本站新增的证明必须写明依据。" + ("" if self.can_edit else "（修改需要站长权限）")
            )
        )
        self.table = simple_table(["类别", "名称", "依据", "状态", "来源"], 2)
        self.table.cellDoubleClicked.connect(lambda r, _c: self.edit())
        lay.addWidget(self.table, 1)
        self.buttons = action_row(
            self,
            (("add", "新增本站证明"), ("edit", "修改"), ("toggle", "启用/停用"), ("import", "导入目录文件…")),
            self.act,
        )
        for b in self.buttons.values():
            b.setEnabled(self.can_edit)
        self.resize(980, 600)
        self.items: list[certs.CertTypeView] = []
        self.load()

    def load(self) -> None:
        db = self.page.db
        self.page.worker.run(
            lambda: certs.catalogue(db, include_inactive=True), self._show, lambda e: show_error(self, e)
        )

    def _show(self, items: list[certs.CertTypeView]) -> None:
        self.items = items
        fill_table(
            self.table,
            [
                [t.kind_label, t.name, t.basis[:60], "启用" if t.active else "停用", "本站新增" if t.local else "目录"]
                for t in self.items
            ],
        )
        for r, t in enumerate(self.items):
            if t.kind == "abolished":
                cell = self.table.item(r, 0)
                if cell is not None:
                    cell.setForeground(RED)

    def selected(self) -> certs.CertTypeView | None:
        r = self.table.currentRow()
        return self.items[r] if 0 <= r < len(self.items) else None

    def act(self, key: str, path: str | None = None) -> None:
        db, actor = self.page.db, self.page.actor
        t = self.selected()

        def changed(counts: dict[str, int] | None = None) -> None:
            if counts:
                QMessageBox.information(
                    self,
                    "目录已导入",
                    f"新增 {counts['added']} 项，更新 {counts['updated']} 项，"
                    f"停用 {counts['deactivated']} 项（本站新增的证明不受影响）。",
                )
            self.changed = True
            self.load()

        busy = list(self.buttons.values())
        if key == "add":
            if CertTypeDialog(self, None).exec():
                changed()
        elif key == "edit":
            self.edit()
        elif key == "toggle" and t is not None:
            self.page.worker.op(
                lambda: certs.set_type_active(db, actor, t.id, not t.active),
                lambda _r: changed(),
                busy=busy,
                parent=self,
            )
        elif key == "import":
            if path is None:
                path = files.open_file(self, "导入证明目录", "证明目录文件 (*.json)")
                if not path:
                    return
            self.page.worker.op(lambda: certs.import_catalogue(db, actor, path), changed, busy=busy, parent=self)

    def edit(self) -> None:
        t = self.selected()
        if t is None or not self.can_edit:
            return
        if not t.local:
            QMessageBox.information(
                self, "不能修改", "上级下发的目录条目不能在本站修改，只能启用或停用；本站新增的证明可以修改。"
            )
            return
        if CertTypeDialog(self, t).exec():
            self.changed = True
            self.load()


class CertTypeDialog(QDialog):
    def __init__(self, parent: CertCatalogueDialog, t: certs.CertTypeView | None):
        super().__init__(parent)
        self.parent_, self.t = parent, t
        self.setWindowTitle("修改本站证明" if t else "新增本站证明")
        lay = QVBoxLayout(self)
        form = QFormLayout()
        self.errors = FormErrors(form)
        self.name = QLineEdit(t.name if t else "")
        self.basis = QLineEdit(t.basis if t else "")
        self.purpose = QLineEdit(t.purpose if t else "")
        self.aliases = QLineEdit(t.aliases if t else "")
        self.approval = QComboBox()
        self.approval.addItems(["须站长审批", "当场开具"])
        self.approval.setCurrentIndex(0 if (t is None or t.needs_approval) else 1)
        self.materials = QLineEdit("、".join(t.materials) if t else "居民身份证、户口簿")
        self.fields = QLineEdit("、".join(f.label for f in t.fields if f.label != "用途") if t else "")
        self.fields.setPlaceholderText("本证明要填写的栏目，用顿号分隔；“用途”会自动加上")
        self.body = QPlainTextEdit(
            t.body
            if t
            else "兹证明{姓名}（公民身份号码：{身份证号}），住本社区{住址}。\n经核实，……\n此证明用于{用途}。"
        )
        self.body.setMinimumHeight(110)
        for key, label, w, note in (
            ("name", "证明名称", self.name, None),
            ("basis", "依据", self.basis, "法规条款或本省、市保留清单的名称和条目，必填。"),
            ("purpose", "说明", self.purpose, None),
            ("aliases", "别名", self.aliases, "用逗号分隔，便于查找。"),
            ("needs_approval", "开具方式", self.approval, None),
            ("materials", "核验材料", self.materials, None),
            ("fields", "栏目", self.fields, None),
            ("body", "正文", self.body, "可用 {姓名} {性别} {住址} {出生日期} {身份证号} 和上面的栏目，如 {用途}。"),
        ):
            self.errors.add(key, label, w, note)
        lay.addLayout(form)
        self.ok = dialog_buttons(self, "保存", self.submit)
        self.resize(700, 620)

    def submit(self) -> None:
        self.errors.clear()
        page = self.parent_.page

        def split(text: str) -> list[str]:
            return [x.strip() for x in re.split(r"[、,，;；\n]", text) if x.strip()]

        kw: dict[str, Any] = {
            "name": self.name.text(),
            "basis": self.basis.text(),
            "purpose": self.purpose.text(),
            "aliases": self.aliases.text(),
            "needs_approval": self.approval.currentIndex() == 0,
            "materials": split(self.materials.text()),
            "field_labels": split(self.fields.text()),
            "body": self.body.toPlainText(),
        }
        tid = self.t.id if self.t else None
        self.errors.submit(
            page.worker,
            lambda: certs.save_local_type(page.db, page.actor, tid, **kw),
            self,
            lambda _r: self.accept(),
            busy=[self.ok],
        )
