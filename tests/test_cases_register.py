"""Registering, opening and editing cases: case numbers, derived columns, status histories,
workflow rules, audit events with old → new values, and conflicts."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import replace

import pytest
from sqlalchemy import select, text

from models import AuditEvent, Case, CaseSequence
from tests.factories import add_case, add_partner, case_input, person_input
from tipdesk.errors import ConflictError, NotFound, ValidationError
from tipdesk.services import cases, persons
from tipdesk.services.cases import CaseStatusChange, RouteEventInput, TraffickingStatusChange
from tipdesk.services.common import today

D = dt.date


def events(reg, action: str, entity_id: int | None = None) -> list[dict]:
    with reg.read() as s:
        q = select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
        if entity_id is not None:
            q = q.where(AuditEvent.entity_id == entity_id)
        return [json.loads(e.details or "{}") for e in s.scalars(q)]


def problems_of(exc: pytest.ExceptionInfo[ValidationError]) -> dict[str, list[str]]:
    return exc.value.by_field()


# --- case numbers --------------------------------------------------------------------------------


def test_case_numbers_follow_office_year_and_sequence(reg):
    a = add_case(reg, registered=D(2025, 3, 1))
    b = add_case(reg, registered=D(2025, 4, 1))
    c = add_case(reg, registered=D(2024, 12, 30))
    assert (a.case_number, b.case_number, c.case_number) == ("OAS-2025-0001", "OAS-2025-0002", "OAS-2024-0001")


def test_a_failed_registration_does_not_use_up_a_number(reg):
    add_case(reg)
    with pytest.raises(ValidationError):
        add_case(reg, registered=today() + dt.timedelta(days=3))
    with reg.read() as s:
        assert s.get(CaseSequence, 2025).last_number == 1
    assert add_case(reg).case_number == "OAS-2025-0002"


def test_case_numbers_are_never_reused_even_when_a_case_row_disappears(reg):
    first = add_case(reg)
    with reg.engine.begin() as conn:  # simulate a removal outside the services
        conn.exec_driver_sql("PRAGMA foreign_keys = OFF")
        for table in ("trafficking_status_entry", "case_status_entry"):
            conn.exec_driver_sql(f"DELETE FROM {table} WHERE case_id = ?", (first.id,))
        conn.exec_driver_sql("DELETE FROM case_file WHERE id = ?", (first.id,))
    assert add_case(reg).case_number == "OAS-2025-0002"


# --- registration: histories and derived columns --------------------------------------------------


def test_registration_starts_both_histories_on_the_registration_date(reg):
    case = add_case(reg, registered=D(2025, 2, 10), status="ActualVictimOfTrafficking", decided_by="Police")
    assert [(e.effective_date, e.status, e.decided_by) for e in case.status_history] == [
        (D(2025, 2, 10), "ActualVictimOfTrafficking", "Police")]
    assert [(e.effective_date, e.status) for e in case.case_status_history] == [(D(2025, 2, 10), "Active")]
    assert (case.trafficking_status, case.case_status) == ("ActualVictimOfTrafficking", "Active")


def test_derived_columns_are_set_at_registration(reg):
    case = add_case(reg, registered=D(2025, 2, 10), birth_date=D(2008, 2, 11), gender="Masculine",
                    citizenships=("JAM",), exploitation=("ChildLabour", "ForcedBegging"),
                    route=[("Recruitment", "JAM"), ("Exploitation", "JAM")])
    with reg.read() as s:
        row = s.get(Case, case.id)
        assert (row.sex, row.age_at_registration, row.age_group) == ("Male", 16, "0-17")
        assert (row.expl_sexual, row.expl_labour, row.expl_other) == (False, True, True)
        assert row.scope == "Domestic"


def test_scope_is_transnational_with_a_foreign_route_country_and_can_be_overridden(reg):
    case = add_case(reg, route=[("Recruitment", "VEN"), ("Exploitation", "JAM")])
    assert case.scope == "Transnational" and not case.scope_overridden
    edited = cases.update_case(reg, case.id, replace(case.to_input(), scope_override="Domestic"),
                               expected_version=case.version)
    assert (edited.scope, edited.scope_overridden, edited.derived_scope) == ("Domestic", True, "Transnational")
    # an overridden scope stays when the route changes
    again = cases.update_case(reg, case.id, replace(edited.to_input(), route=()), expected_version=edited.version)
    assert again.scope == "Domestic"
    cleared = cases.update_case(reg, case.id, replace(again.to_input(), scope_override=None),
                                expected_version=again.version)
    assert cleared.scope == "Domestic"  # citizenship JAM only → domestic, derived again
    assert not cleared.scope_overridden


def test_age_from_an_estimate_counts_the_years_since_the_estimate(reg):
    case = add_case(reg, registered=D(2025, 6, 1), birth_date=None, estimated_age=16,
                    age_estimated_on=D(2023, 5, 1))
    assert (case.age_at_registration, case.age_group) == (18, "18+")


def test_a_persons_change_reaches_all_their_cases(reg):
    first = add_case(reg, registered=D(2024, 5, 1), gender="Feminine", citizenships=("JAM",),
                     birth_date=D(2000, 1, 1))
    second = add_case(reg, person_id=first.person.id, registered=D(2025, 5, 1))
    assert second.other_cases == ((first.id, first.case_number),)
    changed = replace(first.person.to_input(), gender="Masculine", birth_date=D(2008, 1, 1),
                      citizenships=("HTI",))
    persons.update_person(reg, first.person.id, changed)
    with reg.read() as s:
        for cid in (first.id, second.id):
            row = s.get(Case, cid)
            assert row.sex == "Male" and row.scope == "Transnational" and row.age_group == "0-17"


# --- rules ----------------------------------------------------------------------------------------


def test_rules_report_every_problem_in_plain_words_and_change_nothing(reg):
    born = D(2000, 5, 5)
    with pytest.raises(ValidationError) as exc:
        cases.register_case(
            reg,
            case_input(registration_date=today() + dt.timedelta(days=1), consent_given=False,
                       labour_industry="F_Construction", exploitation=("SexualExploitation", "Nope"),
                       route=(RouteEventInput("Recruitment", "XXX", event_date=D(1999, 1, 1)),)),
            person_input(birth_date=born, estimated_age=200, gender="Robot", citizenships=("JAMAICA",)),
        )
    found = problems_of(exc)
    assert "lies in the future" in found["registration_date"][0]
    assert any("not both" in m for m in found["estimated_age"])
    assert any("0 to 120" in m for m in found["estimated_age"])
    assert "gender" in found and "citizenships" in found and "exploitation" in found
    assert "labour_industry" in found and "consent_given" in found
    assert "route.0.country" in found
    assert "before the person's birth date" in found["route.0.event_date"][0]
    assert cases.list_owners(reg)  # the register still works
    with reg.read() as s:
        assert s.execute(text("SELECT count(*) FROM case_file")).scalar() == 0
        assert s.execute(text("SELECT count(*) FROM person")).scalar() == 0


def test_registration_before_birth_is_refused(reg):
    with pytest.raises(ValidationError) as exc:
        add_case(reg, registered=D(2010, 1, 1), birth_date=D(2012, 1, 1))
    assert "before the person's birth date" in problems_of(exc)["registration_date"][0]


def test_a_name_or_alias_is_needed(reg):
    with pytest.raises(ValidationError) as exc:
        add_case(reg, given_names="", family_names="", aliases=())
    assert "alias" in problems_of(exc)["given_names"][0]
    assert add_case(reg, given_names="", family_names="", aliases=("Shorty",)).person.display_name == "“Shorty”"


def test_actual_victim_needs_a_deciding_body(reg):
    case = add_case(reg)
    with pytest.raises(ValidationError) as exc:
        cases.change_trafficking_status(reg, case.id, TraffickingStatusChange("ActualVictimOfTrafficking", D(2025, 3, 1)))
    assert "decided" in problems_of(exc)["decided_by"][0]
    done = cases.change_trafficking_status(
        reg, case.id, TraffickingStatusChange("ActualVictimOfTrafficking", D(2025, 3, 1), "CourtOrProsecution", "Judgment"))
    assert done.trafficking_status == "ActualVictimOfTrafficking"
    assert done.status_decided_by == "CourtOrProsecution"
    assert [e.status for e in done.status_history] == ["PossibleVictimOfTrafficking", "ActualVictimOfTrafficking"]


def test_closing_needs_a_reason_and_status_dates_obey_the_calendar(reg):
    case = add_case(reg, registered=D(2025, 2, 10))
    with pytest.raises(ValidationError) as exc:
        cases.change_case_status(reg, case.id, CaseStatusChange("Closed", D(2025, 5, 1)))
    assert problems_of(exc)["reason"] == ["Give the reason for closing the case."]
    with pytest.raises(ValidationError) as exc:
        cases.change_case_status(reg, case.id, CaseStatusChange("FollowUp", D(2025, 1, 1)))
    assert "before the registration date" in problems_of(exc)["effective_date"][0]
    with pytest.raises(ValidationError) as exc:
        cases.change_case_status(reg, case.id, CaseStatusChange("FollowUp", today() + dt.timedelta(days=1)))
    assert "future" in problems_of(exc)["effective_date"][0]
    follow = cases.change_case_status(reg, case.id, CaseStatusChange("FollowUp", D(2025, 4, 1)))
    with pytest.raises(ValidationError) as exc:
        cases.change_case_status(reg, case.id, CaseStatusChange("Closed", D(2025, 3, 1), "x"))
    assert "before the last recorded change" in problems_of(exc)["effective_date"][0]
    with pytest.raises(ValidationError) as exc:
        cases.change_case_status(reg, case.id, CaseStatusChange("FollowUp", D(2025, 5, 1)))
    assert "already" in problems_of(exc)["status"][0]
    closed = cases.change_case_status(reg, case.id, CaseStatusChange("Closed", D(2025, 6, 1), "Reintegrated"),
                                      expected_version=follow.version)
    assert closed.case_status == "Closed" and closed.closure_reason == "Reintegrated"
    assert [e.status for e in closed.case_status_history] == ["Active", "FollowUp", "Closed"]


def test_undo_removes_the_latest_change_but_never_the_registration_entry(reg):
    case = add_case(reg, case_status_changes=[CaseStatusChange("FollowUp", D(2025, 4, 1))])
    undone = cases.undo_status_change(reg, case.id, "case")
    assert undone.case_status == "Active" and len(undone.case_status_history) == 1
    with pytest.raises(ValidationError):
        cases.undo_status_change(reg, case.id, "case")
    assert events(reg, "case_status_change_undone", case.id)[0]["case_status"] == ["FollowUp", "Active"]


def test_moving_the_registration_date_moves_the_first_entries_and_respects_later_ones(reg):
    case = add_case(reg, registered=D(2025, 2, 10),
                    case_status_changes=[CaseStatusChange("FollowUp", D(2025, 3, 1))])
    moved = cases.update_case(reg, case.id, replace(case.to_input(), registration_date=D(2025, 2, 20)))
    assert moved.status_history[0].effective_date == D(2025, 2, 20)
    assert moved.case_status_history[0].effective_date == D(2025, 2, 20)
    with pytest.raises(ValidationError) as exc:
        cases.update_case(reg, case.id, replace(moved.to_input(), registration_date=D(2025, 3, 5)))
    assert "cannot be after" in problems_of(exc)["registration_date"][0]


def test_identification_and_owner_must_exist(reg):
    partner = add_partner(reg, "Anti-Trafficking Unit", "LawEnforcement")
    with pytest.raises(ValidationError) as exc:
        add_case(reg, identified_by_org_id=9999, owner_id=9999)
    assert set(problems_of(exc)) == {"identified_by_org_id", "owner_id"}
    with pytest.raises(ValidationError):
        add_case(reg, identified_by_org_id=partner.id, self_referral=True)
    case = add_case(reg, identified_by_org_id=partner.id, owner_id=reg.actor.id)
    assert (case.identified_by, case.identified_by_name, case.owner_name) == (
        "LawEnforcement", "Anti-Trafficking Unit", "Ada Admin")
    assert add_case(reg, self_referral=True).identified_by == "Self-referral"
    assert add_case(reg).identified_by == "Unknown"


# --- audit ----------------------------------------------------------------------------------------


def test_every_change_is_audited_with_old_and_new_values(reg):
    case = add_case(reg, notes="first note", police_reference="")
    edited = cases.update_case(
        reg, case.id, replace(case.to_input(), notes="second note", police_reference="JCF/25/1",
                              route=(RouteEventInput("Exploitation", "JAM", "Negril"),)),
        person=replace(case.person.to_input(), family_names="Browne"),
        expected_version=case.version,
    )
    changed = events(reg, "case_changed", case.id)[-1]
    assert changed["notes"] == ["first note", "second note"]
    assert changed["police_reference"] == ["", "JCF/25/1"]
    assert changed["route"][0] == [] and changed["route"][1][0]["place"] == "Negril"
    person_change = events(reg, "person_changed", case.person.id)[-1]
    assert person_change == {"family_names": ["Brown", "Browne"]}
    assert edited.person.family_names == "Browne"
    registered = events(reg, "case_registered", case.id)[0]
    assert registered["case_number"] == case.case_number and registered["notes"] == "first note"
    assert events(reg, "person_added", case.person.id)[0]["given_names"] == "Ana"


def test_saving_an_unchanged_case_writes_no_change_event(reg):
    case = add_case(reg)
    again = cases.update_case(reg, case.id, case.to_input(), person=case.person.to_input(),
                              expected_version=case.version)
    assert again.version == case.version
    assert events(reg, "case_changed", case.id) == [] and events(reg, "person_changed") == []


def test_opening_a_case_is_audited_as_a_view(reg):
    case = add_case(reg)
    assert events(reg, "case_viewed") == []
    opened = cases.get_case(reg, case.id)
    assert opened.case_number == case.case_number
    assert events(reg, "case_viewed", case.id) == [{"case_number": case.case_number}]


def test_a_stale_edit_is_refused_and_changes_nothing(reg):
    case = add_case(reg, notes="original")
    cases.update_case(reg, case.id, replace(case.to_input(), notes="theirs"), expected_version=case.version)
    with pytest.raises(ConflictError) as exc:
        cases.update_case(reg, case.id, replace(case.to_input(), notes="mine"), expected_version=case.version)
    assert "changed by someone else" in str(exc.value)
    assert cases.get_case(reg, case.id).notes == "theirs"


def test_unknown_case_is_not_found(reg):
    with pytest.raises(NotFound):
        cases.get_case(reg, 12345)
    with pytest.raises(NotFound):
        cases.find_case_id(reg, "OAS-2025-9999")
    case = add_case(reg)
    assert cases.find_case_id(reg, case.case_number.lower()) == case.id


def test_an_actual_victim_at_registration_needs_the_deciding_body_with_the_other_problems(reg):
    with pytest.raises(ValidationError) as exc:
        cases.register_case(reg, case_input(), person_input(gender="Robot"),
                            trafficking_status="ActualVictimOfTrafficking")
    assert {"decided_by", "gender"} <= set(problems_of(exc))
    with reg.read() as s:
        assert s.execute(text("SELECT count(*) FROM person")).scalar() == 0
