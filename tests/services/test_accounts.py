"""Station setup, sign-in, lock-out and roles, enforced in the services."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from db.errors import PermissionDenied, ValidationError
from db.models import Account, AuditLog
from desktop.services import accounts, audit


def _actions(db):
    with db.session() as s:
        return [a.action for a in s.scalars(select(AuditLog).order_by(AuditLog.seq))]


def test_setup_creates_station_admin_and_audit(station):
    db, admin = station
    info = accounts.station_info(db)
    assert (info.code, info.name, info.level) == ("340304001", "幸福里社区党群服务中心", "community")
    assert admin.role == "admin" and admin.station_code == "340304001"
    assert _actions(db) == ["station_setup", "account_create"]
    with db.session() as s:
        acct = s.scalar(select(Account))
        assert acct.password_hash.startswith("$argon2id$")
        assert "admin123" not in acct.password_hash


def test_setup_twice_is_refused(station):
    db, _ = station
    with pytest.raises(accounts.AlreadySetUp):
        accounts.setup_station(db, code="340304002", name="另一个", level="village",
                               admin_username="x1", admin_password="abc12345")


@pytest.mark.parametrize(
    "code, fragment",
    [("", "请填写站点编码"), ("   ", "请填写站点编码"), ("34030", "9 到 12 位"), ("3403040a1", "9 到 12 位"),
     ("990304001", "省级行政区划代码")],
)
def test_bad_station_codes_are_explained(sqlite_db, code, fragment):
    with pytest.raises(ValidationError) as e:
        accounts.setup_station(sqlite_db, code=code, name="站", level="community",
                               admin_username="admin", admin_password="abc12345")
    assert e.value.field == "station_code"
    assert fragment in e.value.user_message
    assert accounts.station_info(sqlite_db) is None


def test_absurd_names_and_weak_passwords_are_refused(sqlite_db):
    with pytest.raises(ValidationError) as e:
        accounts.setup_station(sqlite_db, code="340304001", name="长" * 500, level="community",
                               admin_username="admin", admin_password="abc12345")
    assert e.value.field == "station_name"
    with pytest.raises(ValidationError) as e:
        accounts.setup_station(sqlite_db, code="340304001", name="站", level="community",
                               admin_username="admin", admin_password="12345678")
    assert e.value.field == "password"


def test_login_success_and_failure_are_audited(station):
    db, _ = station
    with pytest.raises(accounts.LoginFailed):
        accounts.authenticate(db, "admin", "wrong-pass1")
    with pytest.raises(accounts.LoginFailed) as e:
        accounts.authenticate(db, "nobody", "wrong-pass1")
    assert e.value.user_message == "用户名或密码不正确。"  # does not tell that the user is unknown
    actor = accounts.authenticate(db, " admin ", "admin123")
    assert actor.username == "admin"
    assert _actions(db)[-3:] == ["login_failed", "login_failed", "login"]


def test_lockout_after_five_failures_then_expiry(station, monkeypatch):
    db, _ = station
    for i in range(4):
        with pytest.raises(accounts.LoginFailed) as e:
            accounts.authenticate(db, "admin", "bad-pass1")
    assert "再错 1 次" in e.value.user_message
    with pytest.raises(accounts.AccountLocked):
        accounts.authenticate(db, "admin", "bad-pass1")
    # Even the right password is refused while locked.
    with pytest.raises(accounts.AccountLocked) as e:
        accounts.authenticate(db, "admin", "admin123")
    assert "分钟" in e.value.user_message
    assert "lockout" in _actions(db)
    # Fifteen minutes later the right password works again.
    later = accounts.utcnow() + accounts.LOCKOUT + timedelta(seconds=1)
    monkeypatch.setattr(accounts, "utcnow", lambda: later)
    assert accounts.authenticate(db, "admin", "admin123").role == "admin"


def test_roles_are_enforced_in_the_services(station):
    db, admin = station
    accounts.create_account(db, admin, username="desk1", display_name="李前台", role="desk", password="desk1234")
    sup_id = accounts.create_account(db, admin, username="sup1", display_name="王站长", role="supervisor",
                                     password="sup12345")
    desk = accounts.authenticate(db, "desk1", "desk1234")
    sup = accounts.authenticate(db, "sup1", "sup12345")
    with pytest.raises(PermissionDenied) as e:
        accounts.create_account(db, desk, username="x2", display_name="x", role="admin", password="abc12345")
    assert "管理员" in e.value.user_message
    with pytest.raises(PermissionDenied):
        accounts.list_accounts(db, desk)
    with pytest.raises(PermissionDenied):
        audit.entries(db, desk)
    with pytest.raises(PermissionDenied):
        accounts.change_role(db, sup, sup_id, "admin")
    assert len(accounts.list_accounts(db, sup)) == 3
    total, lines = audit.entries(db, sup, limit=5)
    assert total >= 5 and len(lines) == 5


def test_role_change_is_audited_and_last_admin_is_kept(station):
    db, admin = station
    uid = accounts.create_account(db, admin, username="desk1", display_name="李前台", role="desk",
                                  password="desk1234")
    accounts.change_role(db, admin, uid, "supervisor")
    assert accounts.authenticate(db, "desk1", "desk1234").role == "supervisor"
    with db.session() as s:
        line = s.scalar(select(AuditLog).where(AuditLog.action == "role_change"))
        assert line.detail == {"old": "desk", "new": "supervisor"} and line.target_id == uid
    with pytest.raises(ValidationError):
        accounts.change_role(db, admin, admin.account_id, "desk")
    with pytest.raises(ValidationError):
        accounts.set_active(db, admin, admin.account_id, False)


def test_disabled_account_cannot_sign_in_and_unlock_works(station):
    db, admin = station
    uid = accounts.create_account(db, admin, username="desk1", display_name="李前台", role="desk",
                                  password="desk1234")
    accounts.set_active(db, admin, uid, False)
    with pytest.raises(accounts.AccountDisabled):
        accounts.authenticate(db, "desk1", "desk1234")
    accounts.set_active(db, admin, uid, True)
    for _ in range(5):
        with pytest.raises((accounts.LoginFailed, accounts.AccountLocked)):
            accounts.authenticate(db, "desk1", "nope-1234")
    accounts.unlock(db, admin, uid)
    assert accounts.authenticate(db, "desk1", "desk1234").username == "desk1"


def test_passwords_can_be_changed_and_reset(station):
    db, admin = station
    uid = accounts.create_account(db, admin, username="desk1", display_name="李前台", role="desk",
                                  password="desk1234")
    desk = accounts.authenticate(db, "desk1", "desk1234")
    with pytest.raises(ValidationError):
        accounts.change_own_password(db, desk, "wrong", "new-pass-1")
    accounts.change_own_password(db, desk, "desk1234", "new-pass-1")
    accounts.authenticate(db, "desk1", "new-pass-1")
    accounts.reset_password(db, admin, uid, "reset-123")
    accounts.authenticate(db, "desk1", "reset-123")
    assert {"password_change", "password_reset"} <= set(_actions(db))


def test_duplicate_username_is_refused(station):
    db, admin = station
    with pytest.raises(ValidationError) as e:
        accounts.create_account(db, admin, username="admin", display_name="x", role="desk", password="abc12345")
    assert "已被使用" in e.value.user_message
