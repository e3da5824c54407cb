"""The duplicate warning at intake: similar names with compatible birth date or age and sex,
ranked; linking a new case to an existing person or confirming a new one."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import select

from models import AuditEvent
from tests.factories import add_case, person_input
from tipdesk.services import cases, duplicates
from tipdesk.services.persons import PersonInput
from tests.factories import case_input

D = dt.date


@pytest.fixture
def crowd(reg):
    add_case(reg, given_names="José Luis", family_names="Pérez", birth_date=D(1996, 4, 7),
             gender="Masculine", aliases=("Pepe",))
    add_case(reg, given_names="Shanice", family_names="Campbell", birth_date=D(2001, 8, 3), gender="Feminine")
    add_case(reg, given_names="Shanique", family_names="Campbell", birth_date=D(2001, 9, 14), gender="Feminine")
    add_case(reg, given_names="Shanice", family_names="Campbell", birth_date=D(1975, 8, 3), gender="Feminine")
    add_case(reg, given_names="Shane", family_names="Campbell", birth_date=D(2001, 8, 3), gender="Masculine")
    add_case(reg, given_names="Marie-Ange", family_names="Dorvil", birth_date=None, estimated_age=30,
             age_estimated_on=D(2024, 1, 1), gender="Feminine")
    add_case(reg, given_names="Tamika", family_names="Reid", birth_date=None, gender="Feminine")
    return reg


def find(reg, **values) -> list[duplicates.DuplicateCandidate]:
    return duplicates.find_duplicates(reg, PersonInput(**values))


def test_same_person_with_a_typo_ranks_first_and_says_why(crowd):
    found = find(crowd, given_names="Shanice", family_names="Cambell", birth_date=D(2001, 8, 3), gender="Feminine")
    assert [c.name for c in found][:2] == ["Campbell, Shanice", "Campbell, Shanique"]
    best = found[0]
    assert best.score > found[1].score and best.score >= 90
    assert "Same birth date" in best.reasons and "Same sex" in best.reasons
    assert best.case_numbers == ("OAS-2025-0002",)
    # another Shanice Campbell born 26 years earlier is not the same person
    assert all(c.birth_date != D(1975, 8, 3) for c in found)
    # a man with the same birth date is never offered for a woman
    assert all(c.sex != "Male" for c in found)


def test_swapped_names_and_missing_accents_are_found(crowd):
    found = find(crowd, given_names="Perez", family_names="Jose Luis", birth_date=D(1996, 4, 7), gender="Masculine")
    assert found and found[0].name == "Pérez, José Luis"
    assert "Same names in a different order" in found[0].reasons


def test_an_alias_matches(crowd):
    found = find(crowd, given_names="", family_names="", aliases=("pepe",), birth_date=D(1996, 4, 7),
                 gender="Masculine")
    assert [c.name for c in found] == ["Pérez, José Luis"]
    assert found[0].reasons[0] == "Same name as an alias"


def test_birth_date_typos_still_match(crowd):
    swapped = find(crowd, given_names="Jose Luis", family_names="Perez", birth_date=D(1996, 7, 4), gender="Masculine")
    assert swapped and "day and month swapped" in swapped[0].reasons[1]
    year = find(crowd, given_names="Jose Luis", family_names="Perez", birth_date=D(1986, 4, 7), gender="Masculine")  # one digit off
    assert year and year[0].reasons[1] == "Same birthday, another year"
    far = find(crowd, given_names="Jose Luis", family_names="Perez", birth_date=D(1980, 1, 1), gender="Masculine")
    assert far == []


def test_estimated_ages_are_compared(crowd):
    found = find(crowd, given_names="Marie Ange", family_names="Dorvil", estimated_age=32, gender="Feminine")
    assert found and found[0].name == "Dorvil, Marie-Ange" and "Ages compatible" in found[0].reasons[1]
    assert find(crowd, given_names="Marie Ange", family_names="Dorvil", estimated_age=60, gender="Feminine") == []
    by_birth = find(crowd, given_names="Marie-Ange", family_names="Dorvil", birth_date=D(1994, 6, 1), gender="Feminine")
    assert by_birth and by_birth[0].name == "Dorvil, Marie-Ange"


def test_unknown_age_is_compatible_but_scores_lower(crowd):
    found = find(crowd, given_names="Tamika", family_names="Reid", birth_date=D(1999, 1, 1), gender="Feminine")
    assert found and found[0].name == "Reid, Tamika" and "Age unknown" in found[0].reasons
    assert found[0].score < 100


def test_different_names_are_not_offered(crowd):
    assert find(crowd, given_names="Andre", family_names="Thompson", birth_date=D(2001, 8, 3), gender="Masculine") == []


def test_linking_to_the_existing_person_or_confirming_a_new_one(crowd):
    entered = person_input(given_names="Shanice", family_names="Cambell", birth_date=D(2001, 8, 3))
    offered = duplicates.find_duplicates(crowd, entered)
    linked = cases.register_case(crowd, case_input(registration_date=D(2025, 9, 1)), person_id=offered[0].person_id)
    assert linked.person.id == offered[0].person_id
    assert linked.other_cases == ((offered[0].latest_case_id, "OAS-2025-0002"),)
    again = duplicates.find_duplicates(crowd, entered)
    assert again[0].case_numbers == ("OAS-2025-0002", "OAS-2025-0008")
    new = cases.register_case(crowd, case_input(), entered, dismissed_duplicates=[c.person_id for c in offered])
    assert new.person.id not in {c.person_id for c in offered}
    with crowd.read() as s:
        details = json.loads(s.scalars(select(AuditEvent.details).where(
            AuditEvent.action == "case_registered", AuditEvent.entity_id == new.id)).one())
    assert details["dismissed_duplicates"] == sorted(c.person_id for c in offered)
    # when editing a person, they are not their own duplicate
    assert all(c.person_id != new.person.id for c in duplicates.find_duplicates(
        crowd, entered, exclude_person_id=new.person.id))
