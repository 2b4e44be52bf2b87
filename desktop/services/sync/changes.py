"""Which rows travel, how they are checked, and how they merge.

* **Travelling tables** are every ``Synced`` table except ``accounts``
  (password hashes and sign-in state stay on the PC they belong to).
  ``CATALOGUE`` tables (stations, matter and certificate types, skills, the
  holiday calendar) flow from the hub down: a station's copy of a shared
  entry never overwrites another's, and a hub sends a station only its own
  shared entries, never another station's.  A hub sends a station that
  station's own records (those it created, as edited at the hub) plus any
  record they point at that the station lacks (the survivor of a merge);
  everyone else sends only its own records.
* **Authority**: from anyone but our hub, a row may only create or change a
  record its sender owns (``owned``); one that would touch another's refuses
  the whole bundle.  Every stamp must be an integer no later than
  ``db.clock.ceiling()``.
* **Rows** travel as JSON objects of their columns (without the local
  ``seq``).  On the way in every value is checked against its column: type,
  length, nullability, a valid GB 11643 number for a resident's 居民身份证.
  One bad row refuses the whole bundle.
* **Merging**: append-only rows are inserted if absent.  Mutable rows merge
  field by field by their field clocks (the later change wins; equal clocks
  with different values — two stations seeding the same entry — settle on the
  larger value, so both sides agree).  A field that *both* sides changed
  since they last met becomes a ``SyncConflict``: the remote change is new to
  us (its clock is after the peer's previous bundle) and our change is new to
  the peer (its clock is after what the peer confirmed receiving from us).
"""

from __future__ import annotations

import math
import re
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from functools import lru_cache
from typing import Any, Callable

import orjson
from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    Integer,
    String,
    Table,
    Text,
    Uuid,
    and_,
    or_,
    select,
    type_coerce,
)
from sqlalchemy.types import NullType
from sqlalchemy.orm import Session
from sqlalchemy.sql.schema import CallableColumnDefault, ScalarElementColumnDefault

from db import clock
from db.base import Base, Mutable, Synced, table_of
from db.clock import utcnow
from db.writes import write_remote, write_remote_columns, write_remote_raw
from desktop.services.sync.columns import ColumnCodec, column_check
from desktop.services.sync.sealed import RESEND, BundleError

EXCLUDED = frozenset({"accounts"})
CATALOGUE = frozenset({"stations", "matter_types", "certificate_types", "skills", "calendar_days", "work_items"})
# Catalogue entries that may exist at two databases under one id, each copy
# stamped with the origin of the database that seeded it (db.clock.shared_id).
# From anyone but the hub, another origin's entry is left as it is.  (A
# station's own row in ``stations`` has an id of its own code: not shared.)
SHARED = CATALOGUE - {"stations"}
CLOCK_COLUMNS = ("hlc", "clock_a", "clock_b")  # HLC stamps (field_clocks holds more)
BATCH = 2000
MAX_TEXT = 20_000  # characters in a Text column: a page of notes, not a file

TABLE_LABELS = {
    "stations": "站点",
    "matter_types": "事项目录",
    "certificate_types": "证明目录",
    "skills": "技能目录",
    "proxy_agents": "代办员",
    "proxy_cases": "代办登记",
    "calendar_days": "节假日",
    "households": "户",
    "residents": "居民",
    "resident_tags": "居民标签",
    "matters": "受理事项",
    "matter_events": "事项办理记录",
    "matter_ratings": "好差评",
    "rectifications": "差评整改",
    "notices": "一次性告知",
    "certificates": "证明",
    "seal_log": "用印登记",
    "certificate_refusals": "不予开具记录",
    "volunteers": "志愿者",
    "volunteer_needs": "服务需求",
    "volunteer_need_events": "需求记录",
    "volunteer_assignments": "派单",
    "audit_log": "操作日志",
    "sync_conflicts": "数据冲突",
    "service_areas": "AB岗片区",
    "duty_shifts": "值班班次",
    "duty_absences": "离岗登记",
    "work_items": "准入清单",
    "dept_requests": "部门下派事项",
    "postings": "公开栏公示",
    "wishes": "微心愿",
    "wish_claims": "心愿认领",
    "party_reports": "在职党员报到",
    "visit_tiers": "走访频次",
    "visits": "走访记录",
}
FIELD_LABELS = {
    "name": "姓名",
    "phone": "联系电话",
    "gender": "性别",
    "birth_date": "出生日期",
    "doc_type": "证件类型",
    "doc_number": "证件号码",
    "ethnicity": "民族",
    "household_id": "所属户",
    "relation_to_head": "与户主关系",
    "estate": "小区",
    "building": "楼栋",
    "unit": "单元",
    "room": "室",
    "village_group": "村民小组",
    "house_number": "门牌号",
    "address_text": "地址",
    "grid": "网格",
    "residency": "居住类型",
    "moved_out": "已迁出",
    "moved_out_date": "迁出日期",
    "deceased": "已故",
    "deceased_date": "死亡日期",
    "notes": "备注",
    "note": "备注",
    "deleted": "删除",
    "number": "编号",
    "head_id": "户主",
    "status": "状态",
    "title": "标题",
    "description": "说明",
    "promised_days": "承诺时限",
    "category": "类别",
    "active": "启用",
    "tag": "标签",
    "result": "办理结果",
    "handler_name": "经办人",
    "skills": "技能",
    "availability": "可服务时间",
    "weekly_hour_limit": "每周时长上限",
    "party_member": "党员",
    "employer": "工作单位",
    "measures": "整改措施",
}


