"""居民身份证号码 (GB 11643-1999): normalise, upgrade, validate, mask, make.

The check follows the standard (weights 7 9 10 5 8 4 2 1 6 3 7 9 10 5 8 4 2,
sum mod 11 -> "10X98765432"); python-stdnum's ``cn.ric`` implements the same
checksum and its test data is the reference our tests compare against.  The
messages say in Chinese what is wrong, without revealing the expected check
character.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

from db.errors import ValidationError
from desktop.services.vocab import PROVINCE_PREFIXES

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK = "10X98765432"


@dataclass(frozen=True)
class RicInfo:
    number: str  # normalised 18 characters
    birth_date: date
    gender: int  # GB/T 2261.1: 1 male, 2 female
    upgraded_from_15: bool = False


def check_char(first17: str) -> str:
    return CHECK[sum(int(c) * w for c, w in zip(first17, WEIGHTS, strict=True)) % 11]


def normalize(raw: str | None) -> str:
    """Trim all whitespace, full-width to half-width (NFKC), lower-case x to X."""
    s = unicodedata.normalize("NFKC", raw or "")
    return "".join(s.split()).upper()


def upgrade15(num15: str) -> str:
    """An old 15-digit number (two-digit year, no check) as 18 digits."""
    first17 = num15[:6] + "19" + num15[6:]
    return first17 + check_char(first17)


def _fail(message: str) -> ValidationError:
    return ValidationError("doc_number", message)


def validate_ric(raw: str | None, today: date | None = None) -> RicInfo:
    return _validate_ric(normalize(raw), today or date.today())


@lru_cache(maxsize=4096)
def _validate_ric(num: str, today: date) -> RicInfo:
    """validate_ric of a normalised number, remembered: a ledger import
    checks each row's number while reading the row and again in
    ``residents.validate`` (a ValidationError is raised anew each time)."""
    if not num:
        raise _fail("请填写身份证号码。")
    upgraded = False
    if len(num) == 15:
        if not num.isdigit():
            raise _fail("15 位身份证号码应全部是数字。")
        num = upgrade15(num)
        upgraded = True
    if len(num) != 18:
        raise _fail(f"身份证号码应为 18 位（或旧式 15 位），现在是 {len(num)} 位。")
    if not num[:17].isdigit() or not (num[17].isdigit() or num[17] == "X"):
        raise _fail("身份证号码前 17 位应是数字，最后一位是数字或 X。")
    if int(num[:2]) not in PROVINCE_PREFIXES:
        raise _fail(f"身份证号码前两位“{num[:2]}”不是有效的省级行政区划代码。")
    try:
        birth = date(int(num[6:10]), int(num[10:12]), int(num[12:14]))
    except ValueError:
        raise _fail(f"身份证号码中的出生日期“{num[6:14]}”不是真实的日期。") from None
    if birth > today:
        raise _fail("身份证号码中的出生日期在今天之后，请核对。")
    if birth.year < 1880:
        raise _fail("身份证号码中的出生年份不合理，请核对。")
    if check_char(num[:17]) != num[17]:
        raise _fail("身份证号码校验位不正确，请逐位核对。")
    gender = 1 if int(num[16]) % 2 else 2
    return RicInfo(num, birth, gender, upgraded)


def mask(number: str | None) -> str:
    """``**************1234``: the last 4 characters only (fewer when the
    number is short, so never more than half of it) — the one mask for every
    document number the program shows or prints.

    Why not the first 6 too: those are the area code, which for most of a
    station's residents is the station's own, and the middle 8 are the birth
    date. Screens that show a masked number show the age, not the birth date
    (see ``age_on``), so nothing on the same row or panel gives back more than
    these 4 characters (the 17th, whose parity is the gender, is among them).
    The ID-tail search (后几位) still matches what is shown.
    """
    n = (number or "").strip()
    if not n:
        return ""
    keep = min(4, len(n) // 2)
    return "*" * (len(n) - keep) + (n[-keep:] if keep else "")


def age_on(birth: date, day: date) -> int:
    """Whole years on ``day``: what screens show beside a masked number."""
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def make_ric(area6: str, birth: date, seq3: int) -> str:
    """A valid number (demo data, tests). Odd ``seq3`` is male, even female."""
    first17 = f"{area6}{birth:%Y%m%d}{seq3 % 1000:03d}"
    return first17 + check_char(first17)
