"""Bundle files: a signed manifest and named parts in a zip, sealed to one
station (``sealed``).

Writing::

    with BundleWriter(path, signer=my_keys, recipient=hub_peer, manifest={...}) as w:
        w.write_rows("residents", rows, default=json_default)
    # the file appears under ``path`` only now, complete and fsynced

Reading::

    with open_bundle(path, my_keys, trusted=peers.get) as b:
        b.verify_all()          # every part's hash
        for row in b.rows("residents"): ...

or, reading every part once (the import: one transaction, committed only
once ``verify_all`` has passed, and on a failure its verdict first)::

    for batch in b.row_batches("residents", 2000): ...
    b.verify_all()          # only the parts not read whole above

Everything streams: parts go through the zip and the cipher in small pieces on
the way out, and on the way in the file is decrypted to a temporary file and
read member by member.  Every refusal is a ``BundleError`` with a stable
``code`` and a Chinese ``user_message``.  Format: docs/bundle-format.md.
"""

from __future__ import annotations

import errno
import hashlib
import io
import os
import re
import struct
import tempfile
import zipfile
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import orjson

from desktop.services.sync._files import fsync_dir
from desktop.services.sync.keys import PeerKey, StationKeys
from desktop.services.sync.sealed import (
    CONTAINER_VERSION,
    RESEND,
    BundleError,
    Sealer,
    open_stream,
    read_header,
    seal_stream,
)

__all__ = [
    "BundleError",
    "BundleWriter",
    "Bundle",
    "Limits",
    "PartInfo",
    "open_bundle",
    "peek",
    "canonical_manifest",
    "sign_manifest",
    "seal_stream",
    "CONTAINER_VERSION",
]

MANIFEST_NAME = "manifest.json"
SIGNATURE_NAME = "manifest.sig"
PART_PREFIX = "parts/"
SIGNATURE_CONTEXT = b"station-desk-bundle/1 manifest\x00"
SIGNATURE_LEN = 64
CONTAINER_KEY = "container"  # the manifest section this module owns
KINDS = ("jsonl", "bytes")
# zlib level 1: on JSON lines it deflates about 2.5 times as fast as level 6
# for a file about a fifth larger (figures in docs/bundle-format.md).
DEFAULT_COMPRESSLEVEL = 1
PART_NAME_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$")
_SHA256_RE = re.compile(r"^[0-9a-f]{64}$")
_DRIVE_RE = re.compile(r"^[A-Za-z]:")
_BATCH_BYTES = 256 * 1024  # JSON lines are joined into writes of about this size
_READ_BLOCK = 1 << 20
MiB = 1 << 20
GiB = 1 << 30


@dataclass(frozen=True)
class Limits:
    """What a reader accepts.  The defaults take a million rows of a few
    hundred bytes with room to spare, and stop zip bombs long before they
    cost real time or disk."""

    max_file_size: int = 4 * GiB  # the sealed file as found on the stick
    max_members: int = 1000
    max_member_size: int = 4 * GiB  # one part, uncompressed
    max_total_size: int = 8 * GiB  # all members, uncompressed
    max_ratio: int = 200  # uncompressed / compressed ...
    ratio_floor: int = 1 * MiB  # ... checked for members larger than this
    max_manifest: int = 1 * MiB
    max_line: int = 1 * MiB  # one JSON line, newline included


DEFAULT_LIMITS = Limits()


@dataclass(frozen=True)
class PartInfo:
    name: str
    kind: str  # "jsonl" or "bytes"
    size: int  # uncompressed bytes
    sha256: str  # hex, over the uncompressed bytes
    lines: int | None  # JSON lines in a "jsonl" part

    @property
    def member(self) -> str:
        return PART_PREFIX + self.name


def canonical_manifest(manifest: Mapping[str, Any], default: Callable[[Any], Any] | None = None) -> bytes:
    """The manifest bytes that are stored and signed: compact UTF-8 JSON with
    sorted keys.  The reader verifies the stored bytes as they are, so this
    only has to be deterministic, not reproducible by the reader."""
    return orjson.dumps(dict(manifest), default=default, option=orjson.OPT_SORT_KEYS)


def sign_manifest(signer: StationKeys, manifest_bytes: bytes) -> bytes:
    """Ed25519 over a context string and the manifest bytes, so the signature
    cannot be mistaken for one over anything else the key signs."""
    return signer.sign(SIGNATURE_CONTEXT + manifest_bytes)


def _check_part_name(name: object) -> str:
    if not isinstance(name, str) or not PART_NAME_RE.match(name) or ".." in name:
        raise ValueError(f"part name must match {PART_NAME_RE.pattern} without '..', got {name!r}")
    return name


