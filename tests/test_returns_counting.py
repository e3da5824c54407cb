"""TIP-RETURN/1 counting edge cases on a real register, each with numbers worked out by hand."""

from __future__ import annotations

import datetime as dt

import pytest

from exports.returns import service, spec
from exports.returns.keys import case_key, normalise_name, person_key
from tests.returns_data import (
    add_case,
    add_facility,
    add_followup,
    add_justice,
    add_plan,
    add_service,
    add_stay,
)
from tipdesk.counting import parse_period
from tipdesk.vault.register import META_OFFICE_SECRET

D = dt.date
Q3 = parse_period("2026-Q3")  # 2026-07-01 … 2026-09-30, 92 days
NOW = dt.datetime(2026, 10, 5, 9, 30, tzinfo=dt.UTC)


def prepare(reg, period=Q3):
    return service.prepare_return(reg, period, now=NOW)


def row_of(prepared, reg, case) -> spec.LineRow | None:
    secret = bytes.fromhex(reg.meta(META_OFFICE_SECRET))
    key = case_key(secret, case.id)
    return next((r for r in prepared.line_list if r.case_key == key), None)


def grid(prepared, sheet, category, column="Total"):
    return prepared.tables[sheet].value(category, column)


def test_case_registered_on_the_last_day_of_the_period(reg):
    with reg.write() as s:
        last_day = add_case(s, D(2026, 9, 30), gender="Masculine", birth=D(1990, 1, 1))
        next_day = add_case(s, D(2026, 10, 1), gender="Masculine", birth=D(1990, 1, 1))
    p = prepare(reg)
    row = row_of(p, reg, last_day)
    assert row is not None and row.identified_in_period and row.registered == D(2026, 9, 30)
    assert row_of(p, reg, next_day) is None  # registered after the period end: not in scope
    assert grid(p, spec.T1, "PossibleVictimOfTrafficking", "Male 18+") == 1
    assert grid(p, spec.T1, "Total") == 1
    # In Q4 it is still in scope (Active on the day before the start) but no longer identified.
    q4 = service.prepare_return(reg, parse_period("2026-Q4"), now=dt.datetime(2027, 1, 4, tzinfo=dt.UTC))
    assert row_of(q4, reg, last_day).identified_in_period is False
    assert row_of(q4, reg, next_day).identified_in_period is True


def test_status_changed_after_the_period_end_does_not_count(reg):
    with reg.write() as s:
        case = add_case(s, D(2026, 8, 1), status="PossibleVictimOfTrafficking", decided_by="NGO",
                        later_statuses=[(D(2026, 10, 2), "ActualVictimOfTrafficking", "Police")],
                        case_statuses=[(D(2026, 10, 3), "Closed")])
    p = prepare(reg)
    row = row_of(p, reg, case)
    assert (row.status, row.status_decided_by) == ("PossibleVictimOfTrafficking", "NGO")
    assert (row.case_status, row.closed) == ("Active", None)
    assert grid(p, spec.T1, "PossibleVictimOfTrafficking") == 1
    assert grid(p, spec.T1, "ActualVictimOfTrafficking") == 0
    assert grid(p, spec.T7, "Closed in period") == 0


def test_same_date_status_entries_the_later_entered_wins(reg):
    with reg.write() as s:
        case = add_case(s, D(2026, 7, 10), later_statuses=[
            (D(2026, 8, 1), "NotAVictimOfTrafficking", "Police"),
            (D(2026, 8, 1), "ActualVictimOfTrafficking", "CourtOrProsecution")])
    row = row_of(prepare(reg), reg, case)
    assert (row.status, row.status_decided_by) == ("ActualVictimOfTrafficking", "CourtOrProsecution")


def test_stay_spanning_the_whole_period_and_a_same_day_stay(reg):
    with reg.write() as s:
        home = add_facility(s, "H1", "Home", 6)
        other = add_facility(s, "H2", "Second home", 4)
        long_case = add_case(s, D(2026, 3, 1))
        short_case = add_case(s, D(2026, 8, 10))
        add_stay(s, long_case, home, D(2026, 6, 15), D(2026, 10, 20), "IndependentLiving")
        add_stay(s, short_case, home, D(2026, 8, 10), D(2026, 8, 10), "TransferredToOtherFacility")
        add_stay(s, short_case, other, D(2026, 8, 10), None)
    p = prepare(reg)
    t5 = p.tables[spec.T5]
    # Whole period: 92 nights, occupied at the end (discharged after it), neither admitted nor
    # discharged within it. Same day: admitted and discharged, 0 nights, 0 days of stay.
    assert t5.row("H1") == (6, 1, 1, 92, 1, 0.0)
    # 10 August to 30 September, still placed: 52 nights (the night starting on 30 September counts).
    assert t5.row("H2") == (4, 1, 0, 52, 1, None)
    assert t5.row("Total") == (10, 2, 1, 144, 2, 0.0)
    # The long stay ends on 20 October, after the day the return is made (5 October): the person
    # is still placed that day, so the Stays sheet leaves the discharge empty.
    stays = {(st.facility, st.admitted): st for st in p.stays}
    assert stays[("H1", D(2026, 6, 15))].discharged is None
    assert stays[("H1", D(2026, 8, 10))].discharged == D(2026, 8, 10)


