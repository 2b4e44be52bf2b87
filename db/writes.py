"""The one place that maintains sync identity.

Every ORM flush passes through ``_stamp_flush``: new and changed rows of
``Synced`` tables get the station's origin code, a fresh hybrid-logical-clock
stamp and the next local change sequence numbers; changed fields of
``Mutable`` rows get their field clocks.  Deleting a synced row, changing an
append-only row, or bypassing the flush with an ORM bulk UPDATE/DELETE raises
``SyncRuleViolation``, so no caller can forget the rules.

The clock and the sequence are advanced with one ``UPDATE local_state ...
RETURNING`` inside the flush's transaction.  That row lock serialises writers,
so sequence numbers become visible in commit order and a peer's watermark on
``seq`` never skips a row committed late (a plain database sequence would
allow that on PostgreSQL).

Rows that arrive from another station (sync import) keep their own ``origin``,
``hlc`` and field clocks: set ``session.info[APPLYING_REMOTE] = True``; they
still get a local ``seq`` and the local clock moves past their stamps — never
past ``db.clock.ceiling()`` (a day ahead of this PC's clock), so a poisoned
stamp cannot push the clock out of its 63 bits.

``bulk_insert`` is the fast path for many new rows (demo data, ledger import);
it stamps the rows the same way.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Iterable, Sequence, cast

from sqlalchemy import Table, event, insert, inspect, text
from sqlalchemy.orm import ORMExecuteState, Session
from sqlalchemy.sql.schema import ScalarElementColumnDefault

from db import clock
from db.base import SYNC_COLUMNS, Mutable, Synced, table_of

APPLYING_REMOTE = "applying_remote"
_STAMPED = "sync_stamped"


class SyncRuleViolation(RuntimeError):
    """A write that would break sync identity (a programming error)."""


class NoStation(RuntimeError):
    """Rows cannot be written before the station is set up."""


_ADVANCE = text(
    "UPDATE local_state SET seq = seq + :n, "
    "hlc = CASE WHEN hlc < :candidate THEN :candidate ELSE hlc + 1 END "
    "WHERE id = 1 RETURNING seq, hlc, station_code"
)


def advance(session: Session, n: int, remote_max: int = 0) -> tuple[int, int, str | None]:
    """Reserve ``n`` sequence numbers and one clock stamp.

    Returns ``(first_seq, stamp, station_code)``.
    """
    wall = clock.wall_clock_ms()
    if not clock.valid_stamp(remote_max, clock.ceiling(wall_ms=wall)):
        # The sync import refuses such stamps first (with a message); this
        # keeps any other path from poisoning the clock for good.
        raise SyncRuleViolation(f"remote clock {remote_max!r} is beyond the accepted skew")
    candidate = clock.from_wall(wall)
    if remote_max >= candidate:
        candidate = remote_max + 1
    row = session.connection().execute(_ADVANCE, {"n": n, "candidate": candidate}).one()
    last_seq, stamp, code = row
    return last_seq - n + 1, stamp, code


def _changed_fields(obj: Any) -> list[str]:
    state = inspect(obj)
    changed = []
    for attr in state.mapper.column_attrs:
        key = attr.key
        if key in SYNC_COLUMNS:
            continue
        if state.attrs[key].history.has_changes():
            changed.append(key)
    return changed


@event.listens_for(Session, "before_flush")
def _stamp_flush(session: Session, flush_context: Any, instances: Any) -> None:
    for obj in session.deleted:
        if isinstance(obj, Synced):
            raise SyncRuleViolation(f"{type(obj).__name__} rows are never deleted; call retire() to tombstone")
    new = [o for o in session.new if isinstance(o, Synced)]
    dirty: list[tuple[Any, list[str]]] = []
    for obj in session.dirty:
        if not isinstance(obj, Synced):
            continue
        fields = _changed_fields(obj)
        deleted_changed = inspect(obj).attrs["deleted"].history.has_changes()
        if not fields and not deleted_changed:
            continue
        if obj.__append_only__:
            raise SyncRuleViolation(f"{type(obj).__name__} is append-only; add a correcting row")
        if deleted_changed:
            fields.append("deleted")
        dirty.append((obj, fields))
    if not new and not dirty:
        return

    remote = bool(session.info.get(APPLYING_REMOTE))
    remote_max = max((o.hlc or 0 for o in new), default=0) if remote else 0
    if remote:
        remote_max = max([remote_max, *((o.hlc or 0) for o, _ in dirty)])
    first_seq, stamp, station = advance(session, len(new) + len(dirty), remote_max)
    seq = first_seq
    for obj in new:
        obj.seq = seq
        seq += 1
        if obj.id is None:
            obj.id = clock.new_id()
        if obj.deleted is None:
            obj.deleted = False
        if remote:
            if obj.hlc is None or not obj.origin:
                raise SyncRuleViolation("a remote row must carry its origin and clock")
            continue
        if not obj.origin:
            if station is None:
                raise NoStation("the station is not set up yet")
            obj.origin = station
        obj.hlc = stamp
        if isinstance(obj, Mutable) and obj.field_clocks is None:
            obj.field_clocks = {}
    for obj, fields in dirty:
        obj.seq = seq
        seq += 1
        if remote:
            continue
        obj.hlc = stamp
        if isinstance(obj, Mutable):
            clocks = dict(obj.field_clocks or {})
            for f in fields:
                clocks[f] = stamp
            obj.field_clocks = clocks


@event.listens_for(Session, "do_orm_execute")
def _guard_bulk(state: ORMExecuteState) -> None:
    if not (state.is_update or state.is_delete or state.is_insert):
        return
    table = getattr(state.statement, "table", None)
    name = getattr(table, "name", None)
    if name not in _synced_tables():
        return
    if state.is_insert and state.execution_options.get(_STAMPED):
        return
    raise SyncRuleViolation(
        f"bulk writes to {name} bypass sync stamping; change objects through the session or use db.writes.bulk_insert"
    )


@lru_cache(maxsize=1)
def _synced_tables() -> frozenset[str]:
    from db.base import Base

    return frozenset(cast(Table, m.local_table).name for m in Base.registry.mappers if issubclass(m.class_, Synced))


def bulk_insert(session: Session, model: type[Synced], rows: Sequence[dict[str, Any]]) -> list[Any]:
    """Insert many new rows of ``model`` quickly, stamped like a flush would.

    Rows may carry their own ``id``; the ids are returned in order.
    """
    if not rows:
        return []
    session.flush()
    first_seq, stamp, station = advance(session, len(rows))
    if station is None:
        raise NoStation("the station is not set up yet")
    ids = []
    prepared: list[dict[str, Any]] = []
    for i, row in enumerate(rows):
        r = dict(row)
        r.setdefault("id", clock.new_id())
        r.setdefault("origin", station)
        r.setdefault("deleted", False)
        r["hlc"] = stamp
        r["seq"] = first_seq + i
        if issubclass(model, Mutable):
            r.setdefault("field_clocks", {})
        ids.append(r["id"])
        prepared.append(r)
    # A Core insert on the table: one executemany for the whole batch (the ORM
    # bulk path splits rows into groups by which values are None).
    table = table_of(model)
    columns = {c.key for c in table.columns}
    for r in prepared:
        for key in columns - r.keys():
            default = table.c[key].default
            r[key] = default.arg if isinstance(default, ScalarElementColumnDefault) else None
    session.execute(insert(table).execution_options(**{_STAMPED: True}), prepared)
    return ids


def write_remote(session: Session, model: type[Synced], updates: Sequence[dict[str, Any]], remote_max: int) -> int:
    """Replace stored rows (matched by ``id``) with rows merged from another
    station's (sync import).  They keep their own origin, clock and field
    clocks; each gets the next local ``seq`` (so it travels on to other
    peers) and the local clock moves past ``remote_max``.  Returns the first
    of the consecutive sequence numbers they got, 0 when there were none.
    New rows go through ``write_remote_raw``."""
    if not updates:
        return 0
    from sqlalchemy import bindparam, update

    session.flush()
    first_seq, _stamp, _station = advance(session, len(updates), remote_max)
    table = table_of(model)
    cols = [c for c in updates[0] if c not in ("id", "seq")] + ["seq"]
    params = []
    for i, r in enumerate(updates):
        r["seq"] = first_seq + i
        params.append({"k_id": r["id"], **{"v_" + c: r[c] for c in cols}})
    # Bind names differ from the column names (SQLAlchemy reserves those in SET).
    stmt = update(table).where(table.c.id == bindparam("k_id")).values({c: bindparam("v_" + c) for c in cols})
    # Core executemany on the connection: the ORM's bulk-update path wants mapped attributes.
    session.connection().execute(stmt, params)
    return first_seq


def _insert_raw(
    session: Session, model: type[Synced], columns: Sequence[str], n: int, remote_max: int
) -> tuple[Any, str, int]:
    """Reserve ``n`` sequence numbers for new remote rows: the connection,
    the driver-level INSERT of ``columns`` and ``seq``, and the first number."""
    session.flush()
    first_seq, _stamp, _station = advance(session, n, remote_max)
    conn = session.connection()
    dialect = conn.dialect
    q = dialect.identifier_preparer.quote
    mark = "?" if dialect.paramstyle == "qmark" else "%s"
    names = [*columns, "seq"]
    sql = (
        f"INSERT INTO {q(table_of(model).name)} ({', '.join(q(c) for c in names)}) "
        f"VALUES ({', '.join([mark] * len(names))})"
    )
    return conn, sql, first_seq


def write_remote_raw(
    session: Session, model: type[Synced], columns: Sequence[str], rows: Sequence[Sequence[Any]], remote_max: int
) -> int:
    """``write_remote`` for new rows already in the driver's own form (the
    fast path of a sync import into an empty table: no per-value type
    processing).  ``rows`` are sequences in ``columns`` order without
    ``seq``; returns the first sequence number they got, 0 for none."""
    if not rows:
        return 0
    conn, sql, first_seq = _insert_raw(session, model, columns, len(rows), remote_max)
    conn.exec_driver_sql(sql, [(*r, first_seq + i) for i, r in enumerate(rows)])
    return first_seq


def write_remote_columns(
    session: Session, model: type[Synced], columns: Sequence[str], values: Sequence[Sequence[Any]], remote_max: int
) -> int:
    """``write_remote_raw`` for new rows given column by column: ``values[i]``
    holds column ``columns[i]`` of every row.  Each row's parameters are
    made once, straight from the columns and the sequence numbers."""
    if len(values) != len(columns):
        raise ValueError(f"{len(values)} columns of values for {len(columns)} columns")
    n = len(values[0]) if values else 0
    if not n:
        return 0
    conn, sql, first_seq = _insert_raw(session, model, columns, n, remote_max)
    conn.exec_driver_sql(sql, list(zip(*values, range(first_seq, first_seq + n), strict=True)))
    return first_seq


def changed_since(session: Session, model: type[Synced], watermark: int) -> Iterable[Any]:
    """Rows of ``model`` changed locally after ``watermark`` (for sync export)."""
    from sqlalchemy import select

    return session.scalars(select(model).where(model.seq > watermark).order_by(model.seq))
