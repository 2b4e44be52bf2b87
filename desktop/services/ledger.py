"""Importing a station's existing resident ledger (台账) from .xlsx or .csv.

Reading
    ``read_table`` opens an .xlsx (openpyxl, read-only) or a .csv (UTF-8 with
    or without BOM, UTF-16 with BOM, or GBK/GB18030 as Excel in China saves
    it).  The header row is the first of the first ten rows with at least two
    recognised column names, so a title row such as “幸福里社区居民台账” above
    it is fine; a second header row right below it (住址 over 小区/楼栋/单元/室)
    is merged in.  Header matching ignores spaces, full-width forms, ``*``
    marks and anything in brackets (“联系电话（手机）”).  Every data row keeps
    its real sheet row number, which is what the report quotes.

Checking
    Each row goes through ``residents.validate`` after the ledger-specific
    parsing: 男/女/1/2, the usual Chinese date spellings, 民族 as 汉族 or 汉,
    人员类别 split on 、，,;/ and spaces.  With a valid 居民身份证 number,
    gender and birth date come from the number, and a sheet value that
    contradicts it rejects the row (naming 性别 or 出生日期).  An ID number
    that Excel stored as a number (1.10105E+17, or 17 digits with the X gone)
    is rejected with a message to format the column as text.

Matching (who a row is)
    A row with a document number updates the live resident with the same
    document type and number.  A row without one uses the rule of
    ``residents.find_duplicates``: the same name and the same birth date or
    phone; more than one such resident rejects the row as ambiguous.  A row
    with a number that matches no one may still fill in the number of a
    resident registered without one (same name and birth date or phone).
    Within one file the same rule groups rows: the later row wins, its empty
    cells keep the earlier row's values, and a warning names both rows.

Conflicts (same number, another name)
    A row whose document number matches a live resident registered under a
    different name is never written on its own say-so: it is listed in
    ``report.conflicts`` (existing name, the file's name, the number masked)
    in the dry run and the real run alike, and held back (counted as
    ``unconfirmed``) unless the caller confirms it: ``confirm`` is "all", the
    sheet row numbers to confirm, or ``{row: name in the file}`` (what the
    import window sends: a confirmation then holds only while that row still
    carries that name, so an edited file is not confirmed blindly).  A
    confirmed row updates the resident like any other row, name included.

Writing
    Updates overwrite only the fields whose cells are filled; empty cells keep
    what is stored.  A row that would change nothing is counted as
    ``unchanged`` and not written, so importing the same file twice adds and
    changes nothing (second run: imported 0, updated 0, unchanged N).  All
    accepted rows are written in one transaction: new residents through
    ``db.writes.bulk_insert``, updates through the ORM (sync-stamped), and one
    audit line ``residents_import`` with counts only.

Counts: ``rows`` (non-blank data rows) = imported + updated + unchanged +
superseded (an earlier row of the same person, replaced by a later one) +
rejected + unconfirmed (conflicts held back).  A dry run returns the same
report and writes nothing.
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import os
import re
import unicodedata
import uuid
import zipfile
import zlib
from dataclasses import dataclass, field, fields, replace
from datetime import date, datetime, time
from pathlib import Path
from typing import Any, Collection, Iterable, Iterator, Mapping, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.clock import new_id, shared_id
from db.engine import Database
from db.errors import StationDeskError, ValidationError
from db.models import Resident, ResidentTag
from db.writes import bulk_insert
from desktop.services import audit
from desktop.services.context import Actor
from desktop.services.idnumbers import mask, normalize, validate_ric
from desktop.services.names import name_pinyin
from desktop.services.residents import ResidentForm, _apply, validate
from desktop.services.vocab import DOC_TYPES, ETHNICITIES, GENDERS, RESIDENCY, SPECIAL_GROUPS

IMPORT_ROLE = "supervisor"
CONFLICT_LABEL = "姓名不一致"
MAX_ROWS = 100_000
HEADER_SCAN_ROWS = 10

# What an .xlsx may declare before openpyxl is let near it (``_check_package``).
# A 100 000-row ledger written with inline strings has an 80 MB sheet that
# deflates about 9:1; Excel's own (shared strings) is smaller.
MAX_PART_BYTES = 256 << 20  # one part, uncompressed
MAX_PACKAGE_BYTES = 512 << 20  # all parts, uncompressed
MAX_RATIO = 100  # uncompressed : compressed, for parts over RATIO_FLOOR
RATIO_FLOOR = 1 << 20
MAX_PARTS = 2000
MAX_COLUMNS = 1000  # a declared width beyond this is not a ledger
PROLOG_BYTES = 64 << 10  # where an XML part would carry a DOCTYPE


def max_sheet_rows() -> int:
    """Sheet rows read at most, blank (formatted) ones included: twice the
    data limit leaves room for empty formatted rows below a full ledger."""
    return 2 * MAX_ROWS + HEADER_SCAN_ROWS


_CHUNK = 500  # ids per IN (...) when loading residents to update

# Field -> Chinese label, in the order the import dialog offers them.
FIELD_LABELS: dict[str, str] = {
    "name": "姓名",
    "gender": "性别",
    "doc_type": "证件类型",
    "doc_number": "证件号码",
    "birth_date": "出生日期",
    "phone": "联系电话",
    "ethnicity": "民族",
    "residency": "居住类型",
    "tags": "人员类别",
    "address_text": "住址",
    "estate": "小区",
    "building": "楼栋",
    "unit": "单元",
    "room": "房号",
    "village_group": "村民小组",
    "house_number": "门牌号",
    "grid": "网格",
    "notes": "备注",
}

# Header spellings seen in community ledgers, after _norm_header.
_ALIASES: dict[str, tuple[str, ...]] = {
    "name": ("姓名", "名字", "居民姓名", "人员姓名"),
    "gender": ("性别",),
    "doc_type": ("证件类型", "证件种类"),
    "doc_number": (
        "身份证号",
        "身份证号码",
        "公民身份号码",
        "公民身份证号码",
        "证件号码",
        "证件号",
        "身份证",
        "身份号码",
        "居民身份证号码",
    ),
    "birth_date": ("出生日期", "出生年月", "出生年月日", "生日"),
    "phone": ("联系电话", "手机", "手机号", "手机号码", "电话", "电话号码", "联系方式"),
    "ethnicity": ("民族",),
    "residency": ("居住类型", "户籍类型", "人口类型", "居住状态"),
    "tags": ("人员类别", "特殊人群", "标签", "人群类别", "特殊人群类别", "重点人群"),
    "address_text": ("住址", "地址", "现住址", "家庭住址", "居住地址", "现居住地址"),
    "estate": ("小区", "小区名称", "所在小区"),
    "building": ("楼栋", "楼号", "楼栋号", "栋", "幢", "楼"),
    "unit": ("单元", "单元号"),
    "room": ("房号", "室", "房间号", "房号室", "门牌室号"),
    "village_group": ("村民小组", "组", "小组", "村组"),
    "house_number": ("门牌号", "门牌"),
    "grid": ("网格", "所属网格", "网格名称"),
    "notes": ("备注", "说明"),
}
HEADER_ALIASES: dict[str, str] = {alias: f for f, names in _ALIASES.items() for alias in names}

_BRACKETS = re.compile(r"\([^)]*\)|\[[^\]]*\]|【[^】]*】|〔[^〕]*〕")
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff"), None)
_SCIENTIFIC = re.compile(r"^[+-]?\d+(\.\d*)?[eE][+-]?\d+$")
_TAG_SPLIT = re.compile(r"[、,;/|\s]+")
_EMPTY_WORDS = frozenset({"无", "否", "-", "—", "--", "——", "/", "没有"})
_DATE_FULL = (re.compile(r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?$"), re.compile(r"^(\d{4})(\d{2})(\d{2})$"))
_DATE_MONTH = (re.compile(r"^(\d{4})[-/.年](\d{1,2})月?$"), re.compile(r"^(\d{4})(\d{2})$"))
_TIME_TAIL = re.compile(r"^(\S+)[\sT]+\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?$")

_GENDER_WORDS = {
    "男": 1,
    "男性": 1,
    "1": 1,
    "m": 1,
    "male": 1,
    "女": 2,
    "女性": 2,
    "2": 2,
    "f": 2,
    "female": 2,
    "未知": 0,
    "0": 0,
    "未说明": 9,
    "9": 9,
}
_ETHNICITY_WORDS = {
    **{label: code for code, label in ETHNICITIES.items()},
    **{label[:-1]: code for code, label in ETHNICITIES.items() if label.endswith("族")},
}
_RESIDENCY_WORDS = {
    **{label: key for key, label in RESIDENCY.items()},
    **{key: key for key in RESIDENCY},
    "户籍人口": "registered",
    "本地户籍": "registered",
    "常住人口": "resident",
    "非户籍常住": "resident",
    "流动人口": "floating",
    "外来人口": "floating",
}
_DOC_TYPE_WORDS = {
    **{label: key for key, label in DOC_TYPES.items()},
    **{key: key for key in DOC_TYPES},
    "身份证": "ric",
    "二代身份证": "ric",
    "港澳通行证": "hk_mo_permit",
    "台胞证": "tw_permit",
    "居住证": "hmt_residence",
    "永居证": "foreign_pr",
    "其他": "other",
}
_TAG_WORDS = {
    **{t: t for t in SPECIAL_GROUPS},
    "残疾": "残疾人",
    "低保户": "低保",
    "低保对象": "低保",
    "特困人员": "特困",
    "特困供养": "特困",
    "独居老人": "独居",
    "空巢老人": "空巢",
    "高龄老人": "高龄",
    "失能": "失能失智",
    "失智": "失能失智",
    "流动": "流动人口",
    "优抚": "优抚对象",
}
_ADDRESS_PARTS = ("estate", "building", "unit", "room", "village_group", "house_number")
_FORM_FIELDS = tuple(f.name for f in fields(ResidentForm))

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ENCRYPTED = "EncryptedPackage".encode("utf-16-le")


class LedgerFileError(StationDeskError):
    """The ledger file cannot be read; ``user_message`` says why and what to do."""


# ------------------------------------------------------------------ reading


@dataclass
class Table:
    """A ledger as read from its file: cells as stored (str, int, float,
    datetime or None), each data row with its real sheet row number."""

    path: Path
    kind: str  # "xlsx" | "csv"
    sheet: str  # worksheet name, or the encoding of a CSV
    header_row: int  # sheet row number of the (last) header row; 0 if none was found
    headers: list[str]
    rows: list[tuple[int, list[Any]]] = field(default_factory=list)  # non-blank rows below the header

    @property
    def width(self) -> int:
        return len(self.headers)


def cell_text(v: Any) -> str:
    """A cell as trimmed text (numbers without a spurious .0, dates as ISO)."""
    if v is None:
        return ""
    if isinstance(v, str):
        return v.translate(_INVISIBLE).strip()
    if isinstance(v, bool):
        return "是" if v else "否"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if v.is_integer() and abs(v) < 1e15:
            return str(int(v))
        return repr(v)
    if isinstance(v, datetime):
        return v.date().isoformat() if v.time() == time(0) else v.isoformat(sep=" ")
    if isinstance(v, (date, time)):
        return v.isoformat()
    return str(v).strip()


def _norm_header(h: Any) -> str:
    s = unicodedata.normalize("NFKC", cell_text(h))
    s = "".join(s.split()).replace("*", "").strip(":")
    return s.lower()


def field_for_header(header: Any) -> str | None:
    """The field a column header stands for, or None."""
    s = _norm_header(header)
    if not s:
        return None
    f = HEADER_ALIASES.get(s)
    if f is None:
        bare = _BRACKETS.sub("", s)
        f = HEADER_ALIASES.get(bare)
    return f


def guess_mapping(headers: Sequence[Any]) -> dict[int, str]:
    """``{column_index: field}`` for the recognised headers; the first column
    wins when two name the same field."""
    out: dict[int, str] = {}
    taken: set[str] = set()
    for i, h in enumerate(headers):
        f = field_for_header(h)
        if f and f not in taken:
            out[i] = f
            taken.add(f)
    return out


def _recognised(values: Sequence[Any]) -> int:
    return len({f for f in map(field_for_header, values) if f})


def _blank(values: Sequence[Any]) -> bool:
    return all(cell_text(v) == "" for v in values)


def _read_rows(rows: Iterator[Sequence[Any]], path: Path, kind: str, sheet: str, header_required: bool) -> Table | None:
    """Find the header among the first rows and collect the data rows below.

    ``rows`` yields every sheet row in order (row 1 first).  Returns None when
    ``header_required`` and no header row was found.
    """
    numbered = enumerate(rows, start=1)
    head = list(itertools.islice(numbered, HEADER_SCAN_ROWS + 1))
    at = next((i for i, (_, vals) in enumerate(head[:HEADER_SCAN_ROWS]) if _recognised(vals) >= 2), None)
    if at is None:
        if header_required:
            return None
        at = next((i for i, (_, vals) in enumerate(head) if not _blank(vals)), None)
        if at is None:
            raise LedgerFileError("empty ledger", "文件里没有数据。")
    header_row, header_vals = head[at]
    headers = [cell_text(v) for v in header_vals]
    rest: Iterable[tuple[int, Sequence[Any]]] = itertools.chain(head[at + 1 :], numbered)
    following = head[at + 1] if at + 1 < len(head) else None
    if following is not None and _recognised(following[1]) >= 2:
        # A second header row (住址 over 小区/楼栋/单元/室): merge it in.
        sub = [cell_text(v) for v in following[1]]
        if any(field_for_header(s) and not (headers[i] if i < len(headers) else "") for i, s in enumerate(sub)):
            width = max(len(headers), len(sub))
            headers += [""] * (width - len(headers))
            for i, s in enumerate(sub):
                if s and (field_for_header(s) or not headers[i]):
                    headers[i] = s
            header_row = following[0]
            rest = itertools.chain(head[at + 2 :], numbered)
    while headers and not headers[-1]:
        headers.pop()
    width = len(headers)
    data: list[tuple[int, list[Any]]] = []
    for n, vals in rest:
        if n > max_sheet_rows():  # blank rows too: a million formatted empty rows end here
            raise _too_many_sheet_rows(path.name)
        vals = list(vals[:width])
        if _blank(vals):
            continue
        if len(data) >= MAX_ROWS:
            raise LedgerFileError(
                "too many rows",
                f"文件的数据超过 {MAX_ROWS:,} 行，一次最多导入 {MAX_ROWS:,} 行。请把台账分成几个文件，分别导入。",
            )
        vals += [None] * (width - len(vals))
        data.append((n, vals))
    return Table(path, kind, sheet, header_row, headers, data)


def read_table(path: str | os.PathLike[str]) -> Table:
    """Read a ledger file. Raises LedgerFileError with a Chinese message when
    the file is missing, not .xlsx/.csv, damaged or password-protected."""
    p = Path(path)
    name = p.name
    if not p.exists():
        raise LedgerFileError(f"missing {p}", f"找不到文件：\n{p}")
    if p.is_dir():
        raise LedgerFileError(f"directory {p}", f"这是一个文件夹，不是台账文件：\n{p}")
    try:
        with open(p, "rb") as f:
            head = f.read(8)
    except OSError as e:
        raise _cannot_read(p, e) from e
    ext = p.suffix.lower()
    if not head:
        raise LedgerFileError("empty file", f"文件“{name}”是空的。")
    if head.startswith(_OLE_MAGIC):
        if _ENCRYPTED in p.read_bytes():
            raise LedgerFileError(
                "encrypted workbook",
                f"文件“{name}”设置了打开密码，程序无法读取。请在 Excel 中打开它，"
                "取消密码（文件 → 信息 → 保护工作簿 → 用密码进行加密，清空密码）后保存，再导入。",
            )
        raise LedgerFileError(
            "legacy xls", f"“{name}”是旧版 Excel 格式（.xls）。请在 Excel 中“另存为” .xlsx 或 CSV 文件，再导入。"
        )
    if head.startswith(b"PK"):
        return _read_xlsx(p)
    if ext in (".xlsx", ".xlsm", ".xls"):
        raise LedgerFileError(
            "not a workbook",
            f"文件“{name}”已损坏，或不是真正的 Excel 文件。请在 Excel 中打开它，另存为 .xlsx 后再导入。",
        )
    if ext in (".csv", ".txt", ""):
        return _read_csv(p)
    raise LedgerFileError(f"unsupported {ext}", f"不支持“{ext}”文件。请导入 Excel（.xlsx）或 CSV 文件。")


def _cannot_read(p: Path, e: OSError) -> LedgerFileError:
    return LedgerFileError(f"cannot read {p}: {e}", f"无法读取文件“{p.name}”。如果它正在 Excel 中打开，请先关闭再试。")


def _corrupt(name: str) -> LedgerFileError:
    return LedgerFileError(
        "corrupt workbook", f"文件“{name}”已损坏，无法读取。请在 Excel 中打开并另存为新的 .xlsx 文件后再导入。"
    )


def _too_many_sheet_rows(name: str) -> LedgerFileError:
    return LedgerFileError(
        "too many sheet rows",
        f"文件“{name}”的工作表超过 {max_sheet_rows():,} 行（包括设置了格式的空行），远远超过一份台账，没有读取。"
        f"一次最多导入 {MAX_ROWS:,} 行。请在 Excel 中选中数据下方多余的空行并删除（不是清除内容），保存后再导入。",
    )


def _hostile(name: str, what: str) -> LedgerFileError:
    return LedgerFileError(
        f"hostile workbook: {what}",
        f"文件“{name}”{what}，远远超过一份台账，可能已损坏或是恶意构造的文件，没有读取。"
        "请在 Excel 中打开它，只把台账内容复制到一个新工作簿，另存为 .xlsx 后再导入。",
    )


_DIMENSION = re.compile(rb"<(?:[\w.-]+:)?dimension\s+ref=\"\$?([A-Z]{1,3})?\$?(\d+)?(?::\$?([A-Z]{1,3})\$?(\d+))?\"")
_ROOT = re.compile(rb"<([\w.-]+:)?worksheet[\s>]")


def _column_number(letters: bytes) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ch - 64
    return n


def _check_package(p: Path) -> None:
    """Refuse an .xlsx that is not a plain ledger workbook, from its zip
    directory and a streaming look at its sheets, before openpyxl parses it.

    zipfile never inflates a part past the size its directory declares (a
    part that lies fails its CRC), so the declared sizes bound every read:
    parts and the whole package over a few hundred MB, a part deflated more
    than MAX_RATIO:1 (a zip bomb, a huge shared-strings part), a declared
    sheet size (<dimension>) over max_sheet_rows() or MAX_COLUMNS, or more
    <row> elements than max_sheet_rows() (a million formatted empty rows)
    are refused.  So are macros, links to other workbooks, encrypted parts,
    XML with a DOCTYPE (entity expansion), and a zip that is no workbook.
    """
    name = p.name
    try:
        z = zipfile.ZipFile(p)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError) as e:
        raise _corrupt(name) from e
    except OSError as e:
        raise _cannot_read(p, e) from e
    with z:
        infos = z.infolist()
        if len(infos) > MAX_PARTS:
            raise _hostile(name, f"里有 {len(infos):,} 个部件")
        names = {i.filename.lower() for i in infos}
        if not any(n.startswith("xl/") for n in names):
            raise LedgerFileError(
                "not a workbook",
                f"文件“{name}”不是 Excel 工作簿（可能是别的压缩文件改了扩展名）。请导入 Excel（.xlsx）或 CSV 文件。",
            )
        if any(n.endswith("vbaproject.bin") or n.startswith("xl/macrosheets/") for n in names):
            raise LedgerFileError(
                "macros",
                f"文件“{name}”含有宏。为了安全，程序不读取带宏的工作簿。请在 Excel 中“另存为”"
                "“Excel 工作簿（*.xlsx）”（宏会被去掉），再导入新文件。",
            )
        if any(n.startswith("xl/externallinks/") for n in names):
            raise LedgerFileError(
                "external links",
                f"文件“{name}”链接了其他工作簿（外部链接），其中的数值可能不是最新的，程序不读取。"
                "请在 Excel 中点“数据 → 编辑链接 → 断开链接”，保存后再导入。",
            )
        total = 0
        for i in infos:
            if i.flag_bits & 0x1:
                raise _corrupt(name)  # an encrypted part: not something Excel writes in an .xlsx
            total += i.file_size
            if i.file_size > MAX_PART_BYTES or total > MAX_PACKAGE_BYTES:
                raise _hostile(name, f"解压后超过 {max(i.file_size, total) >> 20:,} MB")
            if i.file_size > RATIO_FLOOR and i.file_size > MAX_RATIO * max(1, i.compress_size):
                raise _hostile(name, f"的压缩比异常（{i.file_size // max(1, i.compress_size):,} 倍）")
        try:
            for i in infos:
                low = i.filename.lower()
                if low.endswith((".xml", ".rels", ".vml")):
                    _check_part(z, i, name, low.startswith("xl/worksheets/") and low.endswith(".xml"))
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError, RuntimeError, NotImplementedError) as e:
            raise _corrupt(name) from e


def _check_part(z: zipfile.ZipFile, info: zipfile.ZipInfo, name: str, sheet: bool) -> None:
    """No DOCTYPE in an XML part; a sheet's declared size and its rows within bounds."""
    with z.open(info) as f:
        head = f.read(PROLOG_BYTES)
        if b"<!DOCTYPE" in head or b"<!ENTITY" in head:
            raise _hostile(name, "含有 Excel 不会写入的 XML 文档类型声明")
        if not sheet:
            return
        m = _DIMENSION.search(head)
        if m and m.group(4):
            rows = int(m.group(4)) - int(m.group(2) or 1) + 1
            cols = _column_number(m.group(3)) - _column_number(m.group(1) or b"A") + 1
            if rows > max_sheet_rows() or cols > MAX_COLUMNS:
                raise _hostile(name, f"的工作表声明有 {rows:,} 行 × {cols:,} 列")
        root = _ROOT.search(head)
        tag = b"<" + (root.group(1) if root and root.group(1) else b"") + b"row"
        limit, count, buf = max_sheet_rows(), 0, head
        while buf:
            count += buf.count(tag)
            if count > limit:
                raise _too_many_sheet_rows(name)
            keep = buf[-(len(tag) - 1) :]
            more = f.read(1 << 20)
            buf = keep + more if more else b""


