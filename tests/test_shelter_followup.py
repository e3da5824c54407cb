"""Follow-up plans and visits: generation, shorten/extend/cancel, recording a visit, the overdue
and high-risk flags on the case, the three work queues, plan definitions, closing rules,
permissions and audit rows."""

from __future__ import annotations

import pytest

from tests.shelter_helpers import D, acting_as, audit_events, make_case
from tipdesk.errors import PermissionDenied, ValidationError
from tipdesk.services import casework, cases
from tipdesk.services import facilities as fac
from tipdesk.services import followup as fu
from tipdesk.services import followup_plans as plans
from tipdesk.services import placements as pl
from tipdesk.services.statuses import CaseStatusChange

TODAY = D(2026, 6, 30)
STANDARD = [D(2026, 2, 15), D(2026, 3, 15), D(2026, 4, 15), D(2026, 7, 15), D(2026, 10, 15),
            D(2027, 1, 15), D(2027, 7, 15), D(2028, 1, 15), D(2028, 7, 15), D(2029, 1, 15)]


def visit(done=D(2026, 6, 1), risk="Low", **more) -> fu.Visit:
    return fu.Visit(done_date=done, mode=more.pop("mode", "HomeVisit"), risk_level=risk, **more)


@pytest.fixture
def case(reg):
    return make_case(reg, given="Maria", family="Lopez")


@pytest.fixture
def plan(reg, case):
    return fu.start_plan(reg, case, D(2026, 1, 15), reason="reintegrated with family", today=TODAY)


# --- generation ----------------------------------------------------------------------------------


def test_the_default_plan_is_monthly_then_quarterly_then_six_monthly_to_36_months(reg, case, plan):
    assert [f.due_date for f in plan.followups] == STANDARD
    assert plan.definition_name == plans.DEFAULT_PLAN_NAME and plan.status == "Active"
    assert fu.case_flags(reg, case) == (D(2026, 2, 15), False)
    action, details = audit_events(reg, "followup_plan", plan.id)[0]
    assert action == "followup_plan_started"
    assert details["due_dates"][0] == "2026-02-15" and details["case.next_followup_due"] == [None, "2026-02-15"]


def test_due_dates_keep_to_the_end_of_short_months():
    assert plans.due_dates(D(2026, 1, 31), [1, 2, 13]) == [D(2026, 2, 28), D(2026, 3, 31), D(2027, 2, 28)]
    assert plans.add_months(D(2027, 11, 30), 3) == D(2028, 2, 29)


def test_a_case_has_one_active_plan(reg, case, plan):
    with pytest.raises(ValidationError, match="already has an active follow-up plan"):
        fu.start_plan(reg, case, D(2026, 2, 1), today=TODAY)


def test_an_office_defines_its_own_plans(reg, case):
    short = plans.create_plan_definition(reg, "Short (6 months)", [1, 3, 6])
    assert short.describe() == "after 1, 3 and 6 months"
    started = fu.start_plan(reg, case, D(2026, 1, 15), definition_id=short.id, today=TODAY)
    assert [f.due_date for f in started.followups] == [D(2026, 2, 15), D(2026, 4, 15), D(2026, 7, 15)]
    assert [d.name for d in plans.list_plan_definitions(reg)] == [plans.DEFAULT_PLAN_NAME, "Short (6 months)"]
    # Making it the default moves the flag; the old default can then be retired.
    plans.update_plan_definition(reg, short.id, make_default=True)
    standard = next(d for d in plans.list_plan_definitions(reg) if d.name == plans.DEFAULT_PLAN_NAME)
    plans.update_plan_definition(reg, standard.id, active=False)
    assert [d.name for d in plans.list_plan_definitions(reg)] == ["Short (6 months)"]
    assert audit_events(reg, "followup_plan_definition", short.id)[-1][1] == {"is_default": [False, True]}


