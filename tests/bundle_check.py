"""Build the one-folder bundle with PyInstaller and prove it runs without the
source tree: create a demo station (resources, migrations, catalogues) and
paint the main window offscreen. Prints the bundle's size, the size of the
folder zipped (deflate, as it is handed out) and the start time, and fails
when the folder is over MAX_FOLDER_MB or its zip over MAX_ZIP_MB.

    .venv/bin/pip install -e .[build]
    .venv/bin/python tests/bundle_check.py          (CI runs this after the tests)
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MAX_FOLDER_MB = 220  # issue 19: a bare PySide6 bundle is ~160 MB
MAX_ZIP_MB = 100


def folder_mb(folder: Path) -> float:
    return sum(f.lstat().st_size for f in folder.rglob("*") if f.is_file() and not f.is_symlink()) / 2**20


def zip_mb(folder: Path, into: Path) -> float:
    """The folder zipped as it is handed out (deflate, Python's zipfile;
    a symbolic link stored as a link, as Info-ZIP does)."""
    import zipfile

    out = into / (folder.name + ".zip")
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for f in sorted(folder.rglob("*")):
            name = str(f.relative_to(folder.parent))
            if f.is_symlink():
                info = zipfile.ZipInfo(name)
                info.external_attr = 0o120777 << 16
                z.writestr(info, os.readlink(f))
            else:
                z.write(f, name)
    size = out.stat().st_size / 2**20
    out.unlink()
    return size


def main() -> int:
    work = Path(tempfile.mkdtemp(prefix="station-bundle-"))
    try:
        t = time.perf_counter()
        subprocess.run(
            [
                sys.executable,
                "-m",
                "PyInstaller",
                "--noconfirm",
                "--log-level",
                "ERROR",
                "--distpath",
                str(work / "dist"),
                "--workpath",
                str(work / "build"),
                str(ROOT / "build.spec"),
            ],
            check=True,
            cwd=work,
        )
        build_s = time.perf_counter() - t
        app_dir = work / "dist" / "StationDesk"
        exe = app_dir / ("StationDesk.exe" if os.name == "nt" else "StationDesk")
        cli = app_dir / "StationDeskCLI.exe" if os.name == "nt" else exe  # Linux: one program does both
        size_mb = folder_mb(app_dir)
        zipped_mb = zip_mb(app_dir, Path(tempfile.mkdtemp(dir=work)))
        # Run it from somewhere else, with no Python source tree around it.
        env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
        env.update(STATION_DESK_HOME=str(work / "home"), QT_QPA_PLATFORM="offscreen")
        db = work / "station.sqlite3"

        def run(*args: str, db: Path | None = db, env: dict = env, program: Path = cli) -> subprocess.CompletedProcess:
            where = ["--db", str(db)] if db is not None else []
            out = subprocess.run(
                [str(program), *where, *args], env=env, cwd=work, capture_output=True, text=True, timeout=300
            )
            if out.returncode != 0:  # say why, not only that it failed
                print(out.stdout[-4000:], out.stderr[-8000:], sep="\n", file=sys.stderr)
                raise SystemExit(f"the bundle failed: {' '.join(args[:1])} exited {out.returncode}")
            return out

        login = json.loads(run("demo", "--residents", "300", "--json").stdout)["login"]
        spawned = time.time()
        out = run("startup-probe", "--user", login["username"], "--password", login["password"], program=exe)
        probe = json.loads(out.stdout.strip().splitlines()[-1])
        # Documents need reportlab, its barcode package and the font from inside the bundle.
        pdf = work / "report.pdf"
        run("report", "--pdf", str(pdf), "--xlsx", str(work / "report.xlsx"))
        if not pdf.read_bytes().startswith(b"%PDF"):
            raise SystemExit("the bundle wrote no PDF")
        # Sync needs cryptography and orjson from inside the bundle: a hub trusts the
        # station, the station exports everything, the hub imports it (after a backup).
        hub = work / "hub.sqlite3"
        run(
            "init",
            "--station-code",
            "340304000",
            "--station-name",
            "东风街道",
            "--level",
            "street",
            "--admin",
            "admin:admin12345",
            db=hub,
        )
        run("keys", "export", "--out", str(work / "station.peer.json"))
        run("keys", "export", "--out", str(work / "hub.peer.json"), db=hub)
        run("peers", "trust", str(work / "station.peer.json"), db=hub)
        run("peers", "trust", str(work / "hub.peer.json"))
        t = time.perf_counter()
        sent = json.loads(
            run("bundle", "export", "--to", "340304000", "--out", str(work / "b.sdbundle"), "--full", "--json").stdout
        )
        got = json.loads(run("bundle", "import", str(work / "b.sdbundle"), "--json", db=hub).stdout)
        sync_s = time.perf_counter() - t
        if got["new"] + got["unchanged"] != sent["rows"] or got["new"] < 300 or not got["backup"]:
            raise SystemExit(f"the bundle's sync went wrong: sent {sent['rows']}, got {got}")
        # A backup, the database damaged, the bundle refusing it with a message, the backup restored.
        t = time.perf_counter()
        made = json.loads(run("backup", "create", "--json").stdout)
        backup_s = time.perf_counter() - t
        data = bytearray(db.read_bytes())
        for i in range(8192, len(data) - 4096, 4096):
            data[i : i + 64] = b"\xde\xad\xbe\xef" * 16
        db.write_bytes(bytes(data))
        broken = subprocess.run(
            [str(cli), "--db", str(db), "report", "--json"],
            env=env,
            cwd=work,
            capture_output=True,
            text=True,
            timeout=300,
        )
        if broken.returncode != 2 or "损坏" not in broken.stderr:
            raise SystemExit(f"a damaged database was not refused with a message: {broken.returncode} {broken.stderr}")
        t = time.perf_counter()
        run("backup", "restore", "--newest")
        restore_s = time.perf_counter() - t
        run("report", "--json")
        # Portable mode: a portable.txt beside the program keeps the data in data/ beside it.
        (app_dir / "portable.txt").write_text("")
        portable_env = {k: v for k, v in env.items() if k != "STATION_DESK_HOME"}
        run("demo", "--residents", "20", "--json", db=None, env=portable_env)
        if not any((app_dir / "data").glob("*.sqlite3")):
            raise SystemExit("portable mode did not keep the database beside the program")
        figures = {
            "bundle_build_s": round(build_s, 1),
            "bundle_size_mb": round(size_mb, 1),
            "bundle_zip_mb": round(zipped_mb, 1),
            "bundle_start_to_main_window_s": round(probe["ready_at"] - spawned, 2),
            "bundle_rss_mb": probe["rss_mb"],
            "bundle_sync_full_rows": sent["rows"],
            "bundle_sync_export_import_s": round(sync_s, 2),
            "bundle_backup_s": round(backup_s, 2),
            "bundle_backup_residents": made["residents"],
            "bundle_restore_after_damage_s": round(restore_s, 2),
        }
        print(json.dumps(figures))
        if size_mb > MAX_FOLDER_MB or zipped_mb > MAX_ZIP_MB:
            raise SystemExit(
                f"the bundle is too large: {size_mb:.1f} MB (at most {MAX_FOLDER_MB}), "
                f"zipped {zipped_mb:.1f} MB (at most {MAX_ZIP_MB})"
            )
        return 0
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
