"""Cases: register, open, edit, and change statuses.

Every function takes the open ``Register`` first, checks the acting user's permission,
validates (``ValidationError`` with every problem, by field, in plain words), writes in one
transaction with its audit events (old → new values), and returns a frozen ``CaseDetail``.
Opening a case reads personal data and is audited as ``case_viewed``.

Case numbers are ``ORGCODE-YYYY-NNNN``: the office code, the year of the registration date, and
a number from that year's ``CaseSequence``, issued in the same transaction and never reused.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable
from dataclasses import dataclass, replace

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from models import (
    Case,
    CaseSequence,
    CaseStatusEntry,
    Person,
    RouteEvent,
    TraffickingStatusEntry,
    UserAccount,
    utcnow,
    vocab,
)
from tipdesk import counting
from tipdesk.errors import NotFound, UsageError
from tipdesk.security import audit
from tipdesk.security.roles import PERMISSIONS
from tipdesk.services import statuses
from tipdesk.services.common import (
    MAX_AGE,
    Problems,
    as_audit,
    can_see_pii,
    check_choice,
    check_choices,
    check_countries,
    check_date,
    check_length,
    check_version,
    clean_list,
    clean_text,
    fmt_date,
    load_case,
    office_country,
    snapshot,
    today,
)
from tipdesk.services.derived import refresh_case
from tipdesk.services.persons import (
    PERSON_FIELDS,
    PersonInput,
    apply_person,
    change_person,
    validate_person,
)
from tipdesk.services.records import (  # noqa: F401  (re-exported: the case API in one place)
    CaseDetail,
    CaseInput,
    CaseStatusInfo,
    JusticeStageInfo,
    ReferralInfo,
    RouteEventInfo,
    RouteEventInput,
    ScreeningInfo,
    TraffickingStatusInfo,
    build_case_detail,
)
from tipdesk.services.statuses import (  # noqa: F401  (re-exported)
    ACTUAL,
    NOT_A_VICTIM,
    POSSIBLE,
    CaseStatusChange,
    TraffickingStatusChange,
)
from tipdesk.vault.register import Register, own_office

#: Case columns a ``CaseInput`` sets directly (route and scope are handled apart).
CASE_FIELDS = (
    "registration_date", "identified_by_org_id", "self_referral", "age_when_trafficked",
    "exploitation", "labour_industry", "sex_exploitation", "methods_of_control",
    "recruitment_methods", "relationship_to_trafficker", "consent_given", "consent_services",
    "consent_data_sharing", "consent_referral", "consent_date", "owner_id", "police_reference",
    "victim_as_witness", "notes",
)
_AUDITED = CASE_FIELDS + ("scope", "scope_overridden")
_LABOUR_TYPES = {"ForcedLabour", "ChildLabour", "Servitude"}
_ROUTE_FIELDS = ("kind", "country", "place", "event_date", "description")


@dataclass(frozen=True)
class OwnerInfo:
    """A user who may own cases (an active administrator, case worker or police officer)."""

    id: int
    username: str
    display_name: str
    role: str


@dataclass(frozen=True)
class CaseRules:
    """What validating a case needs to know about the register besides the input."""

    on: dt.date  # today
    organisations: Collection[int]  # ids of known organisations
    owners: Collection[int]  # ids of users who may own cases
    born: dt.date | None = None  # the person's birth date
    age_at_registration: int | None = None


# --- validation (pure: the bulk path of the demo generator uses it too) -------------------------


def cleaned_case(data: CaseInput) -> CaseInput:
    return replace(
        data,
        exploitation=clean_list(data.exploitation), sex_exploitation=clean_list(data.sex_exploitation),
        methods_of_control=clean_list(data.methods_of_control),
        recruitment_methods=clean_list(data.recruitment_methods),
        labour_industry=data.labour_industry or None,
        relationship_to_trafficker=data.relationship_to_trafficker or None,
        route=tuple(replace(e, country=(clean_text(e.country).upper() or None),
                            place=clean_text(e.place), description=clean_text(e.description))
                    for e in data.route),
        scope_override=data.scope_override or None,
        police_reference=clean_text(data.police_reference), notes=clean_text(data.notes),
    )


def validate_case(data: CaseInput, rules: CaseRules) -> Problems:
    """Every problem with a (cleaned) case input, in plain sentences by field."""
    p = Problems()
    on, born = rules.on, rules.born
    check_date(p, "registration_date", data.registration_date, "registration date", on=on,
               born=born, required=True)
    if data.self_referral and data.identified_by_org_id is not None:
        p.add("identified_by_org_id", "A case is either a self-referral or identified by an "
                                      "organisation, not both.")
    if data.identified_by_org_id is not None and data.identified_by_org_id not in rules.organisations:
        p.add("identified_by_org_id", "That identifying organisation does not exist.")
    if data.age_when_trafficked is not None:
        if not isinstance(data.age_when_trafficked, int) or not 0 <= data.age_when_trafficked <= MAX_AGE:
            p.add("age_when_trafficked", f"The age when trafficked must be a whole number from 0 to {MAX_AGE}.")
        elif rules.age_at_registration is not None and data.age_when_trafficked > rules.age_at_registration:
            p.add("age_when_trafficked", "The age when trafficked cannot be more than the age at "
                                         f"registration ({rules.age_at_registration}).")
    check_choices(p, "exploitation", data.exploitation, vocab.EXPLOITATION_TYPES, "type of exploitation")
    check_choice(p, "labour_industry", data.labour_industry, vocab.LABOUR_INDUSTRIES, "industry")
    if data.labour_industry and not _LABOUR_TYPES & set(data.exploitation):
        p.add("labour_industry", "An industry is recorded only for forced labour, child labour or "
                                 "servitude: add one of those types of exploitation, or clear the industry.")
    check_choices(p, "sex_exploitation", data.sex_exploitation, vocab.SEX_EXPLOITATION_TYPES,
                  "type of sexual exploitation")
    if data.sex_exploitation and "SexualExploitation" not in data.exploitation:
        p.add("sex_exploitation", "Types of sexual exploitation are recorded only with sexual "
                                  "exploitation: add it, or clear them.")
    check_choices(p, "methods_of_control", data.methods_of_control, vocab.METHODS_OF_CONTROL,
                  "method of control")
    check_choices(p, "recruitment_methods", data.recruitment_methods, vocab.RECRUITMENT_METHODS,
                  "method of recruitment")
    check_choice(p, "relationship_to_trafficker", data.relationship_to_trafficker,
                 vocab.RELATIONSHIPS, "relationship to the trafficker")
    for i, event in enumerate(data.route):
        field = f"route.{i}"
        check_choice(p, f"{field}.kind", event.kind, vocab.ROUTE_EVENT_TYPES, "kind of route event",
                     required=True)
        if event.country:
            check_countries(p, f"{field}.country", [event.country], "route")
        check_date(p, f"{field}.event_date", event.event_date, "date of the route event", on=on,
                   born=born)
        check_length(p, f"{field}.place", event.place, 200, "place")
        check_length(p, f"{field}.description", event.description, 4000, "description")
    check_choice(p, "scope_override", data.scope_override, vocab.SCOPES, "scope")
    if (data.consent_services or data.consent_data_sharing or data.consent_referral) and not data.consent_given:
        p.add("consent_given", "Consent must be recorded as given before it can cover services, "
                               "data sharing or referral.")
    if data.consent_given:
        check_date(p, "consent_date", data.consent_date, "date consent was given", on=on, born=born,
                   required=True)
    elif data.consent_date is not None:
        check_date(p, "consent_date", data.consent_date, "consent date", on=on, born=born)
    if data.owner_id is not None and data.owner_id not in rules.owners:
        p.add("owner_id", "The case owner must be an active administrator, case worker or police officer.")
    check_length(p, "police_reference", data.police_reference, 64, "police reference")
    check_length(p, "notes", data.notes, 20000, "notes")
    return p


_REFERENCES = text(
    "SELECT (SELECT count(*) FROM organisation WHERE id = :org), "
    "(SELECT role FROM user_account WHERE id = :owner AND active = 1)")


def _rules(s: Session, data: CaseInput, on: dt.date, born: dt.date | None, age: int | None) -> CaseRules:
    """The rules' view of the register, for the organisation and owner this input names."""
    organisations: set[int] = set()
    owners: set[int] = set()
    if data.identified_by_org_id is not None or data.owner_id is not None:
        found_org, owner_role = s.execute(_REFERENCES, {"org": data.identified_by_org_id,
                                                        "owner": data.owner_id}).one()
        if found_org:
            organisations.add(data.identified_by_org_id)
        if owner_role in PERMISSIONS["case.write"]:
            owners.add(data.owner_id)
    return CaseRules(on=on, organisations=organisations, owners=owners, born=born,
                     age_at_registration=age)


