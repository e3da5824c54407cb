"""Shelter placements (stays): admit, discharge, transfer, correct; occupancy and T5 figures.

Rules, each refused with a plain sentence:

- no bed holds two people on the same night. A stay holds its bed for the nights from its
  admission date up to the night before its discharge date, so one person may leave a bed on
  the day another arrives in it; a stay admitted and discharged on the same day holds its bed
  for that day;
- one person (across all their cases) has at most one open stay, and never two stays on the
  same night;
- discharge not before admission; no date in the future (a planned discharge may be);
- a facility is never over capacity, and where it has named beds a stay names one of them;
- a placement outside the facility's eligibility (sexes, age range on the admission date) needs
  an explicit reason, kept on the stay and in the audit event;
- a transfer closes one stay and opens the next on the same date, in one transaction;
- a bed reserved for a case (``reserve_bed``: its waiting-list entry holds the bed for some
  nights) takes nobody else on those nights, and is never reserved while someone holds it or
  twice for the same night; admitting the case ends the reservation with its waiting.

The T5 counting rules are those of ``tipdesk.counting``; the SQL here computes the same numbers
in the database (a test holds the two together).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from models import Bed, Case, Facility, Person, Stay, WaitingListEntry, vocab
from tipdesk import counting
from tipdesk.counting import Period
from tipdesk.errors import FieldProblem, NotFound, ValidationError
from tipdesk.security import audit
from tipdesk.security.roles import Actor
from tipdesk.services.casework import (
    CLOSED_CASE_STATUSES,
    CaseRef,
    case_ref,
    check_date,
    load_case,
    raise_if,
    require_open_case,
    today_or,
    visible_text,
)
from tipdesk.services.facilities import BedInfo, add_waiting_entry, resolve_waiting
from tipdesk.vault.register import Register

TRANSFER_REASON = "TransferredToOtherFacility"
#: Discharges that start reintegration, and with it a follow-up plan (unless told otherwise).
REINTEGRATION_REASONS = ("ReintegratedWithFamily", "IndependentLiving", "Repatriated")
ONE_DAY = dt.timedelta(days=1)


# --- plain data ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class StayInfo:
    id: int
    case: CaseRef
    facility_id: int
    facility_code: str
    facility_name: str
    bed_id: int | None
    bed_label: str | None
    admitted: dt.date
    planned_discharge: dt.date | None
    discharged: dt.date | None
    discharge_reason: str | None
    outside_eligibility: bool  # placed with an eligibility override
    eligibility_override: str | None  # the reason; None for roles that do not see free text
    notes: str | None

    @property
    def is_open(self) -> bool:
        return self.discharged is None

    @property
    def discharge_reason_label(self) -> str:
        return vocab.label(vocab.DISCHARGE_REASONS, self.discharge_reason)

    def nights(self, today: dt.date | None = None) -> int:
        """Nights stayed so far (to the discharge date, or to today when still placed)."""
        end = self.discharged or today_or(today)
        return max(0, (end - self.admitted).days)


@dataclass(frozen=True)
class StayEdit:
    """Every editable field of a stay, for corrections (``update_stay``)."""

    facility_id: int
    bed_id: int | None
    admitted: dt.date
    planned_discharge: dt.date | None = None
    discharged: dt.date | None = None
    discharge_reason: str | None = None
    notes: str = ""
    eligibility_override: str = ""

    @staticmethod
    def of(stay: StayInfo) -> StayEdit:
        return StayEdit(stay.facility_id, stay.bed_id, stay.admitted, stay.planned_discharge,
                        stay.discharged, stay.discharge_reason, stay.notes or "",
                        stay.eligibility_override or "")


@dataclass(frozen=True)
class DischargeResult:
    stay: StayInfo
    followup_plan_id: int | None  # the plan the discharge started, if any


@dataclass(frozen=True)
class TransferResult:
    closed: StayInfo
    opened: StayInfo


def _stay_info(actor: Actor, stay: Stay, case: Case, person: Person, facility: Facility,
               bed: Bed | None) -> StayInfo:
    return StayInfo(
        stay.id, case_ref(actor, case.id, case.case_number, person.given_names, person.family_names),
        facility.id, facility.code, facility.name, stay.bed_id, bed.label if bed else None,
        stay.admitted, stay.planned_discharge, stay.discharged, stay.discharge_reason,
        bool(stay.eligibility_override), visible_text(actor, stay.eligibility_override),
        visible_text(actor, stay.notes),
    )


def _info_of(s: Session, actor: Actor, stay: Stay) -> StayInfo:
    case = load_case(s, stay.case_id)
    facility = s.get(Facility, stay.facility_id)
    bed = s.get(Bed, stay.bed_id) if stay.bed_id else None
    assert facility is not None
    return _stay_info(actor, stay, case, case.person, facility, bed)


def _snapshot(stay: Stay) -> dict:
    return {
        "case_id": stay.case_id, "facility_id": stay.facility_id, "bed_id": stay.bed_id,
        "admitted": stay.admitted, "planned_discharge": stay.planned_discharge,
        "discharged": stay.discharged, "discharge_reason": stay.discharge_reason,
        "eligibility_override": stay.eligibility_override, "notes": stay.notes,
    }


# --- the rules -----------------------------------------------------------------------------------


def _held(admitted: dt.date, discharged: dt.date | None) -> tuple[dt.date, dt.date | None]:
    """The days a stay holds its bed, as [start, end) with None for 'still placed'."""
    if discharged is None:
        return admitted, None
    return admitted, max(discharged, admitted + ONE_DAY)


def _overlap(a: tuple[dt.date, dt.date | None], b: tuple[dt.date, dt.date | None]) -> bool:
    return (b[1] is None or a[0] < b[1]) and (a[1] is None or b[0] < a[1])


def _first_shared_day(a: tuple[dt.date, dt.date | None], b: tuple[dt.date, dt.date | None]) -> dt.date:
    return max(a[0], b[0])


def eligibility_issues(facility_name: str, sexes: Sequence[str], min_age: int | None, max_age: int | None,
                       sex: str, age: int | None, on: dt.date) -> list[str]:
    """Why a person of return sex ``sex`` and age ``age`` (on ``on``) is outside a facility's
    eligibility (empty: eligible). Pure: the demo generator checks with it too."""
    found = []
    if sexes:
        takes = " and ".join(sexes)
        if sex == "Unknown":
            found.append(f"{facility_name} takes {takes} residents only, and this person's sex is not recorded.")
        elif sex not in sexes:
            found.append(f"{facility_name} takes {takes} residents only; this person's recorded sex is {sex}.")
    if min_age is not None or max_age is not None:
        lo = min_age if min_age is not None else 0
        ages = f"ages {lo}–{max_age}" if max_age is not None else f"ages {lo} and over"
        if age is None:
            found.append(f"{facility_name} takes {ages}, and this person's age is not recorded.")
        elif age < lo or (max_age is not None and age > max_age):
            found.append(f"{facility_name} takes {ages}; this person is {age} on {on.isoformat()}.")
    return found


def eligibility_problems(facility: Facility, person: Person, on: dt.date) -> list[str]:
    """Why this person is outside the facility's eligibility on ``on`` (empty: eligible)."""
    age = counting.age_at(on, person.birth_date, person.estimated_age, person.age_estimated_on)
    return eligibility_issues(facility.name, facility.sexes, facility.min_age, facility.max_age,
                              counting.sex_of_gender(person.gender), age, on)


