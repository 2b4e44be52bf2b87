"""志愿服务: needs (点单 → 接单), ranked candidates with their reasons (派单),
recording hours and ratings (评单), the weekly plan, and the registry."""

from __future__ import annotations

import uuid
from datetime import date, datetime, time, timedelta
from typing import Any

from PySide6.QtCore import Qt, QTime
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateEdit,
    QDialog,
    QDoubleSpinBox,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QTableWidgetItem,
    QTabWidget,
    QTimeEdit,
    QVBoxLayout,
    QWidget,
)

from desktop.services import volunteer_plan as plan, volunteers as vol
from desktop.services.search import ResidentIndex
from desktop.services.textsearch import MAX_QUERY
from desktop.ui import files
from desktop.ui.errors import show_error
from desktop.ui.pages.base import Page
from desktop.ui.pickers import ResidentPicker
from desktop.ui.widgets import pydate as _pydate, qdate as _qdate
from desktop.ui.widgets import FormErrors, dialog_buttons, fill_table, fmt_date, primary, row_checked, simple_table


class VolunteersPage(Page):
    title = "志愿服务"

    def __init__(self, *args: Any, index: ResidentIndex | None = None, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.index = index if index is not None else ResidentIndex(self.db)
        self.skill_names: dict[str, str] = {}
        self.tabs = QTabWidget()
        # needs
        needs = QWidget()
        nl = QVBoxLayout(needs)
        row = QHBoxLayout()
        self.new_need_btn = primary("登记需求 (F2)")
        self.new_need_btn.setDefault(False)
        self.new_need_btn.setShortcut("F2")
        self.new_need_btn.clicked.connect(lambda _c=False: self.new_need())
        row.addWidget(self.new_need_btn)
        self.need_buttons: dict[str, QPushButton] = {}
        for key, label in (
            ("accept", "接单"),
            ("refuse", "拒绝…"),
            ("match", "匹配志愿者并派单…"),
            ("cancel", "取消…"),
        ):
            b = QPushButton(label)
            b.clicked.connect(lambda _c=False, key=key: self.need_action(key))
            self.need_buttons[key] = b
            row.addWidget(b)
        row.addStretch(1)
        nl.addLayout(row)
        self.need_table = simple_table(["状态", "需求", "居民", "技能", "时间", "地点", "紧急", "人数"], 1)
        self.need_table.cellDoubleClicked.connect(lambda _r, _c: self.need_action("match"))
        nl.addWidget(self.need_table)
        self.need_note = QLabel()  # what the last action did, e.g. 已派单：张志愿 → 每周代买菜
        self.need_note.setObjectName("hint")
        self.need_note.setWordWrap(True)
        nl.addWidget(self.need_note)
        self.tabs.addTab(needs, "服务需求")
        # assignments
        asg = QWidget()
        al = QVBoxLayout(asg)
        arow = QHBoxLayout()
        self.done_btn = primary("登记服务时长与评价…")
        self.done_btn.setDefault(False)
        self.done_btn.clicked.connect(lambda _c=False: self.record())
        self.noshow_btn = QPushButton("记为爽约…")
        self.noshow_btn.clicked.connect(lambda _c=False: self.record(no_show=True))
        self.dispatch_btn = QPushButton("打印派单")
        self.dispatch_btn.clicked.connect(lambda _c=False: self.print_dispatch())
        arow.addWidget(self.done_btn)
        arow.addWidget(self.noshow_btn)
        arow.addWidget(self.dispatch_btn)
        arow.addStretch(1)
        al.addLayout(arow)
        self.asg_table = simple_table(
            ["日期", "时段", "需求", "志愿者", "编号", "电话", "居民", "地点", "状态", "时长", "评价"], 2
        )
        al.addWidget(self.asg_table)
        self.tabs.addTab(asg, "派单与评单")
        # weekly plan
        wk = QWidget()
        wl = QVBoxLayout(wk)
        wrow = QHBoxLayout()
        self.week = QDateEdit()
        self.week.setCalendarPopup(True)
        self.week.setDisplayFormat("yyyy年M月d日")
        self.week.setDate(_qdate(date.today() + timedelta(days=7 - date.today().weekday())))
        self.plan_btn = QPushButton("计算本周计划")
        self.plan_btn.clicked.connect(lambda _c=False: self.run_plan())
        self.accept_plan_btn = primary("采用优化计划（一键派单）")
        self.accept_plan_btn.setDefault(False)
        self.accept_plan_btn.setEnabled(False)
        self.accept_plan_btn.clicked.connect(lambda _c=False: self.accept_plan())
        wrow.addWidget(QLabel("计划周（从这天所在的周一起）"))
        wrow.addWidget(self.week)
        wrow.addWidget(self.plan_btn)
        wrow.addStretch(1)
        wrow.addWidget(self.accept_plan_btn)
        wl.addLayout(wrow)
        self.plan_summary = QLabel()
        self.plan_summary.setWordWrap(True)
        wl.addWidget(self.plan_summary)
        self.plan_table = simple_table(["日期", "时段", "需求", "优化计划", "得分", "逐个派单（对照）", "得分"], 2)
        wl.addWidget(self.plan_table)
        self.tabs.addTab(wk, "本周计划")
        # volunteers
        vw = QWidget()
        vl = QVBoxLayout(vw)
        vrow = QHBoxLayout()
        self.reg_btn = QPushButton("登记志愿者…")
        self.reg_btn.clicked.connect(lambda _c=False: self.register())
        self.cert_btn = QPushButton("志愿服务记录证明…")
        self.cert_btn.clicked.connect(lambda _c=False: self.certificate())
        self.vsearch = QLineEdit()
        self.vsearch.setMaxLength(MAX_QUERY)
        self.vsearch.setPlaceholderText("姓名、编号或电话")
        self.vsearch.textChanged.connect(lambda _t: self.refresh_volunteers())
        vrow.addWidget(self.vsearch, 1)
        vrow.addWidget(self.reg_btn)
        self.export_btn = QPushButton("导出时长台账…")
        self.export_btn.clicked.connect(lambda _c=False: self.export_hours())
        self.skill_btn = QPushButton("技能目录…")
        self.skill_btn.setEnabled(self.actor.at_least("supervisor"))
        self.skill_btn.setToolTip("站长可以增加技能")
        self.skill_btn.clicked.connect(lambda _c=False: self.add_skill())
        vrow.addWidget(self.cert_btn)
        vrow.addWidget(self.export_btn)
        vrow.addWidget(self.skill_btn)
        vl.addLayout(vrow)
        self.vol_table = simple_table(["编号", "姓名", "技能", "网格", "小区", "电话", "状态", "党员", "今年时长"], 2)
        vl.addWidget(self.vol_table)
        self.tabs.addTab(vw, "志愿者")
        self.layout_.addWidget(self.tabs, 1)
        self.needs: list[vol.NeedRow] = []
        self.asgs: list[vol.AssignmentRow] = []
        self.vols: list[vol.VolunteerRow] = []
        self.comparison: plan.Comparison | None = None

    # ------------------------------------------------------------ loading
    def activated(self) -> None:
        db = self.db
        if not self.skill_names:
            self.worker.run(
                lambda: vol.skills(db), lambda names: setattr(self, "skill_names", names), lambda e: show_error(self, e)
            )
        self.refresh()

    def refresh(self) -> None:
        db = self.db
        today = date.today()

        def load() -> tuple[list[vol.NeedRow], list[vol.AssignmentRow], list[vol.VolunteerRow]]:
            return (
                vol.list_needs(db),
                vol.assignments(db, start=today - timedelta(days=30)),
                vol.list_volunteers(db, self.vsearch.text()),
            )

        self.worker.run(load, self._show, lambda e: show_error(self, e))

    def refresh_volunteers(self) -> None:
        db, text = self.db, self.vsearch.text()
        self.worker.run(lambda: vol.list_volunteers(db, text), self._show_vols)

    def _names(self, codes: list[str]) -> str:
        return "、".join(self.skill_names.get(k, k) for k in codes)

    def _show(self, result: tuple[list[vol.NeedRow], list[vol.AssignmentRow], list[vol.VolunteerRow]]) -> None:
        r = self.need_table.currentRow()
        kept = self.needs[r].id if 0 <= r < len(self.needs) else None  # stay on the need worked on
        self.needs, self.asgs, vols = result
        fill_table(
            self.need_table,
            [
                [
                    vol.NEED_STATUSES[n.status],
                    n.title,
                    n.resident_name,
                    self._names(n.skills),
                    n.when(),
                    n.place,
                    vol.URGENCY[n.urgency],
                    f"{n.assigned}/{n.volunteers_needed}",
                ]
                for n in self.needs
            ],
        )
        status = {"assigned": "已派单", "done": "已完成", "no_show": "爽约", "cancelled": "已取消"}
        fill_table(
            self.asg_table,
            [
                [
                    f"{a.day:%m-%d}",
                    vol.SLOTS[a.slot],
                    a.need_title,
                    a.volunteer_name,
                    a.volunteer_number,
                    a.volunteer_phone,
                    a.resident_name,
                    a.place,
                    status.get(a.status, a.status) + ("（补录超期）" if a.late else ""),
                    f"{a.hours:g}" if a.hours else "",
                    "★" * (a.rating or 0),
                ]
                for a in self.asgs
            ],
        )
        self.tabs.setTabText(0, f"服务需求 {len(self.needs)}")
        row = next((i for i, n in enumerate(self.needs) if n.id == kept), -1)
        if row >= 0:
            self.need_table.selectRow(row)
        self._show_vols(vols)

    def _show_vols(self, vols: list[vol.VolunteerRow]) -> None:
        self.vols = vols
        fill_table(
            self.vol_table,
            [
                [
                    v.number,
                    v.name,
                    "、".join(v.skills),
                    v.grid,
                    v.estate,
                    v.phone,
                    vol.VOLUNTEER_STATUSES.get(v.status, v.status),
                    "是" if v.party_member else "",
                    f"{v.hours_this_year:g}",
                ]
                for v in vols
            ],
        )

    # ------------------------------------------------------------ needs
    def selected_need(self) -> vol.NeedRow | None:
        r = self.need_table.currentRow()
        if 0 <= r < len(self.needs):
            return self.needs[r]
        QMessageBox.information(self, "请先选择", "请先在列表中选中一条需求。")
        return None

    def new_need(self) -> None:
        if NeedDialog(self).exec():
            self.refresh()

    def need_action(self, key: str) -> None:
        n = self.selected_need()
        if n is None:
            return
        db, actor = self.db, self.actor
        if key == "match":
            if n.status not in ("open", "serving"):
                QMessageBox.information(self, "请先接单", "需求接单后才能派单。")
                return
            dlg = MatchDialog(self, n)
            if dlg.exec():
                chosen = set(dlg.chosen())
                names = "、".join(c.name for c in dlg.ranking.candidates if c.volunteer_id in chosen)
                self.need_note.setText(f"已派单：{names} → {n.title}（{fmt_date(_pydate(dlg.day.date()))}）")
                self.refresh()
            return
        note = ""
        if key in ("refuse", "cancel"):
            note, ok = QInputDialog.getText(self, "原因", "请写明原因（会告知居民）：")
            if not ok:
                return
        self.worker.op(
            lambda: vol.move_need(db, actor, n.id, key, note),
            lambda _r: self.refresh(),
            busy=self.need_buttons.values(),
            parent=self,
        )

    # ------------------------------------------------------------ 评单
    def record(self, no_show: bool = False) -> None:
        r = self.asg_table.currentRow()
        if not 0 <= r < len(self.asgs):
            QMessageBox.information(self, "请先选择", "请先在列表中选中一条派单。")
            return
        a = self.asgs[r]
        if a.status != "assigned":
            QMessageBox.information(self, "已记录", "这条派单已经记录过了。")
            return
        if RecordDialog(self, a, no_show).exec():
            self.refresh()

    def print_dispatch(self) -> None:
        r = self.asg_table.currentRow()
        if not 0 <= r < len(self.asgs):
            QMessageBox.information(self, "请先选择", "请先在列表中选中一条派单。")
            return
        from desktop import paperwork
        from desktop.ui.printing import show_preview

        a, db, who = self.asgs[r], self.db, self.actor.display_name
        show_preview(
            self,
            "志愿服务派单",
            lambda _l: paperwork.dispatch_document(db, a.need_id, a.day, who),
            suggested_name=f"派单-{a.need_title}-{a.day}.pdf",
        )

    def export_hours(self, path: str | None = None) -> None:
        from desktop import paperwork

        start, end = date(date.today().year, 1, 1), date(date.today().year, 12, 31)
        if path is None:
            path = files.save_file(self, "导出志愿服务时长台账", f"志愿服务时长-{start.year}.xlsx", files.EXCEL)
            if not path:
                return
        db = self.db
        self.worker.op(
            lambda: paperwork.export_volunteer_hours(db, path, start, end),
            lambda _r: files.show_saved(self, "已导出", f"已导出 {start.year} 年的服务时长到：\n{path}", path),
            busy=[self.export_btn],
            parent=self,
        )

    # ------------------------------------------------------------ plan
    def run_plan(self) -> None:
        db, week = self.db, _pydate(self.week.date())
        self.worker.op(
            lambda: plan.compare(db, week),
            self._show_plan,
            busy=[self.plan_btn, self.accept_plan_btn],
            label="正在计算本周派单计划…",
            parent=self,
        )

    def _show_plan(self, c: plan.Comparison) -> None:
        self.comparison = c
        o, g = c.optimal, c.greedy
        self.plan_summary.setText(
            f"本周共 {len(o.slots)} 个服务时段、需要 {o.wanted} 人次。"
            f"优化计划：派出 {o.filled} 人次，总匹配分 {o.total:g}；"
            f"逐个派单：派出 {g.filled} 人次，总匹配分 {g.total:g}"
            f"（优化多 {o.total - g.total:g} 分）。"
        )
        rows = []
        for s in o.slots:
            key = (s.need.id, s.day)
            op, gp = o.by_slot.get(key, []), g.by_slot.get(key, [])
            rows.append(
                [
                    f"{s.day:%m-%d}",
                    vol.SLOTS[s.need.slot],
                    s.need.title,
                    "、".join(p.volunteer_name for p in op),
                    f"{sum(p.score for p in op):g}",
                    "、".join(p.volunteer_name for p in gp),
                    f"{sum(p.score for p in gp):g}",
                ]
            )
        fill_table(self.plan_table, rows)
        self.accept_plan_btn.setEnabled(bool(o.picks))

    def accept_plan(self) -> None:
        if self.comparison is None:
            return
        db, actor, p = self.db, self.actor, self.comparison.optimal

        def done(n: int) -> None:
            self.comparison = None  # accepted: the same plan cannot be accepted twice
            self.accept_plan_btn.setEnabled(False)
            QMessageBox.information(self, "已派单", f"已按优化计划派单 {n} 人次。")
            self.refresh()

        self.worker.op(
            lambda: plan.accept(db, actor, p),
            done,
            busy=[self.accept_plan_btn, self.plan_btn],
            label="正在派单…",
            parent=self,
        )

    # ------------------------------------------------------------ registry
    def register(self) -> None:
        if VolunteerDialog(self).exec():
            self.refresh()

    def add_skill(self) -> None:
        current = "、".join(self.skill_names.values())
        name, ok = QInputDialog.getText(self, "技能目录", f"现有技能：{current}\n\n新增技能名称：")
        if not ok or not name.strip():
            return
        db, actor = self.db, self.actor

        def save() -> dict[str, str]:
            vol.save_skill(db, actor, name)
            return vol.skills(db)

        self.worker.op(save, lambda names: setattr(self, "skill_names", names), busy=[self.skill_btn], parent=self)

    def certificate(self) -> None:
        r = self.vol_table.currentRow()
        if not 0 <= r < len(self.vols):
            QMessageBox.information(self, "请先选择", "请先在列表中选中一位志愿者。")
            return
        v = self.vols[r]
        from desktop import paperwork
        from desktop.ui.printing import show_preview

        db, actor = self.db, self.actor
        start, end = date(date.today().year, 1, 1), date.today()
        self.worker.op(
            lambda: paperwork.volunteer_certificate_document(db, actor, v.id, start, end),
            lambda doc: show_preview(
                self, doc.title, lambda _l: doc, suggested_name=f"志愿服务记录证明-{v.number}.pdf"
            ),
            busy=[self.cert_btn],
            parent=self,
        )


class NeedDialog(QDialog):
    def __init__(self, page: VolunteersPage):
        super().__init__(page)
        self.page = page
        self.setWindowTitle("登记服务需求（点单）")
        outer = QVBoxLayout(self)
        lay = QHBoxLayout()
        outer.addLayout(lay, 1)
        left = QVBoxLayout()
        left.addWidget(QLabel("居民（站点自己的活动可不选）"))
        self.picker = ResidentPicker(page.index, optional=True, worker=page.worker)
        left.addWidget(self.picker, 1)
        lay.addLayout(left, 1)
        right = QVBoxLayout()
        form = QFormLayout()
        self.errors = FormErrors(form)
        self.title_ = QLineEdit()
        self.title_.setPlaceholderText("如：每周代买菜")
        self.errors.add("title", "需求", self.title_)
        self.skill_boxes: dict[str, QCheckBox] = {}
        grid = QGridLayout()
        for i, (code, name) in enumerate(page.skill_names.items()):
            cb = QCheckBox(name)
            self.skill_boxes[code] = cb
            grid.addWidget(cb, i // 4, i % 4)
        box = QWidget()
        box.setLayout(grid)
        self.errors.add("skills", "需要的技能", box)
        self.day = QDateEdit(_qdate(date.today() + timedelta(days=1)))
        self.day.setCalendarPopup(True)
        self.day.setDisplayFormat("yyyy年M月d日")
        self.errors.add("day", "日期", self.day)
        self.slot = QComboBox()
        for code, label in vol.SLOTS.items():
            self.slot.addItem(label, code)
        self.errors.add("slot", "时段", self.slot)
        self.weekly = QCheckBox("每周这一天重复")
        self.errors.add("weekly", "", self.weekly)
        self.hours = QDoubleSpinBox()
        self.hours.setRange(0.5, 8)
        self.hours.setSingleStep(0.5)
        self.hours.setValue(2)
        self.hours.setSuffix(" 小时")
        self.errors.add("hours", "每次时长", self.hours)
        self.count = QSpinBox()
        self.count.setRange(1, 20)
        self.errors.add("volunteers_needed", "需要人数", self.count)
        self.urgency = QComboBox()
        for level, label in vol.URGENCY.items():
            self.urgency.addItem(label, level)
        self.errors.add("urgency", "紧急程度", self.urgency)
        self.place = QLineEdit()
        self.place.setPlaceholderText("默认为居民住址")
        self.errors.add("place", "地点", self.place)
        self.desc = QPlainTextEdit()
        self.desc.setMaximumHeight(60)
        self.errors.add("description", "说明", self.desc)
        right.addLayout(form)
        lay.addLayout(right, 2)
        self.ok = dialog_buttons(self, "登记", self.submit)
        self.resize(980, 560)

    def submit(self) -> None:
        self.errors.clear()
        p = self.page
        f = vol.NeedForm(
            title=self.title_.text(),
            resident_id=self.picker.resident_id,
            description=self.desc.toPlainText(),
            skills=[k for k, cb in self.skill_boxes.items() if cb.isChecked()],
            day=_pydate(self.day.date()),
            slot=self.slot.currentData(),
            weekly=self.weekly.isChecked(),
            hours=self.hours.value(),
            place=self.place.text(),
            urgency=self.urgency.currentData(),
            volunteers_needed=self.count.value(),
        )

        def created(nid: uuid.UUID) -> None:
            self.need_id = nid
            self.accept()

        self.errors.submit(p.worker, lambda: vol.create_need(p.db, p.actor, f), self, created, busy=[self.ok])


class MatchDialog(QDialog):
    """The ranked candidates for one date of a need, each score split into
    its parts, the reasons in words, and who is out and why."""

    def __init__(self, page: VolunteersPage, need: vol.NeedRow):
        super().__init__(page)
        self.page, self.need = page, need
        self.setWindowTitle(f"匹配志愿者：{need.title}")
        lay = QVBoxLayout(self)
        row = QHBoxLayout()
        self.day = QDateEdit(
            _qdate(
                need.day
                if need.day >= date.today() or not need.weekly
                else vol.occurrences(need, date.today(), date.today() + timedelta(days=6))[0]
                if vol.occurrences(need, date.today(), date.today() + timedelta(days=6))
                else need.day
            )
        )
        self.day.setCalendarPopup(True)
        self.day.setDisplayFormat("yyyy年M月d日")
        self.day.dateChanged.connect(lambda _d: self.load())
        row.addWidget(
            QLabel(f"{need.resident_name}　{need.when()}　{need.place}　需要 {need.volunteers_needed} 人　日期")
        )
        row.addWidget(self.day)
        row.addStretch(1)
        lay.addLayout(row)
        parts = [vol.PART_LABELS[k] for k in vol.WEIGHTS]
        self.table = simple_table(["选", "志愿者", "编号", "总分", *parts, "理由"], 4 + len(parts))
        lay.addWidget(self.table, 1)
        self.out = QLabel()
        self.out.setWordWrap(True)
        self.out.setObjectName("hint")
        lay.addWidget(self.out)
        self.ok = dialog_buttons(self, "派单", self.submit)
        self.resize(1180, 620)
        self.load()

    def load(self) -> None:
        p, need, day = self.page, self.need, _pydate(self.day.date())
        self.ok.setEnabled(False)  # until the ranking for this day is shown
        p.worker.run(
            lambda: vol.Pool(p.db).rank(need, day, limit=30),
            lambda r: self._show(day, r),
            lambda e: show_error(self, e),
        )

    def _show(self, day: date, r: vol.Ranking) -> None:
        if day != _pydate(self.day.date()):
            return  # the date was changed again: its ranking is on its way
        self.ranking = r
        self.ok.setEnabled(True)
        need = self.need
        self.table.setRowCount(len(r.candidates))
        for i, c in enumerate(r.candidates):
            check = QTableWidgetItem()
            check.setFlags(check.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            check.setCheckState(
                Qt.CheckState.Checked if i < need.volunteers_needed - need.assigned else Qt.CheckState.Unchecked
            )
            self.table.setItem(i, 0, check)
            cells = [
                c.name,
                c.number,
                f"{c.score:g}",
                *[f"{c.parts.get(k, 0):g}" for k in vol.WEIGHTS],
                "；".join(c.reasons),
            ]
            for j, text in enumerate(cells, start=1):
                self.table.setItem(i, j, QTableWidgetItem(text))
        self.table.resizeColumnsToContents()
        self.table.horizontalHeader().setStretchLastSection(True)
        named = "；".join(f"{x.name}：{x.reason}" for x in r.excluded[:12])
        counts = "，".join(f"{k} {v} 人" for k, v in r.excluded_counts.items())
        self.out.setText(
            f"可派 {r.eligible} 人。排除：{counts or '无'}。" + (f"\n会相关技能但不能派：{named}" if named else "")
        )

    def chosen(self) -> list[uuid.UUID]:
        return [c.volunteer_id for i, c in enumerate(self.ranking.candidates) if row_checked(self.table, i)]

    def submit(self) -> None:
        p, need, day, ids = self.page, self.need, _pydate(self.day.date()), self.chosen()
        scores = {c.volunteer_id: c.score for c in self.ranking.candidates}
        p.worker.op(
            lambda: vol.assign(p.db, p.actor, need.id, ids, day, scores),
            lambda _r: self.accept(),
            busy=[self.ok],
            parent=self,
        )


class RecordDialog(QDialog):
    def __init__(self, page: VolunteersPage, a: vol.AssignmentRow, no_show: bool):
        super().__init__(page)
        self.page, self.a, self.no_show = page, a, no_show
        self.setWindowTitle("记为爽约" if no_show else "登记服务时长与评价（评单）")
        lay = QVBoxLayout(self)
        lay.addWidget(
            QLabel(f"{a.volunteer_name}（{a.volunteer_number}）　{a.need_title}　{a.day:%Y-%m-%d} {vol.SLOTS[a.slot]}")
        )
        form = QFormLayout()
        self.errors = FormErrors(form)
        h1, m1, h2, m2 = vol.SLOT_HOURS[a.slot]
        self.start = QTimeEdit(QTime(h1, m1))
        self.end = QTimeEdit(QTime(h1 + 2 if h1 + 2 <= h2 else h2, m1))
        self.rating = QComboBox()
        self.rating.addItem("居民暂未评价", None)
        for n in (5, 4, 3, 2, 1):
            self.rating.addItem("★" * n, n)
        self.comment = QLineEdit()
        if not no_show:
            self.errors.add("started", "开始时间", self.start)
            self.errors.add("ended", "结束时间", self.end)
            self.errors.add("rating", "居民评价", self.rating)
        self.errors.add("comment", "说明", self.comment, "补录超过服务后 10 个工作日的，会标记为超期补录。")
        self.errors.add("hours", "", QLabel(""))
        lay.addLayout(form)
        self.ok = dialog_buttons(self, "保存", self.submit)

    def submit(self) -> None:
        self.errors.clear()
        p, a = self.page, self.a
        s = datetime.combine(a.day, time(self.start.time().hour(), self.start.time().minute()))
        e = datetime.combine(a.day, time(self.end.time().hour(), self.end.time().minute()))
        rating, comment, no_show = self.rating.currentData(), self.comment.text(), self.no_show

        def saved(late: bool) -> None:
            if late:
                QMessageBox.information(
                    self, "超期补录", "已保存。这条记录在服务后超过 10 个工作日才录入，已标记为超期补录。"
                )
            self.accept()

        self.errors.submit(
            p.worker,
            lambda: vol.complete(p.db, p.actor, a.id, s, e, None, rating, comment, no_show),
            self,
            saved,
            busy=[self.ok],
        )


class VolunteerDialog(QDialog):
    def __init__(self, page: VolunteersPage):
        super().__init__(page)
        self.page = page
        self.setWindowTitle("登记志愿者")
        outer = QVBoxLayout(self)
        lay = QHBoxLayout()
        outer.addLayout(lay, 1)
        left = QVBoxLayout()
        left.addWidget(QLabel("从居民中选择（外来人员可不选，在右边填写）"))
        self.picker = ResidentPicker(page.index, optional=True, worker=page.worker)
        left.addWidget(self.picker, 1)
        lay.addLayout(left, 1)
        right = QVBoxLayout()
        form = QFormLayout()
        self.errors = FormErrors(form)
        self.name = QLineEdit()
        self.doc = QLineEdit()
        self.doc.setPlaceholderText("用于核对年龄；不会出现在任何公开材料上")
        self.phone = QLineEdit()
        self.errors.add("name", "姓名", self.name)
        self.errors.add("doc_number", "身份证号", self.doc)
        self.errors.add("phone", "电话", self.phone)
        grid = QGridLayout()
        self.skill_boxes: dict[str, QCheckBox] = {}
        for i, (code, name) in enumerate(page.skill_names.items()):
            cb = QCheckBox(name)
            self.skill_boxes[code] = cb
            grid.addWidget(cb, i // 4, i % 4)
        box = QWidget()
        box.setLayout(grid)
        self.errors.add("skills", "技能", box)
        agrid = QGridLayout()
        self.avail: dict[str, QCheckBox] = {}
        for col, label in enumerate(vol.WEEKDAYS.values()):
            agrid.addWidget(QLabel(label), 0, col + 1)
        for row, (slot, slabel) in enumerate(vol.SLOTS.items(), start=1):
            agrid.addWidget(QLabel(slabel), row, 0)
            for col, d in enumerate(vol.WEEKDAYS, start=1):
                cb = QCheckBox()
                self.avail[f"{d}{slot}"] = cb
                agrid.addWidget(cb, row, col)
        abox = QWidget()
        abox.setLayout(agrid)
        self.errors.add("availability", "可服务时间", abox)
        self.away = QLineEdit()
        self.away.setPlaceholderText("暂不能服务的日期，如 2026-12-01、2026-12-02（选填）")
        self.errors.add("unavailable_dates", "例外日期", self.away)
        self.limit = QDoubleSpinBox()
        self.limit.setRange(0.5, 40)
        self.limit.setValue(6)
        self.limit.setSuffix(" 小时/周")
        self.errors.add("weekly_hour_limit", "每周最多", self.limit)
        self.party = QCheckBox("在职党员（双报到）")
        self.employer = QLineEdit()
        self.target = QDoubleSpinBox()
        self.target.setRange(0, 500)
        self.target.setSuffix(" 小时/年")
        self.errors.add("party_member", "", self.party)
        self.errors.add("employer", "工作单位", self.employer)
        self.errors.add("yearly_target_hours", "年度目标", self.target)
        self.guardian = QLineEdit()
        self.guardian_ok = QCheckBox("监护人已同意（14—18 周岁）")
        self.errors.add("guardian_name", "监护人", self.guardian)
        self.errors.add("guardian_consent", "", self.guardian_ok)
        self.consent = QCheckBox("本人已同意社区保存其个人信息，用于志愿服务记录")
        self.errors.add("data_consent", "", self.consent)
        self.errors.add("birth_date", "", QLabel(""))
        right.addLayout(form)
        lay.addLayout(right, 2)
        self.ok = dialog_buttons(self, "登记", self.submit)
        self.resize(1100, 700)

    def submit(self) -> None:
        self.errors.clear()
        p = self.page
        import re

        away = []
        for part in re.split(r"[、,，;；\s]+", self.away.text().strip()):
            if not part:
                continue
            try:
                away.append(date.fromisoformat(part))
            except ValueError:
                self.errors.show("unavailable_dates", f"日期“{part}”看不懂，请写成 2026-12-01。")
                return
        f = vol.VolunteerForm(
            unavailable_dates=away,
            name=self.name.text(),
            resident_id=self.picker.resident_id,
            doc_number=self.doc.text(),
            phone=self.phone.text(),
            skills=[k for k, cb in self.skill_boxes.items() if cb.isChecked()],
            availability=[k for k, cb in self.avail.items() if cb.isChecked()],
            weekly_hour_limit=self.limit.value(),
            party_member=self.party.isChecked(),
            employer=self.employer.text(),
            yearly_target_hours=self.target.value(),
            guardian_consent=self.guardian_ok.isChecked(),
            guardian_name=self.guardian.text(),
            data_consent=self.consent.isChecked(),
        )

        def registered(res: tuple[uuid.UUID, str]) -> None:
            self.registered = res
            QMessageBox.information(self, "已登记", f"志愿者编号：{res[1]}")
            self.accept()

        self.errors.submit(p.worker, lambda: vol.register(p.db, p.actor, f), self, registered, busy=[self.ok])
