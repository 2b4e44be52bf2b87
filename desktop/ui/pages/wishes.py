"""心愿·报到: residents' 微心愿 (publish, 认领, 实现, the printed wish board)
and 在职党员报到 (report-in, service posts, the year's hours against the
target, the feedback letter to the member's unit)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date

from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QDateEdit,
    QDialog,
    QDoubleSpinBox,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QRadioButton,
    QSpinBox,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from desktop.services import certificates, volunteers as vol, wishes
from desktop.services.search import ResidentIndex
from desktop.ui.errors import show_error
from desktop.ui.pages.base import Page
from desktop.ui.pickers import ResidentPicker
from desktop.ui.widgets import pydate as _pydate, qdate as _qdate
from desktop.ui.widgets import FormErrors, dialog_buttons, fill_table, fmt_date, hint, primary, simple_table


def _date_edit(d: date) -> QDateEdit:
    e = QDateEdit(_qdate(d))
    e.setCalendarPopup(True)
    e.setDisplayFormat("yyyy年M月d日")
    return e


class WishesPage(Page):
    title = "心愿·报到"

    def __init__(self, *args, index: ResidentIndex | None = None, **kw):  # type: ignore[no-untyped-def]
        super().__init__(*args, **kw)
        self.index = index if index is not None else ResidentIndex(self.db)
        self.tabs = QTabWidget()
        # ---- 微心愿
        ww = QWidget()
        wl = QVBoxLayout(ww)
        row = QHBoxLayout()
        self.add_btn = primary("登记心愿…")
        self.add_btn.setDefault(False)
        self.add_btn.clicked.connect(lambda _c=False: self.add_wish())
        self.claim_btn = _button("认领…", self.claim)
        self.fulfil_btn = _button("登记实现…", self.fulfil)
        self.board_btn = _button("打印心愿墙", self.print_board)
        self.status = QComboBox()
        self.status.addItem("全部", "")
        for code, label in wishes.WISH_STATUSES.items():
            self.status.addItem(label, code)
        self.status.currentIndexChanged.connect(lambda _i: self.refresh())
        for w in (self.add_btn, self.claim_btn, self.fulfil_btn, self.board_btn):
            row.addWidget(w)
        row.addStretch(1)
        row.addWidget(QLabel("状态"))
        row.addWidget(self.status)
        wl.addLayout(row)
        self.wish_table = simple_table(
            ["编号", "状态", "心愿", "居民", "网格", "估值（元）", "认领人", "联系电话", "发布", "认领", "实现"], 2
        )
        self.wish_table.cellDoubleClicked.connect(lambda _r, _c: self._next_step())
        wl.addWidget(self.wish_table, 1)
        self.wish_note = hint(
            "心愿墙只公示心愿编号、姓氏加“某”和网格，不印姓名、证件号和住址。双击一行：待认领的去认领，已认领的登记实现。"
        )
        self.wish_note.setWordWrap(True)
        wl.addWidget(self.wish_note)
        self.tabs.addTab(ww, "微心愿")
        # ---- 在职党员
        pw = QWidget()
        pl = QVBoxLayout(pw)
        prow = QHBoxLayout()
        self.report_btn = primary("登记报到…")
        self.report_btn.setDefault(False)
        self.report_btn.clicked.connect(lambda _c=False: self.report_in())
        self.letter_btn = _button("打印报到情况反馈…", self.print_letter)
        self.year = QSpinBox()
        self.year.setRange(2000, 2100)
        self.year.setValue(date.today().year)
        self.year.setSuffix(" 年")
        self.year.valueChanged.connect(lambda _v: self.refresh_members())
        prow.addWidget(self.report_btn)
        prow.addWidget(self.letter_btn)
        prow.addStretch(1)
        prow.addWidget(QLabel("年度"))
        prow.addWidget(self.year)
        pl.addLayout(prow)
        self.member_table = simple_table(
            ["编号", "姓名", "工作单位", "报到日期", "服务岗位", "年度目标", "已服务", "服务次数", "完成率"], 4
        )
        pl.addWidget(self.member_table, 1)
        self.member_note = hint(
            "服务时长取自志愿服务的派单记录（已完成），年度目标在志愿者登记中设置。"
            "反馈函按证明目录“在职党员到居住地社区报到情况反馈”开具，编号、用印登记与开具证明相同。"
        )
        self.member_note.setWordWrap(True)
        pl.addWidget(self.member_note)
        self.tabs.addTab(pw, "在职党员")
        self.layout_.addWidget(self.tabs, 1)
        self.wishes: list[wishes.WishRow] = []
        self.members: list[wishes.MemberRow] = []

    # ------------------------------------------------------------ loading
    def activated(self) -> None:
        self.refresh()
        self.refresh_members()

    def refresh(self) -> None:
        db, status = self.db, self.status.currentData() or ""
        self.worker.run(lambda: wishes.list_wishes(db, status), self._show, lambda e: show_error(self, e))

    def _show(self, rows: list[wishes.WishRow]) -> None:
        r = self.wish_table.currentRow()
        kept = self.wishes[r].id if 0 <= r < len(self.wishes) else None
        self.wishes = rows
        fill_table(
            self.wish_table,
            [
                [
                    w.number,
                    w.status_label,
                    w.title,
                    w.resident_name,
                    w.grid,
                    f"{w.value:g}",
                    w.sponsor_label,
                    w.contact,
                    fmt_date(w.published_on),
                    fmt_date(w.claimed_on) if w.claimed_on else "",
                    fmt_date(w.fulfilled_on) if w.fulfilled_on else "",
                ]
                for w in rows
            ],
        )
        waiting = sum(1 for w in rows if w.status == "open")
        self.tabs.setTabText(0, f"微心愿（待认领 {waiting}）" if waiting else "微心愿")
        i = next((k for k, w in enumerate(rows) if w.id == kept), -1)
        if i >= 0:
            self.wish_table.selectRow(i)

    def refresh_members(self) -> None:
        db, year = self.db, self.year.value()
        self.worker.run(lambda: wishes.members(db, year), self._show_members, lambda e: show_error(self, e))

    def _show_members(self, rows: list[wishes.MemberRow]) -> None:
        self.members = rows
        fill_table(
            self.member_table,
            [
                [
                    m.volunteer_number,
                    m.name,
                    m.unit,
                    fmt_date(m.reported_on),
                    "、".join(m.posts),
                    f"{m.target:g}",
                    f"{m.hours:g}",
                    str(m.services),
                    m.progress,
                ]
                for m in rows
            ],
        )
        self.tabs.setTabText(1, f"在职党员（{len(rows)} 人报到）")

    # ------------------------------------------------------------ wishes
    def selected_wish(self) -> wishes.WishRow | None:
        r = self.wish_table.currentRow()
        if 0 <= r < len(self.wishes):
            return self.wishes[r]
        QMessageBox.information(self, "请先选择", "请先在列表中选中一个心愿。")
        return None

    def _next_step(self) -> None:
        w = self.selected_wish()
        if w is not None and w.status == "open":
            self.claim()
        elif w is not None and w.status == "claimed":
            self.fulfil()

    def add_wish(self) -> None:
        if WishDialog(self).exec():
            self.refresh()

    def claim(self) -> None:
        w = self.selected_wish()
        if w is None:
            return
        if w.status != "open":
            QMessageBox.information(self, "不能认领", f"这个心愿{w.status_label}，不能再认领。")
            return
        if ClaimDialog(self, w).exec():
            self.refresh()

    def fulfil(self) -> None:
        w = self.selected_wish()
        if w is None:
            return
        if w.status != "claimed":
            QMessageBox.information(
                self, "不能登记实现", "心愿认领后才能登记实现。" if w.status == "open" else "这个心愿已经实现了。"
            )
            return
        if FulfilDialog(self, w).exec():
            self.refresh()

    def print_board(self) -> None:
        from desktop import paperwork
        from desktop.ui.printing import show_preview

        db = self.db
        show_preview(
            self,
            "微心愿认领公示",
            lambda _l: paperwork.wish_board_document(db),
            suggested_name=f"微心愿认领公示-{date.today()}.pdf",
        )

    # ------------------------------------------------------------ 在职党员
    def report_in(self) -> None:
        if ReportDialog(self).exec():
            self.refresh_members()

    def print_letter(self) -> None:
        r = self.member_table.currentRow()
        if not 0 <= r < len(self.members):
            QMessageBox.information(self, "请先选择", "请先在列表中选中一位报到的党员。")
            return
        m = self.members[r]
        if not m.has_resident:
            QMessageBox.information(
                self,
                "不能出具",
                f"{m.name}的志愿者登记没有关联居民档案，反馈函须写明其公民身份号码。"
                "请先在“居民”中登记此人，并在志愿者登记中选择该居民。",
            )
            return
        db, rid = self.db, m.report_id
        self.worker.op(
            lambda: wishes.letters(db, rid), lambda rows: self._letter_for(m, rows), busy=[self.letter_btn], parent=self
        )

    def _letter_for(self, m: wishes.MemberRow, rows: list[certificates.CertRow]) -> None:
        """Print this year's letter if there is one; otherwise (or if asked) issue a new one."""
        if any(c.status == "pending" for c in rows):
            QMessageBox.information(self, "等待审批", f"{m.name}的反馈函已提交站长审批，审批通过后在“开具证明”中打印。")
            return
        issued = next((c for c in rows if c.status == "issued"), None)
        if issued is not None:
            ask = QMessageBox.question(
                self,
                "已开具过",
                f"{m.name}已有反馈函 {issued.serial}。\n是：重新打印这份；否：按最新服务时长开具新的一份。",
                QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No | QMessageBox.StandardButton.Cancel,
            )
            if ask == QMessageBox.StandardButton.Yes:
                self._letter_done(certificates.Issued(issued.id, issued.status, issued.serial))
                return
            if ask != QMessageBox.StandardButton.No:
                return
        ok = QMessageBox.question(self, "核验材料", f"出具反馈函前须核验：{wishes.FEEDBACK_MATERIAL}。\n已核验？")
        if ok != QMessageBox.StandardButton.Yes:
            return
        from desktop import paperwork

        db, actor = self.db, self.actor

        def issue() -> certificates.Issued:
            return wishes.feedback_letter(
                db, actor, m.report_id, [wishes.FEEDBACK_MATERIAL], glyphs=paperwork.certificate_glyphs
            )

        self.worker.op(issue, self._letter_done, busy=[self.letter_btn], parent=self)

    def _letter_done(self, issued: certificates.Issued) -> None:
        if issued.status != "issued":
            QMessageBox.information(self, "已提交审批", "反馈函需要站长审批：已提交，审批通过后在“开具证明”中打印。")
            return
        from desktop import paperwork
        from desktop.ui.printing import show_preview

        db, actor = self.db, self.actor
        show_preview(
            self,
            f"报到情况反馈 {issued.serial}",
            lambda _l: paperwork.certificate_document(db, actor, issued.id),
            suggested_name=f"报到情况反馈-{issued.serial}.pdf",
        )