# ---------------------------------------------------------------- writing


def _write_error(path: Path, e: OSError) -> BundleError:
    if e.errno == errno.ENOSPC:
        return BundleError(
            "disk_full",
            f"保存位置空间不足，数据交换包没有写完（未完成的文件已删除）：\n{path}\n\n请换一个U盘或清理空间后重新导出。",
            str(e),
        )
    return BundleError(
        "write_failed",
        f"无法写入数据交换包：\n{path}\n\n{e.strerror or e}\n请检查U盘是否已拔出或写保护，然后重新导出。",
        str(e),
    )


class _TargetFile:
    """The ``.part`` file as the sealer sees it: a write error (stick full or
    pulled out) becomes a ``BundleError`` naming the bundle, while errors from
    the caller's rows keep their own type."""

    def __init__(self, f: BinaryIO, path: Path):
        self._f = f
        self._path = path

    def write(self, data: bytes) -> int:
        try:
            return self._f.write(data)
        except OSError as e:
            raise _write_error(self._path, e) from e


class _PartSink:
    """Hashes and counts what goes into one zip member."""

    def __init__(self, member: BinaryIO):
        self._member = member
        self.sha = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> None:
        self.sha.update(data)
        self.size += len(data)
        self._member.write(data)


class BundleWriter:
    """Write a bundle to ``out_path`` (see the module docstring).

    ``manifest`` is the caller's: format, schema revision, bundle id, clock
    range, row counts...  This class adds the ``"container"`` section (its
    version, source and target codes, signer fingerprint, and each part's
    name, kind, size, SHA-256 and line count), so the signature binds source
    *and* target and the bundle cannot be re-addressed.  If the caller's
    manifest has string ``"source"``/``"target"`` fields they must name the
    signer and the recipient.

    The file is written as ``out_path + ".part"``, fsynced and renamed on
    ``close``; on an error (or ``abort``) the ``.part`` file is removed.
    Rows are encoded by orjson: UUIDs as their canonical text, ``datetime`` /
    ``date`` / ``time`` as ISO 8601 (``2026-11-22T08:30:00+08:00``), enums as
    their values, NaN as null.  ``default`` is called for anything else it
    cannot encode (``Decimal``, ``set``...) and returns something it can.
    """

    def __init__(
        self,
        out_path: Path | str,
        *,
        signer: StationKeys,
        recipient: PeerKey,
        manifest: Mapping[str, Any],
        default: Callable[[Any], Any] | None = None,
        compresslevel: int = DEFAULT_COMPRESSLEVEL,
        max_line: int = DEFAULT_LIMITS.max_line,
    ):
        if CONTAINER_KEY in manifest:
            raise ValueError(f"the manifest key {CONTAINER_KEY!r} is reserved for the container")
        for key, code in (("source", signer.code), ("target", recipient.code)):
            value = manifest.get(key)
            if isinstance(value, str) and value != code:
                raise ValueError(f"manifest {key} {value!r} is not {code!r}")
        if recipient.revoked:
            raise BundleError(
                "recipient_revoked",
                f"站点 {recipient.label} 的密钥已被注销，不能再向它导出数据。",
                f"recipient {recipient.code} is revoked",
            )
        self.path = Path(out_path)
        self.manifest: dict[str, Any] = dict(manifest)
        self._signer = signer
        self._recipient = recipient
        self._default = default
        self._max_line = max_line
        self._parts: list[dict[str, Any]] = []
        self._names: set[str] = set()
        self._tmp_path = self.path.with_name(self.path.name + ".part")
        self._closed = False
        try:
            self._file = open(self._tmp_path, "wb")
        except OSError as e:
            raise _write_error(self.path, e) from e
        try:
            self._sealer = Sealer(_TargetFile(self._file, self.path), recipient)  # type: ignore[arg-type]
            self._zip = zipfile.ZipFile(
                self._sealer,
                "w",
                compression=zipfile.ZIP_DEFLATED,  # type: ignore[call-overload]  # Sealer writes, tells and flushes like a file
                compresslevel=compresslevel,
                allowZip64=True,
            )
        except BaseException:
            self._file.close()
            self._remove_tmp()
            raise

    # -- parts

    def _claim(self, name: str) -> str:
        """Check a part name before anything is written (a misuse is a bug, not a broken bundle)."""
        if self._closed:
            raise ValueError("the bundle is already closed")
        _check_part_name(name)
        if name in self._names:
            raise ValueError(f"part {name!r} written twice")
        self._names.add(name)
        return PART_PREFIX + name

    def _open_member(self, member: str) -> BinaryIO:
        # force_zip64: a streamed member's size is unknown up front and may pass 4 GiB.
        return self._zip.open(member, "w", force_zip64=True)

    def write_rows(
        self, part: str, rows: Iterable[Mapping[str, Any]], *, default: Callable[[Any], Any] | None = None
    ) -> int:
        """Write ``rows`` (dicts) as one part of JSON lines; returns the count.

        Each row is one line of compact JSON with Chinese kept as UTF-8.  A row
        longer than the readers' line limit is refused here rather than there.
        Any error while writing a part abandons the whole bundle (``abort``)."""
        hook = default or self._default
        member_name = self._claim(part)
        try:
            with self._open_member(member_name) as member:
                sink = _PartSink(member)
                count = self._write_lines(part, rows, hook, sink)
        except BaseException:
            self.abort()
            raise
        self._record(part, "jsonl", sink, count)
        return count

    def _write_lines(
        self, part: str, rows: Iterable[Mapping[str, Any]], hook: Callable[[Any], Any] | None, sink: _PartSink
    ) -> int:
        # orjson rather than the json module: about ten times faster on rows
        # with ids and dates, which is most of an export's time.
        dumps, option = orjson.dumps, orjson.OPT_APPEND_NEWLINE
        limit = self._max_line
        count = 0
        batch: list[bytes] = []
        pending = 0
        for row in rows:
            if type(row) is not dict:
                if not isinstance(row, Mapping):
                    raise TypeError(f"part {part!r} row {count + 1} is a {type(row).__name__}, not a dict")
                row = dict(row)
            line = dumps(row, default=hook, option=option)
            if len(line) > limit:
                raise BundleError(
                    "row_too_long",
                    f"“{part}”中有一条记录太长（超过 {limit // 1024} KB），无法导出。请检查这条记录的内容。",
                    f"part {part!r} row {count + 1} is longer than {limit} bytes",
                )
            batch.append(line)
            pending += len(line)
            count += 1
            if pending >= _BATCH_BYTES:
                sink.write(b"".join(batch))
                batch.clear()
                pending = 0
        if batch:
            sink.write(b"".join(batch))
        return count

    def write_bytes(self, part: str, chunks: Iterable[bytes]) -> int:
        """Write a part of raw bytes from ``chunks``; returns its size.  An
        error abandons the bundle, as in ``write_rows``."""
        member_name = self._claim(part)
        try:
            with self._open_member(member_name) as member:
                sink = _PartSink(member)
                for chunk in chunks:
                    sink.write(bytes(chunk))
        except BaseException:
            self.abort()
            raise
        self._record(part, "bytes", sink, None)
        return sink.size

    def _record(self, name: str, kind: str, sink: _PartSink, lines: int | None) -> None:
        self._parts.append(
            {"name": name, "kind": kind, "size": sink.size, "sha256": sink.sha.hexdigest(), "lines": lines}
        )

    # -- finishing

    def close(self) -> Path:
        """Sign, seal, fsync and rename into place; returns the path."""
        if self._closed:
            return self.path
        try:
            self.manifest[CONTAINER_KEY] = {
                "version": CONTAINER_VERSION,
                "source": self._signer.code,
                "target": self._recipient.code,
                "signer_fingerprint": self._signer.fingerprint,
                "parts": self._parts,
            }
            body = canonical_manifest(self.manifest, self._default)
            self._zip.writestr(MANIFEST_NAME, body)
            self._zip.writestr(SIGNATURE_NAME, sign_manifest(self._signer, body))
            self._zip.close()
            self._sealer.finish()
            self._file.flush()
            os.fsync(self._file.fileno())
            self._file.close()
            os.replace(self._tmp_path, self.path)
            fsync_dir(self.path.parent)
        except OSError as e:
            self.abort()
            raise _write_error(self.path, e) from e
        except BaseException:
            self.abort()
            raise
        self._closed = True
        return self.path

    def abort(self) -> None:
        """Drop the unfinished file; the real name is never touched."""
        if self._closed:
            return
        self._closed = True
        self._sealer.discard = True
        try:
            self._zip.close()  # its last writes go nowhere
        except Exception:  # noqa: BLE001 - e.g. a member handle still open after a failed write
            pass
        try:
            self._file.close()
        except OSError:
            pass  # flushing to a full or missing stick; the file goes anyway
        self._remove_tmp()

    def _remove_tmp(self) -> None:
        try:
            self._tmp_path.unlink()
        except FileNotFoundError:
            pass

    def __enter__(self) -> BundleWriter:
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()