def test_plan_definitions_are_validated(reg):
    with pytest.raises(ValidationError, match="increasing order"):
        plans.create_plan_definition(reg, "Odd", [3, 1])
    with pytest.raises(ValidationError, match="from 1 to 240"):
        plans.create_plan_definition(reg, "Odd", [0, 6])
    with pytest.raises(ValidationError, match="already a plan called"):
        plans.create_plan_definition(reg, plans.DEFAULT_PLAN_NAME, [1])
    default = plans.list_plan_definitions(reg)[0]
    with pytest.raises(ValidationError, match="default plan cannot be retired"):
        plans.update_plan_definition(reg, default.id, active=False)


# --- shorten, extend, cancel ---------------------------------------------------------------------


def test_shortening_cancels_the_later_follow_ups(reg, case, plan):
    short = fu.shorten_plan(reg, plan.id, months=12, reason="doing well", today=TODAY)
    scheduled = [f.due_date for f in short.followups if f.status == "Scheduled"]
    assert scheduled == STANDARD[:6]
    cancelled = [f for f in short.followups if f.status == "Cancelled"]
    assert [f.due_date for f in cancelled] == STANDARD[6:] and {f.cancelled_on for f in cancelled} == {TODAY}
    action, details = audit_events(reg, "followup_plan", plan.id)[-1]
    assert action == "followup_plan_shortened" and details["reason"] == "doing well"
    assert details["cancelled_due_dates"] == [d.isoformat() for d in STANDARD[6:]]
    with pytest.raises(ValidationError, match="Say why"):
        fu.shorten_plan(reg, plan.id, months=6, reason="", today=TODAY)


def test_extending_adds_follow_ups_and_reopens_a_completed_plan(reg, case):
    short = plans.create_plan_definition(reg, "Two", [1, 2])
    p = fu.start_plan(reg, case, D(2026, 1, 15), definition_id=short.id, today=TODAY)
    for f in p.followups:
        fu.record_followup(reg, f.id, visit(done=f.due_date), today=TODAY)
    (done,) = fu.plans_of_case(reg, case)
    assert done.status == "Completed" and done.ended_on == D(2026, 3, 15)
    longer = fu.extend_plan(reg, p.id, to_months=12, every_months=3, reason="relapse risk")
    assert longer.status == "Active" and longer.ended_on is None
    assert [f.due_date for f in longer.followups if f.status == "Scheduled"] == [
        D(2026, 6, 15), D(2026, 9, 15), D(2026, 12, 15)]
    assert fu.case_flags(reg, case)[0] == D(2026, 6, 15)
    details = audit_events(reg, "followup_plan", p.id)[-1][1]
    assert details["status"] == ["Completed", "Active"] and details["reason"] == "relapse risk"


def test_cancelling_a_plan_cancels_what_is_left_to_do(reg, case, plan):
    fu.record_followup(reg, plan.followups[0].id, visit(done=D(2026, 2, 16)), today=TODAY)
    cancelled = fu.cancel_plan(reg, plan.id, reason="moved abroad", on=D(2026, 3, 1), today=TODAY)
    assert cancelled.status == "Cancelled" and cancelled.ended_on == D(2026, 3, 1)
    assert [f.status for f in cancelled.followups] == ["Done"] + ["Cancelled"] * 9
    assert fu.case_flags(reg, case) == (None, False)
    assert fu.overdue(reg, TODAY).total == 0
    with pytest.raises(ValidationError, match="cancelled; it cannot be changed"):
        fu.shorten_plan(reg, plan.id, months=3, reason="x", today=TODAY)


# --- recording a follow-up -----------------------------------------------------------------------


def test_recording_a_visit_validates_every_field(reg, plan):
    bad = fu.Visit(done_date=D(2026, 7, 1), mode="Telepathy", risk_level="Severe", score_economic=0,
                   score_social=6, score_psychosocial=True)
    with pytest.raises(ValidationError) as exc:
        fu.record_followup(reg, plan.followups[0].id, bad, today=TODAY)
    assert set(exc.value.by_field()) == {
        "done_date", "mode", "risk_level", "score_economic", "score_social", "score_psychosocial"}
    with pytest.raises(ValidationError, match="High risk needs a safety note"):
        fu.record_followup(reg, plan.followups[0].id, visit(risk="High"), today=TODAY)
    assert fu.get_followup(reg, plan.followups[0].id).status == "Scheduled"


