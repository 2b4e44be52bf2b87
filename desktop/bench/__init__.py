"""Benchmarks that print figures (``python -m desktop bench --json``).

Each benchmark is a function taking the prepared context and returning a dict
of figures; later areas append theirs to ``BENCHES``.  Figures are measured,
not asserted: targets live in the issues and the closing notes.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable


@dataclass
class BenchContext:
    db_url: str
    n_residents: int
    username: str
    password: str


def _prepare(n_residents: int, keep_dir: str | None, db_url: str | None) -> tuple[BenchContext, dict[str, Any]]:
    from db.engine import open_database
    from desktop.services import accounts, demo

    figures: dict[str, Any] = {}
    if db_url is None:
        folder = Path(keep_dir) if keep_dir else Path(tempfile.mkdtemp(prefix="station-bench-"))
        folder.mkdir(parents=True, exist_ok=True)
        db_url = str(folder / f"bench-{n_residents}.sqlite3")
    db = open_database(db_url)
    try:
        if accounts.station_info(db) is None:
            t = time.perf_counter()
            user, password = demo.create_demo_station(db, n_residents=n_residents, seed=1)
            figures[f"demo_{n_residents}_residents_s"] = round(time.perf_counter() - t, 2)
        else:
            user, password = demo.DEMO_ADMIN, demo.DEMO_PASSWORD
    finally:
        db.close()
    return BenchContext(db_url, n_residents, user, password), figures


def bench_open_and_login(ctx: BenchContext) -> dict[str, Any]:
    from db.engine import open_database
    from desktop.services import accounts

    opens, logins = [], []
    for _ in range(3):
        t = time.perf_counter()
        db = open_database(ctx.db_url)
        opens.append(time.perf_counter() - t)
        t = time.perf_counter()
        accounts.authenticate(db, ctx.username, ctx.password)
        logins.append(time.perf_counter() - t)
        db.close()
    return {
        "open_db_ms": round(statistics.median(opens) * 1000, 1),
        "login_ms": round(statistics.median(logins) * 1000, 1),
    }


# The floor for start-up and memory: a bare Qt window in a fresh process, the
# same way the probe measures the app (spawn to painted, then RSS). The script
# lives with the Qt code; it is run by path, so none of our packages load.
BARE_QT_PROBE = Path(__file__).resolve().parents[1] / "ui" / "bare_probe.py"


def bench_startup(ctx: BenchContext) -> dict[str, Any]:
    """Process start to a logged-in, painted main window, in a fresh process,
    beside a bare Qt window started the same way (the floor)."""
    env = dict(os.environ)
    if not env.get("DISPLAY"):
        env["QT_QPA_PLATFORM"] = "offscreen"
    # The app ships compiled (PyInstaller); a developer's PYTHONDONTWRITEBYTECODE
    # would have every run compile our ~60 modules from source (~0.2 s), which
    # no user pays.  A first run of each, not counted, writes the bytecode and
    # warms the file cache for both alike.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    app_probe = [sys.executable, "-m", "desktop", "--db", ctx.db_url, "startup-probe"]
    app_probe += ["--user", ctx.username, "--password", ctx.password]
    bare, runs = [], []
    for i in range(6):  # the floor and the app by turns: a busy moment hits both
        spawned = time.time()
        out = subprocess.run(
            [sys.executable, str(BARE_QT_PROBE)], capture_output=True, text=True, env=env, timeout=120, check=True
        )
        r = json.loads(out.stdout.strip().splitlines()[-1])
        if i:
            bare.append((r["ready_at"] - spawned, r["rss_mb"]))
        spawned = time.time()
        out = subprocess.run(app_probe, capture_output=True, text=True, env=env, timeout=120)
        if out.returncode != 0:
            raise RuntimeError(f"startup probe failed: {out.stderr[-2000:]}")
        r = json.loads(out.stdout.strip().splitlines()[-1])
        r["ready_s"] = r["ready_at"] - spawned
        r["sign_in_s"] = r["sign_in_at"] - spawned
        r["overview_s"] = r["overview_loaded_at"] - spawned
        r["figures_s"] = r["overview_figures_at"] - spawned
        if i:
            runs.append(r)
    bare_s = statistics.median(b[0] for b in bare)
    bare_mb = statistics.median(b[1] for b in bare)
    # What the start-up waits for besides Python: SQLite's integrity check of
    # the whole file (run beside the imports; an encrypted file costs more).
    check_s = None
    if "://" not in ctx.db_url:
        from db import precheck

        t = time.perf_counter()
        precheck.check(Path(ctx.db_url))
        check_s = round(time.perf_counter() - t, 3)
    ready = sorted(r["ready_s"] for r in runs)
    rss_search = statistics.median(r["rss_mb_residents_after_search"] for r in runs)
    return {
        "startup_to_main_window_s_median": round(statistics.median(ready), 3),
        "startup_to_main_window_s_max": round(ready[-1], 3),
        "startup_floor_bare_qt_window_s_median": round(bare_s, 3),
        "startup_vs_floor_x": round(statistics.median(ready) / bare_s, 2),
        # what a person sees first: the sign-in, while the integrity check goes on
        "startup_to_sign_in_s_median": round(statistics.median(r["sign_in_s"] for r in runs), 3),
        "startup_integrity_check_alone_s": check_s,
        # the 概览 page's figures on screen; then every start-up job done
        # (the resident search copy warmed behind them)
        "startup_to_overview_figures_s_median": round(statistics.median(r["figures_s"] for r in runs), 3),
        "startup_to_worker_idle_s_median": round(statistics.median(r["overview_s"] for r in runs), 3),
        "rss_mb_main_window": round(statistics.median(r["rss_mb"] for r in runs), 1),
        "rss_mb_after_overview": round(statistics.median(r["rss_mb_after_overview"] for r in runs), 1),
        "rss_mb_residents_after_search": round(rss_search, 1),
        "rss_floor_bare_qt_window_mb": round(bare_mb, 1),
    }


def fts5_trigram_floor(db_url: str, queries: list[str]) -> list[float]:
    """The floor for search: the same keystrokes against an SQLite FTS5
    trigram table over the same fields (a copy in memory), first 50 rows;
    milliseconds per keystroke."""
    import sqlite3

    from sqlalchemy import select

    from db.engine import open_database
    from db.models import Resident

    db = open_database(db_url)
    try:
        with db.session() as s:
            rows = s.execute(
                select(
                    Resident.name,
                    Resident.pinyin,
                    Resident.initials,
                    Resident.doc_number,
                    Resident.phone,
                    Resident.address_text,
                )
            ).all()
    finally:
        db.close()
    con = sqlite3.connect(":memory:")
    con.execute("CREATE VIRTUAL TABLE f USING fts5(t, tokenize='trigram')")
    con.executemany("INSERT INTO f VALUES (?)", (("\x1f".join(v or "" for v in r).lower(),) for r in rows))
    con.commit()
    times = []
    for q in queries:
        for i in range(1, len(q) + 1):
            part = q[:i].lower()
            # three characters and more use the trigram index; shorter ones scan until 50 rows
            sql, arg = (
                ("SELECT rowid FROM f WHERE f MATCH ? LIMIT 50", '"' + part + '"')
                if len(part) >= 3
                else ("SELECT rowid FROM f WHERE t LIKE ? LIMIT 50", f"%{part}%")
            )
            t = time.perf_counter()
            con.execute(sql, (arg,)).fetchall()
            times.append((time.perf_counter() - t) * 1000)
    con.close()
    return sorted(times)


def bench_search(ctx: BenchContext) -> dict[str, Any]:
    """Search as you type: every keystroke of a realistic mix of queries."""
    import random

    from sqlalchemy import select

    from db.engine import open_database
    from db.models import Resident
    from desktop.services.search import ResidentIndex

    db = open_database(ctx.db_url)
    try:
        with db.session() as s:
            sample = s.execute(
                select(Resident.name, Resident.initials, Resident.doc_number, Resident.phone).limit(5000)
            ).all()
        r = random.Random(7)
        queries: list[str] = []
        for _ in range(60):
            name, initials, doc, phone = r.choice(sample)
            queries += [
                name[:2],
                initials[:3],
                (doc or "")[-4:],
                (doc or "")[-6:],
                (phone or "13800000000")[-4:],
                (phone or "13800000000")[:7],
            ]
        index = ResidentIndex(db)
        t = time.perf_counter()
        index.warm()  # as the window does after sign-in: blobs, orders, what the fields hold
        index.search("张")
        load_s = time.perf_counter() - t
        times = []
        for q in queries:
            for i in range(1, len(q) + 1):  # each keystroke
                t = time.perf_counter()
                index.search(q[:i])
                times.append((time.perf_counter() - t) * 1000)
        times.sort()
        floor = fts5_trigram_floor(ctx.db_url, queries)
        return {
            "search_keystrokes": len(times),
            "search_ms_p50": round(times[len(times) // 2], 2),
            "search_ms_p95": round(times[int(len(times) * 0.95)], 2),
            "search_ms_max": round(times[-1], 2),
            "search_floor_fts5_trigram_ms_p50": round(floor[len(floor) // 2], 2),
            "search_floor_fts5_trigram_ms_p95": round(floor[int(len(floor) * 0.95)], 2),
            "search_index_load_s": round(load_s, 2),
            "search_index_mb": round(index.memory_bytes() / 2**20, 1),
        }
    finally:
        db.close()


RECEIPT_PROBE = """
import json, sys, time
t0 = time.perf_counter()
from db.engine import open_database
from desktop import paperwork
from desktop.documents import pdf
db = open_database(sys.argv[1])
from sqlalchemy import select
from db.models import Matter
with db.session() as s:
    ids = list(s.scalars(select(Matter.id).order_by(Matter.accepted_at.desc()).limit(30)))