_REASONS = frozenset(vocab.names(vocab.DISCHARGE_REASONS))


def stay_date_problems(admitted: dt.date | None, discharged: dt.date | None, discharge_reason: str | None,
                       planned: dt.date | None, today: dt.date) -> list[FieldProblem]:
    """The rules of a stay's own dates and discharge reason (pure; the demo checks with it)."""
    problems: list[FieldProblem] = []
    if admitted is None:
        return [FieldProblem("admitted", "Give the admission date.")]
    check_date(problems, "admitted", "admission date", admitted, today)
    check_date(problems, "discharged", "discharge date", discharged, today)
    check_date(problems, "planned_discharge", "planned discharge date", planned, today, future_ok=True)
    if discharged is not None and discharged < admitted:
        problems.append(FieldProblem(
            "discharged", f"The discharge date ({discharged.isoformat()}) is before the admission "
                          f"date ({admitted.isoformat()})."))
    if planned is not None and planned < admitted:
        problems.append(FieldProblem("planned_discharge", "The planned discharge date is before the admission date."))
    if discharged is not None and discharge_reason not in _REASONS:
        problems.append(FieldProblem("discharge_reason", "Choose the reason for the discharge."))
    if discharged is None and discharge_reason:
        problems.append(FieldProblem("discharge_reason", "A reason for discharge needs a discharge date."))
    return problems


