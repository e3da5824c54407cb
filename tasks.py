#!/usr/bin/env python3
"""Set up and run tipdesk from a source checkout: the README's two commands live here.

    python3 tasks.py run      open tipdesk on the demo register (created on first run)
    python3 tasks.py test     run the whole test suite

Also: ``bench`` (benchmarks → docs/performance.md), ``dist`` (PyInstaller bundle),
``screenshots`` (docs/screenshots/), ``translations`` (refresh the Qt Linguist catalogues),
``shell`` (print how to activate the environment).

Only the standard library is used here, because this script runs before anything is installed.
On Debian it installs the system libraries Qt needs when run as root; otherwise it prints the
exact ``apt-get install`` line.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
IS_WINDOWS = os.name == "nt"
VENV_PY = VENV / ("Scripts/python.exe" if IS_WINDOWS else "bin/python")

# Debian packages: the first list lets Qt run offscreen (tests), the second shows a real window.
QT_OFFSCREEN_PACKAGES = [
    "libglib2.0-0", "libgl1", "libegl1", "libxkbcommon0", "libfreetype6",
    "libfontconfig1", "libdbus-1-3", "fonts-dejavu-core",
]
QT_WINDOW_PACKAGES = [
    "libxkbcommon-x11-0", "libxcb-cursor0", "libxcb-icccm4", "libxcb-keysyms1", "libxcb-shape0",
    "libxcb-randr0", "libxcb-render-util0", "libxcb-xinerama0", "libxcb-image0", "libx11-xcb1",
]
BUILD_PACKAGES = ["binutils"]  # PyInstaller needs objdump/objcopy on Linux

DEMO_DIR = Path(os.environ.get("TIPDESK_DEMO_DIR", ROOT / "demo"))
DEMO_REGISTER = DEMO_DIR / "DEMO.tipdb"
# Documented in the README: the synthetic demo register is the one place a password is public.
DEMO_ADMIN_PASSWORD = "demo-admin-2026"


def say(text: str) -> None:
    print(f"[tipdesk] {text}", flush=True)


def missing_debian_packages(packages: list[str]) -> list[str]:
    """Return the packages of ``packages`` that dpkg does not report as installed."""
    if not shutil.which("dpkg-query"):
        return []
    missing = []
    for pkg in packages:
        result = subprocess.run(
            ["dpkg-query", "-W", "-f=${db:Status-Status}", pkg],
            capture_output=True, text=True,
        )
        if result.stdout.strip() != "installed":
            missing.append(pkg)
    return missing


def venv_package() -> list[str]:
    """The Debian package that provides ``ensurepip``, if it is missing (``venv`` needs it)."""
    try:
        import ensurepip  # noqa: F401
    except ImportError:
        return [f"python3.{sys.version_info.minor}-venv"]
    return []


def ensure_debian_packages(packages: list[str], why: str) -> None:
    """Install the missing ones of ``packages`` (as root), or print the one line that does."""
    reasons = [why] if packages else []
    if not venv_ready() and venv_package():
        # Asked for together with Qt's libraries, so that a user without root runs one line.
        packages = packages + venv_package()
        reasons.append("to create the virtual environment .venv")
    why = " and ".join(reasons)
    missing = missing_debian_packages(packages)
    if not missing:
        return
    line = "apt-get install -y --no-install-recommends " + " ".join(missing)
    if hasattr(os, "geteuid") and os.geteuid() == 0 and shutil.which("apt-get"):
        say(f"installing Debian packages {why}: {' '.join(missing)}")
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
        subprocess.run(line.split(), check=True, env=env)
    else:
        say(f"tipdesk needs these Debian packages {why}, and they are missing.")
        say("Install them as root (log in as root, or put sudo in front), then run this again:")
        print(f"\n    {line}\n", flush=True)
        sys.exit(2)


def requirements_stamp(extras: str) -> str:
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes() + extras.encode()).hexdigest()
    return digest[:16]


def venv_ready() -> bool:
    """True if ``.venv`` has a Python with pip (``python3 -m venv`` without ensurepip leaves none)."""
    pattern = "Lib/site-packages/pip" if IS_WINDOWS else "lib/python3*/site-packages/pip"
    return VENV_PY.exists() and any(VENV.glob(pattern))


def ensure_environment(extras: str = "test") -> None:
    """Create ``.venv`` and install the project into it (once per pyproject.toml change)."""
    if not venv_ready():
        ensure_debian_packages([], "")  # python3-venv, when Debian's python3 lacks ensurepip
        say("creating the virtual environment .venv")
        # clear=True also repairs a .venv left without pip by a failed ``python3 -m venv``.
        venv.EnvBuilder(with_pip=True, clear=True).create(VENV)
    # One stamp per set of extras: "test" and "test,build" share the venv without reinstalling
    # each other; a stamp is stale once pyproject.toml changes.
    tag = extras.replace(",", "+")
    stamp = VENV / f".installed-{tag}-{requirements_stamp(extras)}"
    if stamp.exists():
        return
    say(f"installing tipdesk and its dependencies into .venv (extras: {extras})")
    subprocess.run(
        [str(VENV_PY), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
         "-e", f".[{extras}]"],
        cwd=ROOT, check=True,
    )
    for old in VENV.glob(".installed-*"):
        old_tag = old.name[len(".installed-"):].rpartition("-")[0]
        if old.name != f".installed-{old_tag}-{requirements_stamp(old_tag.replace('+', ','))}":
            old.unlink()
    stamp.touch()


def ensure_translations() -> None:
    """Build the window's .qm catalogues from resources/translations/*.ts when they are older."""
    folder = ROOT / "resources" / "translations"
    stale = [ts for ts in folder.glob("tipdesk_*.ts")
             if not ts.with_suffix(".qm").exists() or ts.with_suffix(".qm").stat().st_mtime < ts.stat().st_mtime]
    if stale:
        subprocess.run([str(VENV_PY), "-m", "ui.translations", "--release"], cwd=ROOT, check=True,
                       stdout=subprocess.DEVNULL)


