"""The demo's generation steps after persons and cases: partner organisations, screenings,
referrals and justice stages. ``DEFAULT_STEPS`` lists every step in order; a later area adds
its own (e.g. shelter placements, services and follow-ups) at the end."""

from __future__ import annotations

import datetime as dt

from models import vocab
from tipdesk.demo import data
from tipdesk.demo.cases import run_cases
from tipdesk.demo.context import DemoContext, DemoRuleBroken, Step, flag, iso, js, js_dict, pick, ri, sample, weighted
from tipdesk.demo.shelter import run_shelter
from tipdesk.services.organisations import OrganisationInput, add_organisation
from tipdesk.services.records import JusticeStageInput, ReferralInput
from tipdesk.services.justice import stage_problems
from tipdesk.services.referrals import validate_referral
from tipdesk.services.screening import (
    DEFAULT_WEIGHTS,
    ScreeningDecision,
    ScreeningInput,
    ScreeningSettings,
    suggest,
    validate_screening,
)
from tipdesk.services.statuses import ACTUAL, NOT_A_VICTIM

# --- partner organisations -------------------------------------------------------------------------


def run_organisations(ctx: DemoContext) -> None:
    """The partner organisations of ``data.PARTNERS``, through the organisation service."""
    for code, name, org_type, country, _share in data.PARTNERS:
        info = add_organisation(ctx.reg, OrganisationInput(name, org_type, country, code))
        ctx.partners[code] = info.id


# --- screenings --------------------------------------------------------------------------------------

_SCREENING_COLUMNS = ("case_id", "screened_on", "screened_by", "acts", "means", "purposes",
                      "indicators", "indicator_weights", "indicator_score", "child_at_time",
                      "suggested_status", "reasoning", "decided_status", "overridden",
                      "decision_note")
_ACTS = vocab.names(vocab.PALERMO_ACTS)
_MEANS = vocab.names(vocab.PALERMO_MEANS)
_INDICATORS = tuple(DEFAULT_WEIGHTS)
_OVERRIDE_NOTES = (
    "Decided with the police after a second interview.",
    "The person's account is consistent with the indicators; decided with the supervisor.",
    "Too early to decide: more information is expected from the referring agency.",
)


def run_screenings(ctx: DemoContext) -> None:
    """A screening at registration for about seven cases in ten, decided as the case's first
    trafficking status (confirming or overriding the suggestion)."""
    rng, settings, today = ctx.rng, ScreeningSettings(), ctx.today
    for batch in ctx.batches(ctx.cases):
        rows = []
        for case in batch:
            if rng.random() >= 0.7:  # not screened
                continue
            acts = sample(rng, _ACTS, ri(rng, 1, 3))
            means = sample(rng, _MEANS, ri(rng, 1, 2))
            drop = pick(rng, ("act", "means", "purpose"))
            indicators = sample(rng, _INDICATORS, ri(rng, 0, 6))
            note = pick(rng, _OVERRIDE_NOTES)
            # drawn for every screened case: whether the case is a child depends on today
            child_without_means = rng.random() < 0.5
            _, decided, body = case.status_history[0]
            purposes = list(case.exploitation) or ["Other"]
            if decided == NOT_A_VICTIM:
                acts, means, purposes, indicators = acts[:1] if drop == "act" else [], [], [], indicators[:1]
            elif decided != ACTUAL:
                if drop == "act":
                    acts = []
                elif drop == "means":
                    means = []
                else:
                    purposes = []
            if case.child and decided != NOT_A_VICTIM and child_without_means:
                means = []
            data = ScreeningInput(case.registration_date, tuple(acts), tuple(means),
                                  tuple(purposes), tuple(indicators), case.child)
            suggestion = suggest(data, settings, case.child)
            decision = ScreeningDecision(decided, "" if suggestion.status == decided else note, body)
            problems = validate_screening(data, decision, suggestion, case.birth_date, today)
            if problems:
                raise DemoRuleBroken("screening", problems)
            rows.append((
                case.id, iso(data.screened_on), case.owner_id or ctx.users["caseworker"], js(acts),
                js(means), js(purposes), js(indicators),
                js_dict({i: settings.weights[i] for i in indicators}), suggestion.indicator_score,
                flag(case.child), suggestion.status, suggestion.reasoning, decided,
                flag(decided != suggestion.status), decision.note,
            ))
        with ctx.write() as w:
            w.insert("screening", _SCREENING_COLUMNS, rows)
            w.audit("demo_screenings_generated", {"screenings": len(rows)})


# --- referrals ---------------------------------------------------------------------------------------

_REFERRAL_COLUMNS = ("case_id", "direction", "partner_org_id", "reason", "referral_date", "details",
                     "outcome", "outcome_date")
