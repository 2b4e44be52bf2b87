"""Typed columnar decoding: a batch of new rows checked and put into the
driver's form one column at a time, by the column's declared type.

A first import brings a whole station (two million rows); checking each
value on its own (a regular expression per record id, a parse and a format
per time) was most of its cost.  Here a batch's rows become columns, and
each column is checked with a few whole-column operations that run in C:
the set of its value types, its shortest and longest text, its smallest and
largest number, one regular expression over all its ids or times joined
together, one date parse per distinct day.  What passes is exactly what the
careful per-value check (``changes.RawCodec.encode``) accepts and gives the
same values; anything else — a value of an unexpected form, a bad value,
one record twice — makes ``decode`` return None and the caller takes the
careful path, which names the row, the column and the reason.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from itertools import chain
from operator import itemgetter
from typing import Any, Callable

import orjson
from sqlalchemy import JSON, BigInteger, Boolean, Date, DateTime, Float, Integer, String, Text, Uuid

NONE = type(None)
_HEX = re.compile(r"[0-9a-f]*")  # 32 lower-case hex digits each: SQLite's own form of a UUID
# SQLite's own form of a time, as SQLAlchemy writes it (always with microseconds)
_TIMES = re.compile(r"(?:[0-9]{4}-[0-9]{2}-[0-9]{2} (?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]\.[0-9]{6})*")
_DATES = re.compile(r"(?:[0-9]{4}-[0-9]{2}-[0-9]{2})*")
_DAY = itemgetter(slice(0, 10))

Column = Sequence[Any]
Check = Callable[[Column], Column]


class Refused(Exception):
    """A column the whole-column checks do not pass: take the careful path."""


def _split(col: Column, nullable: bool) -> tuple[set[type], Column]:
    """The types of a column's values other than None, and those values
    (None only where allowed).  A column without None stays as it is: asking
    ``None in col`` would compare every value."""
    types = set(map(type, col))
    if NONE not in types:
        return types, col
    if not nullable:
        raise Refused
    types.discard(NONE)
    return types, [v for v in col if v is not None]


def _only(types: set[type], *allowed: type) -> None:
    if not types.issubset(allowed):
        raise Refused


def _text(cap: int, nullable: bool) -> Check:
    def check(col: Column) -> Column:
        types, values = _split(col, nullable)
        _only(types, str)
        if values and max(map(len, values)) > cap:
            raise Refused
        return col

    return check


def _integer(bits: int, nullable: bool) -> Check:
    lo, hi = -(1 << (bits - 1)), 1 << (bits - 1)

    def check(col: Column) -> Column:
        types, values = _split(col, nullable)
        _only(types, int)  # (not bool: type(True) is bool)
        if values and not (lo <= min(values) and max(values) < hi):
            raise Refused
        return col

    return check


def _boolean(nullable: bool) -> Check:
    def check(col: Column) -> Column:
        _only(_split(col, nullable)[0], bool)
        return col

    return check


def _float(nullable: bool) -> Check:
    def check(col: Column) -> Column:
        types, values = _split(col, nullable)
        _only(types, int, float)
        if not all(map(math.isfinite, values)):
            raise Refused
        return col if types <= {float} else [None if v is None else float(v) for v in col]

    return check


def _sqlite_uuid(nullable: bool) -> Check:
    def check(col: Column) -> Column:
        types, values = _split(col, nullable)
        _only(types, str)
        if values and (set(map(len, values)) != {32} or not _HEX.fullmatch("".join(values))):
            raise Refused
        return col  # already SQLite's form

    return check


def _real_days(days: set[str]) -> None:
    """Each ``YYYY-MM-DD`` (digits already checked) is a day of the calendar."""
    try:
        for d in days:
            date.fromisoformat(d)
    except ValueError:
        raise Refused from None


def _sqlite_datetime(nullable: bool) -> Check:
    def check(col: Column) -> Column:
        types, values = _split(col, nullable)
        _only(types, str)
        if values:
            if set(map(len, values)) != {26} or not _TIMES.fullmatch("".join(values)):
                raise Refused
            _real_days(set(map(_DAY, values)))
        return col  # parsed and written back, each would be itself

    return check


def _sqlite_date(nullable: bool) -> Check:
    def check(col: Column) -> Column:
        types, values = _split(col, nullable)
        _only(types, str)
        if values:
            if set(map(len, values)) != {10} or not _DATES.fullmatch("".join(values)):
                raise Refused
            _real_days(set(values))
        return col

    return check


def _json(nullable: bool) -> Check:
    dumps = orjson.dumps

    def check(col: Column) -> Column:
        if NONE in set(map(type, col)):
            if not nullable:
                raise Refused
            return [None if v is None else dumps(v).decode() for v in col]
        return [dumps(v).decode() for v in col]

    return check


def _each(encode: Callable[[Any], Any], nullable: bool) -> Check:
    """The per-value encoder over the column (forms the checks above do not
    take, e.g. times sent by a PostgreSQL station or written for one)."""

    def check(col: Column) -> Column:
        _split(col, nullable)
        try:
            return [None if v is None else encode(v) for v in col]
        except (ValueError, TypeError, OverflowError):
            raise Refused from None

    return check


def column_check(col: Any, encode: Callable[[Any], Any], sqlite: bool, max_text: int) -> tuple[Check, Check]:
    """The whole-column check for a table column, and the per-value one to
    fall back on when a column's values are of another form."""
    t, null = col.type, bool(col.nullable)
    each = _each(encode, null)
    if isinstance(t, Uuid):
        return (_sqlite_uuid(null) if sqlite else each), each
    if isinstance(t, DateTime):
        return (_sqlite_datetime(null) if sqlite else each), each
    if isinstance(t, Date):
        return (_sqlite_date(null) if sqlite else each), each
    if isinstance(t, Boolean):
        return _boolean(null), each
    if isinstance(t, BigInteger):
        return _integer(64, null), each
    if isinstance(t, Integer):
        return _integer(32, null), each
    if isinstance(t, Float):
        return _float(null), each
    if isinstance(t, JSON):
        return _json(null), each
    if isinstance(t, (String, Text)):
        return _text(getattr(t, "length", None) or max_text, null), each
    return each, each


