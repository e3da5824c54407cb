"""Roles, permissions and the acting user. Permissions are enforced here, in the core."""

from __future__ import annotations

from dataclasses import dataclass

from models import ROLE_LABELS, ROLES
from tipdesk.errors import PermissionDenied, UsageError

_ALL = frozenset(ROLES)
_STAFF = frozenset({"admin", "caseworker", "police"})

#: permission → roles that hold it
PERMISSIONS: dict[str, frozenset[str]] = {
    "case.read": _ALL,  # de-identified fields (case number, sex, age group, statuses…)
    "case.read_pii": _STAFF | {"auditor"},  # names, contacts, identity numbers, notes
    "case.write": _STAFF,
    "justice.write": _STAFF,
    "shelter.read": _ALL,
    "shelter.write": frozenset({"admin", "caseworker"}),
    "service.write": frozenset({"admin", "caseworker"}),
    "followup.read": _ALL,
    "followup.write": frozenset({"admin", "caseworker"}),
    "dashboard.view": _ALL,
    "return.export": frozenset({"admin", "caseworker", "police", "analyst"}),
    "return.import": frozenset({"admin", "analyst"}),
    "audit.read": frozenset({"admin", "auditor"}),
    "audit.erase": frozenset({"admin"}),
    "user.manage": frozenset({"admin"}),
    "settings.manage": frozenset({"admin"}),
    "backup.run": _STAFF,
    "backup.restore": frozenset({"admin"}),
}

_PLAIN = {
    "case.read": "see cases",
    "case.read_pii": "see names and contact details",
    "case.write": "change cases",
    "justice.write": "record justice stages",
    "shelter.read": "see shelter placements",
    "shelter.write": "change shelter placements",
    "service.write": "record services",
    "followup.read": "see follow-ups",
    "followup.write": "record follow-ups",
    "dashboard.view": "see the dashboard",
    "return.export": "prepare returns",
    "return.import": "import returns",
    "audit.read": "read the audit trail",
    "audit.erase": "erase audit details",
    "user.manage": "manage users",
    "settings.manage": "change settings",
    "backup.run": "make backups",
    "backup.restore": "restore backups",
}


@dataclass(frozen=True)
class Actor:
    """The user on whose behalf the core acts (``id`` None for the system itself)."""

    id: int | None
    username: str
    display_name: str
    role: str

    @property
    def role_label(self) -> str:
        return ROLE_LABELS.get(self.role, self.role)

    def can(self, permission: str) -> bool:
        return self.role in PERMISSIONS[permission]

    def require(self, permission: str) -> None:
        if not self.can(permission):
            raise PermissionDenied(
                f"Your role ({self.role_label}) may not {_PLAIN.get(permission, permission)}."
            )


SYSTEM = Actor(id=None, username="system", display_name="tipdesk", role="admin")


def role_of(name: str) -> str:
    """Validate a role name given by a person."""
    key = name.strip().lower()
    if key not in ROLES:
        raise UsageError(f"Unknown role '{name}'. Roles: {', '.join(ROLES)}.")
    return key
