"""Synthetic shelter stays, services and follow-up for the cases of a demo register, in bulk.

Every row is invented: facility names, notes and dates come from small fixed lists and a seeded
random generator. The rows obey the same rules as the services (``tipdesk.services``):

- a few facilities with named beds, sized from the cases' demand; beds are handed out in
  admission order from a free-from heap, so no bed ever holds two people on one night, and one
  person never has two stays on one night;
- a discharge into reintegration starts a follow-up plan from the default definition; other
  cases get a plan by decision; due dates come from ``followup_plans.due_dates``;
- past follow-ups are mostly done, some missed (overdue), a few found a high risk; a closed
  case's follow-ups after its closure are cancelled; ``Case.next_followup_due`` and
  ``Case.high_risk`` are set as ``tipdesk.services.followup`` would set them;
- services have statuses that agree with their actual dates.

Rows go in through ``executemany`` on the caller's connection, in one transaction, which is what
makes a 100,000-case register with over a million service and follow-up rows take seconds.
"""

from __future__ import annotations

import datetime as dt
import heapq
import random
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from models import vocab
from tipdesk.services.followup_plans import DEFAULT_PLAN_MONTHS, add_months
from tipdesk.services.placements import REINTEGRATION_REASONS, TRANSFER_REASON

ONE_DAY = dt.timedelta(days=1)
BULK_CACHE_KIB = 256 * 1024
STAMP = "2026-01-01T00:00:00.000000Z"


@dataclass(frozen=True)
class DemoCase:
    """What the generator needs to know of a case."""

    case_id: int
    person_id: int
    registered: dt.date
    sex: str  # Female / Male / Other / Unknown
    age: int | None  # at registration
    closed_on: dt.date | None  # when the case was closed (None: open)


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
    FacilitySpec("HAR", "Harbour View Women's Shelter", "Shelter", "women", ("Female",), 18, None, False, 0.35, "Bed"),
    FacilitySpec("PRW", "Port Royal Women's House", "SafeHouse", "women", ("Female",), 18, None, False, 0.20, "Room"),
    FacilitySpec("MMH", "Mandeville Men's House", "SafeHouse", "men", ("Male",), 18, None, False, 1.0, "Bed"),
    FacilitySpec("LAC", "Little Acorns Children's Home", "ChildrensHome", "children", (), 0, 17, True, 0.7, "Cot"),
    FacilitySpec("RCS", "Rainbow Child-Friendly Space", "ChildFriendlySpace", "children", (), 0, 17, True, 0.3, "Bed"),
    FacilitySpec("BMS", "Blue Mountain Safe House", "SafeHouse", "anyone", (), 18, None, False, 1.0, "Room"),
)
PARTNERS = (
    ("DEMO-LAC", "Legal Aid Clinic (demo)", "LegalService"),
    ("DEMO-UHC", "University Health Centre (demo)", "HealthServiceOrganisation"),
    ("DEMO-SKL", "Skills Training Trust (demo)", "NGO"),
    ("DEMO-CDA", "Child Development Agency (demo)", "CentralGovernmentOrganisation"),
)
DISCHARGE_WEIGHTS = (
    ("ReintegratedWithFamily", 40), ("IndependentLiving", 20), ("Repatriated", 12),
    ("LeftVoluntarily", 10), ("Absconded", 5), ("Other", 5), (TRANSFER_REASON, 8),
)
SERVICE_WEIGHTS = (
    ("Psychosocial", 18), ("Health", 16), ("Legal", 12), ("SocialCare", 10), ("Livelihood", 8),
    ("Education", 7), ("Financial", 6), ("Interpretation", 4), ("FamilyTracing", 4),
    ("Repatriation", 3), ("RightsBasedTraining", 4), ("SexualExploitationRehabilitation", 3),
    ("LabourExploitationRehabilitation", 3), ("Other", 2),
)
MODES = (("HomeVisit", 45), ("Phone", 30), ("OfficeVisit", 20), ("Other", 5))
OUTCOMES = (
    "Living with family; attends school.", "Working part time; income covers rent.",
    "Sleeping poorly; referred back to counselling.", "Reunited with children; stable.",
    "Looking for work; needs training place.", "Doing well; no concerns raised.",
)
NEXT_ACTIONS = ("Phone in two weeks.", "Arrange skills course.", "Check school attendance.",
                "Visit with social worker.", "No action needed.")
