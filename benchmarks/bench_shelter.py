"""Shelter, services and follow-up figures on a 100,000-case register with over a million
service and follow-up rows: occupancy, T5 for a quarter, the overdue and due-this-week queues,
and recording a follow-up visit — each beside the same SQL run raw on the same register.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import time
from pathlib import Path
from typing import Any

from benchmarks.harness import Context, Figure, median_ms
from tipdesk import counting
from tipdesk.demo import make_demo_register
from tipdesk.security import audit
from tipdesk.services import followup, placements
from tipdesk.vault.engine import connect_raw
from tipdesk.vault.register import Register, open_register

SECTION = "shelter"
TITLE = "Shelter, services and follow-up"
PASSWORD = "benchmark-password"
CASES = 100_000
QUICK_CASES = 5_000
NOTES = """
The register is the one `tipdesk demo PATH --cases 100000` makes (built once per day in the
work folder; its build time is shown when this run built it): its shelter step adds facilities
with named beds, stays, waiting-list entries, services, follow-up plans and follow-ups.

Each service call is one unit of work of the vault (a pooled keyed connection): it checks the
permission, runs its statements and returns frozen dataclasses. "The same SQL raw" runs the
service's own statements (the constants in `placements`, `followup`) through an open
`sqlcipher3` connection and fetches the rows, nothing more. Recording a visit is one
`BEGIN IMMEDIATE` transaction: read the follow-up with its case's flags, validate, update it,
refresh the case's derived columns (and count what is left of its plan, in the same statement),
append an audit event (old → new), commit with `synchronous=FULL`; its raw twin runs the same
statements by hand. "Today" is the run date. The machine's load is noted: the figures scale with it.
"""


# --- building the register -------------------------------------------------------------------------


def build(ctx: Context, today: dt.date) -> tuple[Path, dict[str, float]]:
    """The demo register of ``tipdesk demo`` (kept in the work folder between runs of one day),
    and the seconds its build took (kept beside it, so a later run can still report them)."""
    n = QUICK_CASES if ctx.quick else CASES
    path = ctx.workdir / f"shelter-bench-{n}-{today.isoformat()}.tipdb"
    timings = path.with_name(path.name + ".build.json")
    if path.exists():
        return path, json.loads(timings.read_text()) if timings.exists() else {}
    for p in ctx.workdir.glob(f"shelter-bench-{n}-*"):
        p.unlink()
    cpu = time.process_time()
    result = make_demo_register(path, cases=n, admin_password=PASSWORD, today=today)
    info = {**result.seconds, "cpu": time.process_time() - cpu, "load": os.getloadavg()[0]}
    timings.write_text(json.dumps(info))
    return path, info


# --- measuring ---------------------------------------------------------------------------------------


def _raw_ms(raw: Any, statements: list[tuple[str, dict]], repeat: int) -> float:
    """Median ms of the service's own statements on an open keyed connection, rows fetched."""

    def run() -> None:
        for sql, params in statements:
            raw.execute(sql, params).fetchall()

    return median_ms(run, repeat=repeat)


def _ratio_figure(what: str, ms: float, raw_ms: float, target_ms: float) -> list[Figure]:
    ratio = ms / raw_ms if raw_ms else float("inf")
    return [
        Figure(what, ms, "ms", f"≤ {target_ms:g} ms", ms <= target_ms, f"the same SQL raw: {raw_ms:.2f} ms"),
        Figure("  … ratio to the same SQL run raw", ratio, "×", "≤ 2×", ratio <= 2.0),
    ]


