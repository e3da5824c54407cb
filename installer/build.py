"""Build the desktop bundle ``dist/tipdesk/`` (and, on Windows with Inno Setup, the installer).

    python3 tasks.py dist                # what developers and CI run (sets up .venv first)
    python installer/build.py [--installer] [--no-excludes] [--dist DIR]

Runs PyInstaller on ``installer/tipdesk.spec`` in a clean work folder, then checks the result:
both executables exist and ``tipdesk-cli --version`` prints the version of pyproject.toml.
Prints the build time and the bundle's size. ``--installer`` (Windows) also compiles
``installer/windows/tipdesk.iss`` with Inno Setup's ``iscc`` into ``dist/``; ``--portable``
packs the bundle with a ``tipdesk.portable`` marker for use from a USB stick.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
import tomllib
from pathlib import Path

INSTALLER = Path(__file__).resolve().parent
ROOT = INSTALLER.parent
IS_WINDOWS = os.name == "nt"
EXE_SUFFIX = ".exe" if IS_WINDOWS else ""


def project_version() -> str:
    """The one version number, from pyproject.toml."""
    return str(tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"])


def folder_size(folder: Path) -> int:
    """Bytes of the regular files under ``folder`` (symbolic links counted once, as links)."""
    total = 0
    for path in folder.rglob("*"):
        if path.is_file() and not path.is_symlink():
            total += path.stat().st_size
    return total


def windows_version_file(version: str, target: Path) -> Path:
    """A VSVersionInfo file, so that Explorer's Properties show the product and version."""
    numbers = [int(p) if p.isdigit() else 0 for p in version.split("+")[0].split(".")[:4]]
    numbers += [0] * (4 - len(numbers))
    quad = tuple(numbers)
    text = f"""VSVersionInfo(
  ffi=FixedFileInfo(filevers={quad}, prodvers={quad}, mask=0x3f, flags=0x0, OS=0x40004,
                    fileType=0x1, subtype=0x0, date=(0, 0)),
  kids=[
    StringFileInfo([StringTable('040904B0', [
      StringStruct('CompanyName', 'tipdesk developers'),
      StringStruct('FileDescription', 'tipdesk case register'),
      StringStruct('FileVersion', '{version}'),
      StringStruct('InternalName', 'tipdesk'),
      StringStruct('OriginalFilename', 'tipdesk.exe'),
      StringStruct('ProductName', 'tipdesk'),
      StringStruct('ProductVersion', '{version}')])]),
    VarFileInfo([VarStruct('Translation', [1033, 1200])])
  ]
)
"""
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")
    return target


def run_pyinstaller(dist: Path, work: Path, no_excludes: bool) -> None:
    env = dict(os.environ)
    env.pop("TIPDESK_BUNDLE_NO_EXCLUDES", None)
    if no_excludes:
        env["TIPDESK_BUNDLE_NO_EXCLUDES"] = "1"
    if IS_WINDOWS:
        env["TIPDESK_VERSION_FILE"] = str(windows_version_file(project_version(), work / "version_info.txt"))
    shutil.rmtree(work, ignore_errors=True)
    subprocess.run(
        [sys.executable, "-m", "PyInstaller", "--noconfirm", "--clean", "--log-level", "WARN",
         "--distpath", str(dist), "--workpath", str(work), str(INSTALLER / "tipdesk.spec")],
        cwd=ROOT, env=env, check=True,
    )


def add_top_level_files(bundle: Path) -> None:
    """Copy the files that belong beside the executables (e.g. the Linux desktop-entry script).

    On Linux, also link ``tipdesk-cli`` to ``tipdesk``: there the windowed and the console
    program are the same file (the spec builds only one, saving a 9 MB copy).
    """
    if sys.platform.startswith("linux"):
        cli = bundle / "tipdesk-cli"
        cli.unlink(missing_ok=True)
        cli.symlink_to("tipdesk")
    sys.path.insert(0, str(INSTALLER))
    import contents

    key = "windows" if IS_WINDOWS else ("linux" if sys.platform.startswith("linux") else sys.platform)
    for name in contents.TOP_LEVEL_FILES.get(key, ()):
        shutil.copy2(ROOT / name, bundle / Path(name).name)


