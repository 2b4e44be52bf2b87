"""Encryption at rest: the station file's data key and how it is unlocked.

A station's SQLite file (and every backup of it) is encrypted with SQLCipher
under one random 256-bit *data key*, given to SQLCipher as a raw key (no
per-connection key derivation, so opening costs what it cost before).  The
data key itself is never stored in clear.  It sits, wrapped (AES-256-GCM),
in the *key file* beside the database, ``<name>.sqlite3.key`` (JSON, owner-
only, mode 0600), once per way of unlocking it:

``machine``
    wrapped by a random secret kept in this Windows/Linux account's own
    profile (``<config>/keys/machine.secret``, 0600), not beside the data.
    This is the daily unlock: the program opens the database without asking.
    A copy of the station file, its key file and its backups taken to
    another computer (a USB stick, a shared folder, a stolen backup disk)
    does not have that secret.
``recovery``
    wrapped by a key derived (scrypt) from a recovery code generated once
    when the station file is created and shown once to the administrator
    (``take_recovery_code``); the code itself is kept, wrapped by the machine
    secret, only until it has been shown.
``password``
    one per administrator: wrapped by a key derived (scrypt) from that
    administrator's password, refreshed whenever it changes.

``unlock`` takes a recovery code or an administrator's password, recovers
the data key and wraps it for this computer again, so a station moved to a
new PC (or whose profile was wiped) works as before.  Backups carry the
recovery and password wraps in their JSON sidecar (``portable_wraps``).

Tests set ``STATION_DESK_TEST_FAST_KDF=1`` for a cheap scrypt; the
parameters are stored with each wrap, so production files keep the strong
ones.  The heavy modules (cryptography, sqlcipher3) load on first use.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import secrets
import threading
import uuid
from pathlib import Path
from typing import Any, Callable

from db.errors import KeyUnavailable, NotADatabase, StationDeskError, WrongKey, WrongSecret

KEY_SUFFIX = ".key"
FORMAT = 1
CLEAR_HEADER = b"SQLite format 3\x00"
FAST_KDF_ENV = "STATION_DESK_TEST_FAST_KDF"
SCRYPT = {"n": 2**17, "r": 8, "p": 1}  # OWASP's scrypt minimum; ~0.35 s, 128 MiB
FAST_SCRYPT = {"n": 2**4, "r": 8, "p": 1}
MACHINE_SECRET = "machine.secret"
RECOVERY_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32: no I, L, O, U
RECOVERY_GROUPS = 6  # 6 x 4 characters = 120 bits
# SQLCipher 4 defaults but HMAC-SHA256 per page instead of SHA512: as strong a
# MAC, and hardware-accelerated (SHA-NI) on current CPUs, so reading the whole
# file (the integrity check at every start) costs about what it did in clear.
CIPHER = "sqlcipher4-raw-key-hmac-sha256"
CIPHER_PRAGMAS = ("cipher_hmac_algorithm = HMAC_SHA256",)

_cache: dict[str, bytes] = {}  # resolved db path -> data key, for this process
_lock = threading.Lock()
_machine_dir: Callable[[], Path] | None = None


# ------------------------------------------------------------------ where


def use_machine_dir(provider: Callable[[], Path]) -> None:
    """The application says where this account's machine secret lives."""
    global _machine_dir
    _machine_dir = provider


def machine_dir() -> Path:
    if _machine_dir is not None:
        return _machine_dir()
    home = os.environ.get("STATION_DESK_HOME")
    if home:
        return Path(home).expanduser().resolve() / "config" / "keys"
    import platformdirs

    return Path(platformdirs.user_config_dir("StationDesk", appauthor=False)) / "keys"


def key_path(db_path: str | os.PathLike[str]) -> Path:
    return Path(str(db_path) + KEY_SUFFIX)


def is_clear(path: str | os.PathLike[str]) -> bool:
    """True for a plain SQLite file (or an empty/missing one)."""
    try:
        with open(path, "rb") as f:
            head = f.read(16)
    except FileNotFoundError:
        return True
    return head in (b"", CLEAR_HEADER)


def owner_only(path: Path) -> None:
    """Mode 0600 (on Windows the file inherits the profile folder's ACL)."""
    try:
        os.chmod(path, 0o600)
    except OSError:
        pass


