"""开具证明: find the type (aliases: 亲属, 单身, 健在, 居住 …), issue what the
catalogue retains, refuse what it abolished with a printed pointer, approve,
void, reissue, verify a scanned certificate, and the ledgers."""
from __future__ import annotations

import re
import uuid
from datetime import date, timedelta

from PySide6.QtCore import QStringListModel, Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QComboBox,
    QCompleter,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QSplitter,
    QStackedWidget,
    QTableWidget,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from desktop.services import certificates as certs
from desktop.services.search import Hit, ResidentIndex
from desktop.ui import files
from desktop.ui.errors import show_error
from desktop.ui.pages.base import Page
from desktop.ui.pickers import ResidentPicker
from desktop.ui.widgets import FormErrors, action_row, dialog_buttons, fill_table, fmt_datetime, hint, primary, scaled, simple_table

RED = QColor("#b42318")
PERIODS = ("本月", "上月", "今年", "全部")


def period_range(label: str, today: date | None = None) -> tuple[date | None, date | None]:
    today = today or date.today()
    first = today.replace(day=1)
    if label == "本月":
        return first, today
    if label == "上月":
        last = first - timedelta(days=1)
        return last.replace(day=1), last
    if label == "今年":
        return today.replace(month=1, day=1), today
    return None, None


class ChoiceCompleter(QCompleter):
    """Suggestions that step aside once the text is one of them: nothing is
    left to choose, so the next key (Tab, F8) goes to the form, not the list."""

    def splitPath(self, path: str) -> list[str]:  # noqa: N802
        model = self.model()
        if isinstance(model, QStringListModel) and path in model.stringList():
            return ["\0"]  # matches nothing: the popup closes
        return super().splitPath(path)


def _glyphs(text: str) -> list[str]:
    """The certificate face's missing characters (reportlab loads only when needed)."""
    from desktop import paperwork

    return paperwork.certificate_glyphs(text)


