"""值班 in the window: the supervisor marks A away (a double click on 登记
makes one record), and B's 接待台 then lists A's open matters on 我的 with
the 代岗 marker, under the 今日值班 line."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from PySide6.QtCore import QDateTime
from sqlalchemy import func, select

from db.models import Absence
from desktop.services import accounts, counter, residents, rota
from desktop.services.idnumbers import make_ric
from desktop.services.residents import ResidentForm
from desktop.services.rota import AreaView, ShiftForm
from tests.gui.test_counter_page import make_window
from tests.gui.test_no_reentry import double_click, slow


def _pick(combo, value) -> None:
    combo.setCurrentIndex(next(i for i in range(combo.count()) if combo.itemData(i) == value))


def test_marking_a_away_puts_as_matters_on_bs_board(qtbot, gui, station_db, monkeypatch, no_modal_boxes):
    from desktop.ui.pages.rota import AwayDialog

    db, admin = station_db
    for user, name in (("a1", "张敏"), ("b1", "刘洋")):
        accounts.create_account(db, admin, username=user, display_name=name, role="desk", password="pass12345")
    a = accounts.authenticate(db, "a1", "pass12345")
    b = accounts.authenticate(db, "b1", "pass12345")
    rota.save_area(db, admin, AreaView(None, "社会救助", "1号窗口", ["社会救助"], a.account_id, b.account_id))
    today = date.today()
    rota.save_shift(db, admin, ShiftForm(a.account_id, "1号窗口", today, time(0, 5), time(11, 0), "staggered"))
    rid = residents.register(
        db, admin, ResidentForm(name="王秀英", doc_number=make_ric("340304", date(1940, 3, 5), 22))
    )
    t = next(m for m in counter.catalogue(db) if m.category == "社会救助" and m.mode != "inform")
    mine = [counter.accept(db, a, rid, t.id, t.required_materials).matter_id for _ in range(2)]

    win = make_window(qtbot, gui, db, admin)
    page = win.page("rota")
    win.show_page(win.pages.keys.index("rota"))
    gui.settle()
    assert page.week is not None and page.pairs.rowCount() == 1 and page.away_btn.isVisible()
    assert "错时 10.9 小时" in page.summary.text()  # 00:05–11:00, one decimal
    dlg = AwayDialog(page)
    qtbot.addWidget(dlg)
    dlg.show()
    _pick(dlg.who, a.account_id)
    assert dlg.cover.currentData() == b.account_id  # the A/B partner, chosen for the supervisor
    now = datetime.now()
    dlg.start.setDateTime(QDateTime(now - timedelta(hours=1)))
    dlg.end.setDateTime(QDateTime(now + timedelta(days=1)))
    slow(monkeypatch, rota, "mark_away")
    calls = []
    timed = rota.mark_away
    monkeypatch.setattr(rota, "mark_away", lambda *a, **kw: calls.append(1) or timed(*a, **kw))
    double_click(qtbot, gui, dlg.ok)
    assert len(calls) == 1  # the second click found the button held (the overlap rule would refuse it anyway)
    assert not any(lbl.isVisible() for lbl in dlg.errors.labels.values())
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(Absence)) == 1
    assert "2 件在办事项已记录移交" in dlg.result_text and "刘洋代岗" in dlg.result_text
    page.message.setText(dlg.result_text)
    page.refresh()
    gui.settle()
    assert page.away_table.rowCount() == 1 and page.away_table.item(0, 3).text() == "刘洋"
    for mid in mine:
        assert [e.target for e in counter.get(db, mid).events if e.kind == "cover"] == ["刘洋"]

    # B signs in: 我的 holds A's two matters, marked, under 今日值班
    win_b = make_window(qtbot, gui, db, b)
    cp = win_b.counter_page
    win_b.show_page(win_b.pages.index(cp))
    gui.settle()
    model = cp.models["mine"]
    assert sorted(r.id for r in model.rows) == sorted(mine)
    assert model.data(model.index(0, 7)) == "张敏（请假·我代岗）"
    assert cp.tabs.tabText(3) == "我的 2（含代岗 2）"
    assert cp.duty.text().startswith("今日值班：1号窗口 张敏 00:05–11:00 错时（请假，刘洋代岗）")
    # B reads the rota but cannot edit it
    rp = win_b.page("rota")
    win_b.show_page(win_b.pages.keys.index("rota"))
    gui.settle()
    assert not rp.away_btn.isVisible() and not rp.shift_btn.isVisible() and rp.print_btn.isVisible()
    # A is back early: the supervisor withdraws the absence; the page says
    # what happened to the matters, and B's board no longer holds them
    page.away_table.selectRow(0)
    slow(monkeypatch, rota, "cancel_absence")
    double_click(qtbot, gui, page.cancel_btn)  # one withdrawal, one note per matter
    qtbot.waitUntil(lambda: "已撤销" in page.message.text(), timeout=5000)
    assert page.message.text() == "已撤销张敏的离岗登记。2 件在办事项的记录已注明，事项由张敏办理。"
    assert page.away_table.rowCount() == 0
    page.grab().save(str(gui.tmp / "rota-withdrawn.png"))
    for mid in mine:
        assert "事项交回张敏办理" in [e.note for e in counter.get(db, mid).events if e.kind == "note"][-1]
        assert len([e for e in counter.get(db, mid).events if e.kind == "note"]) == 1
    assert rota.cover_rows(db, b.account_id) == []
