"""The dashboard's figures, equal to the return's for the same period.

For a period P:

- persons identified (by sex and age group, form of exploitation, citizenship, identifying
  organisation) are T1–T4 of TIP-RETURN/1, which count only the cases registered in P: counted
  in SQL, grouped by what each table's cells depend on (``PEOPLE_SQL``), and tabled with the
  return's own row rules into the ``tables.PersonCounts`` its ``grid_tables`` fills. When a
  case holds a value the return refuses, the period is counted case by case instead with the
  return's ``prepare.build_line_row``, which names the cases left out;
- shelter figures are T5 from ``prepare.read_stays``/``read_facilities`` and
  ``tables.shelter_table``; occupancy over time is ``counting.occupied_at_end`` on single days
  (one sweep over the stays: ``occupied_on``);
- follow-ups due, done and overdue (the sums of the LineList columns ``followups_due``,
  ``followups_done``, ``followups_overdue`` over the cases in scope, and the first three rows of
  T7) and the trends of the last eight quarters (victims by form, people in shelter at each
  quarter's end) are counted in SQL, so that only a handful of rows reach Python and the
  counting runs beside the window without holding the interpreter. Those statements restate
  the return's rules (``count_followups``' verdicts, ``counting.case_in_scope``, ``entry_on``,
  ``occupied_at_end``); each says which, and tests/test_dashboard_figures.py holds them to the
  Python rules and to the return (every trend quarter, every scope clause, every verdict
  on every combination of dates around a period).

It reads only what those figures need, never a name, and never writes anything.

**Periods that have not ended.** A return is refused for them (its statuses are those of the
period's last day). The dashboard counts such a period *up to today*: the period from its first
day to today, statuses as they are today, a discharge dated after today counted as a plan (as
the return does). The figures are marked provisional; once the period has ended they are the
return's. A period that has not started yet is refused.
"""

from __future__ import annotations

import bisect
import contextlib
import datetime as dt
import gc
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from exports.returns import spec, tables
from exports.returns.prepare import (
    CASE_COLUMNS_SQL,
    Activity,
    build_line_row,
    json_list,
    raw_sql,
    read_facilities,
    read_stays,
)
from exports.returns.spec import LineRow, StayRow, Table
from tipdesk import counting
from tipdesk.counting import Period
from tipdesk.errors import Cancelled, UsageError
from tipdesk.vault.register import Register

TREND_QUARTERS = 8
MAX_OCCUPANCY_POINTS = 60
CancelCheck = Callable[[], bool]
Progress = Callable[[int, str], None]
#: The tables the dashboard shows, as the return names them.
TABLES = (spec.T1, spec.T2, spec.T3, spec.T4, spec.T5)


@dataclass(frozen=True)
class FollowUpFigures:
    """Follow-ups of the cases in scope: how many, and in how many cases (T7's first rows)."""

    due: int
    done: int
    overdue: int
    cases_due: int
    cases_done: int
    cases_overdue: int


@dataclass(frozen=True)
class OccupancyPoint:
    day: dt.date
    occupied: int


@dataclass(frozen=True)
class QuarterFigures:
    """One quarter of the trends: victims identified in it, by form, and people in shelter at its end."""

    period: Period
    provisional: bool
    victims: int
    by_form: tuple[tuple[str, int], ...]  # T2's category rows, in the return's order
    in_shelter_at_end: int


@dataclass(frozen=True)
class Dashboard:
    requested: Period
    period: Period  # what was counted: the requested period, ending today at the latest
    provisional: bool  # the period has not ended: figures up to today
    today: dt.date
    tables: dict[str, Table]  # T1–T5 of the counted period
    followups: FollowUpFigures
    capacity: int  # places in the facilities of the period (T5 Total capacity)
    occupancy: tuple[OccupancyPoint, ...]
    trends: tuple[QuarterFigures, ...]  # oldest first
    left_out: tuple[str, ...]  # case numbers the return would refuse (values it does not allow)

    def value(self, sheet: str, row: str, column: str = "Total") -> spec.Value:
        return self.tables[sheet].value(row, column)

    @property
    def victims(self) -> int:
        return int(self.value(spec.T2, "Total victims") or 0)