def list_owners(reg: Register) -> list[OwnerInfo]:
    """Users who may own cases, by display name."""
    reg.actor.require("case.read")
    roles = PERMISSIONS["case.write"]
    with reg.read() as s:
        rows = s.scalars(select(UserAccount).where(
            UserAccount.active.is_(True), UserAccount.role.in_(sorted(roles)))
            .order_by(UserAccount.display_name)).all()
        return [OwnerInfo(u.id, u.username, u.display_name, u.role) for u in rows]


# --- case numbers --------------------------------------------------------------------------------


def next_case_number(s: Session, office_code: str, year: int) -> str:
    """Issue the next number of ``year`` (inside the caller's write transaction)."""
    seq = s.get(CaseSequence, year)
    if seq is None:
        seq = CaseSequence(year=year, last_number=0)
        s.add(seq)
    seq.last_number += 1
    return format_case_number(office_code, year, seq.last_number)


def format_case_number(office_code: str, year: int, number: int) -> str:
    return f"{office_code}-{year:04d}-{number:04d}"


# --- writing -------------------------------------------------------------------------------------


def _apply_case(case: Case, data: CaseInput) -> None:
    for name in CASE_FIELDS:
        value = getattr(data, name)
        setattr(case, name, list(value) if isinstance(value, tuple) else value)
    case.scope_overridden = data.scope_override is not None
    if data.scope_override is not None:
        case.scope = data.scope_override


