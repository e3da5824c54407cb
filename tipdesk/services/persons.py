"""Persons: who a case is about. Names, contacts and identity numbers are personal data that
only roles holding ``case.read_pii`` receive; for others services return them blank."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, replace

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Case, Person, RouteEvent, utcnow, vocab
from tipdesk import counting
from tipdesk.security import audit
from tipdesk.security.roles import Actor
from tipdesk.services.common import (
    MAX_AGE,
    Problems,
    can_see_pii,
    check_choice,
    check_countries,
    check_date,
    check_length,
    clean_list,
    clean_text,
    office_country,
    snapshot,
    today,
)
from tipdesk.services.derived import refresh_case, refresh_person
from tipdesk.errors import NotFound
from tipdesk.vault.register import Register

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PHONE = re.compile(r"^[0-9+()\-./ ]{3,64}$")
_LANGUAGE = re.compile(r"^[a-z]{2,3}$")

#: The fields of a person that are personal data (blank for roles without ``case.read_pii``).
PII_FIELDS = ("given_names", "family_names", "aliases", "birth_date", "identity_number", "phone",
              "email", "address")
PERSON_FIELDS = ("given_names", "family_names", "aliases", "birth_date", "estimated_age",
                 "age_estimated_on", "gender", "citizenships", "languages", "identity_number",
                 "phone", "email", "address")


@dataclass(frozen=True)
class PersonInput:
    """What a worker enters about a person (intake or correction)."""

    given_names: str = ""
    family_names: str = ""
    aliases: tuple[str, ...] = ()
    birth_date: dt.date | None = None
    estimated_age: int | None = None
    age_estimated_on: dt.date | None = None  # defaults to today when an age is estimated
    gender: str = "NonSpecifiedUnknown"  # HTCDS prs_Gender
    citizenships: tuple[str, ...] = ()  # ISO 3166-1 alpha-3, first = main
    languages: tuple[str, ...] = ()  # ISO 639 codes (e.g. en, es, ht)
    identity_number: str = ""
    phone: str = ""
    email: str = ""
    address: str = ""

    def cleaned(self, on: dt.date | None = None) -> PersonInput:
        """Trimmed text, upper-case country codes, lower-case language codes, and the date of
        an estimate filled in with ``on`` (today) when missing."""
        estimated_on = self.age_estimated_on
        if self.estimated_age is not None and estimated_on is None:
            estimated_on = on or today()
        if self.estimated_age is None:
            estimated_on = None
        return replace(
            self,
            given_names=clean_text(self.given_names),
            family_names=clean_text(self.family_names),
            aliases=clean_list(self.aliases),
            age_estimated_on=estimated_on,
            gender=self.gender or "NonSpecifiedUnknown",
            citizenships=clean_list(self.citizenships, upper=True),
            languages=tuple(v.lower() for v in clean_list(self.languages)),
            identity_number=clean_text(self.identity_number),
            phone=clean_text(self.phone),
            email=clean_text(self.email),
            address=clean_text(self.address),
        )


@dataclass(frozen=True)
class PersonDetail:
    """A person as a service returns it; personal fields blank when ``names_visible`` is False."""

    id: int
    given_names: str
    family_names: str
    aliases: tuple[str, ...]
    birth_date: dt.date | None
    estimated_age: int | None
    age_estimated_on: dt.date | None
    gender: str
    citizenships: tuple[str, ...]
    languages: tuple[str, ...]
    identity_number: str
    phone: str
    email: str
    address: str
    names_visible: bool

    @property
    def sex(self) -> str:
        return counting.sex_of_gender(self.gender)

    @property
    def display_name(self) -> str:
        return display_name(self.given_names, self.family_names, self.aliases, self.names_visible)

    def age_on(self, day: dt.date) -> int | None:
        return counting.age_at(day, self.birth_date, self.estimated_age, self.age_estimated_on)

    def to_input(self) -> PersonInput:
        return PersonInput(
            given_names=self.given_names, family_names=self.family_names, aliases=self.aliases,
            birth_date=self.birth_date, estimated_age=self.estimated_age,
            age_estimated_on=self.age_estimated_on, gender=self.gender,
            citizenships=self.citizenships, languages=self.languages,
            identity_number=self.identity_number, phone=self.phone, email=self.email,
            address=self.address,
        )


HIDDEN_NAME = "(name hidden)"


def display_name(given: str, family: str, aliases: tuple[str, ...] | list[str] = (),
                 visible: bool = True) -> str:
    """``FAMILY, Given`` as lists show it; the first alias in quotes when no name is known."""
    if not visible:
        return HIDDEN_NAME
    if family and given:
        return f"{family}, {given}"
    if family or given:
        return family or given
    if aliases:
        return f"“{aliases[0]}”"
    return "(no name)"


def detail_of(person: Person, pii: bool) -> PersonDetail:
    """A ``PersonDetail``; without ``pii`` the personal fields are blank (age stays known:
    an estimated age is kept, and a birth date becomes the age it gives today)."""
    if pii:
        return PersonDetail(
            person.id, person.given_names, person.family_names, tuple(person.aliases),
            person.birth_date, person.estimated_age, person.age_estimated_on, person.gender,
            tuple(person.citizenships), tuple(person.languages), person.identity_number,
            person.phone, person.email, person.address, True,
        )
    on = today()
    age = counting.age_at(on, person.birth_date, person.estimated_age, person.age_estimated_on)
    return PersonDetail(
        person.id, "", "", (), None, age, on if age is not None else None, person.gender,
        tuple(person.citizenships), tuple(person.languages), "", "", "", "", False,
    )


def validate_person(data: PersonInput, on: dt.date) -> Problems:
    """Every problem with ``data`` (already ``cleaned``), in plain sentences by field."""
    p = Problems()
    if not (data.given_names or data.family_names or data.aliases):
        p.add("given_names", "Enter a name, or at least an alias or nickname the person is known by.")
    check_length(p, "given_names", data.given_names, 200, "given names")
    check_length(p, "family_names", data.family_names, 200, "family names")
    for alias in data.aliases:
        check_length(p, "aliases", alias, 200, "alias")
    if data.birth_date is not None and data.estimated_age is not None:
        p.add("estimated_age", "Give either the birth date or an estimated age, not both.")
    check_date(p, "birth_date", data.birth_date, "birth date", on=on)
    if data.birth_date is not None and counting.whole_years(data.birth_date, on) > MAX_AGE:
        if not any(x.field == "birth_date" for x in p):
            p.add("birth_date", f"The birth date gives an age over {MAX_AGE}: check the year.")
    if data.estimated_age is not None:
        if not isinstance(data.estimated_age, int) or not 0 <= data.estimated_age <= MAX_AGE:
            p.add("estimated_age", f"An estimated age must be a whole number from 0 to {MAX_AGE}.")
        check_date(p, "age_estimated_on", data.age_estimated_on, "date of the age estimate", on=on)
    check_choice(p, "gender", data.gender, vocab.GENDERS, "gender", required=True)
    check_countries(p, "citizenships", data.citizenships, "citizenships")
    bad_languages = [x for x in data.languages if not _LANGUAGE.match(x)]
    if bad_languages:
        p.add("languages", "Languages are two- or three-letter ISO 639 codes (e.g. en, es, ht), "
                           f"not: {', '.join(bad_languages)}.")
    check_length(p, "identity_number", data.identity_number, 64, "identity number")
    if data.phone and not _PHONE.match(data.phone):
        p.add("phone", "A phone number may hold digits, spaces, + - ( ) . / only.")
    check_length(p, "email", data.email, 200, "e-mail address")
    if data.email and not _EMAIL.match(data.email):
        p.add("email", "The e-mail address does not look like one (name@example.org).")
    check_length(p, "address", data.address, 2000, "address")
    return p


def apply_person(person: Person, data: PersonInput) -> None:
    """Copy a validated input onto a row (lists as new lists: in-place edits are not tracked)."""
    for name in PERSON_FIELDS:
        value = getattr(data, name)
        setattr(person, name, list(value) if isinstance(value, tuple) else value)
    refresh_person(person)


def refresh_cases_of(s: Session, person: Person) -> None:
    """Recompute the derived columns of every case of ``person`` (sex, age, scope…)."""
    country = office_country(s)
    cases = s.scalars(select(Case).where(Case.person_id == person.id)).all()
    if not cases:
        return
    routes: dict[int, list[str | None]] = {c.id: [] for c in cases}
    for case_id, country_code in s.execute(
        select(RouteEvent.case_id, RouteEvent.country).where(RouteEvent.case_id.in_(list(routes)))
    ):
        routes[case_id].append(country_code)
    for case in cases:
        refresh_case(case, person, country, routes[case.id])
        case.updated_at = utcnow()


def change_person(s: Session, actor: Actor, person: Person, data: PersonInput) -> dict:
    """Apply ``data`` to ``person`` inside the caller's transaction: derived columns of all the
    person's cases follow, and the change is audited. Returns the audited changes."""
    before = snapshot(person, PERSON_FIELDS)
    if before == snapshot(data, PERSON_FIELDS):
        return {}  # nothing changed: leave the row (and its cases) alone
    apply_person(person, data)
    after = snapshot(person, PERSON_FIELDS)
    diff = audit.changes(before, after)
    if diff:
        person.updated_at = utcnow()
        refresh_cases_of(s, person)
        audit.record(s, actor, "person_changed", "person", person.id, diff)
    return diff


