"""接待台: today's board, accepting a matter with a receipt or a one-time
notice, tracking it, closing it with the resident's rating, rectifications,
and the station's matter catalogue."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, QTimer, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QButtonGroup,
    QComboBox,
    QDialog,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QRadioButton,
    QSpinBox,
    QSplitter,
    QTableView,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from db.errors import ValidationError
from desktop.services import counter, rota, workdays
from desktop.services.counter import Material, MatterRow, MatterTypeView, MissingMaterials
from desktop.services.search import ResidentIndex
from desktop.settings import Settings
from desktop.ui.errors import show_error
from desktop.ui.pages.base import Page
from desktop.ui.pickers import ResidentPicker
from desktop.ui.widgets import FormErrors, action_row, dialog_buttons, fmt_date, fmt_datetime, hint, primary, scaled

RECEIPT_LAYOUTS = ("A4", "A5", "80mm")
WARM_UP_MS = 3000


def _warm_up() -> None:
    from desktop import paperwork
    from desktop.services import names

    paperwork.fonts.resolve()
    names.name_pinyin("预热")  # pypinyin's dictionary, for catalogue search by initials


OVERDUE_BG = QColor("#fde2e1")
DUE_BG = QColor("#fff4d6")


class MatterModel(QAbstractTableModel):
    HEADERS = ["回执编号", "居民", "事项", "渠道", "状态", "受理时间", "承诺日期", "经办人"]

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[MatterRow] = []
        self.today = date.today()
        self.cover: dict[uuid.UUID, str] = {}  # matter → why its handler is away (AB岗: this desk covers)

    def set_rows(self, rows: list[MatterRow], today: date) -> None:
        self.beginResetModel()
        self.rows, self.today = rows, today
        self.endResetModel()

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: N802
        return len(self.HEADERS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:  # noqa: N802
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self.HEADERS[section]
        return None

    def data(self, idx: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        r = self.rows[idx.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            status = counter.STATUSES.get(r.status, r.status)
            if r.overdue(self.today):
                status += "（超期）"
            if r.rating is not None:
                status += f" · {counter.RATINGS[r.rating]}"
            return [
                r.receipt_no,
                r.resident_name,
                r.matter_name,
                counter.CHANNELS.get(r.channel, r.channel),
                status,
                fmt_datetime(r.accepted_at),
                fmt_date(r.promised_date),
                r.handler_name + (f"（{self.cover[r.id]}·我代岗）" if r.id in self.cover else ""),
            ][idx.column()]
        if role == Qt.ItemDataRole.BackgroundRole:
            if r.overdue(self.today):
                return OVERDUE_BG
            if r.status in counter.OPEN_STATUSES and r.promised_date == self.today:
                return DUE_BG
        if role == Qt.ItemDataRole.ToolTipRole and r.id in self.cover:
            return f"AB岗代岗：{r.handler_name}{self.cover[r.id]}，由你代为办理"
        if role == Qt.ItemDataRole.ToolTipRole and r.overdue(self.today):
            return f"已超过承诺日期 {fmt_date(r.promised_date)}"
        return None


def matter_table(model: QAbstractTableModel) -> QTableView:
    t = QTableView()
    t.setModel(model)
    t.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    t.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    t.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    t.verticalHeader().setVisible(False)
    t.verticalHeader().setDefaultSectionSize(30)
    from desktop.ui.widgets import fit_columns

    fit_columns(t, 2)  # receipt numbers, times and workers in full at any font size
    return t


# ====================================================================== page


class CounterPage(Page):
    title = "接待台"
    open_resident = Signal(object)  # resident id

    def __init__(
        self, *args: Any, index: ResidentIndex | None = None, settings: Settings | None = None, **kw: Any
    ) -> None:
        super().__init__(*args, **kw)
        self.index = index if index is not None else ResidentIndex(self.db)
        self.settings = settings
        top = QHBoxLayout()
        self.scan = QLineEdit()
        self.scan.setPlaceholderText("扫描回执二维码，或输入回执编号、居民姓名、事项名称，回车查找")
        self.scan.setClearButtonEnabled(True)
        scaled(self.scan, 2)
        self.scan.returnPressed.connect(self.find)
        self.accept_btn = primary("受理事项 (F2)")
        self.accept_btn.setDefault(False)
        self.accept_btn.setShortcut("F2")
        self.accept_btn.clicked.connect(lambda _c=False: self.accept_matter())
        self.notice_btn = QPushButton("一次性告知 (F3)")
        self.notice_btn.setShortcut("F3")
        self.notice_btn.clicked.connect(lambda _c=False: self.notice_only())
        self.catalogue_btn = QPushButton("事项目录")
        self.catalogue_btn.clicked.connect(lambda _c=False: CatalogueDialog(self).exec())
        top.addWidget(self.scan, 1)
        top.addWidget(self.accept_btn)
        top.addWidget(self.notice_btn)
        top.addWidget(self.catalogue_btn)
        self.layout_.addLayout(top)
        self.duty = QLabel()  # 今日值班 (AB岗 and the rota)
        self.duty.setWordWrap(True)
        self.layout_.addWidget(self.duty)
        self.stats = QLabel()
        self.stats.setObjectName("hint")
        self.layout_.addWidget(self.stats)

        self.tabs = QTabWidget()
        self.models: dict[str, MatterModel] = {}
        self.tables: dict[str, QTableView] = {}
        for key, label in (
            ("open", "在办"),
            ("due", "今日到期"),
            ("overdue", "超期"),
            ("mine", "我的"),
            ("recent", "最近受理"),
            ("found", "查找结果"),
        ):
            m = MatterModel()
            t = matter_table(m)
            t.doubleClicked.connect(lambda i, key=key: self.open_matter(self.models[key].rows[i.row()].id))
            t.activated.connect(lambda i, key=key: self.open_matter(self.models[key].rows[i.row()].id))
            self.models[key], self.tables[key] = m, t
            self.tabs.addTab(t, label)
        self.rect_table = QTableWidget(0, 6)
        self.rect_table.setHorizontalHeaderLabels(["回执编号", "居民", "事项", "评价", "整改期限", "状态"])
        self.rect_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.rect_table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.rect_table.verticalHeader().setVisible(False)
        from desktop.ui.widgets import fit_columns

        fit_columns(self.rect_table, 2)
        self.rect_table.cellDoubleClicked.connect(lambda row, _c: self.open_matter(self._rects[row].matter_id))
        self._rects: list[counter.RectificationView] = []
        if self.actor.at_least("supervisor"):
            self.rect_tab = self.tabs.addTab(self.rect_table, "差评整改")
        self.layout_.addWidget(self.tabs, 1)
        self.layout_.addWidget(hint("双击一行查看详情、办理、办结和评价。红色为超过承诺日期，黄色为今天到期。"))
        # Load reportlab and the font a few seconds after start-up, on the worker,
        # so the first receipt prints as fast as the others.
        QTimer.singleShot(WARM_UP_MS, lambda: self.worker.run(_warm_up, lambda _r: None, lambda _e: None))

    # ------------------------------------------------------------ board
    def activated(self) -> None:
        self.refresh()
        self.scan.setFocus()

    def refresh(self) -> None:
        db, actor = self.db, self.actor

        def load() -> tuple[counter.Board, list[MatterRow], list[counter.RectificationView]]:
            b = counter.board(db)
            rects = counter.rectifications(db, actor) if actor.at_least("supervisor") else []
            return b, counter.recent(db, 200), rects

        self.worker.run(load, self._show, lambda e: show_error(self, e))
        self.worker.run(
            lambda: (rota.duty(db).line(), rota.cover_rows(db, actor.account_id)),
            self._show_cover,
            lambda e: show_error(self, e),
        )

    def _show_cover(self, result: tuple[str, list[rota.CoverRow]]) -> None:
        """今日值班, and the matters of colleagues this desk covers on 我的 (after ``_show``)."""
        line, cover = result
        self.duty.setText(line)
        mine = self.models["mine"]
        extra = [c.row for c in cover if c.row.id not in {r.id for r in mine.rows}]
        mine.cover = {c.row.id: c.reason for c in cover}
        mine.set_rows(mine.rows + extra, mine.today)
        if cover:
            self.tabs.setTabText(3, f"我的 {mine.rowCount()}（含代岗 {len(cover)}）")

    def _show(self, result: tuple[counter.Board, list[MatterRow], list[counter.RectificationView]]) -> None:
        b, recent, rects = result
        today = b.today
        for key, rows in (
            ("open", b.open),
            ("due", b.due_today()),
            ("overdue", b.overdue()),
            ("mine", b.mine(self.actor)),
            ("recent", recent),
        ):
            self.models[key].set_rows(rows, today)
        labels = {"open": "在办", "due": "今日到期", "overdue": "超期", "mine": "我的"}
        for i, key in enumerate(("open", "due", "overdue", "mine")):
            self.tabs.setTabText(i, f"{labels[key]} {self.models[key].rowCount()}")
        self.stats.setText(
            f"{fmt_date(today)}　今日受理 {b.accepted_today} 件 · 今日办结 {b.closed_today} 件 · "
            f"在办 {len(b.open)} 件 · 今日到期 {len(b.due_today())} 件 · 超期 {len(b.overdue())} 件"
            + (f" · 待整改 {len(rects)} 件" if rects else "")
        )
        self._rects = rects
        self.rect_table.setRowCount(len(rects))
        for row, r in enumerate(rects):
            overdue = r.due_date < today
            cells = [
                r.receipt_no,
                r.resident_name,
                r.matter_name,
                counter.RATINGS.get(r.rating, ""),
                fmt_date(r.due_date),
                "已超期" if overdue else "待整改",
            ]
            for col, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if overdue:
                    item.setBackground(OVERDUE_BG)
                self.rect_table.setItem(row, col, item)
        if self.actor.at_least("supervisor"):
            self.tabs.setTabText(self.rect_tab, f"差评整改 {len(rects)}")

    # ------------------------------------------------------------ actions
    def find(self) -> None:  # type: ignore[override]  # not QWidget.find, the window-id lookup
        text = self.scan.text().strip()
        if not text:
            return
        db = self.db
        if counter.looks_like_receipt(text):

            def found(mid: uuid.UUID | None) -> None:
                if mid is None:
                    QMessageBox.information(self, "没有找到", f"没有回执编号为 {text} 的事项。")
                    self.scan.setFocus()
                    return
                self.scan.clear()
                self.open_matter(mid)

            self.worker.op(lambda: counter.find_by_receipt(db, text), found, busy=[self.scan], parent=self)
            return
        self.worker.run(lambda: counter.search_matters(db, text), self._found, lambda e: show_error(self, e))

    def _found(self, rows: list[MatterRow]) -> None:
        self.models["found"].set_rows(rows, date.today())
        self.tabs.setTabText(5, f"查找结果 {len(rows)}")
        self.tabs.setCurrentIndex(5)
        if rows:
            self.tables["found"].selectRow(0)
            self.tables["found"].setFocus()

    def accept_matter(self, resident_id: uuid.UUID | None = None) -> None:
        dlg = AcceptDialog(self, resident_id)
        dlg.exec()
        self.refresh()
        if dlg.accepted_matter is not None:
            self.print_receipt(dlg.accepted_matter)

    def notice_only(self, resident_id: uuid.UUID | None = None) -> None:
        dlg = AcceptDialog(self, resident_id, notice_mode=True)
        dlg.exec()

    def open_matter(self, matter_id: uuid.UUID) -> None:
        dlg = MatterDialog(self, matter_id)
        dlg.exec()
        self.refresh()

    def print_receipt(self, matter_id: uuid.UUID) -> None:
        db = self.db
        self.worker.op(
            lambda: counter.get(db, matter_id).receipt_no, lambda no: self._preview_receipt(matter_id, no), parent=self
        )

    def _preview_receipt(self, matter_id: uuid.UUID, receipt_no: str) -> None:
        # reportlab loads on first print, not at start-up (about 0.3 s).
        from desktop import paperwork
        from desktop.ui.printing import show_preview

        db = self.db
        layout = self.settings.get("receipt_layout") if self.settings else "A4"
        dlg = show_preview(
            self,
            f"受理回执 {receipt_no}",
            lambda lay: paperwork.receipt_document(db, matter_id, lay),
            layouts=RECEIPT_LAYOUTS,
            layout=layout,
            suggested_name=f"受理回执-{receipt_no}.pdf",
        )
        if dlg is not None and self.settings and dlg.layout_name != layout:
            self.settings.set("receipt_layout", dlg.layout_name)  # the paper this desk uses

    def print_notice(
        self, matter_type_id: uuid.UUID, notice_no: str, resident_name: str, missing: list[str], reason: str = ""
    ) -> None:
        from desktop import paperwork
        from desktop.ui.printing import show_preview

        db, worker_name = self.db, self.actor.display_name
        show_preview(
            self,
            "一次性告知单",
            lambda layout: paperwork.notice_document(
                db,
                matter_type_id,
                notice_no=notice_no,
                resident_name=resident_name,
                missing=missing,
                reason=reason,
                worker_name=worker_name,
                layout=layout,
            ),
            layouts=("A4", "A5"),
            suggested_name=f"一次性告知单-{notice_no or '咨询'}.pdf",
        )


# ====================================================================== accepting


class AcceptDialog(QDialog):
    """Pick the resident and the matter, tick the materials, accept."""

    def __init__(self, page: CounterPage, resident_id: uuid.UUID | None = None, notice_mode: bool = False):
        super().__init__(page)
        self.page, self.notice_mode = page, notice_mode
        self.setWindowTitle("一次性告知" if notice_mode else "受理事项")
        self.accepted_matter: uuid.UUID | None = None
        self.notice_no: str | None = None
        self.types: list[MatterTypeView] = []
        self.cal: workdays.Calendar | None = None
        self._shown: list[MatterTypeView] = []
        self.current: MatterTypeView | None = None

        lay = QVBoxLayout(self)
        grid = QGridLayout()
        # resident
        grid.addWidget(QLabel("1. 居民"), 0, 0)
        self.picker = ResidentPicker(page.index, optional=notice_mode, worker=page.worker)
        self.who = self.picker.edit
        grid.addWidget(self.picker, 1, 0, 3, 1)
        # matter
        grid.addWidget(QLabel("2. 事项"), 0, 1)
        self.what = QLineEdit()
        self.what.setPlaceholderText("事项名称、别名或拼音首字母，如 低保、jzz")
        self.what.textChanged.connect(self._search_types)
        self.what_list = QListWidget()
        self.what_list.currentRowChanged.connect(self._pick_type)
        self.type_info = QLabel()
        self.type_info.setWordWrap(True)
        self.type_info.setObjectName("hint")
        grid.addWidget(self.what, 1, 1)
        grid.addWidget(self.what_list, 2, 1)
        grid.addWidget(self.type_info, 3, 1)
        # materials
        mat_head = QHBoxLayout()
        mat_head.addWidget(QLabel("3. 收到的材料（★ 为必需）"), 1)
        self.all_btn = QPushButton("材料齐全 (F8)")
        self.all_btn.setAutoDefault(False)
        self.all_btn.setToolTip("必需材料都已收到：一次勾选（选交的材料收到了再单独勾）")
        self.all_btn.setShortcut("F8")
        self.all_btn.clicked.connect(
            lambda _c=False: self.tick(self.current.required_materials if self.current else [])
        )
        mat_head.addWidget(self.all_btn)
        grid.addLayout(mat_head, 0, 2)
        self.materials = QListWidget()
        grid.addWidget(self.materials, 1, 2, 2, 1)
        form = QFormLayout()
        self.channel = QComboBox()
        for code, label in counter.DESK_CHANNELS.items():  # 代办: on the 代办 page, with its agent
            self.channel.addItem(label, code)
        self.channel.setToolTip("委托代办的事项请在“代办”页登记（选择代办员、登记原件）")
        self.note = QLineEdit()
        self.note.setMaxLength(counter.MAX_NOTE)
        self.note.setPlaceholderText("选填")
        form.addRow("受理渠道", self.channel)
        form.addRow("备注", self.note)
        box = QWidget()
        box.setLayout(form)
        grid.addWidget(box, 3, 2)
        for col in range(3):
            grid.setColumnStretch(col, 1)
        lay.addLayout(grid, 1)
        self.message = QLabel()
        self.message.setObjectName("error")
        self.message.setWordWrap(True)
        self.message.setVisible(False)
        lay.addWidget(self.message)

        row = QHBoxLayout()
        self.notice_btn = QPushButton("出具一次性告知单")
        self.notice_btn.clicked.connect(lambda _c=False: self.give_notice())
        row.addWidget(self.notice_btn)
        row.addStretch(1)
        cancel = QPushButton("取消")
        from desktop.ui.widgets import guard_input  # Escape / 取消 with typed input asks first

        cancel.clicked.connect(guard_input(self).cancel)
        row.addWidget(cancel)
        self.ok = primary("受理并打印回执")
        self.ok.clicked.connect(lambda _c=False: self.submit())
        self.ok.setVisible(not notice_mode)
        row.addWidget(self.ok)
        lay.addLayout(row)
        if notice_mode:
            self.notice_btn.setDefault(True)
            self.channel.setEnabled(False)

        if resident_id is not None:
            self._fix_resident(resident_id)
        else:
            self.who.setFocus()
        self.resize(1100, 560)
        db = page.db
        page.worker.op(
            lambda: (counter.catalogue_by_use(db), workdays.load(db)),
            self._loaded,
            busy=[self.ok, self.notice_btn],
            parent=self,
        )

    def _loaded(self, result: tuple[list[MatterTypeView], workdays.Calendar]) -> None:
        self.types, self.cal = result
        self._search_types(self.what.text())

    # ---------------------------------------------------------- resident
    @property
    def resident_id(self) -> uuid.UUID | None:
        return self.picker.resident_id

    @property
    def resident_name(self) -> str:
        return self.picker.resident_name

    def _fix_resident(self, rid: uuid.UUID) -> None:
        self.picker.fix(rid)
        self.what.setFocus()

    # ---------------------------------------------------------- matter
    def _search_types(self, text: str) -> None:
        self._shown = counter.search_catalogue(self.types, text)
        self.what_list.clear()
        for t in self._shown:
            item = QListWidgetItem(f"{t.name}　[{t.mode_label}]")
            item.setToolTip(f"{t.category} · 承诺 {t.promised_days} 个工作日")
            self.what_list.addItem(item)
        if self._shown:
            self.what_list.setCurrentRow(0)
        else:
            self._pick_type(-1)

    def _pick_type(self, row: int) -> None:
        self.materials.clear()
        if self.cal is None:
            return  # the catalogue is still loading; _loaded searches again
        if not 0 <= row < len(self._shown):
            self.current = None
            self.type_info.setText("目录中没有找到。可换个说法，或请站长在“事项目录”中添加。")
            return
        t = self.current = self._shown[row]
        promised = self.cal.add_working_days(date.today(), t.promised_days)
        warn = "" if self.cal.covers(promised) else "（节假日数据未覆盖该日期，只按周末计算）"
        self.type_info.setText(
            f"{t.category} · {t.mode_label} · 收费：{t.fee or '不收费'}\n"
            f"承诺时限 {t.promised_days} 个工作日，今天受理应在 {fmt_date(promised)} 前办结{warn}\n"
            f"条件：{t.conditions[:80]}"
        )
        for m in t.materials:
            item = QListWidgetItem(("★ " if m.required else "　 ") + f"{m.name}（{m.copies} 份）")
            item.setData(Qt.ItemDataRole.UserRole, m.name)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Unchecked)
            item.setToolTip(f"来源：{m.source or '—'}；核对：{m.check or '—'}")
            self.materials.addItem(item)
        if not t.materials:
            self.materials.addItem("本事项不需要材料")

    def received(self) -> list[str]:
        out = []
        for i in range(self.materials.count()):
            item = self.materials.item(i)
            if item.data(Qt.ItemDataRole.UserRole) and item.checkState() == Qt.CheckState.Checked:
                out.append(item.data(Qt.ItemDataRole.UserRole))
        return out

    def tick(self, names: list[str]) -> None:
        for i in range(self.materials.count()):
            item = self.materials.item(i)
            if item.data(Qt.ItemDataRole.UserRole) in names:
                item.setCheckState(Qt.CheckState.Checked)

    def _say(self, text: str) -> None:
        self.message.setText(text)
        self.message.setVisible(bool(text))

    # ---------------------------------------------------------- submit
    def submit(self) -> None:
        if self.resident_id is None:
            self._say("请先选择居民；没有登记的居民请到“居民”页登记（F2）。")
            self.who.setFocus()
            return
        if self.current is None:
            self._say("请选择要受理的事项。")
            self.what.setFocus()
            return
        p, rid, tid = self.page, self.resident_id, self.current.id
        received, channel, note = self.received(), self.channel.currentData(), self.note.text()

        def failed(e: BaseException) -> None:
            if isinstance(e, MissingMaterials):
                answer = QMessageBox.question(
                    self,
                    "材料不全",
                    f"缺少必需材料：{'、'.join(e.missing)}。\n\n按“一次性告知”的要求，"
                    "不能受理时应书面告知居民需要补齐的全部材料。现在出具一次性告知单吗？",
                )
                if answer == QMessageBox.StandardButton.Yes:
                    self.give_notice(e.missing, "")
            elif isinstance(e, ValidationError):
                self._say(e.user_message)
            else:
                show_error(self, e)

        def accepted(result: counter.Accepted) -> None:
            self.accepted_matter = result.matter_id
            self.accept()

        p.worker.op(
            lambda: counter.accept(p.db, p.actor, rid, tid, received, channel, note),
            accepted,
            busy=[self.ok, self.notice_btn],
            on_error=failed,
            label="正在受理…",
            parent=self,
        )

    def give_notice(self, missing: list[str] | None = None, reason: str = "") -> None:
        if self.current is None:
            self._say("请选择要告知的事项。")
            return
        p, tid, rid = self.page, self.current.id, self.resident_id
        if missing is None:
            missing = (
                [m for m in self.current.required_materials if m not in self.received()]
                if rid is not None and not self.notice_mode
                else []
            )

        def recorded(no: str) -> None:
            self.notice_no = no
            p.print_notice(tid, no, self.resident_name, missing, reason)
            self.accept()

        p.worker.op(
            lambda: counter.record_notice(p.db, p.actor, tid, rid, missing, reason),
            recorded,
            busy=[self.ok, self.notice_btn],
            parent=self,
        )


# ====================================================================== one matter


class MatterDialog(QDialog):
    def __init__(self, page: CounterPage, matter_id: uuid.UUID):
        super().__init__(page)
        self.page, self.matter_id = page, matter_id
        self.setWindowTitle("事项详情")
        lay = QVBoxLayout(self)
        self.title = QLabel()
        scaled(self.title, 4, True)
        self.body = QLabel()
        self.body.setWordWrap(True)
        self.body.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.events = QTableWidget(0, 4)
        self.events.setHorizontalHeaderLabels(["时间", "操作", "经办人", "说明"])
        self.events.verticalHeader().setVisible(False)
        self.events.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.events.horizontalHeader().setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        self.events.setColumnWidth(0, 170)
        lay.addWidget(self.title)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.body)
        split.addWidget(self.events)
        lay.addWidget(split, 1)
        self.buttons = action_row(
            self,
            (
                ("start", "开始办理"),
                ("transfer", "转办…"),
                ("return", "退回…"),
                ("reject", "不予受理…"),
                ("close", "办结并评价…"),
                ("rate", "补录评价…"),
                ("callback", "整改回访…"),
                ("receipt", "打印回执"),
                ("resident", "查看居民"),
            ),
            self.act,
        )
        self.resize(980, 600)
        self.detail: counter.MatterDetail | None = None
        self.load()

    def load(self) -> None:
        """Read the matter on the worker; the buttons wait for it."""
        db, mid = self.page.db, self.matter_id
        self.page.worker.op(lambda: counter.get(db, mid), self._show, busy=self.buttons.values(), parent=self)

    def _show(self, d: counter.MatterDetail) -> None:
        self.detail = d
        self.title.setText(f"{d.matter_name}　{counter.STATUSES.get(d.status, d.status)}")
        overdue = d.is_open and d.promised_date < date.today()
        rect = d.rectification
        lines = [
            f"回执编号：{d.receipt_no}",
            f"居民：{d.resident_name}　证件号码：{d.resident_doc_masked or '—'}　电话：{d.resident_phone or '—'}",
            f"受理：{fmt_datetime(d.accepted_at)}，{d.accepted_by}，{counter.CHANNELS.get(d.channel, d.channel)}"
            f"　当前经办人：{d.handler_name}",
            f"承诺办结日期：{fmt_date(d.promised_date)}" + ("　<b style='color:#b42318'>已超期</b>" if overdue else ""),
            "已收材料：" + ("、".join(d.materials) or "无"),
        ]
        if d.note:
            lines.append(f"备注：{d.note}")
        if d.result:
            lines.append(f"办理结果：{d.result}")
        if d.rating is not None:
            lines.append(f"居民评价：{counter.RATINGS[d.rating]}")
        if rect:
            state = "已完成" if rect.status == "done" else f"待整改，期限 {fmt_date(rect.due_date)}"
            lines.append(
                f"<b>差评整改：</b>{state}"
                + (f"；措施：{rect.measures}；回访：{rect.callback_note}" if rect.status == "done" else "")
            )
        self.body.setText("<br>".join(_esc(x) if "<b" not in x else x for x in lines))
        self.events.setRowCount(len(d.events))
        for r, e in enumerate(d.events):
            note = e.note + (f"（转给：{e.target}）" if e.target else "")
            for c, text in enumerate([fmt_datetime(e.at), e.label, e.actor_name, note]):
                self.events.setItem(r, c, QTableWidgetItem(text))
        allowed = {k: d.status in v for k, v in counter.TRANSITIONS.items()}
        self.buttons["start"].setEnabled(allowed["start"] and d.status != "in_progress")
        for k in ("transfer", "return", "reject", "close"):
            self.buttons[k].setEnabled(allowed[k])
        self.buttons["rate"].setVisible(d.status == "done" and d.rating is None)
        sup = self.page.actor.at_least("supervisor")
        self.buttons["callback"].setVisible(bool(rect and rect.status == "open" and sup))

    def act(self, key: str) -> None:
        p, mid = self.page, self.matter_id
        if key == "receipt":
            p.print_receipt(mid)
            return
        if key == "resident":
            p.open_resident.emit(self.detail.resident_id)
            self.accept()
            return
        if key in ("close", "rate"):
            CloseDialog(self, rate_only=key == "rate").exec()
        elif key == "callback":
            CallbackDialog(self).exec()
        elif key == "start":
            p.worker.op(
                lambda: counter.transition(p.db, p.actor, mid, "start"),
                lambda _r: self.load(),
                busy=list(self.buttons.values()),
                parent=self,
            )
            return
        else:
            prompts = {
                "transfer": "转给谁（同事姓名或部门）",
                "return": "退回原因（会告知居民）",
                "reject": "不予受理的原因（会写入告知单）",
            }
            NoteDialog(self, key, prompts[key]).exec()
        self.load()


def _esc(s: str) -> str:
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class NoteDialog(QDialog):
    """Transfer, return or refuse, with the note the rules require."""

    def __init__(self, parent: MatterDialog, kind: str, prompt: str):
        super().__init__(parent)
        self.parent_, self.kind = parent, kind
        self.setWindowTitle(counter.EVENT_KINDS[kind])
        lay = QVBoxLayout(self)
        form = QFormLayout()
        self.errors = FormErrors(form)
        self.target = QComboBox()
        self.target.setEditable(True)
        if kind == "transfer":
            p = parent.page
            p.worker.run(lambda: counter.colleagues(p.db), self._colleagues, lambda e: show_error(self, e))
            self.target.lineEdit().setPlaceholderText("选择同事，或填写部门名称")
            self.errors.add(
                "target", "转给", self.target, "转给同事后，事项进入他（她）的“我的”列表；转给部门时仍由您跟进。"
            )
        self.note = QPlainTextEdit()
        self.note.setMaximumHeight(100)
        self.errors.add("note", "说明" if kind == "transfer" else "原因", self.note, prompt)
        lay.addLayout(form)
        self.ok = dialog_buttons(self, "确定", self.submit)

    def _colleagues(self, rows: list[tuple[uuid.UUID, str]]) -> None:
        typed = self.target.currentText()
        me = self.parent_.page.actor.account_id
        for aid, name in rows:
            if aid != me:
                self.target.addItem(name, aid)
        self.target.setCurrentIndex(-1)
        self.target.setEditText(typed)  # what was typed meanwhile stays

    def submit(self) -> None:
        self.errors.clear()
        p, mid, kind = self.parent_.page, self.parent_.matter_id, self.kind
        note, target = self.note.toPlainText(), self.target.currentText()
        idx = self.target.findText(target)
        to = self.target.itemData(idx) if idx >= 0 else None

        def done(_r: object) -> None:
            self.accept()
            if kind in ("return", "reject"):
                d = self.parent_.detail
                if (
                    QMessageBox.question(self, "书面告知", "要为居民打印一次性告知单（写明原因和所需材料）吗？")
                    == QMessageBox.StandardButton.Yes
                ):
                    p.print_notice(d.matter_type_id, d.receipt_no, d.resident_name, [], note)

        self.errors.submit(
            p.worker,
            lambda: counter.transition(p.db, p.actor, mid, kind, note, target, to_account=to),
            self,
            done,
            busy=[self.ok],
        )


class CloseDialog(QDialog):
    """办结: the result, and the resident's 好差评 (one per matter)."""

    def __init__(self, parent: MatterDialog, rate_only: bool = False):
        super().__init__(parent)
        self.parent_, self.rate_only = parent, rate_only
        self.setWindowTitle("补录评价" if rate_only else "办结并评价")
        lay = QVBoxLayout(self)
        form = QFormLayout()
        self.errors = FormErrors(form)
        self.result_ = QPlainTextEdit()
        self.result_.setMaximumHeight(80)
        if not rate_only:
            self.errors.add("result", "办理结果", self.result_, "如：已报街道审批通过，居民已领取。")
        rating_box = QWidget()
        rl = QHBoxLayout(rating_box)
        rl.setContentsMargins(0, 0, 0, 0)
        self.group = QButtonGroup(self)
        self.radios: dict[int, QRadioButton] = {}
        for level in (5, 4, 3, 2, 1):
            rb = QRadioButton(f"{counter.RATINGS[level]}")
            self.group.addButton(rb, level)
            self.radios[level] = rb
            rl.addWidget(rb)
        if not rate_only:
            none = QRadioButton("居民暂未评价")
            self.group.addButton(none, 0)
            rl.addWidget(none)
            none.setChecked(True)
        self.errors.add(
            "rating", "居民评价", rating_box, "不满意、非常不满意为差评，会生成整改事项（15 个工作日内整改并回访）。"
        )
        self.comment = QLineEdit()
        self.comment.setMaxLength(counter.MAX_NOTE)
        self.errors.add("comment", "评价意见", self.comment)
        lay.addLayout(form)
        self.ok = dialog_buttons(self, "保存", self.submit)
        self.closed: counter.Closed | None = None

    def rating(self) -> int | None:
        level = self.group.checkedId()
        return level if level > 0 else None

    def submit(self) -> None:
        self.errors.clear()
        p, mid = self.parent_.page, self.parent_.matter_id
        rating, comment, result = self.rating(), self.comment.text(), self.result_.toPlainText()
        if self.rate_only:
            if rating is None:
                self.errors.show("rating", "请选择评价等级。")
                return
            fn = lambda: counter.rate(p.db, p.actor, mid, rating, comment)  # noqa: E731
        else:
            fn = lambda: counter.close(p.db, p.actor, mid, result, rating, comment)  # noqa: E731
        self.errors.submit(p.worker, fn, self, self._closed, busy=[self.ok])

    def _closed(self, closed: counter.Closed) -> None:
        self.closed = closed
        if closed.rectification_due is not None:
            QMessageBox.information(
                self,
                "差评整改",
                f"已记录差评，并生成整改事项：请在 {fmt_date(closed.rectification_due)} 前完成整改，"
                "并回访居民。站长在“接待台 → 差评整改”中查看。",
            )
        self.accept()


