"""Returns: export a year of the 100,000-case demo register, validate it, and read a return at
the standard's limit (500,000 line-list rows). Each measurement runs in its own subprocess so
that its peak memory (max RSS) is its own.

The register is the one ``tipdesk demo`` makes for every section (``benchmarks/demo_register``):
cases, persons, status histories, screenings, referrals, justice stages, and the shelter step's
stays, services, follow-up plans and follow-ups.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import pickle
import random
import subprocess
import sys
import textwrap
from pathlib import Path

from benchmarks.demo_register import DEMO_PASSWORD, demo_register
from benchmarks.harness import Context, Figure

SECTION = "returns"
TITLE = "Returns (TIP-RETURN/1): export, validate"
LIMIT_ROWS = 500_000
NOTES = """
Register: the 100,000-case `tipdesk demo` register shared by the sections; the return is the year
2025. Export = compute the line list from the source tables, tables T1–T8, write the workbook
into a private folder beside the target and rename it into place (the register is opened before
the clock starts). The workbook is openpyxl's write-only workbook; the rows of LineList and Stays
are serialised by tipdesk straight into openpyxl's part streams, byte for byte as openpyxl
writes them (a test compares the two), because openpyxl builds an element tree per cell.
Baseline = openpyxl's write-only mode writing exactly the same cell values (all sheets), through
its own per-cell path, with no computation and no styles, measured in the same run — so a ratio
below 1 means that tipdesk computes and writes a return in less time than openpyxl alone needs to
write its cells. Validate = container checks (sizes, every
part inflated through a bounded loop, DTD and formula scans), python-calamine read, every check
of the standard, the digest and the recomputation of every table. Peak memory is the maximum
resident set size of the subprocess doing the work (including the Python interpreter, ~40 MB).
"""

ROOT = Path(__file__).resolve().parent.parent


def _child(code: str, *args: str) -> dict:
    """Run ``code`` in a fresh interpreter; it prints one JSON line; add its peak RSS in MB."""
    wrapper = textwrap.dedent("""
        import json, resource, sys, time
        sys.path.insert(0, %r)
        result = {}
        def main():
        %s
        main()
        # VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the forking parent across exec.
        with open("/proc/self/status") as fh:
            result["peak_mb"] = next(int(l.split()[1]) for l in fh if l.startswith("VmHWM")) / 1024
        print(json.dumps(result))
    """) % (str(ROOT), textwrap.indent(textwrap.dedent(code), "    "))
    proc = subprocess.run([sys.executable, "-c", wrapper, *args], capture_output=True, text=True, cwd=ROOT,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    if proc.returncode != 0:
        raise RuntimeError(f"benchmark child failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


EXPORT = """
import datetime as dt
from pathlib import Path
from exports.returns import service
from tipdesk.counting import parse_period
from tipdesk.vault.register import open_register
with open_register(Path(sys.argv[1]), "admin", sys.argv[2]) as reg:  # unlocking is not the export
    t, c = time.perf_counter(), time.process_time()
    written = service.export_return(reg, parse_period(sys.argv[3]), Path(sys.argv[4]))
    result["seconds"] = time.perf_counter() - t
    result["cpu"] = time.process_time() - c
result["rows"] = written.meta.line_count
result["stays"] = written.meta.stay_count
"""

BASELINE = """
import pickle
from openpyxl import Workbook
sheets = pickle.loads(Path(sys.argv[1]).read_bytes())
t, c = time.perf_counter(), time.process_time()
wb = Workbook(write_only=True)
for name, rows in sheets:
    ws = wb.create_sheet(name)
    for row in rows:
        ws.append(row)
wb.save(sys.argv[2])
result["seconds"] = time.perf_counter() - t
result["cpu"] = time.process_time() - c
""".replace("import pickle", "import pickle\nfrom pathlib import Path")

VALIDATE = """
from pathlib import Path
from exports.returns.reader import check_file
t, c = time.perf_counter(), time.process_time()
report = check_file(Path(sys.argv[1]))
result["seconds"] = time.perf_counter() - t
result["cpu"] = time.process_time() - c
result["ok"] = report.ok
result["problems"] = [str(p) for p in report.problems[:5]]
result["rows"] = len(report.ret.line_list) if report.ret else None
"""


def _cells_of(path: Path) -> list[tuple[str, list[list[object]]]]:
    """Every sheet's cell values as written (read back), for the baseline."""
    from python_calamine import CalamineWorkbook

    wb = CalamineWorkbook.from_path(str(path))
    out = []
    for name in wb.sheet_names:
        rows = [[None if v == "" else (int(v) if isinstance(v, float) and v.is_integer() else v) for v in r]
                for r in wb.get_sheet_by_name(name).iter_rows()]
        out.append((name, rows))
    return out


