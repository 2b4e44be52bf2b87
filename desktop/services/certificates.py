"""Certificates (开具证明) from the cleaned-up catalogue.

The station issues only what its catalogue retains; an abolished type is
refused with a written pointer to where the resident should go, and each
refusal is logged (the evidence that the "万能章" clean-up works). A request on
neither list is a 据实出具: only facts the committee verified, with a
supervisor's approval and a recorded reason.

Serials are per station and year, ``〔2026〕幸福证字第0001号``, taken when a
certificate is issued (a request turned down leaves no gap; a voided
certificate keeps its number). Every issued certificate writes a seal-register
line. Nothing is deleted: void (supervisor, with reason) or reissue (a new
serial pointing at the old one).

The stored body keeps the ``{id_number}`` placeholder: the screen shows the
number masked, only the printed certificate carries it in full.

Verification: the QR code holds ``ZM:<station>:<year>:<number>:<check>``; the
check is derived from the certificate's random id, which is never printed, so
a made-up serial does not verify, at this station or at any station or hub
that has synced the record.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import unicodedata
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from db.clock import shared_id, utcnow
from db.engine import Database
from db.errors import StationDeskError, ValidationError
from db.models import Certificate, CertificateRefusal, CertificateType, Resident, SealLog, Station
from db.localtime import day_start_utc, to_local
from desktop.paths import resources_dir
from desktop.services import accounts, audit
from desktop.services.context import Actor
from desktop.services.names import fold, plain_initials
from desktop.services.idnumbers import mask
from desktop.services.vocab import GENDERS

if TYPE_CHECKING:
    from typing_extensions import Unpack

KINDS = {"retained": "可以出具", "abolished": "不予出具", "factual": "据实出具"}
STATUSES = {"pending": "待审批", "issued": "已开具", "voided": "已作废", "declined": "未通过审批"}
SHIPPED = "data/certificates.json"
FORMAT = "station-desk-certificates/1"
APPROVER_ROLE = "supervisor"
MAX_VALUE = 300
ID_TOKEN = "{id_number}"
DEFAULT_PURPOSES = (
    "子女入学",
    "办理居住证",
    "单位入职",
    "申请公租房",
    "办理社保",
    "办理户籍业务",
    "申请租房补贴",
    "银行开户",
    "办理医保",
    "申请助学金",
)
# The resident's fields a template can use, by their Chinese names too.
BUILTIN_ALIASES = {
    "姓名": "name",
    "性别": "gender",
    "住址": "address",
    "出生日期": "birth_date",
    "身份证号": "id_number",
    "公民身份号码": "id_number",
}
QR_RE = re.compile(r"^ZM:(\d{6,12}):(\d{4}):(\d{1,6}):([A-Z2-7]{8})$")
REFUSAL_QR_RE = re.compile(r"^GZ:(\d{6,12}):(\d{4}):(\d{1,6}):([A-Z2-7]{8})$")
SERIAL_RE = re.compile(r"〔(\d{4})〕.*?第(\d{1,6})号")


class AbolishedType(StationDeskError):
    def __init__(self, name: str):
        super().__init__(
            "abolished certificate", f"“{name}”已列入不应由村（社区）出具的证明清单，不能开具；请打印告知单指引居民。"
        )


class NegativeListMatch(StationDeskError):
    """A 据实出具 request whose subject, facts or purpose is an abolished item:
    it is refused with that item's notice, never issued under another name."""

    def __init__(self, type_id: uuid.UUID, name: str, word: str):
        self.type_id, self.type_name, self.word = type_id, name, word
        super().__init__(
            "factual request matches the negative list",
            f"填写的内容涉及“{word}”，属于负面清单中的“{name}”，不能以据实出具的方式开具；"
            "请改为登记拒开并打印告知单，指引居民到有关部门办理。",
        )


class MissingGlyphs(StationDeskError):
    def __init__(self, chars: list[str]):
        self.chars = chars
        shown = "、".join(f"“{c}”(U+{ord(c):04X})" for c in chars[:8])
        super().__init__(
            "font lacks glyphs",
            f"证明字体没有这些字的字形，打印出来会是空白：{shown}。请先在“设置”中换用包含这些字的字体再开具；"
            "这次没有占用编号，也没有登记用印。",
        )


GlyphCheck = Callable[[str], list[str]]


# ------------------------------------------------------------------ catalogue


def match_score(name: str, aliases: str, query: str) -> int:
    """How well a catalogue entry (its name and comma-separated aliases)
    matches what was typed: 100 a name prefix … 30 pinyin initials, 0 none."""
    q = fold(query)
    if not q:
        return 1
    folded = fold(name)
    if folded.startswith(q):
        return 100
    words = [fold(a) for a in aliases.replace("，", ",").split(",") if a.strip()]
    if q in folded:
        return 85 if q in words else 80  # 关系证明: the type that lists it as its own word
    if any(a.startswith(q) or q in a for a in words):
        return 70
    if len(q) >= 2 and any(a in q for a in words if len(a) >= 2):  # "我要开个单身证明" finds 单身
        return 50
    if q.isascii() and q.isalpha() and plain_initials(name).startswith(q):
        return 30
    return 0


@dataclass(frozen=True)
class FieldSpec:
    key: str
    label: str
    required: bool = True
    choices: tuple[str, ...] = ()  # when set, the value must be one of these


