"""Facilities, beds and stays: every placement rule, transfers, occupancy, the waiting list,
T5 figures worked out by hand, permissions and audit rows."""

from __future__ import annotations

import dataclasses
import datetime as dt
import random

import pytest
from sqlalchemy import select

from models import Stay
from tests.shelter_helpers import D, acting_as, audit_events, make_case
from tipdesk import counting
from tipdesk.counting import parse_period
from tipdesk.errors import PermissionDenied, ValidationError
from tipdesk.services import facilities as fac
from tipdesk.services import followup, placements as pl

TODAY = D(2026, 6, 30)


@pytest.fixture
def shelter(reg):
    """A women's shelter with three named beds."""
    return fac.create_facility(reg, fac.FacilityFields(
        code="WS", name="Women's Shelter", kind="Shelter", sexes=("Female",), min_age=18,
        bed_labels=("Room 1", "Room 2", "Room 3")), today=TODAY)


def bed(f: fac.FacilityInfo, label: str) -> int:
    return next(b.id for b in f.beds if b.label == label)


def problems(exc: pytest.ExceptionInfo) -> dict[str, list[str]]:
    return exc.value.by_field()


# --- facilities ----------------------------------------------------------------------------------


def test_a_facility_with_named_beds_takes_its_capacity_from_them(reg, shelter):
    assert shelter.capacity == 3
    assert [b.label for b in shelter.beds] == ["Room 1", "Room 2", "Room 3"]
    assert shelter.eligibility_text() == "Female, ages 18 and over"
    fac.add_bed(reg, shelter.id, "Room 4")
    assert fac.get_facility(reg, shelter.id).capacity == 4
    assert audit_events(reg, "facility", shelter.id)[0][0] == "facility_added"


def test_facility_validation_lists_every_problem(reg, shelter):
    with pytest.raises(ValidationError) as exc:
        fac.create_facility(reg, fac.FacilityFields(
            code="ws", name=" ", kind="Castle", capacity=-1, sexes=("Alien",), min_age=18, max_age=12),
            today=TODAY)
    found = problems(exc)
    assert set(found) >= {"code", "name", "kind", "capacity", "sexes", "max_age"}
    assert "already has the code WS" in found["code"][0]


def test_capacity_cannot_fall_below_the_beds_in_use(reg, shelter):
    fields = fac.FacilityFields(code="WS", name="Women's Shelter", capacity=2, sexes=("Female",), min_age=18)
    with pytest.raises(ValidationError, match="3 beds in use"):
        fac.update_facility(reg, shelter.id, fields, today=TODAY)


# --- placement rules -----------------------------------------------------------------------------


def test_a_bed_cannot_hold_two_people_on_the_same_night(reg, shelter):
    first, second = make_case(reg), make_case(reg, given="Bea")
    room = bed(shelter, "Room 1")
    pl.admit(reg, first, shelter.id, D(2026, 3, 1), bed_id=room, today=TODAY)
    with pytest.raises(ValidationError) as exc:
        pl.admit(reg, second, shelter.id, D(2026, 3, 5), bed_id=room, today=TODAY)
    assert "'Room 1' at Women's Shelter is taken on the night of 2026-03-05" in problems(exc)["bed"][0]
    # Nothing was written.
    with reg.read() as s:
        assert s.scalars(select(Stay).where(Stay.case_id == second)).all() == []


def test_a_stay_in_the_past_cannot_overlap_a_later_one_in_the_same_bed(reg, shelter):
    first, second = make_case(reg), make_case(reg, given="Bea")
    room = bed(shelter, "Room 1")
    stay = pl.admit(reg, first, shelter.id, D(2026, 3, 1), bed_id=room, today=TODAY)
    pl.discharge(reg, stay.id, D(2026, 3, 10), "LeftVoluntarily", today=TODAY)
    with pytest.raises(ValidationError, match="taken on the night of 2026-03-01"):
        pl.admit(reg, second, shelter.id, D(2026, 2, 20), bed_id=room, today=TODAY)


def test_same_day_turnover_is_allowed(reg, shelter):
    first, second = make_case(reg), make_case(reg, given="Bea")
    room = bed(shelter, "Room 2")
    stay = pl.admit(reg, first, shelter.id, D(2026, 3, 1), bed_id=room, today=TODAY)
    pl.discharge(reg, stay.id, D(2026, 3, 10), "LeftVoluntarily", today=TODAY)
    placed = pl.admit(reg, second, shelter.id, D(2026, 3, 10), bed_id=room, today=TODAY)
    assert placed.bed_label == "Room 2" and placed.is_open


def test_a_same_day_stay_holds_its_bed_for_that_day(reg, shelter):
    first, second = make_case(reg), make_case(reg, given="Bea")
    room = bed(shelter, "Room 3")
    stay = pl.admit(reg, first, shelter.id, D(2026, 4, 2), bed_id=room, today=TODAY)
    pl.discharge(reg, stay.id, D(2026, 4, 2), "Absconded", today=TODAY)
    with pytest.raises(ValidationError, match="taken on the night of 2026-04-02"):
        pl.admit(reg, second, shelter.id, D(2026, 4, 2), bed_id=room, today=TODAY)
    pl.admit(reg, second, shelter.id, D(2026, 4, 3), bed_id=room, today=TODAY)


