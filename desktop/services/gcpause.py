"""The cyclic garbage collector paused while a big read builds its results.

A month's report or a first sync import creates hundreds of thousands of
small objects that stay alive until the work ends; every few thousand
allocations the collector walks all of them again (35–40 % of the visit
schedule's time, measured).  Reference counting still frees everything that
is dropped, so pausing only postpones cycles to the end of the work.

Process-wide, so counted: the collector comes back when the last of
several overlapping pauses (threads, nesting) ends, and only if it was on
before the first."""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_depth = 0
_was_enabled = False


@contextmanager
def paused() -> Iterator[None]:
    global _depth, _was_enabled
    with _lock:
        if _depth == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0 and _was_enabled:
                gc.enable()
