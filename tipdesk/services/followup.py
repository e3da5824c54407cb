"""Long-term follow-up (reintegration monitoring): plans, visits, and the work queues.

A plan starts when a case enters reintegration (a discharge from shelter, or a decision) and is
generated from a plan definition: one scheduled follow-up per offset. A plan can be shortened
(later follow-ups cancelled), extended (more follow-ups added) or cancelled; each is audited.
A follow-up not done by its due date is overdue (from the day after the due date). When the
last outstanding follow-up of a plan is done or cancelled, the plan is completed.

This module keeps two derived columns of the case current:

- ``Case.next_followup_due``: the earliest due date of its follow-ups still to do (overdue
  ones included), or empty;
- ``Case.high_risk``: the risk level of its latest follow-up done (by done date) is High.

They are written with plain UPDATE statements, not through the ORM, so that a follow-up does not
bump the case's edit version and spoil a colleague's open case form.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, func, select, text, update
from sqlalchemy.orm import Session

from models import Case, FollowUp, FollowUpPlan, FollowUpPlanDefinition, UserAccount, vocab
from tipdesk.errors import FieldProblem, NotFound, ValidationError
from tipdesk.security import audit
from tipdesk.security.roles import Actor
from tipdesk.services.common import Page
from tipdesk.services.casework import (
    CaseRef,
    case_ref,
    check_date,
    load_case,
    page_bounds,
    raise_if,
    require_open_case,
    today_or,
    visible_text,
)
from tipdesk.services.followup_plans import add_months, due_dates, ensure_default_plan, months_of
from tipdesk.vault.register import Register

MAX_TEXT = 10_000
_MODES = frozenset(vocab.names(vocab.FOLLOWUP_MODES))
_RISKS = frozenset(vocab.names(vocab.RISK_LEVELS))


# --- plain data ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class FollowUpInfo:
    id: int
    case_id: int
    plan_id: int | None
    due_date: dt.date
    done_date: dt.date | None
    cancelled_on: dt.date | None
    status: str  # Scheduled / Done / Cancelled
    mode: str | None
    done_by: str | None  # user name
    score_economic: int | None
    score_social: int | None
    score_psychosocial: int | None
    risk_level: str | None
    safety_note: str | None  # free text: None for roles that do not see it
    outcome: str | None
    next_action: str | None

    def is_overdue(self, today: dt.date | None = None) -> bool:
        return self.status == "Scheduled" and self.due_date < today_or(today)

    @property
    def mode_label(self) -> str:
        return vocab.label(vocab.FOLLOWUP_MODES, self.mode)


@dataclass(frozen=True)
class PlanInfo:
    id: int
    case_id: int
    definition_id: int | None
    definition_name: str | None
    started_on: dt.date
    reason: str | None
    status: str  # Active / Completed / Cancelled
    ended_on: dt.date | None
    followups: tuple[FollowUpInfo, ...]

    @property
    def outstanding(self) -> int:
        return sum(1 for f in self.followups if f.status == "Scheduled")


@dataclass(frozen=True)
class Visit:
    """What a case worker records for a follow-up done."""

    done_date: dt.date
    mode: str
    risk_level: str
    score_economic: int | None = None
    score_social: int | None = None
    score_psychosocial: int | None = None
    safety_note: str = ""
    outcome: str = ""
    next_action: str = ""
    #: the staff member who made the contact (a user id); None: whoever records it — or, when a
    #: follow-up done is corrected, whoever it was recorded for
    done_by: int | None = None


@dataclass(frozen=True)
class QueueRow:
    """One follow-up in a work queue."""

    followup_id: int
    case: CaseRef
    due_date: dt.date
    days_overdue: int  # 0 when not yet due
    plan_id: int | None
    case_high_risk: bool


@dataclass(frozen=True)
class HighRiskRow:
    case: CaseRef
    assessed_on: dt.date | None  # the follow-up that found the risk high
    next_followup_due: dt.date | None


def _fu_info(actor: Actor, f: FollowUp, done_by: str | None) -> FollowUpInfo:
    return FollowUpInfo(
        f.id, f.case_id, f.plan_id, f.due_date, f.done_date, f.cancelled_on, f.status, f.mode, done_by,
        f.score_economic, f.score_social, f.score_psychosocial, f.risk_level,
        visible_text(actor, f.safety_note), visible_text(actor, f.outcome), visible_text(actor, f.next_action),
    )


def _usernames(s: Session, ids: Iterable[int | None]) -> dict[int, str]:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    return {uid: name for uid, name in s.execute(
        select(UserAccount.id, UserAccount.username).where(UserAccount.id.in_(wanted)))}


def _date(value: str | dt.date | None) -> dt.date | None:
    """A date from raw SQL (ISO text) or the ORM."""
    if value is None or isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(value)


# --- derived case columns ------------------------------------------------------------------------

_REFRESH_BODY = """
UPDATE case_file SET
  next_followup_due = (SELECT min(f.due_date) FROM followup f
                        WHERE f.case_id = case_file.id AND f.status = 'Scheduled'),
  high_risk = coalesce((SELECT f.risk_level = 'High' FROM followup f
                         WHERE f.case_id = case_file.id AND f.status = 'Done'
                         ORDER BY f.done_date DESC, f.id DESC LIMIT 1), 0)
