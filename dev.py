#!/usr/bin/env python3
"""Set up and run Station Desk from a fresh clone, on Linux or Windows.

    python3 dev.py run  [app arguments]    create .venv on first use, then open the app
    python3 dev.py test [pytest arguments] create .venv with test tools, check layers, lint and types, run all tests
    python3 dev.py test -m "not slow"      the quick loop while working (see README, Tests)

Tests run on one worker process per core (pytest-xdist, ``-n auto``); give
``-n 0`` (or your own ``-n``) to choose.

The virtual environment is (re)installed whenever pyproject.toml changes.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PY = BIN / ("python.exe" if os.name == "nt" else "python")


def ensure_venv(extra: str) -> None:
    if sys.version_info < (3, 10):
        sys.exit("社区一站通需要 Python 3.10 或更新版本。")
    if not PY.exists():
        print("首次使用：正在创建虚拟环境 .venv …", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    want = hashlib.sha256((ROOT / "pyproject.toml").read_bytes() + extra.encode()).hexdigest()
    stamp = VENV / f".installed-{extra or 'app'}"
    if stamp.exists() and stamp.read_text() == want:
        return
    print("正在安装依赖（只在首次或依赖变化时进行）…", flush=True)
    target = f".[{extra}]" if extra else "."
    subprocess.check_call([str(PY), "-m", "pip", "install", "-q", "--upgrade", "pip"], cwd=ROOT)
    subprocess.check_call([str(PY), "-m", "pip", "install", "-q", "-e", target], cwd=ROOT)
    stamp.write_text(want)


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in ("run", "test"):
        print(__doc__)
        return 2
    cmd, rest = argv[0], argv[1:]
    if cmd == "run":
        ensure_venv("")
        return subprocess.call([str(PY), "-m", "desktop", *rest], cwd=ROOT)
    ensure_venv("test")
    env = dict(os.environ)
    env.setdefault("QT_QPA_PLATFORM", "offscreen")
    print("检查分层规则 (import-linter) …", flush=True)
    rc = subprocess.call([str(BIN / "lint-imports")], cwd=ROOT, env=env)
    if rc:
        return rc
    print("检查代码 (ruff) …", flush=True)
    rc = subprocess.call([str(PY), "-m", "ruff", "check", "desktop", "db", "tests", "dev.py"], cwd=ROOT, env=env)
    if rc:
        return rc
    print("检查代码格式 (ruff format --check；改正用 .venv 里的 ruff format) …", flush=True)
    rc = subprocess.call(
        [str(PY), "-m", "ruff", "format", "--check", "desktop", "db", "tests", "dev.py"], cwd=ROOT, env=env
    )
    if rc:
        return rc
    print("检查类型 (mypy) …", flush=True)
    rc = subprocess.call([str(PY), "-m", "mypy"], cwd=ROOT, env=env)  # what and how: [tool.mypy] in pyproject.toml
    if rc:
        return rc
    return subprocess.call([str(PY), "-m", "pytest", *parallel(rest)], cwd=ROOT, env=env)


def parallel(args: list[str]) -> list[str]:
    """One pytest worker per core unless the arguments choose (``-n``,
    ``--numprocesses``, ``--pdb`` or ``-p no:xdist``); tests are handed out as
    workers free up, so one long file does not hold the run back."""
    chosen = any(
        a in ("-n", "--numprocesses", "--pdb", "no:xdist") or a.startswith(("-n", "--numprocesses=")) for a in args
    )
    return args if chosen else ["-n", "auto", "--dist", "worksteal", *args]


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