def test_a_visit_is_audited_old_to_new_with_the_case_flags(reg, case, plan):
    first = plan.followups[0]
    with acting_as(reg, "caseworker") as other:
        done = fu.record_followup(other, first.id, visit(
            done=D(2026, 2, 17), mode="Phone", score_economic=2, score_social=3, score_psychosocial=4,
            outcome="found work", next_action="call in a month"), today=TODAY)
    assert done.status == "Done" and done.done_by == other.actor.username and done.mode_label == "Phone"
    action, details = audit_events(reg, "followup", first.id)[-1]
    assert action == "followup_recorded"
    assert details["status"] == ["Scheduled", "Done"] and details["done_date"] == [None, "2026-02-17"]
    assert details["score_economic"] == [None, 2] and details["outcome"] == ["", "found work"]
    assert details["case.next_followup_due"] == ["2026-02-15", "2026-03-15"]
    # Correcting it (here by the administrator) is a change, audited as such; who made the
    # contact stays the case worker.
    fixed = fu.record_followup(reg, first.id, visit(done=D(2026, 2, 17), mode="Phone", score_economic=3),
                               today=TODAY)
    action, details = audit_events(reg, "followup", first.id)[-1]
    assert action == "followup_changed" and details["score_economic"] == [2, 3]
    assert "done_by" not in details and fixed.done_by == other.actor.username
    with pytest.raises(ValidationError, match="Choose who made the contact"):
        fu.record_followup(reg, plan.followups[1].id, visit(done_by=9999), today=TODAY)


def test_high_risk_raises_the_case_flag_and_a_later_safer_visit_lowers_it(reg, case, plan):
    fu.record_followup(reg, plan.followups[0].id, visit(
        done=D(2026, 2, 15), risk="High", safety_note="trafficker seen near the house; moved to aunt"),
        today=TODAY)
    assert fu.case_flags(reg, case)[1] is True
    page = fu.high_risk(reg)
    assert page.total == 1 and page.rows[0].case.case_id == case
    assert page.rows[0].assessed_on == D(2026, 2, 15) and page.rows[0].next_followup_due == D(2026, 3, 15)
    assert audit_events(reg, "followup", plan.followups[0].id)[-1][1]["case.high_risk"] == [False, True]
    fu.record_followup(reg, plan.followups[1].id, visit(done=D(2026, 3, 14), risk="Medium"), today=TODAY)
    assert fu.case_flags(reg, case)[1] is False
    assert fu.high_risk(reg).total == 0


def test_an_unplanned_contact_can_be_recorded(reg, case, plan):
    extra = fu.record_unplanned_followup(reg, case, visit(done=D(2026, 5, 2), mode="OfficeVisit"),
                                         plan_id=plan.id, today=TODAY)
    assert extra.due_date == extra.done_date == D(2026, 5, 2) and extra.status == "Done"
    assert len(fu.followups_of_case(reg, case)) == 11


def test_a_cancelled_follow_up_cannot_be_recorded(reg, plan):
    f = fu.cancel_followup(reg, plan.followups[0].id, reason="unreachable", today=TODAY)
    assert f.status == "Cancelled"
    with pytest.raises(ValidationError, match="was cancelled on 2026-06-30"):
        fu.record_followup(reg, f.id, visit(), today=TODAY)


def test_rescheduling_moves_the_next_due_date(reg, case, plan):
    fu.reschedule_followup(reg, plan.followups[0].id, D(2026, 2, 1), reason="school holidays", today=TODAY)
    assert fu.case_flags(reg, case)[0] == D(2026, 2, 1)


# --- overdue and the queues ----------------------------------------------------------------------


def test_missing_a_due_date_makes_a_follow_up_overdue_the_next_day(reg, case, plan):
    first = plan.followups[0]  # due 2026-02-15
    assert fu.overdue(reg, D(2026, 2, 15)).total == 0
    page = fu.overdue(reg, D(2026, 2, 16))
    assert page.total == 1 and page.rows[0].followup_id == first.id and page.rows[0].days_overdue == 1
    assert fu.get_followup(reg, first.id).is_overdue(D(2026, 2, 16))
    fu.record_followup(reg, first.id, visit(done=D(2026, 2, 16)), today=TODAY)
    assert fu.overdue(reg, D(2026, 2, 16)).total == 0