def test_one_person_has_one_open_stay_across_all_their_cases(reg, shelter):
    first = make_case(reg)
    with reg.read() as s:
        from models import Case

        person_id = s.get(Case, first).person_id
    second = make_case(reg, person_id=person_id)  # the same person, a second case
    pl.admit(reg, first, shelter.id, D(2026, 3, 1), bed_id=bed(shelter, "Room 1"), today=TODAY)
    with pytest.raises(ValidationError) as exc:
        pl.admit(reg, second, shelter.id, D(2026, 5, 1), bed_id=bed(shelter, "Room 2"), today=TODAY)
    assert "already placed at Women's Shelter since 2026-03-01" in problems(exc)["case"][0]


def test_one_person_cannot_have_two_stays_on_one_night(reg, shelter):
    case = make_case(reg)
    stay = pl.admit(reg, case, shelter.id, D(2026, 3, 1), bed_id=bed(shelter, "Room 1"), today=TODAY)
    pl.discharge(reg, stay.id, D(2026, 3, 20), "LeftVoluntarily", today=TODAY)
    with pytest.raises(ValidationError, match="two stays on the same night"):
        pl.admit(reg, case, shelter.id, D(2026, 3, 19), bed_id=bed(shelter, "Room 2"), today=TODAY)
    pl.admit(reg, case, shelter.id, D(2026, 3, 20), bed_id=bed(shelter, "Room 2"), today=TODAY)


def test_discharge_not_before_admission_nor_in_the_future(reg, shelter):
    stay = pl.admit(reg, make_case(reg), shelter.id, D(2026, 3, 1), bed_id=bed(shelter, "Room 1"), today=TODAY)
    with pytest.raises(ValidationError, match=r"discharge date \(2026-02-28\) is before the admission"):
        pl.discharge(reg, stay.id, D(2026, 2, 28), "LeftVoluntarily", today=TODAY)
    with pytest.raises(ValidationError, match="in the future"):
        pl.discharge(reg, stay.id, D(2026, 7, 1), "LeftVoluntarily", today=TODAY)
    with pytest.raises(ValidationError, match="reason for the discharge"):
        pl.discharge(reg, stay.id, D(2026, 3, 5), "Vanished", today=TODAY)
    assert pl.get_stay(reg, stay.id).is_open
    with pytest.raises(ValidationError, match="in the future"):
        pl.admit(reg, make_case(reg, given="Cy"), shelter.id, D(2026, 7, 2), bed_id=bed(shelter, "Room 2"),
                 today=TODAY)


def test_a_facility_with_beds_needs_one_named_and_it_must_be_its_own(reg, shelter):
    other = fac.create_facility(reg, fac.FacilityFields(code="SH2", name="Safe House", kind="SafeHouse",
                                                        bed_labels=("A",)), today=TODAY)
    case = make_case(reg)
    with pytest.raises(ValidationError, match="Choose a bed or room of Women's Shelter"):
        pl.admit(reg, case, shelter.id, D(2026, 3, 1), today=TODAY)
    with pytest.raises(ValidationError, match="not in Women's Shelter"):
        pl.admit(reg, case, shelter.id, D(2026, 3, 1), bed_id=other.beds[0].id, today=TODAY)


def test_outside_eligibility_needs_an_explicit_reason_recorded_in_the_audit(reg, shelter):
    man = make_case(reg, given="Carl", gender="Masculine")
    room = bed(shelter, "Room 1")
    with pytest.raises(ValidationError) as exc:
        pl.admit(reg, man, shelter.id, D(2026, 3, 1), bed_id=room, today=TODAY)
    found = problems(exc)["eligibility_override"]
    assert "takes Female residents only; this person's recorded sex is Male" in found[0]
    assert "give the reason" in found[-1]
    stay = pl.admit(reg, man, shelter.id, D(2026, 3, 1), bed_id=room, today=TODAY,
                    eligibility_override="Only safe place tonight; police escort")
    assert stay.outside_eligibility and stay.eligibility_override == "Only safe place tonight; police escort"
    (action, details), = audit_events(reg, "stay", stay.id)
    assert action == "stay_admitted"
    assert details["eligibility_override"] == "Only safe place tonight; police escort"
    assert "recorded sex is Male" in details["outside_eligibility"][0]