def _read_xlsx(p: Path) -> Table:
    # openpyxl opens the workbook; the rows are read by ledger_xlsx, which
    # gives openpyxl's values several times faster (see there).
    from desktop.services import ledger_xlsx

    _check_package(p)
    try:
        wb = ledger_xlsx.load_workbook(p)
    except (zipfile.BadZipFile, zipfile.LargeZipFile) as e:
        raise _corrupt(p.name) from e
    except OSError as e:
        raise _cannot_read(p, e) from e
    except Exception as e:  # noqa: BLE001 - openpyxl raises many kinds on a damaged file
        raise _corrupt(p.name) from e
    try:
        sheets = [ws for ws in wb.worksheets if hasattr(ws, "iter_rows")]
        if not sheets:
            raise LedgerFileError("no worksheet", f"文件“{p.name}”里没有工作表。")
        active = wb.active if wb.active in sheets else sheets[0]
        order = [active] + [ws for ws in sheets if ws is not active and ws.sheet_state == "visible"]
        for required in (True, False):
            for ws in order if required else [active]:
                rows = ledger_xlsx.iter_values(ws)  # every row there is, whatever size the file states
                table = _read_rows(rows, p, "xlsx", ws.title, header_required=required)
                if table is not None:
                    return table
        raise AssertionError("unreachable")
    except StationDeskError:
        raise
    except Exception as e:  # noqa: BLE001
        raise _corrupt(p.name) from e
    finally:
        wb.close()


