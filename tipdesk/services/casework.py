"""What placements, services and follow-up share: pages, case look-ups, who may see names,
and the rules that tie a case's status to its open work (an open stay, an active plan).

The case-status change (``tipdesk.services.statuses``) checks ``closing_problems`` before it
closes a case and calls ``close_case_work`` in the same transaction once it has.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from models import Case, FollowUp, FollowUpPlan, Stay, WaitingListEntry
from tipdesk.errors import FieldProblem, ValidationError
from tipdesk.security import audit
from tipdesk.security.roles import Actor
from tipdesk.services.common import Page, can_see_pii, load_case
from tipdesk.vault.register import Register

__all__ = ["Page", "load_case"]  # shared with the case services (tipdesk.services.common)

CLOSED_CASE_STATUSES = ("Closed", "ClosedReferred")
DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 500
EARLIEST_DATE = dt.date(1900, 1, 1)


def page_bounds(offset: int, limit: int) -> tuple[int, int]:
    """Clamp a requested page to sane bounds (never the whole table at once)."""
    return max(0, int(offset)), max(1, min(int(limit), MAX_PAGE_SIZE))


def today_or(today: dt.date | None) -> dt.date:
    return today if today is not None else dt.date.today()


def display_name(given: str | None, family: str | None) -> str:
    return " ".join(p for p in ((given or "").strip(), (family or "").strip()) if p) or "(no name)"


def sees_names(actor: Actor) -> bool:
    """Names, contacts and free-text notes go only to roles that may read personal data."""
    return can_see_pii(actor)


def visible_text(actor: Actor, value: str | None) -> str | None:
    """Free text (notes, safety notes, outcomes) as the actor may see it: None when not allowed."""
    return (value or "") if sees_names(actor) else None


@dataclass(frozen=True)
class CaseRef:
    """A case as lists show it; ``person_name`` is None for roles that never see names."""

    case_id: int
    case_number: str
    person_name: str | None
    first_name: str | None = None  # the first given name (for the shelter board); None likewise


def first_name(given: str | None) -> str:
    """The first of a person's given names ('' when none is recorded)."""
    parts = (given or "").split()
    return parts[0] if parts else ""


def case_ref(actor: Actor, case_id: int, case_number: str, given: str | None, family: str | None) -> CaseRef:
    if not sees_names(actor):
        return CaseRef(case_id, case_number, None, None)
    return CaseRef(case_id, case_number, display_name(given, family), first_name(given))


def require_open_case(session: Session, case_id: int, doing: str) -> Case:
    """The case, refusing new work on a closed one (reopen it first)."""
    case = load_case(session, case_id)
    if case.case_status in CLOSED_CASE_STATUSES:
        raise ValidationError(
            f"Case {case.case_number} is closed: reopen it before {doing}.", "case"
        )
    return case


def check_date(problems: list[FieldProblem], field: str, label: str, value: dt.date | None,
               today: dt.date, *, future_ok: bool = False) -> None:
    """Add a problem when a date is implausible (before 1900, or a fact dated in the future)."""
    if value is None:
        return
    if type(value) is not dt.date:  # a datetime (a subclass) is not a date either
        problems.append(FieldProblem(field, f"The {label} is not a date."))
    elif value < EARLIEST_DATE:
        problems.append(FieldProblem(field, f"The {label} ({value.isoformat()}) is before 1900."))
    elif not future_ok and value > today:
        problems.append(FieldProblem(
            field, f"The {label} ({value.isoformat()}) is in the future; record it when it has happened."))


def raise_if(problems: Sequence[FieldProblem]) -> None:
    if problems:
        raise ValidationError(list(problems))


# --- the case's open work and closing ------------------------------------------------------------


@dataclass(frozen=True)
class OpenWork:
    """What is still going on for a case: an open stay, active plans, scheduled follow-ups."""

    open_stay_ids: tuple[int, ...]
    active_plan_ids: tuple[int, ...]
    scheduled_followups: int

    @property
    def any(self) -> bool:
        return bool(self.open_stay_ids or self.active_plan_ids)


