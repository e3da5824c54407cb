"""The plain data of the case register that crosses layers: what a worker enters about a case
(``CaseInput``) and a case with everything attached (``CaseDetail``), as frozen dataclasses.

Services build these from ORM rows inside their transaction; the window never sees a live row.
For roles without ``case.read_pii`` (the secretariat analyst) every personal or free-text field
is blank: names, aliases, birth date, contacts, identity number, police reference, notes,
reasons, details and descriptions.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.orm import Session

from models import Case, vocab
from tipdesk import counting
from tipdesk.errors import NotFound
from tipdesk.services.persons import PersonDetail

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
#
# A case with everything attached is read in two statements: the case with its person, owner,
# identifying organisation and the office's country; then every attached list as JSON arrays
# built by SQLite (one round trip instead of a dozen ORM queries).

_CASE_SQL = text("""
    SELECT c.*, p.given_names, p.family_names, p.aliases, p.birth_date, p.estimated_age,
           p.age_estimated_on, p.gender, p.citizenships, p.languages, p.identity_number,
           p.phone, p.email, p.address,
           o.display_name AS owner_name, i.name AS org_name, i.org_type AS org_type,
           (SELECT value FROM register_meta WHERE key = 'country') AS office_country
    FROM case_file AS c JOIN person AS p ON p.id = c.person_id
    LEFT JOIN user_account AS o ON o.id = c.owner_id
    LEFT JOIN organisation AS i ON i.id = c.identified_by_org_id
    WHERE c.id = :id
""")

_CHILDREN_SQL = text("""
    SELECT
      (SELECT json_group_array(json_array(t.id, t.effective_date, t.status, t.decided_by, t.note,
                                          t.entered_at, coalesce(u.username, '')))
         FROM (SELECT * FROM trafficking_status_entry WHERE case_id = :id
               ORDER BY effective_date, id) AS t
         LEFT JOIN user_account AS u ON u.id = t.entered_by),
      (SELECT json_group_array(json_array(t.id, t.effective_date, t.status, t.reason,
                                          t.entered_at, coalesce(u.username, '')))
         FROM (SELECT * FROM case_status_entry WHERE case_id = :id
               ORDER BY effective_date, id) AS t
         LEFT JOIN user_account AS u ON u.id = t.entered_by),
      (SELECT json_group_array(json_array(id, kind, country, place, event_date, description))
         FROM (SELECT * FROM route_event WHERE case_id = :id ORDER BY id)),
      (SELECT json_group_array(json_array(t.id, t.screened_on, coalesce(u.username, ''),
                                          json(t.acts), json(t.means), json(t.purposes),
                                          json(t.indicators), json(t.indicator_weights),
                                          t.indicator_score, t.child_at_time, t.suggested_status,
                                          t.reasoning, t.decided_status, t.overridden,
                                          t.decision_note))
         FROM (SELECT * FROM screening WHERE case_id = :id ORDER BY id) AS t
         LEFT JOIN user_account AS u ON u.id = t.screened_by),
      (SELECT json_group_array(json_array(r.id, r.direction, r.partner_org_id,
                                          coalesce(o.name, ''), coalesce(o.org_type, ''),
                                          r.referral_date, r.reason, r.details, r.outcome,
                                          r.outcome_date))
         FROM (SELECT * FROM referral WHERE case_id = :id ORDER BY id) AS r
         LEFT JOIN organisation AS o ON o.id = r.partner_org_id),
      (SELECT json_group_array(json_array(id, stage, stage_date, note))
         FROM (SELECT * FROM justice_stage WHERE case_id = :id ORDER BY stage_date, id)),
      (SELECT json_group_array(json_array(id, case_number))
         FROM (SELECT id, case_number FROM case_file
               WHERE person_id = :person AND id != :id ORDER BY registration_date, id))