class BadRow(Exception):
    def __init__(self, column: str, why: str):
        super().__init__(f"{column}: {why}")
        self.column, self.why = column, why


def bad_row(table: str, column: str, why: str, detail: str = "") -> BundleError:
    label = TABLE_LABELS.get(table, table)
    if column in CLOCK_COLUMNS or column == "field_clocks":
        return bad_clock(f"一条“{label}”记录", why, detail or f"{table}.{column}: {why}")
    col = FIELD_LABELS.get(column, column)
    return BundleError(
        "bad_value",
        f"数据交换包中的一条“{label}”记录有不可能的值（{col}：{why}），整个包没有导入，本站数据没有任何变化。\n"
        "这通常是对方程序版本有问题或文件被改动过。" + RESEND,
        detail or f"{table}.{column}: {why}",
    )


@lru_cache(maxsize=1)
def travelling() -> tuple[type[Synced], ...]:
    """Models whose rows travel, parents before children."""
    import db.models  # noqa: F401  (complete metadata)

    by_table = {m.class_.__tablename__: m.class_ for m in Base.registry.mappers if issubclass(m.class_, Synced)}
    return tuple(by_table[t.name] for t in Base.metadata.sorted_tables if t.name in by_table and t.name not in EXCLUDED)


def model_for(table: str) -> type[Synced] | None:
    return next((m for m in travelling() if m.__tablename__ == table), None)


# ------------------------------------------------------------------ values


def _text(limit: int | None) -> Callable[[Any], Any]:
    cap = limit or MAX_TEXT

    def conv(v: Any) -> Any:
        if not isinstance(v, str):
            raise ValueError("不是文字")
        if len(v) > cap:
            raise ValueError(f"长达 {len(v)} 个字，超过上限 {cap}")
        return v

    return conv


def _uuid(v: Any) -> uuid.UUID:
    if not isinstance(v, str) or len(v) not in (32, 36):
        raise ValueError("不是有效的记录编号")
    return uuid.UUID(v)


def _int_in(bits: int) -> Callable[[Any], int]:
    """Integers a column of ``bits`` holds on both engines (PostgreSQL's
    INTEGER is 32 bits; SQLite turns a larger number into a float)."""
    lo, hi = -(1 << (bits - 1)), 1 << (bits - 1)

    def conv(v: Any) -> int:
        if type(v) is not int:
            raise ValueError("不是整数")
        if not lo <= v < hi:
            raise ValueError("数值超出范围")
        return v

    return conv


_int = _int_in(64)
_int32 = _int_in(32)


def _float(v: Any) -> float:
    if type(v) not in (int, float) or not math.isfinite(v):
        raise ValueError("不是数字")
    return float(v)


def _bool(v: Any) -> bool:
    if type(v) is not bool:
        raise ValueError("不是是/否")
    return v


def _datetime(v: Any) -> datetime:
    if not isinstance(v, str) or len(v) > 40:
        raise ValueError("不是时间")
    d = datetime.fromisoformat(v)
    if d.tzinfo is not None:
        d = d.astimezone(timezone.utc).replace(tzinfo=None)
    return d


def _date(v: Any) -> date:
    if not isinstance(v, str) or len(v) != 10:
        raise ValueError("不是日期")
    return date.fromisoformat(v)


def _json(v: Any) -> Any:
    return v


def _converter(col: Any) -> Callable[[Any], Any]:
    t = col.type
    if isinstance(t, Uuid):
        return _uuid
    if isinstance(t, (DateTime,)):
        return _datetime
    if isinstance(t, Date):
        return _date
    if isinstance(t, Boolean):
        return _bool
    if isinstance(t, BigInteger):
        return _int
    if isinstance(t, Integer):
        return _int32
    if isinstance(t, Float):
        return _float
    if isinstance(t, JSON):
        return _json
    if isinstance(t, (String, Text)):
        return _text(getattr(t, "length", None))
    raise TypeError(f"no sync converter for {col.table.name}.{col.name} ({t!r})")


@dataclass(frozen=True)
class Codec:
    model: type[Synced]
    table: Table
    columns: tuple[str, ...]  # every column but seq
    fields: tuple[str, ...]  # merged field by field (data columns and "deleted")
    converters: dict[str, Callable[[Any], Any]]
    nullable: frozenset[str]
    defaults: dict[str, Any]  # for columns an older bundle does not carry
    mutable: bool

    def decode(self, raw: Any, limit: int = clock.MAX_STAMP) -> dict[str, Any]:
        """A travelling JSON object as a row of Python values, or BadRow."""
        if not isinstance(raw, dict):
            raise BadRow("id", "不是一条记录")
        unknown = raw.keys() - self.converters.keys()
        if unknown:
            raise BadRow(sorted(unknown)[0], "本程序不认识这一栏")
        row: dict[str, Any] = {}
        for name in self.columns:
            if name not in raw:
                if name in self.defaults:
                    v = self.defaults[name]
                    row[name] = v() if callable(v) else v
                    continue
                raise BadRow(name, "缺少")
            v = raw[name]
            if v is None:
                if name not in self.nullable:
                    raise BadRow(name, "不能为空")
                row[name] = None
                continue
            try:
                row[name] = self.converters[name](v)
            except (ValueError, TypeError, OverflowError) as e:
                raise BadRow(name, str(e) or "格式不对") from None
        check_identity(row["origin"], row["hlc"], row.get("field_clocks"), self.mutable, limit)
        check_clocks(row, limit)
        return row


