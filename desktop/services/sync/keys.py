"""Station keys: who signed a bundle and who can open it.

Every station (and the street-office hub) owns two key pairs made by
``cryptography``:

* Ed25519 — signs the manifest of every bundle it exports;
* X25519  — bundles for this station are encrypted to it.

The private halves live in a *key file* beside the database in the data
folder, never inside the database, so database backups and bundles never
carry them.  The public halves travel as a small JSON *peer file*
(``station-desk-peer/1``) that the other side imports once; both people then
read the *fingerprint* (six groups of five digits) to each other over the
phone, which is what makes the import trustworthy.

File formats and the threat model: docs/bundle-format.md.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
import struct
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import cast

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey

from db.errors import StationDeskError
from desktop.services.sync._files import write_atomic

PEER_FORMAT = "station-desk-peer/1"
KEY_FORMAT = "station-desk-keys/1"
PEER_PREFIX = "station-desk-peer/"
KEY_PREFIX = "station-desk-keys/"
FINGERPRINT_DOMAIN = b"station-desk-fingerprint/1"

ROLES = ("station", "hub")
KEY_LEN = 32  # raw Ed25519 and X25519 public keys
FINGERPRINT_GROUPS = 6
FINGERPRINT_GROUP_DIGITS = 5
MAX_PEER_FILE = 64 * 1024
MAX_KEY_FILE = 64 * 1024
MAX_NAME = 64

# Same width as db.base.STATION_CODE_LEN; letters allowed so a hub's code scheme is not boxed in.
CODE_RE = re.compile(r"^[0-9A-Za-z]{1,12}$")
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")


# ---------------------------------------------------------------- errors


class SyncError(StationDeskError):
    """An error the person at the desk can act on.

    ``code`` is stable for programs and tests, ``user_message`` is the
    Simplified-Chinese text to show, ``str(exc)`` stays English for the log
    (a ``db.errors.StationDeskError``, so the window and the CLI show it as
    they show every other such error)."""

    def __init__(self, code: str, user_message: str, detail: str = ""):
        super().__init__(f"{code}: {detail}" if detail else code, user_message)
        self.code = code


class KeyFileError(SyncError):
    """This station's own key file is missing, damaged or locked."""


class PeerFileError(SyncError):
    """A peer file (another station's public identity) is not usable."""


# ---------------------------------------------------------------- fingerprint


