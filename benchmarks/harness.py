"""Benchmark helpers: medians over repeated runs, a results table, and docs/performance.md.

Each benchmark module (``bench_*.py``) has ``SECTION`` (a short id), ``TITLE`` and
``run(ctx) -> list[Figure]``. Running a section rewrites only its own block of
``docs/performance.md`` (between ``<!-- bench:ID -->`` and ``<!-- /bench:ID -->``), so sections
can be refreshed one at a time.
"""

from __future__ import annotations

import datetime as dt
import os
import platform
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "performance.md"


@dataclass
class Figure:
    what: str
    value: float | None
    unit: str
    target: str = ""  # e.g. "≤ 30 ms"
    ok: bool | None = None  # None: no target, or not comparable
    note: str = ""

    def cells(self) -> list[str]:
        if self.value is None:
            shown = "—"
        elif self.unit in ("ms", "s", "MB", "×", "%") or isinstance(self.value, float):
            shown = f"{self.value:,.1f}" if abs(self.value) >= 10 else f"{self.value:,.2f}"
        else:
            shown = f"{self.value:,}"
        verdict = "" if self.ok is None else ("met" if self.ok else "**missed**")
        return [self.what, f"{shown} {self.unit}".strip(), self.target, verdict, self.note]


def median_ms(fn: Callable[[], object], repeat: int = 15, warmup: int = 2) -> float:
    """Median wall time of ``fn`` in milliseconds."""
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def within(value: float, limit: float) -> bool:
    return value <= limit


@dataclass
class Context:
    """Shared across sections: a scratch folder and lazily built synthetic registers."""

    workdir: Path
    quick: bool = False
    cache: dict[str, object] = field(default_factory=dict)


def machine_line() -> str:
    cpus = os.cpu_count()
    mem = ""
    try:
        with open("/proc/meminfo") as fh:
            kb = int(fh.readline().split()[1])
            mem = f", {kb / 1024 / 1024:.0f} GB RAM"
    except OSError:
        pass
    return f"{platform.system()} {platform.machine()}, {cpus} cores{mem}, Python {platform.python_version()}"


def render_section(section: str, title: str, figures: list[Figure], notes: str = "") -> str:
    lines = [
        f"<!-- bench:{section} -->",
        f"## {title}",
        "",
        f"Measured {dt.date.today().isoformat()} on {machine_line()}.",
        "",
        "| what | measured | target | | note |",
        "| --- | --- | --- | --- | --- |",
    ]
    for fig in figures:
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in fig.cells()) + " |")
    if notes:
        lines += ["", notes.strip()]
    lines.append(f"<!-- /bench:{section} -->")
    return "\n".join(lines)


def write_section(section: str, block: str) -> None:
    DOC.parent.mkdir(parents=True, exist_ok=True)
    text = DOC.read_text(encoding="utf-8") if DOC.exists() else _doc_head()
    start, end = f"<!-- bench:{section} -->", f"<!-- /bench:{section} -->"
    if start in text and end in text:
        before = text[: text.index(start)]
        after = text[text.index(end) + len(end):]
        text = before + block + after
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    DOC.write_text(text, encoding="utf-8")


def _doc_head() -> str:
    return (
        "# Performance\n\n"
        "Figures written by the benchmark command (`python3 tasks.py bench`, or one section: "
        "`python3 tasks.py bench SECTION`). Medians over repeated runs on synthetic data; a "
        "benchmark reports figures, it does not pass or fail the build.\n"
    )


def print_table(title: str, figures: list[Figure]) -> None:
    print(f"\n{title}")
    print("-" * len(title))
    for fig in figures:
        what, measured, target, verdict, note = fig.cells()
        print(f"  {what:<58} {measured:>14}  {target:<10} {verdict.replace('*', ''):<7} {note}")
