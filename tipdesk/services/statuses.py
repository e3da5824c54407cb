"""Status histories of a case: trafficking status and case status (HTCDS ``cas_Status``).

Returns need the status as of any date, so a change is never an overwrite: it adds a dated
entry, and ``Case.trafficking_status`` / ``Case.case_status`` follow the latest entry. The first
entry of each history is effective on the registration date.

This module works inside a caller's transaction (a ``Session``); the public functions taking a
``Register`` are in ``tipdesk.services.cases``. Every rule a case-status change must meet is in
``check_case_status_change``, and whatever must happen with it in ``_after_case_status_change``:
add rules and effects there, and every caller (editor, screening, imports) gets them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Case, CaseStatusEntry, TraffickingStatusEntry, utcnow, vocab
from tipdesk.counting import CLOSED_STATUSES
from tipdesk.errors import ValidationError
from tipdesk.security import audit
from tipdesk.security.roles import Actor
from tipdesk.services.common import (
    Problems,
    check_choice,
    check_date,
    check_length,
    clean_text,
    fmt_date,
)
from tipdesk.services import casework
from tipdesk.services.derived import refresh_statuses

ACTUAL = "ActualVictimOfTrafficking"
POSSIBLE = "PossibleVictimOfTrafficking"
NOT_A_VICTIM = "NotAVictimOfTrafficking"


@dataclass(frozen=True)
class TraffickingStatusChange:
    """A new trafficking status: effective date, deciding body (needed for an actual victim)."""

    status: str
    effective_date: dt.date
    decided_by: str | None = None  # HTCDS vic_TraffickingStatusDecisionMakingOrg
    note: str = ""


@dataclass(frozen=True)
class CaseStatusChange:
    """A new case status; closing (Closed, ClosedReferred) needs a reason, and closing a case
    whose person is still placed in a shelter or that has an active follow-up plan needs
    ``open_work_reason`` too (why close it anyway)."""

    status: str
    effective_date: dt.date
    reason: str = ""
    open_work_reason: str = ""


def _latest(s: Session, model: type, case_id: int):  # -> entry | None
    return s.scalars(
        select(model).where(model.case_id == case_id)
        .order_by(model.effective_date.desc(), model.id.desc()).limit(1)
    ).first()


def latest_trafficking_entry(s: Session, case_id: int) -> TraffickingStatusEntry | None:
    return _latest(s, TraffickingStatusEntry, case_id)


def _check_effective_date(
    p: Problems, s: Session, model: type, case: Case, day: dt.date | None, on: dt.date
) -> None:
    check_date(p, "effective_date", day, "date of the change", on=on,
               not_before=(case.registration_date, "registration date"), required=True)
    latest = _latest(s, model, case.id)
    if day is not None and latest is not None and day < latest.effective_date and not p:
        p.add("effective_date", f"The change cannot be dated before the last recorded change "
                                f"({fmt_date(latest.effective_date)}).")


# --- trafficking status ----------------------------------------------------------------------------


def trafficking_change_problems(change: TraffickingStatusChange) -> Problems:
    """The rules a trafficking-status change meets whatever the case's history (pure)."""
    p = Problems()
    check_choice(p, "status", change.status, vocab.TRAFFICKING_STATUSES, "trafficking status",
                 required=True)
    check_choice(p, "decided_by", change.decided_by, vocab.DECISION_BODIES, "deciding body")
    if change.status == ACTUAL and not change.decided_by:
        p.add("decided_by", "Say which body decided that the person is an actual victim of "
                            "trafficking (police, NGO, court or prosecution…).")
    check_length(p, "note", change.note, 4000, "note")
    return p


def check_trafficking_status_change(
    s: Session, case: Case, change: TraffickingStatusChange, on: dt.date, *, first: bool = False
) -> Problems:
    p = trafficking_change_problems(change)
    if not first:
        _check_effective_date(p, s, TraffickingStatusEntry, case, change.effective_date, on)
        latest = _latest(s, TraffickingStatusEntry, case.id)
        if (latest is not None and latest.status == change.status
                and (latest.decided_by or None) == (change.decided_by or None)):
            p.add("status", "That is already the trafficking status: nothing to change.")
    return p


