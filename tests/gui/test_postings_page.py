"""清单公开 in the window: a department's task on the negative list is
declined with a printed notice (a double click makes one record), a list
becomes a posting in one click and prints on A4 and A3, and the board
records it going up and coming down."""

from __future__ import annotations

from sqlalchemy import func, select

from db.models import DeptRequest, Posting
from desktop.services import accounts, postings, workitems
from tests.gui.test_counter_page import make_window
from tests.gui.test_dialogs import type_text


def _open(qtbot, gui, db, actor, monkeypatch, tmp_path):
    from desktop.ui.printing import PreviewDialog

    win = make_window(qtbot, gui, db, actor)
    page = win.page("postings")
    win.show_page(win.pages.index(page))
    gui.settle()
    previews = []

    def fake_exec(self):
        previews.append(self)
        self.save_pdf(str(tmp_path / f"doc{len(previews)}.pdf"))
        return 0

    monkeypatch.setattr(PreviewDialog, "exec", fake_exec)
    return win, page, previews


def test_a_negative_list_task_is_declined_with_a_notice_and_a_double_click_records_once(
    qtbot, gui, station_db, monkeypatch, no_modal_boxes, tmp_path
):
    db, _admin = station_db
    desk = accounts.authenticate(db, "desk1", "desk1234")
    win, page, previews = _open(qtbot, gui, db, desk, monkeypatch, tmp_path)
    assert not page.import_btn.isEnabled() and not page.new_btn.isEnabled()  # supervisor only
    type_text(page.search, "拆违")
    assert page._current_item().kind == "negative" and "不予承接" in page.matched.text()
    type_text(page.department, "区城市管理局")
    type_text(page.content, "请社区负责拆除辖区违法建设")
    page.record_btn.click()
    page.record_btn.click()  # a second click while the first runs
    gui.settle()
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(DeptRequest)) == 1
    assert len(previews) == 1 and "不予承接告知单" in previews[0].doc.text
    assert "作为拆迁拆违的责任主体" in previews[0].doc.text and "准字第0001号" in previews[0].doc.text
    qtbot.waitUntil(lambda: page.req_table.rowCount() == 1)
    assert page.req_table.item(0, 4).text() == "已退回"
    assert page.content.toPlainText() == ""  # clean for the next one
    # nothing picked and not ticked: the worker is told, nothing saved
    page.search.clear()
    page.item_list.setCurrentRow(-1)
    type_text(page.content, "再来一件")
    page.record()
    gui.settle()
    assert "清单" in page.req_errors.labels["item"].text() and page.req_errors.labels["item"].isVisible()
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(DeptRequest)) == 1
    win.grab().save(str(tmp_path / "requests.png"))


def test_one_click_posting_prints_a4_and_a3_and_the_board_tracks_it(
    qtbot, gui, station_db, monkeypatch, no_modal_boxes, tmp_path
):
    db, admin = station_db
    win, page, previews = _open(qtbot, gui, db, admin, monkeypatch, tmp_path)
    page.tabs.setCurrentIndex(1)
    gui.settle()
    page.source.setCurrentIndex(list(postings.GENERATORS).index("work_items"))
    page.generate_btn.click()
    page.generate_btn.click()
    gui.settle()
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(Posting)) == 1
    assert len(previews) == 1
    dlg = previews[0]
    assert dlg.paper.isVisible() or dlg.paper.count() == 2
    assert round(dlg.doc.pages[0].width) == 595
    dlg.paper.setCurrentIndex(1)  # A3
    assert round(dlg.doc.pages[0].width) == 842
    dlg.save_pdf(str(tmp_path / "a3.pdf"))
    assert all(t.name in dlg.doc.text for t in workitems.catalogue(db) if t.kind == "negative")
    qtbot.waitUntil(lambda: page.post_table.rowCount() == 1)
    page.post_table.selectRow(0)
    page.mark_up()
    gui.settle()
    assert page.post_table.item(0, 5).text() == "公示中"
    assert "公示中 1 份" in page.board_summary.text()
    page.mark_down()
    gui.settle()
    assert page.post_table.item(0, 5).text() == "已撤下"
    win.grab().save(str(tmp_path / "board.png"))
