"""Screening: the Palermo Act–Means–Purpose test plus an indicator checklist.

tipdesk suggests a trafficking status with its reasoning in plain words; the worker confirms it
or decides otherwise (with a reason), and both the suggestion and the decision are kept.

The rule (UN Palermo Protocol, art. 3): trafficking needs an *act* (recruitment, transport,
transfer, harbouring, receipt), by a *means* (threat, force, coercion, abduction, fraud,
deception, abuse of power or vulnerability, payments), for a *purpose* of exploitation. For a
child (under 18 at the time) an act and a purpose suffice: the means are not needed.

Indicators (adapted from the ILO indicators of forced labour and IOM/UNODC screening guides)
carry weights an administrator can change; they are stored in the register (``register_meta``
key ``screening_settings``), and each screening keeps the weights it was scored with.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field, replace

from sqlalchemy.orm import Session

from models import Case, Person, Screening, vocab
from tipdesk import counting
from tipdesk.security import audit
from tipdesk.services import statuses
from tipdesk.services.common import (
    Problems,
    can_see_pii,
    check_choice,
    check_choices,
    check_date,
    check_length,
    check_version,
    clean_text,
    load_case,
    today,
)
from tipdesk.services.records import CaseDetail, ScreeningInfo, build_case_detail  # noqa: F401
from tipdesk.services.statuses import ACTUAL, NOT_A_VICTIM, POSSIBLE, TraffickingStatusChange
from tipdesk.vault.register import Register, get_meta, set_meta


META_SCREENING = "screening_settings"

#: (id, what the worker checks, default weight 1–5)
INDICATORS: tuple[tuple[str, str, int], ...] = (
    ("deceived_about_work", "Deceived about the kind of work, the pay or the conditions", 2),
    ("restricted_movement", "Not free to leave the place of work or living", 3),
    ("isolation", "Kept isolated from family, community or help", 2),
    ("violence", "Physical or sexual violence", 3),
    ("threats", "Threats against the person or their family", 2),
    ("documents_withheld", "Identity or travel documents held by someone else", 3),
    ("wages_withheld", "Wages withheld, or far below what was promised", 2),
    ("debt_bondage", "A debt to the recruiter or employer that keeps the person working", 3),
    ("abusive_conditions", "Degrading working or living conditions", 1),
    ("excessive_hours", "Excessive working hours, no days off", 1),
    ("abuse_of_vulnerability", "Someone took advantage of irregular status, poverty or dependency", 2),
    ("controlled_by_third_party", "Someone else speaks for the person or controls money or movement", 3),
    ("child_commercial_sex", "A child in commercial sex, in any form", 5),
    ("child_working_away", "A child working away from family, instead of at school", 2),
    ("recruitment_fees", "Had to pay recruitment or travel fees for the job", 1),
    ("fear_of_authorities", "Told they would be arrested or deported if they went to the police", 1),
)
INDICATOR_LABELS = {i: text for i, text, _ in INDICATORS}
DEFAULT_WEIGHTS = {i: w for i, _, w in INDICATORS}
DEFAULT_POSSIBLE_THRESHOLD = 4


@dataclass(frozen=True)
class ScreeningSettings:
    """Indicator weights (0–10) and the score from which indicators alone suggest a possible
    victim."""

    weights: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_WEIGHTS))
    possible_threshold: int = DEFAULT_POSSIBLE_THRESHOLD


@dataclass(frozen=True)
class ScreeningInput:
    screened_on: dt.date
    acts: tuple[str, ...] = ()  # vocab.PALERMO_ACTS
    means: tuple[str, ...] = ()  # vocab.PALERMO_MEANS
    purposes: tuple[str, ...] = ()  # HTCDS vic_TypeOfExploitation
    indicators: tuple[str, ...] = ()  # ids of INDICATORS
    #: under 18 at the time of the trafficking; None: from the case (age when trafficked,
    #: else the age on the screening date)
    child_at_time: bool | None = None


@dataclass(frozen=True)
class ScreeningDecision:
    """The worker's decision: confirm the suggestion (same status) or override it (a reason is
    needed). With ``update_status`` the case's trafficking status follows the decision."""

    status: str
    note: str = ""
    decided_by: str | None = None  # needed when the decision is an actual victim
    update_status: bool = True


@dataclass(frozen=True)
class Suggestion:
    status: str
    reasoning: str
    indicator_score: int
    child_at_time: bool | None
    child_rule: bool  # the child rule was applied
    missing: tuple[str, ...]  # of "act", "means", "purpose"

    @property
    def label(self) -> str:
        return vocab.label(vocab.TRAFFICKING_STATUSES, self.status)


# --- settings ------------------------------------------------------------------------------------


