"""Backup figures: backup (with its built-in verification), backup-verify and restore of a
100,000-case register, against a raw ``sqlcipher_export`` + ``PRAGMA integrity_check`` of the same
register measured in the same run, and a plain file copy for scale."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import statistics
import time
from collections.abc import Callable
from pathlib import Path

from benchmarks.harness import Context, Figure
from tipdesk.demo import make_demo_register
from tipdesk.security import audit
from tipdesk.vault.backup import CHECK_CACHE_KIB, Credentials, backup, restore, verify_backup
from tipdesk.vault.engine import connect_raw, key_pragma
from tipdesk.vault.register import Register, open_register

SECTION = "backup"
TITLE = "Backups: backup with verification, backup-verify, restore"
PASSWORD = "benchmark-password"
CASES = 100_000
QUICK_CASES = 5_000
NOTES = """
The register is the `tipdesk demo` register of 100,000 cases (everything the demo generator
writes: persons, cases and their histories, shelter stays, services, follow-ups…), plus a valid
audit chain of one event per case appended by the benchmark (the generator writes in bulk
without auditing; a real register audits every change). *backup* is `tipdesk backup` end to
end: `sqlcipher_export` in one read snapshot, the zip written (fsync) and read back with
SHA-256, and the copy checked in full — `integrity_check`, `cipher_integrity_check` and the
whole audit chain side by side on their own threads, row counts against the source — before the
file gets its final name. *Baseline* is what the goal compares with: a bare `sqlcipher_export`
into a new file plus `PRAGMA integrity_check` on it, measured alternately with the backup in the
same run. CPU is the process's CPU time over all its threads: when other work keeps both cores
busy (see the load average), the threads cannot overlap and the wall-time ratio tends to the CPU
ratio; on an idle machine the extra checks run beside `integrity_check` and cost little wall
time. *backup-verify* extracts the database (still encrypted) to a private temporary folder and
runs the same checks, plus one Argon2id unlock with the production parameters. Backups go to a
folder on the same disk (a USB stick adds its write speed). Medians of 3 runs.
"""


def _fill_audit(reg: Register, events: int) -> None:
    """Append a valid chain of synthetic events (the same hashing as ``audit.record``)."""
    raw = reg.engine.raw_connection()
    try:
        cur = raw.driver_connection.cursor()
        cur.execute("BEGIN IMMEDIATE")
        last_id, prev = cur.execute("SELECT id, hash FROM audit_event ORDER BY id DESC LIMIT 1").fetchone()
        at = "2024-01-01T00:00:00.000000Z"
        rows = []
        for n in range(events):
            id_ = last_id + 1 + n
            details = audit.canonical_details({"case_number": f"OAS-{n + 1:06d}"})
            details_hash = audit.sha256_hex(details)
            digest = audit.event_hash(id_, at, reg.actor.id, reg.actor.username, "case_created",
                                      "case", n + 1, details_hash, prev)
            rows.append((id_, at, reg.actor.id, reg.actor.username, "case_created", "case", n + 1,
                         details, details_hash, prev, digest))
            prev = digest
        cur.executemany(
            "INSERT INTO audit_event (id, at, user_id, username, action, entity, entity_id, details, "
            "details_hash, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
        cur.execute("COMMIT")
    finally:
        raw.close()


def _build(ctx: Context, cases: int) -> Path:
    """The demo register of ``cases`` cases plus one audit event per case (kept in --workdir)."""
    path = ctx.workdir / f"backup-bench-{cases}.tipdb"
    marker = path.with_name(path.name + ".ready")
    if path.exists() and marker.exists():
        return path
    for p in ctx.workdir.glob(f"backup-bench-{cases}.tipdb*"):
        p.unlink()
    make_demo_register(path, cases=cases, admin_password=PASSWORD)
    reg = open_register(path, "admin", PASSWORD)
    try:
        _fill_audit(reg, cases)
        with reg.engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        reg.close()
    marker.write_text(json.dumps({"cases": cases, "built": dt.datetime.now().isoformat()}))
    return path


def _raw_export_and_check(source: Path, key: bytes, target: Path, cache_kib: int | None = None) -> None:
    """The baseline: a bare sqlcipher_export into a new file, then integrity_check of it (with
    SQLite's default page cache, or ``cache_kib``)."""
    conn = connect_raw(source, key)
    try:
        clause = key_pragma(key).split("=", 1)[1].strip()
        conn.execute(f"ATTACH DATABASE ? AS export KEY {clause}", (str(target),))
        conn.execute("SELECT sqlcipher_export('export')").fetchall()
        conn.execute("DETACH DATABASE export")
    finally:
        conn.close()
    copy = connect_raw(target, key)
    try:
        if cache_kib:
            copy.execute(f"PRAGMA cache_size = -{cache_kib}")
        rows = copy.execute("PRAGMA integrity_check").fetchall()
        assert rows == [("ok",)], rows
    finally:
        copy.close()


def _timed(fn: Callable[[], object], cpu: list[float] | None = None) -> float:
    """Wall seconds of ``fn``; its CPU seconds (all threads of this process) go to ``cpu``."""
    start, start_cpu = time.perf_counter(), time.process_time()
    fn()
    if cpu is not None:
        cpu.append(time.process_time() - start_cpu)
    return time.perf_counter() - start


def _load() -> str:
    try:
        return f"{os.getloadavg()[0]:.1f}"
    except OSError:
        return "?"


def run(ctx: Context) -> list[Figure]:
    cases = QUICK_CASES if ctx.quick else CASES
    repeat = 1 if ctx.quick else 3
    source = _build(ctx, cases)
    dest = ctx.workdir / "backup-bench-dest"
    shutil.rmtree(dest, ignore_errors=True)
    dest.mkdir()
    scratch = ctx.workdir / "backup-bench-scratch"
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir()
    size_mb = source.stat().st_size / 1e6

    reg = open_register(source, "admin", PASSWORD)
    key = reg.key_bytes_for_backup()
    baseline, tuned, made, copies = [], [], [], []
    baseline_cpu: list[float] = []
    made_cpu: list[float] = []
    load_before = _load()
    last_backup = None
    try:
        for i in range(repeat):
            target = scratch / f"raw-{i}.tipdb"
            baseline.append(_timed(lambda t=target: _raw_export_and_check(source, key, t), baseline_cpu))
            target.unlink()
            tuned.append(_timed(lambda t=target: _raw_export_and_check(source, key, t, CHECK_CACHE_KIB)))
            target.unlink()
            results = []
            made.append(_timed(lambda: results.append(backup(reg, dest)), made_cpu))
            last_backup = results[0]
            copy_target = scratch / f"copy-{i}.tipdb"
            copies.append(_timed(lambda t=copy_target: shutil.copyfile(source, t)))
            copy_target.unlink()
            time.sleep(1.0)  # backups are named by the second
    finally:
        reg.close()
    assert last_backup is not None
    verified = []
    for _ in range(repeat):
        reports = []
        verified.append(_timed(lambda: reports.append(
            verify_backup(last_backup.path, Credentials("admin", PASSWORD), work_dir=scratch))))
        assert reports[0].ok, reports[0].lines
    restored = []
    for i in range(repeat):
        target = scratch / f"restored-{i}.tipdb"
        restored.append(_timed(lambda t=target: restore(last_backup.path, t, Credentials("admin", PASSWORD))))
        for p in scratch.glob(f"restored-{i}.tipdb*"):
            p.unlink()

    load_after = _load()
    b, m, c = statistics.median(baseline), statistics.median(made), statistics.median(copies)
    bt = statistics.median(tuned)
    b_cpu, m_cpu = statistics.median(baseline_cpu), statistics.median(made_cpu)
    ratio = m / b
    rows = sum(last_backup.row_counts.values())
    return [
        Figure(f"register: {cases:,} cases, {rows:,} rows, {last_backup.audit_events:,} audit events",
               size_mb, "MB"),
        Figure("backup file", last_backup.megabytes, "MB", "", None, "uncompressed zip; the payload is encrypted"),
        Figure("baseline: raw sqlcipher_export + integrity_check", b, "s", "", None,
               f"CPU {b_cpu:.1f} s"),
        Figure("tipdesk backup, verified (export, write, read back, full check)", m, "s", "", None,
               f"CPU {m_cpu:.1f} s (all threads)"),
        Figure("backup ÷ baseline", ratio, "×", "≤ 1.3 ×", ratio <= 1.3,
               f"CPU ratio {m_cpu / b_cpu:.2f}; load average {load_before} before, {load_after} after"),
        Figure(f"baseline with tipdesk's {CHECK_CACHE_KIB // 1024} MB check cache", bt, "s", "", None,
               "the raw baseline's integrity_check uses SQLite's default 2 MB cache"),
        Figure("backup ÷ that baseline (the price of the extra checks)", m / bt, "×"),
        Figure("backup-verify of the file (incl. one Argon2id unlock)", statistics.median(verified), "s"),
        Figure("restore to a new path (check in full, put in place, audit)", statistics.median(restored), "s"),
        Figure("plain file copy of the register, for scale", c, "s", "", None,
               f"{size_mb / max(c, 1e-6):,.0f} MB/s (page cache)"),
    ]
