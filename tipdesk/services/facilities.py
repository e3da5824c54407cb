"""Facilities (shelters, safe houses, children's homes), their named beds, and waiting lists.

A facility has a capacity (places) and, usually, named beds or rooms; each bed holds one person
a night. Eligibility is a set of sexes (empty: any) and an inclusive age range; a placement
outside it needs a reason (see ``tipdesk.services.placements``).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models import Bed, Case, Facility, Person, Stay, WaitingListEntry, vocab
from tipdesk.errors import FieldProblem, NotFound, ValidationError
from tipdesk.security import audit
from tipdesk.security.roles import Actor
from tipdesk.services.common import Page
from tipdesk.services.casework import (
    CaseRef,
    case_ref,
    check_date,
    page_bounds,
    raise_if,
    require_open_case,
    today_or,
    visible_text,
)
from tipdesk.vault.register import Register

ELIGIBLE_SEXES = ("Female", "Male", "Other")
_CODE = re.compile(r"^[A-Z0-9][A-Z0-9-]{0,15}$")


@dataclass(frozen=True)
class BedInfo:
    id: int
    facility_id: int
    label: str
    active: bool


@dataclass(frozen=True)
class FacilityInfo:
    id: int
    code: str
    name: str
    kind: str
    capacity: int
    child_friendly: bool
    active: bool
    sexes: tuple[str, ...]
    min_age: int | None
    max_age: int | None
    opened_on: dt.date | None
    closed_on: dt.date | None
    notes: str | None  # None for roles that do not see free text
    beds: tuple[BedInfo, ...] = ()

    @property
    def kind_label(self) -> str:
        return vocab.label(vocab.FACILITY_KINDS, self.kind)

    def eligibility_text(self) -> str:
        """E.g. 'Female, ages 0–17' or 'anyone'."""
        parts = []
        if self.sexes:
            parts.append(", ".join(self.sexes))
        if self.min_age is not None or self.max_age is not None:
            lo = self.min_age if self.min_age is not None else 0
            parts.append(f"ages {lo}–{self.max_age}" if self.max_age is not None else f"ages {lo} and over")
        return ", ".join(parts) or "anyone"


@dataclass(frozen=True)
class FacilityFields:
    """What a person fills in for a facility (create and edit)."""

    code: str
    name: str
    kind: str = "Shelter"
    capacity: int = 0
    child_friendly: bool = False
    sexes: tuple[str, ...] = ()
    min_age: int | None = None
    max_age: int | None = None
    opened_on: dt.date | None = None
    notes: str = ""
    bed_labels: tuple[str, ...] = field(default=())  # only at creation: beds to add


def _bed_info(b: Bed) -> BedInfo:
    return BedInfo(b.id, b.facility_id, b.label, b.active)


def facility_info(reg: Register, f: Facility) -> FacilityInfo:
    return FacilityInfo(
        f.id, f.code, f.name, f.kind, f.capacity, f.child_friendly, f.active, tuple(f.sexes),
        f.min_age, f.max_age, f.opened_on, f.closed_on, visible_text(reg.actor, f.notes),
        tuple(_bed_info(b) for b in f.beds),
    )


def _snapshot(f: Facility) -> dict:
    return {
        "code": f.code, "name": f.name, "kind": f.kind, "capacity": f.capacity,
        "child_friendly": f.child_friendly, "active": f.active, "sexes": list(f.sexes),
        "min_age": f.min_age, "max_age": f.max_age, "opened_on": f.opened_on,
        "closed_on": f.closed_on, "notes": f.notes,
    }


def _validate(s: Session, fields: FacilityFields, facility_id: int | None, active_beds: int,
              today: dt.date) -> list[FieldProblem]:
    problems: list[FieldProblem] = []
    code = fields.code.strip().upper()
    if not _CODE.match(code):
        problems.append(FieldProblem("code", "The facility code must be 1 to 16 capital letters, digits or dashes."))
    else:
        clash = s.scalar(select(Facility.id).where(Facility.code == code))
        if clash is not None and clash != facility_id:
            problems.append(FieldProblem("code", f"Another facility already has the code {code}."))
    if not fields.name.strip():
        problems.append(FieldProblem("name", "The facility needs a name."))
    if fields.kind not in vocab.names(vocab.FACILITY_KINDS):
        problems.append(FieldProblem("kind", "Choose the kind of facility from the list."))
    if not isinstance(fields.capacity, int) or fields.capacity < 0:
        problems.append(FieldProblem("capacity", "The capacity is a whole number of places, 0 or more."))
    elif fields.capacity > 10_000:
        problems.append(FieldProblem("capacity", "A capacity over 10,000 places is not plausible."))
    elif fields.capacity < active_beds:
        problems.append(FieldProblem(
            "capacity", f"The facility has {active_beds} beds in use; its capacity cannot be lower."))
    for sex in fields.sexes:
        if sex not in ELIGIBLE_SEXES:
            problems.append(FieldProblem("sexes", f"'{sex}' is not one of: {', '.join(ELIGIBLE_SEXES)}."))
    for name, value in (("min_age", fields.min_age), ("max_age", fields.max_age)):
        if value is not None and (not isinstance(value, int) or not 0 <= value <= 120):
            problems.append(FieldProblem(name, "An age limit is a whole number of years from 0 to 120."))
    if (isinstance(fields.min_age, int) and isinstance(fields.max_age, int)
            and fields.min_age > fields.max_age):
        problems.append(FieldProblem("max_age", "The highest age is below the lowest age."))
    check_date(problems, "opened_on", "opening date", fields.opened_on, today, future_ok=True)
    labels = [b.strip() for b in fields.bed_labels]
    if any(not b for b in labels):
        problems.append(FieldProblem("beds", "Every bed or room needs a name."))
    if len(set(labels)) != len(labels):
        problems.append(FieldProblem("beds", "Two beds have the same name."))
    return problems


def _apply(f: Facility, fields: FacilityFields) -> None:
    f.code = fields.code.strip().upper()
    f.name = fields.name.strip()
    f.kind = fields.kind
    f.capacity = fields.capacity
    f.child_friendly = bool(fields.child_friendly)
    f.sexes = sorted(set(fields.sexes))
    f.min_age = fields.min_age
    f.max_age = fields.max_age
    f.opened_on = fields.opened_on
    f.notes = fields.notes.strip()


def create_facility(reg: Register, fields: FacilityFields, today: dt.date | None = None) -> FacilityInfo:
    """Add a facility, with its named beds; the capacity defaults to the number of beds."""
    reg.actor.require("shelter.write")
    if fields.capacity == 0 and fields.bed_labels:
        fields = FacilityFields(**{**fields.__dict__, "capacity": len(fields.bed_labels)})
    with reg.write() as s:
        raise_if(_validate(s, fields, None, len(fields.bed_labels), today_or(today)))
        f = Facility()
        _apply(f, fields)
        f.active = True
        s.add(f)
        s.flush()
        for label in fields.bed_labels:
            s.add(Bed(facility_id=f.id, label=label.strip(), active=True))
        s.flush()
        s.refresh(f)
        audit.record(s, reg.actor, "facility_added", "facility", f.id,
                     {**_snapshot(f), "beds": [b.strip() for b in fields.bed_labels]})
        return facility_info(reg, f)


def _load_facility(s: Session, facility_id: int) -> Facility:
    f = s.get(Facility, facility_id)
    if f is None:
        raise NotFound(f"There is no facility with id {facility_id}.")
    return f


def _active_beds(s: Session, facility_id: int) -> int:
    return s.scalar(select(func.count()).select_from(Bed).where(
        Bed.facility_id == facility_id, Bed.active.is_(True))) or 0


def update_facility(reg: Register, facility_id: int, fields: FacilityFields,
                    today: dt.date | None = None) -> FacilityInfo:
    """Change a facility's details (beds are changed with ``add_bed``/``set_bed``)."""
    reg.actor.require("shelter.write")
    with reg.write() as s:
        f = _load_facility(s, facility_id)
        raise_if(_validate(s, fields, f.id, _active_beds(s, f.id), today_or(today)))
        before = _snapshot(f)
        _apply(f, fields)
        s.flush()
        changed = audit.changes(before, _snapshot(f))
        if changed:
            audit.record(s, reg.actor, "facility_changed", "facility", f.id, changed)
        return facility_info(reg, f)


