"""Run the bundle's self-test on a Debian system made of nothing but the README's packages.

    sudo python3 installer/linux/minimal_system_check.py [dist/tipdesk] [--keep DIR]

Builds a throw-away root folder holding only the files of the packages that README.md lists
under "Installing" (and what apt would install with them: their Depends and Pre-Depends),
copies the bundle into it, and runs ``tipdesk-cli --self-test`` there with ``chroot``: no
fonts, no /etc/fonts, no Python, no Qt but the bundle's. It proves that the bundle carries
everything else. Needs root (chroot, mounts), Debian (dpkg), and the packages
installed on this machine (their files are copied from here).

Exit code: the self-test's, or 2 when the check cannot be set up here.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

#: What a Linux machine needs besides the bundle (keep README.md's "Installing" in step).
REQUIRED_PACKAGES = ("libc6", "libgl1", "libegl1")
#: Needed only to show a window: on X11 (and XWayland), and on native Wayland.
WINDOW_PACKAGES = ("libxcb1", "libwayland-client0", "libwayland-cursor0", "libwayland-egl1")
#: Part of every Debian system (Essential: yes); libc-bin holds the C.UTF-8 locale Qt wants.
ESSENTIAL_PACKAGES = ("libc-bin",)
MERGED_USR = ("bin", "sbin", "lib", "lib32", "lib64", "libx32")


def installed(package: str) -> bool:
    out = subprocess.run(["dpkg-query", "-W", "-f=${db:Status-Status}", package],
                         capture_output=True, text=True)
    return out.stdout.strip() == "installed"


def direct_dependencies(package: str) -> list[str]:
    """The installed packages ``package`` depends on (Depends, Pre-Depends), from dpkg's status."""
    out = subprocess.run(["dpkg-query", "-W", "-f=${Depends}, ${Pre-Depends}", package],
                         capture_output=True, text=True, check=True)
    found = []
    for clause in out.stdout.split(","):
        # "libc6 (>= 2.34) | libc6.1" : the first alternative that is installed counts.
        for alternative in clause.split("|"):
            name = alternative.strip().split(" ")[0].split(":")[0]
            if name and installed(name):
                found.append(name)
                break
    return found


def with_dependencies(packages: tuple[str, ...]) -> list[str]:
    """``packages`` plus everything apt installs with them (Depends, Pre-Depends), as installed."""
    seen: set[str] = set()
    todo = list(packages)
    while todo:
        package = todo.pop()
        if package not in seen:
            seen.add(package)
            todo.extend(direct_dependencies(package))
    return sorted(seen)


def package_files(package: str) -> list[Path]:
    out = subprocess.run(["dpkg", "-L", package], capture_output=True, text=True, check=True)
    return [Path(p) for p in out.stdout.splitlines() if p.startswith("/")]


def in_root(root: Path, path: Path) -> Path:
    """Where ``path`` goes in a merged-/usr root (/lib/x → /usr/lib/x)."""
    parts = path.parts[1:]
    if parts and parts[0] in MERGED_USR:
        parts = ("usr", *parts)
    return root.joinpath(*parts)


