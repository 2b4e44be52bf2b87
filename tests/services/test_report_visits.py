"""入户走访 in the month's report: done vs due by tier and grid, every number
opens exactly the households or visits it counts, and a visit that met the
resident counts as 本期接触 — on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date

import pytest

from desktop import paperwork
from desktop.services import households, reports, residents, visits
from desktop.services.reports import Period
from desktop.services.residents import ResidentForm
from desktop.services.visits import VisitForm

TODAY = date(2026, 12, 2)
NOV = Period.month(2026, 11)


@pytest.fixture
def world(station):
    db, admin = station

    def person(name, tags, grid, room):
        return residents.register(
            db, admin, ResidentForm(name=name, tags=tags, grid=grid, estate="幸福里", building="1", unit="1", room=room)
        )

    def visit(rid, day, outcome="met"):
        visits.record_visit(
            db,
            admin,
            VisitForm(resident_id=rid, day=day, outcome=outcome, met="本人" if outcome == "met" else ""),
            today=TODAY,
        )

    weekly = person("独居甲", ["独居"], "第一网格", "101")
    spouse = person("老伴甲", ["高龄"], "第一网格", "101")
    hid = households.new_household(db, admin, weekly)
    households.move(db, admin, spouse, hid, "配偶")
    monthly = person("低保乙", ["低保"], "第二网格", "201")
    never = person("高龄丙", ["高龄"], "第二网格", "301")
    for d in (2, 9, 16):
        visit(weekly, date(2026, 11, d))
    visit(weekly, date(2026, 11, 23), "not_home")
    visit(monthly, date(2026, 11, 5))
    visit(monthly, date(2026, 11, 20))
    visit(never, date(2026, 11, 12), "not_home")
    visit(weekly, date(2026, 12, 1))  # after the period
    return db, admin, {"weekly": weekly, "spouse": spouse, "monthly": monthly, "never": never}


def test_visits_section_figures_and_drill_down_agree(world, tmp_path):
    db, admin, who = world
    r = reports.build(db, admin, NOV, today=TODAY)
    sec = r.section("visits")
    assert sec.title.endswith("入户走访")
    figs = {f.label: f for f in sec.figures}
    assert (figs["应走访户"].value, figs["已走访户"].value, figs["未走访户"].value) == (3, 2, 1)
    assert (figs["走访（见到）"].value, figs["不在家"].value) == (5, 2)
    assert figs["走访完成率"].value == pytest.approx(4 / 7)  # weekly 3 of 5, monthly 1 of 1, quarterly 0 of 1
    for f in sec.figures:
        if f.drill is not None:
            assert len(reports.records(db, admin, r, f.drill).rows) == f.value, f.label
    for t in sec.tables:
        for row, drills in zip(t.rows, t.drills, strict=True):
            for value, drill in zip(row, drills, strict=True):
                if drill is not None:
                    assert len(reports.records(db, admin, r, drill).rows) == value, (t.key, row[0], drill.pred)
    by_tier = {row[0]: row for row in sec.tables[0].rows}
    assert by_tier["每周"][1:6] == [1, 1, 5, 3, pytest.approx(0.6)]
    assert {row[0] for row in sec.tables[1].rows} == {"第一网格", "第二网格"}
    not_visited = reports.records(db, admin, r, figs["未走访户"].drill)
    assert [row[0] for row in not_visited.rows] == ["高龄丙"] and not_visited.rows[0][7] == 1  # one 不在家
    # the section reaches the printed report
    doc = paperwork.report_document(r)
    assert "入户走访" in doc.text and "按走访频次" in doc.text


def test_a_visit_that_met_someone_counts_as_contact(world):
    db, admin, who = world
    r = reports.build(db, admin, NOV, today=TODAY)
    silent = reports.matching(
        db, r, next(f for f in r.section("residents").figures if f.label == "特殊群体本期未接触").drill
    )
    names = {f.name for f in silent}
    assert names == {"高龄丙"}  # not at home is no contact; the spouse was visited at home
    assert any("接受入户走访" in t.note for t in r.section("residents").tables)
    assert visits.visited_residents(db, NOV.start, NOV.end) == {who["weekly"], who["spouse"], who["monthly"]}


def test_no_visits_and_no_schedule_leaves_the_section_out(station):
    db, admin = station
    r = reports.build(db, admin, NOV, today=TODAY)
    assert all(s.key != "visits" for s in r.sections)
