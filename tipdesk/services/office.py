"""Office settings kept inside the register: office details and the lock timeout.

Anyone signed in may read them (the window needs the lock timeout before anything else);
changing them needs ``settings.manage`` and is audited (field, old → new).
"""

from __future__ import annotations

from dataclasses import dataclass

from models import vocab
from models.countries import is_country
from tipdesk.errors import FieldProblem, ValidationError
from tipdesk.security import audit
from tipdesk.vault.register import Register, get_meta, own_office, set_meta

META_LOCK_TIMEOUT = "lock_timeout_minutes"
DEFAULT_LOCK_MINUTES = 10
MIN_LOCK_MINUTES = 1
MAX_LOCK_MINUTES = 240


@dataclass(frozen=True)
class OfficeInfo:
    """This office, as recorded in the register."""

    code: str
    name: str
    org_type: str
    country: str

    @property
    def org_type_label(self) -> str:
        return vocab.label(vocab.ORG_TYPES, self.org_type)


def office_info(reg: Register) -> OfficeInfo:
    """The office this register belongs to."""
    with reg.read() as s:
        office = own_office(s)
        return OfficeInfo(office.code or "", office.name, office.org_type, office.country or "")


def update_office(reg: Register, name: str, org_type: str, country: str) -> OfficeInfo:
    """Change the office's name, HTCDS organisation type or country (the code stays: case
    numbers carry it)."""
    reg.actor.require("settings.manage")
    name = name.strip()
    country = country.strip().upper()
    problems = []
    if not name:
        problems.append(FieldProblem("name", "The office needs a name."))
    elif len(name) > 200:
        problems.append(FieldProblem("name", "The office name can have at most 200 characters."))
    if org_type not in vocab.names(vocab.ORG_TYPES):
        problems.append(FieldProblem("org_type", "Choose the kind of organisation from the list."))
    if not is_country(country):
        problems.append(FieldProblem("country", "Choose the country from the list."))
    if problems:
        raise ValidationError(problems)
    with reg.write() as s:
        office = own_office(s)
        before = {"name": office.name, "org_type": office.org_type, "country": office.country}
        after = {"name": name, "org_type": org_type, "country": country}
        diff = audit.changes(before, after)
        if diff:
            office.name, office.org_type, office.country = name, org_type, country
            audit.record(s, reg.actor, "office_changed", "organisation", office.id, diff)
        return OfficeInfo(office.code or "", office.name, office.org_type, office.country or "")


def lock_timeout_minutes(reg: Register) -> int:
    """Idle minutes before the window locks (default 10)."""
    with reg.read() as s:
        text = get_meta(s, META_LOCK_TIMEOUT)
    try:
        value = int(text) if text is not None else DEFAULT_LOCK_MINUTES
    except ValueError:
        return DEFAULT_LOCK_MINUTES
    return min(max(value, MIN_LOCK_MINUTES), MAX_LOCK_MINUTES)


def set_lock_timeout(reg: Register, minutes: int) -> None:
    """Set the idle minutes before the window locks, for every user of this register."""
    reg.actor.require("settings.manage")
    if not MIN_LOCK_MINUTES <= int(minutes) <= MAX_LOCK_MINUTES:
        raise ValidationError(
            f"The lock timeout must be between {MIN_LOCK_MINUTES} and {MAX_LOCK_MINUTES} minutes.",
            "lock_timeout",
        )
    with reg.write() as s:
        old = get_meta(s, META_LOCK_TIMEOUT)
        old_value = int(old) if old and old.isdigit() else DEFAULT_LOCK_MINUTES
        if old_value == int(minutes) and old is not None:
            return
        set_meta(s, META_LOCK_TIMEOUT, str(int(minutes)))
        audit.record(s, reg.actor, "setting_changed", "register", None,
                     {"lock_timeout_minutes": [old_value, int(minutes)]})
