"""The demo's shelter stays, services and follow-up: a few facilities with named beds, stays
for about half the cases, services for every case, and follow-up plans with their visits —
about ten service and follow-up rows per case, overdue follow-ups and high-risk flags included.

The rows obey the services' rules, checked with the same pure functions
(``placements.stay_date_problems``/``eligibility_issues``, ``support_services.service_problems``,
``followup.visit_problems``) and by construction:

- the facilities are made through the facility service, sized from the cases' demand;
- beds are handed out in admission order from a "free from" heap per facility, so no bed holds
  two people on one night, and a person is never placed twice on one night (checked again by a
  sweep before anything is written); a stay whose eligibility cannot be confirmed (age not
  recorded) carries the override reason the service would ask for;
- a discharge into reintegration, or the case entering ``FollowUp`` status, starts a plan from
  the default definition (due dates from ``followup_plans.due_dates``); past follow-ups are
  mostly done, some missed (overdue), a few found a high risk; a closed case's follow-ups not
  done by its closure are cancelled and its plan ended, as the case-status change does;
- ``Case.next_followup_due`` and ``Case.high_risk`` are set as ``tipdesk.services.followup``
  keeps them.

These draws are not person data: they may depend on ``ctx.today`` (a stay still running today
is open), unlike the cases step's. Same seed and same date, same rows.
"""

from __future__ import annotations

import datetime as dt
import heapq
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from models import vocab
from tipdesk import counting
from tipdesk.demo.context import DemoCase, DemoContext, DemoRuleBroken, pick, weighted
from tipdesk.errors import FieldProblem
from tipdesk.services import facilities as fac
from tipdesk.services.followup import Visit, visit_problems
from tipdesk.services.followup_plans import DEFAULT_PLAN_MONTHS, add_months, ensure_default_plan
from tipdesk.services.placements import (
    REINTEGRATION_REASONS,
    TRANSFER_REASON,
    eligibility_issues,
    stay_date_problems,
)
from tipdesk.services.support_services import ServiceFields, service_problems

ONE_DAY = dt.timedelta(days=1)
BULK_CACHE_KIB = 128 * 1024  # page cache of the step's connections while they insert


@dataclass(frozen=True)
class FacilitySpec:
    code: str
    name: str
    kind: str
    group: str  # which cases it takes: women, men, children, anyone
    sexes: tuple[str, ...]
    min_age: int | None
    max_age: int | None
    child_friendly: bool
    share: float  # of its group's beds
    bed_word: str


