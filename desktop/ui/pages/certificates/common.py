"""What the parts of 开具证明 share: the period filter, the red of abolished
and voided entries, the glyph check, and ``CertTab``, the base of the
ledger tabs."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any, Callable

from PySide6.QtCore import Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QMessageBox, QTableWidget, QWidget

from desktop.services import certificates as certs
from desktop.ui.pages.base import PagePart

RED = QColor("#b42318")
PERIODS = ("本月", "上月", "今年", "全部")


def period_range(label: str, today: date | None = None) -> tuple[date | None, date | None]:
    today = today or date.today()
    first = today.replace(day=1)
    if label == "本月":
        return first, today
    if label == "上月":
        last = first - timedelta(days=1)
        return last.replace(day=1), last
    if label == "今年":
        return today.replace(month=1, day=1), today
    return None, None


def glyphs(text: str) -> list[str]:
    """The certificate face's missing characters (reportlab loads only when needed)."""
    from desktop import paperwork

    return paperwork.certificate_glyphs(text)


class CertTab(PagePart):
    """A part of 开具证明 that runs its own actions on the worker.  It tells
    the page through signals: ``changed`` (refresh the ledgers), ``printing``
    (print the certificate with this id), ``retitled`` (its tab label)."""

    changed = Signal()
    printing = Signal(object)
    retitled = Signal(str)

    def selected(self, table: QTableWidget, rows: list[certs.CertRow]) -> certs.CertRow | None:
        i = table.currentRow()
        if 0 <= i < len(rows):
            return rows[i]
        QMessageBox.information(self, "请先选择", "请先在表格中选中一份证明。")
        return None

    def run(self, fn: Callable[[], Any], busy: list[QWidget], then: Callable[[Any], None] | None = None) -> None:
        """A ledger action: ``fn`` on the worker with ``busy`` disabled, then
        refresh the tables and ``then(result)``."""

        def done(result: Any) -> None:
            self.changed.emit()
            if then is not None:
                then(result)

        self.worker.op(fn, done, busy=busy, parent=self)

    def print_then(self) -> Callable[[Any], None]:
        """``then`` for an action whose result is a certificate to print."""
        return lambda res: self.printing.emit(res.id)
