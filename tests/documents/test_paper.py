"""Every paper as the agency receiving it reads it: produced from a real
station database, written as PDF, its text extracted with pdftotext and its
fonts listed with pdffonts."""

from __future__ import annotations

import re
import shutil
import subprocess
from datetime import date, datetime

import pytest

from desktop import paperwork
from desktop.documents import fonts, pdf
from desktop.documents.layout import QR, Text, qr_modules
from desktop.services import accounts, certificates as certs, counter, residents, volunteers as vol
from desktop.services.idnumbers import make_ric, mask
from desktop.services.residents import ResidentForm
from desktop.services.volunteers import NeedForm, VolunteerForm

DOC = make_ric("340304", date(1980, 5, 6), 21)
CITATION = "民政部等六部门《关于改进和规范基层群众性自治组织出具证明工作的指导意见》（民发〔2020〕20号）"

pytestmark = pytest.mark.skipif(
    not shutil.which("pdftotext") or not shutil.which("pdffonts"), reason="poppler-utils not installed"
)


def _pdf(doc, tmp_path, name="x"):
    data = pdf.render(doc, doc.font or fonts.resolve())
    path = tmp_path / f"{name}.pdf"
    path.write_bytes(data)
    return path


def text_of(doc, tmp_path, name="x") -> str:
    path = _pdf(doc, tmp_path, name)
    out = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout
    return "".join(out.split())


def fonts_of(doc, tmp_path, name="f") -> list[tuple[str, bool]]:
    """(font name, embedded) for every font the PDF names."""
    path = _pdf(doc, tmp_path, name)
    out = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True).stdout
    rows = []
    for line in out.splitlines()[2:]:
        m = re.match(r"^(\S+)\s+.*?\s(yes|no)\s+(yes|no)\s+(yes|no)\s+\d+\s+\d+\s*$", line)
        assert m, line
        rows.append((m.group(1), m.group(2) == "yes"))
    return rows


def _station(db, name="幸福里社区党群服务中心", level="community", code="340304001"):
    admin = accounts.setup_station(
        db, code=code, name=name, level=level, admin_username="admin", admin_password="admin123", phone="0552-3123456"
    )
    rid = residents.register(
        db,
        admin,
        ResidentForm(
            name="赵丽", doc_number=DOC, phone="13812345678", estate="幸福里小区", building="3", unit="2", room="501"
        ),
    )
    return admin, rid, {t.code: t for t in certs.catalogue(db)}


def _certificate(db, admin, rid, t, vals):
    issued = certs.issue(db, admin, rid, t.id, vals, t.materials, glyphs=paperwork.certificate_glyphs)
    return paperwork.certificate_document(db, admin, issued.id), issued


def test_certificate_is_signed_and_stamped_by_the_committee(sqlite_db, tmp_path):
    admin, rid, by = _station(sqlite_db)
    doc, issued = _certificate(sqlite_db, admin, rid, by["R01"], {"since": "2015年3月", "purpose": "子女入学"})
    text = text_of(doc, tmp_path)
    assert "幸福里社区居民委员会" in text and issued.serial in text and DOC in text
    # the centre is named only as the place; the signature is the committee's
    assert text.index("幸福里社区居民委员会") > text.index("特此证明。")
    assert "办理地点：幸福里社区党群服务中心" in text
    assert text.count("特此证明。") == 1
    # the seal circle sits on the committee's name
    names = [op for op in doc.pages[0].ops if isinstance(op, Text) and op.text == "幸福里社区居民委员会"]
    seal = [op for op in doc.pages[0].ops if isinstance(op, Text) and op.text == "（盖章）"]
    assert len(names) == 1 and len(seal) == 1
    name_mid = names[0].x + doc.font.ttfont().stringWidth(names[0].text, names[0].size) / 2
    seal_mid = seal[0].x + doc.font.ttfont().stringWidth(seal[0].text, seal[0].size) / 2
    assert abs(name_mid - seal_mid) < 1
    # where to verify: the issuer, not "any station"
    assert "任一社区服务站" not in text and "可向开具单位幸福里社区居民委员会" in text


