"""Case register figures on a 100,000-case demo register: search, lists, counts, opening and
saving a case, the duplicate warning, the demo generator itself, and each query's own SQL run
directly on the same register for comparison."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import statistics
import time
from collections.abc import Callable
from dataclasses import replace
from itertools import count

from sqlalchemy import event

from benchmarks.demo_register import DEMO_PASSWORD, demo_register
from benchmarks.harness import Context, Figure, median_ms
from tipdesk.services import cases, duplicates, search
from tipdesk.services.persons import PersonInput
from tipdesk.services.search import CaseFilter
from tipdesk.vault.engine import connect_raw
from tipdesk.vault.register import Register, open_register

SECTION = "cases"
TITLE = "Case register: search, lists, case records, duplicate warning, demo data"
_NOTES = """
Register: `tipdesk demo PATH --cases 100000` (seed 1), timed end to end as a command (Argon2id
calibration and one key slot per demo user included), then opened as the demo administrator.
Each figure is the median of repeated calls of the service the window uses (permission check,
SQL, building the frozen rows; for opening a case also its `case_viewed` audit event, and for
saving also validation, old → new audit events and the commit with `synchronous=FULL`).
"Raw SQL" replays the very statements that service call sent, with the same parameters, on a
plain sqlcipher3 connection to a byte copy of the register (warmed up the same way); replayed
writes commit there, with the same `synchronous=FULL`. CPU: this process's CPU time, which the
load of other programs on a shared machine inflates less than wall time. The
duplicate check's raw figure is its candidate query alone (the service adds rapidfuzz scoring).
Filter of the list and count figures: trafficking status Possible, sex Female, sexual
exploitation, registered 2022-01-01 to 2024-12-31.
"""
NOTES = _NOTES

REPEAT = 15


class SqlRecorder:
    """Records every statement (with its parameters) an engine sends while active."""

    def __init__(self, reg: Register) -> None:
        self.engine = reg.engine
        self.statements: list[tuple[str, object]] = []
        self.active = False
        event.listen(self.engine, "before_cursor_execute", self._seen)

    def _seen(self, conn, cursor, statement, parameters, context, executemany) -> None:  # noqa: ANN001
        if self.active:
            self.statements.append((statement, parameters))

    def capture(self, fn: Callable[[], object]) -> list[tuple[str, object]]:
        self.statements, self.active = [], True
        try:
            fn()
        finally:
            self.active = False
        return list(self.statements)

    def close(self) -> None:
        event.remove(self.engine, "before_cursor_execute", self._seen)


def _replay(raw, statements: list[tuple[str, object]]) -> Callable[[], None]:
    """Run the recorded statements directly; a write transaction they open is committed (on the
    copy of the register), a read transaction ended.

    Two adjustments let recorded writes run again: the audit event's id is left to SQLite (the
    recorded one is taken), and the optimistic version check of a case update is dropped (the
    recorded version is no longer current); the work done is the same.
    """
    adjusted = []
    for sql, params in statements:
        if sql.startswith("INSERT INTO audit_event") and params:
            params = (None, *tuple(params)[1:])
        if " AND case_file.version = ?" in sql and params:
            sql, params = sql.replace(" AND case_file.version = ?", ""), tuple(params)[:-1]
        adjusted.append((sql, params))
    statements = adjusted

    def run() -> None:
        cur = raw.cursor()
        try:
            for sql, params in statements:
                if sql.startswith("BEGIN") and raw.in_transaction:
                    raw.execute("COMMIT")  # the next recorded unit of work begins
                cur.execute(sql, params or ()).fetchall()
            if raw.in_transaction:
                raw.execute("COMMIT")
        finally:
            if raw.in_transaction:
                raw.execute("ROLLBACK")
            cur.close()

    return run


def _wall_and_cpu_ms(fn: Callable[[], object]) -> tuple[float, float]:
    """Medians of wall time and of this process's CPU time (which other programs' load on the
    machine does not inflate as much), in milliseconds."""
    for _ in range(2):
        fn()
    wall, cpu = [], []
    for _ in range(REPEAT):
        w, c = time.perf_counter(), time.process_time()
        fn()
        cpu.append((time.process_time() - c) * 1000)
        wall.append((time.perf_counter() - w) * 1000)
    return statistics.median(wall), statistics.median(cpu)


def run(ctx: Context) -> list[Figure]:
    global NOTES
    figures: list[Figure] = []
    demo = demo_register(ctx)
    n = demo.cases
    if demo.seconds is not None:
        limit = 180 * n / 100_000
        figures.append(Figure(f"`tipdesk demo --cases {n:,}`", demo.seconds, "s",
                              f"≤ {limit:.0f} s", demo.seconds <= limit))
    else:
        figures.append(Figure(f"`tipdesk demo --cases {n:,}`", None, "s", "≤ 180 s", None,
                              "register reused from --workdir; not timed"))
    figures.append(Figure("register size per 1,000 cases", demo.size_bytes / 1e6 / (n / 1000), "MB",
                          "", None, f"{demo.size_bytes / 1e6:,.0f} MB in all"))

    # The raw replays run on a byte copy of the register, so that replayed writes can commit
    # (fsync included, like the service) without touching the benchmark register.
    copy = demo.path.with_name(demo.path.stem + "-raw.tipdb")
    for suffix in ("", "-wal"):
        source = demo.path.with_name(demo.path.name + suffix)
        target = copy.with_name(copy.name + suffix)
        if source.exists():
            shutil.copyfile(source, target)
            target.chmod(0o600)
        elif target.exists():
            target.unlink()
    reg = open_register(demo.path, "admin", DEMO_PASSWORD)
    recorder = SqlRecorder(reg)
    raw = connect_raw(copy, reg.key_bytes_for_backup())
    try:
        def measure(what: str, fn: Callable[[], object], target: float | None,
                    sql_note: str = "", replay: list[tuple[str, object]] | None = None) -> None:
            statements = replay if replay is not None else recorder.capture(fn)
            service, cpu = _wall_and_cpu_ms(fn)
            direct = median_ms(_replay(raw, statements), repeat=REPEAT, warmup=2)
            ratio = service / direct if direct > 0 else None
            figures.append(Figure(what, service, "ms", f"≤ {target:.0f} ms" if target else "",
                                  service <= target if target else None,
                                  "; ".join(x for x in (f"CPU {cpu:.1f} ms", sql_note) if x)))
            figures.append(Figure(f"… same SQL run directly ({len(statements)} statements)", direct,
                                  "ms", "", None,
                                  f"service ÷ raw = {ratio:.1f}× (goal ≤ 2×)" if ratio else ""))

        measure("name search (\"mar\": prefix of 6 % of names), first page of 100",
                lambda: search.list_cases(reg, CaseFilter(text="mar"), limit=100), 30)
        measure("name search (full name \"María González\"), first page of 100",
                lambda: search.list_cases(reg, CaseFilter(text="María González"), limit=100), 30)
        flt = CaseFilter(trafficking_status=("PossibleVictimOfTrafficking",), sex=("Female",),
                         exploitation_category=("Sexual exploitation",),
                         registered_from=dt.date(2022, 1, 1), registered_to=dt.date(2024, 12, 31))
        measure("filtered list, first page of 100 (status + sex + exploitation + dates)",
                lambda: search.list_cases(reg, flt, limit=100), 30)
        measure("total count for the same filter", lambda: search.count_cases(reg, flt), 50)
        wide = CaseFilter(case_status=("Closed", "ClosedReferred"), age_group=("0-17",))
        measure("list: closed children, first page (no equality index applies)",
                lambda: search.list_cases(reg, wide, limit=100), None)
        measure("list sorted by name, first page", lambda: search.list_cases(
            reg, CaseFilter(), sort="name", descending=False, limit=100), None)
        measure("search with a typing error (\"Jonhson\"), first page",
                lambda: search.list_cases(reg, CaseFilter(text="Jonhson"), limit=100), None)

        ids = iter(range(1, n + 1, max(1, n // 997)))
        measure("open one case with everything attached (audited view)",
                lambda: cases.get_case(reg, next(ids)), 20)

        detail = cases.get_case(reg, n // 2)
        state = {"detail": detail}

        def save() -> None:
            d = state["detail"]
            note = "checked " + ("a" if d.notes.endswith("b") else "b")
            state["detail"] = cases.update_case(reg, d.id, replace(d.to_input(), notes=note),
                                                person=d.person.to_input(), expected_version=d.version)

        measure("save an edited case (validation + audit + commit)", save, 15)

        people = [
            PersonInput("Shanice", "Campbel", birth_date=dt.date(2001, 3, 4), gender="Feminine"),
            PersonInput("Maria Jose", "Gonzales", birth_date=dt.date(1998, 7, 12), gender="Feminine"),
            PersonInput("Kemar", "Brown", estimated_age=24, gender="Masculine"),
        ]
        turn = count()
        replay = []
        for person in people:
            replay += recorder.capture(lambda person=person: duplicates.find_duplicates(reg, person))
        measure("duplicate check of a new person against all persons (3 people in turn)",
                lambda: duplicates.find_duplicates(reg, people[next(turn) % len(people)]), 150,
                replay=replay)
        figures[-1].value = (figures[-1].value or 0) / len(people)  # raw: per person, like the service
        ratio = figures[-2].value / figures[-1].value if figures[-1].value else None
        figures[-1].note = f"candidate queries only; service ÷ raw = {ratio:.1f}×" if ratio else ""
        with reg.read() as s:
            persons_total = s.connection().exec_driver_sql("SELECT count(*) FROM person").scalar()
        figures[-2].note = f"{persons_total:,} persons"
    finally:
        raw.close()
        recorder.close()
        reg.close()
    try:
        load = os.getloadavg()
        NOTES = _NOTES.rstrip() + (f"\nLoad average at the end of the run: {load[0]:.1f} / {load[1]:.1f} / "
                                  f"{load[2]:.1f} (1/5/15 min; other programs on the same cores).\n")
    except OSError:
        pass
    return figures

