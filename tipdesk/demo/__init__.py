"""Synthetic demo registers: ``make_demo_register`` creates a register (demo office, one demo
user per role, the public demo linkage key) and runs the generation steps of
``tipdesk.demo.steps.DEFAULT_STEPS`` in order.

Deterministic: the same seed (and the same ``today``) gives the same register content whatever
the office code, except the code in case numbers; the people themselves (names, birth dates,
sex, citizenship) do not depend on ``today`` either, so two offices' demo registers made with
one seed share every person and can be consolidated (their person linkage keys match).

Steps receive a ``DemoContext`` (see ``tipdesk.demo.context`` for what it holds and the rules
a step follows). To add one, append ``Step(name, run)`` to ``DEFAULT_STEPS`` in
``tipdesk/demo/steps.py`` or pass ``steps=`` here.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import random
import re
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tipdesk.demo.context import DemoCase, DemoContext, OfficeInfo, Step
from tipdesk.security.accounts import add_user
from tipdesk.vault import files, keyslots
from tipdesk.vault.keyslots import KdfParams
from tipdesk.vault.register import (
    META_LINKAGE_KEY,
    OfficeDetails,
    Register,
    create_register,
    set_meta,
)

__all__ = ["DEMO_LINKAGE_KEY", "DEMO_PASSWORDS", "DEMO_USERS", "DemoCase", "DemoContext",
           "DemoResult", "Step", "make_demo_register"]

#: The public demo national linkage key (documented in the README): 64 hex digits. It only
#: ever links synthetic demo people; never use it for real data.
DEMO_LINKAGE_KEY = "9d87c157613d48af830b69ed2dd7f4fc0b06d8e5b184b5be57b85620464b56f9"
DEMO_COUNTRY = "JAM"

#: user name → (role, display name); ``admin`` gets the password the command was given.
DEMO_USERS = {
    "admin": ("admin", "Demo Administrator"),
    "caseworker": ("caseworker", "Demo Case Worker"),
    "police": ("police", "Demo Police Officer"),
    "analyst": ("analyst", "Demo Secretariat Analyst"),
    "auditor": ("auditor", "Demo Auditor"),
}
#: The public passwords of the other demo users (documented in the README's demo table).
DEMO_PASSWORDS = {name: f"demo-{name}-2026" for name in DEMO_USERS if name != "admin"}


@dataclass
class DemoResult:
    path: Path
    recovery_key: str
    cases: int
    seconds: dict[str, float] = field(default_factory=dict)  # per step, and "total"


def make_demo_register(
    path: Path,
    *,
    cases: int,
    admin_password: str,
    seed: int = 1,
    org_code: str = "DEMO",
    today: dt.date | None = None,
    steps: Sequence[Step] | None = None,
    kdf: KdfParams | None = None,
    progress: Callable[[str], None] = lambda message: None,
) -> DemoResult:
    """Create a demo register at ``path`` filled with ``cases`` synthetic cases. On any failure
    nothing is left behind."""
    from tipdesk.demo.steps import DEFAULT_STEPS

    if cases < 0:
        raise ValueError("cases must not be negative")
    started = time.perf_counter()
    path = Path(path)
    params = kdf or keyslots.calibrate()
    code = org_code.strip().upper()
    created = create_register(path, OfficeDetails(code, f"Demo office {code}", "NGO", DEMO_COUNTRY),
                              "admin", admin_password, DEMO_USERS["admin"][1], kdf=params)
    reg = created.register
    try:
        result = DemoResult(path, created.recovery_key, cases)
        users = _add_users(reg, params)
        with reg.write() as s:
            set_meta(s, META_LINKAGE_KEY, DEMO_LINKAGE_KEY)
        office = reg.office()
        ctx = DemoContext(
            reg=reg, seed=seed, today=today or dt.date.today(), target_cases=cases,
            rng=random.Random(), office=OfficeInfo(office.id, office.code or code, DEMO_COUNTRY),
            users=users, progress=progress,
        )
        with _indexes_built_afterwards(reg):
            for step in (DEFAULT_STEPS if steps is None else steps):
                begun = time.perf_counter()
                # Each step draws from its own generator, so adding a step changes no other step.
                ctx.rng = random.Random(f"tipdesk-demo/{seed}/{step.name}")
                progress(f"{step.name}: {step.description}" if step.description else step.name)
                step.run(ctx)
                result.seconds[step.name] = time.perf_counter() - begun
            begun = time.perf_counter()
            progress("building the indexes")
        progress("optimising the search index")
        _finish(reg)
        result.seconds["finish"] = time.perf_counter() - begun
        result.seconds["total"] = time.perf_counter() - started
        return result
    except BaseException:
        reg.close()
        for p in [path, files.keys_path(path), *files.sidecar_paths(path)]:
            with contextlib.suppress(OSError):
                p.unlink()
        raise
    finally:
        reg.close()


def _add_users(reg: Register, params: KdfParams) -> dict[str, int]:
    """The demo users, one per role; returns role → user id."""
    ids = {"admin": reg.actor.id or 0}
    for name, (role, display) in DEMO_USERS.items():
        if name == "admin":
            continue
        info = add_user(reg, name, role, DEMO_PASSWORDS[name], display, kdf=params)
        ids[role] = info.id
    return ids


@contextlib.contextmanager
def _indexes_built_afterwards(reg: Register) -> Iterator[None]:
    """Drop the ordinary indexes of the tables the steps fill, and create them again (from
    their own stored SQL) once the rows are in: one sorted build per index instead of 100,000
    random insertions into it. Unique indexes and the full-text triggers stay; steps run
    without the other indexes (``ctx.cases`` holds what they need to know)."""
    with reg.engine.begin() as conn:
        saved = conn.exec_driver_sql(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
            "AND sql NOT LIKE 'CREATE UNIQUE%' AND tbl_name IN ('person', 'case_file', "
            "'trafficking_status_entry', 'case_status_entry', 'route_event', 'screening', "
            "'referral', 'justice_stage')").all()
        for name, _sql in saved:
            conn.exec_driver_sql(f'DROP INDEX "{name}"')
        # The full-text index too: its insert trigger runs once per case; the same statement
        # without its row condition fills the index in one pass at the end.
        trigger = conn.exec_driver_sql(
            "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = 'case_search_ai'").scalar()
        fill = _fill_statement(trigger or "")
        if fill is not None:
            conn.exec_driver_sql("DROP TRIGGER case_search_ai")
    yield  # on failure the whole register is removed: nothing to rebuild
    with reg.engine.begin() as conn:
        if fill is not None:
            conn.exec_driver_sql("DELETE FROM case_search")  # rows a step's update may have added
            conn.exec_driver_sql(fill)
            conn.exec_driver_sql(trigger)
        for _name, sql in saved:
            conn.exec_driver_sql(sql)


def _fill_statement(trigger_sql: str) -> str | None:
    """The insert of the full-text trigger for every case (None: not the expected shape)."""
    body = re.search(r"\bBEGIN\s+(INSERT INTO case_search\b.*?)\s+WHERE c\.id = NEW\.id;\s*END\s*$",
                     trigger_sql, re.S)
    return body.group(1) + " ORDER BY c.id" if body and "NEW." not in body.group(1) else None


def _finish(reg: Register) -> None:
    """Merge the full-text index and fold the WAL into the file. No ANALYZE: a real register
    grows without one, and the demo should behave (and be measured) like it."""
    with reg.engine.begin() as conn:
        conn.exec_driver_sql("INSERT INTO case_search(case_search) VALUES ('optimize')")
    with reg.engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
