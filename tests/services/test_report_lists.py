"""减负与公开 in the month's report: every figure opens exactly the records
it counted, the per-department table adds up, the board figures equal the
清单公开 page's, a request received in another month is left out, and a
month with none of these leaves the section out."""

from __future__ import annotations

from datetime import date, timedelta

from desktop.services import postings, reports, workitems
from desktop.services.reports import Period


def _month(d: date) -> Period:
    return Period.month(d.year, d.month)


def test_figures_and_drill_downs_agree(station):
    db, admin = station
    today = postings.today()
    period = _month(today)
    assert "lists" not in [s.key for s in reports.build(db, admin, period).sections]  # nothing yet: left out
    items = workitems.catalogue(db)
    neg = workitems.search(items, "拆违")[0]
    assist = workitems.search(items, "普查")[0]
    first = period.start
    for dept, item in (("区城市管理局", neg), ("区城市管理局", neg), ("区统计局", assist), ("区统计局", None)):
        workitems.record_request(
            db, admin, department=dept, content=f"{dept}的事项", received_on=first, item_id=item.id if item else None
        )
    workitems.record_request(
        db, admin, department="区城市管理局", content="上个月的", item_id=neg.id, received_on=first - timedelta(days=1)
    )
    up = postings.create(db, admin, title="在公示", body="x", category="party", on_date=today)
    late = postings.create(
        db,
        admin,
        title="逾期",
        body="x",
        category="finance",
        on_date=today - timedelta(days=40),
        off_date=today - timedelta(days=1),
    )
    postings.create(db, admin, title="未张贴", body="x", category="service", on_date=today)
    for pid in (up, late):
        postings.mark_up(db, admin, pid)

    report = reports.build(db, admin, period)
    sec = report.section("lists")
    figs = {f.label: f for f in sec.figures}
    assert {k: figs[k].value for k in figs} == {
        "部门下派事项": 4,
        "其中负面清单": 2,
        "未经准入": 1,
        "已退回": 3,
        "本期张贴公示": 2,
        "期末公示中": 2,
        "逾期未撤": 1,
    }
    for f in sec.figures:  # each figure opens exactly as many records as it says
        assert len(reports.records(db, admin, report, f.drill).rows) == f.value, f.label
    board = postings.counts(db)
    assert (figs["期末公示中"].value, figs["逾期未撤"].value) == (board["up"], board["overdue"])
    m = workitems.monitoring(db, period.start, period.end)
    assert (m.total, m.declined) == (figs["部门下派事项"].value, figs["已退回"].value)
    [table] = sec.tables
    total = table.rows[-1]
    assert total[0] == "合计" and total[-1] == 4 and total[3] == 2
    for row, drills in zip(table.rows, table.drills, strict=False):  # every cell opens the records it counts
        for value, drill in zip(row[1:], drills[1:], strict=False):
            assert len(reports.records(db, admin, report, drill).rows) == value
    city = next(r for r in table.rows if r[0] == "区城市管理局")
    assert city[1:] == [0, 0, 2, 0, 2, 2]
    rows = reports.records(db, admin, report, figs["逾期未撤"].drill).rows
    assert [r[0] for r in rows] == ["逾期"]
    last = reports.build(db, admin, Period.month((first - timedelta(days=1)).year, (first - timedelta(days=1)).month))
    assert last.section("lists").figures[0].value == 1  # the earlier request counts in its own month
