"""Small shared pieces: fonts, headings, buttons, forms with inline errors, dates."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, cast

from db.localtime import to_local

from PySide6.QtCore import QDate, QEvent, QObject, QSize, Qt
from PySide6.QtGui import QAction, QFont, QKeyEvent, QResizeEvent
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QAbstractSpinBox,
    QApplication,
    QBoxLayout,
    QComboBox,
    QDialog,
    QFormLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QTableView,
    QTableWidget,
    QTextEdit,
    QWidget,
)

if TYPE_CHECKING:
    from desktop.ui.worker import SerialWorker

FONT_FAMILIES = [
    "Microsoft YaHei UI",
    "Microsoft YaHei",
    "WenQuanYi Micro Hei",
    "Noto Sans CJK SC",
    "Source Han Sans SC",
    "PingFang SC",
    "SimHei",
    "Sans Serif",
]


def qapp() -> QApplication:
    """The running application, typed as the widgets one it is (Qt's
    ``instance()`` is declared to return a QCoreApplication or None)."""
    return cast(QApplication, QApplication.instance())


def row_checked(t: QTableWidget, row: int) -> bool:
    """Whether the check box in ``row``'s first cell is ticked."""
    item = t.item(row, 0)
    return item is not None and item.checkState() == Qt.CheckState.Checked


def base_font(point_size: int) -> QFont:
    f = QFont()
    f.setFamilies(FONT_FAMILIES)
    f.setPointSize(point_size)
    return f


def scaled(widget: QWidget, delta: int, bold: bool = False) -> QWidget:
    """Give ``widget`` a font ``delta`` points above the app font; kept in step
    when the user changes the font size (see ``refresh_scaled_fonts``)."""
    widget.setProperty("fontDelta", delta)
    widget.setProperty("fontBold", bold)
    _apply(widget)
    return widget


def _apply(widget: QWidget) -> None:
    f = QFont(QApplication.font())
    f.setPointSize(max(6, f.pointSize() + int(widget.property("fontDelta") or 0)))
    f.setBold(bool(widget.property("fontBold")))
    widget.setFont(f)


def refresh_scaled_fonts() -> None:
    for w in QApplication.allWidgets():
        if w.property("fontDelta") is not None:
            _apply(w)


def heading(text: str, delta: int = 6) -> QLabel:
    label = QLabel(text)
    label.setObjectName("pageTitle")
    scaled(label, delta, True)
    return label


def hint(text: str) -> QLabel:
    label = QLabel(text)
    label.setObjectName("hint")
    label.setWordWrap(True)
    return label


class PathLabel(QLabel):
    """A file or folder path on one line: shortened in the middle (…) to the
    width it is given, the whole path in its tooltip.  A long path has no
    spaces to wrap at, so a wrapping label would push the page off a
    1366×768 screen.  ``text()`` is the whole path."""

    def __init__(self, text: str = "", parent: QWidget | None = None):
        super().__init__(parent)
        self._full = ""
        self.setMinimumWidth(120)
        self.setText(text)

    def setText(self, text: str) -> None:  # noqa: N802 - Qt's name
        self._full = text
        self.setToolTip(text)
        self._elide()

    def text(self) -> str:
        return self._full

    def minimumSizeHint(self) -> QSize:  # noqa: N802 - Qt's name
        return QSize(self.minimumWidth(), super().minimumSizeHint().height())

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt's name
        return QSize(self.fontMetrics().horizontalAdvance(self._full) + 4, super().sizeHint().height())

    def resizeEvent(self, e: QResizeEvent) -> None:  # noqa: N802 - Qt's name
        super().resizeEvent(e)
        self._elide()

    def _elide(self) -> None:
        shown = self.fontMetrics().elidedText(self._full, Qt.TextElideMode.ElideMiddle, max(self.width(), 40))
        super().setText(shown)


def primary(text: str) -> QPushButton:
    b = QPushButton(text)
    b.setProperty("primary", True)
    b.setDefault(True)
    return b


