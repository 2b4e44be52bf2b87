"""导入居民台账: choose an .xlsx/.csv ledger, confirm which column is which,
check it without writing, import it, and save the list of problems.

Reading, checking and importing run on the serial worker (with a progress
box after a moment), so the window keeps painting on a 10 000-row file.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QGuiApplication
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from db.engine import Database
from desktop.services import ledger
from desktop.services.context import Actor
from desktop.services.idnumbers import mask
from desktop.services.ledger import FIELD_LABELS, ImportReport, RowConflict, Table
from desktop.ui import files
from desktop.ui.widgets import hint, primary, row_checked, scaled
from desktop.ui.worker import SerialWorker

NOT_IMPORTED = "（不导入）"
PREVIEW_ROWS = 5
SHOW_PROBLEMS = 2000  # rows in the problems table; the saved list has all
GREY = QColor("#9aa5b1")


class ImportDialog(QDialog):
    """``ImportDialog(parent, db, actor, worker)``; ``load_file(path)`` opens a
    file without the file chooser.  ``imported`` fires after a real import."""

    imported = Signal(object)  # ImportReport

    def __init__(self, parent: QWidget | None, db: Database, actor: Actor, worker: SerialWorker):
        super().__init__(parent)
        self.db, self.actor, self.worker = db, actor, worker
        self.path: Path | None = None
        self.table: Table | None = None
        self.report: ImportReport | None = None
        self.saved: Path | None = None  # where the problem list was last saved
        self.combos: list[QComboBox] = []
        self.can_import = actor.at_least(ledger.IMPORT_ROLE)
        self.setWindowTitle("导入居民台账")
        lay = QVBoxLayout(self)
        lay.setSpacing(8)

        top = QHBoxLayout()
        self.file_label = QLabel("还没有选择文件。")
        scaled(self.file_label, 1, True)
        self.file_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.choose = QPushButton("选择文件…")
        self.choose.clicked.connect(lambda _checked=False: self.choose_file())
        top.addWidget(self.file_label, 1)
        top.addWidget(self.choose)
        lay.addLayout(top)
        lay.addWidget(
            hint(
                "可以导入 Excel（.xlsx）或 CSV 文件，表头上方可以有标题行。程序会自动识别每一列；"
                "识别得不对的，请在“导入为”一行改选。已登记的居民（证件号码相同）会更新原记录，不会重复添加；"
                "空着的格子不会覆盖已有信息；证件号码相同但姓名不同的行，要逐行确认后才会更新。"
            )
        )
        self.info = QLabel()
        self.info.setObjectName("hint")
        lay.addWidget(self.info)

        self.preview = QTableWidget(0, 0)
        self.preview.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.preview.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.preview.setAlternatingRowColors(True)
        self.preview.setMinimumHeight(150)
        lay.addWidget(self.preview, 3)

        actions = QHBoxLayout()
        self.mapping_note = QLabel()
        self.mapping_note.setObjectName("error")
        self.mapping_note.setWordWrap(True)
        self.check = QPushButton("检查（不写入）")
        self.check.clicked.connect(lambda _checked=False: self.run_check())
        self.do_import = primary("导入")
        self.do_import.setDefault(False)
        self.do_import.clicked.connect(lambda _checked=False: self.run_import())
        if not self.can_import:
            self.do_import.setToolTip("导入需要站长或管理员权限；可以先检查文件。")
        actions.addWidget(self.mapping_note, 1)
        actions.addWidget(self.check)
        actions.addWidget(self.do_import)
        lay.addLayout(actions)

        self.summary = QLabel()
        self.summary.setWordWrap(True)
        scaled(self.summary, 1, True)
        lay.addWidget(self.summary)
        lay.addWidget(self._conflicts_box(), 2)
        self.problems = QTableWidget(0, 3)
        self.problems.setHorizontalHeaderLabels(["行号", "字段", "问题"])
        self.problems.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.problems.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.problems.setAlternatingRowColors(True)
        self.problems.setWordWrap(True)
        self.problems.verticalHeader().setVisible(False)
        hh = self.problems.horizontalHeader()
        hh.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.problems.setColumnWidth(0, 70)
        self.problems.setColumnWidth(1, 110)
        self.problems.setMinimumHeight(110)
        lay.addWidget(self.problems, 2)

        bottom = QHBoxLayout()
        self.saved_note = QLabel()
        self.saved_note.setObjectName("notice")
        self.saved_note.setWordWrap(True)
        self.save = QPushButton("保存问题清单…")
        self.save.clicked.connect(lambda _checked=False: self.choose_report_file())
        close = QPushButton("关闭")
        close.clicked.connect(self.accept)
        bottom.addWidget(self.saved_note, 1)
        bottom.addWidget(self.save)
        bottom.addWidget(close)
        lay.addLayout(bottom)

        self._fit_screen()
        self._update_state()

    def _conflicts_box(self) -> QWidget:
        """Rows whose ID number is registered under another name: a tick each
        (and 全部确认) says the file's row may update that resident."""
        self.conflict_rows: list[RowConflict] = []
        box = self.conflict_box = QWidget()
        v = QVBoxLayout(box)
        v.setContentsMargins(0, 0, 0, 0)
        head = QHBoxLayout()
        self.conflict_note = QLabel()
        self.conflict_note.setObjectName("error")
        self.conflict_note.setWordWrap(True)
        self.confirm_all = QCheckBox("全部确认")
        self.confirm_all.toggled.connect(self._tick_all)
        head.addWidget(self.conflict_note, 1)
        head.addWidget(self.confirm_all)
        v.addLayout(head)
        t = self.conflicts = QTableWidget(0, 5)
        t.setHorizontalHeaderLabels(["按文件更新", "行号", "证件号码", "系统中的姓名", "文件中的姓名"])
        t.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        t.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        t.verticalHeader().setVisible(False)
        t.horizontalHeader().setSectionResizeMode(4, QHeaderView.ResizeMode.Stretch)
        for col, width in enumerate((100, 70, 200, 160)):
            t.setColumnWidth(col, width)
        t.setMinimumHeight(90)
        t.itemChanged.connect(lambda _item: self._ticks_changed())
        v.addWidget(t)
        box.setVisible(False)
        return box

    def confirmed(self) -> dict[int, str]:
        """``{row: the file's name}`` of the ticked conflicts, for import_ledger(confirm=...)."""
        return {c.row: c.file_name for i, c in enumerate(self.conflict_rows) if row_checked(self.conflicts, i)}

    def _tick_all(self, on: bool) -> None:
        state = Qt.CheckState.Checked if on else Qt.CheckState.Unchecked
        self.conflicts.blockSignals(True)
        for i in range(self.conflicts.rowCount()):
            if item := self.conflicts.item(i, 0):
                item.setCheckState(state)
        self.conflicts.blockSignals(False)

    def _ticks_changed(self) -> None:
        self.confirm_all.blockSignals(True)
        self.confirm_all.setChecked(bool(self.conflict_rows) and len(self.confirmed()) == len(self.conflict_rows))
        self.confirm_all.blockSignals(False)

    def _show_conflicts(self, conflicts: list[RowConflict]) -> None:
        self.conflict_rows = list(conflicts)
        t = self.conflicts
        t.blockSignals(True)
        t.setRowCount(len(conflicts))
        for i, c in enumerate(conflicts):
            tick = QTableWidgetItem()
            tick.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsUserCheckable)
            tick.setCheckState(Qt.CheckState.Checked if c.confirmed else Qt.CheckState.Unchecked)
            t.setItem(i, 0, tick)
            for col, text in enumerate((str(c.row), c.doc_masked, c.existing_name, c.file_name), start=1):
                t.setItem(i, col, QTableWidgetItem(text))
        t.blockSignals(False)
        held = sum(not c.confirmed for c in conflicts)
        self.conflict_note.setText(
            f"{len(conflicts)} 行的证件号码已登记在另一个姓名下"
            + (f"，其中 {held} 行还没有确认、没有导入" if held else "")
            + "。请逐行核对：勾选的行在导入时用文件中的这一行（包括姓名）更新已登记的居民；不勾选的行不导入。"
        )
        self._ticks_changed()
        self.conflict_box.setVisible(bool(conflicts))

    def _fit_screen(self) -> None:
        parent = self.parentWidget()
        screen = (parent.screen() if parent else None) or QGuiApplication.primaryScreen()
        avail = screen.availableGeometry() if screen else None
        w, h = 1180, 700
        if avail is not None:
            w, h = min(w, avail.width() - 40), min(h, avail.height() - 50)
        self.resize(max(w, 640), max(h, 480))

    # ------------------------------------------------------------ file
    def choose_file(self) -> None:
        path = files.open_file(
            self,
            "选择居民台账",
            "台账文件 (*.xlsx *.csv);;Excel 文件 (*.xlsx);;CSV 文件 (*.csv);;所有文件 (*)",
            str(self.path.parent) if self.path else None,
        )
        if path:
            self.load_file(path)

    def load_file(self, path: str | Path) -> bool:
        """Read ``path`` on the worker and show its columns (a file that cannot
        be read is explained; the dialog keeps the previous file). False if a
        file is still being read."""
        p = Path(path)
        return self.worker.op(
            lambda: ledger.read_table(p),
            lambda table: self._loaded(p, table),
            busy=[self.choose, self.check, self.do_import],
            label="正在读取文件…",
            parent=self,
        )

    def _loaded(self, p: Path, table: Table) -> None:
        self.path, self.table = p, table
        self.file_label.setText(p.name)
        self.file_label.setToolTip(str(p))
        where = f"工作表“{table.sheet}”，" if table.kind == "xlsx" else f"CSV（{table.sheet} 编码），"
        self.info.setText(
            f"{where}表头在第 {table.header_row} 行，共 {len(table.rows):,} 行数据。"
            f"下面是前 {min(PREVIEW_ROWS, len(table.rows))} 行。"
        )
        self._fill_preview(table)
        self._clear_report()
        self._update_state()

    def _fill_preview(self, table: Table) -> None:
        guessed = ledger.guess_mapping(table.headers)
        rows = table.rows[:PREVIEW_ROWS]
        t = self.preview
        t.clear()
        t.setColumnCount(table.width)
        t.setRowCount(1 + len(rows))
        t.setHorizontalHeaderLabels([h or f"第{i + 1}列" for i, h in enumerate(table.headers)])
        t.setVerticalHeaderLabels(["导入为"] + [f"第 {n} 行" for n, _ in rows])
        self.combos = []
        for col in range(table.width):
            combo = QComboBox()
            combo.addItem(NOT_IMPORTED, None)
            for key, label in FIELD_LABELS.items():
                combo.addItem(label, key)
            combo.setCurrentIndex(max(0, combo.findData(guessed.get(col))))
            combo.currentIndexChanged.connect(lambda _i, c=col: self._mapping_changed(c))
            t.setCellWidget(0, col, combo)
            self.combos.append(combo)
        for r, (_, values) in enumerate(rows, start=1):
            for col in range(table.width):
                text = ledger.cell_text(values[col])
                if guessed.get(col) == "doc_number" and len(text) >= 10:
                    text = mask(text)  # ID numbers stay masked on screen, even from the worker's own file
                t.setItem(r, col, QTableWidgetItem(text))
        t.resizeColumnsToContents()
        # Wide enough for the longest field label plus the drop-down arrow and padding.
        combo_w = t.fontMetrics().horizontalAdvance(NOT_IMPORTED) + 64
        for col in range(table.width):
            t.setColumnWidth(col, min(240, max(t.columnWidth(col), combo_w)))
        t.setRowHeight(0, self.combos[0].sizeHint().height() + 8 if self.combos else 30)
        self._grey_unmapped()

    def _grey_unmapped(self) -> None:
        for col, combo in enumerate(self.combos):
            used = combo.currentData() is not None
            for r in range(1, self.preview.rowCount()):
                item = self.preview.item(r, col)
                if item is not None:
                    item.setForeground(self.preview.palette().text().color() if used else GREY)

    # ------------------------------------------------------------ mapping
    def mapping(self) -> dict[int, str]:
        return {col: c.currentData() for col, c in enumerate(self.combos) if c.currentData()}

    def set_field(self, col: int, field: str | None) -> None:
        """Choose what column ``col`` is imported as (None: not imported)."""
        self.combos[col].setCurrentIndex(max(0, self.combos[col].findData(field)))

    def _mapping_changed(self, col: int) -> None:
        chosen = self.combos[col].currentData()
        if chosen:
            for other, c in enumerate(self.combos):
                if other != col and c.currentData() == chosen:  # one column per field
                    c.blockSignals(True)
                    c.setCurrentIndex(0)
                    c.blockSignals(False)
        self._grey_unmapped()
        if self.report is not None:
            self._clear_report()
            self.summary.setText("对应关系改了，请重新检查。")
        self._update_state()

    def _update_state(self) -> None:
        loaded = self.table is not None
        has_name = "name" in self.mapping().values()
        if loaded and not has_name:
            self.mapping_note.setText("请在“导入为”一行为“姓名”选择对应的列。")
        else:
            self.mapping_note.setText("")
        self.check.setEnabled(loaded and has_name)
        self.do_import.setEnabled(loaded and has_name and self.can_import)
        self.save.setEnabled(
            bool(self.report and (self.report.errors or self.report.warnings or self.report.conflicts))
        )

    # ------------------------------------------------------------ check / import
    def run_check(self) -> bool:
        return self._run(dry_run=True)

    def run_import(self) -> bool:
        answer = QMessageBox.question(
            self,
            "导入居民台账",
            "检查通过的行会一次写入居民名册；有问题的行不导入，可以改好后再导入同一个文件"
            "（已导入的不会重复）。\n\n确定导入吗？",
        )
        if answer != QMessageBox.StandardButton.Yes:
            return False
        return self._run(dry_run=False)

    def _run(self, dry_run: bool) -> bool:
        """Check or import on the worker with both buttons off until the
        report is back (shown, and in ``self.report``); False if not started."""
        if self.path is None:
            return False
        db, actor, path, mapping, confirm = self.db, self.actor, self.path, self.mapping(), self.confirmed()

        def done(report: ImportReport) -> None:
            self.show_report(report)
            if not dry_run:
                self.imported.emit(report)

        return self.worker.op(
            lambda: ledger.import_ledger(db, actor, path, mapping=mapping, dry_run=dry_run, confirm=confirm),
            done,
            busy=[self.check, self.do_import],
            label="正在检查…" if dry_run else "正在导入…",
            parent=self,
        )

    def _clear_report(self) -> None:
        self.report = None
        self.summary.setText("")
        self.saved_note.setText("")
        self.problems.setRowCount(0)
        self._show_conflicts([])

    def show_report(self, report: ImportReport) -> None:
        self.report = report
        self.saved_note.setText("")
        self.summary.setText(report.summary())
        self.summary.setObjectName("notice" if not (report.errors or report.unconfirmed) else "")
        self.summary.style().unpolish(self.summary)
        self.summary.style().polish(self.summary)
        lines = [(e.row, e.field, e.message) for e in report.errors]
        lines += [(w.row, "重复", w.message) for w in report.warnings]
        lines.sort(key=lambda x: x[0])
        shown = lines[:SHOW_PROBLEMS]
        t = self.problems
        t.setRowCount(len(shown))
        for r, (row, field, message) in enumerate(shown):
            num = QTableWidgetItem(str(row))
            num.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            t.setItem(r, 0, num)
            t.setItem(r, 1, QTableWidgetItem(field))
            msg = QTableWidgetItem(message)
            msg.setToolTip(message)
            t.setItem(r, 2, msg)
        t.resizeRowsToContents()
        self._show_conflicts(report.conflicts)
        if len(lines) > SHOW_PROBLEMS:
            self.saved_note.setText(f"这里只列出前 {SHOW_PROBLEMS} 条，共 {len(lines)} 条；完整清单请保存后查看。")
        self._update_state()

    # ------------------------------------------------------------ saving the problems
    def choose_report_file(self) -> None:
        if self.report is None:
            return
        stem = self.path.stem if self.path else "台账"
        path = files.save_file(
            self, "保存问题清单", f"{stem}-问题清单.xlsx", files.EXCEL, str(self.path.parent) if self.path else None
        )
        if path:
            self.save_report_to(path)

    def save_report_to(self, path: str | Path) -> None:
        """Save the problem list on the worker; ``self.saved`` is where it went."""
        report = self.report
        if report is None:
            return

        def saved(where: Path) -> None:
            self.saved = where
            self.saved_note.setText(f"问题清单已保存：{where}")
            files.show_saved(self, "已保存", f"问题清单已保存到：\n{where}", where)

        from desktop import paperwork

        self.worker.op(
            lambda: paperwork.save_import_report(report, path), saved, busy=[self.save], label="正在保存…", parent=self
        )
