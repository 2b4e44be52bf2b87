import pytest
from sqlalchemy import select

from db.errors import PermissionDenied
from db.models import AuditLog, Resident
from desktop.services import accounts, residents
from desktop.services.idnumbers import mask


def test_reveal_needs_a_supervisor_and_is_audited_without_the_number(station):
    db, admin = station
    with db.session() as s:
        r = Resident(name="张三", pinyin="zhangsan", initials="zs", doc_number="11010519491231002X")
        s.add(r)
    accounts.create_account(db, admin, username="desk1", display_name="李前台", role="desk", password="desk1234")
    desk = accounts.authenticate(db, "desk1", "desk1234")
    with pytest.raises(PermissionDenied):
        residents.reveal_document_number(db, desk, r.id)
    assert residents.reveal_document_number(db, admin, r.id, "核对低保申请") == "11010519491231002X"
    with db.session() as s:
        line = s.scalar(select(AuditLog).where(AuditLog.action == "id_reveal"))
        assert line.target_id == r.id and line.actor_name == "admin"
        assert "1101" not in str(line.detail) and "张三" not in str(line.detail)
    assert mask("11010519491231002X") == "**************002X"
