"""Partner organisations (HTCDS ``org_Type``): who identified a person, who refers and receives
referrals, who provides services. This office itself is the organisation with ``is_self``."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from sqlalchemy import func, select

from models import Organisation, vocab
from models.countries import is_country
from tipdesk.errors import NotFound
from tipdesk.security import audit
from tipdesk.services.common import Problems, check_choice, check_length, clean_text, snapshot
from tipdesk.vault.register import Register

_CODE = re.compile(r"^[A-Z0-9]{2,10}$")
_FIELDS = ("code", "name", "org_type", "country", "active", "notes")


@dataclass(frozen=True)
class OrganisationInput:
    name: str
    org_type: str  # HTCDS org_Type, e.g. NGO, LawEnforcement
    country: str | None = None  # ISO 3166-1 alpha-3
    code: str | None = None  # optional short code, 2–10 of A–Z 0–9
    active: bool = True
    notes: str = ""

    def cleaned(self) -> OrganisationInput:
        code = clean_text(self.code).upper() or None
        country = clean_text(self.country).upper() or None
        return replace(self, name=clean_text(self.name), code=code, country=country,
                       notes=clean_text(self.notes))


@dataclass(frozen=True)
class OrganisationInfo:
    id: int
    code: str | None
    name: str
    org_type: str
    country: str | None
    is_self: bool
    active: bool
    notes: str

    @property
    def org_type_label(self) -> str:
        return vocab.label(vocab.ORG_TYPES, self.org_type)

    def to_input(self) -> OrganisationInput:
        return OrganisationInput(self.name, self.org_type, self.country, self.code, self.active,
                                 self.notes)


def info_of(org: Organisation) -> OrganisationInfo:
    return OrganisationInfo(org.id, org.code, org.name, org.org_type, org.country, org.is_self,
                            org.active, org.notes)


def _validate(reg_session, data: OrganisationInput, org_id: int | None) -> Problems:
    p = Problems()
    if not data.name:
        p.add("name", "Enter the organisation's name.")
    check_length(p, "name", data.name, 200, "name")
    check_choice(p, "org_type", data.org_type, vocab.ORG_TYPES, "organisation type", required=True)
    if data.country and not is_country(data.country):
        p.add("country", f"'{data.country}' is not a country code (ISO 3166-1 alpha-3, e.g. JAM).")
    if data.code is not None:
        if not _CODE.match(data.code):
            p.add("code", "A code is 2 to 10 capital letters or digits (A–Z, 0–9).")
        else:
            clash = reg_session.scalars(select(Organisation.id).where(
                Organisation.code == data.code, Organisation.id != (org_id or 0))).first()
            if clash is not None:
                p.add("code", f"Another organisation already has the code {data.code}.")
    if data.name:
        same = reg_session.scalars(select(Organisation.id).where(
            func.lower(Organisation.name) == data.name.lower(),
            Organisation.id != (org_id or 0))).first()
        if same is not None:
            p.add("name", "There is already an organisation with this name.")
    check_length(p, "notes", data.notes, 4000, "notes")
    return p


def list_organisations(
    reg: Register, *, include_inactive: bool = False, include_self: bool = False,
) -> list[OrganisationInfo]:
    """Partner organisations by name (this office too when ``include_self``)."""
    reg.actor.require("case.read")
    with reg.read() as s:
        q = select(Organisation).order_by(func.lower(Organisation.name))
        if not include_inactive:
            q = q.where(Organisation.active.is_(True))
        if not include_self:
            q = q.where(Organisation.is_self.is_(False))
        return [info_of(o) for o in s.scalars(q)]


def get_organisation(reg: Register, org_id: int) -> OrganisationInfo:
    reg.actor.require("case.read")
    with reg.read() as s:
        org = s.get(Organisation, org_id)
        if org is None:
            raise NotFound("That organisation does not exist.")
        return info_of(org)


def add_organisation(reg: Register, data: OrganisationInput) -> OrganisationInfo:
    """Add a partner organisation (audited)."""
    reg.actor.require("case.write")
    data = data.cleaned()
    with reg.write() as s:
        _validate(s, data, None).raise_if_any()
        org = Organisation(code=data.code, name=data.name, org_type=data.org_type,
                           country=data.country, is_self=False, active=data.active, notes=data.notes)
        s.add(org)
        s.flush()
        audit.record(s, reg.actor, "organisation_added", "organisation", org.id,
                     snapshot(org, _FIELDS))
        return info_of(org)


def update_organisation(reg: Register, org_id: int, data: OrganisationInput) -> OrganisationInfo:
    """Change a partner organisation (this office's own record is changed by an administrator
    only); audited with old → new values."""
    reg.actor.require("case.write")
    data = data.cleaned()
    with reg.write() as s:
        org = s.get(Organisation, org_id)
        if org is None:
            raise NotFound("That organisation does not exist.")
        if org.is_self:
            reg.actor.require("settings.manage")
        _validate(s, data, org.id).raise_if_any()
        before = snapshot(org, _FIELDS)
        for name in _FIELDS:
            setattr(org, name, getattr(data, name))
        diff = audit.changes(before, snapshot(org, _FIELDS))
        if diff:
            audit.record(s, reg.actor, "organisation_changed", "organisation", org.id, diff)
        return info_of(org)