@dataclass
class CertTypeView:
    id: uuid.UUID
    code: str
    kind: str
    name: str
    aliases: str
    purpose: str
    basis: str
    redirect: str
    needs_approval: bool
    materials: list[str]
    fields: list[FieldSpec]
    title: str
    body: str
    seal: str
    active: bool
    local: bool

    @property
    def kind_label(self) -> str:
        return KINDS[self.kind]

    @property
    def issuable(self) -> bool:
        return self.kind != "abolished"

    def matches(self, query: str) -> int:
        return match_score(self.name, self.aliases, query)


def _view(t: CertificateType) -> CertTypeView:
    return CertTypeView(
        t.id,
        t.code,
        t.kind,
        t.name,
        t.aliases or "",
        t.purpose or "",
        t.basis or "",
        t.redirect or "",
        bool(t.needs_approval or t.kind == "factual"),
        list(t.materials or []),
        [
            FieldSpec(f["key"], f["label"], bool(f.get("required", True)), tuple(f.get("choices") or ()))
            for f in (t.fields or [])
        ],
        t.title or t.name,
        t.body or "",
        t.seal or "居民委员会章",
        t.active,
        t.local,
    )


def _rows_from_doc(doc: dict[str, Any]) -> list[CertificateType]:
    if doc.get("format") != FORMAT:
        raise ValidationError("file", "这不是社区一站通的证明目录文件（格式标记不对）。")
    rows: list[CertificateType] = []
    for i, a in enumerate(doc.get("abolished") or []):
        # the official bracketed sub-names (户籍证明, 分居证明 …) are searched first
        aliases = ",".join([*(a.get("subnames") or []), *(a.get("aliases") or "").split(",")]).strip(",")
        rows.append(
            CertificateType(
                id=shared_id("certificate_types", f"abolished:{a['code']}"),
                code=a["code"],
                kind="abolished",
                name=a["name"],
                aliases=aliases or None,
                purpose=None,
                basis=a.get("basis"),
                redirect=a.get("redirect"),
                needs_approval=False,
                materials=[],
                fields=[],
                title=a["name"],
                body=None,
                seal=None,
                sort=i,
            )
        )
    for i, r in enumerate(doc.get("retained") or []):
        if not (r.get("basis") or "").strip():
            raise ValidationError("file", f"保留事项“{r.get('name')}”没有写明依据。")
        rows.append(
            CertificateType(
                id=shared_id("certificate_types", f"retained:{r['code']}"),
                code=r["code"],
                kind="retained",
                name=r["name"],
                aliases=r.get("aliases"),
                purpose=r.get("purpose"),
                basis=r["basis"],
                needs_approval=bool(r.get("approval")),
                materials=list(r.get("materials") or []),
                fields=list(r.get("fields") or []),
                title=r.get("title") or r["name"],
                body=r.get("body"),
                seal=r.get("seal"),
                redirect=None,
                sort=100 + i,
            )
        )
    f = doc.get("factual")
    if f:
        rows.append(
            CertificateType(
                id=shared_id("certificate_types", f"factual:{f['code']}"),
                code=f["code"],
                kind="factual",
                name=f["name"],
                aliases=f.get("aliases"),
                purpose=f.get("purpose"),
                basis=f.get("basis"),
                needs_approval=True,
                materials=list(f.get("materials") or []),
                fields=list(f.get("fields") or []),
                title=f.get("title") or "证明",
                body=f.get("body"),
                seal=f.get("seal"),
                redirect=None,
                sort=900,
            )
        )
    return rows


def ensure_catalogue(db: Database) -> None:
    with db.session() as s:
        if s.scalar(select(func.count()).select_from(CertificateType)):
            return
        doc = json.loads((resources_dir() / SHIPPED).read_text(encoding="utf-8"))
        for row in _rows_from_doc(doc):
            s.add(row)


def catalogue(db: Database, include_inactive: bool = False) -> list[CertTypeView]:
    ensure_catalogue(db)
    q = select(CertificateType).where(CertificateType.deleted.is_(False)).order_by(CertificateType.sort)
    if not include_inactive:
        q = q.where(CertificateType.active.is_(True))
    with db.session() as s:
        return [_view(t) for t in s.scalars(q)]


def _stem(word: str) -> str:
    """亲属关系证明 → 亲属关系; 社区戒毒社区康复人员情况证明（表现证明） → 社区戒毒社区康复人员情况."""
    w = re.sub(r"[（(].*?[)）]", "", word).strip()
    return w[:-2] if w.endswith("证明") else w


def negative_words(t: CertTypeView) -> list[str]:
    """What marks a request as this abolished item: its name, its official
    sub-names and aliases, and their stems of three characters or more."""
    words: list[str] = []
    for i, w in enumerate([t.name, *t.aliases.replace("，", ",").split(",")]):
        for x in (w, _stem(w)):
            x = fold(x)
            if len(x) >= (2 if i == 0 or x == fold(w) else 3) and x not in words:
                words.append(x)
    return words


def negative_match(items: list[CertTypeView], text: str) -> tuple[CertTypeView, str] | None:
    """The abolished item (and the word) a free text touches, if any."""
    t = fold(text)
    words = [(w, item) for item in items if item.kind == "abolished" for w in negative_words(item)]
    for w, item in sorted(words, key=lambda x: -len(x[0])):  # 婚姻关系证明 before 关系证明
        if w in t:
            return item, w
    return None


def search(items: list[CertTypeView], query: str) -> list[CertTypeView]:
    """Matching types, best first; among equal matches the ones a station can
    issue come before the abolished ones (which stay findable by name)."""
    scored = [(t.matches(query), not t.issuable, i, t) for i, t in enumerate(items)]
    return [t for sc, _, _, t in sorted(scored, key=lambda x: (-x[0], x[1], x[2])) if sc > 0]


