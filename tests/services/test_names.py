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