def test_person_turning_18_in_the_period_counts_by_age_at_registration(reg):
    with reg.write() as s:
        teen = add_case(s, D(2026, 8, 14), gender="Feminine", birth=D(2008, 8, 15))  # 18 the next day
        leap = add_case(s, D(2026, 2, 28), gender="Feminine", birth=D(2008, 2, 29))
        estimated = add_case(s, D(2026, 7, 20), birth=None, estimated_age=16, estimated_on=D(2025, 7, 21))
        unknown = add_case(s, D(2026, 7, 21), birth=None, gender="NonSpecifiedUnknown")
    p = prepare(reg)
    assert (row_of(p, reg, teen).age, row_of(p, reg, teen).age_group) == (17, "0-17")
    assert row_of(p, reg, leap).age == 17  # 29 February: 18 only on 1 March
    assert row_of(p, reg, estimated).age == 16  # a year after the estimate less a day
    assert (row_of(p, reg, unknown).age, row_of(p, reg, unknown).age_group) == (None, "unknown")
    assert grid(p, spec.T1, "Total", "Female 0-17") == 2
    assert grid(p, spec.T1, "Total", "Unknown sex age unknown") == 1


def test_case_with_three_exploitation_types(reg):
    with reg.write() as s:
        case = add_case(s, D(2026, 7, 5), exploitation=["SexualExploitation", "ForcedLabour", "ForcedBegging"])
        add_case(s, D(2026, 7, 6), exploitation=["ChildLabour", "Servitude"])  # one category, counted once
        add_case(s, D(2026, 7, 7), exploitation=[])  # in no category, but a victim
        add_case(s, D(2026, 7, 8), exploitation=["OrganRemoval"], status="NotAVictimOfTrafficking")
    p = prepare(reg)
    assert row_of(p, reg, case).exploitation == ("ForcedBegging", "ForcedLabour", "SexualExploitation")
    assert grid(p, spec.T2, "Sexual exploitation") == 1
    assert grid(p, spec.T2, "Forced labour") == 2
    assert grid(p, spec.T2, "Other forms of exploitation") == 1
    assert grid(p, spec.T2, "Total victims") == 3


def test_scope_rules_for_cases_registered_before_the_period(reg):
    with reg.write() as s:
        active = add_case(s, D(2025, 1, 1))  # Active on 30 June: in scope
        closed_before = add_case(s, D(2025, 1, 1), case_statuses=[(D(2026, 3, 1), "Closed")])
        closed_in = add_case(s, D(2025, 1, 1), case_statuses=[(D(2026, 8, 31), "ClosedReferred")])
        reopened = add_case(s, D(2025, 1, 1), case_statuses=[(D(2026, 3, 1), "Closed"), (D(2026, 9, 1), "Active")])
        no_change = add_case(s, D(2025, 1, 1), case_statuses=[(D(2026, 3, 1), "Closed"), (D(2026, 9, 1), "Closed")])
    p = prepare(reg)
    assert row_of(p, reg, active) is not None and not row_of(p, reg, active).identified_in_period
    assert row_of(p, reg, closed_before) is None
    assert (row_of(p, reg, closed_in).case_status, row_of(p, reg, closed_in).closed) == ("ClosedReferred", D(2026, 8, 31))
    assert row_of(p, reg, reopened).case_status == "Active"
    assert row_of(p, reg, no_change) is None  # a second "Closed" entry is no change of status
    assert grid(p, spec.T7, "Closed in period") == 1
    assert grid(p, spec.T1, "Total") == 0  # none identified in Q3