def set_facility_active(reg: Register, facility_id: int, active: bool,
                        on: dt.date | None = None, today: dt.date | None = None) -> FacilityInfo:
    """Take a facility out of service (from ``on``, default today) or back into service.

    A facility with people still placed cannot be taken out of service.
    """
    reg.actor.require("shelter.write")
    day = on or today_or(today)
    with reg.write() as s:
        f = _load_facility(s, facility_id)
        before = _snapshot(f)
        if not active:
            placed = s.scalar(select(func.count()).select_from(Stay).where(
                Stay.facility_id == f.id, Stay.discharged.is_(None))) or 0
            if placed:
                raise ValidationError(
                    f"{f.name} still has {placed} person(s) placed: discharge or transfer them first.",
                    "active")
            _refuse_while_held(s, Bed.facility_id == f.id, today_or(today))
            f.active, f.closed_on = False, day
        else:
            f.active, f.closed_on = True, None
        changed = audit.changes(before, _snapshot(f))
        if changed:
            audit.record(s, reg.actor, "facility_changed", "facility", f.id, changed)
        s.flush()
        return facility_info(reg, f)


def list_facilities(reg: Register, include_inactive: bool = True) -> list[FacilityInfo]:
    """Every facility of the office, by code, with its beds."""
    reg.actor.require("shelter.read")
    with reg.read() as s:
        query = select(Facility).order_by(Facility.code)
        if not include_inactive:
            query = query.where(Facility.active.is_(True))
        facilities = s.scalars(query).all()
        beds: dict[int, list[Bed]] = {}
        for b in s.scalars(select(Bed).order_by(Bed.id)):
            beds.setdefault(b.facility_id, []).append(b)
        return [
            FacilityInfo(
                f.id, f.code, f.name, f.kind, f.capacity, f.child_friendly, f.active, tuple(f.sexes),
                f.min_age, f.max_age, f.opened_on, f.closed_on, visible_text(reg.actor, f.notes),
                tuple(_bed_info(b) for b in beds.get(f.id, ())),
            )
            for f in facilities
        ]