def _button(text: str, slot: Callable[[], None]) -> QPushButton:
    b = QPushButton(text)
    b.clicked.connect(lambda _c=False: slot())
    return b


class WishDialog(QDialog):
    def __init__(self, page: WishesPage):
        super().__init__(page)
        self.page = page
        self.setWindowTitle("登记微心愿")
        top = QVBoxLayout(self)
        outer = QHBoxLayout()
        top.addLayout(outer, 1)
        left = QVBoxLayout()
        left.addWidget(QLabel("许愿的居民"))
        self.picker = ResidentPicker(page.index, worker=page.worker)
        left.addWidget(self.picker, 1)
        outer.addLayout(left, 1)
        right = QVBoxLayout()
        form = QFormLayout()
        self.errors = FormErrors(form)
        self.title_ = QLineEdit()
        self.title_.setMaxLength(64)
        self.title_.setPlaceholderText("如：一台助听器、孩子的一套课外书")
        self.errors.add("title", "心愿内容", self.title_)
        self.value = QDoubleSpinBox()
        self.value.setRange(0, 99999)
        self.value.setDecimals(0)
        self.value.setSuffix(" 元")
        self.errors.add("value", "估值", self.value, f"微心愿一般不超过 {wishes.MAX_WISH_VALUE:g} 元")
        self.desc = QLineEdit()
        self.errors.add("description", "说明", self.desc)
        self.errors.fields["resident"] = self.picker.edit
        right.addLayout(form)
        right.addStretch(1)
        outer.addLayout(right, 1)
        self.ok = dialog_buttons(self, "发布", self.submit)
        self.resize(860, 480)

    def submit(self) -> None:
        p = self.page
        rid, title, value, desc = self.picker.resident_id, self.title_.text(), self.value.value(), self.desc.text()

        def save() -> tuple[uuid.UUID, str]:
            if rid is None:
                from db.errors import ValidationError

                raise ValidationError("resident", "请先选择许愿的居民。")
            return wishes.add_wish(p.db, p.actor, rid, title, value, desc)

        self.errors.submit(p.worker, save, self, lambda _r: self.accept(), busy=[self.ok])