def open_work(session: Session, case_id: int) -> OpenWork:
    stays = session.scalars(
        select(Stay.id).where(Stay.case_id == case_id, Stay.discharged.is_(None))
    ).all()
    plans = session.scalars(
        select(FollowUpPlan.id).where(FollowUpPlan.case_id == case_id, FollowUpPlan.status == "Active")
    ).all()
    scheduled = session.scalar(
        select(func.count()).select_from(FollowUp).where(
            FollowUp.case_id == case_id, FollowUp.status == "Scheduled")
    ) or 0
    return OpenWork(tuple(stays), tuple(plans), int(scheduled))


def closing_blockers(session: Session, case_id: int) -> list[str]:
    """Plain sentences saying why closing this case needs an explicit reason (empty: none)."""
    work = open_work(session, case_id)
    found = []
    if work.open_stay_ids:
        found.append("The person is still placed in a shelter (the stay has no discharge date).")
    if work.active_plan_ids:
        found.append(
            f"The case has an active follow-up plan with {work.scheduled_followups} follow-up(s) "
            "still to do; closing it cancels them."
        )
    return found


def closing_warnings(reg: Register, case_id: int) -> list[str]:
    """For the window, before it asks to close a case: what is still open (empty: nothing).

    When this is not empty, closing needs ``CaseStatusChange.open_work_reason``.
    """
    reg.actor.require("case.read")
    with reg.read() as s:
        load_case(s, case_id)
        return closing_blockers(s, case_id)


def closing_problems(session: Session, case_id: int, open_work_reason: str | None) -> list[FieldProblem]:
    """Why this case cannot be closed as asked: it has open work and no reason to close anyway."""
    blockers = closing_blockers(session, case_id)
    if not blockers or (open_work_reason or "").strip():
        return []
    return [FieldProblem("open_work_reason", b) for b in blockers] + [FieldProblem(
        "open_work_reason", "Discharge the person and end the plan first, or give the reason to close anyway.")]


def check_closing(session: Session, case_id: int, open_work_reason: str | None) -> list[str]:
    """Refuse (``ValidationError``) to close a case with open work without a reason; returns the
    blockers the reason overrode."""
    problems = closing_problems(session, case_id, open_work_reason)
    if problems:
        raise ValidationError(problems)
    return closing_blockers(session, case_id)


def close_case_work(session: Session, actor: Actor, case_id: int, closed_on: dt.date, reason: str = "") -> int:
    """On closing a case: cancel every follow-up not yet done, end active plans, and take the
    case off every waiting list (ending any bed held for it) — all audited.

    Returns how many follow-ups were cancelled. Call inside the transaction that closes the case.
    """
    from tipdesk.services.followup import refresh_case_flags  # followup imports this module

    pending = session.execute(
        select(FollowUp.id, FollowUp.due_date).where(
            FollowUp.case_id == case_id, FollowUp.status == "Scheduled")
    ).all()
    plans = session.execute(
        select(FollowUpPlan.id).where(FollowUpPlan.case_id == case_id, FollowUpPlan.status == "Active")
    ).scalars().all()
    if pending:
        session.execute(
            update(FollowUp).where(FollowUp.id.in_([r.id for r in pending]))
            .values(status="Cancelled", cancelled_on=closed_on)
        )
    if plans:
        session.execute(
            update(FollowUpPlan).where(FollowUpPlan.id.in_(plans))
            .values(status="Cancelled", ended_on=closed_on)
        )
    events = [
        audit.PendingEvent("followup_plan_cancelled", "followup_plan", plan_id, {
            "status": ["Active", "Cancelled"], "ended_on": [None, closed_on],
            "reason": f"case closed{': ' + reason if reason else ''}",
        })
        for plan_id in plans
    ]
    if pending:
        events.append(audit.PendingEvent("followups_cancelled", "case", case_id, {
            "followup_ids": [r.id for r in pending],
            "due_dates": [r.due_date for r in pending],
            "cancelled_on": closed_on, "reason": "case closed",
        }))
    waiting = session.scalars(select(WaitingListEntry).where(
        WaitingListEntry.case_id == case_id, WaitingListEntry.resolved_on.is_(None))).all()
    for entry in waiting:
        entry.resolved_on, entry.resolution = closed_on, "no longer needed"
        events.append(audit.PendingEvent("waiting_list_resolved", "waiting_list_entry", entry.id, {
            "resolved_on": [None, closed_on], "resolution": ["", "no longer needed"], "reason": "case closed"}))
    if events:
        audit.record_many(session, actor, events)
    refresh_case_flags(session, [case_id])
    return len(pending)