def bad_clock(what: str, why: str, detail: str) -> BundleError:
    return BundleError(
        "bad_clock",
        f"数据交换包中{what}的修改时间戳不合理（{why}），整个包没有导入，"
        "本站数据没有任何变化。\n可能是对方电脑的日期时间设置错了，也可能文件被改动过：请核对双方电脑的"
        "日期和时间，再请对方重新导出。",
        detail,
    )


def clock_why(v: Any, limit: int) -> str:
    """Why a stamp is refused, for the message."""
    if type(v) is not int:
        return "不是整数"
    if v < 0:
        return "是负数"
    if v > clock.MAX_STAMP:
        return "超出范围"
    return (
        f"{_when(v)}，比本机时间超前 {clock.MAX_SKEW_MS // 3_600_000} 小时以上"
        f"（最晚只接受到 {_when(limit)}，协调世界时）"
    )


def _when(stamp: int) -> str:
    """A stamp's time for a message (by arithmetic: the platform's gmtime
    refuses years far ahead on Windows)."""
    return f"{datetime(1970, 1, 1) + timedelta(milliseconds=clock.physical_ms(stamp)):%Y-%m-%d %H:%M}"


def check_identity(origin: Any, hlc: Any, clocks: Any, mutable: bool, limit: int = clock.MAX_STAMP) -> None:
    """The sync columns every travelling row must carry sensibly: an origin,
    and stamps no later than ``limit`` (``db.clock.ceiling``)."""
    if not origin:
        raise BadRow("origin", "缺少来源站点")
    if not clock.valid_stamp(hlc, limit):
        raise BadRow("hlc", clock_why(hlc, limit))
    if mutable:
        if not isinstance(clocks, dict) or not all(isinstance(k, str) for k in clocks):
            raise BadRow("field_clocks", "格式不对")
        for c in clocks.values():
            if not clock.valid_stamp(c, limit):
                raise BadRow("field_clocks", clock_why(c, limit))


def check_clocks(row: dict[str, Any], limit: int) -> None:
    """Stamps in other columns (a conflict's two sides)."""
    for name in CLOCK_COLUMNS[1:]:
        if name in row and not clock.valid_stamp(row[name], limit):
            raise BadRow(name, clock_why(row[name], limit))


@lru_cache(maxsize=None)
def codec(model: type[Synced]) -> Codec:
    table = table_of(model)
    columns = tuple(c.name for c in table.columns if c.name != "seq")
    mutable = issubclass(model, Mutable)
    fields = tuple(c for c in columns if c not in ("id", "origin", "hlc", "field_clocks"))
    converters = {c.name: _converter(c) for c in table.columns if c.name != "seq"}
    nullable = frozenset(c.name for c in table.columns if c.nullable)
    defaults: dict[str, Any] = {}
    for c in table.columns:
        if c.name == "seq":
            continue
        if isinstance(c.default, ScalarElementColumnDefault):
            defaults[c.name] = c.default.arg
        elif isinstance(c.default, CallableColumnDefault) and c.name != "id":
            fn = c.default.arg
            defaults[c.name] = lambda fn=fn: fn(None)
        elif c.nullable:
            defaults[c.name] = None
    return Codec(model, table, columns, fields, converters, nullable, defaults, mutable)


# -- the fast path: a new row's values checked and put straight into the
# driver's own form (what SQLAlchemy's types would have produced).  Into an
# empty table (a first import of a whole station at a new hub) a batch is
# decoded column by column (``columns``, ``column_codec``); a new record
# among others row by row (``RawCodec``), and the careful path says why a
# value is refused.

_UUID_RE = re.compile(r"[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}")


def _raw_encoder(col: Any, sqlite: bool) -> Callable[[Any], Any]:
    t = col.type
    if isinstance(t, Uuid):

        def enc_uuid(v: Any) -> Any:
            if not isinstance(v, str) or not _UUID_RE.fullmatch(v):
                raise ValueError("不是有效的记录编号")
            return v.replace("-", "").lower() if sqlite else v

        return enc_uuid
    if isinstance(t, DateTime):

        def enc_dt(v: Any) -> Any:
            d = _datetime(v)
            return d.isoformat(" ", "microseconds") if sqlite else d

        return enc_dt
    if isinstance(t, Date):

        def enc_date(v: Any) -> Any:
            d = _date(v)
            return d.isoformat() if sqlite else d

        return enc_date
    if isinstance(t, JSON):
        return lambda v: orjson.dumps(v).decode()
    return _converter(col)  # text, numbers, booleans: already the driver's form


def _raw_default(col: Any, value: Any) -> Any:
    if value is not None and isinstance(col.type, JSON):
        return orjson.dumps(value).decode()
    return value