class ClaimDialog(QDialog):
    """认领 by a party member or volunteer from the registry, or by a unit."""

    def __init__(self, page: WishesPage, wish: wishes.WishRow):
        super().__init__(page)
        self.page, self.wish = page, wish
        self.setWindowTitle(f"认领心愿 {wish.number}")
        lay = QVBoxLayout(self)
        lay.addWidget(QLabel(f"心愿：{wish.title}（估值 {wish.value:g} 元，{wish.grid or '未分网格'}）"))
        form = QFormLayout()
        self.errors = FormErrors(form)
        self.by_person = QRadioButton("党员或志愿者")
        self.by_unit = QRadioButton("单位")
        self.by_person.setChecked(True)
        group = QButtonGroup(self)
        group.addButton(self.by_person)
        group.addButton(self.by_unit)
        kinds = QHBoxLayout()
        kinds.addWidget(self.by_person)
        kinds.addWidget(self.by_unit)
        kinds.addStretch(1)
        box = QWidget()
        box.setLayout(kinds)
        self.errors.add("sponsor", "认领人", box)
        self.volunteer = QComboBox()
        self.volunteer.setEditable(True)
        self.volunteer.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.volunteer.setPlaceholderText("输入姓名或编号")
        self.errors.add("volunteer", "党员/志愿者", self.volunteer)
        self.unit = QLineEdit()
        self.unit.setPlaceholderText("如：市财政局机关党支部")
        self.errors.add("unit", "单位名称", self.unit)
        self.contact = QLineEdit()
        self.contact.setPlaceholderText("手机或带区号的固定电话")
        self.errors.add("contact", "联系电话", self.contact)
        lay.addLayout(form)
        self.ok = dialog_buttons(self, "认领", self.submit)
        self.by_person.toggled.connect(lambda _on: self._kind())
        self._kind()
        self.resize(560, 360)
        db = page.db
        page.worker.run(lambda: vol.list_volunteers(db), self._fill)

    def _fill(self, rows: list[vol.VolunteerRow]) -> None:
        self.volunteer.clear()
        for v in rows:
            if v.status == "active":
                self.volunteer.addItem(f"{v.name}　{v.number}" + ("　党员" if v.party_member else ""), str(v.id))
        self.volunteer.setCurrentIndex(-1)

    def _kind(self) -> None:
        person = self.by_person.isChecked()
        self.volunteer.setEnabled(person)
        self.unit.setEnabled(not person)
        self.contact.setEnabled(not person)

    def submit(self) -> None:
        p, wid = self.page, self.wish.id
        if self.by_person.isChecked():
            i = self.volunteer.findText(self.volunteer.currentText())
            vid = uuid.UUID(self.volunteer.itemData(i)) if i >= 0 else None
            if vid is None:
                self.errors.clear()
                self.errors.show("volunteer", "请从列表中选择认领的党员或志愿者。")
                return
            fn = lambda: wishes.claim(p.db, p.actor, wid, volunteer_id=vid)  # noqa: E731
        else:
            unit, contact = self.unit.text(), self.contact.text()
            fn = lambda: wishes.claim(p.db, p.actor, wid, unit=unit, contact=contact)  # noqa: E731
        self.errors.submit(p.worker, fn, self, lambda _r: self.accept(), busy=[self.ok])


