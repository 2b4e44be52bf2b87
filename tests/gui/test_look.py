"""A window that speaks Chinese: Qt's own texts, file dialogs that start in the
documents folder and remember the last one, a saved file confirmed with
打开文件夹, Chinese object kinds in 操作日志."""

from __future__ import annotations

import re
from pathlib import Path

from PySide6.QtCore import QObject, QStandardPaths, Slot
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QDialogButtonBox, QFileDialog, QLabel, QLineEdit, QMessageBox, QPushButton

from tests.gui.test_counter_page import make_window

ROOT = Path(__file__).resolve().parents[2]


def test_standard_dialog_buttons_and_menus_are_chinese(qtbot, gui):
    box = QMessageBox(
        QMessageBox.Icon.Question, "t", "x", QMessageBox.StandardButton.Ok | QMessageBox.StandardButton.Cancel
    )
    qtbot.addWidget(box)
    assert box.button(QMessageBox.StandardButton.Ok).text().replace("&", "").startswith("确定")
    assert box.button(QMessageBox.StandardButton.Cancel).text().replace("&", "").startswith("取消")
    bb = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Close)
    qtbot.addWidget(bb)
    assert bb.button(QDialogButtonBox.StandardButton.Save).text().replace("&", "").startswith("保存")
    edit = QLineEdit()
    qtbot.addWidget(edit)
    menu = edit.createStandardContextMenu()
    texts = " ".join(a.text() for a in menu.actions())
    assert "复制" in texts and "粘贴" in texts and "Copy" not in texts
    dlg = QFileDialog(None, "选择文件")
    dlg.setOption(QFileDialog.Option.DontUseNativeDialog)
    qtbot.addWidget(dlg)
    labels = " ".join(w.text() for w in dlg.findChildren(QPushButton))
    assert "取消" in labels and "Cancel" not in labels
    captions = " ".join(w.text() for w in dlg.findChildren(QLabel))
    assert "查找范围" in captions and "文件类型" in captions and not re.search(r"[A-Za-z]{3}", captions)
    out = ROOT / "screenshots" / "pages"  # looked at with the page screenshots
    out.mkdir(parents=True, exist_ok=True)
    for name, w in (("messagebox", box), ("file-dialog", dlg)):
        w.show()
        qtbot.waitExposed(w)
        w.grab().save(str(out / f"qt-{name}.png"))


class _Opened(QObject):
    """Receives file:// URLs instead of the desktop's file manager."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    @Slot("QUrl")
    def open(self, url) -> None:  # type: ignore[no-untyped-def]
        self.urls.append(url.toLocalFile())


def test_file_dialogs_start_in_documents_remember_the_folder_and_offer_to_open_it(
    qtbot, gui, station_db, monkeypatch, tmp_path, no_modal_boxes
):  # a regression fails, not hangs
    db, admin = station_db
    win = make_window(qtbot, gui, db, admin)
    page = win.volunteers_page
    asked: list[str] = []
    out = tmp_path / "导出"
    out.mkdir()

    def fake_save(parent, title, start, filter_):  # type: ignore[no-untyped-def]
        asked.append(start)
        return str(out / Path(start).name), filter_

    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(fake_save))
    page.export_hours()
    gui.settle()
    docs = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation)
    assert Path(asked[0]).parent == Path(docs) and Path(asked[0]).name.startswith("志愿服务时长-")
    assert gui.settings["last_folder"] == str(out)
    boxes = [b for b in page.findChildren(QMessageBox) if b.isVisible()]
    assert len(boxes) == 1 and str(out) in boxes[0].text()
    folder_btn = next(b for b in boxes[0].buttons() if b.text() == "打开文件夹")
    opened = _Opened()
    QDesktopServices.setUrlHandler("file", opened, "open")
    try:
        folder_btn.click()
    finally:
        QDesktopServices.unsetUrlHandler("file")
    assert opened.urls and Path(opened.urls[0]) == out
    # The next dialog, on another page, opens where the last file went.
    win.certificates_page.export()
    gui.settle()
    assert Path(asked[1]).parent == out


def test_every_file_dialog_goes_through_one_helper():
    """So each one starts in the documents/last folder (see desktop/ui/files.py)."""
    offenders = [
        str(p.relative_to(ROOT))
        for p in (ROOT / "desktop").rglob("*.py")
        if p.name != "files.py" and re.search(r"QFileDialog\.get", p.read_text(encoding="utf-8"))
    ]
    assert offenders == []


def test_audit_page_names_object_kinds_in_chinese(qtbot, gui, station_db):
    from desktop.services import audit

    db, admin = station_db
    with db.session() as s:
        audit.record(s, "certificate_issue", admin, target_type="certificate")
        audit.record(s, "certificate_type_save", admin, target_type="certificate_type")
        audit.record(s, "sync_conflict_resolve", admin, target_type="residents", field="phone")
        s.commit()
    win = make_window(qtbot, gui, db, admin)
    page = next(p for p in win.pages if p.title == "操作日志")
    win.show_page(win.pages.index(page))
    qtbot.waitUntil(lambda: page.table.rowCount() >= 3)
    kinds = [page.table.item(r, 3).text() for r in range(3)]
    actions = [page.table.item(r, 2).text() for r in range(3)]
    assert kinds == ["居民", "证明类型", "证明"]
    assert actions[0] == "处理数据冲突"


def test_every_audit_detail_has_a_chinese_name():
    """The 说明 column: every keyword a service writes into an audit line."""
    import ast

    from desktop.ui.pages.audit import DETAIL_KEYS, describe

    keys = {"added", "updated", "deactivated"}  # certificates.import_catalogue's counts
    for p in [*(ROOT / "desktop").rglob("*.py"), *(ROOT / "db").rglob("*.py")]:
        for n in ast.walk(ast.parse(p.read_text(encoding="utf-8"))):
            if (
                isinstance(n, ast.Call)
                and isinstance(n.func, ast.Attribute | ast.Name)
                and (
                    getattr(n.func, "attr", None) == "record"
                    and getattr(n.func.value, "id", "") == "audit"
                    or getattr(n.func, "id", None) == "_audit"
                )
            ):
                keys |= {k.arg for k in n.keywords if k.arg}
                keys |= {
                    str(c.value)
                    for k in n.keywords
                    if k.arg is None
                    for c in ast.walk(k.value)
                    if isinstance(c, ast.Constant) and isinstance(c.value, str)
                }
    keys -= {"target_type", "target_id", "actor_name", "actor_id"}
    keys -= {"audit"}  # **backup.extra["audit"]: the subscript, not a keyword
    assert {"peer", "field"} <= keys  # the walk finds keywords (the backup line builds its own dict: "file" etc.)
    assert sorted(keys - set(DETAIL_KEYS)) == []
    text = describe({"kind": "auto", "size": 2048, "field": "phone", "keep": "a", "full": True, "new": 3})
    assert not re.search(r"[A-Za-z]{3}", text.replace("KB", "")), text
