"""Referrals to and from partner organisations: direction, partner, reason (HTCDS), date,
details, and whether the referral was accepted or declined, and when. A referral entered by
mistake can be removed (the audit trail keeps what it held)."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

from sqlalchemy.orm import Session

from models import Organisation, Referral, utcnow, vocab
from tipdesk.errors import NotFound
from tipdesk.security import audit
from tipdesk.services.common import (
    Problems,
    can_see_pii,
    check_choice,
    check_date,
    check_length,
    check_version,
    clean_text,
    load_case,
    snapshot,
    today,
)
from tipdesk.services.records import (  # noqa: F401  (re-exported)
    CaseDetail,
    ReferralInfo,
    ReferralInput,
    build_case_detail,
)
from tipdesk.vault.register import Register

_FIELDS = ("direction", "partner_org_id", "reason", "referral_date", "details", "outcome",
           "outcome_date")


def validate_referral(data: ReferralInput, *, born: dt.date | None, on: dt.date,
                      partner: tuple[bool] | None) -> Problems:
    """Every problem with a (cleaned) referral. ``partner``: ``(is_self,)`` of the chosen
    organisation, None when it does not exist."""
    p = Problems()
    check_choice(p, "direction", data.direction, vocab.REFERRAL_DIRECTIONS, "direction",
                 required=True)
    if data.partner_org_id is None:
        p.add("partner_org_id", "Choose the partner organisation.")
    elif partner is None:
        p.add("partner_org_id", "That partner organisation does not exist.")
    elif partner[0]:
        p.add("partner_org_id", "A referral goes to or comes from another organisation, "
                                "not this office.")
    check_date(p, "referral_date", data.referral_date, "referral date", on=on, born=born,
               required=True)
    check_choice(p, "reason", data.reason, vocab.REFERRAL_REASONS, "referral reason")
    check_length(p, "details", data.details, 4000, "details")
    check_choice(p, "outcome", data.outcome, vocab.REFERRAL_OUTCOMES, "outcome", required=True)
    if data.outcome == "Pending":
        if data.outcome_date is not None:
            p.add("outcome_date", "A pending referral has no outcome date yet.")
    elif data.outcome in ("Accepted", "Declined"):
        check_date(p, "outcome_date", data.outcome_date,
                   f"date the referral was {data.outcome.lower()}", on=on, required=True,
                   not_before=(data.referral_date, "referral date") if data.referral_date else None)
    return p


def _validate(s: Session, data: ReferralInput, born: dt.date | None, on: dt.date) -> Problems:
    org = s.get(Organisation, data.partner_org_id) if data.partner_org_id is not None else None
    return validate_referral(data, born=born, on=on, partner=(org.is_self,) if org else None)


def _cleaned(data: ReferralInput) -> ReferralInput:
    return replace(data, details=clean_text(data.details), reason=data.reason or None,
                   outcome=data.outcome or "Pending")


def add_referral(reg: Register, case_id: int, data: ReferralInput,
                 expected_version: int | None = None) -> CaseDetail:
    """Record a referral of a case (audited)."""
    reg.actor.require("case.write")
    on = today()
    data = _cleaned(data)
    with reg.write() as s:
        case = load_case(s, case_id)
        check_version(case, expected_version)
        _validate(s, data, case.person.birth_date, on).raise_if_any()
        row = Referral(case_id=case.id, **{f: getattr(data, f) for f in _FIELDS})
        s.add(row)
        s.flush()
        case.updated_at = utcnow()
        audit.record(s, reg.actor, "referral_added", "case", case.id,
                     {"referral_id": row.id, **snapshot(row, _FIELDS)})
        return build_case_detail(s, case, can_see_pii(reg.actor))


def update_referral(reg: Register, referral_id: int, data: ReferralInput) -> CaseDetail:
    """Correct a referral or record its outcome (audited old → new)."""
    reg.actor.require("case.write")
    data = _cleaned(data)
    with reg.write() as s:
        row = _load(s, referral_id)
        return _change(s, reg, row, data)


def record_outcome(reg: Register, referral_id: int, outcome: str,
                   outcome_date: dt.date | None) -> CaseDetail:
    """Mark a referral accepted or declined on a date (or pending again, without a date)."""
    reg.actor.require("case.write")
    with reg.write() as s:
        row = _load(s, referral_id)
        data = ReferralInput(row.direction, row.partner_org_id, row.referral_date, row.reason,
                             row.details, outcome, outcome_date)
        return _change(s, reg, row, _cleaned(data))


def remove_referral(reg: Register, referral_id: int) -> CaseDetail:
    """Remove a referral entered by mistake (audited with what it held)."""
    reg.actor.require("case.write")
    with reg.write() as s:
        row = _load(s, referral_id)
        case = load_case(s, row.case_id)
        details = {"referral_id": row.id, **snapshot(row, _FIELDS)}
        s.delete(row)
        case.updated_at = utcnow()
        audit.record(s, reg.actor, "referral_removed", "case", case.id, details)
        return build_case_detail(s, case, can_see_pii(reg.actor))


def _load(s: Session, referral_id: int) -> Referral:
    row = s.get(Referral, referral_id)
    if row is None:
        raise NotFound("That referral does not exist.")
    return row


def _change(s: Session, reg: Register, row: Referral, data: ReferralInput) -> CaseDetail:
    case = load_case(s, row.case_id)
    _validate(s, data, case.person.birth_date, today()).raise_if_any()
    before = snapshot(row, _FIELDS)
    for f in _FIELDS:
        setattr(row, f, getattr(data, f))
    diff = audit.changes(before, snapshot(row, _FIELDS))
    if diff:
        case.updated_at = utcnow()
        audit.record(s, reg.actor, "referral_changed", "case", case.id,
                     {"referral_id": row.id, **diff})
    return build_case_detail(s, case, can_see_pii(reg.actor))