"""
#: The derived columns of one case, recomputed from its follow-ups (ix_followup_case).
REFRESH_CASE_SQL = _REFRESH_BODY + "WHERE id = :case_id"
_REFRESH_MANY = text(_REFRESH_BODY + "WHERE id IN :ids").bindparams(bindparam("ids", expanding=True))


def refresh_case_flags(session: Session, case_ids: Sequence[int]) -> None:
    """Recompute ``next_followup_due`` and ``high_risk`` of these cases from their follow-ups."""
    if not case_ids:
        return
    if len(case_ids) == 1:
        session.execute(text(REFRESH_CASE_SQL), {"case_id": case_ids[0]})
    else:
        session.execute(_REFRESH_MANY, {"ids": list(case_ids)})
    wanted = set(case_ids)
    for obj in list(session.identity_map.values()):
        if isinstance(obj, Case) and obj.id in wanted:  # loaded before the UPDATE: now stale
            session.expire(obj, ["next_followup_due", "high_risk"])


def _flags(s: Session, case_id: int) -> tuple[dt.date | None, bool]:
    row = s.execute(select(Case.next_followup_due, Case.high_risk).where(Case.id == case_id)).one()
    return row[0], bool(row[1])


#: After a change to a follow-up: refresh the case's derived columns and, in the same statement,
#: count what is left to do in the follow-up's plan (so the plan can be settled).
REFRESH_RETURNING_SQL = (
    REFRESH_CASE_SQL + " RETURNING next_followup_due, high_risk, "
    "(SELECT count(*) FROM followup f WHERE f.plan_id = :plan_id AND f.status = 'Scheduled')"
)
_REFRESH_RETURNING = text(REFRESH_RETURNING_SQL)


def _refresh_and_note(s: Session, case_id: int, details: dict,
                      before: tuple[dt.date | None, bool] | None = None, plan_id: int | None = None) -> int:
    """Refresh the case's derived columns and add their old → new values to audit details.

    ``before``: the flags as read earlier in this transaction (saves a query). Returns how many
    follow-ups of plan ``plan_id`` are still to do (0 without a plan).
    """
    if before is None:
        before = _flags(s, case_id)
    due, high, left = s.connection().execute(_REFRESH_RETURNING, {"case_id": case_id, "plan_id": plan_id}).one()
    after = (_date(due), bool(high))
    for obj in list(s.identity_map.values()):
        if isinstance(obj, Case) and obj.id == case_id:
            s.expire(obj, ["next_followup_due", "high_risk"])
    if before[0] != after[0]:
        details["case.next_followup_due"] = [before[0], after[0]]
    if before[1] != after[1]:
        details["case.high_risk"] = [before[1], after[1]]
    return int(left or 0)


def _settle_plan(s: Session, plan_id: int | None, today: dt.date, left: int | None = None) -> dict:
    """Complete an active plan that has nothing left to do; returns the audit changes.

    ``left``: how many of its follow-ups are still to do, when the caller knows.
    """
    if plan_id is None:
        return {}
    if left is None:
        left = s.scalar(select(func.count()).select_from(FollowUp).where(
            FollowUp.plan_id == plan_id, FollowUp.status == "Scheduled")) or 0
    if left:
        return {}
    plan = s.get(FollowUpPlan, plan_id)
    if plan is None or plan.status != "Active":
        return {}
    last = s.scalar(select(func.max(FollowUp.done_date)).where(FollowUp.plan_id == plan.id))
    plan.status, plan.ended_on = "Completed", last or today
    return {"plan.status": ["Active", "Completed"], "plan.ended_on": [None, plan.ended_on]}


# --- plans ---------------------------------------------------------------------------------------


def active_plan_ids(s: Session, case_id: int) -> list[int]:
    return list(s.scalars(select(FollowUpPlan.id).where(
        FollowUpPlan.case_id == case_id, FollowUpPlan.status == "Active")))


def _definition(s: Session, definition_id: int | None) -> FollowUpPlanDefinition:
    if definition_id is None:
        return ensure_default_plan(s)
    d = s.get(FollowUpPlanDefinition, definition_id)
    if d is None:
        raise NotFound(f"There is no follow-up plan definition with id {definition_id}.")
    if not d.active:
        raise ValidationError(f"The plan '{d.name}' is retired; choose another.", "definition")
    return d


def start_plan_in(s: Session, actor: Actor, case: Case, started_on: dt.date, definition_id: int | None,
                  reason: str, today: dt.date) -> FollowUpPlan:
    """Start a plan inside the caller's write transaction (used by discharge too)."""
    actor.require("followup.write")
    problems: list[FieldProblem] = []
    if started_on is None:
        raise ValidationError("Give the date the plan starts.", "started_on")
    check_date(problems, "started_on", "start date", started_on, today)
    raise_if(problems)
    if active_plan_ids(s, case.id):
        raise ValidationError(
            f"Case {case.case_number} already has an active follow-up plan: extend or cancel it instead.",
            "plan")
    d = _definition(s, definition_id)
    plan = FollowUpPlan(case_id=case.id, definition_id=d.id, started_on=started_on,
                        reason=reason.strip(), status="Active")
    s.add(plan)
    s.flush()
    dues = due_dates(started_on, months_of(d))
    s.add_all(FollowUp(case_id=case.id, plan_id=plan.id, due_date=due, status="Scheduled") for due in dues)
    s.flush()
    details: dict = {"case_id": case.id, "definition": d.name, "started_on": started_on,
                     "reason": plan.reason, "due_dates": dues}
    _refresh_and_note(s, case.id, details)
    audit.record(s, actor, "followup_plan_started", "followup_plan", plan.id, details)
    return plan


