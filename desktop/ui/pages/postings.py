"""清单公开: the 准入 lists with the tasks departments push down, and the
notice board (村(居)务公开)."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QCompleter,
    QDateEdit,
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
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from desktop import paperwork
from desktop.documents.layout import Document
from desktop.services import postings, workitems
from desktop.ui import files
from desktop.ui.pages.base import Page
from desktop.ui.widgets import pydate as _pydate, qdate as _qdate
from desktop.ui.widgets import (
    FormErrors,
    dialog_buttons,
    fill_table,
    fmt_date,
    fmt_datetime,
    hint,
    primary,
    simple_table,
)

KIND_TAGS = {"duty": "【依法履职】", "assist": "【依法协助】", "negative": "【负面清单】"}
VIEWS = {"up": "公示中", "overdue": "逾期未撤", "waiting": "待张贴", "all": "全部"}


def _date_edit(d: date) -> QDateEdit:
    w = QDateEdit(_qdate(d))
    w.setCalendarPopup(True)
    w.setDisplayFormat("yyyy-MM-dd")
    return w


class PostingsPage(Page):
    title = "清单公开"

    def __init__(self, *a, **kw) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*a, **kw)
        self.sup = self.actor.at_least(workitems.APPROVER_ROLE)
        self.items: list[workitems.WorkItemView] = []
        self.request_rows: list[workitems.RequestRow] = []
        self.posting_rows: list[postings.PostingView] = []
        self.tabs = QTabWidget()
        self.tabs.addTab(self._requests_tab(), "准入清单 / 部门事项")
        self.tabs.addTab(self._board_tab(), "村（居）务公开")
        self.tabs.currentChanged.connect(lambda _i: self.refresh())
        self.layout_.addWidget(self.tabs, 1)

    # ------------------------------------------------------------ 准入 tab
    def _requests_tab(self) -> QWidget:
        w = QWidget()
        lay = QVBoxLayout(w)
        lay.setContentsMargins(0, 8, 0, 0)
        split = QSplitter(Qt.Orientation.Vertical)
        upper = QSplitter()
        left = QWidget()
        ll = QVBoxLayout(left)
        ll.setContentsMargins(0, 0, 0, 0)
        self.search = QLineEdit()
        self.search.setPlaceholderText("输入要做的事查清单，如：拆违、台账")
        self.search.textChanged.connect(lambda _t: self._fill_items())
        ll.addWidget(self.search)
        self.item_list = QListWidget()
        self.item_list.setWordWrap(True)
        self.item_list.currentRowChanged.connect(lambda _r: self._show_item())
        ll.addWidget(self.item_list, 1)
        lrow = QHBoxLayout()
        self.import_btn = QPushButton("导入清单文件…")
        self.import_btn.clicked.connect(lambda _c=False: self.import_lists())
        self.add_item_btn = QPushButton("新增本站事项…")
        self.add_item_btn.clicked.connect(lambda _c=False: self.add_item())
        for b in (self.import_btn, self.add_item_btn):
            b.setEnabled(self.sup)
            lrow.addWidget(b)
        lrow.addStretch(1)
        ll.addLayout(lrow)
        upper.addWidget(left)

        right = QWidget()
        rl = QVBoxLayout(right)
        rl.setContentsMargins(0, 0, 0, 0)
        form = QFormLayout()
        self.req_errors = FormErrors(form)
        self.department = QLineEdit()
        self.department.setPlaceholderText("如：区城市管理局")
        self.received = _date_edit(postings.today())
        self.content = QPlainTextEdit()
        self.content.setPlaceholderText("部门要求社区做什么、什么时候完成")
        self.content.setMinimumHeight(60)
        self.content.setMaximumHeight(110)
        self.matched = QLabel("对应清单：请在左侧选择；不在任何清单的，勾选下面一项")
        self.matched.setWordWrap(True)
        self.item_info = hint("")
        self.item_info.setWordWrap(True)
        self.unlisted = QCheckBox("不在任何清单（未经准入）")
        self.unlisted.toggled.connect(lambda _on: self._show_item())
        self.req_errors.add("department", "下派部门", self.department)
        self.req_errors.add("received_on", "收到日期", self.received)
        self.req_errors.add("content", "事项内容", self.content)
        self.req_errors.add("item", "对应清单", self.matched)
        form.addRow("", self.item_info)
        form.addRow("", self.unlisted)
        rl.addLayout(form)
        brow = QHBoxLayout()
        self.record_btn = primary("登记并判定")
        self.record_btn.clicked.connect(lambda _c=False: self.record())
        brow.addWidget(self.record_btn)
        self.outcome = QLabel()
        self.outcome.setWordWrap(True)
        brow.addWidget(self.outcome, 1)
        rl.addLayout(brow)
        upper.addWidget(right)
        upper.setSizes([480, 700])
        split.addWidget(upper)

        lower = QWidget()
        bl = QVBoxLayout(lower)
        bl.setContentsMargins(0, 0, 0, 0)
        trow = QHBoxLayout()
        self.req_summary = hint("")
        trow.addWidget(self.req_summary, 1)
        self.notice_btn = QPushButton("打印告知单")
        self.notice_btn.clicked.connect(lambda _c=False: self.print_notice())
        trow.addWidget(self.notice_btn)
        bl.addLayout(trow)
        self.req_table = simple_table(
            ["收到日期", "下派部门", "事项内容", "对应清单", "结果", "告知单编号", "经办人"], 2
        )
        self.req_table.doubleClicked.connect(lambda _i: self.print_notice())
        bl.addWidget(self.req_table, 1)
        split.addWidget(lower)
        split.setSizes([380, 240])
        lay.addWidget(split, 1)
        return w

    def _fill_items(self) -> None:
        self.item_list.clear()
        self.shown_items = workitems.search(self.items, self.search.text())
        for t in self.shown_items:
            it = QListWidgetItem(KIND_TAGS[t.kind] + t.name + ("（本站）" if t.local else ""))
            self.item_list.addItem(it)
        if self.shown_items and self.search.text().strip():
            self.item_list.setCurrentRow(0)
        self._show_item()

    def _current_item(self) -> workitems.WorkItemView | None:
        row = self.item_list.currentRow()
        if self.unlisted.isChecked() or row < 0 or row >= len(getattr(self, "shown_items", [])):
            return None
        return self.shown_items[row]

    def _show_item(self) -> None:
        t = self._current_item()
        self.item_list.setEnabled(not self.unlisted.isChecked())
        if self.unlisted.isChecked():
            self.matched.setText(
                "未列入清单：将按准入制度退回，并打印告知单"
                + ("" if not self.sup else "（站长可改为承接，需在弹出框写明审核依据）")
            )
            self.item_info.setText("")
            return
        if t is None:
            self.matched.setText("对应清单：请在左侧选择；不在任何清单的，勾选下面一项")
            self.item_info.setText("")
            return
        verdict = {"duty": "应当承接", "assist": "应当协助承接", "negative": "不予承接，将打印告知单"}[t.kind]
        self.matched.setText(f"{KIND_TAGS[t.kind]}{t.name} —— {verdict}")
        self.item_info.setText(f"依据：{t.basis}\n来源：{t.source}（{t.origin_label}）")

    def record(self) -> None:
        t = self._current_item()
        if t is None and not self.unlisted.isChecked():
            self.req_errors.clear()
            self.req_errors.show("item", "请在左侧清单中选择对应事项；不在任何清单的，勾选“不在任何清单”。")
            return
        take_on, note = False, ""
        if t is None and self.sup:
            answer = QMessageBox.question(
                self,
                "未列入清单的事项",
                "这项工作不在任何清单里。\n\n“是”：经审核同意，由本社区承接（需写明审核依据）；\n"
                "“否”：按准入制度退回，并打印告知单。",
            )
            if answer == QMessageBox.StandardButton.Yes:
                note, ok = QInputDialog.getText(self, "承接依据", "经谁审核同意（如：街道办 12月1日 准入审核同意）：")
                if not ok:
                    return
                take_on = True
        db, actor = self.db, self.actor
        kw: dict[str, Any] = {
            "department": self.department.text(),
            "content": self.content.toPlainText(),
            "received_on": _pydate(self.received.date()),
            "item_id": t.id if t else None,
            "take_on": take_on,
            "note": note,
        }

        def done(r: workitems.RequestRow) -> None:
            self.content.clear()
            self.outcome.setText(f"已登记：{r.kind_label} · {r.outcome_label}" + (f" · {r.serial}" if r.serial else ""))
            self.refresh()
            if r.outcome == "declined":
                self._preview_notice(r.id)

        self.req_errors.submit(
            self.worker, lambda: workitems.record_request(db, actor, **kw), self, done, busy=[self.record_btn]
        )

    def _selected_request(self) -> workitems.RequestRow | None:
        row = self.req_table.currentRow()
        return self.request_rows[row] if 0 <= row < len(self.request_rows) else None

    def print_notice(self) -> None:
        r = self._selected_request()
        if r is None:
            QMessageBox.information(self, "打印告知单", "请先在下面的表格中选一条已退回的事项。")
            return
        if r.outcome != "declined":
            QMessageBox.information(self, "打印告知单", "这条事项已承接，没有不予承接告知单。")
            return
        self._preview_notice(r.id)

    def _preview_notice(self, request_id: uuid.UUID) -> None:
        from desktop.ui.printing import show_preview

        db = self.db

        def show(doc: Document) -> None:
            show_preview(self, "不予承接告知单", lambda _layout: doc, suggested_name=f"{doc.title}.pdf")

        self.worker.op(lambda: paperwork.decline_document(db, request_id), show, busy=[self.notice_btn], parent=self)

    def import_lists(self) -> None:
        path = files.open_file(self, "导入工作事项清单", "工作事项清单文件 (*.json)")
        if not path:
            return
        db, actor = self.db, self.actor

        def done(c: dict[str, int]) -> None:
            QMessageBox.information(
                self,
                "已导入",
                f"新增 {c['added']} 项，更新 {c['updated']} 项，停用 {c['deactivated']} 项。"
                "本站自己增加的事项未受影响。",
            )
            self.items = []
            self.refresh()

        self.worker.op(lambda: workitems.import_catalogue(db, actor, path), done, busy=[self.import_btn], parent=self)

    def add_item(self) -> None:
        if WorkItemDialog(self).exec():
            self.items = []
            self.refresh()

    # ------------------------------------------------------------ board tab
    def _board_tab(self) -> QWidget:
        w = QWidget()
        lay = QVBoxLayout(w)
        lay.setContentsMargins(0, 8, 0, 0)
        row = QHBoxLayout()
        self.new_btn = primary("新建公示…")
        self.new_btn.clicked.connect(lambda _c=False: self.new_posting())
        row.addWidget(self.new_btn)
        row.addWidget(QLabel("一键公示："))
        self.source = QComboBox()
        for key in postings.GENERATORS:
            self.source.addItem(postings.SOURCES[key], key)
        row.addWidget(self.source)
        self.generate_btn = QPushButton("生成")
        self.generate_btn.clicked.connect(lambda _c=False: self.generate())
        row.addWidget(self.generate_btn)
        for b in (self.new_btn, self.source, self.generate_btn):
            b.setEnabled(self.sup)
        row.addStretch(1)
        row.addWidget(QLabel("显示"))
        self.view = QComboBox()
        for key, label in VIEWS.items():
            self.view.addItem(label, key)
        self.view.currentIndexChanged.connect(lambda _i: self.refresh())
        row.addWidget(self.view)
        lay.addLayout(row)
        self.board_summary = QLabel()
        self.board_summary.setWordWrap(True)
        lay.addWidget(self.board_summary)
        self.post_table = simple_table(
            ["标题", "类别", "张贴日期", "撤下日期", "公示期", "状态", "实际张贴", "实际撤下"], 0
        )
        self.post_table.doubleClicked.connect(lambda _i: self.print_posting())
        lay.addWidget(self.post_table, 1)
        arow = QHBoxLayout()
        self.up_btn = QPushButton("登记已张贴")
        self.up_btn.clicked.connect(lambda _c=False: self.mark_up())
        self.down_btn = QPushButton("登记已撤下…")
        self.down_btn.clicked.connect(lambda _c=False: self.mark_down())
        self.print_btn = primary("打印（A4/A3）…")
        self.print_btn.clicked.connect(lambda _c=False: self.print_posting())
        for b in (self.up_btn, self.down_btn, self.print_btn):
            arow.addWidget(b)
        arow.addWidget(hint("" if self.sup else "编写公示需要站长；张贴、撤下和打印前台可以登记。"), 1)
        lay.addLayout(arow)
        return w

    def _selected_posting(self) -> postings.PostingView | None:
        row = self.post_table.currentRow()
        if 0 <= row < len(self.posting_rows):
            return self.posting_rows[row]
        QMessageBox.information(self, "村务公开", "请先在表格中选一份公示。")
        return None

    def generate(self) -> None:
        db, actor, src = self.db, self.actor, self.source.currentData()
        self.worker.op(
            lambda: postings.post_list(db, actor, src),
            lambda pid: self._made(pid),
            busy=[self.generate_btn],
            parent=self,
        )

    def _made(self, pid: uuid.UUID) -> None:
        self.view.setCurrentIndex(list(VIEWS).index("all"))
        self.refresh()
        self.print_posting(pid)

    def new_posting(self) -> None:
        dlg = PostingDialog(self)
        if dlg.exec() and dlg.posting_id is not None:
            self._made(dlg.posting_id)

    def mark_up(self) -> None:
        p = self._selected_posting()
        if p is None:
            return
        db, actor = self.db, self.actor
        self.worker.op(
            lambda: postings.mark_up(db, actor, p.id), lambda _r: self.refresh(), busy=[self.up_btn], parent=self
        )

    def mark_down(self) -> None:
        p = self._selected_posting()
        if p is None:
            return
        note = ""
        end = p.period_end
        if end is not None and postings.today() < end:
            note, ok = QInputDialog.getText(self, "提前撤下", f"公示期要到 {end:%Y-%m-%d} 才满。提前撤下的原因：")
            if not ok:
                return
        db, actor = self.db, self.actor
        self.worker.op(
            lambda: postings.mark_down(db, actor, p.id, note),
            lambda _r: self.refresh(),
            busy=[self.down_btn],
            parent=self,
        )

    def print_posting(self, pid: uuid.UUID | None = None) -> None:
        from desktop.ui.printing import show_preview

        if pid is None:
            p = self._selected_posting()
            if p is None:
                return
            pid = p.id
        db = self.db
        show_preview(
            self,
            "打印公示",
            lambda layout: paperwork.posting_document(db, pid, layout),
            layouts=("A4", "A3"),
            suggested_name="公示.pdf",
        )

    # ------------------------------------------------------------ loading
    def activated(self) -> None:
        self.refresh()
        if self.tabs.currentIndex() == 0:
            self.search.setFocus()

    def refresh(self) -> None:
        db = self.db
        if self.tabs.currentIndex() == 0:
            load_items = not self.items

            def fetch():  # type: ignore[no-untyped-def]
                items = workitems.catalogue(db) if load_items else None
                return items, workitems.requests(db, limit=500), workitems.departments(db)

            self.worker.run(fetch, self._show_requests)
        else:
            self.worker.run(lambda: postings.board(db), self._show_board)

    def _show_requests(self, result) -> None:  # type: ignore[no-untyped-def]
        items, rows, depts = result
        if items is not None:
            self.items = items
            self._fill_items()
        self.department.setCompleter(QCompleter(depts, self.department))
        self.request_rows = rows
        declined = sum(r.outcome == "declined" for r in rows)
        self.req_summary.setText(
            f"最近 {len(rows)} 件部门下派事项，已退回 {declined} 件。双击已退回的一行可打印告知单。"
        )
        fill_table(
            self.req_table,
            [
                [
                    fmt_date(r.received_on),
                    r.department,
                    r.content.replace("\n", " "),
                    r.kind_label + (f"：{r.item_name}" if r.item_name else ""),
                    r.outcome_label,
                    r.serial,
                    r.actor_name,
                ]
                for r in rows
            ],
        )

    def _show_board(self, b: postings.Board) -> None:
        key = self.view.currentData()
        rows = {"up": b.up, "overdue": b.overdue, "waiting": b.waiting, "all": b.all}[key]
        self.posting_rows = rows
        today = postings.today()
        parts = [f"公示中 {len(b.up)} 份", f"逾期未撤 {len(b.overdue)} 份", f"待张贴 {len(b.waiting)} 份"]
        self.board_summary.setText("　".join(parts) + ("　—— 逾期的请尽快撤下并登记。" if b.overdue else ""))
        self.board_summary.setObjectName("error" if b.overdue else "")
        self.board_summary.style().polish(self.board_summary)
        fill_table(
            self.post_table,
            [
                [
                    p.title,
                    postings.category_label(p.category),
                    fmt_date(p.on_date),
                    fmt_date(p.off_date),
                    f"{p.period_days} 天" if p.period_days else "",
                    p.status(today),
                    fmt_datetime(p.posted_at),
                    fmt_datetime(p.removed_at),
                ]
                for p in rows
            ],
        )


class WorkItemDialog(QDialog):
    """A list entry of the station's own (at a hub: a supplement for its stations)."""

    def __init__(self, page: PostingsPage):
        super().__init__(page)
        self.page = page
        self.setWindowTitle("新增本站清单事项")
        lay = QVBoxLayout(self)
        form = QFormLayout()
        self.errors = FormErrors(form)
        self.kind = QComboBox()
        for key, label in workitems.KINDS.items():
            self.kind.addItem(label, key)
        self.kind.setCurrentIndex(2)
        self.name = QLineEdit()
        self.basis = QLineEdit()
        self.aliases = QLineEdit()
        self.category = QLineEdit()
        for key, label, w, note in (
            ("kind", "清单", self.kind, None),
            ("name", "事项名称", self.name, None),
            ("basis", "依据", self.basis, "文件名称、文号或条款，必填；退回时告知单引用它。"),
            ("aliases", "关键词", self.aliases, "用逗号分隔，便于查找。"),
            ("category", "类别", self.category, None),
        ):
            self.errors.add(key, label, w, note)
        lay.addLayout(form)
        self.ok = dialog_buttons(self, "保存", self.submit)
        self.resize(640, 420)

    def submit(self) -> None:
        p = self.page
        kw: dict[str, Any] = {
            "kind": self.kind.currentData(),
            "name": self.name.text(),
            "basis": self.basis.text(),
            "aliases": self.aliases.text(),
            "category": self.category.text(),
        }
        self.errors.submit(
            p.worker,
            lambda: workitems.save_item(p.db, p.actor, None, **kw),
            self,
            lambda _r: self.accept(),
            busy=[self.ok],
        )