_OUTGOING = ((0, 60), (1, 30), (2, 10))
_OUTCOMES = (("Accepted", 65), ("Declined", 15), ("Pending", 20))
_REASONS = (("AdditionalServicesRequired", 70), ("MigrationOrChangeOfLocation", 20), ("Other", 10))
_DETAILS = ("", "", "Medical assessment requested.", "Needs a safe place to stay tonight.",
            "Legal advice on immigration status.", "Family tracing requested.",
            "Counselling sessions twice a week.")


def run_referrals(ctx: DemoContext) -> None:
    """Incoming referrals from the identifying partner; outgoing ones to service partners, with
    outcomes; an accepted outgoing referral before every ``ClosedReferred``."""
    rng, today = ctx.rng, ctx.today
    targets = [ctx.partners[c] for c in data.REFERRAL_TARGETS]
    for batch in ctx.batches(ctx.cases):
        rows = []
        for case in batch:
            # Draws depend on earlier draws only (never on today), as the context requires.
            incoming = rng.random() < 0.6
            in_reason = weighted(rng, _REASONS) if incoming else None
            drafts = [(ri(rng, 0, 300), pick(rng, targets), weighted(rng, _REASONS),
                       weighted(rng, _OUTCOMES), ri(rng, 0, 30), pick(rng, _DETAILS))
                      for _ in range(weighted(rng, _OUTGOING))]
            referred_back = ri(rng, 0, 20)
            referred_to = pick(rng, targets)
            found: list[ReferralInput] = []
            if incoming and case.identified_by_org_id is not None:
                found.append(ReferralInput("In", case.identified_by_org_id, case.registration_date,
                                           in_reason, "", "Accepted", case.registration_date))
            for days, target, reason, outcome, answer, details in drafts:
                day = case.registration_date + dt.timedelta(days=days)
                if day > today:
                    continue
                decided = min(day + dt.timedelta(days=answer), today)
                found.append(ReferralInput("Out", target, day, reason, details, outcome,
                                           None if outcome == "Pending" else decided))
            closed = case.closed_on
            if case.case_status == "ClosedReferred" and closed is not None:
                day = max(closed - dt.timedelta(days=referred_back), case.registration_date)
                found.append(ReferralInput("Out", referred_to, day, "AdditionalServicesRequired",
                                           "Continued support by the receiving organisation.",
                                           "Accepted", closed))
            for referral in found:
                problems = validate_referral(referral, born=case.birth_date, on=today, partner=(False,))
                if problems:
                    raise DemoRuleBroken("referral", problems)
                rows.append((case.id, referral.direction, referral.partner_org_id, referral.reason,
                             iso(referral.referral_date), referral.details, referral.outcome,
                             iso(referral.outcome_date)))
        with ctx.write() as w:
            w.insert("referral", _REFERRAL_COLUMNS, rows)
            w.audit("demo_referrals_generated", {"referrals": len(rows)})


# --- justice -----------------------------------------------------------------------------------------


def run_justice(ctx: DemoContext) -> None:
    """Stages for cases with a police reference: reported, then an investigation for most, a
    prosecution for some, and a conviction or an acquittal for some of those."""
    rng, today = ctx.rng, ctx.today
    for batch in ctx.batches(ctx.cases):
        rows = []
        for case in batch:
            reported_gap = ri(rng, -5, 10)
            steps = [rng.random() < 0.75, rng.random() < 0.40, rng.random()]
            gaps = [ri(rng, 3, 90), ri(rng, 60, 400), ri(rng, 120, 700)]
            if not case.police_reference:
                continue
            day = case.registration_date + dt.timedelta(days=reported_gap)
            if case.birth_date is not None:
                day = max(day, case.birth_date)
            day = min(day, today)
            stages = [("Reported to police", day)]
            if steps[0]:
                stages.append(("Investigation opened", day := day + dt.timedelta(days=gaps[0])))
                if steps[1]:
                    stages.append(("Prosecution started", day := day + dt.timedelta(days=gaps[1])))
                    if steps[2] < 0.45:
                        stages.append(("Conviction", day + dt.timedelta(days=gaps[2])))
                    elif steps[2] < 0.65:
                        stages.append(("Acquittal or dismissal", day + dt.timedelta(days=gaps[2])))
            for stage, when in stages:
                if when > today:
                    break
                problems = stage_problems(JusticeStageInput(stage, when), case.birth_date, today)
                if problems:
                    raise DemoRuleBroken("justice stage", problems)
                rows.append((case.id, stage, iso(when), ""))
        with ctx.write() as w:
            w.insert("justice_stage", ("case_id", "stage", "stage_date", "note"), rows)
            w.audit("demo_justice_generated", {"stages": len(rows)})


DEFAULT_STEPS: tuple[Step, ...] = (
    Step("organisations", run_organisations, "partner organisations"),
    Step("cases", run_cases, "persons, cases, status histories, routes"),
    Step("screenings", run_screenings, "screenings at registration"),
    Step("referrals", run_referrals, "incoming and outgoing referrals"),
    Step("justice", run_justice, "justice stages"),
    Step("shelter", run_shelter, "facilities, stays, services, follow-up plans and visits"),
)