def test_age_eligibility_is_checked_on_the_admission_date(reg):
    home = fac.create_facility(reg, fac.FacilityFields(
        code="CH", name="Children's Home", kind="ChildrensHome", min_age=0, max_age=17, child_friendly=True,
        bed_labels=("Cot 1", "Cot 2")), today=TODAY)
    turns_18 = make_case(reg, birth_date=D(2008, 3, 15))
    pl.admit(reg, turns_18, home.id, D(2026, 3, 14), bed_id=home.beds[0].id, today=TODAY)  # still 17
    adult = make_case(reg, given="Dee", birth_date=D(2008, 3, 1))
    with pytest.raises(ValidationError, match="takes ages 0–17; this person is 18 on 2026-03-14"):
        pl.admit(reg, adult, home.id, D(2026, 3, 14), bed_id=home.beds[1].id, today=TODAY)
    unknown = make_case(reg, given="Eve", birth_date=None)
    with pytest.raises(ValidationError, match="age is not recorded"):
        pl.admit(reg, unknown, home.id, D(2026, 3, 14), bed_id=home.beds[1].id, today=TODAY)


def test_a_full_facility_refuses_and_points_to_the_waiting_list(reg):
    house = fac.create_facility(reg, fac.FacilityFields(code="SH", name="Safe House", kind="SafeHouse",
                                                        capacity=2), today=TODAY)
    a, b, c = (make_case(reg, given=n) for n in ("Ann", "Bea", "Cat"))
    pl.admit(reg, a, house.id, D(2026, 5, 1), today=TODAY)
    pl.admit(reg, b, house.id, D(2026, 5, 10), today=TODAY)
    with pytest.raises(ValidationError, match="Safe House is full on 2026-05-10.*waiting list"):
        pl.admit(reg, c, house.id, D(2026, 5, 3), today=TODAY)
    entry = fac.add_to_waiting_list(reg, c, house.id, D(2026, 5, 3), today=TODAY)
    page = fac.waiting_list(reg, house.id)
    assert page.total == 1 and page.rows[0].case.case_id == c and page.rows[0].requested_on == D(2026, 5, 3)
    with pytest.raises(ValidationError, match="already waiting"):
        fac.add_to_waiting_list(reg, c, house.id, today=TODAY)
    # A place frees up; admitting the case takes it off the waiting list.
    first = pl.stays_of_case(reg, a)[0]
    pl.discharge(reg, first.id, D(2026, 6, 1), "IndependentLiving", start_followup=False, today=TODAY)
    pl.admit(reg, c, house.id, D(2026, 6, 1), today=TODAY)
    assert fac.waiting_list(reg, house.id).total == 0
    assert audit_events(reg, "waiting_list_entry", entry)[-1][1]["resolution"] == ["", "admitted"]


def test_a_transfer_closes_one_stay_and_opens_the_next_on_the_same_date(reg, shelter):
    house = fac.create_facility(reg, fac.FacilityFields(code="SH", name="Safe House", kind="SafeHouse",
                                                        bed_labels=("Blue",)), today=TODAY)
    case = make_case(reg)
    stay = pl.admit(reg, case, shelter.id, D(2026, 3, 1), bed_id=bed(shelter, "Room 1"), today=TODAY)
    result = pl.transfer(reg, stay.id, D(2026, 4, 15), house.id, to_bed_id=house.beds[0].id, today=TODAY)
    assert result.closed.discharged == D(2026, 4, 15)
    assert result.closed.discharge_reason == "TransferredToOtherFacility"
    assert result.opened.admitted == D(2026, 4, 15) and result.opened.facility_code == "SH"
    assert result.opened.is_open and result.opened.bed_label == "Blue"
    assert [a for a, _ in audit_events(reg, "stay")][-2:] == ["stay_discharged", "stay_admitted_by_transfer"]
    # Room 1 is free from the transfer date on.
    assert bed(shelter, "Room 1") in [b.id for o in pl.occupancy(reg, D(2026, 4, 15)) for b in o.free_beds]


def test_a_refused_transfer_leaves_the_first_stay_open(reg, shelter):
    house = fac.create_facility(reg, fac.FacilityFields(code="SH", name="Safe House", kind="SafeHouse",
                                                        bed_labels=("Blue",)), today=TODAY)
    other = make_case(reg, given="Bea")
    pl.admit(reg, other, house.id, D(2026, 1, 1), bed_id=house.beds[0].id, today=TODAY)
    case = make_case(reg)
    stay = pl.admit(reg, case, shelter.id, D(2026, 3, 1), bed_id=bed(shelter, "Room 1"), today=TODAY)
    with pytest.raises(ValidationError, match="'Blue' at Safe House is taken"):
        pl.transfer(reg, stay.id, D(2026, 4, 15), house.id, to_bed_id=house.beds[0].id, today=TODAY)
    assert pl.get_stay(reg, stay.id).is_open
    assert len(pl.stays_of_case(reg, case)) == 1


