"""代办 in the window, as a desk worker: register a matter a village-group
agent brought (a double click on 登记 makes one record), step it through
转交 → 结果取回 → 交还居民, print the hand-over slip, refuse the slip of a
matter without originals, and export the month's ledger."""

from __future__ import annotations

import os
from datetime import date

from sqlalchemy import func, select

from db.models import Matter, ProxyCase
from desktop.services import accounts, counter, proxy, residents
from desktop.services.counter import MatterTypeView
from desktop.services.idnumbers import make_ric
from desktop.services.proxy import AgentForm
from desktop.services.residents import ResidentForm
from tests.gui.test_counter_page import make_window

SHOTS = os.environ.get("PROXY_SHOTS")  # a folder: also save what the test shows, at 1366x768


def _shot(widget, name: str) -> None:
    if SHOTS:
        widget.grab().save(os.path.join(SHOTS, name + ".png"))


def _count(db, model):
    with db.session() as s:
        return s.scalar(select(func.count()).select_from(model))


def test_register_step_and_print(qtbot, gui, station_db, monkeypatch, no_modal_boxes, tmp_path):
    from desktop.ui.pages import proxy as pp
    from desktop.ui.printing import PreviewDialog

    db, admin = station_db
    residents.register(
        db, admin, ResidentForm(name="王秀英", doc_number=make_ric("340304", date(1940, 3, 5), 22), phone="13812345678")
    )
    proxy.save_agent(db, admin, AgentForm(name="陈国强", village_group="第三村民小组", phone="13900001111"))
    desk = accounts.authenticate(db, "desk1", "desk1234")
    win = make_window(qtbot, gui, db, desk)
    page = win.page("proxy")
    win.show_page(win.pages.index(page))
    gui.settle()
    assert not page.add_agent_btn.isEnabled()  # agents are the supervisor's
    assert page.agent_table.item(0, 1).text() == "陈国强"

    def register(dlg):
        gui.settle()  # the catalogue
        dlg.picker.search("王秀英")
        gui.settle()
        dlg.picker.list.setCurrentRow(0)
        i = next(i for i in range(dlg.matter.count()) if dlg.matter.itemText(i).startswith("居住证申领"))
        dlg.matter.setCurrentIndex(i)
        names = [o.name for o in dlg.items()]
        assert names and names == [m.name for m in dlg.types[dlg.matter.currentData()].materials]
        dlg.add_original("户口簿", 1)
        _shot(dlg, "proxy-register")
        dlg.submit()
        dlg.submit()  # a double click: the second is ignored while the first runs
        gui.settle()
        return dlg.result()

    monkeypatch.setattr(pp.RegisterDialog, "exec", register)
    page.register()
    qtbot.waitUntil(lambda: gui.worker.pending == 0 and page.case_table.rowCount() == 1)
    assert _count(db, ProxyCase) == 1 and _count(db, Matter) == 1
    assert "已登记代办" in page.note.text()
    assert page.case_table.item(0, 7).text() == "已收件" and page.step_btn.text() == "登记转交…"
    _shot(win, "proxy-page")

    steps = iter([("to", "镇便民服务中心"), ("result", "居住证已制好，代办员领回"), ("back", "")])

    def step(dlg):
        kind, value = next(steps)
        if kind == "to":
            dlg.to.setCurrentText(value)
        elif kind == "result":
            dlg.result_edit.setPlainText(value)
        else:
            dlg.returned[-1].setChecked(False)  # the 户口簿 stays with the office ...
            dlg.submit()
            gui.settle()
            assert "没有退还" in dlg.errors.labels["note"].text()  # ... which needs a reason
            dlg.note_edit.setText("户口簿由派出所留存核对")
            _shot(dlg, "proxy-hand-back")
        dlg.submit()
        gui.settle()
        return dlg.result()

    monkeypatch.setattr(pp.StepDialog, "exec", step)
    for label in ("已转交", "结果已取回"):
        page.case_table.setCurrentCell(0, 0)
        page.next_step()
        qtbot.waitUntil(lambda label=label: gui.worker.pending == 0 and page.case_table.item(0, 7).text() == label)
    page.case_table.setCurrentCell(0, 0)
    page.next_step()
    qtbot.waitUntil(lambda: gui.worker.pending == 0 and page.case_table.rowCount() == 0)  # done: off the open list
    page.show_done.setChecked(True)
    qtbot.waitUntil(lambda: gui.worker.pending == 0 and page.case_table.rowCount() == 1)
    assert page.case_table.item(0, 7).text() == "已交还居民" and not page.step_btn.isEnabled()
    d = proxy.open_cases(db) + proxy.recent_cases(db)
    assert [c.step for c in d] == ["handed_back"]
    assert counter.get(db, d[0].matter_id).status == "done"

    previews = []
    monkeypatch.setattr(PreviewDialog, "exec", lambda self: previews.append(self) or 0)
    page.case_table.setCurrentCell(0, 0)
    page.print_slip()
    gui.settle()
    assert previews and "委托代办原件交接单" in previews[0].doc.text and "未退还" in previews[0].doc.text
    assert make_ric("340304", date(1940, 3, 5), 22) not in previews[0].doc.text
    previews[0].paper.setCurrentIndex(1)  # A5
    assert previews[0].layout_name == "A5"

    # the ledger tab and its workbook
    page.tabs.setCurrentIndex(2)
    page.load_ledger()
    gui.settle()
    assert "登记 1 件　办理 1 件　回复 1 件" in page.figures.text()
    _shot(win, "proxy-ledger")
    page.export_ledger(str(tmp_path / "ledger.xlsx"))
    gui.settle()
    from openpyxl import load_workbook

    wb = load_workbook(tmp_path / "ledger.xlsx")
    assert list(wb["代办台账"].iter_rows(min_row=2, max_row=2, values_only=True)) == [
        ("第三村民小组", "陈国强", 1, 1, 1)
    ]


def test_slip_without_originals_is_refused_with_a_message(qtbot, gui, station_db, monkeypatch, no_modal_boxes):
    from desktop.ui.errors import show_error  # noqa: F401  (what the page shows through)
    from desktop.ui.printing import PreviewDialog

    db, admin = station_db
    rid = residents.register(
        db, admin, ResidentForm(name="王秀英", doc_number=make_ric("340304", date(1940, 3, 5), 22))
    )
    agent = proxy.save_agent(db, admin, AgentForm(name="陈国强", village_group="第三村民小组"))
    tid = counter.save_matter_type(db, admin, MatterTypeView(None, "", "代缴城乡居民医保费", "医保", "proxy", 5))
    proxy.register(db, admin, proxy.ProxyForm(agent, rid, tid, []))
    shown = []
    monkeypatch.setattr("desktop.ui.errors.show_error", lambda parent, exc: shown.append(exc))
    previews = []
    monkeypatch.setattr(PreviewDialog, "exec", lambda self: previews.append(self) or 0)
    win = make_window(qtbot, gui, db, admin)
    page = win.page("proxy")
    win.show_page(win.pages.index(page))
    gui.settle()
    page.case_table.setCurrentCell(0, 0)
    page.print_slip()
    gui.settle()
    assert not previews and shown and "没有登记收取任何原件" in shown[0].user_message
    assert page.slip_btn.isEnabled()  # given back after the refusal
