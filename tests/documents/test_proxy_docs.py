"""The 代办原件交接单 (A4 and A5, masked ID, originals with counts, signature
lines) and the 代办台账 workbook, whose agent names stay text."""

from __future__ import annotations

from datetime import date

import openpyxl
import pytest

from desktop import paperwork
from desktop.documents import fonts, pdf
from desktop.services import accounts, counter, proxy, residents
from desktop.services.counter import MatterTypeView
from desktop.services.idnumbers import make_ric
from desktop.services.proxy import AgentForm, Original, ProxyForm
from desktop.services.residents import ResidentForm
from tests.documents.test_counter_docs import _pdftext
from tests.documents.test_formula_injection import HOSTILE, assert_no_formulas

FULL_ID = make_ric("340304", date(1940, 3, 5), 22)


@pytest.fixture
def case(sqlite_db):
    db = sqlite_db
    admin = accounts.setup_station(
        db,
        code="340304001",
        name="前进村党群服务中心",
        level="village",
        phone="0552-3123456",
        admin_username="admin",
        admin_password="admin123",
    )
    rid = residents.register(db, admin, ResidentForm(name="王秀英", doc_number=FULL_ID, phone="13812345678"))
    agent = proxy.save_agent(db, admin, AgentForm(name=HOSTILE[0], village_group="第三村民小组", phone="13900001111"))
    t = next(m for m in counter.catalogue(db) if m.name.startswith("居住证申领"))
    items = [Original(m, 1) for m in t.required_materials] + [Original("户口簿", 2)]
    reg = proxy.register(db, admin, ProxyForm(agent, rid, t.id, items))
    return db, admin, rid, agent, reg, t


@pytest.mark.parametrize("layout", ["A4", "A5"])
def test_slip_carries_the_matter_originals_and_signature_lines(case, layout, tmp_path):
    db, admin, _, _, reg, t = case
    font = fonts.resolve()
    doc = paperwork.proxy_slip_document(db, reg.case_id, layout, font)
    assert len(doc.pages) == 1
    text = "".join(_pdftext(pdf.render(doc, font), tmp_path).split())
    for needle in (
        "委托代办原件交接单",
        reg.receipt_no,
        "王秀英",
        t.name,
        "户口簿",
        "第三村民小组",
        "委托人签字",
        "代办员签字",
        "□已退还□未退还",
        "前进村党群服务中心",
        "0552-3123456",
    ):
        assert needle in text, needle
    assert FULL_ID not in text and FULL_ID[-4:] in text  # masked
    assert f"共{len(t.required_materials) + 1}种、{len(t.required_materials) + 2}份" in text
    # after the hand-back the slip says which originals went back
    proxy.forward(db, admin, reg.case_id, "镇便民服务中心")
    proxy.result_back(db, admin, reg.case_id, "已办好")
    n = len(t.required_materials) + 1
    proxy.hand_back(db, admin, reg.case_id, [True] * (n - 1) + [False], note="户口簿由派出所留存核对")
    text = "".join(
        _pdftext(pdf.render(paperwork.proxy_slip_document(db, reg.case_id, layout, font), font), tmp_path).split()
    )
    assert "未退还" in text and "已退还" in text and "镇便民服务中心" in text and "□已退还" not in text


def test_no_slip_for_a_matter_without_originals(case):
    db, admin, rid, agent, _, _ = case
    tid = counter.save_matter_type(db, admin, MatterTypeView(None, "", "代缴城乡居民医保费", "医保", "proxy", 5))
    bare = proxy.register(db, admin, ProxyForm(agent, rid, tid, [])).case_id
    with pytest.raises(proxy.NoOriginals):
        paperwork.proxy_slip_document(db, bare)


def test_ledger_workbook_keeps_agent_names_as_pdftext(case, tmp_path):
    db, _, _, _, reg, _ = case
    today = date.today()
    start, end = proxy.month_range(today.year, today.month)
    out = paperwork.export_proxy_ledger(db, tmp_path / "代办台账.xlsx", start, end)
    assert_no_formulas(out, HOSTILE[0])
    wb = openpyxl.load_workbook(out)
    summary = [[c.value for c in row] for row in wb["代办台账"].iter_rows(min_row=2)]
    assert summary == [["第三村民小组", HOSTILE[0], 1, 0, 0], ["合计", None, 1, 0, 0]]
    detail = [[c.value for c in row] for row in wb["明细"].iter_rows(min_row=2)]
    assert [(r[0], r[1], r[4]) for r in detail] == [("登记", reg.receipt_no, HOSTILE[0])]
