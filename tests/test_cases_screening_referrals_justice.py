"""Screening (Palermo Act–Means–Purpose, the child rule, weighted indicators, confirm or
override), referrals and justice stages."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import replace

import pytest
from sqlalchemy import select

from models import AuditEvent, RegisterMeta
from tests.factories import acting_as, add_case, add_partner
from tipdesk.errors import NotFound, PermissionDenied, ValidationError
from tipdesk.services import justice, referrals, screening
from tipdesk.services.records import JusticeStageInput, ReferralInput
from tipdesk.services.screening import (
    ScreeningDecision,
    ScreeningInput,
    ScreeningSettings,
    suggest,
)

D = dt.date
FULL = ScreeningInput(D(2025, 2, 10), acts=("Recruitment",), means=("Deception",),
                      purposes=("SexualExploitation",))


# --- the suggestion ---------------------------------------------------------------------------------


def test_all_three_elements_suggest_an_actual_victim_with_reasons():
    s = suggest(FULL, ScreeningSettings(), child_at_time=False)
    assert s.status == "ActualVictimOfTrafficking" and s.missing == ()
    assert "Act: recruitment." in s.reasoning and "Means: deception." in s.reasoning
    assert "All elements" in s.reasoning


def test_an_adult_without_means_is_only_a_possible_victim():
    s = suggest(replace(FULL, means=()), ScreeningSettings(), child_at_time=False)
    assert s.status == "PossibleVictimOfTrafficking" and s.missing == ("means",)
    assert "still missing: the means" in s.reasoning


def test_the_child_rule_needs_act_and_purpose_only():
    s = suggest(replace(FULL, means=()), ScreeningSettings(), child_at_time=True)
    assert s.status == "ActualVictimOfTrafficking" and s.child_rule
    assert "under 18" in s.reasoning
    assert suggest(replace(FULL, means=(), purposes=()), ScreeningSettings(), True).status == \
        "PossibleVictimOfTrafficking"


def test_unknown_age_applies_the_adult_rule():
    s = suggest(replace(FULL, means=()), ScreeningSettings(), child_at_time=None)
    assert s.status == "PossibleVictimOfTrafficking" and "age at the time is not known" in s.reasoning


def test_indicators_alone_reach_possible_at_the_threshold_with_configured_weights():
    empty = ScreeningInput(D(2025, 2, 10), indicators=("excessive_hours", "abusive_conditions"))
    default = ScreeningSettings()
    assert suggest(empty, default, False).status == "NotAVictimOfTrafficking"  # 1 + 1 < 4
    heavier = ScreeningSettings({**default.weights, "excessive_hours": 3}, possible_threshold=4)
    s = suggest(empty, heavier, False)
    assert (s.status, s.indicator_score) == ("PossibleVictimOfTrafficking", 4)


# --- recording ----------------------------------------------------------------------------------------


def test_confirming_the_suggestion_records_it_and_updates_the_status(reg):
    case = add_case(reg)
    detail = screening.record_screening(reg, case.id, FULL, ScreeningDecision(
        "ActualVictimOfTrafficking", decided_by="NGO"))
    recorded = detail.screenings[0]
    assert (recorded.suggested_status, recorded.decided_status, recorded.overridden) == (
        "ActualVictimOfTrafficking", "ActualVictimOfTrafficking", False)
    assert detail.trafficking_status == "ActualVictimOfTrafficking"
    assert detail.status_history[-1].decided_by == "NGO"
    assert detail.status_history[-1].effective_date == D(2025, 2, 10)


def test_overriding_needs_a_reason_and_is_recorded(reg):
    case = add_case(reg)
    with pytest.raises(ValidationError) as exc:
        screening.record_screening(reg, case.id, FULL, ScreeningDecision("PossibleVictimOfTrafficking"))
    assert "say why" in exc.value.by_field()["note"][0]
    detail = screening.record_screening(reg, case.id, FULL, ScreeningDecision(
        "PossibleVictimOfTrafficking", "Waiting for the police interview"))
    recorded = detail.screenings[0]
    assert recorded.overridden and recorded.decision_note == "Waiting for the police interview"
    assert recorded.suggested_status == "ActualVictimOfTrafficking"
    assert detail.trafficking_status == "PossibleVictimOfTrafficking"
    assert len(detail.status_history) == 1  # nothing to change
    with reg.read() as s:
        event = s.scalars(select(AuditEvent).where(AuditEvent.action == "screening_recorded")).one()
        details = json.loads(event.details)
    assert details["suggested_status"] == "ActualVictimOfTrafficking" and details["overridden"] is True


def test_child_at_time_comes_from_the_age_when_trafficked(reg):
    case = add_case(reg, birth_date=D(2000, 1, 1), age_when_trafficked=16)
    detail = screening.record_screening(reg, case.id, replace(FULL, means=()), ScreeningDecision(
        "ActualVictimOfTrafficking", decided_by="Police"))
    assert detail.screenings[0].child_at_time is True


def test_weights_live_in_the_register_and_a_screening_keeps_those_it_used(reg):
    settings = screening.get_screening_settings(reg)
    screening.set_screening_settings(reg, ScreeningSettings({**settings.weights, "violence": 7}, 5))
    with reg.read() as s:
        stored = json.loads(s.get(RegisterMeta, "screening_settings").value)
    assert stored["weights"]["violence"] == 7 and stored["possible_threshold"] == 5
    case = add_case(reg)
    detail = screening.record_screening(
        reg, case.id, ScreeningInput(D(2025, 2, 11), indicators=("violence",)),
        ScreeningDecision("PossibleVictimOfTrafficking"))
    assert detail.screenings[0].indicator_weights == {"violence": 7}
    assert detail.screenings[0].indicator_score == 7
    with pytest.raises(ValidationError):
        screening.set_screening_settings(reg, ScreeningSettings({"no_such": 1}))


def test_preview_shows_the_suggestion_without_saving(reg):
    case = add_case(reg)
    s = screening.preview(reg, case.id, FULL)
    assert s.status == "ActualVictimOfTrafficking"
    assert screening_count(reg) == 0


def screening_count(reg) -> int:
    with reg.read() as s:
        return s.connection().exec_driver_sql("SELECT count(*) FROM screening").scalar()


# --- referrals ------------------------------------------------------------------------------------------


def test_referral_with_outcome_and_its_rules(reg):
    case = add_case(reg)
    partner = add_partner(reg, "Legal Aid", "LegalService")
    with pytest.raises(ValidationError) as exc:
        referrals.add_referral(reg, case.id, ReferralInput("Sideways", None, D(2025, 3, 1), "Bogus",
                                                           outcome="Accepted"))
    found = exc.value.by_field()
    assert {"direction", "partner_org_id", "reason", "outcome_date"} <= set(found)
    detail = referrals.add_referral(reg, case.id, ReferralInput(
        "Out", partner.id, D(2025, 3, 1), "AdditionalServicesRequired", "Immigration advice"))
    ref = detail.referrals[0]
    assert (ref.partner_name, ref.partner_type, ref.outcome) == ("Legal Aid", "LegalService", "Pending")
    with pytest.raises(ValidationError) as exc:
        referrals.record_outcome(reg, ref.id, "Declined", D(2025, 2, 1))
    assert "before the referral date" in exc.value.by_field()["outcome_date"][0]
    detail = referrals.record_outcome(reg, ref.id, "Accepted", D(2025, 3, 4))
    assert (detail.referrals[0].outcome, detail.referrals[0].outcome_date) == ("Accepted", D(2025, 3, 4))
    with reg.read() as s:
        changed = json.loads(s.scalars(select(AuditEvent.details).where(
            AuditEvent.action == "referral_changed")).one())
    assert changed["outcome"] == ["Pending", "Accepted"] and changed["outcome_date"] == [None, "2025-03-04"]


def test_a_referral_cannot_name_this_office(reg):
    case = add_case(reg)
    own = reg.office().id
    with pytest.raises(ValidationError) as exc:
        referrals.add_referral(reg, case.id, ReferralInput("In", own, D(2025, 2, 10)))
    assert "not this office" in exc.value.by_field()["partner_org_id"][0]


def test_a_referral_entered_by_mistake_can_be_removed_and_the_trail_keeps_it(reg):
    case = add_case(reg)
    partner = add_partner(reg, "Legal Aid", "LegalService")
    detail = referrals.add_referral(reg, case.id, ReferralInput("Out", partner.id, D(2025, 3, 1)))
    ref = detail.referrals[0]
    detail = referrals.remove_referral(reg, ref.id)
    assert detail.referrals == () and detail.version > case.version
    with reg.read() as s:
        removed = json.loads(s.scalars(select(AuditEvent.details).where(
            AuditEvent.action == "referral_removed")).one())
    assert removed["referral_id"] == ref.id and removed["partner_org_id"] == partner.id
    with pytest.raises(NotFound):
        referrals.remove_referral(reg, ref.id)
    with acting_as(reg, "auditor") as auditor, pytest.raises(PermissionDenied):
        referrals.remove_referral(auditor, ref.id)


# --- justice --------------------------------------------------------------------------------------------


def test_justice_stages_are_dated_and_ordered(reg):
    case = add_case(reg)
    justice.add_justice_stage(reg, case.id, JusticeStageInput("Reported to police", D(2025, 2, 1)))
    detail = justice.add_justice_stage(reg, case.id, JusticeStageInput("Investigation opened", D(2025, 2, 15)))
    with pytest.raises(ValidationError) as exc:
        justice.add_justice_stage(reg, case.id, JusticeStageInput("Prosecution started", D(2025, 2, 10)))
    assert "cannot be dated before “Investigation opened”" in exc.value.by_field()["stage_date"][0]
    with pytest.raises(ValidationError) as exc:
        justice.add_justice_stage(reg, case.id, JusticeStageInput("Arrest", D(2025, 2, 10)))
    assert "stage" in exc.value.by_field()
    with pytest.raises(ValidationError):
        justice.add_justice_stage(reg, case.id, JusticeStageInput("Reported to police", D(2025, 2, 1)))
    assert [s.stage for s in detail.justice_stages] == ["Reported to police", "Investigation opened"]
    detail = justice.set_justice_details(reg, case.id, "JCF/2025/77", True)
    assert (detail.police_reference, detail.victim_as_witness) == ("JCF/2025/77", True)
    stage_id = detail.justice_stages[1].id
    detail = justice.update_justice_stage(reg, stage_id, JusticeStageInput("Investigation opened", D(2025, 2, 20)))
    assert detail.justice_stages[1].stage_date == D(2025, 2, 20)
    detail = justice.remove_justice_stage(reg, stage_id)
    assert [s.stage for s in detail.justice_stages] == ["Reported to police"]
    with reg.read() as s:
        actions = [a for (a,) in s.execute(select(AuditEvent.action).where(AuditEvent.entity_id == case.id))]
    assert {"justice_stage_added", "justice_stage_changed", "justice_stage_removed"} <= set(actions)
