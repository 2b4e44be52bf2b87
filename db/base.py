"""Declarative base and the sync-ready mixins every travelling table uses."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any, ClassVar, cast

from sqlalchemy import JSON, BigInteger, Boolean, FromClause, MetaData, String, Table, Uuid
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from db.clock import new_id

# Stable constraint names so migrations are identical on SQLite and PostgreSQL
# and batch migrations on SQLite can find the constraints they alter.
NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

STATION_CODE_LEN = 12

# Columns the write path maintains; they are never "fields" for merging.
SYNC_COLUMNS = frozenset({"id", "origin", "hlc", "seq", "deleted", "field_clocks"})


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON}


class Synced:
    """Identity that survives travel between stations.

    * ``id``      UUIDv7, globally unique without coordination;
    * ``origin``  code of the station that created the row;
    * ``hlc``     hybrid-logical-clock stamp of the last change (db.clock);
    * ``deleted`` tombstone: rows are never DELETEd, so a deletion travels;
    * ``seq``     local change sequence: a peer's watermark on it tells what
                  that peer has not seen yet.

    The write path in ``db.writes`` sets ``origin``, ``hlc`` and ``seq`` on
    every insert and update; callers never touch them.
    """

    __append_only__: ClassVar[bool] = False
    if TYPE_CHECKING:  # set on each model by the declarative Base it is mixed into
        __tablename__: Any
        __table__: ClassVar[FromClause]

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    origin: Mapped[str] = mapped_column(String(STATION_CODE_LEN))
    hlc: Mapped[int] = mapped_column(BigInteger)
    seq: Mapped[int] = mapped_column(BigInteger, index=True)
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)


def table_of(model: type[Synced]) -> Table:
    """The Table a synced model is mapped to: every one is declared with a
    table, where SQLAlchemy's typing only promises a FromClause."""
    return cast(Table, model.__table__)


class Mutable(Synced):
    """A record people edit (resident, household, account...).

    ``field_clocks`` maps a field name to the stamp of its last change, so a
    sync import can merge field by field and see which fields both sides
    changed.  A field that is absent has not changed since the row was
    created (clock 0).
    """

    field_clocks: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    def retire(self) -> None:
        """Tombstone this record (the only way to "delete" one)."""
        self.deleted = True


class AppendOnly(Synced):
    """A record of something that happened (audit line, service event...).

    Inserted once, never updated or tombstoned: a correction is a new row that
    points at the old one.  ``db.writes`` refuses any change.
    """

    __append_only__: ClassVar[bool] = True
