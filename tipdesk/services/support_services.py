"""Services for a case: health, psychosocial, legal, livelihood … (HTCDS ``spl_Type`` + tipdesk's).

A service has a provider (this office, or a partner organisation), objectives, planned and
actual dates and a status. The status and the actual dates agree:

- Planned: no actual dates;
- Ongoing: an actual start, no actual end;
- Completed: an actual start and end;
- Cancelled: no actual dates (never started), or both (stopped on the end date).

**Received on a day** (TIP-RETURN/1 ``services_in_period`` and T6): a service is received on
every day from its actual start to its actual end, both included; an ongoing service (no
actual end) up to today. A planned service, or one cancelled before it started, is received on
no day. This is ``counting.service_received_in`` (the returns' rule) applied up to today; see
docs/followup.md.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from models import Organisation, Service, vocab
from tipdesk import counting
from tipdesk.counting import Period
from tipdesk.errors import FieldProblem, NotFound, ValidationError
from tipdesk.security import audit
from tipdesk.services.casework import (
    check_date,
    load_case,
    raise_if,
    require_open_case,
    today_or,
    visible_text,
)
from tipdesk.vault.register import Register

THIS_OFFICE = "This office"
_TYPES = frozenset(vocab.names(vocab.SERVICE_TYPES))
_STATUSES = frozenset(vocab.names(vocab.SERVICE_STATUSES))
MAX_TEXT = 10_000


@dataclass(frozen=True)
class ServiceFields:
    """What a person fills in for a service (add and edit)."""

    service_type: str
    status: str = "Planned"
    provider_org_id: int | None = None  # None: this office
    objectives: str = ""
    planned_start: dt.date | None = None
    planned_end: dt.date | None = None
    actual_start: dt.date | None = None
    actual_end: dt.date | None = None
    notes: str = ""


@dataclass(frozen=True)
class ServiceInfo:
    id: int
    case_id: int
    service_type: str
    status: str
    provider_org_id: int | None
    provider_name: str
    objectives: str | None  # free text: None for roles that do not see it
    planned_start: dt.date | None
    planned_end: dt.date | None
    actual_start: dt.date | None
    actual_end: dt.date | None
    notes: str | None

    @property
    def type_label(self) -> str:
        return vocab.label(vocab.SERVICE_TYPES, self.service_type)

    def fields(self) -> ServiceFields:
        return ServiceFields(self.service_type, self.status, self.provider_org_id, self.objectives or "",
                             self.planned_start, self.planned_end, self.actual_start, self.actual_end,
                             self.notes or "")


def received_in(actual_start: dt.date | None, actual_end: dt.date | None, status: str, period: Period,
                today: dt.date) -> bool:
    """Whether a service was received on at least one day of the period, as of ``today``.

    ``counting.service_received_in`` (the rule returns use) on the part of the period up to
    today: an ongoing service is received up to today, never in days still to come.
    """
    if today < period.start:
        return False
    so_far = Period(period.start, min(period.end, today), period.code)
    return counting.service_received_in(actual_start, actual_end, status, so_far)


def _snapshot(sv: Service) -> dict:
    return {
        "case_id": sv.case_id, "service_type": sv.service_type, "status": sv.status,
        "provider_org_id": sv.provider_org_id, "objectives": sv.objectives,
        "planned_start": sv.planned_start, "planned_end": sv.planned_end,
        "actual_start": sv.actual_start, "actual_end": sv.actual_end, "notes": sv.notes,
    }


def service_problems(f: ServiceFields, today: dt.date) -> list[FieldProblem]:
    """Every rule a service meets by itself (type, status and dates agree, lengths); pure."""
    problems: list[FieldProblem] = []
    if f.service_type not in _TYPES:
        problems.append(FieldProblem("service_type", "Choose the type of service from the list."))
    if f.status not in _STATUSES:
        problems.append(FieldProblem("status", "Choose the status: planned, ongoing, completed or cancelled."))
    check_date(problems, "planned_start", "planned start", f.planned_start, today, future_ok=True)
    check_date(problems, "planned_end", "planned end", f.planned_end, today, future_ok=True)
    check_date(problems, "actual_start", "date the service started", f.actual_start, today)
    check_date(problems, "actual_end", "date the service ended", f.actual_end, today)
    if f.planned_start and f.planned_end and f.planned_end < f.planned_start:
        problems.append(FieldProblem("planned_end", "The planned end is before the planned start."))
    if f.actual_start and f.actual_end and f.actual_end < f.actual_start:
        problems.append(FieldProblem("actual_end", "The service ended before it started."))
    if f.actual_end and not f.actual_start:
        problems.append(FieldProblem("actual_start", "Give the date the service started as well."))
    if f.status == "Planned" and (f.actual_start or f.actual_end):
        problems.append(FieldProblem(
            "status", "A service with an actual start date is ongoing or completed, not planned."))
    elif f.status == "Ongoing":
        if not f.actual_start:
            problems.append(FieldProblem("actual_start", "An ongoing service needs the date it started."))
        if f.actual_end:
            problems.append(FieldProblem(
                "status", "A service with an end date is completed (or cancelled), not ongoing."))
    elif f.status == "Completed" and not (f.actual_start and f.actual_end):
        problems.append(FieldProblem("actual_end", "A completed service needs the dates it started and ended."))
    elif f.status == "Cancelled" and f.actual_start and not f.actual_end:
        problems.append(FieldProblem(
            "actual_end", "A service cancelled after it started needs the date it stopped."))
    for field, value in (("objectives", f.objectives), ("notes", f.notes)):
        if len(value) > MAX_TEXT:
            problems.append(FieldProblem(field, f"Keep this under {MAX_TEXT:,} characters."))
    return problems


def _validate(s: Session, f: ServiceFields, today: dt.date) -> tuple[list[FieldProblem], int | None]:
    problems = service_problems(f, today)
    provider = f.provider_org_id
    if provider is not None:
        org = s.get(Organisation, provider)
        if org is None:
            problems.append(FieldProblem("provider", "That partner organisation does not exist."))
        elif org.is_self:
            provider = None
    return problems, provider


def _apply(sv: Service, f: ServiceFields, provider: int | None) -> None:
    sv.service_type, sv.status, sv.provider_org_id = f.service_type, f.status, provider
    sv.objectives, sv.notes = f.objectives.strip(), f.notes.strip()
    sv.planned_start, sv.planned_end = f.planned_start, f.planned_end
    sv.actual_start, sv.actual_end = f.actual_start, f.actual_end


def _info(reg: Register, s: Session, sv: Service) -> ServiceInfo:
    provider = THIS_OFFICE
    if sv.provider_org_id is not None:
        org = s.get(Organisation, sv.provider_org_id)
        provider = org.name if org else "?"
    return ServiceInfo(sv.id, sv.case_id, sv.service_type, sv.status, sv.provider_org_id, provider,
                       visible_text(reg.actor, sv.objectives), sv.planned_start, sv.planned_end,
                       sv.actual_start, sv.actual_end, visible_text(reg.actor, sv.notes))


def add_service(reg: Register, case_id: int, fields: ServiceFields, today: dt.date | None = None) -> ServiceInfo:
    """Record a service planned for, or given to, a case."""
    reg.actor.require("service.write")
    day = today_or(today)
    with reg.write() as s:
        case = require_open_case(s, case_id, "adding a service")
        problems, provider = _validate(s, fields, day)
        raise_if(problems)
        sv = Service(case_id=case.id)
        _apply(sv, fields, provider)
        s.add(sv)
        s.flush()
        audit.record(s, reg.actor, "service_added", "service", sv.id, _snapshot(sv))
        return _info(reg, s, sv)


def _load(s: Session, service_id: int) -> Service:
    sv = s.get(Service, service_id)
    if sv is None:
        raise NotFound(f"There is no service with id {service_id}.")
    return sv


def update_service(reg: Register, service_id: int, fields: ServiceFields,
                   today: dt.date | None = None) -> ServiceInfo:
    """Change a service (its status, dates, provider …); audited old → new."""
    reg.actor.require("service.write")
    day = today_or(today)
    with reg.write() as s:
        sv = _load(s, service_id)
        problems, provider = _validate(s, fields, day)
        raise_if(problems)
        before = _snapshot(sv)
        _apply(sv, fields, provider)
        s.flush()
        changed = audit.changes(before, _snapshot(sv))
        if changed:
            audit.record(s, reg.actor, "service_changed", "service", sv.id, changed)
        return _info(reg, s, sv)


def remove_service(reg: Register, service_id: int, reason: str) -> None:
    """Delete a service recorded in error; the audit event keeps what it held and why."""
    reg.actor.require("service.write")
    if not reason.strip():
        raise ValidationError("Say why this service is removed.", "reason")
    with reg.write() as s:
        sv = _load(s, service_id)
        details = {**_snapshot(sv), "reason": reason.strip()}
        s.delete(sv)
        s.flush()
        audit.record(s, reg.actor, "service_removed", "service", service_id, details)


def services_of_case(reg: Register, case_id: int) -> list[ServiceInfo]:
    """A case's services: ongoing and planned first, then the rest, each by start date."""
    reg.actor.require("case.read")
    with reg.read() as s:
        load_case(s, case_id)
        rows = s.scalars(select(Service).where(Service.case_id == case_id).order_by(Service.id)).all()
        infos = [_info(reg, s, sv) for sv in rows]
    order = {"Ongoing": 0, "Planned": 1, "Completed": 2, "Cancelled": 3}
    return sorted(infos, key=lambda i: (order.get(i.status, 9),
                                        i.actual_start or i.planned_start or dt.date.max, i.id))


