"""Persons, cases and what hangs off a case: status histories, route, screening, referrals,
justice stages.

Multi-valued picklists are ``StrList`` columns holding HTCDS value names; assign a new list to
change one (in-place mutation is not tracked). Columns marked *derived* are kept up to date by
the services in ``tipdesk.services`` so that lists can filter and sort in SQL.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, JsonDict, StrList, UtcDateTime, utcnow


class Person(Base):
    """A person identified as a (possible) victim. Personal data: names, contacts, identity."""

    __tablename__ = "person"

    id: Mapped[int] = mapped_column(primary_key=True)
    given_names: Mapped[str] = mapped_column(String(200), default="")
    family_names: Mapped[str] = mapped_column(String(200), default="")
    aliases: Mapped[list[str]] = mapped_column(StrList, default=list)
    birth_date: Mapped[dt.date | None] = mapped_column(Date)
    estimated_age: Mapped[int | None] = mapped_column(Integer)
    age_estimated_on: Mapped[dt.date | None] = mapped_column(Date)
    gender: Mapped[str] = mapped_column(String(32), default="NonSpecifiedUnknown")
    citizenships: Mapped[list[str]] = mapped_column(StrList, default=list)  # ISO3, recorded order
    languages: Mapped[list[str]] = mapped_column(StrList, default=list)  # ISO 639 codes
    identity_number: Mapped[str] = mapped_column(String(64), default="")
    phone: Mapped[str] = mapped_column(String(64), default="")
    email: Mapped[str] = mapped_column(String(200), default="")
    address: Mapped[str] = mapped_column(Text, default="")
    # derived: folded names, "family given|alias|alias" (tipdesk.names): duplicate warning, sorting
    name_key: Mapped[str] = mapped_column(String(400), default="")
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)

    cases: Mapped[list[Case]] = relationship(back_populates="person")

    __table_args__ = (
        CheckConstraint(
            "estimated_age IS NULL OR (estimated_age BETWEEN 0 AND 120)", name="estimated_age"
        ),
        # Covering index of the duplicate warning: candidates by birth date (or estimate) and sex,
        # with the folded names, without reading the person rows.
        Index("ix_person_match", "birth_date", "estimated_age", "age_estimated_on", "gender", "name_key"),
        Index("ix_person_name_key", "name_key"),  # lists sorted by name
    )


class Case(Base):
    """One case of one person in this office (``ORGCODE-YYYY-NNNN``)."""

    __tablename__ = "case_file"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_number: Mapped[str] = mapped_column(String(32), unique=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    registration_date: Mapped[dt.date] = mapped_column(Date)
    # Identification: a partner organisation, or self-referral, or unknown (neither set).
    identified_by_org_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"))
    self_referral: Mapped[bool] = mapped_column(Boolean, default=False)
    age_when_trafficked: Mapped[int | None] = mapped_column(Integer)
    exploitation: Mapped[list[str]] = mapped_column(StrList, default=list)
    labour_industry: Mapped[str | None] = mapped_column(String(64))
    sex_exploitation: Mapped[list[str]] = mapped_column(StrList, default=list)
    methods_of_control: Mapped[list[str]] = mapped_column(StrList, default=list)
    recruitment_methods: Mapped[list[str]] = mapped_column(StrList, default=list)
    relationship_to_trafficker: Mapped[str | None] = mapped_column(String(32))
    scope: Mapped[str] = mapped_column(String(16), default="Unknown")
    scope_overridden: Mapped[bool] = mapped_column(Boolean, default=False)
    consent_given: Mapped[bool] = mapped_column(Boolean, default=False)
    consent_services: Mapped[bool] = mapped_column(Boolean, default=False)
    consent_data_sharing: Mapped[bool] = mapped_column(Boolean, default=False)
    consent_referral: Mapped[bool] = mapped_column(Boolean, default=False)
    consent_date: Mapped[dt.date | None] = mapped_column(Date)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    police_reference: Mapped[str] = mapped_column(String(64), default="")
    victim_as_witness: Mapped[bool] = mapped_column(Boolean, default=False)
    notes: Mapped[str] = mapped_column(Text, default="")
    # derived, for lists and filters (the histories are the truth)
    trafficking_status: Mapped[str] = mapped_column(String(40), default="PossibleVictimOfTrafficking")
    case_status: Mapped[str] = mapped_column(String(16), default="Active")
    sex: Mapped[str] = mapped_column(String(8), default="Unknown")  # Female/Male/Other/Unknown
    age_at_registration: Mapped[int | None] = mapped_column(Integer)
    age_group: Mapped[str] = mapped_column(String(8), default="unknown")  # 0-17/18+/unknown
    expl_sexual: Mapped[bool] = mapped_column(Boolean, default=False)
    expl_labour: Mapped[bool] = mapped_column(Boolean, default=False)
    expl_other: Mapped[bool] = mapped_column(Boolean, default=False)
    next_followup_due: Mapped[dt.date | None] = mapped_column(Date)
    high_risk: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    person: Mapped[Person] = relationship(back_populates="cases")
    status_history: Mapped[list[TraffickingStatusEntry]] = relationship(
        back_populates="case", order_by=lambda: (TraffickingStatusEntry.effective_date, TraffickingStatusEntry.id)
    )
    case_status_history: Mapped[list[CaseStatusEntry]] = relationship(
        back_populates="case", order_by=lambda: (CaseStatusEntry.effective_date, CaseStatusEntry.id)
    )
    route_events: Mapped[list[RouteEvent]] = relationship(
        back_populates="case", order_by="RouteEvent.id"
    )
    screenings: Mapped[list[Screening]] = relationship(back_populates="case", order_by="Screening.id")
    referrals: Mapped[list[Referral]] = relationship(back_populates="case", order_by="Referral.id")
    justice_stages: Mapped[list[JusticeStage]] = relationship(
        back_populates="case", order_by=lambda: (JusticeStage.stage_date, JusticeStage.id)
    )

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        CheckConstraint("scope IN ('Domestic','Transnational','Unknown')", name="scope"),
        # Both list indexes hold every filter column, so that a filtered page or count never
        # reads case rows it does not show (each page read is a decryption): the first walks
        # cases newest first (and holds the sort columns too), the second serves one status
        # and one sex in date order.
        Index("ix_case_file_registration_date", "registration_date", "trafficking_status",
              "case_status", "sex", "age_group", "expl_sexual", "expl_labour", "expl_other", "owner_id",
              "age_at_registration", "next_followup_due", "case_number"),
        Index("ix_case_file_list", "trafficking_status", "sex", "registration_date", "expl_sexual",
              "expl_labour", "expl_other", "case_status", "age_group", "owner_id"),
        Index("ix_case_file_case_status", "case_status"),
        Index("ix_case_file_next_followup_due", "next_followup_due"),
        Index("ix_case_file_high_risk", "high_risk", "next_followup_due"),
    )


class TraffickingStatusEntry(Base):
    """Trafficking status history (HTCDS ``vic_TraffickingStatus``); first entry on registration."""

    __tablename__ = "trafficking_status_entry"

    id: Mapped[int] = mapped_column(primary_key=True)  # entry order breaks same-date ties
    case_id: Mapped[int] = mapped_column(ForeignKey("case_file.id", ondelete="CASCADE"))
    effective_date: Mapped[dt.date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(40))
    decided_by: Mapped[str | None] = mapped_column(String(48))  # vic_TraffickingStatusDecisionMakingOrg
    note: Mapped[str] = mapped_column(Text, default="")
    entered_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    entered_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    case: Mapped[Case] = relationship(back_populates="status_history")

    __table_args__ = (Index("ix_tse_case_date", "case_id", "effective_date", "id"),)


class CaseStatusEntry(Base):
    """Case status history (HTCDS ``cas_Status``); first entry ``Active`` on registration."""

    __tablename__ = "case_status_entry"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_file.id", ondelete="CASCADE"))
    effective_date: Mapped[dt.date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text, default="")  # cas_ReasonForCaseClosure when closing
    entered_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    entered_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    case: Mapped[Case] = relationship(back_populates="case_status_history")

    __table_args__ = (Index("ix_cse_case_date", "case_id", "effective_date", "id"),)


class RouteEvent(Base):
    """A recruitment, transit or exploitation event (HTCDS Historic Trafficking Events)."""

    __tablename__ = "route_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_file.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # hte_Type: Recruitment/Transit/Exploitation
    country: Mapped[str | None] = mapped_column(String(3))
    place: Mapped[str] = mapped_column(String(200), default="")
    event_date: Mapped[dt.date | None] = mapped_column(Date)
    description: Mapped[str] = mapped_column(Text, default="")

    case: Mapped[Case] = relationship(back_populates="route_events")


class Screening(Base):
    """A Palermo Act–Means–Purpose screening with indicators, suggestion and decision."""

    __tablename__ = "screening"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_file.id", ondelete="CASCADE"), index=True)
    screened_on: Mapped[dt.date] = mapped_column(Date)
    screened_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    acts: Mapped[list[str]] = mapped_column(StrList, default=list)
    means: Mapped[list[str]] = mapped_column(StrList, default=list)
    purposes: Mapped[list[str]] = mapped_column(StrList, default=list)  # vic_TypeOfExploitation
    indicators: Mapped[list[str]] = mapped_column(StrList, default=list)  # checked indicator ids
    indicator_weights: Mapped[dict] = mapped_column(JsonDict, default=dict)  # as used at the time
    indicator_score: Mapped[int] = mapped_column(Integer, default=0)
    child_at_time: Mapped[bool | None] = mapped_column(Boolean)
    suggested_status: Mapped[str] = mapped_column(String(40))
    reasoning: Mapped[str] = mapped_column(Text, default="")
    decided_status: Mapped[str] = mapped_column(String(40))
    overridden: Mapped[bool] = mapped_column(Boolean, default=False)
    decision_note: Mapped[str] = mapped_column(Text, default="")

    case: Mapped[Case] = relationship(back_populates="screenings")


class Referral(Base):
    """An incoming or outgoing referral to or from a partner organisation."""

    __tablename__ = "referral"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_file.id", ondelete="CASCADE"), index=True)
    direction: Mapped[str] = mapped_column(String(4))  # In / Out
    partner_org_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"))
    reason: Mapped[str | None] = mapped_column(String(48))  # cas_ReasonForIncomingReferral values
    referral_date: Mapped[dt.date] = mapped_column(Date)
    details: Mapped[str] = mapped_column(Text, default="")
    outcome: Mapped[str] = mapped_column(String(16), default="Pending")
    outcome_date: Mapped[dt.date | None] = mapped_column(Date)

    case: Mapped[Case] = relationship(back_populates="referrals")

    __table_args__ = (
        CheckConstraint("direction IN ('In','Out')", name="direction"),
        Index("ix_referral_date", "referral_date"),
    )


class JusticeStage(Base):
    """A dated stage of the criminal-justice process (T8_Justice row names)."""

    __tablename__ = "justice_stage"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_file.id", ondelete="CASCADE"), index=True)
    stage: Mapped[str] = mapped_column(String(32))
    stage_date: Mapped[dt.date] = mapped_column(Date)
    note: Mapped[str] = mapped_column(Text, default="")

    case: Mapped[Case] = relationship(back_populates="justice_stages")

    __table_args__ = (Index("ix_justice_stage_date", "stage_date"),)
