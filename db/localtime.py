"""Stored times and the station's local time: the one place that converts.

Every timestamp in the database is naive UTC (``db.clock.utcnow``); the
window, the papers and the report speak the station's local time and local
dates.  China keeps no daylight saving time, but the conversion goes through
the operating system's zone for each value, so a PC set to another zone still
prints what its clock shows.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from typing import overload


@overload
def to_local(utc_naive: datetime) -> datetime: ...
@overload
def to_local(utc_naive: None) -> None: ...


def to_local(utc_naive: datetime | None) -> datetime | None:
    """A stored (naive UTC) time as naive local time; None stays None."""
    if utc_naive is None:
        return None
    return utc_naive.replace(tzinfo=timezone.utc).astimezone().replace(tzinfo=None)


def to_utc(local_naive: datetime) -> datetime:
    """A naive local time as naive UTC, as it is stored."""
    return local_naive.astimezone().astimezone(timezone.utc).replace(tzinfo=None)


def day_start_utc(d: date) -> datetime:
    """The stored (naive UTC) time of local midnight at the start of ``d``."""
    return to_utc(datetime.combine(d, datetime.min.time()))


def local_date(utc_naive: datetime) -> date:
    """The local date of a stored time."""
    return to_local(utc_naive).date()


def utc_offset() -> timedelta:
    """The station's current UTC offset."""
    return datetime.now().astimezone().utcoffset() or timedelta(0)
