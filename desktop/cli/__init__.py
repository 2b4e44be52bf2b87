"""``python -m desktop``: the window, and headless commands over the same services.

    python -m desktop                         open the app (default database)
    python -m desktop --db X init --station-code C --station-name N --admin USER:PASSWORD
    python -m desktop --db X demo --residents N
    python -m desktop --db X bench --json
    python -m desktop --db X residents import FILE [--dry-run] [--json]
    python -m desktop --db X report --from 2026-11-01 --to 2026-11-30 --pdf OUT.pdf --xlsx OUT.xlsx
    python -m desktop --db X keys export --out FILE | peers trust FILE | bundle export --to CODE --out FILE [--full]
    python -m desktop --db X bundle import FILE --json
    python -m desktop --db X backup create | list | restore (FILE | --newest)
    python -m desktop --db X unlock (--recovery-code CODE | --password PASSWORD)

Errors a person can act on print their Chinese message to stderr and exit 2.
Imports stay inside the commands so each pays only for what it uses.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any, Callable, Sequence


def _parser() -> argparse.ArgumentParser:
    from desktop import APP_NAME, __version__

    p = argparse.ArgumentParser(prog="python -m desktop", description=f"{APP_NAME} (Station Desk)")
    p.add_argument(
        "--db", metavar="PATH_OR_URL", help="database file or URL (default: station.sqlite3 in the user's data folder)"
    )
    p.add_argument("--version", action="version", version=__version__)
    sub = p.add_subparsers(dest="command")

    init = sub.add_parser("init", help="set up a station without the dialog")
    init.add_argument("--station-code", required=True, help="6-digit GB/T 2260 code + community number")
    init.add_argument("--station-name", required=True)
    init.add_argument("--level", choices=["community", "village", "street"], default="community")
    init.add_argument("--phone")
    init.add_argument("--admin", required=True, metavar="USER:PASSWORD")
    init.add_argument("--admin-name", default="管理员", help="display name of the administrator")

    demo = sub.add_parser("demo", help="fill the database with a realistic demo station")
    demo.add_argument("--residents", type=int, default=2000)
    demo.add_argument("--seed", type=int, default=1)
    demo.add_argument("--json", action="store_true")

    bench = sub.add_parser("bench", help="run the benchmarks and print figures")
    bench.add_argument("--json", action="store_true", help="print one JSON object")
    bench.add_argument("--residents", type=int, default=100_000)
    bench.add_argument("--keep", metavar="DIR", help="keep (and reuse) the benchmark database in DIR")
    bench.add_argument(
        "--only",
        action="append",
        metavar="NAME",
        help="run only this benchmark (repeat for several), e.g. reports, search, startup",
    )

    from desktop.cli import ledger as cli_ledger

    cli_ledger.add_parser(sub)
    from desktop.cli import report as cli_report

    cli_report.add_parser(sub)
    from desktop.cli import sync as cli_sync

    cli_sync.add_parser(sub)
    from desktop.cli import backup as cli_backup

    cli_backup.add_parser(sub)

    unlock = sub.add_parser("unlock", help="open an encrypted station file copied from another computer")
    which = unlock.add_mutually_exclusive_group(required=True)
    which.add_argument("--recovery-code", metavar="CODE", help="the recovery code printed at set-up")
    which.add_argument("--password", metavar="PASSWORD", help="an administrator's password")

    probe = sub.add_parser("startup-probe", help=argparse.SUPPRESS)
    probe.add_argument("--user", required=True)
    probe.add_argument("--password", required=True)
    return p


def _db_url(args: argparse.Namespace) -> str:
    if args.db:
        return args.db
    from desktop.paths import app_paths

    return str(app_paths().default_db)


def cmd_init(args: argparse.Namespace) -> int:
    from db.engine import open_database
    from db.errors import ValidationError
    from desktop.services import accounts

    user, sep, password = args.admin.partition(":")
    if not sep:
        raise ValidationError("admin", "--admin 的格式应为 用户名:密码")
    db = open_database(_db_url(args))
    try:
        accounts.setup_station(
            db,
            code=args.station_code,
            name=args.station_name,
            level=args.level,
            admin_username=user,
            admin_password=password,
            admin_display_name=args.admin_name,
            phone=args.phone,
        )
        info = accounts.station_info(db)
        assert info is not None
        print(f"已建立站点：{info.name}（{info.code}），管理员 {user.strip()}。数据库：{db.display_location()}")
        _print_recovery_code(db)
    finally:
        db.close()
    return 0


def _print_recovery_code(db: Any) -> None:
    """Shown once: the key file forgets it as it is printed (docs/security.md)."""
    from db import keys

    code = keys.take_recovery_code(db.path) if db.path is not None else None
    if code:
        print(
            f"\n恢复码（只显示这一次）：{code}\n"
            "数据库已加密。请把恢复码打印或抄写下来，锁在柜子里；忘记管理员密码、换电脑或重装系统后，"
            "要用它解锁数据：python -m desktop --db 数据库 unlock --recovery-code 恢复码"
        )


def cmd_unlock(args: argparse.Namespace) -> int:
    from db import keys
    from db.engine import normalize_url, open_database
    from db.errors import ValidationError

    url = normalize_url(_db_url(args))
    if not url.startswith("sqlite:///"):
        raise ValidationError("unlock", "只有本机数据库文件是加密的；服务器上的数据库不需要解锁。")
    keys.unlock(url[len("sqlite:///") :], args.recovery_code or args.password)
    open_database(url).close()  # it opens on this computer now
    print("已解锁：这台电脑以后会直接打开这个数据库。")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from db.engine import open_database
    from db.errors import ValidationError
    from desktop.services import accounts, demo

    if args.residents < 0 or args.residents > 2_000_000:
        raise ValidationError("residents", "--residents 应在 0 到 2000000 之间。")
    db = open_database(_db_url(args))
    try:
        result: dict[str, Any] = {}
        if accounts.station_info(db) is None:
            user, password = demo.create_demo_station(db, n_residents=args.residents, seed=args.seed)
            result["login"] = {"username": user, "password": password}
        else:
            result.update(demo.fill_demo(db, n_residents=args.residents, seed=args.seed))
        info = accounts.station_info(db)
        assert info is not None
        result["station"] = {"code": info.code, "name": info.name}
        result["database"] = db.display_location()
    finally:
        db.close()
    if args.json:
        print(json.dumps(result, ensure_ascii=False, default=str))
    else:
        print(f"演示站点：{result['station']['name']}（{result['station']['code']}）")
        if "login" in result:
            print(f"登录：用户名 {result['login']['username']}，密码 {result['login']['password']}")
        print(f"数据库：{result['database']}")
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    from desktop import bench

    figures = bench.run_all(n_residents=args.residents, keep_dir=args.keep, db_url=args.db, only=args.only)
    if args.json:
        print(json.dumps(figures, ensure_ascii=False))
    else:
        for k, v in figures.items():
            print(f"{k:32} {v}")
    return 0


def _precheck(url: str | None) -> None:
    """Start SQLite's integrity check now; it runs while Qt and SQLAlchemy load."""
    if url and "://" not in url:
        from db import precheck

        precheck.begin(url)


