"""Compute a return from a register's source tables: persons, cases, the two status histories,
services, follow-ups and plans, justice stages, stays and facilities.

Nothing here reads the derived columns that the case services keep for lists (``case_status``,
``sex``, ``age_group``…): the histories and persons are the truth. The queries are a handful of
bulk SELECTs (no per-case ORM loading), so that a year on a 100,000-case register takes seconds.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from exports.returns import keys, spec, tables
from exports.returns.spec import FacilityRow, LineRow, ReturnMeta, StayRow, Table
from models import (
    Case,
    CaseStatusEntry,
    Facility,
    FollowUp,
    FollowUpPlan,
    JusticeStage,
    Organisation,
    Person,
    Service,
    Stay,
    TraffickingStatusEntry,
)
from tipdesk import counting
from tipdesk.counting import Period
from tipdesk.errors import Cancelled, FieldProblem, ValidationError

Progress = Callable[[int, str], None]  # (percent 0–100, what is happening)
CancelCheck = Callable[[], bool]


@dataclass(frozen=True)
class OfficeInfo:
    code: str
    name: str
    org_type: str
    country: str


@dataclass(frozen=True)
class PreparedReturn:
    """Everything a return holds, computed and checked, before it is written."""

    meta: ReturnMeta  # digest empty: the writer fills it
    line_list: tuple[LineRow, ...]
    stays: tuple[StayRow, ...]
    facilities: tuple[FacilityRow, ...]
    tables: dict[str, Table]
    preparer: str

    @property
    def period(self) -> Period:
        return counting.parse_period(self.meta.period)

    def headline(self) -> list[tuple[str, spec.Value]]:
        return tables.headline(self.tables, self.meta.line_count)


def _check(cancel: CancelCheck | None) -> None:
    if cancel is not None and cancel():
        raise Cancelled("Preparing the return was cancelled; nothing was written.")


def _sorted_unique(values: list[str] | None) -> tuple[str, ...]:
    return tuple(sorted(set(values or ())))


def _unique_in_order(values: list[str] | None) -> tuple[str, ...]:
    return tuple(dict.fromkeys(values or ()))


def compute_return(
    session: Session,
    period: Period,
    office: OfficeInfo,
    *,
    office_secret: bytes,
    linkage_key: bytes | None,
    generated_at: dt.datetime,
    preparer: str,
    software_version: str,
    progress: Progress | None = None,
    cancel: CancelCheck | None = None,
) -> PreparedReturn:
    """The line list, stays, facilities, tables and metadata of ``period``.

    Raises ``ValidationError`` (one problem per case, by case number) when the register holds a
    value the standard does not allow, so that the office can correct it first.
    """
    S, E = period.start, period.end
    report = progress or (lambda _p, _w: None)
    problems: list[FieldProblem] = []

    report(2, "Reading case status histories")
    case_history: dict[int, list[tuple[dt.date, int, str]]] = defaultdict(list)
    for case_id, effective, entry_id, status in session.execute(
        select(CaseStatusEntry.case_id, CaseStatusEntry.effective_date, CaseStatusEntry.id, CaseStatusEntry.status)
        .join(Case, Case.id == CaseStatusEntry.case_id)
        .where(Case.registration_date <= E, CaseStatusEntry.effective_date <= E)
    ):
        case_history[case_id].append((effective, entry_id, status))
    _check(cancel)

    report(10, "Finding the cases in scope")
    case_rows = session.execute(
        select(Case.id, Case.case_number, Case.registration_date, Case.identified_by_org_id,
               Case.self_referral, Case.exploitation, Case.labour_industry, Case.sex_exploitation,
               Case.methods_of_control, Case.relationship_to_trafficker, Case.scope,
               Case.consent_data_sharing, Person.gender, Person.birth_date, Person.estimated_age,
               Person.age_estimated_on, Person.citizenships, Person.id)
        .join(Person, Person.id == Case.person_id)
        .where(Case.registration_date <= E)
    ).all()
    in_scope = {}
    for row in case_rows:
        case_id, registered = row[0], row[2]
        history = case_history.get(case_id) or [(registered, 0, "Active")]
        if counting.case_in_scope(registered, history, period):
            in_scope[case_id] = row
    _check(cancel)

    report(20, "Reading trafficking status histories")
    status_history: dict[int, list[tuple[dt.date, int, tuple[str, str | None]]]] = defaultdict(list)
    for case_id, effective, entry_id, status, decided_by in session.execute(
        select(TraffickingStatusEntry.case_id, TraffickingStatusEntry.effective_date,
               TraffickingStatusEntry.id, TraffickingStatusEntry.status, TraffickingStatusEntry.decided_by)
        .join(Case, Case.id == TraffickingStatusEntry.case_id)
        .where(Case.registration_date <= E, TraffickingStatusEntry.effective_date <= E)
    ):
        if case_id in in_scope:
            status_history[case_id].append((effective, entry_id, (status, decided_by)))
    _check(cancel)

    report(30, "Reading services, follow-ups and justice stages")
    services: dict[int, set[str]] = defaultdict(set)
    for case_id, service_type, start, end, status in session.execute(
        select(Service.case_id, Service.service_type, Service.actual_start, Service.actual_end, Service.status)
        .where(Service.actual_start.is_not(None), Service.actual_start <= E,
               or_(Service.actual_end.is_(None), Service.actual_end >= S))
    ):
        if case_id in in_scope and counting.service_received_in(start, end, status, period):
            services[case_id].add(service_type)
    _check(cancel)

    due: dict[int, int] = defaultdict(int)
    done: dict[int, int] = defaultdict(int)
    overdue: dict[int, int] = defaultdict(int)
    for case_id, due_date, done_date, cancelled_on, status in session.execute(
        select(FollowUp.case_id, FollowUp.due_date, FollowUp.done_date, FollowUp.cancelled_on, FollowUp.status)
        .where(or_(
            FollowUp.due_date.between(S, E),
            FollowUp.done_date.between(S, E),
            and_(FollowUp.due_date < E, or_(FollowUp.done_date.is_(None), FollowUp.done_date > E)),
        ))
    ):
        if case_id not in in_scope:
            continue
        if counting.followup_due_in(due_date, cancelled_on, status, period):
            due[case_id] += 1
        if counting.followup_done_in(done_date, period):
            done[case_id] += 1
        if counting.followup_overdue_at(due_date, done_date, cancelled_on, status, E):
            overdue[case_id] += 1
    _check(cancel)

    active_plan: set[int] = set()
    for case_id, started, ended, status in session.execute(
        select(FollowUpPlan.case_id, FollowUpPlan.started_on, FollowUpPlan.ended_on, FollowUpPlan.status)
        .where(FollowUpPlan.started_on <= E)
    ):
        if case_id in in_scope and counting.plan_active_at(started, ended, status, E):
            active_plan.add(case_id)

    justice: dict[int, set[str]] = defaultdict(set)
    for case_id, stage in session.execute(
        select(JusticeStage.case_id, JusticeStage.stage).where(JusticeStage.stage_date.between(S, E))
    ):
        if case_id in in_scope:
            justice[case_id].add(stage)

    org_types = dict(session.execute(select(Organisation.id, Organisation.org_type)).all())
    _check(cancel)

    names: dict[int, tuple[str, str]] = {}
    if linkage_key:
        consenting = [pid for r in in_scope.values() if r[11] for pid in (r[17],)]
        for chunk_start in range(0, len(consenting), 500):
            chunk = consenting[chunk_start:chunk_start + 500]
            for pid, family, given in session.execute(
                select(Person.id, Person.family_names, Person.given_names).where(Person.id.in_(chunk))
            ):
                names[pid] = (family, given)

    report(45, "Building the line list")
    line_rows: list[LineRow] = []
    key_of: dict[int, str] = {}
    picklists = spec.PICKLISTS
    for case_id, row in in_scope.items():
        (_, number, registered, org_id, self_referral, exploitation, labour, sex_expl, control,
         relationship, scope, consent, gender, birth, est_age, est_on, citizenships, pid) = row
        here: list[str] = []
        entry = counting.entry_on(status_history.get(case_id, ()), E)
        if entry is None:
            here.append("has no trafficking status on or before the period end")
            entry = ("", None)
        status, decided_by = entry
        history = case_history.get(case_id) or [(registered, 0, "Active")]
        case_status = counting.status_on(history, E) or "Active"
        age = counting.age_at(registered, birth, est_age, est_on)
        values = {
            "status": (status,) if status else (), "status_decided_by": (decided_by,) if decided_by else (),
            "citizenship": tuple(citizenships or ()), "scope": (scope,),
            "exploitation": tuple(exploitation or ()), "labour_industry": (labour,) if labour else (),
            "sex_exploitation": tuple(sex_expl or ()), "methods_of_control": tuple(control or ()),
            "relationship_to_trafficker": (relationship,) if relationship else (),
            "services_in_period": tuple(services.get(case_id, ())),
            "justice_in_period": tuple(justice.get(case_id, ())), "case_status": (case_status,),
        }
        for column, found in values.items():
            bad = [v for v in found if v not in picklists[column]]
            if bad:
                here.append(f"{column.replace('_', ' ')} {', '.join(repr(b) for b in bad)} is not a value "
                            "TIP-RETURN/1 allows")
        org_type = org_types.get(org_id) if org_id is not None else None
        ident = counting.identified_by(org_type, bool(self_referral))
        if ident not in spec.IDENTIFIED_BY:
            here.append(f"the identifying organisation has the type {ident!r}, which is not an HTCDS org_Type")
        if age is not None and not 0 <= age <= 150:
            here.append(f"the age at registration comes out as {age}: check the birth date or estimated age")
        if here:
            problems.extend(FieldProblem(number, f"Case {number}: {p}.") for p in here)
            continue
        key = keys.case_key(office_secret, case_id)
        key_of[case_id] = key
        family, given = names.get(pid, ("", ""))
        line_rows.append(LineRow(
            case_key=key,
            person_key=keys.person_key(linkage_key, bool(consent), family, given, birth),
            registered=registered,
            identified_in_period=registered in period,
            status=status,
            status_decided_by=decided_by or "",
            sex=counting.sex_of_gender(gender),
            age_group=counting.age_group(age),
            age=age,
            citizenship=_unique_in_order(citizenships),
            scope=scope,
            exploitation=_sorted_unique(exploitation),
            labour_industry=labour or "",
            sex_exploitation=_sorted_unique(sex_expl),
            methods_of_control=_sorted_unique(control),
            relationship_to_trafficker=relationship or "",
            identified_by=ident,
            services_in_period=tuple(sorted(services.get(case_id, ()))),
            followups_due=due.get(case_id, 0),
            followups_done=done.get(case_id, 0),
            followups_overdue=overdue.get(case_id, 0),
            active_followup=case_id in active_plan,
            justice_in_period=tuple(sorted(justice.get(case_id, ()))),
            case_status=case_status,
            closed=counting.closure_date(history, period),
        ))
    names.clear()
    if problems:
        raise ValidationError(problems)
    line_rows.sort(key=lambda r: r.case_key)
    _check(cancel)

    report(60, "Shelter stays and facilities")
    cutoff = generated_at.astimezone(dt.UTC).date()
    stay_rows: list[StayRow] = []
    stay_facilities: set[str] = set()
    for case_id, code, admitted, discharged, reason in session.execute(
        select(Stay.case_id, Facility.code, Stay.admitted, Stay.discharged, Stay.discharge_reason)
        .join(Facility, Facility.id == Stay.facility_id)
        .where(Stay.admitted <= E, or_(Stay.discharged.is_(None), Stay.discharged >= S))
    ):
        if discharged is not None and discharged > cutoff:
            # Still placed on the day the return is made: a discharge date in the future is a plan.
            discharged, reason = None, None
        if reason and reason not in spec.PICKLISTS["discharge_reason"]:
            raise ValidationError([FieldProblem("stay", f"A stay in {code} has the discharge reason "
                                                f"{reason!r}, which TIP-RETURN/1 does not allow.")])
        key = key_of.get(case_id) or keys.case_key(office_secret, case_id)
        stay_rows.append(StayRow(key, clean_code(code), admitted, discharged, reason or ""))
        stay_facilities.add(clean_code(code))
    stay_rows.sort(key=StayRow.sort_key)

    facility_rows = []
    for code, name, capacity, child_friendly, active, opened, closed in session.execute(
        select(Facility.code, Facility.name, Facility.capacity, Facility.child_friendly,
               Facility.active, Facility.opened_on, Facility.closed_on)
    ):
        code = clean_code(code)
        active_in_period = (opened is None or opened <= E) and (closed is None or closed >= S) and (
            active or closed is not None)
        if active_in_period or code in stay_facilities:
            facility_rows.append(FacilityRow(code, name, int(capacity or 0), bool(child_friendly)))
    facility_rows.sort(key=lambda f: f.facility)
    _check(cancel)

    report(70, "Computing the tables")
    table_map = tables.all_tables(line_rows, stay_rows, facility_rows, period)
    meta = ReturnMeta(
        org_code=office.code, org_name=office.name, org_type=office.org_type, country=office.country,
        period=period.code, period_start=S, period_end=E, generated_at=generated_at.replace(microsecond=0),
        software=spec.SOFTWARE, software_version=software_version, suppressed=False,
        linkage_key_id=keys.linkage_key_id(linkage_key), line_count=len(line_rows),
        stay_count=len(stay_rows),
    )
    return PreparedReturn(meta, tuple(line_rows), tuple(stay_rows), tuple(facility_rows), table_map, preparer)


def clean_code(code: str) -> str:
    """Facility codes as written: no control characters, no surrounding spaces."""
    from exports.returns.cells import clean_text

    return clean_text(code).strip()