def test_party_feedback_is_signed_by_the_party_organisation_with_one_closing(sqlite_db, tmp_path):
    admin, rid, by = _station(sqlite_db)
    doc, _ = _certificate(
        sqlite_db, admin, rid, by["R05"], {"service": "本年度参加志愿服务12次", "purpose": "向单位反馈"}
    )
    text = text_of(doc, tmp_path)
    assert "中共幸福里社区委员会" in text and "幸福里社区居民委员会" not in text
    assert text.count("特此反馈。") == 1 and "特此证明" not in text


def test_practice_certificate_says_its_closing_once(sqlite_db, tmp_path):
    admin, rid, by = _station(sqlite_db)
    doc, _ = _certificate(
        sqlite_db, admin, rid, by["R04"], {"activity": "2026年暑期垃圾分类宣传", "purpose": "学校社会实践"}
    )
    text = text_of(doc, tmp_path)
    assert text.count("特此证明。") == 1
    assert text.index("此证明用于学校社会实践") < text.index("特此证明。")


def test_village_writes_ben_cun_and_is_the_villagers_committee(sqlite_db, tmp_path):
    admin, rid, by = _station(sqlite_db, name="前进村党群服务中心", level="village")
    doc, _ = _certificate(sqlite_db, admin, rid, by["R01"], {"since": "2015年3月", "purpose": "子女入学"})
    text = text_of(doc, tmp_path)
    assert "前进村村民委员会" in text and "本村" in text and "本社区" not in text
    refusal = certs.refuse(sqlite_db, admin, by["N08"].id, rid)
    text = text_of(paperwork.refusal_document(sqlite_db, refusal, "李前台"), tmp_path, "r")
    assert "本村不予出具" in text and "本社区" not in text and "前进村村民委员会" in text


def test_refusal_notice_is_numbered_verifiable_stamped_and_cites_the_opinion(sqlite_db, tmp_path):
    admin, rid, by = _station(sqlite_db)
    refusal = certs.refuse(sqlite_db, admin, by["N01"].id, rid)
    doc = paperwork.refusal_document(sqlite_db, refusal, "李前台")
    text = text_of(doc, tmp_path)
    assert CITATION in text and "清理工作的通知" not in text
    assert f"〔{date.today().year}〕幸福告字第0001号" in text
    assert "幸福里社区居民委员会" in text and "（盖章）" in text and "派出所" in text
    qrs = [op for p in doc.pages for op in p.ops if isinstance(op, QR)]
    assert len(qrs) == 1 and qrs[0].modules == qr_modules(refusal.qr)
    assert certs.verify(sqlite_db, refusal.qr).genuine


def _served(db, admin, rid):
    """A volunteer who did one recorded service for the resident."""
    vid, _ = vol.register(
        db,
        admin,
        VolunteerForm(
            name="钱志愿",
            doc_number=make_ric("340304", date(1985, 1, 1), 11),
            phone="13900000000",
            skills=["shopping"],
            availability=["3am"],
            data_consent=True,
            grid="一网格",
            estate="幸福里小区",
        ),
        today=date(2026, 11, 23),
    )
    nid = vol.create_need(
        db,
        admin,
        NeedForm(
            title="代买菜",
            description="为独居老人赵丽代买一周的蔬菜",
            resident_id=rid,
            skills=["shopping"],
            day=date(2026, 11, 25),
            slot="am",
            hours=2,
        ),
        today=date(2026, 11, 23),
    )
    vol.move_need(db, admin, nid, "accept")
    [asg] = vol.assign(db, admin, nid, [vid], date(2026, 11, 25))
    vol.complete(db, admin, asg, datetime(2026, 11, 25, 9), datetime(2026, 11, 25, 11), today=date(2026, 11, 25))
    return vid, nid