def start_plan(reg: Register, case_id: int, started_on: dt.date, definition_id: int | None = None,
               reason: str = "", today: dt.date | None = None) -> PlanInfo:
    """Start follow-up for a case entering reintegration (default plan unless one is named)."""
    reg.actor.require("followup.write")
    day = today_or(today)
    with reg.write() as s:
        case = require_open_case(s, case_id, "starting follow-up")
        plan = start_plan_in(s, reg.actor, case, started_on, definition_id, reason, day)
        return _plan_info(s, reg.actor, plan)


def _load_plan(s: Session, plan_id: int, *, active: bool = True) -> FollowUpPlan:
    plan = s.get(FollowUpPlan, plan_id)
    if plan is None:
        raise NotFound(f"There is no follow-up plan with id {plan_id}.")
    if active and plan.status != "Active":
        raise ValidationError(f"This plan is {plan.status.lower()}; it cannot be changed.", "plan")
    return plan


def _need_reason(reason: str, what: str) -> str:
    if not reason.strip():
        raise ValidationError(f"Say why the plan is {what}.", "reason")
    return reason.strip()


def shorten_plan(reg: Register, plan_id: int, *, months: int | None = None, until: dt.date | None = None,
                 reason: str, today: dt.date | None = None) -> PlanInfo:
    """End a plan earlier: follow-ups due after ``until`` (or ``months`` after its start) are cancelled."""
    reg.actor.require("followup.write")
    reason = _need_reason(reason, "shortened")
    day = today_or(today)
    with reg.write() as s:
        plan = _load_plan(s, plan_id)
        if (months is None) == (until is None):
            raise ValidationError("Say how long the plan should last: a number of months or an end date.", "until")
        if months is not None:
            if isinstance(months, bool) or not isinstance(months, int) or months < 0:
                raise ValidationError("The length is a whole number of months.", "months")
            until = add_months(plan.started_on, months)
        assert until is not None
        later = s.execute(select(FollowUp).where(
            FollowUp.plan_id == plan.id, FollowUp.status == "Scheduled", FollowUp.due_date > until)
        ).scalars().all()
        if not later:
            raise ValidationError(f"No follow-up of this plan is due after {until.isoformat()}: nothing to shorten.",
                                  "until")
        for f in later:
            f.status, f.cancelled_on = "Cancelled", day
        s.flush()
        details: dict = {"until": until, "reason": reason, "cancelled_followups": [f.id for f in later],
                         "cancelled_due_dates": [f.due_date for f in later]}
        details.update(_settle_plan(s, plan.id, day))
        _refresh_and_note(s, plan.case_id, details)
        audit.record(s, reg.actor, "followup_plan_shortened", "followup_plan", plan.id, details)
        return _plan_info(s, reg.actor, s.get(FollowUpPlan, plan_id))