def dialog_buttons(dialog: QDialog, ok_text: str, on_ok: Callable[[], object]) -> QPushButton:
    """The 取消 / primary button row at the foot of a form dialog.

    ``on_ok`` is called with no arguments: a slot with an optional parameter
    would otherwise receive the button's ``checked`` flag.
    """
    from PySide6.QtWidgets import QHBoxLayout

    row = QHBoxLayout()
    row.addStretch(1)
    cancel = QPushButton("取消")
    cancel.clicked.connect(guard_input(dialog).cancel)
    ok = primary(ok_text)
    ok.clicked.connect(lambda _checked=False: on_ok())
    row.addWidget(cancel)
    row.addWidget(ok)
    cast(QBoxLayout, dialog.layout()).addLayout(row)
    return ok


# ------------------------------------------------------------ unsaved input


def input_values(root: QWidget) -> list[object]:
    """What has been entered in ``root``'s input widgets, in a comparable form.
    Lists count only their ticked items, so a list filled later is no change."""
    values: list[object] = []
    for w in root.findChildren(QWidget):
        if w.window() is not root:
            continue  # a message box or another dialog opened from this one
        if isinstance(w, QLineEdit):
            values.append(w.text())
        elif isinstance(w, (QPlainTextEdit, QTextEdit)):
            values.append(w.toPlainText())
        elif isinstance(w, QComboBox):
            values.append(w.currentText())
        elif isinstance(w, QAbstractSpinBox):
            values.append(w.text())
        elif isinstance(w, QAbstractButton) and w.isCheckable():
            values.append(w.isChecked())
        elif isinstance(w, QListWidget):
            values.append(
                [w.item(i).text() for i in range(w.count()) if w.item(i).checkState() == Qt.CheckState.Checked]
            )
        elif isinstance(w, QTableWidget) and w.editTriggers() != QAbstractItemView.EditTrigger.NoEditTriggers:
            values.append(
                [
                    (item.text(), item.checkState()) if (item := w.item(r, c)) else None
                    for r in range(w.rowCount())
                    for c in range(w.columnCount())
                ]
            )
    return values


def ask_discard(parent: QWidget) -> bool:
    """丢弃已填写的内容？ True when the user chooses to discard."""
    box = QMessageBox(
        QMessageBox.Icon.Question, "尚未保存", "丢弃已填写的内容？", QMessageBox.StandardButton.NoButton, parent
    )
    discard = box.addButton("丢弃", QMessageBox.ButtonRole.DestructiveRole)
    keep = box.addButton("继续填写", QMessageBox.ButtonRole.RejectRole)
    box.setDefaultButton(keep)
    box.setEscapeButton(keep)
    box.exec()
    box.deleteLater()
    return box.clickedButton() is discard


class InputGuard(QObject):
    """Escape, 取消 or the window's close button on a form dialog with typed
    input asks first.  The values are taken when the dialog is first shown and
    compared when it is about to close; a dialog closed by the program
    (``reject()``, ``accept()``) is not asked about."""

    def __init__(self, dialog: QDialog):
        super().__init__(dialog)
        self.dialog = dialog
        self.snapshot: list[object] | None = None
        dialog.installEventFilter(self)

    def mark_clean(self) -> None:
        self.snapshot = input_values(self.dialog)

    def changed(self) -> bool:
        return self.snapshot is not None and input_values(self.dialog) != self.snapshot

    def may_close(self) -> bool:
        return not self.changed() or ask_discard(self.dialog)

    def cancel(self) -> None:
        if self.may_close():
            self.dialog.reject()

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802
        if obj is not self.dialog:
            return False
        kind = event.type()
        if kind == QEvent.Type.Show and self.snapshot is None:
            self.mark_clean()
        elif (
            isinstance(event, QKeyEvent)
            and kind == QEvent.Type.KeyPress
            and event.key() == Qt.Key.Key_Escape
            and event.modifiers() == Qt.KeyboardModifier.NoModifier
        ):
            self.cancel()
            return True
        elif kind == QEvent.Type.Close and self.dialog.isVisible() and not self.may_close():
            event.ignore()
            return True
        return False


