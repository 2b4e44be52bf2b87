"""``python -m desktop residents import FILE``: import a resident ledger headless.

    python -m desktop --db X residents import 台账.xlsx --dry-run
    python -m desktop --db X residents import 台账.xlsx --json
    python -m desktop --db X residents import 台账.xlsx --confirm-conflicts 5,9-11

Conflicts: a row whose ID number is registered under another name is listed
(dry run and real run) and not written; ``--confirm-conflicts ROWS`` (sheet
row numbers, "5,9-11", or "all") writes those rows, name included.

Who acts: the CLI has no sign-in (whoever can run it can already open the
database file), so it acts as a system actor built from an account stored in
the database: by default the first active administrator account (the oldest
one; ids are time-ordered), with its username and display name as stored, so
the audit line names a real account.  ``--user USER`` acts as that active
account instead; its role is then checked as in the window (a 前台 account
may only run ``--dry-run``).

Output: ``--json`` prints ``ImportReport.to_json()`` as one JSON object
(ensure_ascii=False); otherwise a short Chinese summary and the first 20
problems.  Exit status 0 when the file could be read, even if rows were
rejected; 2 with ``错误：<message>`` on stderr when it could not (or the
account may not import).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

SHOW_ERRORS = 20


def add_parser(sub: Any) -> None:
    """Register ``residents import FILE [--dry-run] [--json] [--user USER]``
    on the main parser's subparsers; the command function is ``cmd_residents``."""
    residents = sub.add_parser("residents", help="resident registry commands (import a ledger)")
    rsub = residents.add_subparsers(dest="residents_command")
    imp = rsub.add_parser("import", help="import a resident ledger (.xlsx or .csv)")
    imp.add_argument("file", metavar="FILE", help=".xlsx or .csv ledger with Chinese column headers")
    imp.add_argument("--dry-run", action="store_true", help="check the file and report, write nothing")
    imp.add_argument("--json", action="store_true", help="print one JSON object")
    imp.add_argument("--user", metavar="USER", help="act as this account (default: the first active administrator)")
    imp.add_argument(
        "--confirm-conflicts",
        metavar="ROWS",
        default="",
        type=_rows,
        help="a row whose ID number is registered under another name is listed and NOT written "
        "unless confirmed here: sheet row numbers as in the report (e.g. 5,9-11), or 'all' "
        "(the file's name then replaces the registered one)",
    )


def _rows(text: str) -> str | set[int]:
    """``--confirm-conflicts``: "all", or row numbers and ranges ("5,9-11")."""
    text = text.strip()
    if text.lower() == "all":
        return "all"
    rows: set[int] = set()
    for part in filter(None, (p.strip() for p in text.replace("，", ",").split(","))):
        lo, _, hi = part.partition("-")
        try:
            first, last = int(lo), int(hi or lo)
        except ValueError:
            raise argparse.ArgumentTypeError(f"行号“{part}”无法识别，请写成 5,9-11 或 all") from None
        if not 1 <= first <= last or last - first > 1_000_000:
            raise argparse.ArgumentTypeError(f"行号范围“{part}”不对，请写成 5,9-11 或 all")
        rows.update(range(first, last + 1))
    return rows


def system_actor(db: Any, username: str | None = None) -> Any:
    """An Actor for ``username``, or for the first active administrator
    (``accounts.system_actor``, imported here only when a command runs)."""
    from desktop.services.accounts import system_actor as find

    return find(db, username)


def _db_url(args: argparse.Namespace) -> str:
    if getattr(args, "db", None):
        return args.db
    from desktop.paths import app_paths

    return str(app_paths().default_db)


def cmd_residents(args: argparse.Namespace) -> int:
    """``residents ...``: dispatch on the sub-command."""
    if getattr(args, "residents_command", None) == "import":
        return cmd_residents_import(args)
    print("错误：请指定子命令，例如：residents import 台账.xlsx", file=sys.stderr)
    return 2


def cmd_residents_import(args: argparse.Namespace) -> int:
    from desktop.cli import reporting_errors

    return reporting_errors(lambda: _print_report(args, _run_import(args)))


def _print_report(args: argparse.Namespace, report: Any) -> int:
    """The import's answer on stdout: JSON, or the summary and its problems."""
    if args.json:
        print(json.dumps(report.to_json(), ensure_ascii=False))
        return 0
    print(report.summary())
    for e in report.errors[:SHOW_ERRORS]:
        print(f"  第 {e.row} 行　{e.field}：{e.message}")
    if len(report.errors) > SHOW_ERRORS:
        print(f"  ……还有 {len(report.errors) - SHOW_ERRORS} 条问题没有列出（用 --json 查看全部）。")
    for w in report.warnings[:SHOW_ERRORS]:
        print(f"  提示：{w.message}")
    if len(report.warnings) > SHOW_ERRORS:
        print(f"  ……还有 {len(report.warnings) - SHOW_ERRORS} 条提示。")
    for c in report.conflicts[:SHOW_ERRORS]:
        print(f"  第 {c.row} 行　姓名不一致：{c.message}")
    if len(report.conflicts) > SHOW_ERRORS:
        print(f"  ……还有 {len(report.conflicts) - SHOW_ERRORS} 处姓名不一致（用 --json 查看全部）。")
    held = [c.row for c in report.conflicts if not c.confirmed]
    if held:
        rows = ",".join(map(str, held[:SHOW_ERRORS])) + ("…" if len(held) > SHOW_ERRORS else "")
        print(f"  核对无误后，加上 --confirm-conflicts {rows}（或 all）再运行一次，才会按文件更新这些行。")
    return 0


def _run_import(args: argparse.Namespace) -> Any:
    from db.engine import open_database
    from desktop.services import ledger

    db = open_database(_db_url(args))
    try:
        actor = system_actor(db, args.user)
        return ledger.import_ledger(db, actor, args.file, dry_run=args.dry_run, confirm=args.confirm_conflicts or ())
    finally:
        db.close()
