"""The demo's persons and cases, with their status histories and routes.

Every person-related draw happens in the same order whatever the date and the office code:
birth dates count back from a fixed epoch, and only registration dates count back from
``ctx.today`` (so two offices' demo registers made with one seed share every person).
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field
from types import SimpleNamespace

from models import vocab
from tipdesk import counting
from tipdesk.demo import data
from tipdesk.demo.context import (
    DemoCase,
    DemoContext,
    DemoRuleBroken,
    flag,
    iso,
    js,
    pick,
    ri,
    sample,
    weighted,
)
from tipdesk.names import fold, name_key
from tipdesk.services.cases import CaseInput, CaseRules, RouteEventInput, format_case_number, validate_case
from tipdesk.services.derived import refresh_case
from tipdesk.services.persons import PersonInput, validate_person
from tipdesk.services.statuses import (
    ACTUAL,
    NOT_A_VICTIM,
    POSSIBLE,
    CaseStatusChange,
    TraffickingStatusChange,
    case_change_problems,
    trafficking_change_problems,
)

#: Birth dates count back from here, not from today (see the module docstring).
EPOCH = dt.date(2026, 1, 1)
YEARS_OF_CASES = 6
REPEAT_SHARE = 0.03  # cases of a person who already has one (re-trafficked)

_CHILD_AGES = ((9, 2), (10, 2), (11, 3), (12, 5), (13, 8), (14, 12), (15, 16), (16, 20), (17, 22))
_IDENTIFIERS = tuple((p[0], p[4]) for p in data.PARTNERS)
_CONTROL = vocab.names(vocab.METHODS_OF_CONTROL)[:-1]  # without "Other"
_RECRUITMENT = vocab.names(vocab.RECRUITMENT_METHODS)
_RELATIONSHIPS = (("Acquainted", 40), ("Familial", 20), ("Unaquainted", 25), (None, 15))
_OWNERS = (("caseworker", 55), ("police", 25), ("admin", 10), (None, 10))
_OTHER_GENDERS = ("TransgenderFeminine", "TransgenderMasculine", "NonConforming", "NonSpecifiedUnknown")
_LABOUR = {"ForcedLabour", "ChildLabour", "Servitude"}
_STREETS = ("Main Street", "Church Street", "Hope Road", "Market Lane", "Orange Street",
            "Windward Road", "Spanish Town Road", "Barnett Street", "Bay Road", "Hill Top")
_NOTES = (
    "Anxious about family at home; prefers a female interviewer.",
    "Needs medical follow-up; appointment arranged.",
    "Speaks little English; interpreter used at intake.",
    "Was promised hotel work; passport taken on arrival.",
    "Reports debts to the recruiter; afraid to go to the police.",
    "School enrolment to be arranged with the family.",
    "Safety plan agreed; phone contact only through the office.",
)


@dataclass
class _PersonPlan:
    index: int
    given: str
    family: str
    aliases: list[str]
    gender: str
    birth: dt.date | None
    estimated_age: int | None  # known only as an estimate (made at registration)
    age_target: int
    citizenships: list[str]
    languages: list[str]
    identity_number: str
    phone: str
    email: str
    address: str
    offset: int  # days before today of the person's first registration
    id: int = 0
    estimated_on: dt.date | None = None  # the date of the estimate (the first registration)


@dataclass
class _CasePlan:
    index: int
    person: _PersonPlan
    offset: int  # days before today
    forms: list[str]
    labour_industry: str | None
    sex_exploitation: list[str]
    control: list[str]
    recruitment: list[str]
    relationship: str | None
    identified_by: str | None  # partner code, "self" or None
    age_when_trafficked_gap: int | None
    route: list[tuple[str, str | None, str, int | None]]  # kind, country, place, days before registration
    consent: tuple[bool, bool, bool, bool]
    owner_role: str | None
    police_reference: bool
    police_number: int
    victim_as_witness: bool
    note: str
    initial: tuple[str, str | None]
    status_change: tuple[int, str, str | None, str] | None  # days after registration, status, body, note
    case_changes: list[tuple[int, str, str]] = field(default_factory=list)  # days after, status, reason


# --- drawing -----------------------------------------------------------------------------------------


def _draw_person(rng: random.Random, index: int) -> _PersonPlan:
    # Draws may depend on earlier draws, never on today or the office: the same stream whatever
    # the date.
    rand = rng.random
    group = weighted(rng, data.SEX_AGE_SHARES)
    if group in ("woman", "girl"):
        gender = "Feminine"
    elif group in ("man", "boy"):
        gender = "Masculine"
    else:
        gender = pick(rng, _OTHER_GENDERS)
    if group in ("girl", "boy"):
        age = weighted(rng, _CHILD_AGES)
    elif group == "other":
        age = ri(rng, 17, 40)
    else:
        age = 18 + min(int(rng.expovariate(1 / 9)), 47)
    knowledge = rand()
    citizenship = weighted(rng, data.CITIZENSHIP_SHARES)
    citizenships = [citizenship] if citizenship else []
    if citizenship == "JAM" and rand() < 0.03:
        citizenships.append(pick(rng, ("USA", "GBR", "CAN")))
    pool = data.NAME_POOL_OF[citizenship]
    sex_key = "M" if gender in ("Masculine", "TransgenderMasculine") else "F"
    given = pick(rng, data.GIVEN[pool][sex_key])
    if pool == "english" and rand() < 0.15:
        given = f"{given} {pick(rng, data.GIVEN[pool][sex_key])}"
    family = pick(rng, data.FAMILY[pool])
    if pool == "spanish" and rand() < 0.4:
        family = f"{family} {pick(rng, data.FAMILY[pool])}"
    alias = pick(rng, data.NICKNAMES) if rand() < 0.15 else ""
    days_into_year = ri(rng, 0, 364)
    offset = ri(rng, 0, YEARS_OF_CASES * 365)
    # Birth counts back from the epoch by the registration offset and the age: whatever today is,
    # the same seed gives the same birth date.
    birth = EPOCH - dt.timedelta(days=offset + age * 365 + days_into_year)
    languages = _LANGUAGES[pool]
    if citizenship and citizenship != "JAM" and pool != "english" and rand() < 0.3:
        languages = [*languages, "en"]
    identity = phone = email = address = ""
    if rand() < 0.5:
        digits = str(ri(rng, 100_000_000, 999_999_999))
        identity = f"{digits[:3]}-{digits[3:6]}-{digits[6:]}" if citizenship == "JAM" else f"P{digits[2:]}"
    if rand() < 0.6:
        digits = str(ri(rng, 2_000_000, 9_999_999))
        phone = f"876-{digits[:3]}-{digits[3:]}"
    if rand() < 0.15:
        local = ".".join(fold(f"{given.split()[0]} {family.split()[0] if family else ''}").split())
        email = f"{local}{ri(rng, 1, 99)}@example.com"
    if rand() < 0.5:
        address = f"{ri(rng, 1, 120)} {pick(rng, _STREETS)}, {pick(rng, data.JAMAICAN_PLACES)}"
    return _PersonPlan(
        index=index, given=given, family=family, aliases=[alias] if alias else [], gender=gender,
        birth=birth if knowledge < 0.80 else None,
        estimated_age=age if 0.80 <= knowledge < 0.95 else None, age_target=age,
        citizenships=citizenships, languages=languages, identity_number=identity, phone=phone,
        email=email, address=address, offset=offset,
    )


_LANGUAGES = {"english": ["en"], "guyanese": ["en"], "spanish": ["es"], "haitian": ["ht", "fr"],
              "burmese": ["my"]}


def _draw_forms(rng: random.Random, person: _PersonPlan) -> list[str]:
    child = person.age_target < 18
    table = data.FORMS["child" if child else ("M" if person.gender in ("Masculine", "TransgenderMasculine") else "F")]
    first = weighted(rng, table)
    r = rng.random()
    if r < 0.03:
        return []
    if r < 0.11:
        second = weighted(rng, table)
        if second != first:
            return [first, second]
    return [first]


def _draw_route(rng: random.Random, person: _PersonPlan) -> list[tuple[str, str | None, str, int | None]]:
    citizenship = person.citizenships[0] if person.citizenships else ""
    r = rng.random()
    if r < 0.10 or (not citizenship and r >= 0.55):
        return []
    recruited = ri(rng, 30, 900)
    exploited = ri(rng, 1, recruited)
    dated = rng.random() < 0.75
    rec = recruited if dated else None
    exp = exploited if dated else None
    exploited_in = pick(rng, data.JAMAICAN_PLACES)
    if citizenship == "JAM":
        recruited_in = pick(rng, data.JAMAICAN_PLACES)
        if r < 0.82:
            return [("Recruitment", "JAM", recruited_in, rec), ("Exploitation", "JAM", exploited_in, exp)]
        abroad = weighted(rng, data.ABROAD)
        return [("Recruitment", "JAM", recruited_in, rec),
                ("Exploitation", abroad, pick(rng, data.FOREIGN_PLACES[abroad]), exp)]
    if not citizenship:
        return [("Exploitation", "JAM", exploited_in, exp)]
    events: list[tuple[str, str | None, str, int | None]] = [
        ("Recruitment", citizenship, pick(rng, data.FOREIGN_PLACES.get(citizenship, ["Kingston"])), rec)]
    transits = data.TRANSIT.get(citizenship, [])
    if transits and rng.random() < 0.5:
        country = pick(rng, transits)
        mid = (recruited + exploited) // 2 if dated else None
        events.append(("Transit", country, data.FOREIGN_PLACES[country][0], mid))
    events.append(("Exploitation", "JAM", exploited_in, exp))
    return events


def _draw_case(rng: random.Random, index: int, person: _PersonPlan, offset: int) -> _CasePlan:
    rand = rng.random
    forms = _draw_forms(rng, person)
    industry = weighted(rng, data.LABOUR_INDUSTRIES) if _LABOUR & set(forms) else None
    sex_types: list[str] = []
    if "SexualExploitation" in forms:
        sex_types.append(weighted(rng, data.SEX_EXPLOITATION))
        if rand() < 0.15:
            extra = weighted(rng, data.SEX_EXPLOITATION)
            if extra not in sex_types:
                sex_types.append(extra)
    control = sample(rng, _CONTROL, ri(rng, 1, 3))
    recruitment = [pick(rng, _RECRUITMENT)] if rand() < 0.7 else []
    relationship = weighted(rng, _RELATIONSHIPS)
    ident = rand()
    identified_by = weighted(rng, _IDENTIFIERS) if ident < 0.70 else ("self" if ident < 0.85 else None)
    gap = ri(rng, 0, 2) if rand() < 0.75 else None
    route = _draw_route(rng, person)
    consent_given = rand() < 0.92
    consent = (consent_given, consent_given and rand() < 0.95,
               consent_given and rand() < 0.85, consent_given and rand() < 0.80)
    owner_role = weighted(rng, _OWNERS)
    police = rand() < 0.45
    police_number = ri(rng, 1, 99_999) if police else 0
    witness = police and rand() < 0.4
    note = pick(rng, _NOTES) if rand() < 0.3 else ""
    # trafficking status
    r = rand()
    if r < 0.10:
        initial = (ACTUAL, "Police")
    elif r < 0.16:
        initial = (NOT_A_VICTIM, None)
    else:
        initial = (POSSIBLE, None)
    status_change = None
    not_note = ""
    if initial[0] == POSSIBLE:
        c = rand()
        if c < 0.50:
            status_change = (ri(rng, 14, 240), ACTUAL, weighted(rng, data.DECIDERS), "")
        elif c < 0.65:
            not_note = pick(rng, data.NOT_A_VICTIM_NOTES)
            status_change = (ri(rng, 14, 240), NOT_A_VICTIM, None, not_note)
    elif initial[0] == NOT_A_VICTIM:
        not_note = pick(rng, data.NOT_A_VICTIM_NOTES)
    # case status
    changes: list[tuple[int, str, str]] = []
    if not_note:
        at = status_change[0] if status_change else 0
        changes.append((at + ri(rng, 1, 30), "Closed", "Not a victim of trafficking: " + not_note))
    else:
        k = rand()
        if k < 0.45:
            status = "Closed" if k < 0.35 else "ClosedReferred"
            why = pick(rng, data.CLOSURE_REASONS if status == "Closed" else data.REFERRED_REASONS)
            if rand() < 0.6:
                follow = ri(rng, 30, 200)
                changes += [(follow, "FollowUp", ""), (follow + ri(rng, 90, 720), status, why)]
            else:
                changes.append((ri(rng, 60, 400), status, why))
        elif k < 0.70:
            changes.append((ri(rng, 30, 200), "FollowUp", ""))
    return _CasePlan(
        index=index, person=person, offset=offset, forms=forms, labour_industry=industry,
        sex_exploitation=sex_types, control=control, recruitment=recruitment,
        relationship=relationship, identified_by=identified_by, age_when_trafficked_gap=gap,
        route=route, consent=consent, owner_role=owner_role, police_reference=police,
        police_number=police_number, victim_as_witness=witness, note=note, initial=initial,
        status_change=status_change, case_changes=changes,
    )


def draw_plans(rng: random.Random, count: int) -> list[_CasePlan]:
    """Every case's plan, in generation order (no dependency on today or the office)."""
    plans: list[_CasePlan] = []
    persons: list[_PersonPlan] = []
    for i in range(count):
        repeat = rng.random() < REPEAT_SHARE and persons
        earlier = rng.randrange(len(persons)) if persons else 0
        if repeat:
            person = persons[earlier]
            offset = ri(rng, 0, YEARS_OF_CASES * 365)
            # the same person's later (or earlier) case: not before they were born
            offset = min(offset, person.offset + person.age_target * 365)
        else:
            person = _draw_person(rng, len(persons))
            persons.append(person)
            offset = person.offset
        plans.append(_draw_case(rng, i, person, offset))
    return plans