def test_correcting_a_stay_rechecks_the_rules_and_audits_old_and_new(reg, shelter):
    a, b = make_case(reg), make_case(reg, given="Bea")
    sa = pl.admit(reg, a, shelter.id, D(2026, 3, 1), bed_id=bed(shelter, "Room 1"), today=TODAY)
    pl.admit(reg, b, shelter.id, D(2026, 3, 1), bed_id=bed(shelter, "Room 2"), today=TODAY)
    edit = pl.StayEdit.of(sa)
    with pytest.raises(ValidationError, match="Room 2"):
        pl.update_stay(reg, sa.id, pl.StayEdit(**{**edit.__dict__, "bed_id": bed(shelter, "Room 2")}), today=TODAY)
    fixed = pl.update_stay(reg, sa.id, pl.StayEdit(**{**edit.__dict__, "admitted": D(2026, 2, 27)}), today=TODAY)
    assert fixed.admitted == D(2026, 2, 27)
    action, details = audit_events(reg, "stay", sa.id)[-1]
    assert action == "stay_changed" and details == {"admitted": ["2026-03-01", "2026-02-27"]}


def test_removing_a_stay_needs_a_reason_and_keeps_it_in_the_audit(reg, shelter):
    stay = pl.admit(reg, make_case(reg), shelter.id, D(2026, 3, 1), bed_id=bed(shelter, "Room 1"), today=TODAY)
    with pytest.raises(ValidationError):
        pl.remove_stay(reg, stay.id, " ")
    pl.remove_stay(reg, stay.id, "recorded for the wrong case")
    action, details = audit_events(reg, "stay", stay.id)[-1]
    assert action == "stay_removed" and details["reason"] == "recorded for the wrong case"
    assert details["admitted"] == "2026-03-01"


def test_no_new_stay_for_a_closed_case(reg, shelter):
    closed = make_case(reg, closed=D(2025, 6, 1))
    with pytest.raises(ValidationError, match="is closed: reopen it"):
        pl.admit(reg, closed, shelter.id, D(2026, 3, 1), bed_id=bed(shelter, "Room 1"), today=TODAY)


# --- discharge into reintegration ----------------------------------------------------------------


def test_discharge_into_reintegration_starts_the_follow_up_plan(reg, shelter):
    case = make_case(reg)
    stay = pl.admit(reg, case, shelter.id, D(2026, 1, 5), bed_id=bed(shelter, "Room 1"), today=TODAY)
    result = pl.discharge(reg, stay.id, D(2026, 2, 28), "ReintegratedWithFamily", today=TODAY)
    assert result.followup_plan_id is not None
    plan, = followup.plans_of_case(reg, case)
    assert plan.started_on == D(2026, 2, 28) and plan.status == "Active"
    assert plan.followups[0].due_date == D(2026, 3, 28)
    assert followup.case_flags(reg, case) == (D(2026, 3, 28), False)


def test_a_transfer_or_an_explicit_no_starts_no_plan(reg, shelter):
    case = make_case(reg)
    stay = pl.admit(reg, case, shelter.id, D(2026, 1, 5), bed_id=bed(shelter, "Room 1"), today=TODAY)
    result = pl.discharge(reg, stay.id, D(2026, 2, 1), "Repatriated", start_followup=False, today=TODAY)
    assert result.followup_plan_id is None and followup.plans_of_case(reg, case) == []


# --- occupancy -----------------------------------------------------------------------------------


def test_occupancy_on_a_date_and_free_beds_now(reg, shelter):
    house = fac.create_facility(reg, fac.FacilityFields(code="SH", name="Safe House", kind="SafeHouse",
                                                        capacity=4), today=TODAY)
    a, b, c = (make_case(reg, given=n) for n in ("Ann", "Bea", "Cat"))
    sa = pl.admit(reg, a, shelter.id, D(2026, 3, 1), bed_id=bed(shelter, "Room 1"), today=TODAY)
    pl.discharge(reg, sa.id, D(2026, 3, 10), "LeftVoluntarily", today=TODAY)
    pl.admit(reg, b, shelter.id, D(2026, 3, 5), bed_id=bed(shelter, "Room 3"), today=TODAY)
    pl.admit(reg, c, house.id, D(2026, 3, 9), today=TODAY)

    on_9th = {o.code: o for o in pl.occupancy(reg, D(2026, 3, 9))}
    assert on_9th["WS"].occupied == 2 and on_9th["SH"].occupied == 1
    assert [x.label for x in on_9th["WS"].free_beds] == ["Room 2"]
    on_10th = {o.code: o for o in pl.occupancy(reg, D(2026, 3, 10))}  # Ann left on the 10th
    assert on_10th["WS"].occupied == 1 and on_10th["WS"].free_places == 2
    assert [x.label for x in on_10th["WS"].free_beds] == ["Room 1", "Room 2"]
    before = {o.code: o.occupied for o in pl.occupancy(reg, D(2026, 2, 28))}
    assert before == {"SH": 0, "WS": 0}

    now = {o.code: o for o in pl.free_beds(reg, TODAY)}
    assert now["WS"].free_places == 2 and now["SH"].free_places == 3
    assert [r.case.case_id for r in pl.residents(reg, shelter.id, TODAY)] == [b]


