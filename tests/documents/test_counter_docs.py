"""Receipts and one-time notices: content, masking, layouts, embedded font,
missing-glyph check and atomic writes."""

from __future__ import annotations

import shutil
import subprocess
from datetime import date, datetime

import pytest
from reportlab.lib.units import mm

from desktop.documents import counter_docs, fonts, pdf
from desktop.documents.layout import QR, Text, qr_modules

FULL_ID = "340304194003050221"


@pytest.fixture(scope="module")
def font():
    return fonts.resolve()


def _info(**kw):
    base = dict(
        station_name="幸福里社区党群服务中心",
        station_phone="0552-3123456",
        receipt_no="340304001-20261123-0001",
        resident_name="王秀英",
        resident_doc_masked="340304********0221",
        matter_name="居住证申领（代办）",
        mode_label="代办",
        channel_label="窗口",
        materials=[("居民身份证", 1), ("近期一寸免冠彩色照片1张", 1)],
        accepted_at=datetime(2026, 11, 23, 9, 30),
        worker_name="李前台",
        promised_date=date(2026, 12, 7),
        promised_days=10,
    )
    base.update(kw)
    return counter_docs.ReceiptInfo(**base)


def _pdftext(data: bytes, tmp_path) -> str:
    if not shutil.which("pdftotext"):
        pytest.skip("poppler-utils not installed")
    p = tmp_path / "x.pdf"
    p.write_bytes(data)
    return subprocess.run(["pdftotext", "-layout", str(p), "-"], capture_output=True, text=True, check=True).stdout


@pytest.mark.parametrize("layout", ["A4", "A5", "80mm"])
def test_receipt_carries_every_field_and_only_the_masked_id(layout, font, tmp_path):
    doc = counter_docs.receipt(_info(), font, layout)
    data = pdf.render(doc, font)
    text = "".join(_pdftext(data, tmp_path).split())
    for needle in (
        "受理回执",
        "340304001-20261123-0001",
        "王秀英",
        "340304********0221",
        "居住证申领（代办）",
        "居民身份证：验原件（当场退还），收复印件1份",
        "2026年11月23日09:30",
        "李前台",
        "2026年12月7日（10个工作日内）",
        "0552-3123456",
        "幸福里社区党群服务中心",
    ):
        assert needle in text, needle
    assert "（代办）（代办）" not in text
    assert FULL_ID not in text
    assert b"/FontFile2" in data  # TrueType outlines embedded
    qrs = [op for p in doc.pages for op in p.ops if isinstance(op, QR)]
    assert len(qrs) == 1 and qrs[0].modules == qr_modules("340304001-20261123-0001")
    assert len(doc.pages) == 1
    if layout == "80mm":
        assert doc.pages[0].width == pytest.approx(80 * mm)
        assert 100 * mm < doc.pages[0].height < 300 * mm
        # Nothing is drawn past the paper's right edge.
        for op in doc.pages[0].ops:
            if isinstance(op, Text):
                assert op.x + font.ttfont().stringWidth(op.text, op.size) <= 80 * mm - 3 * mm + 0.5, op.text


def test_a_long_material_list_flows_onto_a_second_a5_page(font):
    doc = counter_docs.receipt(_info(materials=[(f"材料{i}" * 4, 1) for i in range(60)]), font, "A5")
    assert len(doc.pages) >= 2
    for page in doc.pages:
        for op in page.ops:
            if isinstance(op, Text):
                assert 0 < op.y <= page.height


def test_notice_lists_materials_and_the_reason(font, tmp_path):
    info = counter_docs.NoticeInfo(
        station_name="幸福里社区党群服务中心",
        station_phone="0552-3123456",
        notice_no="340304001-GZ20261123-0001",
        matter_name="最低生活保障申请（代办）",
        mode_label="代办",
        basis="《社会救助暂行办法》",
        conditions="收入低于标准",
        process="申请→调查→公示",
        fee="不收费",
        promised_days=5,
        materials=[
            counter_docs.NoticeMaterial("居民身份证", True, 1, "本人"),
            counter_docs.NoticeMaterial("低保申请书", True, 1, "社区窗口领取", missing=True),
        ],
        resident_name="王秀英",
        worker_name="李前台",
        day=date(2026, 11, 23),
    )
    text = "".join(_pdftext(pdf.render(counter_docs.notice(info, font), font), tmp_path).split())
    for needle in (
        "一次性告知单",
        "340304001-GZ20261123-0001",
        "低保申请书（尚缺）",
        "缺少必需材料：低保申请书",
        "《社会救助暂行办法》",
        "12345",
        "2026年11月23日",
        "5个工作日",
    ):
        assert needle in text, needle


