"""The synthetic register benchmarks share: made once per run by the real ``tipdesk demo``
command (timed), kept in ``ctx.cache``, and reused from ``--workdir`` between runs.

    reg_path = demo_register(ctx).path          # 100,000 cases (10,000 with --quick)
    reg = open_register(reg_path, "admin", DEMO_PASSWORD)
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from benchmarks.harness import ROOT, Context
from tipdesk.vault import files

DEMO_PASSWORD = "demo-admin-2026"


@dataclass(frozen=True)
class DemoRegister:
    path: Path
    cases: int
    seconds: float | None  # how long ``tipdesk demo`` took; None when reused from an earlier run
    size_bytes: int


def demo_register(ctx: Context, cases: int | None = None, seed: int = 1) -> DemoRegister:
    """A demo register of ``cases`` cases (default 100,000; 10,000 with ``--quick``)."""
    cases = cases if cases is not None else (10_000 if ctx.quick else 100_000)
    key = f"demo:{cases}:{seed}"
    if key in ctx.cache:
        return ctx.cache[key]  # type: ignore[return-value]
    path = ctx.workdir / f"demo-{cases}-{seed}.tipdb"
    marker = path.with_suffix(".json")
    stamp = {"cases": cases, "seed": seed, "source": _source_stamp()}
    seconds = None
    if not (path.exists() and marker.exists() and json.loads(marker.read_text()) == stamp):
        for old in [path, files.keys_path(path), *files.sidecar_paths(path), marker]:
            if old.exists():
                old.unlink()
        env = dict(os.environ, TIPDESK_PASSWORD=DEMO_PASSWORD)
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "tipdesk", "demo", str(path), "--cases", str(cases),
                        "--seed", str(seed)], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)
        seconds = time.perf_counter() - start
        marker.write_text(json.dumps(stamp))
    result = DemoRegister(path, cases, seconds, path.stat().st_size)
    ctx.cache[key] = result
    return result


def _source_stamp() -> str:
    """Changes whenever the generator or the schema changes (then the register is made again)."""
    newest = max(p.stat().st_mtime for folder in ("tipdesk/demo", "models", "tipdesk/vault/migrations")
                 for p in (ROOT / folder).rglob("*.py"))
    return str(int(newest))