# --- writing ------------------------------------------------------------------------------------------

_PERSON_COLUMNS = ("id", "given_names", "family_names", "aliases", "birth_date", "estimated_age",
                   "age_estimated_on", "gender", "citizenships", "languages", "identity_number",
                   "phone", "email", "address", "name_key", "created_at", "updated_at")
_CASE_COLUMNS = (
    "id", "case_number", "person_id", "registration_date", "identified_by_org_id", "self_referral",
    "age_when_trafficked", "exploitation", "labour_industry", "sex_exploitation",
    "methods_of_control", "recruitment_methods", "relationship_to_trafficker", "scope",
    "scope_overridden", "consent_given", "consent_services", "consent_data_sharing",
    "consent_referral", "consent_date", "owner_id", "police_reference", "victim_as_witness", "notes",
    "trafficking_status", "case_status", "sex", "age_at_registration", "age_group", "expl_sexual",
    "expl_labour", "expl_other", "next_followup_due", "high_risk", "created_at", "updated_at",
    "version",
)
_TS_COLUMNS = ("case_id", "effective_date", "status", "decided_by", "note", "entered_at", "entered_by")
_CS_COLUMNS = ("case_id", "effective_date", "status", "reason", "entered_at", "entered_by")
_ROUTE_COLUMNS = ("case_id", "kind", "country", "place", "event_date", "description")


