"""Certificates: catalogue and alias search, issuing with serials and the seal
register, approval, void and reissue, refusals, verification."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from db.errors import PermissionDenied, ValidationError
from db.models import AuditLog, Certificate, SealLog
from desktop.services import accounts, certificates as certs, residents
from desktop.services.idnumbers import make_ric
from desktop.services.residents import ResidentForm

DOC = make_ric("340304", date(1980, 5, 6), 21)


@pytest.fixture
def setup(station):
    db, admin = station
    accounts.create_account(db, admin, username="desk1", display_name="李前台", role="desk", password="desk12345")
    desk = accounts.authenticate(db, "desk1", "desk12345")
    rid = residents.register(
        db,
        desk,
        ResidentForm(
            name="赵丽", doc_number=DOC, phone="13812345678", estate="幸福里小区", building="3", unit="2", room="501"
        ),
    )
    items = certs.catalogue(db)
    return db, admin, desk, rid, {t.code: t for t in items}


def test_catalogue_ships_the_national_negative_list_and_searches_aliases(setup):
    db, _, _, _, by = setup
    items = certs.catalogue(db)
    abolished = [t for t in items if t.kind == "abolished"]
    assert len(abolished) == 20 and all(t.redirect and "民发〔2020〕20号" in t.basis for t in abolished)
    assert all(t.basis for t in items if t.kind == "retained")
    for q, name in (
        ("亲属", "亲属关系证明"),
        ("关系证明", "亲属关系证明"),
        ("无犯罪", "无犯罪记录证明"),
        ("单身", "婚姻状况证明"),
        ("健在", "健在证明"),
        ("居住", "居住证明"),
        ("我要开个单身证明", "婚姻状况证明"),
    ):
        assert certs.search(items, q)[0].name == name, q
    assert certs.search(items, "亲属")[0].kind == "abolished"


def test_issue_on_the_spot_with_gapless_serials_and_seal_register(setup):
    db, admin, desk, rid, by = setup
    t = by["R01"]
    vals = {"since": "2015年3月", "purpose": "子女入学"}
    with pytest.raises(ValidationError) as e:
        certs.issue(db, desk, rid, t.id, vals, t.materials[:1])
    assert e.value.field == "materials"
    with pytest.raises(ValidationError) as e:
        certs.issue(db, desk, rid, t.id, {"since": "2015年3月"}, t.materials)
    assert e.value.field == "purpose"
    a = certs.issue(db, desk, rid, t.id, vals, t.materials, copies=2)
    b = certs.issue(db, desk, rid, t.id, vals, t.materials)
    year = date.today().year
    assert a.status == "issued" and a.serial == f"〔{year}〕幸福证字第0001号" and b.serial.endswith("第0002号")
    d = certs.get(db, a.id)
    assert "赵丽" in d.body_masked and DOC not in d.body_masked and "*" * 14 + DOC[-4:] in d.body_masked
    assert "幸福里小区3栋2单元501室" in d.body_masked and "子女入学" in d.body_masked
    p = certs.printable(db, desk, a.id)
    assert DOC in p.body_full and p.qr.startswith(f"ZM:340304001:{year}:1:")
    with db.session() as s:
        lines = s.scalars(select(SealLog).order_by(SealLog.at)).all()
        assert [(x.copies, x.applicant_name, x.applicant_phone, x.handler_name) for x in lines] == [
            (2, "赵丽", "13812345678", "李前台"),
            (1, "赵丽", "13812345678", "李前台"),
        ]
        # the audit line names the certificate by id only, never the person
        assert all("赵丽" not in str(x.detail) for x in s.scalars(select(AuditLog)))
    assert [x.content for x in certs.seal_register(db)][0].endswith("第0002号）")


def test_approval_queue_and_no_gap_for_declined(setup):
    db, admin, desk, rid, by = setup
    t = by["R05"]  # needs approval
    vals = {"service": "本年度参加志愿服务 12 次", "purpose": "向所在单位反馈"}
    p1 = certs.issue(db, desk, rid, t.id, vals, t.materials)
    p2 = certs.issue(db, desk, rid, t.id, vals, t.materials)
    assert p1.status == p2.status == "pending" and p1.serial is None
    assert {r.id for r in certs.pending(db)} == {p1.id, p2.id}
    with pytest.raises(PermissionDenied):
        certs.approve(db, desk, p1.id)
    with pytest.raises(ValidationError):
        certs.decline(db, admin, p1.id, "")
    certs.decline(db, admin, p1.id, "情况与入户核实不符")
    ok = certs.approve(db, admin, p2.id)
    assert ok.serial.endswith("第0001号")  # the declined request took no number
    assert certs.get(db, p2.id).approver_name == "管理员"
    with pytest.raises(ValidationError):
        certs.approve(db, admin, p2.id)
    with pytest.raises(ValidationError):
        certs.printable(db, desk, p1.id)  # declined: nothing to print


def test_factual_needs_reason_and_approval_abolished_cannot_be_issued(setup):
    db, admin, desk, rid, by = setup
    f = by["F01"]
    vals = {
        "subject": "在本社区任职或服务的情况",
        "facts": "该居民于2020年起在本社区担任楼栋长",
        "purpose": "单位了解其社区服务",
    }
    with pytest.raises(ValidationError) as e:
        certs.issue(db, admin, rid, f.id, vals, f.materials)
    assert e.value.field == "reason"
    r = certs.issue(db, desk, rid, f.id, vals, f.materials, reason="单位要求社区出具任职情况，两张清单均无")
    assert r.status == "pending"
    with pytest.raises(certs.AbolishedType):
        certs.issue(db, admin, rid, by["N01"].id, {}, [])


def test_void_and_reissue_keep_every_number(setup):
    db, admin, desk, rid, by = setup
    t = by["R01"]
    a = certs.issue(db, desk, rid, t.id, {"since": "2015年", "purpose": "入学"}, t.materials)
    with pytest.raises(PermissionDenied):
        certs.void(db, desk, a.id, "写错了")
    with pytest.raises(ValidationError):
        certs.reissue(db, admin, a.id, "")
    new = certs.reissue(db, admin, a.id, "原件遗失")
    assert new.serial.endswith("第0002号")
    old = certs.get(db, a.id)
    assert old.status == "voided" and old.replaced_by_serial == new.serial and "原件遗失" in old.void_reason
    assert certs.get(db, new.id).replaces_serial == old.serial
    with pytest.raises(ValidationError):
        certs.reissue(db, admin, a.id, "again")
    certs.void(db, admin, new.id, "居民不再需要")
    with pytest.raises(ValidationError):
        certs.void(db, admin, new.id, "twice")
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(Certificate)) == 2  # nothing deleted
        assert s.scalar(select(func.count()).select_from(SealLog)) == 2


def test_refusals_are_logged_and_counted(setup):
    db, admin, desk, rid, by = setup
    r = certs.refuse(db, desk, by["N01"].id, rid, "办理继承")
    assert r.resident_name == "赵丽" and "派出所" in r.redirect and "民发〔2020〕20号" in r.basis
    certs.refuse(db, desk, by["N01"].id)
    certs.refuse(db, desk, by["N08"].id)
    assert certs.refusal_counts(db) == {"亲属关系证明": 2, "婚姻状况证明": 1}
    assert [x.type_name for x in certs.refusals(db)][-1] == "亲属关系证明"
    with pytest.raises(ValidationError):
        certs.refuse(db, desk, by["R01"].id)


def test_verify_qr_serial_forgery_and_void(setup):
    db, admin, desk, rid, by = setup
    t = by["R01"]
    a = certs.issue(db, desk, rid, t.id, {"since": "2015年", "purpose": "入学"}, t.materials)
    qr = certs.printable(db, desk, a.id).qr
    v = certs.verify(db, qr)
    assert v.genuine and v.detail.resident_name == "赵丽" and "有效" in v.message
    assert DOC not in v.detail.body_masked
    forged = qr[:-8] + ("A" * 8 if not qr.endswith("A" * 8) else "B" * 8)
    assert not certs.verify(db, forged).genuine and "伪造" in certs.verify(db, forged).message
    made_up = qr.replace(":1:", ":7:")
    assert not certs.verify(db, made_up).found
    typed = certs.verify(db, a.serial)
    assert typed.found and typed.by_serial_only and not typed.genuine
    new = certs.reissue(db, admin, a.id, "内容有误")
    v = certs.verify(db, qr)
    assert v.genuine and v.detail.status == "voided" and new.serial in v.message
    assert certs.verify(db, certs.printable(db, desk, new.id).qr).detail.status == "issued"
    assert not certs.verify(db, "随便写的").found


def test_certificates_and_refusals_appear_on_the_resident_timeline(setup):
    from desktop.services import timeline

    db, admin, desk, rid, by = setup
    t = by["R01"]
    a = certs.issue(db, desk, rid, t.id, {"since": "2015年", "purpose": "入学"}, t.materials)
    certs.refuse(db, desk, by["N10"].id, rid)
    items = timeline.for_resident(db, rid)
    assert [i.kind for i in items] == ["refusal", "certificate"]
    assert items[1].ref_id == a.id and a.serial in items[1].detail and "健在证明" in items[0].title


def test_import_a_city_catalogue_and_local_entries(setup, tmp_path):
    import json

    db, admin, desk, rid, by = setup
    doc = json.loads((certs.resources_dir() / certs.SHIPPED).read_text(encoding="utf-8"))
    doc["retained"] = [r for r in doc["retained"] if r["code"] != "R04"]  # the city dropped one
    doc["retained"][0]["name"] = "居住证明（本市式样）"
    doc["retained"].append({**doc["retained"][0], "code": "C09", "name": "权属来源证明", "aliases": "权属"})
    doc["abolished"].append(
        {
            "code": "S21",
            "name": "独生子女证明",
            "aliases": "独生",
            "basis": "本省补充清单",
            "redirect": "由卫生健康部门核查。",
        }
    )
    f = tmp_path / "city.json"
    f.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(PermissionDenied):
        certs.import_catalogue(db, desk, str(f))
    local = certs.save_local_type(
        db,
        admin,
        None,
        name="住宅专项维修资金使用证明",
        basis="本市住宅专项维修资金管理办法第十二条",
        field_labels=["工程名称"],
        body="兹证明{姓名}所在楼栋{工程名称}已经业主表决。用于{用途}。",
        materials=["居民身份证"],
    )
    counts = certs.import_catalogue(db, admin, str(f))
    assert counts == {"added": 2, "updated": 1, "deactivated": 1}
    names = {t.name for t in certs.catalogue(db)}
    assert {"居住证明（本市式样）", "权属来源证明", "独生子女证明", "住宅专项维修资金使用证明"} <= names
    assert "参加社区实践活动证明" not in names
    assert certs.import_catalogue(db, admin, str(f)) == {"added": 0, "updated": 0, "deactivated": 0}
    # The local entry issues with its own fields by label.
    t = next(x for x in certs.catalogue(db) if x.id == local)
    r = certs.issue(db, admin, rid, t.id, {"工程名称": "屋面防水", "用途": "申请使用维修资金"}, t.materials)
    assert "屋面防水" in certs.get(db, r.id).body_masked and "赵丽" in certs.get(db, r.id).body_masked


@pytest.mark.parametrize(
    "kw, field",
    [
        ({"basis": ""}, "basis"),
        ({"body": "兹证明{不存在的栏目}"}, "body"),
        ({"body": "兹证明{姓名"}, "body"),
        ({"name": ""}, "name"),
    ],
)
def test_local_entries_must_cite_a_basis_and_a_valid_body(setup, kw, field):
    db, admin, *_ = setup
    args = {"name": "某证明", "basis": "某条例第三条", "body": "兹证明{姓名}。用于{用途}。", **kw}
    with pytest.raises(ValidationError) as e:
        certs.save_local_type(db, admin, None, **args)
    assert e.value.field == field


def test_bad_catalogue_files_change_nothing(setup, tmp_path):
    db, admin, *_ = setup
    before = [(t.name, t.active) for t in certs.catalogue(db, include_inactive=True)]
    for content in (
        "{broken",
        '{"format": "other"}',
        '{"format": "station-desk-certificates/1", "retained": [{"code": "X", "name": "无依据证明"}]}',
    ):
        f = tmp_path / "c.json"
        f.write_text(content, encoding="utf-8")
        with pytest.raises(ValidationError):
            certs.import_catalogue(db, admin, str(f))
    assert [(t.name, t.active) for t in certs.catalogue(db, include_inactive=True)] == before
    with pytest.raises(ValidationError):
        certs.set_type_active(db, admin, certs.catalogue(db)[0].id, False)  # abolished entries stay visible


def test_retained_types_come_before_abolished_and_purposes_are_suggested(setup):
    db, admin, desk, rid, by = setup
    items = certs.catalogue(db)
    listed = certs.search(items, "")
    kinds = [t.kind for t in listed]
    assert kinds.index("abolished") > max(i for i, k in enumerate(kinds) if k != "abolished")
    assert listed[0].code == "R01"
    assert [t.kind for t in certs.search(items, "证明")][0] != "abolished"
    assert certs.search(items, "亲属")[0].name == "亲属关系证明"  # still found by search
    # 用途: the defaults first time; then what this station writes most often, first.
    assert certs.common_purposes(db) == list(certs.DEFAULT_PURPOSES)
    r01 = by["R01"]
    for purpose in ("办理出国签证", "办理出国签证", "子女入学"):
        certs.issue(db, desk, rid, r01.id, {"since": "2015年", "purpose": purpose}, r01.materials)
    got = certs.common_purposes(db)
    assert got[:2] == ["办理出国签证", "子女入学"] and got.count("子女入学") == 1
    assert set(certs.DEFAULT_PURPOSES) <= set(got)


def test_the_masked_body_hides_the_birth_date_beside_the_masked_number(setup):
    """A local template may print both {出生日期} and {身份证号}: on screen
    (body_masked) the birth date is hidden with the number; the printed
    certificate keeps both."""
    db, admin, _desk, rid, _by = setup
    tid = certs.save_local_type(
        db,
        admin,
        None,
        name="出生日期核对证明",
        basis="本站试行",
        body="兹证明{姓名}，身份证号{身份证号}，出生日期{出生日期}。",
        materials=["居民身份证"],
        needs_approval=False,
    )
    t = next(x for x in certs.catalogue(db) if x.id == tid)
    c = certs.issue(db, admin, rid, t.id, {"用途": "核对"}, t.materials)
    d = certs.get(db, c.id)
    assert "1980年5月6日" not in d.body_masked and "****年**月**日" in d.body_masked
    assert "*" * 14 + DOC[-4:] in d.body_masked
    p = certs.printable(db, admin, c.id)
    assert DOC in p.body_full and "1980年5月6日" in p.body_full


SUBNAMES = [
    ("户籍证明", "N02"),
    ("表现证明", "N06"),
    ("婚姻关系证明", "N08"),
    ("分居证明", "N08"),
    ("急诊证明", "N12"),
    ("意外伤害证明", "N12"),
    ("生育状况证明", "N14"),
    ("经济状况证明", "N17"),
    ("收入证明", "N17"),
    ("偿还能力证明", "N17"),
    ("房产证明", "N17"),
    ("银行存款证明", "N17"),
    ("投资情况证明", "N17"),
    ("车辆所有权证明", "N17"),
    ("经营场所证明", "N19"),
    ("同意住宅改变为经营性用房证明", "N19"),
    ("无扰民证明", "N19"),
    ("社区经营性用房无扰民证明", "N19"),
]


@pytest.mark.parametrize("query, code", SUBNAMES)
def test_search_finds_each_official_sub_name(setup, query, code):
    db, _, _, _, by = setup
    assert certs.search(certs.catalogue(db), query)[0].code == code, query


def test_every_abolished_item_cites_the_six_department_opinion(setup):
    db, *_ = setup
    abolished = [t for t in certs.catalogue(db) if t.kind == "abolished"]
    assert len(abolished) == 20
    for t in abolished:
        assert (
            "民政部等六部门《关于改进和规范基层群众性自治组织出具证明工作的指导意见》（民发〔2020〕20号）" in t.basis
        ), t.code
        assert "清理工作的通知" not in t.basis


def test_every_negative_list_word_points_at_its_own_item(setup):
    db, *_ = setup
    abolished = [t for t in certs.catalogue(db) if t.kind == "abolished"]
    for t in abolished:
        words = certs.negative_words(t)
        assert len(words) >= 3, t.name
        for w in words:
            hit = certs.negative_match(abolished, f"经核实，{w}情况属实")
            assert hit is not None and hit[0].code == t.code, (t.name, w, hit and hit[0].name)


def test_factual_request_touching_any_abolished_item_is_refused(setup):
    """The catch-all cannot certify a kinship, a marital status … under another
    name: one request per item of the 20, by its name in the purpose and by an
    alias in the facts, is refused before anything is saved."""
    db, admin, desk, rid, by = setup
    f = by["F01"]
    abolished = [t for t in certs.catalogue(db) if t.kind == "abolished"]
    for t in abolished:
        alias = t.aliases.split(",")[-1]
        for vals in (
            {"subject": "入户走访所见的情况", "facts": "入户时居民在家", "purpose": f"办理{t.name}"},
            {"subject": "入户走访所见的情况", "facts": f"经走访，{alias}", "purpose": "单位要求"},
        ):
            with pytest.raises(certs.NegativeListMatch) as e:
                certs.issue(db, admin, rid, f.id, vals, f.materials, reason="单位要求")
            assert e.value.type_id == t.id, (t.name, vals)
    # the example from the field: a kinship and "本人未婚" on one paper
    with pytest.raises(certs.NegativeListMatch) as e:
        certs.issue(
            db,
            admin,
            rid,
            f.id,
            {"subject": "入户走访所见的情况", "facts": "本人未婚，与赵四系父女关系", "purpose": "办理手续"},
            f.materials,
            reason="单位要求",
        )
    assert e.value.type_name in ("婚姻状况证明", "亲属关系证明")
    with pytest.raises(ValidationError) as e:  # what it certifies comes from the short list
        certs.issue(
            db,
            admin,
            rid,
            f.id,
            {"subject": "其他", "facts": "入户时居民在家", "purpose": "x"},
            f.materials,
            reason="单位要求",
        )
    assert e.value.field == "subject"
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(Certificate)) == 0
    # the refusal that follows carries its number and verifies
    r = certs.refuse(db, desk, by["N08"].id, rid)
    assert r.serial == f"〔{date.today().year}〕幸福告字第0001号" and certs.verify(db, r.qr).genuine
    assert certs.refuse(db, desk, by["N01"].id).serial.endswith("第0002号")
    assert "告知单有效" in certs.verify(db, r.qr).message
    assert not certs.verify(db, r.qr[:-8] + "AAAAAAAA").genuine


def test_retained_examples_that_were_negative_list_items_are_dropped(setup):
    import json

    db, *_ = setup
    names = {t.name for t in certs.catalogue(db)}
    assert "与死亡人员关系证明（用于待遇领取）" not in names and "困难家庭生活困难证明" not in names
    doc = json.loads((certs.resources_dir() / certs.SHIPPED).read_text(encoding="utf-8"))
    why = {d["code"]: d["why"] for d in doc["dropped"]}
    assert "亲属关系证明" in why["R03"] and "经济状况证明" in why["R02"] and "循环" in why["R02"]


def test_a_name_the_font_lacks_takes_no_serial_and_no_seal_line(setup):
    from desktop import paperwork

    db, admin, desk, _, by = setup
    rare = "\U0002a6a5"  # 𪚥, not in the certificate fonts
    if not paperwork.certificate_glyphs(rare):
        pytest.skip("this certificate font has the test character")
    rid = residents.register(
        db,
        desk,
        ResidentForm(
            name=f"王{rare}",
            doc_number=make_ric("340304", date(1981, 1, 2), 31),
            estate="幸福里小区",
            building="1",
            unit="1",
            room="101",
        ),
    )
    t = by["R01"]
    vals = {"since": "2015年", "purpose": "入学"}
    with pytest.raises(certs.MissingGlyphs) as e:
        certs.issue(db, desk, rid, t.id, vals, t.materials, glyphs=paperwork.certificate_glyphs)
    assert e.value.chars == [rare] and "没有占用编号" in e.value.user_message
    with pytest.raises(certs.MissingGlyphs):  # the refusal notice's number likewise
        certs.refuse(db, desk, by["N01"].id, rid, glyphs=paperwork.certificate_glyphs)
    assert certs.refusals(db) == []
    p = certs.issue(db, desk, rid, by["R05"].id, {"service": "服务 3 次", "purpose": "反馈"}, by["R05"].materials)
    assert p.status == "pending"  # a request waits; the check comes when the number would be taken
    with pytest.raises(certs.MissingGlyphs):
        certs.approve(db, admin, p.id, glyphs=paperwork.certificate_glyphs)
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(SealLog)) == 0
        assert s.scalar(select(func.count()).select_from(Certificate).where(Certificate.serial.is_not(None))) == 0
    ok = certs.issue(db, desk, rid, t.id, vals, t.materials)  # without the check (the old behaviour) it would
    assert ok.serial.endswith("第0001号")  # the failed attempts left no gap
