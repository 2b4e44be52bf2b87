"""How report values read on screen and on paper.

Kept apart from the layouts so the window can format figures without
importing reportlab at start-up (the report page is built with the main
window; reportlab loads only when a document is made).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any


def format_value(v: Any, fmt: str = "") -> str:
    """How a figure reads on screen and on paper."""
    if v is None:
        return "—"
    if fmt == "pct":
        return f"{v * 100:.1f}%"
    if fmt in ("days", "hours"):
        return f"{v:g}" if isinstance(v, (int, float)) else str(v)
    if isinstance(v, bool):
        return "是" if v else "否"
    if isinstance(v, datetime):
        return v.strftime("%Y-%m-%d %H:%M")
    if isinstance(v, date):
        return v.strftime("%Y-%m-%d")
    if isinstance(v, float):
        return f"{v:g}"
    return str(v)


def figure_text(f: Any) -> str:
    return format_value(f.value, f.fmt) + (f" {f.unit}" if f.unit and f.value is not None else "")