def has_display() -> bool:
    if IS_WINDOWS or sys.platform == "darwin":
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def cmd_run(args: list[str]) -> int:
    ensure_debian_packages(QT_OFFSCREEN_PACKAGES + QT_WINDOW_PACKAGES, "to show a window")
    ensure_environment("test")
    ensure_translations()
    if not has_display() and os.environ.get("QT_QPA_PLATFORM") not in ("offscreen", "minimal"):
        say("this machine has no display (neither DISPLAY nor WAYLAND_DISPLAY is set),")
        say("so tipdesk cannot open its window here. To run it on a virtual screen:")
        print("\n    apt-get install -y xvfb xauth   # as root, once"
              "\n    xvfb-run -a python3 tasks.py run\n", flush=True)
        return 1
    register = Path(args[0]) if args else DEMO_REGISTER
    env = dict(os.environ)
    if not args and not register.exists():
        DEMO_DIR.mkdir(parents=True, exist_ok=True)
        say(f"creating the demo register {register} with 1,000 synthetic cases")
        env_demo = dict(env, TIPDESK_PASSWORD=DEMO_ADMIN_PASSWORD)
        subprocess.run(
            [str(VENV_PY), "-m", "tipdesk", "demo", str(register), "--cases", "1000"],
            cwd=ROOT, check=True, env=env_demo,
        )
    if not args:
        say(f"demo register: {register}")
        say(f"log in as  admin  with the demo password  {DEMO_ADMIN_PASSWORD}")
        say("(other demo users and their passwords are listed in README.md)")
    return subprocess.call([str(VENV_PY), "-m", "tipdesk", "open", str(register)], cwd=ROOT, env=env)


def cmd_test(args: list[str]) -> int:
    ensure_debian_packages(QT_OFFSCREEN_PACKAGES, "to run the tests offscreen")
    ensure_environment("test")
    ensure_translations()
    return subprocess.call([str(VENV_PY), "-m", "pytest", *args], cwd=ROOT)


def cmd_bench(args: list[str]) -> int:
    ensure_debian_packages(QT_OFFSCREEN_PACKAGES, "to run the GUI benchmarks offscreen")
    ensure_environment("test")
    return subprocess.call([str(VENV_PY), "-m", "benchmarks", *args], cwd=ROOT)