def _validate_stay(
    s: Session, *, case: Case, facility_id: int, bed_id: int | None, admitted: dt.date | None,
    discharged: dt.date | None, discharge_reason: str | None, planned: dt.date | None,
    override: str, exclude: tuple[int, ...], today: dt.date, new_stay: bool,
) -> list[str]:
    """Check every placement rule; raise ``ValidationError`` listing all problems found.

    Returns the eligibility problems that the override reason covers (for the audit event).
    """
    problems = stay_date_problems(admitted, discharged, discharge_reason, planned, today)
    if admitted is None:
        raise_if(problems)
    facility = s.get(Facility, facility_id)
    if facility is None:
        raise NotFound(f"There is no facility with id {facility_id}.")
    raise_if(problems)
    assert admitted is not None

    if new_stay and not facility.active:
        problems.append(FieldProblem("facility", f"{facility.name} is not in service."))
    if facility.opened_on and admitted < facility.opened_on:
        problems.append(FieldProblem(
            "admitted", f"{facility.name} opened on {facility.opened_on.isoformat()}, after this admission date."))
    if facility.closed_on and (discharged is None or discharged > facility.closed_on):
        problems.append(FieldProblem(
            "facility", f"{facility.name} was closed on {facility.closed_on.isoformat()}."))

    held = _held(admitted, discharged)
    beds = s.execute(select(Bed.id, Bed.label, Bed.active).where(Bed.facility_id == facility.id)).all()
    bed_label = None
    if bed_id is None:
        if any(b.active for b in beds):
            problems.append(FieldProblem("bed", f"Choose a bed or room of {facility.name}."))
    else:
        match = [b for b in beds if b.id == bed_id]
        if not match:
            problems.append(FieldProblem("bed", f"That bed is not in {facility.name}."))
        else:
            bed_label = match[0].label
            if new_stay and not match[0].active:
                problems.append(FieldProblem("bed", f"'{bed_label}' is not in use."))
            taken = _taken_night(s, bed_id, held, exclude)
            if taken is not None:
                day, number, since = taken
                problems.append(FieldProblem(
                    "bed", f"'{bed_label}' at {facility.name} is taken on the night of {day.isoformat()} "
                           f"(case {number}, admitted {since.isoformat()}). Choose another bed."))
            if not any(p.field == "bed" for p in problems):
                clash = _reservation_clash(s, bed_id, held, case.id, today)
                if clash is not None:
                    problems.append(FieldProblem("bed", f"'{bed_label}' at {facility.name} is reserved for case "
                                                        f"{clash} Choose another bed, or release the reservation "
                                                        "first."))

    if not any(p.field == "bed" for p in problems):
        full_on = _over_capacity(s, facility, held, exclude)
        if full_on is not None:
            problems.append(FieldProblem(
                "facility", f"{facility.name} is full on {full_on.isoformat()} (all {facility.capacity} "
                            "places taken). Choose another facility, or put the case on its waiting list."))

    # One person, across all their cases: one open stay, and never two stays on one night.
    for other in s.execute(
        select(Stay.id, Stay.admitted, Stay.discharged, Facility.name, Case.case_number)
        .join(Case, Case.id == Stay.case_id).join(Facility, Facility.id == Stay.facility_id)
        .where(Case.person_id == case.person_id)
    ):
        if other.id in exclude:
            continue
        if discharged is None and other.discharged is None:
            problems.append(FieldProblem(
                "case", f"This person is already placed at {other.name} since "
                        f"{other.admitted.isoformat()} (case {other.case_number}). Discharge or "
                        "transfer them first: a person has one open stay at a time."))
            break
        theirs = _held(other.admitted, other.discharged)
        if _overlap(held, theirs):
            problems.append(FieldProblem(
                "admitted", f"This person was placed at {other.name} on "
                            f"{_first_shared_day(held, theirs).isoformat()} (case {other.case_number}); "
                            "a person cannot have two stays on the same night."))
            break

    eligibility = eligibility_problems(facility, case.person, admitted)
    if eligibility and not override.strip():
        problems.extend(FieldProblem("eligibility_override", p) for p in eligibility)
        problems.append(FieldProblem(
            "eligibility_override", "To place this person here anyway, give the reason for the exception."))
    raise_if(problems)
    return eligibility


def _taken_night(s: Session, bed_id: int, held: tuple[dt.date, dt.date | None],
                 exclude: tuple[int, ...] = ()) -> tuple[dt.date, str, dt.date] | None:
    """The first night of ``held`` on which a stay (other than ``exclude``) holds the bed:
    (night, its case number, its admission date)."""
    for stay_id, admitted, discharged, number in s.execute(
        select(Stay.id, Stay.admitted, Stay.discharged, Case.case_number).join(Case, Case.id == Stay.case_id)
        .where(Stay.bed_id == bed_id, Stay.admitted < (held[1] or dt.date.max),
               (Stay.discharged.is_(None)) | (Stay.discharged >= held[0]))
    ):
        theirs = _held(admitted, discharged)
        if stay_id not in exclude and _overlap(held, theirs):
            return _first_shared_day(held, theirs), number, admitted
    return None


def _reserved_nights(first: dt.date, last: dt.date) -> tuple[dt.date, dt.date]:
    """The nights ``first`` … ``last`` of a reservation, as [start, end) like ``_held``."""
    return first, last + ONE_DAY


def _reservation_clash(s: Session, bed_id: int, held: tuple[dt.date, dt.date | None], case_id: int,
                       today: dt.date) -> str | None:
    """Another case's reservation of ``bed_id`` on a night of ``held`` from ``today`` on (nights
    already past hold nothing any more): "number from … to …."."""
    for number, first, last in s.execute(
        select(Case.case_number, WaitingListEntry.held_from, WaitingListEntry.held_until)
        .join(Case, Case.id == WaitingListEntry.case_id)
        .where(WaitingListEntry.bed_id == bed_id, WaitingListEntry.resolved_on.is_(None),
               WaitingListEntry.case_id != case_id, WaitingListEntry.held_until >= today)
    ):
        if _overlap(held, _reserved_nights(max(first, today), last)):
            return f"{number} from {first.isoformat()} to {last.isoformat()}."
    return None


