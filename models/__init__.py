"""SQLAlchemy 2 ORM classes and controlled vocabularies of a tipdesk register. No I/O, no Qt."""

from models.base import Base, JsonDict, StrList, UtcDateTime, utcnow
from models.cases import (
    Case,
    CaseStatusEntry,
    JusticeStage,
    Person,
    Referral,
    RouteEvent,
    Screening,
    TraffickingStatusEntry,
)
from models.register import (
    ROLE_LABELS,
    ROLES,
    AuditEvent,
    CaseSequence,
    Draft,
    Organisation,
    RegisterMeta,
    UserAccount,
)
from models.shelter import Bed, Facility, Stay, WaitingListEntry
from models.support import FollowUp, FollowUpPlan, FollowUpPlanDefinition, Service

__all__ = [
    "ROLES", "ROLE_LABELS", "AuditEvent", "Base", "Bed", "Case", "CaseSequence",
    "CaseStatusEntry", "Draft", "Facility", "FollowUp", "FollowUpPlan", "FollowUpPlanDefinition",
    "JsonDict", "JusticeStage", "Organisation", "Person", "Referral", "RegisterMeta", "RouteEvent",
    "Screening", "Service", "Stay", "StrList", "TraffickingStatusEntry", "UserAccount",
    "UtcDateTime", "WaitingListEntry", "utcnow",
]