FACILITIES = (
    FacilitySpec("HWS", "Hope Women's Shelter", "Shelter", "women", ("Female",), 18, None, False, 0.45, "Room"),
    FacilitySpec("HVW", "Harbour View Women's Shelter", "Shelter", "women", ("Female",), 18, None, False, 0.35, "Bed"),
    FacilitySpec("PRW", "Port Royal Women's House", "SafeHouse", "women", ("Female",), 18, None, False, 0.20, "Room"),
    FacilitySpec("MMH", "Mandeville Men's House", "SafeHouse", "men", ("Male",), 18, None, False, 1.0, "Bed"),
    FacilitySpec("LAC", "Little Acorns Children's Home", "ChildrensHome", "children", (), 0, 17, True, 0.7, "Cot"),
    FacilitySpec("RCS", "Rainbow Child-Friendly Space", "ChildFriendlySpace", "children", (), 0, 17, True, 0.3, "Bed"),
    FacilitySpec("BMS", "Blue Mountain Safe House", "SafeHouse", "anyone", (), 18, None, False, 1.0, "Room"),
)
DISCHARGES = (
    ("ReintegratedWithFamily", 40), ("IndependentLiving", 20), ("Repatriated", 12),
    ("LeftVoluntarily", 10), ("Absconded", 5), ("Other", 5), (TRANSFER_REASON, 8),
)
AFTER_TRANSFER = DISCHARGES[:-1]
SERVICE_TYPES = (
    ("Psychosocial", 18), ("Health", 16), ("Legal", 12), ("SocialCare", 10), ("Livelihood", 8),
    ("Education", 7), ("Financial", 6), ("Interpretation", 4), ("FamilyTracing", 4),
    ("Repatriation", 3), ("RightsBasedTraining", 4), ("SexualExploitationRehabilitation", 3),
    ("LabourExploitationRehabilitation", 3), ("Other", 2),
)
#: Partner organisations (codes of ``tipdesk.demo.data.PARTNERS``) that give a type of service;
#: the office gives the others itself, and some of these too.
PROVIDERS = {
    "Legal": ("LACK",), "Health": ("KPHX", "CRHX"), "SocialCare": ("CPFS",), "Livelihood": ("CMSN",),
    "FamilyTracing": ("CMSN",), "Repatriation": ("PICA",), "Education": ("CPFS",),
}
OBJECTIVES = {
    "Psychosocial": "Weekly counselling sessions", "Health": "Medical assessment and treatment",
    "Legal": "Support as a witness; legal advice", "SocialCare": "Case management and support",
    "Livelihood": "Vocational training and job search", "Education": "School enrolment",
    "Financial": "Emergency allowance", "Interpretation": "Interpreter for interviews",
    "FamilyTracing": "Trace and contact family", "Repatriation": "Safe return home",
    "RightsBasedTraining": "Know-your-rights sessions", "Accommodation": "Safe accommodation",
    "SexualExploitationRehabilitation": "Specialised rehabilitation programme",
    "LabourExploitationRehabilitation": "Specialised rehabilitation programme", "Other": "Other support",
}
PLANNED_LENGTHS = (14, 30, 90, 180, 365)
SERVICE_LENGTHS = (0, 7, 30, 60, 120, 240, 400)
SERVICE_COUNTS = (1, 2, 3, 3, 4, 4, 5, 6)
MODES = (("HomeVisit", 45), ("Phone", 30), ("OfficeVisit", 20), ("Other", 5))
CALM = (("Low", 75), ("Medium", 21), ("High", 4))
RISKY = (("Low", 40), ("Medium", 35), ("High", 25))
OUTCOMES = (
    "Living with family; attends school.", "Working part time; income covers rent.",
    "Sleeping poorly; referred back to counselling.", "Reunited with children; stable.",
    "Looking for work; needs a training place.", "Doing well; no concerns raised.",
)
NEXT_ACTIONS = ("Phone in two weeks.", "Arrange a skills course.", "Check school attendance.",
                "Visit with the social worker.", "No action needed.")
SAFETY_NOTES = ("Recruiter seen in the area; safety plan reviewed and police informed.",
                "Threatening messages received; phone number changed, moved to a relative.",
                "Debt demands from the former employer; legal aid contacted.")
NO_AGE_OVERRIDE = "Age not recorded; placed on the case worker's assessment."

_STAY_COLUMNS = ("id", "case_id", "facility_id", "bed_id", "admitted", "planned_discharge", "discharged",
                 "discharge_reason", "eligibility_override", "notes", "created_at")
_WAITING_COLUMNS = ("case_id", "facility_id", "requested_on", "note", "resolved_on", "resolution")
_SERVICE_COLUMNS = ("case_id", "service_type", "provider_org_id", "objectives", "planned_start", "planned_end",
                    "actual_start", "actual_end", "status")
_PLAN_COLUMNS = ("id", "case_id", "definition_id", "started_on", "reason", "status", "ended_on", "created_at")
_FOLLOWUP_COLUMNS = ("case_id", "plan_id", "due_date", "done_date", "cancelled_on", "status", "mode", "done_by",
                     "score_economic", "score_social", "score_psychosocial", "risk_level", "safety_note",
                     "outcome", "next_action")


@dataclass
class _Stay:
    case: DemoCase
    facility: FacilitySpec
    facility_id: int
    bed_id: int
    admitted: dt.date
    discharged: dt.date | None  # None: still placed
    planned: dt.date | None
    reason: str | None
    override: str


