"""Returns: export a year of a 100,000-case register, validate it, and read a return at the
standard's limit (500,000 line-list rows). Each measurement runs in its own subprocess so that
its peak memory (max RSS) is its own.

The 100,000-case register is built here with bulk SQL inserts (the demo generator of the case
branch had not landed when this was written): ten years of cases (2016–2025), 80 % closed within
3 years, 1–2 trafficking-status entries, services, follow-up plans and follow-ups, justice stages,
stays in 20 shelters — about a million rows.
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

from benchmarks.harness import Context, Figure

SECTION = "returns"
TITLE = "Returns (TIP-RETURN/1): export, validate"
PASSWORD = "benchmark-password"
CASES = 100_000
LIMIT_ROWS = 500_000
NOTES = """
Export = open the register, compute the line list from the source tables, tables T1–T8, write the
workbook (openpyxl write-only) into a private folder beside the target and rename it into place.
Baseline = openpyxl's write-only mode writing exactly the same cell values (all sheets) with no
computation and no styles, measured in the same run. Validate = container checks (sizes, every
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


def build_register(path: Path, cases: int, seed: int = 2026) -> None:
    """A register of ``cases`` cases with their histories, services, follow-ups and stays."""
    from sqlalchemy import insert

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
    from tipdesk.vault.register import OfficeDetails, create_register

    for p in path.parent.glob(path.name + "*"):
        p.unlink()
    created = create_register(path, OfficeDetails("BENCH", "Benchmark office", "NGO", "JAM"), "admin", PASSWORD)
    reg = created.register
    rnd = random.Random(seed)
    start = dt.date(2016, 1, 1)
    days = (dt.date(2025, 12, 31) - start).days
    genders = ("Feminine", "Feminine", "Masculine", "Masculine", "TransgenderFeminine", "NonSpecifiedUnknown")
    countries = ("JAM", "JAM", "JAM", "HTI", "VEN", "DOM", "CUB", "COL", "CHN", "IND", "NGA", "USA")
    expl = ("SexualExploitation", "ForcedLabour", "ChildLabour", "Servitude", "ForcedBegging", "ForcedMarriage")
    services = ("Health", "Legal", "Psychosocial", "Accommodation", "Education", "Livelihood", "Interpretation")
    stages = ("Reported to police", "Investigation opened", "Prosecution started", "Conviction")
    with reg.write() as s:
        orgs = [Organisation(name=f"Partner {i}", org_type=t, country="JAM")
                for i, t in enumerate(("LawEnforcement", "NGO", "HealthServiceOrganisation", "ImmigrationService"))]
        s.add_all(orgs)
        facilities = [Facility(code=f"SH{i:02d}", name=f"Shelter {i}", capacity=rnd.randrange(4, 40),
                               child_friendly=i % 4 == 0) for i in range(20)]
        s.add_all(facilities)
        s.flush()
        org_ids = [o.id for o in orgs]
        fac_ids = [f.id for f in facilities]
    batch = 10_000
    for first in range(1, cases + 1, batch):
        persons, case_rows, ts, cs, sv, fu, plans, js, stays = [], [], [], [], [], [], [], [], []
        for cid in range(first, min(first + batch, cases + 1)):
            reg_date = start + dt.timedelta(days=rnd.randrange(days))
            birth = reg_date - dt.timedelta(days=rnd.randrange(8 * 365, 50 * 365)) if rnd.random() < 0.85 else None
            persons.append(dict(id=cid, given_names=f"Given{cid}", family_names=f"Family{cid}", birth_date=birth,
                                gender=rnd.choice(genders), citizenships=rnd.sample(countries, rnd.choice((1, 1, 2)))))
            ex = rnd.sample(expl, rnd.choice((1, 1, 2, 3)))
            org = rnd.choice(org_ids + [None])
            case_rows.append(dict(id=cid, case_number=f"BENCH-{reg_date.year}-{cid:06d}", person_id=cid,
                                  registration_date=reg_date, identified_by_org_id=org,
                                  self_referral=org is None and rnd.random() < 0.5, exploitation=ex,
                                  sex_exploitation=["Prostitution"] if "SexualExploitation" in ex else [],
                                  methods_of_control=rnd.sample(("DebtBondage", "PhysicalThreats", "FalsePromises"), 2),
                                  scope=rnd.choice(("Domestic", "Transnational", "Unknown")),
                                  consent_data_sharing=rnd.random() < 0.6))
            ts.append(dict(case_id=cid, effective_date=reg_date, status="PossibleVictimOfTrafficking", decided_by="NGO"))
            if rnd.random() < 0.6:
                ts.append(dict(case_id=cid, effective_date=reg_date + dt.timedelta(days=rnd.randrange(1, 120)),
                               status=rnd.choice(("ActualVictimOfTrafficking", "NotAVictimOfTrafficking")),
                               decided_by="Police"))
            cs.append(dict(case_id=cid, effective_date=reg_date, status="Active"))
            if rnd.random() < 0.8:
                follow = reg_date + dt.timedelta(days=rnd.randrange(30, 300))
                cs.append(dict(case_id=cid, effective_date=follow, status="FollowUp"))
                cs.append(dict(case_id=cid, effective_date=follow + dt.timedelta(days=rnd.randrange(30, 800)),
                               status=rnd.choice(("Closed", "ClosedReferred"))))
                plan_start = follow
                plans.append(dict(case_id=cid, started_on=plan_start, status="Active"))
                for m in (1, 2, 3, 6, 9, 12):
                    due = plan_start + dt.timedelta(days=30 * m)
                    done = due + dt.timedelta(days=rnd.randrange(0, 20)) if rnd.random() < 0.8 else None
                    fu.append(dict(case_id=cid, due_date=due, done_date=done, status="Done" if done else "Scheduled"))
            for _ in range(rnd.choice((1, 2, 3, 4))):
                st = reg_date + dt.timedelta(days=rnd.randrange(0, 200))
                en = st + dt.timedelta(days=rnd.randrange(1, 300)) if rnd.random() < 0.9 else None
                sv.append(dict(case_id=cid, service_type=rnd.choice(services), actual_start=st, actual_end=en,
                               status="Completed" if en else "Ongoing"))
            for stage in stages[:rnd.choice((0, 0, 1, 2))]:
                js.append(dict(case_id=cid, stage=stage, stage_date=reg_date + dt.timedelta(days=rnd.randrange(0, 400))))
            if rnd.random() < 0.3:
                a = reg_date + dt.timedelta(days=rnd.randrange(0, 10))
                d = a + dt.timedelta(days=rnd.randrange(0, 240))
                stays.append(dict(case_id=cid, facility_id=rnd.choice(fac_ids), admitted=a,
                                  discharged=d if d < dt.date(2026, 1, 1) else None,
                                  discharge_reason="IndependentLiving" if d < dt.date(2026, 1, 1) else None))
        with reg.write() as s:
            for model, rows in ((Person, persons), (Case, case_rows), (TraffickingStatusEntry, ts),
                                (CaseStatusEntry, cs), (Service, sv), (FollowUpPlan, plans), (FollowUp, fu),
                                (JusticeStage, js), (Stay, stays)):
                if rows:
                    s.execute(insert(model.__table__), rows)
    reg.close()


EXPORT = """
import datetime as dt
from pathlib import Path
from exports.returns import service
from tipdesk.counting import parse_period
from tipdesk.vault.register import open_register
with open_register(Path(sys.argv[1]), "admin", sys.argv[2]) as reg:  # unlocking is not the export
    t = time.perf_counter()
    written = service.export_return(reg, parse_period(sys.argv[3]), Path(sys.argv[4]))
    result["seconds"] = time.perf_counter() - t
result["rows"] = written.meta.line_count
result["stays"] = written.meta.stay_count
"""

BASELINE = """
import pickle
from openpyxl import Workbook
sheets = pickle.loads(Path(sys.argv[1]).read_bytes())
t = time.perf_counter()
wb = Workbook(write_only=True)
for name, rows in sheets:
    ws = wb.create_sheet(name)
    for row in rows:
        ws.append(row)
wb.save(sys.argv[2])
result["seconds"] = time.perf_counter() - t
""".replace("import pickle", "import pickle\nfrom pathlib import Path")

VALIDATE = """
from pathlib import Path
from exports.returns.reader import check_file
t = time.perf_counter()
report = check_file(Path(sys.argv[1]))
result["seconds"] = time.perf_counter() - t
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
    cases = 10_000 if ctx.quick else CASES
    register = ctx.workdir / f"returns-bench-{cases}.tipdb"
    marker = register.with_suffix(".built")
    if not (register.exists() and marker.exists()):
        build_register(register, cases)
        marker.write_text("ok")
    out = ctx.workdir / "TIPRETURN_BENCH_2025.xlsx"
    if out.exists():
        out.unlink()
    exp = _child(EXPORT, str(register), PASSWORD, "2025", str(out))
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
               f"{cases:,}-case register", exp["seconds"], "s", "", None, f"file {size_mb:.1f} MB"),
        Figure("openpyxl write-only, same cells, no computation (baseline)", base["seconds"], "s", "", None),
        Figure("export time ÷ baseline", ratio, "×", "≤ 1.2 ×", ratio <= 1.2),
        Figure("export peak memory", exp["peak_mb"], "MB", "≤ 300 MB", exp["peak_mb"] <= 300),
        Figure("validate that return", val["seconds"], "s", "≤ 5 s", val["seconds"] <= 5),
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
        Figure(f"validate it ({'valid' if big['ok'] else 'INVALID'})", big["seconds"], "s", "", None),
        Figure("validate peak memory at the limit", big["peak_mb"], "MB", "< 2,048 MB", big["peak_mb"] < 2048),
    ]
    limit.unlink()
    return figures
