"""What the tabs of 数据交换 share: texts, colours, the table helpers, how a
failure is explained, and ``ExchangeTab``, the base of every tab."""

from __future__ import annotations

from typing import Any, Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QCheckBox,
    QHBoxLayout,
    QHeaderView,
    QMessageBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from db.engine import Database
from desktop.services.context import Actor
from desktop.services.sync.views import ROLE_LABELS
from desktop.ui.errors import show_error
from desktop.ui.pages.base import PagePart
from desktop.ui.widgets import hint, simple_table
from desktop.ui.worker import SerialWorker

ADMIN_ONLY = "需要管理员权限。"
RED = QColor("#b42318")
AMBER = QColor("#9a5b00")
PEER_FILTER = "站点公钥文件 (*.json);;所有文件 (*)"


def fingerprint_text(fp: str, per_line: int = 6) -> str:
    """The fingerprint's digit groups, spaced for reading aloud; ``per_line``
    groups to a line."""
    groups = fp.split() or [fp]
    lines = ["\u2002".join(groups[i : i + per_line]) for i in range(0, len(groups), per_line)]
    return "\n".join(lines)


def role_label(role: str) -> str:
    return ROLE_LABELS.get(role, role)


def user_message(exc: BaseException) -> str | None:
    """The Chinese message of an error the person can act on (sync errors included)."""
    from db.errors import friendly

    known = friendly(exc)
    return known.user_message if known is not None else None


def show_failure(parent: QWidget | None, exc: BaseException, title: str = "无法完成") -> None:
    msg = user_message(exc)
    if msg is None:
        show_error(parent, exc)
    else:
        QMessageBox.warning(parent, title, msg)


def item(text: str, *, right: bool = False, tip: str = "", color: QColor | None = None) -> QTableWidgetItem:
    it = QTableWidgetItem(text)
    if right:
        it.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    if tip:
        it.setToolTip(tip)
    if color is not None:
        it.setForeground(color)
    return it


def fill(table: QTableWidget, rows: list[list[QTableWidgetItem]], stretch: tuple[int, ...] = ()) -> None:
    """Replace the rows; columns fit their contents, the ``stretch`` ones (or
    else the last) share what is left, so no name is cut short."""
    table.setRowCount(len(rows))
    for r, cells in enumerate(rows):
        for c, it in enumerate(cells):
            table.setItem(r, c, it)
    header = table.horizontalHeader()
    for c in range(table.columnCount()):
        header.setSectionResizeMode(
            c, QHeaderView.ResizeMode.Stretch if c in stretch else QHeaderView.ResizeMode.ResizeToContents
        )
    header.setStretchLastSection(not stretch)


def table(headers: list[str], stretch: int) -> QTableWidget:
    t: QTableWidget = simple_table(headers, stretch)
    t.setAlternatingRowColors(True)
    t.setWordWrap(False)
    return t


def selected_row(t: QTableWidget) -> int | None:
    rows = {i.row() for i in t.selectedIndexes()}
    return rows.pop() if len(rows) == 1 else None


def selected_item(t: QTableWidget, items: list[Any]) -> Any | None:
    """The one item of ``items`` selected in ``t`` (None: none, or several)."""
    r = selected_row(t)
    return items[r] if r is not None and r < len(items) else None


def reselect(t: QTableWidget, items: list[Any], before: Any | None) -> None:
    """After a refresh: select again the item selected ``before`` (same id),
    else the first."""
    again = next((i for i, x in enumerate(items) if before is not None and x.id == before.id), None)
    if again is not None:
        t.selectRow(again)
    elif items:
        t.selectRow(0)


def open_pairs(
    read: Callable[[Database, str | None], list[Any]], db: Database, show_done: bool
) -> Callable[[], tuple[list[Any], int]]:
    """A worker read of conflicts or duplicates: the ones shown (the open ones
    unless ``show_done``) and how many are open."""
    status = None if show_done else "open"

    def load() -> tuple[list[Any], int]:
        found = read(db, status)
        return found, len(found) if status else sum(1 for x in found if x.status == "open")

    return load


def restyle(w: QWidget) -> None:
    """Apply a changed objectName's style (notice / error)."""
    w.style().unpolish(w)
    w.style().polish(w)


class ExchangeTab(PagePart):
    """A tab (or the key strip) of 数据交换.  It runs its own actions on the
    worker and shows its own part of what the page reads; it tells the page
    through signals: ``reload`` (read everything again), ``retitled`` (its
    tab label, with a count), ``notice`` (a line for the 导出 / 导入 result)."""

    reload = Signal()
    retitled = Signal(str)
    notice = Signal(str)

    def __init__(self, db: Database, actor: Actor, worker: SerialWorker, parent: QWidget | None = None):
        super().__init__(db, actor, worker, parent)
        self.is_admin = actor.at_least("admin")
        self.may_exchange = actor.at_least("supervisor")

    def op(
        self,
        fn: Callable[[], Any],
        done: Callable[[Any], None],
        busy: list[QWidget],
        title: str = "无法完成",
        reload_on_error: bool = False,
    ) -> None:
        """``fn`` on the worker with ``busy`` off until it is back; a failure
        is explained (and the page reloaded when it may have changed)."""

        def failed(exc: BaseException) -> None:
            show_failure(self, exc, title)
            if reload_on_error:
                self.reload.emit()

        self.worker.op(fn, done, busy=busy, on_error=failed, parent=self)

    def update_buttons(self) -> None:
        """Enable what may be done now."""

    def pair_layout(
        self, text: str, columns: list[str], stretch: int, on_select: Callable[[], None], left: QWidget, right: QWidget
    ) -> tuple[QVBoxLayout, QCheckBox, QTableWidget]:
        """This tab as a list of pairs above two panels side by side
        (conflicts, duplicates); 显示已处理 reads the page again."""
        lay = QVBoxLayout(self)
        lay.setContentsMargins(12, 12, 12, 12)
        top = QHBoxLayout()
        top.addWidget(hint(text), 1)
        show_done = QCheckBox("显示已处理")
        show_done.toggled.connect(lambda _on: self.reload.emit())
        top.addWidget(show_done)
        lay.addLayout(top)
        t = table(columns, stretch)
        t.itemSelectionChanged.connect(on_select)
        lay.addWidget(t, 1)
        sides = QHBoxLayout()
        sides.addWidget(left, 1)
        sides.addWidget(right, 1)
        lay.addLayout(sides)
        return lay, show_done, t