def _group(case: DemoCase, on: dt.date) -> tuple[str, int | None]:
    age = counting.age_at(on, case.birth_date, case.age, case.registration_date)
    if age is not None and age < 18:
        return "children", age
    return {"Female": "women", "Male": "men"}.get(case.sex, "anyone"), age


def _nights(rng, group: str) -> int:
    nights = int(rng.lognormvariate(3.0, 0.8))  # median about 20 nights
    return max(0, min(nights * (5 if group == "children" else 2) // 2, 540))


def run_shelter(ctx: DemoContext) -> None:
    """Facilities, stays, waiting-list entries, services, follow-up plans and follow-ups."""
    rng, today = ctx.rng, ctx.today
    cases = ctx.cases
    if not cases:
        return
    closed_on = {c.id: c.closed_on for c in cases}

    # 1. Who wants a place, when and for how long; size the facilities from that demand.
    wants: list[tuple[dt.date, int, DemoCase, int, str]] = []
    demand: Counter = Counter()
    for case in cases:
        wanted = rng.random() < 0.55
        delay = pick(rng, (0, 0, 0, 1, 2, 5))
        admitted = case.registration_date + dt.timedelta(days=delay)
        group, _ = _group(case, admitted)
        nights = _nights(rng, group)
        closed = closed_on[case.id]
        if not wanted or admitted > today or (closed is not None and admitted > closed):
            continue
        wants.append((admitted, case.index, case, nights, group))
        demand[group] += max(nights, 1)
    first_day = min(c.registration_date for c in cases)
    span = max(30, (today - first_day).days + 1)
    opened = first_day - dt.timedelta(days=30)
    by_group: dict[str, list[tuple[FacilitySpec, int]]] = defaultdict(list)
    free: dict[str, list[tuple[dt.date, int]]] = {}
    for spec in FACILITIES:
        beds = max(2, round(demand[spec.group] / span * 1.15 * spec.share) + 1)
        info = fac.create_facility(ctx.reg, fac.FacilityFields(
            code=spec.code, name=spec.name, kind=spec.kind, capacity=beds, child_friendly=spec.child_friendly,
            sexes=spec.sexes, min_age=spec.min_age, max_age=spec.max_age, opened_on=opened,
            notes="Demo facility (synthetic).", bed_labels=tuple(f"{spec.bed_word} {i + 1}" for i in range(beds)),
        ), today=today)
        by_group[spec.group].append((spec, info.id))
        free[spec.code] = [(dt.date.min, b.id) for b in info.beds]

    # 2. Hand out beds in admission order.
    stays: list[_Stay] = []
    waiting: list[tuple] = []
    ends: dict[int, tuple[dt.date, str]] = {}  # case → (date, reason) of its final discharge
    person_free: dict[int, dt.date] = {}

    def place(group: str, day: dt.date, exclude: str | None = None) -> tuple[FacilitySpec, int, int] | None:
        for spec, fid in sorted(by_group[group], key=lambda o: -o[0].share):
            heap = free[spec.code]
            if spec.code != exclude and heap and heap[0][0] <= day:
                return spec, fid, heapq.heappop(heap)[1]
        return None

    def stay(case: DemoCase, spot: tuple[FacilitySpec, int, int], admitted: dt.date, end: dt.date,
             reason: str | None) -> None:
        spec, fid, bed = spot
        _, age = _group(case, admitted)
        issues = eligibility_issues(spec.name, spec.sexes, spec.min_age, spec.max_age, case.sex, age, admitted)
        if issues and age is not None:
            raise DemoRuleBroken("stay", [FieldProblem("eligibility_override", i) for i in issues])
        still = end > today
        stays.append(_Stay(case, spec, fid, bed, admitted, None if still else end, end if still else None,
                           None if still else reason, NO_AGE_OVERRIDE if issues else ""))
        heapq.heappush(free[spec.code], (max(end, admitted + ONE_DAY), bed))
        person_free[case.person_id] = max(end, admitted + ONE_DAY)

    wants.sort(key=lambda w: (w[0], w[1]))
    for admitted, _, case, nights, group in wants:
        reason = weighted(rng, DISCHARGES)
        second = weighted(rng, AFTER_TRANSFER)
        if person_free.get(case.person_id, dt.date.min) > admitted:
            continue  # still placed under the person's other case
        spot = place(group, admitted)
        target = by_group[group][0][1]
        if spot is None:
            soonest = min(free[s.code][0][0] for s, _ in by_group[group])
            late = admitted + dt.timedelta(days=14)
            if soonest <= late and soonest <= today:
                waiting.append((case.id, target, admitted, "Waiting for a free bed.", soonest, "admitted"))
                admitted, spot = soonest, place(group, soonest)
            else:
                waiting.append((case.id, target, admitted, "Waiting for a free bed.",
                                late if late <= today else None, "placed elsewhere" if late <= today else ""))
                continue
            if spot is None:
                continue
        end = admitted + dt.timedelta(days=nights)
        closed = closed_on[case.id]
        if closed is not None and end > closed:
            end = max(admitted, closed)
        if reason == TRANSFER_REASON and admitted < end <= today:
            moved = place(_group(case, end)[0], end, exclude=spot[0].code)  # a child may have turned 18
            if moved is not None:
                stay(case, spot, admitted, end, TRANSFER_REASON)
                spot, admitted, reason = moved, end, second
                end = admitted + dt.timedelta(days=max(1, nights // 2))
                if closed is not None and end > closed:
                    end = max(admitted, closed)
            else:
                reason = second
        elif reason == TRANSFER_REASON:
            reason = second
        stay(case, spot, admitted, end, reason)
        if end <= today:
            ends[case.id] = (end, reason)
    _check_no_double_booking(stays)

    # 3. Services, plans and follow-ups, case by case; written in batches.
    partners = {code: ctx.partners[code] for codes in PROVIDERS.values() for code in codes if code in ctx.partners}
    stays_of: dict[int, list[_Stay]] = defaultdict(list)
    for st in stays:
        stays_of[st.case.id].append(st)
    waiting_of: dict[int, list[tuple]] = defaultdict(list)
    for w in waiting:
        waiting_of[w[0]].append(w)
    with ctx.reg.write() as s:
        definition_id = ensure_default_plan(s).id
    staff = [ctx.users[r] for r in ("caseworker", "admin") if r in ctx.users] or [None]
    dues_cache: dict[dt.date, list[tuple[dt.date, str]]] = {}
    totals: Counter = Counter()
    done = 0
    rand = rng.random
    # A million rows: table look-ups and prepared day offsets instead of helper calls.
    modes, calm, risky = _table(MODES), _table(CALM), _table(RISKY)
    kinds, counts_of = _table(SERVICE_TYPES), SERVICE_COUNTS
    n_modes, n_risks, n_kinds, n_counts = len(modes), len(calm), len(kinds), len(counts_of)
    assert len(risky) == n_risks
    n_safety, n_outcomes, n_actions, n_staff = len(SAFETY_NOTES), len(OUTCOMES), len(NEXT_ACTIONS), len(staff)
    days = tuple(dt.timedelta(days=i) for i in range(1000))
    # The indexes of the two big tables are built once at the end, from their own stored SQL:
    # about twice as fast as growing them row by row. Safe here only: a demo register that
    # fails half-way is deleted (make_demo_register).
    with ctx.write() as w:
        indexes = w.session.connection().exec_driver_sql(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
            "AND tbl_name IN ('followup', 'service') ORDER BY name").all()
        for name, _sql in indexes:
            w.session.connection().exec_driver_sql(f'DROP INDEX "{name}"')
    for batch in ctx.batches(cases):
        with ctx.write() as w:
            conn = w.session.connection()
            conn.exec_driver_sql(f"PRAGMA cache_size = {-BULK_CACHE_KIB}")
            stamp = ctx.stamp_on(today)
            stay_id, plan_id = w.next_id("stay"), w.next_id("followup_plan")
            stay_rows, wait_rows, service_rows, plan_rows, followup_rows, flags = [], [], [], [], [], []
            for case in batch:
                cid = case.id
                closed = closed_on[cid]
                closed_text = closed.isoformat() if closed else None
                horizon = closed or today
                for st in stays_of.get(cid, ()):
                    problems = stay_date_problems(st.admitted, st.discharged, st.reason, st.planned, today)
                    if problems:
                        raise DemoRuleBroken("stay", problems)
                    stay_rows.append((stay_id, cid, st.facility_id, st.bed_id, _iso(st.admitted), _iso(st.planned),
                                      _iso(st.discharged), st.reason, st.override, "", stamp))
                    stay_id += 1
                    service_rows.append(_service(
                        cid, ServiceFields("Accommodation", "Completed" if st.discharged else "Ongoing", None,
                                           OBJECTIVES["Accommodation"], st.admitted, None, st.admitted,
                                           st.discharged), today))
                for wt in waiting_of.get(cid, ()):
                    wait_rows.append((wt[0], wt[1], _iso(wt[2]), wt[3], _iso(wt[4]), wt[5]))
                for _ in range(counts_of[int(rand() * n_counts)]):
                    kind = kinds[int(rand() * n_kinds)]
                    service_rows.append(_service(cid, _draw_service(rand, kind, case, horizon, closed, partners, days),
                                                 today))
                plan = _plan(case, ends.get(cid), closed, today)
                if plan is None:
                    flags.append((None, 0, cid))
                    continue
                started, why = plan
                dues = dues_cache.get(started)
                if dues is None:
                    dues = dues_cache[started] = [
                        (d, d.isoformat()) for d in (add_months(started, m) for m in DEFAULT_PLAN_MONTHS)]
                risks = risky if rand() < 0.12 else calm  # some people stay in danger for a long time
                earliest, last_done, last_risk, pending = None, None, "", 0
                for index, (due, due_text) in enumerate(dues):
                    if due > horizon:
                        if closed is not None:
                            # Closing a case cancels every follow-up not yet done (casework.close_case_work).
                            followup_rows.append((cid, plan_id, due_text, None, closed_text, "Cancelled",
                                                  None, None, None, None, None, None, "", "", ""))
                            continue
                        followup_rows.append((cid, plan_id, due_text, None, None, "Scheduled",
                                              None, None, None, None, None, None, "", "", ""))
                        pending += 1
                        earliest = earliest or due
                        continue
                    if rand() < (0.25 if (today - due).days < 120 else 0.03):  # missed
                        if closed is not None:
                            followup_rows.append((cid, plan_id, due_text, None, closed_text, "Cancelled",
                                                  None, None, None, None, None, None, "", "", ""))
                        else:
                            followup_rows.append((cid, plan_id, due_text, None, None, "Scheduled",
                                                  None, None, None, None, None, None, "", "", ""))
                            pending += 1
                            earliest = earliest or due
                            totals["overdue"] += due < today
                        continue
                    late = int(rand() * 17) - 5
                    done_on = due + days[late] if late >= 0 else due - days[-late]
                    done_on = min(horizon, max(started, done_on))
                    step = min(3, index // 3)  # people tend to do better as time goes on
                    risk = risks[int(rand() * n_risks)]
                    visit = Visit(done_on, modes[int(rand() * n_modes)], risk,
                                  min(5, 1 + int(rand() * 2) + step), min(5, 1 + int(rand() * 3) + step),
                                  min(5, 1 + int(rand() * 2) + step),
                                  SAFETY_NOTES[int(rand() * n_safety)] if risk == "High" else "",
                                  OUTCOMES[int(rand() * n_outcomes)], NEXT_ACTIONS[int(rand() * n_actions)])
                    problems = visit_problems(visit, today)
                    if problems:
                        raise DemoRuleBroken("follow-up", problems)
                    followup_rows.append((
                        cid, plan_id, due_text, done_on.isoformat(), None, "Done", visit.mode,
                        staff[int(rand() * n_staff)], visit.score_economic, visit.score_social,
                        visit.score_psychosocial, risk, visit.safety_note, visit.outcome, visit.next_action))
                    if last_done is None or done_on >= last_done:
                        last_done, last_risk = done_on, risk
                if closed is not None:
                    status, ended = "Cancelled", closed
                elif pending:
                    status, ended = "Active", None
                else:
                    status, ended = "Completed", last_done or today
                plan_rows.append((plan_id, cid, definition_id, started.isoformat(), why, status, _iso(ended), stamp))
                plan_id += 1
                high = int(last_risk == "High")
                totals["high_risk_cases"] += high
                flags.append((_iso(earliest), high, cid))
            w.insert("stay", _STAY_COLUMNS, stay_rows)
            w.insert("waiting_list_entry", _WAITING_COLUMNS, wait_rows)
            _insert(conn, "service", _SERVICE_COLUMNS, service_rows, notes="", created_at=stamp)
            w.insert("followup_plan", _PLAN_COLUMNS, plan_rows)
            w.insert("followup", _FOLLOWUP_COLUMNS, followup_rows)
            conn.exec_driver_sql("UPDATE case_file SET next_followup_due = ?, high_risk = ? WHERE id = ?", flags)
            w.audit("demo_shelter_generated", {
                "stays": len(stay_rows), "waiting_list_entries": len(wait_rows), "services": len(service_rows),
                "followup_plans": len(plan_rows), "followups": len(followup_rows)})
            for key, rows in (("stays", stay_rows), ("services", service_rows), ("followups", followup_rows)):
                totals[key] += len(rows)
        done += len(batch)
        ctx.progress(f"shelter and follow-up: {done:,} of {len(cases):,} cases")
    with ctx.write() as w:
        w.session.connection().exec_driver_sql(f"PRAGMA cache_size = {-BULK_CACHE_KIB}")
        for _name, sql in indexes:
            w.session.connection().exec_driver_sql(sql)
    _hold_beds(ctx, by_group, person_free, closed_on)


def _hold_beds(ctx: DemoContext, by_group: dict[str, list[tuple[FacilitySpec, int]]],
               placed_until: dict[int, dt.date], closed_on: dict[int, dt.date | None], most: int = 3) -> None:
    """A few beds free tonight held for the newest open cases placed nowhere (someone a partner
    is bringing in), three nights each, one bed in a facility of their group, through the
    placement service (every rule checked)."""
    from tipdesk.errors import ValidationError
    from tipdesk.services import placements

    today = ctx.today
    free = {o.facility_id: list(o.free_beds) for o in placements.occupancy(ctx.reg, today) if o.active}
    held = 0
    for case in sorted(ctx.cases, key=lambda c: (c.registration_date, c.index), reverse=True)[:500]:
        if held >= most:
            return
        if closed_on[case.id] is not None or placed_until.get(case.person_id, dt.date.min) > today:
            continue
        group, _age = _group(case, today)
        fid = next((fid for _spec, fid in by_group[group] if free.get(fid)), None)
        if fid is None:
            continue
        try:
            placements.reserve_bed(ctx.reg, case.id, free[fid][0].id, today + dt.timedelta(days=2), today=today)
        except ValidationError:
            continue
        free[fid] = []  # one held bed per facility: the others stay free
        held += 1


def _insert(conn, table: str, columns: Sequence[str], rows: list[tuple], **constants: str) -> None:
    """``executemany`` with the columns every row shares written once, as literals."""
    if rows:
        names = [*columns, *constants]
        values = ["?"] * len(columns) + ["'" + v.replace("'", "''") + "'" for v in constants.values()]
        conn.exec_driver_sql(f"INSERT INTO {table} ({', '.join(names)}) VALUES ({', '.join(values)})", rows)


def _iso(day: dt.date | None) -> str | None:
    return day.isoformat() if day is not None else None


def _table(weighted_values: Sequence[tuple[str, int]]) -> tuple[str, ...]:
    """Each value repeated by its weight: ``table[int(random() * len(table))]`` draws one."""
    return tuple(value for value, weight in weighted_values for _ in range(weight))


def _service(case_id: int, f: ServiceFields, today: dt.date) -> tuple:
    problems = service_problems(f, today)
    if problems:
        raise DemoRuleBroken("service", problems)
    a, b, c, d = f.planned_start, f.planned_end, f.actual_start, f.actual_end
    return (case_id, f.service_type, f.provider_org_id, f.objectives, a.isoformat() if a else None,
            b.isoformat() if b else None, c.isoformat() if c else None, d.isoformat() if d else None, f.status)


def _draw_service(rand, kind: str, case: DemoCase, horizon: dt.date, closed: dt.date | None,
                  partners: dict[str, int], days: Sequence[dt.timedelta]) -> ServiceFields:
    codes = PROVIDERS.get(kind, ())
    provider = partners.get(codes[int(rand() * len(codes))]) if codes and rand() < 0.6 else None
    planned = case.registration_date + days[int(rand() * 90)]
    planned_end = planned + days[PLANNED_LENGTHS[int(rand() * len(PLANNED_LENGTHS))]]
    objective = OBJECTIVES[kind]
    if planned > horizon:
        return ServiceFields(kind, "Planned" if closed is None else "Cancelled", provider, objective, planned,
                             planned_end)
    if rand() < 0.05:
        return ServiceFields(kind, "Cancelled", provider, objective, planned, planned_end)
    start = min(horizon, planned + days[int(rand() * 15)])
    end = start + days[SERVICE_LENGTHS[int(rand() * len(SERVICE_LENGTHS))]]
    if end <= horizon:
        return ServiceFields(kind, "Completed", provider, objective, planned, planned_end, start, end)
    if closed is not None:
        return ServiceFields(kind, "Completed", provider, objective, planned, planned_end, start, closed)
    return ServiceFields(kind, "Ongoing", provider, objective, planned, planned_end, start)


def _plan(case: DemoCase, end: tuple[dt.date, str] | None, closed: dt.date | None,
          today: dt.date) -> tuple[dt.date, str] | None:
    """When the case's follow-up plan starts, and why: a discharge into reintegration, or the
    case entering follow-up (its ``FollowUp`` case status); None: no plan."""
    starts = []
    if end is not None and end[1] in REINTEGRATION_REASONS:
        starts.append((end[0], f"discharged: {vocab.label(vocab.DISCHARGE_REASONS, end[1])}"))
    for day, status, _ in case.case_status_history:
        if status == "FollowUp":
            starts.append((day, "decision: the case entered reintegration follow-up"))
            break
    if not starts:
        return None
    started, why = min(starts)
    if started > today or (closed is not None and started >= closed):
        return None
    return started, why


def _check_no_double_booking(stays: Sequence[_Stay]) -> None:
    """A sweep over every bed's and every person's stays: none share a night (or a same-day stay's day)."""
    for key in (lambda st: ("bed", st.bed_id), lambda st: ("person", st.case.person_id)):
        spans: dict[tuple, list[tuple[dt.date, dt.date]]] = defaultdict(list)
        for st in stays:
            end = st.discharged or st.planned or dt.date.max
            spans[key(st)].append((st.admitted, max(end, st.admitted + ONE_DAY)))
        for which, found in spans.items():
            found.sort()
            for (_, end), (start, _) in zip(found, found[1:], strict=False):
                if start < end:
                    raise DemoRuleBroken("stay", [FieldProblem(
                        which[0], f"two stays share the night of {start.isoformat()} ({which[0]} {which[1]})")])
