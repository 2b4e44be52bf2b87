"""Reports: every figure checked against the records made through the
services, and every figure traced to the records behind it."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from db.clock import utcnow
from db.errors import PermissionDenied, ValidationError
from db.models import Matter, Station
from desktop.services import accounts, certificates as certs, counter, reports, residents, volunteers as vol
from desktop.services.idnumbers import make_ric
from desktop.services.reports import Period
from desktop.services.residents import ResidentForm
from desktop.services.volunteers import NeedForm, VolunteerForm


def this_month() -> Period:
    t = counter.local_today()
    return Period.month(t.year, t.month)


@pytest.fixture
def world(station):
    db, admin = station
    accounts.create_account(db, admin, username="desk1", display_name="李前台", role="desk", password="desk12345")
    desk = accounts.authenticate(db, "desk1", "desk12345")
    people = [
        residents.register(
            db,
            desk,
            ResidentForm(
                name=n,
                doc_number=make_ric("340304", date(1950, 1, 1 + i), 11 + i),
                phone="13812345678",
                grid="一网格",
                tags=tags,
            ),
        )
        for i, (n, tags) in enumerate([("王秀英", ["独居", "高龄"]), ("李建国", ["低保"]), ("赵丽", [])])
    ]
    return db, admin, desk, people


def _type(db, name):
    return next(m for m in counter.catalogue(db) if m.name.startswith(name))


def _figs(report, key):
    return {f.label: f.value for f in report.section(key).figures}


def _row(table, label):
    return next(r for r in table.rows if r[0] == label)


def test_periods():
    assert Period.month(2026, 12).end == date(2026, 12, 31) and Period.month(2026, 2).end == date(2026, 2, 28)
    q = Period.quarter(2026, 4)
    assert (q.start, q.end, q.label) == (date(2026, 10, 1), date(2026, 12, 31), "2026年第四季度")
    assert Period.year(2026).label == "2026年"
    assert Period.between(date(2026, 11, 1), date(2026, 11, 30)).label == "2026年11月"
    assert Period.between(date(2026, 11, 3), date(2026, 11, 9)).label == "2026年11月3日至2026年11月9日"
    assert Period.last_month(date(2026, 1, 15)) == Period.month(2025, 12)
    with pytest.raises(ValidationError):
        Period.between(date(2026, 11, 9), date(2026, 11, 3))
    with pytest.raises(ValidationError):
        Period.between(date(2020, 1, 1), date(2026, 1, 1))


def test_only_supervisors_see_reports(world):
    db, _admin, desk, _ = world
    with pytest.raises(PermissionDenied):
        reports.build(db, desk, this_month())


def test_counter_and_satisfaction_figures_match_the_records(world):
    db, admin, desk, (p1, p2, p3) = world
    live = _type(db, "居住证申领")
    old = _type(db, "老年人优待证")
    a1 = counter.accept(db, desk, p1, live.id, live.required_materials, "window")
    a2 = counter.accept(db, desk, p2, live.id, live.required_materials, "visit")
    a3 = counter.accept(db, desk, p3, old.id, old.required_materials, "phone")
    a4 = counter.accept(db, desk, p3, old.id, old.required_materials, "window")
    counter.close(db, desk, a1.matter_id, "已办结", 5)
    counter.close(db, desk, a2.matter_id, "已办结", 1, "跑了两趟")
    counter.transition(db, desk, a3.matter_id, "return", "材料不全")
    # One matter from last month, still open and past its promised date: open at
    # the end of this month and overdue, but not "accepted" this month.
    start = this_month().start
    with db.session() as s:
        m = s.get(Matter, a4.matter_id)
        m.accepted_at = datetime.combine(start - timedelta(days=20), datetime.min.time())
        m.promised_date = start - timedelta(days=2)
    r = reports.build(db, admin, this_month())
    f = _figs(r, "counter")
    assert (f["受理"], f["办结"], f["退回"], f["期末在办"], f["超期未办结"], f["超期办结"]) == (3, 2, 1, 1, 1, 0)
    by_channel = r.section("counter").tables[2]
    assert _row(by_channel, "窗口")[1:6] == [1, 1, 1, 0, 1]  # a1 accepted+done; a4 open and overdue
    assert _row(by_channel, "上门")[1:3] == [1, 1] and _row(by_channel, "电话")[1:3] == [1, 0]
    assert _row(by_channel, "合计")[1:6] == [3, 2, 1, 0, 1]
    by_matter = r.section("counter").tables[1]
    assert _row(by_matter, live.name)[1:3] == [2, 2] and _row(by_matter, live.name)[8] == live.promised_days
    assert f["平均用时"] == 0 and f["最长用时"] == 0  # closed the day they were accepted
    s = _figs(r, "satisfaction")
    assert (s["评价数"], s["差评"], s["差评已整改回访"]) == (2, 1, 0) and s["满意率"] == 0.5
    assert s["评价率"] == 1.0
    bad = r.section("satisfaction").tables[1]
    assert len(bad.rows) == 1 and bad.rows[0][1] == a2.receipt_no and bad.rows[0][4] == "跑了两趟"
    assert bad.rows[0][5] == "整改中"
    # The records behind "受理" are the three matters, named.
    recs = reports.records(db, admin, r, r.section("counter").figures[0].drill)
    assert sorted(x[0] for x in recs.rows) == sorted([a1.receipt_no, a2.receipt_no, a3.receipt_no])
    assert {x[1] for x in recs.rows} == {"王秀英", "李建国", "赵丽"}
    # Last month holds a4 as accepted.
    prev = reports.build(db, admin, Period.last_month(counter.local_today()))
    assert _figs(prev, "counter")["受理"] == 1 and _figs(prev, "counter")["期末在办"] == 1


def test_certificates_section(world):
    db, admin, desk, (p1, p2, _p3) = world
    by = {t.code: t for t in certs.catalogue(db)}
    r01 = by["R01"]
    vals = {"since": "2001年3月", "purpose": "子女入学"}
    c1 = certs.issue(db, desk, p1, r01.id, vals, r01.materials)
    certs.issue(db, desk, p2, r01.id, vals, r01.materials)
    certs.reissue(db, admin, c1.id, "原件遗失")
    certs.refuse(db, desk, by["N01"].id, p1)
    certs.refuse(db, desk, by["N01"].id, p2)
    certs.refuse(db, desk, by["N08"].id, None)
    r = reports.build(db, admin, this_month())
    f = _figs(r, "certificates")
    assert (f["开具"], f["作废"], f["补开"], f["拒开（负面清单）"], f["用印"]) == (3, 1, 1, 3, 3)
    by_type = r.section("certificates").tables[0]
    assert _row(by_type, r01.name)[1:] == [3, 1, 1]
    refusals = r.section("certificates").tables[1]
    assert _row(refusals, by["N01"].name)[1] == 2 and _row(refusals, "合计")[1] == 3
    seal = r.section("certificates").tables[2]
    assert len(seal.rows) == 3 and all(row[2] for row in seal.rows)


def test_volunteer_section_counts_needs_hours_and_party_targets(world):
    db, admin, desk, (p1, _p2, _p3) = world
    today = date.today()
    slot = f"{today.isoweekday()}am"
    vid, number = vol.register(
        db,
        admin,
        VolunteerForm(
            name="张三",
            doc_number=make_ric("340304", date(1985, 1, 1), 31),
            phone="13900000000",
            skills=["shopping"],
            availability=[slot],
            data_consent=True,
            party_member=True,
            employer="区税务局",
            yearly_target_hours=20,
        ),
    )
    n1 = vol.create_need(db, desk, NeedForm(title="代买菜", resident_id=p1, skills=["shopping"], day=today, hours=2))
    n2 = vol.create_need(db, desk, NeedForm(title="修电视", resident_id=p1, skills=["appliance"], day=today))
    vol.move_need(db, desk, n1, "accept")
    vol.move_need(db, desk, n2, "refuse", "不属于服务范围")
    (asg,) = vol.assign(db, desk, n1, [vid])
    start = datetime.combine(today, datetime.min.time()) + timedelta(hours=9)
    vol.complete(db, desk, asg, start, start + timedelta(hours=2), rating=5, today=today)
    r = reports.build(db, admin, this_month())
    f = _figs(r, "volunteers")
    assert (f["收到需求"], f["派单"], f["完成"], f["拒绝"], f["服务人次"], f["服务时长"]) == (2, 1, 1, 1, 1, 2.0)
    sec = r.section("volunteers")
    assert _row(sec.tables[0], "代购")[1:] == [1, 2.0]
    assert sec.tables[1].rows == [[number, "张三", 1, 2.0]]
    assert sec.tables[2].rows == [[number, "张三", "区税务局", 20.0, 2.0, 18.0, 0.1]]


def test_residents_section_finds_special_groups_without_contact(world, tmp_path_factory):
    db, admin, desk, (p1, p2, _p3) = world
    r = reports.build(db, admin, this_month())
    f = _figs(r, "residents")
    assert f["新登记居民"] == 3 and f["特殊群体"] == 2 and f["特殊群体本期未接触"] == 2
    t = counter.accept(db, desk, p1, _type(db, "居住证申领").id, _type(db, "居住证申领").required_materials)
    assert t.receipt_no
    r = reports.build(db, admin, this_month())
    no_contact = r.section("residents").tables[2]
    # counts by grid and tag for the street; the names only behind the count, in the app
    assert all(len(row) == 3 and isinstance(row[2], int) for row in no_contact.rows) and no_contact.rows
    assert not any("李建国" in str(cell) for row in no_contact.rows for cell in row)
    named = {f.name for row in no_contact.drills for f in reports.matching(db, r, row[2])}
    assert named == {"李建国"}
    # neither the month's PDF nor its Excel for the street names anyone
    import shutil
    import subprocess

    import openpyxl

    from desktop import paperwork

    out = tmp_path_factory.mktemp("street")
    paperwork.save_report_pdf(r, out / "r.pdf")
    paperwork.export_report_excel(r, out / "r.xlsx")
    cells = [
        str(c)
        for ws in openpyxl.load_workbook(out / "r.xlsx").worksheets
        for row in ws.iter_rows(values_only=True)
        for c in row
        if c is not None
    ]
    assert any("未接触人数" in c for c in cells) and not any("李建国" in c for c in cells)
    if shutil.which("pdftotext"):
        text = subprocess.run(["pdftotext", str(out / "r.pdf"), "-"], capture_output=True, text=True, check=True).stdout
        assert "未接触人数" in text and "李建国" not in text
    groups = r.section("residents").tables[1]
    assert _row(groups, "独居")[1:] == [1, 0] and _row(groups, "低保")[1:] == [1, 1]


def _every_drillable_figure_matches(db, admin, report):
    checked = 0
    for sec in report.sections:
        for f in sec.figures:
            if f.drill is None or f.value is None:
                continue
            facts = reports.matching(db, report, f.drill)
            if f.fmt == "int":
                assert f.value == len(facts), (sec.key, f.label)
                checked += 1
            elif f.fmt == "hours" and f.drill.kind == "services":
                assert f.value == pytest.approx(sum(x.hours for x in facts)), (sec.key, f.label)
                checked += 1
        for t in sec.tables:
            for row, drills in zip(t.rows, t.drills, strict=True):
                for i, d in enumerate(drills):
                    if d is None or row[i] is None:
                        continue
                    facts = reports.matching(db, report, d)
                    if t.formats.get(i) == "int":
                        assert row[i] == len(facts), (t.key, row[0], t.columns[i])
                        checked += 1
                    elif t.formats.get(i) == "hours" and d.kind == "services":
                        assert row[i] == pytest.approx(sum(x.hours for x in facts)), (t.key, row[0])
                        checked += 1
                    elif t.formats.get(i) == "days":
                        used = [x.used_days for x in facts if x.used_days is not None]
                        assert row[i] in (max(used), round(sum(used) / len(used), 1)), (t.key, row[0])
                        checked += 1
    return checked


@pytest.mark.slow
def test_every_figure_traces_to_its_records_on_the_demo_station(station):
    db, admin = station
    from desktop.services import demo
    from desktop.services.demo import (
        certificates as demo_certificates,
        counter as demo_counter,
        volunteers as demo_volunteers,
    )

    demo.fill_demo(db, n_residents=400, seed=5)
    demo_counter.fill_counter(db, n_matters=500, seed=5)
    demo_certificates.fill_certificate_history(db, seed=5)
    demo_volunteers.fill_volunteers(db, n_volunteers=40, n_needs=10, seed=5)
    demo_volunteers.fill_volunteer_history(db, seed=5)
    today = counter.local_today()
    for period in (Period.last_month(today), this_month(), Period.quarter(today.year, (today.month + 2) // 3)):
        report = reports.build(db, admin, period)
        assert _every_drillable_figure_matches(db, admin, report) > 100
        assert _figs(report, "counter")["受理"] > 0
        # the records lists have the same number of rows as the figure says
        fig = report.section("counter").figures[1]
        assert len(reports.records(db, admin, report, fig.drill).rows) == fig.value


def test_hub_compares_stations_and_filters_by_station(world):
    db, admin, desk, (p1, _p2, _p3) = world
    live = _type(db, "居住证申领")
    counter.accept(db, desk, p1, live.id, live.required_materials)
    # A second station's records, as a sync import would leave them.
    from db.writes import APPLYING_REMOTE

    with db.session() as s:
        s.info[APPLYING_REMOTE] = True
        mt = s.scalar(select(Station))
        s.add(
            Station(
                code="340304002", name="和平村党群服务中心", level="village", origin="340304002", hlc=1, field_clocks={}
            )
        )
        for i in range(2):
            s.add(
                Matter(
                    receipt_no=f"340304002-20260101-000{i}",
                    resident_id=p1,
                    matter_type_id=live.id,
                    matter_name=live.name,
                    category=live.category,
                    channel="window",
                    status="accepted",
                    accepted_at=utcnow(),
                    promised_date=date.today() + timedelta(days=5),
                    handler_name="周",
                    accepted_by="周",
                    materials=[],
                    origin="340304002",
                    hlc=1,
                    field_clocks={},
                )
            )
        assert mt is not None
    r = reports.build(db, admin, this_month())
    comp = r.section("comparison").tables[0]
    assert _row(comp, "和平村党群服务中心")[1] == 2 and _row(comp, "幸福里社区党群服务中心")[1] == 1
    assert _figs(r, "counter")["受理"] == 3
    only = reports.build(db, admin, this_month(), stations=["340304002"])
    assert _figs(only, "counter")["受理"] == 2 and only.station_label == "和平村党群服务中心"
    assert all(s.key != "comparison" for s in only.sections)
    both = reports.build(db, admin, this_month(), stations=["340304001", "340304002"])
    assert any(s.key == "comparison" for s in both.sections)


def test_working_days_of_a_matter_accepted_long_before_it_was_closed(world):
    """用时 is computed by the database from the calendar; a matter accepted
    more than a year before the period still counts its holidays."""
    from desktop.services import workdays

    db, admin, desk, (p1, _p2, _p3) = world
    live = _type(db, "居住证申领")
    old = counter.accept(db, desk, p1, live.id, live.required_materials)
    recent = counter.accept(db, desk, p1, live.id, live.required_materials)
    accepted = datetime.combine(counter.local_today() - timedelta(days=430), datetime.min.time()) + timedelta(hours=2)
    with db.session() as s:
        s.get(Matter, old.matter_id).accepted_at = accepted
    counter.close(db, desk, old.matter_id, "已办结", 5)
    counter.close(db, desk, recent.matter_id, "已办结", 5)
    r = reports.build(db, admin, this_month())
    f = _figs(r, "counter")
    cal = workdays.load(db)
    local_acc = (accepted.replace(tzinfo=timezone.utc).astimezone().replace(tzinfo=None)).date()
    expected = cal.working_days_between(local_acc, counter.local_today())
    assert expected > 250 and f["办结"] == 2 and f["最长用时"] == expected
    assert f["平均用时"] == round(expected / 2, 1)
    done = reports.matching(db, r, r.section("counter").figures[1].drill)
    assert sorted(x.used_days for x in done) == [0, expected]