def cmd_screenshots(args: list[str]) -> int:
    ensure_debian_packages(QT_OFFSCREEN_PACKAGES, "to render the window offscreen")
    ensure_environment("test")
    ensure_translations()
    if args:
        return subprocess.call([str(VENV_PY), "-m", "tipdesk", "screenshots", *args], cwd=ROOT)
    folder = ROOT / "docs" / "screenshots"
    code = subprocess.call([str(VENV_PY), "-m", "tipdesk", "screenshots", str(folder)], cwd=ROOT)
    # the same pictures at 200 % scaling, to check HiDPI screens
    code = code or subprocess.call([str(VENV_PY), "-m", "tipdesk", "screenshots", str(folder / "scale-200"),
                                    "--scale", "2"], cwd=ROOT)
    return code or return_pages(folder)


def return_pages(folder: Path) -> int:
    """Render a demo return's cover and its first table as LibreOffice prints them.

    A throw-away synthetic register in a temporary folder, its return for last year, converted
    to PDF by LibreOffice and two pages to PNG by poppler's pdftoppm: what a secretariat officer
    sees when printing a return (``return-cover.png``, ``return-table.png``).
    """
    import datetime
    import tempfile

    office, pdftoppm = shutil.which("libreoffice") or shutil.which("soffice"), shutil.which("pdftoppm")
    if not office or not pdftoppm:
        say("LibreOffice or pdftoppm (poppler-utils) is missing: the return's printed pages were not rendered")
        return 0
    year = str(datetime.date.today().year - 1)
    with tempfile.TemporaryDirectory(prefix="tipdesk-return-pages-") as tmp:
        work = Path(tmp)
        env = {**os.environ, "TIPDESK_PASSWORD": DEMO_ADMIN_PASSWORD}
        tipdesk = [str(VENV_PY), "-m", "tipdesk"]
        steps = [
            tipdesk + ["demo", str(work / "DEMO.tipdb"), "--cases", "1000"],
            tipdesk + ["export-return", str(work / "DEMO.tipdb"), "--period", year, "--out", str(work)],
            [office, "--headless", f"-env:UserInstallation=file://{work / 'lo-profile'}",
             "--convert-to", "pdf", "--outdir", str(work), str(work / f"TIPRETURN_DEMO_{year}.xlsx")],
        ]
        for step in steps:
            if subprocess.call(step, cwd=work, env=env, stdout=subprocess.DEVNULL) != 0:
                say(f"rendering the return's pages failed at: {Path(step[0]).name} {step[1]}")
                return 1
        pdf = work / f"TIPRETURN_DEMO_{year}.pdf"
        for page, name in ((1, "return-cover"), (2, "return-table")):
            subprocess.check_call([pdftoppm, "-png", "-r", "80", "-singlefile", "-f", str(page),
                                   "-l", str(page), str(pdf), str(folder / name)])
    say(f"return pages rendered: {folder / 'return-cover.png'}, {folder / 'return-table.png'}")
    return 0


def cmd_dist(args: list[str]) -> int:
    ensure_debian_packages(QT_OFFSCREEN_PACKAGES + BUILD_PACKAGES, "to build the bundle")
    ensure_environment("test,build")
    ensure_translations()
    return subprocess.call([str(VENV_PY), str(ROOT / "installer" / "build.py"), *args], cwd=ROOT)


def cmd_translations(args: list[str]) -> int:
    """Refresh resources/translations/*.ts from the window's strings, then build the .qm files."""
    ensure_environment("test")
    return subprocess.call([str(VENV_PY), "-m", "ui.translations", *args], cwd=ROOT)


def cmd_shell(args: list[str]) -> int:
    ensure_environment("test")
    print(f". {VENV / 'bin' / 'activate'}")
    return 0


COMMANDS = {
    "run": cmd_run,
    "test": cmd_test,
    "bench": cmd_bench,
    "screenshots": cmd_screenshots,
    "dist": cmd_dist,
    "translations": cmd_translations,
    "shell": cmd_shell,
}


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in COMMANDS:
        print(__doc__)
        return 2
    try:
        return COMMANDS[argv[0]](argv[1:])
    except subprocess.CalledProcessError as exc:
        # apt-get and pip have already said why on the terminal; a traceback would bury it.
        say(f"this step failed (exit code {exc.returncode}): {' '.join(map(str, exc.cmd))}")
        say("its messages are above; once the cause is fixed, run the same command again.")
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
