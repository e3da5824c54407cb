"""``python -m benchmarks [SECTION ...] [--quick]``: run benchmarks, print them, update
docs/performance.md. Without sections, runs them all."""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
import tempfile
from pathlib import Path

from benchmarks.harness import Context, print_table, render_section, write_section


def discover() -> dict[str, object]:
    import benchmarks

    found = {}
    for info in sorted(pkgutil.iter_modules(benchmarks.__path__), key=lambda i: i.name):
        if info.name.startswith("bench_"):
            module = importlib.import_module(f"benchmarks.{info.name}")
            found[module.SECTION] = module
    return found


def main(argv: list[str]) -> int:
    sections = discover()
    parser = argparse.ArgumentParser(prog="python -m benchmarks")
    parser.add_argument("sections", nargs="*", help=f"any of: {', '.join(sections)}")
    parser.add_argument("--quick", action="store_true", help="smaller data, for trying things out (not written to docs)")
    parser.add_argument("--workdir", type=Path, help="keep synthetic registers here between runs")
    args = parser.parse_args(argv)
    chosen = args.sections or list(sections)
    unknown = [s for s in chosen if s not in sections]
    if unknown:
        parser.error(f"unknown section(s): {', '.join(unknown)}")
    with tempfile.TemporaryDirectory(prefix="tipdesk-bench-") as tmp:
        workdir = args.workdir or Path(tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        ctx = Context(workdir=workdir, quick=args.quick)
        for name in chosen:
            module = sections[name]
            figures = module.run(ctx)
            print_table(module.TITLE, figures)
            if not args.quick:
                write_section(name, render_section(name, module.TITLE, figures, getattr(module, "NOTES", "")))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
