"""Follow-up plan definitions: the schedules an office uses for reintegration monitoring."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import FollowUpPlanDefinition

DEFAULT_PLAN_NAME = "Standard (36 months)"
#: Monthly for 3 months, then quarterly up to 12 months, then six-monthly up to 36 months.
DEFAULT_PLAN_MONTHS = (1, 2, 3, 6, 9, 12, 18, 24, 30, 36)


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
