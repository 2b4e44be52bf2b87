"""走访: this week's households to visit by grid (overdue first), recording a
visit or a 不在家 attempt, turning a found need into a volunteer need or a
counter matter, the printed 走访任务单, and the tiers (站长)."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateEdit,
    QDialog,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from desktop.services import counter, visits
from desktop.services.search import ResidentIndex
from desktop.services.vocab import SPECIAL_GROUPS
from desktop.ui.errors import show_error
from desktop.ui.pages.base import Page
from desktop.ui.pickers import ResidentPicker
from desktop.ui.widgets import pydate as _pydate, qdate as _qdate
from desktop.ui.widgets import FormErrors, dialog_buttons, fill_table, hint, primary, simple_table

ALL_GRIDS = "全部网格"


class VisitsPage(Page):
    title = "走访"

    def __init__(self, *args, index: ResidentIndex | None = None, **kw):  # type: ignore[no-untyped-def]
        super().__init__(*args, **kw)
        self.index = index if index is not None else ResidentIndex(self.db)
        self.due: list[visits.DueRow] = []
        self.log: list[visits.VisitRow] = []
        self.today = date.today()
        top = QHBoxLayout()
        top.addWidget(QLabel("网格"))
        self.grid = QComboBox()
        self.grid.addItem(ALL_GRIDS, None)
        self.grid.currentIndexChanged.connect(lambda _i: self.refresh())
        top.addWidget(self.grid)
        top.addStretch(1)
        self.summary = QLabel()  # how many are due, on a line of its own (room for any font size)
        self.record_btn = primary("登记走访… (F2)")
        self.record_btn.setDefault(False)
        self.record_btn.setShortcut("F2")
        self.record_btn.clicked.connect(lambda _c=False: self.record())
        self.other_btn = QPushButton("登记其他居民的走访…")
        self.other_btn.clicked.connect(lambda _c=False: self.record(other=True))
        self.print_btn = QPushButton("打印走访任务单…")
        self.print_btn.clicked.connect(lambda _c=False: self.print_list())
        self.tier_btn = QPushButton("走访频次…")
        self.tier_btn.setEnabled(self.actor.at_least("supervisor"))
        self.tier_btn.setToolTip("站长可以调整各类群体的走访频次")
        self.tier_btn.clicked.connect(lambda _c=False: self.edit_tiers())
        for b in (self.record_btn, self.other_btn, self.print_btn, self.tier_btn):
            top.addWidget(b)
        self.layout_.addLayout(top)
        self.layout_.addWidget(self.summary)
        self.tabs = QTabWidget()
        self.due_table = simple_table(["状态", "网格", "住址", "居民", "频次", "上次走访", "电话", "群体"], 7)
        self.due_table.cellDoubleClicked.connect(lambda _r, _c: self.record())
        self.tabs.addTab(self.due_table, "本周待走访")
        logw = QWidget()
        ll = QVBoxLayout(logw)
        lrow = QHBoxLayout()
        self.need_btn = QPushButton("发现的需求 → 志愿服务需求")
        self.need_btn.clicked.connect(lambda _c=False: self.to_need())
        self.matter_btn = QPushButton("发现的需求 → 受理事项…")
        self.matter_btn.clicked.connect(lambda _c=False: self.to_matter())
        lrow.addWidget(self.need_btn)
        lrow.addWidget(self.matter_btn)
        lrow.addStretch(1)
        ll.addLayout(lrow)
        self.log_table = simple_table(
            ["日期", "居民", "网格", "结果", "见到", "情况", "发现的需求", "走访人", "转办"], 5
        )
        ll.addWidget(self.log_table)
        self.tabs.addTab(logw, "近30天走访记录")
        self.layout_.addWidget(self.tabs, 1)
        self.note = hint("双击一户登记走访结果；“不在家”也请登记，该户仍留在待走访名单中。")
        self.note.setWordWrap(True)
        self.layout_.addWidget(self.note)

    # ------------------------------------------------------------ loading
    def activated(self) -> None:
        self.refresh()

    def refresh(self) -> None:
        db, grid = self.db, self.grid.currentData()
        self.today = today = date.today()

        def load():  # type: ignore[no-untyped-def]
            return (
                visits.grids(db),
                visits.due_list(db, today, grid),
                visits.visits_between(db, today - timedelta(days=30), today, grid),
            )

        self.worker.run(load, self._show, lambda e: show_error(self, e))

    def _show(self, result) -> None:  # type: ignore[no-untyped-def]
        grids, self.due, self.log = result
        known = [self.grid.itemText(i) for i in range(1, self.grid.count())]
        if known != grids:
            current = self.grid.currentData()
            self.grid.blockSignals(True)
            self.grid.clear()
            self.grid.addItem(ALL_GRIDS, None)
            for g in grids:
                self.grid.addItem(g, g)
            self.grid.setCurrentIndex(max(self.grid.findData(current), 0) if current else 0)
            self.grid.blockSignals(False)
        today = self.today
        fill_table(
            self.due_table,
            [
                [
                    d.due_text(today),
                    d.grid or "未分网格",
                    d.address,
                    d.names,
                    d.tier,
                    _last(d),
                    d.phone,
                    "、".join(d.tags),
                ]
                for d in self.due
            ],
        )
        fill_table(
            self.log_table,
            [
                [
                    f"{v.day:%m-%d}",
                    v.resident_name,
                    v.grid,
                    v.outcome_label,
                    v.met,
                    v.situation,
                    v.needs,
                    v.visitor_name,
                    v.follow_up,
                ]
                for v in self.log
            ],
        )
        overdue = sum(1 for d in self.due if d.overdue)
        self.summary.setText(
            f"本周待走访 {len(self.due)} 户，其中逾期或从未走访 {overdue} 户；近30天已登记 {len(self.log)} 次走访"
        )
        self.tabs.setTabText(0, f"本周待走访 {len(self.due)}")

    # ------------------------------------------------------------ actions
    def record(self, other: bool = False) -> None:
        row = None
        if not other:
            r = self.due_table.currentRow()
            if not 0 <= r < len(self.due):
                QMessageBox.information(self, "请先选择", "请先在“本周待走访”中选中一户（或用“登记其他居民的走访”）。")
                return
            row = self.due[r]
        dlg = VisitDialog(self, row)
        if dlg.exec():
            self.note.setText(
                "已登记走访。"
                + ("发现的需求可在“近30天走访记录”中一键转为志愿服务需求或受理事项。" if dlg.had_needs else "")
            )
            self.refresh()

    def selected_visit(self) -> visits.VisitRow | None:
        r = self.log_table.currentRow()
        if 0 <= r < len(self.log):
            return self.log[r]
        QMessageBox.information(self, "请先选择", "请先在“近30天走访记录”中选中一次走访。")
        return None

    def to_need(self) -> None:
        v = self.selected_visit()
        if v is None:
            return
        db, actor = self.db, self.actor

        def done(_nid: uuid.UUID) -> None:
            self.note.setText(f"已转为志愿服务需求（{v.resident_name}），请到“志愿服务”页接单、派单。")
            self.refresh()

        self.worker.op(
            lambda: visits.need_from_visit(db, actor, v.id), done, busy=[self.need_btn, self.matter_btn], parent=self
        )

    def to_matter(self) -> None:
        v = self.selected_visit()
        if v is None:
            return
        if MatterDialog(self, v).exec():
            self.refresh()

    def print_list(self) -> None:
        from desktop import paperwork
        from desktop.ui.printing import show_preview

        db, who, grid, today = self.db, self.actor.display_name, self.grid.currentData(), date.today()
        show_preview(
            self,
            "走访任务单",
            lambda _l: paperwork.visit_list_document(db, who, grid, today),
            suggested_name=f"走访任务单-{grid or '全部网格'}-{today:%Y%m%d}.pdf",
        )

    def edit_tiers(self) -> None:
        db = self.db
        self.worker.op(lambda: visits.tiers(db), lambda t: self._tiers(t), busy=[self.tier_btn], parent=self)

    def _tiers(self, current: dict[str, int]) -> None:
        if TierDialog(self, current).exec():
            self.refresh()


def _last(d: visits.DueRow) -> str:
    parts = ([f"{d.last_met:%m-%d} 见到"] if d.last_met else []) + (
        [f"{d.last_try:%m-%d} 不在家"] if d.last_try else []
    )
    return "，".join(parts) or "—"


class VisitDialog(QDialog):
    """A visit's result, for a household on the list (or any resident)."""

    def __init__(self, page: VisitsPage, row: visits.DueRow | None):
        super().__init__(page)
        self.page, self.row = page, row
        self.visit_id: uuid.UUID | None = None
        self.had_needs = False
        self.setWindowTitle("登记走访")
        outer = QVBoxLayout(self)
        self.picker: ResidentPicker | None = None
        if row is None:
            outer.addWidget(QLabel("走访的居民"))
            self.picker = ResidentPicker(page.index, worker=page.worker)
            outer.addWidget(self.picker, 1)
        else:
            outer.addWidget(
                QLabel(
                    f"{row.names}　{row.address}　{row.grid}　{'、'.join(row.tags)}　{row.tier}"
                    f"（{row.due_text(date.today())}）"
                )
            )
        form = QFormLayout()
        outer.addLayout(form)
        self.errors = FormErrors(form)
        self.day = QDateEdit(_qdate(date.today()))
        self.day.setCalendarPopup(True)
        self.day.setDisplayFormat("yyyy年M月d日")
        self.errors.add("day", "走访日期", self.day, "走访后回站补登时，请选实际走访的日期。")
        self.outcome = QComboBox()
        for code, label in visits.OUTCOMES.items():
            self.outcome.addItem(label, code)
        self.errors.add("outcome", "结果", self.outcome)
        self.met = QLineEdit()
        self.met.setPlaceholderText("如：本人、老伴、女儿")
        self.errors.add("met", "见到", self.met)
        self.situation = QPlainTextEdit()
        self.situation.setPlaceholderText("身体、生活、居住安全等情况")
        self.situation.setMaximumHeight(70)
        self.errors.add("situation", "情况", self.situation)
        self.needs = QPlainTextEdit()
        self.needs.setPlaceholderText("如：需要有人陪同去医院复查（保存后可一键转为志愿服务需求或受理事项）")
        self.needs.setMaximumHeight(70)
        self.errors.add("needs", "发现的需求", self.needs)
        self.visitor = QLineEdit(page.actor.display_name)
        self.errors.add("visitor", "走访人", self.visitor)
        self.ok = dialog_buttons(self, "保存", self.submit)
        self.resize(760, 640 if row is None else 460)

    def submit(self) -> None:
        p = self.page
        rid = self.row.resident_id if self.row is not None else (self.picker.resident_id if self.picker else None)
        f = visits.VisitForm(
            resident_id=rid,
            day=_pydate(self.day.date()),
            outcome=self.outcome.currentData(),
            met=self.met.text(),
            situation=self.situation.toPlainText(),
            needs=self.needs.toPlainText(),
            visitor_name=self.visitor.text(),
        )
        self.had_needs = bool(f.needs.strip())

        def saved(vid: uuid.UUID) -> None:
            self.visit_id = vid
            self.accept()

        self.errors.submit(p.worker, lambda: visits.record_visit(p.db, p.actor, f), self, saved, busy=[self.ok])


