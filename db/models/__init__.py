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
from db.models.proxy import ProxyAgent, ProxyCase
from db.models.postings import DeptRequest, Posting, WorkItem
from db.models.residents import Household, Resident, ResidentTag
from db.models.rota import Absence, ServiceArea, Shift
from db.models.sync import SyncBundle, SyncConflict, SyncDuplicate, SyncPeer
from db.models.visits import Visit, VisitTier
from db.models.volunteers import Assignment, Need, NeedEvent, Skill, Volunteer
from db.models.wishes import PartyReport, Wish, WishClaim

__all__ = [
    "Absence",
    "ServiceArea",
    "Shift",
    "Account",
    "Assignment",
    "AuditLog",
    "CalendarDay",
    "Certificate",
    "CertificateRefusal",
    "CertificateType",
    "DeptRequest",
    "Matter",
    "MatterEvent",
    "MatterRating",
    "MatterType",
    "Need",
    "NeedEvent",
    "NoticeLog",
    "ProxyAgent",
    "ProxyCase",
    "Posting",
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
    "WorkItem",
    "PartyReport",
    "Wish",
    "WishClaim",
]