def test_occupancy_agrees_with_the_counting_rule(reg):
    """The SQL's 'occupied on the night of D' is counting.occupied_at_end for the period D–D."""
    house = fac.create_facility(reg, fac.FacilityFields(code="BIG", name="Big House", capacity=200), today=TODAY)
    rnd = random.Random(7)
    spans = []
    for i in range(40):
        a = D(2026, 1, 1) + dt.timedelta(days=rnd.randrange(120))
        d = None if rnd.random() < 0.3 else a + dt.timedelta(days=rnd.randrange(0, 40))
        d = d if d is None or d <= TODAY else None
        case = make_case(reg, given=f"P{i}")
        stay = pl.admit(reg, case, house.id, a, today=TODAY)
        if d is not None:
            pl.discharge(reg, stay.id, d, "Other", today=TODAY)
        spans.append((a, d))
    for day in (D(2026, 1, 1), D(2026, 2, 14), D(2026, 3, 31), D(2026, 5, 5)):
        expected = sum(counting.occupied_at_end(a, d, counting.Period(day, day, "x")) for a, d in spans)
        assert pl.occupancy(reg, day)[0].occupied == expected


# --- T5 ------------------------------------------------------------------------------------------


def test_t5_figures_for_hand_worked_stays(reg):
    q = parse_period("2026-Q1")  # 2026-01-01 … 2026-03-31, 90 days
    today = D(2026, 6, 30)
    house = fac.create_facility(reg, fac.FacilityFields(code="H1", name="House One", capacity=10), today=today)
    other = fac.create_facility(reg, fac.FacilityFields(code="H2", name="House Two", capacity=5), today=today)
    stays = [
        # (facility, admitted, discharged)
        (house, D(2025, 12, 1), None),              # spans the whole period: 90 nights, occupied at end
        (house, D(2026, 2, 10), D(2026, 2, 10)),    # admitted and discharged the same day: 0 nights
        (house, D(2026, 3, 20), D(2026, 4, 15)),    # discharged after the period end: 12 nights, occupied
        (house, D(2025, 11, 1), D(2026, 1, 11)),    # discharged in period: 10 nights, stay of 71 days
        (house, D(2025, 10, 1), D(2025, 12, 31)),   # before the period: nothing
        (other, D(2026, 3, 31), None),              # admitted on the last day: the night of E counts
    ]
    for i, (f, a, d) in enumerate(stays):
        stay = pl.admit(reg, make_case(reg, given=f"S{i}"), f.id, a, today=today)
        if d:
            pl.discharge(reg, stay.id, d, "Other", today=today)

    figures = pl.shelter_figures(reg, q)
    h1, h2 = figures.rows
    assert (h1.code, h1.admissions, h1.discharges, h1.bed_nights, h1.occupied_at_end) == ("H1", 2, 2, 112, 2)
    assert h1.average_stay == 35.5  # (0 + 71) / 2
    assert (h2.admissions, h2.discharges, h2.bed_nights, h2.occupied_at_end, h2.average_stay) == (1, 0, 1, 1, None)
    total = figures.total
    assert (total.capacity, total.admissions, total.discharges, total.bed_nights, total.occupied_at_end) == (
        15, 3, 2, 113, 3)
    assert total.average_stay == 35.5


def test_t5_sql_agrees_with_the_counting_functions(reg):
    """Random stays over three facilities: the SQL figures equal tipdesk.counting's, stay by stay."""
    today = D(2026, 12, 31)
    rnd = random.Random(11)
    fs = [fac.create_facility(reg, fac.FacilityFields(code=f"F{i}", name=f"F{i}", capacity=100), today=today)
          for i in range(3)]
    spans = []
    for i in range(60):
        f = rnd.choice(fs)
        a = D(2025, 10, 1) + dt.timedelta(days=rnd.randrange(330))
        d = None if rnd.random() < 0.25 else a + dt.timedelta(days=rnd.choice([0, 1, 3, 30, 89, 90, 200]))
        if d is not None and d > today:
            d = None
        stay = pl.admit(reg, make_case(reg, given=f"R{i}"), f.id, a, today=today)
        if d is not None:
            pl.discharge(reg, stay.id, d, "Other", today=today)
        spans.append((f.id, a, d))
    for code in ("2026-Q1", "2026-Q2", "2026-Q3", "2026"):
        period = parse_period(code)
        rows = {r.facility_id: r for r in pl.shelter_figures(reg, period).rows}
        for f in fs:
            mine = [(a, d) for fid, a, d in spans if fid == f.id]
            row = rows[f.id]
            assert row.admissions == sum(a in period for a, _ in mine)
            assert row.discharges == sum(d is not None and d in period for _, d in mine)
            assert row.bed_nights == sum(counting.bed_nights(a, d, period) for a, d in mine)
            assert row.occupied_at_end == sum(counting.occupied_at_end(a, d, period) for a, d in mine)
            assert row.average_stay == counting.average_stay(
                (d - a).days for a, d in mine if d is not None and d in period)