def _over_capacity(s: Session, facility: Facility, held: tuple[dt.date, dt.date | None],
                   exclude: tuple[int, ...]) -> dt.date | None:
    """The first day within ``held`` on which one more person would exceed the capacity."""
    end = held[1] or dt.date.max
    events: list[tuple[dt.date, int]] = []
    for other in s.execute(
        select(Stay.id, Stay.admitted, Stay.discharged).where(
            Stay.facility_id == facility.id, Stay.admitted < end,
            (Stay.discharged.is_(None)) | (Stay.discharged >= held[0]))
    ):
        if other.id in exclude:
            continue
        start, stop = _held(other.admitted, other.discharged)
        if not _overlap(held, (start, stop)):
            continue
        events.append((max(start, held[0]), 1))
        if stop is not None and stop < end:
            events.append((stop, -1))
    if facility.capacity < 1:
        return held[0]
    count = 0
    for day, step in sorted(events, key=lambda e: (e[0], e[1])):  # leaving before arriving
        count += step
        if count + 1 > facility.capacity:
            return day
    return None


def _resolve_waiting_for(s: Session, actor: Actor, case_id: int, facility_id: int, on: dt.date) -> None:
    for entry in s.scalars(select(WaitingListEntry).where(
            WaitingListEntry.case_id == case_id, WaitingListEntry.resolved_on.is_(None))):
        resolve_waiting(s, actor, entry, on, "admitted" if entry.facility_id == facility_id else "placed elsewhere")


# --- writing -------------------------------------------------------------------------------------


def _admit(s: Session, actor: Actor, case: Case, facility_id: int, admitted: dt.date, bed_id: int | None,
           planned: dt.date | None, notes: str, override: str, today: dt.date,
           exclude: tuple[int, ...] = (), action: str = "stay_admitted") -> Stay:
    outside = _validate_stay(
        s, case=case, facility_id=facility_id, bed_id=bed_id, admitted=admitted, discharged=None,
        discharge_reason=None, planned=planned, override=override, exclude=exclude, today=today,
        new_stay=True,
    )
    stay = Stay(case_id=case.id, facility_id=facility_id, bed_id=bed_id, admitted=admitted,
                planned_discharge=planned, notes=notes.strip(),
                eligibility_override=override.strip() if outside else "")
    s.add(stay)
    s.flush()
    details = _snapshot(stay)
    if outside:
        details["outside_eligibility"] = outside
    audit.record(s, actor, action, "stay", stay.id, details)
    _resolve_waiting_for(s, actor, case.id, facility_id, admitted)
    return stay


def admit(
    reg: Register, case_id: int, facility_id: int, admitted: dt.date, *, bed_id: int | None = None,
    planned_discharge: dt.date | None = None, notes: str = "", eligibility_override: str = "",
    today: dt.date | None = None,
) -> StayInfo:
    """Place a case's person in a facility (and bed) from ``admitted`` on."""
    reg.actor.require("shelter.write")
    day = today_or(today)
    with reg.write() as s:
        case = require_open_case(s, case_id, "placing the person in a shelter")
        stay = _admit(s, reg.actor, case, facility_id, admitted, bed_id, planned_discharge, notes,
                      eligibility_override, day)
        return _info_of(s, reg.actor, stay)


def _load_stay(s: Session, stay_id: int) -> Stay:
    stay = s.get(Stay, stay_id)
    if stay is None:
        raise NotFound(f"There is no stay with id {stay_id}.")
    return stay


def _close(s: Session, actor: Actor, stay: Stay, on: dt.date, reason: str, notes: str | None,
           today: dt.date) -> None:
    problems: list[FieldProblem] = []
    if stay.discharged is not None:
        raise ValidationError(
            f"This stay already ended on {stay.discharged.isoformat()}; correct it instead.", "discharged")
    check_date(problems, "discharged", "discharge date", on, today)
    if on is not None and on < stay.admitted:
        problems.append(FieldProblem(
            "discharged", f"The discharge date ({on.isoformat()}) is before the admission date "
                          f"({stay.admitted.isoformat()})."))
    if reason not in vocab.names(vocab.DISCHARGE_REASONS):
        problems.append(FieldProblem("discharge_reason", "Choose the reason for the discharge."))
    raise_if(problems)
    before = _snapshot(stay)
    stay.discharged, stay.discharge_reason = on, reason
    if notes is not None:
        stay.notes = notes.strip()
    s.flush()
    audit.record(s, actor, "stay_discharged", "stay", stay.id, audit.changes(before, _snapshot(stay)))