def _write_private(path: Path, data: bytes) -> None:
    """Atomically write ``data`` to ``path`` with mode 0600 from the start."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".part")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_BINARY", 0), 0o600)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    owner_only(tmp)
    os.replace(tmp, path)


# ------------------------------------------------------------------ crypto


def _b64(b: bytes) -> str:
    return base64.b64encode(b).decode("ascii")


def _unb64(s: str) -> bytes:
    return base64.b64decode(s.encode("ascii"))


def _kdf_params() -> dict[str, int]:
    return dict(FAST_SCRYPT if os.environ.get(FAST_KDF_ENV) == "1" else SCRYPT)


def _derive(secret: str, kdf: dict[str, Any]) -> bytes:
    from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

    return Scrypt(salt=_unb64(kdf["salt"]), length=32, n=int(kdf["n"]), r=int(kdf["r"]), p=int(kdf["p"])).derive(
        secret.encode("utf-8")
    )


def _aad(key_id: str, wrap: dict[str, Any]) -> bytes:
    return f"station-desk/{key_id}/{wrap['kind']}/{wrap.get('user', '')}".encode()


def _seal(kek: bytes, payload: bytes, key_id: str, wrap: dict[str, Any]) -> dict[str, Any]:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    nonce = os.urandom(12)
    wrap.update(nonce=_b64(nonce), ct=_b64(AESGCM(kek).encrypt(nonce, payload, _aad(key_id, wrap))))
    return wrap


def _open(kek: bytes, key_id: str, wrap: dict[str, Any]) -> bytes | None:
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    try:
        return AESGCM(kek).decrypt(_unb64(wrap["nonce"]), _unb64(wrap["ct"]), _aad(key_id, wrap))
    except (InvalidTag, KeyError, ValueError):
        return None


def _secret_wrap(kind: str, secret: str, data_key: bytes, key_id: str, user: str | None = None) -> dict[str, Any]:
    kdf = {"name": "scrypt", "salt": _b64(os.urandom(16)), **_kdf_params()}
    wrap: dict[str, Any] = {"kind": kind, "kdf": kdf}
    if user is not None:
        wrap["user"] = user
    return _seal(_derive(secret, kdf), data_key, key_id, wrap)


# ------------------------------------------------------------------ machine secret


def _machine_secret(create: bool) -> tuple[str, bytes] | None:
    """(id, secret) of this account's machine secret; made on first use if ``create``."""
    path = machine_dir() / MACHINE_SECRET
    try:
        secret = path.read_bytes()
    except FileNotFoundError:
        if not create:
            return None
        secret = os.urandom(32)
        _write_private(path, secret)
    except OSError:
        return None
    if len(secret) != 32:
        return None
    return hashlib.sha256(b"station-desk-machine" + secret).hexdigest()[:16], secret


def _machine_wrap(data_key: bytes, key_id: str) -> dict[str, Any]:
    found = _machine_secret(create=True)
    assert found is not None
    mid, secret = found
    return _seal(secret, data_key, key_id, {"kind": "machine", "machine": mid})


# ------------------------------------------------------------------ key file