def test_the_overdue_queue_is_oldest_first_paged_with_a_total(reg):
    cases = [make_case(reg, given=f"P{i}") for i in range(3)]
    for i, c in enumerate(cases):
        fu.start_plan(reg, c, D(2025, 10 + i, 1), today=TODAY)
    # Plans from Oct 1, Nov 1, Dec 1: on 2026-01-02 overdue are P0's Nov 1, Dec 1, Jan 1, P1's
    # Dec 1, Jan 1 and P2's Jan 1.
    page1 = fu.overdue(reg, D(2026, 1, 2), offset=0, limit=2)
    assert page1.total == 6 and page1.has_more
    page2 = fu.overdue(reg, D(2026, 1, 2), offset=2, limit=2)
    page3 = fu.overdue(reg, D(2026, 1, 2), offset=4, limit=2)
    rows = page1.rows + page2.rows + page3.rows
    assert [r.due_date for r in rows] == [D(2025, 11, 1), D(2025, 12, 1), D(2025, 12, 1), D(2026, 1, 1),
                                          D(2026, 1, 1), D(2026, 1, 1)]
    assert [r.case.person_name for r in rows[:3]] == ["P0 Doe", "P0 Doe", "P1 Doe"]
    assert rows[0].days_overdue == 62 and not page3.has_more


def test_due_this_week_is_today_and_the_next_six_days(reg):
    a, b = make_case(reg, given="A"), make_case(reg, given="B")
    fu.schedule_followup(reg, a, D(2026, 7, 1), today=TODAY)
    fu.schedule_followup(reg, a, D(2026, 7, 7), today=TODAY)  # seven days on: next week
    fu.schedule_followup(reg, b, D(2026, 7, 8), today=TODAY)
    fu.schedule_followup(reg, b, D(2026, 6, 30), today=TODAY)
    fu.schedule_followup(reg, b, D(2026, 6, 29), today=TODAY)  # yesterday: overdue, not due
    page = fu.due_this_week(reg, TODAY)  # 2026-06-30 … 2026-07-06
    assert page.total == 2
    assert [r.due_date for r in page.rows] == [D(2026, 6, 30), D(2026, 7, 1)]
    later = fu.due_this_week(reg, D(2026, 7, 1))  # 07-01 … 07-07; 06-30 is overdue by then
    assert [r.due_date for r in later.rows] == [D(2026, 7, 1), D(2026, 7, 7)]
    assert all(r.days_overdue == 0 for r in page.rows)
    assert fu.overdue(reg, TODAY).total == 1


def test_the_high_risk_queue_leaves_out_closed_cases(reg):
    open_case, closed_case = make_case(reg, given="Open"), make_case(reg, given="Gone")
    for c in (open_case, closed_case):
        fu.record_unplanned_followup(reg, c, visit(risk="High", safety_note="threats"), today=TODAY)
    cases.change_case_status(reg, closed_case, CaseStatusChange("Closed", TODAY, "Moved abroad."))
    page = fu.high_risk(reg)
    assert page.total == 1 and [r.case.case_id for r in page.rows] == [open_case]


def test_an_analyst_sees_queues_without_names_and_visits_without_notes(reg, case, plan):
    fu.record_followup(reg, plan.followups[0].id, visit(
        done=D(2026, 2, 15), risk="High", safety_note="lives at 4 Hope Road"), today=TODAY)
    with acting_as(reg, "analyst") as other:
        row = fu.overdue(other, TODAY).rows[0]
        assert row.case.person_name is None and row.case.case_number.startswith("OAS-")
        seen = fu.followups_of_case(other, case)[0]
        assert seen.risk_level == "High" and seen.safety_note is None and seen.outcome is None
        assert fu.high_risk(other).rows[0].case.person_name is None
        with pytest.raises(PermissionDenied, match="may not record follow-ups"):
            fu.record_followup(other, plan.followups[1].id, visit(), today=TODAY)


