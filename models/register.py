"""Tables of the register itself: metadata, organisations, accounts, audit chain, drafts."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, UtcDateTime, utcnow

ROLES = ("admin", "caseworker", "police", "analyst", "auditor")
ROLE_LABELS = {
    "admin": "Administrator",
    "caseworker": "Case worker",
    "police": "Police officer",
    "analyst": "Secretariat analyst",
    "auditor": "Auditor",
}


class RegisterMeta(Base):
    """Key/value facts about the register (id, office secret, linkage key, settings)."""

    __tablename__ = "register_meta"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class Organisation(Base):
    """This office (``is_self``) and its partner organisations."""

    __tablename__ = "organisation"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str | None] = mapped_column(String(16), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    org_type: Mapped[str] = mapped_column(String(64))  # HTCDS org_Type
    country: Mapped[str | None] = mapped_column(String(3))  # ISO 3166-1 alpha-3
    is_self: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    notes: Mapped[str] = mapped_column(Text, default="")


class UserAccount(Base):
    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)  # stored case-folded
    display_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    last_login_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    password_changed_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)


class AuditEvent(Base):
    """One link of the audit chain.

    ``hash`` = SHA-256 of the canonical form (see ``tipdesk.security.audit``), which covers
    ``details_hash`` rather than ``details`` so that ``details`` can be erased lawfully.
    """

    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)  # the position in the chain
    at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    user_id: Mapped[int | None] = mapped_column(Integer)  # no FK: accounts are never deleted
    username: Mapped[str] = mapped_column(String(64), default="")
    action: Mapped[str] = mapped_column(String(48))
    entity: Mapped[str] = mapped_column(String(32), default="")
    entity_id: Mapped[int | None] = mapped_column(Integer)
    details: Mapped[str | None] = mapped_column(Text)  # canonical JSON; NULL once erased
    details_hash: Mapped[str] = mapped_column(String(64))
    erased_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))

    __table_args__ = (
        Index("ix_audit_event_entity", "entity", "entity_id"),
        Index("ix_audit_event_action", "action", "at"),
    )


class CaseSequence(Base):
    """Last case number issued per year: numbers are never reused."""

    __tablename__ = "case_sequence"

    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_number: Mapped[int] = mapped_column(Integer, default=0)


class Draft(Base):
    """Unsaved edits kept (encrypted, inside the register) when the window locks."""

    __tablename__ = "draft"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    kind: Mapped[str] = mapped_column(String(32))
    entity_id: Mapped[int | None] = mapped_column(Integer)
    payload: Mapped[str] = mapped_column(Text)
    saved_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)

    __table_args__ = (UniqueConstraint("user_id", "kind", "entity_id"),)
