"""All models, imported here so ``Base.metadata`` is complete."""
from db.models.certificates import Certificate, CertificateRefusal, CertificateType, SealLog
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
from db.models.sync import SyncBundle, SyncConflict, SyncDuplicate, SyncPeer
from db.models.visits import Visit, VisitTier
from db.models.volunteers import Assignment, Need, NeedEvent, Skill, Volunteer

__all__ = [
    "Account",
    "Assignment",
    "AuditLog",
    "CalendarDay",
    "Certificate",
    "CertificateRefusal",
    "CertificateType",
    "Matter",
    "MatterEvent",
    "MatterRating",
    "MatterType",
    "Need",
    "NeedEvent",
    "NoticeLog",
    "Rectification",
    "SealLog",
    "Skill",
    "Household",
    "LocalState",
    "Resident",
    "ResidentTag",
    "Station",
    "SyncBundle",
    "SyncConflict",
    "SyncDuplicate",
    "SyncPeer",
    "Visit",
    "VisitTier",
    "Volunteer",
]