@dataclass(frozen=True)
class RawCodec:
    columns: tuple[str, ...]
    encoders: tuple[Callable[[Any], Any], ...]
    nullable: tuple[bool, ...]
    defaults: dict[str, Any]
    known: frozenset[str]
    fast: Callable[[dict[str, Any]], list[Any]] | None = None  # rows with every column, all valid

    def encode(self, raw: dict[str, Any]) -> list[Any]:
        if self.fast is not None and raw.keys() == self.known:
            try:
                return self.fast(raw)
            except Exception:  # noqa: BLE001  (the careful path below says what is wrong)
                pass
        if raw.keys() - self.known:
            raise BadRow(sorted(raw.keys() - self.known)[0], "本程序不认识这一栏")
        out = []
        for name, enc, null in zip(self.columns, self.encoders, self.nullable, strict=True):
            if name in raw:
                v = raw[name]
            elif name in self.defaults:
                d = self.defaults[name]
                out.append(d() if callable(d) else d)
                continue
            else:
                raise BadRow(name, "缺少")
            if v is None:
                if not null:
                    raise BadRow(name, "不能为空")
                out.append(None)
                continue
            try:
                out.append(enc(v))
            except (ValueError, TypeError, OverflowError) as e:
                raise BadRow(name, str(e) or "格式不对") from None
        return out


@lru_cache(maxsize=None)
def raw_codec(model: type[Synced], sqlite: bool) -> RawCodec:
    c = codec(model)  # type: ignore[arg-type]  # mypy takes a class object for unhashable here
    cols = [c.table.c[n] for n in c.columns]
    if not c.mutable:
        cols = [col for col in cols if col.name != "field_clocks"]
    defaults: dict[str, Any] = {}
    for col in cols:
        if col.name in c.defaults:
            d = c.defaults[col.name]
            defaults[col.name] = (lambda d=d, col=col: _raw_default(col, d())) if callable(d) else _raw_default(col, d)
    codec_ = RawCodec(
        tuple(col.name for col in cols),
        tuple(_raw_encoder(col, sqlite) for col in cols),
        tuple(bool(col.nullable) for col in cols),
        defaults,
        frozenset(c.converters),
    )
    if frozenset(codec_.columns) != codec_.known:
        return codec_
    return RawCodec(
        codec_.columns, codec_.encoders, codec_.nullable, defaults, codec_.known, _compile_fast(cols, codec_.encoders)
    )


@lru_cache(maxsize=None)
def column_codec(model: type[Synced], sqlite: bool) -> ColumnCodec | None:
    """The columnar decoding of new rows (``columns``), in ``raw_codec``'s
    column order, with its encoders to fall back on; None for a table whose
    rows do not carry every column."""
    rc = raw_codec(model, sqlite)  # type: ignore[arg-type]  # mypy takes a class object for unhashable here
    if rc.fast is None:
        return None
    t = table_of(model)
    checks = tuple(column_check(t.c[n], enc, sqlite, MAX_TEXT) for n, enc in zip(rc.columns, rc.encoders, strict=True))
    return ColumnCodec(rc.columns, checks, issubclass(model, Mutable))


def _compile_fast(cols: list[Any], encoders: tuple[Callable[[Any], Any], ...]) -> Callable[[dict[str, Any]], list[Any]]:
    """One function per table that checks and converts a complete row with
    the simple checks written out (every new record of an import into a
    table that has records already).  Any failure raises; ``RawCodec.encode`` then takes the careful
    path, which names the column and the reason."""
    lines = ["def fast(raw):"]
    env: dict[str, Any] = {"_I64": 1 << 63, "_I32": 1 << 31}
    for i, (col, enc) in enumerate(zip(cols, encoders, strict=True)):
        t = col.type
        lines.append(f"    v = raw[{col.name!r}]")
        test = ""
        if isinstance(t, (String, Text)) and not isinstance(t, Uuid):
            cap = getattr(t, "length", None) or MAX_TEXT
            test = f"type(v) is not str or len(v) > {cap}"
            conv = "v"
        elif isinstance(t, Boolean):
            test, conv = "type(v) is not bool", "v"
        elif isinstance(t, (BigInteger, Integer)):
            lim = "_I64" if isinstance(t, BigInteger) else "_I32"
            test, conv = f"type(v) is not int or not -{lim} <= v < {lim}", "v"
        else:
            env[f"e{i}"] = enc
            conv = f"e{i}(v)"
        if col.nullable:
            check = f"        if {test}: raise ValueError\n" if test else ""
            lines.append(f"    if v is not None:\n{check}        v = {conv}")
        else:
            lines.append(f"    if v is None{' or ' + test if test else ''}: raise ValueError")
            if conv != "v":
                lines.append(f"    v = {conv}")
        lines.append(f"    a{i} = v")
    lines.append("    return [" + ", ".join(f"a{i}" for i in range(len(cols))) + "]")
    exec("\n".join(lines), env)  # noqa: S102  (our own generated code, no outside input)
    return env["fast"]


def check_resident(row: dict[str, Any]) -> None:
    """A resident's 居民身份证 number must be a real one (GB 11643)."""
    if row.get("doc_type") == "ric" and row.get("doc_number") and not row.get("deleted"):
        from db.errors import ValidationError
        from desktop.services.idnumbers import validate_ric

        try:
            validate_ric(row["doc_number"])
        except ValidationError as e:
            raise BadRow("doc_number", e.user_message.rstrip("。")) from None


