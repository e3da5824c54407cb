"""Builders for the returns tests: rows created through the ORM, and a file tamperer.

(When ``tests/factories.py`` from the case-register branch lands, these builders can move onto it;
they create exactly what the case services would: a first trafficking-status entry and a first
``Active`` case-status entry on the registration date.)
"""

from __future__ import annotations

import datetime as dt
import itertools
import random
from collections.abc import Iterable, Sequence
from pathlib import Path

from sqlalchemy.orm import Session

from models import (
    Case,
    CaseStatusEntry,
    Facility,
    FollowUp,
    FollowUpPlan,
    JusticeStage,
    Organisation,
    Person,
    Service,
    Stay,
    TraffickingStatusEntry,
)

D = dt.date
_numbers = itertools.count(1)


def add_case(
    s: Session,
    registered: dt.date,
    *,
    gender: str = "Feminine",
    birth: dt.date | None = D(1990, 5, 17),
    estimated_age: int | None = None,
    estimated_on: dt.date | None = None,
    citizenships: Sequence[str] = ("JAM",),
    status: str = "PossibleVictimOfTrafficking",
    decided_by: str | None = None,
    later_statuses: Iterable[tuple[dt.date, str, str | None]] = (),
    case_statuses: Iterable[tuple[dt.date, str]] = (),
    exploitation: Sequence[str] = (),
    sex_exploitation: Sequence[str] = (),
    methods_of_control: Sequence[str] = (),
    labour_industry: str | None = None,
    relationship: str | None = None,
    scope: str = "Domestic",
    consent_data_sharing: bool = False,
    family: str = "Doe",
    given: str = "Jane",
    identified_by: Organisation | None = None,
    self_referral: bool = False,
    notes: str = "",
) -> Case:
    person = Person(given_names=given, family_names=family, birth_date=birth, estimated_age=estimated_age,
                    age_estimated_on=estimated_on, gender=gender, citizenships=list(citizenships))
    s.add(person)
    s.flush()
    case = Case(
        case_number=f"OAS-{registered.year}-{next(_numbers):05d}", person_id=person.id,
        registration_date=registered, exploitation=list(exploitation),
        sex_exploitation=list(sex_exploitation), methods_of_control=list(methods_of_control),
        labour_industry=labour_industry, relationship_to_trafficker=relationship, scope=scope,
        consent_data_sharing=consent_data_sharing,
        identified_by_org_id=identified_by.id if identified_by else None, self_referral=self_referral,
        notes=notes,
    )
    s.add(case)
    s.flush()
    s.add(TraffickingStatusEntry(case_id=case.id, effective_date=registered, status=status, decided_by=decided_by))
    s.flush()
    for when, value, body in later_statuses:
        s.add(TraffickingStatusEntry(case_id=case.id, effective_date=when, status=value, decided_by=body))
        s.flush()
    s.add(CaseStatusEntry(case_id=case.id, effective_date=registered, status="Active"))
    s.flush()
    for when, value in case_statuses:
        s.add(CaseStatusEntry(case_id=case.id, effective_date=when, status=value))
        s.flush()
    return case


def add_facility(s: Session, code: str, name: str = "Shelter", capacity: int = 6, *,
                 child_friendly: bool = False, opened: dt.date | None = None,
                 closed: dt.date | None = None, active: bool = True) -> Facility:
    facility = Facility(code=code, name=name, capacity=capacity, child_friendly=child_friendly,
                        opened_on=opened, closed_on=closed, active=active)
    s.add(facility)
    s.flush()
    return facility


def add_stay(s: Session, case: Case, facility: Facility, admitted: dt.date,
             discharged: dt.date | None = None, reason: str | None = None) -> Stay:
    stay = Stay(case_id=case.id, facility_id=facility.id, admitted=admitted, discharged=discharged,
                discharge_reason=reason if discharged else None)
    s.add(stay)
    s.flush()
    return stay


def add_service(s: Session, case: Case, kind: str, start: dt.date | None, end: dt.date | None = None,
                status: str = "Ongoing") -> Service:
    service = Service(case_id=case.id, service_type=kind, actual_start=start, actual_end=end, status=status)
    s.add(service)
    s.flush()
    return service


