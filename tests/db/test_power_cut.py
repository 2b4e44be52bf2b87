"""Power cuts: a process writing through the services (registering residents,
accepting matters) is killed with SIGKILL at random moments, many times.
Afterwards the database passes ``PRAGMA integrity_check`` and holds every
record the writer reported as committed.  The same for a process making
backups: no damaged backup ever appears under a real name."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from db import backup, keys
from db.engine import open_database

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")

ROOT = Path(__file__).resolve().parents[2]

WRITER = r"""
import sys, uuid
from datetime import date, timedelta
from db.engine import open_database
from desktop.services import counter, residents
from desktop.services.context import Actor
from desktop.services.idnumbers import make_ric
from desktop.services.residents import ResidentForm

path, start, account = sys.argv[1], int(sys.argv[2]), uuid.UUID(sys.argv[3])
db = open_database(path)
actor = Actor(account, "desk1", "李前台", "desk", "340304001")
t = next(m for m in counter.catalogue(db) if m.name.startswith("居住证申领"))
print("ready", flush=True)
i = start
while True:
    form = ResidentForm(name=f"断电{i}", doc_number=make_ric("340304", date(1940, 1, 1) + timedelta(days=i), i % 1000))
    rid = residents.register(db, actor, form, duplicate_reason="test")
    print(f"R {rid}", flush=True)
    a = counter.accept(db, actor, rid, t.id, t.required_materials)
    print(f"M {a.receipt_no} {a.matter_id}", flush=True)
    i += 1
"""

BACKUPS = r"""
import sys
from db import backup, keys
print("ready", flush=True)
while True:
    info = backup.make_backup(sys.argv[1], sys.argv[2], "auto")
    print(info.path.name, flush=True)
"""


def _spawn(code: str, *args: str) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return subprocess.Popen(
        [sys.executable, "-c", code, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT, env=env
    )


def _run_and_kill(proc: subprocess.Popen, rng: random.Random, max_delay: float, after_first: bool = False) -> list[str]:
    """Wait for "ready" (and with ``after_first`` for its first finished piece
    of work, so a busy machine still cuts a writer that has written), let it
    work a random moment, SIGKILL; the complete lines it printed."""
    assert proc.stdout is not None
    first = proc.stdout.readline()
    if first != b"ready\n":
        proc.kill()
        _, err = proc.communicate()
        pytest.fail("writer did not start:\n" + err.decode(errors="replace"))
    done = proc.stdout.readline().decode("utf-8") if after_first else ""
    time.sleep(rng.uniform(0.0, max_delay))
    proc.send_signal(signal.SIGKILL)
    out, err = proc.communicate()
    assert proc.returncode == -signal.SIGKILL, err.decode(errors="replace")
    text = done + out.decode("utf-8", errors="replace")
    lines = text.split("\n")
    return [x for x in lines[:-1] if x]  # the last piece may be a line cut in half


@pytest.fixture
def station_path(tmp_path):
    from desktop.services import accounts

    path = tmp_path / "station.sqlite3"
    db = open_database(path)
    admin = accounts.setup_station(
        db,
        code="340304001",
        name="幸福里社区党群服务中心",
        level="community",
        admin_username="admin",
        admin_password="admin123",
    )
    desk = accounts.create_account(db, admin, username="desk1", display_name="李前台", role="desk", password="desk1234")
    from desktop.services import counter

    counter.ensure_catalogue(db)
    db.close()
    return path, str(desk)  # create_account returns the account's id


def _check(path: Path, residents: set[str], receipts: dict[str, str]) -> None:
    con = keys.connect(path, keys.station_key(path))
    try:
        assert con.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        have = {r[0] for r in con.execute("SELECT lower(id) FROM residents")}
        want = {x.replace("-", "") for x in residents}
        assert want <= have, f"{len(want - have)} reported residents missing"
        got = dict(con.execute("SELECT receipt_no, lower(id) FROM matters").fetchall())
        for receipt, mid in receipts.items():
            assert got.get(receipt) == mid.replace("-", ""), f"matter {receipt} missing"
    finally:
        con.close()


@pytest.mark.slow
def test_killed_writer_never_loses_a_committed_record(station_path):
    path, account = station_path
    rng = random.Random(20261123)
    residents: set[str] = set()
    receipts: dict[str, str] = {}
    start = 0
    rounds = 20
    for _ in range(rounds):
        lines = _run_and_kill(_spawn(WRITER, str(path), str(start), account), rng, 0.8, after_first=True)
        for line in lines:
            kind, *rest = line.split()
            if kind == "R":
                residents.add(rest[0])
            elif kind == "M":
                receipts[rest[0]] = rest[1]
        assert len(lines) < 2 * 900
        start += 900  # fresh ID numbers (birth dates) for the next writer
        _check(path, residents, receipts)
    assert len(residents) >= rounds and len(receipts) >= rounds // 2  # it really worked between the cuts
    db = open_database(path)  # the app's own checks pass, and it can go on writing
    try:
        with db.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA integrity_check").all() == [("ok",)]
    finally:
        db.close()
    _check(path, residents, receipts)


@pytest.mark.slow
def test_killed_backup_never_leaves_a_damaged_backup_under_a_real_name(station_path, tmp_path):
    path, _ = station_path
    folder = tmp_path / "bk"
    rng = random.Random(7)
    made: list[str] = []
    for _ in range(10):
        made += _run_and_kill(_spawn(BACKUPS, str(path), str(folder)), rng, 0.3)
    listed = backup.list_backups(folder)
    assert {b.path.name for b in listed} >= set(made)
    for b in listed:  # everything under a real name is a complete, verified backup
        backup.verify(b.path)
    # leftovers of a cut are only temporary names, cleared by the next backup
    backup.make_backup(path, folder, "manual")
    assert not [p for p in folder.iterdir() if p.name.endswith(".part") or p.name.endswith("-journal")]
