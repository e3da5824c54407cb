"""Helpers for the shelter, services and follow-up tests: cases made through the case services
(``tests.factories``), and the audit events of a record."""

from __future__ import annotations

import datetime as dt
import json

from sqlalchemy import select

from models import AuditEvent
from tests.factories import acting_as, add_case
from tipdesk.vault.register import Register

__all__ = ["D", "acting_as", "audit_events", "make_case"]

D = dt.date


def make_case(
    reg: Register, *, given: str = "Ann", family: str = "Doe", gender: str = "Feminine",
    birth_date: dt.date | None = D(1995, 5, 1), registered: dt.date = D(2025, 1, 10),
    person_id: int | None = None, closed: dt.date | None = None,
) -> int:
    """A case registered through the case services (and its person unless ``person_id`` is
    given); ``closed``: the date it was closed. Returns the case id."""
    values: dict = {} if person_id is not None else {
        "given_names": given, "family_names": family, "gender": gender, "birth_date": birth_date}
    detail = add_case(reg, registered=registered, person_id=person_id,
                      closed=(closed, "Returned home safely.") if closed else None, **values)
    return detail.id


def audit_events(reg: Register, entity: str | None = None, entity_id: int | None = None,
                 action: str | None = None) -> list[tuple[str, dict]]:
    """(action, details) of the audit events matching, oldest first."""
    with reg.read() as s:
        query = select(AuditEvent.action, AuditEvent.details).order_by(AuditEvent.id)
        if entity is not None:
            query = query.where(AuditEvent.entity == entity)
        if entity_id is not None:
            query = query.where(AuditEvent.entity_id == entity_id)
        if action is not None:
            query = query.where(AuditEvent.action == action)
        return [(a, json.loads(d) if d else {}) for a, d in s.execute(query)]
