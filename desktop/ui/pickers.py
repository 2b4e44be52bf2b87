"""Finding a resident inside a form: type a few characters, pick from the list."""
from __future__ import annotations

import uuid

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QLabel, QLineEdit, QListWidget, QVBoxLayout, QWidget

from desktop.services.search import Hit, ResidentIndex
from desktop.ui.widgets import fmt_age


class ResidentPicker(QWidget):
    """A search box over the shared resident index, its hits, and what is picked."""

    picked = Signal(object)  # resident id or None

    def __init__(self, index: ResidentIndex, optional: bool = False, parent: QWidget | None = None):
        super().__init__(parent)
        self.index = index
        self.resident_id: uuid.UUID | None = None
        self.resident_name = ""
        self.hits: list[Hit] = []
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        self.edit = QLineEdit()
        self.edit.setPlaceholderText("姓名、拼音首字母、证件号后几位或电话")
        self.edit.setClearButtonEnabled(True)
        self.edit.textChanged.connect(self.search)
        self.list = QListWidget()
        self.list.currentRowChanged.connect(self._pick)
        self.label = QLabel("未选择居民" + ("（可不选）" if optional else ""))
        self.label.setObjectName("hint")
        self.label.setWordWrap(True)
        self.empty_text = self.label.text()
        lay.addWidget(self.edit)
        lay.addWidget(self.list, 1)
        lay.addWidget(self.label)

    def search(self, text: str) -> None:
        self.hits = self.index.search(text, limit=30) if text.strip() else []
        self.list.clear()
        for h in self.hits:
            extra = " ".join(x for x in (h.doc_masked[-4:] if h.doc_masked else "", h.address or "") if x)
            self.list.addItem(f"{h.name}　{fmt_age(h.birth_date)}　{extra}" + (f"（{h.status}）" if h.status else ""))
        if self.hits:
            self.list.setCurrentRow(0)
        else:
            self._pick(-1)

    def _pick(self, row: int) -> None:
        if 0 <= row < len(self.hits):
            h = self.hits[row]
            self.resident_id, self.resident_name = h.id, h.name
            self.label.setText(f"已选择：{h.name}　证件 {h.doc_masked or '—'}")
        else:
            self.resident_id, self.resident_name = None, ""
            self.label.setText(self.empty_text)
        self.picked.emit(self.resident_id)

    def fix(self, rid: uuid.UUID) -> bool:
        """Pick one resident and lock the picker (the form was opened for them)."""
        self.index.refresh()
        slot = self.index.slot_of.get(rid)
        if slot is None:
            return False
        h = self.index.hit_at(slot)
        self.edit.blockSignals(True)
        self.edit.setText(h.name)
        self.edit.blockSignals(False)
        self.hits = [h]
        self.list.clear()
        self.list.addItem(h.name)
        self.list.setCurrentRow(0)
        self.edit.setEnabled(False)
        self.list.setEnabled(False)
        return True