def _decode(raw: bytes, name: str) -> tuple[str, str]:
    if raw.startswith(codecs.BOM_UTF8):
        try:
            return raw[3:].decode("utf-8"), "UTF-8"
        except UnicodeDecodeError:
            pass
    elif raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return raw.decode("utf-16"), "UTF-16"
        except UnicodeDecodeError:
            pass
    elif b"\x00" not in raw:
        try:
            return raw.decode("utf-8"), "UTF-8"
        except UnicodeDecodeError:
            try:
                return raw.decode("gb18030"), "GBK"
            except UnicodeDecodeError:
                pass
    raise LedgerFileError(
        "undecodable csv",
        f"文件“{name}”不是可以识别的文字文件（CSV）。请在 Excel 中打开台账，"
        "另存为 .xlsx 或“CSV UTF-8（逗号分隔）”后再导入。",
    )


def _read_csv(p: Path) -> Table:
    try:
        raw = p.read_bytes()
    except OSError as e:
        raise _cannot_read(p, e) from e
    text, encoding = _decode(raw, p.name)
    sample = text[:20000].splitlines()[: HEADER_SCAN_ROWS + 1]
    counts = {d: sum(line.count(d) for line in sample) for d in (",", "\t", ";")}
    delimiter = max(counts, key=lambda d: (counts[d], d == ","))
    row_width = max((line.count(delimiter) for line in sample), default=0)
    try:
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        rows = _whole_rows(reader, delimiter, row_width, p.name)
        return _read_rows(rows, p, "csv", encoding, header_required=False)  # type: ignore[return-value]
    except csv.Error as e:
        raise LedgerFileError(
            f"bad csv: {e}", f"文件“{p.name}”的格式有误，无法按表格读取。请在 Excel 中打开并另存为 .xlsx 后再导入。"
        ) from e