""")


def _day(value: str | None) -> dt.date | None:
    return dt.date.fromisoformat(value) if value else None


def _moment(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value)  # stored as ...Z: an aware UTC time


def _strs(value: str | None) -> tuple[str, ...]:
    return tuple(json.loads(value)) if value else ()


def build_case_detail(s: Session, case: Case | int, pii: bool) -> CaseDetail:
    """Everything attached to a case, read in the caller's transaction (after its changes)."""
    s.flush()
    case_id = case if isinstance(case, int) else case.id
    c = s.execute(_CASE_SQL, {"id": case_id}).mappings().first()
    if c is None:
        raise NotFound("That case does not exist (it may be in another register).")
    ts, cs, route, screenings, referrals, stages, others = (
        json.loads(x) for x in s.execute(_CHILDREN_SQL, {"id": case_id, "person": c["person_id"]}).one())
    citizenships = _strs(c["citizenships"])
    birth = _day(c["birth_date"])
    if pii:
        person = PersonDetail(
            c["person_id"], c["given_names"], c["family_names"], _strs(c["aliases"]), birth,
            c["estimated_age"], _day(c["age_estimated_on"]), c["gender"], citizenships,
            _strs(c["languages"]), c["identity_number"], c["phone"], c["email"], c["address"], True)
    else:
        on = dt.date.today()
        age = counting.age_at(on, birth, c["estimated_age"], _day(c["age_estimated_on"]))
        person = PersonDetail(c["person_id"], "", "", (), None, age, on if age is not None else None,
                              c["gender"], citizenships, _strs(c["languages"]), "", "", "", "", False)
    if c["self_referral"]:
        identified_name, identified_by = vocab.SELF_REFERRAL, vocab.SELF_REFERRAL
    elif c["org_type"]:
        identified_name, identified_by = c["org_name"], c["org_type"]
    else:
        identified_name, identified_by = "", vocab.UNKNOWN
    derived = counting.derive_scope(c["office_country"] or "", citizenships[0] if citizenships else None,
                                    [e[2] for e in route])
    hide = (lambda v: v or "") if pii else (lambda v: "")
    return CaseDetail(
        id=case_id, case_number=c["case_number"], version=c["version"], person=person,
        registration_date=_day(c["registration_date"]),
        identified_by_org_id=c["identified_by_org_id"], identified_by_name=identified_name,
        identified_by=identified_by, self_referral=bool(c["self_referral"]),
        age_when_trafficked=c["age_when_trafficked"], exploitation=_strs(c["exploitation"]),
        labour_industry=c["labour_industry"], sex_exploitation=_strs(c["sex_exploitation"]),
        methods_of_control=_strs(c["methods_of_control"]),
        recruitment_methods=_strs(c["recruitment_methods"]),
        relationship_to_trafficker=c["relationship_to_trafficker"],
        route=tuple(RouteEventInfo(i, kind, country, place or "", _day(day), hide(text_))
                    for i, kind, country, place, day, text_ in route),
        scope=c["scope"], scope_overridden=bool(c["scope_overridden"]), derived_scope=derived,
        consent_given=bool(c["consent_given"]), consent_services=bool(c["consent_services"]),
        consent_data_sharing=bool(c["consent_data_sharing"]),
        consent_referral=bool(c["consent_referral"]), consent_date=_day(c["consent_date"]),
        owner_id=c["owner_id"], owner_name=c["owner_name"] or "",
        police_reference=hide(c["police_reference"]), victim_as_witness=bool(c["victim_as_witness"]),
        notes=hide(c["notes"]), trafficking_status=c["trafficking_status"],
        case_status=c["case_status"], sex=c["sex"], age_at_registration=c["age_at_registration"],
        age_group=c["age_group"], next_followup_due=_day(c["next_followup_due"]),
        high_risk=bool(c["high_risk"]),
        status_history=tuple(TraffickingStatusInfo(i, _day(d), st, by, hide(note), _moment(at), who)
                             for i, d, st, by, note, at, who in ts),
        case_status_history=tuple(CaseStatusInfo(i, _day(d), st, hide(reason), _moment(at), who)
                                  for i, d, st, reason, at, who in cs),
        screenings=tuple(
            ScreeningInfo(i, case_id, _day(on_), who, tuple(acts), tuple(means), tuple(purposes),
                          tuple(indicators), dict(weights), score,
                          None if child is None else bool(child), suggested, reasoning, decided,
                          bool(overridden), hide(note))
            for (i, on_, who, acts, means, purposes, indicators, weights, score, child, suggested,
                 reasoning, decided, overridden, note) in screenings),
        referrals=tuple(
            ReferralInfo(i, case_id, direction, org_id, org_name, org_type, _day(day), reason,
                         hide(details), outcome, _day(outcome_day))
            for (i, direction, org_id, org_name, org_type, day, reason, details, outcome,
                 outcome_day) in referrals),
        justice_stages=tuple(JusticeStageInfo(i, stage, _day(day), hide(note))
                             for i, stage, day, note in stages),
        other_cases=tuple((i, n) for i, n in others),
        created_at=_moment(c["created_at"]), updated_at=_moment(c["updated_at"]),
    )