def _load(db_path: Path) -> dict[str, Any]:
    kp = key_path(db_path)
    try:
        data = json.loads(kp.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise NotADatabase(str(db_path)) from None
    except (OSError, ValueError) as e:
        raise WrongKey(str(kp), str(e)) from e
    if not isinstance(data, dict) or data.get("format") != FORMAT or not isinstance(data.get("wraps"), list):
        raise WrongKey(str(kp), "unknown key file format")
    return data


def _save(db_path: Path, data: dict[str, Any]) -> None:
    _write_private(key_path(db_path), json.dumps(data, indent=1).encode("utf-8"))


def normalize_code(code: str) -> str:
    s = "".join(ch for ch in code.upper() if ch.isalnum())
    return s.translate(str.maketrans("OIL", "011"))


def new_recovery_code() -> str:
    raw = "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(4 * RECOVERY_GROUPS))
    return "-".join(raw[i : i + 4] for i in range(0, len(raw), 4))


def create(db_path: str | os.PathLike[str]) -> bytes:
    """A new data key for a new (or still clear) station file, with its key
    file: the machine wrap, the recovery wrap and the recovery code waiting
    to be shown once.  An existing key file this computer can open is kept
    (a migration interrupted half-way starts again with the same key)."""
    p = Path(db_path)
    if key_path(p).exists():
        try:
            return station_key(p, refresh=True)
        except KeyUnavailable:
            if not is_clear(p) or (p.exists() and p.stat().st_size > 0):
                raise
            # No data behind it: a key file left from another computer's file.
            # Kept under another name (never deleted), and a new key made.
            os.replace(key_path(p), p.with_name(f"{p.name}{KEY_SUFFIX}.orphan-{uuid.uuid4().hex[:8]}"))
    data_key, key_id, code = os.urandom(32), uuid.uuid4().hex, new_recovery_code()
    mid, secret = _machine_secret(create=True) or ("", b"")
    data: dict[str, Any] = {
        "format": FORMAT,
        "id": key_id,
        "cipher": CIPHER,
        "wraps": [_machine_wrap(data_key, key_id), _secret_wrap("recovery", normalize_code(code), data_key, key_id)],
        "pending_recovery": _seal(secret, code.encode("ascii"), key_id, {"kind": "pending", "machine": mid}),
    }
    _save(p, data)
    _remember(p, data_key)
    return data_key


def _remember(db_path: Path, data_key: bytes) -> None:
    with _lock:
        _cache[str(db_path.resolve())] = data_key


def forget(db_path: str | os.PathLike[str] | None = None) -> None:
    """Drop cached keys (one database's, or all)."""
    with _lock:
        if db_path is None:
            _cache.clear()
        else:
            _cache.pop(str(Path(db_path).resolve()), None)


def cached_keys() -> list[bytes]:
    with _lock:
        return list(dict.fromkeys(_cache.values()))


def station_key(db_path: str | os.PathLike[str], *, refresh: bool = False) -> bytes:
    """The data key of an encrypted station file, unlocked by this computer's
    machine secret.  Raises ``KeyUnavailable`` when this computer has none
    that fits (a copied file: ``unlock`` with the recovery code),
    ``NotADatabase`` without a key file."""
    p = Path(db_path)
    if not refresh:
        with _lock:
            hit = _cache.get(str(p.resolve()))
        if hit is not None:
            return hit
    data = _load(p)
    found = _machine_secret(create=False)
    if found is not None:
        mid, secret = found
        for w in data["wraps"]:
            if w.get("kind") == "machine" and w.get("machine") == mid:
                key = _open(secret, data["id"], w)
                if key is not None:
                    _remember(p, key)
                    return key
    raise KeyUnavailable(str(p))


def key_if_encrypted(db_path: str | os.PathLike[str]) -> bytes | None:
    """None for a clear (legacy) file, else ``station_key``."""
    return None if is_clear(db_path) else station_key(db_path)


def unlock(db_path: str | os.PathLike[str], secret: str) -> bytes:
    """Open the data key with the recovery code or an administrator's password
    and wrap it for this computer, so the program opens the file daily again.
    Raises ``WrongSecret``."""
    p = Path(db_path)
    data = _load(p)
    key = _try_secret(data, secret)
    if key is None:
        raise WrongSecret("no wrap opened")
    mid, _ = _machine_secret(create=True) or ("", b"")
    data["wraps"] = [w for w in data["wraps"] if not (w.get("kind") == "machine" and w.get("machine") == mid)]
    data["wraps"].append(_machine_wrap(key, data["id"]))
    _save(p, data)
    _remember(p, key)
    return key


def _try_secret(data: dict[str, Any], secret: str) -> bytes | None:
    for w in data["wraps"]:
        kind = w.get("kind")
        if kind not in ("recovery", "password") or not isinstance(w.get("kdf"), dict):
            continue
        text = normalize_code(secret) if kind == "recovery" else secret
        if kind == "recovery" and len(text) != 4 * RECOVERY_GROUPS:
            continue
        key = _open(_derive(text, w["kdf"]), data["id"], w)
        if key is not None:
            return key
    return None


def take_recovery_code(db_path: str | os.PathLike[str]) -> str | None:
    """The recovery code, once: it is removed from the key file as it is
    returned.  None when it was shown already (or another computer holds it)."""
    p = Path(db_path)
    data = _load(p)
    pending = data.get("pending_recovery")
    found = _machine_secret(create=False)
    if not pending or found is None or pending.get("machine") != found[0]:
        return None
    code = _open(found[1], data["id"], pending)
    if code is None:
        return None
    del data["pending_recovery"]
    _save(p, data)
    return code.decode("ascii")


def has_pending_recovery(db_path: str | os.PathLike[str]) -> bool:
    try:
        return bool(_load(Path(db_path)).get("pending_recovery"))
    except StationDeskError:
        return False


def set_password(db_path: str | os.PathLike[str], username: str, password: str, data_key: bytes) -> None:
    """(Re)wrap the data key for an administrator's password."""
    p = Path(db_path)
    data = _load(p)
    data["wraps"] = [w for w in data["wraps"] if not (w.get("kind") == "password" and w.get("user") == username)]
    data["wraps"].append(_secret_wrap("password", password, data_key, data["id"], user=username))
    _save(p, data)


def drop_password(db_path: str | os.PathLike[str], username: str) -> None:
    p = Path(db_path)
    data = _load(p)
    kept = [w for w in data["wraps"] if not (w.get("kind") == "password" and w.get("user") == username)]
    if len(kept) != len(data["wraps"]):
        data["wraps"] = kept
        _save(p, data)


def password_users(db_path: str | os.PathLike[str]) -> set[str]:
    try:
        data = _load(Path(db_path))
    except StationDeskError:
        return set()
    return {w["user"] for w in data["wraps"] if w.get("kind") == "password" and "user" in w}


def portable_wraps(db_path: str | os.PathLike[str]) -> dict[str, Any] | None:
    """The recovery and password wraps (no machine ones), for a backup's sidecar:
    a backup taken elsewhere opens with the recovery code alone."""
    try:
        data = _load(Path(db_path))
    except StationDeskError:
        return None
    return {
        "format": FORMAT,
        "id": data["id"],
        "cipher": data.get("cipher"),
        "wraps": [w for w in data["wraps"] if w.get("kind") in ("recovery", "password")],
    }


def adopt(db_path: str | os.PathLike[str], wraps: dict[str, Any], key: bytes) -> None:
    """A new key file for ``db_path`` from a backup's ``portable_wraps`` (the
    station is being restored on a computer that never had it), with this
    computer's machine wrap added."""
    p = Path(db_path)
    data = {
        "format": FORMAT,
        "id": wraps["id"],
        "cipher": wraps.get("cipher") or CIPHER,
        "wraps": [w for w in wraps["wraps"] if w.get("kind") in ("recovery", "password")],
    }
    data["wraps"].append(_machine_wrap(key, data["id"]))
    _save(p, data)
    _remember(p, key)


def unlock_wraps(wraps: dict[str, Any], secret: str) -> bytes:
    """The data key from a sidecar's ``portable_wraps``; raises ``WrongSecret``."""
    key = _try_secret(wraps, secret)
    if key is None:
        raise WrongSecret("no wrap opened")
    return key


# ------------------------------------------------------------------ SQLCipher


def dbapi() -> Any:
    from sqlcipher3 import dbapi2

    return dbapi2


def apply_key(con: Any, key: bytes | None) -> None:
    """Must be the first statement on a new connection (SQLCipher's own error
    log goes quiet: a wrong key is reported by the exception)."""
    con.execute("PRAGMA cipher_log_level = NONE")
    if key is not None:
        con.execute(f"PRAGMA key = \"x'{key.hex()}'\"")
        for pragma in CIPHER_PRAGMAS:
            con.execute(f"PRAGMA {pragma}")


def connect(target: str | os.PathLike[str], key: bytes | None, *, uri: bool = False, **kw: Any) -> Any:
    """A SQLCipher connection (a plain SQLite one when ``key`` is None)."""
    con = dbapi().connect(str(target), uri=uri, **kw)
    try:
        apply_key(con, key)
    except BaseException:
        con.close()
        raise
    return con


def key_for_file(path: str | os.PathLike[str]) -> bytes | None:
    """For a file whose station is not named (a backup): None if clear, else the
    first key known to this process that opens it, else the key file beside
    it.  Raises ``WrongKey`` when none does."""
    p = Path(path)
    if is_clear(p):
        return None
    candidates = cached_keys()
    if key_path(p).exists():
        try:
            candidates.append(station_key(p))
        except StationDeskError:
            pass
    for key in candidates:
        if opens(p, key):
            return key
    raise WrongKey(str(p), "no known key opens it")


def opens(path: Path, key: bytes) -> bool:
    try:
        con = connect(path.resolve().as_uri() + "?mode=ro&immutable=1", key, uri=True)
    except Exception:  # noqa: BLE001
        return False
    try:
        con.execute("SELECT count(*) FROM sqlite_master").fetchone()
        return True
    except Exception:  # noqa: BLE001 - "file is not a database": not this key
        return False
    finally:
        con.close()


def export_encrypted(clear_uri: str, dest: Path, key: bytes) -> None:
    """Write an encrypted copy of a clear SQLite database (``sqlcipher_export``)."""
    src = connect(clear_uri, None, uri=True)
    try:
        version = src.execute("PRAGMA user_version").fetchone()[0]
        src.execute("ATTACH DATABASE ? AS secured KEY ?", (str(dest), f"x'{key.hex()}'"))
        for pragma in CIPHER_PRAGMAS:
            src.execute(f"PRAGMA secured.{pragma}")
        # A new file under a temporary name: no journal, no sync per table (the
        # callers verify it, fsync it once and only then give it its real name).
        src.execute("PRAGMA secured.journal_mode = OFF").fetchall()
        src.execute("PRAGMA secured.synchronous = OFF")
        src.execute("SELECT sqlcipher_export('secured')").fetchall()
        src.execute(f"PRAGMA secured.user_version = {int(version)}")
        src.execute("PRAGMA secured.journal_mode = DELETE").fetchall()
        src.execute("DETACH DATABASE secured")
    finally:
        src.close()
    owner_only(dest)