def build_limit_return(target: Path, rows: int) -> None:
    """A valid return with ``rows`` line-list rows, written by tipdesk's own writer."""
    from exports.returns import spec, tables
    from exports.returns.keys import case_key
    from exports.returns.prepare import PreparedReturn
    from exports.returns.writer import write_return
    from tipdesk.counting import parse_period

    period = parse_period("2025")
    rnd = random.Random(5)
    keys = sorted(case_key(b"s" * 32, i) for i in range(rows))
    line = []
    for key in keys:
        reg_date = dt.date(2025, 1, 1) + dt.timedelta(days=rnd.randrange(365))
        age = rnd.choice((None, rnd.randrange(5, 70)))
        line.append(spec.LineRow(
            case_key=key, person_key=f"{rnd.getrandbits(128):032x}", registered=reg_date,
            identified_in_period=True, status=rnd.choice(sorted(spec.TRAFFICKING_STATUSES)),
            status_decided_by="Police", sex=rnd.choice(spec.SEXES), age_group=("unknown" if age is None else
                                                                                ("0-17" if age < 18 else "18+")),
            age=age, citizenship=("JAM", "HTI")[: rnd.choice((1, 2))], scope="Transnational",
            exploitation=("ForcedLabour", "SexualExploitation"), labour_industry="F_Construction",
            sex_exploitation=("Prostitution",), methods_of_control=("DebtBondage", "PhysicalThreats"),
            relationship_to_trafficker="Acquainted", identified_by="NGO", services_in_period=("Health", "Legal"),
            followups_due=1, followups_done=1, followups_overdue=0, active_followup=True,
            justice_in_period=("Reported to police",), case_status="Active", closed=None))
    facilities = (spec.FacilityRow("SH01", "Shelter", 20, False),)
    table_map = tables.all_tables(line, (), facilities, period)
    meta = spec.ReturnMeta(
        org_code="BENCH", org_name="Benchmark office", org_type="NGO", country="JAM", period="2025",
        period_start=period.start, period_end=period.end, generated_at=dt.datetime(2026, 1, 5, tzinfo=dt.UTC),
        software="tipdesk", software_version="bench", suppressed=False, linkage_key_id="0123abcd",
        line_count=rows, stay_count=0)
    prepared = PreparedReturn(meta, tuple(line), (), facilities, table_map, "benchmark")
    if target.exists():
        target.unlink()
    write_return(prepared, target)


def run(ctx: Context) -> list[Figure]:
    demo = demo_register(ctx)
    register, cases = demo.path, demo.cases
    out = ctx.workdir / "TIPRETURN_DEMO_2025.xlsx"
    if out.exists():
        out.unlink()
    exp = _child(EXPORT, str(register), DEMO_PASSWORD, "2025", str(out))
    size_mb = out.stat().st_size / 1e6
    cells = ctx.workdir / "cells.pickle"
    cells.write_bytes(pickle.dumps(_cells_of(out)))
    base_out = ctx.workdir / "baseline.xlsx"
    base = _child(BASELINE, str(cells), str(base_out))
    cells.unlink()
    base_out.unlink()
    val = _child(VALIDATE, str(out))
    if not val["ok"]:
        raise RuntimeError(f"the exported return did not validate: {val['problems']}")
    ratio = exp["seconds"] / base["seconds"]
    figures = [
        Figure(f"export a year ({exp['rows']:,} line-list rows, {exp['stays']:,} stays) of a "
               f"{cases:,}-case register", exp["seconds"], "s", "", None,
               f"CPU {exp['cpu']:.1f} s; file {size_mb:.1f} MB"),
        Figure("openpyxl write-only, same cells, no computation (baseline)", base["seconds"], "s", "", None,
               f"CPU {base['cpu']:.1f} s"),
        Figure("export time ÷ baseline", ratio, "×", "≤ 1.2 ×", ratio <= 1.2,
               f"CPU {exp['cpu'] / base['cpu']:.2f} ×"),
        Figure("export peak memory", exp["peak_mb"], "MB", "≤ 300 MB", exp["peak_mb"] <= 300),
        Figure("validate that return", val["seconds"], "s", "≤ 5 s", val["seconds"] <= 5,
               f"CPU {val['cpu']:.1f} s"),
        Figure("validate peak memory", val["peak_mb"], "MB", "≤ 600 MB", val["peak_mb"] <= 600),
    ]
    rows = 50_000 if ctx.quick else LIMIT_ROWS
    limit = ctx.workdir / "TIPRETURN_BENCH_2025-limit.xlsx"
    build = _child("""
from pathlib import Path
from benchmarks.bench_returns import build_limit_return
t = time.perf_counter()
build_limit_return(Path(sys.argv[1]), int(sys.argv[2]))
result["seconds"] = time.perf_counter() - t
""", str(limit), str(rows))
    big = _child(VALIDATE, str(limit))
    figures += [
        Figure(f"write a return of {rows:,} line-list rows (the standard's limit)", build["seconds"], "s", "", None,
               f"file {limit.stat().st_size / 1e6:.1f} MB; peak {build['peak_mb']:.0f} MB"),
        Figure(f"validate it ({'valid' if big['ok'] else 'INVALID'})", big["seconds"], "s", "", None,
               f"CPU {big['cpu']:.1f} s"),
        Figure("validate peak memory at the limit", big["peak_mb"], "MB", "< 2,048 MB", big["peak_mb"] < 2048),
    ]
    limit.unlink()
    if hasattr(os, "getloadavg"):
        figures.append(Figure("machine load average (1 min) at the end of the section", os.getloadavg()[0], "",
                              "", None, "other work on this 2-core machine slows wall times; CPU less so"))
    return figures