def _field(data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + data


def fingerprint(code: str, sign_pub: bytes, box_pub: bytes) -> str:
    """Six groups of five digits over SHA-256 of the code and both public keys.

    Digits because they are easy to read aloud in Chinese; every field is
    length-prefixed so no two different inputs share an encoding.  30 digits
    carry about 99 bits, far beyond what anyone can search for a match."""
    digest = hashlib.sha256(
        _field(FINGERPRINT_DOMAIN) + _field(code.encode("utf-8")) + _field(sign_pub) + _field(box_pub)
    ).digest()
    groups = []
    for i in range(FINGERPRINT_GROUPS):
        chunk = int.from_bytes(digest[i * 5 : (i + 1) * 5], "big")  # 40 bits per group
        groups.append(f"{chunk % 10**FINGERPRINT_GROUP_DIGITS:0{FINGERPRINT_GROUP_DIGITS}d}")
    return " ".join(groups)


def _same_fingerprint(a: str, b: str) -> bool:
    return "".join(a.split()) == "".join(b.split())


# ---------------------------------------------------------------- public side


def _check_identity(code: object, name: object, role: object) -> None:
    if not isinstance(code, str) or not CODE_RE.match(code):
        raise ValueError(f"station code must be 1-12 letters or digits, got {code!r}")
    if not isinstance(name, str) or not name.strip() or len(name) > MAX_NAME or _CONTROL_RE.search(name):
        raise ValueError(f"station name must be 1-{MAX_NAME} printable characters, got {name!r}")
    if role not in ROLES:
        raise ValueError(f"role must be one of {ROLES}, got {role!r}")


@dataclass(frozen=True)
class PeerKey:
    """Another station's public identity, as stored in the peer table.

    ``fingerprint`` may be left empty and is then computed; when given it must
    match the keys (a stored value that disagrees means the row was altered).
    ``revoked`` is set by the hub when a station's PC was lost or stolen:
    bundles signed by a revoked key are refused."""

    code: str
    name: str
    role: str
    sign_pub: bytes
    box_pub: bytes
    fingerprint: str = ""
    revoked: bool = False
    created_at: str = ""  # ISO 8601 with offset, when the key pair was made

    def __post_init__(self) -> None:
        _check_identity(self.code, self.name, self.role)
        for label, key in (("sign_pub", self.sign_pub), ("box_pub", self.box_pub)):
            if not isinstance(key, (bytes, bytearray)) or len(key) != KEY_LEN:
                raise ValueError(f"{label} must be {KEY_LEN} raw bytes")
        object.__setattr__(self, "sign_pub", bytes(self.sign_pub))
        object.__setattr__(self, "box_pub", bytes(self.box_pub))
        expected = fingerprint(self.code, self.sign_pub, self.box_pub)
        if self.fingerprint and not _same_fingerprint(self.fingerprint, expected):
            raise ValueError(f"fingerprint {self.fingerprint!r} does not match the keys of station {self.code}")
        object.__setattr__(self, "fingerprint", expected)

    def verify(self, signature: bytes, data: bytes) -> bool:
        """True when ``signature`` is this station's Ed25519 signature of ``data``."""
        try:
            Ed25519PublicKey.from_public_bytes(self.sign_pub).verify(signature, data)
        except (InvalidSignature, ValueError):
            return False
        return True

    def box_public_key(self) -> X25519PublicKey:
        return X25519PublicKey.from_public_bytes(self.box_pub)

    @property
    def label(self) -> str:
        """``340304001（东风社区）`` — how messages name a station."""
        return f"{self.code}（{self.name}）"


# ---------------------------------------------------------------- private side


@dataclass(frozen=True)
class StationKeys:
    """This station's own key pairs (private).  Never stored in the database."""

    code: str
    name: str
    role: str
    sign_key: Ed25519PrivateKey = field(repr=False)
    box_key: X25519PrivateKey = field(repr=False)
    created_at: str = ""

    def __post_init__(self) -> None:
        _check_identity(self.code, self.name, self.role)

    @property
    def peer(self) -> PeerKey:
        """The public identity to hand to other stations."""
        return PeerKey(
            code=self.code,
            name=self.name,
            role=self.role,
            sign_pub=self.sign_key.public_key().public_bytes_raw(),
            box_pub=self.box_key.public_key().public_bytes_raw(),
            created_at=self.created_at,
        )

    @property
    def fingerprint(self) -> str:
        return self.peer.fingerprint

    def sign(self, data: bytes) -> bytes:
        return self.sign_key.sign(data)


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def generate(station_code: str, station_name: str, role: str = "station") -> StationKeys:
    """Fresh key pairs for a station (``role="station"``) or the hub (``"hub"``).

    Save them with ``save_key_file`` and hand ``keys.peer`` out as a peer file.
    Making new keys replaces the station's identity: every peer must import
    the new peer file again."""
    return StationKeys(
        code=station_code,
        name=station_name,
        role=role,
        sign_key=Ed25519PrivateKey.generate(),
        box_key=X25519PrivateKey.generate(),
        created_at=_now(),
    )


def _passphrase_bytes(passphrase: str | bytes | None) -> bytes | None:
    if passphrase is None or passphrase in ("", b""):
        return None
    return passphrase.encode("utf-8") if isinstance(passphrase, str) else bytes(passphrase)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def key_file_bytes(keys: StationKeys, passphrase: str | bytes | None = None) -> bytes:
    """The key file's content: JSON holding both private keys as PKCS#8 PEM,
    encrypted with ``passphrase`` when one is given."""
    secret = _passphrase_bytes(passphrase)
    enc: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(secret) if secret else serialization.NoEncryption()
    )

    def pem(key: Ed25519PrivateKey | X25519PrivateKey) -> str:
        return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, enc).decode("ascii")

    peer = keys.peer
    doc = {
        "format": KEY_FORMAT,
        "note": "社区一站通 本站私钥文件。不要发给任何人，不要放进数据交换包或U盘。",
        "code": keys.code,
        "name": keys.name,
        "role": keys.role,
        "created_at": keys.created_at,
        "encrypted": secret is not None,
        "sign_key": pem(keys.sign_key),
        "box_key": pem(keys.box_key),
        "sign_pub": _b64(peer.sign_pub),
        "box_pub": _b64(peer.box_pub),
        "fingerprint": peer.fingerprint,
    }
    return (json.dumps(doc, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def save_key_file(
    keys: StationKeys, path: Path | str, passphrase: str | bytes | None = None, *, overwrite: bool = False
) -> None:
    """Write the key file atomically, owner-only (0600) on POSIX.

    Refuses to replace an existing key file unless ``overwrite`` (changing the
    passphrase): losing the old private keys would orphan every bundle already
    addressed to this station."""
    path = Path(path)
    if path.exists() and not overwrite:
        raise KeyFileError(
            "key_file_exists",
            f"本站密钥文件已经存在：\n{path}\n\n为避免覆盖现有密钥，没有写入。如确需重新生成密钥，请先备份并移走旧文件。",
            f"{path} exists",
        )
    write_atomic(path, key_file_bytes(keys, passphrase), private=True)


def _bad_key_file(path: object, detail: str) -> KeyFileError:
    return KeyFileError(
        "key_file_invalid",
        f"本站密钥文件已损坏或不是社区一站通的密钥文件：\n{path}\n\n"
        "请从备份中找回密钥文件；如果找不回，需要重新生成密钥，并把新的公钥文件发给街道和各对端站点重新导入。",
        f"{path}: {detail}",
    )


def parse_key_file(data: bytes, passphrase: str | bytes | None = None, *, path: object = "") -> StationKeys:
    """Load keys from a key file's bytes; see ``load_key_file``."""
    try:
        doc = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        raise _bad_key_file(path, f"not JSON: {e}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("format"), str):
        raise _bad_key_file(path, "no format")
    fmt = doc["format"]
    if fmt != KEY_FORMAT:
        if fmt.startswith(KEY_PREFIX):
            raise KeyFileError(
                "key_file_too_new",
                f"本站密钥文件由更新版本的社区一站通生成，当前程序无法读取：\n{path}\n\n请升级本程序。",
                f"{path}: format {fmt}",
            )
        raise _bad_key_file(path, f"format {fmt!r}")
    pems = doc.get("sign_key"), doc.get("box_key")
    if not all(isinstance(p, str) for p in pems):
        raise _bad_key_file(path, "missing private keys")
    encrypted = any("ENCRYPTED" in p.split("\n", 1)[0] for p in pems)  # type: ignore[union-attr]
    secret = _passphrase_bytes(passphrase)
    if encrypted and secret is None:
        raise KeyFileError(
            "passphrase_required",
            "本站密钥文件设置了口令，请输入密钥口令。",
            f"{path}: encrypted, no passphrase given",
        )
    loaded = []
    for p in pems:
        try:
            loaded.append(serialization.load_pem_private_key(p.encode("ascii"), password=secret if encrypted else None))  # type: ignore[union-attr]
        except ValueError as e:
            if encrypted and "password" in str(e).lower():
                raise KeyFileError(
                    "passphrase_wrong", "密钥口令不正确，请重新输入。", f"{path}: wrong passphrase"
                ) from None
            raise _bad_key_file(path, f"private key: {e}") from None
        except (TypeError, UnsupportedAlgorithm, UnicodeEncodeError) as e:
            raise _bad_key_file(path, f"private key: {e}") from None
    sign_key, box_key = loaded
    if not isinstance(sign_key, Ed25519PrivateKey) or not isinstance(box_key, X25519PrivateKey):
        raise _bad_key_file(path, "wrong key types")
    try:
        # StationKeys checks its own identity fields (_check_identity) and
        # raises ValueError for anything that is not a proper string.
        keys = StationKeys(
            code=cast(str, doc.get("code")),
            name=cast(str, doc.get("name")),
            role=cast(str, doc.get("role")),
            sign_key=sign_key,
            box_key=box_key,
            created_at=str(doc.get("created_at") or ""),
        )
    except ValueError as e:
        raise _bad_key_file(path, str(e)) from None
    # The public copies are there for people reading the file; if they disagree, something edited it.
    peer = keys.peer
    for label, actual in (("sign_pub", peer.sign_pub), ("box_pub", peer.box_pub)):
        stored = doc.get(label)
        if stored is not None and stored != _b64(actual):
            raise _bad_key_file(path, f"{label} does not match the private key")
    stored_fp = doc.get("fingerprint")
    if stored_fp is not None and (not isinstance(stored_fp, str) or not _same_fingerprint(stored_fp, peer.fingerprint)):
        raise _bad_key_file(path, "fingerprint does not match the keys")
    return keys


def load_key_file(path: Path | str, passphrase: str | bytes | None = None) -> StationKeys:
    """Read this station's keys.  Raises ``KeyFileError`` with code
    ``key_file_missing``, ``passphrase_required``, ``passphrase_wrong``,
    ``key_file_too_new`` or ``key_file_invalid``."""
    path = Path(path)
    try:
        with open(path, "rb") as f:
            data = f.read(MAX_KEY_FILE + 1)
    except FileNotFoundError:
        raise KeyFileError(
            "key_file_missing",
            f"找不到本站密钥文件：\n{path}\n\n请先在“数据交换”页生成本站密钥，或从备份中找回密钥文件。",
            f"{path} missing",
        ) from None
    except OSError as e:
        raise KeyFileError(
            "key_file_unreadable", f"无法读取本站密钥文件：\n{path}\n\n{e.strerror or e}", f"{path}: {e}"
        ) from None
    if len(data) > MAX_KEY_FILE:
        raise _bad_key_file(path, "too large")
    return parse_key_file(data, passphrase, path=path)


# ---------------------------------------------------------------- peer file


def peer_file_bytes(peer: PeerKey) -> bytes:
    """The peer file: public keys only, safe to e-mail or put on a stick."""
    doc = {
        "format": PEER_FORMAT,
        "note": "社区一站通 站点公钥文件（可公开）。导入前请与对方电话核对指纹。",
        "code": peer.code,
        "name": peer.name,
        "role": peer.role,
        "sign_pub": _b64(peer.sign_pub),
        "box_pub": _b64(peer.box_pub),
        "created_at": peer.created_at,
        "fingerprint": peer.fingerprint,
    }
    return (json.dumps(doc, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def write_peer_file(peer: PeerKey, path: Path | str) -> None:
    write_atomic(Path(path), peer_file_bytes(peer))


def _bad_peer_file(detail: str, what: str = "") -> PeerFileError:
    return PeerFileError(
        "peer_file_invalid",
        "这不是有效的社区一站通公钥文件" + (f"（{what}）" if what else "") + "。\n"
        "请让对方在“数据交换”页重新导出公钥文件。",
        detail,
    )


def _decode_key(doc: dict, label: str) -> bytes:
    value = doc.get(label)
    if not isinstance(value, str):
        raise _bad_peer_file(f"{label} missing", "缺少公钥")
    try:
        raw = base64.b64decode(value.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError):
        raise _bad_peer_file(f"{label} is not base64", "公钥格式不对") from None
    if len(raw) != KEY_LEN:
        raise _bad_peer_file(f"{label} has {len(raw)} bytes", "公钥长度不对")
    try:  # let the library judge the key encodings
        if label == "sign_pub":
            Ed25519PublicKey.from_public_bytes(raw)
        else:
            X25519PublicKey.from_public_bytes(raw)
    except ValueError as e:
        raise _bad_peer_file(f"{label}: {e}", "公钥无效") from None
    return raw


def parse_peer_file(data: bytes) -> PeerKey:
    """Validate and read a peer file.  Everything is checked: format, code,
    name, role, key lengths and encodings, and the fingerprint when present
    (a peer file whose fingerprint disagrees with its keys was edited)."""
    if len(data) > MAX_PEER_FILE:
        raise _bad_peer_file(f"{len(data)} bytes", "文件过大")
    try:
        doc = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError) as e:
        raise _bad_peer_file(f"not JSON: {e}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("format"), str):
        raise _bad_peer_file("no format field")
    fmt = doc["format"]
    if fmt != PEER_FORMAT:
        if fmt.startswith(PEER_PREFIX):
            raise PeerFileError(
                "peer_file_too_new",
                "这个公钥文件由更新版本的社区一站通导出，当前程序无法读取。请升级本程序。",
                f"format {fmt}",
            )
        raise _bad_peer_file(f"format {fmt!r}")
    sign_pub = _decode_key(doc, "sign_pub")
    box_pub = _decode_key(doc, "box_pub")
    code, name, role = doc.get("code"), doc.get("name"), doc.get("role")
    try:
        _check_identity(code, name, role)
    except ValueError as e:
        raise _bad_peer_file(str(e), "站点编码、名称或类型不对") from None
    created = doc.get("created_at", "")
    if not isinstance(created, str):
        raise _bad_peer_file("created_at is not a string")
    stated = doc.get("fingerprint")
    actual = fingerprint(code, sign_pub, box_pub)  # type: ignore[arg-type]
    if stated is not None and (not isinstance(stated, str) or not _same_fingerprint(stated, actual)):
        raise PeerFileError(
            "peer_fingerprint_mismatch",
            "公钥文件中的指纹与公钥不一致，文件可能被改动过，不能导入。\n请让对方重新导出公钥文件，并电话核对指纹。",
            f"stated {stated!r}, computed {actual!r}",
        )
    return PeerKey(
        code=cast(str, code),  # checked by _check_identity above
        name=cast(str, name),
        role=cast(str, role),
        sign_pub=sign_pub,
        box_pub=box_pub,
        fingerprint=actual,
        created_at=created,
    )


def read_peer_file(path: Path | str) -> PeerKey:
    path = Path(path)
    try:
        with open(path, "rb") as f:
            data = f.read(MAX_PEER_FILE + 1)
    except OSError as e:
        raise PeerFileError(
            "peer_file_unreadable", f"无法读取公钥文件：\n{path}\n\n{e.strerror or e}", f"{path}: {e}"
        ) from None
    return parse_peer_file(data)