def discharge(
    reg: Register, stay_id: int, discharged: dt.date, reason: str, *, notes: str | None = None,
    start_followup: bool | None = None, plan_definition_id: int | None = None,
    today: dt.date | None = None,
) -> DischargeResult:
    """End a stay. A discharge into reintegration starts the case's follow-up plan.

    ``start_followup`` None: start one when ``reason`` is one of ``REINTEGRATION_REASONS`` and
    the case has no active plan; True/False decide explicitly.
    """
    reg.actor.require("shelter.write")
    from tipdesk.services import followup  # followup → casework; avoid an import cycle

    day = today_or(today)
    with reg.write() as s:
        stay = _load_stay(s, stay_id)
        _close(s, reg.actor, stay, discharged, reason, notes, day)
        plan_id = None
        case = load_case(s, stay.case_id)
        if start_followup is None:  # automatic: only for an open case without a plan
            wants = (reason in REINTEGRATION_REASONS and case.case_status not in CLOSED_CASE_STATUSES
                     and not followup.active_plan_ids(s, case.id))
        else:
            wants = start_followup
            if wants:
                require_open_case(s, case.id, "starting follow-up")
        if wants:
            reg.actor.require("followup.write")
            if not followup.active_plan_ids(s, case.id):
                plan = followup.start_plan_in(
                    s, reg.actor, case, discharged, plan_definition_id,
                    f"discharged: {vocab.label(vocab.DISCHARGE_REASONS, reason)}", day)
                plan_id = plan.id
        return DischargeResult(_info_of(s, reg.actor, stay), plan_id)


def transfer(
    reg: Register, stay_id: int, on: dt.date, to_facility_id: int, *, to_bed_id: int | None = None,
    planned_discharge: dt.date | None = None, notes: str = "", eligibility_override: str = "",
    today: dt.date | None = None,
) -> TransferResult:
    """Close a stay on ``on`` and open the next one, the same day, in one transaction."""
    reg.actor.require("shelter.write")
    day = today_or(today)
    with reg.write() as s:
        stay = _load_stay(s, stay_id)
        if stay.facility_id == to_facility_id and stay.bed_id == to_bed_id:
            raise ValidationError("The person is already in that place: choose another facility or bed.", "bed")
        case = require_open_case(s, stay.case_id, "transferring the person")
        _close(s, reg.actor, stay, on, TRANSFER_REASON, None, day)
        # The closed stay may be a same-day one that still holds its bed/person for that day.
        new = _admit(s, reg.actor, case, to_facility_id, on, to_bed_id, planned_discharge, notes,
                     eligibility_override, day, exclude=(stay.id,), action="stay_admitted_by_transfer")
        return TransferResult(_info_of(s, reg.actor, stay), _info_of(s, reg.actor, new))


def update_stay(reg: Register, stay_id: int, edit: StayEdit, today: dt.date | None = None) -> StayInfo:
    """Correct a stay (any field); every rule is checked again against the other stays."""
    reg.actor.require("shelter.write")
    day = today_or(today)
    with reg.write() as s:
        stay = _load_stay(s, stay_id)
        case = load_case(s, stay.case_id)
        outside = _validate_stay(
            s, case=case, facility_id=edit.facility_id, bed_id=edit.bed_id, admitted=edit.admitted,
            discharged=edit.discharged, discharge_reason=edit.discharge_reason,
            planned=edit.planned_discharge, override=edit.eligibility_override, exclude=(stay.id,),
            today=day,
            new_stay=(edit.facility_id, edit.bed_id) != (stay.facility_id, stay.bed_id),
        )
        before = _snapshot(stay)
        stay.facility_id, stay.bed_id = edit.facility_id, edit.bed_id
        stay.admitted, stay.planned_discharge = edit.admitted, edit.planned_discharge
        stay.discharged, stay.discharge_reason = edit.discharged, edit.discharge_reason
        stay.notes = edit.notes.strip()
        stay.eligibility_override = edit.eligibility_override.strip() if outside else ""
        s.flush()
        changed = audit.changes(before, _snapshot(stay))
        if changed:
            if outside:
                changed["outside_eligibility"] = outside
            audit.record(s, reg.actor, "stay_changed", "stay", stay.id, changed)
        return _info_of(s, reg.actor, stay)


def remove_stay(reg: Register, stay_id: int, reason: str) -> None:
    """Delete a stay recorded in error; the audit event keeps what it held and why."""
    reg.actor.require("shelter.write")
    if not reason.strip():
        raise ValidationError("Say why this stay is removed (for example: recorded for the wrong case).", "reason")
    with reg.write() as s:
        stay = _load_stay(s, stay_id)
        details = {**_snapshot(stay), "reason": reason.strip()}
        s.delete(stay)
        s.flush()
        audit.record(s, reg.actor, "stay_removed", "stay", stay_id, details)


# --- reservations --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reservation:
    """A bed held for a case on the nights ``held_from`` … ``held_until`` (its waiting-list entry)."""

    entry_id: int
    facility_id: int
    bed_id: int
    bed_label: str
    case: CaseRef
    held_from: dt.date
    held_until: dt.date