@pytest.mark.parametrize("role", ["police", "auditor", "analyst"])
def test_only_case_workers_and_admins_write_follow_up(reg, case, plan, role):
    with acting_as(reg, role) as other:
        for call in (
            lambda: fu.start_plan(other, case, D(2026, 1, 1), today=TODAY),
            lambda: fu.cancel_plan(other, plan.id, reason="x", today=TODAY),
            lambda: fu.extend_plan(other, plan.id, to_months=48, every_months=6, reason="x"),
            lambda: plans.create_plan_definition(other, "Mine", [1]),
        ):
            with pytest.raises(PermissionDenied):
                call()
        assert fu.overdue(other, TODAY).total == 3  # reading is allowed (due Feb, Mar, Apr 15)


# --- closing a case (the case register's status change) -------------------------------------------


def close(reg, case_id, day=D(2026, 6, 1), **more):
    return cases.change_case_status(reg, case_id, CaseStatusChange("Closed", day, "Moved abroad.", **more))


def test_closing_with_an_active_plan_needs_an_explicit_reason(reg, case, plan):
    assert casework.closing_warnings(reg, case) == [
        "The case has an active follow-up plan with 10 follow-up(s) still to do; closing it cancels them."]
    with pytest.raises(ValidationError) as exc:
        close(reg, case)
    found = exc.value.by_field()["open_work_reason"]
    assert "active follow-up plan with 10 follow-up(s) still to do" in found[0]
    assert "give the reason to close anyway" in found[-1]
    assert cases.get_case(reg, case).case_status == "Active"
    assert fu.plans_of_case(reg, case)[0].status == "Active"
    quiet = make_case(reg, given="Quiet")
    assert close(reg, quiet).case_status == "Closed"  # nothing open: the closure reason suffices


def test_closing_with_an_open_stay_needs_an_explicit_reason(reg, case):
    house = fac.create_facility(reg, fac.FacilityFields(code="SH", name="Safe House", capacity=2), today=TODAY)
    pl.admit(reg, case, house.id, D(2026, 5, 1), today=TODAY)
    with pytest.raises(ValidationError, match="still placed in a shelter"):
        close(reg, case)
    assert close(reg, case, open_work_reason="Transferred to another agency's care.").case_status == "Closed"
    details = [d for a, d in audit_events(reg, "case", case) if a == "case_status_changed"][-1]
    assert details["open_work_reason"] == "Transferred to another agency's care."
    assert "still placed in a shelter" in details["open_work"][0]


def test_closing_cancels_the_follow_ups_still_to_do(reg, case, plan):
    fu.record_followup(reg, plan.followups[0].id, visit(done=D(2026, 2, 15)), today=TODAY)
    close(reg, case, D(2026, 6, 1), open_work_reason="The family moved abroad.")
    (ended,) = fu.plans_of_case(reg, case)
    assert ended.status == "Cancelled" and ended.ended_on == D(2026, 6, 1)
    assert [f.status for f in ended.followups] == ["Done"] + ["Cancelled"] * 9
    assert {f.cancelled_on for f in ended.followups[1:]} == {D(2026, 6, 1)}
    assert fu.case_flags(reg, case) == (None, False)
    assert fu.overdue(reg, TODAY).total == 0
    actions = [a for a, _ in audit_events(reg)][-3:]
    assert actions == ["case_status_changed", "followup_plan_cancelled", "followups_cancelled"]
    with pytest.raises(ValidationError, match="is closed: reopen it"):
        fu.start_plan(reg, case, D(2026, 6, 2), today=TODAY)


def test_closing_work_directly_in_a_transaction(reg, case, plan):
    """``casework.close_case_work`` is what the status change calls; it also works on its own."""
    with reg.write() as s:
        assert casework.check_closing(s, case, "moved") == casework.closing_blockers(s, case)
        assert casework.close_case_work(s, reg.actor, case, D(2026, 6, 1), "moved abroad") == 10
    assert fu.case_flags(reg, case) == (None, False)
