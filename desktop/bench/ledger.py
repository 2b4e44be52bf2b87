"""Benchmark: checking and importing a 10 000-row resident ledger (.xlsx).

``bench_import(ctx)`` writes a realistic ledger into a temporary folder — a
title row above the header, names (a few rare characters), valid ID numbers,
phones, addresses, special-group tags, about 3 % rows of residents already in
the database (updated) and about 2 % bad rows of the kinds met in practice —
then times a dry run and a real import into a copy of the benchmark database
(SQLite's backup API), so the benchmark database itself never changes.
Both timings include reading the file.
"""

from __future__ import annotations

import random
import shutil
import tempfile
import time
from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

N_ROWS = 10_000
HEADERS = [
    "序号",
    "姓名",
    "性别",
    "身份证号码",
    "出生日期",
    "联系电话",
    "民族",
    "居住类型",
    "小区",
    "楼栋",
    "单元",
    "房号",
    "网格",
    "人员类别",
    "备注",
]
BAD_KINDS = ("checksum", "phone", "tag", "gender", "scientific", "date")


def write_ledger(
    path: Path,
    n_rows: int = N_ROWS,
    *,
    seed: int = 11,
    existing: Sequence[tuple[str, str]] = (),
    today: date | None = None,
) -> int:
    """Write an .xlsx ledger of ``n_rows`` data rows; ``existing`` holds
    (name, ID number) of residents already registered, some of which the
    ledger repeats with a new phone.  Returns the number of deliberately bad rows."""
    from openpyxl import Workbook

    from desktop.services import demo

    today = today or date.today()
    g = demo._Gen(seed, today)
    g.used_ids.update(num for _, num in existing)
    r = random.Random(seed)
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("居民台账")
    ws.append(["示范社区居民台账（基准测试）"])
    ws.append(HEADERS)
    repeat = list(existing[: int(n_rows * 0.03)])
    bad = 0
    for i in range(1, n_rows + 1):
        estate, grid = r.choice(demo.ESTATES)
        gender = r.choice([1, 2])
        age = r.randrange(0, 95)
        birth = g.birth(age)
        name = g.name(g.surname(), gender)
        number = g.ric(birth, gender)
        phone = g.phone() if age >= 16 and r.random() < 0.9 else ""
        tags = []
        if age >= 80:
            tags.append("高龄")
        if age >= 60 and r.random() < 0.15:
            tags.append(r.choice(["独居", "空巢"]))
        if r.random() < 0.03:
            tags.append(r.choice(["低保", "残疾人", "优抚对象"]))
        row: list[Any] = [
            i,
            name,
            "男" if gender == 1 else "女",
            number,
            datetime(birth.year, birth.month, birth.day) if r.random() < 0.5 else f"{birth:%Y-%m-%d}",
            phone,
            "汉族" if r.random() < 0.95 else r.choice(["回族", "满", "蒙古族"]),
            r.choice(["户籍", "户籍", "户籍", "常住", "流动"]),
            estate,
            str(r.randrange(1, 31)),
            str(r.randrange(1, 5)),
            f"{r.randrange(1, 19)}0{r.randrange(1, 5)}",
            grid,
            "、".join(tags),
            "",
        ]
        if repeat and i % 33 == 0 and i % 50 != 25:
            known_name, known_number = repeat.pop()
            row[1], row[3], row[2], row[4] = known_name, known_number, "", ""
            row[5] = g.phone()
        elif r.random() < 0.02:
            row[3] = ""  # no ID number: matched by name and birth date
            row[4] = f"{birth.year}年{birth.month}月{birth.day}日"
        if i % 50 == 25:  # 2 % bad rows
            kind = BAD_KINDS[(i // 50) % len(BAD_KINDS)]
            bad += 1
            if kind == "checksum":
                first17 = number[:17]
                row[3] = first17 + ("0" if number[17] != "0" else "1")
            elif kind == "phone":
                row[5] = "1381234"
            elif kind == "tag":
                row[13] = "VIP"
            elif kind == "gender":
                row[2], row[3] = ("女" if gender == 1 else "男"), number
            elif kind == "scientific":
                row[3] = float(number[:17] + "0")
            else:
                row[3], row[4] = "", "1990-13-45"
        ws.append(row)
    wb.save(path)
    return bad


def ledger_floor(ledger_file: Path, db_url: str) -> tuple[float, float]:
    """The floor for the import, in seconds of the clock and of processor
    time: the same file read with openpyxl
    in read-only mode (values only) and every data row inserted raw as a new
    resident through ``bulk_insert`` (the import's own write path, sync
    stamps included) — no header search, no checks, no matching, no pinyin."""
    import openpyxl

    from db.engine import open_database
    from db.models import Resident
    from db.writes import bulk_insert

    db = open_database(db_url)
    try:
        t, c = time.perf_counter(), time.process_time()
        wb = openpyxl.load_workbook(ledger_file, read_only=True, data_only=True)
        ws = wb.worksheets[0]
        rows = list(ws.iter_rows(min_row=3, values_only=True))
        wb.close()
        with db.session() as s:
            bulk_insert(
                s,
                Resident,
                [
                    {
                        "name": str(r[1] or "")[:64],
                        "gender": 1 if r[2] == "男" else 2,
                        "doc_number": str(r[3] or "") or None,
                        "phone": r[5] or None,
                        "estate": r[8],
                        "building": r[9],
                        "unit": r[10],
                        "room": r[11],
                        "grid": r[12],
                    }
                    for r in rows
                ],
            )
        return time.perf_counter() - t, time.process_time() - c
    finally:
        db.close()


def bench_import(ctx: Any) -> dict[str, Any]:
    """Figures: dry run and import of a 10 000-row ledger (seconds), rows rejected."""
    from sqlalchemy import select

    from db.engine import backup_sqlite, open_database
    from db.models import Resident
    from desktop.services import accounts, ledger

    folder = Path(tempfile.mkdtemp(prefix="ledger-bench-"))
    try:
        src = open_database(ctx.db_url)
        try:
            with src.session() as s:
                existing = [
                    (n, d)
                    for n, d in s.execute(
                        select(Resident.name, Resident.doc_number)
                        .where(
                            Resident.deleted.is_(False), Resident.doc_number.is_not(None), Resident.doc_type == "ric"
                        )
                        .limit(N_ROWS)
                    )
                    if d
                ]
            src_path = src.path
        finally:
            src.close()
        ledger_file = folder / "台账.xlsx"
        write_ledger(ledger_file, N_ROWS, existing=existing)
        if src_path is None:  # a server database: time the dry run only
            db = open_database(ctx.db_url)
        else:
            db = open_database(backup_sqlite(src_path, folder / "copy.sqlite3"))
        try:
            actor = accounts.authenticate(db, ctx.username, ctx.password)
            t = time.perf_counter()
            dry = ledger.import_ledger(db, actor, ledger_file, dry_run=True)
            dry_s = time.perf_counter() - t
            out: dict[str, Any] = {"ledger_import_10000_dry_run_s": round(dry_s, 2)}
            if src_path is not None:
                t, c = time.perf_counter(), time.process_time()
                report = ledger.import_ledger(db, actor, ledger_file)
                out["ledger_import_10000_s"] = round(time.perf_counter() - t, 2)
                out["ledger_import_10000_cpu_s"] = round(time.process_time() - c, 2)
                assert report.rejected == dry.rejected
            out["ledger_import_rejected"] = dry.rejected
        finally:
            db.close()
        if src_path is not None:  # the floor, on a fresh copy of the same database
            floor, floor_cpu = ledger_floor(ledger_file, str(backup_sqlite(src_path, folder / "floor.sqlite3")))
            out["ledger_floor_openpyxl_raw_insert_s"] = round(floor, 2)
            out["ledger_import_vs_floor_x"] = round(out["ledger_import_10000_s"] / floor, 2)
            # in processor time too, which a machine shared with other work disturbs less
            out["ledger_floor_cpu_s"] = round(floor_cpu, 2)
            out["ledger_import_cpu_vs_floor_x"] = round(out["ledger_import_10000_cpu_s"] / floor_cpu, 2)
        return out
    finally:
        shutil.rmtree(folder, ignore_errors=True)
