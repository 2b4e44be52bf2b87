"""值班: the week's rota (windows × days), the AB岗 pairs, who is away and
who covers, and the weekly 值班表 for the notice board. Everyone reads it; a
supervisor edits it (the services check again)."""

from __future__ import annotations

import uuid
from datetime import date, datetime, time, timedelta
from typing import Any

from PySide6.QtCore import QDateTime, Qt, QTime
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QDateTimeEdit,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QTimeEdit,
    QVBoxLayout,
    QWidget,
)

from desktop.services import counter, rota, workdays
from desktop.services.rota import AreaView, ShiftForm, ShiftView
from desktop.ui.errors import show_error
from desktop.ui.pages.base import Page
from desktop.ui.widgets import pydate as _pydate, qdate as _qdate
from desktop.ui.widgets import FormErrors, dialog_buttons, fill_table, hint, primary, simple_table

OFF_DAY_BG = QColor("#f1f3f5")
AWAY_FG = QColor("#b42318")


def _pytime(q: QTime) -> time:
    return time(q.hour(), q.minute())


def _pydatetime(q: QDateTime) -> datetime:
    return datetime.combine(_pydate(q.date()), _pytime(q.time()))


class RotaPage(Page):
    title = "值班"

    def __init__(self, *args: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.day = date.today()
        self.week: rota.Week | None = None
        self.workers: list[tuple[uuid.UUID, str]] = []
        self.categories: list[str] = []
        self.cal: workdays.Calendar | None = None
        self.editor = self.actor.at_least("supervisor")
        nav = QHBoxLayout()
        self.prev_btn = QPushButton("◀ 上一周")
        self.this_btn = QPushButton("本周")
        self.next_btn = QPushButton("下一周 ▶")
        self.prev_btn.clicked.connect(lambda _c=False: self.go(-7))
        self.this_btn.clicked.connect(lambda _c=False: self.go(0))
        self.next_btn.clicked.connect(lambda _c=False: self.go(7))
        self.range_label = QLabel()
        self.range_label.setObjectName("sectionTitle")
        for w in (self.prev_btn, self.this_btn, self.next_btn):
            nav.addWidget(w)
        nav.addStretch(1)
        self.shift_btn = QPushButton("排班")
        self.copy_btn = QPushButton("复制上周排班")
        self.away_btn = QPushButton("登记离岗")
        self.areas_btn = QPushButton("AB岗设置")
        self.print_btn = primary("打印值班表")
        self.print_btn.setDefault(False)
        self.shift_btn.clicked.connect(lambda _c=False: self.edit_shift(None))
        self.copy_btn.clicked.connect(lambda _c=False: self.copy_week())
        self.away_btn.clicked.connect(lambda _c=False: self.mark_away())
        self.areas_btn.clicked.connect(lambda _c=False: self.edit_area(None))
        self.print_btn.clicked.connect(lambda _c=False: self.print_sheet())
        for w in (self.shift_btn, self.copy_btn, self.away_btn, self.areas_btn):
            w.setVisible(self.editor)
            nav.addWidget(w)
        nav.addWidget(self.print_btn)
        self.layout_.addLayout(nav)
        # The week on its own line: at 14 pt the buttons fill the row.
        self.layout_.addWidget(self.range_label)
        self.summary = QLabel()
        self.summary.setObjectName("hint")
        self.summary.setWordWrap(True)
        self.layout_.addWidget(self.summary)

        self.tabs = QTabWidget()
        self.grid = QTableWidget(0, 7)
        self.grid.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.grid.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.grid.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.grid.setWordWrap(True)
        self.grid.cellDoubleClicked.connect(self._grid_double)
        self.tabs.addTab(self.grid, "本周值班表")
        self.list = simple_table(["日期", "窗口", "人员", "时间", "类型", "备注"], 5)
        self.list.cellDoubleClicked.connect(lambda row, _c: self.edit_shift(self._shifts[row]))
        self.tabs.addTab(self.list, "班次明细")
        self._shifts: list[ShiftView] = []
        self.layout_.addWidget(self.tabs, 1)

        bottom = QHBoxLayout()
        left, right = QVBoxLayout(), QVBoxLayout()
        left.addWidget(QLabel("AB岗（A岗不在时，该片区的在办事项和新受理事项由B岗办理）"))
        self.pairs = simple_table(["业务片区", "窗口", "事项分类", "A岗", "B岗"], 2)
        self.pairs.cellDoubleClicked.connect(lambda row, _c: self.edit_area(self._areas[row]))
        self._areas: list[AreaView] = []
        left.addWidget(self.pairs)
        right.addWidget(QLabel("本周离岗与代岗"))
        self.away_table = simple_table(["人员", "原因", "时间", "代岗", "备注"], 2)
        self._away: list[rota.AbsenceView] = []
        right.addWidget(self.away_table)
        self.cancel_btn = QPushButton("撤销所选离岗登记")
        self.cancel_btn.setVisible(self.editor)
        self.cancel_btn.clicked.connect(lambda _c=False: self.cancel_absence())
        right.addWidget(self.cancel_btn, 0, Qt.AlignmentFlag.AlignRight)
        bottom.addLayout(left, 1)
        bottom.addLayout(right, 1)
        holder = QWidget()
        holder.setLayout(bottom)
        holder.setMaximumHeight(220)
        self.layout_.addWidget(holder)
        self.message = hint("")
        self.layout_.addWidget(self.message)
        self.layout_.addWidget(
            hint(
                "双击值班表的格子或班次明细的一行可排班、修改；灰底为休息日。"
                if self.editor
                else "排班、登记离岗和AB岗设置由站长操作。"
            )
        )

    # ------------------------------------------------------------ loading
    def activated(self) -> None:
        self.refresh()

    def go(self, days: int) -> None:
        self.day = date.today() if days == 0 else self.day + timedelta(days=days)
        self.refresh()

    def refresh(self) -> None:
        db, day = self.db, self.day

        def load() -> tuple[rota.Week, list[tuple[uuid.UUID, str]], list[str], workdays.Calendar]:
            cats = list(dict.fromkeys(t.category for t in counter.catalogue(db)))
            return rota.week(db, day), rota.workers(db), cats, workdays.load(db)

        self.worker.run(load, self._show, lambda e: show_error(self, e))

    def _show(self, result: tuple[rota.Week, list[tuple[uuid.UUID, str]], list[str], workdays.Calendar]) -> None:
        w, self.workers, self.categories, self.cal = result
        self.week = w
        self.range_label.setText(f"{w.monday:%Y年%m月%d日} – {w.sunday:%m月%d日}")
        self.grid.setRowCount(len(w.windows))
        self.grid.setVerticalHeaderLabels(w.windows)
        self.grid.setHorizontalHeaderLabels([f"{d.month}/{d.day} 周{rota.WEEKDAYS[d.weekday()]}" for d in w.days])
        for r, window in enumerate(w.windows):
            for c, d in enumerate(w.days):
                item = QTableWidgetItem("\n".join(w.cell_lines(window, d)))
                if not w.working[d]:
                    item.setBackground(OFF_DAY_BG)
                if any(w.away_on(x.worker_id, d) for x in w.cells.get((window, d), [])):
                    item.setForeground(AWAY_FG)
                self.grid.setItem(r, c, item)
        self._shifts = sorted((x for xs in w.cells.values() for x in xs), key=lambda x: (x.starts_at, x.window))
        fill_table(
            self.list,
            [
                [
                    f"{x.day:%m-%d} 周{rota.WEEKDAYS[x.day.weekday()]}",
                    x.window,
                    x.worker_name,
                    x.times,
                    x.kind_label,
                    x.note,
                ]
                for x in self._shifts
            ],
        )
        self._areas = w.areas
        fill_table(
            self.pairs, [[a.name, a.window, "、".join(a.categories) or "—", a.a_name, a.b_name] for a in w.areas]
        )
        self._away = w.absences
        fill_table(
            self.away_table,
            [
                [
                    a.worker_name,
                    a.reason_label,
                    f"{a.starts_at:%m-%d %H:%M} 至 {a.ends_at:%m-%d %H:%M}",
                    a.cover_name,
                    a.note,
                ]
                for a in w.absences
            ],
        )
        h = {k: round(v, 1) for k, v in w.hours().items()}  # 00:05–11:00 is 10.9 小时, not 10.9167
        self.summary.setText(
            f"本周排班 {len(self._shifts)} 个班次：正常 {h.get('normal', 0):g} 小时 · "
            f"错时 {h.get('staggered', 0):g} 小时 · "
            f"延时 {h.get('extended', 0):g} 小时。办公时间：{rota.OFFICE_LABEL}，其余时间开放为错时或延时。"
        )

    # ------------------------------------------------------------ actions
    def _grid_double(self, row: int, col: int) -> None:
        if self.week is None:
            return
        window, d = self.week.windows[row], self.week.days[col]
        here = self.week.cells.get((window, d), [])
        if len(here) == 1:
            self.edit_shift(here[0])
        else:
            self.edit_shift(None, window=window, day=d)

    def edit_shift(self, shift: ShiftView | None, window: str = "", day: date | None = None) -> None:
        if not self.editor or self.week is None:
            return
        if ShiftDialog(self, shift, window, day or self.day).exec():
            self.refresh()

    def edit_area(self, area: AreaView | None) -> None:
        if not self.editor or self.week is None:
            return
        if AreaDialog(self, area).exec():
            self.refresh()

    def mark_away(self) -> None:
        if self.week is None:
            return
        dlg = AwayDialog(self)
        if dlg.exec():
            self.message.setText(dlg.result_text)
            self.refresh()

    def copy_week(self) -> None:
        if self.week is None:
            return
        db, actor, mon = self.db, self.actor, self.week.monday

        def done(n: int) -> None:
            self.message.setText(f"已把上周的 {n} 个班次复制到本周。")
            self.refresh()

        self.worker.op(
            lambda: rota.copy_week(db, actor, mon - timedelta(days=7), mon), done, busy=[self.copy_btn], parent=self
        )

    def cancel_absence(self) -> None:
        rows = self.away_table.selectionModel().selectedRows()
        if not rows:
            self.message.setText("请先在“本周离岗与代岗”中选中一条。")
            return
        a = self._away[rows[0].row()]
        db, actor = self.db, self.actor

        def done(noted: int) -> None:
            more = f"{noted} 件在办事项的记录已注明，事项由{a.worker_name}办理。" if noted else ""
            self.message.setText(f"已撤销{a.worker_name}的离岗登记。{more}")
            self.refresh()

        self.worker.op(lambda: rota.cancel_absence(db, actor, a.id), done, busy=[self.cancel_btn], parent=self)

    def print_sheet(self) -> None:
        from desktop import paperwork
        from desktop.ui.printing import show_preview

        db, day = self.db, self.day
        mon = rota.monday(day)
        show_preview(
            self,
            "值班表",
            lambda _layout: paperwork.rota_sheet_document(db, day),
            suggested_name=f"值班表-{mon:%Y%m%d}.pdf",
        )


# ====================================================================== dialogs


def _worker_combo(workers: list[tuple[uuid.UUID, str]], current: uuid.UUID | None, blank: str = "") -> QComboBox:
    c = QComboBox()
    if blank:
        c.addItem(blank, None)
    for wid, name in workers:
        c.addItem(name, wid)
    _select(c, current)
    return c


def _select(c: QComboBox, value: object) -> None:
    """Select the item holding ``value`` (compared in Python: a UUID held by
    the combo is not found by ``findData``); the first item when none does."""
    if value is None:
        return
    c.setCurrentIndex(next((i for i in range(c.count()) if c.itemData(i) == value), 0))


class ShiftDialog(QDialog):
    def __init__(self, page: RotaPage, shift: ShiftView | None, window: str, day: date):
        super().__init__(page)
        self.page, self.shift = page, shift
        self.setWindowTitle("修改班次" if shift else "排班")
        self.setMinimumWidth(460)
        lay = QVBoxLayout(self)
        form = QFormLayout()
        self.errors = FormErrors(form)
        assert page.week is not None and page.cal is not None
        self.cal = page.cal
        areas = page.week.areas
        self.who = _worker_combo(page.workers, shift.worker_id if shift else None)
        self.errors.add("worker_id", "人员", self.who)
        self.window_box = QComboBox()
        self.window_box.setEditable(True)
        for w in dict.fromkeys([a.window for a in areas] + page.week.windows):
            self.window_box.addItem(w)
        self.window_box.setCurrentText(shift.window if shift else window or (areas[0].window if areas else "1号窗口"))
        self.errors.add("window", "窗口", self.window_box)
        self.area = QComboBox()
        self.area.addItem("（不指定）", None)
        for a in areas:
            self.area.addItem(f"{a.name}（{a.window}）", a.id)
        _select(self.area, shift.area_id if shift else next((a.id for a in areas if a.window == window), None))
        self.errors.add("area_id", "业务片区", self.area)
        self.date = QDateEdit(_qdate(shift.day if shift else day))
        self.date.setCalendarPopup(True)
        self.date.setDisplayFormat("yyyy-MM-dd dddd")
        self.errors.add("day", "日期", self.date)
        self.start = QTimeEdit(QTime(8, 30) if not shift else QTime(shift.starts_at.hour, shift.starts_at.minute))
        self.end = QTimeEdit(QTime(17, 30) if not shift else QTime(shift.ends_at.hour, shift.ends_at.minute))
        for t in (self.start, self.end):
            t.setDisplayFormat("HH:mm")
        self.errors.add("start", "上班", self.start)
        self.errors.add("end", "下班", self.end)
        self.kind = QComboBox()
        for k, label in rota.KINDS.items():
            self.kind.addItem(label, k)
        self.errors.add("kind", "类型", self.kind, "按日期和时间自动建议：休息日为错时，下班后为延时。")
        self.note = QLineEdit(shift.note if shift else "")
        self.note.setMaxLength(200)
        self.errors.add("note", "备注", self.note)
        lay.addLayout(form)
        if shift is not None:
            _select(self.kind, shift.kind)
            self.delete_btn = QPushButton("删除这个班次")
            self.delete_btn.clicked.connect(lambda _c=False: self.delete())
            lay.addWidget(self.delete_btn, 0, Qt.AlignmentFlag.AlignLeft)
        else:
            self._suggest()
        for sig in (self.date.dateChanged, self.start.timeChanged, self.end.timeChanged):
            sig.connect(lambda *_a: self._suggest())
        self.ok = dialog_buttons(self, "保存", self.submit)

    def _suggest(self) -> None:
        k = rota.suggest_kind(self.cal, _pydate(self.date.date()), _pytime(self.start.time()), _pytime(self.end.time()))
        _select(self.kind, k)

    def form(self) -> ShiftForm:
        return ShiftForm(
            self.who.currentData(),
            self.window_box.currentText(),
            _pydate(self.date.date()),
            _pytime(self.start.time()),
            _pytime(self.end.time()),
            self.kind.currentData(),
            self.area.currentData(),
            self.note.text(),
            self.shift.id if self.shift else None,
        )

    def submit(self) -> None:
        db, actor, f = self.page.db, self.page.actor, self.form()
        self.errors.submit(
            self.page.worker, lambda: rota.save_shift(db, actor, f), self, lambda _r: self.accept(), busy=[self.ok]
        )

    def delete(self) -> None:
        assert self.shift is not None
        db, actor, sid = self.page.db, self.page.actor, self.shift.id
        self.page.worker.op(
            lambda: rota.delete_shift(db, actor, sid),
            lambda _r: self.accept(),
            busy=[self.delete_btn, self.ok],
            parent=self,
        )


class AwayDialog(QDialog):
    """登记离岗: who, why, from … to, and who covers (the A/B partner)."""

    def __init__(self, page: RotaPage):
        super().__init__(page)
        self.page = page
        self.result_text = ""
        self.setWindowTitle("登记离岗（请假、培训、外勤）")
        self.setMinimumWidth(480)
        lay = QVBoxLayout(self)
        form = QFormLayout()
        self.errors = FormErrors(form)
        workers = page.workers
        self.who = _worker_combo(workers, None, "请选择…")
        self.errors.add("worker_id", "离岗人员", self.who)
        self.reason = QComboBox()
        for k, label in rota.REASONS.items():
            self.reason.addItem(label, k)
        self.errors.add("reason", "原因", self.reason)
        today = date.today()
        self.start = QDateTimeEdit(QDateTime(_qdate(today), QTime(8, 30)))
        self.end = QDateTimeEdit(QDateTime(_qdate(today), QTime(17, 30)))
        for w in (self.start, self.end):
            w.setCalendarPopup(True)
            w.setDisplayFormat("yyyy-MM-dd HH:mm")
        self.errors.add("start", "开始", self.start)
        self.errors.add("end", "结束", self.end)
        self.cover = _worker_combo(workers, None, "（按AB岗自动）")
        self.errors.add(
            "cover_id", "代岗人（B岗）", self.cover, "默认由AB岗搭档代岗；离岗人员的在办事项会逐件记录移交。"
        )
        self.note = QLineEdit()
        self.note.setMaxLength(200)
        self.errors.add("note", "备注", self.note)
        lay.addLayout(form)
        self.who.currentIndexChanged.connect(lambda _i: self._partner())
        self.ok = dialog_buttons(self, "登记", self.submit)

    def _partner(self) -> None:
        wid = self.who.currentData()
        areas = self.page.week.areas if self.page.week else []
        p = next((a.b_id for a in areas if a.a_id == wid), None) or next((a.a_id for a in areas if a.b_id == wid), None)
        self.cover.setCurrentIndex(0)
        _select(self.cover, p)

    def submit(self) -> None:
        db, actor = self.page.db, self.page.actor
        wid, reason, cover, note = (
            self.who.currentData(),
            self.reason.currentData(),
            self.cover.currentData(),
            self.note.text(),
        )
        start, end = _pydatetime(self.start.dateTime()), _pydatetime(self.end.dateTime())

        def done(m: rota.Marked) -> None:
            self.result_text = (
                f"已登记{self.who.currentText()}{self.reason.currentText()}，由{m.cover_name}代岗；"
                f"{m.handed_over} 件在办事项已记录移交。"
            )
            self.accept()

        self.errors.submit(
            self.page.worker,
            lambda: rota.mark_away(db, actor, wid, reason, start, end, cover, note),
            self,
            done,
            busy=[self.ok],
        )


class AreaDialog(QDialog):
    """AB岗设置: a service area, its window, the matter categories it takes,
    and its A岗 and B岗."""

    def __init__(self, page: RotaPage, area: AreaView | None):
        super().__init__(page)
        self.page, self.area = page, area
        self.setWindowTitle("AB岗设置" + (f"：{area.name}" if area else "：新增业务片区"))
        self.setMinimumWidth(520)
        lay = QVBoxLayout(self)
        form = QFormLayout()
        self.errors = FormErrors(form)
        self.name_edit = QLineEdit(area.name if area else "")
        self.window_edit = QLineEdit(area.window if area else "")
        self.errors.add("name", "业务片区", self.name_edit)
        self.errors.add("window", "窗口", self.window_edit)
        self.cats = QListWidget()
        self.cats.setMaximumHeight(150)
        chosen = set(area.categories) if area else set()
        for cat in page.categories:
            it = QListWidgetItem(cat)
            it.setFlags(it.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            it.setCheckState(Qt.CheckState.Checked if cat in chosen else Qt.CheckState.Unchecked)
            self.cats.addItem(it)
        self.errors.add("categories", "事项分类", self.cats, "勾选的分类：A岗不在时新受理的事项交B岗。")
        workers = page.workers
        self.a = _worker_combo(workers, area.a_id if area else None, "请选择…")
        self.b = _worker_combo(workers, area.b_id if area else None, "请选择…")
        self.errors.add("a_id", "A岗", self.a)
        self.errors.add("b_id", "B岗", self.b)
        lay.addLayout(form)
        self.ok = dialog_buttons(self, "保存", self.submit)

    def submit(self) -> None:
        cats = [
            self.cats.item(i).text()
            for i in range(self.cats.count())
            if self.cats.item(i).checkState() == Qt.CheckState.Checked
        ]
        v = AreaView(
            self.area.id if self.area else None,
            self.name_edit.text(),
            self.window_edit.text(),
            cats,
            self.a.currentData(),
            self.b.currentData(),
        )
        db, actor = self.page.db, self.page.actor
        self.errors.submit(
            self.page.worker, lambda: rota.save_area(db, actor, v), self, lambda _r: self.accept(), busy=[self.ok]
        )