# ------------------------------------------------------------------ export


@dataclass
class Scope:
    """Which rows one export selects."""

    since: int  # local seq: rows above it
    upto: int  # ... up to and including this
    me: str  # this station's code
    target: str
    hub_to_station: bool  # a hub writing to one of its stations
    echo: tuple[tuple[int, int], ...] = ()  # seq ranges holding the target's own rows as it sent them
    own_only: bool = False  # only this station's own records (to its hub, or to another station)


def owned(t: Table, code: str) -> Any:
    """Rows that station ``code`` owns: those it created (``origin``); a
    resident's tag belongs to the resident's station (a tag's id is one per
    resident and tag, so its origin is whoever added it first at each end).
    ``sync_conflicts`` are checked per row (the record they are about)."""
    if t.name == "resident_tags":
        residents = Base.metadata.tables["residents"]
        return t.c.resident_id.in_(select(residents.c.id).where(residents.c.origin == code))
    return t.c.origin == code


def _where(model: type[Synced], scope: Scope, extra_ids: set[uuid.UUID] | None) -> Any:
    t = table_of(model)
    cond = and_(
        t.c.seq > scope.since,
        t.c.seq <= scope.upto,
        *[~t.c.seq.between(a, b) for a, b in scope.echo if b > scope.since],
    )
    name = t.name
    if not scope.hub_to_station:
        if not scope.own_only or name == "sync_conflicts":
            return cond  # conflicts: filtered per row by export_rows
        return and_(cond, owned(t, scope.me))
    if name in CATALOGUE:
        # the hub's shared entries, and the station's own (never another station's:
        # a shared entry the hub got from a station stays between them)
        if "local" in t.c:
            return and_(cond, or_(and_(t.c.local.is_(False), t.c.origin == scope.me), t.c.origin == scope.target))
        return and_(cond, t.c.origin.in_([scope.me, scope.target]))
    if name == "sync_conflicts":
        return cond  # filtered per row by export_rows (the record's origin)
    own = and_(cond, t.c.origin == scope.target)
    if name == "resident_tags":  # also the tags others added to its residents
        own = or_(own, and_(cond, owned(t, scope.target)))
    if extra_ids:
        return or_(own, t.c.id.in_(list(extra_ids)))
    return own


def closure(session: Session, scope: Scope) -> dict[str, set[uuid.UUID]]:
    """Rows a station lacks that the rows sent to it point at (a hub only
    sends a station its own records; after a merge they may point at the
    surviving record of another station)."""
    if not scope.hub_to_station:
        return {}
    models = [m for m in travelling() if m.__tablename__ not in CATALOGUE and m.__tablename__ != "sync_conflicts"]
    extra: dict[str, set[uuid.UUID]] = {}
    for _ in range(4):  # residents → households → head residents: a few rounds reach the fixpoint
        grew = False
        for m in models:
            t = table_of(m)
            sel = _where(m, scope, extra.get(t.name))
            for fk in t.foreign_keys:
                parent = fk.column.table
                if parent.name in CATALOGUE or parent.name not in {x.__tablename__ for x in models}:
                    continue
                col = fk.parent
                q = select(parent.c.id).where(
                    parent.c.origin != scope.target, parent.c.id.in_(select(col).where(sel, col.is_not(None)))
                )
                found = set(session.scalars(q))
                have = extra.setdefault(parent.name, set())
                if found - have:
                    have |= found
                    grew = True
        if not grew:
            break
    return extra


def export_rows(
    session: Session, model: type[Synced], scope: Scope, extra: dict[str, set[uuid.UUID]]
) -> Iterator[dict[str, Any]]:
    """The rows of one table for one export, as JSON-ready dicts."""
    c = codec(model)  # type: ignore[arg-type]  # mypy takes a class object for unhashable here
    t = c.table
    sqlite = session.get_bind().dialect.name == "sqlite"
    # The driver's values as they are (no per-value type processing): UUIDs
    # as hex or uuid objects, times as text or datetime, both of which the
    # reader accepts; only SQLite's 0/1 booleans and JSON text need a touch.
    q = (
        select(*[type_coerce(t.c[n], NullType()).label(n) for n in c.columns])
        .where(_where(model, scope, extra.get(t.name)))
        .order_by(t.c.seq)
    )
    fix: list[tuple[int, Callable[[Any], Any]]] = []
    if sqlite:
        for i, n in enumerate(c.columns):
            if isinstance(t.c[n].type, Boolean):
                fix.append((i, bool))
            elif isinstance(t.c[n].type, JSON):
                fix.append((i, _fragment))
    names = c.columns
    rows = session.connection().execution_options(yield_per=BATCH).execute(q)
    # a conflict goes where the record it is about belongs (a station's own copy
    # of a catalogue entry is its own business)
    owner = scope.target if scope.hub_to_station else scope.me if scope.own_only else None
    conflicts = t.name == "sync_conflicts" and owner is not None
    for r in rows:
        values = list(r)
        for i, f in fix:
            if values[i] is not None:
                values[i] = f(values[i])
        d = dict(zip(names, values, strict=True))
        if conflicts:
            if (
                scope.own_only
                and d["table_name"] in SHARED
                or record_owner(session, d["table_name"], uuid.UUID(str(d["row_id"]))) != owner
            ):
                continue
        yield d


