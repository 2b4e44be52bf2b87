"""数据交换 page: the key strip, trusting a peer after reading its fingerprint,
export and import through the page with real bundles between a station and
its street hub, a conflict resolved by one click, a duplicate resident
merged, and the errors a worker can act on."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from PySide6.QtWidgets import QFileDialog, QMessageBox

from db.engine import open_database
from desktop.services import accounts, residents
from desktop.services.idnumbers import make_ric
from desktop.services.residents import ResidentForm
from desktop.services.sync import exchange

HUB_CODE = "340304000"
HUB_NAME = "幸福街道党群服务中心"


def digits(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit())


def settle(qtbot, gui) -> None:  # type: ignore[no-untyped-def]
    qtbot.waitUntil(lambda: gui.worker.pending == 0, timeout=20000)


def make_page(qtbot, gui, db, actor, settings=None):  # type: ignore[no-untyped-def]
    from desktop.ui.pages.exchange import ExchangePage

    page = ExchangePage(db, actor, gui.worker, settings=settings)
    qtbot.addWidget(page)
    page.resize(1366 - 200, 768 - 60)  # the main window's page area on a 1366×768 screen
    page.show()
    page.activated()
    settle(qtbot, gui)
    return page


class Files:
    """Stands in for the file dialogs: answers with the next path and
    remembers what the page proposed."""

    def __init__(self, monkeypatch):  # type: ignore[no-untyped-def]
        self.answers: list[str] = []
        self.asked: list[tuple[str, str]] = []  # (caption, proposed path or folder)
        monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(self._ask))
        monkeypatch.setattr(QFileDialog, "getOpenFileName", staticmethod(self._ask))

    def _ask(self, parent, caption="", start="", *a, **k):  # type: ignore[no-untyped-def]
        self.asked.append((caption, start))
        return (self.answers.pop(0) if self.answers else "", "")


@pytest.fixture
def files(monkeypatch):  # type: ignore[no-untyped-def]
    return Files(monkeypatch)


@pytest.fixture
def hub(tmp_path):  # type: ignore[no-untyped-def]
    """The street office's database (a hub), beside the station's."""
    db = open_database(tmp_path / "hub" / "hub.sqlite3")
    admin = accounts.setup_station(
        db,
        code=HUB_CODE,
        name=HUB_NAME,
        level="street",
        admin_username="admin",
        admin_password="admin123",
        admin_display_name="街道管理员",
    )
    yield db, admin
    db.close()


def trust_both(station_db, hub) -> None:  # type: ignore[no-untyped-def]
    (sdb, sadmin), (hdb, hadmin) = station_db, hub
    exchange.trust_peer(sdb, sadmin, exchange.station_keys(hdb).peer)
    exchange.trust_peer(hdb, hadmin, exchange.station_keys(sdb).peer)


def ric(seq: int) -> str:
    return make_ric("340304", date(1958, 3, 14), seq)


def peer_cells(page, row):  # type: ignore[no-untyped-def]
    return [page.peer_table.item(row, c).text() for c in range(page.peer_table.columnCount())]


# ---------------------------------------------------------------- keys and peers


def test_key_strip_and_exporting_the_public_key(qtbot, gui, station_db, files, no_modal_boxes, tmp_path):
    db, admin = station_db
    page = make_page(qtbot, gui, db, admin)
    code, name, role, fp = exchange.my_identity(db)
    assert page.title == "数据交换" and page.min_role == "supervisor"
    assert "340304001" in page.station_label.text() and "幸福里社区党群服务中心" in page.station_label.text()
    assert "站点" in page.station_label.text()
    assert digits(page.fingerprint.text()) == digits(fp) and len(fp.split()) == 6
    assert page.fingerprint.font().pointSize() > page.font().pointSize() + 4  # read over the phone
    assert "还没有信任的站点" in page.peer_note.text()
    assert not page.export_btn.isEnabled() and page.import_btn.isEnabled()

    out = tmp_path / "out" / "key.json"
    out.parent.mkdir()
    files.answers.append(str(out))
    page.export_key_btn.click()
    settle(qtbot, gui)
    assert files.asked[-1][1].endswith("340304001-公钥.json")
    assert exchange.read_peer_file(out).fingerprint == fp
    kind, text = no_modal_boxes[-1]
    assert kind == "information" and digits(fp) in digits(text) and str(out) in text


def test_trusting_a_peer_after_checking_the_fingerprint(
    qtbot, gui, station_db, hub, files, no_modal_boxes, monkeypatch, tmp_path
):
    from desktop.ui.pages.exchange import TRUST_TEXT, TrustPeerDialog

    db, admin = station_db
    hdb, hadmin = hub
    hub_file = tmp_path / "hub-key.json"
    hub_fp = exchange.export_public_key(hdb, hadmin, hub_file)
    page = make_page(qtbot, gui, db, admin)
    shown: list[TrustPeerDialog] = []
    answer = [0]
    monkeypatch.setattr(TrustPeerDialog, "exec", lambda self: shown.append(self) or answer[0])

    files.answers.append(str(hub_file))
    page.trust_btn.click()  # 取消: nothing trusted
    settle(qtbot, gui)
    dlg = shown[-1]
    assert TRUST_TEXT in dlg.instruction.text()
    assert digits(dlg.fingerprint.text()) == digits(hub_fp)
    assert dlg.fingerprint.font().pointSize() >= page.font().pointSize() + 10
    assert dlg.cancel.isDefault() and not dlg.trust.isDefault()  # Enter does not trust
    assert HUB_NAME in " ".join(w.text() for w in dlg.findChildren(type(dlg.instruction)))
    settle(qtbot, gui)
    assert exchange.peers(db) == [] and page.peer_table.rowCount() == 0

    answer[0] = 1
    files.answers.append(str(hub_file))
    page.trust_btn.click()
    settle(qtbot, gui)
    assert [p.code for p in exchange.peers(db)] == [HUB_CODE]
    cells = peer_cells(page, 0)
    assert cells[:3] == [HUB_CODE, HUB_NAME, "街道（汇总端）"] and digits(cells[3]) == digits(hub_fp)
    assert cells[4] == "—" and cells[7] == "正常"
    assert page.tabs.tabText(page.TAB_PEERS) == "信任的站点 1"
    assert page.peer_combo.currentData() == HUB_CODE and page.export_btn.isEnabled()
    assert "已信任" in page.result.text()

    # The same code with other keys: the dialog warns that the old keys go.
    from desktop.services.sync import keys

    other = keys.generate(HUB_CODE, HUB_NAME, "hub")
    keys.write_peer_file(other.peer, tmp_path / "new-hub-key.json")
    answer[0] = 0
    files.answers.append(str(tmp_path / "new-hub-key.json"))
    page.trust_btn.click()
    settle(qtbot, gui)
    assert "密钥不同" in " ".join(w.text() for w in shown[-1].findChildren(type(dlg.instruction)))

    # Our own key file is refused with the service's message.
    exchange.export_public_key(db, admin, tmp_path / "mine.json")
    answer[0] = 1
    files.answers.append(str(tmp_path / "mine.json"))
    page.trust_btn.click()
    settle(qtbot, gui)
    assert no_modal_boxes[-1][0] == "warning" and "本站自己的公钥" in no_modal_boxes[-1][1]

    # Not a peer file at all.
    (tmp_path / "junk.json").write_text("hello", encoding="utf-8")
    files.answers.append(str(tmp_path / "junk.json"))
    page.trust_btn.click()
    settle(qtbot, gui)
    assert no_modal_boxes[-1][0] == "warning"


def test_revoking_a_peer(qtbot, gui, station_db, hub, no_modal_boxes):
    db, admin = station_db
    trust_both(station_db, hub)
    page = make_page(qtbot, gui, db, admin)
    assert not page.revoke_btn.isEnabled()
    page.tabs.setCurrentIndex(page.TAB_PEERS)
    page.peer_table.selectRow(0)
    assert page.revoke_btn.isEnabled()
    page.revoke_btn.click()
    settle(qtbot, gui)
    assert exchange.peers(db)[0].revoked
    assert peer_cells(page, 0)[7] == "已注销"
    assert page.peer_table.item(0, 7).foreground().color().name() == "#b42318"
    assert page.peer_combo.count() == 0 and not page.export_btn.isEnabled()


def test_a_supervisor_exchanges_but_does_not_manage_keys(qtbot, gui, station_db, hub):
    db, admin = station_db
    accounts.create_account(db, admin, username="zhan", display_name="王站长", role="supervisor", password="zhan12345")
    sup = accounts.authenticate(db, "zhan", "zhan12345")
    trust_both(station_db, hub)
    page = make_page(qtbot, gui, db, sup)
    for b in (page.export_key_btn, page.trust_btn, page.revoke_btn):
        assert not b.isEnabled()
    assert "管理员" in page.export_key_btn.toolTip() and "管理员" in page.trust_btn.toolTip()
    assert page.export_btn.isEnabled() and page.full_btn.isEnabled() and page.import_btn.isEnabled()
    page.export_key(str(Path(gui.tmp) / "x.json"))  # even if called, nothing happens
    assert not (Path(gui.tmp) / "x.json").exists()


# ---------------------------------------------------------------- bundles


def test_export_import_conflict_and_one_click_to_keep(qtbot, gui, station_db, hub, files, no_modal_boxes, tmp_path):
    db, admin = station_db
    hdb, hadmin = hub
    trust_both(station_db, hub)
    rid = residents.register(db, admin, ResidentForm(name="王秀英", doc_number=ric(21), phone="13800001111"))
    page = make_page(qtbot, gui, db, admin, settings=gui.settings)
    assert page.peer_combo.currentData() == HUB_CODE
    assert "待发送" in page.peer_note.text()

    # 完整导出 through the page: the proposed name, the progress bar, the result line.
    usb = tmp_path / "usb"
    usb.mkdir()
    first = usb / "first.sdbundle"
    files.answers.append(str(first))
    steps = []
    page.progress_sig.step.connect(lambda *a: steps.append(a))
    page.full_btn.click()
    qtbot.waitUntil(lambda: page.busy)  # the proposed name came back and the export started
    assert files.asked[-1][1].endswith(".sdbundle") and "完整" in Path(files.asked[-1][1]).name
    assert Path(files.asked[-1][1]).name.startswith("340304001-至-340304000-")
    assert page.busy and not page.export_btn.isEnabled() and page.progress.isVisible()
    settle(qtbot, gui)
    assert not page.busy and not page.progress.isVisible() and page.export_btn.isEnabled()
    assert first.exists() and "完整导出完成" in page.result.text() and str(first) in page.result.text()
    assert steps  # progress came back to the UI thread
    r = page.last_result
    assert r.rows > 0 and f"{r.rows:,} 条记录" in page.result.text()
    assert page.history_table.rowCount() == 1
    hist = [page.history_table.item(0, c).text() for c in range(page.history_table.columnCount())]
    assert hist[1] == "导出（完整）" and HUB_CODE in hist[2] and hist[5] == "first.sdbundle"
    assert exchange.import_bundle(hdb, hadmin, first).new > 0

    # Both sides change the resident's phone before they meet again.
    residents.update(hdb, hadmin, rid, replace(residents.get(hdb, rid).form, phone="13912345678"))
    residents.update(db, admin, rid, replace(residents.get(db, rid).form, phone="13700002222"))
    back = usb / "back.sdbundle"
    exchange.export_bundle(hdb, hadmin, "340304001", back)

    files.answers.append(str(back))
    page.import_btn.click()
    assert page.busy and page.progress.isVisible()
    settle(qtbot, gui)
    assert not page.progress.isVisible()
    res = page.last_result
    assert not res.already and res.conflicts == 1
    assert "冲突 1 处" in page.result.text() and "“冲突”" in page.result.text()
    assert page.tabs.tabText(page.TAB_CONFLICTS) == "冲突 1"
    assert page.history_table.rowCount() == 2
    assert no_modal_boxes == []

    page.tabs.setCurrentIndex(page.TAB_CONFLICTS)
    assert page.conflict_table.rowCount() == 1
    c = page.conflict_rows[0]
    assert c.record_label == "王秀英" and c.field_label == "联系电话"
    assert {page.panel_a.value.text(), page.panel_b.value.text()} == {c.a.value, c.b.value}
    assert c.a.station_name in page.panel_a.source.text() and c.b.station_name in page.panel_b.source.text()
    assert page.panel_a.keep.isEnabled() and page.panel_b.keep.isEnabled()
    page.grab().save(str(tmp_path / "exchange-conflict.png"))
    assert "后来又改成了" not in page.panel_a.source.text()
    # Someone edits the phone again before the supervisor decides: the panel says so.
    residents.update(db, admin, rid, replace(residents.get(db, rid).form, phone="13600003333"))
    page.activated()
    settle(qtbot, gui)
    assert "后来又改成了" in page.panel_a.source.text() and "13600003333" in page.panel_a.source.text()
    loser = c.b.value
    page.panel_b.keep.click()  # one click keeps the value that lost
    settle(qtbot, gui)
    assert page.conflict_table.rowCount() == 0 and page.tabs.tabText(page.TAB_CONFLICTS) == "冲突"
    assert "已保留" in page.conflict_note.text() and loser in page.conflict_note.text()
    assert digits(residents.get(db, rid).form.phone) == digits(loser)
    assert exchange.conflicts(db) == []
    page.show_resolved.setChecked(True)
    settle(qtbot, gui)
    assert page.conflict_table.rowCount() == 1
    assert page.conflict_table.item(0, 7).text() == "已保留 B" and not page.panel_a.keep.isEnabled()

    # The same file again changes nothing.
    files.answers.append(str(back))
    page.import_btn.click()
    settle(qtbot, gui)
    assert page.last_result.already
    assert page.result.text() == "这个数据交换包以前已经导入过，没有任何变化。"


def test_a_bad_bundle_is_refused_with_its_message(qtbot, gui, station_db, hub, files, no_modal_boxes, tmp_path):
    db, admin = station_db
    trust_both(station_db, hub)
    page = make_page(qtbot, gui, db, admin)
    junk = tmp_path / "photo.sdbundle"
    junk.write_bytes(b"\xff\xd8\xff\xe0 not a bundle" * 100)
    files.answers.append(str(junk))
    page.import_btn.click()
    settle(qtbot, gui)
    kind, text = no_modal_boxes[-1]
    assert kind == "warning" and "不是社区一站通的数据交换包" in text and "没有任何改变" in text
    assert "没有导入" in page.result.text() and page.import_btn.isEnabled() and not page.progress.isVisible()

    # A bundle cut short on the way (the stick pulled out).
    hdb, hadmin = hub
    good = tmp_path / "good.sdbundle"
    exchange.export_bundle(hdb, hadmin, "340304001", good, full=True)
    cut = tmp_path / "cut.sdbundle"
    cut.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    files.answers.append(str(cut))
    page.import_btn.click()
    settle(qtbot, gui)
    kind, text = no_modal_boxes[-1]
    assert kind == "warning" and "没有导入任何数据" in text
    assert exchange.history(db) == []


def test_cancelled_file_dialogs_do_nothing(qtbot, gui, station_db, hub, files, no_modal_boxes):
    db, admin = station_db
    trust_both(station_db, hub)
    page = make_page(qtbot, gui, db, admin)
    page.export_btn.click()
    settle(qtbot, gui)
    page.import_btn.click()
    page.export_key_btn.click()
    settle(qtbot, gui)
    page.trust_btn.click()
    settle(qtbot, gui)
    assert len(files.asked) == 4 and exchange.history(db) == [] and no_modal_boxes == []
    assert not page.busy


def test_progress_from_the_worker_thread_reaches_the_bar(qtbot, gui, station_db, hub, monkeypatch, tmp_path):
    from desktop.ui.pages import exchange as page_module

    db, admin = station_db
    trust_both(station_db, hub)
    page = make_page(qtbot, gui, db, admin)
    seen = []
    release = threading.Event()
    real = exchange.export_bundle

    def slow_export(db_, actor, to, out, full=False, progress=None):  # type: ignore[no-untyped-def]
        progress(3, 10, "正在写入居民")
        seen.append(threading.current_thread().name)
        release.wait(10)
        return real(db_, actor, to, out, full=full)

    monkeypatch.setattr(page_module.exchange, "export_bundle", slow_export)
    page.export_bundle(False, str(tmp_path / "x.sdbundle"))
    qtbot.waitUntil(lambda: page.progress.maximum() == 10)
    assert page.progress.value() == 3 and "正在写入居民" in page.progress.format()
    assert seen == ["db-worker"]
    release.set()
    settle(qtbot, gui)
    assert not page.progress.isVisible() and "导出变更完成" in page.result.text()


# ---------------------------------------------------------------- duplicates


def test_duplicate_residents_side_by_side_and_merged(
    qtbot, gui, station_db, hub, no_modal_boxes, monkeypatch, tmp_path
):
    db, admin = station_db
    hdb, hadmin = hub
    trust_both(station_db, hub)
    # The same person registered at the street office and at the station.
    residents.register(hdb, hadmin, ResidentForm(name="张桂兰", doc_number=ric(35), phone="13955556666"))
    residents.register(db, admin, ResidentForm(name="张桂兰", doc_number=ric(35), address_text="幸福里5栋101"))
    residents.register(db, admin, ResidentForm(name="李建国", doc_number=ric(47)))
    residents.register(hdb, hadmin, ResidentForm(name="李建国", doc_number=ric(47)))
    r = exchange.export_bundle(db, admin, HUB_CODE, tmp_path / "s.sdbundle", full=True)
    assert exchange.import_bundle(hdb, hadmin, r.path).duplicates == 2

    page = make_page(qtbot, gui, hdb, hadmin)
    assert page.tabs.tabText(page.TAB_DUPLICATES) == "疑似重复居民 2"
    page.tabs.setCurrentIndex(page.TAB_DUPLICATES)
    assert page.duplicate_table.rowCount() == 2
    row = next(i for i, d in enumerate(page.duplicate_rows) if d.a.name == "张桂兰")
    page.duplicate_table.selectRow(row)
    d = page.duplicate_rows[row]
    assert page.left.values["name"].text() == "张桂兰" and page.right.values["name"].text() == "张桂兰"
    assert ric(35) not in page.left.values["doc"].text() and "*" in page.left.values["doc"].text()
    assert HUB_NAME in page.left.values["origin"].text() and "340304001" in page.right.values["origin"].text()
    assert page.left.keep.isEnabled() and page.right.keep.isEnabled() and page.dismiss_btn.isEnabled()
    page.grab().save(str(tmp_path / "exchange-duplicates.png"))

    asked = []
    monkeypatch.setattr(
        QMessageBox, "question", staticmethod(lambda *a, **k: asked.append(a[2]) or QMessageBox.StandardButton.No)
    )
    page.right.keep.click()  # asked, and said no
    settle(qtbot, gui)
    assert asked and "指向保留记录" in asked[0] and "转到保留的这条记录下" in asked[0]
    assert len(exchange.duplicates(hdb)) == 2

    monkeypatch.setattr(QMessageBox, "question", staticmethod(lambda *a, **k: QMessageBox.StandardButton.Yes))
    page.duplicate_table.selectRow(row)
    page.right.keep.click()
    settle(qtbot, gui)
    done = [x for x in exchange.duplicates(hdb, None) if x.id == d.id][0]
    assert done.status == "merged" and done.survivor_id == d.b.id
    assert "已合并" in page.duplicate_note.text()
    assert page.duplicate_table.rowCount() == 1 and page.tabs.tabText(page.TAB_DUPLICATES) == "疑似重复居民 1"

    page.duplicate_table.selectRow(0)
    page.dismiss_btn.click()
    settle(qtbot, gui)
    assert exchange.duplicates(hdb) == [] and page.duplicate_table.rowCount() == 0
    assert "不是同一人" in page.duplicate_note.text()
    page.show_decided.setChecked(True)
    settle(qtbot, gui)
    assert {page.duplicate_table.item(i, 5).text() for i in range(2)} == {"已合并", "不是同一人"}
    assert not page.dismiss_btn.isEnabled() or page.duplicate_rows[0].status == "open"
