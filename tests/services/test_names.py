import pytest

from desktop.services.names import name_pinyin


@pytest.mark.parametrize(
    "name, full, initials",
    [
        ("张三", "zhangsan", "zs"),
        ("单雄信", "shanxiongxin", "sxx"),
        ("曾国藩", "zengguofan", "zgf"),
        ("解缙", "xiejin", "xj"),
        ("欧阳修", "ouyangxiu", "oyx"),
        ("尉迟恭", "yuchigong", "ycg"),
        ("王 芳", "wangfang", "wf"),
    ],
)
def test_names_read_as_names(name, full, initials):
    assert name_pinyin(name) == (full, initials)


def test_rare_characters_do_not_crash():
    full, initials = name_pinyin("王𠅤")
    assert full.startswith("wang") and initials.startswith("w")
    assert name_pinyin("李䶮") == ("liyan", "ly")


def test_the_reading_table_gives_pypinyins_readings_for_every_character():
    """names reads pypinyin's character table itself (without the phrase
    dictionary that importing pypinyin loads); every character in it, and
    characters outside it, read exactly as pypinyin's lazy_pinyin reads them."""
    import json
    from pathlib import Path

    import pypinyin

    from desktop.services import names

    table = names._readings()
    assert table is not None and len(table) > 40_000
    with open(Path(pypinyin.__file__).parent / "pinyin_dict.json", encoding="utf-8") as f:
        assert table == {int(k): v for k, v in json.load(f).items()}
    others = [0x3007, 0x00B7, 0x00E9, 0x3000, 0xFF21, 0xFF11, 0x20000, 0x2A6D6, 0x30000, 0xE000, 0x1F600]
    for code in [*table, *others]:
        ch = chr(code)
        assert names._char(ch) == names._char_by_pypinyin(ch), ch


def test_without_the_table_pypinyin_reads_the_name(monkeypatch):
    from desktop.services import names

    monkeypatch.setattr(names, "_readings", lambda: None)
    names._char.cache_clear()
    try:
        assert names.syllables("张绿女") == ["zhang", "lv", "nv"]
    finally:
        names._char.cache_clear()
