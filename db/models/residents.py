"""Residents, households and special-group tags."""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import Boolean, Date, ForeignKey, Index, String, Text, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column, relationship

from db.base import Base, Mutable


class Household(Mutable, Base):
    """A household (户): members, a head, an address."""

    __tablename__ = "households"

    number: Mapped[str | None] = mapped_column(String(32), index=True)  # 户号
    head_id: Mapped[uuid.UUID | None] = mapped_column(
        # Circular with residents.household_id: checked at commit, so a
        # household and its head can be inserted in one transaction.
        ForeignKey(
            "residents.id",
            use_alter=True,
            name="fk_households_head_id_residents",
            deferrable=True,
            initially="DEFERRED",
        ),
        index=True,  # SQLite checks deferred references by scanning this column
    )
    address_text: Mapped[str | None] = mapped_column(String(200))
    notes: Mapped[str | None] = mapped_column(Text)

    members: Mapped[list[Resident]] = relationship(back_populates="household", foreign_keys="Resident.household_id")


class Resident(Mutable, Base):
    __tablename__ = "residents"
    __table_args__ = (Index("ix_residents_name_birth", "name", "birth_date"),)

    name: Mapped[str] = mapped_column(String(64), index=True)
    # Derived from the name by the services (pypinyin), for search.
    pinyin: Mapped[str] = mapped_column(String(256), default="", index=True)
    initials: Mapped[str] = mapped_column(String(64), default="", index=True)
    # GB/T 2261.1: 0 未知, 1 男, 2 女, 9 未说明
    gender: Mapped[int] = mapped_column(default=0)
    birth_date: Mapped[date | None] = mapped_column(Date)
    # ric (居民身份证) by default; see desktop.services.vocab.DOC_TYPES
    doc_type: Mapped[str] = mapped_column(String(16), default="ric")
    doc_number: Mapped[str | None] = mapped_column(String(32), index=True)
    phone: Mapped[str | None] = mapped_column(String(32), index=True)
    # GB/T 3304 two-digit code, "01" = 汉族
    ethnicity: Mapped[str | None] = mapped_column(String(2))
    household_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("households.id"), index=True)
    relation_to_head: Mapped[str | None] = mapped_column(String(16))
    # Address: a community uses 小区/楼栋/单元/室, a village 村民小组/门牌.
    estate: Mapped[str | None] = mapped_column(String(64))
    building: Mapped[str | None] = mapped_column(String(16))
    unit: Mapped[str | None] = mapped_column(String(16))
    room: Mapped[str | None] = mapped_column(String(16))
    village_group: Mapped[str | None] = mapped_column(String(32))
    house_number: Mapped[str | None] = mapped_column(String(32))
    address_text: Mapped[str | None] = mapped_column(String(200))
    grid: Mapped[str | None] = mapped_column(String(32), index=True)  # 网格
    # registered (户籍) | resident (常住) | floating (流动)
    residency: Mapped[str] = mapped_column(String(16), default="registered")
    moved_out: Mapped[bool] = mapped_column(Boolean, default=False)
    moved_out_date: Mapped[date | None] = mapped_column(Date)
    deceased: Mapped[bool] = mapped_column(Boolean, default=False)
    deceased_date: Mapped[date | None] = mapped_column(Date)
    notes: Mapped[str | None] = mapped_column(Text)
    # Set on the tombstone when a supervisor merges a duplicate record into
    # another: the survivor.  No foreign key, so either can arrive first.
    merged_into_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, index=True)

    household: Mapped[Household | None] = relationship(back_populates="members", foreign_keys=[household_id])
    tags: Mapped[list[ResidentTag]] = relationship(back_populates="resident")


class ResidentTag(Mutable, Base):
    """A special-group tag on a resident (高龄, 独居, 低保 ...)."""

    __tablename__ = "resident_tags"
    __table_args__ = (UniqueConstraint("resident_id", "tag"),)

    resident_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("residents.id"), index=True)
    tag: Mapped[str] = mapped_column(String(16), index=True)
    since: Mapped[date | None] = mapped_column(Date)
    note: Mapped[str | None] = mapped_column(String(200))

    resident: Mapped[Resident] = relationship(back_populates="tags")