# ---------------------------------------------------------------- reading


def _member_name_ok(name: str) -> bool:
    if not name or "\\" in name or "\x00" in name or name.startswith("/") or _DRIVE_RE.match(name):
        return False
    if any(ord(c) < 0x20 or c == "\x7f" for c in name):
        return False
    return all(seg not in ("", ".", "..") for seg in name.split("/"))


def _bad_archive(detail: str) -> BundleError:
    return BundleError("bad_archive", "数据交换包内部结构损坏，没有导入任何数据。\n" + RESEND, detail)


def _bad_manifest(detail: str) -> BundleError:
    return BundleError("bad_manifest", "数据交换包的清单无法读取或内容不完整，没有导入任何数据。\n" + RESEND, detail)


def _too_large(code: str, what: str, detail: str) -> BundleError:
    return BundleError(code, f"数据交换包{what}，超出允许的范围。为安全起见没有打开它，没有导入任何数据。", detail)


def _part_mismatch(part: str, detail: str) -> BundleError:
    return BundleError("part_hash", f"数据交换包中“{part}”部分的校验值不符：文件已损坏或被改动过。\n" + RESEND, detail)


# zipfile and zlib raise many kinds of exceptions on a malformed archive.
_ZIP_ERRORS = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    zlib.error,
    EOFError,
    ValueError,
    struct.error,
    NotImplementedError,
    OverflowError,
    IndexError,
    KeyError,
    UnicodeDecodeError,
    RuntimeError,
)


