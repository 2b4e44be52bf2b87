"""Running ``python -m desktop`` the way a scheduled job would."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run(*args, ok: bool = True) -> subprocess.CompletedProcess:
    """The command in a subprocess; with ``ok`` it must exit 0."""
    p = subprocess.run(
        [sys.executable, "-m", "desktop", *map(str, args)], cwd=ROOT, capture_output=True, text=True, timeout=180
    )
    if ok:
        assert p.returncode == 0, p.stderr
    return p
