"""Pinyin and initials of Chinese names, for search.

pypinyin reads characters as words; a surname often reads differently (单
shan, 曾 zeng, 解 xie), so the first character — or a compound surname — is
read from a small surname table first.  Characters with no known reading
(rare 生僻字, Latin letters, digits) are kept as they are in lower case, so
nothing crashes and a foreign name still searches by its letters.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

# Surnames whose reading differs from the common reading of the character.
SURNAME_READINGS = {
    "单": "shan",
    "曾": "zeng",
    "解": "xie",
    "仇": "qiu",
    "区": "ou",
    "朴": "piao",
    "查": "zha",
    "盖": "ge",
    "乐": "yue",
    "尉": "yu",
    "繁": "po",
    "覃": "qin",
    "种": "chong",
    "召": "shao",
    "员": "yun",
    "能": "nai",
    "那": "na",
    "缪": "miao",
    "翟": "zhai",
    "都": "du",
    "华": "hua",
    "任": "ren",
    "纪": "ji",
    "沈": "shen",
    "秘": "bi",
    "车": "che",
    "阚": "kan",
    "眭": "sui",
    "薄": "bo",
    "柏": "bai",
    "葛": "ge",
    "重": "chong",
    "长": "chang",
    "万": "wan",
    "石": "shi",
    "宓": "fu",
    "隗": "wei",
    "蕃": "pi",
    "洗": "xian",
    "冼": "xian",
    "句": "gou",
    "折": "she",
    "黑": "he",
    "郇": "huan",
    "禚": "zhuo",
    "佴": "nai",
    "应": "ying",
}
COMPOUND_SURNAMES = {
    "欧阳": "ouyang",
    "司马": "sima",
    "诸葛": "zhuge",
    "上官": "shangguan",
    "东方": "dongfang",
    "皇甫": "huangfu",
    "尉迟": "yuchi",
    "万俟": "moqi",
    "令狐": "linghu",
    "慕容": "murong",
    "公孙": "gongsun",
    "长孙": "zhangsun",
    "宇文": "yuwen",
    "司徒": "situ",
    "夏侯": "xiahou",
    "澹台": "tantai",
    "单于": "chanyu",
    "呼延": "huyan",
    "端木": "duanmu",
    "独孤": "dugu",
}


@lru_cache(maxsize=1)
def _readings() -> dict[int, str] | None:
    """pypinyin's table of character readings (``pinyin_dict.json``: code
    point → "zhāng,cháng", the commonest first), read without importing
    pypinyin, whose import also parses its 2.5 MB phrase dictionary — most
    of the cost of a name's first pinyin (a ledger import's, say), and never
    used here: names are read one character at a time.  None when the file
    is not where pypinyin keeps it (then ``_char`` asks pypinyin)."""
    import importlib.util
    import json
    from pathlib import Path

    spec = importlib.util.find_spec("pypinyin")
    for folder in (spec.submodule_search_locations or []) if spec else []:
        path = Path(folder) / "pinyin_dict.json"
        if path.is_file():
            return {int(k): v for k, v in json.loads(path.read_text(encoding="utf-8")).items()}
    return None


def _toneless(reading: str) -> str:
    """A reading as pypinyin's Style.NORMAL (v_to_u=False) writes it: tone
    marks dropped, ü as v."""
    return "".join("v" if c in "üǖǘǚǜ" else unicodedata.normalize("NFD", c)[0] for c in reading)


@lru_cache(maxsize=65536)
def _char(ch: str) -> str:
    if ch.isascii():
        return ch.lower() if ch.isalnum() else ""
    table = _readings()
    if table is None:
        return _char_by_pypinyin(ch)
    found = table.get(ord(ch))
    syllable = _toneless(found.split(",")[0]) if found else ch
    # A character pypinyin does not know comes back unchanged: keep it.
    return syllable.lower() if syllable.isascii() else ch


def _char_by_pypinyin(ch: str) -> str:
    """``_char`` as pypinyin's lazy_pinyin reads the character: the way when
    its table file is not found (the tests compare the two over the table)."""
    from pypinyin import Style, lazy_pinyin

    if ch.isascii():
        return ch.lower() if ch.isalnum() else ""
    # pypinyin's stubs type ``errors`` as returning str; its converter takes a list as documented
    read = lazy_pinyin(ch, style=Style.NORMAL, errors=lambda c: [c], v_to_u=False)  # type: ignore[arg-type,return-value]
    syllable = read[0] if read else ch
    # A character pypinyin does not know comes back unchanged: keep it.
    return syllable.lower() if syllable.isascii() else ch


def syllables(name: str) -> list[str]:
    name = "".join(name.split())
    out: list[str] = []
    rest = name
    head = name[:2]
    if head in COMPOUND_SURNAMES:
        compound = COMPOUND_SURNAMES[head]
        # two syllables, split where the second character's reading starts
        second = _char(head[1]) if head[1] not in SURNAME_READINGS else SURNAME_READINGS[head[1]]
        out += [compound[: len(compound) - len(second)], compound[len(compound) - len(second) :]]
        rest = name[2:]
    elif name and name[0] in SURNAME_READINGS:
        out.append(SURNAME_READINGS[name[0]])
        rest = name[1:]
    out += [s for s in (_char(c) for c in rest) if s]
    return out


@lru_cache(maxsize=65536)
def name_pinyin(name: str) -> tuple[str, str]:
    """``("zhangsan", "zs")`` for 张三. Unknown characters are kept as they are."""
    parts = syllables(name)
    return "".join(parts), "".join(p[0] for p in parts)


def fold(text: str) -> str:
    """Text as search compares it: NFKC (full-width to half-width), lower case, no spaces."""
    import unicodedata

    return "".join(unicodedata.normalize("NFKC", text or "").lower().split())


@lru_cache(maxsize=2048)
def plain_initials(text: str) -> str:
    """Pinyin initials of ordinary words (a matter or certificate name: no surname rules)."""
    from pypinyin import Style, lazy_pinyin

    return "".join(p[0] for p in lazy_pinyin(text, style=Style.FIRST_LETTER) if p)
