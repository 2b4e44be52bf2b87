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
        accounts.setup_station(
            db, code="340304002", name="另一个", level="village", admin_username="x1", admin_password="abc12345"
        )


@pytest.mark.parametrize(
    "code, fragment",
    [
        ("", "请填写站点编码"),
        ("   ", "请填写站点编码"),
        ("34030", "9 到 12 位"),
        ("3403040a1", "9 到 12 位"),
        ("990304001", "省级行政区划代码"),
    ],
)
def test_bad_station_codes_are_explained(sqlite_db, code, fragment):
    with pytest.raises(ValidationError) as e:
        accounts.setup_station(
            sqlite_db, code=code, name="站", level="community", admin_username="admin", admin_password="abc12345"
        )
    assert e.value.field == "station_code"
    assert fragment in e.value.user_message
    assert accounts.station_info(sqlite_db) is None


def test_absurd_names_and_weak_passwords_are_refused(sqlite_db):
    with pytest.raises(ValidationError) as e:
        accounts.setup_station(
            sqlite_db,
            code="340304001",
            name="长" * 500,
            level="community",
            admin_username="admin",
            admin_password="abc12345",
        )
    assert e.value.field == "station_name"
    with pytest.raises(ValidationError) as e:
        accounts.setup_station(
            sqlite_db, code="340304001", name="站", level="community", admin_username="admin", admin_password="12345678"
        )
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
    for _i in range(4):
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
    sup_id = accounts.create_account(
        db, admin, username="sup1", display_name="王站长", role="supervisor", password="sup12345"
    )
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
    uid = accounts.create_account(db, admin, username="desk1", display_name="李前台", role="desk", password="desk1234")
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
    uid = accounts.create_account(db, admin, username="desk1", display_name="李前台", role="desk", password="desk1234")
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
    uid = accounts.create_account(db, admin, username="desk1", display_name="李前台", role="desk", password="desk1234")
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


def _answers(db, username, n):
    out = []
    for _ in range(n):
        with pytest.raises((accounts.LoginFailed, accounts.AccountLocked)) as e:
            accounts.authenticate(db, username, "guess-1234")
        out.append((type(e.value).__name__, e.value.user_message))
    return out


def test_unknown_names_get_the_same_answers_as_real_accounts(station, monkeypatch):
    """No message (再错 N 次, 已锁定) tells an attacker that a user name exists."""
    db, _ = station
    real, unknown = _answers(db, "admin", 7), _answers(db, "nobody", 7)
    assert real == unknown
    assert real[4][0] == "AccountLocked" and "再错 1 次" in real[3][1]
    later = accounts.utcnow() + accounts.LOCKOUT + timedelta(seconds=1)
    monkeypatch.setattr(accounts, "utcnow", lambda: later)
    assert _answers(db, "admin", 5) == _answers(db, "nobody", 5)


def test_a_disabled_account_says_so_only_to_its_password(station):
    db, admin = station
    uid = accounts.create_account(db, admin, username="desk1", display_name="李前台", role="desk", password="desk1234")
    accounts.set_active(db, admin, uid, False)
    assert _answers(db, "desk1", 2) == _answers(db, "nobody", 2)
    with pytest.raises(accounts.AccountDisabled):
        accounts.authenticate(db, "desk1", "desk1234")


def test_lockouts_grow_so_guessing_at_the_lock_screen_is_not_unlimited(station, monkeypatch):
    """The sign-in and the idle lock screen both go through authenticate: five
    wrong passwords lock for 15 minutes, the next five for 30, then 60 ..."""
    db, admin = station
    now = accounts.utcnow()
    minutes = []
    for _round in range(4):
        monkeypatch.setattr(accounts, "utcnow", lambda now=now: now)
        answers = _answers(db, "admin", 5)
        assert [a[0] for a in answers] == ["LoginFailed"] * 4 + ["AccountLocked"]
        with db.session() as s:
            until = s.scalar(select(Account.locked_until).where(Account.username == "admin"))
        minutes.append(round((until - now).total_seconds() / 60))
        with pytest.raises(accounts.AccountLocked):  # even the right password, while locked
            accounts.authenticate(db, "admin", "admin123")
        now = until + timedelta(seconds=1)
    assert minutes == [15, 30, 60, 120]
    assert "2 小时" in answers[3][1]  # the warning names the coming lock
    assert accounts.lockout_for(5 * 20) == accounts.MAX_LOCKOUT
    monkeypatch.setattr(accounts, "utcnow", lambda: now)
    accounts.authenticate(db, "admin", "admin123")  # a success starts again from 15 minutes
    assert "锁定 15 分钟" in _answers(db, "admin", 4)[-1][1]