class _VerifiedPart(io.RawIOBase):
    """Reads one part, hashing and counting; at the end it refuses the part if
    the size or SHA-256 differs from the manifest.  ``hashed`` False: the
    part's SHA-256 was checked already (``Bundle.verify_all``), the size
    still is (and zipfile's CRC-32 on every read)."""

    def __init__(self, member: BinaryIO, info: PartInfo, hashed: bool = True):
        self._member = member
        self._info = info
        self._sha = hashlib.sha256() if hashed else None
        self._size = 0
        self._done = False

    def readable(self) -> bool:
        return True

    def readinto(self, buf: Any) -> int:
        if self._done:
            return 0
        want = min(len(buf), self._info.size - self._size + 1)  # one byte past the end shows a longer member
        try:
            data = self._member.read(want)
        except _ZIP_ERRORS as e:
            raise _part_mismatch(self._info.name, f"reading: {e}") from None
        if not data:
            self._finish()
            return 0
        self._size += len(data)
        if self._size > self._info.size:
            raise _part_mismatch(self._info.name, f"longer than {self._info.size} bytes")
        if self._sha is not None:
            self._sha.update(data)
        buf[: len(data)] = data
        return len(data)

    def _finish(self) -> None:
        self._done = True
        if self._size != self._info.size:
            raise _part_mismatch(self._info.name, f"{self._size} bytes, manifest says {self._info.size}")
        if self._sha is not None and self._sha.hexdigest() != self._info.sha256:
            raise _part_mismatch(self._info.name, "SHA-256 differs from the manifest")

    def close(self) -> None:
        try:
            self._member.close()
        finally:
            super().close()


