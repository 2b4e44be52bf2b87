"""Every page (and every tab of it) at 1366×768, with the default font and with
the 14 pt setting: the window keeps its size, no widget overlaps its
neighbours in a layout, no widget is squeezed below the size its text needs,
and no key column (ID, date, time, number, worker, address) cuts off its
content.  The screenshots land in screenshots/pages/ to be looked at.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from PySide6.QtCore import QRect
from PySide6.QtWidgets import (
    QAbstractButton,
    QApplication,
    QComboBox,
    QLabel,
    QLayout,
    QLineEdit,
    QTableView,
    QTabWidget,
    QWidget,
)

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "screenshots" / "pages"
SIZE = (1366, 768)
KEY_COLUMN = re.compile(r"证件|日期|时间|编号|经办人|审批人|期限|地址|回执|姓名|用户名|最近登录")


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory):
    from db.engine import open_database
    from desktop.services import demo

    from desktop.services import accounts, counter

    db = open_database(tmp_path_factory.mktemp("screens") / "demo.sqlite3")
    demo.create_demo_station(db, n_residents=400)
    admin = accounts.authenticate(db, demo.DEMO_ADMIN, demo.DEMO_PASSWORD)
    counter.close(db, admin, counter.board(db).open[0].id, "已办结", 1, "等了很久")  # a rectification
    yield db
    db.close()


def _settle(gui) -> None:
    app = QApplication.instance()
    for _ in range(5):
        app.processEvents()
    while gui.worker.pending:
        app.processEvents()
    app.processEvents()


def _rect_in(widget: QWidget, ancestor: QWidget) -> QRect:
    return QRect(widget.mapTo(ancestor, widget.rect().topLeft()), widget.size())


def overlaps(root: QWidget) -> list[str]:
    """Visible neighbours in one layout whose rectangles intersect."""
    found = []
    for lay in [root.layout(), *root.findChildren(QLayout)]:
        try:
            found += _overlaps_in(lay)
        except RuntimeError:
            continue  # a layout deleted (deleteLater) with its rows
    return found


def _has_visible(lay: QLayout) -> bool:
    for i in range(lay.count()):
        it = lay.itemAt(i)
        if (it.widget() is not None and it.widget().isVisible()) or (
            it.layout() is not None and _has_visible(it.layout())
        ):
            return True
    return False


def _overlaps_in(lay: QLayout | None) -> list[str]:
    if lay is None or lay.parentWidget() is None or not lay.parentWidget().isVisible():
        return []
    items = []
    for i in range(lay.count()):
        it = lay.itemAt(i)
        w, sub = it.widget(), it.layout()
        if (w is not None and w.isVisible()) or (sub is not None and _has_visible(sub)):
            g = it.geometry()
            if g.width() > 0 and g.height() > 0:
                items.append((_describe(w), g))
    found = []
    for a in range(len(items)):
        for b in range(a + 1, len(items)):
            if items[a][1].intersects(items[b][1]):
                found.append(f"{items[a][0]} overlaps {items[b][0]}")
    return found


def _describe(w: QWidget | None) -> str:
    if w is None:
        return "a sub-layout"
    text = w.text() if isinstance(w, (QLabel, QAbstractButton)) else ""
    return f"{type(w).__name__}({text[:20]!r})" if text else type(w).__name__


def squeezed(root: QWidget) -> list[str]:
    """Labels, buttons and fields narrower or lower than their text needs."""
    found = []
    for w in root.findChildren(QWidget):
        if w.isVisible() and isinstance(w, (QLineEdit, QComboBox)) and not isinstance(w.parentWidget(), QComboBox):
            hint = w.minimumSizeHint()
            if w.width() + 1 < hint.width():
                found.append(f"{_describe(w)} is {w.width()} px wide, needs {hint.width()}")
            continue
        if not w.isVisible() or not isinstance(w, (QLabel, QAbstractButton)) or not w.text():
            continue
        if isinstance(w, QLabel) and w.wordWrap():
            need = w.heightForWidth(w.width()) if w.hasHeightForWidth() else w.minimumSizeHint().height()
            if need > 0 and w.height() + 1 < need:
                found.append(f"{_describe(w)} is {w.height()} px high, needs {need}")
            continue
        hint = w.minimumSizeHint()
        if w.width() + 1 < hint.width() or w.height() + 1 < hint.height():
            found.append(f"{_describe(w)} is {w.width()}×{w.height()}, needs {hint.width()}×{hint.height()}")
    return found


def cut_columns(root: QWidget) -> list[str]:
    """Key columns narrower than their widest visible cell or their header."""
    found = []
    for t in root.findChildren(QTableView):
        if not t.isVisible() or t.model() is None or t.model().rowCount() == 0:
            continue
        header = t.horizontalHeader()
        for c in range(t.model().columnCount()):
            title = str(t.model().headerData(c, header.orientation()) or "")
            if t.isColumnHidden(c) or not KEY_COLUMN.search(title):
                continue
            need = max(t.sizeHintForColumn(c), header.sectionSizeHint(c))
            if t.columnWidth(c) < need:
                found.append(f"column {title} is {t.columnWidth(c)} px, its content needs {need}")
    return found


def _views(page: QWidget):  # type: ignore[no-untyped-def]
    """The page as it first shows, or each tab of each tab widget on it."""
    tab_widgets = [t for t in page.findChildren(QTabWidget) if t.isVisible() and t.count()]
    if not tab_widgets:
        yield ""
    for tabs in tab_widgets:
        if not tabs.isVisible():
            continue
        for i in range(tabs.count()):
            if tabs.isTabEnabled(i) and tabs.isTabVisible(i):
                tabs.setCurrentIndex(i)
                yield f"-{i}{tabs.tabText(i).split()[0]}"
        tabs.setCurrentIndex(0)


@pytest.mark.slow
@pytest.mark.parametrize("points", [11, 14])
def test_every_page_fits_at_1366x768(qtbot, gui, demo_db, points):
    from desktop.services import accounts, demo
    from desktop.ui.main_window import MainWindow

    OUT.mkdir(parents=True, exist_ok=True)
    actor = accounts.authenticate(demo_db, demo.DEMO_ADMIN, demo.DEMO_PASSWORD)
    win = MainWindow(demo_db, actor, accounts.station_info(demo_db), gui.settings, gui.paths, gui.worker)
    qtbot.addWidget(win)
    problems: list[str] = []
    seen: set[tuple[str, str]] = set()
    try:
        win.settings_page.font_size.setValue(points)  # as a user sets it
        win.resize(*SIZE)
        win.show()
        for i, page in enumerate(win.pages):
            win.show_page(i)
            _settle(gui)
            if hasattr(page, "build_btn"):  # 报表: build last month's report
                page.build_btn.click()
                qtbot.waitUntil(lambda page=page: page.report is not None, timeout=30000)
            for suffix in _views(page):
                _settle(gui)
                name = f"{points}pt-{i:02d}-{page.title}{suffix}"
                win.grab().save(str(OUT / f"{name}.png"))
                if (win.width(), win.height()) != SIZE:
                    problems.append(f"{name}: the window grew to {win.width()}×{win.height()}")
                for p in overlaps(page) + squeezed(page) + cut_columns(page):
                    if (page.title, p) not in seen:  # once per page, not once per tab
                        seen.add((page.title, p))
                        problems.append(f"{name}: {p}")
    finally:
        win.settings_page.font_size.setValue(11)
    assert problems == [], "\n".join(problems)


def test_disabled_buttons_look_disabled(qtbot, gui):
    """Plain, primary and danger buttons, enabled above and disabled below:
    a disabled one has less contrast, and a disabled danger button is not red."""
    from PySide6.QtWidgets import QGridLayout, QPushButton

    from desktop.ui.widgets import primary

    box = QWidget()
    box.setObjectName("page")
    grid = QGridLayout(box)
    buttons = {}
    for col, (kind, make) in enumerate(
        (
            ("plain", lambda: QPushButton("恢复所选备份…")),
            ("primary", lambda: primary("开具并打印")),
            ("danger", lambda: QPushButton("停用 / 启用")),
        )
    ):
        for row, enabled in enumerate((True, False)):
            b = make()
            if kind == "danger":
                b.setProperty("danger", True)
            b.setDefault(False)
            b.setEnabled(enabled)
            grid.addWidget(b, row, col)
            buttons[kind, enabled] = b
    qtbot.addWidget(box)
    box.show()
    qtbot.waitExposed(box)
    OUT.mkdir(parents=True, exist_ok=True)
    box.grab().save(str(OUT / "disabled-buttons.png"))

    def pixels(b):  # type: ignore[no-untyped-def]
        img = b.grab().toImage()
        return [img.pixelColor(x, y) for x in range(4, img.width() - 4, 2) for y in range(4, img.height() - 4, 2)]

    def contrast(b) -> int:  # type: ignore[no-untyped-def]
        light = [c.lightness() for c in pixels(b)]
        return max(light) - min(light)

    for kind in ("plain", "primary", "danger"):
        assert contrast(buttons[kind, False]) < contrast(buttons[kind, True]) - 40, kind
    red = [c for c in pixels(buttons["danger", False]) if c.red() - max(c.green(), c.blue()) > 60]
    assert red == []
    assert [c for c in pixels(buttons["danger", True]) if c.red() - max(c.green(), c.blue()) > 60]


def _as_on_screen(dlg: QWidget) -> None:
    """The size Qt gives a new window on a 1366×768 screen (its size hint, at
    most two thirds of the screen, at least its minimum) unless the dialog set
    its own; the offscreen test screen is only 800×600."""
    from PySide6.QtCore import QSize

    from PySide6.QtCore import Qt

    if dlg.testAttribute(Qt.WidgetAttribute.WA_Resized):
        return  # the dialog chose its own size
    hint = dlg.sizeHint()
    lay = dlg.layout()
    width = max(min(hint.width(), SIZE[0] * 2 // 3), dlg.minimumWidth(), dlg.minimumSizeHint().width())
    height = lay.totalHeightForWidth(width) if lay is not None and lay.hasHeightForWidth() else hint.height()
    dlg.resize(QSize(width, min(height, SIZE[1] * 2 // 3)).expandedTo(dlg.minimumSize()))


@pytest.mark.slow
@pytest.mark.parametrize("points", [11, 14])
def test_form_dialogs_fit_at_both_font_sizes(qtbot, gui, demo_db, points):
    """The forms a worker fills every day: nothing overlaps or is squeezed, and
    each fits on a 1366×768 screen."""
    from desktop.services import accounts, demo
    from desktop.ui.dialogs import LoginDialog, SetupDialog
    from desktop.ui.main_window import MainWindow
    from desktop.ui.pages.accounts import NewAccountDialog
    from desktop.ui.pages.counter import AcceptDialog
    from desktop.ui.pages.residents import ResidentDialog
    from desktop.ui.pages.volunteers import NeedDialog, VolunteerDialog

    OUT.mkdir(parents=True, exist_ok=True)
    actor = accounts.authenticate(demo_db, demo.DEMO_ADMIN, demo.DEMO_PASSWORD)
    win = MainWindow(demo_db, actor, accounts.station_info(demo_db), gui.settings, gui.paths, gui.worker)
    qtbot.addWidget(win)
    problems: list[str] = []
    try:
        win.settings_page.font_size.setValue(points)
        accounts_page = next(p for p in win.pages if p.title == "账户")
        makers = {
            "resident": lambda: ResidentDialog(win.residents_page),
            "accept": lambda: AcceptDialog(win.counter_page),
            "need": lambda: NeedDialog(win.volunteers_page),
            "volunteer": lambda: VolunteerDialog(win.volunteers_page),
            "account": lambda: NewAccountDialog(accounts_page),
            "login": lambda: LoginDialog(demo_db, gui.worker, "示范社区党群服务中心（演示）"),
            "setup": lambda: SetupDialog(demo_db, gui.worker),
        }
        for name, make in makers.items():
            dlg = make()
            qtbot.addWidget(dlg)
            dlg.show()
            _settle(gui)
            _as_on_screen(dlg)
            _settle(gui)
            dlg.grab().save(str(OUT / f"{points}pt-dialog-{name}.png"))
            if dlg.width() > SIZE[0] or dlg.height() > SIZE[1] - 40:
                problems.append(f"{name}: {dlg.width()}×{dlg.height()} does not fit the screen")
            problems += [f"{name}: {p}" for p in overlaps(dlg) + squeezed(dlg)]
            dlg.reject()
    finally:
        win.settings_page.font_size.setValue(11)
    assert problems == [], "\n".join(problems)