def _load_data_layer_before_qt() -> None:
    """Import SQLAlchemy, the models and the services the window starts with
    before PySide6.  Once PySide6 is loaded, its ``__feature__`` import hook
    reads the source of every module imported after it (``inspect.getsource``,
    kept in ``linecache``): some 280 modules of SQLAlchemy and ours cost ~17 MB
    of memory for the whole session and a tenth of a second (issue 19)."""
    import db.engine  # noqa: F401
    import db.models  # noqa: F401
    import desktop.services.accounts  # noqa: F401
    import desktop.services.search  # noqa: F401


def cmd_startup_probe(args: argparse.Namespace) -> int:
    # the integrity check was started in main(), before anything else
    _load_data_layer_before_qt()
    from desktop.ui.app import startup_probe

    print(json.dumps(startup_probe(_db_url(args), args.user, args.password)))
    return 0


def cmd_gui(args: argparse.Namespace) -> int:
    from desktop.paths import app_paths
    from desktop.settings import Settings

    paths = app_paths()
    settings = Settings(paths.settings_file)
    url = args.db or settings.get("database_url") or str(paths.default_db)
    _precheck(url)
    _load_data_layer_before_qt()
    from desktop.ui.app import run_app

    return run_app(url, paths, settings)


def cmd_residents(args: argparse.Namespace) -> int:
    from desktop.cli import ledger as cli_ledger

    return cli_ledger.cmd_residents(args)


def cmd_report(args: argparse.Namespace) -> int:
    from desktop.cli import report as cli_report

    return cli_report.cmd_report(args)


def cmd_keys(args: argparse.Namespace) -> int:
    from desktop.cli import sync as cli_sync

    return cli_sync.cmd_keys(args)


def cmd_peers(args: argparse.Namespace) -> int:
    from desktop.cli import sync as cli_sync

    return cli_sync.cmd_peers(args)


def cmd_bundle(args: argparse.Namespace) -> int:
    from desktop.cli import sync as cli_sync

    return cli_sync.cmd_bundle(args)


def cmd_backup(args: argparse.Namespace) -> int:
    from desktop.cli import backup as cli_backup

    return cli_backup.cmd_backup(args)


COMMANDS = {
    "backup": cmd_backup,
    "keys": cmd_keys,
    "peers": cmd_peers,
    "bundle": cmd_bundle,
    "residents": cmd_residents,
    "report": cmd_report,
    "init": cmd_init,
    "demo": cmd_demo,
    "bench": cmd_bench,
    "unlock": cmd_unlock,
    "startup-probe": cmd_startup_probe,
    None: cmd_gui,
}


# Commands that may create a new database file (bench builds a demo station
# where there is none); every other one needs an existing station, so a
# mistyped --db is an error instead of a new empty file.
CREATING = {"init", "demo", "bench", None}


def _check_target(args: argparse.Namespace) -> None:
    if args.command in CREATING:
        return  # open_database itself refuses a folder
    if args.command == "backup" and args.backup_command == "restore":
        return  # restoring onto a lost file is what restore is for; it never makes an empty one
    from db.engine import require_existing

    require_existing(_db_url(args))


def reporting_errors(fn: Callable[[], int]) -> int:
    """``fn()``, or exit status 2 with the Chinese message of a refusal (or of
    a disk, database or file error ``friendly`` knows); anything else raises."""
    from db.errors import StationDeskError, friendly

    try:
        return fn()
    except StationDeskError as e:
        print(f"错误：{e.user_message}", file=sys.stderr)
        return 2
    except Exception as e:  # noqa: BLE001
        mapped = friendly(e)
        if mapped is None:
            raise
        print(f"错误：{mapped.user_message}", file=sys.stderr)
        return 2


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)

    def run() -> int:
        if args.command == "startup-probe":
            # first, as the window does: checking that the file exists loads
            # SQLAlchemy (~0.4 s), which the integrity check runs beside
            _precheck(_db_url(args))
        _check_target(args)
        return COMMANDS[args.command](args)

    return reporting_errors(run)
