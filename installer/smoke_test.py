"""Checks of a built bundle beyond its self-test, run by CI after ``tipdesk-cli --self-test``.

    python3 installer/smoke_test.py [dist/tipdesk]

1. ``--version`` prints the version of pyproject.toml;
2. the windowed program starts and paints its first window (``--startup-probe``, offscreen);
3. portable mode: with a ``tipdesk.portable`` marker, creating a register writes the settings
   beside the program and nothing into the user's profile (the marker and the settings are
   removed again afterwards);
4. Linux, as root on Debian: the self-test passes in a root holding only the packages the
   README lists (``linux/minimal_system_check.py``); skipped, with a note, elsewhere.

Uses only the standard library (it runs outside the bundle). Exit code 0 when all passed.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

INSTALLER = Path(__file__).resolve().parent
ROOT = INSTALLER.parent
EXE = ".exe" if os.name == "nt" else ""


def check(what: str, ok: bool, detail: str = "") -> bool:
    print(f"  {'ok' if ok else 'FAILED':<7} {what}{': ' + detail if detail else ''}", flush=True)
    return ok


def check_version(bundle: Path) -> bool:
    version = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]
    out = subprocess.run([str(bundle / f"tipdesk-cli{EXE}"), "--version"], capture_output=True, text=True)
    return check("--version", out.returncode == 0 and out.stdout.strip() == f"tipdesk {version}",
                 out.stdout.strip() or out.stderr.strip())


def check_startup(bundle: Path) -> bool:
    out = subprocess.run([str(bundle / f"tipdesk{EXE}"), "--startup-probe"], capture_output=True, text=True,
                         env=dict(os.environ, QT_QPA_PLATFORM="offscreen"), timeout=120)
    painted = [line for line in out.stdout.splitlines() if line.startswith("first window painted")]
    return check("windowed program paints its first window", out.returncode == 0 and bool(painted),
                 painted[0] if painted else (out.stdout + out.stderr).strip()[-500:])


def check_portable(bundle: Path) -> bool:
    marker, settings = bundle / "tipdesk.portable", bundle / "settings"
    if marker.exists() or settings.exists():
        return check("portable mode", False, f"{marker} or {settings} exists already; use a fresh bundle")
    with tempfile.TemporaryDirectory(prefix="tipdesk-smoke-") as tmp:
        home = Path(tmp) / "home"
        register = Path(tmp) / "office.tipdb"
        env = {k: v for k, v in os.environ.items() if k != "TIPDESK_SETTINGS_DIR"}
        env.update(HOME=str(home), XDG_CONFIG_HOME=str(home / ".config"), USERPROFILE=str(home),
                   APPDATA=str(home / "AppData" / "Roaming"), LOCALAPPDATA=str(home / "AppData" / "Local"),
                   TIPDESK_PASSWORD="smoke-test-password")
        marker.touch()
        try:
            out = subprocess.run(
                [str(bundle / f"tipdesk-cli{EXE}"), "init", str(register), "--org-code", "SMOKE",
                 "--org-name", "Smoke test", "--org-type", "NGO", "--country", "JAM", "--admin", "admin"],
                capture_output=True, text=True, env=env, timeout=300,
            )
            saved = settings / "settings.json"
            recent = json.loads(saved.read_text(encoding="utf-8"))["recent_registers"] if saved.exists() else []
            profile_files = [str(p) for p in home.rglob("*") if p.is_file()] if home.exists() else []
            ok = out.returncode == 0 and len(recent) == 1 and not profile_files
            detail = (f"settings written to {saved.relative_to(bundle)}, nothing in the profile" if ok else
                      f"exit {out.returncode}, recent={recent}, profile files={profile_files}, {out.stderr.strip()}")
            return check("portable mode keeps settings beside the program", ok, detail)
        finally:
            marker.unlink(missing_ok=True)
            shutil.rmtree(settings, ignore_errors=True)


def check_minimal_system(bundle: Path) -> bool:
    if not sys.platform.startswith("linux") or not hasattr(os, "geteuid") or os.geteuid() != 0 \
            or not shutil.which("dpkg") or not shutil.which("unshare"):
        print("  skipped minimal Debian system (needs root on Debian)", flush=True)
        return True
    with tempfile.TemporaryDirectory(prefix="tipdesk-smoke-shots-") as shots:
        out = subprocess.run([sys.executable, str(INSTALLER / "linux" / "minimal_system_check.py"), str(bundle),
                              "--screenshot-dir", shots], capture_output=True, text=True, timeout=600)
        if out.returncode == 2:  # cannot be set up here (e.g. no mount namespaces in a container)
            print(f"  skipped minimal Debian system: {out.stderr.strip()}", flush=True)
            return True
        return check("self-test on a Debian root with only the README's packages", out.returncode == 0,
                     out.stdout.strip().splitlines()[-1] if out.returncode == 0 else (out.stdout + out.stderr)[-2000:])


def main(argv: list[str]) -> int:
    bundle = Path(argv[0]) if argv else ROOT / "dist" / "tipdesk"
    bundle = bundle.resolve()
    print(f"Smoke test of {bundle}", flush=True)
    results = [check_version(bundle), check_startup(bundle), check_portable(bundle), check_minimal_system(bundle)]
    if all(results):
        print("Smoke test passed.", flush=True)
        return 0
    print("Smoke test FAILED.", flush=True)
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