def guard_input(dialog: QDialog) -> InputGuard:
    """The dialog's InputGuard, made on first use."""
    guard = getattr(dialog, "input_guard", None)
    if guard is None:
        guard = dialog.input_guard = InputGuard(dialog)  # type: ignore[attr-defined]
    return guard


class FormErrors:
    """Inline error messages under fields of a QFormLayout, by field name."""

    def __init__(self, form: QFormLayout):
        self.form = form
        self.fields: dict[str, QWidget] = {}
        self.labels: dict[str, QLabel] = {}

    def add(self, name: str, label: str, widget: QWidget, note: str | None = None) -> QWidget:
        self.form.addRow(label, widget)
        if note:
            self.form.addRow("", hint(note))
        err = QLabel()
        err.setObjectName("error")
        err.setWordWrap(True)
        err.setVisible(False)
        self.form.addRow("", err)
        self.fields[name] = widget
        self.labels[name] = err
        return widget

    def clear(self) -> None:
        for name, label in self.labels.items():
            label.setVisible(False)
            self._mark(self.fields[name], False)

    def show(self, name: str, message: str) -> bool:
        """Show ``message`` under field ``name``; False if there is no such field."""
        if name not in self.labels:
            return False
        self.labels[name].setText(message)
        self.labels[name].setVisible(True)
        widget = self.fields[name]
        self._mark(widget, True)
        widget.setFocus()
        return True

    def attempt(
        self, worker: SerialWorker, fn: Callable[[], Any], parent: QWidget, label: str | None = None
    ) -> tuple[bool, Any]:
        """Run ``fn`` on the worker and wait (only before the main window
        exists; pages use ``submit``). A ValidationError shows under its
        field, any other known error as a message; returns ``(ok, result)``."""
        from db.errors import StationDeskError

        try:
            return True, worker.call(fn, label=label, parent=parent)
        except StationDeskError as exc:
            self.explain(exc, parent)
        return False, None

    def submit(
        self,
        worker: SerialWorker,
        fn: Callable[[], Any],
        parent: QWidget,
        on_done: Callable[[Any], object],
        *,
        busy: Iterable[QWidget | QAction | None] = (),
        label: str | None = None,
    ) -> bool:
        """``attempt`` without waiting: ``fn`` runs on the worker with ``busy``
        (the dialog's buttons) disabled; ``on_done(result)`` when it succeeds,
        the error under its field or as a message when not."""
        self.clear()
        return worker.op(
            fn, on_done, busy=busy, on_error=lambda exc: self.explain(exc, parent), label=label, parent=parent
        )

    def explain(self, exc: BaseException, parent: QWidget) -> None:
        """A ValidationError under its field, anything else as a message."""
        from db.errors import ValidationError
        from desktop.ui.errors import show_error

        if not (isinstance(exc, ValidationError) and self.show(exc.field, exc.user_message)):
            show_error(parent, exc)

    @staticmethod
    def _mark(widget: QWidget, invalid: bool) -> None:
        if isinstance(widget, QLineEdit):
            widget.setProperty("invalid", invalid)
            widget.style().unpolish(widget)
            widget.style().polish(widget)


def fmt_size(n: int) -> str:
    """A file size as a person reads it: 812 KB, 97.6 MB, 1.2 GB."""
    if n >= 1024**3:
        return f"{n / 1024**3:.1f} GB"
    if n >= 1024**2:
        return f"{n / 1024**2:.1f} MB"
    return f"{max(1, round(n / 1024))} KB"


def fmt_date(d: date | None) -> str:
    return f"{d.year}年{d.month}月{d.day}日" if d else ""


def fmt_age(birth: date | None) -> str:
    """``76岁``: shown beside a masked ID number instead of the birth date,
    which is eight of its digits (see ``idnumbers.mask``)."""
    from desktop.services.idnumbers import age_on

    return f"{age_on(birth, date.today())}岁" if birth else ""


