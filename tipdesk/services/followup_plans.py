"""Follow-up plan definitions: the schedules an office uses for reintegration monitoring.

A definition is a list of offsets in months from the day a plan starts (the default: monthly
for 3 months, then quarterly up to 12 months, then six-monthly up to 36 months). A plan copies
its due dates when it starts, so changing a definition later never moves existing follow-ups.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from models import FollowUpPlanDefinition
from tipdesk.errors import FieldProblem, NotFound, ValidationError
from tipdesk.security import audit

if TYPE_CHECKING:  # the vault imports this module to create the default plan
    from tipdesk.vault.register import Register

DEFAULT_PLAN_NAME = "Standard (36 months)"
#: Monthly for 3 months, then quarterly up to 12 months, then six-monthly up to 36 months.
DEFAULT_PLAN_MONTHS = (1, 2, 3, 6, 9, 12, 18, 24, 30, 36)
MAX_PLAN_MONTHS = 240  # twenty years


def ensure_default_plan(session: Session) -> FollowUpPlanDefinition:
    """The office's default plan, created with the standard schedule when there is none."""
    plan = session.scalars(
        select(FollowUpPlanDefinition).where(FollowUpPlanDefinition.is_default.is_(True))
    ).first()
    if plan is None:
        plan = FollowUpPlanDefinition(
            name=DEFAULT_PLAN_NAME, months=[str(m) for m in DEFAULT_PLAN_MONTHS], is_default=True
        )
        session.add(plan)
        session.flush()
    return plan


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day ``months`` later; the 31st becomes the month's last day where needed."""
    years, index = divmod(day.month - 1 + months, 12)
    year, month = day.year + years, index + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def due_dates(started_on: dt.date, months: Iterable[int]) -> list[dt.date]:
    """The due dates of a plan that starts on ``started_on``."""
    return [add_months(started_on, m) for m in months]


@dataclass(frozen=True)
class PlanDefinitionInfo:
    id: int
    name: str
    months: tuple[int, ...]
    is_default: bool
    active: bool

    def describe(self) -> str:
        """E.g. 'after 1, 2, 3, 6, 9, 12, 18, 24, 30 and 36 months'."""
        parts = [str(m) for m in self.months]
        shown = ", ".join(parts[:-1]) + f" and {parts[-1]}" if len(parts) > 1 else parts[0]
        return f"after {shown} month" + ("" if self.months == (1,) else "s")


def months_of(definition: FollowUpPlanDefinition) -> tuple[int, ...]:
    return tuple(int(m) for m in definition.months)


def _info(d: FollowUpPlanDefinition) -> PlanDefinitionInfo:
    return PlanDefinitionInfo(d.id, d.name, months_of(d), d.is_default, d.active)


def _check_months(months: Sequence[int]) -> list[FieldProblem]:
    problems = []
    if not months:
        problems.append(FieldProblem("months", "A plan needs at least one follow-up."))
    elif any(isinstance(m, bool) or not isinstance(m, int) or not 1 <= m <= MAX_PLAN_MONTHS for m in months):
        problems.append(FieldProblem(
            "months", f"Each follow-up is a whole number of months after the start, from 1 to {MAX_PLAN_MONTHS}."))
    elif any(b <= a for a, b in zip(months, months[1:], strict=False)):
        problems.append(FieldProblem("months", "List the months in increasing order, each once."))
    return problems


def _check_name(s: Session, name: str, definition_id: int | None) -> list[FieldProblem]:
    if not name.strip():
        return [FieldProblem("name", "The plan needs a name.")]
    if len(name.strip()) > 100:
        return [FieldProblem("name", "A plan name has at most 100 characters.")]
    clash = s.scalar(select(FollowUpPlanDefinition.id).where(FollowUpPlanDefinition.name == name.strip()))
    if clash is not None and clash != definition_id:
        return [FieldProblem("name", f"There is already a plan called '{name.strip()}'.")]
    return []


def list_plan_definitions(reg: Register, include_inactive: bool = False) -> list[PlanDefinitionInfo]:
    """The office's plan definitions, the default first, then by name."""
    reg.actor.require("followup.read")
    with reg.read() as s:
        query = select(FollowUpPlanDefinition).order_by(
            FollowUpPlanDefinition.is_default.desc(), FollowUpPlanDefinition.name)
        if not include_inactive:
            query = query.where(FollowUpPlanDefinition.active.is_(True))
        return [_info(d) for d in s.scalars(query)]


def _make_default(s: Session, d: FollowUpPlanDefinition) -> None:
    s.execute(update(FollowUpPlanDefinition).where(FollowUpPlanDefinition.id != d.id)
              .values(is_default=False))
    d.is_default = True


def create_plan_definition(reg: Register, name: str, months: Sequence[int],
                           make_default: bool = False) -> PlanDefinitionInfo:
    """Define a follow-up schedule for the office (months after the plan's start)."""
    reg.actor.require("followup.write")
    months = list(months)
    with reg.write() as s:
        problems = _check_name(s, name, None) + _check_months(months)
        if problems:
            raise ValidationError(problems)
        d = FollowUpPlanDefinition(name=name.strip(), months=[str(m) for m in months],
                                   is_default=False, active=True)
        s.add(d)
        s.flush()
        if make_default:
            _make_default(s, d)
        audit.record(s, reg.actor, "followup_plan_definition_added", "followup_plan_definition", d.id,
                     {"name": d.name, "months": months, "is_default": d.is_default})
        return _info(d)


def update_plan_definition(
    reg: Register, definition_id: int, *, name: str | None = None, months: Sequence[int] | None = None,
    active: bool | None = None, make_default: bool = False,
) -> PlanDefinitionInfo:
    """Rename, reschedule, retire or make default; plans already started keep their dates."""
    reg.actor.require("followup.write")
    with reg.write() as s:
        d = s.get(FollowUpPlanDefinition, definition_id)
        if d is None:
            raise NotFound(f"There is no follow-up plan definition with id {definition_id}.")
        before = {"name": d.name, "months": list(months_of(d)), "active": d.active, "is_default": d.is_default}
        problems = []
        if name is not None:
            problems += _check_name(s, name, d.id)
        if months is not None:
            problems += _check_months(list(months))
        if active is False and (d.is_default and not make_default):
            problems.append(FieldProblem(
                "active", "The default plan cannot be retired: make another plan the default first."))
        if make_default and active is False:
            problems.append(FieldProblem("active", "A retired plan cannot be the default."))
        if problems:
            raise ValidationError(problems)
        if name is not None:
            d.name = name.strip()
        if months is not None:
            d.months = [str(m) for m in months]
        if active is not None:
            d.active = active
        if make_default:
            _make_default(s, d)
        s.flush()
        after = {"name": d.name, "months": list(months_of(d)), "active": d.active, "is_default": d.is_default}
        changed = audit.changes(before, after)
        if changed:
            audit.record(s, reg.actor, "followup_plan_definition_changed", "followup_plan_definition",
                         d.id, changed)
        return _info(d)
