from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from desktop.services import accounts, counter
from desktop.services.accounts import StationInfo
from desktop.services.overview import Overview, overview
from desktop.services.vocab import RESIDENCY
from desktop.ui.pages.base import Page
from desktop.ui.widgets import hint, scaled


class Card(QFrame):
    def __init__(self, label: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("card")
        lay = QVBoxLayout(self)
        lay.setContentsMargins(16, 12, 16, 12)
        self.value = QLabel("…")
        self.value.setObjectName("cardValue")
        scaled(self.value, 10, True)
        self.label = QLabel(label)
        self.label.setObjectName("cardLabel")
        lay.addWidget(self.value)
        lay.addWidget(self.label)
        # Never squeeze a card below its text: the page scrolls instead (large fonts at 1366×768).
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Minimum)

    def set(self, value: int, note: str = "") -> None:
        self.value.setText(f"{value:,}")
        if note:
            self.label.setToolTip(note)


class OverviewPage(Page):
    title = "概览"

    def __init__(self, *args: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        content = QWidget()
        body = QVBoxLayout(content)
        body.setContentsMargins(0, 0, 0, 0)
        body.setSpacing(12)
        self.station_line = hint("")
        body.addWidget(self.station_line)
        cards = QHBoxLayout()
        self.cards = {
            k: Card(v)
            for k, v in [
                ("residents", "在册居民"),
                ("households", "户"),
                ("moved_out", "已迁出"),
                ("deceased", "已故"),
                ("accounts", "工作人员账户"),
            ]
        }
        for c in self.cards.values():
            cards.addWidget(c)
        body.addLayout(cards)
        self.residency = hint("")
        body.addWidget(self.residency)
        sub0 = QLabel("接待台")
        sub0.setObjectName("pageTitle")
        scaled(sub0, 2, True)
        body.addWidget(sub0)
        crow = QHBoxLayout()
        self.counter_cards = {
            k: Card(v)
            for k, v in [
                ("open", "在办事项"),
                ("due_today", "今日到期"),
                ("overdue", "已超期"),
                ("rectifications", "差评待整改"),
            ]
        }
        for c in self.counter_cards.values():
            crow.addWidget(c)
        crow.addStretch(1)
        body.addLayout(crow)
        sub = QLabel("重点人群")
        sub.setObjectName("pageTitle")
        scaled(sub, 2, True)
        body.addWidget(sub)
        self.tag_grid = QGridLayout()
        self.tag_grid.setHorizontalSpacing(12)
        self.tag_grid.setVerticalSpacing(10)
        body.addLayout(self.tag_grid)
        self.tag_cards: dict[str, Card] = {}
        body.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(content)
        scroll.viewport().setAutoFillBackground(False)
        content.setAutoFillBackground(False)
        scroll.setStyleSheet("QScrollArea { background: transparent; }")
        self.layout_.addWidget(scroll, 1)
        row = QHBoxLayout()
        self.updated = hint("")
        refresh = QPushButton("刷新 (F5)")
        refresh.setShortcut("F5")
        refresh.clicked.connect(self.activated)
        row.addWidget(self.updated, 1)
        row.addWidget(refresh)
        self.layout_.addLayout(row)

    def activated(self) -> None:
        db = self.db
        self.updated.setText("正在统计…")
        self.worker.run(lambda: (accounts.station_info(db), overview(db), counter.counts(db)), self._show)

    def _show(self, result: tuple[StationInfo | None, Overview, dict[str, int]]) -> None:
        info, ov, cc = result
        for key, card in self.counter_cards.items():
            card.set(cc[key])
        if info:
            self.station_line.setText(f"{info.name}　·　站点编码 {info.code}　·　{info.level_label}")
        for key, card in self.cards.items():
            card.set(getattr(ov, key))
        parts = [f"{RESIDENCY[k]} {ov.by_residency.get(k, 0):,} 人" for k in RESIDENCY]
        self.residency.setText("在册居民中：" + "　".join(parts))
        for i, (tag, n) in enumerate(ov.by_tag.items()):
            tag_card = self.tag_cards.get(tag)
            if tag_card is None:
                tag_card = Card(tag)
                scaled(tag_card.value, 4, True)
                self.tag_cards[tag] = tag_card
                self.tag_grid.addWidget(tag_card, i // 5, i % 5)
            tag_card.set(n)
        self.updated.setText("数据为打开本页时的统计；按 F5 刷新。")
        self.updated.setAlignment(Qt.AlignmentFlag.AlignLeft)
