from __future__ import annotations

from PySide6.QtCore import Signal
from datetime import date
from typing import Any

from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QFrame,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QWidget,
)

from desktop.services import accounts, workdays
from desktop.settings import LIMITS, Settings
from desktop.ui import files
from desktop.ui.pages.base import Page
from desktop.ui.widgets import FormErrors, hint, primary


class SettingsPage(Page):
    title = "设置"
    font_size_changed = Signal(int)
    idle_minutes_changed = Signal(int)

    def __init__(self, *args: Any, settings: Settings, location: str, paths_note: str, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.settings = settings
        # Two columns of groups in a scroll area: they fit 1366x768 at the
        # default font and at 14 pt, and larger fonts scroll instead of overlapping.
        body = QWidget()
        body.setObjectName("pageBody")
        grid = QGridLayout(body)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setSpacing(12)
        scroll = QScrollArea()
        scroll.setObjectName("pageScroll")
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(body)
        self.layout_.addWidget(scroll, 1)
        look = QGroupBox("显示与安全")
        form = QFormLayout(look)
        self.font_size = QSpinBox()
        self.font_size.setRange(*LIMITS["font_size"])
        self.font_size.setSuffix(" 磅")
        self.font_size.setValue(settings["font_size"])
        self.font_size.valueChanged.connect(self._font)
        self.font_size.setMaximumWidth(200)
        form.addRow("字号", self.font_size)
        form.addRow("", hint("字号越大越清楚；立即生效。"))
        self.idle = QSpinBox()
        self.idle.setRange(*LIMITS["idle_lock_minutes"])
        self.idle.setSuffix(" 分钟")
        self.idle.setSpecialValueText("从不")
        self.idle.setValue(settings["idle_lock_minutes"])
        self.idle.valueChanged.connect(self._idle)
        self.idle.setMaximumWidth(200)
        form.addRow("无操作自动锁屏", self.idle)
        form.addRow("", hint("离开座位时，居民信息不会留在屏幕上。也可以随时按 F12 锁屏。"))
        grid.addWidget(look, 0, 0)

        pw = QGroupBox("修改我的密码")
        pform = QFormLayout(pw)
        self.errors = FormErrors(pform)
        self.old = QLineEdit()
        self.new = QLineEdit()
        self.new2 = QLineEdit()
        for w in (self.old, self.new, self.new2):
            w.setEchoMode(QLineEdit.EchoMode.Password)
            w.setMaxLength(128)
            w.setMaximumWidth(420)
        self.errors.add("old_password", "原密码", self.old)
        self.errors.add("password", "新密码", self.new, "至少 8 位，同时包含字母和数字。")
        self.errors.add("password2", "再次输入新密码", self.new2)
        self.change = primary("修改密码")
        self.change.setDefault(False)
        self.change.clicked.connect(self._change_password)
        self.done = QLabel()
        self.done.setObjectName("notice")
        row = QHBoxLayout()
        row.addWidget(self.change)
        row.addStretch(1)
        pform.addRow("", row)
        pform.addRow("", self.done)
        grid.addWidget(pw, 1, 0)

        paper = QGroupBox("打印与节假日")
        pf = QFormLayout(paper)
        self.receipt_layout = QComboBox()
        for code, label in (("A4", "A4 纸"), ("A5", "A5 纸"), ("80mm", "80 毫米热敏小票")):
            self.receipt_layout.addItem(label, code)
        self.receipt_layout.setCurrentIndex(max(0, self.receipt_layout.findData(settings["receipt_layout"])))
        self.receipt_layout.currentIndexChanged.connect(
            lambda _i: self.settings.set("receipt_layout", self.receipt_layout.currentData())
        )
        self.receipt_layout.setMaximumWidth(280)
        pf.addRow("受理回执纸张", self.receipt_layout)
        self.holidays = QLabel()
        self.holidays.setWordWrap(True)
        self.import_holidays = QPushButton("导入节假日文件…")
        self.import_holidays.setEnabled(self.actor.at_least("supervisor"))
        self.import_holidays.setToolTip("需要站长权限。文件格式见 docs/holidays.md。")
        self.import_holidays.clicked.connect(lambda _c=False: self._import_holidays())
        pf.addRow("节假日", self.holidays)
        hrow = QHBoxLayout()
        hrow.addWidget(self.import_holidays)
        hrow.addStretch(1)
        pf.addRow("", hrow)
        pf.addRow(
            "",
            hint(
                "承诺办结日期和整改期限按工作日计算：除去周末和法定节假日，加上调休上班日。"
                "每年国务院公布次年安排后，请导入新的节假日文件。"
            ),
        )
        grid.addWidget(paper, 0, 1)

        where = QGroupBox("数据")
        wl = QFormLayout(where)
        loc = QLabel(location)
        loc.setWordWrap(True)
        wl.addRow("数据库", loc)
        wl.addRow("", hint(paths_note))
        grid.addWidget(where, 1, 1)
        grid.setRowStretch(2, 1)
        grid.setColumnStretch(0, 1)
        grid.setColumnStretch(1, 1)

    def activated(self) -> None:
        db = self.db
        self.worker.run(lambda: workdays.load(db), self._show_calendar)

    def _show_calendar(self, cal: workdays.Calendar) -> None:
        years = sorted(cal.years)
        today = date.today()
        text = "已收录 " + "、".join(f"{y} 年" for y in years) if years else "尚未收录任何年份"
        if today.year + 1 not in cal.years and today.month >= 11:
            text += f"。{today.year + 1} 年的安排还没有导入，明年的日期只按周末计算。"
        self.holidays.setText(text)

    def _import_holidays(self, path: str | None = None) -> None:
        if path is None:
            path = files.open_file(self, "导入节假日文件", "节假日文件 (*.json)")
            if not path:
                return
        db, actor = self.db, self.actor

        def imported(n: int) -> None:
            QMessageBox.information(self, "节假日已更新", f"已导入 {n} 个节假日和调休上班日。")
            self.activated()

        self.worker.op(
            lambda: workdays.import_file(db, actor, path), imported, busy=[self.import_holidays], parent=self
        )

    def unsaved(self) -> bool:
        return any(w.text() for w in (self.old, self.new, self.new2))

    def _font(self, value: int) -> None:
        self.settings.set("font_size", value)
        self.font_size_changed.emit(value)

    def _idle(self, value: int) -> None:
        self.settings.set("idle_lock_minutes", value)
        self.idle_minutes_changed.emit(value)

    def _change_password(self) -> None:
        self.errors.clear()
        self.done.clear()
        if self.new.text() != self.new2.text():
            self.errors.show("password2", "两次输入的新密码不一致。")
            return
        db, actor, old, new = self.db, self.actor, self.old.text(), self.new.text()

        def changed(_r: object) -> None:
            for w in (self.old, self.new, self.new2):
                w.clear()
            self.done.setText("密码已修改。下次登录请使用新密码。")

        self.errors.submit(
            self.worker, lambda: accounts.change_own_password(db, actor, old, new), self, changed, busy=[self.change]
        )
