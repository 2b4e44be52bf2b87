"""Station keys, key files and peer files (desktop.services.sync.keys)."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import json
import os
import re
import stat

import pytest

from desktop.services.sync import keys
from desktop.services.sync.keys import KeyFileError, PeerFileError, PeerKey

CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture(scope="module")
def station():
    return keys.generate("340304001", "东风社区", "station")


def expect(exc_type, code, fn, *args, **kwargs):
    with pytest.raises(exc_type) as info:
        fn(*args, **kwargs)
    assert info.value.code == code, str(info.value)
    assert CJK.search(info.value.user_message), info.value.user_message
    return info.value


# ---------------------------------------------------------------- generate and fingerprint


def test_generate_makes_working_pairs(station):
    peer = station.peer
    assert (peer.code, peer.name, peer.role) == ("340304001", "东风社区", "station")
    assert len(peer.sign_pub) == len(peer.box_pub) == 32
    assert peer.verify(station.sign(b"hello"), b"hello")
    assert not peer.verify(station.sign(b"hello"), b"hellO")
    assert not peer.verify(b"\0" * 64, b"hello")
    other = keys.generate("340304001", "东风社区")
    assert other.peer.sign_pub != peer.sign_pub and other.peer.box_pub != peer.box_pub
    assert station.created_at.endswith("+00:00")


def test_private_keys_stay_out_of_repr(station):
    assert "sign_key" not in repr(station) and "box_key" not in repr(station)


@pytest.mark.parametrize(
    "code, name, role",
    [
        ("", "东风社区", "station"),
        ("3403-04001", "东风社区", "station"),
        ("3403040011234", "东风社区", "station"),  # 13 characters: wider than the database column
        ("340304001", "", "station"),
        ("340304001", "东风\n社区", "station"),
        ("340304001", "东" * 65, "station"),
        ("340304001", "东风社区", "admin"),
    ],
)
def test_generate_refuses_bad_identity(code, name, role):
    with pytest.raises(ValueError):
        keys.generate(code, name, role)


def test_fingerprint_is_six_groups_of_five_digits(station):
    fp = station.fingerprint
    assert re.fullmatch(r"\d{5}( \d{5}){5}", fp), fp
    assert fp == keys.fingerprint(station.code, station.peer.sign_pub, station.peer.box_pub)


def test_fingerprint_known_answer():
    """Pins the encoding: domain, code and both keys, each length-prefixed, SHA-256, 40 bits per group."""
    sign_pub, box_pub = bytes(range(32)), bytes(range(32, 64))

    def field(b):
        return len(b).to_bytes(4, "big") + b

    digest = hashlib.sha256(
        field(b"station-desk-fingerprint/1") + field(b"340304001") + field(sign_pub) + field(box_pub)
    ).digest()
    expected = " ".join(f"{int.from_bytes(digest[i * 5 : i * 5 + 5], 'big') % 100000:05d}" for i in range(6))
    assert keys.fingerprint("340304001", sign_pub, box_pub) == expected


def test_fingerprint_changes_with_every_input():
    a, b = bytes(32), bytes([1]) + bytes(31)
    base = keys.fingerprint("340304001", a, a)
    assert keys.fingerprint("340304002", a, a) != base
    assert keys.fingerprint("340304001", b, a) != base
    assert keys.fingerprint("340304001", a, b) != base


def test_peer_key_checks_a_stored_fingerprint(station):
    p = station.peer
    same = PeerKey(p.code, p.name, p.role, p.sign_pub, p.box_pub, fingerprint=p.fingerprint.replace(" ", ""))
    assert same.fingerprint == p.fingerprint
    with pytest.raises(ValueError):
        PeerKey(p.code, p.name, p.role, p.sign_pub, p.box_pub, fingerprint="00000 00000 00000 00000 00000 00000")
    with pytest.raises(ValueError):
        PeerKey(p.code, p.name, p.role, p.sign_pub[:31], p.box_pub)
    assert dataclasses.replace(p, revoked=True).revoked


# ---------------------------------------------------------------- key file


def test_key_file_round_trip(station, tmp_path):
    path = tmp_path / "station.keys"
    keys.save_key_file(station, path)
    loaded = keys.load_key_file(path)
    assert loaded.peer == station.peer
    assert station.peer.verify(loaded.sign(b"x"), b"x")
    assert [p.name for p in tmp_path.iterdir()] == ["station.keys"]  # no temporary file left
    doc = json.loads(path.read_text("utf-8"))
    assert doc["format"] == "station-desk-keys/1" and doc["encrypted"] is False
    assert "BEGIN PRIVATE KEY" in doc["sign_key"]


@pytest.mark.skipif(os.name == "nt", reason="POSIX file modes")
def test_key_file_is_owner_only(station, tmp_path):
    path = tmp_path / "station.keys"
    keys.save_key_file(station, path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    keys.save_key_file(station, path, "口令", overwrite=True)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_key_file_is_not_overwritten_by_default(station, tmp_path):
    path = tmp_path / "station.keys"
    keys.save_key_file(station, path)
    before = path.read_bytes()
    expect(KeyFileError, "key_file_exists", keys.save_key_file, keys.generate("340304001", "东风社区"), path)
    assert path.read_bytes() == before


def test_key_file_with_passphrase(station, tmp_path):
    path = tmp_path / "station.keys"
    keys.save_key_file(station, path, "正确的口令 2026")
    text = path.read_text("utf-8")
    assert "ENCRYPTED PRIVATE KEY" in text and '"encrypted": true' in text
    expect(KeyFileError, "passphrase_required", keys.load_key_file, path)
    expect(KeyFileError, "passphrase_required", keys.load_key_file, path, "")
    expect(KeyFileError, "passphrase_wrong", keys.load_key_file, path, "错误的口令")
    assert keys.load_key_file(path, "正确的口令 2026").peer == station.peer
    assert keys.load_key_file(path, "正确的口令 2026".encode()).peer == station.peer


def test_key_file_missing(tmp_path):
    e = expect(KeyFileError, "key_file_missing", keys.load_key_file, tmp_path / "nope.keys")
    assert "nope.keys" in e.user_message


def _edited_key_file(station, tmp_path, edit):
    doc = json.loads(keys.key_file_bytes(station))
    edit(doc)
    path = tmp_path / "edited.keys"
    path.write_text(json.dumps(doc), "utf-8")
    return path


@pytest.mark.parametrize(
    "edit",
    [
        lambda d: d.update(sign_pub=base64.b64encode(bytes(32)).decode()),
        lambda d: d.update(fingerprint="11111 11111 11111 11111 11111 11111"),
        lambda d: d.update(sign_key=d["box_key"], box_key=d["sign_key"]),
        lambda d: d.update(sign_key="-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"),
        lambda d: d.pop("box_key"),
        lambda d: d.update(format="something-else/1"),
        lambda d: d.update(code="../../etc"),
        lambda d: d.update(role="root"),
    ],
)
def test_damaged_key_file_is_refused(station, tmp_path, edit):
    expect(KeyFileError, "key_file_invalid", keys.load_key_file, _edited_key_file(station, tmp_path, edit))


def test_key_file_from_a_newer_program(station, tmp_path):
    path = _edited_key_file(station, tmp_path, lambda d: d.update(format="station-desk-keys/2"))
    e = expect(KeyFileError, "key_file_too_new", keys.load_key_file, path)
    assert "升级" in e.user_message


@pytest.mark.parametrize("content", [b"", b"\xff\xfe garbage", b"[1, 2]", b"{}", b"x" * 70000])
def test_garbage_key_file_is_refused(tmp_path, content):
    path = tmp_path / "bad.keys"
    path.write_bytes(content)
    expect(KeyFileError, "key_file_invalid", keys.load_key_file, path)


def test_failed_write_keeps_the_old_key_file(station, tmp_path, monkeypatch):
    path = tmp_path / "station.keys"
    keys.save_key_file(station, path)
    before = path.read_bytes()

    def fail(*_a):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(OSError):
        keys.save_key_file(keys.generate("340304001", "东风社区"), path, overwrite=True)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["station.keys"]


# ---------------------------------------------------------------- peer file


def test_peer_file_round_trip(station, tmp_path):
    path = tmp_path / "340304001.peer.json"
    keys.write_peer_file(station.peer, path)
    doc = json.loads(path.read_text("utf-8"))
    assert doc["format"] == "station-desk-peer/1"
    assert doc["name"] == "东风社区" and doc["fingerprint"] == station.fingerprint
    assert not {"sign_key", "box_key"} & doc.keys()
    assert "PRIVATE" not in path.read_text("utf-8")
    assert keys.read_peer_file(path) == station.peer


def test_peer_file_without_fingerprint_is_accepted(station):
    doc = json.loads(keys.peer_file_bytes(station.peer))
    del doc["fingerprint"]
    peer = keys.parse_peer_file(json.dumps(doc).encode())
    assert peer.fingerprint == station.fingerprint


def test_peer_file_with_bom_is_accepted(station):
    """Notepad on Windows saves UTF-8 with a byte-order mark."""
    assert keys.parse_peer_file(b"\xef\xbb\xbf" + keys.peer_file_bytes(station.peer)) == station.peer


def _peer_doc(station, **changes):
    doc = json.loads(keys.peer_file_bytes(station.peer))
    doc.update(changes)
    return json.dumps(doc).encode()


@pytest.mark.parametrize(
    "changes",
    [
        {"format": "station-desk-keys/1"},
        {"format": None},
        {"sign_pub": "not base64!"},
        {"sign_pub": base64.b64encode(bytes(31)).decode()},
        {"box_pub": base64.b64encode(bytes(33)).decode()},
        {"box_pub": None},
        {"code": "340 304"},
        {"code": 340304001},
        {"name": ""},
        {"role": "admin"},
        {"created_at": 5},
    ],
)
def test_invalid_peer_file_is_refused(station, changes):
    expect(PeerFileError, "peer_file_invalid", keys.parse_peer_file, _peer_doc(station, **changes))


@pytest.mark.parametrize("data", [b"", b"not json", b"\xff\xfe", b"[]", b"{" + b" " * 70000 + b"}"])
def test_garbage_peer_file_is_refused(data):
    expect(PeerFileError, "peer_file_invalid", keys.parse_peer_file, data)


def test_peer_file_whose_fingerprint_disagrees(station):
    other = keys.generate("340304001", "东风社区")
    forged = _peer_doc(station, box_pub=base64.b64encode(other.peer.box_pub).decode())
    e = expect(PeerFileError, "peer_fingerprint_mismatch", keys.parse_peer_file, forged)
    assert "指纹" in e.user_message


def test_peer_file_code_is_bound_by_the_fingerprint(station):
    expect(PeerFileError, "peer_fingerprint_mismatch", keys.parse_peer_file, _peer_doc(station, code="340304002"))


def test_peer_file_from_a_newer_program(station):
    e = expect(
        PeerFileError, "peer_file_too_new", keys.parse_peer_file, _peer_doc(station, format="station-desk-peer/2")
    )
    assert "升级" in e.user_message


def test_unreadable_peer_file(tmp_path):
    expect(PeerFileError, "peer_file_unreadable", keys.read_peer_file, tmp_path / "missing.json")
