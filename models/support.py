"""Services (support plans) and long-term follow-up (reintegration monitoring)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, CheckConstraint, Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, StrList, UtcDateTime, utcnow


class Service(Base):
    """A service for a case (HTCDS Support Plan ``spl_Type`` plus tipdesk's types)."""

    __tablename__ = "service"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_file.id", ondelete="CASCADE"))
    service_type: Mapped[str] = mapped_column(String(40))
    provider_org_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"))  # None: this office
    objectives: Mapped[str] = mapped_column(Text, default="")
    planned_start: Mapped[dt.date | None] = mapped_column(Date)
    planned_end: Mapped[dt.date | None] = mapped_column(Date)
    actual_start: Mapped[dt.date | None] = mapped_column(Date)
    actual_end: Mapped[dt.date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default="Planned")  # vocab.SERVICE_STATUSES
    notes: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)

    __table_args__ = (
        CheckConstraint(
            "actual_end IS NULL OR actual_start IS NULL OR actual_end >= actual_start",
            name="dates",
        ),
        Index("ix_service_case", "case_id"),
        # Services received in a period: those ended on or after its start, and the ongoing ones.
        Index("ix_service_actual", "actual_end", "actual_start"),
    )


class FollowUpPlanDefinition(Base):
    """A follow-up schedule an office uses: due offsets in months from the plan's start."""

    __tablename__ = "followup_plan_definition"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    months: Mapped[list[str]] = mapped_column(StrList, default=list)  # e.g. ["1","2","3","6",...]
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class FollowUpPlan(Base):
    """A case's follow-up plan, started when the case enters reintegration."""

    __tablename__ = "followup_plan"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_file.id", ondelete="CASCADE"), index=True)
    definition_id: Mapped[int | None] = mapped_column(ForeignKey("followup_plan_definition.id"))
    started_on: Mapped[dt.date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default="Active")  # vocab.FOLLOWUP_PLAN_STATUSES
    ended_on: Mapped[dt.date | None] = mapped_column(Date)  # completed or cancelled on
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)


class FollowUp(Base):
    """One scheduled follow-up contact and, once done, what it found."""

    __tablename__ = "followup"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_file.id", ondelete="CASCADE"))
    plan_id: Mapped[int | None] = mapped_column(ForeignKey("followup_plan.id", ondelete="CASCADE"))
    due_date: Mapped[dt.date] = mapped_column(Date)
    done_date: Mapped[dt.date | None] = mapped_column(Date)
    cancelled_on: Mapped[dt.date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default="Scheduled")  # vocab.FOLLOWUP_STATUSES
    mode: Mapped[str | None] = mapped_column(String(16))  # vocab.FOLLOWUP_MODES
    done_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    score_economic: Mapped[int | None] = mapped_column(Integer)
    score_social: Mapped[int | None] = mapped_column(Integer)
    score_psychosocial: Mapped[int | None] = mapped_column(Integer)
    risk_level: Mapped[str | None] = mapped_column(String(8))  # Low / Medium / High
    safety_note: Mapped[str] = mapped_column(Text, default="")
    outcome: Mapped[str] = mapped_column(Text, default="")
    next_action: Mapped[str] = mapped_column(Text, default="")

    __table_args__ = (
        CheckConstraint(
            "(score_economic IS NULL OR score_economic BETWEEN 1 AND 5) AND "
            "(score_social IS NULL OR score_social BETWEEN 1 AND 5) AND "
            "(score_psychosocial IS NULL OR score_psychosocial BETWEEN 1 AND 5)",
            name="scores",
        ),
        Index("ix_followup_case", "case_id", "due_date"),
        # The work queues (status, due date, then id: their order) — and, with the other
        # columns a period's follow-up figures read, the dashboard without any table row.
        Index("ix_followup_queue", "status", "due_date", "id", "done_date", "cancelled_on", "case_id"),
        Index("ix_followup_done", "done_date", "status", "due_date", "cancelled_on", "case_id"),
        Index("ix_followup_plan", "plan_id"),
    )