def _whole_rows(reader: Any, delimiter: str, row_width: int, name: str) -> Iterator[list[str]]:
    """The CSV's records, refusing one where an unbalanced quote swallowed
    the following lines into a cell.

    A quote that opens a cell and is never closed makes the csv module read
    every later line into that one cell (to the next quote or the end of
    the file).  A real multi-line cell (备注 typed with Alt+Enter) does not
    hold whole rows, so a line inside a cell with at least half a row's
    delimiters means swallowed rows: the file is refused, naming the row
    where the quote opened, before anything is imported.
    """
    threshold = max(1, row_width // 2)
    line = 1  # the text line where the current record starts
    for n, record in enumerate(reader, start=1):
        for cell in record:
            if ("\n" in cell or "\r" in cell) and any(
                part.count(delimiter) >= threshold for part in cell.splitlines()[1:]
            ):
                where = f"第 {n} 行" + (f"（记事本中第 {line} 行）" if line != n else "")
                raise LedgerFileError(
                    f"unbalanced quote in csv record {n}",
                    f'文件“{name}”{where}有一个没有配对的英文双引号（"），把后面的几行并进了同一格，'
                    f"无法分清是哪几个人。请用记事本打开文件，找到{where}的这个引号，删除它或补上另一半后再导入。"
                    "（没有导入任何内容。）",
                )
        line = reader.line_num + 1
        yield record


# ------------------------------------------------------------------ report


@dataclass
class RowError:
    row: int  # sheet row number
    field: str  # Chinese label of the field
    message: str

    def to_json(self) -> dict[str, Any]:
        return {"row": self.row, "field": self.field, "message": self.message}


@dataclass
class RowWarning:
    row: int  # the row that was used
    other_row: int  # the earlier row it replaced
    message: str

    def to_json(self) -> dict[str, Any]:
        return {"row": self.row, "other_row": self.other_row, "message": self.message}


@dataclass
class RowConflict:
    """A row whose document number belongs to a resident with another name."""

    row: int  # sheet row number
    resident_id: uuid.UUID
    existing_name: str  # as registered
    file_name: str  # as in the file
    doc_masked: str
    confirmed: bool = False  # written (name included) only when confirmed

    @property
    def message(self) -> str:
        then = "已确认，按文件更新。" if self.confirmed else "确认后才会用这一行更新，未确认的不导入。"
        return f"证件号码 {self.doc_masked} 已登记为“{self.existing_name}”，文件中的姓名是“{self.file_name}”。" + then

    def to_json(self) -> dict[str, Any]:
        return {
            "row": self.row,
            "existing_name": self.existing_name,
            "file_name": self.file_name,
            "doc_masked": self.doc_masked,
            "confirmed": self.confirmed,
        }


@dataclass
class ImportReport:
    rows: int = 0
    imported: int = 0
    updated: int = 0
    unchanged: int = 0
    superseded: int = 0
    rejected: int = 0
    unconfirmed: int = 0  # conflicts held back
    errors: list[RowError] = field(default_factory=list)
    warnings: list[RowWarning] = field(default_factory=list)
    conflicts: list[RowConflict] = field(default_factory=list)
    dry_run: bool = False
    sheet: str = ""
    header_row: int = 0
    headers: list[str] = field(default_factory=list)
    # Original cells (as text) of the rows named in errors and warnings, for the problem report.
    values: dict[int, list[str]] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "imported": self.imported,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "superseded": self.superseded,
            "rejected": self.rejected,
            "unconfirmed": self.unconfirmed,
            "errors": [e.to_json() for e in self.errors],
            "warnings": [w.to_json() for w in self.warnings],
            "conflicts": [c.to_json() for c in self.conflicts],
        }

    def summary(self) -> str:
        """One Chinese sentence with the counts."""
        if self.dry_run:
            head = f"检查完成（没有写入）：共 {self.rows} 行，可新增 {self.imported} 人，可更新 {self.updated} 人"
        else:
            head = f"导入完成：共 {self.rows} 行，新增 {self.imported} 人，更新 {self.updated} 人"
        parts = [head]
        if self.unchanged:
            parts.append(f"{self.unchanged} 人已是最新、无需改动")
        if self.superseded:
            parts.append(f"{self.superseded} 行与后面的行重复、已合并")
        if self.unconfirmed:
            parts.append(f"{self.unconfirmed} 行的证件号码已登记在另一个姓名下，需确认后才会更新")
        confirmed = len(self.conflicts) - self.unconfirmed
        if confirmed:
            parts.append(f"{confirmed} 行姓名不同、已确认按文件更新")
        parts.append(f"{self.rejected} 行有问题未导入" if self.rejected else "没有发现问题")
        return "，".join(parts) + "。"