def reserve_bed(reg: Register, case_id: int, bed_id: int, held_until: dt.date, *, held_from: dt.date | None = None,
                note: str = "", today: dt.date | None = None) -> int:
    """Hold a bed for a case on the nights ``held_from`` (default today) … ``held_until``.

    The hold lives on the case's waiting-list entry for the bed's facility (made when there is
    none; a note is added to it). A case holds one bed at a time, and only while its person is
    placed nowhere; reserving the bed it already holds again changes the nights. Returns the
    entry id.
    """
    reg.actor.require("shelter.write")
    day = today_or(today)
    first = held_from or day
    with reg.write() as s:
        case = require_open_case(s, case_id, "reserving a bed for it")
        bed = s.get(Bed, bed_id)
        if bed is None:
            raise NotFound(f"There is no bed with id {bed_id}.")
        facility = s.get(Facility, bed.facility_id)
        assert facility is not None
        problems: list[FieldProblem] = []
        if first < day:
            problems.append(FieldProblem("held_from", "A reservation starts today or later."))
        if held_until < first:
            problems.append(FieldProblem("held_until", "The last night comes before the first."))
        if not facility.active:
            problems.append(FieldProblem("bed", f"{facility.name} is not in service."))
        elif not bed.active:
            problems.append(FieldProblem("bed", f"'{bed.label}' is not in use."))
        raise_if(problems)
        placed = s.execute(
            select(Facility.name, Stay.admitted, Case.case_number).join(Case, Case.id == Stay.case_id)
            .join(Facility, Facility.id == Stay.facility_id)
            .where(Case.person_id == case.person_id, Stay.discharged.is_(None))).first()
        if placed is not None:
            raise ValidationError(f"This person is placed at {placed.name} since {placed.admitted.isoformat()} "
                                  f"(case {placed.case_number}): transfer them instead.", "case")
        holding = s.execute(
            select(Bed.id, Bed.label, Facility.name, WaitingListEntry.held_until)
            .join(Bed, Bed.id == WaitingListEntry.bed_id).join(Facility, Facility.id == Bed.facility_id)
            .where(WaitingListEntry.case_id == case.id, WaitingListEntry.resolved_on.is_(None),
                   WaitingListEntry.held_until >= day)).first()
        if holding is not None and holding.id != bed.id:
            raise ValidationError(f"Case {case.case_number} already holds '{holding.label}' at {holding.name} "
                                  f"(last night {holding.held_until.isoformat()}): release it first.", "case")
        nights = _reserved_nights(first, held_until)
        taken = _taken_night(s, bed.id, nights)
        if taken is not None:
            raise ValidationError(f"'{bed.label}' is taken on the night of {taken[0].isoformat()} "
                                  f"(case {taken[1]}). Choose another bed or other nights.", "bed")
        clash = _reservation_clash(s, bed.id, nights, case.id, day)
        if clash is not None:
            raise ValidationError(f"'{bed.label}' is already reserved for case {clash}", "bed")
        entry = s.scalar(select(WaitingListEntry).where(
            WaitingListEntry.case_id == case.id, WaitingListEntry.facility_id == facility.id,
            WaitingListEntry.resolved_on.is_(None)))
        if entry is None:
            entry = add_waiting_entry(s, reg.actor, case, facility, day, note)
            note = ""
        before = {"bed_id": entry.bed_id, "held_from": entry.held_from, "held_until": entry.held_until,
                  "note": entry.note}
        entry.bed_id, entry.held_from, entry.held_until = bed.id, first, held_until
        if note.strip():
            entry.note = f"{entry.note}\n{note.strip()}".strip()
        s.flush()
        audit.record(s, reg.actor, "bed_reserved", "waiting_list_entry", entry.id, {
            "case_id": case.id, "facility_id": facility.id,
            **{k: [v, getattr(entry, k)] for k, v in before.items()}})
        return entry.id


def release_bed(reg: Register, entry_id: int) -> None:
    """End a reservation: the bed is free for anyone; the case keeps waiting for the facility."""
    reg.actor.require("shelter.write")
    with reg.write() as s:
        entry = s.get(WaitingListEntry, entry_id)
        if entry is None or entry.resolved_on is not None or entry.bed_id is None:
            raise ValidationError("That bed is no longer reserved.", "entry")
        before = {"bed_id": entry.bed_id, "held_from": entry.held_from, "held_until": entry.held_until}
        entry.bed_id = entry.held_from = entry.held_until = None
        audit.record(s, reg.actor, "bed_released", "waiting_list_entry", entry.id,
                     {k: [v, None] for k, v in before.items()})


def reservations(reg: Register, facility_id: int, on: dt.date | None = None) -> list[Reservation]:
    """The beds of a facility reserved for the night of ``on`` (default today)."""
    reg.actor.require("shelter.read")
    day = today_or(on)
    with reg.read() as s:
        rows = s.execute(
            select(WaitingListEntry.id, Bed.id, Bed.label, WaitingListEntry.case_id, Case.case_number,
                   Person.given_names, Person.family_names, WaitingListEntry.held_from, WaitingListEntry.held_until)
            .join(Bed, Bed.id == WaitingListEntry.bed_id).join(Case, Case.id == WaitingListEntry.case_id)
            .join(Person, Person.id == Case.person_id)
            .where(WaitingListEntry.facility_id == facility_id, WaitingListEntry.resolved_on.is_(None),
                   WaitingListEntry.held_from <= day, WaitingListEntry.held_until >= day)
        ).all()
        return [Reservation(entry_id, facility_id, bed_id, label,
                            case_ref(reg.actor, case_id, number, given, family), first, last)
                for entry_id, bed_id, label, case_id, number, given, family, first, last in rows]


