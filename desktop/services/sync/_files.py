"""Small file helpers for the sync package: atomic writes that survive a power
cut or a pulled USB stick.  Kept here (not imported from ``db``) so the key and
bundle code stays free of the database layer."""

from __future__ import annotations

import os
from pathlib import Path


def fsync_dir(folder: Path) -> None:
    """Make a rename in ``folder`` durable.  Windows cannot open a directory for
    fsync, and NTFS journals the rename itself, so it is skipped there."""
    if os.name == "nt":
        return
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some file systems (e.g. FAT on a stick under Linux) refuse; the data is fsynced
    finally:
        os.close(fd)


def write_atomic(path: Path, data: bytes, *, private: bool = False) -> None:
    """Write ``data`` to ``path`` so that the name holds either the old or the
    complete new content: temporary file beside it, fsync, ``os.replace``.

    ``private`` creates the file readable by its owner only (0600) where the
    OS has POSIX modes; on Windows the file inherits the folder's ACL.
    """
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    mode = 0o600 if private else 0o666
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_BINARY", 0)
    fd = os.open(tmp, flags, mode)
    try:
        if private and os.name != "nt":
            os.fchmod(fd, 0o600)  # O_CREAT's mode does not apply to an existing leftover .tmp
        with os.fdopen(fd, "wb") as f:
            fd = -1
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if fd >= 0:
            os.close(fd)
        try:
            tmp.unlink()
        except OSError:
            pass
        raise
    fsync_dir(path.parent)
