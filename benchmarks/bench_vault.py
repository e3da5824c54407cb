"""Foundation figures: unlock with production Argon2id, audited insert, check of 100 MB."""

from __future__ import annotations

import os
import time

from benchmarks.harness import Context, Figure, median_ms
from models import Organisation
from tipdesk.security import audit
from tipdesk.vault.check import check_register
from tipdesk.vault.keyslots import calibrate
from tipdesk.vault.register import OfficeDetails, create_register, open_register

SECTION = "vault"
TITLE = "Vault: unlock, audited writes, check"
PASSWORD = "benchmark-password"
NOTES = """
Unlock = Argon2id with the production parameters calibrated on this machine (64 MiB, t chosen
for about 0.5 s, never below 3) + opening SQLCipher + the first query. An audited insert is one
`BEGIN IMMEDIATE` transaction holding a row and its audit event, committed with
`synchronous=FULL` in WAL mode. The 100 MB register is filled with organisation rows carrying
1 KB of text each.
"""


def run(ctx: Context) -> list[Figure]:
    figures: list[Figure] = []
    params = calibrate()
    path = ctx.workdir / "vault-bench.tipdb"
    for p in ctx.workdir.glob("vault-bench.tipdb*"):
        p.unlink()
    created = create_register(path, OfficeDetails("BENCH", "Bench office", "NGO", "JAM"), "admin", PASSWORD)
    created.register.close()

    def unlock() -> None:
        reg = open_register(path, "admin", PASSWORD)
        with reg.read() as s:
            s.get(Organisation, 1)
        reg.close()

    ms = median_ms(unlock, repeat=5 if ctx.quick else 9, warmup=1)
    figures.append(Figure("unlock (Argon2id + open + first query)", ms, "ms", "≤ 700 ms", ms <= 700,
                          f"t={params.t}, m={params.m // 1024} MiB, p={params.p}"))

    reg = open_register(path, "admin", PASSWORD)
    counter = iter(range(10**9))

    def insert() -> None:
        with reg.write() as s:
            org = Organisation(name=f"org {next(counter)}", org_type="NGO", country="JAM")
            s.add(org)
            s.flush()
            audit.record(s, reg.actor, "organisation_added", "organisation", org.id, {"name": org.name})

    ms = median_ms(insert, repeat=50 if ctx.quick else 300, warmup=5)
    figures.append(Figure("audited insert (row + audit event, committed)", ms, "ms", "≤ 5 ms", ms <= 5))

    target_mb = 10 if ctx.quick else 100
    filler = "x" * 1000
    with reg.engine.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO organisation (name, org_type, country, is_self, active, notes) "
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?) "
            "SELECT 'filler ' || i, 'NGO', 'JAM', 0, 1, ? || i FROM n",
            (target_mb * 1000, filler),
        )
    with reg.engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    size_mb = os.path.getsize(path) / 1e6
    runs = []
    for _ in range(1 if ctx.quick else 3):
        start = time.perf_counter()
        report = check_register(reg)
        runs.append(time.perf_counter() - start)
        assert report.ok, report.lines
    runs.sort()
    figures.append(Figure(f"tipdesk check on a {size_mb:.0f} MB register", runs[len(runs) // 2], "s", "",
                          None, "integrity, cipher_integrity_check, key file, audit chain"))
    reg.close()
    return figures
