"""The data key's wraps (db/keys.py): machine, recovery code, administrator password."""

from __future__ import annotations

import os
import stat

import pytest

from db import keys
from db.errors import KeyUnavailable, WrongSecret


def _other_computer(monkeypatch, tmp_path):
    """Another PC (or a wiped profile): no machine secret, nothing cached."""
    monkeypatch.setenv("STATION_DESK_HOME", str(tmp_path / "other-pc"))
    keys.forget()


def test_new_key_file_is_owner_only_and_holds_no_key_in_clear(tmp_path):
    db = tmp_path / "s.sqlite3"
    key = keys.create(db)
    kp = keys.key_path(db)
    assert stat.S_IMODE(os.stat(kp).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(keys.machine_dir() / keys.MACHINE_SECRET).st_mode) == 0o600
    text = kp.read_bytes()
    assert key.hex().encode() not in text and key not in text
    assert keys.station_key(db, refresh=True) == key


def test_recovery_code_is_shown_once_and_unlocks_on_another_computer(tmp_path, monkeypatch):
    db = tmp_path / "s.sqlite3"
    key = keys.create(db)
    code = keys.take_recovery_code(db)
    assert code and len(code) == 29 and keys.take_recovery_code(db) is None
    assert code not in keys.key_path(db).read_text()
    _other_computer(monkeypatch, tmp_path)
    with pytest.raises(KeyUnavailable) as e:
        keys.station_key(db)
    assert "恢复码" in e.value.user_message
    with pytest.raises(WrongSecret):
        keys.unlock(db, "AAAA-BBBB-CCCC-DDDD-EEEE-FFFF")
    assert keys.unlock(db, code.lower().replace("-", " ")) == key
    keys.forget()
    assert keys.station_key(db) == key  # wrapped for this computer now


def test_administrator_password_unlocks_and_a_dropped_one_does_not(tmp_path, monkeypatch):
    db = tmp_path / "s.sqlite3"
    key = keys.create(db)
    keys.set_password(db, "admin", "admin123", key)
    keys.set_password(db, "old", "old12345", key)
    keys.drop_password(db, "old")
    assert keys.password_users(db) == {"admin"}
    _other_computer(monkeypatch, tmp_path)
    with pytest.raises(WrongSecret):
        keys.unlock(db, "old12345")
    with pytest.raises(WrongSecret):
        keys.unlock(db, "admin124")
    assert keys.unlock(db, "admin123") == key


def test_production_scrypt_parameters_are_strong(monkeypatch):
    monkeypatch.delenv(keys.FAST_KDF_ENV)
    assert keys._kdf_params()["n"] >= 2**17


def test_a_key_file_left_without_its_database_does_not_block_a_new_station(tmp_path, monkeypatch):
    from db.engine import open_database

    db = tmp_path / "s.sqlite3"
    keys.create(db)
    _other_computer(monkeypatch, tmp_path)
    open_database(db).close()  # a new, empty station: a new key, the old key file kept aside
    assert len(list(tmp_path.glob("s.sqlite3.key.orphan-*"))) == 1
    keys.forget()
    open_database(db).close()