def test_an_inactive_facility_without_stays_in_the_period_is_not_in_t5(reg):
    old = fac.create_facility(reg, fac.FacilityFields(code="OLD", name="Old House", capacity=3), today=TODAY)
    fac.set_facility_active(reg, old.id, False, on=D(2025, 6, 30), today=TODAY)
    assert [r.code for r in pl.shelter_figures(reg, parse_period("2026-Q1")).rows] == []
    assert [r.code for r in pl.shelter_figures(reg, parse_period("2025-Q2")).rows] == ["OLD"]


# --- permissions and names -----------------------------------------------------------------------


@pytest.mark.parametrize("role", ["police", "analyst", "auditor"])
def test_only_case_workers_and_admins_change_placements(reg, shelter, role):
    case = make_case(reg)
    with acting_as(reg, role) as other:
        with pytest.raises(PermissionDenied, match="may not change shelter placements"):
            pl.admit(other, case, shelter.id, D(2026, 3, 1), bed_id=bed(shelter, "Room 1"), today=TODAY)
        with pytest.raises(PermissionDenied):
            fac.create_facility(other, fac.FacilityFields(code="X", name="X", capacity=1), today=TODAY)
        assert [o.code for o in pl.occupancy(other, TODAY)] == ["WS"]  # reading is allowed


def test_a_case_worker_places_people(reg, shelter):
    case = make_case(reg)
    with acting_as(reg, "caseworker") as other:
        stay = pl.admit(other, case, shelter.id, D(2026, 3, 1), bed_id=bed(shelter, "Room 1"), today=TODAY)
    with reg.read() as s:
        from models import AuditEvent

        event = s.scalars(select(AuditEvent).where(AuditEvent.entity == "stay", AuditEvent.entity_id == stay.id)).one()
    assert event.username == other.actor.username


def test_an_analyst_never_receives_names_or_notes(reg, shelter):
    case = make_case(reg, given="Maria", family="Lopez")
    pl.admit(reg, case, shelter.id, D(2026, 3, 1), bed_id=bed(shelter, "Room 1"), notes="room near the office",
             today=TODAY)
    staff = pl.residents(reg, shelter.id, TODAY)[0]
    assert staff.case.person_name == "Maria Lopez" and staff.notes == "room near the office"
    with acting_as(reg, "analyst") as other:
        seen = pl.residents(other, shelter.id, TODAY)[0]
        stays = pl.stays_of_case(other, case)
    assert seen.case.person_name is None and seen.notes is None and seen.case.case_number
    assert stays[0].case.person_name is None
    assert "Maria" not in repr(seen) + repr(stays)


def test_discharging_a_closed_cases_stay_starts_no_plan(reg, shelter):
    from tipdesk.services import cases
    from tipdesk.services.statuses import CaseStatusChange

    case = make_case(reg)
    stay = pl.admit(reg, case, shelter.id, D(2026, 1, 5), bed_id=bed(shelter, "Room 1"), today=TODAY)
    cases.change_case_status(reg, case, CaseStatusChange(
        "Closed", D(2026, 2, 1), "Moved abroad.", open_work_reason="Left the country; the stay ends too."))
    with pytest.raises(ValidationError, match="is closed: reopen it before transferring"):
        pl.transfer(reg, stay.id, D(2026, 2, 2), shelter.id, to_bed_id=bed(shelter, "Room 2"), today=TODAY)
    result = pl.discharge(reg, stay.id, D(2026, 2, 1), "Repatriated", today=TODAY)
    assert result.followup_plan_id is None and followup.plans_of_case(reg, case) == []


# --- reservations ---------------------------------------------------------------------------------


def test_a_reserved_bed_takes_nobody_else_on_its_nights(reg, shelter):
    """A bed held for a case on some nights refuses anyone else on any of them, saying for whom
    and until when; the nights around it stay free, and other beds are untouched."""
    waiting, other = make_case(reg), make_case(reg, given="Bea")
    room = bed(shelter, "Room 1")
    entry = pl.reserve_bed(reg, waiting, room, D(2026, 7, 3), held_from=D(2026, 7, 1), today=TODAY)
    for admitted in (D(2026, 6, 30), D(2026, 7, 1)):  # an open stay from before, or on a held night
        with pytest.raises(ValidationError) as exc:
            pl.admit(reg, other, shelter.id, admitted, bed_id=room, today=D(2026, 7, 1))
        assert problems(exc)["bed"] == ["'Room 1' at Women's Shelter is reserved for case "
                                        f"{_number(reg, waiting)} from 2026-07-01 to "
                                        "2026-07-03. Choose another bed, or release the reservation first."]
    pl.admit(reg, other, shelter.id, D(2026, 7, 1), bed_id=bed(shelter, "Room 2"), today=D(2026, 7, 1))
    # Shown on its nights only, with the case it waits for.
    assert [r.bed_label for r in pl.reservations(reg, shelter.id, D(2026, 7, 3))] == ["Room 1"]
    assert pl.reservations(reg, shelter.id, D(2026, 6, 30)) == []
    assert pl.reservations(reg, shelter.id, D(2026, 7, 4)) == []
    held = pl.reservations(reg, shelter.id, D(2026, 7, 2))[0]
    assert (held.entry_id, held.case.case_id, held.held_from, held.held_until) == (
        entry, waiting, D(2026, 7, 1), D(2026, 7, 3))
    row = fac.waiting_list(reg, shelter.id).rows[0]
    assert (row.case.case_id, row.bed_label, row.held_until) == (waiting, "Room 1", D(2026, 7, 3))
    # Occupancy still counts it free (a reservation is not a stay) and names it reserved.
    here = next(o for o in pl.occupancy(reg, D(2026, 7, 3)) if o.facility_id == shelter.id)
    assert (here.occupied, here.reserved_beds, room in {b.id for b in here.free_beds}) == (
        1, {room: D(2026, 7, 1)}, True)
    assert next(o for o in pl.occupancy(reg, D(2026, 7, 4)) if o.facility_id == shelter.id).reserved_beds == {}
    assert audit_events(reg, "waiting_list_entry", entry, "bed_reserved")[0][1]["bed_id"] == [None, room]


