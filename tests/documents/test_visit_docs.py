"""走访任务单 from a real station: one grid per page, walking order, large type,
blank result columns, no ID numbers."""

from __future__ import annotations

import shutil
import subprocess
from datetime import date, timedelta

import pytest

from desktop import paperwork
from desktop.documents.layout import Text
from desktop.services import residents, visits
from desktop.services.idnumbers import make_ric
from desktop.services.residents import ResidentForm
from desktop.services.visits import VisitForm
from tests.documents.test_paper import _pdf

pytestmark = pytest.mark.skipif(not shutil.which("pdftotext"), reason="poppler-utils not installed")
TODAY = date(2026, 12, 2)


def test_visit_list_by_grid_in_route_order(station, tmp_path):
    db, admin = station
    doc_no = make_ric("340304", date(1940, 5, 6), 21)
    for name, grid, building, tags in (
        ("乙十二栋", "第一网格", "12", ["独居"]),
        ("甲二栋", "第一网格", "2", ["特困"]),
        ("丙", "第二网格", "5", ["空巢"]),
        ("丁低保", "第二网格", "1", ["低保"]),
    ):
        rid = residents.register(
            db,
            admin,
            ResidentForm(
                name=name,
                grid=grid,
                estate="幸福里",
                building=building,
                unit="1",
                room="101",
                tags=tags,
                phone="13800000000",
                doc_number=doc_no if name == "丙" else "",
            ),
        )
        if name == "丁低保":  # visited 10 days ago: monthly, not due
            visits.record_visit(
                db, admin, VisitForm(resident_id=rid, day=TODAY - timedelta(days=10), met="本人"), today=TODAY
            )
        if name == "丙":
            visits.record_visit(
                db, admin, VisitForm(resident_id=rid, day=TODAY - timedelta(days=1), outcome="not_home"), today=TODAY
            )
    doc = paperwork.visit_list_document(db, "李网格员", today=TODAY)
    assert len(doc.pages) == 2  # one page per grid
    pages = []
    for page in doc.pages:
        texts = [op for op in page.ops if isinstance(op, Text)]
        assert min(t.size for t in texts) >= 10.5  # large enough to read at a door
        pages.append("".join(t.text for t in texts))
    assert "第一网格" in pages[0] and pages[0].index("甲二栋") < pages[0].index("乙十二栋")  # 2栋 before 12栋
    assert "第二网格" in pages[1] and "丙" in pages[1] and "丁低保" not in "".join(pages)
    assert "不在家" in pages[1] and "□见到" in pages[1] and "李网格员" in pages[0]
    path = _pdf(doc, tmp_path, "visits")
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
    assert "走访任务单" in text and doc_no not in text and doc_no[-4:] not in text
    empty = paperwork.visit_list_document(db, "李网格员", grid="第三网格", today=TODAY)
    assert "本周没有需要走访的户" in empty.text
