"""The outer, encrypted layer of a bundle file: a plain header and a payload
encrypted to one station's X25519 public key.

Layout (docs/bundle-format.md has the byte table)::

    magic  version  target-code  recipient-key  ephemeral-key  chunk chunk ... last-chunk

The payload key comes from an ephemeral X25519 exchange with the recipient's
key through HKDF-SHA256.  The payload is cut into 64 KiB chunks, each sealed
with ChaCha20-Poly1305 under a nonce of an 11-byte counter and a last-chunk
flag, with the whole header as associated data — the STREAM construction that
age uses.  So a flipped byte anywhere, a reordered or dropped chunk, a file cut
short (even exactly at a chunk boundary) or an edited header all fail
authentication.  ChaCha20 rather than AES-GCM: it is as fast here and does not
depend on AES instructions that some older station PCs lack.

Encryption to a public key says nothing about who wrote the payload: the
signature inside (``container``) does that.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from desktop.services.sync.keys import CODE_RE, KEY_LEN, PeerKey, StationKeys, SyncError

MAGIC = b"\x89SDB\r\n\x1a\n"  # PNG-style: a high byte, CR LF and ^Z catch text-mode copies
CONTAINER_VERSION = 1
CHUNK = 64 * 1024  # plaintext bytes per chunk
TAG = 16  # Poly1305 tag
HKDF_INFO = b"station-desk-bundle/1 payload key"
MAX_CODE_BYTES = 64
_FIXED = len(MAGIC) + 2  # magic + version: readable by every future version


class BundleError(SyncError):
    """Any reason a bundle cannot be written or opened.

    ``code`` is stable (see docs/bundle-format.md), ``user_message`` is the
    Chinese text for the worker, ``str(exc)`` the English detail for the log."""


RESEND = "请让对方重新导出，或重新拷贝一次。"


def truncated(detail: str) -> BundleError:
    return BundleError(
        "truncated",
        "数据交换包不完整：文件在拷贝时被截断了（例如U盘没有安全弹出就拔出）。没有导入任何数据。\n" + RESEND,
        detail,
    )


def damaged(detail: str) -> BundleError:
    return BundleError(
        "damaged",
        "数据交换包已损坏或被改动过，没有通过校验。没有导入任何数据。\n" + RESEND,
        detail,
    )


def not_bundle(detail: str) -> BundleError:
    return BundleError(
        "not_bundle",
        "这不是社区一站通的数据交换包。请确认选择的是对方导出的数据交换包文件。",
        detail,
    )


@dataclass(frozen=True)
class Header:
    """The plain header: who the bundle is for, and the ephemeral key."""

    version: int
    target: str  # station code of the recipient
    recipient_pub: bytes  # the X25519 key the payload was encrypted to
    ephemeral_pub: bytes
    raw: bytes  # the exact header bytes, authenticated with every chunk


def build_header(target: str, recipient_pub: bytes, ephemeral_pub: bytes) -> bytes:
    code = target.encode("ascii")
    if not 0 < len(code) <= MAX_CODE_BYTES:
        raise ValueError(f"target code {target!r} does not fit the header")
    return MAGIC + struct.pack(">HB", CONTAINER_VERSION, len(code)) + code + recipient_pub + ephemeral_pub


def read_header(f: BinaryIO) -> Header:
    """Read and check the header from the start of ``f``.

    Magic and version come first and keep their place in every version, so a
    newer file is recognised as newer (``too_new``) instead of as garbage."""
    start = f.read(_FIXED)
    if len(start) < len(MAGIC):
        if MAGIC.startswith(start):  # empty, or cut inside the magic
            raise truncated(f"{len(start)} bytes")
        raise not_bundle("shorter than the magic")
    if start[: len(MAGIC)] != MAGIC:
        raise not_bundle(f"magic {start[: len(MAGIC)]!r}")
    if len(start) < _FIXED:
        raise truncated("cut inside the version")
    (version,) = struct.unpack(">H", start[len(MAGIC) :])
    if version > CONTAINER_VERSION:
        raise BundleError(
            "too_new",
            f"这个数据交换包由更新版本的社区一站通生成（包格式第 {version} 版，"
            f"本程序只认识到第 {CONTAINER_VERSION} 版）。"
            "请升级本程序后再导入。",
            f"container version {version}",
        )
    if version < 1:
        raise not_bundle(f"container version {version}")
    n = f.read(1)
    if not n:
        raise truncated("cut before the target code")
    code_raw = f.read(n[0])
    keys = f.read(2 * KEY_LEN)
    if len(code_raw) < n[0] or len(keys) < 2 * KEY_LEN:
        raise truncated("cut inside the header")
    try:
        target = code_raw.decode("ascii")
    except UnicodeDecodeError:
        raise damaged("target code is not ASCII") from None
    if not CODE_RE.match(target):
        raise damaged(f"target code {target!r}")
    return Header(version, target, keys[:KEY_LEN], keys[KEY_LEN:], start + n + code_raw + keys)


def _payload_key(shared: bytes, ephemeral_pub: bytes, recipient_pub: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=ephemeral_pub + recipient_pub, info=HKDF_INFO).derive(shared)


def _nonce(counter: int, last: bool) -> bytes:
    return counter.to_bytes(11, "big") + (b"\x01" if last else b"\x00")


class Sealer:
    """A write-only file object: plaintext in, header and sealed chunks out to
    ``dst``.  Call ``finish`` once at the end (it seals the last chunk; a
    stream without it reads back as truncated).  ``tell`` counts plaintext,
    which is all ``zipfile`` needs to write an archive through it."""

    def __init__(self, dst: BinaryIO, recipient: PeerKey):
        ephemeral = X25519PrivateKey.generate()
        eph_pub = ephemeral.public_key().public_bytes_raw()
        shared = ephemeral.exchange(X25519PublicKey.from_public_bytes(recipient.box_pub))
        self._aad = build_header(recipient.code, recipient.box_pub, eph_pub)
        self._aead = ChaCha20Poly1305(_payload_key(shared, eph_pub, recipient.box_pub))
        self._dst = dst
        self._buf = bytearray()
        self._counter = 0
        self._pos = 0
        self._finished = False
        self.discard = False  # set when abandoning: later writes (e.g. zipfile's cleanup) go nowhere
        dst.write(self._aad)

    def _emit(self, chunk: bytes | memoryview, last: bool) -> None:
        self._dst.write(self._aead.encrypt(_nonce(self._counter, last), chunk, self._aad))
        self._counter += 1

    def write(self, data: bytes | bytearray | memoryview) -> int:
        if self.discard:
            return len(data)
        if self._finished:
            raise ValueError("write after finish")
        buf = self._buf
        buf += data
        self._pos += len(data)
        # Keep at least one byte back: the last chunk must carry the last flag.
        if len(buf) > CHUNK:
            off = 0
            with memoryview(buf) as view:
                while len(buf) - off > CHUNK:
                    self._emit(view[off : off + CHUNK], last=False)
                    off += CHUNK
            del buf[:off]
        return len(data)

    def tell(self) -> int:
        return self._pos

    def flush(self) -> None:
        pass

    def finish(self) -> None:
        if self._finished or self.discard:
            return
        self._emit(bytes(self._buf), last=True)
        self._buf = bytearray()
        self._finished = True


def seal_stream(src: BinaryIO, dst: BinaryIO, recipient: PeerKey, block: int = 1 << 20) -> None:
    """Encrypt everything from ``src`` to ``recipient`` into ``dst``."""
    sealer = Sealer(dst, recipient)
    while data := src.read(block):
        sealer.write(data)
    sealer.finish()


def open_stream(src: BinaryIO, dst: BinaryIO, me: StationKeys, header: Header) -> int:
    """Decrypt the chunks after ``header`` from ``src`` into ``dst``; returns
    the plaintext size.  The caller has checked ``header`` is addressed to
    ``me``.  Raises ``BundleError`` (``truncated`` or ``damaged``) before the
    end of the stream is reached if anything does not authenticate."""
    try:
        shared = me.box_key.exchange(X25519PublicKey.from_public_bytes(header.ephemeral_pub))
    except ValueError:  # a low-order point gives an all-zero secret
        raise damaged("ephemeral key is invalid") from None
    aead = ChaCha20Poly1305(_payload_key(shared, header.ephemeral_pub, header.recipient_pub))
    aad = header.raw
    sealed = CHUNK + TAG
    counter = 0
    total = 0
    cur = src.read(sealed)
    if not cur:
        raise truncated("no chunks after the header")
    while True:
        nxt = src.read(sealed) if len(cur) == sealed else b""
        last = not nxt
        if len(cur) < TAG:
            raise truncated(f"chunk {counter} has {len(cur)} bytes")
        try:
            plain = aead.decrypt(_nonce(counter, last), cur, aad)
        except InvalidTag:
            if last and len(cur) == sealed:
                # A whole chunk that opens as a middle chunk: the file ends at a chunk boundary.
                try:
                    aead.decrypt(_nonce(counter, False), cur, aad)
                except InvalidTag:
                    pass
                else:
                    raise truncated(f"file ends after middle chunk {counter}") from None
            raise damaged(f"chunk {counter} does not authenticate") from None
        if last and not plain and counter > 0:
            raise damaged("empty last chunk after others")
        dst.write(plain)
        total += len(plain)
        if last:
            return total
        cur = nxt
        counter += 1