def common_purposes(db: Database, recent: int = 2000, limit: int = 30) -> list[str]:
    """Suggestions for 用途: what this station wrote most often on its recent
    certificates, then the usual ones it has not used yet."""
    with db.session() as s:
        code = accounts.this_station(s).code
        values = s.scalars(
            select(Certificate.field_values)
            .where(Certificate.origin == code)
            .order_by(Certificate.requested_at.desc())
            .limit(recent)
        ).all()
    counts: dict[str, int] = {}
    for v in values:
        p = str((v or {}).get("purpose") or "").strip()
        if p:
            counts[p] = counts.get(p, 0) + 1
    used = sorted(counts, key=lambda p: -counts[p])[:limit]
    return used + [p for p in DEFAULT_PURPOSES if p not in counts]


def merge_file_rows(s: Session, existing: list[Any], incoming: list[Any], keys: tuple[str, ...]) -> dict[str, int]:
    """Merge a catalogue file's rows into the entries that came from a file
    before (matched by code and kind): changed ones are updated, new ones
    added, and entries the file no longer lists are switched off (kept for
    the ledgers). The counts of each."""
    counts = {"added": 0, "updated": 0, "deactivated": 0}
    by_key = {(t.code, t.kind): t for t in existing}
    seen = set()
    for row in incoming:
        key = (row.code, row.kind)
        seen.add(key)
        cur = by_key.get(key)
        if cur is None:
            s.add(row)
            counts["added"] += 1
            continue
        if cur.sort != row.sort:
            cur.sort = row.sort  # the file's order; not a change worth counting
        changed = False
        for k in keys:
            if getattr(cur, k) != getattr(row, k):
                setattr(cur, k, getattr(row, k))
                changed = True
        if not cur.active:
            cur.active, changed = True, True
        counts["updated"] += changed
    for key, cur in by_key.items():
        if key not in seen and cur.active:
            cur.active = False
            counts["deactivated"] += 1
    return counts


def read_catalogue_file(path: str, what: str) -> dict[str, Any]:
    """A catalogue file's JSON object, or a clear message naming ``what``."""
    try:
        doc = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as e:
        raise ValidationError("file", f"无法打开{what}文件：{e.strerror or e}") from e
    except ValueError as e:
        raise ValidationError("file", f"{what}文件无法读取：不是有效的 JSON 文件。") from e
    if not isinstance(doc, dict):
        raise ValidationError("file", f"这不是社区一站通的{what}文件（格式标记不对）。")
    return doc


def import_catalogue(db: Database, actor: Actor, path: str) -> dict[str, int]:
    """Load a province's or city's catalogue file. Entries are matched by code:
    changed ones are updated, new ones added, and catalogue entries the file no
    longer lists are switched off (kept for the ledger). The station's own
    entries are left alone."""
    actor.require(APPROVER_ROLE, "导入证明目录")
    doc = read_catalogue_file(path, "证明目录")
    incoming = _rows_from_doc(doc)
    if not incoming:
        raise ValidationError("file", "证明目录文件是空的。")
    keys = (
        "kind",
        "name",
        "aliases",
        "purpose",
        "basis",
        "redirect",
        "needs_approval",
        "materials",
        "fields",
        "title",
        "body",
        "seal",
    )
    ensure_catalogue(db)
    with db.session() as s:
        existing = list(
            s.scalars(
                select(CertificateType).where(CertificateType.deleted.is_(False), CertificateType.local.is_(False))
            )
        )
        counts: dict[str, Any] = merge_file_rows(s, existing, incoming, keys)
        audit.record(s, "certificate_catalogue_import", actor, **counts)
    return counts


def _check_template(body: str, field_keys: list[str]) -> None:
    import string

    allowed = {"name", "gender", "address", "birth_date", "id_number", *BUILTIN_ALIASES, *field_keys}
    try:
        names = [f for _, f, _, _ in string.Formatter().parse(body) if f is not None]
    except ValueError as e:
        raise ValidationError("body", "正文中的花括号不成对，请检查 { } 。") from e
    unknown = [n for n in names if n not in allowed]
    if unknown:
        raise ValidationError(
            "body", f"正文中的 {{{unknown[0]}}} 不是姓名、性别、住址、出生日期、身份证号或本证明的栏目。"
        )


