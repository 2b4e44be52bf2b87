from __future__ import annotations

from PySide6.QtWidgets import QAbstractItemView, QComboBox, QHBoxLayout, QHeaderView, QLabel, QPushButton, QTableWidget, QTableWidgetItem

from desktop.services import audit
from desktop.ui.pages.base import Page
from desktop.ui.widgets import fmt_datetime

PAGE_SIZE = 100
DETAIL_KEYS = {"reason": "原因", "role": "角色", "old": "原角色", "new": "新角色", "level": "类型",
               "minutes": "分钟", "residents": "居民数"}
REASONS = {"password": "密码错误", "unknown_user": "用户名不存在", "locked": "账户已锁定", "disabled": "账户已停用"}


def describe(detail: dict) -> str:
    from desktop.services.vocab import ROLES, STATION_LEVELS

    parts = []
    for k, v in detail.items():
        if k in ("role", "old", "new"):
            v = ROLES.get(v, v)
        elif k == "reason":
            v = REASONS.get(v, v)
        elif k == "level":
            v = STATION_LEVELS.get(v, v)
        parts.append(f"{DETAIL_KEYS.get(k, k)}：{v}")
    return "；".join(parts)


class AuditPage(Page):
    title = "操作日志"
    min_role = "supervisor"

    def __init__(self, *args, **kw):  # type: ignore[no-untyped-def]
        super().__init__(*args, **kw)
        self.offset = 0
        top = QHBoxLayout()
        top.addWidget(QLabel("操作类型"))
        self.action = QComboBox()
        self.action.addItem("全部", None)
        for key, label in audit.ACTIONS.items():
            self.action.addItem(label, key)
        self.action.currentIndexChanged.connect(self._filter)
        top.addWidget(self.action)
        top.addStretch(1)
        self.layout_.addLayout(top)
        self.table = QTableWidget(0, 5)
        self.table.setHorizontalHeaderLabels(["时间", "账户", "操作", "对象", "说明"])
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(4, QHeaderView.ResizeMode.Stretch)
        self.layout_.addWidget(self.table, 1)
        nav = QHBoxLayout()
        self.info = QLabel()
        self.prev = QPushButton("上一页")
        self.next = QPushButton("下一页")
        self.prev.clicked.connect(lambda: self._page(-1))
        self.next.clicked.connect(lambda: self._page(1))
        nav.addWidget(self.info, 1)
        nav.addWidget(self.prev)
        nav.addWidget(self.next)
        self.layout_.addLayout(nav)

    def _filter(self) -> None:
        self.offset = 0
        self.activated()

    def _page(self, step: int) -> None:
        self.offset = max(0, self.offset + step * PAGE_SIZE)
        self.activated()

    def activated(self) -> None:
        db, actor, offset, action = self.db, self.actor, self.offset, self.action.currentData()
        self.worker.run(lambda: audit.entries(db, actor, limit=PAGE_SIZE, offset=offset, action=action),
                        self._show)

    def _show(self, result) -> None:  # type: ignore[no-untyped-def]
        total, rows = result
        self.table.setRowCount(len(rows))
        for i, e in enumerate(rows):
            for j, text in enumerate([fmt_datetime(e.at), e.actor_name, e.action_label,
                                      e.target_label, describe(e.detail)]):
                self.table.setItem(i, j, QTableWidgetItem(text))
        self.table.resizeColumnsToContents()
        self.table.horizontalHeader().setSectionResizeMode(4, QHeaderView.ResizeMode.Stretch)
        end = min(total, self.offset + len(rows))
        self.info.setText(f"共 {total:,} 条，显示第 {self.offset + 1 if rows else 0}–{end} 条（最新的在前）")
        self.prev.setEnabled(self.offset > 0)
        self.next.setEnabled(end < total)
