"""``python -m desktop report``: the supervisor's report, headless, for scheduled runs.

    python -m desktop --db X report --from 2026-11-01 --to 2026-11-30 --pdf OUT.pdf --xlsx OUT.xlsx
    python -m desktop --db X report --month 2026-11 --station 340304001 --json

Without ``--from/--to`` or ``--month`` the report covers last month.  Acts as
the first active administrator (or ``--user``; that account must be a
supervisor or administrator).  Prints the main figures (``--json``: one JSON
object with every figure), exit 0; 2 with ``错误：…`` on stderr otherwise.
"""

from __future__ import annotations

import argparse
import json
from datetime import date
from typing import Any


def add_parser(sub: Any) -> None:
    p = sub.add_parser("report", help="build the supervisor's report (PDF and/or Excel)")
    p.add_argument("--from", dest="start", metavar="YYYY-MM-DD")
    p.add_argument("--to", dest="end", metavar="YYYY-MM-DD")
    p.add_argument("--month", metavar="YYYY-MM", help="a calendar month instead of --from/--to")
    p.add_argument(
        "--station",
        action="append",
        metavar="CODE",
        help="only this station's records (repeat for several; default: all in the database)",
    )
    p.add_argument("--pdf", metavar="OUT.pdf")
    p.add_argument("--xlsx", metavar="OUT.xlsx")
    p.add_argument("--json", action="store_true", help="print every figure as one JSON object")
    p.add_argument("--user", metavar="USER", help="act as this account (default: the first active administrator)")


def _date(text: str, flag: str) -> date:
    from db.errors import ValidationError

    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise ValidationError(flag, f"{flag} 的日期格式应为 YYYY-MM-DD，例如 2026-11-01。") from None


def _period(args: argparse.Namespace) -> Any:
    from db.errors import ValidationError
    from desktop.services.counter import local_today
    from desktop.services.reports import Period

    if args.month:
        try:
            y, m = (int(x) for x in args.month.split("-"))
            return Period.month(y, m)
        except ValueError:
            raise ValidationError("month", "--month 的格式应为 YYYY-MM，例如 2026-11。") from None
    if args.start or args.end:
        if not (args.start and args.end):
            raise ValidationError("from", "--from 和 --to 需要一起给出。")
        return Period.between(_date(args.start, "--from"), _date(args.end, "--to"))
    return Period.last_month(local_today())


def cmd_report(args: argparse.Namespace) -> int:
    from db.engine import open_database
    from desktop import paperwork
    from desktop.cli.ledger import _db_url, system_actor
    from desktop.documents.report_docs import format_value
    from desktop.services import reports

    period = _period(args)
    db = open_database(_db_url(args))
    try:
        actor = system_actor(db, args.user)
        report = reports.build(db, actor, period, args.station or None)
        written = {}
        if args.pdf:
            written["pdf"] = str(paperwork.save_report_pdf(report, args.pdf))
        if args.xlsx:
            written["xlsx"] = str(paperwork.export_report_excel(report, args.xlsx))
    finally:
        db.close()
    if args.json:
        out = {
            "title": report.title,
            "from": period.start.isoformat(),
            "to": period.end.isoformat(),
            "stations": list(report.stations),
            "seconds": round(report.timings.get("total", 0), 3),
            "sections": {s.key: {f.label: f.value for f in s.figures} for s in report.sections},
            **written,
        }
        print(json.dumps(out, ensure_ascii=False))
    else:
        print(report.title)
        for s in report.sections:
            if s.figures:
                print(
                    f"{s.title}：" + "；".join(f"{f.label} {format_value(f.value, f.fmt)}{f.unit}" for f in s.figures)
                )
        for kind, path in written.items():
            print(f"已保存 {kind.upper()}：{path}")
    return 0