def save_local_type(
    db: Database,
    actor: Actor,
    type_id: uuid.UUID | None,
    *,
    name: str,
    basis: str,
    purpose: str = "",
    aliases: str = "",
    needs_approval: bool = True,
    materials: list[str] | None = None,
    field_labels: list[str] | None = None,
    title: str = "",
    body: str = "",
    seal: str = "居民委员会章",
    active: bool = True,
) -> uuid.UUID:
    """Add or edit the station's own retained entry; it must cite its basis.
    Its fields are named by their labels, and its body may use {label}."""
    actor.require(APPROVER_ROLE, "修改证明目录")
    name = " ".join((name or "").split())
    if not name or len(name) > 64:
        raise ValidationError("name", "请填写证明名称（不超过 64 个字）。")
    if not (basis or "").strip():
        raise ValidationError("basis", "本站新增的可出具证明必须写明依据（法规条款或本地保留清单）。")
    labels = [x.strip() for x in (field_labels or []) if x.strip()]
    if "用途" not in labels:
        labels.append("用途")
    if any(c in lb for lb in labels for c in "{}.[]!:"):
        raise ValidationError("fields", "栏目名称不能含有 { } . [ ] ! : 这些符号。")
    body = (body or "").strip()
    if not body:
        raise ValidationError("body", "请填写证明正文，如：兹证明{姓名}（公民身份号码：{身份证号}）……")
    _check_template(body, labels)
    mats = [m.strip() for m in (materials or []) if m.strip()]
    with db.session() as s:
        t: CertificateType | None
        if type_id is None:
            n = s.scalar(select(func.count()).select_from(CertificateType).where(CertificateType.local.is_(True))) or 0
            t = CertificateType(code=f"L{n + 1:02d}", kind="retained", local=True, sort=500 + n)
            s.add(t)
        else:
            t = s.get(CertificateType, type_id)
            if t is None or t.deleted:
                raise ValidationError("name", "找不到这个证明类型。")
            if not t.local:
                raise ValidationError("name", "上级下发的目录条目不能在本站修改，只能启用或停用。")
        t.name, t.basis, t.purpose, t.aliases = name, basis.strip(), purpose.strip(), aliases.strip()
        t.needs_approval, t.materials, t.title, t.body, t.seal = bool(needs_approval), mats, title or name, body, seal
        t.fields = [{"key": lb, "label": lb, "required": True} for lb in labels]
        t.active = bool(active)
        s.flush()
        audit.record(s, "certificate_type_save", actor, target_type="certificate_type", target_id=t.id)
        return t.id


def set_type_active(db: Database, actor: Actor, type_id: uuid.UUID, active: bool) -> None:
    actor.require(APPROVER_ROLE, "修改证明目录")
    with db.session() as s:
        t = s.get(CertificateType, type_id)
        if t is None or t.deleted:
            raise ValidationError("name", "找不到这个证明类型。")
        if t.kind == "abolished" and active is False:
            raise ValidationError("name", "不予出具的事项要一直留在目录里，居民问到时才能看到去哪里办。")
        t.active = bool(active)
        audit.record(s, "certificate_type_save", actor, target_type="certificate_type", target_id=t.id)


# ------------------------------------------------------------------ helpers


def _station(s: Session) -> Station:
    return accounts.this_station(s)


def _issuer(st: Station | None, seal: str) -> str:
    """Who signs and stamps: the committee, or the party organisation for a party seal."""
    if st is None:
        return ""
    return accounts.info_of(st).issuer(seal)


def serial_prefix(station_name: str) -> str:
    """Two characters of the station's name for the serial: 幸福里社区党群服务中心 → 幸福."""
    core = re.sub(r"[（(].*?[)）]", "", station_name)
    for suffix in ("党群服务中心", "服务中心", "服务站", "居民委员会", "村民委员会", "居委会", "村委会", "社区", "村"):
        if core.endswith(suffix) and len(core) > len(suffix):
            core = core[: -len(suffix)]
    han = [c for c in core if "\u4e00" <= c <= "\u9fff"]
    return "".join(han[:2]) or "社区"


def serial_text(year: int, number: int, prefix: str) -> str:
    return f"〔{year}〕{prefix}证字第{number:04d}号"


def check_value(cert_id: uuid.UUID, origin: str, year: int, number: int) -> str:
    digest = hashlib.sha256(f"{cert_id}|{origin}|{year}|{number}".encode()).digest()
    return base64.b32encode(digest)[:8].decode()


def qr_payload(cert_id: uuid.UUID, origin: str, year: int, number: int) -> str:
    return f"ZM:{origin}:{year}:{number}:{check_value(cert_id, origin, year, number)}"


def _clean(v: Any, label: str) -> str:
    text = " ".join(str(v or "").replace("{", "（").replace("}", "）").split())
    if len(text) > MAX_VALUE:
        raise ValidationError(label, f"“{label}”太长（{len(text)} 字），请不超过 {MAX_VALUE} 字。")
    return text


def cn_date(d: date) -> str:
    return f"{d.year}年{d.month}月{d.day}日"


def _render(t: CertTypeView, r: Resident, values: dict[str, str], village: bool = False) -> str:
    """The body with everything filled in except the ID number; a village
    committee writes 本村 where the catalogue's template says 本社区."""
    known = {
        "name": r.name,
        "gender": GENDERS.get(r.gender, ""),
        "address": r.address_text or "（未登记地址）",
        "birth_date": cn_date(r.birth_date) if r.birth_date else "",
        **values,
        "id_number": ID_TOKEN,
    }
    for zh, key in BUILTIN_ALIASES.items():  # a station's own template may say {姓名}, {身份证号} …
        known[zh] = known[key]
    try:
        body = t.body.format_map(known)
        return body.replace("本社区", "本村") if village else body
    except (KeyError, IndexError, ValueError) as e:
        raise ValidationError("type", f"证明模板有误（{e}），请站长修改该证明类型的正文。") from e


_local = to_local


# ------------------------------------------------------------------ issuing


@dataclass(frozen=True)
class Issued:
    id: uuid.UUID
    status: str
    serial: str | None


def _issue_now(
    s: Session, c: Certificate, st: Station, approver: str | None, phone: str | None, applicant: str, seal: str
) -> None:
    now = utcnow()
    year = _local(now).year
    last = (
        s.scalar(select(func.max(Certificate.number)).where(Certificate.origin == st.code, Certificate.year == year))
        or 0
    )
    c.year, c.number = year, last + 1
    c.serial = serial_text(year, c.number, serial_prefix(st.name))
    c.status, c.issued_at, c.approver_name = "issued", now, approver
    if st.level == "village":
        seal = seal.replace("居民委员会", "村民委员会")
    s.add(
        SealLog(
            at=now,
            certificate_id=c.id,
            content=f"{c.title}（{c.serial}）",
            seal=seal,
            copies=c.copies,
            approver_name=approver,
            handler_name=c.handler_name,
            applicant_name=applicant,
            applicant_phone=phone,
        )
    )


