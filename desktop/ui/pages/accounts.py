from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
)

from desktop.services import accounts
from desktop.services.vocab import ROLES
from desktop.ui.pages.base import Page
from desktop.ui.widgets import FormErrors, dialog_buttons, fmt_datetime, hint, primary


class NewAccountDialog(QDialog):
    def __init__(self, page: AccountsPage):
        super().__init__(page)
        self.page = page
        self.setWindowTitle("新建账户")
        self.setMinimumWidth(460)
        lay = QVBoxLayout(self)
        form = QFormLayout()
        self.errors = FormErrors(form)
        self.username = QLineEdit()
        self.username.setMaxLength(32)
        self.display = QLineEdit()
        self.display.setMaxLength(32)
        self.role = QComboBox()
        for key, label in ROLES.items():
            self.role.addItem(label, key)
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.errors.add("username", "用户名", self.username, "英文字母、数字，登录时使用。")
        self.errors.add("display_name", "姓名", self.display)
        self.errors.add("role", "角色", self.role)
        self.errors.add("password", "初始密码", self.password, "至少 8 位，同时包含字母和数字。")
        lay.addLayout(form)
        self.ok = dialog_buttons(self, "新建", self.submit)

    def submit(self) -> None:
        self.errors.clear()
        p = self.page
        args = dict(
            username=self.username.text(),
            display_name=self.display.text(),
            role=self.role.currentData(),
            password=self.password.text(),
        )
        self.errors.submit(
            p.worker,
            lambda: accounts.create_account(p.db, p.actor, **args),
            self,
            lambda _r: self.accept(),
            busy=[self.ok],
        )


