"""The one list of report sections.  ``build()``, ``matching()`` and
``records()`` iterate it; nothing else names a section."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

from .base import ReportSection
from .certificates import CertificatesSection
from .comparison import ComparisonSection
from .counter import CounterSection
from .proxy import ProxySection
from .lists import ListsSection
from .residents import ResidentsSection
from .rota import RotaSection
from .satisfaction import SatisfactionSection
from .visits import VisitsSection
from .volunteers import VolunteersSection
from .wishes import WishesSection

# In report order; a new section goes before ComparisonSection, which stays last.
SECTIONS: list[ReportSection] = [
    CounterSection(),
    SatisfactionSection(),
    CertificatesSection(),
    VolunteersSection(),
    WishesSection(),
    VisitsSection(),
    ResidentsSection(),
    RotaSection(),
    ProxySection(),
    ListsSection(),
    ComparisonSection(),
]


def owner(kind: str) -> ReportSection | None:
    """The registered section that owns the drill kind ``kind``."""
    return next((s for s in SECTIONS if kind in s.kinds), None)


@contextmanager
def registered(section: ReportSection, before: str | None = "comparison") -> Iterator[ReportSection]:
    """``section`` in ``SECTIONS`` (before the section keyed ``before``, or
    last) for the duration of the block — for tests and experiments; a real
    section is added to the list above."""
    if any(s.key == section.key for s in SECTIONS):
        raise ValueError(f"a report section keyed {section.key!r} is already registered")
    taken = {k for s in SECTIONS for k in s.kinds} & set(section.kinds)
    if taken:
        raise ValueError(f"drill kinds already owned: {sorted(taken)}")
    at = next((i for i, s in enumerate(SECTIONS) if s.key == before), len(SECTIONS))
    SECTIONS.insert(at, section)
    try:
        yield section
    finally:
        SECTIONS.remove(section)


def _check(sections: list[ReportSection]) -> None:
    """Keys and drill kinds are unique: a drill finds exactly one owner."""
    keys = [s.key for s in sections]
    kinds = [k for s in sections for k in s.kinds]
    if len(set(keys)) != len(keys) or len(set(kinds)) != len(kinds) or not all(keys):
        raise ValueError(f"report sections clash: keys {keys}, drill kinds {kinds}")


_check(SECTIONS)