def run(ctx: Context) -> list[Figure]:
    today = dt.date.today()
    path, info = build(ctx, today)
    reg = open_register(path, "admin", PASSWORD)
    raw = connect_raw(path, reg.key_bytes_for_backup())
    repeat = 15 if ctx.quick else 41
    figures: list[Figure] = [Figure("machine load average (1 min) when the queries started", os.getloadavg()[0], "",
                                    "", None, "2 cores shared with other work: figures scale with it")]
    try:
        counts = raw.execute(
            "SELECT (SELECT count(*) FROM case_file), (SELECT count(*) FROM service), "
            "(SELECT count(*) FROM followup), (SELECT count(*) FROM stay), "
            "(SELECT count(*) FROM followup WHERE status = 'Scheduled' AND due_date < ?)",
            (today.isoformat(),)).fetchone()
        cases, services, fups, stays, overdue_n = counts
        figures.append(Figure("register: cases", cases, "", "100,000", None if ctx.quick else cases >= 100_000))
        figures.append(Figure("register: service + follow-up rows", services + fups, "", "≥ 1,000,000",
                              None if ctx.quick else services + fups >= 1_000_000,
                              f"{services:,} services, {fups:,} follow-ups, {stays:,} stays, {overdue_n:,} overdue"))
        if "total" in info:
            figures.append(Figure("tipdesk demo --cases 100000, whole register", info["total"], "s",
                                  "≤ 180 s", None if ctx.quick else info["total"] <= 180,
                                  f"of which the shelter step {info.get('shelter', 0):.1f} s; "
                                  f"{info.get('cpu', 0):.0f} s of CPU in all; load {info.get('load', 0):.1f} "
                                  "at the end of the build"))

        # Occupancy of every facility on a date (today, and a day three years back).
        for label, day in (("today", today), ("three years ago", today - dt.timedelta(days=1095))):
            ms = median_ms(lambda d=day: placements.occupancy(reg, d), repeat=repeat)
            raw_ms = _raw_ms(raw, [(placements.OCCUPANCY_SQL, {"d": day.isoformat()}),
                                   (placements.FACILITIES_SQL, {})], repeat)
            figures += _ratio_figure(f"occupancy of all facilities on a date ({label})", ms, raw_ms, 50)

        period = counting.last_complete_quarter(today)
        ms = median_ms(lambda: placements.shelter_figures(reg, period), repeat=repeat)
        raw_ms = _raw_ms(raw, [(placements.T5_SQL, placements.t5_params(period)),
                               ("SELECT id, code, name, capacity, opened_on, closed_on FROM facility ORDER BY code",
                                {})], repeat)
        figures += _ratio_figure(f"T5 figures for a quarter ({period.code})", ms, raw_ms, 50)

        params = {"today": today.isoformat(), "limit": 50, "offset": 0}
        ms = median_ms(lambda: followup.overdue(reg, today), repeat=repeat)
        raw_ms = _raw_ms(raw, [(followup.OVERDUE_COUNT_SQL, {"today": today.isoformat()}),
                               (followup.OVERDUE_SQL, params)], repeat)
        figures += _ratio_figure("overdue queue, first page of 50 (with its total)", ms, raw_ms, 30)

        last = today + dt.timedelta(days=followup.DUE_WINDOW_DAYS - 1)
        week = {"first": today.isoformat(), "last": last.isoformat()}
        ms = median_ms(lambda: followup.due_this_week(reg, today), repeat=repeat)
        raw_ms = _raw_ms(raw, [(followup.DUE_COUNT_SQL, week),
                               (followup.DUE_SQL, {**week, "limit": 50, "offset": 0})], repeat)
        figures += _ratio_figure("due-this-week queue, first page of 50 (with its total)", ms, raw_ms, 30)

        figures += _record_visit(reg, raw, today, 30 if ctx.quick else 101)
    finally:
        raw.close()
        reg.close()
    return figures


def _record_visit(reg: Register, raw: Any, today: dt.date, repeat: int) -> list[Figure]:
    """Record visits on follow-ups due in the future (so each run records a fresh one)."""
    ids = [r[0] for r in raw.execute(
        "SELECT id FROM followup WHERE status = 'Scheduled' AND due_date > ? ORDER BY id LIMIT ?",
        (today.isoformat(), 2 * (repeat + 4))).fetchall()]
    n = repeat + 4
    mine, theirs = iter(ids[:n]), iter(ids[n:])
    visit = followup.Visit(done_date=today, mode="HomeVisit", risk_level="Low", score_economic=3,
                           score_social=4, score_psychosocial=3, outcome="Doing well.", next_action="Call next month.")

    ms = median_ms(lambda: followup.record_followup(reg, next(mine), visit, today=today), repeat=repeat)

    def raw_visit(raw: Any, fid: int) -> None:
        raw.execute("BEGIN IMMEDIATE")
        case_id, plan_id = raw.execute(
            "SELECT f.case_id, f.plan_id, c.next_followup_due, c.high_risk FROM followup f "
            "JOIN case_file c ON c.id = f.case_id WHERE f.id = ?", (fid,)).fetchone()[:2]
        raw.execute(
            "UPDATE followup SET done_date = ?, status = 'Done', mode = 'HomeVisit', done_by = ?, "
            "score_economic = 3, score_social = 4, score_psychosocial = 3, risk_level = 'Low', "
            "safety_note = '', outcome = 'Doing well.', next_action = 'Call next month.' WHERE id = ?",
            (today.isoformat(), reg.actor.id, fid))
        raw.execute(followup.REFRESH_RETURNING_SQL, {"case_id": case_id, "plan_id": plan_id}).fetchone()
        prev_id, prev_hash = raw.execute("SELECT id, hash FROM audit_event ORDER BY id DESC LIMIT 1").fetchone()
        details = audit.canonical_details({"status": ["Scheduled", "Done"], "case_id": case_id})
        digest = audit.sha256_hex(details)
        at = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        chained = audit.event_hash(prev_id + 1, at, reg.actor.id, reg.actor.username, "followup_recorded",
                                   "followup", fid, digest, prev_hash)  # keeps the chain valid
        raw.execute(
            "INSERT INTO audit_event (id, at, user_id, username, action, entity, entity_id, details, "
            "details_hash, erased_at, prev_hash, hash) VALUES (?, ?, ?, ?, 'followup_recorded', 'followup', ?, ?, ?, "
            "NULL, ?, ?)",
            (prev_id + 1, at, reg.actor.id, reg.actor.username, fid, details, digest, prev_hash, chained))
        raw.execute("COMMIT")

    raw_ms = median_ms(lambda: raw_visit(raw, next(theirs)), repeat=repeat)
    return _ratio_figure("record a follow-up visit (validation + audit, committed)", ms, raw_ms, 15)