# Services received on at least one day of S–E as of today (``received_in``): those with an
# actual end on or after S that started by E, and those without an end that started by E —
# running on while planned or ongoing, on their start day only when completed or cancelled.
# Two index ranges on ix_service_actual (actual_end, actual_start).
SERVICES_IN_PERIOD_SQL = """
SELECT DISTINCT case_id, service_type FROM (
    SELECT case_id, service_type FROM service
     WHERE actual_end >= :s AND actual_start <= :e
    UNION ALL
    SELECT case_id, service_type FROM service
     WHERE actual_end IS NULL AND actual_start <= :e AND actual_start IS NOT NULL
       AND (status NOT IN ('Completed', 'Cancelled') OR actual_start >= :s)
)
"""


def services_in_period(reg: Register, period: Period, today: dt.date | None = None) -> dict[int, tuple[str, ...]]:
    """Case id → the service types it received on at least one day of the period (sorted)."""
    reg.actor.require("case.read")
    day = today_or(today)
    found: dict[int, set[str]] = defaultdict(set)
    if day < period.start:
        return {}
    with reg.read() as s:
        for case_id, kind in s.execute(text(SERVICES_IN_PERIOD_SQL), {
                "s": period.start.isoformat(), "e": min(period.end, day).isoformat()}):
            found[case_id].add(kind)
    return {case_id: tuple(sorted(kinds)) for case_id, kinds in sorted(found.items())}


def service_counts(reg: Register, period: Period, today: dt.date | None = None) -> dict[str, int]:
    """Service type → how many cases received it in the period (types with none left out)."""
    counts: dict[str, int] = defaultdict(int)
    for kinds in services_in_period(reg, period, today).values():
        for kind in kinds:
            counts[kind] += 1
    return dict(sorted(counts.items()))
