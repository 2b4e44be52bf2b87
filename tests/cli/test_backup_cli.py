"""Backups from the command line: make one, damage the database, restore it."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.helpers import run


def damage(path: Path) -> None:
    data = bytearray(path.read_bytes())
    for i in range(8192, len(data) - 4096, 4096):  # every page after the first two: garbage
        data[i : i + 64] = b"\xde\xad\xbe\xef" * 16
    path.write_bytes(bytes(data))


def test_backup_damage_and_restore(tmp_path):
    db = tmp_path / "station.sqlite3"
    run("--db", db, "demo", "--residents", "120")
    made = json.loads(run("--db", db, "backup", "create", "--json").stdout)
    assert made["verified"] and made["residents"] == 120 and Path(made["path"]).exists()
    listed = json.loads(run("--db", db, "backup", "list", "--json").stdout)
    assert listed[0]["path"] == made["path"]

    damage(db)
    p = run("--db", db, "report", "--json", ok=False)
    assert p.returncode == 2 and "损坏" in p.stderr  # a message, not a traceback
    # list works without opening the damaged file
    assert json.loads(run("--db", db, "backup", "list", "--json").stdout)[0]["path"] == made["path"]
    out = json.loads(run("--db", db, "backup", "restore", "--newest", "--json").stdout)
    aside = Path(out["set_aside"])
    assert aside.exists() and aside.parent == tmp_path  # the damaged file is kept, renamed
    report = json.loads(run("--db", db, "report", "--json").stdout)
    assert report["sections"]["residents"]
    # a file that is not a backup changes nothing
    (tmp_path / "junk.sqlite3").write_bytes(b"not a database")
    before = db.read_bytes()
    p = run("--db", db, "backup", "restore", tmp_path / "junk.sqlite3", ok=False)
    assert p.returncode == 2 and db.read_bytes() == before
