"""居民: search as you type over the whole registry, a lazy table, details,
registration and editing with the duplicate guard."""

from __future__ import annotations

import uuid
from datetime import date
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QDate,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    QTimer,
    Signal,
    SignalInstance,
)
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDateEdit,
    QDialog,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from db.errors import ValidationError
from desktop.services import counter, households, residents, timeline
from desktop.services.residents import DuplicateFound, ResidentForm
from desktop.services.search import Hit, ResidentIndex
from desktop.services.vocab import DOC_TYPES, ETHNICITIES, GENDERS, RESIDENCY, SPECIAL_GROUPS
from desktop.ui.errors import show_error
from desktop.ui.pages.base import Page
from desktop.ui.widgets import FormErrors, dialog_buttons, fmt_age, fmt_datetime, hint, primary, scaled

COLUMNS = [
    "姓名",
    "性别",
    "年龄",
    "证件号码",
    "电话",
    "地址",
    "状态",
    "匹配",
]  # age, not the birth date: see idnumbers.mask
STATION_COLUMN = "登记站点"
SEARCH_DELAY_MS = 120


class ResidentModel(QAbstractTableModel):
    """Rows are either search hits or index slots (the whole registry); a cell
    is computed only when the view paints it, so 100 000 rows cost nothing."""

    def __init__(self, index: ResidentIndex):
        super().__init__()
        self.search_index = index  # not "index": that would hide QAbstractItemModel.index()
        self.hits: list[Hit] | None = None
        self.slots: list[int] = []

    def set_hits(self, hits: list[Hit]) -> None:
        self.beginResetModel()
        self.hits, self.slots = hits, []
        self.endResetModel()

    def set_slots(self, slots: list[int]) -> None:
        self.beginResetModel()
        self.hits, self.slots = None, slots
        self.endResetModel()

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: N802
        return 0 if parent.isValid() else (len(self.hits) if self.hits is not None else len(self.slots))

    def many_stations(self) -> bool:
        """A hub holds several stations' residents: then say whose each one is."""
        return len(self.search_index.origins) > 1

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: N802
        return len(COLUMNS) + (1 if self.many_stations() else 0)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:  # noqa: N802
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section] if section < len(COLUMNS) else STATION_COLUMN
        return None

    def hit(self, row: int) -> Hit:
        if self.hits is not None:
            return self.hits[row]
        return self.search_index.hit_at(self.slots[row])

    def data(self, idx: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role != Qt.ItemDataRole.DisplayRole or not idx.isValid():
            return None
        h = self.hit(idx.row())
        c = idx.column()
        if c == len(COLUMNS):
            return self.search_index.station_names.get(h.origin, h.origin)
        return (
            h.name,
            GENDERS.get(h.gender, ""),
            fmt_age(h.birth_date),
            h.doc_masked,
            h.phone,
            h.address,
            h.status,
            h.matched,
        )[c]


class ResidentDialog(QDialog):
    """Register a resident, or edit one (``view`` given)."""

    def __init__(self, page: ResidentsPage, view: residents.ResidentView | None = None):
        super().__init__(page)
        self.page, self.view = page, view
        self.saved_id: uuid.UUID | None = view.id if view else None
        self.open_existing: uuid.UUID | None = None
        self.hidden_birth: date | None = None
        self.setWindowTitle("修改居民信息" if view else "登记居民")
        self.setMinimumWidth(720)
        lay = QVBoxLayout(self)
        grid = QGridLayout()
        left, right = QFormLayout(), QFormLayout()
        grid.addLayout(left, 0, 0)
        grid.addLayout(right, 0, 1)
        lay.addLayout(grid)
        self.errors = FormErrors(left)
        e = self.errors
        self.name = QLineEdit()
        self.name.setMaxLength(200)
        self.doc_type = QComboBox()
        for k, v in DOC_TYPES.items():
            self.doc_type.addItem(v, k)
        self.doc_number = QLineEdit()
        self.doc_number.setMaxLength(40)
        if view:
            self.doc_number.setPlaceholderText(f"尾号 {view.doc_masked[-4:]}（不修改请留空）")
        self.gender = QComboBox()
        for code, label in GENDERS.items():
            self.gender.addItem(label, code)
        self.birth = QDateEdit()
        self.birth.setCalendarPopup(True)
        self.birth.setDisplayFormat("yyyy年M月d日")
        self.birth.setMinimumDate(QDate(1880, 1, 1))
        self.birth.setSpecialValueText("未填")
        self.birth.setDate(self.birth.minimumDate())
        self.phone = QLineEdit()
        self.phone.setMaxLength(40)
        e.add("name", "姓名", self.name)
        e.add("doc_type", "证件类型", self.doc_type)
        e.add("doc_number", "证件号码", self.doc_number, "身份证号码会自动核对，并填出生日期和性别。")
        e.add("gender", "性别", self.gender)
        e.add("birth_date", "出生日期", self.birth)
        e.add("phone", "联系电话", self.phone)
        self.doc_number.editingFinished.connect(self._fill_from_id)

        self.right_errors = FormErrors(right)
        r = self.right_errors
        self.ethnicity = QComboBox()
        for k, v in ETHNICITIES.items():
            self.ethnicity.addItem(v, k)
        self.residency = QComboBox()
        for k, v in RESIDENCY.items():
            self.residency.addItem(v, k)
        self.estate, self.building, self.unit, self.room = QLineEdit(), QLineEdit(), QLineEdit(), QLineEdit()
        addr = QHBoxLayout()
        for w, ph, width in (
            (self.estate, "小区", 140),
            (self.building, "栋", 50),
            (self.unit, "单元", 50),
            (self.room, "室", 60),
        ):
            w.setPlaceholderText(ph)
            w.setMaximumWidth(width if width < 100 else 16777215)
            addr.addWidget(w)
        addr_box = QWidget()
        addr_box.setLayout(addr)
        addr.setContentsMargins(0, 0, 0, 0)
        self.grid_ = QLineEdit()
        self.grid_.setPlaceholderText("如：第一网格")
        r.add("ethnicity", "民族", self.ethnicity)
        r.add("residency", "居住类型", self.residency)
        r.add("estate", "住址", addr_box)
        r.add("grid", "网格", self.grid_)
        tag_box = QWidget()
        tag_grid = QGridLayout(tag_box)
        tag_grid.setContentsMargins(0, 0, 0, 0)
        self.tags: dict[str, QCheckBox] = {}
        for i, t in enumerate(SPECIAL_GROUPS):
            cb = QCheckBox(t)
            self.tags[t] = cb
            tag_grid.addWidget(cb, i // 3, i % 3)
        r.add("tags", "人员类别", tag_box)
        self.notes = QPlainTextEdit()
        self.notes.setMaximumHeight(70)
        r.add("notes", "备注", self.notes)

        self.ok = dialog_buttons(self, "保存", self.submit)
        if view:
            self._load(view.form)
        self.name.setFocus()

    def _load(self, f: ResidentForm) -> None:
        self.name.setText(f.name)
        self.doc_type.setCurrentIndex(self.doc_type.findData(f.doc_type))
        self.gender.setCurrentIndex(self.gender.findData(f.gender))
        if f.birth_date and f.doc_type == "ric" and self.view and self.view.doc_masked:
            # Eight of the number's digits: hidden as the number is (it
            # follows the number; typing a new number shows the new date).
            self.hidden_birth = f.birth_date
            self.birth.setSpecialValueText("（随身份证号码）")
            self.birth.setEnabled(False)
        elif f.birth_date:
            self.birth.setDate(QDate(f.birth_date.year, f.birth_date.month, f.birth_date.day))
        self.phone.setText(f.phone)
        self.ethnicity.setCurrentIndex(max(0, self.ethnicity.findData(f.ethnicity)))
        self.residency.setCurrentIndex(self.residency.findData(f.residency))
        for w, v in (
            (self.estate, f.estate),
            (self.building, f.building),
            (self.unit, f.unit),
            (self.room, f.room),
            (self.grid_, f.grid),
        ):
            w.setText(v)
        for t in f.tags:
            self.tags[t].setChecked(True)
        self.notes.setPlainText(f.notes)

    def _fill_from_id(self) -> None:
        if self.doc_type.currentData() != "ric" or not self.doc_number.text().strip():
            return
        from desktop.services.idnumbers import validate_ric

        self.errors.clear()
        try:
            info = validate_ric(self.doc_number.text())
        except ValidationError as exc:
            self.errors.show("doc_number", exc.user_message)
            return
        self.doc_number.setText(info.number)
        self.gender.setCurrentIndex(self.gender.findData(info.gender))
        b = info.birth_date
        self.birth.setDate(QDate(b.year, b.month, b.day))
        self.birth.setEnabled(True)
        self.hidden_birth = None

    def form(self) -> ResidentForm:
        qd = self.birth.date()
        birth = self.hidden_birth if qd == self.birth.minimumDate() else date(qd.year(), qd.month(), qd.day())
        return ResidentForm(
            name=self.name.text(),
            doc_type=self.doc_type.currentData(),
            doc_number=self.doc_number.text(),
            gender=self.gender.currentData(),
            birth_date=birth,
            phone=self.phone.text(),
            ethnicity=self.ethnicity.currentData(),
            residency=self.residency.currentData(),
            estate=self.estate.text(),
            building=self.building.text(),
            unit=self.unit.text(),
            room=self.room.text(),
            grid=self.grid_.text(),
            notes=self.notes.toPlainText(),
            tags=[t for t, cb in self.tags.items() if cb.isChecked()],
        )

    def submit(self, duplicate_reason: str = "") -> None:
        self.errors.clear()
        self.right_errors.clear()
        p, f, view = self.page, self.form(), self.view
        fn: Callable[[], object]
        if view:
            fn = lambda: residents.update(p.db, p.actor, view.id, f, duplicate_reason=duplicate_reason)  # noqa: E731
        else:
            fn = lambda: residents.register(p.db, p.actor, f, duplicate_reason=duplicate_reason)  # noqa: E731

        def saved(result: uuid.UUID | None) -> None:
            if not view:
                self.saved_id = result
            self.accept()

        def failed(exc: BaseException) -> None:
            if isinstance(exc, ValidationError):
                if not (
                    self.errors.show(exc.field, exc.user_message) or self.right_errors.show(exc.field, exc.user_message)
                ):
                    show_error(self, exc)
            elif isinstance(exc, DuplicateFound):
                self._duplicates(exc)
            else:  # shown, the form kept
                show_error(self, exc)

        # 保存 stays off until the answer is back: a double click saves once.
        p.worker.op(fn, saved, busy=[self.ok], on_error=failed, parent=self)

    def _duplicates(self, dup: DuplicateFound) -> None:
        dlg = DuplicateDialog(dup, self)
        choice = dlg.exec()
        if choice == DuplicateDialog.OPEN and dlg.selected is not None:
            self.open_existing = dlg.selected
            self.reject()
        elif choice == DuplicateDialog.SAVE_ANYWAY and dup.may_save_anyway:
            self.submit(duplicate_reason=dlg.reason)


class DuplicateDialog(QDialog):
    """The existing records (ID numbers masked): open one, go back, or, for a
    near match only, save anyway with a reason.  An identical ID number
    (``SameDocumentNumber``) has no 仍然保存 for anyone."""

    OPEN, SAVE_ANYWAY = 10, 11

    def __init__(self, dup: DuplicateFound, parent: QWidget):
        super().__init__(parent)
        self.setWindowTitle("可能重复" if dup.may_save_anyway else "证件号码已登记")
        self.selected: uuid.UUID | None = dup.candidates[0].id if dup.candidates else None
        self.reason = ""
        lay = QVBoxLayout(self)
        lay.addWidget(hint(dup.user_message))
        self.list = QListWidget()
        for c in dup.candidates:
            self.list.addItem(
                f"{c.name}　{fmt_age(c.birth_date)}　{c.doc_masked}　{c.phone}　{c.address}　（{c.reason}）"
            )
        self.list.setCurrentRow(0)
        self.list.currentRowChanged.connect(lambda i: setattr(self, "selected", dup.candidates[i].id))
        lay.addWidget(self.list)
        row = QHBoxLayout()
        back = QPushButton("返回修改")
        back.clicked.connect(self.reject)
        self.anyway = anyway = QPushButton("仍然保存…")
        anyway.clicked.connect(self._anyway)
        anyway.setVisible(dup.may_save_anyway)
        open_ = primary("打开已有记录")
        open_.clicked.connect(lambda: self.done(self.OPEN))
        row.addWidget(back)
        row.addStretch(1)
        row.addWidget(anyway)
        row.addWidget(open_)
        lay.addLayout(row)

    def _anyway(self) -> None:
        reason, ok = QInputDialog.getText(
            self, "仍然保存", "请写明为什么不是同一个人（例如：同名同生日，已核对身份证）："
        )
        if ok and reason.strip():
            self.reason = reason.strip()
            self.done(self.SAVE_ANYWAY)


class ResidentsPage(Page):
    title = "居民"
    accept_for = Signal(object)  # resident id: accept a matter at the counter
    issue_for = Signal(object)  # resident id: issue (or refuse) a certificate
    open_matter = Signal(object)  # matter id (a scanned receipt, the timeline)

    def __init__(self, *args: Any, index: ResidentIndex | None = None, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.index = index if index is not None else ResidentIndex(self.db)
        top = QHBoxLayout()
        self.search = QLineEdit()
        self.search.setPlaceholderText("搜索：姓名、拼音或首字母、证件号后几位、电话、地址；扫描回执二维码打开事项")
        self.search.setClearButtonEnabled(True)
        scaled(self.search, 2)
        self.count = QLabel()
        self.count.setObjectName("hint")
        self.new = primary("登记居民 (F2)")
        self.new.setDefault(False)
        self.new.setShortcut("F2")
        self.new.clicked.connect(self.register)
        self.import_btn = QPushButton("导入台账…")
        self.import_btn.setToolTip("从 Excel（.xlsx）或 .csv 台账导入居民；可先检查不写入")
        self.import_btn.clicked.connect(lambda _c=False: self.import_ledger())
        top.addWidget(self.search, 1)
        top.addWidget(self.count)
        top.addWidget(self.import_btn)
        top.addWidget(self.new)
        self.layout_.addLayout(top)

        split = QSplitter()
        self.model = ResidentModel(self.index)
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(30)
        from desktop.ui.widgets import fit_columns

        fit_columns(self.table, COLUMNS.index("匹配"), rows_measured=200)  # 地址 in full, 匹配 takes the rest
        self.table.selectionModel().currentRowChanged.connect(lambda cur, _prev: self._select(cur.row()))
        self.table.doubleClicked.connect(lambda _i: self.edit())
        split.addWidget(self.table)
        self.detail = QWidget()
        d = self.detail_layout = QVBoxLayout(self.detail)
        self.d_name = QLabel()
        scaled(self.d_name, 6, True)
        self.d_body = QLabel()
        self.d_body.setWordWrap(True)
        self.d_body.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.reveal = QPushButton("显示证件号")
        self.reveal.setToolTip("显示完整证件号码（会记入操作日志）")
        self.reveal.setVisible(self.actor.at_least(residents.REVEAL_ROLE))
        self.reveal.clicked.connect(self._reveal)
        self.edit_btn = QPushButton("修改 (Enter)")
        self.edit_btn.clicked.connect(self.edit)
        self.moved = QPushButton("标记迁出")
        self.moved.clicked.connect(lambda: self._mark("moved"))
        self.dead = QPushButton("标记已故")
        self.dead.clicked.connect(lambda: self._mark("dead"))
        self.accept_btn = primary("受理事项 (F3)")
        self.accept_btn.setDefault(False)
        self.accept_btn.setShortcut("F3")
        self.accept_btn.clicked.connect(lambda _c=False: self._emit_current(self.accept_for))
        self.issue_btn = primary("开具证明 (F4)")
        self.issue_btn.setDefault(False)
        self.issue_btn.setShortcut("F4")
        self.issue_btn.clicked.connect(lambda _c=False: self._emit_current(self.issue_for))
        self.family = QPushButton("家庭成员…")
        self.family.clicked.connect(lambda _c=False: self._family())
        self.history = QListWidget()
        self.history.setObjectName("timeline")
        self.history.setWordWrap(True)
        self.history.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.history.setToolTip("双击打开这条记录")
        self.history.itemActivated.connect(self._open_history)
        self.history.itemDoubleClicked.connect(self._open_history)
        d.addWidget(self.d_name)
        d.addWidget(self.d_body)
        d.addWidget(self.accept_btn)
        d.addWidget(self.issue_btn)  # its own row: side by side they clip at 14 pt
        row = QGridLayout()
        row.addWidget(self.family, 0, 0, 1, 2)  # its text names the household: the whole width
        for i, b in enumerate((self.edit_btn, self.moved, self.dead, self.reveal)):
            row.addWidget(b, 1 + i // 2, i % 2)
        d.addLayout(row)
        d.addWidget(QLabel("办事记录（最新在前）"))
        d.addWidget(self.history, 1)
        self.detail.setMinimumWidth(300)
        self.detail.setMaximumWidth(480)  # room for 家庭成员（户主 … · n 人） at 14 pt
        split.addWidget(self.detail)
        split.setStretchFactor(0, 1)
        self.layout_.addWidget(split, 1)
        self._show_detail(None)

        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.setInterval(SEARCH_DELAY_MS)
        self.timer.timeout.connect(self.run_search)
        self.search.textChanged.connect(lambda _t: self.timer.start())
        self.search.returnPressed.connect(self._open_first)
        self.current: uuid.UUID | None = None
        self._generation = 0
        self._shown_query: str | None = None  # the text whose rows the table shows
        self._enter_for: str | None = None  # Enter was pressed on this text before its rows came

    # ------------------------------------------------------------ search
    def activated(self) -> None:
        self.run_search()
        self.search.setFocus()

    def run_search(self) -> None:
        self.timer.stop()
        q = self.search.text()
        self._generation += 1
        gen, index = self._generation, self.index
        if q.strip():
            self.worker.run(lambda: index.search(q, limit=200), lambda hits: self._hits(gen, hits, q), parent=self)
        else:
            self.worker.run(
                index.live_slots, lambda slots: self._slots(gen, slots, q), label="正在载入居民名册…", parent=self
            )

    def _hits(self, gen: int, hits: list[Hit], query: str | None = None) -> None:
        if gen != self._generation:
            return  # a newer keystroke is on its way
        self.model.set_hits(hits)
        self.count.setText(f"找到 {len(hits)} 人" if len(hits) < 200 else "显示最相关的 200 人")
        self._after_reset(query)

    def _slots(self, gen: int, slots: list[int], query: str) -> None:
        if gen != self._generation:
            return
        self.model.set_slots(slots)
        self.count.setText(f"共 {len(slots):,} 人")
        self._after_reset(query)

    def _after_reset(self, query: str | None) -> None:
        """The rows for ``query`` are shown (None: one resident picked, not a search)."""
        self._shown_query = query
        if self.model.rowCount():
            self.table.selectRow(0)
        else:
            self._show_detail(None)
        if query is not None and query == self._enter_for:
            self._enter_for = None
            if self.model.rowCount():  # what Enter does, now on the rows of the text as typed
                self.table.setFocus()
                self.edit()

    def _open_first(self) -> None:
        text = self.search.text()
        if self._scanned_code(text):
            return
        if text != self._shown_query:
            # Typed (or scanned) faster than the search: the rows on screen
            # answer an earlier text. Search this text now and act on its rows.
            self._enter_for = text
            self.run_search()
            return
        if self.model.rowCount():
            self.table.setFocus()
            self.table.selectRow(0)

    def _scanned_code(self, text: str) -> bool:
        """A receipt, certificate or volunteer-certificate code scanned here:
        say what it is and offer to open it. True if ``text`` is such a code."""
        from desktop.services import certificates

        db, code = self.db, text.strip()
        if counter.looks_like_receipt(text):

            def found(mid: uuid.UUID | None) -> None:
                if mid is None:
                    QMessageBox.information(self, "没有找到", f"没有回执编号为 {code} 的事项。")
                else:
                    self.search.clear()
                    self.open_matter.emit(mid)

            self.worker.op(lambda: counter.find_by_receipt(db, text), found, busy=[self.search], parent=self)
            return True
        volunteer = code.upper().startswith("ZY:")
        if not (volunteer or certificates.looks_like_code(text)):
            return False
        self.timer.stop()
        self._generation += 1  # whatever search is on its way is not for a resident
        what = "志愿服务记录证明" if volunteer else "证明"
        if (
            QMessageBox.question(
                self, "这不是居民", f"扫描到的是一份{what}的二维码（或编号），不是居民。\n\n要核验这份{what}吗？"
            )
            != QMessageBox.StandardButton.Yes
        ):
            return True
        self.search.clear()
        if volunteer:
            from desktop.services import volunteers

            self.worker.op(
                lambda: volunteers.verify_certificate(db, code),
                lambda r: (QMessageBox.information if r[0] else QMessageBox.warning)(
                    self, "核验志愿服务记录证明", r[1]
                ),
                busy=[self.search],
                parent=self,
            )
        else:
            from desktop.ui.pages.certificates import VerifyDialog

            self.worker.op(
                lambda: certificates.verify(db, code),
                lambda v: VerifyDialog(self, v).exec(),
                busy=[self.search],
                parent=self,
            )
        return True

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self.table.hasFocus():
            self.edit()
            return
        super().keyPressEvent(event)

    # ------------------------------------------------------------ detail
    def _select(self, row: int) -> None:
        if row < 0 or row >= self.model.rowCount():
            self._show_detail(None)
            return
        self._show_detail(self.model.hit(row))

    def _emit_current(self, signal: SignalInstance) -> None:
        if self.current:
            signal.emit(self.current)

    def _show_detail(self, h: Hit | None) -> None:
        has = h is not None
        for b in (self.reveal, self.edit_btn, self.moved, self.dead, self.accept_btn, self.issue_btn, self.family):
            b.setEnabled(has)
        self.history.clear()
        if h is None:
            self.current = None
            self.d_name.setText("")
            self.d_body.setText("在上面输入姓名、拼音首字母、证件号后几位或电话，\n按 F2 登记新居民。")
            return
        self.current = h.id
        self.d_name.setText(h.name + (f"（{h.status}）" if h.status else ""))
        self.d_body.setText(
            f"性别：{GENDERS.get(h.gender, '')}\n年龄：{fmt_age(h.birth_date) or '—'}\n证件号码：{h.doc_masked}\n"
            f"电话：{h.phone or '—'}\n地址：{h.address or '—'}"
        )
        db, rid = self.db, h.id
        self.worker.run(
            lambda: (households.of_resident(db, rid), timeline.for_resident(db, rid)),
            lambda res: self._show_history(rid, *res),
        )

    def _show_history(
        self, rid: uuid.UUID, hh: households.HouseholdView | None, items: list[timeline.TimelineItem]
    ) -> None:
        if rid != self.current:
            return
        self.family.setText(f"家庭成员（{hh.summary().split(' · ', 1)[1]}）…" if hh else "家庭成员（未归户）…")
        # the panel widens for a long head's name or a large font instead of cutting the text
        m = self.detail_layout.contentsMargins()
        self.detail.setMinimumWidth(max(300, self.family.sizeHint().width() + m.left() + m.right()))
        self.history.clear()
        for it in items:
            item = QListWidgetItem(f"{it.title}\n{fmt_datetime(it.at)}　{it.detail}")
            item.setData(Qt.ItemDataRole.UserRole, (it.kind, it.ref_id))
            self.history.addItem(item)
        if not items:
            self.history.addItem("还没有办事记录")

    def _family(self) -> None:
        if not self.current:
            return
        from desktop.ui.pages.households import HouseholdDialog

        dlg = HouseholdDialog(self, self.db, self.actor, self.worker, self.current)
        dlg.exec()
        if dlg.changed:
            self.worker.run(self.index.refresh, lambda _n: self._select(self.table.currentIndex().row()), parent=self)

    def _open_history(self, item: QListWidgetItem) -> None:
        ref = item.data(Qt.ItemDataRole.UserRole)
        if ref and ref[0] == "matter":
            self.open_matter.emit(ref[1])
        elif ref and ref[0] == "certificate":
            from desktop.services import certificates
            from desktop.ui.pages.certificates import VerifyDialog

            db, cid = self.db, ref[1]
            self.worker.op(
                lambda: certificates.get(db, cid),
                lambda d: VerifyDialog(
                    self,
                    certificates.Verification(True, d.status == "issued", False, f"证明记录（{d.status_label}）", d),
                ).exec(),
                busy=[self.history],
                parent=self,
            )

    def _reveal(self) -> None:
        if not self.current:
            return
        rid, db, actor = self.current, self.db, self.actor
        reason, ok = QInputDialog.getText(self, "查看完整证件号", "查看原因（会记入操作日志）：")
        if not ok:
            return
        self.worker.op(
            lambda: residents.reveal_document_number(db, actor, rid, reason),
            lambda num: QMessageBox.information(self, "完整证件号码", num or "（未登记证件号码）"),
            busy=[self.reveal],
            parent=self,
        )

    def _mark(self, what: str) -> None:
        if not self.current:
            return
        label = "迁出" if what == "moved" else "已故"
        if (
            QMessageBox.question(self, f"标记{label}", f"确定把这位居民标记为{label}吗？记录不会删除。")
            != QMessageBox.StandardButton.Yes
        ):
            return
        rid, db, actor, today = self.current, self.db, self.actor, date.today()
        fn = residents.mark_moved_out if what == "moved" else residents.mark_deceased
        self.worker.op(
            lambda: fn(db, actor, rid, today), lambda _r: self.run_search(), busy=[self.moved, self.dead], parent=self
        )

    # ------------------------------------------------------------ forms
    def import_ledger(self) -> None:
        from desktop.ui.pages.ledger_import import ImportDialog

        dlg = ImportDialog(self, self.db, self.actor, self.worker)
        dlg.imported.connect(lambda _report: self.run_search())
        dlg.exec()

    def register(self) -> None:
        self._open_dialog(ResidentDialog(self))

    def edit(self) -> None:
        if not self.current:
            return
        rid, db = self.current, self.db
        self.worker.op(
            lambda: residents.get(db, rid),
            lambda view: self._open_dialog(ResidentDialog(self, view)),
            busy=[self.edit_btn],
            parent=self,
        )

    def _open_dialog(self, dlg: ResidentDialog) -> None:
        dlg.exec()
        target = dlg.saved_id if dlg.result() else dlg.open_existing
        if target is not None:
            self.select_resident(target)

    def select_resident(self, rid: uuid.UUID) -> None:
        """Show one resident: search its record and select it."""
        index = self.index

        def find() -> list[Hit]:
            index.refresh()
            slot = index.slot_of.get(rid)
            return [] if slot is None else [index.hit_at(slot)]

        self._generation += 1
        gen = self._generation
        self.search.blockSignals(True)
        self.search.clear()
        self.search.blockSignals(False)
        self.worker.run(find, lambda hits: self._hits(gen, hits, None), parent=self)