SAFETY_NOTES = ("Recruiter seen in the area; safety plan reviewed and police informed.",
                "Threatening messages received; phone number changed, moved to relative.",
                "Debt demands from former employer; legal aid contacted.")
OBJECTIVES = ("Stabilise health", "Counselling sessions weekly", "Support as witness",
              "Start vocational training", "Trace and contact family", "Return home safely")


@dataclass
class Counts:
    facilities: int = 0
    beds: int = 0
    stays: int = 0
    waiting: int = 0
    services: int = 0
    plans: int = 0
    followups: int = 0
    overdue: int = 0
    high_risk_cases: int = 0
    by_status: Counter = field(default_factory=Counter)

    @property
    def service_and_followup_rows(self) -> int:
        return self.services + self.followups


def _pick(rng: random.Random, weighted: Sequence[tuple[str, int]]) -> str:
    return rng.choices([w[0] for w in weighted], [w[1] for w in weighted])[0]


def _table(weighted: Sequence[tuple[str, int]]) -> tuple[str, ...]:
    """Each value repeated by its weight: ``table[int(random() * len(table))]`` draws one."""
    return tuple(value for value, weight in weighted for _ in range(weight))


def _group(case: DemoCase, on: dt.date) -> str:
    age = case.age if case.age is None else case.age + (on - case.registered).days // 365
    if age is not None and age < 18:
        return "children"
    return {"Female": "women", "Male": "men"}.get(case.sex, "anyone")


def load_cases(conn: Any) -> list[DemoCase]:
    """The register's cases, with the date each closed case was closed (from its history)."""
    closed: dict[int, dt.date] = {}
    for case_id, day in conn.exec_driver_sql(
        "SELECT c.id, max(e.effective_date) FROM case_file c JOIN case_status_entry e ON e.case_id = c.id "
        "WHERE c.case_status IN ('Closed', 'ClosedReferred') AND e.status IN ('Closed', 'ClosedReferred') "
        "GROUP BY c.id"
    ):
        closed[case_id] = dt.date.fromisoformat(day)
    cases = []
    for case_id, person_id, registered, sex, age, status in conn.exec_driver_sql(
        "SELECT id, person_id, registration_date, sex, age_at_registration, case_status FROM case_file ORDER BY id"
    ):
        reg_day = dt.date.fromisoformat(registered)
        closed_on = closed.get(case_id) if status in ("Closed", "ClosedReferred") else None
        if status in ("Closed", "ClosedReferred") and closed_on is None:
            closed_on = reg_day
        cases.append(DemoCase(case_id, person_id, reg_day, sex, age, closed_on))
    return cases


def _stay_length(rng: random.Random, group: str) -> int:
    days = int(rng.lognormvariate(3.0, 0.8))  # median ~20 days
    if group == "children":
        days = int(days * 2.5)
    return max(0, min(days, 540))


def generate(conn: Any, cases: Sequence[DemoCase], *, today: dt.date, seed: int = 4,
             staff_ids: Sequence[int] = (), default_plan_id: int | None = None) -> Counts:
    """Insert facilities, beds, stays, waiting-list entries, services, plans and follow-ups.

    ``conn`` is a SQLAlchemy connection inside the caller's transaction. Returns the counts.
    """
    # Index pages for a million rows: a large page cache for this connection only, so that
    # SQLite does not write half-built pages out (encrypting them) and read them back.
    previous = int(conn.exec_driver_sql("PRAGMA cache_size").scalar())
    conn.exec_driver_sql(f"PRAGMA cache_size = {-BULK_CACHE_KIB}")
    # Building an index once from sorted rows is about twice as fast as growing it row by row.
    # The indexes are re-created from their own stored SQL, in the same transaction.
    indexes = conn.exec_driver_sql(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
        "AND tbl_name IN ('followup', 'service') ORDER BY name").all()
    for name, _sql in indexes:
        conn.exec_driver_sql(f'DROP INDEX "{name}"')
    try:
        return _generate(conn, cases, today=today, seed=seed, staff_ids=staff_ids,
                         default_plan_id=default_plan_id)
    finally:
        for _name, sql in indexes:
            conn.exec_driver_sql(sql)
        conn.exec_driver_sql(f"PRAGMA cache_size = {previous}")


