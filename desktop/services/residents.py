"""Residents: registration with validation and a duplicate guard, editing,
moving out or death (never deletion), and the ID-number reveal.

ID numbers are sensitive (个人信息保护法 Art. 28, GB/T 35273): shown masked
everywhere; revealing one in full needs a supervisor role and leaves an audit
line that names the resident by id only.
"""

from __future__ import annotations

import re
import unicodedata
import uuid
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from db.clock import shared_id
from db.engine import Database
from db.errors import StationDeskError, ValidationError
from db.models import Household, Resident, ResidentTag
from desktop.services import audit
from desktop.services.context import Actor
from desktop.services.idnumbers import mask, normalize, validate_ric
from desktop.services.names import name_pinyin
from desktop.services.vocab import DOC_TYPES, ETHNICITIES, GENDERS, RESIDENCY, SPECIAL_GROUPS

REVEAL_ROLE = "supervisor"
MAX_NAME = 64
MAX_NOTES = 2000
MOBILE = re.compile(r"^1[3-9]\d{9}$")
LANDLINE = re.compile(r"^0\d{2,3}-?\d{7,8}(-\d{1,6})?$")
NAME_OK = re.compile(r"^[^\x00-\x1f\x7f<>\"\\]+$")


@dataclass
class ResidentForm:
    """What the registration form (or a ledger row) submits."""

    name: str = ""
    doc_type: str = "ric"
    doc_number: str = ""
    gender: int = 0
    birth_date: date | None = None
    phone: str = ""
    ethnicity: str = "01"
    residency: str = "registered"
    estate: str = ""
    building: str = ""
    unit: str = ""
    room: str = ""
    village_group: str = ""
    house_number: str = ""
    address_text: str = ""
    grid: str = ""
    notes: str = ""
    tags: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Candidate:
    """A possible duplicate, shown to the worker before saving."""

    id: uuid.UUID
    name: str
    birth_date: date | None
    doc_masked: str
    phone: str
    address: str
    reason: str
    same_document: bool = False  # the same document type and number: the same person, never saved twice


class DuplicateFound(StationDeskError):
    """A near match (same name and birth date or phone): open the existing
    record, or save anyway with a reason."""

    may_save_anyway = True

    def __init__(self, candidates: list[Candidate], user_message: str = ""):
        super().__init__(
            "possible duplicate", user_message or "系统中可能已有这位居民。请核对后打开已有记录，或填写原因后仍然保存。"
        )
        self.candidates = candidates


class SameDocumentNumber(DuplicateFound):
    """Another live resident has exactly this document type and number.
    Refused for every role, with or without a reason: the worker opens the
    existing record instead."""

    may_save_anyway = False

    def __init__(self, candidates: list[Candidate]):
        super().__init__(
            candidates,
            "这个证件号码已经登记过，同一个证件号码不能登记两次。请打开已有记录核对；如果号码填错了，请返回修改。",
        )


@dataclass(frozen=True)
class ResidentView:
    id: uuid.UUID
    form: ResidentForm
    doc_masked: str
    moved_out: bool
    moved_out_date: date | None
    deceased: bool
    deceased_date: date | None
    household_number: str
    relation_to_head: str


# ------------------------------------------------------------------ validation


def normalize_phone(raw: str) -> str:
    s = "".join(unicodedata.normalize("NFKC", raw or "").split())
    s = s.replace("—", "-").replace("－", "-")
    if s.startswith("+86"):
        s = s[3:]
    elif s.startswith("0086"):
        s = s[4:]
    return s


def validate_phone(raw: str) -> str:
    s = normalize_phone(raw)
    if not s:
        return ""
    if MOBILE.match(s) or LANDLINE.match(s):
        return s
    if s.isdigit() and len(s) == 11 and s.startswith("1"):
        raise ValidationError("phone", "手机号码的第二位应为 3–9，请核对。")
    raise ValidationError("phone", "电话号码格式不对：手机请填 11 位数字，固定电话请带区号，如 0552-1234567。")


def _text(value: str, field_name: str, label: str, limit: int) -> str:
    v = " ".join((value or "").split())
    if len(v) > limit:
        raise ValidationError(field_name, f"{label}太长（{len(v)} 个字），请不超过 {limit} 个字。")
    return v


