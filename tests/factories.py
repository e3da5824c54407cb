"""Helpers for every area's tests: partner organisations, persons and cases (with statuses,
route, exploitation…) created through the real case services, and registers opened as a user
of a given role.

    from tests.factories import add_case, acting_as

    case = add_case(reg, registered=date(2025, 2, 10), gender="Masculine", birth_date=None,
                    estimated_age=15, exploitation=("ForcedLabour",),
                    status="ActualVictimOfTrafficking", decided_by="Police",
                    closed=(date(2025, 8, 1), "Returned home"))
    with acting_as(reg, "analyst") as analyst_reg:
        ...

Every helper goes through the services, so the derived columns, histories, audit events and
the full-text index are exactly what the application would produce.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import itertools
from collections.abc import Iterator, Sequence
from dataclasses import fields, replace
from typing import Any

from tests.conftest import FAST_KDF
from tipdesk.security.accounts import add_user
from tipdesk.services import cases, organisations
from tipdesk.services.cases import CaseDetail, CaseInput, CaseStatusChange, RouteEventInput, TraffickingStatusChange
from tipdesk.services.organisations import OrganisationInfo, OrganisationInput
from tipdesk.services.persons import PersonInput
from tipdesk.vault.register import Register, open_register

REGISTERED = dt.date(2025, 2, 10)
BORN = dt.date(1998, 4, 12)
_PERSON_FIELDS = {f.name for f in fields(PersonInput)}
_CASE_FIELDS = {f.name for f in fields(CaseInput)}
_names = itertools.count(1)


def person_input(**overrides: Any) -> PersonInput:
    """A plausible adult woman, Jamaican; any field can be overridden."""
    base = PersonInput(given_names="Ana", family_names="Brown", birth_date=BORN, gender="Feminine",
                       citizenships=("JAM",), languages=("en",))
    return replace(base, **overrides)


def case_input(**overrides: Any) -> CaseInput:
    """A case registered on ``REGISTERED`` with consent (data sharing included) and sexual
    exploitation; any field can be overridden."""
    registered = overrides.pop("registration_date", REGISTERED)
    base = CaseInput(registration_date=registered, exploitation=("SexualExploitation",),
                     consent_given=True, consent_services=True, consent_data_sharing=True,
                     consent_referral=True, consent_date=registered)
    return replace(base, **overrides)


def add_partner(reg: Register, name: str | None = None, org_type: str = "NGO",
                country: str | None = "JAM") -> OrganisationInfo:
    """A partner organisation (a unique name is made up when none is given)."""
    return organisations.add_organisation(
        reg, OrganisationInput(name or f"Partner {next(_names)}", org_type, country))


def add_case(
    reg: Register,
    *,
    registered: dt.date = REGISTERED,
    person_id: int | None = None,
    status: str = "PossibleVictimOfTrafficking",
    decided_by: str | None = None,
    status_changes: Sequence[TraffickingStatusChange] = (),
    case_status_changes: Sequence[CaseStatusChange] = (),
    closed: tuple[dt.date, str] | None = None,
    route: Sequence[tuple[str, str | None] | RouteEventInput] = (),
    **values: Any,
) -> CaseDetail:
    """Register a case and apply status changes, through the services.

    ``values`` holds ``PersonInput`` fields (``given_names``, ``birth_date``, ``gender``,
    ``citizenships``…) and ``CaseInput`` fields (``exploitation``, ``owner_id``…).
    ``route``: ``(kind, country)`` pairs or ``RouteEventInput``s. ``closed``: (date, reason) —
    a last case-status change to ``Closed``. Returns the case as it is at the end.
    """
    unknown = set(values) - _PERSON_FIELDS - _CASE_FIELDS
    if unknown:
        raise TypeError(f"add_case got unknown fields: {sorted(unknown)}")
    person_values = {k: v for k, v in values.items() if k in _PERSON_FIELDS}
    case_values = {k: v for k, v in values.items() if k in _CASE_FIELDS}
    events = tuple(e if isinstance(e, RouteEventInput) else RouteEventInput(e[0], e[1]) for e in route)
    if events:
        case_values["route"] = events
    data = case_input(registration_date=registered, **case_values)
    person = None if person_id is not None else person_input(**person_values)
    detail = cases.register_case(reg, data, person, person_id=person_id,
                                 trafficking_status=status, decided_by=decided_by)
    for change in status_changes:
        detail = cases.change_trafficking_status(reg, detail.id, change)
    for change in case_status_changes:
        detail = cases.change_case_status(reg, detail.id, change)
    if closed is not None:
        detail = cases.change_case_status(reg, detail.id, CaseStatusChange("Closed", closed[0], closed[1]))
    return detail


@contextlib.contextmanager
def acting_as(reg: Register, role: str, username: str | None = None,
              password: str = "role-password-1") -> Iterator[Register]:
    """The same register opened (really: keyslot, login, audit) as a user of ``role``; the
    user is added by ``reg``'s administrator on first use. Closed on exit."""
    name = username or f"{role}user"
    from tipdesk.security.accounts import list_users

    if name not in {u.username for u in list_users(reg)}:
        add_user(reg, name, role, password, f"Test {role}", kdf=FAST_KDF)
    other = open_register(reg.path, name, password)
    try:
        yield other
    finally:
        other.close()
