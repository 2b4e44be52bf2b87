"""导入居民台账 dialog: load a file, fix the mapping, check, import, save the problems."""

from __future__ import annotations

from datetime import date

import openpyxl
from sqlalchemy import func, select

from db.models import AuditLog, Resident
from desktop.services import accounts
from desktop.services.idnumbers import make_ric

HEADERS = ["序号", "姓名", "性别", "身份证号码", "联系电话", "小区", "人员类别", "备注"]


def ledger_xlsx(path, n_good=6, bad=True):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "居民台账"
    ws.append(["幸福里社区居民台账"])
    ws.append(HEADERS)
    for i in range(n_good):
        ws.append(
            [
                i + 1,
                f"居民{i}",
                "",
                make_ric("340304", date(1950, 1, 1 + i), 10 + i),
                f"1381234{i:04d}",
                "幸福里小区",
                "高龄" if i % 2 else "",
                f"备注{i}",
            ]
        )
    if bad:
        ws.append([n_good + 1, "错号码", "", "110105194912310021", "", "", "", ""])
        ws.append([n_good + 2, "坏电话", "", make_ric("340304", date(1960, 5, 5), 30), "12345", "", "VIP", ""])
    wb.save(path)
    return path


def make_dialog(qtbot, gui, db, actor):
    from desktop.ui.pages.ledger_import import ImportDialog

    dlg = ImportDialog(None, db, actor, gui.worker)
    qtbot.addWidget(dlg)
    dlg.show()
    return dlg


def counts(db):
    with db.session() as s:
        return (
            s.scalar(select(func.count()).select_from(Resident)),
            s.scalar(select(func.count()).select_from(AuditLog)),
        )


def test_load_check_then_import(qtbot, gui, station_db, no_modal_boxes, tmp_path):
    db, admin = station_db
    path = ledger_xlsx(tmp_path / "幸福里台账.xlsx")
    dlg = make_dialog(qtbot, gui, db, admin)
    assert not dlg.check.isEnabled() and not dlg.do_import.isEnabled()
    assert dlg.load_file(path)
    gui.settle()
    assert dlg.file_label.text() == "幸福里台账.xlsx" and "表头在第 2 行" in dlg.info.text()
    assert "共 8 行数据" in dlg.info.text()

    # The detected mapping, one combo per file column, and a five-row preview.
    assert [dlg.preview.horizontalHeaderItem(c).text() for c in range(len(HEADERS))] == HEADERS
    assert [c.currentData() for c in dlg.combos] == [
        None,
        "name",
        "gender",
        "doc_number",
        "phone",
        "estate",
        "tags",
        "notes",
    ]
    assert dlg.combos[0].currentText() == "（不导入）"
    assert dlg.preview.rowCount() == 1 + 5
    assert dlg.preview.verticalHeaderItem(1).text() == "第 3 行" and dlg.preview.item(1, 1).text() == "居民0"

    # Not importing 备注: the choice reaches the service.
    dlg.set_field(7, None)
    assert "notes" not in dlg.mapping().values()

    before = counts(db)
    assert dlg.run_check()
    gui.settle()
    report = dlg.report
    assert report is not None and report.dry_run
    assert dlg.summary.text().startswith("检查完成（没有写入）：共 8 行，可新增 6 人")
    assert counts(db) == before  # nothing written, no audit line
    rows = [
        (dlg.problems.item(r, 0).text(), dlg.problems.item(r, 1).text(), dlg.problems.item(r, 2).text())
        for r in range(dlg.problems.rowCount())
    ]
    assert [(r[0], r[1]) for r in rows] == [("9", "证件号码"), ("10", "联系电话"), ("10", "人员类别")]
    assert "校验位" in rows[0][2]
    assert dlg.save.isEnabled()

    done = []
    dlg.imported.connect(done.append)
    assert dlg.run_import()
    gui.settle()
    report = dlg.report
    assert report is not None and not report.dry_run and done == [report]
    assert dlg.summary.text().startswith("导入完成：共 8 行，新增 6 人")
    n, audits = counts(db)
    assert n == 6 and audits == before[1] + 1
    with db.session() as s:
        assert s.scalar(select(Resident.notes).where(Resident.name == "居民0")) is None  # 备注 not imported
        assert s.scalar(select(Resident.phone).where(Resident.name == "居民2")) == "13812340002"

    dlg.save_report_to(tmp_path / "问题清单.xlsx")
    gui.settle()
    saved = dlg.saved
    assert saved is not None and saved.exists() and "已保存" in dlg.saved_note.text()
    ws = openpyxl.load_workbook(saved)["问题清单"]
    assert [c.value for c in ws[1]][:3] == ["行号", "字段", "问题"] and ws.max_row == 4

    # Importing the same file again changes nothing.
    dlg.run_import()
    gui.settle()
    again = dlg.report
    assert (again.imported, again.updated, again.unchanged) == (0, 0, 6)
    assert counts(db)[0] == 6


def test_one_column_per_field_and_name_is_required(qtbot, gui, station_db, tmp_path):
    db, admin = station_db
    dlg = make_dialog(qtbot, gui, db, admin)
    dlg.load_file(ledger_xlsx(tmp_path / "t.xlsx"))
    gui.settle()
    dlg.set_field(7, "name")  # 备注 as 姓名: the 姓名 column gives way
    assert dlg.combos[1].currentData() is None and dlg.mapping()[7] == "name"
    dlg.set_field(7, None)
    assert "name" not in dlg.mapping().values()
    assert not dlg.check.isEnabled() and not dlg.do_import.isEnabled()
    assert "姓名" in dlg.mapping_note.text()
    dlg.set_field(1, "name")
    assert dlg.check.isEnabled() and dlg.mapping_note.text() == ""