def populate(root: Path, packages: list[str]) -> None:
    for name in MERGED_USR:
        (root / "usr" / name).mkdir(parents=True, exist_ok=True)
        (root / name).symlink_to(f"usr/{name}")
    for package in packages:
        for path in package_files(package):
            if path.is_dir() and not path.is_symlink():
                continue
            if path.parts[1:3] in (("usr", "share"),) and path.parts[3:4] in (("doc",), ("man",), ("locale",)):
                continue
            target = in_root(root, path)
            if target.exists() or target.is_symlink() or not (path.exists() or path.is_symlink()):
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            if path.is_symlink():
                target.symlink_to(os.readlink(path))
            else:
                shutil.copy2(path, target)
    for folder in ("tmp", "dev", "proc", "opt", "etc"):
        (root / folder).mkdir(exist_ok=True)
    (root / "tmp").chmod(0o1777)
    (root / "etc" / "passwd").write_text("root:x:0:0:root:/tmp:/bin/false\n")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("bundle", nargs="?", type=Path, default=ROOT / "dist" / "tipdesk")
    parser.add_argument("--keep", type=Path, help="build the root here and keep it (default: a temp folder)")
    parser.add_argument("--screenshot-dir", type=Path, help="copy the self-test's PNGs out to DIR")
    parser.add_argument("--x11", action="store_true",
                        help="add the window packages and use this session's X display (e.g. under xvfb-run)")
    args = parser.parse_args(argv)
    if os.geteuid() != 0 or not shutil.which("dpkg") or not shutil.which("chroot"):
        print("minimal_system_check: needs root on Debian (dpkg, chroot)", file=sys.stderr)
        return 2
    probe = subprocess.run(["unshare", "--mount", "--pid", "--fork", "true"], capture_output=True, text=True)
    if probe.returncode != 0:
        print(f"minimal_system_check: cannot make a mount namespace here ({probe.stderr.strip()})",
              file=sys.stderr)
        return 2
    bundle = args.bundle.resolve()
    if not (bundle / "tipdesk-cli").is_file():
        print(f"minimal_system_check: no bundle at {bundle} (run python3 tasks.py dist)", file=sys.stderr)
        return 2
    missing = [p for p in REQUIRED_PACKAGES if not installed(p)]
    if missing:
        print(f"minimal_system_check: install {' '.join(missing)} on this machine first", file=sys.stderr)
        return 2
    wanted = REQUIRED_PACKAGES + ESSENTIAL_PACKAGES
    display = ""
    if args.x11:
        display = os.environ.get("DISPLAY", "")
        if not display.startswith(":") or not Path("/tmp/.X11-unix").is_dir():
            print("minimal_system_check: --x11 needs a local X display (run under xvfb-run -a)", file=sys.stderr)
            return 2
        wanted += tuple(p for p in WINDOW_PACKAGES if installed(p))
    packages = with_dependencies(wanted)
    with tempfile.TemporaryDirectory(prefix="tipdesk-minroot-") as tmp:
        root = args.keep.resolve() if args.keep else Path(tmp) / "root"
        if root.exists():
            shutil.rmtree(root)
        root.mkdir(parents=True)
        populate(root, packages)
        shutil.copytree(bundle, root / "opt" / "tipdesk", symlinks=True)
        print(f"Minimal Debian root with {len(packages)} packages: {' '.join(packages)}", flush=True)
        for probe in ("etc/fonts", "usr/share/fonts", "usr/bin/python3"):
            if (root / probe).exists():
                print(f"minimal_system_check: {probe} should not be in the minimal root", file=sys.stderr)
                return 2
        shots = "/tmp/shots"
        x11 = ""
        if display:
            (root / "tmp" / ".X11-unix").mkdir()
            x11 = f'mount --bind /tmp/.X11-unix "$R/tmp/.X11-unix"; '
            if os.environ.get("XAUTHORITY"):
                shutil.copy2(os.environ["XAUTHORITY"], root / "tmp" / ".Xauthority")
                display += " XAUTHORITY=/tmp/.Xauthority"
        script = (
            'set -e; mount --rbind /dev "$R/dev"; mount -t proc proc "$R/proc"; ' + x11 +
            f'exec env -i HOME=/tmp PATH=/usr/bin:/bin LANG=C.UTF-8 {"DISPLAY=" + display if display else ""} '
            f'{shutil.which("chroot")} "$R" /opt/tipdesk/tipdesk-cli --self-test --screenshot-dir {shots}'
        )
        result = subprocess.run(["unshare", "--mount", "--pid", "--fork", "bash", "-c", script],
                                env=dict(os.environ, R=str(root)))
        if args.screenshot_dir and (root / shots.lstrip("/")).is_dir():
            shutil.copytree(root / shots.lstrip("/"), args.screenshot_dir, dirs_exist_ok=True)
        return result.returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