class CertificatesPage(Page):
    title = "开具证明"

    def __init__(self, *args, index: ResidentIndex | None = None, **kw):  # type: ignore[no-untyped-def]
        super().__init__(*args, **kw)
        self.index = index if index is not None else ResidentIndex(self.db)
        self.types: list[certs.CertTypeView] = []
        self.purposes = QStringListModel(list(certs.DEFAULT_PURPOSES))  # suggestions for 用途
        self.shown: list[certs.CertTypeView] = []
        self.current: certs.CertTypeView | None = None

        top = QHBoxLayout()
        self.search = QLineEdit()
        self.search.setPlaceholderText("证明名称或关键词（居住、亲属、单身、健在…）；扫描证明二维码或输入编号后回车可核验")
        self.search.setClearButtonEnabled(True)
        scaled(self.search, 2)
        self.search.textChanged.connect(self._filter)
        self.search.returnPressed.connect(self._enter)
        self.verify_btn = QPushButton("核验证明")
        self.verify_btn.clicked.connect(lambda _c=False: self.verify(self.search.text()))
        self.catalogue_btn = QPushButton("证明目录")
        self.catalogue_btn.clicked.connect(lambda _c=False: self.open_catalogue())
        top.addWidget(self.search, 1)
        top.addWidget(self.verify_btn)
        top.addWidget(self.catalogue_btn)
        self.layout_.addLayout(top)

        split = QSplitter(Qt.Orientation.Vertical)
        upper = QSplitter()
        self.type_list = QListWidget()
        self.type_list.currentRowChanged.connect(self._pick_type)
        upper.addWidget(self.type_list)
        self.stack = QStackedWidget()
        self.issue_panel = self._issue_panel()
        self.refuse_panel = self._refuse_panel()
        self.stack.addWidget(self.issue_panel)
        self.stack.addWidget(self.refuse_panel)
        upper.addWidget(self.stack)
        upper.setSizes([300, 800])
        split.addWidget(upper)

        self.tabs = QTabWidget()
        self.pending_table = simple_table(["申请时间", "证明类型", "居民", "用途", "经办人"], 3)
        self.ledger_table = simple_table(["证明编号", "证明类型", "居民", "用途", "状态", "开具时间", "经办人", "审批人"], 3)
        self.seal_table = simple_table(["用印时间", "用印内容", "印章", "份数", "审批人", "经办人", "申请人", "电话"], 1)
        self.refusal_table = simple_table(["时间", "申请的证明", "居民", "经办人", "备注"], 4)
        pend = QWidget()
        pl = QVBoxLayout(pend)
        pl.addWidget(self.pending_table)
        prow = QHBoxLayout()
        self.approve_btn = primary("同意并开具")
        self.approve_btn.setDefault(False)
        self.approve_btn.clicked.connect(lambda _c=False: self.approve())
        self.decline_btn = QPushButton("不同意…")
        self.decline_btn.clicked.connect(lambda _c=False: self.decline())
        sup = self.actor.at_least(certs.APPROVER_ROLE)
        for b in (self.approve_btn, self.decline_btn):
            b.setEnabled(sup)
            prow.addWidget(b)
        prow.addWidget(hint("" if sup else "审批需要站长：按 F12 锁屏，点“切换用户”由站长登录后在这里同意。"), 1)
        pl.addLayout(prow)
        self.tabs.addTab(pend, "待审批")
        led = QWidget()
        ll = QVBoxLayout(led)
        frow = QHBoxLayout()
        self.period = QComboBox()
        self.period.addItems(list(PERIODS))
        self.period.currentIndexChanged.connect(lambda _i: self.refresh())
        self.status_filter = QComboBox()
        self.status_filter.addItem("全部状态", "")
        for code, label in certs.STATUSES.items():
            self.status_filter.addItem(label, code)
        self.status_filter.currentIndexChanged.connect(lambda _i: self.refresh())
        self.type_filter = QComboBox()
        self.type_filter.addItem("全部类型", None)
        # long type names must not push the row off the page at 14 pt
        self.type_filter.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.type_filter.setMinimumContentsLength(8)
        self.type_filter.currentIndexChanged.connect(lambda _i: self.refresh())
        self.handler_filter = QLineEdit()
        self.handler_filter.setPlaceholderText("经办人")
        self.handler_filter.setMinimumWidth(90)
        self.handler_filter.setMaximumWidth(160)
        self.handler_filter.editingFinished.connect(self.refresh)
        frow.addWidget(QLabel("期间"))
        frow.addWidget(self.period)
        frow.addWidget(self.type_filter)
        frow.addWidget(self.status_filter)
        frow.addWidget(self.handler_filter)
        frow.addStretch(1)
        self.print_btn = QPushButton("打印")
        self.print_btn.clicked.connect(lambda _c=False: self.print_selected())
        self.void_btn = QPushButton("作废…")
        self.void_btn.clicked.connect(lambda _c=False: self.void_selected())
        self.reissue_btn = QPushButton("补开…")
        self.reissue_btn.clicked.connect(lambda _c=False: self.reissue_selected())
        self.export_btn = QPushButton("导出 Excel…")
        self.export_btn.clicked.connect(lambda _c=False: self.export())
        for b in (self.print_btn, self.void_btn, self.reissue_btn, self.export_btn):
            frow.addWidget(b)
        self.void_btn.setEnabled(sup)
        self.reissue_btn.setEnabled(sup)
        ll.addLayout(frow)
        ll.addWidget(self.ledger_table)
        self.tabs.addTab(led, "开具台账")
        self.tabs.addTab(self.seal_table, "用印登记")
        self.tabs.addTab(self.refusal_table, "拒开记录")
        split.addWidget(self.tabs)
        split.setSizes([380, 260])
        self.layout_.addWidget(split, 1)
        self.ledger_rows: list[certs.CertRow] = []
        self.pending_rows: list[certs.CertRow] = []

    # ------------------------------------------------------------ panels
    def _issue_panel(self) -> QWidget:
        w = QWidget()
        lay = QHBoxLayout(w)
        left = QVBoxLayout()
        self.i_title = QLabel()
        scaled(self.i_title, 4, True)
        self.i_info = hint("")
        left.addWidget(self.i_title)
        left.addWidget(self.i_info)
        self.picker = ResidentPicker(self.index, worker=self.worker)
        left.addWidget(self.picker, 1)
        lay.addLayout(left, 1)
        right = QVBoxLayout()
        self.form = QFormLayout()
        self.errors = FormErrors(self.form)
        self.field_edits: dict[str, QLineEdit] = {}
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
        return w

    def _refuse_panel(self) -> QWidget:
        w = QWidget()
        lay = QHBoxLayout(w)
        left = QVBoxLayout()
        self.r_title = QLabel()
        scaled(self.r_title, 4, True)
        self.r_title.setStyleSheet("color: #b42318;")
        self.r_why = QLabel()
        self.r_why.setWordWrap(True)
        self.r_where = QLabel()
        self.r_where.setWordWrap(True)
        scaled(self.r_where, 1)
        left.addWidget(self.r_title)
        left.addWidget(self.r_why)
        left.addWidget(QLabel("<b>请告诉居民去哪里办：</b>"))
        left.addWidget(self.r_where)
        left.addStretch(1)
        lay.addLayout(left, 3)
        right = QVBoxLayout()
        right.addWidget(QLabel("居民（可不选）"))
        self.r_picker = ResidentPicker(self.index, optional=True, worker=self.worker)
        right.addWidget(self.r_picker, 1)
        self.refuse_btn = primary("登记并打印告知单")
        self.refuse_btn.setDefault(False)
        self.refuse_btn.clicked.connect(lambda _c=False: self.refuse())
        right.addWidget(self.refuse_btn)
        lay.addLayout(right, 2)
        return w

    # ------------------------------------------------------------ types
    def activated(self) -> None:
        if not self.types:
            self._load_types()
        self.refresh()
        self._load_purposes()
        self.search.setFocus()

    def _load_types(self) -> None:
        db = self.db

        def show(types: list[certs.CertTypeView]) -> None:
            self.types = types
            self._filter(self.search.text())
            self._fill_type_filter()

        self.worker.run(lambda: certs.catalogue(db), show, lambda e: show_error(self, e))

    def _load_purposes(self) -> None:
        db = self.db
        self.worker.run(lambda: certs.common_purposes(db), self.purposes.setStringList, lambda _e: None)

    def preselect(self, rid: uuid.UUID) -> None:
        """Opened from 居民 for one resident: both pickers show them, the list
        starts from the top (the common retained types) and the cursor waits
        in the search box, so Enter starts the first type's form."""
        self.search.blockSignals(True)
        self.search.clear()
        self.search.blockSignals(False)
        self._filter("")
        self.search.setFocus()
        index = self.index
        self.worker.run(lambda: index.hit_of(rid), self._chosen, lambda e: show_error(self, e))

    def _chosen(self, h: Hit | None) -> None:
        if h is not None:
            self.picker.choose(h)
            self.r_picker.choose(h)

    def _next_resident(self) -> None:
        """After a certificate is issued or refused: nobody picked, nothing
        ticked, empty fields, one copy, so the next resident starts clean."""
        self.picker.clear()
        self.r_picker.clear()
        for e in self.field_edits.values():
            if isinstance(e, QLineEdit):
                e.clear()
            else:  # a choice (据实出具's facts): back to the first
                e.setCurrentIndex(0)
        for i in range(self.materials.count()):
            self.materials.item(i).setCheckState(Qt.CheckState.Unchecked)
        self.copies.setValue(1)
        self._load_purposes()

    def _fill_type_filter(self) -> None:
        self.type_filter.blockSignals(True)
        current = self.type_filter.currentData()
        while self.type_filter.count() > 1:
            self.type_filter.removeItem(1)
        for t in self.types:
            if t.issuable:
                self.type_filter.addItem(t.name, str(t.id))  # str: QComboBox.findData matches it
        self.type_filter.setCurrentIndex(max(0, self.type_filter.findData(current)))
        self.type_filter.blockSignals(False)

    def _filter(self, text: str) -> None:
        if certs.looks_like_code(text) or text.strip().upper().startswith("ZY:"):
            return
        self.shown = certs.search(self.types, text)
        self.type_list.clear()
        for t in self.shown:
            item = QListWidgetItem(("✕ " if t.kind == "abolished" else "") + t.name + f"　[{t.kind_label}]")
            if t.kind == "abolished":
                item.setForeground(RED)
            self.type_list.addItem(item)
        if self.shown:
            self.type_list.setCurrentRow(0)

    def _enter(self) -> None:
        text = self.search.text()
        if certs.looks_like_code(text) or text.strip().upper().startswith("ZY:"):
            self.verify(text)
        elif self.shown:
            first = next(iter(self.field_edits.values()), None) if self.current and self.current.issuable else None
            (first or self.type_list).setFocus()  # the chosen type's first field: start typing

    def _pick_type(self, row: int) -> None:
        if not 0 <= row < len(self.shown):
            return
        t = self.current = self.shown[row]
        self.message.clear()
        if t.kind == "abolished":
            self.r_title.setText(f"“{t.name}”不予出具")
            self.r_why.setText(f"依据：{t.basis}")
            self.r_where.setText(t.redirect)
            self.stack.setCurrentWidget(self.refuse_panel)
            return
        self.stack.setCurrentWidget(self.issue_panel)
        approval = "须站长审批" if t.needs_approval else "当场开具"
        self.i_title.setText(f"{t.name}　[{t.kind_label} · {approval}]")
        self.i_info.setText(f"{t.purpose}\n依据：{t.basis}")
        while self.form.rowCount():
            self.form.removeRow(0)
        self.errors = FormErrors(self.form)
        self.field_edits = {}
        for f in t.fields:
            e = QLineEdit()
            e.setMaxLength(certs.MAX_VALUE)
            if f.choices:  # 据实出具: what it certifies comes from a short list
                e = QComboBox()
                e.addItems(list(f.choices))
            elif f.key == "purpose":
                e.setPlaceholderText("输入一两个字，可从常用用途中选")
                suggest = ChoiceCompleter(self.purposes, e)
                suggest.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
                suggest.setFilterMode(Qt.MatchFlag.MatchContains)
                e.setCompleter(suggest)
            self.errors.add(f.key, f.label + ("" if f.required else "（选填）"), e)
            self.field_edits[f.key] = e
        if t.kind == "factual":
            e = QLineEdit()
            e.setPlaceholderText("为什么需要出具（会记录在台账中）")
            self.errors.add("reason", "出具理由", e)
            self.field_edits["reason"] = e
        self.materials.clear()
        for m in t.materials:
            item = QListWidgetItem(m)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Unchecked)
            self.materials.addItem(item)
        needs_sup = t.needs_approval and not self.actor.at_least(certs.APPROVER_ROLE)
        self.issue_btn.setText("提交站长审批" if needs_sup else "开具并打印")

    def select_type(self, code: str) -> None:
        self.search.clear()
        for i, t in enumerate(self.shown):
            if t.code == code:
                self.type_list.setCurrentRow(i)
                return

    def unsaved(self) -> bool:
        return any(e.text().strip() for e in self.field_edits.values())

    def tick_all(self) -> None:
        for i in range(self.materials.count()):
            self.materials.item(i).setCheckState(Qt.CheckState.Checked)

    # ------------------------------------------------------------ actions
    def _seen(self) -> list[str]:
        return [self.materials.item(i).text() for i in range(self.materials.count())
                if self.materials.item(i).checkState() == Qt.CheckState.Checked]

    def issue(self) -> None:
        t = self.current
        if t is None or t.kind == "abolished":
            return
        self.errors.clear()
        self.message.clear()
        rid = self.picker.resident_id
        if rid is None:
            self.message.setText("请先选择居民。")
            self.picker.edit.setFocus()
            return
        values = {k: (e.currentText() if isinstance(e, QComboBox) else e.text())
                  for k, e in self.field_edits.items() if k != "reason"}
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
                self.search.clear()
                for i, x in enumerate(self.shown):
                    if x.id == e.type_id:
                        self.type_list.setCurrentRow(i)

        self.worker.op(lambda: certs.issue(db, actor, rid, t.id, values, seen, copies, reason,
                                                   glyphs=_glyphs), self._issued,
                       busy=[self.issue_btn], on_error=failed, label="正在开具…", parent=self)

    def _issued(self, res: certs.Issued) -> None:
        self._next_resident()
        self.refresh()
        if res.status == "pending":
            QMessageBox.information(self, "已提交审批", "这类证明须站长审批，已放入“待审批”。请站长在本机登录（F12 锁屏 → 切换用户）后同意，即可开具打印。")
            return
        self.print_certificate(res.id)

    def print_certificate(self, cert_id: uuid.UUID) -> None:
        from desktop import paperwork
        from desktop.ui.printing import show_preview

        db, actor = self.db, self.actor
        self.worker.op(lambda: paperwork.certificate_document(db, actor, cert_id),
                       lambda doc: show_preview(self, doc.title, lambda _layout: doc, suggested_name=f"{doc.title}.pdf"),
                       busy=[self.print_btn], parent=self)

    def refuse(self) -> None:
        t = self.current
        if t is None or t.kind != "abolished":
            return
        from desktop import paperwork
        from desktop.ui.printing import show_preview

        db, actor, rid = self.db, self.actor, self.r_picker.resident_id

        def refused(r: certs.Refusal) -> None:
            self._next_resident()
            self.refresh()
            show_preview(self, "不予出具证明告知单",
                         lambda _layout: paperwork.refusal_document(db, r, actor.display_name),
                         suggested_name=f"告知单-{t.name}.pdf")

        self.worker.op(lambda: certs.refuse(db, actor, t.id, rid, glyphs=_glyphs), refused, busy=[self.refuse_btn], parent=self)

    def _selected(self, table: QTableWidget, rows: list[certs.CertRow]) -> certs.CertRow | None:
        i = table.currentRow()
        if 0 <= i < len(rows):
            return rows[i]
        QMessageBox.information(self, "请先选择", "请先在表格中选中一份证明。")
        return None

    def _run(self, fn, busy, then=None) -> None:  # type: ignore[no-untyped-def]
        """A ledger action: ``fn`` on the worker with ``busy`` disabled, then
        refresh the tables and ``then(result)``."""
        def done(result) -> None:  # type: ignore[no-untyped-def]
            self.refresh()
            if then is not None:
                then(result)

        self.worker.op(fn, done, busy=busy, parent=self)

    def approve(self) -> None:
        row = self._selected(self.pending_table, self.pending_rows)
        if row is None:
            return
        db, actor = self.db, self.actor
        self._run(lambda: certs.approve(db, actor, row.id, glyphs=_glyphs), [self.approve_btn, self.decline_btn],
                  lambda res: self.print_certificate(res.id))

    def decline(self) -> None:
        row = self._selected(self.pending_table, self.pending_rows)
        if row is None:
            return
        reason, ok = QInputDialog.getText(self, "不同意开具", "理由（会记入台账）：")
        if ok:
            db, actor = self.db, self.actor
            self._run(lambda: certs.decline(db, actor, row.id, reason), [self.approve_btn, self.decline_btn])

    def void_selected(self) -> None:
        row = self._selected(self.ledger_table, self.ledger_rows)
        if row is None:
            return
        reason, ok = QInputDialog.getText(self, "作废证明", f"作废 {row.serial} 的原因（编号保留，不会删除）：")
        if ok:
            db, actor = self.db, self.actor
            self._run(lambda: certs.void(db, actor, row.id, reason), [self.void_btn, self.reissue_btn])

    def reissue_selected(self) -> None:
        row = self._selected(self.ledger_table, self.ledger_rows)
        if row is None:
            return
        reason, ok = QInputDialog.getText(self, "补开证明", f"补开 {row.serial} 的原因（原证明将作废）：")
        if not ok:
            return
        db, actor = self.db, self.actor
        self._run(lambda: certs.reissue(db, actor, row.id, reason, glyphs=_glyphs), [self.void_btn, self.reissue_btn],
                  lambda res: self.print_certificate(res.id))

    def print_selected(self) -> None:
        row = self._selected(self.ledger_table, self.ledger_rows)
        if row is not None:
            self.print_certificate(row.id)

    def export(self, path: str | None = None) -> None:
        from desktop import paperwork

        start, end = period_range(self.period.currentText())
        if path is None:
            path = files.save_file(self, "导出证明台账", f"证明台账-{self.period.currentText()}.xlsx", files.EXCEL)
            if not path:
                return
        db = self.db

        def failed(e: BaseException) -> None:
            if isinstance(e, OSError):
                QMessageBox.warning(self, "无法保存", f"台账没有导出：{e.strerror or e}。请换一个文件夹或检查磁盘空间。")
            else:
                show_error(self, e)

        self.worker.op(lambda: paperwork.export_certificate_ledgers(db, path, start=start, end=end),
                       lambda _r: files.show_saved(self, "已导出", f"证明台账已导出到：\n{path}", path),
                       busy=[self.export_btn], on_error=failed, label="正在导出…", parent=self)

    # ------------------------------------------------------------ tables
    def refresh(self) -> None:
        db = self.db
        start, end = period_range(self.period.currentText())

        type_id = uuid.UUID(self.type_filter.currentData()) if self.type_filter.currentData() else None
        status = self.status_filter.currentData()
        handler = self.handler_filter.text().strip()

        def load():  # type: ignore[no-untyped-def]
            return (certs.pending(db), certs.ledger(db, start=start, end=end, type_id=type_id, status=status,
                                                    handler=handler),
                    certs.seal_register(db, start=start, end=end), certs.refusals(db, start=start, end=end))

        self.worker.run(load, self._show, lambda e: show_error(self, e))

    def _show(self, result) -> None:  # type: ignore[no-untyped-def]
        pend, led, seal, refused = result
        self.pending_rows, self.ledger_rows = pend, led
        fill_table(self.pending_table, [[fmt_datetime(r.requested_at), r.type_name, r.resident_name, r.purpose,
                                    r.handler_name] for r in pend])
        fill_table(self.ledger_table, [[r.serial or "（未编号）", r.type_name, r.resident_name, r.purpose, r.status_label,
                                   fmt_datetime(r.issued_at), r.handler_name, r.approver_name] for r in led])
        for i, r in enumerate(led):
            if r.status in ("voided", "declined"):
                for c in range(self.ledger_table.columnCount()):
                    self.ledger_table.item(i, c).setForeground(RED)
        fill_table(self.seal_table, [[fmt_datetime(x.at), x.content, x.seal, str(x.copies), x.approver_name,
                                 x.handler_name, x.applicant_name, x.applicant_phone] for x in seal])
        fill_table(self.refusal_table, [[fmt_datetime(x.at), x.type_name, x.resident_name or "—", x.actor_name, x.note]
                                   for x in refused])
        self.tabs.setTabText(0, f"待审批 {len(pend)}")
        self.tabs.setTabText(3, f"拒开记录 {len(refused)}")

    def open_catalogue(self) -> None:
        dlg = CertCatalogueDialog(self)
        dlg.exec()
        if dlg.changed:
            self._load_types()

    # ------------------------------------------------------------ verify
    def verify(self, code: str) -> None:
        if not code.strip():
            return
        db = self.db
        if code.strip().upper().startswith("ZY:"):  # a 志愿服务记录证明
            from desktop.services import volunteers

            def checked(res: tuple[bool, str]) -> None:
                self.search.clear()
                (QMessageBox.information if res[0] else QMessageBox.warning)(self, "核验志愿服务记录证明", res[1])

            self.worker.op(lambda: volunteers.verify_certificate(db, code), checked, busy=[self.search], parent=self)
            return

        def verified(v: certs.Verification) -> None:
            self.search.clear()
            VerifyDialog(self, v).exec()

        self.worker.op(lambda: certs.verify(db, code), verified, busy=[self.search], parent=self)