def _generate(conn: Any, cases: Sequence[DemoCase], *, today: dt.date, seed: int,
              staff_ids: Sequence[int], default_plan_id: int | None) -> Counts:
    rng = random.Random(seed)
    counts = Counts()
    staff = list(staff_ids) or [None]
    if default_plan_id is None:
        default_plan_id = conn.exec_driver_sql(
            "SELECT id FROM followup_plan_definition WHERE is_default = 1").scalar()
    ordered = sorted(cases, key=lambda c: (c.registered, c.case_id))
    if not ordered:
        return counts

    # 1. Who needs a place, when and for how long; then size the facilities from that demand.
    wants: list[tuple[DemoCase, dt.date, int, str]] = []
    demand: Counter = Counter()
    for case in ordered:
        if rng.random() < 0.55:
            admitted = case.registered + dt.timedelta(days=rng.choice((0, 0, 0, 1, 2, 5)))
            if admitted > today or (case.closed_on and admitted > case.closed_on):
                continue
            group = _group(case, admitted)
            nights = _stay_length(rng, group)
            wants.append((case, admitted, nights, group))
            demand[group] += max(nights, 1)
    span = max(30, (today - ordered[0].registered).days + 1)
    facility_rows: dict[str, int] = {}
    beds_of: dict[str, list[int]] = defaultdict(list)
    facilities_of: dict[str, list[tuple[FacilitySpec, int]]] = defaultdict(list)
    existing = {code for (code,) in conn.exec_driver_sql("SELECT code FROM facility")}
    opened = (ordered[0].registered - dt.timedelta(days=30)).isoformat()
    for spec in FACILITIES:
        if spec.code in existing:
            continue
        beds = max(2, round(demand[spec.group] / span * 1.15 * spec.share) + 1)
        cur = conn.exec_driver_sql(
            "INSERT INTO facility (code, name, kind, capacity, child_friendly, active, sexes, min_age, "
            "max_age, opened_on, closed_on, notes) VALUES (?, ?, ?, ?, ?, 1, ?, ?, ?, ?, NULL, ?)",
            (spec.code, spec.name, spec.kind, beds, int(spec.child_friendly),
             "[" + ",".join(f'"{s}"' for s in spec.sexes) + "]", spec.min_age, spec.max_age, opened,
             "Demo facility (synthetic)."),
        )
        fid = cur.lastrowid
        facility_rows[spec.code] = fid
        facilities_of[spec.group].append((spec, fid))
        first_bed = conn.exec_driver_sql("SELECT coalesce(max(id), 0) + 1 FROM bed").scalar()
        conn.exec_driver_sql(
            "INSERT INTO bed (id, facility_id, label, active) VALUES (?, ?, ?, 1)",
            [(first_bed + i, fid, f"{spec.bed_word} {i + 1}") for i in range(beds)],
        )
        beds_of[spec.code] = list(range(first_bed, first_bed + beds))
        counts.facilities += 1
        counts.beds += beds
    if not facility_rows:
        return counts  # already generated

    # 2. Hand out beds in admission order: each facility keeps a heap of (free from, bed id).
    free: dict[str, list[tuple[dt.date, int]]] = {
        code: [(dt.date.min, b) for b in beds_of[code]] for code in beds_of}
    for heap in free.values():
        heapq.heapify(heap)
    person_free: dict[int, dt.date] = {}
    stays: list[tuple] = []
    waiting: list[tuple] = []
    discharges: dict[int, tuple[dt.date, str]] = {}  # case → (discharge date, reason) ending its last stay
    stay_spans: dict[int, list[tuple[dt.date, dt.date | None]]] = defaultdict(list)

    def override(case: DemoCase, spec: FacilitySpec) -> str:
        # The services ask for a reason when eligibility cannot be confirmed: so does the demo.
        if case.age is None and (spec.min_age is not None or spec.max_age is not None):
            return "Age not recorded; placed on the case worker's assessment."
        return ""

    def place(group: str, day: dt.date, exclude: str | None = None) -> tuple[FacilitySpec, int, int] | None:
        options = [(spec, fid) for spec, fid in facilities_of[group] if spec.code != exclude]
        rng.shuffle(options)
        options.sort(key=lambda o: -o[0].share)
        for spec, fid in options:
            heap = free[spec.code]
            if heap and heap[0][0] <= day:
                _, bed_id = heapq.heappop(heap)
                return spec, fid, bed_id
        return None

    wants.sort(key=lambda w: (w[1], w[0].case_id))
    for case, admitted, nights, group in wants:
        if person_free.get(case.person_id, dt.date.min) > admitted:
            continue  # this person is still placed under another case
        spot = place(group, admitted)
        if spot is None:
            # Full: the case waits; it gets a place when a bed frees within two weeks, else not.
            soonest = min((free[s.code][0][0] for s, _ in facilities_of[group] if free[s.code]), default=None)
            target = facilities_of[group][0][1] if facilities_of[group] else None
            if target is None:
                continue
            if soonest is not None and soonest <= admitted + dt.timedelta(days=14) and soonest <= today:
                waiting.append((case.case_id, target, admitted.isoformat(), "Waiting for a free bed.",
                                soonest.isoformat(), "admitted"))
                admitted = soonest
                spot = place(group, admitted)
            else:
                resolved = admitted + dt.timedelta(days=14)
                waiting.append((case.case_id, target, admitted.isoformat(), "Waiting for a free bed.",
                                resolved.isoformat() if resolved <= today else None,
                                "placed elsewhere" if resolved <= today else ""))
                continue
            if spot is None:
                continue
        spec, fid, bed_id = spot
        end = admitted + dt.timedelta(days=nights)
        reason = _pick(rng, DISCHARGE_WEIGHTS)
        if reason == TRANSFER_REASON and end <= today and end > admitted and not (
                case.closed_on and end >= case.closed_on):
            nxt = place(group, end, exclude=spec.code)
            if nxt is not None:
                stays.append((case.case_id, fid, bed_id, admitted.isoformat(), None, end.isoformat(), reason,
                              override(case, spec)))
                stay_spans[case.case_id].append((admitted, end))
                heapq.heappush(free[spec.code], (end, bed_id))
                spec, fid, bed_id = nxt
                admitted, end = end, end + dt.timedelta(days=max(1, nights // 2))
            reason = _pick(rng, DISCHARGE_WEIGHTS[:-1])
        if case.closed_on and end > case.closed_on:
            end = max(admitted, case.closed_on)
        if end > today:  # still placed: the drawn date is the planned discharge
            stays.append((case.case_id, fid, bed_id, admitted.isoformat(), end.isoformat(), None, None,
                          override(case, spec)))
            stay_spans[case.case_id].append((admitted, None))
            heapq.heappush(free[spec.code], (end, bed_id))
            person_free[case.person_id] = end
            continue
        stays.append((case.case_id, fid, bed_id, admitted.isoformat(), None, end.isoformat(), reason,
                      override(case, spec)))
        stay_spans[case.case_id].append((admitted, end))
        heapq.heappush(free[spec.code], (max(end, admitted + ONE_DAY), bed_id))
        person_free[case.person_id] = max(end, admitted + ONE_DAY)
        discharges[case.case_id] = (end, reason)

    conn.exec_driver_sql(
        "INSERT INTO stay (case_id, facility_id, bed_id, admitted, planned_discharge, discharged, "
        "discharge_reason, eligibility_override, notes, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, '', '"
        + STAMP + "')",
        stays,
    )
    counts.stays = len(stays)
    if waiting:
        conn.exec_driver_sql(
            "INSERT INTO waiting_list_entry (case_id, facility_id, requested_on, note, resolved_on, resolution) "
            "VALUES (?, ?, ?, ?, ?, ?)", waiting)
    counts.waiting = len(waiting)

    # 3. Partner organisations for services given outside the office.
    partners = [pid for (pid,) in conn.exec_driver_sql(
        "SELECT id FROM organisation WHERE is_self = 0 AND active = 1 ORDER BY id LIMIT 8")]
    if not partners:
        for code, name, kind in PARTNERS:
            partners.append(conn.exec_driver_sql(
                "INSERT INTO organisation (code, name, org_type, country, is_self, active, notes) "
                "VALUES (?, ?, ?, NULL, 0, 1, 'Synthetic partner for the demo.')", (code, name, kind)).lastrowid)

    # 4. Services, plans and follow-ups, case by case.
    reintegration_reason = {r: f"discharged: {vocab.label(vocab.DISCHARGE_REASONS, r)}" for r in REINTEGRATION_REASONS}
    services: list[tuple] = []
    plans: list[tuple] = []
    followups: list[tuple] = []
    flags: list[tuple] = []
    next_plan_id = (conn.exec_driver_sql("SELECT coalesce(max(id), 0) FROM followup_plan").scalar() or 0) + 1
    # Millions of draws: tables and day numbers (ordinals) instead of rng.choices and timedelta.
    rand = rng.random
    kinds = _table(SERVICE_WEIGHTS)
    modes = _table(MODES)
    risky, calm = _table((("Low", 40), ("Medium", 35), ("High", 25))), _table((("Low", 75), ("Medium", 21), ("High", 4)))
    counts_of = (1, 2, 3, 3, 4, 4, 5, 6)
    planned_lengths = (14, 30, 90, 180, 365)
    service_lengths = (0, 7, 30, 60, 120, 240, 400)
    iso_cache: dict[int, str] = {}

    def iso(day: int) -> str:
        text = iso_cache.get(day)
        if text is None:
            text = iso_cache[day] = dt.date.fromordinal(day).isoformat()
        return text

    dues_cache: dict[int, tuple[int, ...]] = {}

    def dues_of(start: int) -> tuple[int, ...]:
        found = dues_cache.get(start)
        if found is None:
            first = dt.date.fromordinal(start)
            found = dues_cache[start] = tuple(add_months(first, m).toordinal() for m in DEFAULT_PLAN_MONTHS)
        return found

    today_n = today.toordinal()
    steps = tuple(min(4, 1 + m // 9) - 1 for m in DEFAULT_PLAN_MONTHS)
    for case in ordered:
        cid = case.case_id
        closed_n = case.closed_on.toordinal() if case.closed_on else None
        horizon = closed_n or today_n
        registered = case.registered.toordinal()
        # Services: accommodation for each stay, and a handful of others.
        for admitted, discharged in stay_spans.get(cid, ()):
            a = iso(admitted.toordinal())
            if discharged is None:
                services.append((cid, "Accommodation", None, "Safe accommodation", a, None, a, None, "Ongoing"))
            else:
                services.append((cid, "Accommodation", None, "Safe accommodation", a, None, a,
                                 iso(discharged.toordinal()), "Completed"))
        for _ in range(counts_of[int(rand() * 8)]):
            kind = kinds[int(rand() * len(kinds))]
            provider = None if rand() < 0.6 else partners[int(rand() * len(partners))]
            planned = registered + int(rand() * 90)
            planned_s = iso(planned)
            planned_end = iso(planned + planned_lengths[int(rand() * 5)])
            objective = OBJECTIVES[int(rand() * len(OBJECTIVES))]
            if planned > horizon:
                services.append((cid, kind, provider, objective, planned_s, planned_end, None, None,
                                 "Planned" if closed_n is None else "Cancelled"))
                continue
            start = min(horizon, planned + int(rand() * 15))
            end = start + service_lengths[int(rand() * 7)]
            if rand() < 0.05:
                services.append((cid, kind, provider, objective, planned_s, planned_end, None, None, "Cancelled"))
            elif end > horizon:
                if closed_n is not None:
                    services.append((cid, kind, provider, objective, planned_s, planned_end, iso(start),
                                     iso(closed_n), "Completed"))
                else:
                    services.append((cid, kind, provider, objective, planned_s, planned_end, iso(start), None,
                                     "Ongoing"))
            else:
                services.append((cid, kind, provider, objective, planned_s, planned_end, iso(start), iso(end),
                                 "Completed"))

        # A follow-up plan: from a discharge into reintegration, or from a decision.
        started = None
        plan_reason = ""
        if cid in discharges:
            day, reason = discharges[cid]
            if reason in REINTEGRATION_REASONS:
                started, plan_reason = day.toordinal(), reintegration_reason[reason]
        elif cid not in stay_spans and rand() < 0.75:
            started = registered + 7 + int(rand() * 53)
            plan_reason = "decision: reintegration in the community"
        if started is None or started > today_n or (closed_n is not None and started > closed_n):
            flags.append((None, 0, cid))
            continue
        plan_id = next_plan_id
        next_plan_id += 1
        risks = risky if rand() < 0.12 else calm  # some people stay in danger for a long time
        earliest_due: int | None = None
        last_done = -1
        last_risk = ""
        pending = 0
        for due, step in zip(dues_of(started), steps, strict=True):
            if closed_n is not None and (due > closed_n or rand() < 0.03):
                # Closing a case cancels every follow-up not done (tipdesk.services.casework).
                followups.append((cid, plan_id, iso(due), None, iso(closed_n), "Cancelled",
                                  None, None, None, None, None, None, "", "", ""))
                continue
            if closed_n is None and (due > today_n or rand() < (0.25 if today_n - due < 120 else 0.03)):
                followups.append((cid, plan_id, iso(due), None, None, "Scheduled",
                                  None, None, None, None, None, None, "", "", ""))
                pending += 1
                if earliest_due is None or due < earliest_due:
                    earliest_due = due
                if due < today_n:
                    counts.overdue += 1
                continue
            done = min(today_n, max(started, due - 5 + int(rand() * 17)))
            risk = risks[int(rand() * len(risks))]
            followups.append((
                cid, plan_id, iso(due), iso(done), None, "Done", modes[int(rand() * len(modes))],
                staff[int(rand() * len(staff))],
                min(5, 1 + int(rand() * 2) + step), min(5, 1 + int(rand() * 3) + step),
                min(5, 1 + int(rand() * 2) + step), risk,
                SAFETY_NOTES[int(rand() * len(SAFETY_NOTES))] if risk == "High" else "",
                OUTCOMES[int(rand() * len(OUTCOMES))], NEXT_ACTIONS[int(rand() * len(NEXT_ACTIONS))]))
            if done >= last_done:
                last_done, last_risk = done, risk
        if closed_n is not None:
            status, ended = "Cancelled", iso(closed_n)
        elif pending:
            status, ended = "Active", None
        else:
            status, ended = "Completed", iso(last_done if last_done >= 0 else today_n)
        plans.append((plan_id, cid, default_plan_id, iso(started), plan_reason, status, ended))
        counts.by_status[status] += 1
        high = int(last_risk == "High")
        counts.high_risk_cases += high
        flags.append((iso(earliest_due) if earliest_due is not None else None, high, cid))

    conn.exec_driver_sql(
        "INSERT INTO service (case_id, service_type, provider_org_id, objectives, planned_start, planned_end, "
        "actual_start, actual_end, status, notes, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, '', '"
        + STAMP + "')",
        services,
    )
    conn.exec_driver_sql(
        "INSERT INTO followup_plan (id, case_id, definition_id, started_on, reason, status, ended_on, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, '" + STAMP + "')",
        plans,
    )
    followups.sort(key=lambda r: (r[0], r[2]))
    conn.exec_driver_sql(
        "INSERT INTO followup (case_id, plan_id, due_date, done_date, cancelled_on, status, mode, done_by, "
        "score_economic, score_social, score_psychosocial, risk_level, safety_note, outcome, next_action) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        followups,
    )
    conn.exec_driver_sql("UPDATE case_file SET next_followup_due = ?, high_risk = ? WHERE id = ?", flags)
    counts.services, counts.plans, counts.followups = len(services), len(plans), len(followups)
    return counts

