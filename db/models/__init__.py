"""All models, imported here so ``Base.metadata`` is complete."""
from db.models.core import Account, AuditLog, LocalState, Station
from db.models.counter import (
    CalendarDay,
    Matter,
    MatterEvent,
    MatterRating,
    MatterType,
    NoticeLog,
    Rectification,
)
from db.models.residents import Household, Resident, ResidentTag

__all__ = [
    "Account",
    "AuditLog",
    "CalendarDay",
    "Matter",
    "MatterEvent",
    "MatterRating",
    "MatterType",
    "NoticeLog",
    "Rectification",
    "Household",
    "LocalState",
    "Resident",
    "ResidentTag",
    "Station",
]