def add_followup(s: Session, case: Case, due: dt.date, done: dt.date | None = None,
                 cancelled: dt.date | None = None) -> FollowUp:
    status = "Done" if done else ("Cancelled" if cancelled else "Scheduled")
    f = FollowUp(case_id=case.id, due_date=due, done_date=done, cancelled_on=cancelled, status=status)
    s.add(f)
    s.flush()
    return f


def add_plan(s: Session, case: Case, started: dt.date, ended: dt.date | None = None,
             status: str = "Active") -> FollowUpPlan:
    plan = FollowUpPlan(case_id=case.id, started_on=started, ended_on=ended, status=status)
    s.add(plan)
    s.flush()
    return plan


def add_justice(s: Session, case: Case, stage: str, when: dt.date) -> JusticeStage:
    j = JusticeStage(case_id=case.id, stage=stage, stage_date=when)
    s.add(j)
    s.flush()
    return j


def add_partner(s: Session, name: str, org_type: str) -> Organisation:
    org = Organisation(name=name, org_type=org_type, country="JAM")
    s.add(org)
    s.flush()
    return org


# --- a realistic small register ----------------------------------------------------------------

GENDERS = ("Feminine", "Feminine", "Feminine", "Masculine", "Masculine", "TransgenderFeminine",
           "NonSpecifiedUnknown")
COUNTRIES = ("JAM", "JAM", "JAM", "HTI", "VEN", "DOM", "CUB", "COL", "CHN", "IND")
EXPLOITATION = ("SexualExploitation", "ForcedLabour", "ChildLabour", "Servitude", "ForcedBegging",
                "ForcedMarriage", "OrganRemoval", "Other")
SERVICES = ("Health", "Legal", "Psychosocial", "Accommodation", "Education", "Livelihood",
            "Interpretation", "Repatriation", "FamilyTracing", "Financial")
STAGES = ("Reported to police", "Investigation opened", "Prosecution started", "Conviction",
          "Acquittal or dismissal")
DECIDERS = ("Police", "NGO", "CourtOrProsecution", None)


