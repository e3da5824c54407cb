"""Facilities, beds, stays (placements) and the waiting list."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, CheckConstraint, Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, StrList, UtcDateTime, utcnow


class Facility(Base):
    __tablename__ = "facility"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(32), default="Shelter")  # vocab.FACILITY_KINDS
    capacity: Mapped[int] = mapped_column(Integer, default=0)
    child_friendly: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Eligibility: return sexes accepted (empty = any) and an inclusive age range.
    sexes: Mapped[list[str]] = mapped_column(StrList, default=list)
    min_age: Mapped[int | None] = mapped_column(Integer)
    max_age: Mapped[int | None] = mapped_column(Integer)
    # Dates the facility was in service, so returns know which facilities a period had.
    opened_on: Mapped[dt.date | None] = mapped_column(Date)
    closed_on: Mapped[dt.date | None] = mapped_column(Date)
    notes: Mapped[str] = mapped_column(Text, default="")

    beds: Mapped[list[Bed]] = relationship(back_populates="facility", order_by="Bed.id")

    __table_args__ = (CheckConstraint("capacity >= 0", name="capacity"),)


class Bed(Base):
    """A named bed or room of a facility."""

    __tablename__ = "bed"

    id: Mapped[int] = mapped_column(primary_key=True)
    facility_id: Mapped[int] = mapped_column(ForeignKey("facility.id"), index=True)
    label: Mapped[str] = mapped_column(String(64))
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    facility: Mapped[Facility] = relationship(back_populates="beds")


class Stay(Base):
    """A placement of a case in a facility: admitted A, discharged D (or still placed)."""

    __tablename__ = "stay"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_file.id", ondelete="CASCADE"))
    facility_id: Mapped[int] = mapped_column(ForeignKey("facility.id"))
    bed_id: Mapped[int | None] = mapped_column(ForeignKey("bed.id"))
    admitted: Mapped[dt.date] = mapped_column(Date)
    planned_discharge: Mapped[dt.date | None] = mapped_column(Date)
    discharged: Mapped[dt.date | None] = mapped_column(Date)
    discharge_reason: Mapped[str | None] = mapped_column(String(40))  # vocab.DISCHARGE_REASONS
    eligibility_override: Mapped[str] = mapped_column(Text, default="")  # reason, when outside
    notes: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)

    __table_args__ = (
        CheckConstraint("discharged IS NULL OR discharged >= admitted", name="dates"),
        Index("ix_stay_case", "case_id", "admitted"),
        Index("ix_stay_facility_dates", "facility_id", "admitted", "discharged"),
        Index("ix_stay_bed_dates", "bed_id", "admitted", "discharged"),
        # Stays overlapping a period or occupied on a date: the open ones, then those
        # discharged on or after the date (few, for recent dates), without a table scan.
        Index("ix_stay_discharged", "discharged", "admitted", "facility_id", "bed_id"),
    )


class WaitingListEntry(Base):
    __tablename__ = "waiting_list_entry"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_file.id", ondelete="CASCADE"), index=True)
    facility_id: Mapped[int] = mapped_column(ForeignKey("facility.id"), index=True)
    requested_on: Mapped[dt.date] = mapped_column(Date)
    note: Mapped[str] = mapped_column(Text, default="")
    resolved_on: Mapped[dt.date | None] = mapped_column(Date)
    resolution: Mapped[str] = mapped_column(String(32), default="")  # admitted / withdrawn / ...
    # A bed held for the case while it waits: the nights held_from … held_until (both included),
    # until the case is admitted, the entry resolved or the reservation released.
    bed_id: Mapped[int | None] = mapped_column(ForeignKey("bed.id"))
    held_from: Mapped[dt.date | None] = mapped_column(Date)
    held_until: Mapped[dt.date | None] = mapped_column(Date)

    __table_args__ = (
        CheckConstraint("bed_id IS NULL OR (held_from IS NOT NULL AND held_until IS NOT NULL "
                        "AND held_until >= held_from)", name="held_nights"),
    )