# --- reading -------------------------------------------------------------------------------------


def _stay_rows(s: Session, actor: Actor, *where) -> list[StayInfo]:
    rows = s.execute(
        select(Stay, Case, Person, Facility, Bed)
        .join(Case, Case.id == Stay.case_id).join(Person, Person.id == Case.person_id)
        .join(Facility, Facility.id == Stay.facility_id).outerjoin(Bed, Bed.id == Stay.bed_id)
        .where(*where).order_by(Stay.admitted, Stay.id)
    ).all()
    return [_stay_info(actor, *row) for row in rows]


def stays_of_case(reg: Register, case_id: int) -> list[StayInfo]:
    """A case's stays, oldest first."""
    reg.actor.require("shelter.read")
    with reg.read() as s:
        load_case(s, case_id)
        return _stay_rows(s, reg.actor, Stay.case_id == case_id)


def get_stay(reg: Register, stay_id: int) -> StayInfo:
    reg.actor.require("shelter.read")
    with reg.read() as s:
        return _info_of(s, reg.actor, _load_stay(s, stay_id))


def residents(reg: Register, facility_id: int, on: dt.date | None = None) -> list[StayInfo]:
    """Who is placed in a facility on the night of ``on`` (default today), by bed."""
    reg.actor.require("shelter.read")
    day = today_or(on)
    with reg.read() as s:
        found = _stay_rows(
            s, reg.actor, Stay.facility_id == facility_id, Stay.admitted <= day,
            (Stay.discharged.is_(None)) | (Stay.discharged > day))
    return sorted(found, key=lambda st: (st.bed_label or "", st.admitted))


# Occupied on the night of :d — A ≤ d and (no D or D > d), as counting.occupied_at_end with
# the one-day period d–d. Two index ranges on ix_stay_discharged instead of one OR.
OCCUPIED_SQL = """
SELECT facility_id, bed_id FROM stay WHERE discharged IS NULL AND admitted <= :d
UNION ALL
SELECT facility_id, bed_id FROM stay WHERE discharged > :d AND admitted <= :d
"""
#: In one pass over the stays: how many people each facility holds on the night of :d
#: (rows ``('count', facility_id, n, NULL)``), and the named beds in use that nobody holds then
#: (rows ``('free', facility_id, bed_id, label)``); then the beds held for a waiting case that
#: night or later (rows ``('held', facility_id, bed_id, first night held)``).
OCCUPANCY_SQL = f"""
WITH occupied AS MATERIALIZED ({OCCUPIED_SQL})
SELECT 'count', facility_id, count(*), NULL FROM occupied GROUP BY facility_id
UNION ALL
SELECT 'free', facility_id, id, label FROM bed
 WHERE active = 1 AND id NOT IN (SELECT bed_id FROM occupied WHERE bed_id IS NOT NULL)
UNION ALL
SELECT 'held', facility_id, bed_id, held_from FROM waiting_list_entry
 WHERE bed_id IS NOT NULL AND resolved_on IS NULL AND held_until >= :d
"""
FACILITIES_SQL = "SELECT id, code, name, kind, active, capacity, opened_on, closed_on FROM facility ORDER BY code"
_OCCUPANCY, _FACILITIES = text(OCCUPANCY_SQL), text(FACILITIES_SQL)


@dataclass(frozen=True)
class Occupancy:
    facility_id: int
    code: str
    name: str
    kind: str
    active: bool
    capacity: int
    occupied: int
    free_beds: tuple[BedInfo, ...]  # named beds in use and free that night
    #: those of them held for a waiting case that night or later: bed id → first night held
    reserved_beds: Mapping[int, dt.date] = field(default_factory=dict)

    @property
    def free_places(self) -> int:
        return max(0, self.capacity - self.occupied)

    @property
    def full(self) -> bool:
        return self.occupied >= self.capacity


def occupancy(reg: Register, on: dt.date | None = None, include_inactive: bool = False) -> list[Occupancy]:
    """Occupancy of every facility on the night of ``on`` (default today), by facility code."""
    reg.actor.require("shelter.read")
    day = today_or(on)
    params = {"d": day.isoformat()}
    with reg.read() as s:
        conn = s.connection()  # plain rows: no ORM layer on this frequent query
        occupied: dict[int, int] = {}
        free: dict[int, list[BedInfo]] = defaultdict(list)
        held: dict[int, dict[int, dt.date]] = defaultdict(dict)
        for kind, facility_id, value, label in conn.execute(_OCCUPANCY, params).all():
            if kind == "count":
                occupied[facility_id] = value
            elif kind == "free":
                free[facility_id].append(BedInfo(value, facility_id, label, True))
            else:
                held[facility_id][value] = dt.date.fromisoformat(label)
        facilities = conn.execute(_FACILITIES).all()
    result = []
    day_text = params["d"]
    for fid, code, name, kind, active, capacity, opened_on, closed_on in facilities:
        in_service = (opened_on is None or opened_on <= day_text) and (closed_on is None or closed_on > day_text)
        if not include_inactive and not in_service and not occupied.get(fid):
            continue
        beds = tuple(sorted(free.get(fid, ()), key=lambda b: b.id)) if in_service else ()
        result.append(Occupancy(fid, code, name, kind, bool(active), capacity, occupied.get(fid, 0), beds,
                                {b.id: held[fid][b.id] for b in beds if b.id in held.get(fid, {})}))
    return result


