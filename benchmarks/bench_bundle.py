"""Desktop bundle: build time, size unpacked, cold start of the frozen app, self-test time.

Builds the bundle from scratch into the benchmark's scratch folder (never touching dist/),
then starts the frozen ``tipdesk --startup-probe``, which exits the moment its first window has
been painted (given a register, the window's first window is its login dialog). "Cold" means the bundle's own files were evicted from the page cache first
(``posix_fadvise(DONTNEED)`` on each file, so nothing else on the machine is disturbed); the
system's libraries (libc, libGL) stay cached, as they are on any running desktop.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from benchmarks.harness import ROOT, Context, Figure

SECTION = "bundle"
TITLE = "Desktop bundle: size, build time, cold start"
EXE = ".exe" if os.name == "nt" else ""
SIZE_GOAL_MB = 200
START_GOAL_S = 1.5
NOTES = """
Built with `python3 tasks.py dist` (PyInstaller onedir, no UPX; on Linux the binaries are
stripped and `tipdesk-cli` is a link to `tipdesk`). "Without the exclusions and stripping" is
the same build with nothing of `installer/contents.py`'s exclusions left out (Qt modules and
plugins, the libraries only those plugins need, Qt's translations, TLS) and nothing stripped.
Cold start = from starting `tipdesk --startup-probe REGISTER` until its first dialog — the
login — has been painted (offscreen), with the bundle's files evicted from the page cache;
warm = the median of the following starts.
"""


def build(dest: Path, no_excludes: bool = False) -> float:
    """Build the bundle into ``dest/dist`` from a clean work folder; seconds taken."""
    cmd = [sys.executable, str(ROOT / "installer" / "build.py"), "--dist", str(dest / "dist"),
           "--work", str(dest / "work")]
    if no_excludes:
        cmd.append("--no-excludes")
    start = time.perf_counter()
    subprocess.run(cmd, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def bundle_size(folder: Path) -> tuple[float, int]:
    """Megabytes (10^6 bytes) of regular files, and their number."""
    total, count = 0, 0
    for path in folder.rglob("*"):
        if path.is_file() and not path.is_symlink():
            total += path.stat().st_size
            count += 1
    return total / 1e6, count


def evict(folder: Path) -> None:
    """Drop the bundle's files from the page cache (Linux; elsewhere a no-op)."""
    if not hasattr(os, "posix_fadvise"):
        return
    for path in folder.rglob("*"):
        if path.is_file() and not path.is_symlink():
            fd = os.open(path, os.O_RDONLY)
            try:
                os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            finally:
                os.close(fd)


def isolated_env(ctx: Context) -> dict[str, str]:
    """The benchmark's programs keep their settings in the scratch folder, never the user's."""
    return dict(os.environ, QT_QPA_PLATFORM="offscreen", TIPDESK_SETTINGS_DIR=str(ctx.workdir / "settings"))


def probe_register(bundle: Path, ctx: Context) -> Path:
    """A register for the window to open (its login dialog is the first window), made once."""
    path = ctx.workdir / "bundle-probe.tipdb"
    if not path.exists():
        subprocess.run([str(bundle / f"tipdesk-cli{EXE}"), "init", str(path), "--org-code", "BENCH",
                        "--org-name", "Bench office", "--org-type", "NGO", "--country", "JAM",
                        "--admin", "admin"], env=dict(isolated_env(ctx), TIPDESK_PASSWORD="bench-password-1"),
                       check=True, stdout=subprocess.DEVNULL)
    return path


def start_once(bundle: Path, register: Path, env: dict[str, str]) -> float:
    """Seconds from starting ``tipdesk --startup-probe REGISTER`` until it exits after its first paint."""
    start = time.perf_counter()
    out = subprocess.run([str(bundle / f"tipdesk{EXE}"), "--startup-probe", str(register)], env=env,
                         capture_output=True, text=True, timeout=120)
    took = time.perf_counter() - start
    if out.returncode != 0 or "first window painted" not in out.stdout:
        raise RuntimeError(f"startup probe failed ({out.returncode}): {out.stdout}{out.stderr}")
    return took


def self_test_seconds(bundle: Path, env: dict[str, str]) -> float:
    start = time.perf_counter()
    out = subprocess.run([str(bundle / f"tipdesk-cli{EXE}"), "--self-test"], env=env,
                         capture_output=True, text=True, timeout=600)
    if out.returncode != 0:
        raise RuntimeError(f"self-test of the bundle failed:\n{out.stdout}{out.stderr}")
    return time.perf_counter() - start


def run(ctx: Context) -> list[Figure]:
    figures: list[Figure] = []
    work = ctx.workdir / "bundle"
    seconds = build(work)
    bundle = work / "dist" / "tipdesk"
    size_mb, files = bundle_size(bundle)
    figures.append(Figure("bundle size, unpacked (dist/tipdesk)", size_mb, "MB", f"≤ {SIZE_GOAL_MB} MB",
                          size_mb <= SIZE_GOAL_MB, f"{files:,} files; {sys.platform}"))
    figures.append(Figure("build time (clean PyInstaller build)", seconds, "s", "", None,
                          f"{os.cpu_count()} cores"))
    if not ctx.quick:
        plain = ctx.workdir / "bundle-plain"
        build(plain, no_excludes=True)
        plain_mb, plain_files = bundle_size(plain / "dist" / "tipdesk")
        figures.append(Figure("bundle size without the exclusions and stripping", plain_mb, "MB", "", None,
                              f"{plain_files:,} files; they save {plain_mb - size_mb:.0f} MB"))

    env = isolated_env(ctx)
    register = probe_register(bundle, ctx)
    load = f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores" if hasattr(os, "getloadavg") else ""
    evict(bundle)
    cold = start_once(bundle, register, env)
    warm = [start_once(bundle, register, env) for _ in range(3 if ctx.quick else 9)]
    figures.append(Figure("cold start to the login dialog (frozen, page cache evicted)", cold, "s",
                          f"≤ {START_GOAL_S} s", cold <= START_GOAL_S, f"the window's LoginDialog; {load}"))
    figures.append(Figure("warm start to the login dialog (median)", statistics.median(warm), "s",
                          f"≤ {START_GOAL_S} s", statistics.median(warm) <= START_GOAL_S,
                          f"{len(warm)} starts, {min(warm):.2f}–{max(warm):.2f} s"))
    figures.append(Figure("frozen --self-test, whole run", self_test_seconds(bundle, env), "s", "", None,
                          "Argon2id calibration, a register, a return, the main window's pages"))
    return figures