class _RowProblems(Exception):
    def __init__(self, problems: list[tuple[str, str]]):
        super().__init__(problems)
        self.problems = problems


def _label(field_name: str) -> str:
    return FIELD_LABELS.get(field_name, field_name)


# ------------------------------------------------------------------ parsing cells

_EXCEL_NUMBER = (
    "证件号码被 Excel 存成了数字（显示成 1.10105E+17 这样的科学计数法，或末尾的 X 丢了），"
    "后几位已经丢失。请在 Excel 中把这一列设置为“文本”格式，重新填写证件号码后再导入。"
)


def _doc_number(v: Any) -> str:
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        if isinstance(v, float) and not v.is_integer():
            raise ValueError(_EXCEL_NUMBER)
        s = str(int(v))
        if len(s) <= 15:
            return s  # an old 15-digit number, or another document, survives as a number
        if isinstance(v, int) and len(s) == 18:
            try:
                validate_ric(s)
                return s  # written exactly by a program, not by Excel
            except ValidationError:
                pass
        raise ValueError(_EXCEL_NUMBER)
    s = cell_text(v)
    if s.startswith('="') and s.endswith('"'):
        s = s[2:-1]
    s = s.lstrip("'")
    if _SCIENTIFIC.match(normalize(s)):
        raise ValueError(_EXCEL_NUMBER)
    return s


def _gender(v: Any) -> int:
    s = "".join(unicodedata.normalize("NFKC", cell_text(v)).split()).lower()
    if s in _GENDER_WORDS:
        return _GENDER_WORDS[s]
    raise ValueError(f"性别应填“男”或“女”（也可以填 1、2），现在是“{cell_text(v)}”。")


@dataclass(frozen=True)
class _YearMonth:
    """出生年月 with no day (1949.12): only compared with an ID number."""

    year: int
    month: int


def _birth(v: Any) -> date | _YearMonth:
    if isinstance(v, datetime):
        return v.date()
    if isinstance(v, date):
        return v
    if isinstance(v, float) and not v.is_integer():
        s = f"{v:.2f}"  # 1949.12 typed as a number; 1949.1 is October
    else:
        s = unicodedata.normalize("NFKC", cell_text(v))
        m = _TIME_TAIL.match(s)
        if m:
            s = m.group(1)
        s = "".join(s.split())
    bad = f"出生日期“{cell_text(v)}”无法识别。请写成 1949-12-31、1949/12/31、19491231 或 1949年12月31日。"
    for rx in _DATE_FULL:
        m = rx.match(s)
        if m:
            try:
                return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
            except ValueError:
                raise ValueError(f"出生日期“{cell_text(v)}”不是真实的日期，请核对。") from None
    for rx in _DATE_MONTH:
        m = rx.match(s)
        if m and 1 <= int(m.group(2)) <= 12:
            return _YearMonth(int(m.group(1)), int(m.group(2)))
    raise ValueError(bad)


def _ethnicity(v: Any) -> str:
    s = "".join(unicodedata.normalize("NFKC", cell_text(v)).split())
    if s in _ETHNICITY_WORDS:
        return _ETHNICITY_WORDS[s]
    if s.isdigit() and s.zfill(2) in ETHNICITIES:
        return s.zfill(2)
    raise ValueError(f"民族“{cell_text(v)}”无法识别，请填写如“汉族”“回族”。")


def _residency(v: Any) -> str:
    s = "".join(unicodedata.normalize("NFKC", cell_text(v)).split())
    if s in _RESIDENCY_WORDS:
        return _RESIDENCY_WORDS[s]
    raise ValueError(f"居住类型应填“户籍”“常住”或“流动”，现在是“{cell_text(v)}”。")


def _doc_type(v: Any) -> str:
    s = "".join(unicodedata.normalize("NFKC", cell_text(v)).split())
    if s in _DOC_TYPE_WORDS:
        return _DOC_TYPE_WORDS[s]
    raise ValueError(f"证件类型“{cell_text(v)}”无法识别，请填写如“居民身份证”“护照”。")


