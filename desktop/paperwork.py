"""Builds the counter's documents from service data: the one place that
knows both the services and the document layouts (the window, the CLI and
the benchmarks all print through here)."""
from __future__ import annotations

import uuid
from datetime import date, timezone

from db.engine import Database
from desktop.documents import counter_docs, fonts, pdf
from desktop.documents.layout import Document
from desktop.services import accounts, counter


def _station(db: Database) -> accounts.StationInfo:
    info = accounts.station_info(db)
    assert info is not None
    return info


def receipt_document(db: Database, matter_id: uuid.UUID, layout: str = "A4",
                     font: fonts.Font | None = None) -> Document:
    d = counter.get(db, matter_id)
    types = {t.id: t for t in counter.catalogue(db, include_inactive=True)}
    t = types.get(d.matter_type_id)
    copies = {m.name: m.copies for m in t.materials} if t else {}
    st = _station(db)
    info = counter_docs.ReceiptInfo(
        station_name=st.name, station_phone=st.phone or "", receipt_no=d.receipt_no,
        resident_name=d.resident_name, resident_doc_masked=d.resident_doc_masked, matter_name=d.matter_name,
        mode_label=t.mode_label if t else "", channel_label=counter.CHANNELS.get(d.channel, d.channel),
        materials=[(m, copies.get(m, 1)) for m in d.materials],
        accepted_at=d.accepted_at.replace(tzinfo=timezone.utc).astimezone().replace(tzinfo=None),
        worker_name=d.accepted_by, promised_date=d.promised_date, promised_days=t.promised_days if t else 0,
    )
    return counter_docs.receipt(info, font or fonts.resolve(), layout)


def notice_document(db: Database, matter_type_id: uuid.UUID, *, notice_no: str = "", resident_name: str = "",
                    missing: list[str] | None = None, reason: str = "", worker_name: str = "",
                    layout: str = "A4", font: fonts.Font | None = None) -> Document:
    t = next(m for m in counter.catalogue(db, include_inactive=True) if m.id == matter_type_id)
    st = _station(db)
    missing = missing or []
    info = counter_docs.NoticeInfo(
        station_name=st.name, station_phone=st.phone or "", notice_no=notice_no or "（咨询）",
        matter_name=t.name, mode_label=t.mode_label, basis=t.basis, conditions=t.conditions, process=t.process,
        fee=t.fee, promised_days=t.promised_days,
        materials=[counter_docs.NoticeMaterial(m.name, m.required, m.copies, m.source, m.name in missing)
                   for m in t.materials],
        resident_name=resident_name, reason=reason, worker_name=worker_name, day=date.today(),
    )
    return counter_docs.notice(info, font or fonts.resolve(), layout)


def write_pdf(doc: Document, path, font: fonts.Font | None = None):  # type: ignore[no-untyped-def]
    return pdf.save(pdf.render(doc, font or fonts.resolve()), path)
