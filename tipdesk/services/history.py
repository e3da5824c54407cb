"""The history of one case, read from the audit trail: who did what, when, in plain words.

Events about the case itself (``entity='case'``) and about its person (``entity='person'``)
are listed newest first. Roles that may not see personal data get the events without their
old → new values.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, or_, select

from models import AuditEvent, Case
from tipdesk.errors import NotFound
from tipdesk.services.common import can_see_pii
from tipdesk.vault.register import Register

MAX_EVENTS = 500

ACTION_LABELS = {
    "case_registered": "Registered the case",
    "case_changed": "Changed the case",
    "case_viewed": "Opened the case",
    "person_added": "Recorded the person",
    "person_changed": "Changed the person's details",
    "trafficking_status_changed": "Changed the trafficking status",
    "case_status_changed": "Changed the case status",
    "trafficking_status_change_undone": "Undid a trafficking status change",
    "case_status_change_undone": "Undid a case status change",
    "person_viewed": "Opened the person's record",
    "screening_recorded": "Recorded a screening",
    "referral_added": "Added a referral",
    "referral_changed": "Changed a referral",
    "referral_removed": "Removed a referral",
    "justice_stage_added": "Added a justice stage",
    "justice_stage_changed": "Changed a justice stage",
    "justice_stage_removed": "Removed a justice stage",
    "justice_details_changed": "Changed the justice details",
    "audit_details_erased": "Erased personal details from the history",
}


@dataclass(frozen=True)
class HistoryEntry:
    """One line of a case's history."""

    at: dt.datetime
    username: str
    action: str  # the audit action, e.g. case_changed
    what: str  # plain words, e.g. "Changed the case"
    details: str  # "field: old → new; …" (blank when hidden or erased)


def _value(v: Any) -> str:
    if v is None or v == "" or v == []:
        return "(empty)"
    if isinstance(v, list):
        return ", ".join(_value(x) for x in v) if all(not isinstance(x, dict) for x in v) else f"{len(v)} entries"
    if isinstance(v, dict):
        return ", ".join(f"{k} {_value(x)}" for k, x in v.items())
    if isinstance(v, bool):
        return "yes" if v else "no"
    return str(v)


def describe_details(action: str, details: dict[str, Any]) -> str:
    """``field: old → new`` for changes; ``field: value`` for records."""
    parts = []
    for key, value in details.items():
        label = key.replace("_", " ")
        if action.endswith("_changed") and isinstance(value, list) and len(value) == 2:
            parts.append(f"{label}: {_value(value[0])} → {_value(value[1])}")
        else:
            parts.append(f"{label}: {_value(value)}")
    return "; ".join(parts)


def case_history(reg: Register, case_id: int, limit: int = MAX_EVENTS) -> list[HistoryEntry]:
    """The audit events of a case and of its person, newest first."""
    reg.actor.require("case.read")
    pii = can_see_pii(reg.actor)
    with reg.read() as s:
        case = s.get(Case, case_id)
        if case is None:
            raise NotFound("That case does not exist.")
        rows = s.scalars(
            select(AuditEvent).where(or_(
                and_(AuditEvent.entity == "case", AuditEvent.entity_id == case.id),
                and_(AuditEvent.entity == "person", AuditEvent.entity_id == case.person_id),
            )).order_by(AuditEvent.id.desc()).limit(limit)
        ).all()
        out = []
        for row in rows:
            text = ""
            if pii and row.details:
                try:
                    text = describe_details(row.action, json.loads(row.details))
                except ValueError:
                    text = ""
            out.append(HistoryEntry(row.at, row.username, row.action,
                                    ACTION_LABELS.get(row.action, row.action.replace("_", " ").capitalize()),
                                    text))
        return out