def _tags(v: Any) -> list[str]:
    s = unicodedata.normalize("NFKC", cell_text(v))
    out, unknown = [], []
    for token in _TAG_SPLIT.split(s):
        if not token or token in _EMPTY_WORDS:
            continue
        tag = _TAG_WORDS.get(token)
        if tag is None:
            unknown.append(token)
        elif tag not in out:
            out.append(tag)
    if unknown:
        raise ValueError(f"未知的人员类别：{'、'.join(unknown)}。可以填写：{'、'.join(SPECIAL_GROUPS)}。")
    return out


def _plain(v: Any) -> str:
    return cell_text(v)


def _name(v: Any) -> str:
    s = cell_text(v)
    if any(ch in s for ch in "?？\ufffd"):
        raise ValueError(
            f"姓名“{s}”里有问号，多半是生僻字在保存时丢了（GBK 编码的 CSV 存不下部分生僻字）。"
            "请改用 .xlsx 文件或“CSV UTF-8”格式导入。"
        )
    return s


_PARSERS = {
    "name": _name,
    "gender": _gender,
    "birth_date": _birth,
    "ethnicity": _ethnicity,
    "residency": _residency,
    "doc_type": _doc_type,
    "doc_number": _doc_number,
    "tags": _tags,
}


def _parse_cells(values: Sequence[Any], mapping: dict[int, str]) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """Filled cells as field values; problems as (field, message)."""
    vals: dict[str, Any] = {}
    problems: list[tuple[str, str]] = []
    for col, fname in mapping.items():
        raw = values[col] if col < len(values) else None
        if cell_text(raw) == "":
            continue
        try:
            value = _PARSERS.get(fname, _plain)(raw)
        except ValueError as e:
            problems.append((fname, str(e)))
            continue
        vals[fname] = value  # tags may be [] (“无”): an update then clears them
    return vals, problems


def _resolve(base: ResidentForm | None, vals: dict[str, Any], today: date | None) -> ResidentForm:
    """``base`` (a stored resident, or a blank form) with the filled cells
    ``vals`` laid over it, checked.  Raises _RowProblems."""
    form = base if base is not None else ResidentForm(ethnicity="")
    problems: list[tuple[str, str]] = []
    doc_type = vals.get("doc_type", form.doc_type)
    doc_number = vals.get("doc_number", form.doc_number if doc_type == form.doc_type else "")
    birth = vals.get("birth_date")
    if doc_type == "ric" and doc_number:
        try:
            info = validate_ric(doc_number, today)
        except ValidationError as e:
            raise _RowProblems([("doc_number", e.user_message)]) from None
        if "gender" in vals and vals["gender"] in (1, 2) and vals["gender"] != info.gender:
            problems.append(
                (
                    "gender",
                    f"性别填的是“{GENDERS[vals['gender']]}”，但身份证号码显示是"
                    f"{GENDERS[info.gender]}性。请核对性别或身份证号码。",
                )
            )
        if isinstance(birth, _YearMonth):
            if (birth.year, birth.month) != (info.birth_date.year, info.birth_date.month):
                problems.append(("birth_date", "出生年月与身份证号码中的出生日期不一致，请核对。"))
        elif birth is not None and birth != info.birth_date:
            problems.append(("birth_date", "出生日期与身份证号码中的出生日期不一致，请核对。"))
        birth = info.birth_date
    elif isinstance(birth, _YearMonth):
        problems.append(
            ("birth_date", f"出生日期只有年月（{birth.year}年{birth.month}月），没有身份证号码时请填写完整的年月日。")
        )
    if problems:
        raise _RowProblems(problems)
    changes = {k: v for k, v in vals.items() if k in _FORM_FIELDS}
    changes.update(doc_type=doc_type, doc_number=doc_number)
    if birth is not None:
        changes["birth_date"] = birth
    if base is not None and "address_text" not in vals and any(k in vals for k in _ADDRESS_PARTS):
        changes["address_text"] = ""  # recomposed from the new parts by validate
    try:
        return validate(replace(form, **changes), today)
    except ValidationError as e:
        raise _RowProblems([(e.field, e.user_message)]) from None


def _all_problems(vals: dict[str, Any], problems: list[tuple[str, str]], today: date | None) -> list[tuple[str, str]]:
    """Every problem of a bad row, not just the first: check again without
    the fields already found wrong, until the rest passes."""
    problems = list(problems)
    rest = {k: v for k, v in vals.items() if k not in {f for f, _ in problems}}
    for _ in range(len(FIELD_LABELS)):
        try:
            _resolve(None, rest, today)
            break
        except _RowProblems as e:
            flagged = {f for f, _ in problems}
            new = [p for p in e.problems if p[0] not in flagged]
            problems += new
            wrong = {f for f, _ in new} & rest.keys()
            if not wrong:
                break
            for f in wrong:
                rest.pop(f)
    return problems


def _same(a: ResidentForm, b: ResidentForm) -> bool:
    return replace(a, tags=[]) == replace(b, tags=[]) and set(a.tags) == set(b.tags)


# ------------------------------------------------------------------ import


@dataclass
class _Group:
    """Rows of one file that are one person; the last row wins."""

    rows: list[int]
    vals: dict[str, Any]
    form: ResidentForm


def _name_keys(f: ResidentForm) -> list[tuple[str, str, Any]]:
    keys: list[tuple[str, str, Any]] = []
    if f.birth_date:
        keys.append((f.name, "b", f.birth_date))
    if f.phone:
        keys.append((f.name, "p", f.phone))
    return keys


_SAME_REASON = {"doc": "证件号码相同", "b": "姓名和出生日期相同", "p": "姓名和电话相同"}


def check_mapping(table: Table, mapping: dict[int, str] | None) -> dict[int, str]:
    """The mapping to use (guessed when None); raises ValidationError."""
    if mapping is None:
        mapping = guess_mapping(table.headers)
    out: dict[int, str] = {}
    seen: dict[str, int] = {}
    for col, fname in mapping.items():
        if not fname:
            continue
        col = int(col)
        if fname not in FIELD_LABELS:
            raise ValidationError("mapping", f"未知的字段“{fname}”。")
        if col < 0 or col >= table.width:
            raise ValidationError("mapping", f"文件里没有第 {col + 1} 列。")
        if fname in seen:
            raise ValidationError(
                "mapping",
                f"“{FIELD_LABELS[fname]}”对应了两列（第 {seen[fname] + 1} 列和第 {col + 1} 列），请只选一列。",
            )
        seen[fname] = col
        out[col] = fname
    if "name" not in seen:
        raise ValidationError("mapping", "没有找到“姓名”列。请确认表头里有“姓名”，或在导入窗口中为“姓名”选择对应的列。")
    return out