def extend_plan(reg: Register, plan_id: int, *, to_months: int, every_months: int, reason: str) -> PlanInfo:
    """Add follow-ups every ``every_months`` after the plan's last one, up to ``to_months`` after its start.

    A completed plan becomes active again; a cancelled one cannot be extended.
    """
    reg.actor.require("followup.write")
    reason = _need_reason(reason, "extended")
    with reg.write() as s:
        plan = _load_plan(s, plan_id, active=False)
        if plan.status == "Cancelled":
            raise ValidationError("This plan was cancelled; start a new one instead.", "plan")
        problems = []
        for name, value in (("to_months", to_months), ("every_months", every_months)):
            if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 240:
                problems.append(FieldProblem(name, "Give a whole number of months from 1 to 240."))
        raise_if(problems)
        last = s.scalar(select(func.max(FollowUp.due_date)).where(
            FollowUp.plan_id == plan.id, FollowUp.status != "Cancelled")) or plan.started_on
        end = add_months(plan.started_on, to_months)
        new_dates = []
        step = 1
        while (due := add_months(last, every_months * step)) <= end:
            new_dates.append(due)
            step += 1
        if not new_dates:
            raise ValidationError(
                f"The plan already runs to {last.isoformat()}; extend it to a later month.", "to_months")
        s.add_all(FollowUp(case_id=plan.case_id, plan_id=plan.id, due_date=d, status="Scheduled")
                  for d in new_dates)
        details: dict = {"to_months": to_months, "every_months": every_months, "reason": reason,
                         "added_due_dates": new_dates}
        if plan.status == "Completed":
            details["status"] = ["Completed", "Active"]
            details["ended_on"] = [plan.ended_on, None]
            plan.status, plan.ended_on = "Active", None
        s.flush()
        _refresh_and_note(s, plan.case_id, details)
        audit.record(s, reg.actor, "followup_plan_extended", "followup_plan", plan.id, details)
        return _plan_info(s, reg.actor, plan)


def cancel_plan(reg: Register, plan_id: int, *, reason: str, on: dt.date | None = None,
                today: dt.date | None = None) -> PlanInfo:
    """Stop a plan: every follow-up not yet done is cancelled."""
    reg.actor.require("followup.write")
    reason = _need_reason(reason, "cancelled")
    day = today_or(today)
    on = on or day
    with reg.write() as s:
        plan = _load_plan(s, plan_id)
        problems: list[FieldProblem] = []
        check_date(problems, "on", "cancellation date", on, day)
        if on < plan.started_on:
            problems.append(FieldProblem("on", "A plan cannot be cancelled before it started."))
        raise_if(problems)
        pending = s.scalars(select(FollowUp).where(
            FollowUp.plan_id == plan.id, FollowUp.status == "Scheduled")).all()
        for f in pending:
            f.status, f.cancelled_on = "Cancelled", on
        plan.status, plan.ended_on = "Cancelled", on
        s.flush()
        details: dict = {"status": ["Active", "Cancelled"], "ended_on": [None, on], "reason": reason,
                         "cancelled_followups": [f.id for f in pending]}
        _refresh_and_note(s, plan.case_id, details)
        audit.record(s, reg.actor, "followup_plan_cancelled", "followup_plan", plan.id, details)
        return _plan_info(s, reg.actor, plan)


# --- single follow-ups ---------------------------------------------------------------------------


def _load_fu(s: Session, followup_id: int) -> FollowUp:
    f = s.get(FollowUp, followup_id)
    if f is None:
        raise NotFound(f"There is no follow-up with id {followup_id}.")
    return f