def _number(reg, case_id: int) -> str:
    from tipdesk.services import cases

    return cases.get_case(reg, case_id).case_number


def test_admitting_the_case_ends_its_reservation(reg, shelter):
    waiting = make_case(reg)
    room = bed(shelter, "Room 3")
    entry = pl.reserve_bed(reg, waiting, room, D(2026, 7, 5), today=TODAY)
    stay = pl.admit(reg, waiting, shelter.id, D(2026, 6, 30), bed_id=room, today=TODAY)
    assert stay.bed_label == "Room 3"
    assert pl.reservations(reg, shelter.id, D(2026, 7, 1)) == [] and fac.waiting_list(reg, shelter.id).total == 0
    assert audit_events(reg, "waiting_list_entry", entry)[-1][1]["resolution"] == ["", "admitted"]


def test_a_bed_is_reserved_only_when_free_and_for_real_nights(reg, shelter):
    placed, waiting, third = make_case(reg), make_case(reg, given="Bea"), make_case(reg, given="Cat")
    room = bed(shelter, "Room 1")
    stay = pl.admit(reg, placed, shelter.id, D(2026, 6, 1), bed_id=room, planned_discharge=D(2026, 7, 2),
                    today=TODAY)
    with pytest.raises(ValidationError, match="'Room 1' is taken on the night of 2026-06-30 \\(case"):
        pl.reserve_bed(reg, waiting, room, D(2026, 7, 4), today=TODAY)
    with pytest.raises(ValidationError) as exc:
        pl.reserve_bed(reg, waiting, room, D(2026, 6, 28), held_from=D(2026, 6, 29), today=TODAY)
    assert set(problems(exc)) == {"held_from", "held_until"}
    pl.discharge(reg, stay.id, D(2026, 6, 30), "LeftVoluntarily", today=TODAY)
    pl.reserve_bed(reg, waiting, room, D(2026, 7, 4), today=TODAY)  # leaving today: free tonight
    with pytest.raises(ValidationError, match="already reserved for case .* from 2026-06-30 to 2026-07-04"):
        pl.reserve_bed(reg, third, room, D(2026, 7, 10), held_from=D(2026, 7, 4), today=TODAY)
    pl.reserve_bed(reg, third, room, D(2026, 7, 10), held_from=D(2026, 7, 5), today=TODAY)  # the night after
    # One bed at a time per case: another bed is refused, the same bed again changes its nights.
    with pytest.raises(ValidationError, match="already holds 'Room 1' at Women's Shelter \\(last night "
                                              "2026-07-04\\): release it first"):
        pl.reserve_bed(reg, waiting, bed(shelter, "Room 2"), D(2026, 7, 4), today=TODAY)
    pl.reserve_bed(reg, waiting, room, D(2026, 7, 3), note="Arrives with a police escort.", today=TODAY)
    assert [(r.case.case_id, r.held_until) for r in pl.reservations(reg, shelter.id, D(2026, 7, 3))] == [
        (waiting, D(2026, 7, 3))]
    assert fac.waiting_list(reg, shelter.id).total == 2
    assert "Arrives with a police escort." in next(
        r.note for r in fac.waiting_list(reg, shelter.id).rows if r.case.case_id == waiting)
    # Someone already placed is transferred, not reserved for.
    with pytest.raises(ValidationError, match="This person is placed at Women's Shelter since 2026-06-01"):
        other = make_case(reg, given="Dee")
        pl.admit(reg, other, shelter.id, D(2026, 6, 1), bed_id=bed(shelter, "Room 3"), today=TODAY)
        pl.reserve_bed(reg, other, bed(shelter, "Room 2"), D(2026, 7, 2), today=TODAY)


