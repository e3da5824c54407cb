"""The derived columns of a case, recomputed with the shared counting rules.

Lists filter and sort on these columns in SQL, so every service that changes a person, a case,
its route or its histories calls ``refresh_case`` (or ``refresh_statuses``) in the same
transaction. ``next_followup_due`` and ``high_risk`` belong to the follow-up services.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Case, CaseStatusEntry, Person, TraffickingStatusEntry
from tipdesk import counting
from tipdesk.names import name_key


def refresh_person(person: Person) -> None:
    person.name_key = name_key(person.given_names, person.family_names, person.aliases)


def refresh_case(case: Case, person: Person, country: str, route_countries: list[str | None]) -> None:
    """Sex, age at registration, age group, exploitation flags and (unless overridden) scope."""
    case.sex = counting.sex_of_gender(person.gender)
    age = counting.age_at(case.registration_date, person.birth_date, person.estimated_age,
                          person.age_estimated_on)
    case.age_at_registration = age
    case.age_group = counting.age_group(age)
    categories = counting.exploitation_categories(case.exploitation or [])
    case.expl_sexual = "Sexual exploitation" in categories
    case.expl_labour = "Forced labour" in categories
    case.expl_other = counting.vocab.OTHER_EXPLOITATION in categories
    if not case.scope_overridden:
        first = person.citizenships[0] if person.citizenships else None
        case.scope = counting.derive_scope(country, first, route_countries)


def derived_scope(case: Case, person: Person, country: str) -> str:
    first = person.citizenships[0] if person.citizenships else None
    return counting.derive_scope(country, first, [e.country for e in case.route_events])


def refresh_statuses(s: Session, case: Case) -> None:
    """Current trafficking and case status from the histories (the histories are the truth)."""
    s.flush()
    ts = s.execute(
        select(TraffickingStatusEntry.status)
        .where(TraffickingStatusEntry.case_id == case.id)
        .order_by(TraffickingStatusEntry.effective_date.desc(), TraffickingStatusEntry.id.desc())
        .limit(1)
    ).scalar()
    cs = s.execute(
        select(CaseStatusEntry.status)
        .where(CaseStatusEntry.case_id == case.id)
        .order_by(CaseStatusEntry.effective_date.desc(), CaseStatusEntry.id.desc())
        .limit(1)
    ).scalar()
    # Entries are never dated in the future, so the latest entry is the status today.
    if ts is not None and case.trafficking_status != ts:
        case.trafficking_status = ts
    if cs is not None and case.case_status != cs:
        case.case_status = cs