class FulfilDialog(QDialog):
    def __init__(self, page: WishesPage, wish: wishes.WishRow):
        super().__init__(page)
        self.page, self.wish = page, wish
        self.setWindowTitle(f"登记心愿实现 {wish.number}")
        lay = QVBoxLayout(self)
        lay.addWidget(QLabel(f"心愿：{wish.title}　认领：{wish.sponsor_label}"))
        form = QFormLayout()
        self.errors = FormErrors(form)
        self.day = _date_edit(date.today())
        self.errors.add("date", "实现日期", self.day)
        self.given = QLineEdit()
        self.given.setPlaceholderText("如：送去助听器一台并教会使用")
        self.errors.add("given", "实现情况", self.given)
        self.note = QLineEdit()
        self.errors.add("note", "备注", self.note)
        lay.addLayout(form)
        self.ok = dialog_buttons(self, "登记", self.submit)
        self.resize(560, 300)

    def submit(self) -> None:
        p, wid = self.page, self.wish.id
        on, given, note = _pydate(self.day.date()), self.given.text(), self.note.text()
        self.errors.submit(
            p.worker,
            lambda: wishes.fulfil(p.db, p.actor, wid, given, note, on=on),
            self,
            lambda _r: self.accept(),
            busy=[self.ok],
        )


