"""The report's sections come from one list (reports.registry.SECTIONS): a
section added there by one module shows in the report, its figure opens
exactly the records it counted, it reaches the PDF and the Excel workbook,
its contacted residents count as 本期接触 and its per-station column joins
各站对比 — and taking it out leaves the report as it was."""

from __future__ import annotations

import dataclasses
import shutil
import subprocess
import uuid
from datetime import date, datetime
from pathlib import Path
from typing import Any, NamedTuple

import openpyxl
import pytest
from sqlalchemy import select

from db.engine import Database
from db.models import AuditLog, Resident
from desktop import paperwork
from desktop.services import counter, reports, residents
from desktop.services.context import Actor
from desktop.services.idnumbers import make_ric
from desktop.services.reports import (
    Drill,
    Figure,
    Period,
    Report,
    ReportSection,
    Run,
    Section,
    StationColumn,
    StationColumns,
    Table,
    registry,
)
from desktop.services.reports.base import _Ctx
from desktop.services.residents import ResidentForm

OTHER = "340304999"  # a second station code, so 各站对比 is shown


class AuditEntry(NamedTuple):
    id: uuid.UUID
    origin: str
    at: datetime  # local
    action: str
    actor: str


class AuditEntriesSection(ReportSection):
    """A throwaway section written the way the package docstring says: the
    period's audit-log entries, one figure, one table by action, a drill."""

    key, title, kinds = "audit_test", "操作日志", ("audit_entries",)

    def collect(self, run: Run) -> Any:
        c = run.ctx
        with c.db.session() as s:
            run.facts["audit_entries"] = [
                AuditEntry(r[0], r[1], r[2] + c.off, r[3], r[4] or "")
                for r in s.execute(
                    select(AuditLog.id, AuditLog.origin, AuditLog.at, AuditLog.action, AuditLog.actor_name).where(
                        c.in_period(AuditLog.at), c.where_origin(AuditLog.origin)
                    )
                )
            ]

    def section(self, run: Run) -> Section | None:
        facts: list[AuditEntry] = run.facts["audit_entries"]
        p = run.ctx.period
        sec = Section(self.key, self.title)
        sec.figures.append(Figure("操作", len(facts), "条", Drill("audit_entries", "all", (), f"{p.label} 操作")))
        actions = sorted({f.action for f in facts})
        sec.tables.append(
            Table(
                "audit_by_action",
                "按操作",
                ["操作", "条数"],
                [[a, sum(1 for f in facts if f.action == a)] for a in actions],
                [[None, Drill("audit_entries", "all", (("action", a),), a)] for a in actions],
                {1: "int"},
            )
        )
        return sec

    def per_station(self, run: Run) -> StationColumns | None:
        facts: list[AuditEntry] = run.facts["audit_entries"]
        return StationColumns(
            {f.origin for f in facts},
            [
                StationColumn(
                    "操作条数",
                    lambda o: sum(1 for f in facts if f.origin == o),
                    drill=lambda o, name: Drill("audit_entries", "all", (("origin", o),), f"{name} 操作"),
                )
            ],
        )

    def records(
        self, db: Database, report: Report, drill: Drill, facts: list[Any]
    ) -> tuple[list[str], list[list[Any]]]:
        return ["时间", "操作", "经办人", "编号"], [
            [f.at, f.action, f.actor, f.id.hex] for f in sorted(facts, key=lambda f: f.at)
        ]


class ContactsEveryone(ReportSection):
    """A section whose only output is the residents it contacted (as the
    home visits will be): the residents given."""

    key, title, contact_label = "contacts_test", "走访（测试）", "接受测试走访"

    def __init__(self, ids: list[uuid.UUID]) -> None:
        self.ids = ids

    def contacted(self, c: _Ctx) -> list[Any]:
        return [select(Resident.id).where(Resident.id.in_(self.ids))]


def this_month() -> Period:
    t = counter.local_today()
    return Period.month(t.year, t.month)


def _shape(report: Report) -> list[dict[str, Any]]:
    return [dataclasses.asdict(s) for s in report.sections]


def _open(db: Database, actor: Actor, report: Report, drill: Drill | None) -> list[list[Any]]:
    """The rows behind a clickable figure or cell."""
    assert drill is not None
    return reports.records(db, actor, report, drill).rows


def _pdf_text(path: Path) -> str:
    if not shutil.which("pdftotext"):
        pytest.skip("pdftotext not installed")
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout


def test_a_section_added_to_the_registry_is_built_drilled_printed_and_removed(
    station: tuple[Database, Actor], tmp_path: Path
) -> None:
    db, admin = station
    residents.register(
        db,
        admin,
        ResidentForm(name="王秀英", doc_number=make_ric("340304", date(1950, 1, 1), 11), grid="一网格", tags=["独居"]),
    )
    period = this_month()
    code = admin.station_code
    hub = (code, OTHER)
    before = reports.build(db, admin, period)
    before_hub = reports.build(db, admin, period, hub)
    assert [s.title for s in before_hub.sections] == [
        "一、窗口受理",
        "二、好差评",
        "三、开具证明",
        "四、志愿服务",
        "五、入户走访",
        "六、居民信息",
        "七、各站对比",
    ]
    with db.session() as s:
        expected = {r[0].hex for r in s.execute(select(AuditLog.id))}
    assert expected  # setting up the station and registering a resident are logged

    with registry.registered(AuditEntriesSection()):
        report = reports.build(db, admin, period)
        # it sits before 各站对比 and is numbered by its place
        assert [s.key for s in report.sections][-1] == "audit_test"
        sec = report.section("audit_test")
        assert sec.title == "七、操作日志"
        fig = sec.figures[0]
        assert fig.value == len(expected)
        rows = _open(db, admin, report, fig.drill)
        assert {r[3] for r in rows} == expected
        # a table cell's drill filters by its action
        table = sec.tables[0]
        for row, drills in zip(table.rows, table.drills, strict=False):
            got = _open(db, admin, report, drills[1])
            assert len(got) == row[1] and {r[1] for r in got} == {row[0]}
        # a month without entries counts none and opens none
        old = reports.build(db, admin, Period.month(2001, 1))
        assert old.section("audit_test").figures[0].value == 0
        assert _open(db, admin, old, old.section("audit_test").figures[0].drill) == []
        # its per-station column joins 各站对比
        hub_report = reports.build(db, admin, period, hub)
        assert [s.title for s in hub_report.sections][-2:] == ["七、操作日志", "八、各站对比"]
        stations = hub_report.section("comparison").tables[0]
        assert stations.columns[-1] == "操作条数"
        here = next(
            r
            for r, d in zip(stations.rows, stations.drills, strict=False)
            if d[-1] and d[-1].filters == (("origin", code),)
        )
        assert here[-1] == len(expected)
        assert abs(sum(stations.widths or []) - 1) < 1e-9
        # the PDF and the workbook carry it
        pdf = paperwork.save_report_pdf(report, tmp_path / "report.pdf")
        text = _pdf_text(Path(pdf))
        assert "七、操作日志" in text and "按操作" in text
        paperwork.export_report_excel(report, tmp_path / "report.xlsx")
        wb = openpyxl.load_workbook(tmp_path / "report.xlsx")
        summary = [list(r) for r in wb.worksheets[0].iter_rows(values_only=True)]
        assert ["七、操作日志", "操作", len(expected), "条"] in summary
        assert any(name.startswith("操作日志-") for name in wb.sheetnames)

    assert "audit_test" not in [s.key for s in registry.SECTIONS]
    after = reports.build(db, admin, period)
    assert _shape(after) == _shape(before) and set(after.facts) == set(before.facts)
    assert _shape(reports.build(db, admin, period, hub)) == _shape(before_hub)
    with pytest.raises(ValueError):  # keys and drill kinds stay unique
        with registry.registered(AuditEntriesSection()), registry.registered(AuditEntriesSection()):
            pass
    assert "audit_test" not in [s.key for s in registry.SECTIONS]


def test_a_section_that_contacts_residents_changes_who_was_contacted(station: tuple[Database, Actor]) -> None:
    db, admin = station
    people = [
        residents.register(
            db,
            admin,
            ResidentForm(
                name=n, doc_number=make_ric("340304", date(1950, 1, 1 + i), 11 + i), grid="一网格", tags=["独居"]
            ),
        )
        for i, n in enumerate(["王秀英", "李建国"])
    ]
    period = this_month()

    def silent(report: Report) -> float | int | None:
        return next(f.value for f in report.section("residents").figures if f.label == "特殊群体本期未接触")

    assert silent(reports.build(db, admin, period)) == 2
    with registry.registered(ContactsEveryone([people[0]])):
        report = reports.build(db, admin, period)
        assert silent(report) == 1
        fig = next(f for f in report.section("residents").figures if f.label == "特殊群体本期未接触")
        assert [r[0] for r in _open(db, admin, report, fig.drill)] == ["李建国"]
        note = report.section("residents").tables[1].note
        assert (
            note == "一人可属多个群体；“接触”指本期在本站办事、开证明、提出或接受志愿服务、"
            "收到告知单、接受入户走访、接受测试走访。"
        )
        # a section that shows nothing is left out of the report
        assert "contacts_test" not in [s.key for s in report.sections]
    assert silent(reports.build(db, admin, period)) == 2