def _settings_from(s: Session) -> ScreeningSettings:
    raw = get_meta(s, META_SCREENING)
    if not raw:
        return ScreeningSettings()
    data = json.loads(raw)
    weights = dict(DEFAULT_WEIGHTS)
    weights.update({k: int(v) for k, v in data.get("weights", {}).items() if k in DEFAULT_WEIGHTS})
    return ScreeningSettings(weights, int(data.get("possible_threshold", DEFAULT_POSSIBLE_THRESHOLD)))


def get_screening_settings(reg: Register) -> ScreeningSettings:
    reg.actor.require("case.read")
    with reg.read() as s:
        return _settings_from(s)


def set_screening_settings(reg: Register, settings: ScreeningSettings) -> ScreeningSettings:
    """Change indicator weights and the threshold (administrators); audited old → new."""
    reg.actor.require("settings.manage")
    p = Problems()
    unknown = sorted(set(settings.weights) - set(DEFAULT_WEIGHTS))
    if unknown:
        p.add("weights", f"Unknown indicators: {', '.join(unknown)}.")
    if any(not isinstance(w, int) or not 0 <= w <= 10 for w in settings.weights.values()):
        p.add("weights", "Each weight is a whole number from 0 to 10.")
    if not isinstance(settings.possible_threshold, int) or not 1 <= settings.possible_threshold <= 100:
        p.add("possible_threshold", "The threshold is a whole number from 1 to 100.")
    p.raise_if_any()
    weights = dict(DEFAULT_WEIGHTS)
    weights.update(settings.weights)
    new = ScreeningSettings(weights, settings.possible_threshold)
    with reg.write() as s:
        old = _settings_from(s)
        set_meta(s, META_SCREENING, json.dumps(
            {"weights": new.weights, "possible_threshold": new.possible_threshold}, sort_keys=True))
        diff = audit.changes(
            {**{f"weight.{k}": v for k, v in old.weights.items()}, "possible_threshold": old.possible_threshold},
            {**{f"weight.{k}": v for k, v in new.weights.items()}, "possible_threshold": new.possible_threshold},
        )
        if diff:
            audit.record(s, reg.actor, "screening_settings_changed", "register", None, diff)
    return new


# --- the suggestion (pure) -----------------------------------------------------------------------


def _labels(values: tuple[str, ...], vocabulary: tuple[tuple[str, str], ...]) -> str:
    return ", ".join(vocab.label(vocabulary, v).lower() for v in values)


def suggest(data: ScreeningInput, settings: ScreeningSettings, child_at_time: bool | None) -> Suggestion:
    """The suggested trafficking status and why, in plain words."""
    score = sum(settings.weights.get(i, 0) for i in data.indicators)
    child = child_at_time is True
    needed = ("act", "purpose") if child else ("act", "means", "purpose")
    present = {"act": bool(data.acts), "means": bool(data.means), "purpose": bool(data.purposes)}
    missing = tuple(x for x in needed if not present[x])
    lines: list[str] = []
    lines.append(f"Act: {_labels(data.acts, vocab.PALERMO_ACTS)}." if data.acts
                 else "No act (recruitment, transport, transfer, harbouring or receipt) is recorded.")
    if data.means:
        lines.append(f"Means: {_labels(data.means, vocab.PALERMO_MEANS)}.")
    elif not child:
        lines.append("No means (threat, force, coercion, abduction, fraud, deception, abuse of "
                     "power or vulnerability, payments) is recorded.")
    lines.append(f"Purpose: {_labels(data.purposes, vocab.EXPLOITATION_TYPES)}." if data.purposes
                 else "No purpose of exploitation is recorded.")
    if child:
        lines.append("The person was under 18 at the time, so under the child rule an act and a "
                     "purpose are enough: the means do not need to be shown.")
    elif child_at_time is None:
        lines.append("The age at the time is not known, so the rule for adults applies "
                     "(act, means and purpose).")
    checked = len(data.indicators)
    threshold = settings.possible_threshold
    lines.append(
        f"Indicators: {checked} checked, score {score} "
        f"({'at or above' if score >= threshold else 'below'} the threshold of {threshold})."
    )
    if not missing:
        status = ACTUAL
        lines.append("All elements of the definition of trafficking are present: the person "
                     "appears to be a victim of trafficking. A deciding body (police, NGO, court…) "
                     "must confirm this.")
    elif len(missing) < len(needed) or score >= threshold:
        status = POSSIBLE
        names = {"act": "an act", "means": "the means", "purpose": "a purpose"}
        lines.append("The person may be a victim of trafficking; still missing: "
                     + ", ".join(names[m] for m in missing) + ". Further assessment is needed.")
    else:
        status = NOT_A_VICTIM
        lines.append("No element of the definition is recorded and the indicators are below the "
                     "threshold: the screening does not suggest trafficking.")
    return Suggestion(status, " ".join(lines), score, child_at_time, child, missing)