def free_beds(reg: Register, today: dt.date | None = None) -> list[Occupancy]:
    """Facilities in service with at least one free place tonight, and their free beds."""
    return [o for o in occupancy(reg, today) if o.active and o.free_places > 0]


# --- T5 figures ----------------------------------------------------------------------------------

# Stays overlapping the period S–E (A ≤ E and (no D or D ≥ S)), as two index ranges, then the
# T5 columns of RETURNS-v1.md per facility. Dates are ISO text, so text comparison is date order.
# Bed-nights: the nights N with max(A, S) ≤ N ≤ min(D − 1, E), i.e. min(D, E + 1) − max(A, S)
# (:e1 is the day after E), never below 0.
T5_SQL = """
WITH overlapping AS (
    SELECT facility_id, admitted, discharged FROM stay
     WHERE discharged IS NULL AND admitted <= :e
    UNION ALL
    SELECT facility_id, admitted, discharged FROM stay
     WHERE discharged >= :s AND admitted <= :e
)
SELECT facility_id,
       SUM(admitted >= :s) AS admissions,
       SUM(discharged <= :e) AS discharges,
       SUM(MAX(0, CAST(julianday(MIN(COALESCE(discharged, :e1), :e1)) - julianday(MAX(admitted, :s))
                       AS INTEGER))) AS bed_nights,
       SUM(discharged IS NULL OR discharged > :e) AS occupied_at_end,
       SUM(CASE WHEN discharged <= :e
                THEN CAST(julianday(discharged) - julianday(admitted) AS INTEGER) END) AS stay_days
  FROM overlapping
 GROUP BY facility_id
"""


_T5 = text(T5_SQL)


def t5_params(period: Period) -> dict[str, str]:
    """The parameters of ``T5_SQL`` for a period."""
    return {"s": period.start.isoformat(), "e": period.end.isoformat(),
            "e1": (period.end + ONE_DAY).isoformat()}


@dataclass(frozen=True)
class ShelterRow:
    """One row of T5_Shelter: a facility (``facility_id`` None on the Total row)."""

    facility_id: int | None
    code: str
    name: str
    capacity: int
    admissions: int
    discharges: int
    bed_nights: int
    occupied_at_end: int
    average_stay: float | None  # days, one decimal, halves away from zero; None: no discharges
    stay_days: int = 0  # sum of D − A over the discharges (the average's numerator)


@dataclass(frozen=True)
class ShelterFigures:
    period: Period
    rows: tuple[ShelterRow, ...]  # facilities by code
    total: ShelterRow


def _average(days: int, count: int) -> float | None:
    if not count:
        return None
    return counting.round_half_away(Decimal(days) / Decimal(count), 1)


def shelter_figures(reg: Register, period: Period) -> ShelterFigures:
    """T5 for a period: per facility active in the period or with a stay in it, then Total."""
    reg.actor.require("shelter.read")
    with reg.read() as s:
        conn = s.connection()
        sums = {row[0]: row for row in conn.execute(_T5, t5_params(period))}
        facilities = conn.execute(
            select(Facility.id, Facility.code, Facility.name, Facility.capacity, Facility.opened_on,
                   Facility.closed_on).order_by(Facility.code)
        ).all()
    rows = []
    for f in facilities:
        active_in_period = ((f.opened_on is None or f.opened_on <= period.end)
                            and (f.closed_on is None or f.closed_on >= period.start))
        if f.id not in sums and not active_in_period:
            continue
        _, adm, dis, nights, occ, days = sums.get(f.id, (f.id, 0, 0, 0, 0, 0))
        rows.append(ShelterRow(f.id, f.code, f.name, f.capacity, int(adm or 0), int(dis or 0),
                               int(nights or 0), int(occ or 0), _average(int(days or 0), int(dis or 0)),
                               int(days or 0)))
    total = ShelterRow(
        None, "Total", "Total", sum(r.capacity for r in rows), sum(r.admissions for r in rows),
        sum(r.discharges for r in rows), sum(r.bed_nights for r in rows),
        sum(r.occupied_at_end for r in rows),
        _average(sum(r.stay_days for r in rows), sum(r.discharges for r in rows)),
        sum(r.stay_days for r in rows),
    )
    return ShelterFigures(period, tuple(rows), total)

