"""Finding a resident inside a form: type a few characters, pick from the list."""

from __future__ import annotations

import uuid

from PySide6.QtCore import QCoreApplication, QEvent, QObject, Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QLabel, QLineEdit, QListWidget, QVBoxLayout, QWidget

from desktop.services.search import Hit, ResidentIndex
from desktop.ui.widgets import fmt_age
from desktop.ui.worker import SerialWorker


def row_text(h: Hit) -> str:
    """One resident in a picker's list: name, age, ID tail, address."""
    extra = " ".join(x for x in (h.doc_masked[-4:] if h.doc_masked else "", h.address or "") if x)
    return f"{h.name}　{fmt_age(h.birth_date)}　{extra}" + (f"（{h.status}）" if h.status else "")


class ResidentPicker(QWidget):
    """A search box over the shared resident index, its hits, and what is picked.

    The search runs on the worker (the index may have to load 100 000
    residents). Until the hits for the text as typed are back nothing is
    picked, so a form submitted in between says 请先选择居民 rather than
    using someone from an earlier search; Enter typed meanwhile (a scanner
    is that fast) is held and delivered once they are in.
    """

    picked = Signal(object)  # resident id or None

    def __init__(
        self, index: ResidentIndex, optional: bool = False, parent: QWidget | None = None, *, worker: SerialWorker
    ):
        super().__init__(parent)
        self.index, self.worker = index, worker
        self.resident_id: uuid.UUID | None = None
        self.resident_name = ""
        self.hits: list[Hit] = []
        self.shown_query = ""  # the text whose hits the list shows
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        self.edit = QLineEdit()
        self.edit.setPlaceholderText("姓名、拼音首字母、证件号后几位或电话")
        self.edit.setClearButtonEnabled(True)
        self.edit.textChanged.connect(self.search)
        self.edit.installEventFilter(self)
        self._held_enter: int | None = None  # the Enter key held until the hits are in
        self.list = QListWidget()
        self.list.currentRowChanged.connect(self._pick)
        self.label = QLabel("未选择居民" + ("（可不选）" if optional else ""))
        self.label.setObjectName("hint")
        self.label.setWordWrap(True)
        self.empty_text = self.label.text()
        lay.addWidget(self.edit)
        lay.addWidget(self.list, 1)
        lay.addWidget(self.label)

    @property
    def pending(self) -> bool:
        """The list does not yet answer the text in the box."""
        return self.shown_query != self.edit.text()

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802
        if (
            obj is self.edit
            and isinstance(event, QKeyEvent)
            and event.type() == QEvent.Type.KeyPress
            and self.pending
            and event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter)
        ):
            self._held_enter = event.key()
            return True
        return super().eventFilter(obj, event)

    def search(self, text: str) -> None:
        if self.edit.text() != text:  # called directly (not from typing): show the text searched
            self.edit.blockSignals(True)
            self.edit.setText(text)
            self.edit.blockSignals(False)
        self._pick(-1)  # nothing picked until this text's hits are in
        if not text.strip():
            self._show(text, [])
            return
        self.label.setText("正在查找…")
        index = self.index
        self.worker.run(lambda: index.search(text, limit=30), lambda hits: self._show(text, hits), parent=self)

    def _show(self, text: str, hits: list[Hit]) -> None:
        if text != self.edit.text():
            return  # an earlier text's hits; the current text's are on their way
        self.shown_query, self.hits = text, hits
        self.list.blockSignals(True)
        self.list.clear()
        for h in hits:
            self.list.addItem(row_text(h))
        self.list.blockSignals(False)
        if hits:
            self.list.setCurrentRow(0)
            self._pick(0)
        else:
            self._pick(-1)
        if self._held_enter is not None:  # what that Enter meant, now for these hits
            key, self._held_enter = self._held_enter, None
            QCoreApplication.sendEvent(self.edit, QKeyEvent(QEvent.Type.KeyPress, key, Qt.KeyboardModifier.NoModifier))

    def _pick(self, row: int) -> None:
        if 0 <= row < len(self.hits) and not self.pending:
            h = self.hits[row]
            self.resident_id, self.resident_name = h.id, h.name
            self.label.setText(f"已选择：{h.name}　证件 {h.doc_masked or '—'}")
        else:
            self.resident_id, self.resident_name = None, ""
            self.label.setText(self.empty_text)
        self.picked.emit(self.resident_id)

    def choose(self, h: Hit) -> None:
        """Pick a resident found elsewhere (carried over from 居民); the worker
        can still search for someone else."""
        self._set_text(h.name)
        self._show(h.name, [h])

    def clear(self) -> None:
        """Nobody picked, an empty box: ready for the next resident."""
        self._held_enter = None
        self._set_text("")
        self._show("", [])

    def _set_text(self, text: str) -> None:
        self.edit.setEnabled(True)
        self.list.setEnabled(True)
        self.edit.blockSignals(True)
        self.edit.setText(text)
        self.edit.blockSignals(False)

    def fix(self, rid: uuid.UUID) -> None:
        """Pick one resident and lock the picker (the form was opened for
        them). The id is picked at once; the name shows when it is loaded."""
        index = self.index

        def load() -> Hit | None:
            index.refresh()
            slot = index.slot_of.get(rid)
            return None if slot is None else index.hit_at(slot)

        self.edit.setEnabled(False)
        self.list.setEnabled(False)
        self.resident_id = rid
        self.worker.run(load, self._fixed)

    def _fixed(self, h: Hit | None) -> None:
        if h is None:  # not in the register (deleted meanwhile): let the worker search
            self.edit.setEnabled(True)
            self.list.setEnabled(True)
            self._pick(-1)
            return
        self.edit.blockSignals(True)
        self.edit.setText(h.name)
        self.edit.blockSignals(False)
        self.shown_query, self.hits = h.name, [h]
        self.list.blockSignals(True)
        self.list.clear()
        self.list.addItem(h.name)
        self.list.setCurrentRow(0)
        self.list.blockSignals(False)
        self._pick(0)