def get_facility(reg: Register, facility_id: int) -> FacilityInfo:
    reg.actor.require("shelter.read")
    with reg.read() as s:
        return facility_info(reg, _load_facility(s, facility_id))


def add_bed(reg: Register, facility_id: int, label: str) -> BedInfo:
    """Add a named bed or room; the capacity grows with it when every place already has a bed."""
    reg.actor.require("shelter.write")
    label = label.strip()
    with reg.write() as s:
        f = _load_facility(s, facility_id)
        if not label:
            raise ValidationError("The bed or room needs a name.", "label")
        if s.scalar(select(Bed.id).where(Bed.facility_id == f.id, Bed.label == label)) is not None:
            raise ValidationError(f"{f.name} already has a bed called '{label}'.", "label")
        bed = Bed(facility_id=f.id, label=label, active=True)
        s.add(bed)
        s.flush()
        details: dict = {"facility_id": f.id, "label": label}
        beds = _active_beds(s, f.id)
        if beds > f.capacity:
            details["capacity"] = [f.capacity, beds]
            f.capacity = beds
        audit.record(s, reg.actor, "bed_added", "bed", bed.id, details)
        return _bed_info(bed)


def _refuse_while_held(s: Session, which, today: dt.date) -> None:  # noqa: ANN001 (a SQL condition on Bed)
    """Refuse to take beds out of use while one of them is held for a waiting case."""
    held = s.execute(
        select(Bed.label, Case.case_number, WaitingListEntry.held_until)
        .join(WaitingListEntry, WaitingListEntry.bed_id == Bed.id).join(Case, Case.id == WaitingListEntry.case_id)
        .where(which, WaitingListEntry.resolved_on.is_(None), WaitingListEntry.held_until >= today)).first()
    if held is not None:
        raise ValidationError(f"'{held.label}' is reserved for case {held.case_number} (last night "
                              f"{held.held_until.isoformat()}): release the reservation first.", "active")


def set_bed(reg: Register, bed_id: int, label: str | None = None, active: bool | None = None,
            today: dt.date | None = None) -> BedInfo:
    """Rename a bed, or take it out of use (refused while someone is placed in it)."""
    reg.actor.require("shelter.write")
    with reg.write() as s:
        bed = s.get(Bed, bed_id)
        if bed is None:
            raise NotFound(f"There is no bed with id {bed_id}.")
        before = {"label": bed.label, "active": bed.active}
        if label is not None:
            label = label.strip()
            if not label:
                raise ValidationError("The bed or room needs a name.", "label")
            clash = s.scalar(select(Bed.id).where(Bed.facility_id == bed.facility_id, Bed.label == label))
            if clash is not None and clash != bed.id:
                raise ValidationError(f"Another bed of this facility is called '{label}'.", "label")
            bed.label = label
        if active is False and bed.active:
            day = today_or(today)
            busy = s.scalar(select(func.count()).select_from(Stay).where(
                Stay.bed_id == bed.id, (Stay.discharged.is_(None)) | (Stay.discharged > day))) or 0
            if busy:
                raise ValidationError(
                    f"Someone is placed in '{bed.label}': move them to another bed first.", "active")
            _refuse_while_held(s, Bed.id == bed.id, day)
        if active is not None:
            bed.active = active
        s.flush()
        changed = audit.changes(before, {"label": bed.label, "active": bed.active})
        if changed:
            audit.record(s, reg.actor, "bed_changed", "bed", bed.id, changed)
        return _bed_info(bed)