def schedule_followup(reg: Register, case_id: int, due_date: dt.date, *, plan_id: int | None = None,
                      today: dt.date | None = None) -> FollowUpInfo:
    """Add one follow-up (to an active plan of the case, or on its own)."""
    reg.actor.require("followup.write")
    day = today_or(today)
    with reg.write() as s:
        case = require_open_case(s, case_id, "scheduling a follow-up")
        problems: list[FieldProblem] = []
        if due_date is None:
            raise ValidationError("Give the due date.", "due_date")
        check_date(problems, "due_date", "due date", due_date, day, future_ok=True)
        raise_if(problems)
        if plan_id is not None:
            plan = _load_plan(s, plan_id)
            if plan.case_id != case.id:
                raise ValidationError("That plan belongs to another case.", "plan")
        f = FollowUp(case_id=case.id, plan_id=plan_id, due_date=due_date, status="Scheduled")
        s.add(f)
        s.flush()
        details: dict = {"case_id": case.id, "plan_id": plan_id, "due_date": due_date}
        _refresh_and_note(s, case.id, details)
        audit.record(s, reg.actor, "followup_scheduled", "followup", f.id, details)
        return _fu_info(reg.actor, f, None)


def reschedule_followup(reg: Register, followup_id: int, due_date: dt.date, *, reason: str,
                        today: dt.date | None = None) -> FollowUpInfo:
    """Move the due date of a follow-up not yet done."""
    reg.actor.require("followup.write")
    day = today_or(today)
    with reg.write() as s:
        f = _load_fu(s, followup_id)
        if f.status != "Scheduled":
            raise ValidationError(f"This follow-up is {f.status.lower()}; only one still to do can be moved.",
                                  "due_date")
        if not reason.strip():
            raise ValidationError("Say why the follow-up is moved.", "reason")
        problems: list[FieldProblem] = []
        check_date(problems, "due_date", "due date", due_date, day, future_ok=True)
        raise_if(problems)
        details: dict = {"due_date": [f.due_date, due_date], "reason": reason.strip()}
        f.due_date = due_date
        s.flush()
        _refresh_and_note(s, f.case_id, details)
        audit.record(s, reg.actor, "followup_rescheduled", "followup", f.id, details)
        return _fu_info(reg.actor, f, None)


def cancel_followup(reg: Register, followup_id: int, *, reason: str, on: dt.date | None = None,
                    today: dt.date | None = None) -> FollowUpInfo:
    """Cancel one follow-up not yet done (it no longer counts as due or overdue)."""
    reg.actor.require("followup.write")
    day = today_or(today)
    on = on or day
    with reg.write() as s:
        f = _load_fu(s, followup_id)
        if f.status != "Scheduled":
            raise ValidationError(f"This follow-up is already {f.status.lower()}.", "status")
        if not reason.strip():
            raise ValidationError("Say why the follow-up is cancelled.", "reason")
        problems: list[FieldProblem] = []
        check_date(problems, "on", "cancellation date", on, day)
        raise_if(problems)
        f.status, f.cancelled_on = "Cancelled", on
        s.flush()
        details: dict = {"status": ["Scheduled", "Cancelled"], "cancelled_on": [None, on],
                         "reason": reason.strip()}
        details.update(_settle_plan(s, f.plan_id, day))
        _refresh_and_note(s, f.case_id, details)
        audit.record(s, reg.actor, "followup_cancelled", "followup", f.id, details)
        return _fu_info(reg.actor, f, None)


def visit_problems(visit: Visit, today: dt.date) -> list[FieldProblem]:
    """Every rule a follow-up visit meets, as plain sentences by field (pure)."""
    problems: list[FieldProblem] = []
    if visit.done_date is None:
        problems.append(FieldProblem("done_date", "Give the date of the follow-up."))
    check_date(problems, "done_date", "date of the follow-up", visit.done_date, today)
    if visit.mode not in _MODES:
        problems.append(FieldProblem(
            "mode", "Choose how the follow-up was done (home visit, office visit, phone, other)."))
    for field, label, value in (("score_economic", "economic", visit.score_economic),
                                ("score_social", "social", visit.score_social),
                                ("score_psychosocial", "psychosocial", visit.score_psychosocial)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 5):
            problems.append(FieldProblem(field, f"The {label} score is a whole number from 1 to 5."))
    if visit.risk_level not in _RISKS:
        problems.append(FieldProblem("risk_level", "Say how safe the person is: low, medium or high risk."))
    elif visit.risk_level == "High" and not visit.safety_note.strip():
        problems.append(FieldProblem(
            "safety_note", "High risk needs a safety note: what the danger is and what is being done."))
    for field, value in (("safety_note", visit.safety_note), ("outcome", visit.outcome),
                         ("next_action", visit.next_action)):
        if len(value) > MAX_TEXT:
            problems.append(FieldProblem(field, f"Keep this under {MAX_TEXT:,} characters."))
    return problems


