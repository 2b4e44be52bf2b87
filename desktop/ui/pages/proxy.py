"""代办: matters proxy agents (代办员) take for residents of their village
group — registered through the counter's acceptance, stepped as they
happen (转交 → 结果取回 → 交还居民), the 原件交接单 printed — the agents, and
the monthly 登记/办理/回复 ledger as Excel."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from PySide6.QtCore import QDate, QDateTime, Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QCompleter,
    QDateEdit,
    QDateTimeEdit,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from db.engine import Database
from db.localtime import to_utc
from desktop.services import counter, proxy
from desktop.services.context import Actor
from desktop.services.search import ResidentIndex
from desktop.ui import files
from desktop.ui.errors import show_error
from desktop.ui.pages.base import Page
from desktop.ui.pickers import ResidentPicker
from desktop.ui.widgets import (
    FormErrors,
    dialog_buttons,
    fill_table,
    fmt_date,
    fmt_datetime,
    hint,
    primary,
    scaled,
    simple_table,
)
from desktop.ui.worker import SerialWorker

# Where proxy agents usually take matters (the field stays free text).
DESTINATIONS = (
    "镇（街道）便民服务中心",
    "县（区）政务服务中心",
    "镇民政办",
    "镇社保所",
    "派出所户籍窗口",
    "镇卫生院",
    "县残联",
    "县医保局",
)


class ProxyPage(Page):
    title = "代办"

    def __init__(
        self,
        db: Database,
        actor: Actor,
        worker: SerialWorker,
        parent: QWidget | None = None,
        *,
        index: ResidentIndex | None = None,
    ) -> None:
        super().__init__(db, actor, worker, parent)
        self.index = index
        self.cases: list[proxy.CaseRow] = []
        self.agent_rows: list[proxy.AgentRow] = []
        self.tabs = QTabWidget()
        # open matters
        cw = QWidget()
        cl = QVBoxLayout(cw)
        row = QHBoxLayout()
        self.new_btn = primary("登记代办 (F2)")
        self.new_btn.setDefault(False)
        self.new_btn.setShortcut("F2")
        self.new_btn.clicked.connect(lambda _c=False: self.register())
        self.step_btn = QPushButton("下一步…")
        self.step_btn.setToolTip("为选中的代办登记下一步（也可以双击这一行）")
        self.step_btn.clicked.connect(lambda _c=False: self.next_step())
        # wide enough for the longest step's name (the text follows the selected row)
        self.step_btn.setMinimumWidth(self.step_btn.fontMetrics().horizontalAdvance("登记结果取回…") + 48)
        self.slip_btn = QPushButton("打印原件交接单")
        self.slip_btn.clicked.connect(lambda _c=False: self.print_slip())
        self.show_done = QCheckBox("显示近 60 天已交还的")
        self.show_done.toggled.connect(lambda _on: self.refresh())
        for w in (self.new_btn, self.step_btn, self.slip_btn):
            row.addWidget(w)
        row.addStretch(1)
        row.addWidget(self.show_done)
        cl.addLayout(row)
        self.case_table = simple_table(
            [
                "回执编号",
                "委托人",
                "事项",
                "代办员",
                "村民小组/网格",
                "收件时间",
                "承诺办结",
                "当前状态",
                "下一步",
                "转交去向",
            ],
            2,
        )
        self.case_table.cellDoubleClicked.connect(lambda _r, _c: self.next_step())
        self.case_table.currentCellChanged.connect(lambda *_a: self._update_step_button())
        cl.addWidget(self.case_table, 1)
        self.note = hint("")
        self.note.setWordWrap(True)
        cl.addWidget(self.note)
        self.tabs.addTab(cw, "在办代办")
        # agents
        aw = QWidget()
        al = QVBoxLayout(aw)
        arow = QHBoxLayout()
        self.add_agent_btn = QPushButton("新增代办员…")
        self.add_agent_btn.clicked.connect(lambda _c=False: self.edit_agent(None))
        self.edit_agent_btn = QPushButton("修改…")
        self.edit_agent_btn.clicked.connect(lambda _c=False: self.edit_agent(self._agent()))
        for b in (self.add_agent_btn, self.edit_agent_btn):
            b.setEnabled(self.actor.at_least("supervisor"))
            b.setToolTip("代办员由站长维护")
            arow.addWidget(b)
        arow.addStretch(1)
        al.addLayout(arow)
        self.agent_table = simple_table(["村民小组/网格", "代办员", "联系电话", "状态", "在办件数", "备注"], 5)
        self.agent_table.cellDoubleClicked.connect(lambda _r, _c: self.edit_agent(self._agent()))
        al.addWidget(self.agent_table, 1)
        al.addWidget(hint("每个村民小组（社区按网格）一般有 1–2 名代办员，免费为行动不便或外出的居民跑腿办事。"))
        self.tabs.addTab(aw, "代办员")
        # monthly ledger
        lw = QWidget()
        ll = QVBoxLayout(lw)
        lrow = QHBoxLayout()
        self.month = QDateEdit(QDate.currentDate())
        self.month.setDisplayFormat("yyyy年M月")
        self.month.setCalendarPopup(True)
        self.month.dateChanged.connect(lambda _d: self.load_ledger())
        self.export_btn = QPushButton("导出 Excel…")
        self.export_btn.clicked.connect(lambda _c=False: self.export_ledger())
        lrow.addWidget(QLabel("月份"))
        lrow.addWidget(self.month)
        lrow.addWidget(self.export_btn)
        lrow.addStretch(1)
        ll.addLayout(lrow)
        self.figures = QLabel()
        scaled(self.figures, 2, bold=True)
        ll.addWidget(self.figures)
        self.ledger_table = simple_table(["村民小组/网格", "代办员", "登记", "办理", "回复"], 1)
        ll.addWidget(self.ledger_table, 1)
        ll.addWidget(
            hint("登记＝本月收件的代办；办理＝本月取回办理结果的；回复＝本月把结果和原件交还居民的。只统计本站的代办。")
        )
        self.tabs.addTab(lw, "月度台账")
        self.layout_.addWidget(self.tabs, 1)
        self._update_step_button()

    # ------------------------------------------------------------ loading
    def activated(self) -> None:
        self.refresh()
        self.load_ledger()

    def refresh(self) -> None:
        db, done = self.db, self.show_done.isChecked()

        def load() -> tuple[list[proxy.CaseRow], list[proxy.AgentRow]]:
            rows = proxy.recent_cases(db) if done else proxy.open_cases(db)
            if done:  # the open ones first, then the finished
                rows = [r for r in rows if r.step != "handed_back"] + [r for r in rows if r.step == "handed_back"]
            return rows, proxy.agents(db)

        self.worker.run(load, self._show, lambda e: show_error(self, e))

    def _show(self, result: tuple[list[proxy.CaseRow], list[proxy.AgentRow]]) -> None:
        r = self.case_table.currentRow()
        kept = self.cases[r].id if 0 <= r < len(self.cases) else None
        self.cases, self.agent_rows = result
        fill_table(
            self.case_table,
            [
                [
                    c.receipt_no,
                    c.resident_name,
                    c.matter_name,
                    c.agent_name,
                    c.village_group,
                    fmt_datetime(c.received_at),
                    fmt_date(c.promised_date),
                    c.step_label,
                    c.next_action or "—",
                    c.forwarded_to,
                ]
                for c in self.cases
            ],
        )
        fill_table(
            self.agent_table,
            [
                [a.village_group, a.name, a.phone, "在岗" if a.active else "已停用", str(a.open_cases), a.note]
                for a in self.agent_rows
            ],
        )
        n_open = sum(1 for c in self.cases if c.step != "handed_back")
        self.tabs.setTabText(0, f"在办代办 {n_open}")
        self.tabs.setTabText(1, f"代办员 {sum(1 for a in self.agent_rows if a.active)}")
        row = next((i for i, c in enumerate(self.cases) if c.id == kept), 0 if self.cases else -1)
        self.case_table.setCurrentCell(row, 0)
        self._update_step_button()

    def _case(self) -> proxy.CaseRow | None:
        r = self.case_table.currentRow()
        return self.cases[r] if 0 <= r < len(self.cases) else None

    def _agent(self) -> proxy.AgentRow | None:
        r = self.agent_table.currentRow()
        return self.agent_rows[r] if 0 <= r < len(self.agent_rows) else None

    def _update_step_button(self) -> None:
        c = self._case()
        self.step_btn.setText(f"{c.next_action}…" if c and c.next_action else "下一步…")
        self.step_btn.setEnabled(bool(c and c.next_action))
        self.slip_btn.setEnabled(c is not None)

    # ------------------------------------------------------------ actions
    def _index(self) -> ResidentIndex:
        if self.index is None:  # the window's shared search copy when there is one
            self.index = getattr(self.window(), "index", None) or ResidentIndex(self.db)
        return self.index

    def register(self) -> None:
        if not any(a.active for a in self.agent_rows):
            QMessageBox.information(self, "还没有代办员", "请先在“代办员”里登记代办员（由站长维护），再登记代办。")
            self.tabs.setCurrentIndex(1)
            return
        dlg = RegisterDialog(self)
        if dlg.exec() and dlg.registered is not None:
            reg = dlg.registered
            self.note.setText(
                f"已登记代办：回执编号 {reg.receipt_no}，承诺 {reg.promised_date:%Y-%m-%d} 前办结。"
                "可以打印原件交接单请居民和代办员签字。"
            )
            self.refresh()

    def next_step(self) -> None:
        c = self._case()
        if c is None:
            QMessageBox.information(self, "请先选择", "请先在列表中选中一件代办。")
            return
        if not c.next_action:
            QMessageBox.information(self, "已完成", "这件代办已经交还居民，没有下一步了。")
            return
        db = self.db
        self.worker.op(lambda: proxy.get(db, c.id), self._open_step, busy=[self.step_btn], parent=self)

    def _open_step(self, detail: proxy.CaseDetail) -> None:
        dlg = StepDialog(self, detail)
        if dlg.exec() and dlg.done_step:
            self.note.setText(f"{detail.row.receipt_no}（{detail.row.resident_name}）：{proxy.STEPS[dlg.done_step]}。")
            self.refresh()
            self.load_ledger()

    def print_slip(self) -> None:
        c = self._case()
        if c is None:
            QMessageBox.information(self, "请先选择", "请先在列表中选中一件代办。")
            return
        from desktop import paperwork
        from desktop.ui.printing import show_preview

        db = self.db

        def build() -> object:
            paperwork.proxy_slip_document(db, c.id)  # refused here (no originals) before a preview opens
            return True

        def preview(_ok: object) -> None:
            show_preview(
                self,
                "委托代办原件交接单",
                lambda layout: paperwork.proxy_slip_document(db, c.id, layout),
                layouts=("A4", "A5"),
                suggested_name=f"代办交接单-{c.receipt_no}.pdf",
            )

        self.worker.op(build, preview, busy=[self.slip_btn], parent=self)

    def edit_agent(self, agent: proxy.AgentRow | None) -> None:
        if not self.actor.at_least("supervisor"):
            return
        if AgentDialog(self, agent).exec():
            self.refresh()

    # ------------------------------------------------------------ ledger
    def _month(self) -> tuple[date, date]:
        q = self.month.date()
        return proxy.month_range(q.year(), q.month())

    def load_ledger(self) -> None:
        db, (start, end) = self.db, self._month()
        self.worker.run(
            lambda: proxy.ledger(db, start, end, proxy.own_station(db)),
            self._show_ledger,
            lambda e: show_error(self, e),
        )

    def _show_ledger(self, led: proxy.Ledger) -> None:
        self.figures.setText(
            f"{led.start:%Y年%m月}：登记 {led.registered} 件　办理 {led.handled} 件　回复 {led.replied} 件"
        )
        fill_table(
            self.ledger_table,
            [[a.village_group, a.agent_name, str(a.registered), str(a.handled), str(a.replied)] for a in led.by_agent]
            + [["合计", "", str(led.registered), str(led.handled), str(led.replied)]],
        )

    def export_ledger(self, path: str | None = None) -> None:
        from desktop import paperwork

        start, end = self._month()
        if path is None:
            path = files.save_file(self, "导出代办台账", f"代办台账-{start:%Y年%m月}.xlsx", files.EXCEL)
            if not path:
                return
        db = self.db

        def saved(_r: object) -> None:
            files.show_saved(self, "已导出", f"已导出 {start:%Y年%m月} 的代办台账到：\n{path}", path)

        self.worker.op(
            lambda: paperwork.export_proxy_ledger(db, path, start, end, proxy.own_station(db)),
            saved,
            busy=[self.export_btn],
            parent=self,
        )


def _placeholder(box: QComboBox, text: str) -> None:
    edit = box.lineEdit()
    if edit is not None:
        edit.setPlaceholderText(text)


class RegisterDialog(QDialog):
    """A matter a proxy agent brings in: the resident, the agent, the matter
    and the originals taken (the matter's materials, editable)."""

    def __init__(self, page: ProxyPage):
        super().__init__(page)
        self.page = page
        self.registered: proxy.Registered | None = None
        self.setWindowTitle("登记代办")
        outer = QVBoxLayout(self)
        lay = QHBoxLayout()
        outer.addLayout(lay, 1)
        left = QVBoxLayout()
        left.addWidget(QLabel("委托人（居民）"))
        self.picker = ResidentPicker(page._index(), worker=page.worker)
        self.picker.picked.connect(self._suggest_agent)
        left.addWidget(self.picker, 1)
        lay.addLayout(left, 1)
        form = QFormLayout()
        self.errors = FormErrors(form)
        self.agent = QComboBox()
        for a in page.agent_rows:
            if a.active:
                self.agent.addItem(f"{a.name}（{a.village_group}）", a.id)
        self.errors.add("agent", "代办员", self.agent)
        self.matter = QComboBox()
        self.matter.setEditable(True)
        self.matter.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        _placeholder(self.matter, "输入事项名称查找")
        self.errors.add("matter", "代办事项", self.matter)
        self.originals = QTableWidget(0, 2)
        self.originals.setHorizontalHeaderLabels(["原件名称", "份数"])
        self.originals.verticalHeader().setVisible(False)
        self.originals.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.originals.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.originals.setMinimumHeight(150)
        self.originals.verticalHeader().setDefaultSectionSize(QSpinBox().sizeHint().height() + 6)
        self.originals.setColumnWidth(1, 90)
        box = QWidget()
        bl = QVBoxLayout(box)
        bl.setContentsMargins(0, 0, 0, 0)
        bl.addWidget(self.originals)
        brow = QHBoxLayout()
        add = QPushButton("添加一行")
        add.clicked.connect(lambda _c=False: self.add_original("", 1, edit=True))
        remove = QPushButton("删除选中行")
        remove.clicked.connect(lambda _c=False: self.originals.removeRow(self.originals.currentRow()))
        brow.addWidget(add)
        brow.addWidget(remove)
        brow.addStretch(1)
        bl.addLayout(brow)
        self.errors.add("originals", "收取的原件", box, "选好事项后自动列出它的材料；没收的删掉，另收的添加。")
        self.note_edit = QLineEdit()
        self.note_edit.setMaxLength(counter.MAX_NOTE)
        self.errors.add("note", "备注", self.note_edit)
        right = QVBoxLayout()
        right.addLayout(form)
        lay.addLayout(right, 2)
        self.ok = dialog_buttons(self, "登记", self.submit)
        self.ok.setEnabled(False)  # until the catalogue is in
        self.resize(1000, 600)
        db = page.db
        page.worker.run(lambda: counter.catalogue_by_use(db), self._catalogue, lambda e: show_error(self, e))

    def _suggest_agent(self, rid: uuid.UUID | None) -> None:
        """Pre-select the agent of the resident's village group (or grid)."""
        if rid is None:
            return
        db = self.page.db

        def chosen(agent_id: uuid.UUID | None) -> None:
            i = self.agent.findData(agent_id) if agent_id is not None else -1
            if i >= 0 and self.picker.resident_id == rid:
                self.agent.setCurrentIndex(i)

        self.page.worker.run(lambda: proxy.agent_for(db, rid), chosen)

    def _catalogue(self, items: list[counter.MatterTypeView]) -> None:
        # 代办 matters first: they are what agents bring
        items = [t for t in items if t.mode == "proxy"] + [t for t in items if t.mode not in ("proxy", "inform")]
        self.types = {t.id: t for t in items}
        self.matter.blockSignals(True)
        for t in items:
            self.matter.addItem(t.name if t.mode_label in t.name else f"{t.name}（{t.mode_label}）", t.id)
        self.matter.setCurrentIndex(-1)
        self.matter.blockSignals(False)
        comp = self.matter.completer()
        if comp is not None:  # typing part of a name finds it anywhere in the name
            comp.setFilterMode(Qt.MatchFlag.MatchContains)
            comp.setCompletionMode(QCompleter.CompletionMode.PopupCompletion)
        self.matter.currentIndexChanged.connect(lambda _i: self._fill_originals())
        self.ok.setEnabled(True)

    def _fill_originals(self) -> None:
        t = self.types.get(self.matter.currentData())
        self.originals.setRowCount(0)
        for m in t.materials if t else []:
            self.add_original(m.name, m.copies)

    def add_original(self, name: str, count: int, edit: bool = False) -> None:
        r = self.originals.rowCount()
        self.originals.insertRow(r)
        self.originals.setItem(r, 0, QTableWidgetItem(name))
        spin = QSpinBox()
        spin.setRange(1, proxy.MAX_COUNT)
        spin.setValue(count)
        self.originals.setCellWidget(r, 1, spin)
        if edit:
            item = self.originals.item(r, 0)
            self.originals.setCurrentCell(r, 0)
            if item is not None:
                self.originals.editItem(item)

    def items(self) -> list[proxy.Original]:
        out = []
        for r in range(self.originals.rowCount()):
            item, spin = self.originals.item(r, 0), self.originals.cellWidget(r, 1)
            if item is not None and item.text().strip():
                out.append(proxy.Original(item.text(), spin.value() if isinstance(spin, QSpinBox) else 1))
        return out

    def submit(self) -> None:
        p = self.page
        f = proxy.ProxyForm(
            self.agent.currentData(),
            None if self.picker.pending else self.picker.resident_id,
            self.matter.currentData() if self.matter.currentIndex() >= 0 else None,
            self.items(),
            self.note_edit.text(),
        )

        def done(reg: proxy.Registered) -> None:
            self.registered = reg
            self.accept()

        def failed(exc: BaseException) -> None:
            if isinstance(exc, counter.MissingMaterials):
                self.errors.show("originals", exc.user_message)
            else:
                self.errors.explain(exc, self)

        self.errors.clear()
        p.worker.op(lambda: proxy.register(p.db, p.actor, f), done, busy=[self.ok], on_error=failed, parent=self)


class StepDialog(QDialog):
    """The next step of one proxy matter, with when it happened (now, or
    earlier that day when the agent reports back later)."""

    def __init__(self, page: ProxyPage, d: proxy.CaseDetail):
        super().__init__(page)
        self.page, self.detail = page, d
        self.kind = proxy.ORDER[proxy.ORDER.index(d.row.step) + 1]
        self.done_step: str | None = None
        self.setWindowTitle(f"{d.row.next_action}：{d.row.matter_name}")
        lay = QVBoxLayout(self)
        lay.addWidget(
            QLabel(
                f"{d.row.receipt_no}　委托人 {d.row.resident_name}　代办员 {d.row.agent_name}"
                f"（{d.row.village_group}）　当前：{d.row.step_label}"
            )
        )
        form = QFormLayout()
        self.errors = FormErrors(form)
        self.to: QComboBox | None = None
        self.result_edit: QPlainTextEdit | None = None
        self.returned: list[QCheckBox] = []
        if self.kind == "forwarded":
            self.to = QComboBox()
            self.to.setEditable(True)
            self.to.addItems(DESTINATIONS)
            self.to.setCurrentText("")
            _placeholder(self.to, "转交到哪个部门或窗口")
            self.errors.add("to", "转交去向", self.to)
        elif self.kind == "result":
            self.result_edit = QPlainTextEdit()
            self.result_edit.setPlaceholderText("如：已批准，证件已领回；或：不予受理，原因……")
            self.result_edit.setMaximumHeight(90)
            self.errors.add("result", "办理结果", self.result_edit)
        else:
            lay.addWidget(QLabel(f"办理结果：{d.result}"))
            box = QWidget()
            bl = QVBoxLayout(box)
            bl.setContentsMargins(0, 0, 0, 0)
            for o in d.originals:
                cb = QCheckBox(f"{o.name}　{o.count} 份")
                cb.setChecked(True)
                self.returned.append(cb)
                bl.addWidget(cb)
            if not d.originals:
                bl.addWidget(QLabel("（这件代办没有收取原件）"))
            self.errors.add("originals", "已退还的原件", box)
        self.note_edit = QLineEdit()
        self.note_edit.setMaxLength(counter.MAX_NOTE)
        if self.kind == "handed_back":
            self.errors.add("note", "备注", self.note_edit, "有原件没有退还时，请写明去向。")
        self.opened = QDateTime.currentDateTime()
        self.when = QDateTimeEdit(self.opened)
        self.when.setDisplayFormat("yyyy-MM-dd HH:mm")
        self.when.setMaximumDateTime(self.opened.addSecs(300))
        self.when.setCalendarPopup(True)
        self.errors.add("at", "发生时间", self.when, "默认是现在；代办员事后来报的，改成实际时间。")
        lay.addLayout(form)
        lay.addStretch(1)
        self.ok = dialog_buttons(self, d.row.next_action, self.submit)
        self.resize(640, 300)

    def _at(self) -> datetime | None:
        if abs(self.when.dateTime().secsTo(self.opened)) < 60:
            return None  # left at now: stamped when saved
        picked = self.when.dateTime().toPython()
        assert isinstance(picked, datetime)
        return to_utc(picked.replace(second=0, microsecond=0))

    def submit(self) -> None:
        p, cid, at = self.page, self.detail.row.id, self._at()
        if self.to is not None:
            to = self.to.currentText()
            fn = lambda: proxy.forward(p.db, p.actor, cid, to, at)  # noqa: E731
        elif self.result_edit is not None:
            text = self.result_edit.toPlainText()
            fn = lambda: proxy.result_back(p.db, p.actor, cid, text, at)  # noqa: E731
        else:
            flags, note = [cb.isChecked() for cb in self.returned], self.note_edit.text()
            fn = lambda: proxy.hand_back(p.db, p.actor, cid, flags, note, at)  # noqa: E731

        def done(step: str) -> None:
            self.done_step = step
            self.accept()

        self.errors.submit(p.worker, fn, self, done, busy=[self.ok])


class AgentDialog(QDialog):
    def __init__(self, page: ProxyPage, agent: proxy.AgentRow | None):
        super().__init__(page)
        self.page, self.agent = page, agent
        self.setWindowTitle("修改代办员" if agent else "新增代办员")
        lay = QVBoxLayout(self)
        form = QFormLayout()
        self.errors = FormErrors(form)
        self.name = QLineEdit(agent.name if agent else "")
        self.name.setMaxLength(64)
        self.errors.add("name", "姓名", self.name)
        self.group = QComboBox()
        self.group.setEditable(True)
        self.group.addItems(sorted({a.village_group for a in page.agent_rows}))
        self.group.setCurrentText(agent.village_group if agent else "")
        _placeholder(self.group, "如：第三村民小组（社区填网格）")
        self.errors.add("village_group", "负责的村民小组", self.group)
        self.phone = QLineEdit(agent.phone if agent else "")
        self.phone.setMaxLength(32)
        self.errors.add("phone", "联系电话", self.phone)
        self.active = QCheckBox("在岗（停用后不能再登记新的代办）")
        self.active.setChecked(agent.active if agent else True)
        self.errors.add("active", "", self.active)
        self.note_edit = QLineEdit(agent.note if agent else "")
        self.note_edit.setMaxLength(200)
        self.errors.add("note", "备注", self.note_edit)
        lay.addLayout(form)
        self.ok = dialog_buttons(self, "保存", self.submit)
        self.resize(480, 300)

    def submit(self) -> None:
        p = self.page
        f = proxy.AgentForm(
            self.name.text(),
            self.group.currentText(),
            self.phone.text(),
            self.active.isChecked(),
            self.note_edit.text(),
            self.agent.id if self.agent else None,
        )

        def saved(_id: uuid.UUID) -> None:
            self.accept()

        self.errors.submit(p.worker, lambda: proxy.save_agent(p.db, p.actor, f), self, saved, busy=[self.ok])