def test_changing_the_mapping_clears_a_stale_report(qtbot, gui, station_db, tmp_path):
    db, admin = station_db
    dlg = make_dialog(qtbot, gui, db, admin)
    dlg.load_file(ledger_xlsx(tmp_path / "t.xlsx"))
    gui.settle()
    dlg.run_check()
    gui.settle()
    assert dlg.problems.rowCount() == 3
    dlg.set_field(4, None)  # stop importing 联系电话
    assert dlg.report is None and dlg.problems.rowCount() == 0 and "重新检查" in dlg.summary.text()
    dlg.run_check()
    gui.settle()
    assert [dlg.problems.item(r, 1).text() for r in range(dlg.problems.rowCount())] == ["证件号码", "人员类别"]


def test_desk_worker_can_check_but_not_import(qtbot, gui, station_db, tmp_path):
    db, _ = station_db
    desk = accounts.authenticate(db, "desk1", "desk1234")
    dlg = make_dialog(qtbot, gui, db, desk)
    dlg.load_file(ledger_xlsx(tmp_path / "t.xlsx", bad=False))
    gui.settle()
    assert dlg.check.isEnabled() and not dlg.do_import.isEnabled() and "站长" in dlg.do_import.toolTip()
    dlg.run_check()
    gui.settle()
    assert dlg.report.imported == 6
    assert counts(db)[0] == 0


def test_a_file_that_cannot_be_read_is_explained(qtbot, gui, station_db, no_modal_boxes, tmp_path):
    db, admin = station_db
    dlg = make_dialog(qtbot, gui, db, admin)
    broken = tmp_path / "坏文件.xlsx"
    broken.write_bytes(b"PK\x03\x04 not really a workbook")
    dlg.load_file(broken)
    gui.settle()
    assert no_modal_boxes and no_modal_boxes[-1][0] == "warning" and "已损坏" in no_modal_boxes[-1][1]
    assert dlg.table is None and not dlg.check.isEnabled()
    # A good file after a bad one still loads.
    dlg.load_file(ledger_xlsx(tmp_path / "t.xlsx"))
    gui.settle()
    assert dlg.check.isEnabled()


def test_fits_a_1366_by_768_screen(qtbot, gui, station_db, tmp_path):
    db, admin = station_db
    dlg = make_dialog(qtbot, gui, db, admin)
    dlg.load_file(ledger_xlsx(tmp_path / "t.xlsx"))
    gui.settle()
    dlg.run_check()
    gui.settle()
    assert dlg.width() <= 1366 - 40 and dlg.height() <= 768 - 50
    hint = dlg.minimumSizeHint()
    assert hint.width() <= 1366 and hint.height() <= 728


def test_conflicts_are_listed_and_only_ticked_rows_update(qtbot, gui, station_db, no_modal_boxes, tmp_path):
    """Rows whose ID number is registered under another name: listed after
    the check with both names, not written by 导入 until ticked."""
    from PySide6.QtCore import Qt

    from desktop.services import residents
    from desktop.services.idnumbers import mask
    from desktop.services.residents import ResidentForm

    db, admin = station_db
    numbers = [make_ric("340304", date(1950, 1, 1 + i), 10 + i) for i in range(3)]
    ids = [
        residents.register(db, admin, ResidentForm(name=n, doc_number=numbers[i]))
        for i, n in enumerate(("王桂兰", "赵德明"))
    ]
    path = ledger_xlsx(tmp_path / "台账.xlsx", n_good=3, bad=False)  # 居民0..居民2 carry numbers[0..2]
    dlg = make_dialog(qtbot, gui, db, admin)
    dlg.load_file(path)
    gui.settle()
    assert not dlg.conflict_box.isVisibleTo(dlg)
    dlg.run_check()
    gui.settle()
    assert dlg.conflict_box.isVisibleTo(dlg) and dlg.conflicts.rowCount() == 2
    cells = [[dlg.conflicts.item(r, c).text() for c in range(1, 5)] for r in range(2)]
    assert cells == [["3", mask(numbers[0]), "王桂兰", "居民0"], ["4", mask(numbers[1]), "赵德明", "居民1"]]
    assert "2 行的证件号码已登记在另一个姓名下" in dlg.conflict_note.text()
    assert "需确认后才会更新" in dlg.summary.text()
    dlg.resize(1180, 700)
    qtbot.wait(50)
    assert dlg.conflicts.isVisibleTo(dlg) and dlg.conflicts.height() >= 90
    dlg.grab().save(str(tmp_path / "conflicts.png"))

    def names():
        with db.session() as s:
            return [s.get(Resident, i).name for i in ids]

    dlg.run_import()  # nothing ticked: both held back
    gui.settle()
    report = dlg.report
    assert (report.imported, report.unconfirmed) == (1, 2) and names() == ["王桂兰", "赵德明"]
    dlg.conflicts.item(1, 0).setCheckState(Qt.CheckState.Checked)  # 第 4 行 only
    assert dlg.confirmed() == {4: "居民1"} and not dlg.confirm_all.isChecked()
    dlg.run_import()
    gui.settle()
    report = dlg.report
    assert (report.updated, report.unconfirmed) == (1, 1) and names() == ["王桂兰", "居民1"]
    assert dlg.conflicts.rowCount() == 2 and dlg.conflicts.item(1, 0).checkState() == Qt.CheckState.Checked

    dlg.confirm_all.setChecked(True)
    assert dlg.confirmed() == {3: "居民0", 4: "居民1"}
    dlg.run_import()
    gui.settle()
    report = dlg.report
    assert report.unconfirmed == 0 and names() == ["居民0", "居民1"]
    dlg.run_check()
    gui.settle()
    assert dlg.report.conflicts == [] and not dlg.conflict_box.isVisibleTo(dlg)