class VerifyDialog(QDialog):
    def __init__(self, parent: QWidget, v: certs.Verification):
        super().__init__(parent)
        self.v = v
        self.setWindowTitle("核验证明")
        lay = QVBoxLayout(self)
        # a refusal notice verifies without a certificate's details
        ok = v.genuine and (v.detail.status == "issued" if v.detail is not None else True)
        head = QLabel(("✔ " if ok else "✕ ") + v.message)
        head.setWordWrap(True)
        scaled(head, 3, True)
        head.setStyleSheet(f"color: {'#067647' if ok else '#b42318'};")
        lay.addWidget(head)
        if v.detail:
            d = v.detail
            lines = [f"编号：{d.serial or '（未编号）'}", f"类型：{d.type_name}　状态：{d.status_label}",
                     f"开具给：{d.resident_name}（证件 {d.resident_doc_masked or '—'}）",
                     f"开具单位：{d.station_name}　开具时间：{fmt_datetime(d.issued_at)}",
                     f"经办人：{d.handler_name}" + (f"　审批人：{d.approver_name}" if d.approver_name else "")]
            if d.replaces_serial:
                lines.append(f"补开自：{d.replaces_serial}")
            body = QLabel("\n".join(lines) + "\n\n证明内容：\n" + d.body_masked)
            body.setWordWrap(True)
            body.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            lay.addWidget(body)
        lay.addStretch(1)
        close = QPushButton("关闭")
        close.clicked.connect(self.accept)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(close)
        lay.addLayout(row)
        self.resize(620, 420)