def test_a_failed_sign_in_keeps_no_typed_text_unless_it_is_an_account(station):
    """A password typed in the user-name box, or an ID number, is not kept in
    the audit log (which goes to the hub); a real account's name is."""
    db, admin = station
    secrets = ["S3cret-pass!", "11010519491231002X"]
    for typed in secrets:
        with pytest.raises(accounts.LoginFailed):
            accounts.authenticate(db, typed, "whatever-1")
    with pytest.raises(accounts.LoginFailed):
        accounts.authenticate(db, "admin", "whatever-1")
    with db.session() as s:
        lines = list(s.scalars(select(AuditLog).where(AuditLog.action == "login_failed").order_by(AuditLog.seq)))
        dump = repr([(a.actor_name, a.detail, a.target_type) for a in s.scalars(select(AuditLog))])
    assert [(a.actor_name, a.detail) for a in lines] == [
        (None, {"reason": "unknown_user"}),
        (None, {"reason": "unknown_user"}),
        ("admin", {"reason": "password"}),
    ]
    assert not any(t in dump or t[:32] in dump for t in secrets)
    _total, shown = audit.entries(db, admin, action="login_failed")
    assert [e.actor_name for e in shown] == ["admin", "（未知用户名）", "（未知用户名）"]


def test_an_unknown_name_takes_as_long_as_a_real_one(station, monkeypatch):
    """The hash runs against a dummy when the user does not exist: both
    answers run exactly one Argon2 verification with the same parameters (so
    the time cannot tell them apart), and the times measured interleaved agree."""
    import time

    db, _ = station
    hashed: list[str] = []
    real_verify = accounts._verify
    monkeypatch.setattr(accounts, "_verify", lambda h, p: hashed.append(h.split("$")[3]) or real_verify(h, p))

    def once(username: str, i: int) -> float:
        t0 = time.perf_counter()
        with pytest.raises(accounts.LoginFailed):
            accounts.authenticate(db, username, f"guess-{i}")
        return time.perf_counter() - t0

    real, unknown = [], []
    for i in range(4):  # interleaved, so a busy machine slows both alike
        real.append(once("admin", i))
        unknown.append(once("nobody", i))
    assert len(hashed) == 8 and len(set(hashed)) == 1  # one verification each, the same parameters
    assert 0.33 < min(unknown) / min(real) < 3, (real, unknown)


def test_guessing_through_change_password_counts_towards_the_lockout(station):
    """A desk left signed in is not a way around the lock-out."""
    db, admin = station
    for _ in range(4):
        with pytest.raises(ValidationError):
            accounts.change_own_password(db, admin, "guess-1234", "new-pass-1")
    with pytest.raises(accounts.AccountLocked):
        accounts.change_own_password(db, admin, "guess-1234", "new-pass-1")
    with pytest.raises(accounts.AccountLocked):  # the right one too, while locked
        accounts.change_own_password(db, admin, "admin123", "new-pass-1")
    with pytest.raises(accounts.AccountLocked):  # and the lock screen
        accounts.authenticate(db, "admin", "admin123")
    assert _actions(db).count("password_change_failed") == 5 and "lockout" in _actions(db)


def test_password_hashes_use_owasp_argon2id_outside_the_test_suite(monkeypatch):
    """The suite's cheap Argon2 setting is the test switch's alone: a station
    hashes with m=19 MiB, t=2, and a hash made either way verifies."""
    from db import keys

    cheap = accounts.hash_password("admin123")
    monkeypatch.delenv(keys.FAST_KDF_ENV)
    accounts._hasher.cache_clear()
    try:
        strong = accounts.hash_password("admin123")
        assert strong.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
        assert accounts._verify(cheap, "admin123") and accounts._verify(strong, "admin123")
        assert not accounts._verify(strong, "admin124")
    finally:
        accounts._hasher.cache_clear()
    assert cheap.startswith("$argon2id$v=19$m=1024,t=1,p=1$")