def validate(form: ResidentForm, today: date | None = None) -> ResidentForm:
    """Normalise and check a form; raise ValidationError naming the field."""
    name = "".join(unicodedata.normalize("NFC", form.name or "").split())
    if not name:
        raise ValidationError("name", "请填写姓名。")
    if len(name) > MAX_NAME:
        raise ValidationError("name", f"姓名太长（{len(name)} 个字），请不超过 {MAX_NAME} 个字。")
    if not NAME_OK.match(name):
        raise ValidationError("name", "姓名中有不能使用的符号。")
    if form.doc_type not in DOC_TYPES:
        raise ValidationError("doc_type", "请选择证件类型。")
    gender, birth = form.gender, form.birth_date
    doc = normalize(form.doc_number)
    if form.doc_type == "ric":
        if doc:
            info = validate_ric(doc, today)
            doc, gender, birth = info.number, info.gender, info.birth_date
    else:
        if len(doc) > 32:
            raise ValidationError("doc_number", "证件号码太长，请核对。")
    if gender not in GENDERS:
        raise ValidationError("gender", "请选择性别。")
    if birth and birth > (today or date.today()):
        raise ValidationError("birth_date", "出生日期不能晚于今天。")
    if form.ethnicity and form.ethnicity not in ETHNICITIES:
        raise ValidationError("ethnicity", "请选择民族。")
    if form.residency not in RESIDENCY:
        raise ValidationError("residency", "请选择居住类型。")
    bad_tags = [t for t in form.tags if t not in SPECIAL_GROUPS]
    if bad_tags:
        raise ValidationError("tags", f"未知的人员类别：{'、'.join(bad_tags)}。")
    out = replace(
        form,
        name=name,
        doc_number=doc,
        gender=gender,
        birth_date=birth,
        phone=validate_phone(form.phone),
        estate=_text(form.estate, "estate", "小区", 64),
        building=_text(form.building, "building", "楼栋", 16),
        unit=_text(form.unit, "unit", "单元", 16),
        room=_text(form.room, "room", "室", 16),
        village_group=_text(form.village_group, "village_group", "村民小组", 32),
        house_number=_text(form.house_number, "house_number", "门牌", 32),
        grid=_text(form.grid, "grid", "网格", 32),
        notes=(form.notes or "").strip(),
        tags=list(dict.fromkeys(form.tags)),
    )
    if len(out.notes) > MAX_NOTES:
        raise ValidationError("notes", f"备注太长（{len(out.notes)} 字），请不超过 {MAX_NOTES} 字。")
    out.address_text = _text(form.address_text, "address_text", "地址", 200) or compose_address(out)
    return out


def compose_address(f: ResidentForm) -> str:
    parts = [f.estate]
    if f.building:
        parts.append(f.building if f.building.endswith("栋") else f.building + "栋")
    if f.unit:
        parts.append(f.unit if f.unit.endswith("单元") else f.unit + "单元")
    if f.room:
        parts.append(f.room if f.room.endswith("室") else f.room + "室")
    parts += [f.village_group, f.house_number]
    return "".join(p for p in parts if p)


# ------------------------------------------------------------------ duplicates


def find_duplicates(db: Database, form: ResidentForm, exclude: uuid.UUID | None = None) -> list[Candidate]:
    """Same document number, or the same name with the same birth date or phone."""
    conds = []
    if form.doc_number:
        conds.append(and_(Resident.doc_number == form.doc_number, Resident.doc_type == form.doc_type))
    same_name = []
    if form.birth_date:
        same_name.append(Resident.birth_date == form.birth_date)
    if form.phone:
        same_name.append(Resident.phone == form.phone)
    if same_name:
        conds.append(and_(Resident.name == form.name, or_(*same_name)))
    if not conds:
        return []
    q = select(Resident).where(Resident.deleted.is_(False), or_(*conds)).limit(20)
    if form.doc_number:  # the same number first: never cut off by the limit
        q = q.order_by(conds[0].desc())
    if exclude is not None:
        q = q.where(Resident.id != exclude)
    with db.session() as s:
        out = []
        for r in s.scalars(q):
            same_doc = bool(form.doc_number) and (r.doc_type, r.doc_number) == (form.doc_type, form.doc_number)
            if same_doc:
                reason = "证件号码相同"
            elif form.birth_date and r.birth_date == form.birth_date:
                reason = "姓名和出生日期相同"
            else:
                reason = "姓名和电话相同"
            out.append(
                Candidate(
                    r.id,
                    r.name,
                    r.birth_date,
                    mask(r.doc_number),
                    r.phone or "",
                    r.address_text or "",
                    reason,
                    same_doc,
                )
            )
        return out


def _guard(
    db: Database, f: ResidentForm, reason: str, exclude: uuid.UUID | None = None, same_number_allowed: bool = False
) -> list[Candidate]:
    """Raise SameDocumentNumber for an identical document number (whatever
    the reason and role), DuplicateFound for a near match without a reason;
    return the candidates overridden by the reason."""
    dups = find_duplicates(db, f, exclude=exclude)
    same = [c for c in dups if c.same_document]
    if same and not same_number_allowed:
        raise SameDocumentNumber(same)
    if dups and not reason.strip():
        raise DuplicateFound(dups)
    return dups


# ------------------------------------------------------------------ writes


