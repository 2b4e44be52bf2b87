"""委托代办 in the month's report: 登记/办理/回复 equal the 代办台账's figures,
every figure and table cell opens exactly the records it counts, the
section reaches the PDF, the workbook and 各站对比 — on both engines."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from pathlib import Path

import openpyxl
from sqlalchemy import select

from db.localtime import to_utc
from db.models import ProxyCase
from desktop import paperwork
from desktop.services import counter, proxy, reports, residents
from desktop.services.idnumbers import make_ric
from desktop.services.proxy import AgentForm, Original, ProxyForm
from desktop.services.reports import Period
from desktop.services.residents import ResidentForm
from tests.services.test_report_sections import OTHER, _pdf_text


def _month() -> Period:
    t = counter.local_today()
    return Period.month(t.year, t.month)


def _setup(db, admin):
    rids = [
        residents.register(db, admin, ResidentForm(name=n, doc_number=make_ric("340304", date(1940, 3, i + 1), 22)))
        for i, n in enumerate(("王秀英", "李桂兰", "张德明"))
    ]
    a1 = proxy.save_agent(db, admin, AgentForm(name="陈国强", village_group="第三村民小组"))
    a2 = proxy.save_agent(db, admin, AgentForm(name="刘芳", village_group="第一村民小组"))
    t = next(m for m in counter.catalogue(db) if m.name.startswith("居住证申领"))
    items = [Original(x, 1) for x in t.required_materials]
    cases = [
        proxy.register(db, admin, ProxyForm(a, r, t.id, items)).case_id
        for a, r in ((a1, rids[0]), (a1, rids[1]), (a2, rids[2]), (a2, rids[0]))
    ]
    for cid in cases[:3]:
        proxy.forward(db, admin, cid, "镇便民服务中心")
    for cid in cases[:2]:
        proxy.result_back(db, admin, cid, "已办好")
    proxy.hand_back(db, admin, cases[0], [True] * len(items))
    # one registered last month: counts as 办理 this month only
    mid_last_month = (counter.local_today().replace(day=1) - timedelta(days=1)).replace(day=15)
    with db.session() as s:
        c = s.get(ProxyCase, cases[1])
        c.received_at = to_utc(datetime.combine(mid_last_month, time(10)))
        c.forwarded_at = c.received_at + timedelta(days=1)
    return a1, a2, cases


def test_the_section_agrees_with_the_ledger_and_its_drill_down(station, tmp_path):
    db, admin = station
    before = reports.build(db, admin, _month())
    assert "proxy" not in [s.key for s in before.sections]  # no 代办 service: no section
    a1, a2, cases = _setup(db, admin)
    period = _month()
    report = reports.build(db, admin, period)
    sec = report.section("proxy")
    assert sec.title.endswith("、委托代办")
    led = proxy.ledger(db, period.start, period.end)
    assert (
        [(f.label, f.value) for f in sec.figures]
        == [("登记", led.registered), ("办理", led.handled), ("回复", led.replied)]
        == [("登记", 3), ("办理", 2), ("回复", 1)]
    )
    for fig, key in zip(sec.figures, proxy.FIGURES, strict=False):
        rows = reports.records(db, admin, report, fig.drill).rows
        assert {r[0] for r in rows} == {c.receipt_no for c in proxy.cases(db, key, period.start, period.end)}
        assert len(rows) == fig.value
    table = sec.tables[0]
    assert [r[:2] for r in table.rows] == [["第一村民小组", "刘芳"], ["第三村民小组", "陈国强"], ["合计", ""]]
    by_agent = {a.agent_name: a for a in led.by_agent}
    for row, drills in zip(table.rows, table.drills, strict=False):
        if row[0] != "合计":
            a = by_agent[row[1]]
            assert row[2:] == [a.registered, a.handled, a.replied]
        for value, drill in zip(row[2:], drills[2:], strict=False):
            got = reports.records(db, admin, report, drill).rows
            assert len(got) == value
            assert row[0] == "合计" or {r[3] for r in got} <= {row[1]}
    names = {r[1] for r in reports.records(db, admin, report, sec.figures[0].drill).rows}
    assert names == {"王秀英", "张德明"}  # names for the supervisor, never ID numbers
    # last month: the one registered then
    prev = Period.month(*(lambda d: (d.year, d.month))(period.start - timedelta(days=1)))
    old = reports.build(db, admin, prev).section("proxy")
    assert [f.value for f in old.figures] == [1, 0, 0]
    # the PDF, the workbook and 各站对比 carry it
    text = _pdf_text(Path(paperwork.save_report_pdf(report, tmp_path / "r.pdf")))
    assert "委托代办" in text and "代办台账（按代办员）" in text
    paperwork.export_report_excel(report, tmp_path / "r.xlsx")
    summary = [list(r) for r in openpyxl.load_workbook(tmp_path / "r.xlsx").worksheets[0].iter_rows(values_only=True)]
    assert [sec.title, "登记", 3, "件"] in summary
    hub = reports.build(db, admin, period, (admin.station_code, OTHER))
    comp = hub.section("comparison").tables[0]
    col = comp.columns.index("代办登记")
    here = next(r for r in comp.rows if r[col] == 3)
    assert here is not None
    other_station = reports.build(db, admin, period, (OTHER,))
    assert "proxy" not in [s.key for s in other_station.sections]


def test_a_station_with_agents_but_no_matters_reports_zeros(station):
    db, admin = station
    proxy.save_agent(db, admin, AgentForm(name="陈国强", village_group="第三村民小组"))
    sec = reports.build(db, admin, _month()).section("proxy")
    assert [f.value for f in sec.figures] == [0, 0, 0] and sec.tables[0].rows == []
    with db.session() as s:
        assert s.scalar(select(ProxyCase.id)) is None