def _check_glyphs(check: GlyphCheck | None, *texts: str) -> None:
    """Before a serial or a seal-register line is taken: every character
    must be printable in the certificate font."""
    if check is None:
        return
    missing = check("".join(texts))
    if missing:
        raise MissingGlyphs(missing)


def issue(
    db: Database,
    actor: Actor,
    resident_id: uuid.UUID,
    type_id: uuid.UUID,
    values: dict[str, Any],
    materials_seen: list[str],
    copies: int = 1,
    reason: str = "",
    glyphs: GlyphCheck | None = None,
) -> Issued:
    """Issue (or, when the type needs approval and the worker is not a
    supervisor, queue for approval) a certificate for a resident.

    ``glyphs`` returns the characters the certificate font cannot print
    (``paperwork.certificate_glyphs``): a name with one is refused before
    any number is taken. A 据实出具 request that touches the negative list
    raises NegativeListMatch."""
    actor.require("desk", "开具证明")
    if not 1 <= int(copies) <= 10:
        raise ValidationError("copies", "份数应在 1 到 10 之间。")
    with db.session() as s:
        t_row = s.get(CertificateType, type_id)
        if t_row is None or t_row.deleted or not t_row.active:
            raise ValidationError("type", "请从证明目录中选择证明类型。")
        t = _view(t_row)
        if t.kind == "abolished":
            raise AbolishedType(t.name)
        r = s.get(Resident, resident_id)
        if r is None or r.deleted:
            raise ValidationError("resident", "找不到这位居民。")
        if r.deceased:
            raise ValidationError("resident", "这位居民已标记为已故，不能为其开具证明。")
        clean = {}
        for f in t.fields:
            v = _clean(values.get(f.key), f.label)
            if f.required and not v:
                raise ValidationError(f.key, f"请填写“{f.label}”。")
            if f.choices and v and v not in f.choices:
                raise ValidationError(f.key, f"“{f.label}”请从以下选择：" + "、".join(f.choices) + "。")
            clean[f.key] = v
        unseen = [m for m in t.materials if m not in materials_seen]
        if unseen:
            raise ValidationError("materials", "开具前须核验：" + "、".join(unseen) + "。")
        reason = _clean(reason, "理由")
        if t.kind == "factual" and not reason:
            raise ValidationError("reason", "据实出具须写明为什么需要出具（两张清单都没有的事项）。")
        if t.kind == "factual":
            abolished = [
                _view(x)
                for x in s.scalars(
                    select(CertificateType).where(
                        CertificateType.kind == "abolished", CertificateType.deleted.is_(False)
                    )
                )
            ]
            hit = negative_match(abolished, " ".join([*clean.values(), reason]))
            if hit:
                raise NegativeListMatch(hit[0].id, hit[0].name, hit[1])
        st = _station(s)
        body = _render(t, r, clean, st.level == "village")
        if not t.needs_approval or actor.at_least(APPROVER_ROLE):
            _check_glyphs(glyphs, t.title, body, _issuer(st, t.seal))
        c = Certificate(
            type_id=t.id,
            type_name=t.name,
            resident_id=r.id,
            status="pending",
            title=t.title,
            body=body,
            field_values=clean,
            materials_seen=list(materials_seen),
            copies=int(copies),
            reason=reason or None,
            requested_at=utcnow(),
            handler_id=actor.account_id,
            handler_name=actor.display_name,
        )
        s.add(c)
        s.flush()
        if not t.needs_approval or actor.at_least(APPROVER_ROLE):
            _issue_now(s, c, st, actor.display_name if t.needs_approval else None, r.phone, r.name, t.seal)
            audit.record(s, "certificate_issue", actor, target_type="certificate", target_id=c.id)
        else:
            audit.record(s, "certificate_request", actor, target_type="certificate", target_id=c.id)
        return Issued(c.id, c.status, c.serial)


def _live(s: Session, cert_id: uuid.UUID) -> Certificate:
    c = s.get(Certificate, cert_id)
    if c is None or c.deleted:
        raise ValidationError("certificate", "找不到这份证明。")
    return c


def _seal_of(s: Session, c: Certificate) -> str:
    t = s.get(CertificateType, c.type_id)
    return t.seal if t and t.seal else "居民委员会章"


def approve(db: Database, actor: Actor, cert_id: uuid.UUID, glyphs: GlyphCheck | None = None) -> Issued:
    actor.require(APPROVER_ROLE, "审批证明")
    with db.session() as s:
        c = _live(s, cert_id)
        if c.status != "pending":
            raise ValidationError("status", f"这份证明当前是“{STATUSES[c.status]}”，不在待审批中。")
        r = s.get(Resident, c.resident_id)
        assert r is not None
        st = _station(s)
        _check_glyphs(glyphs, c.title, c.body, _issuer(st, _seal_of(s, c)))
        _issue_now(s, c, st, actor.display_name, r.phone, r.name, _seal_of(s, c))
        audit.record(s, "certificate_approve", actor, target_type="certificate", target_id=c.id)
        return Issued(c.id, c.status, c.serial)