class CertCatalogueDialog(QDialog):
    """The certificate catalogue: the national negative list, the retained
    entries (from the province/city file, or the station's own), 据实出具."""

    def __init__(self, page: CertificatesPage):
        super().__init__(page)
        self.page = page
        self.setWindowTitle("证明目录")
        self.changed = False
        lay = QVBoxLayout(self)
        self.can_edit = page.actor.at_least(certs.APPROVER_ROLE)
        lay.addWidget(hint("默认“可以出具”部分仅为示例：请导入本省、市公布的保留清单（JSON 目录文件）。"
                           "本站新增的证明必须写明依据。" + ("" if self.can_edit else "（修改需要站长权限）")))
        self.table = simple_table(["类别", "名称", "依据", "状态", "来源"], 2)
        self.table.cellDoubleClicked.connect(lambda r, _c: self.edit())
        lay.addWidget(self.table, 1)
        self.buttons = action_row(self, (("add", "新增本站证明"), ("edit", "修改"), ("toggle", "启用/停用"), ("import", "导入目录文件…")), self.act)
        for b in self.buttons.values():
            b.setEnabled(self.can_edit)
        self.resize(980, 600)
        self.items: list[certs.CertTypeView] = []
        self.load()

    def load(self) -> None:
        db = self.page.db
        self.page.worker.run(lambda: certs.catalogue(db, include_inactive=True), self._show,
                             lambda e: show_error(self, e))

    def _show(self, items: list[certs.CertTypeView]) -> None:
        self.items = items
        fill_table(self.table, [[t.kind_label, t.name, t.basis[:60], "启用" if t.active else "停用",
                            "本站新增" if t.local else "目录"] for t in self.items])
        for r, t in enumerate(self.items):
            if t.kind == "abolished":
                self.table.item(r, 0).setForeground(RED)

    def selected(self) -> certs.CertTypeView | None:
        r = self.table.currentRow()
        return self.items[r] if 0 <= r < len(self.items) else None

    def act(self, key: str, path: str | None = None) -> None:
        db, actor = self.page.db, self.page.actor
        t = self.selected()

        def changed(counts: dict[str, int] | None = None) -> None:
            if counts:
                QMessageBox.information(self, "目录已导入", f"新增 {counts['added']} 项，更新 {counts['updated']} 项，"
                                        f"停用 {counts['deactivated']} 项（本站新增的证明不受影响）。")
            self.changed = True
            self.load()

        busy = list(self.buttons.values())
        if key == "add":
            if CertTypeDialog(self, None).exec():
                changed()
        elif key == "edit":
            self.edit()
        elif key == "toggle" and t is not None:
            self.page.worker.op(lambda: certs.set_type_active(db, actor, t.id, not t.active), lambda _r: changed(),
                                busy=busy, parent=self)
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
            QMessageBox.information(self, "不能修改", "上级下发的目录条目不能在本站修改，只能启用或停用；本站新增的证明可以修改。")
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
        self.body = QPlainTextEdit(t.body if t else "兹证明{姓名}（公民身份号码：{身份证号}），住本社区{住址}。\n经核实，……\n此证明用于{用途}。")
        self.body.setMinimumHeight(110)
        for key, label, w, note in (
                ("name", "证明名称", self.name, None),
                ("basis", "依据", self.basis, "法规条款或本省、市保留清单的名称和条目，必填。"),
                ("purpose", "说明", self.purpose, None), ("aliases", "别名", self.aliases, "用逗号分隔，便于查找。"),
                ("needs_approval", "开具方式", self.approval, None), ("materials", "核验材料", self.materials, None),
                ("fields", "栏目", self.fields, None),
                ("body", "正文", self.body, "可用 {姓名} {性别} {住址} {出生日期} {身份证号} 和上面的栏目，如 {用途}。")):
            self.errors.add(key, label, w, note)
        lay.addLayout(form)
        self.ok = dialog_buttons(self, "保存", self.submit)
        self.resize(700, 620)

    def submit(self) -> None:
        self.errors.clear()
        page = self.parent_.page

        def split(text: str) -> list[str]:
            return [x.strip() for x in re.split(r"[、,，;；\n]", text) if x.strip()]

        kw = {"name": self.name.text(), "basis": self.basis.text(), "purpose": self.purpose.text(),
              "aliases": self.aliases.text(), "needs_approval": self.approval.currentIndex() == 0,
              "materials": split(self.materials.text()), "field_labels": split(self.fields.text()),
              "body": self.body.toPlainText()}
        tid = self.t.id if self.t else None
        self.errors.submit(page.worker, lambda: certs.save_local_type(page.db, page.actor, tid, **kw), self,
                           lambda _r: self.accept(), busy=[self.ok])