class Bundle:
    """An opened, authenticated bundle: ``manifest`` is signed by ``source``.

    Part contents are verified as they stream; call ``verify_all`` before
    committing anything, because a part's hash is known only at its end."""

    def __init__(
        self,
        path: Path,
        tmp: BinaryIO,
        archive: zipfile.ZipFile,
        manifest: dict[str, Any],
        source: PeerKey,
        parts: list[PartInfo],
        limits: Limits,
    ):
        self.path = path
        self.manifest = manifest
        self.source = source
        self.target: str = manifest[CONTAINER_KEY]["target"]
        self.verified = False
        self._checked: set[str] = set()  # parts whose size, SHA-256 and line count passed
        self._tmp = tmp
        self._zip = archive
        self._parts = {p.name: p for p in parts}
        self._order = [p.name for p in parts]
        self._limits = limits
        self._closed = False

    def parts(self) -> list[str]:
        """Part names in the order they were written."""
        return list(self._order)

    def part(self, name: str) -> PartInfo:
        try:
            return self._parts[name]
        except KeyError:
            raise KeyError(f"bundle has no part {name!r}") from None

    def _open(self, name: str) -> io.BufferedReader:
        if self._closed:
            raise ValueError("the bundle is closed")
        info = self.part(name)
        try:
            member = self._zip.open(info.member)
        except _ZIP_ERRORS as e:
            raise _bad_archive(f"open {info.member}: {e}") from None
        # A part checked once (verify_all, row_batches) is not hashed a second time.
        part = _VerifiedPart(member, info, hashed=name not in self._checked)  # type: ignore[arg-type]
        return io.BufferedReader(part, buffer_size=_READ_BLOCK)

    def chunks(self, name: str, size: int = _READ_BLOCK) -> Iterator[bytes]:
        """A part's bytes; the last read raises ``part_hash`` if they were altered."""
        with self._open(name) as stream:
            while data := stream.read(size):
                yield data

    def rows(self, name: str) -> Iterator[dict[str, Any]]:
        """A JSON-lines part, one dict per line, streaming.  Values are what
        JSON holds (str, int, float, bool, None, list, dict): the caller turns
        ids and dates back into their types."""
        info = self.part(name)
        limit = self._limits.max_line
        loads = orjson.loads
        lineno = 0
        with self._open(name) as stream:
            while line := stream.readline(limit + 1):
                lineno += 1
                if len(line) > limit:
                    raise _line_too_long(name, lineno, limit)
                if not line.endswith(b"\n"):  # the writer ends every line, the last one too
                    raise _bad_row(name, lineno, "last line has no newline")
                try:
                    row = loads(line)
                except ValueError as e:  # orjson.JSONDecodeError, also for invalid UTF-8
                    raise _bad_row(name, lineno, str(e)) from None
                if type(row) is not dict:
                    raise _bad_row(name, lineno, f"a {type(row).__name__}, not an object")
                yield row
        if info.lines is not None and lineno != info.lines:
            raise _bad_manifest(f"part {name!r} has {lineno} lines, manifest says {info.lines}")

    def row_batches(self, name: str, size: int) -> Iterator[list[dict[str, Any]]]:
        """``rows`` in lists of ``size`` rows (the last one shorter): the same
        rows, checks, refusals and line numbers, but the part is split into
        lines and parsed a block at a time rather than a line at a time (a
        first import reads two million).  A refusal comes before the list
        holding its line.  Read to its end, the part counts as checked
        (size, SHA-256, line count: ``verify_all`` does not read it again);
        a damaged part is refused only there, so before committing anything
        call ``verify_all``, and on any failure too (its verdict comes first)."""
        if size < 1:
            raise ValueError("size must be at least 1")
        info = self.part(name)
        hashed = name not in self._checked
        limit = self._limits.max_line
        parsed = 0  # lines parsed so far
        pending: list[bytes] = []  # complete lines, their newline taken off, not parsed yet
        tail = b""  # the line being read, its newline not seen yet
        with self._open(name) as stream:
            while block := stream.read(_READ_BLOCK):
                lines = (tail + block if tail else block).split(b"\n")
                tail = lines.pop()
                pending += lines
                while len(pending) >= size:
                    batch = _parse_lines(name, pending[:size], parsed, limit)
                    del pending[:size]
                    parsed += size
                    yield batch
                if len(tail) > limit:  # too long however it ends: an earlier line's fault is named first
                    _parse_lines(name, pending, parsed, limit)
                    raise _line_too_long(name, parsed + len(pending) + 1, limit)
        batch = _parse_lines(name, pending, parsed, limit)
        parsed += len(pending)
        if tail:  # (``rows`` reads a last line without newline up to the limit and a byte)
            parsed += 1
            if len(tail) > limit:
                raise _line_too_long(name, parsed, limit)
            raise _bad_row(name, parsed, "last line has no newline")
        if batch:
            yield batch
        if info.lines is not None and parsed != info.lines:
            raise _bad_manifest(f"part {name!r} has {parsed} lines, manifest says {info.lines}")
        if hashed:  # read whole and hashed at its end: as verify_all would have found it
            self._checked.add(name)

    def verify_all(self) -> None:
        """Check every part's size, SHA-256 (and line count) in one streaming
        pass, in part order, skipping the parts ``row_batches`` has checked
        already; it raises the ``BundleError`` of the first damaged part."""
        for name in self._order:
            if name in self._checked:
                continue
            info = self._parts[name]
            newlines = 0
            for data in self.chunks(name):
                newlines += data.count(b"\n")
            if info.lines is not None and newlines != info.lines:
                raise _bad_manifest(f"part {name!r} has {newlines} lines, manifest says {info.lines}")
            self._checked.add(name)
        self.verified = True

    def close(self) -> None:
        self._closed = True
        try:
            self._zip.close()
        finally:
            self._tmp.close()  # a TemporaryFile: the decrypted copy is deleted here

    def __enter__(self) -> Bundle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _line_too_long(part: str, lineno: int, limit: int) -> BundleError:
    return BundleError(
        "line_too_long",
        f"数据交换包中“{part}”第 {lineno} 行超过长度上限（{limit // 1024} KB），没有导入。\n" + RESEND,
        f"part {part!r} line {lineno} is longer than {limit} bytes",
    )