def custom_period(start: dt.date, end: dt.date) -> Period:
    """A period from ``start`` to ``end`` (both included), named by its dates."""
    if end < start:
        raise UsageError(f"The period ends ({end.isoformat()}) before it starts ({start.isoformat()}).")
    return Period(start, end, f"{start.isoformat()} to {end.isoformat()}")


def counted_period(requested: Period, today: dt.date) -> tuple[Period, bool]:
    """The period the dashboard counts, and whether it is provisional (not ended yet)."""
    if requested.start > today:
        raise UsageError(f"The period {requested.code} starts on {requested.start.isoformat()}: "
                         "there is nothing to count yet.")
    if requested.end < today:
        return requested, False
    return Period(requested.start, today, requested.code), True


def trend_quarters(period: Period, today: dt.date, count: int = TREND_QUARTERS) -> list[tuple[Period, bool]]:
    """The ``count`` quarters ending with the one that holds the period's last counted day,
    oldest first, each cut at today (and then provisional)."""
    quarters = [counting.period_containing(period.end)]
    while len(quarters) < count:
        quarters.append(quarters[-1].previous())
    return [counted_period(q, today) for q in reversed(quarters)]


def _no_person_key(_consent: bool, _pid: int, _birth: dt.date | None) -> str:
    return ""  # the dashboard never reads names


@dataclass(frozen=True)
class PeopleFigures:
    """T1–T4 of the period: the persons identified in it."""

    tables: dict[str, Table]
    left_out: tuple[str, ...]  # case numbers the return would refuse (values it does not allow)


@dataclass(frozen=True)
class ShelterFigures:
    """T5 of the period, and how many people were placed on each day shown."""

    table: Table
    capacity: int
    occupancy: tuple[OccupancyPoint, ...]


