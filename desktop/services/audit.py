"""The append-only audit log. Never write personal data into ``detail``."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from db.clock import utcnow
from db.engine import Database
from db.models import AuditLog
from desktop.services.context import Actor

ACTIONS = {
    "station_setup": "建立站点",
    "station_update": "修改出具单位",
    "login": "登录",
    "login_failed": "登录失败",
    "lockout": "账户锁定",
    "unlock": "解除锁定",
    "logout": "退出登录",
    "screen_lock": "自动锁屏",
    "account_create": "新建账户",
    "role_change": "变更角色",
    "password_change": "修改密码",
    "password_change_failed": "修改密码（原密码错误）",
    "password_reset": "重置密码",
    "account_disable": "停用账户",
    "account_enable": "启用账户",
    "id_reveal": "查看完整证件号",
    "resident_create": "登记居民",
    "resident_update": "修改居民信息",
    "resident_moved_out": "标记迁出",
    "resident_deceased": "标记已故",
    "residents_import": "导入居民台账",
    "household_move": "调整户成员",
    "household_create": "立户",
    "household_head": "变更户主",
    "household_relation": "修改与户主关系",
    "matter_accept": "受理事项",
    "notice_issue": "出具一次性告知单",
    "matter_start": "开始办理",
    "matter_transfer": "转办事项",
    "matter_return": "退回事项",
    "matter_reject": "不予受理",
    "matter_close": "办结事项",
    "rectification_open": "差评整改立项",
    "rectification_close": "完成整改回访",
    "matter_type_save": "修改事项目录",
    "holidays_import": "更新节假日",
    "proxy_agent_save": "修改代办员",
    "proxy_register": "登记代办",
    "proxy_forward": "登记代办转交",
    "proxy_result": "登记代办结果取回",
    "proxy_hand_back": "代办交还居民",
    "certificate_issue": "开具证明",
    "volunteer_certificate_issue": "开具志愿服务记录证明",
    "certificate_request": "提交证明审批",
    "certificate_approve": "审批通过证明",
    "certificate_decline": "审批未通过证明",
    "certificate_void": "作废证明",
    "certificate_reissue": "补开证明",
    "certificate_refuse": "拒开证明（已告知去向）",
    "certificate_print": "打印证明",
    "certificate_catalogue_import": "导入证明目录",
    "certificate_type_save": "修改证明目录",
    "work_item_import": "导入工作事项清单",
    "work_item_save": "修改工作事项清单",
    "dept_request": "登记部门下派事项",
    "posting_create": "编写公开栏公示",
    "posting_up": "登记公示张贴",
    "posting_down": "登记公示撤下",
    "skill_save": "修改技能目录",
    "volunteer_register": "登记志愿者",
    "volunteer_status": "修改志愿者状态",
    "need_create": "登记服务需求",
    "visit_record": "登记走访",
    "visit_tiers": "修改走访频次",
    "visit_follow_up": "走访需求转办",
    "need_accept": "接单",
    "need_refuse": "拒绝服务需求",
    "need_cancel": "取消服务需求",
    "need_complete": "完成服务需求",
    "need_assign": "派单",
    "assignment_done": "记录服务时长",
    "assignment_no_show": "记录爽约",
    "volunteer_certificate": "出具志愿服务记录证明",
    "backup_create": "备份数据",
    "backup_restore": "从备份恢复",
    "backup_folder": "更改备份文件夹",
    "demo_data": "生成演示数据",
    "resident_merge": "合并重复居民",
    "resident_duplicate_dismiss": "确认不是同一人",
    "sync_export": "导出数据包",
    "sync_import": "导入数据包",
    "sync_key_export": "导出本站公钥",
    "sync_peer_trust": "信任对方站点",
    "sync_peer_revoke": "撤销信任",
    "sync_conflict_resolve": "处理数据冲突",
    "rota_area_save": "修改AB岗",
    "rota_shift_save": "排班",
    "rota_shift_delete": "删除班次",
    "rota_week_copy": "复制一周排班",
    "rota_absence_mark": "登记离岗",
    "rota_absence_cancel": "撤销离岗登记",
    "wish_add": "登记微心愿",
    "wish_claim": "认领微心愿",
    "wish_fulfil": "登记心愿实现",
    "party_report": "在职党员报到",
}

# What a log line is about (``target_type``): the kinds services name, and for
# lines about a synced row (a resolved conflict) its table, labelled as the
# 数据交换 page labels tables.
TARGETS = {
    "work_item": "工作事项清单",
    "dept_request": "部门下派事项",
    "posting": "公开栏公示",
    "account": "账户",
    "accounts": "账户",
    "station": "站点",
    "resident": "居民",
    "household": "户",
    "matter": "事项",
    "matter_type": "事项类型",
    "notice": "一次性告知",
    "certificate": "证明",
    "certificate_type": "证明类型",
    "volunteer": "志愿者",
    "need": "服务需求",
    "assignment": "派单",
    "service_area": "AB岗片区",
    "shift": "班次",
    "absence": "离岗登记",
    "wish": "微心愿",
    "party_report": "在职党员报到",
    "visit": "走访记录",
}


def target_label(kind: str) -> str:
    """The Chinese name of a log line's object kind; never a bare table name."""
    from desktop.services.sync.changes import TABLE_LABELS

    if not kind:
        return ""
    return TARGETS.get(kind) or TABLE_LABELS.get(kind) or "其他"


def record(
    session: Session,
    action: str,
    actor: Actor | None = None,
    *,
    actor_name: str | None = None,
    actor_id: uuid.UUID | None = None,
    target_type: str | None = None,
    target_id: uuid.UUID | None = None,
    **detail: Any,
) -> AuditLog:
    line = AuditLog(
        at=utcnow(),
        actor_id=actor.account_id if actor else actor_id,
        actor_name=actor.username if actor else actor_name,
        action=action,
        target_type=target_type,
        target_id=target_id,
        detail=detail,
    )
    session.add(line)
    return line


@dataclass(frozen=True)
class AuditEntry:
    at: datetime
    actor_name: str
    action: str
    action_label: str
    target_type: str
    detail: dict[str, Any]

    @property
    def target_label(self) -> str:
        return target_label(self.target_type)


def entries(
    db: Database, actor: Actor, *, limit: int = 200, offset: int = 0, action: str | None = None
) -> tuple[int, list[AuditEntry]]:
    """Newest first. Supervisors and administrators only."""
    actor.require("supervisor", "查看操作日志")
    with db.session() as s:
        q = select(AuditLog)
        cq = select(func.count()).select_from(AuditLog)
        if action:
            q = q.where(AuditLog.action == action)
            cq = cq.where(AuditLog.action == action)
        total = s.scalar(cq) or 0
        rows = s.scalars(q.order_by(AuditLog.at.desc(), AuditLog.seq.desc()).limit(limit).offset(offset))
        return total, [
            AuditEntry(
                at=r.at,
                # a failed sign-in under a name that is no account keeps no text
                actor_name=r.actor_name or ("（未知用户名）" if r.action == "login_failed" else ""),
                action=r.action,
                action_label=ACTIONS.get(r.action, r.action),
                target_type=r.target_type or "",
                detail=dict(r.detail or {}),
            )
            for r in rows
        ]
