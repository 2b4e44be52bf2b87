"""Benchmark: the bundle container alone — write (serialise, zip, seal) and
read (decrypt, unzip, verify, parse) a bundle of realistic resident rows.

    python -m desktop.bench.sync_bundle                    # 1 000 000 rows, zlib level 1
    python -m desktop.bench.sync_bundle --rows 200000 --levels 1,6

The rows cycle through a pool of 10 000 distinct dicts made beforehand, so the
write figure is the container's own cost (JSON, zip, encryption), not that of
making rows (in a real export, the database's).  Rows repeat only every few
megabytes, beyond deflate's 32 KiB window, so compression is realistic.
Figures only, no pass/fail: the target is well under 15 s each way.
"""

from __future__ import annotations

import argparse
import datetime
import json
import shutil
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from desktop.services.sync import keys
from desktop.services.sync.container import BundleWriter, open_bundle

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英"
STREETS = ["幸福路", "胜利街", "东风巷", "解放路", "团结街", "建设路"]
POOL = 10_000


def json_default(value: Any) -> Any:
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    raise TypeError(f"cannot encode {type(value).__name__}")


def resident_rows(n: int) -> Iterator[dict[str, Any]]:
    """About 330 bytes of JSON each: ids, station code, clocks, Chinese text, dates."""
    base = datetime.datetime(2026, 11, 1, 8, 30, tzinfo=datetime.timezone.utc)
    household = uuid.uuid4()
    for i in range(n):
        if i % 3 == 0:
            household = uuid.uuid4()
        born = datetime.date(1940 + i % 70, 1 + i % 12, 1 + i % 28)
        yield {
            "id": uuid.uuid4(),
            "origin": "340304001",
            "hlc": 1_793_000_000_000_000 + i * 17,
            "seq": i + 1,
            "deleted": False,
            "name": SURNAMES[i % 20] + GIVEN[i % 23] + GIVEN[(i * 7) % 23],
            "gender": "男" if i % 2 else "女",
            "born": born,
            "id_number": f"340304{born:%Y%m%d}{i % 1000:03d}{i % 10}",
            "phone": f"139{i % 100_000_000:08d}",
            "address": f"东风社区{STREETS[i % 6]}{1 + i % 200}号{1 + i % 12}栋{1 + i % 6}单元{101 + i % 1800}室",
            "household_id": household,
            "updated_at": base + datetime.timedelta(seconds=i),
            "field_clocks": {"phone": 1_793_000_000_000_000 + i, "address": 1_793_000_000_000_001 + i},
        }


def peak_rss_mb() -> float | None:
    try:
        import resource
    except ImportError:  # Windows
        return None
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def bench(rows: int, level: int, folder: Path) -> dict[str, Any]:
    station = keys.generate("340304001", "东风社区")
    hub = keys.generate("340304000", "东风街道", "hub")
    path = folder / f"bench-{level}.sdbundle"
    out: dict[str, Any] = {"rows": rows, "level": level}

    pool = list(resident_rows(POOL))
    cycled = (pool[i % POOL] for i in range(rows))

    t = time.perf_counter()
    manifest = {"format": 1, "bundle_id": str(uuid.uuid4()), "counts": {"residents": rows}}
    with BundleWriter(
        path, signer=station, recipient=hub.peer, manifest=manifest, default=json_default, compresslevel=level
    ) as w:
        w.write_rows("residents", cycled)
    out["write_s"] = time.perf_counter() - t
    out["file_mb"] = path.stat().st_size / 1e6

    t = time.perf_counter()
    with open_bundle(path, hub, {station.code: station.peer}.get, temp_dir=folder) as b:
        out["open_s"] = time.perf_counter() - t
        info = b.part("residents")
        out["json_mb"] = info.size / 1e6
        t = time.perf_counter()
        b.verify_all()
        out["verify_s"] = time.perf_counter() - t
        t = time.perf_counter()
        n = 0
        for _ in b.rows("residents"):
            n += 1
        out["rows_s"] = time.perf_counter() - t
    assert n == rows
    out["read_s"] = out["open_s"] + out["verify_s"] + out["rows_s"]
    out["bytes_per_row"] = info.size / rows
    out["ratio"] = info.size / path.stat().st_size
    path.unlink()
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--levels", default="1", help="zlib levels to compare, e.g. 1,6")
    ap.add_argument("--json", action="store_true", help="one JSON object per level")
    args = ap.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="station-bench-bundle-"))
    try:
        for level in (int(x) for x in args.levels.split(",")):
            r = bench(args.rows, level, folder)
            r["peak_rss_mb"] = peak_rss_mb()
            if args.json:
                print(json.dumps(r))
                continue
            print(
                f"level {level}: {r['rows']:,} rows, {r['bytes_per_row']:.0f} B/row of JSON "
                f"({r['json_mb']:.0f} MB) -> {r['file_mb']:.1f} MB file (x{r['ratio']:.1f})"
            )
            print(f"  write (JSON+zip+seal+fsync) {r['write_s']:6.2f} s")
            print(f"  open (decrypt to temp)      {r['open_s']:6.2f} s")
            print(f"  verify_all (unzip+hash)     {r['verify_s']:6.2f} s")
            print(f"  rows (unzip+hash+parse)     {r['rows_s']:6.2f} s")
            print(f"  read total                  {r['read_s']:6.2f} s")
            rss = r["peak_rss_mb"]
            print(
                f"  peak RSS of the process     {rss:6.0f} MB" if rss is not None else "  peak RSS: not measured here"
            )
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
