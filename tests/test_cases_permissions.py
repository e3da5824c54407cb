"""Roles in the case services: who may write, and what the secretariat analyst never receives
(names, aliases, birth dates, contacts, identity numbers, police references, notes)."""

from __future__ import annotations

import datetime as dt
from dataclasses import fields, replace

import pytest

from tests.factories import acting_as, add_case, add_partner
from tipdesk.errors import PermissionDenied
from tipdesk.services import cases, duplicates, justice, organisations, persons, referrals, screening, search
from tipdesk.services.cases import CaseStatusChange, TraffickingStatusChange
from tipdesk.services.records import JusticeStageInput, ReferralInput
from tipdesk.services.screening import ScreeningDecision, ScreeningInput, ScreeningSettings

D = dt.date
SECRET_TEXTS = ("Zoë", "Featherstonehaugh", "Lulu", "123-456-789", "876-555-0101", "zoe@example.com",
                "12 Hope Road", "JCF/2025/00042", "met at the bus park", "Sensitive reason",
                "Interview details", "Court hearing note", "Route detail")


@pytest.fixture
def full_case(reg):
    partner = add_partner(reg, "Hope Shelter")
    case = add_case(
        reg, given_names="Zoë", family_names="Featherstonehaugh", aliases=("Lulu",),
        identity_number="123-456-789", phone="876-555-0101", email="zoe@example.com",
        address="12 Hope Road, Kingston", police_reference="JCF/2025/00042",
        notes="met at the bus park", identified_by_org_id=partner.id,
        route=[cases.RouteEventInput("Exploitation", "JAM", "Negril", D(2025, 1, 5), "Route detail")],
        status_changes=[TraffickingStatusChange("ActualVictimOfTrafficking", D(2025, 3, 1), "Police",
                                                "Sensitive reason")],
        closed=(D(2025, 6, 1), "Sensitive reason"),
    )
    referrals.add_referral(reg, case.id, ReferralInput("Out", partner.id, D(2025, 3, 2), details="Interview details"))
    justice.add_justice_stage(reg, case.id, JusticeStageInput("Reported to police", D(2025, 2, 12), "Court hearing note"))
    screening.record_screening(reg, case.id, ScreeningInput(D(2025, 2, 10), ("Recruitment",)),
                               ScreeningDecision("ActualVictimOfTrafficking", "Interview details", "Police",
                                                 update_status=False))
    return case


def _all_text(value) -> str:
    """Every string inside a (nested) dataclass or tuple."""
    if isinstance(value, str):
        return value + "\n"
    if isinstance(value, tuple | list):
        return "".join(_all_text(v) for v in value)
    if hasattr(value, "__dataclass_fields__"):
        return "".join(_all_text(getattr(value, f.name)) for f in fields(value))
    return ""


def test_the_analyst_never_receives_personal_data(reg, full_case):
    with acting_as(reg, "analyst") as analyst:
        detail = cases.get_case(analyst, full_case.id)
        page = search.list_cases(analyst, search.CaseFilter())
        person = persons.get_person(analyst, full_case.person.id)
        by_number = search.list_cases(analyst, search.CaseFilter(text=full_case.case_number))
        rows = search.summaries(analyst, [full_case.id])
    text = _all_text((detail, page.rows, person, by_number.rows, rows))
    for secret in SECRET_TEXTS:
        assert secret not in text, secret
    assert detail.person.names_visible is False and detail.person.birth_date is None
    assert detail.person.display_name == "(name hidden)"
    # de-identified facts stay
    assert (detail.sex, detail.age_group, detail.case_status) == ("Female", "18+", "Closed")
    assert detail.person.estimated_age is not None  # the age, not the birth date
    assert by_number.total == 1 and by_number.rows[0].name == ""


def test_analyst_search_matches_case_numbers_only(reg, full_case):
    with acting_as(reg, "analyst") as analyst:
        assert search.list_cases(analyst, search.CaseFilter(text="Featherstonehaugh")).total == 0
        assert search.list_cases(analyst, search.CaseFilter(text="Featherstonhaugh")).total == 0
        assert search.list_cases(analyst, search.CaseFilter(text="JCF")).total == 0
        assert search.list_cases(analyst, search.CaseFilter(text="bus park")).total == 0
        assert search.list_cases(analyst, search.CaseFilter(text="OAS-2025")).total == 1
        assert search.count_cases(analyst, search.CaseFilter(text="Lulu")) == 0
        with pytest.raises(PermissionDenied):
            duplicates.find_duplicates(analyst, persons.PersonInput("Zoë", "Featherstonehaugh"))


def test_staff_roles_see_names(reg, full_case):
    for role in ("caseworker", "police", "auditor"):
        with acting_as(reg, role) as other:
            detail = cases.get_case(other, full_case.id)
            assert detail.person.given_names == "Zoë" and detail.notes == "met at the bus park"


@pytest.mark.parametrize("role", ["analyst", "auditor"])
def test_read_only_roles_cannot_change_anything(reg, full_case, role):
    with acting_as(reg, role) as other:
        attempts = [
            lambda: cases.register_case(other, full_case.to_input(), full_case.person.to_input()),
            lambda: cases.update_case(other, full_case.id, full_case.to_input()),
            lambda: cases.change_case_status(other, full_case.id, CaseStatusChange("Active", D(2025, 7, 1))),
            lambda: cases.change_trafficking_status(other, full_case.id, TraffickingStatusChange(
                "NotAVictimOfTrafficking", D(2025, 7, 1))),
            lambda: persons.update_person(other, full_case.person.id, full_case.person.to_input()),
            lambda: justice.add_justice_stage(other, full_case.id, JusticeStageInput("Conviction", D(2025, 7, 1))),
            lambda: referrals.add_referral(other, full_case.id, ReferralInput("In", 2, D(2025, 7, 1))),
            lambda: screening.record_screening(other, full_case.id, ScreeningInput(D(2025, 7, 1)),
                                               ScreeningDecision("PossibleVictimOfTrafficking")),
            lambda: organisations.add_organisation(other, organisations.OrganisationInput("X", "NGO")),
        ]
        for attempt in attempts:
            with pytest.raises(PermissionDenied):
                attempt()
    assert cases.get_case(reg, full_case.id).case_status == "Closed"


def test_police_may_record_justice_and_cases(reg, full_case):
    with acting_as(reg, "police") as police:
        detail = justice.add_justice_stage(police, full_case.id, JusticeStageInput("Investigation opened", D(2025, 3, 1)))
        assert [s.stage for s in detail.justice_stages] == ["Reported to police", "Investigation opened"]
        assert add_case(police).case_number == "OAS-2025-0002"


def test_only_an_administrator_changes_screening_weights(reg):
    with acting_as(reg, "caseworker") as worker:
        with pytest.raises(PermissionDenied):
            screening.set_screening_settings(worker, ScreeningSettings())
    changed = screening.set_screening_settings(reg, replace(ScreeningSettings(), possible_threshold=9))
    assert screening.get_screening_settings(reg).possible_threshold == changed.possible_threshold == 9
