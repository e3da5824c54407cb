"""Case lists and search: accent-folding prefix search, typing errors, filters, sorting, paging
with totals, and a full-text index that follows the data in the same transaction."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pytest
from sqlalchemy import text

from models import FollowUp
from tests.factories import add_case
from tipdesk.errors import UsageError
from tipdesk.services import cases, persons, search
from tipdesk.services.cases import CaseStatusChange, TraffickingStatusChange
from tipdesk.services.search import CaseFilter, NO_OWNER, match_expression, words_of

D = dt.date


def names(reg, query: str) -> list[str]:
    return [r.name for r in search.list_cases(reg, CaseFilter(text=query), sort="name", descending=False).rows]


@pytest.fixture
def people(reg):
    add_case(reg, given_names="José", family_names="Pérez", aliases=("Pepe",), gender="Masculine",
             registered=D(2025, 1, 5))
    add_case(reg, given_names="Joseph", family_names="Campbell", gender="Masculine", registered=D(2025, 2, 5))
    add_case(reg, given_names="Marie-Ange", family_names="Dorvil", registered=D(2025, 3, 5),
             police_reference="JCF/2025/314", notes="Met near the Half Way Tree market")
    add_case(reg, given_names="Shanice", family_names="Johnson", registered=D(2025, 4, 5))
    return reg


def test_accents_are_folded_both_ways(people):
    assert names(people, "Jose") == ["Campbell, Joseph", "Pérez, José"]  # a prefix of Joseph, too
    assert names(people, "Jose Perez") == ["Pérez, José"]
    assert names(people, "pérez") == ["Pérez, José"]
    assert names(people, "PEREZ") == ["Pérez, José"]
    assert names(people, "MARIE ANGE") == ["Dorvil, Marie-Ange"]


def test_words_match_as_prefixes_of_any_name_or_alias(people):
    assert names(people, "jos") == ["Campbell, Joseph", "Pérez, José"]
    assert names(people, "jo") == ["Campbell, Joseph", "Johnson, Shanice", "Pérez, José"]
    assert names(people, "jos camp") == ["Campbell, Joseph"]
    assert names(people, "pepe") == ["Pérez, José"]


def test_case_numbers_police_references_and_notes_are_searchable(people):
    assert names(people, "OAS-2025-0003") == ["Dorvil, Marie-Ange"]
    assert names(people, "JCF/2025/314") == ["Dorvil, Marie-Ange"]
    assert names(people, "half way") == ["Dorvil, Marie-Ange"]


def test_a_typing_error_still_finds_the_name_and_says_it_is_approximate(people):
    page = search.list_cases(people, CaseFilter(text="Jonhson"))
    assert [r.name for r in page.rows] == ["Johnson, Shanice"] and page.approximate
    assert names(people, "Campbel") == ["Campbell, Joseph"]  # a prefix, not a typo
    assert not search.list_cases(people, CaseFilter(text="Campbel")).approximate
    assert names(people, "Dorvl") == ["Dorvil, Marie-Ange"]
    assert names(people, "Xylophone") == []


def test_search_syntax_in_the_box_is_just_text(people):
    for hostile in ('"', "jos*", "NEAR(jose", "names:jose", "jose OR 1=1", "-jose", "^jose", "' OR ''='"):
        page = search.list_cases(people, CaseFilter(text=hostile))  # never an FTS syntax error
        assert page.total in (0, 1, 2)
    assert names(people, "...") == []
    assert words_of('jo"se* OR x') == ["jo", "se", "OR", "x"]
    assert match_expression(["jo", ["ab", "cd"]], "names") == 'names : "jo"* AND (names : "ab"* OR names : "cd"*)'


def test_the_index_follows_every_change_of_names_aliases_and_notes(people):
    joseph = search.list_cases(people, CaseFilter(text="Campbell")).rows[0]
    detail = cases.get_case(people, joseph.id)
    persons.update_person(people, detail.person.id, replace(detail.person.to_input(), family_names="McLean",
                                                             aliases=("Joey",)))
    assert names(people, "Campbell") == []
    assert names(people, "mclean") == ["McLean, Joseph"]
    assert names(people, "joey") == ["McLean, Joseph"]
    cases.update_case(people, detail.id, replace(detail.to_input(), notes="Works at the wharf"))
    assert names(people, "wharf") == ["McLean, Joseph"]


def test_a_rolled_back_registration_leaves_no_index_row(reg):
    add_case(reg, given_names="Keep", family_names="Me")
    with pytest.raises(RuntimeError), reg.write() as s:
        s.execute(text("INSERT INTO person (given_names, family_names, aliases, gender, citizenships, "
                       "languages, identity_number, phone, email, address, name_key, created_at, updated_at) "
                       "VALUES ('Ghost', 'Writer', '[]', 'Feminine', '[]', '[]', '', '', '', '', '', 'x', 'x')"))
        pid = s.execute(text("SELECT max(id) FROM person")).scalar()
        s.execute(text("INSERT INTO case_file (case_number, person_id, registration_date, self_referral, "
                       "exploitation, sex_exploitation, methods_of_control, recruitment_methods, scope, "
                       "scope_overridden, consent_given, consent_services, consent_data_sharing, "
                       "consent_referral, police_reference, victim_as_witness, notes, trafficking_status, "
                       "case_status, sex, age_group, expl_sexual, expl_labour, expl_other, high_risk, "
                       "created_at, updated_at, version) VALUES ('T-1', :p, '2025-01-01', 0, '[]', '[]', "
                       "'[]', '[]', 'Unknown', 0, 0, 0, 0, 0, '', 0, '', 'PossibleVictimOfTrafficking', "
                       "'Active', 'Female', 'unknown', 0, 0, 0, 0, 'x', 'x', 1)"), {"p": pid})
        inside = s.execute(text("SELECT count(*) FROM case_search WHERE case_search MATCH 'ghost'")).scalar()
        assert inside == 1  # the trigger wrote the index row in the same transaction
        raise RuntimeError("the save fails after the index row was written")
    with reg.read() as s:
        assert s.execute(text("SELECT count(*) FROM case_search WHERE case_search MATCH 'ghost'")).scalar() == 0
        assert s.execute(text("SELECT count(*) FROM case_search")).scalar() == 1
    assert names(reg, "ghost") == [] and names(reg, "keep") == ["Me, Keep"]


def test_a_failed_edit_leaves_the_index_as_it_was(people):
    joseph = search.list_cases(people, CaseFilter(text="Campbell")).rows[0]
    detail = cases.get_case(people, joseph.id)
    with pytest.raises(Exception):
        cases.update_case(people, detail.id, replace(detail.to_input(), notes="Newword"),
                          person=replace(detail.person.to_input(), family_names="Renamed", estimated_age=500))
    assert names(people, "renamed") == [] and names(people, "newword") == []
    assert names(people, "campbell") == ["Campbell, Joseph"]


# --- filters, sorting, paging ------------------------------------------------------------------------


@pytest.fixture
def mixed(reg):
    add_case(reg, registered=D(2025, 1, 10), gender="Feminine", exploitation=("SexualExploitation",),
             status="ActualVictimOfTrafficking", decided_by="Police")
    add_case(reg, registered=D(2025, 2, 10), gender="Masculine", exploitation=("ForcedLabour",),
             birth_date=D(2010, 1, 1))
    add_case(reg, registered=D(2025, 3, 10), gender="Feminine", exploitation=("SexualExploitation", "ForcedMarriage"),
             closed=(D(2025, 5, 1), "Returned home"), owner_id=reg.actor.id)
    add_case(reg, registered=D(2025, 4, 10), gender="NonSpecifiedUnknown", exploitation=(),
             birth_date=None, status_changes=[TraffickingStatusChange("NotAVictimOfTrafficking", D(2025, 4, 20))])
    return reg


def numbers(reg, flt: CaseFilter, **kw) -> list[str]:
    return [r.case_number for r in search.list_cases(reg, flt, **kw).rows]


def test_filters_on_statuses_sex_age_and_exploitation(mixed):
    assert numbers(mixed, CaseFilter(sex=("Female",)), descending=False) == ["OAS-2025-0001", "OAS-2025-0003"]
    assert numbers(mixed, CaseFilter(trafficking_status=("ActualVictimOfTrafficking",))) == ["OAS-2025-0001"]
    assert numbers(mixed, CaseFilter(trafficking_status=("NotAVictimOfTrafficking",))) == ["OAS-2025-0004"]
    assert numbers(mixed, CaseFilter(case_status=("Closed", "ClosedReferred"))) == ["OAS-2025-0003"]
    assert numbers(mixed, CaseFilter(age_group=("0-17",))) == ["OAS-2025-0002"]
    assert numbers(mixed, CaseFilter(age_group=("unknown",))) == ["OAS-2025-0004"]
    assert numbers(mixed, CaseFilter(sex=("Unknown",))) == ["OAS-2025-0004"]
    assert numbers(mixed, CaseFilter(exploitation_category=("Forced labour",))) == ["OAS-2025-0002"]
    assert numbers(mixed, CaseFilter(exploitation_category=("Other forms of exploitation",))) == ["OAS-2025-0003"]
    assert numbers(mixed, CaseFilter(exploitation_category=("Forced labour", "Other forms of exploitation")),
                   descending=False) == ["OAS-2025-0002", "OAS-2025-0003"]
    assert numbers(mixed, CaseFilter(registered_from=D(2025, 2, 10), registered_to=D(2025, 3, 10)),
                   descending=False) == ["OAS-2025-0002", "OAS-2025-0003"]
    assert numbers(mixed, CaseFilter(owner_id=mixed.actor.id)) == ["OAS-2025-0003"]
    assert len(numbers(mixed, CaseFilter(owner_id=NO_OWNER))) == 3
    combined = CaseFilter(trafficking_status=("PossibleVictimOfTrafficking",), sex=("Female",),
                          exploitation_category=("Sexual exploitation",),
                          registered_from=D(2025, 1, 1), registered_to=D(2025, 12, 31))
    assert numbers(mixed, combined) == ["OAS-2025-0003"] and search.count_cases(mixed, combined) == 1
    with pytest.raises(UsageError):
        search.list_cases(mixed, CaseFilter(exploitation_category=("Piracy",)))


def test_status_filters_follow_later_changes(mixed):
    assert search.count_cases(mixed, CaseFilter(case_status=("Active",))) == 3
    first = cases.find_case_id(mixed, "OAS-2025-0001")
    cases.change_case_status(mixed, first, CaseStatusChange("FollowUp", D(2025, 6, 1)))
    assert numbers(mixed, CaseFilter(case_status=("FollowUp",))) == ["OAS-2025-0001"]


def test_overdue_follow_up_filter(mixed):
    first = cases.find_case_id(mixed, "OAS-2025-0001")
    second = cases.find_case_id(mixed, "OAS-2025-0002")
    third = cases.find_case_id(mixed, "OAS-2025-0003")
    with mixed.write() as s:
        s.add_all([
            FollowUp(case_id=first, due_date=D(2025, 6, 1)),  # overdue
            FollowUp(case_id=second, due_date=D(2025, 6, 1), done_date=D(2025, 6, 2), status="Done"),
            FollowUp(case_id=third, due_date=D(2025, 6, 1), cancelled_on=D(2025, 5, 1), status="Cancelled"),
            FollowUp(case_id=third, due_date=dt.date.today() + dt.timedelta(days=30)),  # not yet due
        ])
    assert numbers(mixed, CaseFilter(overdue_followup=True)) == ["OAS-2025-0001"]


def test_sorting_and_paging_with_totals(reg):
    for i in range(7):
        add_case(reg, registered=D(2025, 1, 1) + dt.timedelta(days=i), family_names=f"Zed{chr(ord('g') - i)}")
    page = search.list_cases(reg, CaseFilter(), offset=0, limit=3)
    assert [r.case_number[-4:] for r in page.rows] == ["0007", "0006", "0005"]
    assert (page.total, page.has_more) == (7, True)
    last = search.list_cases(reg, CaseFilter(), offset=6, limit=3)
    assert [r.case_number[-4:] for r in last.rows] == ["0001"] and last.total == 7 and not last.has_more
    by_name = search.list_cases(reg, CaseFilter(), sort="name", descending=False, limit=2)
    assert [r.name for r in by_name.rows] == ["Zeda, Ana", "Zedb, Ana"]
    assert search.case_ids(reg, CaseFilter(), sort="registration_date", descending=False)[:2] == [1, 2]
    assert [r.id for r in search.summaries(reg, [3, 1])] == [3, 1]
    with pytest.raises(UsageError):
        search.list_cases(reg, CaseFilter(), sort="password")
    with pytest.raises(UsageError):
        search.list_cases(reg, CaseFilter(), limit=0)
