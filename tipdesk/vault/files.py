"""File-system helpers for the vault: atomic writes, private modes, locations we refuse."""

from __future__ import annotations

import contextlib
import errno
import os
import sys
import tempfile
from pathlib import Path

from tipdesk.errors import LocationError

REGISTER_SUFFIX = ".tipdb"
KEYS_SUFFIX = ".keys"
ATTEMPTS_SUFFIX = ".attempts"

# File systems on which SQLite's locking and WAL are unreliable.
NETWORK_FILESYSTEMS = frozenset({
    "cifs", "smb", "smb2", "smb3", "smbfs", "nfs", "nfs4", "afs", "ncpfs", "9p", "coda",
    "davfs", "fuse.sshfs", "fuse.rclone", "fuse.davfs2", "fuse.smbnetfs", "ceph", "glusterfs",
    "fuse.glusterfs", "lustre", "gpfs", "virtiofs_remote",
})


def keys_path(register: Path) -> Path:
    return register.with_name(register.name + KEYS_SUFFIX)


def attempts_path(register: Path) -> Path:
    return register.with_name(register.name + ATTEMPTS_SUFFIX)


def sidecar_paths(register: Path) -> list[Path]:
    """The database's own companion files (WAL and shared memory)."""
    return [register.with_name(register.name + s) for s in ("-wal", "-shm", "-journal")]


def normalise_register_path(path: str | os.PathLike[str]) -> Path:
    """``PATH`` as given, with ``.tipdb`` added when it has no suffix at all."""
    p = Path(path).expanduser()
    if not p.suffix:
        p = p.with_name(p.name + REGISTER_SUFFIX)
    return p


def private_umask() -> None:
    """New files are readable by their owner only (no effect on Windows)."""
    with contextlib.suppress(AttributeError):
        os.umask(0o077)


def fsync_directory(directory: Path) -> None:
    if os.name == "nt":
        return
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write(path: Path, data: bytes, mode: int = 0o600) -> None:
    """Write ``data`` to ``path`` so that a crash leaves the old file or the new one, never half.

    Temp file in the same directory → fsync → ``os.replace`` → fsync of the directory.
    """
    path = Path(path)
    fd, tmp_name = tempfile.mkstemp(prefix="." + path.name + ".", suffix=".tmp", dir=path.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        with contextlib.suppress(OSError):
            os.chmod(tmp, mode)
        os.replace(tmp, path)
        fsync_directory(path.parent)
    except OSError as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise location_error(exc, path) from exc


def location_error(exc: OSError, path: Path) -> LocationError:
    """A plain sentence for an OS error while writing ``path``."""
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return LocationError(f"The disk is full: could not write {path.name} in {path.parent}.")
    if exc.errno in (errno.EROFS,):
        return LocationError(f"{path.parent} is read-only: nothing was written there.")
    if exc.errno in (errno.EACCES, errno.EPERM):
        return LocationError(f"You may not write to {path.parent}: nothing was written there.")
    return LocationError(f"Could not write {path.name} in {path.parent}: {exc.strerror or exc}.")


def _mount_table(mounts_text: str | None) -> list[tuple[str, str]]:
    if mounts_text is None:
        try:
            mounts_text = Path("/proc/self/mounts").read_text(encoding="utf-8", errors="replace")
        except OSError:
            return []
    table = []
    for line in mounts_text.splitlines():
        parts = line.split()
        if len(parts) >= 3:
            mount_point = parts[1].replace("\\040", " ")
            table.append((mount_point, parts[2]))
    return table


def filesystem_type(path: Path, mounts_text: str | None = None) -> str:
    """The type of the file system holding ``path`` on Linux ('' when unknown)."""
    target = str(Path(os.path.abspath(path)))
    best, best_type = "", ""
    for mount_point, fs_type in _mount_table(mounts_text):
        mp = mount_point.rstrip("/") or "/"
        if (target == mp or target.startswith(mp.rstrip("/") + "/")) and len(mp) >= len(best):
            best, best_type = mp, fs_type
    return best_type


def is_network_location(path: Path, mounts_text: str | None = None) -> bool:
    """True when ``path`` is on a network share (SMB/CIFS, NFS, WebDAV, sshfs…)."""
    if os.name == "nt":
        text = os.path.abspath(path)
        if text.startswith("\\\\"):
            return True
        import ctypes

        drive = os.path.splitdrive(text)[0] + "\\"
        DRIVE_REMOTE = 4
        return ctypes.windll.kernel32.GetDriveTypeW(drive) == DRIVE_REMOTE  # type: ignore[attr-defined]
    if sys.platform.startswith("linux"):
        return filesystem_type(path, mounts_text).lower() in NETWORK_FILESYSTEMS
    return False


def refuse_network_location(path: Path) -> None:
    folder = path.parent if not path.is_dir() else path
    if is_network_location(folder):
        raise LocationError(
            f"{folder} is on a network share. A register must live on this computer's own disk: "
            "file locking and the write-ahead log that keep a register safe do not work reliably "
            "over SMB, NFS and similar shares, and a register there can be corrupted. "
            "Copy it to a local folder (and use backups to move it between computers)."
        )


def check_writable_directory(folder: Path) -> None:
    """Raise ``LocationError`` when new files cannot be created in ``folder``."""
    if not folder.exists():
        raise LocationError(f"The folder {folder} does not exist.")
    if not folder.is_dir():
        raise LocationError(f"{folder} is not a folder.")
    try:
        fd, name = tempfile.mkstemp(prefix=".tipdesk-probe-", dir=folder)
    except OSError as exc:
        raise location_error(exc, folder / "probe") from exc
    os.close(fd)
    os.unlink(name)