class CallbackDialog(QDialog):
    """Close a rectification with its measures and the call-back record."""

    def __init__(self, parent: MatterDialog):
        super().__init__(parent)
        self.parent_ = parent
        self.setWindowTitle("整改回访")
        lay = QVBoxLayout(self)
        form = QFormLayout()
        self.errors = FormErrors(form)
        self.measures = QPlainTextEdit()
        self.measures.setMaximumHeight(90)
        self.callback = QPlainTextEdit()
        self.callback.setMaximumHeight(90)
        self.errors.add("measures", "整改措施", self.measures)
        self.errors.add(
            "callback_note", "回访情况", self.callback, "回访时间、方式和居民意见，如：11月25日电话回访，居民表示满意。"
        )
        lay.addLayout(form)
        self.ok = dialog_buttons(self, "完成整改", self.submit)

    def submit(self) -> None:
        self.errors.clear()
        p = self.parent_.page
        rect = self.parent_.detail.rectification
        assert rect is not None
        measures, note = self.measures.toPlainText(), self.callback.toPlainText()
        self.errors.submit(
            p.worker,
            lambda: counter.record_callback(p.db, p.actor, rect.id, measures, note),
            self,
            lambda _r: self.accept(),
            busy=[self.ok],
        )


# ====================================================================== catalogue