def _fragment(text: str) -> Any:
    """JSON text from the database, embedded as it is."""
    return orjson.Fragment(text) if hasattr(orjson, "Fragment") else orjson.loads(text)


def record_owner(session: Session, table: str, row_id: uuid.UUID) -> str | None:
    """The station that owns a record (see ``owned``), None when it is not here."""
    model = model_for(table)
    if model is None:
        return None
    t = table_of(model)
    if table == "resident_tags":
        residents = Base.metadata.tables["residents"]
        return session.scalar(
            select(residents.c.origin).join(t, t.c.resident_id == residents.c.id).where(t.c.id == row_id)
        )
    return session.scalar(select(t.c.origin).where(t.c.id == row_id))


# ------------------------------------------------------------------ import


@dataclass
class Counts:
    new: int = 0
    updated: int = 0
    unchanged: int = 0

    def as_dict(self) -> dict[str, int]:
        return {"new": self.new, "updated": self.updated, "unchanged": self.unchanged}


@dataclass
class MergeContext:
    me: str  # this station
    source: str  # the station that sent the bundle
    authority: bool  # the source may write any record here (our hub); otherwise only its own
    ack_hlc: int  # our clock as far as the source has seen it
    recv_hlc: int  # the source's clock at its previous bundle we applied
    clock_limit: int = clock.MAX_STAMP  # the latest stamp accepted (db.clock.ceiling at the start)
    names: dict[str, str] = field(default_factory=dict)  # station code → name, for messages
    # (table, id) of the records the source's conflict rows are about: checked once every table is in
    conflict_records: set[tuple[str, uuid.UUID]] = field(default_factory=set)
    found_at: datetime = field(default_factory=utcnow)
    echo: list[list[int]] = field(default_factory=list)  # seq ranges holding rows exactly as the source sent them
    residents_were_empty: bool = False  # a first import: duplicates can only be among the new rows
    conflicts: list[dict[str, Any]] = field(default_factory=list)
    new_residents: list[dict[str, Any]] = field(default_factory=list)

    def label(self, code: str) -> str:
        name = self.names.get(code)
        return f"{code}（{name}）" if name else code

    def not_authorised(self, table: str, owner: str | None) -> BundleError:
        """A row the source may not write: the whole bundle is refused."""
        label = TABLE_LABELS.get(table, table)
        whose = "本站" if owner == self.me else f"站点 {self.label(owner)}" if owner else "不明站点"
        return BundleError(
            "not_authorised",
            f"站点 {self.label(self.source)} 发来的数据交换包要新建或修改“{label}”中属于{whose}的记录。"
            "站点只能新建和修改本站自己的记录，其他站点的记录只能由街道转来。整个包没有导入，本站数据没有任何变化。\n"
            "这个文件可能被人改动过，请与对方站点核实。",
            f"{self.source} writes {table} owned by {owner}",
        )

    def add_echo(self, first: int, count: int) -> None:
        """``count`` rows from seq ``first`` on are now exactly as the source sent them."""
        if not count:
            return
        last = first + count - 1
        if self.echo and self.echo[-1][1] + 1 == first:
            self.echo[-1][1] = last
        else:
            self.echo.append([first, last])


def _canon(v: Any) -> bytes:
    return orjson.dumps(v, option=orjson.OPT_SORT_KEYS)


def conflict_id(table: str, row_id: uuid.UUID, column: str, c1: int, c2: int) -> uuid.UUID:
    """The same conflict found at both ends is one record."""
    lo, hi = sorted((c1, c2))
    return uuid.uuid5(uuid.NAMESPACE_URL, f"station-desk:conflict:{table}:{row_id}:{column}:{lo}:{hi}")


def _merge(c: Codec, local: dict[str, Any], remote: dict[str, Any], ctx: MergeContext) -> dict[str, Any] | None:
    """The merged row, or None when nothing changes."""
    lclocks: dict[str, int] = dict(local.get("field_clocks") or {})
    rclocks: dict[str, int] = remote.get("field_clocks") or {}
    merged = dict(local)
    clocks = dict(lclocks)
    changed = False
    for f in c.fields:
        lv, rv = local[f], remote[f]
        lc, rc = lclocks.get(f, 0), rclocks.get(f, 0)
        if rc > lc:
            if rv != lv:
                merged[f] = rv
                changed = True
                if lc > ctx.ack_hlc and rc > ctx.recv_hlc:
                    _conflict(c, local, f, winner=(rv, rc, ctx.source), loser=(lv, lc, ctx.me), ctx=ctx)
            clocks[f] = rc
            changed = True
        elif rc < lc:
            if rv != lv and lc > ctx.ack_hlc and rc > ctx.recv_hlc:
                _conflict(c, local, f, winner=(lv, lc, ctx.me), loser=(rv, rc, ctx.source), ctx=ctx)
        elif rv != lv and _canon(rv) > _canon(lv):
            merged[f] = rv  # the same moment (or both at creation): settle on one value at both ends
            changed = True
    if not changed:
        return None
    merged["field_clocks"] = clocks
    merged["hlc"] = max(local["hlc"], remote["hlc"])
    return merged