class AccountsPage(Page):
    title = "账户"
    min_role = "supervisor"

    def __init__(self, *args: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        is_admin = self.actor.at_least("admin")
        self.layout_.addWidget(hint("站长可以查看账户、解除锁定；管理员还可以新建账户、变更角色、重置密码和停用账户。"))
        self.table = QTableWidget(0, 5)
        self.table.setHorizontalHeaderLabels(["用户名", "姓名", "角色", "状态", "最近登录"])
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.layout_.addWidget(self.table, 1)
        row = QHBoxLayout()
        self.new = primary("新建账户")
        self.role = QPushButton("变更角色")
        self.reset = QPushButton("重置密码")
        self.toggle = QPushButton("停用 / 启用")
        self.toggle.setProperty("danger", True)
        self.unlock = QPushButton("解除锁定")
        for b in (self.new, self.role, self.reset, self.toggle):
            b.setVisible(is_admin)
        self.new.setDefault(False)
        for b in (self.new, self.role, self.reset, self.toggle, self.unlock):
            row.addWidget(b)
        row.addStretch(1)
        self.layout_.addLayout(row)
        self.new.clicked.connect(self._new)
        self.role.clicked.connect(self._role)
        self.reset.clicked.connect(self._reset)
        self.toggle.clicked.connect(self._toggle)
        self.unlock.clicked.connect(self._unlock)
        self.rows: list[accounts.AccountInfo] = []

        # Who issues the station's papers: the committee, beside the centre's name.
        issuer = QGroupBox("出具单位（证明、告知单、志愿服务记录证明的落款与印章）")
        iform = QFormLayout(issuer)
        self.issuer_errors = FormErrors(iform)
        self.committee = QLineEdit()
        self.party_org = QLineEdit()
        self.station_phone = QLineEdit()
        for w, n in ((self.committee, 64), (self.party_org, 64), (self.station_phone, 32)):
            w.setMaxLength(n)
            w.setMaximumWidth(420)
            w.setEnabled(is_admin)
        self.issuer_errors.add("committee", "居（村）民委员会", self.committee)
        self.issuer_errors.add("party_org", "社区党组织（党务证明）", self.party_org)
        self.issuer_errors.add("phone", "咨询电话", self.station_phone)
        self.save_issuer = QPushButton("保存出具单位")
        self.save_issuer.setVisible(is_admin)
        self.save_issuer.clicked.connect(lambda _c=False: self._save_issuer())
        srow = QHBoxLayout()
        srow.addWidget(self.save_issuer)
        srow.addWidget(hint("党群服务中心是办理地点，不是出具单位；不填则按站点名称推定。"), 1)
        iform.addRow("", srow)
        self.layout_.addWidget(issuer)

    def activated(self) -> None:
        db, actor = self.db, self.actor
        self.worker.run(lambda: accounts.list_accounts(db, actor), self._show)
        self.worker.run(lambda: accounts.station_info(db), self._show_issuer)

    def _show_issuer(self, info: accounts.StationInfo | None) -> None:
        if info is not None:
            self.committee.setText(info.committee)
            self.party_org.setText(info.party_org)
            self.station_phone.setText(info.phone or "")

    def _save_issuer(self) -> None:
        self.issuer_errors.clear()
        db, actor = self.db, self.actor
        args = dict(committee=self.committee.text(), party_org=self.party_org.text(), phone=self.station_phone.text())
        ok, info = self.issuer_errors.attempt(self.worker, lambda: accounts.update_station(db, actor, **args), self)
        if ok:
            self._show_issuer(info)

    def _show(self, rows: list[accounts.AccountInfo]) -> None:
        self.rows = rows
        self.table.setRowCount(len(rows))
        for i, a in enumerate(rows):
            state = "已停用" if not a.active else ("已锁定" if a.locked else "正常")
            for j, text in enumerate([a.username, a.display_name, a.role_label, state, fmt_datetime(a.last_login_at)]):
                self.table.setItem(i, j, QTableWidgetItem(text))

    def selected(self) -> accounts.AccountInfo | None:
        i = self.table.currentRow()
        if 0 <= i < len(self.rows):
            return self.rows[i]
        QMessageBox.information(self, "请选择账户", "请先在表格中选择一个账户。")
        return None

    def _do(self, fn: Callable[[], object], done_message: str = "") -> None:
        def finished(_: object) -> None:
            self.activated()
            if done_message:
                QMessageBox.information(self, "已完成", done_message)

        self.worker.op(fn, finished, busy=[self.role, self.reset, self.toggle, self.unlock], parent=self)

    def _new(self) -> None:
        if NewAccountDialog(self).exec():
            self.activated()

    def _role(self) -> None:
        a = self.selected()
        if not a:
            return
        labels = list(ROLES.values())
        label, ok = QInputDialog.getItem(
            self, "变更角色", f"{a.display_name}（{a.username}）的新角色：", labels, labels.index(a.role_label), False
        )
        if ok:
            role = next(k for k, v in ROLES.items() if v == label)
            db, actor = self.db, self.actor
            self._do(lambda: accounts.change_role(db, actor, a.id, role))

    def _reset(self) -> None:
        a = self.selected()
        if not a:
            return
        pw, ok = QInputDialog.getText(
            self, "重置密码", f"为 {a.display_name}（{a.username}）设置新密码：", QLineEdit.EchoMode.Password
        )
        if ok:
            db, actor = self.db, self.actor
            self._do(lambda: accounts.reset_password(db, actor, a.id, pw), "密码已重置，请当面告知本人。")

    def _toggle(self) -> None:
        a = self.selected()
        if not a:
            return
        verb = "启用" if not a.active else "停用"
        if (
            QMessageBox.question(self, f"{verb}账户", f"确定要{verb} {a.display_name}（{a.username}）吗？")
            != QMessageBox.StandardButton.Yes
        ):
            return
        db, actor = self.db, self.actor
        self._do(lambda: accounts.set_active(db, actor, a.id, not a.active))

    def _unlock(self) -> None:
        a = self.selected()
        if not a:
            return
        db, actor = self.db, self.actor
        self._do(lambda: accounts.unlock(db, actor, a.id), f"{a.display_name} 的账户已解除锁定。")