class ReportDialog(QDialog):
    """在职党员报到: the member (a party member in the volunteer registry),
    the unit, the date and the service posts."""

    def __init__(self, page: WishesPage):
        super().__init__(page)
        self.page = page
        self.setWindowTitle("在职党员报到")
        lay = QVBoxLayout(self)
        form = QFormLayout()
        self.errors = FormErrors(form)
        self.member = QComboBox()
        self.member.setEditable(True)
        self.member.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.member.setPlaceholderText("输入姓名或编号")
        self.errors.add("volunteer", "党员", self.member, "名单来自志愿者登记中标记为在职党员的人")
        self.unit = QLineEdit()
        self.unit.setPlaceholderText("如：市财政局")
        self.errors.add("unit", "工作单位", self.unit)
        self.day = _date_edit(date.today())
        self.errors.add("date", "报到日期", self.day)
        grid = QGridLayout()
        self.post_boxes: dict[str, QCheckBox] = {}
        for i, name in enumerate(wishes.POSTS):
            cb = QCheckBox(name)
            self.post_boxes[name] = cb
            grid.addWidget(cb, i // 4, i % 4)
        box = QWidget()
        box.setLayout(grid)
        self.errors.add("posts", "服务岗位", box)
        self.note = QLineEdit()
        self.errors.add("note", "备注", self.note)
        self.errors.fields["duplicate"] = self.member
        self.errors.labels["duplicate"] = self.errors.labels["volunteer"]
        lay.addLayout(form)
        self.ok = dialog_buttons(self, "报到", self.submit)
        self.resize(640, 420)
        db = page.db
        page.worker.run(lambda: vol.list_volunteers(db), self._fill)

    def _fill(self, rows: list[vol.VolunteerRow]) -> None:
        self.member.clear()
        for v in rows:
            if v.party_member and v.status != "left":
                self.member.addItem(f"{v.name}　{v.number}", str(v.id))
        self.member.setCurrentIndex(-1)

    def submit(self) -> None:
        p = self.page
        i = self.member.findText(self.member.currentText())
        vid = uuid.UUID(self.member.itemData(i)) if i >= 0 else None
        if vid is None:
            self.errors.clear()
            self.errors.show("volunteer", "请从列表中选择报到的党员。")
            return
        unit, day, note = self.unit.text(), _pydate(self.day.date()), self.note.text()
        posts = [k for k, cb in self.post_boxes.items() if cb.isChecked()]
        self.errors.submit(
            p.worker,
            lambda: wishes.report_in(p.db, p.actor, vid, unit, day, posts, note),
            self,
            lambda _r: self.accept(),
            busy=[self.ok],
        )
