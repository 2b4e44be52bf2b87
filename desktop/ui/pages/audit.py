from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
)

from desktop.services import audit
from desktop.ui.pages.base import Page
from desktop.ui.widgets import fmt_datetime

PAGE_SIZE = 100
DETAIL_KEYS = {
    "reason": "原因",
    "role": "角色",
    "old": "原角色",
    "new": "新角色",
    "level": "类型",
    "minutes": "分钟",
    "residents": "居民数",
    "volunteers": "志愿者数",
    "matters": "事项数",
    "days": "天数",
    "rows": "行数",
    "imported": "导入",
    "updated": "更新",
    "unchanged": "未变",
    "superseded": "被新记录替代",
    "rejected": "未导入",
    "duplicate_override": "疑似重复仍保存",
    "added": "新增",
    "deactivated": "停用",
    "peer": "对方站点",
    "full": "完整导出",
    "field": "字段",
    "keep": "保留",
    "merged": "合并",
    "conflicts": "冲突",
    "duplicates": "疑似重复",
    "kind": "方式",
    "file": "文件",
    "size": "大小",
    "rotated_out": "清理旧备份",
    "backup": "备份文件",
    "backup_time": "备份时间",
    "set_aside": "原数据库改名为",
    "cause": "原因",
    "folder": "文件夹",
    "default": "默认位置",
    "unconfirmed": "姓名不一致待确认",
    "confirmed": "姓名不一致已确认",
    "outcome": "结果",
    "source": "来源",
    "tags": "标签数",
    "follow_up": "转为",
}
REASONS = {
    "password": "密码错误",
    "unknown_user": "用户名不存在",
    "locked": "账户已锁定",
    "disabled": "账户已停用",
    "damaged": "数据库损坏",
}


def describe(detail: dict) -> str:
    from desktop.services.backups import REASON_LABELS
    from desktop.services.sync.changes import FIELD_LABELS
    from desktop.services.vocab import ROLES, STATION_LEVELS
    from desktop.ui.widgets import fmt_size

    parts = []
    for k, v in detail.items():
        label = DETAIL_KEYS.get(k, k)
        if isinstance(v, bool):
            v = "是" if v else "否"
        elif k == "new" and isinstance(v, int):
            label = "新增"  # rows a data bundle added, not a role
        elif k in ("role", "old", "new"):
            v = ROLES.get(v, v)
        elif k in ("reason", "cause"):
            v = REASONS.get(v, v)
        elif k == "level":
            v = STATION_LEVELS.get(v, v)
        elif k == "kind":
            v = REASON_LABELS.get(v, v)
        elif k == "field":
            v = FIELD_LABELS.get(v, v)
        elif k == "keep":
            v = {"a": "A 值", "b": "B 值"}.get(v, v)
        elif k == "size" and isinstance(v, int):
            v = fmt_size(v)
        parts.append(f"{label}：{v}")
    return "；".join(parts)


class AuditPage(Page):
    title = "操作日志"
    min_role = "supervisor"

    def __init__(self, *args: Any, **kw: Any) -> None:
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
        self.worker.run(lambda: audit.entries(db, actor, limit=PAGE_SIZE, offset=offset, action=action), self._show)

    def _show(self, result: tuple[int, list[audit.AuditEntry]]) -> None:
        total, rows = result
        self.table.setRowCount(len(rows))
        for i, e in enumerate(rows):
            for j, text in enumerate(
                [fmt_datetime(e.at), e.actor_name, e.action_label, e.target_label, describe(e.detail)]
            ):
                self.table.setItem(i, j, QTableWidgetItem(text))
        self.table.resizeColumnsToContents()
        self.table.horizontalHeader().setSectionResizeMode(4, QHeaderView.ResizeMode.Stretch)
        end = min(total, self.offset + len(rows))
        self.info.setText(f"共 {total:,} 条，显示第 {self.offset + 1 if rows else 0}–{end} 条（最新的在前）")
        self.prev.setEnabled(self.offset > 0)
        self.next.setEnabled(end < total)