def decline(db: Database, actor: Actor, cert_id: uuid.UUID, reason: str) -> None:
    actor.require(APPROVER_ROLE, "审批证明")
    reason = _clean(reason, "理由")
    if not reason:
        raise ValidationError("reason", "请写明不同意的理由。")
    with db.session() as s:
        c = _live(s, cert_id)
        if c.status != "pending":
            raise ValidationError("status", "这份证明不在待审批中。")
        c.status, c.void_reason, c.voided_by, c.voided_at = "declined", reason, actor.display_name, utcnow()
        audit.record(s, "certificate_decline", actor, target_type="certificate", target_id=c.id)


def void(db: Database, actor: Actor, cert_id: uuid.UUID, reason: str) -> None:
    actor.require(APPROVER_ROLE, "作废证明")
    reason = _clean(reason, "作废原因")
    if not reason:
        raise ValidationError("reason", "请写明作废原因。")
    with db.session() as s:
        c = _live(s, cert_id)
        if c.status != "issued":
            raise ValidationError("status", f"只有已开具的证明可以作废（当前：{STATUSES[c.status]}）。")
        c.status, c.void_reason, c.voided_by, c.voided_at = "voided", reason, actor.display_name, utcnow()
        audit.record(s, "certificate_void", actor, target_type="certificate", target_id=c.id)


def reissue(db: Database, actor: Actor, cert_id: uuid.UUID, reason: str, glyphs: GlyphCheck | None = None) -> Issued:
    """补开: a new serial with the same content, pointing at the old one,
    which is voided (if it was not already)."""
    actor.require(APPROVER_ROLE, "补开证明")
    reason = _clean(reason, "补开原因")
    if not reason:
        raise ValidationError("reason", "请写明补开原因（如：原件遗失、内容有误已作废）。")
    with db.session() as s:
        old = _live(s, cert_id)
        if old.status not in ("issued", "voided") or old.serial is None:
            raise ValidationError("status", "只能补开已开具或已作废的证明。")
        if old.replaced_by_id is not None:
            raise ValidationError("status", "这份证明已经补开过，请对新证明操作。")
        r = s.get(Resident, old.resident_id)
        assert r is not None
        st = _station(s)
        _check_glyphs(glyphs, old.title, old.body, _issuer(st, _seal_of(s, old)))
        new = Certificate(
            type_id=old.type_id,
            type_name=old.type_name,
            resident_id=old.resident_id,
            status="pending",
            title=old.title,
            body=old.body,
            field_values=dict(old.field_values or {}),
            materials_seen=list(old.materials_seen or []),
            copies=old.copies,
            reason=old.reason,
            requested_at=utcnow(),
            handler_id=actor.account_id,
            handler_name=actor.display_name,
            replaces_id=old.id,
        )
        s.add(new)
        s.flush()
        _issue_now(s, new, st, actor.display_name, r.phone, r.name, _seal_of(s, old))
        if old.status == "issued":
            old.status, old.voided_by, old.voided_at = "voided", actor.display_name, utcnow()
            old.void_reason = f"已补开（{new.serial}）：{reason}"
        old.replaced_by_id = new.id
        audit.record(s, "certificate_reissue", actor, target_type="certificate", target_id=new.id)
        return Issued(new.id, new.status, new.serial)


# ------------------------------------------------------------------ refusing


@dataclass(frozen=True)
class Refusal:
    id: uuid.UUID
    type_name: str
    basis: str
    redirect: str
    resident_name: str
    at: datetime
    serial: str = ""  # 〔2026〕幸福告字第0001号
    qr: str = ""  # GZ:<station>:<year>:<number>:<check>
    issuer: str = ""  # the committee that refuses


def refusal_serial(year: int, number: int, prefix: str) -> str:
    return f"〔{year}〕{prefix}告字第{number:04d}号"


def refuse(
    db: Database,
    actor: Actor,
    type_id: uuid.UUID,
    resident_id: uuid.UUID | None = None,
    note: str = "",
    glyphs: GlyphCheck | None = None,
) -> Refusal:
    """Log a request for an abolished certificate and number its notice;
    returns the notice text. ``glyphs`` as for ``issue``: a name the notice's
    font cannot print takes no number."""
    actor.require("desk", "登记拒开")
    note = _clean(note, "备注")
    with db.session() as s:
        t = s.get(CertificateType, type_id)
        if t is None or t.deleted or t.kind != "abolished":
            raise ValidationError("type", "只有已取消的证明事项才登记为拒开。")
        name = ""
        if resident_id is not None:
            r = s.get(Resident, resident_id)
            if r is None or r.deleted:
                raise ValidationError("resident", "找不到这位居民。")
            name = r.name
        st = _station(s)
        _check_glyphs(glyphs, name, t.name, _issuer(st, ""))
        now = utcnow()
        year = _local(now).year
        number = (
            s.scalar(
                select(func.max(CertificateRefusal.number)).where(
                    CertificateRefusal.origin == st.code, CertificateRefusal.year == year
                )
            )
            or 0
        ) + 1
        row = CertificateRefusal(
            at=now,
            type_id=t.id,
            type_name=t.name,
            resident_id=resident_id,
            actor_name=actor.display_name,
            note=note or None,
            year=year,
            number=number,
        )
        s.add(row)
        s.flush()
        audit.record(s, "certificate_refuse", actor, target_type="certificate_type", target_id=t.id)
        return Refusal(
            row.id,
            t.name,
            t.basis or "",
            t.redirect or "",
            name,
            row.at,
            refusal_serial(year, number, serial_prefix(st.name)),
            f"GZ:{st.code}:{year}:{number}:{check_value(row.id, st.code, year, number)}",
            _issuer(st, ""),
        )


