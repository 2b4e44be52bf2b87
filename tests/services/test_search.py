from datetime import date

import pytest

from db.models import Resident
from desktop.services.idnumbers import make_ric
from desktop.services.names import name_pinyin
from desktop.services.search import ResidentIndex

PEOPLE = [
    ("张三", date(1950, 3, 1), "13812345678", "幸福里小区3栋2单元501室"),
    ("张三丰", date(1960, 5, 2), "13900001111", "和平家园1栋1单元101室"),
    ("李张", date(1970, 1, 1), "13700002222", "龙湖苑5栋3单元302室"),
    ("王𠅤", date(1980, 7, 7), "0552-3334444", "淮河新村2栋1单元201室"),
    ("欧阳修", date(1990, 9, 9), None, "锦绣花园8栋2单元801室"),
]


@pytest.fixture
def index(station):
    db, _ = station
    with db.session() as s:
        for i, (name, birth, phone, addr) in enumerate(PEOPLE):
            py, ini = name_pinyin(name)
            s.add(
                Resident(
                    name=name,
                    pinyin=py,
                    initials=ini,
                    birth_date=birth,
                    gender=1,
                    doc_number=make_ric("340304", birth, 101 + 2 * i),
                    phone=phone,
                    address_text=addr,
                )
            )
    ix = ResidentIndex(db)
    return db, ix


def names(hits):
    return [h.name for h in hits]


def test_two_character_names_rank_exact_then_prefix_then_inside(index):
    _, ix = index
    assert names(ix.search("张三")) == ["张三", "张三丰"]
    assert names(ix.search("张"))[:2] == ["张三", "张三丰"] and "李张" in names(ix.search("张"))
    assert names(ix.search(" 王𠅤 ")) == ["王𠅤"]


def test_pinyin_and_initials(index):
    _, ix = index
    assert names(ix.search("zs")) == ["张三"] + [n for n in names(ix.search("zs")) if n != "张三"]
    assert "张三丰" in names(ix.search("zsf"))
    assert names(ix.search("ouyang")) == ["欧阳修"]
    assert names(ix.search("ZHANGSAN"))[0] == "张三"


def test_id_tail_phone_and_address(index):
    db, ix = index
    doc = make_ric("340304", date(1970, 1, 1), 105)
    hits = ix.search(doc[-4:])
    assert hits[0].name == "李张" and hits[0].matched == "证件号尾号"
    assert hits[0].doc_masked == "*" * 14 + doc[-4:]
    assert ix.search("13812345678")[0].name == "张三"
    assert names(ix.search("3334444")) == ["王𠅤"]
    assert names(ix.search("8栋2单元")) == ["欧阳修"]
    assert ix.search("   ") == []


def test_changes_show_up_and_tombstones_disappear(index):
    db, ix = index
    assert names(ix.search("赵六")) == []
    with db.session() as s:
        py, ini = name_pinyin("赵六")
        s.add(Resident(name="赵六", pinyin=py, initials=ini))
        r = s.query(Resident).filter_by(name="张三丰").one()
        r.moved_out = True
    assert names(ix.search("赵六")) == ["赵六"]
    hits = ix.search("张三")
    assert [h.status for h in hits] == ["", "已迁出"]
    with db.session() as s:
        s.query(Resident).filter_by(name="赵六").one().retire()
    assert names(ix.search("赵六")) == []


def test_initials_and_id_tail_together(index):
    """``zs 0107``: initials AND the ID number's tail, with or without the space;
    either part alone finds more people, together only the one."""
    db, ix = index
    zsf = make_ric("340304", date(1960, 5, 2), 103)  # 张三丰
    tail = zsf[-4:]
    assert len(ix.search("zs")) >= 2  # 张三 and 张三丰
    for q in (f"zs {tail}", f"zs{tail}", f"ZS　{tail}", f"{tail} zs", f"张 {tail}"):
        hits = ix.search(q)
        assert names(hits) == ["张三丰"], q
        assert "证件号尾号" in hits[0].matched
    assert ix.search(f"zs {make_ric('340304', date(1970, 1, 1), 105)[-4:]}") == []  # 李张's tail: not zs
    assert names(ix.search("zsf 1111")) == ["张三丰"]  # initials AND a phone fragment


def test_words_of_one_kind_stay_one_query(index):
    from desktop.services.search import query_parts

    _, ix = index
    assert query_parts("王 秀英") == ["王秀英"] and query_parts("138 1234 5678") == ["13812345678"]
    assert query_parts("lfy 0304") == ["lfy", "0304"] and query_parts("LFY0304x") == ["lfy", "0304x"]
    assert query_parts("zhang san") == ["zhangsan"] and query_parts("  ") == []
    assert names(ix.search("张 三")) == ["张三", "张三丰"]
    assert names(ix.search("138 1234 5678")) == ["张三"]


def test_combined_search_finds_past_the_per_field_cap(station):
    """With more than MAX_PER_FIELD people sharing the initials, the one whose
    ID tail matches is still found."""
    from desktop.services import search

    db, _ = station
    n = search.MAX_PER_FIELD + 50
    with db.session() as s:
        for i in range(n):
            s.add(
                Resident(
                    name="李方圆", pinyin="lifangyuan", initials="lfy", gender=1, doc_number=f"34030419800101{i:04d}"
                )
            )
    ix = ResidentIndex(db)
    last = f"{n - 1:04d}"
    hits = ix.search(f"lfy {last}")
    assert [h.doc_masked[-4:] for h in hits] == [last]