# --- waiting list ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class WaitingEntry:
    id: int
    facility_id: int
    case: CaseRef
    requested_on: dt.date
    note: str | None
    resolved_on: dt.date | None
    resolution: str
    bed_label: str | None = None  # a bed held for the case (``placements.reserve_bed``) …
    held_from: dt.date | None = None  # … on these nights
    held_until: dt.date | None = None


def add_to_waiting_list(reg: Register, case_id: int, facility_id: int, requested_on: dt.date | None = None,
                        note: str = "", today: dt.date | None = None) -> int:
    """Put a case on a facility's waiting list (typically because it is full); returns the entry id."""
    reg.actor.require("shelter.write")
    day = today_or(today)
    requested_on = requested_on or day
    with reg.write() as s:
        case = require_open_case(s, case_id, "adding it to a waiting list")
        f = _load_facility(s, facility_id)
        problems: list[FieldProblem] = []
        check_date(problems, "requested_on", "request date", requested_on, day)
        raise_if(problems)
        if not f.active:
            raise ValidationError(f"{f.name} is not in service.", "facility")
        waiting = s.scalar(select(WaitingListEntry.id).where(
            WaitingListEntry.case_id == case.id, WaitingListEntry.facility_id == f.id,
            WaitingListEntry.resolved_on.is_(None)))
        if waiting is not None:
            raise ValidationError(f"Case {case.case_number} is already waiting for {f.name}.", "facility")
        return add_waiting_entry(s, reg.actor, case, f, requested_on, note).id


def add_waiting_entry(s: Session, actor: Actor, case: Case, facility: Facility, requested_on: dt.date,
                      note: str) -> WaitingListEntry:
    """A new waiting-list entry (inside the caller's write transaction), audited."""
    entry = WaitingListEntry(case_id=case.id, facility_id=facility.id, requested_on=requested_on,
                             note=note.strip(), resolution="")
    s.add(entry)
    s.flush()
    audit.record(s, actor, "waiting_list_added", "waiting_list_entry", entry.id,
                 {"case_id": case.id, "facility_id": facility.id, "requested_on": requested_on, "note": entry.note})
    return entry


WAITING_RESOLUTIONS = ("admitted", "placed elsewhere", "withdrawn", "no longer needed")


def resolve_waiting(session: Session, actor, entry: WaitingListEntry, on: dt.date, resolution: str) -> None:
    """Close a waiting-list entry (inside the caller's write transaction), audited."""
    entry.resolved_on, entry.resolution = on, resolution
    audit.record(session, actor, "waiting_list_resolved", "waiting_list_entry", entry.id,
                 {"resolved_on": [None, on], "resolution": ["", resolution]})


def remove_from_waiting_list(reg: Register, entry_id: int, resolution: str = "withdrawn",
                             on: dt.date | None = None, today: dt.date | None = None) -> None:
    """Take a case off a waiting list, saying why."""
    reg.actor.require("shelter.write")
    if resolution not in WAITING_RESOLUTIONS:
        raise ValidationError(f"Say why: one of {', '.join(WAITING_RESOLUTIONS)}.", "resolution")
    with reg.write() as s:
        entry = s.get(WaitingListEntry, entry_id)
        if entry is None:
            raise NotFound(f"There is no waiting-list entry with id {entry_id}.")
        if entry.resolved_on is not None:
            raise ValidationError("That case is no longer on the waiting list.", "entry")
        resolve_waiting(s, reg.actor, entry, on or today_or(today), resolution)


def waiting_list(reg: Register, facility_id: int | None = None, offset: int = 0,
                 limit: int = 50) -> Page[WaitingEntry]:
    """Cases still waiting for a place, longest-waiting first (one facility or all)."""
    reg.actor.require("shelter.read")
    offset, limit = page_bounds(offset, limit)
    with reg.read() as s:
        where = [WaitingListEntry.resolved_on.is_(None)]
        if facility_id is not None:
            where.append(WaitingListEntry.facility_id == facility_id)
        total = s.scalar(select(func.count()).select_from(WaitingListEntry).where(*where)) or 0
        rows = s.execute(
            select(WaitingListEntry, Case.case_number, Person.given_names, Person.family_names, Bed.label)
            .join(Case, Case.id == WaitingListEntry.case_id).join(Person, Person.id == Case.person_id)
            .outerjoin(Bed, Bed.id == WaitingListEntry.bed_id)
            .where(*where).order_by(WaitingListEntry.requested_on, WaitingListEntry.id)
            .offset(offset).limit(limit)
        ).all()
        return Page(tuple(
            WaitingEntry(e.id, e.facility_id, case_ref(reg.actor, e.case_id, number, given, family),
                         e.requested_on, visible_text(reg.actor, e.note), e.resolved_on, e.resolution,
                         bed, e.held_from, e.held_until)
            for e, number, given, family, bed in rows
        ), int(total), offset, limit)