# ------------------------------------------------------------------ reading


@dataclass(frozen=True)
class CertRow:
    id: uuid.UUID
    serial: str
    type_name: str
    resident_id: uuid.UUID
    resident_name: str
    status: str
    requested_at: datetime
    issued_at: datetime | None
    handler_name: str
    approver_name: str
    copies: int
    purpose: str
    void_reason: str

    @property
    def status_label(self) -> str:
        return STATUSES[self.status]


def _row(c: Certificate, name: str) -> CertRow:
    return CertRow(
        c.id,
        c.serial or "",
        c.type_name,
        c.resident_id,
        name,
        c.status,
        c.requested_at,
        c.issued_at,
        c.handler_name,
        c.approver_name or "",
        c.copies,
        (c.field_values or {}).get("purpose", ""),
        c.void_reason or "",
    )


_Sel = TypeVar("_Sel", bound="Select[Unpack[tuple[Any, ...]]]")


def _period(q: _Sel, col: InstrumentedAttribute[datetime], start: date | None, end: date | None) -> _Sel:
    if start:
        q = q.where(col >= _utc_start(start))
    if end:
        q = q.where(col < _utc_start(date.fromordinal(end.toordinal() + 1)))
    return q


_utc_start = day_start_utc


def ledger(
    db: Database,
    *,
    start: date | None = None,
    end: date | None = None,
    type_id: uuid.UUID | None = None,
    handler: str = "",
    status: str = "",
    limit: int = 5000,
) -> list[CertRow]:
    """开具台账: every certificate requested in the period, newest first."""
    q = select(Certificate, Resident.name).join(Resident, Resident.id == Certificate.resident_id)
    q = _period(q, Certificate.requested_at, start, end)
    if type_id:
        q = q.where(Certificate.type_id == type_id)
    if handler:
        q = q.where(Certificate.handler_name == handler)
    if status:
        q = q.where(Certificate.status == status)
    with db.session() as s:
        return [_row(c, n) for c, n in s.execute(q.order_by(Certificate.requested_at.desc()).limit(limit))]


def pending(db: Database) -> list[CertRow]:
    return ledger(db, status="pending")


@dataclass(frozen=True)
class SealLine:
    at: datetime
    content: str
    seal: str
    copies: int
    approver_name: str
    handler_name: str
    applicant_name: str
    applicant_phone: str


def seal_register(db: Database, *, start: date | None = None, end: date | None = None) -> list[SealLine]:
    q = _period(select(SealLog), SealLog.at, start, end).order_by(SealLog.at.desc())
    with db.session() as s:
        return [
            SealLine(
                x.at,
                x.content,
                x.seal,
                x.copies,
                x.approver_name or "",
                x.handler_name,
                x.applicant_name,
                x.applicant_phone or "",
            )
            for x in s.scalars(q)
        ]


@dataclass(frozen=True)
class RefusalLine:
    at: datetime
    type_name: str
    resident_name: str
    actor_name: str
    note: str


def refusals(db: Database, *, start: date | None = None, end: date | None = None) -> list[RefusalLine]:
    q = select(CertificateRefusal, Resident.name).outerjoin(Resident, Resident.id == CertificateRefusal.resident_id)
    q = _period(q, CertificateRefusal.at, start, end).order_by(CertificateRefusal.at.desc())
    with db.session() as s:
        return [RefusalLine(x.at, x.type_name, n or "", x.actor_name, x.note or "") for x, n in s.execute(q)]


def refusal_counts(db: Database, *, start: date | None = None, end: date | None = None) -> dict[str, int]:
    q = select(CertificateRefusal.type_name, func.count()).group_by(CertificateRefusal.type_name)
    with db.session() as s:
        return dict(s.execute(_period(q, CertificateRefusal.at, start, end)).all())


@dataclass(frozen=True)
class CertDetail:
    id: uuid.UUID
    serial: str
    title: str
    body_masked: str
    type_name: str
    status: str
    resident_id: uuid.UUID
    resident_name: str
    resident_doc_masked: str
    handler_name: str
    approver_name: str
    requested_at: datetime
    issued_at: datetime | None
    copies: int
    reason: str
    void_reason: str
    origin: str
    year: int | None
    number: int | None
    replaces_serial: str
    replaced_by_serial: str
    station_name: str
    seal: str
    field_values: dict[str, Any] = field(default_factory=dict)
    issuer: str = ""  # the committee (or party organisation) that signs and stamps
    village: bool = False

    @property
    def status_label(self) -> str:
        return STATUSES[self.status]


def get(db: Database, cert_id: uuid.UUID) -> CertDetail:
    with db.session() as s:
        c = _live(s, cert_id)
        r = s.get(Resident, c.resident_id)
        assert r is not None
        st = s.scalar(select(Station).where(Station.code == c.origin))

        def serial_of(i: uuid.UUID | None) -> str:
            x = s.get(Certificate, i) if i else None
            return (x.serial or "") if x else ""

        body = c.body.replace(ID_TOKEN, mask(r.doc_number or ""))
        if r.birth_date:  # eight of the number's digits: hidden beside the masked number, as on every screen
            body = body.replace(cn_date(r.birth_date), "****年**月**日")
        return CertDetail(
            c.id,
            c.serial or "",
            c.title,
            body,
            c.type_name,
            c.status,
            r.id,
            r.name,
            mask(r.doc_number or ""),
            c.handler_name,
            c.approver_name or "",
            c.requested_at,
            c.issued_at,
            c.copies,
            c.reason or "",
            c.void_reason or "",
            c.origin,
            c.year,
            c.number,
            serial_of(c.replaces_id),
            serial_of(c.replaced_by_id),
            st.name if st else c.origin,
            _seal_of(s, c),
            dict(c.field_values or {}),
            _issuer(st, _seal_of(s, c)) or c.origin,
            bool(st and st.level == "village"),
        )