def test_releasing_frees_the_bed_and_the_case_keeps_waiting(reg, shelter, tmp_path):
    waiting, other = make_case(reg), make_case(reg, given="Bea")
    room = bed(shelter, "Room 2")
    entry = pl.reserve_bed(reg, waiting, room, D(2026, 7, 3), today=TODAY)
    pl.release_bed(reg, entry)
    assert pl.reservations(reg, shelter.id, TODAY) == []
    assert fac.waiting_list(reg, shelter.id).rows[0].bed_label is None
    pl.admit(reg, other, shelter.id, TODAY, bed_id=room, today=TODAY)
    with pytest.raises(ValidationError, match="no longer reserved"):
        pl.release_bed(reg, entry)
    assert audit_events(reg, "waiting_list_entry", entry, "bed_released")[0][1]["bed_id"] == [room, None]
    with acting_as(reg, "analyst") as analyst, pytest.raises(PermissionDenied):
        pl.reserve_bed(analyst, waiting, room, D(2026, 7, 3), today=TODAY)


def test_a_transfer_or_a_corrected_stay_cannot_take_a_reserved_bed(reg, shelter):
    placed, waiting = make_case(reg), make_case(reg, given="Bea")
    room1, room2 = bed(shelter, "Room 1"), bed(shelter, "Room 2")
    stay = pl.admit(reg, placed, shelter.id, D(2026, 6, 1), bed_id=room1, today=TODAY)
    # A stay in Room 2 that ended before the reservation, reopened by a correction, would take it.
    earlier = make_case(reg, given="Cat")
    old = pl.admit(reg, earlier, shelter.id, D(2026, 5, 1), bed_id=room2, today=TODAY)
    pl.discharge(reg, old.id, D(2026, 5, 20), "LeftVoluntarily", today=TODAY)
    pl.reserve_bed(reg, waiting, room2, D(2026, 7, 3), today=TODAY)
    with pytest.raises(ValidationError, match="'Room 2' at Women's Shelter is reserved for case"):
        pl.transfer(reg, stay.id, TODAY, shelter.id, to_bed_id=room2, today=TODAY)
    reopened = dataclasses.replace(pl.StayEdit.of(pl.get_stay(reg, old.id)), discharged=None, discharge_reason=None)
    with pytest.raises(ValidationError, match="reserved for case"):
        pl.update_stay(reg, old.id, reopened, today=TODAY)
    assert pl.get_stay(reg, old.id).discharged == D(2026, 5, 20)


def test_a_reservation_past_its_last_night_holds_nothing(reg, shelter):
    """Nights already past hold nothing: an admission recorded late on them goes through."""
    waiting, other = make_case(reg), make_case(reg, given="Bea")
    room = bed(shelter, "Room 1")
    pl.reserve_bed(reg, waiting, room, D(2026, 6, 2), held_from=D(2026, 6, 1), today=D(2026, 6, 1))
    assert pl.admit(reg, other, shelter.id, D(2026, 6, 1), bed_id=room, today=TODAY).bed_label == "Room 1"
    assert fac.waiting_list(reg, shelter.id).rows[0].held_until == D(2026, 6, 2)  # kept, as history


def test_closing_a_case_ends_its_waiting_and_its_reservation(reg, shelter):
    from tipdesk.services import cases
    from tipdesk.services.statuses import CaseStatusChange

    waiting = make_case(reg)
    room = bed(shelter, "Room 1")
    entry = pl.reserve_bed(reg, waiting, room, D(2026, 7, 3), today=TODAY)
    cases.change_case_status(reg, waiting, CaseStatusChange("Closed", TODAY, "Moved abroad with family."))
    assert pl.reservations(reg, shelter.id, TODAY) == [] and fac.waiting_list(reg, shelter.id).total == 0
    assert audit_events(reg, "waiting_list_entry", entry)[-1][1]["resolution"] == ["", "no longer needed"]


def test_a_held_bed_or_its_facility_cannot_be_taken_out_of_use(reg, shelter):
    waiting = make_case(reg)
    room = bed(shelter, "Room 3")
    entry = pl.reserve_bed(reg, waiting, room, D(2026, 7, 3), today=TODAY)
    with pytest.raises(ValidationError, match="'Room 3' is reserved for case .* release the reservation first"):
        fac.set_bed(reg, room, active=False, today=TODAY)
    with pytest.raises(ValidationError, match="'Room 3' is reserved for case"):
        fac.set_facility_active(reg, shelter.id, False, today=TODAY)
    pl.release_bed(reg, entry)
    fac.set_bed(reg, room, active=False, today=TODAY)


def test_a_role_without_names_sees_the_case_number_of_a_reservation_only(reg, shelter):
    waiting = make_case(reg)
    pl.reserve_bed(reg, waiting, bed(shelter, "Room 1"), D(2026, 7, 3), today=TODAY)
    with acting_as(reg, "analyst") as analyst:
        held = pl.reservations(analyst, shelter.id, TODAY)[0]
    assert held.case.case_number and not held.case.first_name
    assert pl.reservations(reg, shelter.id, TODAY)[0].case.first_name
