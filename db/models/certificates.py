"""Certificates (开具证明): the catalogue (retained, abolished, 据实出具),
issued certificates with gapless serials, the seal register and refusals."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from db.base import AppendOnly, Base, Mutable


class CertificateType(Mutable, Base):
    """An entry of the certificate catalogue: ``retained`` (may issue),
    ``abolished`` (must refuse, with a redirect) or ``factual`` (据实出具)."""

    __tablename__ = "certificate_types"

    code: Mapped[str] = mapped_column(String(32), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(64))
    aliases: Mapped[str | None] = mapped_column(String(200))
    purpose: Mapped[str | None] = mapped_column(Text)
    basis: Mapped[str | None] = mapped_column(Text)
    redirect: Mapped[str | None] = mapped_column(Text)
    needs_approval: Mapped[bool] = mapped_column(Boolean, default=False)
    materials: Mapped[list[Any]] = mapped_column(default=list)
    # [{"key", "label", "required"}]: the type's own fields besides the resident's
    fields: Mapped[list[Any]] = mapped_column(default=list)
    title: Mapped[str | None] = mapped_column(String(64))
    body: Mapped[str | None] = mapped_column(Text)
    seal: Mapped[str | None] = mapped_column(String(32))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    local: Mapped[bool] = mapped_column(Boolean, default=False)
    sort: Mapped[int] = mapped_column(Integer, default=0)


class Certificate(Mutable, Base):
    """A certificate requested, issued, voided. The serial is taken when it is
    issued, so a request turned down leaves no gap; a voided one keeps its."""

    __tablename__ = "certificates"
    __table_args__ = (UniqueConstraint("origin", "year", "number"),)

    type_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("certificate_types.id"), index=True)
    type_name: Mapped[str] = mapped_column(String(64))
    resident_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("residents.id"), index=True)
    # pending (待审批) | issued | voided | declined (审批未通过)
    status: Mapped[str] = mapped_column(String(12), index=True)
    year: Mapped[int | None] = mapped_column(Integer)
    number: Mapped[int | None] = mapped_column(Integer)  # the serial's running number in its year
    serial: Mapped[str | None] = mapped_column(String(48), unique=True)
    title: Mapped[str] = mapped_column(String(64))
    body: Mapped[str] = mapped_column(Text)  # the text as printed (ID number masked)
    field_values: Mapped[dict[str, Any]] = mapped_column(default=dict)  # purpose and the type's fields
    materials_seen: Mapped[list[Any]] = mapped_column(default=list)
    copies: Mapped[int] = mapped_column(Integer, default=1)
    reason: Mapped[str | None] = mapped_column(Text)  # why a 据实出具 was needed
    requested_at: Mapped[datetime] = mapped_column(DateTime, index=True)
    handler_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    handler_name: Mapped[str] = mapped_column(String(32))
    approver_name: Mapped[str | None] = mapped_column(String(32))
    issued_at: Mapped[datetime | None] = mapped_column(DateTime, index=True)
    voided_at: Mapped[datetime | None] = mapped_column(DateTime, index=True)
    voided_by: Mapped[str | None] = mapped_column(String(32))
    void_reason: Mapped[str | None] = mapped_column(Text)
    replaces_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, index=True)
    replaced_by_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)


class SealLog(AppendOnly, Base):
    """用印登记: one line for every stamped document."""

    __tablename__ = "seal_log"

    at: Mapped[datetime] = mapped_column(DateTime, index=True)
    certificate_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("certificates.id"), index=True)
    content: Mapped[str] = mapped_column(String(200))
    seal: Mapped[str] = mapped_column(String(32))
    copies: Mapped[int] = mapped_column(Integer)
    approver_name: Mapped[str | None] = mapped_column(String(32))
    handler_name: Mapped[str] = mapped_column(String(32))
    applicant_name: Mapped[str] = mapped_column(String(64))
    applicant_phone: Mapped[str | None] = mapped_column(String(32))
    # the paper's number when it is not a certificate of the ledger (志愿服务记录证明)
    serial: Mapped[str | None] = mapped_column(String(48), index=True)


class CertificateRefusal(AppendOnly, Base):
    """A request for an abolished certificate, turned away with a pointer."""

    __tablename__ = "certificate_refusals"

    at: Mapped[datetime] = mapped_column(DateTime, index=True)
    type_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("certificate_types.id"), index=True)
    type_name: Mapped[str] = mapped_column(String(64))
    resident_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("residents.id"), index=True)
    actor_name: Mapped[str] = mapped_column(String(32))
    note: Mapped[str | None] = mapped_column(Text)
    # the notice's number: 〔2026〕幸福告字第0001号, per station and year
    year: Mapped[int | None] = mapped_column(Integer)
    number: Mapped[int | None] = mapped_column(Integer)