def portable_archive(bundle: Path, dist: Path) -> Path:
    """``tipdesk-VERSION-PLATFORM-portable`` (.zip on Windows, .tar.gz elsewhere) with the marker.

    Unpacked onto a USB stick it runs in portable mode: settings stay beside the program.
    """
    import tarfile
    import zipfile

    stem = f"tipdesk-{project_version()}-{'windows' if IS_WINDOWS else sys.platform}-portable"
    marker_note = b"tipdesk keeps its settings in the settings folder beside this file (portable mode).\n"
    if IS_WINDOWS:
        target = dist / f"{stem}.zip"
        with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zf:
            for path in sorted(bundle.rglob("*")):
                if path.is_file():
                    zf.write(path, Path("tipdesk") / path.relative_to(bundle))
            zf.writestr("tipdesk/tipdesk.portable", marker_note)
        return target
    target = dist / f"{stem}.tar.gz"
    marker = dist / "tipdesk.portable"
    marker.write_bytes(marker_note)
    try:
        with tarfile.open(target, "w:gz") as tf:
            tf.add(bundle, arcname="tipdesk")  # keeps the bundle's symbolic links as links
            tf.add(marker, arcname="tipdesk/tipdesk.portable")
    finally:
        marker.unlink()
    return target


def check_bundle(bundle: Path) -> None:
    """Both executables exist and report this version (raises SystemExit otherwise)."""
    version = project_version()
    for name in ("tipdesk", "tipdesk-cli"):
        exe = bundle / f"{name}{EXE_SUFFIX}"
        if not exe.is_file():
            raise SystemExit(f"build.py: {exe} is missing after the build")
    out = subprocess.run([str(bundle / f"tipdesk-cli{EXE_SUFFIX}"), "--version"],
                         capture_output=True, text=True, timeout=120)
    if out.returncode != 0 or out.stdout.strip() != f"tipdesk {version}":
        raise SystemExit(f"build.py: tipdesk-cli --version said {out.stdout.strip()!r} "
                         f"(exit {out.returncode}), expected 'tipdesk {version}'\n{out.stderr}")


def build_installer(dist: Path) -> Path:
    """Compile the Inno Setup script (Windows only) into dist/tipdesk-VERSION-setup.exe."""
    iscc = shutil.which("iscc") or shutil.which("ISCC")
    default = Path(os.environ.get("ProgramFiles(x86)", r"C:\Program Files (x86)")) / "Inno Setup 6" / "ISCC.exe"
    if not iscc and default.exists():
        iscc = str(default)
    if not iscc:
        raise SystemExit("build.py: Inno Setup's iscc was not found (install Inno Setup 6, or add it to PATH)")
    version = project_version()
    cmd = [iscc, f"/DAppVersion={version}", f"/DSourceDir={dist / 'tipdesk'}", f"/O{dist}"]
    sign = os.environ.get("TIPDESK_SIGN_COMMAND")
    if sign:
        # Inno Setup signs setup.exe and the uninstaller with it ($f = the file to sign).
        cmd += ["/DSignTool=tipdesksign", f"/Stipdesksign={sign}"]
    subprocess.run([*cmd, str(INSTALLER / "windows" / "tipdesk.iss")], check=True)
    return dist / f"tipdesk-{version}-setup.exe"


def sign_executables(bundle: Path) -> None:
    """Sign tipdesk.exe and tipdesk-cli.exe with TIPDESK_SIGN_COMMAND ($f = file), if it is set."""
    sign = os.environ.get("TIPDESK_SIGN_COMMAND")
    if not sign:
        return
    for name in ("tipdesk.exe", "tipdesk-cli.exe"):
        subprocess.run(sign.replace("$f", f'"{bundle / name}"'), shell=True, check=True)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="installer/build.py", description=__doc__.splitlines()[0])
    parser.add_argument("--dist", type=Path, default=ROOT / "dist", help="output folder (default: dist)")
    parser.add_argument("--work", type=Path, default=ROOT / "build" / "pyinstaller",
                        help="PyInstaller's work folder (default: build/pyinstaller)")
    parser.add_argument("--no-excludes", action="store_true",
                        help="build without the Qt exclusions (only to measure what they save)")
    parser.add_argument("--installer", action="store_true", help="also build the Windows installer (Inno Setup)")
    parser.add_argument("--portable", action="store_true",
                        help="also pack a portable archive (settings kept beside the program)")
    args = parser.parse_args(argv)

    start = time.perf_counter()
    run_pyinstaller(args.dist.resolve(), args.work.resolve(), args.no_excludes)
    seconds = time.perf_counter() - start
    bundle = args.dist.resolve() / "tipdesk"
    add_top_level_files(bundle)
    check_bundle(bundle)
    size = folder_size(bundle)
    print(f"Built {bundle} in {seconds:.0f} s: {size / 1e6:.0f} MB unpacked, "
          f"tipdesk {project_version()}.", flush=True)
    if IS_WINDOWS:
        sign_executables(bundle)  # before packing, so the archive and the installer hold signed programs
    if args.portable:
        print(f"Packed {portable_archive(bundle, args.dist.resolve())}.", flush=True)
    if args.installer:
        if not IS_WINDOWS:
            raise SystemExit("build.py: the Inno Setup installer can only be built on Windows")
        setup = build_installer(args.dist.resolve())
        print(f"Built the installer {setup}.", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
