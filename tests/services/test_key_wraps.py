"""Administrators' passwords wrap the station file's data key (docs/security.md):
the wraps follow the accounts, so a forgotten recovery code is not the only way
back, and a former administrator's password no longer opens a stolen copy."""

from __future__ import annotations

from db import keys
from db.errors import WrongSecret
from desktop.services import accounts


def _unlocks(db, secret: str) -> bool:
    keys.forget()
    try:
        return keys.unlock(db.path, secret) == db.key
    except WrongSecret:
        return False


def test_password_wraps_follow_the_administrators(sqlite_db, monkeypatch, tmp_path):
    db = sqlite_db
    admin = accounts.setup_station(
        db,
        code="340304001",
        name="幸福里社区党群服务中心",
        level="community",
        admin_username="admin",
        admin_password="admin123",
    )
    assert keys.password_users(db.path) == {"admin"}
    second = accounts.create_account(db, admin, username="li", display_name="李站长", role="admin", password="li123456")
    desk = accounts.create_account(db, admin, username="desk", display_name="前台", role="desk", password="desk1234")
    assert keys.password_users(db.path) == {"admin", "li"}  # not the desk worker's
    accounts.reset_password(db, admin, second, "li654321")
    accounts.change_role(db, admin, desk, "admin")  # wrapped at the first sign-in, when the password is typed
    assert "desk" not in keys.password_users(db.path)
    accounts.authenticate(db, "desk", "desk1234")
    assert keys.password_users(db.path) == {"admin", "li", "desk"}
    accounts.change_role(db, admin, second, "supervisor")
    accounts.set_active(db, admin, desk, False)
    assert keys.password_users(db.path) == {"admin"}
    accounts.change_own_password(db, admin, "admin123", "admin456")

    monkeypatch.setenv("STATION_DESK_HOME", str(tmp_path / "another-pc"))
    assert not _unlocks(db, "admin123") and not _unlocks(db, "li654321") and not _unlocks(db, "desk1234")
    assert _unlocks(db, "admin456")