def fmt_datetime(utc_naive: datetime | None) -> str:
    """A stored UTC time as local ``2026年11月22日 16:20``."""
    if utc_naive is None:
        return ""
    local = to_local(utc_naive)
    return f"{fmt_date(local)} {local:%H:%M}"


def fmt_local(dt: datetime | None) -> str:
    """A local (or zone-aware) time, as the sync views give them, as
    ``2026年12月1日 15:30``; ``—`` for none."""
    if dt is None:
        return "—"
    if dt.tzinfo is not None:
        dt = dt.astimezone()
    return f"{fmt_date(dt)} {dt:%H:%M}"


def fmt_short(dt: datetime | None) -> str:
    """``12月1日 15:30`` this year, ``2025年12月1日 15:30`` otherwise (table cells)."""
    if dt is None:
        return "—"
    if dt.tzinfo is not None:
        dt = dt.astimezone()
    if dt.year == datetime.now().year:
        return f"{dt.month}月{dt.day}日 {dt:%H:%M}"
    return fmt_local(dt)


def simple_table(headers: list[str], stretch: int) -> QTableWidget:
    """A read-only, single-selection table of rows with one stretching column."""
    from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableWidget

    t = QTableWidget(0, len(headers))
    t.setHorizontalHeaderLabels(headers)
    t.verticalHeader().setVisible(False)
    t.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    t.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    t.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    t.horizontalHeader().setSectionResizeMode(stretch, QHeaderView.ResizeMode.Stretch)
    return t


def fit_columns(t: QTableView, stretch: int, rows_measured: int = 1000) -> None:
    """Every column as wide as its header and content, at any font size, and
    ``stretch`` taking the room left (a horizontal scroll bar when there is
    none: IDs, dates, numbers and names are never cut off).  Content is
    measured on the first ``rows_measured`` rows besides the visible ones."""
    from PySide6.QtWidgets import QHeaderView

    header = t.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    header.setSectionResizeMode(stretch, QHeaderView.ResizeMode.Stretch)
    header.setResizeContentsPrecision(rows_measured)


def fill_table(t: QTableWidget, rows: list[list[str]]) -> None:
    """Replace a table's rows with text cells and fit the columns."""
    from PySide6.QtWidgets import QTableWidgetItem

    t.setRowCount(len(rows))
    for r, cells in enumerate(rows):
        for c, text in enumerate(cells):
            t.setItem(r, c, QTableWidgetItem(text))
    t.resizeColumnsToContents()
    header = t.horizontalHeader()
    for c in range(t.columnCount()):  # the stretch column takes the room left: lay it out again
        if header.sectionResizeMode(c) == header.ResizeMode.Stretch:
            header.setSectionResizeMode(c, header.ResizeMode.Stretch)


def action_row(
    dialog: QDialog, actions: Iterable[tuple[str, str]], on_act: Callable[[str], object], close_text: str = "关闭"
) -> dict[str, QPushButton]:
    """A row of action buttons, a stretch and a 关闭 button at the foot of a
    dialog; ``on_act(key)`` runs for each. Returns the buttons by key."""
    from PySide6.QtWidgets import QHBoxLayout

    row = QHBoxLayout()
    buttons: dict[str, QPushButton] = {}
    for key, label in actions:
        b = QPushButton(label)
        b.clicked.connect(lambda _c=False, key=key: on_act(key))
        buttons[key] = b
        row.addWidget(b)
    row.addStretch(1)
    close = QPushButton(close_text)
    close.clicked.connect(dialog.accept)
    row.addWidget(close)
    cast(QBoxLayout, dialog.layout()).addLayout(row)
    return buttons


def qdate(d: date) -> QDate:
    """A Python date for a date edit."""
    return QDate(d.year, d.month, d.day)


def pydate(q: QDate) -> date:
    """A date edit's date as a Python date."""
    return date(q.year(), q.month(), q.day())