def _conflict(
    c: Codec,
    local: dict[str, Any],
    column: str,
    *,
    winner: tuple[Any, int, str],
    loser: tuple[Any, int, str],
    ctx: MergeContext,
) -> None:
    table = c.table.name
    if table == "sync_conflicts":
        return  # two supervisors deciding one conflict differently: the later decision stands
    ctx.conflicts.append(
        {
            "id": conflict_id(table, local["id"], column, winner[1], loser[1]),
            "table_name": table,
            "row_id": local["id"],
            "field": column,
            "value_a": _canon(winner[0]).decode(),
            "clock_a": winner[1],
            "station_a": winner[2],
            "value_b": _canon(loser[0]).decode(),
            "clock_b": loser[1],
            "station_b": loser[2],
            "found_at": ctx.found_at,
            "found_by": ctx.me,
            "status": "open",
        }
    )


REBUILD_INDEXES_FROM = 20_000  # rows into an empty table: build its indexes afterwards, sorted


def apply_table(
    session: Session,
    model: type[Synced],
    batches: Iterable[list[Any]],
    ctx: MergeContext,
    progress: Callable[[int], None] | None = None,
    expected: int = 0,
) -> Counts:
    """Merge one table's rows from a bundle (inside the caller's transaction),
    given in lists of at most ``BATCH`` (``Bundle.row_batches``).
    ``expected`` is the part's line count from the manifest."""
    c = codec(model)  # type: ignore[arg-type]  # mypy takes a class object for unhashable here
    t = c.table
    counts = Counts()
    # An empty table (a first import at a new hub) has nothing to merge with:
    # no look-ups.  A part that held one record twice then fails on its key.
    empty = session.connection().execute(select(t.c.id).limit(1)).first() is None
    if t.name == "residents":
        ctx.residents_were_empty = empty
    # (not a table with deferred references: PostgreSQL builds no index on a table
    # whose checks are still pending, and households are few anyway)
    deferred = any(fk.constraint is not None and fk.constraint.deferrable for fk in t.foreign_keys)
    rebuild = (
        sorted(t.indexes, key=lambda i: i.name or "")
        if empty and not deferred and expected >= REBUILD_INDEXES_FROM
        else []
    )
    conn = session.connection()
    for index in rebuild:  # inside the transaction: a failed or killed import keeps them
        index.drop(conn)
    for batch in batches:
        if len(batch) > BATCH:
            raise ValueError(f"a batch of {len(batch)} rows, more than {BATCH}")
        if not batch:
            continue
        _apply_batch(session, c, batch, ctx, counts, empty)
        if progress:
            progress(len(batch))
    for index in rebuild:
        index.create(conn)
    return counts


def _row_id(raw: Any) -> uuid.UUID:
    if not isinstance(raw, dict):
        raise BadRow("id", "不是一条记录")
    v = raw.get("id")
    if not isinstance(v, str) or not _UUID_RE.fullmatch(v):
        raise BadRow("id", "不是有效的记录编号")
    return uuid.UUID(v)


def _tag_owners(session: Session, existing: dict[Any, dict[str, Any]]) -> dict[uuid.UUID, str]:
    """Resident id → origin, for the residents the stored tags of a batch are on."""
    ids = {r["resident_id"] for r in existing.values()}
    residents = Base.metadata.tables["residents"]
    return (
        dict(
            session.connection()
            .execute(select(residents.c.id, residents.c.origin).where(residents.c.id.in_(list(ids))))
            .all()
        )
        if ids
        else {}
    )


def _check_written_tags(session: Session, ctx: MergeContext, written: list[tuple[int, int]]) -> None:
    """The tags just written (seq ranges) must be on the source's own
    residents: one query, instead of reading every tag's resident id."""
    t, residents = Base.metadata.tables["resident_tags"], Base.metadata.tables["residents"]
    spans = [t.c.seq.between(first, first + n - 1) for first, n in written if n]
    if not spans:
        return
    owner = (
        session.connection()
        .execute(
            select(residents.c.origin)
            .join(t, t.c.resident_id == residents.c.id)
            .where(or_(*spans), residents.c.origin != ctx.source)
            .limit(1)
        )
        .scalar()
    )
    if owner is not None:
        raise ctx.not_authorised("resident_tags", owner)


def check_conflict_records(session: Session, ctx: MergeContext) -> None:
    """The records the source's conflict rows are about must be the
    source's own (they are read once every table of the bundle is in)."""
    for table, row_id in sorted(ctx.conflict_records, key=str):
        owner = record_owner(session, table, row_id)
        if owner != ctx.source:
            raise ctx.not_authorised("sync_conflicts", owner)


def _apply_new_columns(session: Session, c: Codec, batch: list[Any], ctx: MergeContext, counts: Counts) -> bool:
    """New rows into an empty table, decoded column by column (``columns``):
    False, having written nothing, when the batch needs the careful path
    (a bad or unusual value, a record twice, a row the source may not write)."""
    name = c.table.name
    guard = not ctx.authority
    if guard and name == "sync_conflicts":  # checked row by row against the records they are about
        return False
    sqlite = session.get_bind().dialect.name == "sqlite"
    cc = column_codec(c.model, sqlite)  # type: ignore[arg-type]  # mypy takes a class object for unhashable here
    decoded = cc.decode(batch, ctx.clock_limit) if cc is not None else None
    if decoded is None:
        return False
    values, raw = decoded
    if guard and name != "resident_tags" and set(raw["origin"]) != {ctx.source}:  # (tags: once written)
        return False
    if name == "residents":
        try:
            for r in batch:
                check_resident(r)
        except BadRow:
            return False
        ctx.new_residents.extend(
            {"id": uuid.UUID(rid), "doc_number": doc}
            for rid, doc, deleted in zip(raw["id"], raw["doc_number"], raw["deleted"], strict=True)
            if doc and not deleted
        )
    columns = raw_codec(c.model, sqlite).columns  # type: ignore[arg-type]  # as above
    first = write_remote_columns(session, c.model, columns, values, max(raw["hlc"]))
    n = len(batch)
    counts.new += n
    ctx.add_echo(first, n)
    if guard and name == "resident_tags":
        _check_written_tags(session, ctx, [(first, n)])
    return True


