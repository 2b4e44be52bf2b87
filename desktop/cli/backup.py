"""Backups on the command line (a scheduled copy to a second disk, or a
station whose window will not open):

    python -m desktop --db X backup create [--json]
    python -m desktop --db X backup list [--json]
    python -m desktop --db X backup restore (FILE | --newest) [--json]

``list`` and ``restore`` do not open the database, so they work on one too
damaged to open.  A restore verifies the backup first and keeps the current
file beside it (``<name>.replaced-<time>.sqlite3``), never deleting it.
"""

from __future__ import annotations

import argparse
import json
from datetime import datetime
from pathlib import Path
from typing import Any


def add_parser(sub: Any) -> None:
    p = sub.add_parser("backup", help="make, list or restore backups of a station database")
    bs = p.add_subparsers(dest="backup_command", required=True)
    c = bs.add_parser("create", help="a verified backup now, in the backup folder")
    c.add_argument("--json", action="store_true")
    c.add_argument("--user", metavar="USER")
    ls = bs.add_parser("list", help="the backups of this database, newest first")
    ls.add_argument("--json", action="store_true")
    r = bs.add_parser("restore", help="replace the database with a backup (the current file is kept aside)")
    which = r.add_mutually_exclusive_group(required=True)
    which.add_argument("file", nargs="?", help="the backup file")
    which.add_argument("--newest", action="store_true", help="the newest backup that passes its check")
    r.add_argument(
        "--recovery-code",
        metavar="CODE",
        help="restore an encrypted backup on a computer that does not have the station's key",
    )
    r.add_argument("--json", action="store_true")


def _file(args: argparse.Namespace) -> Path:
    from db.engine import normalize_url
    from db.errors import StationDeskError
    from desktop.cli.ledger import _db_url

    url = normalize_url(_db_url(args))
    if not url.startswith("sqlite:///"):
        raise StationDeskError(
            "not sqlite", "服务器上的数据库（PostgreSQL）由服务器备份（pg_dump），这里只备份本机数据库文件。"
        )
    return Path(url[len("sqlite:///") :])


def _key_from_backup(src: Path, station: Path, code: str) -> None:
    """The backup's sidecar carries the key wrapped by the recovery code: on a
    computer without the station's key, that key becomes the station's."""
    from db import backup, keys
    from db.errors import KeyUnavailable, StationDeskError

    info = backup.read_info(src)
    wraps = (info.extra or {}).get("key") if info is not None else None
    if not wraps:
        raise StationDeskError("no wraps", "这个备份旁边没有密钥信息（.json 文件缺失或来自旧版本），不能用恢复码打开。")
    key = keys.unlock_wraps(wraps, code)
    if keys.key_path(station).exists():
        try:
            if keys.station_key(station) == key:
                return
        except KeyUnavailable:
            pass
        raise StationDeskError(
            "other key",
            f"数据库旁已有另一个密钥文件：\n{keys.key_path(station)}\n\n"
            "请先用 unlock 解锁这个数据库，或把它和密钥文件移到别处，再恢复。",
        )
    keys.adopt(station, wraps, key)


def _info(b: Any) -> dict[str, Any]:
    return {
        "path": str(b.path),
        "created_at": b.created_at.isoformat(),
        "reason": b.reason,
        "size": b.size,
        "verified": b.verified,
        "residents": b.residents,
        "matters": b.matters,
    }


def cmd_backup(args: argparse.Namespace) -> int:
    from db.engine import open_database
    from db.errors import StationDeskError
    from desktop.paths import app_paths
    from desktop.services import backups
    from desktop.settings import Settings

    settings = Settings(app_paths().settings_file)
    path = _file(args)
    if args.backup_command == "create":
        from desktop.cli.ledger import system_actor

        db = open_database(path)
        try:
            info = backups.create(db, system_actor(db, args.user), settings, "manual")
        finally:
            db.close()
        print(
            json.dumps(_info(info), ensure_ascii=False)
            if args.json
            else f"已备份并校验：{info.path}（居民 {info.residents} 人，事项 {info.matters} 件）"
        )
        return 0
    if args.backup_command == "list":
        items = backups.list_for(path, settings)
        if args.json:
            print(json.dumps([_info(b) for b in items], ensure_ascii=False))
        else:
            for b in items:
                print(f"{backups.describe(b)}\t{b.path}")
            if not items:
                print("备份文件夹里没有这个数据库的备份。")
        return 0
    from db import backup

    if args.newest:
        best = backups.newest_good_for(path, settings)
        if best is None:
            raise StationDeskError("no backup", "备份文件夹里没有找到可用的备份。")
    else:
        src = Path(args.file)
        backups.warm_key(path)
        if args.recovery_code:
            _key_from_backup(src, path, args.recovery_code)
        backup.verify(src)  # a damaged or foreign file changes nothing
        best = backup.read_info(src) or backup.BackupInfo(
            src, datetime.fromtimestamp(src.stat().st_mtime), "manual", src.stat().st_size
        )
    aside = backup.restore(best.path, path)
    db = open_database(path)
    try:
        backups.record_startup_restore(db, best, aside, cause="cli")
    finally:
        db.close()
    if args.json:
        print(json.dumps({"restored": _info(best), "set_aside": str(aside) if aside else None}, ensure_ascii=False))
    else:
        print(
            f"已从备份恢复：{best.path}\n原来的数据库文件已改名保存：{aside}\n"
            "备份之后录入的内容不在恢复后的数据库中，请核对最近的登记和受理。"
        )
    return 0