def import_ledger(
    db: Database,
    actor: Actor,
    path: str | os.PathLike[str],
    *,
    mapping: dict[int, str] | None = None,
    dry_run: bool = False,
    confirm: str | Collection[int] | Mapping[int, str] = (),
    today: date | None = None,
) -> ImportReport:
    """Check a ledger file and (unless ``dry_run``) import it in one transaction.

    Importing needs a supervisor; a dry run is open to every role.
    ``confirm`` names the conflicts (same number, another name) to write:
    "all", sheet row numbers, or ``{row: the file's name}``; see the module
    docstring.
    """
    if not dry_run:
        actor.require(IMPORT_ROLE, "导入居民台账")
    table = read_table(path)
    cols = check_mapping(table, mapping)
    report = ImportReport(dry_run=dry_run, sheet=table.sheet, header_row=table.header_row, headers=list(table.headers))
    row_values = {}
    failed: dict[int, list[tuple[str, str]]] = {}

    def reject(row: int, problems: list[tuple[str, str]]) -> None:
        failed.setdefault(row, []).extend(problems)

    def confirmed(row: int, name: str) -> bool:
        if isinstance(confirm, str):
            return confirm == "all"
        if isinstance(confirm, Mapping):
            wanted = confirm.get(row)
            return wanted is not None and "".join(unicodedata.normalize("NFC", wanted).split()) == name
        return row in confirm

    # 1. Each row on its own.
    parsed: list[tuple[int, dict[str, Any], ResidentForm]] = []
    for n, values in table.rows:
        if all(cell_text(values[c]) == "" for c in cols):
            continue  # blank where it matters (a 序号 alone, say)
        report.rows += 1
        row_values[n] = values
        vals, problems = _parse_cells(values, cols)
        if not problems:
            try:
                parsed.append((n, vals, _resolve(None, vals, today)))
                continue
            except _RowProblems as e:
                problems = e.problems
        reject(n, _all_problems(vals, problems, today))

    # 2. Rows of one person within the file: the later one wins.
    groups: list[_Group] = []
    by_doc: dict[tuple[str, str], _Group] = {}
    by_name: dict[tuple[str, str, Any], _Group] = {}
    for n, vals, form in parsed:
        g, why = None, ""
        if form.doc_number:
            g, why = by_doc.get((form.doc_type, form.doc_number)), "doc"
            if g is None:
                for k in _name_keys(form):
                    cand = by_name.get(k)
                    if cand is not None and not cand.form.doc_number:
                        g, why = cand, k[1]
                        break
        else:
            for k in _name_keys(form):
                if k in by_name:
                    g, why = by_name[k], k[1]
                    break
        if g is None:
            g = _Group([n], vals, form)
            groups.append(g)
        else:
            merged = {**g.vals, **vals}
            try:
                form = _resolve(None, merged, today)
            except _RowProblems as e:
                reject(n, e.problems)
                continue
            earlier = g.rows[-1]
            report.warnings.append(
                RowWarning(
                    n,
                    earlier,
                    (
                        f"第 {earlier} 行和第 {n} 行是同一个人（{_SAME_REASON[why]}），以后面的第 {n} 行为准；"
                        f"第 {n} 行空着的格子沿用第 {earlier} 行的内容。"
                    ),
                )
            )
            report.superseded += 1
            g.rows.append(n)
            g.vals, g.form = merged, form
        if form.doc_number:
            by_doc[(form.doc_type, form.doc_number)] = g
        for k in _name_keys(form):
            by_name[k] = g

    with db.session() as s:
        # 3. Who each group is in the database: the residents sharing a
        # number or a name with the file (every key below needs one of the
        # two), found through the indexes in chunks rather than by reading
        # the whole registry.
        doc_ids: dict[tuple[str, str], list[uuid.UUID]] = {}
        name_ids: dict[tuple[str, str, Any], list[uuid.UUID]] = {}
        docless: set[uuid.UUID] = set()
        doc_names: dict[uuid.UUID, str] = {}
        for rid, dt, dn, nm, bd, ph in _registered(
            s, {g.form.doc_number for g in groups if g.form.doc_number}, {g.form.name for g in groups}
        ):
            if dn:
                doc_ids.setdefault((dt, dn), []).append(rid)
                doc_names[rid] = nm
            else:
                docless.add(rid)
            if bd:
                name_ids.setdefault((nm, "b", bd), []).append(rid)
            if ph:
                name_ids.setdefault((nm, "p", ph), []).append(rid)

        def by_name_rule(f: ResidentForm) -> list[uuid.UUID]:
            found: list[uuid.UUID] = []
            for k in _name_keys(f):
                found += [i for i in name_ids.get(k, ()) if i not in found]
            return found

        matched: list[tuple[_Group, uuid.UUID | None]] = []
        claimed: set[uuid.UUID] = set()
        for g in groups:
            f, last = g.form, g.rows[-1]
            if f.doc_number:
                ids = doc_ids.get((f.doc_type, f.doc_number), [])
                if len(ids) > 1:
                    reject(
                        last,
                        [
                            (
                                "doc_number",
                                f"系统中已有 {len(ids)} 位居民登记了这个证件号码，无法确定更新哪一位。"
                                "请先在“居民”页核对这几条记录。",
                            )
                        ],
                    )
                    continue
                if ids:
                    if doc_names[ids[0]] != f.name:  # the same number under another name: only when confirmed
                        c = RowConflict(
                            last, ids[0], doc_names[ids[0]], f.name, mask(f.doc_number), confirmed(last, f.name)
                        )
                        report.conflicts.append(c)
                        if not c.confirmed:
                            report.unconfirmed += 1
                            continue
                    matched.append((g, ids[0]))
                    continue
                cands = [i for i in by_name_rule(f) if i in docless and i not in claimed]
                if len(cands) == 1:  # registered earlier without a number: fill it in
                    claimed.add(cands[0])
                    matched.append((g, cands[0]))
                else:
                    matched.append((g, None))
            else:
                cands = by_name_rule(f)
                if len(cands) > 1:
                    reject(
                        last,
                        [
                            (
                                "name",
                                f"系统中有 {len(cands)} 位同名居民的出生日期或电话与这一行相同，"
                                "无法确定更新哪一位。请补上证件号码后再导入。",
                            )
                        ],
                    )
                    continue
                matched.append((g, cands[0] if cands else None))

        # 4. Load the residents to update, in chunks; compare; merge.
        want = list(dict.fromkeys(rid for _, rid in matched if rid is not None))
        loaded: dict[uuid.UUID, Resident] = {}
        tags: dict[uuid.UUID, dict[str, ResidentTag]] = {}
        for i in range(0, len(want), _CHUNK):
            chunk = want[i : i + _CHUNK]
            for r in s.scalars(select(Resident).where(Resident.id.in_(chunk))):
                loaded[r.id] = r
            for t in s.scalars(select(ResidentTag).where(ResidentTag.resident_id.in_(chunk))):
                tags.setdefault(t.resident_id, {})[t.tag] = t
        current: dict[uuid.UUID, ResidentForm] = {}
        changed: dict[uuid.UUID, ResidentForm] = {}
        inserts: list[ResidentForm] = []
        for g, match in matched:
            if match is None:
                inserts.append(g.form)
                continue
            rid = match
            before = current.get(rid) or _stored_form(loaded[rid], tags.get(rid, {}))
            try:
                after = _resolve(before, g.vals, today)
            except _RowProblems as e:
                reject(g.rows[-1], e.problems)
                continue
            if _same(before, after):
                report.unchanged += 1
            else:
                report.updated += 1
                changed[rid] = after
            current[rid] = after
        report.imported = len(inserts)
        report.rejected = len(failed)

        # 5. Write (not on a dry run).
        if not dry_run:
            for rid, f in changed.items():
                r = loaded[rid]
                _apply(r, f)
                _sync_tags(s, r.id, tags.get(rid, {}), f.tags)
            _insert(s, inserts)
            audit.record(
                s,
                "residents_import",
                actor,
                target_type="resident",
                rows=report.rows,
                imported=report.imported,
                updated=report.updated,
                unchanged=report.unchanged,
                superseded=report.superseded,
                rejected=report.rejected,
                unconfirmed=report.unconfirmed,
                confirmed=len(report.conflicts) - report.unconfirmed,
            )

    order = {f: i for i, f in enumerate(FIELD_LABELS)}
    for row in sorted(failed):
        for fname, message in sorted(dict.fromkeys(failed[row]), key=lambda p: order.get(p[0], 99)):
            report.errors.append(RowError(row, _label(fname), message))
    report.warnings.sort(key=lambda w: (w.row, w.other_row))
    report.conflicts.sort(key=lambda c: c.row)
    named = (
        set(failed)
        | {w.row for w in report.warnings}
        | {w.other_row for w in report.warnings}
        | {c.row for c in report.conflicts}
    )
    report.values = {n: [cell_text(v) for v in row_values[n]] for n in sorted(named)}
    return report