_FU = FollowUp.__table__
_SNAPSHOT = ("due_date", "done_date", "cancelled_on", "status", "mode", "done_by", "score_economic",
             "score_social", "score_psychosocial", "risk_level", "safety_note", "outcome", "next_action")
_VISIT_COLUMNS = ("done_date", "status", "mode", "done_by", "score_economic", "score_social",
                  "score_psychosocial", "risk_level", "safety_note", "outcome", "next_action")
# The statements of the hot path, built once (SQLAlchemy then reuses their compiled form).
_LOAD_FOR_VISIT = (
    select(_FU, Case.next_followup_due.label("case_next_due"), Case.high_risk.label("case_high_risk"))
    .join(Case, Case.id == _FU.c.case_id).where(_FU.c.id == bindparam("followup_id"))
)
_WRITE_VISIT = (
    update(_FU).where(_FU.c.id == bindparam("followup_id"))
    .values({c: bindparam(f"new_{c}", type_=_FU.c[c].type) for c in _VISIT_COLUMNS})
)


def _apply_visit(s: Session, actor: Actor, row: dict, visit: Visit, today: dt.date, action: str,
                 flags_before: tuple[dt.date | None, bool] | None = None) -> FollowUpInfo:
    """Write a visit onto the follow-up ``row`` (its column values), audited old → new.

    Core statements rather than the ORM: this is the hot path of a case worker's day.
    """
    raise_if(visit_problems(visit, today))
    done_by = visit.done_by or (row["done_by"] if row["status"] == "Done" else None) or actor.id
    if done_by == actor.id:
        who = actor.username
    else:
        who = s.scalar(select(UserAccount.username).where(UserAccount.id == done_by))
        if who is None:
            raise ValidationError("Choose who made the contact from the office's users.", "done_by")
    values = {
        "done_date": visit.done_date, "status": "Done", "mode": visit.mode, "done_by": done_by,
        "score_economic": visit.score_economic, "score_social": visit.score_social,
        "score_psychosocial": visit.score_psychosocial, "risk_level": visit.risk_level,
        "safety_note": visit.safety_note.strip(), "outcome": visit.outcome.strip(),
        "next_action": visit.next_action.strip(),
    }
    s.connection().execute(_WRITE_VISIT, {"followup_id": row["id"], **{f"new_{c}": v for c, v in values.items()}})
    before = {k: row[k] for k in _SNAPSHOT}
    after = {**before, **values}
    details: dict = audit.changes(before, after)
    details["case_id"] = row["case_id"]
    left = _refresh_and_note(s, row["case_id"], details, flags_before, row["plan_id"])
    details.update(_settle_plan(s, row["plan_id"], today, left))
    audit.record(s, actor, action, "followup", row["id"], details)
    return FollowUpInfo(
        row["id"], row["case_id"], row["plan_id"], after["due_date"], after["done_date"], after["cancelled_on"],
        "Done", visit.mode, who, visit.score_economic, visit.score_social, visit.score_psychosocial,
        visit.risk_level, visible_text(actor, values["safety_note"]), visible_text(actor, values["outcome"]),
        visible_text(actor, values["next_action"]),
    )


def record_followup(reg: Register, followup_id: int, visit: Visit, today: dt.date | None = None) -> FollowUpInfo:
    """Record a follow-up as done (or correct one done), with its scores and risk."""
    reg.actor.require("followup.write")
    day = today_or(today)
    with reg.write() as s:
        # The follow-up and its case's flags in one statement (the flags go into the audit).
        found = s.connection().execute(_LOAD_FOR_VISIT, {"followup_id": followup_id}).mappings().one_or_none()
        if found is None:
            raise NotFound(f"There is no follow-up with id {followup_id}.")
        row = dict(found)
        if row["status"] == "Cancelled":
            cancelled = row["cancelled_on"].isoformat() if row["cancelled_on"] else "?"
            raise ValidationError(
                f"This follow-up was cancelled on {cancelled}; record the contact as an unplanned "
                "follow-up instead.", "status")
        action = "followup_changed" if row["status"] == "Done" else "followup_recorded"
        flags = (row["case_next_due"], bool(row["case_high_risk"]))
        return _apply_visit(s, reg.actor, row, visit, day, action, flags)


