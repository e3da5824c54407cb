"""Window figures, part 2: the shelter board of a 40-bed facility, and the dashboard of a year
on 100,000 cases — with the event loop's longest stall while it counts."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import statistics
import time
from pathlib import Path

from benchmarks.demo_register import DEMO_PASSWORD, demo_register
from benchmarks.harness import Context, Figure, within

SECTION = "ui2"
TITLE = "Window: shelter board and dashboard"
BOARD_TARGET_MS = 150
DASHBOARD_TARGET_MS = 1000
TICK_MS = 5
NOTES = """
Register: a copy of the `tipdesk demo --cases 100000` register of the other sections, to which
this section adds a facility of 40 named beds with 36 people placed (through the placement
service, every rule checked). Offscreen Qt, the real main window signed in as the demo
administrator. *Shelter board*: from asking for the board (the facility chosen, or the night
changed) until its 40 cards, occupancy summary and waiting list have been read on the operation
runner and painted; median of repeated opens. *Dashboard*: from choosing the year 2025 (a
period that has ended, so its figures are the return's) until all four sections — persons
identified (T1–T4), shelter (T5 and occupancy), follow-ups, trends over eight quarters — are
computed and drawn; the sections are counted in two lanes side by side on the operation runner's
two threads (persons identified, shelter, then trends; follow-ups alone — mostly SQLite's work,
which lets go of the interpreter), each chart drawn in its own turn of the event loop, nothing cached
(each run starts afresh: no result is kept between runs).
*Event-loop stall*: a timer on the GUI thread ticking every 5 ms while the dashboard counts; the
figure is the longest time between two ticks, i.e. the longest the window could not respond to
a key or a click (100 ms is the usual bound of "instant"). *Core, one thread*: `exports.dashboard.dashboard`
for the same year without any window, the sections one after the other (what the counting
costs). The machine's load and a plain Python loop's time are noted: this 2-core machine is
shared, and the figures scale with both.
"""


def _pump_until(condition, timeout_s: float = 120.0) -> None:  # noqa: ANN001
    from PySide6.QtWidgets import QApplication

    deadline = time.perf_counter() + timeout_s
    while not condition():
        if time.perf_counter() > deadline:
            raise TimeoutError("the window did not reach the expected state in time")
        QApplication.processEvents()
        time.sleep(0.0005)


def _prepare(ctx: Context) -> tuple[Path, int]:
    """A copy of the demo register with a 40-bed facility, 36 people placed; its facility id."""
    from sqlalchemy import text

    from tipdesk.errors import ValidationError
    from tipdesk.services import facilities, placements
    from tipdesk.services.facilities import FacilityFields
    from tipdesk.vault import files
    from tipdesk.vault.register import open_register

    source = demo_register(ctx).path
    path = ctx.workdir / "ui2-bench.tipdb"
    for old in [path, files.keys_path(path), *files.sidecar_paths(path)]:
        if old.exists():
            old.unlink()
    for src, dst in ((source, path), (files.keys_path(source), files.keys_path(path))):
        shutil.copyfile(src, dst)
        dst.chmod(0o600)
    reg = open_register(path, "admin", DEMO_PASSWORD)
    try:
        beds = tuple(f"Bed {i + 1:02d}" for i in range(40))
        made = facilities.create_facility(reg, FacilityFields(code="BIG", name="Benchmark House", bed_labels=beds))
        today = dt.date.today()
        with reg.read() as s:
            # open cases whose person is not placed anywhere now
            free = [r[0] for r in s.execute(text(
                "SELECT c.id FROM case_file c WHERE c.case_status IN ('Active', 'FollowUp') AND NOT EXISTS "
                "(SELECT 1 FROM stay t JOIN case_file o ON o.id = t.case_id WHERE o.person_id = c.person_id "
                "AND (t.discharged IS NULL OR t.discharged > :d)) ORDER BY c.id DESC LIMIT 80"), {"d": today})]
        placed = 0
        for case_id in free:
            if placed == 36:
                break
            try:
                placements.admit(reg, case_id, made.id, today, bed_id=made.beds[placed].id)
            except ValidationError:  # the person has another stay that night: the next case
                continue
            placed += 1
        if placed < 36:
            raise RuntimeError("not enough cases to fill the benchmark facility")
        return path, made.id
    finally:
        reg.close()


def _window(path: Path):  # noqa: ANN202
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from tipdesk.vault.register import open_register
    from ui.app import make_application
    from ui.main_window import MainWindow
    from ui.operations import OperationRunner

    make_application()
    window = MainWindow(path, OperationRunner())
    window.resize(1180, 760)
    window.show()
    window.attach(open_register(path, "admin", DEMO_PASSWORD))
    return window


def board_ms(window, facility_id: int, runs: int) -> tuple[float, float]:  # noqa: ANN001
    """Median and slowest time to read and paint the board of the 40-bed facility."""
    from PySide6.QtCore import QDate

    window.go("shelter")
    page = window.page("shelter")
    _pump_until(lambda: bool(page.facilities) and not window.runner.busy)
    samples = []
    for i in range(runs + 2):
        start = time.perf_counter()
        index = page.facility_combo.findData(facility_id)
        if page.facility_combo.currentIndex() != index:
            page.facility_combo.setCurrentIndex(index)  # asks for the board
        else:  # another night, then back: each is a fresh read
            page.date_edit.setDate(QDate.currentDate().addDays(-(i % 3)))
        _pump_until(lambda: page.board_current)
        page.board.viewport().repaint()
        elapsed = (time.perf_counter() - start) * 1000
        assert page.board.board_model.rowCount() == 40
        if i >= 2:  # the first opens warm the caches
            samples.append(elapsed)
    return statistics.median(samples), max(samples)


def dashboard_ms(window, runs: int) -> dict[str, float]:  # noqa: ANN001
    """Time until every section of the year 2025 is drawn, and the longest event-loop stall."""
    from PySide6.QtCore import QTimer

    from tipdesk.counting import parse_period

    window.go("dashboard")
    page = window.page("dashboard")
    _pump_until(lambda: page.complete and not window.runner.busy)
    totals, stalls, firsts = [], [], []
    for _ in range(runs):
        ticks: list[float] = []
        timer = QTimer()
        timer.setInterval(TICK_MS)
        timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
        timer.start()
        _pump_until(lambda: len(ticks) > 3)
        start = time.perf_counter()
        page.show_period(parse_period("2025"), use_cache=False)
        _pump_until(lambda: page.complete)
        page.repaint()
        end = time.perf_counter()
        timer.stop()
        totals.append((end - start) * 1000)
        firsts.append(min(page.section_ms.values()))
        during = [t for t in ticks if t >= start] + [end]
        gaps = [b - a for a, b in zip([start, *during], during, strict=False)]
        stalls.append(max(gaps) * 1000)
        _pump_until(lambda: not window.runner.busy)
    return {"total": statistics.median(totals), "slowest": max(totals), "first": statistics.median(firsts),
            "stall": max(stalls), "stall_median": statistics.median(stalls)}


def core_ms(path: Path, runs: int, period: str = "2025") -> tuple[float, int, int]:
    """The dashboard's counting alone, one section after the other: median ms, victims, follow-ups."""
    from exports import dashboard
    from tipdesk.counting import parse_period
    from tipdesk.vault.register import open_register

    reg = open_register(path, "admin", DEMO_PASSWORD)
    try:
        samples, result = [], None
        for _ in range(runs + 1):
            start = time.perf_counter()
            result = dashboard.dashboard(reg, parse_period(period))
            samples.append((time.perf_counter() - start) * 1000)
        assert result is not None
        return statistics.median(samples[1:]), result.victims, result.followups.due
    finally:
        reg.close()


def python_loop_ms() -> float:
    start = time.process_time()
    total = 0
    for i in range(5_000_000):
        total += i
    return (time.process_time() - start) * 1000


def run(ctx: Context) -> list[Figure]:
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    loop = python_loop_ms()
    path, facility_id = _prepare(ctx)
    runs = 3 if ctx.quick else 7
    window = _window(path)
    try:
        board, board_worst = board_ms(window, facility_id, runs * 2)
        dash = dashboard_ms(window, runs)
    finally:
        window._closing_confirmed = True
        window.close()
    core, victims, due = core_ms(path, max(2, runs // 2))
    quarter, q_victims, _q_due = core_ms(path, max(2, runs // 2), "2025-Q3")
    small = demo_register(ctx, cases=10_000) if not ctx.quick else demo_register(ctx)
    small_year, s_victims, _s_due = core_ms(small.path, max(2, runs // 2))
    figures = [
        Figure("open the shelter board of a 40-bed facility (36 placed), median", board, "ms",
               f"≤ {BOARD_TARGET_MS} ms", within(board, BOARD_TARGET_MS), f"slowest {board_worst:,.0f} ms"),
        Figure("dashboard of a year (2025), every chart drawn, median", dash["total"], "ms",
               f"≤ {DASHBOARD_TARGET_MS} ms", within(dash["total"], DASHBOARD_TARGET_MS),
               f"slowest {dash['slowest']:,.0f} ms; {victims:,} victims identified, {due:,} follow-ups due"),
        Figure("… first section drawn", dash["first"], "ms", "", None, "the others follow as they finish"),
        Figure("… longest event-loop stall while it counts", dash["stall"], "ms", "≤ 100 ms",
               within(dash["stall"], 100), f"median of the runs' longest: {dash['stall_median']:,.0f} ms"),
        Figure("dashboard counting alone, one thread, sections in turn (the year)", core, "ms", "", None,
               "no window"),
        Figure("… a quarter (2025-Q3) of the same register", quarter, "ms", "", None,
               f"{q_victims:,} victims identified"),
        Figure(f"… a year on a {small.cases:,}-case register", small_year, "ms", "≤ 1000 ms",
               within(small_year, DASHBOARD_TARGET_MS), f"{s_victims:,} victims identified"),
        Figure("machine: load average (1 min) when the section started", load, "", "", None,
               "2 cores shared with other work"),
        Figure("machine: a 5,000,000-step Python loop (CPU time)", loop, "ms", "", None,
               "≈ 250 ms on a recent laptop"),
    ]
    return figures