@dataclass(frozen=True)
class Printable:
    """What the PDF needs: the body with the full ID number, the QR payload."""

    detail: CertDetail
    body_full: str
    qr: str


def printable(db: Database, actor: Actor, cert_id: uuid.UUID) -> Printable:
    """The certificate as printed. Only an issued one prints; each print is audited."""
    actor.require("desk", "打印证明")
    d = get(db, cert_id)
    if d.status != "issued" or d.year is None or d.number is None:
        raise ValidationError("status", f"这份证明当前是“{d.status_label}”，不能打印。")
    with db.session() as s:
        r = s.get(Resident, d.resident_id)
        assert r is not None
        c = _live(s, cert_id)
        body = c.body.replace(ID_TOKEN, r.doc_number or "（无证件号码）")
        audit.record(s, "certificate_print", actor, target_type="certificate", target_id=cert_id)
    return Printable(d, body, qr_payload(d.id, d.origin, d.year, d.number))


# ------------------------------------------------------------------ verifying


@dataclass(frozen=True)
class Verification:
    found: bool
    genuine: bool  # the QR's check value matches the stored record
    by_serial_only: bool  # typed serial: no check value to compare
    message: str
    detail: CertDetail | None = None


def looks_like_code(text: str) -> bool:
    t = unicodedata.normalize("NFKC", (text or "").strip()).upper()
    return bool(QR_RE.match(t) or REFUSAL_QR_RE.match(t) or SERIAL_RE.search(unicodedata.normalize("NFKC", text or "")))


def _verify_refusal(s: Session, m: re.Match[str]) -> Verification:
    origin, year, number, check = m.group(1), int(m.group(2)), int(m.group(3)), m.group(4)
    x = s.scalar(
        select(CertificateRefusal).where(
            CertificateRefusal.origin == origin, CertificateRefusal.year == year, CertificateRefusal.number == number
        )
    )
    if x is None:
        return Verification(False, False, False, "查无此告知单：本站（及已同步的站点）没有这份告知单的记录。")
    if check_value(x.id, origin, year, number) != check:
        return Verification(True, False, False, "校验不符：二维码不是这份告知单的，可能是伪造的。")
    st = s.scalar(select(Station).where(Station.code == origin))
    serial = refusal_serial(year, number, serial_prefix(st.name if st else ""))
    return Verification(
        True,
        True,
        False,
        f"不予出具告知单有效：{serial}，{_issuer(st, '') or origin}于"
        f"{cn_date(_local(x.at).date())}告知“{x.type_name}”不予出具。",
    )


def verify(db: Database, code: str) -> Verification:
    """Check a scanned QR payload or a typed serial."""
    raw = unicodedata.normalize("NFKC", (code or "").strip())
    m = QR_RE.match(raw.upper())
    with db.session() as s:
        gz = REFUSAL_QR_RE.match(raw.upper())
        if gz:
            return _verify_refusal(s, gz)
        if m:
            origin, year, number, check = m.group(1), int(m.group(2)), int(m.group(3)), m.group(4)
            c = s.scalar(
                select(Certificate).where(
                    Certificate.origin == origin, Certificate.year == year, Certificate.number == number
                )
            )
            if c is None:
                return Verification(False, False, False, "查无此证明：本站（及已同步的站点）没有这份证明的记录。")
            if check_value(c.id, origin, year, number) != check:
                return Verification(True, False, False, "校验不符：二维码不是这份证明的，证明可能是伪造的。")
            cid, typed = c.id, False
        else:
            sm = SERIAL_RE.search(raw)
            if not sm:
                return Verification(
                    False, False, False, "无法识别：请扫描证明上的二维码，或输入“〔2026〕…证字第0001号”。"
                )
            c = s.scalar(select(Certificate).where(Certificate.serial == raw.strip()))
            if c is None:
                c = s.scalar(
                    select(Certificate).where(
                        Certificate.year == int(sm.group(1)),
                        Certificate.number == int(sm.group(2)),
                        Certificate.serial.like(f"%第{int(sm.group(2)):04d}号"),
                    )
                )
            if c is None:
                return Verification(False, False, True, "查无此证明编号。")
            cid, typed = c.id, True
    d = get(db, cid)
    if d.status == "voided":
        msg = f"此证明已作废（{d.void_reason}）" + (
            f"，请以补开的 {d.replaced_by_serial} 为准。" if d.replaced_by_serial else "。"
        )
        return Verification(True, not typed, typed, msg, d)
    if d.status != "issued":
        return Verification(True, False, typed, f"此证明尚未开具（{d.status_label}）。", d)
    msg = (
        "证明有效：与开具记录一致。"
        if not typed
        else "找到这份证明的记录（凭编号查询，请核对纸面内容与下方记录一致）。"
    )
    return Verification(True, not typed, typed, msg, d)


def for_resident(db: Database, resident_id: uuid.UUID) -> list[CertRow]:
    with db.session() as s:
        q = (
            select(Certificate, Resident.name)
            .join(Resident, Resident.id == Certificate.resident_id)
            .where(Certificate.resident_id == resident_id)
            .order_by(Certificate.requested_at.desc())
        )
        return [_row(c, n) for c, n in s.execute(q)]