def _parse_lines(part: str, lines: list[bytes], before: int, limit: int) -> list[dict[str, Any]]:
    """JSON lines (newline taken off) that follow line ``before`` of a part,
    as dicts: all at once, or — when one of them is not a short JSON
    object — line by line, refusing the first bad one as ``Bundle.rows`` does."""
    loads = orjson.loads
    try:
        if max(map(len, lines), default=0) < limit:  # with its newline, no longer than the limit
            rows = list(map(loads, lines))
            if set(map(type, rows)) <= {dict}:
                return rows
    except ValueError:
        pass
    rows = []
    for lineno, line in enumerate(lines, before + 1):
        if len(line) >= limit:
            raise _line_too_long(part, lineno, limit)
        try:
            row = loads(line + b"\n")  # as ``rows`` reads it
        except ValueError as e:  # orjson.JSONDecodeError, also for invalid UTF-8
            raise _bad_row(part, lineno, str(e)) from None
        if type(row) is not dict:
            raise _bad_row(part, lineno, f"a {type(row).__name__}, not an object")
        rows.append(row)
    return rows


def _bad_row(part: str, lineno: int, detail: str) -> BundleError:
    return BundleError(
        "bad_row",
        f"数据交换包中“{part}”第 {lineno} 行无法读取，没有导入。\n" + RESEND,
        f"part {part!r} line {lineno}: {detail}",
    )


def peek(path: Path | str) -> str:
    """The target station code from a bundle's plain header, without keys —
    for telling the worker which station a file is for before opening it."""
    try:
        with open(path, "rb") as f:
            return read_header(f).target
    except OSError as e:
        raise _unreadable(Path(path), e) from None


def _unreadable(path: Path, e: OSError) -> BundleError:
    if isinstance(e, FileNotFoundError):
        return BundleError("not_found", f"找不到数据交换包文件：\n{path}", str(e))
    return BundleError("unreadable", f"无法读取数据交换包文件：\n{path}\n\n{e.strerror or e}", str(e))


def open_bundle(
    path: Path | str,
    my_keys: StationKeys,
    trusted: Callable[[str], PeerKey | None],
    *,
    limits: Limits = DEFAULT_LIMITS,
    temp_dir: Path | str | None = None,
) -> Bundle:
    """Open a bundle addressed to this station and check everything but the
    part contents: header, every chunk's authentication, the archive's
    structure and limits, the manifest, and its signature by a trusted,
    unrevoked peer.  ``trusted(code)`` returns the imported peer key for a
    station code, or None.  The decrypted archive goes to a temporary file in
    ``temp_dir`` (the system's by default), deleted when the bundle closes."""
    path = Path(path)
    try:
        f = open(path, "rb")
    except OSError as e:
        raise _unreadable(path, e) from None
    with f:
        size = os.fstat(f.fileno()).st_size
        if size > limits.max_file_size:
            raise _too_large("too_large", "文件太大", f"{size} bytes")
        header = read_header(f)
        if header.target != my_keys.code:
            raise BundleError(
                "wrong_station",
                f"这个数据交换包是发给站点 {header.target} 的，不是本站（{my_keys.code}）的。请确认选对了文件。",
                f"bundle for {header.target}, this station is {my_keys.code}",
            )
        if header.recipient_pub != my_keys.peer.box_pub:
            raise BundleError(
                "wrong_key",
                "这个数据交换包是用本站的另一把（可能是旧的）公钥加密的，本站无法打开。\n"
                "请把本站当前的公钥文件发给对方重新导入，再请对方重新导出。",
                f"sealed to another key of {header.target}",
            )
        tmp: BinaryIO = tempfile.TemporaryFile(prefix="station-desk-bundle-", dir=temp_dir)
        try:
            try:
                open_stream(f, tmp, my_keys, header)
            except OSError as e:
                if e.errno == errno.ENOSPC:
                    raise BundleError(
                        "disk_full",
                        f"临时文件夹所在的磁盘空间不足，无法打开数据交换包（需要约 {size // 1_000_000 + 1} MB）。"
                        "请清理磁盘后重试。",
                        str(e),
                    ) from None
                raise _unreadable(path, e) from None
            tmp.flush()
            return _open_archive(path, tmp, my_keys, trusted, limits, header.target)
        except BaseException:
            tmp.close()
            raise


