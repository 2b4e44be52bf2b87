"""Start-up builds only the first page (issue 19): the others, and the modules
behind them (numpy, the sync crypto), wait until they are first opened; every
page and picker shares the window's one resident search copy."""

from __future__ import annotations

import subprocess
import sys
from importlib import import_module
from pathlib import Path

from tests.gui.test_counter_page import make_window

ROOT = Path(__file__).resolve().parents[2]


def test_page_table_matches_the_page_classes():
    from desktop.ui.main_window import PAGE_SPECS

    for _key, module, cls, title, role in PAGE_SPECS:
        page_class = getattr(import_module(f"desktop.ui.pages.{module}"), cls)
        assert (page_class.title, page_class.min_role) == (title, role)


def test_importing_the_main_window_leaves_pages_numpy_and_crypto_out():
    code = (
        "import sys, desktop.ui.main_window; "
        "print(sorted(m for m in sys.modules if m.startswith(('numpy', 'cryptography', 'desktop.ui.pages.', "
        "'desktop.services.sync', 'desktop.documents'))))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONPATH": str(ROOT), "QT_QPA_PLATFORM": "offscreen", "PATH": "/usr/bin:/bin"},
    )
    assert out.stdout.strip() == "['desktop.ui.pages.backups', 'desktop.ui.pages.base']"


def test_pages_are_built_when_first_shown_and_share_one_index(qtbot, gui, station_db):
    db, admin = station_db
    win = make_window(qtbot, gui, db, admin)
    assert win.page_titles()[:3] == ["概览", "接待台", "居民"] and win.page_titles()[-1] == "设置"
    assert set(win.built) == {"overview"}
    assert win.stack.currentWidget() is win.pages[0]
    counter = win.counter_page  # built on access, in its place in the stack
    assert win.stack.widget(win.pages.index(counter)) is counter
    assert counter.index is win.residents_page.index is win.certificates_page.index is win.index
    assert win.volunteers_page.index is win.index
    win.show_page(win.pages.index(win.residents_page))
    assert win.stack.currentWidget() is win.residents_page


def test_closing_the_window_builds_no_page_but_still_asks_about_typed_input(qtbot, gui, station_db, monkeypatch):
    from desktop.ui import widgets

    db, admin = station_db
    win = make_window(qtbot, gui, db, admin)
    asked = []
    monkeypatch.setattr(widgets, "ask_discard", lambda parent: asked.append(parent) or False)
    page = win.residents_page
    monkeypatch.setattr(page, "unsaved", lambda: True)  # something typed and not saved
    assert not win.close() and asked == [win]  # asked, and the answer kept the window open
    assert set(win.built) == {"overview", "residents"}
    monkeypatch.setattr(page, "unsaved", lambda: False)
    assert win.close()
    assert set(win.built) == {"overview", "residents"}  # nothing built just to be asked