def update_person(reg: Register, person_id: int, data: PersonInput) -> PersonDetail:
    """Correct a person's details; every case of the person follows (sex, age, scope)."""
    reg.actor.require("case.write")
    reg.actor.require("case.read_pii")
    on = today()
    data = data.cleaned(on)
    with reg.write() as s:
        person = s.get(Person, person_id)
        if person is None:
            raise NotFound("That person does not exist.")
        problems = validate_person(data, on)
        _check_dates_after_birth(s, person, data, problems)
        problems.raise_if_any()
        change_person(s, reg.actor, person, data)
        return detail_of(person, True)


def _check_dates_after_birth(s: Session, person: Person, data: PersonInput, problems: Problems) -> None:
    """A new birth date may not fall after dates already recorded on the person's cases."""
    if data.birth_date is None:
        return
    first = s.execute(
        select(Case.registration_date).where(Case.person_id == person.id)
        .order_by(Case.registration_date).limit(1)
    ).scalar()
    if first is not None and data.birth_date > first:
        problems.add("birth_date", "The birth date is after the registration of this person's case "
                                   f"({first.isoformat()}).")


def get_person(reg: Register, person_id: int) -> PersonDetail:
    """A person's details (personal fields blank for roles that may not see them); reading
    them is audited as ``person_viewed``."""
    reg.actor.require("case.read")
    with reg.write() as s:
        person = s.get(Person, person_id)
        if person is None:
            raise NotFound("That person does not exist.")
        audit.record(s, reg.actor, "person_viewed", "person", person.id)
        return detail_of(person, can_see_pii(reg.actor))