def _stamps(values: Column, limit: int) -> None:
    """Clock stamps: true integers from 0 to ``limit`` (``db.clock.valid_stamp``)."""
    _only(set(map(type, values)), int)
    if values and not (0 <= min(values) and max(values) <= limit):
        raise Refused


@dataclass(frozen=True)
class ColumnCodec:
    """One table's columns (in ``RawCodec.columns`` order) and their checks."""

    columns: tuple[str, ...]
    checks: tuple[tuple[Check, Check], ...]
    mutable: bool

    def decode(self, raws: Sequence[Any], limit: int) -> tuple[list[Column], dict[str, Column]] | None:
        """New rows column by column (``columns`` order, in the driver's
        form: ``db.writes.write_remote_columns``) and the raw columns by
        name, or None: take the careful path."""
        names = self.columns
        if not raws:
            return None
        try:
            if set(map(tuple, raws)) == {names}:  # every row's columns, in order (as an export writes them)
                by_row = map(dict.values, raws)
            else:
                by_row = map(itemgetter(*names), raws)  # every column there (KeyError: one missing)
                if set(map(len, raws)) != {len(names)}:  # ... and no other
                    return None
            raw_cols: dict[str, Column] = dict(zip(names, zip(*by_row, strict=True), strict=True))
        except (KeyError, TypeError):  # (TypeError: not an object)
            return None
        try:
            out = []
            for name, (check, each) in zip(names, self.checks, strict=True):
                try:
                    out.append(check(raw_cols[name]))
                except Refused:
                    out.append(each(raw_cols[name]))
            # the identity every travelling row carries (changes.check_identity, check_clocks)
            if not all(raw_cols["origin"]):
                raise Refused
            _stamps(raw_cols["hlc"], limit)
            for name in ("clock_a", "clock_b"):
                if name in raw_cols:
                    _stamps(raw_cols[name], limit)
            if self.mutable:
                clocks = raw_cols["field_clocks"]
                _only(set(map(type, clocks)), dict)
                _only(set(map(type, chain.from_iterable(clocks))), str)
                _stamps(list(chain.from_iterable(map(dict.values, clocks))), limit)
            if len(set(raw_cols["id"])) != len(raws):  # one record twice: the careful path keeps the later one
                raise Refused
        except (Refused, ValueError, TypeError, OverflowError):
            return None
        return out, raw_cols