class PostingDialog(QDialog):
    def __init__(self, page: PostingsPage):
        super().__init__(page)
        self.page = page
        self.posting_id: uuid.UUID | None = None
        self.setWindowTitle("新建公示")
        lay = QVBoxLayout(self)
        form = QFormLayout()
        self.errors = FormErrors(form)
        self.title_ = QLineEdit()
        self.category = QComboBox()
        for key in postings.CATEGORIES:
            self.category.addItem(postings.category_label(key) if key != "affairs" else "村（居）务", key)
        self.category.setCurrentIndex(1)
        self.on = _date_edit(postings.today())
        self.period = QSpinBox()
        self.period.setRange(0, 365)
        self.period.setSpecialValueText("不设公示期")
        self.period.setSuffix(" 天")
        self.period.valueChanged.connect(lambda _v: self._suggest_off())
        self.on.dateChanged.connect(lambda _d: self._suggest_off())
        self.off = _date_edit(postings.today())
        self.body = QPlainTextEdit()
        self.body.setMinimumHeight(140)
        presets = "；".join(f"{k} {v} 天" for k, v in postings.PRESETS.items())
        for key, label, w, note in (
            ("title", "标题", self.title_, None),
            ("category", "类别", self.category, None),
            ("on_date", "张贴日期", self.on, None),
            ("period_days", "公示期", self.period, f"需要公示期的才填，如：{presets}。"),
            ("off_date", "撤下日期", self.off, None),
            ("body", "内容", self.body, None),
        ):
            self.errors.add(key, label, w, note)
        lay.addLayout(form)
        self.ok = dialog_buttons(self, "保存", self.submit)
        self._suggest_off()
        self.resize(700, 620)

    def _suggest_off(self) -> None:
        days = self.period.value() or postings.DEFAULT_DAYS
        self.off.setDate(self.on.date().addDays(days))

    def submit(self) -> None:
        p = self.page
        kw: dict[str, Any] = {
            "title": self.title_.text(),
            "body": self.body.toPlainText(),
            "category": self.category.currentData(),
            "on_date": _pydate(self.on.date()),
            "off_date": _pydate(self.off.date()),
            "period_days": self.period.value() or None,
        }

        def done(pid: uuid.UUID) -> None:
            self.posting_id = pid
            self.accept()

        self.errors.submit(p.worker, lambda: postings.create(p.db, p.actor, **kw), self, done, busy=[self.ok])