def _person_input(p: _PersonPlan) -> PersonInput:
    return PersonInput(
        given_names=p.given, family_names=p.family, aliases=tuple(p.aliases), birth_date=p.birth,
        estimated_age=p.estimated_age, age_estimated_on=p.estimated_on,
        gender=p.gender, citizenships=tuple(p.citizenships), languages=tuple(p.languages),
        identity_number=p.identity_number, phone=p.phone, email=p.email, address=p.address,
    )


def _is_child(age_when_trafficked: int | None, age: int | None) -> bool:
    known = age_when_trafficked if age_when_trafficked is not None else age
    return known is not None and known < 18


def run_cases(ctx: DemoContext) -> None:
    """Persons, cases, both status histories and routes of ``ctx.target_cases`` cases."""
    count = ctx.target_cases
    plans = draw_plans(ctx.rng, count)
    today = ctx.today
    registered = {
        pl.index: max(today - dt.timedelta(days=pl.offset),
                      (pl.person.birth or dt.date.min) + dt.timedelta(days=1))
        for pl in plans
    }
    for pl in plans:
        registered[pl.index] = min(registered[pl.index], today)
    plans.sort(key=lambda pl: (registered[pl.index], pl.index))
    organisations = set(ctx.partners.values()) | {ctx.office.id}
    owners = {v for k, v in ctx.users.items() if k in ("admin", "caseworker", "police")}
    sequence: dict[int, int] = {}
    next_person = 1
    next_case = 1
    created_persons: set[int] = set()
    keys: dict[tuple[str, ...], str] = {}  # folded names, memoised: names repeat a lot
    country = ctx.office.country
    for batch in ctx.batches(plans):
        persons_rows, case_rows, ts_rows, cs_rows, route_rows = [], [], [], [], []
        for pl in batch:
            reg_date = registered[pl.index]
            person = pl.person
            new_person = id(person) not in created_persons
            if new_person and person.estimated_age is not None:
                person.estimated_on = reg_date  # the estimate was made at the first registration
            person_input = _person_input(person)
            if new_person:
                problems = validate_person(person_input, today)
                if problems:
                    raise DemoRuleBroken("person", problems)
                person.id = next_person
                next_person += 1
                created_persons.add(id(person))
                stamp = ctx.stamp_on(reg_date, 10)
                persons_rows.append((
                    person.id, person.given, person.family, js(person.aliases), iso(person.birth),
                    person.estimated_age, iso(person_input.age_estimated_on), person.gender,
                    js(person.citizenships), js(person.languages), person.identity_number,
                    person.phone, person.email, person.address,
                    keys.get((person.given, person.family, *person.aliases))
                    or keys.setdefault((person.given, person.family, *person.aliases),
                                       name_key(person.given, person.family, person.aliases)),
                    stamp, stamp,
                ))
            age = counting.age_at(reg_date, person.birth, person.estimated_age, person.estimated_on)
            case_id = next_case
            next_case += 1
            year = reg_date.year
            sequence[year] = sequence.get(year, 0) + 1
            number = format_case_number(ctx.office.code, year, sequence[year])
            route_inputs = tuple(
                RouteEventInput(kind, c, place, reg_date - dt.timedelta(days=days) if days is not None else None)
                for kind, c, place, days in pl.route
            )
            # route dates never before birth
            if person.birth is not None:
                route_inputs = tuple(
                    RouteEventInput(e.kind, e.country, e.place,
                                    max(e.event_date, person.birth) if e.event_date else None)
                    for e in route_inputs
                )
            identified = ctx.partners.get(pl.identified_by or "") if pl.identified_by not in (None, "self") else None
            owner = ctx.users.get(pl.owner_role) if pl.owner_role else None
            police_ref = f"JCF/{year}/{pl.police_number:05d}" if pl.police_reference else ""
            consent_given, c_services, c_sharing, c_referral = pl.consent
            when_trafficked = (max(age - pl.age_when_trafficked_gap, 0)
                               if age is not None and pl.age_when_trafficked_gap is not None else None)
            case_input = CaseInput(
                registration_date=reg_date, identified_by_org_id=identified,
                self_referral=pl.identified_by == "self", age_when_trafficked=when_trafficked,
                exploitation=tuple(pl.forms), labour_industry=pl.labour_industry,
                sex_exploitation=tuple(pl.sex_exploitation), methods_of_control=tuple(pl.control),
                recruitment_methods=tuple(pl.recruitment),
                relationship_to_trafficker=pl.relationship, route=route_inputs,
                consent_given=consent_given, consent_services=c_services,
                consent_data_sharing=c_sharing, consent_referral=c_referral,
                consent_date=reg_date if consent_given else None, owner_id=owner,
                police_reference=police_ref, victim_as_witness=pl.victim_as_witness, notes=pl.note,
            )
            problems = validate_case(case_input, CaseRules(today, organisations, owners, person.birth, age))
            if problems:
                raise DemoRuleBroken("case", problems)
            # histories: changes dated after today have not happened yet
            status_history = [(reg_date, pl.initial[0], pl.initial[1])]
            first = TraffickingStatusChange(pl.initial[0], reg_date, pl.initial[1])
            changes = [first]
            if pl.status_change is not None:
                days, status, body, note = pl.status_change
                day = reg_date + dt.timedelta(days=days)
                if day <= today:
                    changes.append(TraffickingStatusChange(status, day, body, note))
                    status_history.append((day, status, body))
            for change in changes:
                problems = trafficking_change_problems(change)
                if problems:
                    raise DemoRuleBroken("trafficking status", problems)
            case_history: list[tuple[dt.date, str, str]] = [(reg_date, "Active", "")]
            for days, status, reason in pl.case_changes:
                day = reg_date + dt.timedelta(days=days)
                if day > today:
                    break
                problems = case_change_problems(CaseStatusChange(status, day, reason))
                if problems:
                    raise DemoRuleBroken("case status", problems)
                case_history.append((day, status, reason))
            # derived columns with the services' own function
            row = SimpleNamespace(registration_date=reg_date, exploitation=list(pl.forms),
                                  scope_overridden=False, scope="Unknown")
            person_ns = SimpleNamespace(gender=person.gender, birth_date=person.birth,
                                        estimated_age=person.estimated_age,
                                        age_estimated_on=person_input.age_estimated_on,
                                        citizenships=person.citizenships)
            refresh_case(row, person_ns, country, [e.country for e in route_inputs])
            created = ctx.stamp_on(reg_date, 11)
            case_rows.append((
                case_id, number, person.id, iso(reg_date), identified, flag(case_input.self_referral),
                when_trafficked, js(pl.forms), pl.labour_industry, js(pl.sex_exploitation),
                js(pl.control), js(pl.recruitment), pl.relationship, row.scope, 0,
                flag(consent_given), flag(c_services), flag(c_sharing), flag(c_referral),
                iso(case_input.consent_date), owner, police_ref, flag(pl.victim_as_witness), pl.note,
                status_history[-1][1], case_history[-1][1], row.sex, row.age_at_registration,
                row.age_group, flag(row.expl_sexual), flag(row.expl_labour), flag(row.expl_other),
                None, 0, created, ctx.stamp_on(max(d for d, *_ in case_history + status_history), 15), 1,
            ))
            entered_by = owner or ctx.users["admin"]
            for (day, status, body), change in zip(status_history, changes, strict=True):
                ts_rows.append((case_id, iso(day), status, body, change.note, ctx.stamp_on(day, 12), entered_by))
            for day, status, reason in case_history:
                cs_rows.append((case_id, iso(day), status, reason, ctx.stamp_on(day, 13), entered_by))
            for e in route_inputs:
                route_rows.append((case_id, e.kind, e.country, e.place, iso(e.event_date), ""))
            ctx.cases.append(DemoCase(
                index=pl.index, id=case_id, person_id=person.id, case_number=number,
                registration_date=reg_date, sex=row.sex, age=row.age_at_registration,
                birth_date=person.birth,
                child=_is_child(when_trafficked, age),
                citizenship=person.citizenships[0] if person.citizenships else None,
                exploitation=tuple(pl.forms), identified_by_org_id=identified, owner_id=owner,
                consent_services=c_services, consent_data_sharing=c_sharing,
                police_reference=police_ref, victim_as_witness=pl.victim_as_witness,
                status_history=status_history, case_status_history=case_history,
            ))
        with ctx.write() as w:
            w.insert("person", _PERSON_COLUMNS, persons_rows)
            w.insert("case_file", _CASE_COLUMNS, case_rows)
            w.insert("trafficking_status_entry", _TS_COLUMNS, ts_rows)
            w.insert("case_status_entry", _CS_COLUMNS, cs_rows)
            w.insert("route_event", _ROUTE_COLUMNS, route_rows)
            w.audit("demo_cases_generated", {
                "cases": len(case_rows), "persons": len(persons_rows),
                "first_case_id": case_rows[0][0], "last_case_id": case_rows[-1][0],
            })
        ctx.progress(f"{len(ctx.cases):,} of {count:,} cases")
    with ctx.write() as w:
        w.insert("case_sequence", ("year", "last_number"), sorted(sequence.items()))