def _route_snapshot(events: Iterable[RouteEvent]) -> list[dict]:
    return [{f: as_audit(getattr(e, f)) for f in _ROUTE_FIELDS} for e in events]


def _load_route(s: Session, case: Case) -> list[RouteEvent]:
    if case.id is None:
        return []
    return list(s.scalars(select(RouteEvent).where(RouteEvent.case_id == case.id).order_by(RouteEvent.id)))


def _apply_route(s: Session, case: Case, route: tuple[RouteEventInput, ...], p: Problems,
                 current: list[RouteEvent]) -> list[RouteEvent]:
    existing = {e.id: e for e in current}
    kept: list[RouteEvent] = []
    for i, event in enumerate(route):
        if event.id is not None and event.id not in existing:
            p.add(f"route.{i}", "That route event is not part of this case.")
            continue
        row = existing.pop(event.id) if event.id is not None else RouteEvent(case_id=case.id)
        for f in _ROUTE_FIELDS:
            setattr(row, f, getattr(event, f))
        if row.id is None:
            s.add(row)
        kept.append(row)
    for row in existing.values():
        s.delete(row)
    return kept


def register_case(
    reg: Register,
    case: CaseInput,
    person: PersonInput | None = None,
    *,
    person_id: int | None = None,
    trafficking_status: str = POSSIBLE,
    decided_by: str | None = None,
    status_note: str = "",
    dismissed_duplicates: Iterable[int] = (),
) -> CaseDetail:
    """Register a case: for a new person (``person``) or for one already in the register
    (``person_id``, e.g. after the duplicate warning). The first trafficking status (default
    possible victim) and the case status ``Active`` are effective on the registration date.
    ``dismissed_duplicates``: persons the duplicate warning offered and the worker declined —
    kept in the audit trail."""
    reg.actor.require("case.write")
    if (person is None) == (person_id is None):
        raise UsageError("Register a case either for a new person or for an existing one.")
    on = today()
    data = cleaned_case(case)
    new_person = person.cleaned(on) if person is not None else None
    with reg.write() as s:
        problems = Problems()
        if new_person is not None:
            problems.extend(validate_person(new_person, on))
            born = new_person.birth_date
            age = counting.age_at(data.registration_date, born, new_person.estimated_age,
                                  new_person.age_estimated_on) if data.registration_date else None
            row_person = Person()
        else:
            found = s.get(Person, person_id)
            if found is None:
                raise NotFound("That person does not exist.")
            row_person = found
            born = row_person.birth_date
            age = counting.age_at(data.registration_date, born, row_person.estimated_age,
                                  row_person.age_estimated_on) if data.registration_date else None
        problems.extend(validate_case(data, _rules(s, data, on, born, age)))
        initial = statuses.TraffickingStatusChange(trafficking_status, data.registration_date,
                                                   decided_by or None, clean_text(status_note))
        problems.extend(statuses.trafficking_change_problems(initial))
        problems.raise_if_any()
        if new_person is not None:
            apply_person(row_person, new_person)
            s.add(row_person)
            s.flush()
            audit.record(s, reg.actor, "person_added", "person", row_person.id,
                         snapshot(row_person, PERSON_FIELDS))
        office = own_office(s)
        country = office_country(s)
        row = Case(person_id=row_person.id,
                   case_number=next_case_number(s, office.code or "", data.registration_date.year))
        _apply_case(row, data)
        # Derived columns before the first flush: one INSERT, no follow-up UPDATE.
        refresh_case(row, row_person, country, [e.country for e in data.route])
        row.trafficking_status, row.case_status = initial.status, "Active"
        s.add(row)
        s.flush()
        route = _apply_route(s, row, data.route, problems, [])
        problems.raise_if_any()
        statuses.add_trafficking_status(s, reg.actor, row, initial, on, first=True)
        statuses.apply_case_status_change(
            s, reg.actor, row, statuses.CaseStatusChange("Active", data.registration_date), on,
            first=True)
        audit.record(s, reg.actor, "case_registered", "case", row.id, {
            "case_number": row.case_number, "person_id": row_person.id,
            **snapshot(row, _AUDITED), "route": _route_snapshot(route),
            "trafficking_status": initial.status, "decided_by": initial.decided_by,
            "case_status": "Active",
            "dismissed_duplicates": sorted(int(i) for i in dismissed_duplicates),
        })
        return build_case_detail(s, row, can_see_pii(reg.actor))


