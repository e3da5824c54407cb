"""Killing a writer at random moments never loses a committed transaction or corrupts the file."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import textwrap
import time

import pytest
from sqlalchemy import select

from models import Organisation
from tests.conftest import ADMIN_PASSWORD
from tipdesk.security import audit
from tipdesk.vault.register import open_register

CHILD = textwrap.dedent("""
    import sys
    from pathlib import Path
    from models import Organisation
    from tipdesk.security import audit
    from tipdesk.vault.register import open_register

    reg = open_register(Path(sys.argv[1]), "admin", sys.argv[2])
    n = 0
    while True:
        n += 1
        with reg.write() as s:
            org = Organisation(name=f"{sys.argv[3]}-{n}", org_type="NGO", country="JAM")
            s.add(org)
            s.flush()
            audit.record(s, reg.actor, "organisation_added", "organisation", org.id, {"n": n})
        # Printed only after the commit returned: the parent may count on it.
        print(f"{sys.argv[3]}-{n}", flush=True)
""")


@pytest.mark.slow
@pytest.mark.skipif(os.name == "nt", reason="SIGKILL")
def test_sigkill_at_random_moments_loses_nothing_committed(reg, register_path):
    reg.close()
    rng = random.Random(20261123)
    committed: set[str] = set()
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    for round_no in range(20):
        child = subprocess.Popen(
            [sys.executable, "-c", CHILD, str(register_path), ADMIN_PASSWORD, f"r{round_no}"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=root,
        )
        assert child.stdout is not None
        first = child.stdout.readline().strip()  # wait until it is really writing
        assert first, child.stderr.read() if child.stderr else "child died"
        committed.add(first)
        time.sleep(rng.uniform(0.0, 0.25))
        os.kill(child.pid, signal.SIGKILL)
        rest, _ = child.communicate()
        committed.update(line.strip() for line in rest.splitlines() if line.strip())

        with open_register(register_path, "admin", ADMIN_PASSWORD) as r:
            with r.engine.connect() as conn:
                assert conn.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
                assert conn.exec_driver_sql("PRAGMA cipher_integrity_check").fetchall() == []
            with r.read() as s:
                names = set(s.scalars(select(Organisation.name)))
                assert audit.verify(s).ok
        missing = committed - names
        assert not missing, f"round {round_no}: committed rows lost: {sorted(missing)[:5]}"
    assert len(committed) > 40