class CatalogueDialog(QDialog):
    """The station's matter catalogue; a supervisor adds and edits entries."""

    def __init__(self, page: CounterPage):
        super().__init__(page)
        self.page = page
        self.setWindowTitle("事项目录")
        lay = QVBoxLayout(self)
        self.can_edit = page.actor.at_least("supervisor")
        lay.addWidget(
            hint(
                "本站的事项目录。默认目录仅作示例，请以本省、市公布的村（社区）事项清单为准。"
                + ("" if self.can_edit else "（修改需要站长权限）")
            )
        )
        self.table = QTableWidget(0, 5)
        self.table.setHorizontalHeaderLabels(["名称", "分类", "方式", "承诺时限", "状态"])
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.table.cellDoubleClicked.connect(lambda r, _c: self.edit(self.items[r]))
        lay.addWidget(self.table, 1)
        row = QHBoxLayout()
        add = QPushButton("新增事项")
        add.setEnabled(self.can_edit)
        add.clicked.connect(lambda _c=False: self.edit(None))
        row.addWidget(add)
        row.addStretch(1)
        close = QPushButton("关闭")
        close.clicked.connect(self.accept)
        row.addWidget(close)
        lay.addLayout(row)
        self.resize(820, 560)
        self.items: list[MatterTypeView] = []
        self.load()

    def load(self) -> None:
        db = self.page.db
        self.page.worker.run(
            lambda: counter.catalogue(db, include_inactive=True), self._show, lambda e: show_error(self, e)
        )

    def _show(self, items: list[MatterTypeView]) -> None:
        self.items = items
        self.table.setRowCount(len(self.items))
        for r, t in enumerate(self.items):
            for c, text in enumerate(
                [
                    t.name,
                    t.category,
                    t.mode_label,
                    f"{t.promised_days} 个工作日",
                    ("停用" if not t.active else "启用") + ("（本站新增）" if t.local else ""),
                ]
            ):
                self.table.setItem(r, c, QTableWidgetItem(text))

    def edit(self, item: MatterTypeView | None) -> None:
        if not self.can_edit:
            QMessageBox.information(self, "需要站长权限", "修改事项目录需要站长或管理员登录。")
            return
        if MatterTypeDialog(self, item).exec():
            self.load()