def _open_archive(
    path: Path,
    tmp: BinaryIO,
    my_keys: StationKeys,
    trusted: Callable[[str], PeerKey | None],
    limits: Limits,
    header_target: str,
) -> Bundle:
    tmp.seek(0)
    try:
        archive = zipfile.ZipFile(tmp)
    except _ZIP_ERRORS as e:
        raise _bad_archive(f"zip: {e}") from None
    try:
        members = _check_members(archive, limits)
        manifest, body, signature = _read_manifest(archive, members, limits)
        source = _check_signature(manifest, body, signature, trusted)
        parts = _check_manifest(manifest, my_keys, header_target, source)
        _check_parts_present(parts, members)
        return Bundle(path, tmp, archive, manifest, source, parts, limits)
    except BaseException:
        archive.close()
        raise


def _check_members(archive: zipfile.ZipFile, limits: Limits) -> dict[str, zipfile.ZipInfo]:
    """Names, count and sizes from the central directory, before any member is inflated."""
    infos = archive.infolist()
    if len(infos) > limits.max_members:
        raise _too_large("too_many_members", "包含的文件太多", f"{len(infos)} members")
    members: dict[str, zipfile.ZipInfo] = {}
    total = 0
    for info in infos:
        for name in (info.orig_filename, info.filename):
            if not _member_name_ok(name):
                raise BundleError(
                    "bad_member_name",
                    f"数据交换包中含有不安全的文件名（{name!r}），为安全起见拒绝导入。",
                    f"member name {name!r}",
                )
        name = info.filename
        if name in members:
            raise BundleError(
                "duplicate_member", "数据交换包中有重复的文件，可能被人改动过，拒绝导入。", f"duplicate member {name!r}"
            )
        if name not in (MANIFEST_NAME, SIGNATURE_NAME) and not (
            name.startswith(PART_PREFIX) and PART_NAME_RE.match(name[len(PART_PREFIX) :])
        ):
            raise BundleError(
                "unexpected_member",
                f"数据交换包中有不该出现的文件（{name}），拒绝导入。",
                f"unexpected member {name!r}",
            )
        if info.flag_bits & 0x1 or info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise _bad_archive(f"member {name!r}: encrypted or compression type {info.compress_type}")
        if info.file_size > limits.max_member_size:
            raise _too_large("member_too_large", "中有一部分太大", f"{name!r} is {info.file_size} bytes")
        if info.file_size > limits.ratio_floor and info.file_size > limits.max_ratio * max(info.compress_size, 1):
            raise _too_large(
                "compression_ratio",
                "的压缩比异常（疑似“压缩炸弹”）",
                f"{name!r}: {info.file_size} from {info.compress_size} bytes",
            )
        total += info.file_size
        if total > limits.max_total_size:
            raise _too_large("total_too_large", "解压后太大", f"more than {limits.max_total_size} bytes")
        members[name] = info
    return members


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int) -> bytes:
    try:
        with archive.open(info) as m:
            data = m.read(limit + 1)
    except _ZIP_ERRORS as e:
        raise _bad_archive(f"read {info.filename}: {e}") from None
    return data


def _read_manifest(
    archive: zipfile.ZipFile, members: dict[str, zipfile.ZipInfo], limits: Limits
) -> tuple[dict[str, Any], bytes, bytes | None]:
    info = members.get(MANIFEST_NAME)
    if info is None:
        raise _bad_manifest("no manifest")
    if info.file_size > limits.max_manifest:
        raise _too_large("member_too_large", "的清单太大", f"manifest is {info.file_size} bytes")
    body = _read_member(archive, info, limits.max_manifest)
    if len(body) > limits.max_manifest:
        raise _too_large("member_too_large", "的清单太大", "manifest is longer than declared")
    try:
        manifest = orjson.loads(body)
    except ValueError as e:
        raise _bad_manifest(f"manifest JSON: {e}") from None
    if not isinstance(manifest, dict) or not isinstance(manifest.get(CONTAINER_KEY), dict):
        raise _bad_manifest("no container section")
    sig_info = members.get(SIGNATURE_NAME)
    signature = _read_member(archive, sig_info, SIGNATURE_LEN) if sig_info is not None else None
    return manifest, body, signature


