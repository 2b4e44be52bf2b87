"""心愿·报到 in the window at 1366×768: publish a wish, claim it (a double
press of 认领 makes one claim), fulfil it; report a party member in and see
the year's hours; the second report-in of the year is refused under its field."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from db.models import Certificate, PartyReport, SealLog, WishClaim
from desktop.services import residents, volunteers as vol, wishes
from desktop.services.idnumbers import make_ric
from desktop.services.residents import ResidentForm
from desktop.services.volunteers import VolunteerForm
from tests.gui.test_counter_page import make_window


def _count(db, model) -> int:
    with db.session() as s:
        return s.scalar(select(func.count()).select_from(model))


def test_claim_once_fulfil_and_report_in(qtbot, gui, station_db, monkeypatch, no_modal_boxes, tmp_path):
    from desktop.ui.pages import wishes as wp

    db, admin = station_db
    elder = residents.register(
        db, admin, ResidentForm(name="欧阳秀英", doc_number=make_ric("340304", date(1940, 2, 2), 22), grid="一网格")
    )
    person = residents.register(
        db, admin, ResidentForm(name="刘建国", doc_number=make_ric("340304", date(1980, 5, 6), 31), phone="13900000001")
    )
    member, _ = vol.register(
        db,
        admin,
        VolunteerForm(
            resident_id=person,
            skills=["shopping"],
            availability=["3am"],
            data_consent=True,
            party_member=True,
            yearly_target_hours=20,
        ),
    )
    wishes.add_wish(db, admin, elder, "一台助听器", 280)
    win = make_window(qtbot, gui, db, admin)
    page = win.page("wishes")
    win.show_page(win.pages.index(page))
    qtbot.waitUntil(lambda: gui.worker.pending == 0 and page.wish_table.rowCount() == 1)
    assert page.wish_table.item(0, 1).text() == "待认领" and page.tabs.tabText(0) == "微心愿（待认领 1）"
    page.wish_table.selectRow(0)

    def claim(dlg):
        gui.settle()
        dlg.volunteer.setCurrentIndex(dlg.volunteer.findData(str(member)))
        dlg.ok.click()
        dlg.ok.click()  # pressed twice before the first is back
        dlg.submit()  # and Enter on top
        gui.settle()
        return dlg.result()

    monkeypatch.setattr(wp.ClaimDialog, "exec", claim)
    page._next_step()  # double click on a 待认领 row opens the claim
    qtbot.waitUntil(lambda: gui.worker.pending == 0 and page.wish_table.item(0, 1).text() == "已认领")
    assert _count(db, WishClaim) == 1
    assert page.wish_table.item(0, 6).text() == "刘建国（党员）"
    assert not [m for m in no_modal_boxes if m[0] != "information"]
    win.grab().save(str(tmp_path / "wishes.png"))

    def fulfil(dlg):
        dlg.submit()  # nothing written yet
        gui.settle()
        assert not dlg.errors.labels["given"].isHidden()
        dlg.given.setText("送去助听器一台")
        dlg.submit()
        gui.settle()
        return dlg.result()

    monkeypatch.setattr(wp.FulfilDialog, "exec", fulfil)
    page.wish_table.selectRow(0)
    page._next_step()
    qtbot.waitUntil(lambda: gui.worker.pending == 0 and page.wish_table.item(0, 1).text() == "已实现")

    page.tabs.setCurrentIndex(1)

    def report(dlg, expect_refusal=False):
        gui.settle()
        dlg.member.setCurrentIndex(dlg.member.findData(str(member)))
        dlg.unit.setText("市财政局")
        dlg.post_boxes["政策宣传"].setChecked(True)
        dlg.submit()
        gui.settle()
        if expect_refusal:
            assert "已经报到过了" in dlg.errors.labels["volunteer"].text()
        return dlg.result()

    monkeypatch.setattr(wp.ReportDialog, "exec", report)
    page.report_in()
    qtbot.waitUntil(lambda: gui.worker.pending == 0 and page.member_table.rowCount() == 1)
    assert [page.member_table.item(0, c).text() for c in (1, 2, 4, 5, 6, 8)] == [
        "刘建国",
        "市财政局",
        "政策宣传",
        "20",
        "0",
        "0%",
    ]
    monkeypatch.setattr(wp.ReportDialog, "exec", lambda dlg: report(dlg, expect_refusal=True))
    page.report_in()
    gui.settle()
    assert _count(db, PartyReport) == 1
    win.grab().save(str(tmp_path / "members.png"))
    # the feedback letter: issued once (a supervisor needs no approval), then printed again, not issued again
    from desktop.ui.printing import PreviewDialog

    previews: list = []
    monkeypatch.setattr(PreviewDialog, "exec", lambda self: previews.append(self) or 0)
    page.member_table.selectRow(0)
    page.print_letter()
    gui.settle()
    assert _count(db, Certificate) == 1 and _count(db, SealLog) == 1
    assert "在职党员到社区报到情况反馈" in previews[0].doc.text and "市财政局" in previews[0].doc.text
    assert "尚无社区志愿服务记录" in previews[0].doc.text
    assert previews[0].save_pdf(str(tmp_path / "letter.pdf")) is not None
    page.print_letter()  # 是：重新打印这份
    gui.settle()
    assert len(previews) == 2 and _count(db, Certificate) == 1 and _count(db, SealLog) == 1
