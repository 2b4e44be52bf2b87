"""Hybrid logical clock (HLC) stamps and UUIDv7 keys.

A stamp is one 64-bit integer: the upper bits are milliseconds since the Unix
epoch, the lower 16 bits a logical counter.  Comparing two stamps as integers
orders them as an HLC does: by physical time, then by counter.  The next stamp
is ``max(wall << 16, last + 1)``, so stamps never go backwards even when the
wall clock steps back (an NTP correction, a wrong BIOS clock on an old station
PC), and ``observe`` moves the clock past a stamp received from another
station so that a change made after an import always sorts after it.

The last issued stamp lives in the database (``local_state.hlc``), so the
clock stays monotonic across restarts; see ``db.writes``.
"""

from __future__ import annotations

import time
import uuid
from datetime import datetime, timezone
from typing import Callable

LOGICAL_BITS = 16
LOGICAL_MASK = (1 << LOGICAL_BITS) - 1
# The largest stamp a signed 64-bit column holds (SQLite INTEGER, PostgreSQL
# BIGINT).  One more and SQLite silently stores a float.
MAX_STAMP = (1 << 63) - 1
# How far ahead of this PC's clock a stamp from another station may be.  PC
# clocks drift by minutes; a day covers a wrong time zone and a clock set by
# hand.  A stamp further ahead would drag every later change here (and at
# every station it travels to) into the future, and win every merge; one
# near MAX_STAMP would leave no stamps to issue at all.
MAX_SKEW_MS = 24 * 3600 * 1000

# Replaceable in tests to simulate a wall clock that steps back.
wall_clock_ms: Callable[[], int] = lambda: time.time_ns() // 1_000_000  # noqa: E731


def from_wall(ms: int) -> int:
    return ms << LOGICAL_BITS


def next_stamp(last: int, wall_ms: int | None = None) -> int:
    """The stamp after ``last`` for a local event."""
    pt = from_wall(wall_clock_ms() if wall_ms is None else wall_ms)
    return pt if pt > last else last + 1


def observe(last: int, remote: int, wall_ms: int | None = None) -> int:
    """The stamp after receiving ``remote`` from a peer."""
    return next_stamp(max(last, remote), wall_ms)


def ceiling(skew_ms: int = MAX_SKEW_MS, wall_ms: int | None = None) -> int:
    """The latest stamp accepted from another station now: ``skew_ms`` past
    this PC's clock (and never past ``MAX_STAMP``)."""
    ms = (wall_clock_ms() if wall_ms is None else wall_ms) + skew_ms
    return min(MAX_STAMP, from_wall(ms) | LOGICAL_MASK)


def valid_stamp(v: object, limit: int) -> bool:
    """A stamp as it must arrive: a true integer (not a float, a bool or text)
    from 0 to ``limit``."""
    return type(v) is int and 0 <= v <= limit


def physical_ms(stamp: int) -> int:
    return stamp >> LOGICAL_BITS


def logical(stamp: int) -> int:
    return stamp & LOGICAL_MASK


def to_datetime(stamp: int) -> datetime:
    return datetime.fromtimestamp(physical_ms(stamp) / 1000, tz=timezone.utc)


def new_id() -> uuid.UUID:
    """A UUIDv7: random enough to be unique across stations, time-ordered so
    B-tree inserts stay local and ids sort roughly by creation."""
    from uuid6 import uuid7

    return uuid7()


def utcnow() -> datetime:
    """Naive UTC, the form every DateTime column stores."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


_SEED_NAMESPACE = uuid.UUID("6f1d3c2e-9a4b-5e7f-8c21-0d3b5a7e9f10")


def shared_id(table: str, key: str) -> uuid.UUID:
    """The id of a shared catalogue entry (a matter, certificate type, skill
    or holiday from the shipped or the province's file): the same at every
    station, so the hub's update of an entry reaches the stations' copies
    instead of adding a second one."""
    return uuid.uuid5(_SEED_NAMESPACE, f"{table}:{key}")