def test_volunteer_certificate_is_complete_and_registered(sqlite_db, tmp_path):
    admin, rid, by = _station(sqlite_db)
    vid, nid = _served(sqlite_db, admin, rid)
    doc = paperwork.volunteer_certificate_document(sqlite_db, admin, vid, date(2026, 11, 1), date(2026, 11, 30))
    text = text_of(doc, tmp_path)
    serial = f"〔{date.today().year}〕幸福志证字第0001号"
    masked = mask(make_ric("340304", date(1985, 1, 1), 11))
    for needle in (
        serial,
        f"居民身份证号码：{masked}",
        "为独居老人",
        "负责人：",
        "经办人：管理员",
        "幸福里社区居民委员会",
        "《志愿服务条例》",
        "（盖章）",
        "已登记用印",
    ):
        assert needle in text, needle
    assert make_ric("340304", date(1985, 1, 1), 11) not in text
    lines = certs.seal_register(sqlite_db)
    assert [x.content for x in lines] == [f"志愿服务记录证明（{serial}）"]
    dispatch = paperwork.dispatch_document(sqlite_db, nid, date(2026, 11, 25), "管理员")
    text = text_of(dispatch, tmp_path, "d")
    for needle in (
        "派单编号：340304001-PD20261125-",
        "需求描述：为独居老人赵丽代买一周的蔬菜",
        "服务对象签字",
        "□非常满意",
        "□非常不满意",
    ):
        assert needle in text, needle


def test_receipt_says_seen_or_kept_notes_proxy_time_and_has_a_stub(sqlite_db, tmp_path):
    admin, rid, _ = _station(sqlite_db)
    t = next(m for m in counter.catalogue(sqlite_db) if m.name.startswith("最低生活保障"))
    acc = counter.accept(sqlite_db, admin, rid, t.id, t.required_materials, "window")
    doc = paperwork.receipt_document(sqlite_db, acc.matter_id, "A4")
    text = text_of(doc, tmp_path)
    assert "居民身份证：验原件（当场退还），收复印件" in text
    assert "承诺时限已包含本站核对材料和转交上级部门的时间" in text
    assert "受理回执（存根）" in text and "申请人签字" in text and len(doc.pages) == 1
    assert "扫码查询办理记录" not in text
    roll = text_of(paperwork.receipt_document(sqlite_db, acc.matter_id, "80mm"), tmp_path, "roll")
    assert "存根" not in roll


def test_every_paper_embeds_every_font_and_certificates_use_a_song_face(sqlite_db, tmp_path):
    admin, rid, by = _station(sqlite_db)
    cert, _ = _certificate(sqlite_db, admin, rid, by["R01"], {"since": "2015年3月", "purpose": "子女入学"})
    refusal = paperwork.refusal_document(sqlite_db, certs.refuse(sqlite_db, admin, by["N01"].id, rid), "李前台")
    t = next(m for m in counter.catalogue(sqlite_db) if m.name.startswith("最低生活保障"))
    acc = counter.accept(sqlite_db, admin, rid, t.id, t.required_materials, "window")
    docs = {
        "certificate": cert,
        "refusal": refusal,
        "notice": paperwork.notice_document(sqlite_db, t.id, notice_no="N-1"),
    }
    for layout in ("A4", "A5", "80mm"):
        docs[f"receipt-{layout}"] = paperwork.receipt_document(sqlite_db, acc.matter_id, layout)
    vid, nid = _served(sqlite_db, admin, rid)
    docs["volunteer"] = paperwork.volunteer_certificate_document(
        sqlite_db, admin, vid, date(2026, 11, 1), date(2026, 11, 30)
    )
    docs["dispatch"] = paperwork.dispatch_document(sqlite_db, nid, date(2026, 11, 25), "管理员")
    from desktop.services import reports

    today = counter.local_today()
    docs["report"] = paperwork.report_document(
        reports.build(sqlite_db, admin, reports.Period.month(today.year, today.month))
    )
    for name, doc in docs.items():
        found = fonts_of(doc, tmp_path, name)
        assert found and all(emb for _, emb in found), (name, found)
        assert not any("Helvetica" in f for f, _ in found), (name, found)
    serif = fonts.resolve_serif()
    if serif.path != fonts.resolve().path:  # a 宋体/仿宋 face is installed (CI: fonts-arphic-uming)
        assert cert.font is serif and refusal.font is serif
        assert any("Ming" in f or "Sim" in f or "Song" in f for f, _ in fonts_of(cert, tmp_path, "c2"))