def fill_register(s: Session, cases: int = 150, seed: int = 7, start: dt.date = D(2024, 1, 1),
                  end: dt.date = D(2026, 12, 31)) -> None:
    """A varied register: every column, history and table of a return gets some data."""
    rnd = random.Random(seed)
    span = (end - start).days
    partners = [add_partner(s, f"Partner {t}", t) for t in ("LawEnforcement", "NGO", "HealthServiceOrganisation",
                                                             "ImmigrationService")]
    facilities = [add_facility(s, "SH1", "Safe House One", 12), add_facility(s, "SH2", "Children's Home", 10,
                  child_friendly=True), add_facility(s, "OLD", "Closed shelter", 4, closed=D(2023, 12, 31))]
    for i in range(cases):
        registered = start + dt.timedelta(days=rnd.randrange(span))
        birth = None if rnd.random() < 0.15 else registered - dt.timedelta(days=rnd.randrange(9 * 365, 45 * 365))
        est = rnd.randrange(10, 40) if birth is None and rnd.random() < 0.6 else None
        later = []
        if rnd.random() < 0.5:
            later.append((registered + dt.timedelta(days=rnd.randrange(1, 200)),
                          rnd.choice(("ActualVictimOfTrafficking", "NotAVictimOfTrafficking")), rnd.choice(DECIDERS)))
        cs = []
        if rnd.random() < 0.6:
            closed_on = registered + dt.timedelta(days=rnd.randrange(0, 500))
            cs.append((closed_on, rnd.choice(("Closed", "ClosedReferred", "FollowUp"))))
            if rnd.random() < 0.3:
                cs.append((closed_on + dt.timedelta(days=rnd.randrange(0, 120)), rnd.choice(("Active", "Closed"))))
        expl = rnd.sample(EXPLOITATION, rnd.choice((0, 1, 1, 1, 2, 3)))
        ident = rnd.choice(partners + [None, None])
        case = add_case(
            s, registered, gender=rnd.choice(GENDERS), birth=birth, estimated_age=est,
            estimated_on=registered - dt.timedelta(days=rnd.randrange(0, 400)) if est else None,
            citizenships=rnd.sample(COUNTRIES, rnd.choice((0, 1, 1, 1, 2))),
            status=rnd.choice(("PossibleVictimOfTrafficking", "PossibleVictimOfTrafficking", "NotAVictimOfTrafficking")),
            decided_by=rnd.choice(DECIDERS), later_statuses=later, case_statuses=cs, exploitation=expl,
            sex_exploitation=["Prostitution"] if "SexualExploitation" in expl and rnd.random() < 0.7 else [],
            methods_of_control=rnd.sample(("DebtBondage", "PhysicalThreats", "WithholdsDocuments", "FalsePromises"),
                                          rnd.choice((0, 1, 2))),
            labour_industry="F_Construction" if "ForcedLabour" in expl else None,
            relationship=rnd.choice((None, "Familial", "Acquainted", "Unaquainted")),
            scope=rnd.choice(("Domestic", "Transnational", "Unknown")),
            consent_data_sharing=rnd.random() < 0.6, family=f"Family{i}é", given=f"Given{i}",
            identified_by=ident, self_referral=ident is None and rnd.random() < 0.5,
        )
        if rnd.random() < 0.2:
            admitted = registered + dt.timedelta(days=rnd.randrange(0, 30))
            discharged = admitted + dt.timedelta(days=rnd.randrange(0, 120)) if rnd.random() < 0.9 else None
            add_stay(s, case, rnd.choice(facilities[:2]), admitted, discharged,
                     rnd.choice(("ReintegratedWithFamily", "IndependentLiving", "Absconded")) if discharged else None)
        for _ in range(rnd.choice((0, 1, 2, 3))):
            st = registered + dt.timedelta(days=rnd.randrange(0, 300))
            en = st + dt.timedelta(days=rnd.randrange(0, 200)) if rnd.random() < 0.6 else None
            add_service(s, case, rnd.choice(SERVICES), st if rnd.random() < 0.9 else None, en,
                        "Completed" if en else rnd.choice(("Ongoing", "Completed", "Planned")))
        if rnd.random() < 0.4:
            started = registered + dt.timedelta(days=rnd.randrange(30, 400))
            ended = started + dt.timedelta(days=rnd.randrange(100, 700)) if rnd.random() < 0.4 else None
            add_plan(s, case, started, ended, "Completed" if ended else "Active")
            for m in (1, 2, 3, 6, 9, 12):
                due = started + dt.timedelta(days=30 * m)
                r = rnd.random()
                add_followup(s, case, due, done=due + dt.timedelta(days=rnd.randrange(-5, 20)) if r < 0.6 else None,
                             cancelled=due - dt.timedelta(days=3) if 0.6 <= r < 0.7 else None)
        for stage in STAGES[: rnd.choice((0, 0, 1, 2, 3))]:
            add_justice(s, case, stage, registered + dt.timedelta(days=rnd.randrange(0, 500)))


# --- editing a written return -----------------------------------------------------------------


def tamper(path: Path, edits: dict[tuple[str, str], object], *, fix_digest: bool = True,
           out: Path | None = None, delete_sheets: Sequence[str] = ()) -> Path:
    """Change cells of a return (``{(sheet, "B7"): value}``), optionally re-sealing the digest so
    that only the check under test fires. Uses openpyxl's normal mode (like a person editing)."""
    from openpyxl import load_workbook

    from exports.returns import spec
    from exports.returns.cells import Digest

    wb = load_workbook(path)
    for (sheet, ref), value in edits.items():
        wb[sheet][ref].value = value
    for name in delete_sheets:
        del wb[name]
    if fix_digest:
        digest = Digest()
        for name in spec.DIGEST_ORDER:
            if name not in wb.sheetnames:
                continue
            ws = wb[name]
            digest.sheet(name)
            first = 3 if name in spec.TABLE_SHEETS else 1
            for row in ws.iter_rows(min_row=first, values_only=True):
                if name == spec.META and row and row[0] == "digest":
                    continue
                digest.row(row)
        meta = wb[spec.META]
        for row in meta.iter_rows():
            if row[0].value == "digest":
                row[1].value = digest.hexdigest()
    target = out or path
    wb.save(target)
    return target
