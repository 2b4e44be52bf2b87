"""Every object kind and action that reaches 操作日志 has a Chinese name."""

from __future__ import annotations

import re
from pathlib import Path

from db.base import Base, Synced
from desktop.services import audit

ROOT = Path(__file__).resolve().parents[2]


def _sources() -> str:
    return "\n".join(p.read_text(encoding="utf-8") for d in ("desktop", "db") for p in (ROOT / d).rglob("*.py"))


def test_every_synced_table_and_audited_kind_has_a_chinese_label():
    import db.models  # noqa: F401

    tables = {m.local_table.name for m in Base.registry.mappers if issubclass(m.class_, Synced)}
    kinds = set(re.findall(r'target_type="([a-z_]+)"', _sources()))
    assert {"certificate", "certificate_type", "resident", "matter"} <= kinds
    unlabelled = {
        k
        for k in tables | kinds
        if not re.search(r"[\u4e00-\u9fff]", audit.target_label(k)) or audit.target_label(k) == "其他"
    }
    assert unlabelled == set()
    assert audit.target_label("certificate") == "证明" and audit.target_label("certificate_type") == "证明类型"
    assert audit.target_label("") == ""


def test_every_audited_action_has_a_chinese_label():
    src = _sources()
    actions = set(re.findall(r'audit\.record\(\s*\w+,\s*"([a-z_]+)"', src))
    actions |= set(re.findall(r'record_event\([^)]*?"([a-z_]+)",?\s*\)', src))
    assert "sync_import" in actions
    prefixes = {a for a in actions if a.endswith("_")}  # "matter_" + step: every step is listed
    assert prefixes <= {"matter_", "need_"}
    assert sorted(a for a in actions - prefixes if a not in audit.ACTIONS) == []