def _apply(r: Resident, f: ResidentForm) -> None:
    py, ini = name_pinyin(f.name)
    r.name, r.pinyin, r.initials = f.name, py, ini
    r.doc_type, r.doc_number = f.doc_type, f.doc_number or None
    r.gender, r.birth_date = f.gender, f.birth_date
    r.phone = f.phone or None
    r.ethnicity = f.ethnicity or None
    r.residency = f.residency
    for key in ("estate", "building", "unit", "room", "village_group", "house_number", "address_text", "grid", "notes"):
        setattr(r, key, getattr(f, key) or None)


def _set_tags(s: Session, r: Resident, tags: list[str]) -> None:
    existing = {t.tag: t for t in s.scalars(select(ResidentTag).where(ResidentTag.resident_id == r.id))}
    for tag, row in existing.items():
        want = tag in tags
        if row.deleted == want:  # tombstoned but wanted, or live but unwanted
            row.deleted = not want
    if r.id is None:
        s.flush()
    for tag in tags:
        if tag not in existing:
            # One id per (resident, tag) everywhere: the same tag added at two
            # stations merges by sync instead of colliding on the unique pair.
            s.add(ResidentTag(id=shared_id("resident_tags", f"{r.id}:{tag}"), resident_id=r.id, tag=tag))


def register(db: Database, actor: Actor, form: ResidentForm, *, duplicate_reason: str = "") -> uuid.UUID:
    """Save a new resident. Raises SameDocumentNumber when a live resident
    has the same document type and number (for every role, reason or not),
    DuplicateFound for a near match unless a reason is given."""
    f = validate(form)
    dups = _guard(db, f, duplicate_reason)
    with db.session() as s:
        r = Resident()
        _apply(r, f)
        s.add(r)
        s.flush()
        _set_tags(s, r, f.tags)
        extra: dict[str, Any] = {"duplicate_override": True} if dups else {}
        audit.record(s, "resident_create", actor, target_type="resident", target_id=r.id, **extra)
        return r.id


def update(
    db: Database, actor: Actor, resident_id: uuid.UUID, form: ResidentForm, *, duplicate_reason: str = ""
) -> None:
    """Save changes. An empty document number keeps the stored one (the form
    never holds the full number; see ``get``).  Changing the number to one
    another resident has is refused like a registration; a record that
    already shares its unchanged number (two stations registered the same
    person before a sync) may still be edited, with a reason."""
    with db.session() as s:
        r = _live(s, resident_id)
        stored = (r.doc_type, r.doc_number or "")
    if not normalize(form.doc_number):
        form = replace(form, doc_number=stored[1])
    f = validate(form)
    _guard(db, f, duplicate_reason, exclude=resident_id, same_number_allowed=(f.doc_type, f.doc_number) == stored)
    with db.session() as s:
        r = _live(s, resident_id)
        _apply(r, f)
        _set_tags(s, r, f.tags)
        audit.record(s, "resident_update", actor, target_type="resident", target_id=r.id)


def _live(s: Session, resident_id: uuid.UUID) -> Resident:
    r = s.get(Resident, resident_id)
    if r is None or r.deleted:
        raise ValidationError("resident", "找不到这位居民。")
    return r


def mark_moved_out(db: Database, actor: Actor, resident_id: uuid.UUID, when: date) -> None:
    with db.session() as s:
        r = _live(s, resident_id)
        r.moved_out, r.moved_out_date = True, when
        audit.record(s, "resident_moved_out", actor, target_type="resident", target_id=r.id)


def mark_deceased(db: Database, actor: Actor, resident_id: uuid.UUID, when: date) -> None:
    with db.session() as s:
        r = _live(s, resident_id)
        r.deceased, r.deceased_date = True, when
        audit.record(s, "resident_deceased", actor, target_type="resident", target_id=r.id)


def get(db: Database, resident_id: uuid.UUID) -> ResidentView:
    with db.session() as s:
        r = _live(s, resident_id)
        tags = [
            t.tag
            for t in s.scalars(
                select(ResidentTag).where(ResidentTag.resident_id == r.id, ResidentTag.deleted.is_(False))
            )
        ]
        hh = s.get(Household, r.household_id) if r.household_id else None
        form = ResidentForm(
            name=r.name,
            doc_type=r.doc_type,
            doc_number="",
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
            tags=[t for t in SPECIAL_GROUPS if t in tags],
        )
        return ResidentView(
            r.id,
            form,
            mask(r.doc_number),
            r.moved_out,
            r.moved_out_date,
            r.deceased,
            r.deceased_date,
            hh.number or "" if hh else "",
            r.relation_to_head or "",
        )


def reveal_document_number(db: Database, actor: Actor, resident_id: uuid.UUID, reason: str = "") -> str:
    """The full document number, for a permitted role; every reveal is audited."""
    actor.require(REVEAL_ROLE, "查看完整证件号码")
    with db.session() as s:
        r = _live(s, resident_id)
        audit.record(s, "id_reveal", actor, target_type="resident", target_id=r.id, reason=(reason or "")[:100])
        return r.doc_number or ""