def _child_at_time(case: Case, person: Person, data: ScreeningInput) -> bool | None:
    if data.child_at_time is not None:
        return data.child_at_time
    if case.age_when_trafficked is not None:
        return case.age_when_trafficked < 18
    age = counting.age_at(data.screened_on, person.birth_date, person.estimated_age,
                          person.age_estimated_on)
    return None if age is None else age < 18


def validate_screening(data: ScreeningInput, decision: ScreeningDecision, suggestion: Suggestion,
                       born: dt.date | None, on: dt.date) -> Problems:
    """Every problem with a screening and its decision (pure)."""
    p = Problems()
    check_date(p, "screened_on", data.screened_on, "screening date", on=on, born=born,
               required=True)
    check_choices(p, "acts", data.acts, vocab.PALERMO_ACTS, "act")
    check_choices(p, "means", data.means, vocab.PALERMO_MEANS, "means")
    check_choices(p, "purposes", data.purposes, vocab.EXPLOITATION_TYPES, "purpose")
    unknown = [i for i in data.indicators if i not in DEFAULT_WEIGHTS]
    if unknown:
        p.add("indicators", f"Unknown indicators: {', '.join(unknown)}.")
    check_choice(p, "decided_status", decision.status, vocab.TRAFFICKING_STATUSES,
                 "trafficking status", required=True)
    if decision.status and decision.status != suggestion.status and not decision.note:
        p.add("note", "You decided differently from the suggestion: say why.")
    check_length(p, "note", decision.note, 4000, "note")
    return p


def preview(reg: Register, case_id: int, data: ScreeningInput) -> Suggestion:
    """The suggestion for a screening being filled in (nothing is saved)."""
    reg.actor.require("case.write")
    with reg.read() as s:
        case = load_case(s, case_id)
        return suggest(data, _settings_from(s), _child_at_time(case, case.person, data))


def record_screening(
    reg: Register, case_id: int, data: ScreeningInput, decision: ScreeningDecision,
    expected_version: int | None = None,
) -> CaseDetail:
    """Save a screening with its suggestion and the worker's decision; with
    ``decision.update_status`` the case's trafficking status follows (dated on the screening,
    or on the registration date when the screening came first)."""
    reg.actor.require("case.write")
    on = today()
    data = replace(data, acts=tuple(data.acts), means=tuple(data.means),
                   purposes=tuple(data.purposes), indicators=tuple(data.indicators))
    decision = replace(decision, note=clean_text(decision.note), decided_by=decision.decided_by or None)
    with reg.write() as s:
        case = load_case(s, case_id)
        check_version(case, expected_version)
        person = case.person
        settings = _settings_from(s)
        child = _child_at_time(case, person, data)
        suggestion = suggest(data, settings, child)
        problems = validate_screening(data, decision, suggestion, person.birth_date, on)
        problems.raise_if_any()
        row = Screening(
            case_id=case.id, screened_on=data.screened_on, screened_by=reg.actor.id,
            acts=list(data.acts), means=list(data.means), purposes=list(data.purposes),
            indicators=list(data.indicators),
            indicator_weights={i: settings.weights.get(i, 0) for i in data.indicators},
            indicator_score=suggestion.indicator_score, child_at_time=child,
            suggested_status=suggestion.status, reasoning=suggestion.reasoning,
            decided_status=decision.status, overridden=decision.status != suggestion.status,
            decision_note=decision.note,
        )
        s.add(row)
        s.flush()
        audit.record(s, reg.actor, "screening_recorded", "case", case.id, {
            "screening_id": row.id, "screened_on": data.screened_on.isoformat(),
            "acts": list(data.acts), "means": list(data.means), "purposes": list(data.purposes),
            "indicators": list(data.indicators), "indicator_score": suggestion.indicator_score,
            "child_at_time": child, "suggested_status": suggestion.status,
            "decided_status": decision.status, "overridden": row.overridden,
            "note": decision.note,
        })
        if decision.update_status:
            latest = statuses.latest_trafficking_entry(s, case.id)
            same = latest is not None and latest.status == decision.status and (
                decision.status != ACTUAL or latest.decided_by == decision.decided_by)
            if not same:
                statuses.add_trafficking_status(
                    s, reg.actor, case,
                    TraffickingStatusChange(decision.status,
                                            max(data.screened_on, case.registration_date),
                                            decision.decided_by, "Decided at screening."),
                    on, source=f"screening {row.id}",
                )
        return build_case_detail(s, case, can_see_pii(reg.actor))