def add_trafficking_status(
    s: Session, actor: Actor, case: Case, change: TraffickingStatusChange, on: dt.date,
    *, first: bool = False, source: str = "",
) -> TraffickingStatusEntry:
    """Validate and add a trafficking-status entry; audited (``source`` says e.g. screening)."""
    change = TraffickingStatusChange(change.status, change.effective_date,
                                     change.decided_by or None, clean_text(change.note))
    check_trafficking_status_change(s, case, change, on, first=first).raise_if_any()
    before = case.trafficking_status
    entry = TraffickingStatusEntry(
        case_id=case.id, effective_date=change.effective_date, status=change.status,
        decided_by=change.decided_by, note=change.note, entered_by=actor.id, entered_at=utcnow(),
    )
    s.add(entry)
    refresh_statuses(s, case)
    if not first:
        details = {
            "trafficking_status": [before, case.trafficking_status],
            "effective_date": change.effective_date.isoformat(),
            "decided_by": change.decided_by,
            "note": change.note,
        }
        if source:
            details["source"] = source
        audit.record(s, actor, "trafficking_status_changed", "case", case.id, details)
        case.updated_at = utcnow()
    return entry


# --- case status -----------------------------------------------------------------------------------


def case_change_problems(change: CaseStatusChange) -> Problems:
    """The rules a case-status change meets whatever the case's history (pure)."""
    p = Problems()
    check_choice(p, "status", change.status, vocab.CASE_STATUSES, "case status", required=True)
    if change.status in CLOSED_STATUSES and not change.reason:
        p.add("reason", "Give the reason for closing the case.")
    check_length(p, "reason", change.reason, 4000, "reason")
    return p


def check_case_status_change(
    s: Session, case: Case, change: CaseStatusChange, on: dt.date, *, first: bool = False
) -> Problems:
    """Every rule a case-status change must meet, as plain sentences by field.

    This is the one place for such rules (e.g. the shelter's: closing a case with an open stay
    or an active follow-up plan needs an explicit reason).
    """
    p = case_change_problems(change)
    if not first:
        _check_effective_date(p, s, CaseStatusEntry, case, change.effective_date, on)
        if change.status == case.case_status:
            p.add("status", f"The case is already "
                            f"{vocab.label(vocab.CASE_STATUSES, change.status)}: nothing to change.")
        elif change.status in CLOSED_STATUSES and case.case_status not in CLOSED_STATUSES:
            p.extend(casework.closing_problems(s, case.id, change.open_work_reason))
    check_length(p, "open_work_reason", change.open_work_reason, 4000, "reason")
    return p


def _after_case_status_change(s: Session, actor: Actor, case: Case, entry: CaseStatusEntry,
                              before: str) -> None:
    """What follows a case-status change in the same transaction: closing a case cancels the
    follow-ups not yet done and ends its active follow-up plans (``casework.close_case_work``)."""
    if entry.status in CLOSED_STATUSES and before not in CLOSED_STATUSES:
        casework.close_case_work(s, actor, case.id, entry.effective_date, entry.reason)


def apply_case_status_change(
    s: Session, actor: Actor, case: Case, change: CaseStatusChange, on: dt.date,
    *, first: bool = False,
) -> CaseStatusEntry:
    """Validate and add a case-status entry, then its effects; audited."""
    change = CaseStatusChange(change.status, change.effective_date, clean_text(change.reason),
                              clean_text(change.open_work_reason))
    overridden = (casework.closing_blockers(s, case.id)
                  if not first and change.status in CLOSED_STATUSES and change.open_work_reason else [])
    check_case_status_change(s, case, change, on, first=first).raise_if_any()
    before = case.case_status
    entry = CaseStatusEntry(
        case_id=case.id, effective_date=change.effective_date, status=change.status,
        reason=change.reason, entered_by=actor.id, entered_at=utcnow(),
    )
    s.add(entry)
    refresh_statuses(s, case)
    if not first:
        details = {
            "case_status": [before, case.case_status],
            "effective_date": change.effective_date.isoformat(),
            "reason": change.reason,
        }
        if overridden:
            details["open_work"] = overridden
            details["open_work_reason"] = change.open_work_reason
        audit.record(s, actor, "case_status_changed", "case", case.id, details)
        case.updated_at = utcnow()
        _after_case_status_change(s, actor, case, entry, before)
    return entry


# --- undo -----------------------------------------------------------------------------------------


def remove_latest_entry(s: Session, actor: Actor, case: Case, which: str) -> None:
    """Undo the latest change of one history (``trafficking`` or ``case``); the registration
    entry stays."""
    model = TraffickingStatusEntry if which == "trafficking" else CaseStatusEntry
    entries = s.scalars(
        select(model).where(model.case_id == case.id)
        .order_by(model.effective_date.desc(), model.id.desc()).limit(2)
    ).all()
    if len(entries) < 2:
        raise ValidationError("There is no change to undo: the status given at registration stays.",
                              "status")
    latest = entries[0]
    field = "trafficking_status" if which == "trafficking" else "case_status"
    before = getattr(case, field)
    s.delete(latest)
    refresh_statuses(s, case)
    audit.record(s, actor, f"{field}_change_undone", "case", case.id, {
        field: [before, getattr(case, field)],
        "effective_date": latest.effective_date.isoformat(),
    })
    case.updated_at = utcnow()