def update_case(
    reg: Register,
    case_id: int,
    data: CaseInput,
    *,
    person: PersonInput | None = None,
    expected_version: int | None = None,
) -> CaseDetail:
    """Save an edited case (and its person's details, when given) in one transaction; every
    changed field is audited old → new. A changed registration date moves the registration
    entries of both status histories with it."""
    reg.actor.require("case.write")
    on = today()
    data = cleaned_case(data)
    new_person = person.cleaned(on) if person is not None else None
    with reg.write() as s:
        case = load_case(s, case_id)
        check_version(case, expected_version)
        row_person = case.person
        problems = Problems()
        if new_person is not None:
            problems.extend(validate_person(new_person, on))
            born, est, est_on = new_person.birth_date, new_person.estimated_age, new_person.age_estimated_on
        else:
            born, est, est_on = row_person.birth_date, row_person.estimated_age, row_person.age_estimated_on
        age = counting.age_at(data.registration_date, born, est, est_on) if data.registration_date else None
        problems.extend(validate_case(data, _rules(s, data, on, born, age)))
        if new_person is not None and born is not None and born != row_person.birth_date:
            first = s.execute(select(Case.registration_date).where(
                Case.person_id == row_person.id, Case.id != case.id)
                .order_by(Case.registration_date).limit(1)).scalar()
            if first is not None and born > first:
                problems.add("birth_date", "The birth date is after the registration of another "
                                           f"case of this person ({fmt_date(first)}).")
        if data.registration_date and data.registration_date != case.registration_date:
            _check_registration_move(s, case, data.registration_date, problems)
        problems.raise_if_any()

        country = office_country(s)  # read before anything changes: no flush in between
        before = snapshot(case, _AUDITED)
        current_route = _load_route(s, case)
        route_before = _route_snapshot(current_route)
        if new_person is not None:
            change_person(s, reg.actor, row_person, new_person)
        old_registration = case.registration_date
        _apply_case(case, data)
        route = _apply_route(s, case, data.route, problems, current_route)
        problems.raise_if_any()
        refresh_case(case, row_person, country, [e.country for e in route])
        diff = audit.changes(before, snapshot(case, _AUDITED))
        route_after = _route_snapshot(route)
        if route_after != route_before:
            diff["route"] = [route_before, route_after]
        if diff:
            case.updated_at = utcnow()  # before the flush below: one UPDATE of the case row
        if case.registration_date != old_registration:
            _move_registration_entries(s, case, old_registration)
        if diff:
            audit.record(s, reg.actor, "case_changed", "case", case.id, diff)
        return build_case_detail(s, case, can_see_pii(reg.actor))