def test_services_followups_and_justice(reg):
    with reg.write() as s:
        case = add_case(s, D(2026, 1, 10))
        add_service(s, case, "Health", D(2026, 6, 1), D(2026, 7, 1), "Completed")  # last day counts
        add_service(s, case, "Legal", D(2026, 5, 1), None, "Completed")  # no end: start day only → no
        add_service(s, case, "Psychosocial", D(2026, 9, 30), None, "Ongoing")
        add_service(s, case, "Education", None, None, "Planned")
        add_plan(s, case, D(2026, 2, 1))
        add_followup(s, case, D(2026, 3, 1), done=D(2026, 3, 2))  # old, done
        add_followup(s, case, D(2026, 5, 1))  # overdue
        add_followup(s, case, D(2026, 7, 1), done=D(2026, 10, 2))  # due; done after the end → overdue
        add_followup(s, case, D(2026, 8, 1), done=D(2026, 8, 3))  # due and done
        add_followup(s, case, D(2026, 9, 1), cancelled=D(2026, 8, 20))  # cancelled: not due
        add_followup(s, case, D(2026, 9, 15), cancelled=D(2026, 10, 1))  # cancelled later: due, overdue
        add_followup(s, case, D(2026, 9, 30))  # due on the last day: due, not overdue
        add_justice(s, case, "Reported to police", D(2026, 7, 3))
        add_justice(s, case, "Investigation opened", D(2026, 10, 1))  # after the period
    p = prepare(reg)
    row = row_of(p, reg, case)
    assert row.services_in_period == ("Health", "Psychosocial")
    assert (row.followups_due, row.followups_done, row.followups_overdue) == (4, 1, 3)
    assert row.active_followup
    assert row.justice_in_period == ("Reported to police",)
    assert grid(p, spec.T6, "Health") == 1 and p.tables[spec.T6].row("Legal") is None
    assert [grid(p, spec.T7, r) for r in spec.T7_ROWS] == [1, 1, 1, 1, 0]
    assert [grid(p, spec.T8, r) for r in spec.T8_ROWS] == [1, 0, 0, 0, 0]


def test_person_key_needs_consent_key_and_names(reg):
    from tipdesk.services.linkage import set_linkage_key

    key = bytes(range(32))
    set_linkage_key(reg, key)
    with reg.write() as s:
        consent = add_case(s, D(2026, 7, 1), consent_data_sharing=True, family="Müller-Lüdenscheidt",
                           given="José  María", birth=D(1999, 12, 31))
        no_consent = add_case(s, D(2026, 7, 2), consent_data_sharing=False)
        no_birth = add_case(s, D(2026, 7, 3), consent_data_sharing=True, birth=None, estimated_age=30)
        no_name = add_case(s, D(2026, 7, 4), consent_data_sharing=True, family="")
    p = prepare(reg)
    import hashlib
    import hmac

    expected = hmac.new(key, "mullerludenscheidt|josemaria|1999-12-31".encode(), hashlib.sha256).hexdigest()[:32]
    assert normalise_name("Müller-Lüdenscheidt") == "mullerludenscheidt"
    assert row_of(p, reg, consent).person_key == expected
    assert person_key(key, True, "MULLER LUDENSCHEIDT", "jose maria", D(1999, 12, 31)) == expected
    for case in (no_consent, no_birth, no_name):
        assert row_of(p, reg, case).person_key == ""
    assert p.meta.linkage_key_id == hashlib.sha256(key).hexdigest()[:8]


def test_identified_by_and_citizenship_tables(reg):
    from tests.returns_data import add_partner

    with reg.write() as s:
        police = add_partner(s, "Police", "LawEnforcement")
        add_case(s, D(2026, 7, 1), identified_by=police, citizenships=["HTI", "JAM"], scope="Transnational")
        add_case(s, D(2026, 7, 2), self_referral=True, citizenships=[], scope="Unknown")
        add_case(s, D(2026, 7, 3), citizenships=["JAM"], scope="Domestic")
    p = prepare(reg)
    t3, t4 = p.tables[spec.T3], p.tables[spec.T4]
    assert [name for name, _ in t3.rows] == ["HTI", "JAM", "Unknown", "Domestic", "Transnational", "Scope unknown"]
    assert [t3.value(n, "Total") for n, _ in t3.rows] == [1, 1, 1, 1, 1, 1]
    assert [(n, v[-1]) for n, v in t4.rows] == [("LawEnforcement", 1), ("Self-referral", 1), ("Unknown", 1)]


def test_a_period_that_has_not_ended_is_refused(reg):
    from tipdesk.errors import UsageError

    with pytest.raises(UsageError, match="can be prepared from 2026-10-01"):
        service.prepare_return(reg, Q3, now=dt.datetime(2026, 9, 30, 12, tzinfo=dt.UTC))


def test_a_value_the_standard_does_not_allow_stops_the_export_with_the_case_number(reg):
    from tipdesk.errors import ValidationError

    with reg.write() as s:
        case = add_case(s, D(2026, 7, 1), citizenships=["XYZ"])
    with pytest.raises(ValidationError) as err:
        prepare(reg)
    assert case.case_number in str(err.value) and "XYZ" in str(err.value)