class TierDialog(QDialog):
    """站长: how often each group is visited at this station."""

    def __init__(self, page: VisitsPage, current: dict[str, int]):
        super().__init__(page)
        self.page = page
        self.setWindowTitle("走访频次（本站）")
        outer = QVBoxLayout(self)
        outer.addWidget(hint("一户有多类人员时，按其中最频繁的一档走访。“不在家”不算走访，该户仍需再访。"))
        grid = QGridLayout()
        self.boxes: dict[str, QComboBox] = {}
        for i, tag in enumerate(SPECIAL_GROUPS):
            box = QComboBox()
            for days, label in visits.TIER_CHOICES.items():
                box.addItem(label, days)
            box.setCurrentIndex(max(box.findData(current.get(tag, visits.QUARTERLY)), 0))
            self.boxes[tag] = box
            grid.addWidget(QLabel(tag), i // 2, (i % 2) * 2)
            grid.addWidget(box, i // 2, (i % 2) * 2 + 1)
        outer.addLayout(grid)
        self.ok = dialog_buttons(self, "保存", self.submit)

    def submit(self) -> None:
        p = self.page
        changes = {tag: box.currentData() for tag, box in self.boxes.items()}
        p.worker.op(
            lambda: visits.save_tiers(p.db, p.actor, changes), lambda _t: self.accept(), busy=[self.ok], parent=self
        )


class MatterDialog(QDialog):
    """A found need accepted as a counter matter (渠道：上门)."""

    def __init__(self, page: VisitsPage, visit: visits.VisitRow):
        super().__init__(page)
        self.page, self.visit = page, visit
        self.setWindowTitle("发现的需求转为受理事项")
        outer = QVBoxLayout(self)
        outer.addWidget(
            QLabel(f"{visit.resident_name}　{visit.day:%Y-%m-%d} 走访发现：{visit.needs or '（未记录需求）'}")
        )
        form = QFormLayout()
        outer.addLayout(form)
        self.matter = QComboBox()
        self.types = counter.catalogue_by_use(page.db)
        for t in self.types:
            self.matter.addItem(f"{t.name}（{t.category}）", t.id)
        self.matter.currentIndexChanged.connect(lambda _i: self._materials())
        form.addRow("事项", self.matter)
        self.mat_box = QWidget()
        self.mat_lay = QVBoxLayout(self.mat_box)
        form.addRow("已收材料", self.mat_box)
        self.checks: list[QCheckBox] = []
        self._materials()
        self.ok = dialog_buttons(self, "受理", self.submit)
        self.resize(640, 320)

    def _materials(self) -> None:
        for c in self.checks:
            c.deleteLater()
        self.checks = []
        i = self.matter.currentIndex()
        if 0 <= i < len(self.types):
            for m in self.types[i].materials:
                c = QCheckBox(m.name + ("（必需）" if m.required else ""))
                c.setProperty("material", m.name)
                self.mat_lay.addWidget(c)
                self.checks.append(c)

    def submit(self) -> None:
        p, v = self.page, self.visit
        mt = self.matter.currentData()
        if mt is None:
            return
        received = [c.property("material") for c in self.checks if c.isChecked()]

        def done(acc: counter.Accepted) -> None:
            p.note.setText(
                f"已受理（回执号 {acc.receipt_no}，承诺 {acc.promised_date:%m月%d日} 前办结），可在“接待台”继续办理。"
            )
            self.accept()

        p.worker.op(
            lambda: visits.matter_from_visit(p.db, p.actor, v.id, mt, received), done, busy=[self.ok], parent=self
        )
