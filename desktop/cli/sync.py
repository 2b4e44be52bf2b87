"""Sync on the command line (a scheduled job at the hub, or a station with no
one at the window):

    python -m desktop --db X keys export --out FILE
    python -m desktop --db X peers trust FILE [--yes]       prints the fingerprint
    python -m desktop --db X peers list [--json]
    python -m desktop --db X bundle export --to CODE --out FILE [--full] [--json]
    python -m desktop --db X bundle import FILE [--json] [--no-backup]

Commands act as the first active administrator (or ``--user``).  A refused
bundle prints its Chinese message to stderr, exits 2 and changes nothing
(``desktop.cli.main`` does that for every ``StationDeskError``).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any


def add_parser(sub: Any) -> None:
    keys = sub.add_parser("keys", help="this station's public key file")
    ks = keys.add_subparsers(dest="keys_command", required=True)
    ke = ks.add_parser("export", help="write this station's public key file")
    ke.add_argument("--out", required=True)
    ke.add_argument("--user", metavar="USER")

    peers = sub.add_parser("peers", help="stations this one trusts")
    ps = peers.add_subparsers(dest="peers_command", required=True)
    pt = ps.add_parser("trust", help="trust a station's public key file (check the fingerprint by phone first)")
    pt.add_argument("file")
    pt.add_argument("--user", metavar="USER")
    pl = ps.add_parser("list", help="trusted stations and where the exchange with each stands")
    pl.add_argument("--json", action="store_true")
    pr = ps.add_parser("revoke", help="refuse every bundle signed by this station's current key")
    pr.add_argument("code")
    pr.add_argument("--user", metavar="USER")

    bundle = sub.add_parser("bundle", help="export or import a data-exchange bundle")
    bs = bundle.add_subparsers(dest="bundle_command", required=True)
    be = bs.add_parser("export", help="write what a peer has not been sent yet")
    be.add_argument("--to", required=True, metavar="PEER_STATION_CODE")
    be.add_argument("--out", required=True)
    be.add_argument("--full", action="store_true", help="everything, for a first hand-over or after a lost bundle")
    be.add_argument("--json", action="store_true")
    be.add_argument("--user", metavar="USER")
    bi = bs.add_parser("import", help="verify and apply a bundle addressed to this station")
    bi.add_argument("file")
    bi.add_argument("--json", action="store_true")
    bi.add_argument("--no-backup", action="store_true", help="skip the backup made before applying (SQLite)")
    bi.add_argument("--user", metavar="USER")


def _open(args: argparse.Namespace) -> Any:
    from db.engine import open_database
    from desktop.cli.ledger import _db_url

    return open_database(_db_url(args))


def _actor(db: Any, args: argparse.Namespace) -> Any:
    from desktop.cli.ledger import system_actor

    return system_actor(db, getattr(args, "user", None))


def cmd_keys(args: argparse.Namespace) -> int:
    from desktop.services.sync import exchange

    db = _open(args)
    try:
        fp = exchange.export_public_key(db, _actor(db, args), args.out)
        code, name, role, _ = exchange.my_identity(db)
    finally:
        db.close()
    print(f"已导出本站公钥文件：{args.out}\n站点：{name}（{code}）\n指纹：{fp}")
    return 0


def cmd_peers(args: argparse.Namespace) -> int:
    from desktop.services.sync import exchange

    db = _open(args)
    try:
        if args.peers_command == "trust":
            peer = exchange.read_peer_file(args.file)
            view = exchange.trust_peer(db, _actor(db, args), peer)
            print(
                f"已信任站点：{view.name}（{view.code}，{view.role_label}）\n指纹：{view.fingerprint}\n"
                "请与对方电话核对指纹；如不一致，请立即注销（peers revoke）。"
            )
        elif args.peers_command == "revoke":
            exchange.revoke_peer(db, _actor(db, args), args.code)
            print(f"已注销站点 {args.code} 的密钥：它签发的数据交换包将一律拒绝导入。")
        else:
            items = exchange.peers(db)
            if args.json:
                print(
                    json.dumps(
                        [
                            {
                                "code": p.code,
                                "name": p.name,
                                "role": p.role,
                                "fingerprint": p.fingerprint,
                                "revoked": p.revoked,
                                "pending": p.pending,
                                "last_export_at": p.last_export_at,
                                "last_import_at": p.last_import_at,
                            }
                            for p in items
                        ],
                        ensure_ascii=False,
                        default=str,
                    )
                )
            else:
                for p in items:
                    state = "已注销" if p.revoked else f"待发送 {p.pending} 条"
                    print(f"{p.code}\t{p.name}\t{p.role_label}\t{p.fingerprint}\t{state}")
    finally:
        db.close()
    return 0


def cmd_bundle(args: argparse.Namespace) -> int:
    from desktop.services.sync import exchange

    db = _open(args)
    try:
        actor = _actor(db, args)
        if args.bundle_command == "export":
            r = exchange.export_bundle(db, actor, args.to, args.out, full=args.full)
            if args.json:
                print(
                    json.dumps(
                        {
                            "bundle_id": str(r.bundle_id),
                            "path": r.path,
                            "to": r.target,
                            "full": r.full,
                            "rows": r.rows,
                            "size": r.size,
                            "tables": r.counts,
                            "seconds": round(r.seconds, 3),
                        },
                        ensure_ascii=False,
                    )
                )
            else:
                print(f"已导出 {r.rows} 条记录（{r.size / 1e6:.2f} MB）到：{r.path}")
            return 0
        settings = None
        if not args.no_backup:
            from desktop.paths import app_paths
            from desktop.settings import Settings

            settings = Settings(app_paths().settings_file)
        res = exchange.import_bundle(db, actor, args.file, settings=settings)
    finally:
        db.close()
    if args.json:
        print(json.dumps(res.as_json(), ensure_ascii=False))
    elif res.already:
        print("这个数据交换包以前已经导入过，没有任何变化。")
    else:
        print(
            f"已导入来自 {res.source_name}（{res.source}）的数据交换包：新增 {res.new}，更新 {res.updated}，"
            f"未变 {res.unchanged}，冲突 {res.conflicts}，疑似重复居民 {res.duplicates}。"
        )
        if res.conflicts or res.duplicates:
            print("请站长在“数据交换”页处理冲突和疑似重复居民。", file=sys.stderr)
    return 0
