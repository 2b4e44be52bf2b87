"""报表: pick a period (and, at a hub, the stations), build the report off the
UI thread with a progress bar, read each section's figures, charts and
tables, click any number to list the records behind it, preview and print
the PDF, save it, or export the Excel workbook."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from PySide6.QtCore import QDate, QObject, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QPainter, QPaintEvent
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QDialog,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from db.engine import Database
from desktop.documents.formatting import figure_text, format_value
from desktop.services import reports
from desktop.services.context import Actor
from desktop.services.counter import local_today
from desktop.ui import files
from desktop.ui.errors import show_error
from desktop.ui.pages.base import Page
from desktop.ui.widgets import fit_columns, hint, primary, simple_table
from desktop.ui.worker import SerialWorker

KINDS = [
    ("last_month", "上月"),
    ("this_month", "本月"),
    ("month", "按月"),
    ("quarter", "按季度"),
    ("year", "按年"),
    ("range", "自定义"),
]
LINK = QColor("#1f5fa8")
RECORDS_SHOWN = 5000


class _Progress(QObject):
    step = Signal(int, int, str)


class ChartWidget(QWidget):
    """Paints a report chart with the same reportlab drawing the PDF uses."""

    def __init__(self, chart: reports.Chart, parent: QWidget | None = None):
        super().__init__(parent)
        from desktop.documents import charts, fonts
        from desktop.ui.printing import qt_family

        self.font_ = fonts.resolve()
        self.family = qt_family(self.font_)
        self.drawing = charts.drawing(chart.kind, chart.title, chart.labels, chart.values, self.font_, 380)
        self.setFixedSize(QSize(int(self.drawing.width), int(self.drawing.height)))

    def paintEvent(self, _e: QPaintEvent) -> None:  # noqa: N802
        from desktop.ui.printing import paint_drawing

        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        p.fillRect(self.rect(), QColor("white"))
        paint_drawing(p, self.drawing, self.family)
        p.end()


class RecordsDialog(QDialog):
    """The records behind one figure."""

    def __init__(self, parent: QWidget | None, recs: reports.Records):
        super().__init__(parent)
        self.recs = recs
        self.setWindowTitle(f"明细：{recs.title}")
        self.resize(1100, 560)
        lay = QVBoxLayout(self)
        shown = recs.rows[:RECORDS_SHOWN]
        more = f"（显示前 {RECORDS_SHOWN} 条，导出 Excel 可得全部）" if len(recs.rows) > RECORDS_SHOWN else ""
        lay.addWidget(QLabel(f"{recs.title}：共 {len(recs.rows)} 条{more}"))
        self.table = simple_table(recs.columns, min(2, len(recs.columns) - 1))
        self.table.setRowCount(len(shown))
        for r, row in enumerate(shown):
            for c, v in enumerate(row):
                item = QTableWidgetItem(format_value(v))
                if isinstance(v, (int, float)) and not isinstance(v, bool):
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.table.setItem(r, c, item)
        self.table.resizeColumnsToContents()
        self.table.horizontalHeader().setStretchLastSection(True)
        lay.addWidget(self.table, 1)
        foot = QHBoxLayout()
        export = QPushButton("导出 Excel…")
        export.clicked.connect(self.export)
        foot.addWidget(export)
        foot.addStretch(1)
        close = QPushButton("关闭")
        close.clicked.connect(self.accept)
        foot.addWidget(close)
        lay.addLayout(foot)

    def export(self, path: str | None = None) -> None:
        from desktop.documents import sheets

        if path is None:
            path = files.save_file(self, "导出明细", f"{self.recs.title}.xlsx", files.EXCEL)
        if path:
            try:
                sheets.write_workbook(path, [("明细", self.recs.columns, self.recs.rows)], title=self.recs.title)
            except Exception as e:  # noqa: BLE001
                show_error(self, e)
                return
            files.show_saved(self, "已导出", f"明细已导出到：\n{path}", path)


class ReportsPage(Page):
    title = "报表"
    min_role = "supervisor"

    def __init__(self, db: Database, actor: Actor, worker: SerialWorker, parent: QWidget | None = None):
        super().__init__(db, actor, worker, parent)
        self.report: reports.Report | None = None
        self.progress_sig = _Progress()
        self.progress_sig.step.connect(self._on_step)
        today = local_today()

        bar = QHBoxLayout()
        bar.addWidget(QLabel("统计期间"))
        self.kind = QComboBox()
        for key, label in KINDS:
            self.kind.addItem(label, key)
        self.kind.currentIndexChanged.connect(self._kind_changed)
        bar.addWidget(self.kind)
        self.year = QSpinBox()
        self.year.setRange(2015, 2100)
        self.year.setValue(today.year)
        self.year.setSuffix(" 年")
        bar.addWidget(self.year)
        self.month = QComboBox()
        for m in range(1, 13):
            self.month.addItem(f"{m} 月", m)
        self.month.setCurrentIndex(today.month - 1)
        bar.addWidget(self.month)
        self.quarter = QComboBox()
        for q in range(1, 5):
            self.quarter.addItem(f"第{'一二三四'[q - 1]}季度", q)
        self.quarter.setCurrentIndex((today.month - 1) // 3)
        bar.addWidget(self.quarter)
        self.start = QDateEdit(QDate(today.year, today.month, 1))
        self.end = QDateEdit(QDate(today.year, today.month, today.day))
        for d in (self.start, self.end):
            d.setCalendarPopup(True)
            d.setDisplayFormat("yyyy-MM-dd")
        bar.addWidget(self.start)
        self.to_label = QLabel("至")
        bar.addWidget(self.to_label)
        bar.addWidget(self.end)
        self.station_label = QLabel("站点")
        bar.addWidget(self.station_label)
        self.station = QComboBox()
        bar.addWidget(self.station)
        self.build_btn = primary("生成报表")
        self.build_btn.clicked.connect(self.build_report)
        bar.addWidget(self.build_btn)
        bar.addStretch(1)
        self.layout_.addLayout(bar)

        acts = QHBoxLayout()
        self.status = hint("选择统计期间，点“生成报表”。报表中的蓝色数字可以点击，查看对应的每一条记录。")
        acts.addWidget(self.status, 1)
        self.progress = QProgressBar()
        self.progress.setMaximumWidth(240)
        self.progress.setVisible(False)
        acts.addWidget(self.progress)
        self.preview_btn = QPushButton("预览 / 打印…")
        self.preview_btn.clicked.connect(self.preview)
        self.pdf_btn = QPushButton("保存 PDF…")
        self.pdf_btn.clicked.connect(lambda: self.save_pdf())
        self.xlsx_btn = QPushButton("导出 Excel…")
        self.xlsx_btn.clicked.connect(lambda: self.save_excel())
        for b in (self.preview_btn, self.pdf_btn, self.xlsx_btn):
            b.setEnabled(False)
            acts.addWidget(b)
        self.layout_.addLayout(acts)

        self.tabs = QTabWidget()
        self.layout_.addWidget(self.tabs, 1)
        self._kind_changed()
        self._stations_loaded = False

    # ------------------------------------------------------------ period
    def _kind_changed(self) -> None:
        k = self.kind.currentData()
        self.year.setVisible(k in ("month", "quarter", "year"))
        self.month.setVisible(k == "month")
        self.quarter.setVisible(k == "quarter")
        for w in (self.start, self.to_label, self.end):
            w.setVisible(k == "range")

    def period(self) -> reports.Period:
        k = self.kind.currentData()
        today = local_today()
        if k == "last_month":
            return reports.Period.last_month(today)
        if k == "this_month":
            return reports.Period.month(today.year, today.month)
        if k == "month":
            return reports.Period.month(self.year.value(), self.month.currentData())
        if k == "quarter":
            return reports.Period.quarter(self.year.value(), self.quarter.currentData())
        if k == "year":
            return reports.Period.year(self.year.value())
        s, e = self.start.date(), self.end.date()
        return reports.Period.between(date(s.year(), s.month(), s.day()), date(e.year(), e.month(), e.day()))

    def activated(self) -> None:
        if not self._stations_loaded:
            self._stations_loaded = True
            self.worker.run(lambda: reports.station_choices(self.db), self._fill_stations)

    def _fill_stations(self, choices: list[tuple[str, str]]) -> None:
        self.station.clear()
        self.station.addItem("全部站点" if len(choices) > 1 else (choices[0][1] if choices else "本站"), None)
        if len(choices) > 1:
            for code, name in choices:
                self.station.addItem(f"{name}（{code}）", code)
        self.station.setVisible(len(choices) > 1)
        self.station_label.setVisible(len(choices) > 1)

    # ------------------------------------------------------------ build
    def build_report(self) -> None:
        try:
            period = self.period()
        except Exception as e:  # noqa: BLE001
            show_error(self, e)
            return
        code = self.station.currentData()
        stations = [code] if code else None
        self.build_btn.setEnabled(False)
        self.progress.setVisible(True)
        self.progress.setRange(0, 6)
        self.progress.setValue(0)
        self.status.setText(f"正在汇总 {period.label} …")
        emit = self.progress_sig.step.emit

        def work() -> reports.Report:
            return reports.build(self.db, self.actor, period, stations, progress=emit)

        self.worker.run(work, self._built, self._failed)

    def _on_step(self, i: int, n: int, label: str) -> None:
        self.progress.setRange(0, n)
        self.progress.setValue(i)
        self.progress.setFormat(f"{label} %p%")

    def _failed(self, e: BaseException) -> None:
        self.build_btn.setEnabled(True)
        self.progress.setVisible(False)
        self.status.setText("报表没有生成。")
        show_error(self, e)

    def _built(self, report: reports.Report) -> None:
        self.report = report
        self.build_btn.setEnabled(True)
        self.progress.setVisible(False)
        for b in (self.preview_btn, self.pdf_btn, self.xlsx_btn):
            b.setEnabled(True)
        self.status.setText(
            f"{report.title}（{report.period.start:%Y-%m-%d} 至 {report.period.end:%Y-%m-%d}），"
            f"用时 {report.timings.get('total', 0):.1f} 秒。蓝色数字可点击查看明细。"
        )
        self.tabs.clear()
        for sec in report.sections:
            self.tabs.addTab(self._section_widget(sec), sec.title.split("、", 1)[-1])

    def _section_widget(self, sec: reports.Section) -> QWidget:
        inner = QWidget()
        lay = QVBoxLayout(inner)
        lay.setSpacing(10)
        if sec.figures:
            grid = QGridLayout()
            grid.setHorizontalSpacing(8)
            grid.setVerticalSpacing(8)
            for i, f in enumerate(sec.figures):
                grid.addWidget(self._figure_card(f), i // 5, i % 5)
            lay.addLayout(grid)
        if sec.charts:
            row = QHBoxLayout()
            for ch in sec.charts:
                if ch.labels:
                    row.addWidget(ChartWidget(ch))
            row.addStretch(1)
            lay.addLayout(row)
        for t in sec.tables:
            title = QLabel(t.title)
            bold = title.font()
            bold.setBold(True)
            title.setFont(bold)
            lay.addWidget(title)
            if t.note:
                lay.addWidget(hint(t.note))
            lay.addWidget(self._table_widget(t))
        for n in sec.notes:
            lay.addWidget(hint("注：" + n))
        lay.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(inner)
        return scroll

    def _figure_card(self, f: reports.Figure) -> QWidget:
        b = QPushButton(f"{f.label}\n{figure_text(f)}")
        b.setObjectName("figure")
        b.setMinimumHeight(54)
        b.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        font = b.font()
        font.setPointSize(font.pointSize() + 1)
        b.setFont(font)
        if f.drill is not None and f.value is not None:
            b.setToolTip("点击查看对应记录")
            b.setStyleSheet("QPushButton#figure { color: #1f5fa8; text-align: left; padding: 4px 10px; }")
            b.clicked.connect(lambda _c=False, d=f.drill: self.show_records(d))
        else:
            b.setStyleSheet("QPushButton#figure { text-align: left; padding: 4px 10px; }")
            b.setFlat(True)
        return b

    def _table_widget(self, t: reports.Table) -> QTableWidget:
        w = QTableWidget(len(t.rows), len(t.columns))
        w.setHorizontalHeaderLabels(t.columns)
        w.verticalHeader().setVisible(False)
        w.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        w.setSelectionMode(QTableWidget.SelectionMode.SingleSelection)
        link_font = QFont(w.font())
        link_font.setUnderline(True)
        for r, row in enumerate(t.rows):
            drills = t.drills[r] if r < len(t.drills) else [None] * len(row)
            total = row and row[0] == "合计"
            for c, v in enumerate(row):
                item = QTableWidgetItem(format_value(v, t.formats.get(c, "")))
                if t.formats.get(c) in ("int", "pct", "days", "hours"):
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                d = drills[c] if c < len(drills) else None
                if d is not None and v not in (None, 0):
                    item.setForeground(LINK)
                    item.setFont(link_font)
                    item.setToolTip("点击查看对应记录")
                    item.setData(Qt.ItemDataRole.UserRole, d)
                if total:
                    f = item.font()
                    f.setBold(True)
                    item.setFont(f)
                w.setItem(r, c, item)
        # The first column takes the room left, unless it holds times (用印时间):
        # then the next one does, and no time is cut off.
        fit_columns(w, 1 if len(t.columns) > 1 and t.columns[0].endswith(("时间", "日期")) else 0)
        w.cellClicked.connect(lambda r, c, w=w: self._cell_clicked(w, r, c))
        # show every row: the page scrolls, not each table
        h = w.horizontalHeader().height() + sum(w.rowHeight(i) for i in range(min(len(t.rows), 40))) + 4
        w.setMinimumHeight(min(h, 900))
        w.setMaximumHeight(max(h, 60))
        return w

    def _cell_clicked(self, w: QTableWidget, r: int, c: int) -> None:
        item = w.item(r, c)
        d = item.data(Qt.ItemDataRole.UserRole) if item else None
        if d is not None:
            self.show_records(d)

    def show_records(self, drill: reports.Drill) -> None:
        """Read the records behind a figure on the worker, then show them;
        the report tabs wait meanwhile (a second click opens nothing twice)."""
        if self.report is None:
            return
        report, db, actor = self.report, self.db, self.actor
        self.worker.op(
            lambda: reports.records(db, actor, report, drill),
            lambda recs: RecordsDialog(self, recs).open(),
            busy=[self.tabs],
            label="正在读取明细…",
            parent=self,
        )

    # ------------------------------------------------------------ output
    def _default_name(self, ext: str) -> str:
        assert self.report is not None
        return f"{self.report.title}.{ext}".replace("/", "-")

    def preview_dialog(self) -> Any:
        """The preview of the report's PDF (not yet shown)."""
        from desktop import paperwork
        from desktop.ui.printing import PreviewDialog

        assert self.report is not None
        report = self.report
        return PreviewDialog(
            self,
            report.title,
            lambda _layout: paperwork.report_document(report),
            suggested_name=self._default_name("pdf"),
        )

    def preview(self) -> None:
        if self.report is None:
            return
        try:
            dlg = self.preview_dialog()
        except Exception as e:  # noqa: BLE001 - e.g. no usable font
            show_error(self, e)
            return
        dlg.exec()

    def save_pdf(self, path: str | None = None) -> None:
        from desktop import paperwork

        if self.report is None:
            return
        if path is None:
            path = files.save_file(self, "保存报表 PDF", self._default_name("pdf"), files.PDF)
        if not path:
            return
        report = self.report
        self.worker.op(
            lambda: paperwork.save_report_pdf(report, path),
            lambda p: self._saved(f"已保存：{p}", p),
            busy=[self.pdf_btn, self.xlsx_btn, self.preview_btn],
            label="正在生成 PDF…",
            parent=self,
        )

    def _saved(self, text: str, path: str | Path) -> None:
        self.status.setText(text)
        files.show_saved(self, "报表已保存", text.replace("：", "到：\n", 1), path)

    def save_excel(self, path: str | None = None) -> None:
        from desktop import paperwork

        if self.report is None:
            return
        if path is None:
            path = files.save_file(self, "导出报表 Excel", self._default_name("xlsx"), files.EXCEL)
        if not path:
            return
        report = self.report
        self.worker.op(
            lambda: paperwork.export_report_excel(report, path),
            lambda p: self._saved(f"已导出：{p}", p),
            busy=[self.pdf_btn, self.xlsx_btn, self.preview_btn],
            label="正在导出 Excel…",
            parent=self,
        )
