"""Helpers for the shelter, services and follow-up tests: minimal cases, acting as a role."""

from __future__ import annotations

import contextlib
import datetime as dt
import itertools
import json
from collections.abc import Iterator

from sqlalchemy import select

from models import AuditEvent, Case, Person, UserAccount
from tipdesk.counting import sex_of_gender
from tipdesk.security.roles import Actor
from tipdesk.vault.register import Register

D = dt.date
_numbers = itertools.count(1)


def make_case(
    reg: Register, *, given: str = "Ann", family: str = "Doe", gender: str = "Feminine",
    birth_date: dt.date | None = D(1995, 5, 1), registered: dt.date = D(2025, 1, 10),
    person_id: int | None = None, case_status: str = "Active",
) -> int:
    """A case (and its person unless ``person_id`` is given), written straight through the ORM."""
    with reg.write() as s:
        if person_id is None:
            person = Person(given_names=given, family_names=family, gender=gender, birth_date=birth_date)
            s.add(person)
            s.flush()
            person_id = person.id
        n = next(_numbers)
        case = Case(case_number=f"OAS-{registered.year}-{n:04d}", person_id=person_id,
                    registration_date=registered, sex=sex_of_gender(gender), case_status=case_status)
        s.add(case)
        s.flush()
        return case.id


@contextlib.contextmanager
def acting_as(reg: Register, role: str) -> Iterator[Actor]:
    """Act as a user of ``role`` for the duration (an account row is made for them)."""
    previous = reg.actor
    with reg.write() as s:
        name = f"{role}{next(_numbers)}"
        user = UserAccount(username=name, display_name=name.title(), role=role)
        s.add(user)
        s.flush()
        actor = Actor(user.id, user.username, user.display_name, user.role)
    reg.actor = actor
    try:
        yield actor
    finally:
        reg.actor = previous


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
