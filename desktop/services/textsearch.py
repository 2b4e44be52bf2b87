"""Typed text in a ``LIKE '%…%'`` search, safely: ``%``, ``_`` and ``\\``
match themselves (escaped), NUL is dropped (PostgreSQL refuses it in a
string), and a query longer than anyone types is refused with a clear
message instead of reaching the database."""

from __future__ import annotations

from typing import Any

from db.errors import StationDeskError

MAX_QUERY = 100  # characters: more than any name, address or number typed into a search box
ESCAPE = "\\"


class QueryTooLong(StationDeskError):
    user_message = f"搜索内容太长（最多 {MAX_QUERY} 个字），请缩短后再搜索。"

    def __init__(self) -> None:
        super().__init__("search text too long")


def clean_query(text: str | None) -> str:
    """The typed text with NUL dropped and runs of whitespace as one space;
    raises ``QueryTooLong`` past ``MAX_QUERY`` characters."""
    t = " ".join((text or "").replace("\x00", "").split())
    if len(t) > MAX_QUERY:
        raise QueryTooLong()
    return t


def like_pattern(text: str) -> str:
    """``%text%`` with LIKE's wildcards in ``text`` escaped."""
    t = text.replace(ESCAPE, ESCAPE * 2).replace("%", ESCAPE + "%").replace("_", ESCAPE + "_")
    return f"%{t}%"


def contains(column: Any, text: str) -> Any:
    """``column LIKE '%text%'`` where ``text`` (already ``clean_query``-ed) is literal."""
    return column.like(like_pattern(text), escape=ESCAPE)
