"""The plain data of the case register that crosses layers: what a worker enters about a case
(``CaseInput``) and a case with everything attached (``CaseDetail``), as frozen dataclasses.

Services build these from ORM rows inside their transaction; the window never sees a live row.
For roles without ``case.read_pii`` (the secretariat analyst) every personal or free-text field
is blank: names, aliases, birth date, contacts, identity number, police reference, notes,
reasons, details and descriptions.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import (
    Case,
    CaseStatusEntry,
    JusticeStage,
    Organisation,
    Referral,
    RouteEvent,
    Screening,
    TraffickingStatusEntry,
    UserAccount,
    vocab,
)
from tipdesk import counting
from tipdesk.services.common import office_country
from tipdesk.services.persons import PersonDetail, detail_of

# --- inputs --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RouteEventInput:
    """A recruitment, transit or exploitation event (``id`` of an existing one when editing)."""

    kind: str  # HTCDS hte_Type: Recruitment / Transit / Exploitation
    country: str | None = None  # ISO 3166-1 alpha-3
    place: str = ""
    event_date: dt.date | None = None
    description: str = ""
    id: int | None = None


@dataclass(frozen=True)
class CaseInput:
    """What a worker enters about a case. Statuses change through their own dated functions;
    screenings, referrals and justice stages through theirs."""

    registration_date: dt.date
    identified_by_org_id: int | None = None  # partner (or this office) that identified the person
    self_referral: bool = False  # the person came forward themselves
    age_when_trafficked: int | None = None
    exploitation: tuple[str, ...] = ()  # HTCDS vic_TypeOfExploitation
    labour_industry: str | None = None  # HTCDS vic_ForcedLabourIndustry (forced/child labour)
    sex_exploitation: tuple[str, ...] = ()  # HTCDS vic_TypeOfSexExploitation
    methods_of_control: tuple[str, ...] = ()
    recruitment_methods: tuple[str, ...] = ()
    relationship_to_trafficker: str | None = None
    route: tuple[RouteEventInput, ...] = ()
    scope_override: str | None = None  # None: derived from route and citizenship
    consent_given: bool = False
    consent_services: bool = False
    consent_data_sharing: bool = False
    consent_referral: bool = False
    consent_date: dt.date | None = None
    owner_id: int | None = None
    police_reference: str = ""
    victim_as_witness: bool = False
    notes: str = ""


@dataclass(frozen=True)
class ReferralInput:
    direction: str  # "In" (referred to this office) or "Out" (referred by this office)
    partner_org_id: int | None
    referral_date: dt.date
    reason: str | None = None  # HTCDS cas_ReasonForIncomingReferral / ...OutgoingReferral
    details: str = ""
    outcome: str = "Pending"  # Pending / Accepted / Declined
    outcome_date: dt.date | None = None  # when accepted or declined


@dataclass(frozen=True)
class JusticeStageInput:
    stage: str  # a name of vocab.JUSTICE_STAGES (the rows of T8_Justice)
    stage_date: dt.date
    note: str = ""


# --- what services return ------------------------------------------------------------------------


@dataclass(frozen=True)
class RouteEventInfo:
    id: int
    kind: str
    country: str | None
    place: str
    event_date: dt.date | None
    description: str  # blank for roles that may not read notes

    def to_input(self) -> RouteEventInput:
        return RouteEventInput(self.kind, self.country, self.place, self.event_date,
                               self.description, self.id)


@dataclass(frozen=True)
class TraffickingStatusInfo:
    id: int
    effective_date: dt.date
    status: str
    decided_by: str | None
    note: str  # blank for roles that may not read notes
    entered_at: dt.datetime
    entered_by: str  # user name, "" when unknown

    @property
    def label(self) -> str:
        return vocab.label(vocab.TRAFFICKING_STATUSES, self.status)


@dataclass(frozen=True)
class CaseStatusInfo:
    id: int
    effective_date: dt.date
    status: str
    reason: str  # blank for roles that may not read notes
    entered_at: dt.datetime
    entered_by: str

    @property
    def label(self) -> str:
        return vocab.label(vocab.CASE_STATUSES, self.status)


@dataclass(frozen=True)
class ScreeningInfo:
    id: int
    case_id: int
    screened_on: dt.date
    screened_by: str
    acts: tuple[str, ...]
    means: tuple[str, ...]
    purposes: tuple[str, ...]
    indicators: tuple[str, ...]
    indicator_weights: dict[str, int]
    indicator_score: int
    child_at_time: bool | None
    suggested_status: str
    reasoning: str
    decided_status: str
    overridden: bool
    decision_note: str  # blank for roles that may not read notes


@dataclass(frozen=True)
class ReferralInfo:
    id: int
    case_id: int
    direction: str
    partner_org_id: int | None
    partner_name: str
    partner_type: str  # HTCDS org_Type, "" when unknown
    referral_date: dt.date
    reason: str | None
    details: str  # blank for roles that may not read notes
    outcome: str
    outcome_date: dt.date | None

    @property
    def direction_label(self) -> str:
        return vocab.label(vocab.REFERRAL_DIRECTIONS, self.direction)

    def to_input(self) -> ReferralInput:
        return ReferralInput(self.direction, self.partner_org_id, self.referral_date, self.reason,
                             self.details, self.outcome, self.outcome_date)


@dataclass(frozen=True)
class JusticeStageInfo:
    id: int
    stage: str
    stage_date: dt.date
    note: str  # blank for roles that may not read notes

    def to_input(self) -> JusticeStageInput:
        return JusticeStageInput(self.stage, self.stage_date, self.note)


@dataclass(frozen=True)
class CaseDetail:
    """A case with everything attached, as of the moment it was read."""

    id: int
    case_number: str
    version: int  # pass back as ``expected_version`` when saving
    person: PersonDetail
    registration_date: dt.date
    identified_by_org_id: int | None
    identified_by_name: str  # the organisation's name, "Self-referral" or ""
    identified_by: str  # HTCDS org_Type of the identifying organisation, "Self-referral" or "Unknown"
    self_referral: bool
    age_when_trafficked: int | None
    exploitation: tuple[str, ...]
    labour_industry: str | None
    sex_exploitation: tuple[str, ...]
    methods_of_control: tuple[str, ...]
    recruitment_methods: tuple[str, ...]
    relationship_to_trafficker: str | None
    route: tuple[RouteEventInfo, ...]
    scope: str
    scope_overridden: bool
    derived_scope: str  # what tipdesk derives from route and citizenship
    consent_given: bool
    consent_services: bool
    consent_data_sharing: bool
    consent_referral: bool
    consent_date: dt.date | None
    owner_id: int | None
    owner_name: str
    police_reference: str  # blank for roles that may not read personal data
    victim_as_witness: bool
    notes: str  # blank for roles that may not read notes
    # derived (the histories are the truth)
    trafficking_status: str
    case_status: str
    sex: str
    age_at_registration: int | None
    age_group: str
    next_followup_due: dt.date | None
    high_risk: bool
    status_history: tuple[TraffickingStatusInfo, ...]
    case_status_history: tuple[CaseStatusInfo, ...]
    screenings: tuple[ScreeningInfo, ...]
    referrals: tuple[ReferralInfo, ...]
    justice_stages: tuple[JusticeStageInfo, ...]
    other_cases: tuple[tuple[int, str], ...]  # the same person's other cases: (id, case number)
    created_at: dt.datetime
    updated_at: dt.datetime

    @property
    def exploitation_categories(self) -> tuple[str, ...]:
        found = counting.exploitation_categories(self.exploitation)
        return tuple(c for c in vocab.EXPLOITATION_CATEGORIES if c in found)

    @property
    def status_decided_by(self) -> str | None:
        return self.status_history[-1].decided_by if self.status_history else None

    @property
    def closure_reason(self) -> str:
        last = self.case_status_history[-1] if self.case_status_history else None
        return last.reason if last and last.status in counting.CLOSED_STATUSES else ""

    def to_input(self) -> CaseInput:
        """The editable fields, ready to change and save with ``cases.update_case``."""
        return CaseInput(
            registration_date=self.registration_date,
            identified_by_org_id=self.identified_by_org_id, self_referral=self.self_referral,
            age_when_trafficked=self.age_when_trafficked, exploitation=self.exploitation,
            labour_industry=self.labour_industry, sex_exploitation=self.sex_exploitation,
            methods_of_control=self.methods_of_control,
            recruitment_methods=self.recruitment_methods,
            relationship_to_trafficker=self.relationship_to_trafficker,
            route=tuple(e.to_input() for e in self.route),
            scope_override=self.scope if self.scope_overridden else None,
            consent_given=self.consent_given, consent_services=self.consent_services,
            consent_data_sharing=self.consent_data_sharing,
            consent_referral=self.consent_referral, consent_date=self.consent_date,
            owner_id=self.owner_id, police_reference=self.police_reference,
            victim_as_witness=self.victim_as_witness, notes=self.notes,
        )


# --- builders ------------------------------------------------------------------------------------


def _usernames(s: Session, ids: set[int | None]) -> dict[int, str]:
    wanted = [i for i in ids if i is not None]
    if not wanted:
        return {}
    return dict(s.execute(select(UserAccount.id, UserAccount.username)
                          .where(UserAccount.id.in_(wanted))).all())


def route_info(row: RouteEvent, pii: bool) -> RouteEventInfo:
    return RouteEventInfo(row.id, row.kind, row.country, row.place, row.event_date,
                          row.description if pii else "")


def screening_info(row: Screening, pii: bool, users: dict[int, str]) -> ScreeningInfo:
    return ScreeningInfo(
        row.id, row.case_id, row.screened_on, users.get(row.screened_by or 0, ""),
        tuple(row.acts), tuple(row.means), tuple(row.purposes), tuple(row.indicators),
        dict(row.indicator_weights), row.indicator_score, row.child_at_time,
        row.suggested_status, row.reasoning, row.decided_status, row.overridden,
        row.decision_note if pii else "",
    )


def referral_info(row: Referral, pii: bool, orgs: dict[int, Organisation]) -> ReferralInfo:
    org = orgs.get(row.partner_org_id or 0)
    return ReferralInfo(
        row.id, row.case_id, row.direction, row.partner_org_id, org.name if org else "",
        org.org_type if org else "", row.referral_date, row.reason, row.details if pii else "",
        row.outcome, row.outcome_date,
    )


def justice_info(row: JusticeStage, pii: bool) -> JusticeStageInfo:
    return JusticeStageInfo(row.id, row.stage, row.stage_date, row.note if pii else "")


def build_case_detail(s: Session, case: Case, pii: bool) -> CaseDetail:
    """Everything attached to ``case``, read in the caller's transaction."""
    s.flush()
    cid = case.id
    person = case.person
    ts_rows = s.scalars(select(TraffickingStatusEntry).where(TraffickingStatusEntry.case_id == cid)
                        .order_by(TraffickingStatusEntry.effective_date, TraffickingStatusEntry.id)).all()
    cs_rows = s.scalars(select(CaseStatusEntry).where(CaseStatusEntry.case_id == cid)
                        .order_by(CaseStatusEntry.effective_date, CaseStatusEntry.id)).all()
    route = s.scalars(select(RouteEvent).where(RouteEvent.case_id == cid).order_by(RouteEvent.id)).all()
    screenings = s.scalars(select(Screening).where(Screening.case_id == cid).order_by(Screening.id)).all()
    referrals = s.scalars(select(Referral).where(Referral.case_id == cid).order_by(Referral.id)).all()
    stages = s.scalars(select(JusticeStage).where(JusticeStage.case_id == cid)
                       .order_by(JusticeStage.stage_date, JusticeStage.id)).all()
    others = s.execute(select(Case.id, Case.case_number).where(
        Case.person_id == person.id, Case.id != cid).order_by(Case.registration_date, Case.id)).all()
    org_ids = {r.partner_org_id for r in referrals} | {case.identified_by_org_id}
    orgs = {o.id: o for o in s.scalars(select(Organisation).where(
        Organisation.id.in_([i for i in org_ids if i is not None])))} if any(org_ids) else {}
    users = _usernames(s, {case.owner_id} | {r.entered_by for r in ts_rows}
                       | {r.entered_by for r in cs_rows} | {r.screened_by for r in screenings})
    owner_name = ""
    if case.owner_id is not None:
        owner = s.get(UserAccount, case.owner_id)
        owner_name = owner.display_name if owner else ""
    if case.self_referral:
        identified_name, identified_by = vocab.SELF_REFERRAL, vocab.SELF_REFERRAL
    elif case.identified_by_org_id in orgs:
        org = orgs[case.identified_by_org_id]
        identified_name, identified_by = org.name, org.org_type
    else:
        identified_name, identified_by = "", vocab.UNKNOWN
    first_citizenship = person.citizenships[0] if person.citizenships else None
    derived = counting.derive_scope(office_country(s), first_citizenship, [e.country for e in route])
    return CaseDetail(
        id=cid, case_number=case.case_number, version=case.version,
        person=detail_of(person, pii), registration_date=case.registration_date,
        identified_by_org_id=case.identified_by_org_id, identified_by_name=identified_name,
        identified_by=identified_by, self_referral=case.self_referral,
        age_when_trafficked=case.age_when_trafficked, exploitation=tuple(case.exploitation),
        labour_industry=case.labour_industry, sex_exploitation=tuple(case.sex_exploitation),
        methods_of_control=tuple(case.methods_of_control),
        recruitment_methods=tuple(case.recruitment_methods),
        relationship_to_trafficker=case.relationship_to_trafficker,
        route=tuple(route_info(r, pii) for r in route), scope=case.scope,
        scope_overridden=case.scope_overridden, derived_scope=derived,
        consent_given=case.consent_given, consent_services=case.consent_services,
        consent_data_sharing=case.consent_data_sharing, consent_referral=case.consent_referral,
        consent_date=case.consent_date, owner_id=case.owner_id, owner_name=owner_name,
        police_reference=case.police_reference if pii else "",
        victim_as_witness=case.victim_as_witness, notes=case.notes if pii else "",
        trafficking_status=case.trafficking_status, case_status=case.case_status, sex=case.sex,
        age_at_registration=case.age_at_registration, age_group=case.age_group,
        next_followup_due=case.next_followup_due, high_risk=case.high_risk,
        status_history=tuple(
            TraffickingStatusInfo(r.id, r.effective_date, r.status, r.decided_by,
                                  r.note if pii else "", r.entered_at, users.get(r.entered_by or 0, ""))
            for r in ts_rows),
        case_status_history=tuple(
            CaseStatusInfo(r.id, r.effective_date, r.status, r.reason if pii else "", r.entered_at,
                           users.get(r.entered_by or 0, ""))
            for r in cs_rows),
        screenings=tuple(screening_info(r, pii, users) for r in screenings),
        referrals=tuple(referral_info(r, pii, orgs) for r in referrals),
        justice_stages=tuple(justice_info(r, pii) for r in stages),
        other_cases=tuple((i, n) for i, n in others),
        created_at=case.created_at, updated_at=case.updated_at,
    )