@dataclass(frozen=True)
class Section:
    """One part of the dashboard, computed on its own (the window runs them side by side)."""

    key: str
    compute: Callable[[Session, Period, dt.date, CancelCheck | None], object]


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector off while the block runs (then as it was).

    Reading a year's cases makes some 500,000 objects, none of them in a cycle; the collector
    would walk them all again and again meanwhile (about a tenth of the time), each full walk
    holding the interpreter from the window for 10–30 ms. Reference counting frees them as usual.
    """
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_on:
            gc.enable()


def people(session: Session, period: Period, today: dt.date, cancel: CancelCheck | None = None) -> PeopleFigures:
    """T1–T4 of ``period`` (already counted: see ``counted_period``)."""
    with collector_paused():
        return _people(session, period, cancel)


def _people(session: Session, period: Period, cancel: CancelCheck | None) -> PeopleFigures:
    sql = raw_sql(session)
    counts = people_in_sql(sql, period)
    if counts is not None:
        return PeopleFigures(counts.tables(), ())
    _check(cancel)
    # Some case holds a value the return refuses: count case by case, naming those cases.
    return people_case_by_case(sql, period, cancel)


# The persons identified in a period (registered from ?1 to ?2), one row each with what T1–T4 and
# the return's checks read: the trafficking status in force at ?2 (``counting.entry_on``, by a
# seek in ix_tse_case_date, as ``_registered``), the case status in force (``status_on``) and the
# age at registration (``counting.age_at``: whole years from the birth date; else the estimate
# plus the whole years since it was made; else the estimate; else unknown — ISO date text:
# years by subtraction, one less when the month-day of registration comes before the other's).
# Then per table the rows grouped by what its cells depend on, so that a few hundred rows reach
# Python instead of one per case, and the counting is SQLite's (which lets go of the
# interpreter: the window and the other sections run meanwhile).
_YEARS_TO_REGISTRATION = ("(CAST(substr(c.registration_date, 1, 4) AS INTEGER) - CAST(substr({d}, 1, 4) AS INTEGER) "
                          "- (substr(c.registration_date, 6, 5) < substr({d}, 6, 5)))")
AGE_SQL = (f"CASE WHEN p.birth_date IS NOT NULL THEN {_YEARS_TO_REGISTRATION.format(d='p.birth_date')} "
           "WHEN p.estimated_age IS NOT NULL AND p.age_estimated_on IS NOT NULL THEN p.estimated_age + "
           f"{_YEARS_TO_REGISTRATION.format(d='p.age_estimated_on')} ELSE p.estimated_age END")
_IN_FORCE = ("(SELECT e.id FROM {table} e WHERE e.case_id = c.id AND e.effective_date <= ?2 "
             "ORDER BY e.effective_date DESC, e.id DESC LIMIT 1)")
_PART = "SELECT '{kind}', {columns}, count(*) FROM person_row GROUP BY {columns}"
_CHECK = "SELECT '{kind}', {column}, NULL, NULL, NULL, NULL, count(*) FROM person_row GROUP BY {column}"
PEOPLE_SQL = f"""
WITH identified AS MATERIALIZED (
    SELECT t.status AS status, t.decided_by AS decided_by, p.gender AS gender, {AGE_SQL} AS age,
           c.exploitation AS exploitation, p.citizenships AS citizenships, c.scope AS scope,
           c.identified_by_org_id AS org_id, c.self_referral AS self_referral, c.labour_industry AS labour,
           c.sex_exploitation AS sex_expl, c.methods_of_control AS control,
           c.relationship_to_trafficker AS relationship, k.status AS case_status
    FROM case_file c JOIN person p ON p.id = c.person_id
    LEFT JOIN trafficking_status_entry t ON t.id = {_IN_FORCE.format(table='trafficking_status_entry')}
    LEFT JOIN case_status_entry k ON k.id = {_IN_FORCE.format(table='case_status_entry')}
    WHERE c.registration_date BETWEEN ?1 AND ?2
), person_row AS MATERIALIZED (
    SELECT *, CASE WHEN age IS NULL THEN 'unknown' WHEN age < 18 THEN '0-17' ELSE '18+' END AS age_group
    FROM identified
)
{_PART.format(kind='status', columns='status, decided_by, gender, age_group, NULL')}
UNION ALL {_PART.format(kind='exploitation', columns='status, exploitation, gender, age_group, NULL')}
UNION ALL {_PART.format(kind='citizenship', columns='status, citizenships, gender, age_group, NULL')}
UNION ALL {_PART.format(kind='scope', columns='status, scope, gender, age_group, NULL')}
UNION ALL {_PART.format(kind='identifier', columns='status, org_id, gender, age_group, self_referral')}
UNION ALL {_CHECK.format(kind='labour_industry', column='labour')}
UNION ALL {_CHECK.format(kind='relationship_to_trafficker', column='relationship')}
UNION ALL {_CHECK.format(kind='case_status', column="coalesce(case_status, 'Active')")}
UNION ALL {_CHECK.format(kind='sex_exploitation', column='sex_expl')}
UNION ALL {_CHECK.format(kind='methods_of_control', column='control')}
UNION ALL SELECT 'age', min(age), max(age), NULL, NULL, NULL, count(*) FROM person_row
"""


_LIST_CHECKED = ("sex_exploitation", "methods_of_control")
_VALUE_CHECKED = ("labour_industry", "relationship_to_trafficker", "case_status")


def people_in_sql(sql, period: Period) -> tables.PersonCounts | None:  # noqa: ANN001
    """T1–T4's counts from ``PEOPLE_SQL``'s groups, or None when a case needs counting alone.

    None when a case holds a value the return refuses (``build_line_row``'s checks): only the
    case-by-case count can name such cases."""
    org_types = dict(sql("SELECT id, org_type FROM organisation"))
    counts = tables.PersonCounts()
    victim, allowed = spec.VICTIM_STATUSES, spec.PICKLISTS
    for kind, a, b, c, d, e, n in sql(PEOPLE_SQL, (period.start.isoformat(), period.end.isoformat())):
        if kind == "age":  # the youngest and the oldest, when any age is known
            if a is not None and not (0 <= a and b <= 150):
                return None
            continue
        if kind in _LIST_CHECKED:
            if not allowed[kind].issuperset(json_list(a)):
                return None
            continue
        if kind in _VALUE_CHECKED:
            if a and a not in allowed[kind]:
                return None
            continue
        status, value, gender, age_group, extra = a, b, c, d, e
        sex = counting.sex_of_gender(gender)
        if kind == "status":
            if status not in allowed["status"] or (value and value not in allowed["status_decided_by"]):
                return None  # no status by the period end, or one the standard does not allow
            counts.t1[(status, sex, age_group)] += n
            counts.t1[(spec.TOTAL, sex, age_group)] += n
            continue
        if kind == "exploitation":
            forms = json_list(value)
            if not allowed["exploitation"].issuperset(forms):
                return None
            if status in victim:
                for category in tables.t2_categories(forms):
                    counts.t2[(category, sex, age_group)] += n
                counts.t2[("Total victims", sex, age_group)] += n
        elif kind == "citizenship":
            countries = json_list(value)
            if not allowed["citizenship"].issuperset(countries):
                return None
            if status in victim:
                counts.t3[(tables.t3_row(countries), sex, age_group)] += n
                counts.citizenships.update(countries[:1])
        elif kind == "scope":
            if value not in allowed["scope"]:
                return None
            if status in victim:
                counts.t3[(tables.scope_row(value), sex, age_group)] += n
        elif kind == "identifier":
            ident = counting.identified_by(org_types.get(value) if value is not None else None, bool(extra))
            if ident not in spec.IDENTIFIED_BY:
                return None
            if status in victim:
                counts.t4[(ident, sex, age_group)] += n
                if ident not in spec.T4_FIXED:
                    counts.identifiers.add(ident)
    return counts


def people_case_by_case(sql, period: Period, cancel: CancelCheck | None) -> PeopleFigures:  # noqa: ANN001
    """T1–T4 from each case's LineList row, as the return builds it (and the cases it would refuse)."""
    s_text, e_text = period.start.isoformat(), period.end.isoformat()
    cases, statuses, case_statuses = _registered(sql, s_text, e_text)
    _check(cancel)
    org_types = dict(sql("SELECT id, org_type FROM organisation"))
    rows: list[LineRow] = []
    left_out = []
    nothing = Activity.none()
    for i, row in enumerate(cases):
        if i % 2000 == 0:
            _check(cancel)  # a lock stops the counting at once
        cid = row[0]
        built, _problems = build_line_row(row, statuses.get(cid, ()), case_statuses.get(cid), period, org_types,
                                          nothing, case_key="", person_key=_no_person_key)
        if built is None:
            left_out.append(row[1])
        else:
            rows.append(built)
    # The activity columns of these rows are left empty: T1–T4 never read them.
    grids = tables.grid_tables(rows, activity=False)
    return PeopleFigures({sheet: grids[sheet] for sheet in (spec.T1, spec.T2, spec.T3, spec.T4)},
                         tuple(sorted(left_out)))


def _registered(sql, first: str, last: str):  # noqa: ANN001, ANN202
    """Cases registered from ``first`` to ``last`` (ISO dates) with the status entries
    ``build_line_row`` reads for a period ending on ``last``.

    Trafficking status: only the entry in force at ``last`` (``counting.entry_on``: the latest
    effective date ≤ ``last``, same-date entries by id, the later winning), found in SQL by an
    index seek. Case status: likewise the entry in force (``status_on`` reads no other), except
    for a case closed at ``last``, whose whole history up to ``last`` is read (``closure_date``
    walks back through it).
    """
    day = _day_parser()
    width = len(CASE_COLUMNS_SQL.split(","))
    found = sql(f"SELECT {CASE_COLUMNS_SQL}, t.effective_date, t.id, t.status, t.decided_by, "
                "k.effective_date, k.id, k.status FROM case_file c JOIN person p ON p.id = c.person_id "
                f"LEFT JOIN trafficking_status_entry t ON t.id = {_IN_FORCE.format(table='trafficking_status_entry')} "
                f"LEFT JOIN case_status_entry k ON k.id = {_IN_FORCE.format(table='case_status_entry')} "
                "WHERE c.registration_date BETWEEN ?1 AND ?2", (first, last))
    cases, statuses = [], {}
    case_statuses: dict[int, list[tuple[dt.date, int, str]]] = {}
    closed = []
    for row in found:
        case_id = row[0]
        cases.append(row[:width])
        t_date, t_id, t_status, t_by, k_date, k_id, k_status = row[width:]
        if t_id is not None:
            statuses[case_id] = [(day(t_date), t_id, (t_status, t_by))]
        if k_id is not None:
            case_statuses[case_id] = [(day(k_date), k_id, k_status)]
            if k_status in counting.CLOSED_STATUSES:
                closed.append(case_id)
    for chunk in range(0, len(closed), 500):
        part = closed[chunk:chunk + 500]
        history: dict[int, list[tuple[dt.date, int, str]]] = defaultdict(list)
        for case_id, effective, entry_id, status in sql(
            f"SELECT case_id, effective_date, id, status FROM case_status_entry WHERE case_id IN "
            f"({','.join('?' * len(part))}) AND effective_date <= ?", (*part, last)
        ):
            history[case_id].append((day(effective), entry_id, status))
        case_statuses.update(history)
    return cases, statuses, case_statuses


def shelter(session: Session, period: Period, today: dt.date, cancel: CancelCheck | None = None) -> ShelterFigures:
    """T5 of ``period`` and its occupancy, day by day (weekly points)."""
    stays = read_stays(session, period, today, lambda _case_id: "")
    _check(cancel)
    facilities = read_facilities(session, period, {st.facility for st in stays})
    t5 = tables.shelter_table(stays, facilities, period)
    days = occupancy_days(period)
    occupancy = tuple(OccupancyPoint(d, n) for d, n in zip(days, occupied_on(stays, days), strict=True))
    return ShelterFigures(t5, int(t5.value(spec.TOTAL, "Capacity") or 0), occupancy)


def occupied_on(stays: Iterable[StayRow], days: Sequence[dt.date]) -> list[int]:
    """How many stays are ``counting.occupied_at_end`` of each of ``days`` (sorted).

    That rule (A ≤ N and no D or D > N) makes a stay occupy the nights A … D − 1: a run of
    days. So each stay counts from its first night to its last, found by bisection in ``days``,
    and a running sum gives every day at once instead of every stay tested on every day.
    """
    change = [0] * (len(days) + 1)
    for st in stays:
        first = bisect.bisect_left(days, st.admitted)  # the first day N ≥ A
        # the first day N that D no longer exceeds (D ≤ N): the stay is over from there
        after = len(days) if st.discharged is None else bisect.bisect_left(days, st.discharged)
        if first < after:
            change[first] += 1
            change[after] -= 1
    counts, running = [], 0
    for step in change[:-1]:
        running += step
        counts.append(running)
    return counts


def followups(session: Session, period: Period, today: dt.date, cancel: CancelCheck | None = None) -> FollowUpFigures:
    """Follow-ups due, done and overdue of the cases in scope (the return's LineList columns)."""
    return _followups(raw_sql(session), period, cancel)


# The victims identified in one quarter, by their forms of exploitation: cases registered in it
# (?1–?2) whose trafficking status in force at its end (``counting.entry_on``: the latest
# effective date ≤ the end, same-date entries by entry id, the later winning) is a victim's,
# counted per distinct ``exploitation`` text (the T2 rows depend on that text alone). The status
# is found by a seek in ix_tse_case_date, not by reading every case's history into Python.
TREND_VICTIMS_SQL = """
SELECT c.exploitation, count(*) FROM case_file c
WHERE c.registration_date BETWEEN ?1 AND ?2 AND (
    SELECT e.status FROM trafficking_status_entry e WHERE e.case_id = c.id AND e.effective_date <= ?2
    ORDER BY e.effective_date DESC, e.id DESC LIMIT 1) IN ({victims})
GROUP BY c.exploitation
"""


# People in shelter at the end of each quarter: the stays (``read_stays``' rows) occupied at
# its end (``counting.occupied_at_end``: A ≤ N and no D or D > N). A discharge after today
# is a plan there (the stay still open); a quarter's end is today at the latest, so such a
# D is after N either way. Eight counts, one row each, in the covering index ix_stay_discharged.
IN_SHELTER_SQL = "SELECT count(*) FROM stay s JOIN facility f ON f.id = s.facility_id " \
                 "WHERE s.admitted <= ?1 AND (s.discharged IS NULL OR s.discharged > ?1)"


def trends(session: Session, period: Period, today: dt.date, cancel: CancelCheck | None = None
           ) -> tuple[QuarterFigures, ...]:
    """The last eight quarters: victims identified in each, by form, and people in shelter at its end.

    The rules are the return's: a case is identified in the quarter it was registered in and a
    victim by its status at the quarter's end (``counting.entry_on``, in SQL: see
    ``TREND_VICTIMS_SQL``); it counts once in each T2 row of its forms of exploitation
    (``tables.t2_categories``); in shelter at the end is ``counting.occupied_at_end`` over the
    ``Stays`` rows.
    """
    quarters = trend_quarters(period, today)
    sql = raw_sql(session)
    victim_statuses = sorted(spec.VICTIM_STATUSES)
    query = TREND_VICTIMS_SQL.format(victims=", ".join(f"?{3 + i}" for i in range(len(victim_statuses))))
    in_shelter_at_end = [sql(IN_SHELTER_SQL, (q.end.isoformat(),))[0][0] for q, _provisional in quarters]
    forms = spec.T2_ROWS[:-1]
    result = []
    for q, provisional in quarters:
        _check(cancel)
        counts = dict.fromkeys(forms, 0)
        victims = 0
        for exploitation, n in sql(query, (q.start.isoformat(), q.end.isoformat(), *victim_statuses)):
            victims += n
            for category in tables.t2_categories(json_list(exploitation)):
                counts[category] = counts.get(category, 0) + n
        result.append(QuarterFigures(q, provisional, victims, tuple((f, counts[f]) for f in forms),
                                     in_shelter_at_end[len(result)]))
    return tuple(result)


SECTIONS = (Section("people", people), Section("shelter", shelter), Section("followups", followups),
            Section("trends", trends))


def compute_dashboard(session: Session, requested: Period, today: dt.date, *,
                      cancel: CancelCheck | None = None, progress: Progress | None = None) -> Dashboard:
    """Every figure of the dashboard for ``requested``, one section after the other."""
    report = progress or (lambda _p, _w: None)
    period, provisional = counted_period(requested, today)
    report(5, "Persons identified")
    found_people = people(session, period, today, cancel)
    report(40, "Shelter")
    found_shelter = shelter(session, period, today, cancel)
    report(55, "Follow-ups")
    found_followups = followups(session, period, today, cancel)
    report(80, "Trends")
    found_trends = trends(session, period, today, cancel)
    report(100, "Done")
    return assemble(requested, period, provisional, today, found_people, found_shelter, found_followups, found_trends)


def assemble(requested: Period, period: Period, provisional: bool, today: dt.date, found_people: PeopleFigures,
             found_shelter: ShelterFigures, found_followups: FollowUpFigures,
             found_trends: tuple[QuarterFigures, ...]) -> Dashboard:
    """The dashboard from its sections."""
    return Dashboard(
        requested=requested, period=period, provisional=provisional, today=today,
        tables={**found_people.tables, spec.T5: found_shelter.table}, followups=found_followups,
        capacity=found_shelter.capacity, occupancy=found_shelter.occupancy, trends=found_trends,
        left_out=found_people.left_out,
    )


def _check(cancel: CancelCheck | None) -> None:
    if cancel is not None and cancel():
        raise Cancelled("The dashboard was stopped.")


def _day_parser() -> Callable[[str], dt.date]:
    """``date.fromisoformat`` remembering what it parsed: a register has few distinct dates."""
    memo: dict[str, dt.date] = {}

    def day(text: str) -> dt.date:
        found = memo.get(text)
        if found is None:
            found = memo[text] = dt.date.fromisoformat(text)
        return found

    return day


def occupancy_days(period: Period) -> list[dt.date]:
    """The days on which occupancy is shown: every week's last day, at most 60 points, and the
    period's last day (whose figure is T5's "Occupied at period end")."""
    days = (period.end - period.start).days + 1
    step = max(7, -(-days // MAX_OCCUPANCY_POINTS))
    points = [period.start + dt.timedelta(days=i) for i in range(step - 1, days, step)]
    if not points or points[-1] != period.end:
        points.append(period.end)
    return points


# Every follow-up that can be due in the period S–E, done in it or overdue at its end: a
# superset of what the return reads (its WHERE clause), in disjoint parts (so UNION ALL, no
# sorting) that are ranges of the covering indexes ix_followup_queue and ix_followup_done, so
# that no table row is read: due in the period; done in it but due outside it; due before it
# and not done in it, by status (a follow-up cancelled by E is never overdue at E).
_COLUMNS = "case_id, due_date, done_date, cancelled_on, status"
_NOT_DONE_IN = "(done_date IS NULL OR done_date < ?1 OR done_date > ?2)"
FOLLOWUPS_SQL = f"""
SELECT {_COLUMNS} FROM followup WHERE status IN ('Scheduled', 'Done', 'Cancelled') AND due_date BETWEEN ?1 AND ?2
UNION ALL SELECT {_COLUMNS} FROM followup WHERE done_date BETWEEN ?1 AND ?2 AND (due_date < ?1 OR due_date > ?2)
UNION ALL SELECT {_COLUMNS} FROM followup WHERE status = 'Scheduled' AND due_date < ?1 AND {_NOT_DONE_IN}
UNION ALL SELECT {_COLUMNS} FROM followup INDEXED BY ix_followup_done
    WHERE done_date > ?2 AND status = 'Done' AND due_date < ?1
UNION ALL SELECT {_COLUMNS} FROM followup WHERE status = 'Done' AND done_date IS NULL AND due_date < ?1
UNION ALL SELECT {_COLUMNS} FROM followup WHERE status = 'Cancelled' AND due_date < ?1 AND cancelled_on > ?2
    AND {_NOT_DONE_IN}
UNION ALL SELECT {_COLUMNS} FROM followup INDEXED BY ix_followup_queue
    WHERE (status < 'Cancelled' OR (status > 'Cancelled' AND status < 'Done')
           OR (status > 'Done' AND status < 'Scheduled') OR status > 'Scheduled')
    AND (due_date BETWEEN ?1 AND ?2 OR done_date BETWEEN ?1 AND ?2 OR (due_date < ?1 AND {_NOT_DONE_IN}))
"""


# ``count_followups``'s verdicts in SQL over the same rows (ISO date text compares as dates):
# due in the period (``counting.followup_due_in``), done in it (``followup_done_in``), overdue at
# its end (``followup_overdue_at``), each cancelled-by-the-end test as ``followup_cancelled_by``.
# tests/test_dashboard_figures.py checks these expressions against the Python rules on every
# combination of dates around the period and every status.
_CANCELLED_BY_END = "(CASE WHEN cancelled_on IS NOT NULL THEN cancelled_on <= ?2 ELSE status IS 'Cancelled' END)"
VERDICT_COLUMNS_SQL = f"""
    coalesce(due_date BETWEEN ?1 AND ?2 AND NOT {_CANCELLED_BY_END}, 0) AS due_v,
    coalesce(done_date BETWEEN ?1 AND ?2, 0) AS done_v,
    coalesce(NOT {_CANCELLED_BY_END} AND due_date < ?2 AND (done_date IS NULL OR done_date > ?2), 0) AS overdue_v
"""
# The case status in force on a day among a case's entries (``counting.status_on``: the latest
# effective date ≤ the day, same-date entries by id, the later winning), by a seek in
# ix_cse_case_date. ``{case}`` is the case id's column, ``{op}`` and ``{day}`` say "≤ day".
_STATUS_ON = ("(SELECT y.status FROM case_status_entry y WHERE y.case_id = {case} AND y.effective_date {op} {day} "
              "ORDER BY y.effective_date DESC, y.id DESC LIMIT 1)")
# ``counting.case_in_scope`` of a case registered on or before the period end (?1–?2; ?3 the
# day before ?1), its history being its entries up to ?2 (none: Active since registration):
# registered within the period; or open on the day before it (or no entry up to the end, so
# Active); or its status on some entry date D in the period differs from its status on D − 1.
CASE_IN_SCOPE_SQL = f"""(
    g.registered >= ?1
    OR NOT EXISTS (SELECT 1 FROM case_status_entry z WHERE z.case_id = g.case_id AND z.effective_date <= ?2)
    OR {_STATUS_ON.format(case="g.case_id", op="<=", day="?3")} IN ('Active', 'FollowUp')
    OR EXISTS (SELECT 1 FROM case_status_entry x WHERE x.case_id = g.case_id AND x.effective_date BETWEEN ?1 AND ?2
               AND {_STATUS_ON.format(case="x.case_id", op="<=", day="x.effective_date")}
                   IS NOT {_STATUS_ON.format(case="x.case_id", op="<", day="x.effective_date")})
)"""
# Every figure of the follow-ups section in one statement, so that only one row comes back: the
# counting is SQLite's alone, which lets go of the interpreter while it works (the window and
# the other sections run meanwhile). Per case registered by the period end: follow-ups due,
# done and overdue (``count_followups``'s verdicts); summed over the cases in scope.
FOLLOWUP_FIGURES_SQL = f"""
SELECT coalesce(sum(g.due), 0), coalesce(sum(g.done), 0), coalesce(sum(g.overdue), 0),
       coalesce(sum(g.due > 0), 0), coalesce(sum(g.done > 0), 0), coalesce(sum(g.overdue > 0), 0)
FROM (
    SELECT f.case_id, c.registration_date AS registered, f.due, f.done, f.overdue FROM (
        SELECT case_id, sum(due_v) AS due, sum(done_v) AS done, sum(overdue_v) AS overdue
        FROM (SELECT case_id, {VERDICT_COLUMNS_SQL} FROM ({FOLLOWUPS_SQL}))
        GROUP BY case_id HAVING due + done + overdue > 0
    ) f JOIN case_file c ON c.id = f.case_id WHERE c.registration_date <= ?2
) g WHERE {CASE_IN_SCOPE_SQL}
"""


def _followups(sql, period: Period, cancel: CancelCheck | None = None) -> FollowUpFigures:  # noqa: ANN001
    """Follow-ups due, done and overdue of the cases in scope (the return's LineList columns)."""
    _check(cancel)
    (row,) = sql(FOLLOWUP_FIGURES_SQL, (period.start.isoformat(), period.end.isoformat(),
                                        period.day_before_start.isoformat()))
    return FollowUpFigures(*(int(v) for v in row))


# --- for the window ------------------------------------------------------------------------------

SECTION = {section.key: section for section in SECTIONS}


def compute_section(reg: Register, key: str, requested: Period, today: dt.date | None = None,
                    cancel: CancelCheck | None = None) -> object:
    """One section of the dashboard (``people``, ``shelter``, ``followups``, ``trends``) for
    ``requested``, counted as ``counted_period`` says; every role may see it (no names)."""
    reg.actor.require("dashboard.view")
    today = today or dt.date.today()
    period, _provisional = counted_period(requested, today)
    with reg.read() as s:
        return SECTION[key].compute(s, period, today, cancel)


def dashboard(reg: Register, requested: Period, today: dt.date | None = None, *,
              cancel: CancelCheck | None = None, progress: Progress | None = None) -> Dashboard:
    """The whole dashboard for ``requested`` in one go (the tests and the benchmark use it)."""
    reg.actor.require("dashboard.view")
    today = today or dt.date.today()
    with reg.read() as s:
        return compute_dashboard(s, requested, today, cancel=cancel, progress=progress)