def record_unplanned_followup(reg: Register, case_id: int, visit: Visit, *, plan_id: int | None = None,
                              today: dt.date | None = None) -> FollowUpInfo:
    """Record a contact that was not scheduled (due and done the same day)."""
    reg.actor.require("followup.write")
    day = today_or(today)
    with reg.write() as s:
        case = load_case(s, case_id)
        raise_if(visit_problems(visit, day))
        if plan_id is not None and _load_plan(s, plan_id, active=False).case_id != case.id:
            raise ValidationError("That plan belongs to another case.", "plan")
        fid = s.execute(_FU.insert().values(case_id=case.id, plan_id=plan_id, due_date=visit.done_date,
                                            status="Scheduled")).inserted_primary_key[0]
        row = dict(s.execute(select(_FU).where(_FU.c.id == fid)).mappings().one())
        return _apply_visit(s, reg.actor, row, visit, day, "followup_recorded")


# --- reading -------------------------------------------------------------------------------------


def _plan_info(s: Session, actor: Actor, plan: FollowUpPlan) -> PlanInfo:
    fus = s.scalars(select(FollowUp).where(FollowUp.plan_id == plan.id)
                    .order_by(FollowUp.due_date, FollowUp.id)).all()
    names = _usernames(s, (f.done_by for f in fus))
    d = s.get(FollowUpPlanDefinition, plan.definition_id) if plan.definition_id else None
    return PlanInfo(plan.id, plan.case_id, plan.definition_id, d.name if d else None, plan.started_on,
                    visible_text(actor, plan.reason), plan.status, plan.ended_on,
                    tuple(_fu_info(actor, f, names.get(f.done_by or -1)) for f in fus))


def plans_of_case(reg: Register, case_id: int) -> list[PlanInfo]:
    """A case's follow-up plans, oldest first, each with its follow-ups."""
    reg.actor.require("followup.read")
    with reg.read() as s:
        load_case(s, case_id)
        plans = s.scalars(select(FollowUpPlan).where(FollowUpPlan.case_id == case_id)
                          .order_by(FollowUpPlan.started_on, FollowUpPlan.id)).all()
        return [_plan_info(s, reg.actor, p) for p in plans]


def followups_of_case(reg: Register, case_id: int) -> list[FollowUpInfo]:
    """Every follow-up of a case (planned or not), by due date."""
    reg.actor.require("followup.read")
    with reg.read() as s:
        load_case(s, case_id)
        fus = s.scalars(select(FollowUp).where(FollowUp.case_id == case_id)
                        .order_by(FollowUp.due_date, FollowUp.id)).all()
        names = _usernames(s, (f.done_by for f in fus))
        return [_fu_info(reg.actor, f, names.get(f.done_by or -1)) for f in fus]


def get_followup(reg: Register, followup_id: int) -> FollowUpInfo:
    reg.actor.require("followup.read")
    with reg.read() as s:
        f = _load_fu(s, followup_id)
        return _fu_info(reg.actor, f, _usernames(s, [f.done_by]).get(f.done_by or -1))


# The queues, as plain SQL so that the benchmark can run exactly the same statements raw.
# ix_followup_queue (status, due_date) serves the filter, the order and the count.
OVERDUE_SQL = """
SELECT f.id, f.case_id, f.due_date, f.plan_id, c.case_number, c.high_risk, p.given_names, p.family_names
  FROM followup f JOIN case_file c ON c.id = f.case_id JOIN person p ON p.id = c.person_id
 WHERE f.status = 'Scheduled' AND f.due_date < :today
 ORDER BY f.due_date, f.id
 LIMIT :limit OFFSET :offset
"""
OVERDUE_COUNT_SQL = "SELECT count(*) FROM followup WHERE status = 'Scheduled' AND due_date < :today"
DUE_SQL = """
SELECT f.id, f.case_id, f.due_date, f.plan_id, c.case_number, c.high_risk, p.given_names, p.family_names
  FROM followup f JOIN case_file c ON c.id = f.case_id JOIN person p ON p.id = c.person_id
 WHERE f.status = 'Scheduled' AND f.due_date BETWEEN :first AND :last
 ORDER BY f.due_date, f.id
 LIMIT :limit OFFSET :offset
"""
DUE_COUNT_SQL = ("SELECT count(*) FROM followup "
                 "WHERE status = 'Scheduled' AND due_date BETWEEN :first AND :last")