def test_missing_glyphs_are_found_before_printing(font):
    assert font.missing("王秀英 张三") == []
    rare = "\U0002a6a5"  # 𪚥, CJK Extension B: not in the common fonts
    assert font.missing(f"王{rare}{rare}") == [rare]
    doc = counter_docs.receipt(_info(resident_name=f"王{rare}"), font, "A4")
    assert rare in doc.text and font.missing(doc.text) == [rare]


def test_no_font_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(fonts, "candidates", lambda configured=None: [])
    fonts.resolve.cache_clear()
    try:
        with pytest.raises(fonts.NoFont) as e:
            fonts.resolve("nothing")
        assert "中文字体" in e.value.user_message
    finally:
        fonts.resolve.cache_clear()


def test_a_cff_font_is_skipped_for_the_next_candidate(monkeypatch, tmp_path, font):
    bad = tmp_path / "NotoSansCJK.ttc"
    bad.write_bytes(b"OTTO" + b"\0" * 100)
    monkeypatch.setattr(
        fonts, "candidates", lambda configured=None: [(bad, 0, "bad"), (fonts.Path(font.path), font.index, "ok")]
    )
    fonts.resolve.cache_clear()
    try:
        assert fonts.resolve("x").path == font.path
    finally:
        fonts.resolve.cache_clear()


def test_saving_is_atomic(tmp_path, font, monkeypatch):
    import errno
    import os

    data = pdf.render(counter_docs.receipt(_info(), font), font)
    out = pdf.save(data, tmp_path / "r.pdf")
    assert out.read_bytes() == data and not list(tmp_path.glob("*.part"))

    def disk_full(*a, **kw):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", disk_full)
    with pytest.raises(OSError):
        pdf.save(b"%PDF-new", out)
    assert out.read_bytes() == data  # the earlier file is untouched
    assert not list(tmp_path.glob("*.part"))


def test_wrapping_keeps_numbers_whole_and_punctuation_off_line_starts(font):
    from desktop.documents.layout import Builder

    b = Builder(font, (200, 400), 10, "t")
    size = 10
    width = b.measure("查询进度：凭本回执编号到服务窗口查询，或拨打", size)
    lines = b.wrap(
        "查询进度：凭本回执编号到服务窗口查询，或拨打站点电话 0552-1234567。到窗口时出示本回执。", size, width
    )
    assert any("0552-1234567" in ln for ln in lines)
    assert all(b.measure(ln, size) <= width + 0.01 for ln in lines)
    assert not any(ln[:1] in "，。" for ln in lines)
    long = "A" * 200
    assert "".join(b.wrap(long, size, width)) == long
    assert all(b.measure(ln, size) <= width + 0.01 for ln in b.wrap(long, size, width))


def test_no_line_starts_with_closing_marks_after_nested_brackets(font):
    from desktop.documents.layout import Builder

    b = Builder(font, (400, 800), 10, "t")
    text = (
        "依据民政部司法部《关于开展村级组织承担的证明事项清理工作的通知》所附"
        "《不应由基层群众性自治组织出具证明事项清单（第一批）》（民发〔2020〕20号），不属于"
    )
    for width in range(120, 380, 7):
        lines = b.wrap(text, 12, width)
        assert "".join(lines) == text
        assert not any(ln[:1] in "）》，。" for ln in lines[1:]), (width, lines)


def test_no_line_starts_with_punctuation_after_a_phone_number(font):
    from desktop.documents.layout import Builder

    b = Builder(font, (400, 800), 10, "t")
    text = (
        "扫描左侧二维码或凭编号，可向开具单位前进村村民委员会核验真伪，电话：0552-3123456；"
        "数据已同步的街道（乡镇）汇总中心也可核验。"
    )
    for width in range(120, 380, 5):
        lines = b.wrap(text, 9.5, width)
        assert "".join(lines) == text
        assert not any(ln[:1] in "；）。，" for ln in lines[1:]), (width, lines)
        assert all(b.measure(ln, 9.5) <= width + 0.01 for ln in lines), (width, lines)