t1 = time.perf_counter()
doc = paperwork.receipt_document(db, ids[0], "A4")
first_pdf = pdf.render(doc, paperwork.fonts.resolve())
first = time.perf_counter() - t1
warm = {}
for layout in ("A4", "A5", "80mm"):
    times = []
    for mid in ids[1:]:
        t = time.perf_counter()
        pdf.render(paperwork.receipt_document(db, mid, layout), paperwork.fonts.resolve())
        times.append(time.perf_counter() - t)
    times.sort()
    warm[layout] = (times[len(times) // 2], times[int(len(times) * 0.95)])
print(json.dumps({"first_ms": first * 1000, "warm": warm, "bytes": len(first_pdf)}))
"""


def bench_receipts(ctx: BenchContext) -> dict[str, Any]:
    """Receipt PDF: the first in a fresh process (imports, font loading), then
    warm ones per layout, each from the database to PDF bytes in memory."""
    from sqlalchemy import func, select

    from db.engine import open_database
    from db.models import Matter
    from desktop.services import accounts, counter
    from desktop.services.demo import counter as demo_counter

    db = open_database(ctx.db_url)
    try:
        with db.session() as s:
            n = s.scalar(select(func.count()).select_from(Matter)) or 0
        if n < 30:  # a benchmark database made before the counter existed
            demo_counter.fill_counter(db, n_matters=200)
        assert accounts.station_info(db) is not None and counter.catalogue(db)
    finally:
        db.close()
    out = subprocess.run(
        [sys.executable, "-c", RECEIPT_PROBE, ctx.db_url], capture_output=True, text=True, check=True, timeout=300
    )
    r = json.loads(out.stdout)
    figures = {"receipt_first_ms": round(r["first_ms"], 1), "receipt_pdf_bytes": r["bytes"]}
    for layout, (p50, p95) in r["warm"].items():
        figures[f"receipt_{layout}_warm_ms_p50"] = round(p50 * 1000, 1)
        figures[f"receipt_{layout}_warm_ms_p95"] = round(p95 * 1000, 1)
    return figures


def bench_certificates(ctx: BenchContext) -> dict[str, Any]:
    """Certificate PDF (database to bytes, warm) and catalogue search per keystroke."""
    from sqlalchemy import select

    from db.engine import open_database
    from db.models import Resident
    from desktop import paperwork
    from desktop.documents import pdf
    from desktop.services import accounts, certificates as certs

    db = open_database(ctx.db_url)
    try:
        actor = accounts.authenticate(db, ctx.username, ctx.password)
        items = certs.catalogue(db)
        queries = [
            "居住",
            "亲属",
            "关系证明",
            "无犯罪",
            "单身",
            "健在",
            "困难",
            "jz",
            "死亡",
            "我要开个单身证明",
            "证件遗失",
            "党员报到",
        ]
        t = time.perf_counter()
        certs.search(items, "jz")  # the first Latin query loads pypinyin's dictionary (the app pre-loads it)
        first_ms = (time.perf_counter() - t) * 1000
        times = []
        for _ in range(20):
            for q in queries:
                for i in range(1, len(q) + 1):
                    t = time.perf_counter()
                    certs.search(items, q[:i])
                    times.append((time.perf_counter() - t) * 1000)
        times.sort()
        t_res = next(t for t in items if t.code == "R01")
        with db.session() as s:
            rid = s.scalar(select(Resident.id).where(Resident.deceased.is_(False)).limit(1))
        assert rid is not None, "the benchmark database has residents"
        cid = certs.issue(db, actor, rid, t_res.id, {"since": "2015年3月", "purpose": "基准测试"}, t_res.materials).id
        font = paperwork.fonts.resolve()
        pdf.render(paperwork.certificate_document(db, actor, cid), font)  # warm up
        pdf_times = []
        for _ in range(20):
            t = time.perf_counter()
            pdf.render(paperwork.certificate_document(db, actor, cid), font)
            pdf_times.append((time.perf_counter() - t) * 1000)
        pdf_times.sort()
        certs.void(db, actor, cid, "基准测试用，作废")
        return {
            "cert_catalogue_search_first_latin_ms": round(first_ms, 1),
            "cert_catalogue_search_ms_p95": round(times[int(len(times) * 0.95)], 3),
            "cert_catalogue_search_ms_max": round(times[-1], 3),
            "certificate_pdf_warm_ms_p50": round(pdf_times[len(pdf_times) // 2], 1),
            "certificate_pdf_warm_ms_p95": round(pdf_times[int(len(pdf_times) * 0.95)], 1),
        }
    finally:
        db.close()


def bench_volunteers(ctx: BenchContext) -> dict[str, Any]:
    from desktop.bench.volunteers import bench_volunteers as run

    return run(ctx)


def bench_backups(ctx: BenchContext) -> dict[str, Any]:
    from desktop.bench.backups import bench_backups as run

    return run(ctx)


def bench_import(ctx: BenchContext) -> dict[str, Any]:
    from desktop.bench.ledger import bench_import as run

    return run(ctx)


def bench_reports(ctx: BenchContext) -> dict[str, Any]:
    from desktop.bench.reports import bench_reports as run

    return run(ctx)


def bench_sync(ctx: BenchContext) -> dict[str, Any]:
    from desktop.bench.sync import bench_sync as run

    return run(ctx)


BENCHES: list[Callable[[BenchContext], dict[str, Any]]] = [
    bench_open_and_login,
    bench_startup,
    bench_search,
    bench_receipts,
    bench_certificates,
    bench_volunteers,
    bench_backups,
    bench_import,
    bench_reports,
    bench_sync,
]


def bench_names() -> list[str]:
    """The names ``--only`` accepts: each function's name without ``bench_``."""
    return [b.__name__.removeprefix("bench_") for b in BENCHES]


def run_all(
    *, n_residents: int = 100_000, keep_dir: str | None = None, db_url: str | None = None, only: list[str] | None = None
) -> dict[str, Any]:
    names = bench_names()
    unknown = sorted(set(only or ()) - set(names))
    if unknown:
        from db.errors import ValidationError

        raise ValidationError("only", f"没有名为 {'、'.join(unknown)} 的基准测试；可选：{'、'.join(names)}。")
    ctx, figures = _prepare(n_residents, keep_dir, db_url)
    figures["residents"] = n_residents
    for name, bench in zip(names, BENCHES, strict=True):
        if not only or name in only:
            figures.update(bench(ctx))
    return figures
