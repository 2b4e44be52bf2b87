"""The administrator names the committee that issues the station's papers
on the 账户 page; a supervisor sees it but cannot change it."""

from __future__ import annotations

from desktop.services import accounts
from tests.gui.test_counter_page import make_window
from tests.gui.test_dialogs import type_text


def _page(qtbot, gui, db, actor):
    win = make_window(qtbot, gui, db, actor)
    i = win.page_titles().index("账户")
    win.show_page(i)
    page = win.pages[i]
    qtbot.waitUntil(lambda: page.committee.text() != "")
    return page


def test_admin_renames_the_committee_and_the_certificate_follows(qtbot, gui, station_db, tmp_path):
    db, admin = station_db
    page = _page(qtbot, gui, db, admin)
    assert page.committee.text() == "幸福里社区居民委员会" and page.party_org.text() == "中共幸福里社区委员会"
    page.committee.clear()
    type_text(page.committee, "幸福里社区居委会")
    page._save_issuer()
    assert accounts.station_info(db).committee == "幸福里社区居委会"
    page.window().resize(1366, 768)
    page.window().grab().save(str(tmp_path / "accounts.png"))


def test_supervisor_cannot_change_the_issuer(qtbot, gui, station_db):
    db, admin = station_db
    accounts.create_account(db, admin, username="sup1", display_name="王站长", role="supervisor", password="sup12345")
    sup = accounts.authenticate(db, "sup1", "sup12345")
    page = _page(qtbot, gui, db, sup)
    assert not page.committee.isEnabled() and not page.save_issuer.isVisibleTo(page)
