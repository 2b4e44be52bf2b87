"""Residents: reading them safely.  (Registration and search arrive with the
intake issue; this module holds the rules that already apply.)

ID numbers are sensitive (个人信息保护法 Art. 28, GB/T 35273): they are shown
masked everywhere, and revealing one in full needs a supervisor role and
leaves an audit line that names the resident by id only.
"""
from __future__ import annotations

import uuid

from db.engine import Database
from db.errors import ValidationError
from db.models import Resident
from desktop.services import audit
from desktop.services.context import Actor

REVEAL_ROLE = "supervisor"


def mask_document(number: str | None) -> str:
    from desktop.services.idnumbers import mask

    return mask(number or "")


def reveal_document_number(db: Database, actor: Actor, resident_id: uuid.UUID, reason: str = "") -> str:
    """The full document number, for a permitted role; every reveal is audited."""
    actor.require(REVEAL_ROLE, "查看完整证件号码")
    with db.session() as s:
        r = s.get(Resident, resident_id)
        if r is None or r.deleted:
            raise ValidationError("resident", "找不到这位居民。")
        audit.record(s, "id_reveal", actor, target_type="resident", target_id=r.id,
                     reason=(reason or "")[:100])
        return r.doc_number or ""
