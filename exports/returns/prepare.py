"""Compute a return from a register's source tables: persons, cases, the two status histories,
services, follow-ups and plans, justice stages, stays and facilities.

Nothing here reads the derived columns that the case services keep for lists (``case_status``,
``sex``, ``age_group``…): the histories and persons are the truth. The queries are a handful of
bulk SELECTs (no per-case ORM loading), so that a year on a 100,000-case register takes seconds.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
from collections import defaultdict
from collections.abc import Callable, Container, Iterable, Mapping
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from exports.returns import keys, spec, tables
from exports.returns.cells import clean_text
from exports.returns.spec import FacilityRow, LineRow, ReturnMeta, StayRow, Table
from models import Facility
from tipdesk import counting
from tipdesk.counting import Period
from tipdesk.errors import Cancelled, FieldProblem, ValidationError

Progress = Callable[[int, str], None]  # (percent 0–100, what is happening)

_P = spec.PICKLISTS
_ALLOWED_STATUS, _ALLOWED_DECIDED, _ALLOWED_COUNTRY = _P["status"], _P["status_decided_by"], _P["citizenship"]
_ALLOWED_SCOPE, _ALLOWED_EXPL, _ALLOWED_LABOUR = _P["scope"], _P["exploitation"], _P["labour_industry"]
_ALLOWED_SEXEXPL, _ALLOWED_CONTROL = _P["sex_exploitation"], _P["methods_of_control"]
_ALLOWED_REL, _ALLOWED_SERVICE = _P["relationship_to_trafficker"], _P["services_in_period"]
_ALLOWED_JUSTICE, _ALLOWED_CASE = _P["justice_in_period"], _P["case_status"]
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


@functools.lru_cache(maxsize=8192)
def _sorted_unique(values: tuple[str, ...]) -> tuple[str, ...]:
    """Each value once, sorted (the values come from ``_json_list``: few distinct tuples, cached)."""
    return tuple(sorted(set(values)))


@functools.lru_cache(maxsize=8192)
def _unique_in_order(values: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(values))


def raw_sql(session: Session) -> Callable[..., list[tuple]]:
    """Run a statement on the session's own sqlcipher3 connection (same transaction), rows back.

    Counting 100,000 cases through the ORM's per-value type processing (dates, JSON lists)
    would cost more than everything else: the returns and the dashboard read plain tuples.
    """
    raw = session.connection().connection.dbapi_connection
    assert raw is not None

    def sql(statement: str, params: tuple = ()) -> list[tuple]:
        cursor = raw.cursor()
        try:
            return cursor.execute(statement, params).fetchall()
        finally:
            cursor.close()

    return sql


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
    s_text, e_text = S.isoformat(), E.isoformat()
    report = progress or (lambda _p, _w: None)
    day = dt.date.fromisoformat
    # Raw SQL with ISO date strings: on 100,000 cases the ORM's per-value type processing
    # (dates, JSON lists) would cost more than everything else; values are converted here only
    # for the cases that end up in the return.
    sql = raw_sql(session)

    report(2, "Finding the cases in scope")
    # A superset of the cases in scope, found in SQL (registered in the period; open on the eve
    # of the period by their last entry; any case-status entry in the period; no entries at all),
    # so that Python applies the exact rules (tipdesk.counting) to a few rows, not the register.
    sql("DROP TABLE IF EXISTS temp.tipreturn_candidates")
    sql("CREATE TEMP TABLE tipreturn_candidates (case_id INTEGER PRIMARY KEY)")
    sql(
        "INSERT OR IGNORE INTO temp.tipreturn_candidates (case_id) "
        "SELECT id FROM case_file WHERE registration_date BETWEEN ?1 AND ?2 "
        "UNION SELECT case_id FROM case_status_entry WHERE effective_date BETWEEN ?1 AND ?2 "
        # open on the eve: the last entry before the period, found through ix_cse_case_date
        # (a probe per case is cheaper than numbering every older entry of the register)
        "UNION SELECT c.id FROM case_file c WHERE c.registration_date < ?1 AND (SELECT l.status "
        "  FROM case_status_entry l WHERE l.case_id = c.id AND l.effective_date < ?1 "
        "  ORDER BY l.effective_date DESC, l.id DESC LIMIT 1) IN ('Active', 'FollowUp') "
        "UNION SELECT id FROM case_file WHERE registration_date <= ?2 AND NOT EXISTS "
        "  (SELECT 1 FROM case_status_entry e WHERE e.case_id = case_file.id AND e.effective_date <= ?2)",
        (s_text, e_text),
    )
    try:
        case_history: dict[int, list[tuple[dt.date, int, str]]] = defaultdict(list)
        for case_id, effective, entry_id, status in sql(
            "SELECT e.case_id, e.effective_date, e.id, e.status FROM case_status_entry e "
            "JOIN temp.tipreturn_candidates k ON k.case_id = e.case_id WHERE e.effective_date <= ?",
            (e_text,),
        ):
            case_history[case_id].append((day(effective), entry_id, status))
        _check(cancel)

        report(10, "Reading the cases in scope")
        in_scope: dict[int, tuple] = {}
        eve = period.day_before_start
        for row in sql(
            f"SELECT {CASE_COLUMNS_SQL} "
            "FROM temp.tipreturn_candidates k JOIN case_file c ON c.id = k.case_id "
            "JOIN person p ON p.id = c.person_id WHERE c.registration_date <= ?",
            (e_text,),
        ):
            registered_text = row[2]
            if s_text <= registered_text:  # registered within the period: in scope
                in_scope[row[0]] = row
                continue
            history = case_history.get(row[0]) or [(day(registered_text), 0, "Active")]
            if counting.status_on(history, eve) in counting.OPEN_CASE_STATUSES or \
                    counting.case_status_changed_in(history, period):
                in_scope[row[0]] = row
        _check(cancel)

        report(20, "Reading trafficking status histories")
        status_history: dict[int, list[tuple[dt.date, int, tuple[str, str | None]]]] = defaultdict(list)
        for case_id, effective, entry_id, status, decided_by in sql(
            "SELECT e.case_id, e.effective_date, e.id, e.status, e.decided_by FROM trafficking_status_entry e "
            "JOIN temp.tipreturn_candidates k ON k.case_id = e.case_id WHERE e.effective_date <= ?",
            (e_text,),
        ):
            if case_id in in_scope:
                status_history[case_id].append((day(effective), entry_id, (status, decided_by)))
        _check(cancel)
        report(30, "Reading services, follow-ups and justice stages")
        services, due, done, overdue, active_plan, justice = _activity(sql, in_scope, period, cancel)
    finally:
        sql("DROP TABLE IF EXISTS temp.tipreturn_candidates")
    org_types = dict(sql("SELECT id, org_type FROM organisation"))
    _check(cancel)
    return _assemble(sql, in_scope, case_history, status_history, services, due, done, overdue, active_plan,
                     justice, org_types, session, period, office, office_secret=office_secret,
                     linkage_key=linkage_key, generated_at=generated_at, preparer=preparer,
                     software_version=software_version, report=report, cancel=cancel)


FollowUpRow = tuple[int, str, "str | None", "str | None", str]  # case id, due, done, cancelled (ISO), status


def count_followups(rows: Iterable[FollowUpRow], in_scope: Container[int], period: Period
                    ) -> tuple[dict[int, int], dict[int, int], dict[int, int]]:
    """Per case in scope: follow-ups due in the period, done in it, overdue at its end
    (LineList ``followups_due``, ``followups_done``, ``followups_overdue``), from raw rows."""
    E = period.end
    day = dt.date.fromisoformat
    due: dict[int, int] = defaultdict(int)
    done: dict[int, int] = defaultdict(int)
    overdue: dict[int, int] = defaultdict(int)
    # The verdicts depend on the four values only, and a year's follow-ups share most of them.
    verdicts: dict[tuple, tuple[bool, bool, bool]] = {}
    for case_id, due_text, done_text, cancelled_text, status in rows:
        if case_id not in in_scope:
            continue
        key = (due_text, done_text, cancelled_text, status)
        verdict = verdicts.get(key)
        if verdict is None:
            due_date = day(due_text)
            done_date = day(done_text) if done_text else None
            cancelled_on = day(cancelled_text) if cancelled_text else None
            verdict = verdicts[key] = (
                counting.followup_due_in(due_date, cancelled_on, status, period),
                counting.followup_done_in(done_date, period),
                counting.followup_overdue_at(due_date, done_date, cancelled_on, status, E),
            )
        if verdict[0]:
            due[case_id] += 1
        if verdict[1]:
            done[case_id] += 1
        if verdict[2]:
            overdue[case_id] += 1
    return due, done, overdue


def _activity(sql, in_scope: dict, period: Period, cancel: CancelCheck | None):
    """Services received, follow-ups due/done/overdue, active plans and justice stages per case."""
    S, E = period.start, period.end
    s_text, e_text = S.isoformat(), E.isoformat()
    day = dt.date.fromisoformat
    join = "JOIN temp.tipreturn_candidates k ON k.case_id = t.case_id"
    services: dict[int, set[str]] = defaultdict(set)
    for case_id, service_type, start, end, status in sql(
        f"SELECT t.case_id, service_type, actual_start, actual_end, status FROM service t {join} "
        "WHERE actual_start IS NOT NULL AND actual_start <= ? AND (actual_end IS NULL OR actual_end >= ?)",
        (e_text, s_text),
    ):
        if case_id in in_scope and counting.service_received_in(
                day(start), day(end) if end else None, status, period):
            services[case_id].add(service_type)
    _check(cancel)

    due, done, overdue = count_followups(sql(
        f"SELECT t.case_id, due_date, done_date, cancelled_on, status FROM followup t {join} "
        "WHERE (due_date BETWEEN ? AND ? OR done_date BETWEEN ? AND ? "
        "OR (due_date < ? AND (done_date IS NULL OR done_date > ?)))",
        (s_text, e_text, s_text, e_text, e_text, e_text),
    ), in_scope, period)
    _check(cancel)

    active_plan: set[int] = set()
    for case_id, started, ended, status in sql(
        f"SELECT t.case_id, started_on, ended_on, status FROM followup_plan t {join} WHERE started_on <= ?",
        (e_text,)
    ):
        if case_id in in_scope and counting.plan_active_at(day(started), day(ended) if ended else None, status, E):
            active_plan.add(case_id)

    justice: dict[int, set[str]] = defaultdict(set)
    for case_id, stage in sql(
        f"SELECT t.case_id, stage FROM justice_stage t {join} WHERE stage_date BETWEEN ? AND ?",
        (s_text, e_text)
    ):
        if case_id in in_scope:
            justice[case_id].add(stage)

    return services, due, done, overdue, active_plan, justice


def _assemble(sql, in_scope, case_history, status_history, services, due, done, overdue, active_plan, justice,
              org_types, session: Session, period: Period, office: OfficeInfo, *, office_secret: bytes,
              linkage_key: bytes | None, generated_at: dt.datetime, preparer: str, software_version: str,
              report: Progress, cancel: CancelCheck | None) -> PreparedReturn:
    """Line rows (checked against the standard's picklists), stays, facilities, tables, meta."""
    S, E = period.start, period.end
    problems: list[FieldProblem] = []
    names: dict[int, tuple[str, str]] = {}
    if linkage_key:
        consenting = [r[17] for r in in_scope.values() if r[11]]
        for chunk_start in range(0, len(consenting), 500):
            chunk = consenting[chunk_start:chunk_start + 500]
            marks = ",".join("?" * len(chunk))
            for pid, family, given in sql(
                f"SELECT id, family_names, given_names FROM person WHERE id IN ({marks})", tuple(chunk)
            ):
                names[pid] = (family, given)

    report(45, "Building the line list")
    line_rows: list[LineRow] = []
    key_of: dict[int, str] = {}
    activity = Activity(services, due, done, overdue, active_plan, justice)

    def person_key(consent: bool, pid: int, birth: dt.date | None) -> str:
        family, given = names.get(pid, ("", ""))
        return keys.person_key(linkage_key, consent, family, given, birth)

    for case_id, row in in_scope.items():
        key = keys.case_key(office_secret, case_id)
        built, here = build_line_row(row, status_history.get(case_id, ()), case_history.get(case_id),
                                     period, org_types, activity, case_key=key, person_key=person_key)
        if built is None:
            problems.extend(FieldProblem(row[1], f"Case {row[1]}: {p}.") for p in here)
            continue
        key_of[case_id] = key
        line_rows.append(built)
    names.clear()
    if problems:
        raise ValidationError(problems)
    line_rows.sort(key=lambda r: r.case_key)
    _check(cancel)

    report(60, "Shelter stays and facilities")  # few rows: the ORM's typed values are fine here
    cutoff = generated_at.astimezone(dt.UTC).date()
    stay_rows = read_stays(session, period, cutoff,
                           lambda case_id: key_of.get(case_id) or keys.case_key(office_secret, case_id))
    facility_rows = read_facilities(session, period, {r.facility for r in stay_rows})
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


# Stays overlapping S–E (A ≤ E and (no D or D ≥ S)), read as plain rows: the ORM's typed values
# cost more than the rest on a register with tens of thousands of stays.
_STAYS_SQL = (
    "SELECT s.case_id, f.code, s.admitted, s.discharged, s.discharge_reason FROM stay s "
    "JOIN facility f ON f.id = s.facility_id WHERE s.admitted <= ? AND (s.discharged IS NULL OR s.discharged >= ?)"
)


def read_stays(session: Session, period: Period, cutoff: dt.date, case_key: Callable[[int], str]) -> list[StayRow]:
    """The ``Stays`` rows of a period (stays overlapping it), sorted; a discharge after
    ``cutoff`` (the day the return is made) is a plan, so that stay is still open."""
    raw = session.connection().connection.dbapi_connection
    assert raw is not None
    cursor = raw.cursor()
    try:
        found = cursor.execute(_STAYS_SQL, (period.end.isoformat(), period.start.isoformat())).fetchall()
    finally:
        cursor.close()
    day = functools.lru_cache(maxsize=None)(dt.date.fromisoformat)
    allowed = spec.PICKLISTS["discharge_reason"]
    stay_rows: list[StayRow] = []
    for case_id, code, admitted_text, discharged_text, reason in found:
        discharged = day(discharged_text) if discharged_text else None
        if discharged is not None and discharged > cutoff:
            # Still placed on the day the return is made: a discharge date in the future is a plan.
            discharged, reason = None, None
        if reason and reason not in allowed:
            raise ValidationError([FieldProblem("stay", f"A stay in {code} has the discharge reason "
                                                f"{reason!r}, which TIP-RETURN/1 does not allow.")])
        stay_rows.append(StayRow(case_key(case_id), clean_code(code), day(admitted_text), discharged, reason or ""))
    stay_rows.sort(key=StayRow.sort_key)
    return stay_rows


def read_facilities(session: Session, period: Period, with_stays: Container[str]) -> list[FacilityRow]:
    """The ``Facilities`` rows: every facility active in the period or with a stay in it, by code."""
    S, E = period.start, period.end
    facility_rows = []
    for code, name, capacity, child_friendly, active, opened, closed in session.execute(
        select(Facility.code, Facility.name, Facility.capacity, Facility.child_friendly,
               Facility.active, Facility.opened_on, Facility.closed_on)
    ):
        code = clean_code(code)
        active_in_period = (opened is None or opened <= E) and (closed is None or closed >= S) and (
            active or closed is not None)
        if active_in_period or code in with_stays:
            facility_rows.append(FacilityRow(code, name, int(capacity or 0), bool(child_friendly)))
    facility_rows.sort(key=lambda f: f.facility)
    return facility_rows


CASE_COLUMNS_SQL = (
    "c.id, c.case_number, c.registration_date, c.identified_by_org_id, c.self_referral, "
    "c.exploitation, c.labour_industry, c.sex_exploitation, c.methods_of_control, "
    "c.relationship_to_trafficker, c.scope, c.consent_data_sharing, p.gender, p.birth_date, "
    "p.estimated_age, p.age_estimated_on, p.citizenships, p.id"
)
"""The columns of a case that ``build_line_row`` takes, in its order (``c`` case, ``p`` person)."""


@dataclass(frozen=True)
class Activity:
    """What cases did in a period, by case id: services received, follow-ups due, done and
    overdue at its end, an active plan at its end, justice stages (LineList columns)."""

    services: Mapping[int, Iterable[str]]
    due: Mapping[int, int]
    done: Mapping[int, int]
    overdue: Mapping[int, int]
    active_plan: Container[int]
    justice: Mapping[int, Iterable[str]]

    @staticmethod
    def none() -> Activity:
        return Activity({}, {}, {}, {}, frozenset(), {})


def build_line_row(
    row: tuple, status_entries: Iterable[tuple[dt.date, int, tuple[str, str | None]]],
    case_entries: list[tuple[dt.date, int, str]] | None, period: Period, org_types: Mapping[int, str],
    activity: Activity, *, case_key: str, person_key: Callable[[bool, int, dt.date | None], str],
) -> tuple[LineRow | None, list[str]]:
    """One case's LineList row for ``period`` from its raw values (``CASE_COLUMNS_SQL``), its
    trafficking-status entries ``(date, id, (status, decided_by))`` and case-status entries up to
    the period end; or None and why the standard does not allow it (one phrase per problem)."""
    E = period.end
    day = dt.date.fromisoformat
    picklists = spec.PICKLISTS
    (case_id, _number, registered, org_id, self_referral, exploitation, labour, sex_expl, control,
     relationship, scope, consent, gender, birth, est_age, est_on, citizenships, pid) = row
    registered = day(registered)
    birth = day(birth) if birth else None
    est_on = day(est_on) if est_on else None
    exploitation, sex_expl, control, citizenships = (
        _json_list(exploitation), _json_list(sex_expl), _json_list(control), _json_list(citizenships))
    services = activity.services.get(case_id, ())
    justice = activity.justice.get(case_id, ())
    here: list[str] = []
    entry = counting.entry_on(status_entries, E)
    if entry is None:
        here.append("has no trafficking status on or before the period end")
        entry = ("", None)
    status, decided_by = entry
    history = case_entries or [(registered, 0, "Active")]
    case_status = counting.status_on(history, E) or "Active"
    age = counting.age_at(registered, birth, est_age, est_on)
    # Quick test first; the per-column messages are built only for a bad case.
    if not (_ALLOWED_STATUS.issuperset((status,)) and (not decided_by or decided_by in _ALLOWED_DECIDED)
            and _ALLOWED_COUNTRY.issuperset(citizenships) and scope in _ALLOWED_SCOPE
            and _ALLOWED_EXPL.issuperset(exploitation) and (not labour or labour in _ALLOWED_LABOUR)
            and _ALLOWED_SEXEXPL.issuperset(sex_expl) and _ALLOWED_CONTROL.issuperset(control)
            and (not relationship or relationship in _ALLOWED_REL)
            and _ALLOWED_SERVICE.issuperset(services)
            and _ALLOWED_JUSTICE.issuperset(justice) and case_status in _ALLOWED_CASE):
        values = {
            "status": (status,) if status else (), "status_decided_by": (decided_by,) if decided_by else (),
            "citizenship": tuple(citizenships), "scope": (scope,), "exploitation": tuple(exploitation),
            "labour_industry": (labour,) if labour else (), "sex_exploitation": tuple(sex_expl),
            "methods_of_control": tuple(control),
            "relationship_to_trafficker": (relationship,) if relationship else (),
            "services_in_period": tuple(services),
            "justice_in_period": tuple(justice), "case_status": (case_status,),
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
        return None, here
    return LineRow(
        case_key=case_key,
        person_key=person_key(bool(consent), pid, birth),
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
        services_in_period=tuple(sorted(services)) if services else (),
        followups_due=activity.due.get(case_id, 0),
        followups_done=activity.done.get(case_id, 0),
        followups_overdue=activity.overdue.get(case_id, 0),
        active_followup=case_id in activity.active_plan,
        justice_in_period=tuple(sorted(justice)) if justice else (),
        case_status=case_status,
        # (closure_date is None unless the status at the period end is a closed one)
        closed=counting.closure_date(history, period) if case_status in counting.CLOSED_STATUSES else None,
    ), []


@functools.lru_cache(maxsize=8192)
def _json_list(text: str | None) -> tuple[str, ...]:
    """A ``StrList`` column's raw JSON text as a tuple (few distinct texts: cached)."""
    if not text or text == "[]":
        return ()
    return tuple(str(v) for v in json.loads(text))


@functools.lru_cache(maxsize=1024)
def clean_code(code: str) -> str:
    """Facility codes as written: no control characters, no surrounding spaces."""
    return clean_text(code).strip()


json_list = _json_list  # the same cached parser, for the dashboard's trends