def _registered(s: Session, numbers: set[str], names: set[str]) -> list[tuple[Any, ...]]:
    """(id, doc_type, doc_number, name, birth_date, phone) of every live
    resident whose document number is in ``numbers`` or whose name is in
    ``names``, each once."""
    cols = (Resident.id, Resident.doc_type, Resident.doc_number, Resident.name, Resident.birth_date, Resident.phone)
    found: dict[uuid.UUID, tuple[Any, ...]] = {}
    for col, keys in ((Resident.doc_number, sorted(numbers)), (Resident.name, sorted(names))):
        for i in range(0, len(keys), _CHUNK):
            for r in s.execute(select(*cols).where(Resident.deleted.is_(False), col.in_(keys[i : i + _CHUNK]))):
                found[r[0]] = tuple(r)
    return list(found.values())


def _stored_form(r: Resident, tags: dict[str, ResidentTag]) -> ResidentForm:
    live = {t for t, row in tags.items() if not row.deleted}
    return ResidentForm(
        name=r.name,
        doc_type=r.doc_type,
        doc_number=r.doc_number or "",
        gender=r.gender,
        birth_date=r.birth_date,
        phone=r.phone or "",
        ethnicity=r.ethnicity or "",
        residency=r.residency,
        estate=r.estate or "",
        building=r.building or "",
        unit=r.unit or "",
        room=r.room or "",
        village_group=r.village_group or "",
        house_number=r.house_number or "",
        address_text=r.address_text or "",
        grid=r.grid or "",
        notes=r.notes or "",
        tags=[t for t in SPECIAL_GROUPS if t in live],
    )


def _sync_tags(s: Session, resident_id: uuid.UUID, existing: dict[str, ResidentTag], want: list[str]) -> None:
    for tag, row in existing.items():
        wanted = tag in want
        if row.deleted == wanted:  # tombstoned but wanted, or live but unwanted
            row.deleted = not wanted
    for tag in want:
        if tag not in existing:
            s.add(ResidentTag(id=shared_id("resident_tags", f"{resident_id}:{tag}"), resident_id=resident_id, tag=tag))


def _insert(s: Session, forms: list[ResidentForm]) -> None:
    if not forms:
        return
    rows: list[dict[str, Any]] = []
    tag_rows: list[dict[str, Any]] = []
    for f in forms:
        rid = new_id()
        py, ini = name_pinyin(f.name)
        rows.append(
            {
                "id": rid,
                "name": f.name,
                "pinyin": py,
                "initials": ini,
                "gender": f.gender,
                "birth_date": f.birth_date,
                "doc_type": f.doc_type,
                "doc_number": f.doc_number or None,
                "phone": f.phone or None,
                "ethnicity": f.ethnicity or None,
                "household_id": None,
                "relation_to_head": None,
                "estate": f.estate or None,
                "building": f.building or None,
                "unit": f.unit or None,
                "room": f.room or None,
                "village_group": f.village_group or None,
                "house_number": f.house_number or None,
                "address_text": f.address_text or None,
                "grid": f.grid or None,
                "residency": f.residency,
                "moved_out": False,
                "moved_out_date": None,
                "deceased": False,
                "deceased_date": None,
                "notes": f.notes or None,
            }
        )
        tag_rows += [{"resident_id": rid, "tag": t, "since": None, "note": None} for t in f.tags]
    bulk_insert(s, Resident, rows)
    bulk_insert(s, ResidentTag, tag_rows)


# ------------------------------------------------------------------ the problem report


def problem_sheets(report: ImportReport) -> list[tuple[Any, ...]]:
    """The problems as sheets for ``documents.sheets.write_workbook`` (written
    by ``paperwork.save_import_report``): 行号, 字段, 问题, then the row as it
    was (as text, so ID numbers keep every digit); then a summary."""
    header = ["行号", "字段", "问题"] + [h or f"第{i + 1}列" for i, h in enumerate(report.headers)]
    lines: list[list[Any]] = [[e.row, e.field, e.message] for e in report.errors]
    lines += [[w.row, "重复", w.message] for w in report.warnings]
    lines += [[c.row, CONFLICT_LABEL, c.message] for c in report.conflicts]
    lines.sort(key=lambda x: x[0])
    rows = [line + report.values.get(line[0], []) for line in lines]
    summary = [
        ["说明", report.summary()],
        ["工作表", report.sheet],
        ["表头所在行", report.header_row],
        *([k, v] for k, v in report.to_json().items() if isinstance(v, int)),
    ]
    return [("问题清单", header, rows, {i: "@" for i in range(3, len(header))}), ("汇总", ["项目", "内容"], summary)]


__all__ = [
    "FIELD_LABELS",
    "HEADER_ALIASES",
    "IMPORT_ROLE",
    "MAX_ROWS",
    "ImportReport",
    "LedgerFileError",
    "RowError",
    "RowConflict",
    "RowWarning",
    "Table",
    "cell_text",
    "check_mapping",
    "field_for_header",
    "guess_mapping",
    "import_ledger",
    "problem_sheets",
    "read_table",
]
