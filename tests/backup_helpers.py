"""Helpers shared by the backup tests: repacking a backup file with altered parts."""

from __future__ import annotations

import hashlib
import json
import zipfile
from collections.abc import Callable
from pathlib import Path

from tipdesk.vault import backup as backups


def members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


def repack(
    source: Path,
    target: Path,
    change: Callable[[dict[str, bytes]], None],
    *,
    fix_checksums: bool = True,
    manifest_change: Callable[[dict], None] | None = None,
) -> Path:
    """Write ``target`` from ``source`` with ``change`` applied to its parts; by default the
    manifest's sizes and checksums are recomputed, as a deliberate forger would."""
    parts = members(source)
    change(parts)
    manifest = json.loads(parts[backups.MEMBER_MANIFEST])
    if fix_checksums:
        for name in (backups.MEMBER_DB, backups.MEMBER_KEYS):
            manifest["members"][name] = {
                "bytes": len(parts[name]), "sha256": hashlib.sha256(parts[name]).hexdigest(),
            }
    if manifest_change is not None:
        manifest_change(manifest)
    if fix_checksums or manifest_change is not None:
        parts[backups.MEMBER_MANIFEST] = json.dumps(manifest, indent=1, sort_keys=True).encode()
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_STORED) as zf:
        for name in (backups.MEMBER_DB, backups.MEMBER_KEYS, backups.MEMBER_MANIFEST):
            zf.writestr(name, parts[name])
    return target


def member_offset(path: Path, name: str) -> int:
    """Where the data of member ``name`` starts in the file."""
    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo(name)
    with open(path, "rb") as fh:
        fh.seek(info.header_offset)
        header = fh.read(30)
    name_len = int.from_bytes(header[26:28], "little")
    extra_len = int.from_bytes(header[28:30], "little")
    return info.header_offset + 30 + name_len + extra_len


def flip_byte(path: Path, offset: int) -> None:
    data = bytearray(path.read_bytes())
    data[offset] ^= 0x5A
    path.write_bytes(bytes(data))