class MatterTypeDialog(QDialog):
    def __init__(self, parent: CatalogueDialog, item: MatterTypeView | None):
        super().__init__(parent)
        self.parent_, self.item = parent, item
        self.setWindowTitle("修改事项" if item else "新增事项")
        lay = QVBoxLayout(self)
        form = QFormLayout()
        self.errors = FormErrors(form)
        self.name = QLineEdit(item.name if item else "")
        self.category = QLineEdit(item.category if item else "")
        self.mode = QComboBox()
        for code, label in counter.MODES.items():
            self.mode.addItem(label, code)
        if item:
            self.mode.setCurrentIndex(list(counter.MODES).index(item.mode))
        self.days = QSpinBox()
        self.days.setRange(0, 365)
        self.days.setSuffix(" 个工作日")
        self.days.setValue(item.promised_days if item else 5)
        self.fee = QLineEdit(item.fee if item else "不收费")
        self.basis = QLineEdit(item.basis if item else "")
        self.conditions = QPlainTextEdit(item.conditions if item else "")
        self.conditions.setMaximumHeight(60)
        self.process = QPlainTextEdit(item.process if item else "")
        self.process.setMaximumHeight(60)
        self.aliases = QLineEdit(item.aliases if item else "")
        self.aliases.setPlaceholderText("用逗号分隔，如：低保,救助")
        self.active = QComboBox()
        self.active.addItems(["启用", "停用"])
        self.active.setCurrentIndex(0 if (item is None or item.active) else 1)
        for key, label, w in (
            ("name", "事项名称", self.name),
            ("category", "分类", self.category),
            ("mode", "办理方式", self.mode),
            ("promised_days", "承诺时限", self.days),
            ("fee", "收费", self.fee),
            ("basis", "办理依据", self.basis),
            ("conditions", "办理条件", self.conditions),
            ("process", "办理流程", self.process),
            ("aliases", "别名", self.aliases),
            ("active", "状态", self.active),
        ):
            self.errors.add(key, label, w)
        lay.addLayout(form)
        lay.addWidget(QLabel("材料（名称、是否必需、份数、来源、核对要点；名称留空的行不保存）"))
        self.mats = QTableWidget(0, 5)
        self.mats.setHorizontalHeaderLabels(["名称", "必需(是/否)", "份数", "来源", "核对要点"])
        self.mats.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        mats = item.materials if item else []
        self.mats.setRowCount(len(mats) + 3)
        for r, m in enumerate(mats):
            for c, text in enumerate([m.name, "是" if m.required else "否", str(m.copies), m.source, m.check]):
                self.mats.setItem(r, c, QTableWidgetItem(text))
        self.errors.fields["materials"] = self.mats
        err = QLabel()
        err.setObjectName("error")
        err.setVisible(False)
        self.errors.labels["materials"] = err
        lay.addWidget(self.mats, 1)
        lay.addWidget(err)
        self.ok = dialog_buttons(self, "保存", self.submit)
        self.resize(760, 720)

    def view(self) -> MatterTypeView:
        mats = []
        for r in range(self.mats.rowCount()):
            cell = [self.mats.item(r, c).text().strip() if self.mats.item(r, c) else "" for c in range(5)]
            if not cell[0]:
                continue
            copies = int(cell[2]) if cell[2].isdigit() else 1
            mats.append(Material(cell[0], cell[1] not in ("否", "no", "0", "N", "n"), copies, cell[3], cell[4]))
        base = self.item
        return MatterTypeView(
            base.id if base else None,
            base.code if base else "",
            self.name.text(),
            self.category.text(),
            self.mode.currentData(),
            self.days.value(),
            self.conditions.toPlainText(),
            self.process.toPlainText(),
            self.fee.text(),
            self.basis.text(),
            self.aliases.text(),
            mats,
            self.active.currentIndex() == 0,
            base.local if base else True,
        )

    def submit(self) -> None:
        self.errors.clear()
        page = self.parent_.page
        v = self.view()
        self.errors.submit(
            page.worker,
            lambda: counter.save_matter_type(page.db, page.actor, v),
            self,
            lambda _r: self.accept(),
            busy=[self.ok],
        )
