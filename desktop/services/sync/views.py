"""What the 数据交换 page, the CLI and the tests see of sync: plain frozen
records, no Qt, no ORM objects."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable

# progress(done, total, label): called from the worker thread while a bundle
# is written or applied; ``total`` is 0 when not known yet.
Progress = Callable[[int, int, str], None]

ROLE_LABELS = {"station": "站点", "hub": "街道（汇总端）"}


@dataclass(frozen=True)
class PeerView:
    code: str
    name: str
    role: str  # station | hub
    fingerprint: str
    revoked: bool
    trusted_at: datetime
    trusted_by: str
    last_export_at: datetime | None
    last_import_at: datetime | None
    pending: int  # rows changed here that this peer has not been sent yet
    unconfirmed: bool  # sent, but the peer has not yet confirmed receiving it

    @property
    def role_label(self) -> str:
        return ROLE_LABELS.get(self.role, self.role)


@dataclass(frozen=True)
class ExportResult:
    bundle_id: uuid.UUID
    path: str
    target: str
    full: bool
    rows: int
    counts: dict[str, int]  # table → rows
    size: int  # bytes on disk
    seconds: float


@dataclass(frozen=True)
class ImportResult:
    bundle_id: uuid.UUID
    source: str
    source_name: str
    already: bool  # this bundle had been imported before: nothing changed
    new: int
    updated: int
    unchanged: int
    conflicts: int  # conflicts found by this import
    duplicates: int  # possible duplicate residents flagged by this import
    counts: dict[str, dict[str, int]] = field(default_factory=dict)  # table → {new, updated, unchanged}
    backup: str | None = None  # the backup taken before applying (SQLite)
    seconds: float = 0.0

    def as_json(self) -> dict[str, Any]:
        return {
            "bundle_id": str(self.bundle_id),
            "source": self.source,
            "already": self.already,
            "new": self.new,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "conflicts": self.conflicts,
            "duplicates": self.duplicates,
            "tables": self.counts,
            "backup": self.backup,
            "seconds": round(self.seconds, 3),
        }


@dataclass(frozen=True)
class BundleView:
    bundle_id: uuid.UUID
    direction: str  # out | in
    peer: str
    peer_name: str
    at: datetime  # local time
    by: str
    file_name: str
    full: bool
    rows: int
    size: int
    counts: dict[str, Any]

    @property
    def direction_label(self) -> str:
        return "导出" if self.direction == "out" else "导入"


@dataclass(frozen=True)
class ConflictSide:
    value: str  # as a person reads it ("（空）" for nothing)
    station: str  # station code
    station_name: str
    at: datetime  # local time of the change
    by: str = ""  # the worker, when that station's audit line for the change is here


@dataclass(frozen=True)
class ConflictView:
    id: uuid.UUID
    table: str
    table_label: str  # 居民 / 户 / 事项 ...
    row_id: uuid.UUID
    record_label: str  # e.g. the resident's name (never an ID number)
    field: str
    field_label: str  # 联系电话 ...
    a: ConflictSide  # the value in force (the later change)
    b: ConflictSide  # the value that lost
    current: str  # the value the record holds now
    status: str  # open | kept_a | kept_b
    found_at: datetime
    resolved_by: str | None

    @property
    def status_label(self) -> str:
        return {"open": "待处理", "kept_a": "已保留 A", "kept_b": "已保留 B"}.get(self.status, self.status)


@dataclass(frozen=True)
class DuplicateResident:
    id: uuid.UUID
    name: str
    masked_doc: str  # the document number masked as on screen
    origin: str  # station code
    origin_name: str
    household: str  # address or household number, "" if none
    phone_masked: str
    references: int  # matters, certificates, needs... that point at this record
    deleted: bool


@dataclass(frozen=True)
class DuplicateView:
    id: int
    a: DuplicateResident  # the record that was here
    b: DuplicateResident  # the record the bundle brought
    found_at: datetime
    status: str  # open | merged | dismissed
    survivor_id: uuid.UUID | None

    @property
    def status_label(self) -> str:
        return {"open": "待处理", "merged": "已合并", "dismissed": "不是同一人"}.get(self.status, self.status)