HIGH_RISK_SQL = """
SELECT c.id, c.case_number, c.next_followup_due, p.given_names, p.family_names,
       (SELECT max(f.done_date) FROM followup f
         WHERE f.case_id = c.id AND f.status = 'Done' AND f.risk_level = 'High') AS assessed_on
  FROM case_file c JOIN person p ON p.id = c.person_id
 WHERE c.high_risk = 1 AND c.case_status NOT IN ('Closed', 'ClosedReferred')
 ORDER BY c.next_followup_due IS NULL, c.next_followup_due, c.id
 LIMIT :limit OFFSET :offset
"""
HIGH_RISK_COUNT_SQL = ("SELECT count(*) FROM case_file "
                       "WHERE high_risk = 1 AND case_status NOT IN ('Closed', 'ClosedReferred')")

DUE_WINDOW_DAYS = 7
_STATEMENTS: dict[str, Any] = {}


def _text(sql: str) -> Any:
    """``text(sql)``, built once per statement (its compiled form is then reused)."""
    found = _STATEMENTS.get(sql)
    if found is None:
        found = _STATEMENTS[sql] = text(sql)
    return found


def _queue(reg: Register, sql: str, count_sql: str, params: dict, today: dt.date,
           offset: int, limit: int) -> Page[QueueRow]:
    offset, limit = page_bounds(offset, limit)
    with reg.read() as s:
        conn = s.connection()  # plain rows: no ORM layer on the queues
        total = conn.execute(_text(count_sql), params).scalar_one()
        rows = conn.execute(_text(sql), {**params, "limit": limit, "offset": offset}).all()
    result = []
    for fid, case_id, due, plan_id, number, high, given, family in rows:
        due_d = _date(due)
        assert due_d is not None
        result.append(QueueRow(fid, case_ref(reg.actor, case_id, number, given, family), due_d,
                               max(0, (today - due_d).days), plan_id, bool(high)))
    return Page(tuple(result), int(total), offset, limit)


def overdue(reg: Register, today: dt.date | None = None, offset: int = 0, limit: int = 50) -> Page[QueueRow]:
    """Follow-ups not done by their due date, the oldest first."""
    reg.actor.require("followup.read")
    day = today_or(today)
    return _queue(reg, OVERDUE_SQL, OVERDUE_COUNT_SQL, {"today": day.isoformat()}, day, offset, limit)


def due_this_week(reg: Register, today: dt.date | None = None, offset: int = 0, limit: int = 50,
                  days: int = DUE_WINDOW_DAYS) -> Page[QueueRow]:
    """Follow-ups due from today through the next six days (overdue ones are in ``overdue``)."""
    reg.actor.require("followup.read")
    day = today_or(today)
    last = day + dt.timedelta(days=max(1, days) - 1)
    return _queue(reg, DUE_SQL, DUE_COUNT_SQL, {"first": day.isoformat(), "last": last.isoformat()},
                  day, offset, limit)


def high_risk(reg: Register, offset: int = 0, limit: int = 50) -> Page[HighRiskRow]:
    """Open cases whose latest follow-up found a high risk, the next follow-up due first."""
    reg.actor.require("followup.read")
    offset, limit = page_bounds(offset, limit)
    with reg.read() as s:
        conn = s.connection()
        total = conn.execute(_text(HIGH_RISK_COUNT_SQL)).scalar_one()
        rows = conn.execute(_text(HIGH_RISK_SQL), {"limit": limit, "offset": offset}).all()
    return Page(tuple(
        HighRiskRow(case_ref(reg.actor, cid, number, given, family), _date(assessed), _date(nxt))
        for cid, number, nxt, given, family, assessed in rows
    ), int(total), offset, limit)


def case_flags(reg: Register, case_id: int) -> tuple[dt.date | None, bool]:
    """``(next_followup_due, high_risk)`` of a case, as kept by this module."""
    reg.actor.require("followup.read")
    with reg.read() as s:
        load_case(s, case_id)
        return _flags(s, case_id)

