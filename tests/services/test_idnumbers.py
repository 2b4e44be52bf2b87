from datetime import date

import pytest
from stdnum.cn import ric as stdnum_ric

from db.errors import ValidationError
from desktop.services.idnumbers import age_on, check_char, make_ric, mask, normalize, upgrade15, validate_ric


@pytest.mark.parametrize(
    "raw", ["11010519491231002X", " 110105 19491231 002x ", "１１０１０５１９４９１２３１００２Ｘ"]
)
def test_valid_numbers_are_normalised_and_read(raw):
    info = validate_ric(raw)
    assert info.number == "11010519491231002X"
    assert info.birth_date == date(1949, 12, 31)
    assert info.gender == 2  # 17th digit 2 is even


def test_fifteen_digit_numbers_are_upgraded():
    info = validate_ric("110105491231002")
    assert info.number == "11010519491231002X" and info.upgraded_from_15


@pytest.mark.parametrize(
    "raw, fragment",
    [
        ("", "请填写"),
        ("1101051949123100", "18 位"),
        ("11010519491231002A", "最后一位"),
        ("99010519491231002X", "省级行政区划代码"),
        ("110105" + "20230230" + "0011", "不是真实的日期"),
        ("110105" + "20991231" + "0011", "今天之后"),
        ("110105194912310021", "校验位不正确"),
    ],
)
def test_bad_numbers_say_what_is_wrong(raw, fragment):
    with pytest.raises(ValidationError) as e:
        validate_ric(raw, today=date(2026, 11, 22))
    assert e.value.field == "doc_number"
    assert fragment in e.value.user_message


def test_check_char_agrees_with_python_stdnum():
    for first17 in ["11010519491231002", "34030419800506123", "44030719920101000", "65010219751212987"]:
        assert stdnum_ric.calc_check_digit(first17 + "0") == check_char(first17)


def test_make_ric_builds_valid_numbers_with_gender_parity():
    male = make_ric("340304", date(1980, 5, 6), 123)
    female = make_ric("340304", date(1980, 5, 6), 124)
    assert validate_ric(male).gender == 1 and validate_ric(female).gender == 2


def test_masking():
    assert mask("11010519491231002X") == "**************002X"
    assert mask("110105491231002") == "***********1002"
    assert mask("H12345678") == "*****5678"
    assert mask("AB12") == "**12"
    assert mask("") == "" and mask(None) == ""


def test_normalize_and_upgrade():
    assert normalize(" ３４０３ ０４x ") == "340304X"
    assert len(upgrade15("340304800506123")) == 18


def look_alikes(today):
    """Two valid numbers with other area codes and other birth dates that
    share the last 4, the gender and the age."""
    from collections import defaultdict

    by_tail = defaultdict(list)
    for area in ("110105", "340304", "440307", "650102"):
        for birth in (date(1949, 12, 31), date(1950, 3, 8), date(1950, 7, 19), date(1950, 10, 2)):
            for seq in range(20, 40, 2):
                n = make_ric(area, birth, seq)
                key = (n[-4:], age_on(birth, today))
                for other in by_tail[key]:
                    if other[:6] != n[:6] and other[6:14] != n[6:14]:
                        return other, n
                by_tail[key].append(n)
    raise AssertionError("no pair")


def test_what_is_shown_beside_a_masked_number_gives_back_only_its_last_4():
    """The list row and detail panel show the mask, the gender and the age;
    two residents whose numbers share only the last 4 look the same."""
    today = date(2026, 12, 4)
    a, b = look_alikes(today)
    shown = []
    for n in (a, b):
        info = validate_ric(n, today)
        shown.append((mask(n), info.gender, age_on(info.birth_date, today)))
    assert shown[0] == shown[1] and shown[0][0] == "*" * 14 + a[-4:]
    # no character but the last 4 is in the mask, at its place or anywhere as a run
    m = mask(a)
    assert all(c == "*" for c in m[:-4])
    for cut in ("19491231", "1949", a[:6], a[6:14]):
        assert cut not in m
    # the ID-tail search still has what it matches
    assert m.endswith(a[-4:])