def _check_registration_move(s: Session, case: Case, new_date: dt.date, p: Problems) -> None:
    for model, what in ((TraffickingStatusEntry, "trafficking status"), (CaseStatusEntry, "case status")):
        entries = s.scalars(select(model).where(model.case_id == case.id)
                            .order_by(model.effective_date, model.id)).all()
        later = [e for e in entries[1:] if e.effective_date < new_date]
        if later:
            p.add("registration_date", f"The registration date cannot be after the {what} change "
                                       f"of {fmt_date(later[0].effective_date)}.")


def _move_registration_entries(s: Session, case: Case, old_date: dt.date) -> None:
    for model in (TraffickingStatusEntry, CaseStatusEntry):
        first = s.scalars(select(model).where(model.case_id == case.id)
                          .order_by(model.effective_date, model.id).limit(1)).first()
        if first is not None and first.effective_date == old_date:
            first.effective_date = case.registration_date


# --- reading -------------------------------------------------------------------------------------


def get_case(reg: Register, case_id: int) -> CaseDetail:
    """Open a case with everything attached; audited as ``case_viewed``."""
    reg.actor.require("case.read")
    with reg.write() as s:
        detail = build_case_detail(s, int(case_id), can_see_pii(reg.actor))
        audit.record(s, reg.actor, "case_viewed", "case", detail.id, {"case_number": detail.case_number})
        return detail


def find_case_id(reg: Register, case_number: str) -> int:
    """The id of the case with this number (case numbers are not personal data)."""
    reg.actor.require("case.read")
    with reg.read() as s:
        found = s.scalars(select(Case.id).where(Case.case_number == case_number.strip().upper())).first()
    if found is None:
        raise NotFound(f"There is no case {case_number.strip()} in this register.")
    return found


# --- statuses ------------------------------------------------------------------------------------


def change_trafficking_status(
    reg: Register, case_id: int, change: TraffickingStatusChange, expected_version: int | None = None,
) -> CaseDetail:
    """Add a dated trafficking-status decision (an actual victim needs the deciding body)."""
    reg.actor.require("case.write")
    with reg.write() as s:
        case = load_case(s, case_id)
        check_version(case, expected_version)
        statuses.add_trafficking_status(s, reg.actor, case, change, today())
        return build_case_detail(s, case, can_see_pii(reg.actor))


def change_case_status(
    reg: Register, case_id: int, change: CaseStatusChange, expected_version: int | None = None,
) -> CaseDetail:
    """Move a case to Active, FollowUp, Closed or ClosedReferred on a date (closing needs a
    reason). The rules and effects live in ``statuses.check_case_status_change`` and
    ``statuses._after_case_status_change``."""
    reg.actor.require("case.write")
    with reg.write() as s:
        case = load_case(s, case_id)
        check_version(case, expected_version)
        statuses.apply_case_status_change(s, reg.actor, case, change, today())
        return build_case_detail(s, case, can_see_pii(reg.actor))


def undo_status_change(
    reg: Register, case_id: int, which: str, expected_version: int | None = None,
) -> CaseDetail:
    """Undo the latest change of the ``"trafficking"`` or ``"case"`` status history (audited)."""
    reg.actor.require("case.write")
    if which not in ("trafficking", "case"):
        raise UsageError("Say which status history: trafficking or case.")
    with reg.write() as s:
        case = load_case(s, case_id)
        check_version(case, expected_version)
        statuses.remove_latest_entry(s, reg.actor, case, which)
        return build_case_detail(s, case, can_see_pii(reg.actor))


def case_detail_in(s: Session, reg: Register, case: Case) -> CaseDetail:
    """``CaseDetail`` of a case changed in the caller's transaction (not audited as a view)."""
    return build_case_detail(s, case, can_see_pii(reg.actor))