def _apply_batch(
    session: Session, c: Codec, batch: list[Any], ctx: MergeContext, counts: Counts, empty: bool = False
) -> None:
    t = c.table
    name = t.name
    if empty and _apply_new_columns(session, c, batch, ctx, counts):
        return
    existing: dict[Any, dict[str, Any]] = {}
    if empty:
        by_id: dict[Any, Any] = {}
        for raw in batch:
            if not isinstance(raw, dict):
                raise bad_row(name, "id", "不是一条记录")
            by_id[raw.get("id")] = raw  # checked by the encoder
    else:
        try:
            by_id = {_row_id(raw): raw for raw in batch}  # the same record twice: the last (later) one
        except BadRow as e:
            raise bad_row(name, e.column, e.why) from None
        cols = [t.c[n] for n in c.columns]
        for r in session.connection().execute(select(*cols).where(t.c.id.in_(list(by_id)))):
            existing[r.id] = dict(r._mapping)
    sqlite = session.get_bind().dialect.name == "sqlite"
    fast = raw_codec(c.model, sqlite)  # type: ignore[arg-type]  # mypy takes a class object for unhashable here
    new_rows: list[list[Any]] = []
    pure: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    guard = not ctx.authority
    owners = _tag_owners(session, existing) if guard and name == "resident_tags" else {}
    remote_max = 0
    i_hlc, i_origin = fast.columns.index("hlc"), fast.columns.index("origin")
    for rid, raw in by_id.items():
        local = existing.get(rid)
        try:
            if local is None:
                values = fast.encode(raw)
                check_identity(values[i_origin], values[i_hlc], raw.get("field_clocks"), c.mutable, ctx.clock_limit)
                check_clocks(raw, ctx.clock_limit)
                if guard:
                    if name == "sync_conflicts":
                        if raw["table_name"] in SHARED:
                            counts.unchanged += 1  # about the source's own copy of a catalogue entry
                            continue
                        ctx.conflict_records.add((raw["table_name"], uuid.UUID(raw["row_id"])))
                    elif name != "resident_tags" and values[i_origin] != ctx.source:  # (tags: once written)
                        raise ctx.not_authorised(name, values[i_origin])
                if name == "residents":
                    check_resident(raw)
                    if raw.get("doc_number") and not raw.get("deleted"):
                        ctx.new_residents.append(
                            {
                                "id": rid if isinstance(rid, uuid.UUID) else uuid.UUID(rid),
                                "doc_number": raw["doc_number"],
                            }
                        )
                remote_max = max(remote_max, values[i_hlc])
                new_rows.append(values)
                continue
            row = c.decode(raw, ctx.clock_limit)
            if name == "residents":
                check_resident(row)
        except BadRow as e:
            raise bad_row(name, e.column, e.why) from None
        remote_max = max(remote_max, row["hlc"])
        foreign: str | None = None  # the owner, when the source may not change this record
        if guard:
            if name in SHARED and local["origin"] != ctx.source:
                counts.unchanged += 1  # another's catalogue entry: ours stays as it is
                continue
            if name == "sync_conflicts":
                if local["table_name"] in SHARED or row["table_name"] in SHARED:
                    counts.unchanged += 1
                    continue
                ctx.conflict_records.update(
                    {(local["table_name"], local["row_id"]), (row["table_name"], row["row_id"])}
                )
            else:
                owner = owners.get(local["resident_id"]) if name == "resident_tags" else local["origin"]
                if owner != ctx.source:
                    foreign = owner or local["origin"]
        if not c.mutable:
            counts.unchanged += 1  # append-only: never changed
            continue
        found = len(ctx.conflicts)
        merged = _merge(c, local, row, ctx)
        if foreign is not None and (merged is not None or len(ctx.conflicts) > found):
            raise ctx.not_authorised(name, foreign)  # only an unchanged copy of another's record may pass
        if merged is None:
            counts.unchanged += 1
        elif merged == row:
            pure.append(merged)  # now exactly the source's version
        else:
            updates.append(merged)  # ours won somewhere: the source needs this back
    counts.new += len(new_rows)
    counts.updated += len(updates) + len(pure)
    written = [
        (write_remote_raw(session, c.model, fast.columns, new_rows, remote_max), len(new_rows)),
        (write_remote(session, c.model, pure, remote_max), len(pure)),
        (write_remote(session, c.model, updates, remote_max), len(updates)),
    ]
    ctx.add_echo(*written[0])
    ctx.add_echo(*written[1])
    if guard and name == "resident_tags":
        _check_written_tags(session, ctx, written)
