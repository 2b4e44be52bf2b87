"""The report's big queries read the indexes made for them (migrations 0013
and 0014), on a station file with no planner statistics, as every station
file is: a plan that falls back to looking up each row makes the month's
report several times slower on a busy street without changing a figure,
so only the plan shows it."""

from __future__ import annotations

from sqlalchemy import event

from desktop.services.reports import Period
from desktop.services.reports.base import _Ctx
from desktop.services.reports.counter import _MatterSQL


def _plans(db, run) -> list[tuple[str, list[str]]]:
    seen: list[tuple[str, object]] = []

    def grab(conn, cursor, statement, parameters, context, executemany):  # noqa: ANN001
        if "FROM matters" in statement and "GROUP BY" in statement:
            seen.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", grab)
    try:
        run()
    finally:
        event.remove(db.engine, "before_cursor_execute", grab)
    out = []
    with db.session() as s:
        conn = s.connection()
        for statement, parameters in seen:
            plan = [r[3] for r in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters)]
            out.append((statement, plan))
    return out


def test_counter_slices_read_their_indexes(sqlite_db):
    from desktop.services import accounts

    db = sqlite_db
    accounts.setup_station(
        db, code="340304001", name="幸福里社区", level="community", admin_username="admin", admin_password="admin123"
    )
    c = _Ctx(db, Period.month(2026, 11), ())
    msql = _MatterSQL(c, c.calendar)
    plans = _plans(db, lambda: [msql.slice_rows(i) for i in range(len(msql.slices()))])
    assert len(plans) == 4
    searches = [
        [step for step in plan if "matters" in step and ("SEARCH" in step or "SCAN" in step)] for _, plan in plans
    ]
    # no slice reads the whole table
    assert not any(step.startswith("SCAN matters") for steps in searches for step in steps), searches
    accepted, closed_in, still_open, closed_after = (" ".join(s) for s in searches)
    assert "ix_matters_accepted" in accepted
    assert "ix_matters_closed_at" in closed_in and "ix_matters_closed_at" in closed_after
    # the open matters: the partial index alone, never a row (35 000 of them
    # on the benchmark's street took 0.4 s through ix_matters_closed_at)
    assert "COVERING INDEX ix_matters_open" in still_open, still_open


def test_closed_at_index_holds_only_closed_matters(sqlite_db):
    with sqlite_db.session() as s:
        sql = (
            s.connection()
            .exec_driver_sql(
                "SELECT sql FROM sqlite_master WHERE name IN ('ix_matters_closed_at', 'ix_matters_open') ORDER BY name"
            )
            .scalars()
            .all()
        )
    closed, open_ = sql
    assert closed.rstrip().endswith("WHERE closed_at IS NOT NULL")
    columns, where = open_.split("WHERE")
    assert where.strip() == "closed_at IS NULL" and "closed_at" in columns