def _check_signature(
    manifest: dict[str, Any], body: bytes, signature: bytes | None, trusted: Callable[[str], PeerKey | None]
) -> PeerKey:
    section = manifest[CONTAINER_KEY]
    source = section.get("source")
    if not isinstance(source, str) or not source:
        raise _bad_manifest("no source")
    peer = trusted(source)
    if peer is None or peer.code != source:
        raise BundleError(
            "untrusted",
            f"这个数据交换包来自站点 {source}，但本机还没有导入该站点的公钥文件，无法确认它的来源。\n"
            f"请先在“数据交换”页导入站点 {source} 的公钥文件，并与对方电话核对指纹，然后再导入这个包。",
            f"no trusted key for {source}",
        )
    if peer.revoked:
        raise BundleError(
            "revoked",
            f"站点 {peer.label} 的密钥已被注销（例如电脑丢失或被盗），它签发的数据交换包一律拒绝导入。\n"
            "如有疑问，请联系街道。",
            f"key of {source} is revoked",
        )
    if signature is None or len(signature) != SIGNATURE_LEN or not peer.verify(signature, SIGNATURE_CONTEXT + body):
        stated = section.get("signer_fingerprint")
        hint = ""
        if isinstance(stated, str) and stated != peer.fingerprint:
            hint = (
                f"\n包中写明的签名密钥指纹（{stated}）与本机记录的站点 {source} 的指纹（{peer.fingerprint}）不同："
                "如果对方重新生成过密钥，请重新导入对方的公钥文件并电话核对指纹；否则这个文件可能是伪造的。"
            )
        raise BundleError(
            "bad_signature",
            f"数据交换包的签名缺失或不正确：无法确认它来自站点 {peer.label}，也可能在途中被改动过。没有导入任何数据。"
            + hint,
            "missing signature" if signature is None else f"signature does not verify with the key of {source}",
        )
    return peer


def _check_manifest(
    manifest: dict[str, Any], my_keys: StationKeys, header_target: str, source: PeerKey
) -> list[PartInfo]:
    """Structure of the signed manifest, and that it is addressed to us."""
    section = manifest[CONTAINER_KEY]
    version = section.get("version")
    if type(version) is not int:
        raise _bad_manifest("no container version")
    if version > CONTAINER_VERSION:
        raise BundleError(
            "too_new",
            "这个数据交换包由更新版本的社区一站通生成，请升级本程序后再导入。",
            f"manifest container version {version}",
        )
    if version != CONTAINER_VERSION:
        raise _bad_manifest(f"container version {version}")
    target = section.get("target")
    if target != my_keys.code or target != header_target:
        raise BundleError(
            "readdressed",
            f"这个数据交换包的签名内容写明是发给站点 {target} 的，与文件头或本站（{my_keys.code}）不符："
            "它可能被人转发或改动过，拒绝导入。",
            f"signed target {target!r}, header {header_target!r}, this station {my_keys.code!r}",
        )
    for key, code in (("source", source.code), ("target", my_keys.code)):
        value = manifest.get(key)
        if isinstance(value, str) and value != code:
            raise _bad_manifest(f"manifest {key} {value!r} differs from the container's {code!r}")
    raw_parts = section.get("parts")
    if not isinstance(raw_parts, list):
        raise _bad_manifest("parts is not a list")
    parts: list[PartInfo] = []
    seen: set[str] = set()
    for p in raw_parts:
        try:
            if not isinstance(p, dict):
                raise ValueError("part entry is not an object")
            name = _check_part_name(p.get("name"))
            kind, size, sha, lines = p.get("kind"), p.get("size"), p.get("sha256"), p.get("lines")
            if kind not in KINDS:
                raise ValueError(f"kind {kind!r}")
            if type(size) is not int or size < 0:
                raise ValueError(f"size {size!r}")
            if not isinstance(sha, str) or not _SHA256_RE.match(sha):
                raise ValueError(f"sha256 {sha!r}")
            if kind == "jsonl" and (type(lines) is not int or lines < 0):
                raise ValueError(f"lines {lines!r}")
            if kind == "bytes" and lines is not None:
                raise ValueError("lines on a bytes part")
        except ValueError as e:
            raise _bad_manifest(f"part entry: {e}") from None
        if name in seen:
            raise _bad_manifest(f"part {name!r} listed twice")
        seen.add(name)
        parts.append(PartInfo(name, kind, size, sha, lines))
    return parts


def _check_parts_present(parts: list[PartInfo], members: dict[str, zipfile.ZipInfo]) -> None:
    expected = {p.member for p in parts}
    for name in members:
        if name not in expected and name not in (MANIFEST_NAME, SIGNATURE_NAME):
            raise BundleError(
                "unexpected_member",
                f"数据交换包中有清单之外的文件（{name}），拒绝导入。",
                f"member {name!r} is not in the manifest",
            )
    for p in parts:
        info = members.get(p.member)
        if info is None:
            raise BundleError(
                "missing_member",
                f"数据交换包缺少“{p.name}”部分，文件不完整。\n" + RESEND,
                f"no member for part {p.name!r}",
            )
        if info.file_size != p.size:
            raise _part_mismatch(p.name, f"zip says {info.file_size} bytes, manifest {p.size}")
