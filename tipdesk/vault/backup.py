"""Backups: one self-contained ``NAME-YYYYMMDD-HHMMSS.tipbak`` file, verified before it counts.

A backup file is a plain, uncompressed zip (``ZIP_STORED``: the payload is encrypted, so it
would not compress) holding exactly three members:

- ``register.tipdb``: an encrypted copy of the register made with ``sqlcipher_export`` (never a
  copy of the live file), keyed with the register's own key;
- ``register.tipdb.keys``: the keyslot file as it was at backup time, so the backup opens with
  the passwords valid then, and with the recovery key;
- ``manifest.json``: register id, schema revision, software version, creation time, row counts
  per table, the audit chain's head, and the size and SHA-256 of the two other members. It holds
  no names.

Every backup file is read as untrusted input: fixed member names only (no path from the archive
is ever used), stored members only, bounded sizes, CRC and SHA-256 of every member, and then the
manifest is checked against the encrypted database itself (register id, schema revision, row
counts, audit head), which SQLCipher authenticates page by page.

Writing: ``sqlcipher_export`` into a private (0700) temporary folder beside the register, in one
read snapshot. While ``PRAGMA integrity_check``, ``cipher_integrity_check`` and the audit chain
run on that copy (each on its own connection and thread), the archive is written under a hidden
``.part`` name in the destination and read back like any backup — structure, manifest, the
SHA-256 of every member — so its database member is, byte for byte, the copy being checked; the
copy's row counts must equal the source snapshot's. Only then is the file renamed to its final
name. A crash or a failed check never leaves a half backup that looks valid, and never touches
the register. ``verify_backup`` and ``restore`` extract the (still encrypted) database from a
file and run the same checks.

No Qt here: the window calls these functions from its operation runner with ``progress`` and
``keep_going`` callbacks.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import hashlib
import json
import logging
import os
import re
import shutil
import struct
import sys
import tempfile
import threading
import time
import zipfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Protocol

import sqlcipher3
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from models import utcnow
from tipdesk.errors import (
    AccountRevoked,
    BackupDamaged,
    Cancelled,
    CheckFailed,
    KeyslotsDamaged,
    KeyslotsMissing,
    LocationError,
    RegisterTooNew,
    TipdeskError,
    UsageError,
    WrongCredentials,
)
from tipdesk.security import audit
from tipdesk.security.roles import Actor
from tipdesk.vault import files, migrate
from tipdesk.vault.check import CheckReport
from tipdesk.vault.engine import connect_raw, make_engine
from tipdesk.vault.keyslots import KeyslotFile, normalise_username
from tipdesk.vault.register import (
    META_REGISTER_ID,
    PAGE_SIZE,
    Register,
    export_encrypted_copy,
    get_meta,
    open_register,
    open_with_recovery_key,
    row_counts,
    set_meta,
    software_version,
)

if TYPE_CHECKING:
    from tipdesk.settings import Settings

log = logging.getLogger(__name__)

BACKUP_SUFFIX = ".tipbak"
FORMAT = "tipdesk-backup"
FORMAT_VERSION = 1
MEMBER_DB = "register.tipdb"
MEMBER_KEYS = "register.tipdb.keys"
MEMBER_MANIFEST = "manifest.json"
MEMBERS = (MEMBER_DB, MEMBER_KEYS, MEMBER_MANIFEST)

MAX_MANIFEST_BYTES = 1_000_000
MAX_KEYS_BYTES = 1_000_000
MAX_DB_BYTES = 1 << 40  # 1 TiB: far beyond any register, small enough to stay an integer sanity bound
MAX_CENTRAL_DIRECTORY_BYTES = 64 * 1024  # three entries need a few hundred bytes
MAX_TABLES = 1000
CHUNK = 1 << 20
# Page cache of the integrity check: SQLite allocates it as pages are read, so a register smaller
# than this uses only its own size, and only while the check runs.
CHECK_CACHE_KIB = 256 * 1024

DEFAULT_KEEP_LAST = 10
MONTHLY_FOR_MONTHS = 12
DEFAULT_REMIND_AFTER_DAYS = 7
STALE_LEFTOVER_SECONDS = 12 * 3600  # a .part or temp folder this old is from a crashed run

# register_meta keys
META_LAST_BACKUP_AT = "backup.last_verified_at"  # UTC ISO
META_LAST_BACKUP_FILE = "backup.last_file"
META_DESTINATION = "backup.destination"
META_KEEP_LAST = "backup.keep_last"
META_REMIND_AFTER_DAYS = "backup.remind_after_days"

TEMP_PREFIX = ".tipdesk-backup-"
RESTORE_TEMP_PREFIX = ".tipdesk-restore-"

_NAME_RE = re.compile(r"^(?P<name>.+)-(?P<date>\d{8})-(?P<time>\d{6})(?:-(?P<n>\d{1,3}))?\.tipbak$")
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_HEX_ID = re.compile(r"^[0-9a-f]{8,64}$")
_TABLE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
_REVISION = re.compile(r"^[0-9A-Za-z_]{1,32}$")
_VERSION = re.compile(r"^[0-9A-Za-z.+_-]{1,32}$")

ProgressFn = Callable[[float, str], None]  # (fraction of the whole operation 0–1, what now)
KeepGoing = Callable[[], bool]  # False stops the operation (Cancelled)

PASSWORDS_NOTE = (
    "A backup keeps the users and passwords that were valid when it was made: a user revoked "
    "later can still open an older backup with their old password, and the recovery key opens "
    "every backup."
)


# --- plain data ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class MemberInfo:
    bytes: int
    sha256: str


@dataclass(frozen=True)
class Manifest:
    """What a backup file says about itself (checked against the encrypted database)."""

    register_id: str
    register_name: str
    schema_revision: str
    software_version: str
    created_at: dt.datetime  # aware, UTC
    row_counts: dict[str, int]
    audit_events: int
    audit_head: str
    members: dict[str, MemberInfo] = field(default_factory=dict)

    def to_bytes(self) -> bytes:
        data = {
            "format": FORMAT,
            "version": FORMAT_VERSION,
            "register_id": self.register_id,
            "register_name": self.register_name,
            "schema_revision": self.schema_revision,
            "software_version": self.software_version,
            "created_at": _iso(self.created_at),
            "row_counts": dict(sorted(self.row_counts.items())),
            "audit": {"events": self.audit_events, "head": self.audit_head},
            "members": {k: {"bytes": v.bytes, "sha256": v.sha256} for k, v in sorted(self.members.items())},
        }
        return (json.dumps(data, indent=1, sort_keys=True) + "\n").encode("utf-8")

    @classmethod
    def from_bytes(cls, raw: bytes) -> Manifest:
        """Parse and validate a manifest read from a file (untrusted)."""
        try:
            data = json.loads(raw.decode("utf-8"))
            if not isinstance(data, dict) or data.get("format") != FORMAT:
                raise ValueError("not a tipdesk backup manifest")
            if data.get("version") != FORMAT_VERSION:
                raise ValueError(f"unknown backup format version {data.get('version')!r}")
            register_id = _text(data, "register_id", _HEX_ID)
            name = data["register_name"]
            if not isinstance(name, str) or not 1 <= len(name) <= 200 or any(c in name for c in "/\\\0"):
                raise ValueError("bad register_name")
            counts_raw = data["row_counts"]
            if not isinstance(counts_raw, dict) or len(counts_raw) > MAX_TABLES:
                raise ValueError("bad row_counts")
            counts = {}
            for table, n in counts_raw.items():
                if not isinstance(table, str) or not _TABLE.fullmatch(table) or not _count(n):
                    raise ValueError("bad row count")
                counts[table] = n
            audit_raw = data["audit"]
            if not isinstance(audit_raw, dict) or not _count(audit_raw.get("events")):
                raise ValueError("bad audit")
            head = _text(audit_raw, "head", _HEX64)
            members_raw = data["members"]
            if not isinstance(members_raw, dict) or set(members_raw) != {MEMBER_DB, MEMBER_KEYS}:
                raise ValueError("bad members")
            members = {}
            for member, info in members_raw.items():
                if not isinstance(info, dict) or not _count(info.get("bytes")):
                    raise ValueError("bad member")
                members[member] = MemberInfo(info["bytes"], _text(info, "sha256", _HEX64))
            created = dt.datetime.strptime(_text(data, "created_at", None), "%Y-%m-%dT%H:%M:%SZ")
            return cls(
                register_id=register_id,
                register_name=name,
                schema_revision=_text(data, "schema_revision", _REVISION),
                software_version=_text(data, "software_version", _VERSION),
                created_at=created.replace(tzinfo=dt.UTC),
                row_counts=counts,
                audit_events=audit_raw["events"],
                audit_head=head,
                members=members,
            )
        except (ValueError, KeyError, TypeError, UnicodeDecodeError, RecursionError) as exc:
            raise BackupDamaged(
                "The backup's description (manifest) is damaged or not a tipdesk backup's. "
                "The backup cannot be used.", [str(exc)]
            ) from exc

    @property
    def total_rows(self) -> int:
        return sum(self.row_counts.values())


def _text(data: dict[str, Any], key: str, pattern: re.Pattern[str] | None) -> str:
    value = data[key]
    if not isinstance(value, str) or len(value) > 200 or (pattern is not None and not pattern.fullmatch(value)):
        raise ValueError(f"bad {key}")
    return value


def _count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_DB_BYTES


def _iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class BackupResult:
    """A backup that was written and verified."""

    path: Path
    bytes: int
    created_at: dt.datetime
    seconds: float
    row_counts: dict[str, int]
    audit_events: int
    deleted: tuple[str, ...] = ()  # older backups removed by rotation
    kept: int = 1  # backups of this register now in the destination
    keep_last: int = DEFAULT_KEEP_LAST  # the rotation setting used
    warnings: tuple[str, ...] = ()

    @property
    def megabytes(self) -> float:
        return self.bytes / 1e6


@dataclass(frozen=True)
class VerifyReport:
    ok: bool
    lines: tuple[str, ...]
    manifest: Manifest | None
    restorable: bool  # ok, and this version of tipdesk knows its schema


@dataclass(frozen=True)
class Credentials:
    """How to unlock a backup: a user's password from the backup's own key file, or the recovery
    key (then ``username`` names the administrator acting)."""

    username: str | None = None
    password: str | None = None
    recovery_key: bytes | None = None


@dataclass(frozen=True)
class RestoreResult:
    path: Path
    moved_aside: tuple[Path, ...]
    backup_created_at: dt.datetime
    acting_user: str
    warnings: tuple[str, ...] = ()

    @property
    def sentence(self) -> str:
        made = _local(self.backup_created_at)
        return (
            f"Restored the register as it was on {made}. It opens with the passwords that were "
            "valid then (not with passwords set later), and with the recovery key."
        )


# --- progress and cancellation -------------------------------------------------------------------

class _Steps:
    """Maps each stage of an operation onto a share of one progress bar, and checks for a stop."""

    def __init__(self, progress: ProgressFn | None, keep_going: KeepGoing | None) -> None:
        self._progress = progress
        self._keep_going = keep_going
        self._start = 0.0
        self._width = 0.0
        self._text = ""
        self._last = 0.0

    def stage(self, start: float, end: float, text: str) -> None:
        self.check()
        self._start, self._width, self._text = start, end - start, text
        self.at(0.0)

    def at(self, fraction: float) -> None:
        if self._progress is not None:
            value = self._start + self._width * max(0.0, min(1.0, fraction))
            if value >= self._last:
                self._last = value
                self._progress(value, self._text)

    def alive(self) -> bool:
        return self._keep_going is None or bool(self._keep_going())

    def check(self) -> None:
        if not self.alive():
            raise Cancelled("Stopped: nothing was kept, and the register is untouched.")


class _Tracker(Protocol):
    def at(self, fraction: float) -> None: ...
    def alive(self) -> bool: ...
    def check(self) -> None: ...


# --- small file helpers --------------------------------------------------------------------------

def _open_new_file(path: Path) -> IO[bytes]:
    """Create ``path`` (must not exist), private to its owner. Tests replace this to fake a full
    or read-only disk."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    fd = os.open(path, flags, 0o600)
    return os.fdopen(fd, "wb")


@contextlib.contextmanager
def _private_folder(near: Path, prefix: str) -> Iterator[Path]:
    """A private (0700) temporary folder inside ``near``, always removed afterwards."""
    try:
        folder = Path(tempfile.mkdtemp(prefix=prefix, dir=near))
    except OSError as exc:
        raise files.location_error(exc, near / prefix) from exc
    try:
        with contextlib.suppress(OSError):
            os.chmod(folder, 0o700)
        yield folder
    finally:
        _rmtree(folder)


def _rmtree(folder: Path) -> None:
    """Remove a folder we made; what cannot be removed is logged (by path, never contents)."""

    def log_it(func: Any, path: str, exc: Any) -> None:
        log.warning("could not remove temporary file %s: %s", path, exc[1] if isinstance(exc, tuple) else exc)

    if sys.version_info >= (3, 12):
        shutil.rmtree(folder, onexc=log_it)
    else:
        shutil.rmtree(folder, onerror=log_it)


def _remove_quietly(path: Path) -> None:
    try:
        path.unlink()
    except FileNotFoundError:
        pass
    except OSError as exc:
        log.warning("could not remove %s: %s", path, exc)


def _free_bytes(folder: Path) -> int | None:
    try:
        return shutil.disk_usage(folder).free
    except OSError:
        return None


def _mb(n: int | float) -> str:
    return f"{n / 1e6:,.1f} MB" if n < 10e9 else f"{n / 1e9:,.1f} GB"


def local_time(moment: dt.datetime) -> str:
    """A moment in this computer's time zone, for people: '23 November 2026, 16:36'."""
    return moment.astimezone().strftime("%d %B %Y, %H:%M")


_local = local_time


def _clean_stale_leftovers(folder: Path, pattern: str) -> None:
    """Remove what a crashed run left (older than half a day, so never a running backup's)."""
    now = time.time()
    with contextlib.suppress(OSError):
        for p in folder.glob(pattern):
            with contextlib.suppress(OSError):
                if now - p.stat().st_mtime < STALE_LEFTOVER_SECONDS:
                    continue
                if p.is_dir():
                    _rmtree(p)
                else:
                    p.unlink()


# --- reading a backup file (untrusted) ------------------------------------------------------------

_EOCD = struct.Struct("<4s4H2LH")  # end of central directory record, 22 bytes
_ZIP64_LOCATOR = struct.Struct("<4sLQL")  # 20 bytes
_ZIP64_EOCD = struct.Struct("<4sQ2H2L4Q")  # 56 bytes


def _central_directory(fh: IO[bytes], size: int) -> tuple[int, int]:
    """Check the zip's end record strictly (one disk, no comment, the directory right before it)
    and return the size of its central directory and its number of entries."""
    if size < _EOCD.size:
        raise ValueError("too short")
    fh.seek(size - _EOCD.size)
    sig, disk, cd_disk, n_here, n_total, cd_size, cd_offset, comment = _EOCD.unpack(fh.read(_EOCD.size))
    if sig != b"PK\x05\x06" or comment != 0:
        raise ValueError("no end record")
    cd_end = size - _EOCD.size
    locator_at = size - _EOCD.size - _ZIP64_LOCATOR.size
    locator = b""
    if locator_at >= 0:
        fh.seek(locator_at)
        locator = fh.read(_ZIP64_LOCATOR.size)
    if locator[:4] == b"PK\x06\x07":  # zip64 (members or offsets beyond 4 GB): its record rules
        sig, disk, offset64, disks = _ZIP64_LOCATOR.unpack(locator)
        if offset64 + _ZIP64_EOCD.size != locator_at or disk != 0 or disks != 1:
            raise ValueError("bad zip64 locator")
        fh.seek(offset64)
        rec = _ZIP64_EOCD.unpack(fh.read(_ZIP64_EOCD.size))
        if rec[0] != b"PK\x06\x06" or rec[1] != _ZIP64_EOCD.size - 12:
            raise ValueError("bad zip64 record")
        disk, cd_disk, n_here, n_total, cd_size, cd_offset = rec[4], rec[5], rec[6], rec[7], rec[8], rec[9]
        cd_end = offset64
    elif cd_size == 0xFFFFFFFF or cd_offset == 0xFFFFFFFF or n_total == 0xFFFF:
        raise ValueError("zip64 values without a zip64 record")
    if disk != 0 or cd_disk != 0 or n_here != n_total:
        raise ValueError("several disks")
    if cd_offset + cd_size != cd_end:
        raise ValueError("central directory misplaced")
    return cd_size, n_total


_LOCAL_HEADER = struct.Struct("<4s5H3L2H")  # 30 bytes


def _check_local_headers(fh: IO[bytes], infos: list[zipfile.ZipInfo]) -> None:
    """Each member's local header must agree with its central directory entry (zipfile itself
    compares only the name), so that no byte locating or describing the data goes unchecked."""
    for info in infos:
        fh.seek(info.header_offset)
        (sig, _needed, flags, method, time_, date_, crc, csize, usize, name_len,
         _extra_len) = _LOCAL_HEADER.unpack(fh.read(_LOCAL_HEADER.size))
        y, mo, d, h, mi, sec = info.date_time
        expected_time = (h << 11) | (mi << 5) | (sec // 2)
        expected_date = ((y - 1980) << 9) | (mo << 5) | d
        name = fh.read(name_len)
        if (sig != b"PK\x03\x04" or flags != info.flag_bits or method != info.compress_type
                or (time_, date_) != (expected_time, expected_date) or crc != info.CRC
                or name != info.filename.encode("utf-8" if flags & 0x800 else "cp437")):
            raise ValueError(f"local header of {info.filename} disagrees with the directory")
        if csize != 0xFFFFFFFF and (csize, usize) != (info.compress_size, info.file_size):
            raise ValueError(f"local sizes of {info.filename} disagree with the directory")


def _damaged(path: Path, why: str, detail: str = "") -> BackupDamaged:
    return BackupDamaged(f"{path.name} {why} The backup cannot be used.", [detail] if detail else [])


@contextlib.contextmanager
def _open_archive(path: Path) -> Iterator[tuple[zipfile.ZipFile, Manifest]]:
    """Open a backup file after checking its structure; yields the zip and its manifest."""
    path = Path(path)
    if not path.exists():
        raise UsageError(f"There is no backup file at {path}.")
    if path.is_dir():
        raise UsageError(f"{path} is a folder, not a backup file.")
    try:
        fh = open(path, "rb")
    except OSError as exc:
        raise LocationError(f"Cannot read {path}: {exc.strerror or exc}.") from exc
    try:
        size = os.fstat(fh.fileno()).st_size
        head = fh.read(4)
        if head != b"PK\x03\x04":
            raise _damaged(path, "is not a tipdesk backup (or its beginning is damaged).")
        try:
            cd_size, entries = _central_directory(fh, size)
        except (ValueError, struct.error) as exc:
            raise _damaged(path, "is incomplete or damaged: its end is missing or altered — it may "
                                 "have been cut short while copying, or the disk was full.", str(exc)) from exc
        if cd_size > MAX_CENTRAL_DIRECTORY_BYTES or entries != len(MEMBERS):
            raise _damaged(path, "is not a tipdesk backup (it holds other files than a backup does).")
        fh.seek(0)
        try:
            zf = zipfile.ZipFile(fh)
        except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError) as exc:
            raise _damaged(path, "is damaged (its table of contents cannot be read).", str(exc)) from exc
        with zf:
            infos = zf.infolist()
            names = [i.filename for i in infos]
            if sorted(names) != sorted(MEMBERS):
                raise _damaged(path, "is not a tipdesk backup (it holds other files than a backup does).")
            for info in infos:
                if info.compress_type != zipfile.ZIP_STORED or info.flag_bits & 0x1:
                    raise _damaged(path, "is not a tipdesk backup (its parts are compressed or encrypted "
                                         "in a way tipdesk never writes).")
                if info.file_size != info.compress_size:
                    raise _damaged(path, "is damaged (a part's size is inconsistent).")
                if info.header_offset + info.file_size > size:
                    raise _damaged(path, "is incomplete: a part reaches beyond the end of the file.")
            limits = {MEMBER_MANIFEST: MAX_MANIFEST_BYTES, MEMBER_KEYS: MAX_KEYS_BYTES, MEMBER_DB: MAX_DB_BYTES}
            for info in infos:
                if info.file_size > limits[info.filename]:
                    raise _damaged(path, f"is not a tipdesk backup ({info.filename} is far too large).")
            try:
                _check_local_headers(fh, infos)
            except (ValueError, struct.error, UnicodeEncodeError) as exc:
                raise _damaged(path, "is damaged: its internal headers were altered.", str(exc)) from exc
            raw = _read_member(zf, MEMBER_MANIFEST, path)
            manifest = Manifest.from_bytes(raw)
            for name, expected in manifest.members.items():
                if zf.getinfo(name).file_size != expected.bytes:
                    raise _damaged(path, f"is damaged: {name} does not have the size its manifest records.")
            if manifest.members[MEMBER_DB].bytes % PAGE_SIZE or not manifest.members[MEMBER_DB].bytes:
                raise _damaged(path, "is damaged: its database has an impossible size.")
            yield zf, manifest
    finally:
        fh.close()


def _read_member(zf: zipfile.ZipFile, name: str, path: Path) -> bytes:
    try:
        with zf.open(name) as src:
            return src.read(MAX_MANIFEST_BYTES + 1)
    except (zipfile.BadZipFile, EOFError, ValueError, OSError) as exc:
        raise _damaged(path, f"is damaged: its part {name} fails its checksum.", str(exc)) from exc


def read_manifest(path: Path) -> Manifest:
    """What a backup file says about itself, after checking its structure (no key needed).

    Cheap: reads the table of contents and the manifest only. ``verify_backup`` checks the rest.
    """
    with _open_archive(path) as (_zf, manifest):
        return manifest


def _extract(zf: zipfile.ZipFile, manifest: Manifest, name: str, target: Path, archive: Path,
             steps: _Tracker | None = None) -> None:
    """Copy one member to ``target`` (a new private file), checking size, CRC and SHA-256."""
    expected = manifest.members[name]
    digest = hashlib.sha256()
    done = 0
    try:
        with zf.open(name) as src, _open_new_file(target) as dst:
            while chunk := src.read(CHUNK):
                done += len(chunk)
                if done > expected.bytes:
                    raise _damaged(archive, f"is damaged: {name} is longer than recorded.")
                digest.update(chunk)
                dst.write(chunk)
                if steps is not None:
                    steps.check()
                    steps.at(done / max(expected.bytes, 1))
    except (zipfile.BadZipFile, EOFError) as exc:
        raise _damaged(archive, f"is damaged: its part {name} fails its checksum (CRC).", str(exc)) from exc
    except OSError as exc:
        if exc.errno in (errno.ENOSPC, errno.EROFS, errno.EACCES, errno.EPERM, errno.EDQUOT):
            raise files.location_error(exc, target) from exc
        raise _damaged(archive, f"cannot be read completely ({exc.strerror or exc}).", str(exc)) from exc
    if done != expected.bytes or digest.hexdigest() != expected.sha256:
        raise _damaged(archive, f"is damaged: its part {name} does not match its recorded checksum "
                                "(SHA-256).")


# --- checking a database copy -----------------------------------------------------------------

def _check_database(db_path: Path, key: bytes, manifest: Manifest, report: CheckReport,
                    steps: _Tracker, during: Callable[[], None] | None = None) -> None:
    """Open the (encrypted) copy and check everything against ``manifest``; add lines to ``report``.

    The long checks run side by side, each on its own connection and thread: ``PRAGMA
    integrity_check`` and ``PRAGMA cipher_integrity_check`` (SQLite releases the GIL) and the
    audit chain; meanwhile this thread runs ``during`` (writing the archive) and the row counts.
    """
    try:
        conn = connect_raw(db_path, key)
    except sqlcipher3.DatabaseError as exc:
        report.failed("database", "it cannot be opened with the key of its own key file: the "
                                  "database part is damaged, or it belongs to another register")
        log.info("backup copy did not open: %s", type(exc).__name__)
        return
    cancelled = threading.Event()  # the person stopped
    abort = threading.Event()  # this thread failed: interrupt the others too

    def progress_handler() -> int:
        if abort.is_set() or cancelled.is_set():
            return 1
        if not steps.alive():
            cancelled.set()
            return 1
        return 0

    jobs: list[_Job] = []
    try:
        conn.set_progress_handler(progress_handler, 100_000)
        cur = conn.cursor()
        if not _check_identity(cur, manifest, report):
            return
        integrity_conn = connect_raw(db_path, key)
        # integrity_check compares every index with its table: with SQLite's default 2 MB page
        # cache a large register's pages are read and decrypted many times over (1.5-3× the CPU).
        integrity_conn.execute(f"PRAGMA cache_size = -{CHECK_CACHE_KIB}")
        pages_conn = connect_raw(db_path, key)
        for c in (integrity_conn, pages_conn):
            c.set_progress_handler(progress_handler, 100_000)
        jobs = [
            _Job("integrity", lambda: [r[0] for r in integrity_conn.execute("PRAGMA integrity_check")],
                 integrity_conn),
            _Job("pages", lambda: [r[0] for r in pages_conn.execute("PRAGMA cipher_integrity_check")],
                 pages_conn),
            _Job("audit", lambda: _audit_chain(db_path, key)),
        ]
        expected_seconds = max(0.5, db_path.stat().st_size / 45e6)
        started = time.perf_counter()
        for job in jobs:
            job.start()
        counts: dict[str, int] | sqlcipher3.Error
        try:
            if during is not None:
                during()
            try:
                counts = row_counts(cur)
            except sqlcipher3.Error as exc:
                counts = exc
        except BaseException:
            abort.set()
            raise
        finally:
            while any(job.alive() for job in jobs):
                for job in jobs:
                    job.join(0.2)
                steps.at(min(0.95, (time.perf_counter() - started) / expected_seconds))
        if cancelled.is_set():
            raise Cancelled("Stopped: nothing was kept, and the register is untouched.")
        results = {job.name: job.result for job in jobs}
        _report_pages(results["pages"], report)
        _report_counts(counts, manifest, report)
        _report_audit(results["audit"], manifest, report)
        _report_integrity(results["integrity"], report)
    finally:
        conn.close()
        for job in jobs:
            job.close()


class _Job:
    """One check on its own thread (and its own connection, closed afterwards)."""

    def __init__(self, name: str, run: Callable[[], Any], conn: sqlcipher3.Connection | None = None) -> None:
        self.name = name
        self.result: Any = None
        self._run = run
        self._conn = conn
        self._thread = threading.Thread(target=self._main, name=f"backup-{name}", daemon=True)

    def _main(self) -> None:
        try:
            self.result = self._run()
        except (sqlcipher3.Error, SQLAlchemyError) as exc:
            self.result = exc

    def start(self) -> None:
        self._thread.start()

    def alive(self) -> bool:
        return self._thread.is_alive()

    def join(self, seconds: float) -> None:
        self._thread.join(seconds)

    def close(self) -> None:
        if self._conn is not None and not self._thread.is_alive():
            self._conn.close()


def _check_identity(cur: sqlcipher3.Cursor, manifest: Manifest, report: CheckReport) -> bool:
    """Register id and schema revision (cheap; they decide whether the rest means anything)."""
    try:
        revision = cur.execute("SELECT version_num FROM alembic_version").fetchone()
        register_id = cur.execute("SELECT value FROM register_meta WHERE key = ?",
                                  (META_REGISTER_ID,)).fetchone()
    except sqlcipher3.DatabaseError as exc:
        report.failed("database", f"it is not a tipdesk register ({exc})")
        return False
    revision = revision[0] if revision else None
    register_id = register_id[0] if register_id else None
    if register_id != manifest.register_id:
        report.failed("register identity", "the database belongs to another register than its manifest says")
    else:
        report.passed("register identity", f"register {register_id[:12]}…")
    if revision != manifest.schema_revision:
        report.failed("schema version", f"the database has schema {revision}, its manifest says "
                                         f"{manifest.schema_revision}")
    elif revision not in migrate.REVISIONS:
        report.failed("schema version", f"schema {revision} was made by a newer version of tipdesk "
                                         f"than this one ({software_version()}); that version can restore it")
    else:
        report.passed("schema version", f"schema {revision}, made by tipdesk {manifest.software_version}")
    return True


def _report_pages(result: list[str] | Exception, report: CheckReport) -> None:
    if isinstance(result, Exception):
        report.failed("encryption", f"reading the database failed ({result})")
    elif result:
        report.failed("encryption", f"{len(result)} damaged pages (their HMAC does not match)")
    else:
        report.passed("encryption", "every page's HMAC is valid (cipher_integrity_check)")


def _report_counts(counts: dict[str, int] | Exception, manifest: Manifest, report: CheckReport) -> None:
    if isinstance(counts, Exception):
        report.failed("row counts", f"reading the database failed ({counts})")
    elif counts != manifest.row_counts:
        differ = sorted(set(counts) ^ set(manifest.row_counts)
                        | {t for t in counts if manifest.row_counts.get(t) != counts[t]})
        report.failed("row counts", f"{len(differ)} tables differ from the register at backup "
                                    f"time (first: {differ[0]})")
    else:
        report.passed("row counts", f"{sum(counts.values()):,} rows in {len(counts)} tables, "
                                    "as in the register at backup time")


def _report_audit(chain: audit.ChainReport | Exception, manifest: Manifest, report: CheckReport) -> None:
    if isinstance(chain, Exception):
        report.failed("audit chain", f"it cannot be read ({type(chain).__name__})")
    elif not chain.ok:
        report.failed("audit chain", chain.describe())
    elif (chain.count, chain.head_hash) != (manifest.audit_events, manifest.audit_head):
        report.failed("audit chain", f"intact, but it ends elsewhere ({chain.count} events) than "
                                     f"recorded at backup time ({manifest.audit_events})")
    else:
        report.passed("audit chain", f"{chain.count:,} events, head {chain.head_hash[:16]}")


def _report_integrity(rows: list[str] | Exception, report: CheckReport) -> None:
    if isinstance(rows, Exception):
        report.failed("database integrity", f"the check could not finish: {rows}")
    elif rows == ["ok"]:
        report.passed("database integrity", "SQLite integrity_check found no problems")
    else:
        rows = rows or ["no answer"]
        report.failed("database integrity", f"{len(rows)} problems, first: {rows[0]}")


def _audit_chain(db_path: Path, key: bytes) -> audit.ChainReport:
    """Verify the whole audit chain of a copy (on its own engine: this runs on a worker thread)."""
    key_copy = bytearray(key)
    engine = make_engine(db_path, key_copy)
    try:
        with Session(engine) as s:
            return audit.verify(s)
    finally:
        engine.dispose()
        for i in range(len(key_copy)):
            key_copy[i] = 0


def _load_keys(keys_file: Path, manifest: Manifest, archive: Path) -> KeyslotFile:
    try:
        slots = KeyslotFile.load(keys_file)
    except (KeyslotsMissing, KeyslotsDamaged) as exc:
        raise _damaged(archive, "is damaged: its key file cannot be read.", str(exc)) from exc
    if slots.register_id != manifest.register_id:
        raise _damaged(archive, "is damaged: its key file belongs to another register.")
    return slots


def _unlock(slots: KeyslotFile, credentials: Credentials) -> tuple[bytes, str | None]:
    """The database key from the backup's own key file (or the recovery key); and the slot tag."""
    if credentials.recovery_key is not None:
        if len(credentials.recovery_key) != 32:
            raise UsageError("That is not a recovery key.")
        return credentials.recovery_key, None
    if credentials.password is None:
        raise UsageError("Give a password of a user of the backup, or the recovery key.")
    if credentials.username is None:
        admins = slots.active_admin_slots()
        if len(admins) != 1:
            raise UsageError("The backup has several administrators: say which one you are with --user.")
        slot = admins[0]
    else:
        slot = slots.find(credentials.username)
    return slots.unwrap_slot(slot, credentials.password), slot.tag if slot else None


# --- making a backup ------------------------------------------------------------------------------

def destination_problem(folder: Path | str, *, probe: bool = True) -> str:
    """A plain sentence when ``folder`` cannot take a backup now, else ''.

    ``probe=False`` only looks whether the folder is there (for reminders: nothing is written).
    """
    if not str(folder).strip():
        return "No backup folder has been chosen yet."
    folder = Path(folder).expanduser()
    if not folder.exists():
        return (
            f"The backup folder {folder} is not there. If it is on a USB stick or an external "
            "disk, plug it in and try again (on Windows, check it still has the same drive "
            "letter); or choose another folder."
        )
    if not folder.is_dir():
        return f"{folder} is a file, not a folder: choose a folder for the backups."
    if not probe:
        return ""
    try:
        files.check_writable_directory(folder)
    except LocationError as exc:
        if "read-only" in str(exc):
            return (f"The backup folder {folder} is read-only: nothing can be written there. If it "
                    "is a USB stick, check its lock switch, or choose another folder.")
        return str(exc)
    return ""


def backup(
    reg: Register,
    to_dir: Path | str,
    *,
    progress: ProgressFn | None = None,
    keep_going: KeepGoing | None = None,
) -> BackupResult:
    """Write ``NAME-YYYYMMDD-HHMMSS.tipbak`` into ``to_dir``, verify it, then rotate old ones.

    Raises ``LocationError`` (missing, read-only or full destination), ``CheckFailed`` (the new
    backup did not verify: it was deleted) or ``Cancelled``; the register itself is never
    changed except for the audit event and the "last backup" facts recorded at the end.
    """
    reg.actor.require("backup.run")
    folder = Path(os.path.abspath(Path(to_dir).expanduser()))  # remembered: never relative
    started = time.perf_counter()
    try:
        result = _backup(reg, folder, started, _Steps(progress, keep_going))
    except Exception as exc:  # recorded, then raised unchanged (or as a plain LocationError)
        if isinstance(exc, TipdeskError):
            reason = str(exc)
        elif isinstance(exc, OSError):
            reason = exc.strerror or type(exc).__name__
        else:  # an unexpected failure: its type only (a message could hold anything)
            reason = f"unexpected {type(exc).__name__}"
        _record(reg, "backup_failed", {"folder": str(folder), "verified": False,
                                       "stopped": isinstance(exc, Cancelled), "reason": reason})
        if isinstance(exc, OSError):
            raise files.location_error(exc, folder / "backup") from exc
        raise
    _record(reg, "backup_made", {
        "folder": str(folder), "file": result.path.name, "verified": True, "bytes": result.bytes,
        "rows": sum(result.row_counts.values()), "audit_events": result.audit_events,
        "rotated_out": list(result.deleted),
    })
    warnings = list(result.warnings)
    warnings += _remember(reg, result.created_at, folder, result.path.name)
    return BackupResult(**{**result.__dict__, "warnings": tuple(warnings)})


def _backup(reg: Register, folder: Path, started: float, steps: _Steps) -> BackupResult:
    problem = destination_problem(folder)
    if problem:
        raise LocationError(problem)
    name = reg.path.stem
    _clean_stale_leftovers(folder, f".{name}-*{BACKUP_SUFFIX}.part")
    _clean_stale_leftovers(reg.path.parent, TEMP_PREFIX + "*")

    # Space: the archive in the destination, and a temporary copy beside the register.
    estimate = sum(p.stat().st_size for p in [reg.path, *files.sidecar_paths(reg.path)] if p.exists())
    need = int(estimate * 1.02) + 1_000_000
    free = _free_bytes(folder)
    if free is not None and free < need:
        raise LocationError(
            f"There is not enough space in {folder}: the backup needs about {_mb(need)}, and only "
            f"{_mb(free)} are free. Free some space or use another USB stick or disk."
        )
    free_local = _free_bytes(reg.path.parent)
    if free_local is not None and free_local < need and not _same_disk(folder, reg.path.parent):
        raise LocationError(
            f"There is not enough space beside the register in {reg.path.parent}: a backup needs "
            f"about {_mb(need)} free there for a temporary (encrypted) copy, and only "
            f"{_mb(free_local)} are free."
        )

    created_at = utcnow().replace(microsecond=0)
    final = _free_name(folder, name, created_at)
    part = folder / f".{final.name}.part"
    key = reg.key_bytes_for_backup()
    warnings: list[str] = []
    with _private_folder(reg.path.parent, TEMP_PREFIX) as work:
        copy = work / "export.tipdb"
        steps.stage(0.0, 0.45, "Copying the register (it stays encrypted)")
        source_size = max(estimate, 1)

        def export_alive() -> bool:
            with contextlib.suppress(OSError):
                steps.at(copy.stat().st_size / source_size)
            return steps.alive()

        # Not fsynced: this copy is only checked and written into the archive (which is).
        counts = export_encrypted_copy(reg.engine, copy, key, keep_going=export_alive, durable=False)
        keys_bytes = _read_keys_of(reg)
        manifest = _describe(copy, key, name, created_at, counts, keys_bytes)

        steps.stage(0.45, 1.0, "Writing and checking the backup")
        report = CheckReport()
        written: list[Manifest] = []

        def write_and_read_back() -> None:
            # Runs while integrity_check works on the copy in another thread.
            written.append(_write_archive(part, copy, keys_bytes, manifest, _SubSteps(steps, 0.0, 0.35)))
            try:
                _check_written(part, written[0], work, report, _SubSteps(steps, 0.35, 0.5))
            except BackupDamaged as exc:
                report.failed("backup file", f"it does not read back as written ({exc.problems or exc})")

        try:
            _check_database(copy, key, manifest, report, _SubSteps(steps, 0.5, 1.0), during=write_and_read_back)
            if not report.ok:
                problems = [line for line in report.lines if line.startswith("FAILED")]
                raise CheckFailed(
                    "The new backup did not pass its check, so it was deleted. The register itself "
                    "is untouched. " + "; ".join(p.split(":", 1)[1].strip() for p in problems[:3]),
                    problems,
                )
            steps.check()
            try:
                os.replace(part, final)
                files.fsync_directory(folder)
            except OSError as exc:
                raise files.location_error(exc, final) from exc
        except BaseException:
            _remove_quietly(part)
            raise
        manifest = written[0]
    size = final.stat().st_size
    if _same_disk(folder, reg.path.parent):
        warnings.append(
            "This backup is on the same disk as the register: it will not survive a broken disk "
            "or a stolen computer. Keep backups on a USB stick or another computer as well."
        )
    keep_last = preferences(reg).keep_last
    deleted, kept, rotation_warnings = _rotate(reg, folder, name, final, keep_last)
    warnings += rotation_warnings
    return BackupResult(
        path=final, bytes=size, created_at=created_at, seconds=time.perf_counter() - started,
        row_counts=manifest.row_counts, audit_events=manifest.audit_events,
        deleted=tuple(deleted), kept=kept, keep_last=keep_last, warnings=tuple(warnings),
    )


def _same_disk(a: Path, b: Path) -> bool:
    try:
        return os.stat(a).st_dev == os.stat(b).st_dev
    except OSError:
        return False


def _free_name(folder: Path, name: str, created_at: dt.datetime) -> Path:
    stamp = created_at.astimezone().strftime("%Y%m%d-%H%M%S")
    candidate = folder / f"{name}-{stamp}{BACKUP_SUFFIX}"
    n = 1
    while candidate.exists() or (folder / f".{candidate.name}.part").exists():
        n += 1
        candidate = folder / f"{name}-{stamp}-{n}{BACKUP_SUFFIX}"
    return candidate


def _read_keys_of(reg: Register) -> bytes:
    keys = files.keys_path(reg.path)
    slots = KeyslotFile.load(keys)  # validates it; raises a plain error when missing or damaged
    if slots.register_id != reg.register_id:
        raise KeyslotsDamaged(f"The key file beside {reg.path.name} belongs to another register.")
    return slots.to_bytes()


def _describe(copy: Path, key: bytes, name: str, created_at: dt.datetime, counts: dict[str, int],
              keys_bytes: bytes) -> Manifest:
    """The manifest of a fresh copy (members are filled in while writing the archive)."""
    conn = connect_raw(copy, key)
    try:
        revision = conn.execute("SELECT version_num FROM alembic_version").fetchone()[0]
        register_id = conn.execute("SELECT value FROM register_meta WHERE key = ?",
                                   (META_REGISTER_ID,)).fetchone()[0]
        head = conn.execute("SELECT id, hash FROM audit_event ORDER BY id DESC LIMIT 1").fetchone()
    finally:
        conn.close()
    return Manifest(
        register_id=register_id, register_name=name, schema_revision=revision,
        software_version=software_version(), created_at=created_at, row_counts=counts,
        audit_events=int(head[0]) if head else 0, audit_head=head[1] if head else audit.GENESIS,
        members={MEMBER_KEYS: MemberInfo(len(keys_bytes), hashlib.sha256(keys_bytes).hexdigest())},
    )


def _zip_info(name: str, created_at: dt.datetime, size: int) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=created_at.astimezone().timetuple()[:6])
    info.compress_type = zipfile.ZIP_STORED
    info.external_attr = 0o600 << 16
    info.file_size = size
    return info


def _write_archive(part: Path, copy: Path, keys_bytes: bytes, manifest: Manifest, steps: _Steps) -> Manifest:
    """Write the zip to ``part`` (database, key file, then the manifest with their checksums)."""
    size = copy.stat().st_size
    digest = hashlib.sha256()
    done = 0
    try:
        with _open_new_file(part) as out:
            with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
                info = _zip_info(MEMBER_DB, manifest.created_at, size)
                with open(copy, "rb") as src, zf.open(info, "w", force_zip64=size >= 0x7FFFFFFF) as dst:
                    while chunk := src.read(CHUNK):
                        digest.update(chunk)
                        dst.write(chunk)
                        done += len(chunk)
                        steps.check()
                        steps.at(done / max(size, 1))
                zf.writestr(_zip_info(MEMBER_KEYS, manifest.created_at, len(keys_bytes)), keys_bytes)
                members = {**manifest.members, MEMBER_DB: MemberInfo(done, digest.hexdigest())}
                manifest = Manifest(**{**manifest.__dict__, "members": members})
                data = manifest.to_bytes()
                zf.writestr(_zip_info(MEMBER_MANIFEST, manifest.created_at, len(data)), data)
            out.flush()
            os.fsync(out.fileno())
    except OSError as exc:
        raise files.location_error(exc, part.with_name(part.name[1:-5])) from exc
    return manifest


def _check_written(part: Path, expected: Manifest, work: Path, report: CheckReport,
                   steps: _Tracker) -> None:
    """Read the written file back as any backup is read: structure, manifest, the SHA-256 of every
    part. Its database part then is, byte for byte, the copy being checked in full."""
    with _open_archive(part) as (zf, manifest):
        if manifest != expected:
            report.failed("backup file", "its manifest reads back differently from what was written")
            return
        _extract(zf, manifest, MEMBER_KEYS, work / "written.tipdb.keys", part)
        _load_keys(work / "written.tipdb.keys", manifest, part)
        _hash_member(zf, manifest, MEMBER_DB, part, steps)
    report.passed("backup file", "read back complete; every part matches its SHA-256 checksum")


def _hash_member(zf: zipfile.ZipFile, manifest: Manifest, name: str, archive: Path, steps: _Tracker) -> None:
    expected = manifest.members[name]
    digest = hashlib.sha256()
    done = 0
    try:
        with zf.open(name) as src:
            while chunk := src.read(CHUNK):
                done += len(chunk)
                digest.update(chunk)
                steps.check()
                steps.at(done / max(expected.bytes, 1))
    except (zipfile.BadZipFile, EOFError, OSError) as exc:
        raise _damaged(archive, f"is damaged: its part {name} fails its checksum (CRC).", str(exc)) from exc
    if done != expected.bytes or digest.hexdigest() != expected.sha256:
        raise _damaged(archive, f"is damaged: its part {name} does not match its recorded checksum (SHA-256).")


class _SubSteps:
    """A slice of a parent stage's progress bar."""

    def __init__(self, parent: _Tracker, start: float, end: float) -> None:
        self._parent, self._from, self._to = parent, start, end

    def at(self, fraction: float) -> None:
        self._parent.at(self._from + (self._to - self._from) * max(0.0, min(1.0, fraction)))

    def alive(self) -> bool:
        return self._parent.alive()

    def check(self) -> None:
        self._parent.check()


# --- recording, reminders and preferences ---------------------------------------------------------

def _record(reg: Register, action: str, details: dict[str, Any]) -> None:
    """Add an audit event; a register that cannot be written to (full disk) must not hide the
    backup's own outcome, so a failure here is logged, not raised."""
    try:
        with reg.write() as s:
            audit.record(s, reg.actor, action, "register", None, details)
    except (SQLAlchemyError, TipdeskError) as exc:
        log.warning("could not record %s in the audit trail: %s", action, type(exc).__name__)


def _remember(reg: Register, at: dt.datetime, folder: Path, file_name: str) -> list[str]:
    """Note the last verified backup in the register and in this computer's settings."""
    from tipdesk.settings import Settings

    warnings = []
    try:
        with reg.write() as s:
            set_meta(s, META_LAST_BACKUP_AT, _iso(at))
            set_meta(s, META_DESTINATION, str(folder))
            set_meta(s, META_LAST_BACKUP_FILE, file_name)
            days = _int_meta(get_meta(s, META_REMIND_AFTER_DAYS), DEFAULT_REMIND_AFTER_DAYS)
    except (SQLAlchemyError, TipdeskError) as exc:
        log.warning("could not note the backup in the register: %s", type(exc).__name__)
        warnings.append("The backup is fine, but the register could not note it (is its disk full?).")
        days = DEFAULT_REMIND_AFTER_DAYS
    try:
        settings = Settings.load()
        notes = settings.notes_for(reg.path)
        notes.last_verified_backup_at = _iso(at)
        notes.backup_destination = str(folder)
        notes.backup_remind_after_days = days
        settings.save()
    except (OSError, TipdeskError) as exc:
        log.warning("could not save the settings: %s", type(exc).__name__)
        warnings.append("The backup is fine, but this computer's settings could not be saved.")
    return warnings


def _int_meta(value: str | None, default: int) -> int:
    try:
        return int(value) if value is not None else default
    except ValueError:
        return default


@dataclass(frozen=True)
class BackupPreferences:
    destination: str
    keep_last: int
    remind_after_days: int


def preferences(reg: Register) -> BackupPreferences:
    """Where backups go, how many to keep, and when to remind (kept in the register)."""
    with reg.read() as s:
        return BackupPreferences(
            destination=get_meta(s, META_DESTINATION, "") or "",
            keep_last=_int_meta(get_meta(s, META_KEEP_LAST), DEFAULT_KEEP_LAST),
            remind_after_days=_int_meta(get_meta(s, META_REMIND_AFTER_DAYS), DEFAULT_REMIND_AFTER_DAYS),
        )


def set_preferences(
    reg: Register, *, destination: str | None = None, keep_last: int | None = None,
    remind_after_days: int | None = None,
) -> BackupPreferences:
    """Change the backup folder, the number kept, or the reminder delay (administrators)."""
    reg.actor.require("settings.manage")
    if keep_last is not None and not 1 <= keep_last <= 1000:
        raise UsageError("Keep between 1 and 1000 recent backups.")
    if remind_after_days is not None and not 1 <= remind_after_days <= 365:
        raise UsageError("The reminder comes after 1 to 365 days without a backup.")
    changes: dict[str, Any] = {}
    with reg.write() as s:
        for key, value in ((META_DESTINATION, destination), (META_KEEP_LAST, keep_last),
                           (META_REMIND_AFTER_DAYS, remind_after_days)):
            if value is not None:
                old = get_meta(s, key)
                if old != str(value):
                    changes[key] = [old, str(value)]
                    set_meta(s, key, str(value))
        if changes:
            audit.record(s, reg.actor, "settings_changed", "register", None, changes)
    from tipdesk.settings import Settings

    prefs = preferences(reg)
    with contextlib.suppress(OSError, TipdeskError):
        settings = Settings.load()
        notes = settings.notes_for(reg.path)
        notes.backup_remind_after_days = prefs.remind_after_days
        if destination is not None:
            notes.backup_destination = destination
        settings.save()
    return prefs


@dataclass(frozen=True)
class BackupStatus:
    """What the status bar and the start screen say about backups."""

    state: str  # "never", "ok" or "overdue"
    last_at: dt.datetime | None
    destination: str
    remind_after_days: int
    destination_problem: str  # '' when the folder is there and writable (or none is chosen)
    sentence: str


def status(reg: Register, now: dt.datetime | None = None) -> BackupStatus:
    """The backup reminder of an open register (from the register's own records)."""
    with reg.read() as s:
        last = get_meta(s, META_LAST_BACKUP_AT)
        destination = get_meta(s, META_DESTINATION, "") or ""
        days = _int_meta(get_meta(s, META_REMIND_AFTER_DAYS), DEFAULT_REMIND_AFTER_DAYS)
    return reminder(_parse_iso(last), destination, days, now)


def status_before_unlock(register_path: Path, now: dt.datetime | None = None,
                         settings: Settings | None = None) -> BackupStatus:
    """The backup reminder for the start screen, from this computer's settings (no key needed)."""
    from tipdesk.settings import Settings

    notes = (settings or Settings.load()).registers.get(str(Path(register_path).resolve()))
    if notes is None:
        return reminder(None, "", DEFAULT_REMIND_AFTER_DAYS, now)
    return reminder(_parse_iso(notes.last_verified_backup_at), notes.backup_destination,
                    notes.backup_remind_after_days or DEFAULT_REMIND_AFTER_DAYS, now)


def _parse_iso(text: str | None) -> dt.datetime | None:
    """A UTC moment written by tipdesk ('…Z' or '…+00:00'); None when absent or malformed."""
    if not text:
        return None
    try:
        moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)


def reminder(last_at: dt.datetime | None, destination: str, remind_after_days: int,
             now: dt.datetime | None = None) -> BackupStatus:
    """The reminder state and a plain sentence (pure, apart from looking at the folder)."""
    now = now or utcnow()
    problem = destination_problem(destination, probe=False) if destination else ""
    if last_at is None:
        state = "never"
        sentence = ("No backup of this register has been made yet. Make one now, onto a USB stick "
                    "or another computer, and keep it away from this one.")
    else:
        age = now - last_at
        when = _ago(age)
        where = f" to {destination}" if destination else ""
        if age > dt.timedelta(days=remind_after_days):
            state = "overdue"
            sentence = (f"The last backup was made {when} ({_local(last_at)}){where}. "
                        "Please make a new backup today.")
        else:
            state = "ok"
            sentence = f"Last backup {when} ({_local(last_at)}){where}, verified."
    if problem:
        sentence += " " + problem
    return BackupStatus(state, last_at, destination, remind_after_days, problem, sentence)


def _ago(age: dt.timedelta) -> str:
    if age < dt.timedelta(minutes=2):
        return "just now"
    if age < dt.timedelta(hours=2):
        return f"{int(age.total_seconds() // 60)} minutes ago"
    if age < dt.timedelta(days=1):
        return f"{int(age.total_seconds() // 3600)} hours ago"
    if age < dt.timedelta(days=2):
        return "yesterday"
    return f"{age.days} days ago"


# --- rotation -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class BackupFile:
    """One backup of a register in a destination folder, as rotation sees it."""

    path: Path
    created_at: dt.datetime  # aware, UTC
    verifies: bool  # it passed its check: in full when just made; older ones read back intact


@dataclass(frozen=True)
class RotationPlan:
    keep: tuple[BackupFile, ...]
    delete: tuple[BackupFile, ...]


def plan_rotation(
    backups: Sequence[BackupFile],
    now: dt.datetime,
    keep_last: int = DEFAULT_KEEP_LAST,
    monthly_for_months: int = MONTHLY_FOR_MONTHS,
) -> RotationPlan:
    """Which backups to keep: the last ``keep_last``, plus the newest of each calendar month (UTC)
    of the last ``monthly_for_months`` months (this one included). The newest backup that
    verifies is never deleted, whatever its age."""
    keep_last = max(1, keep_last)
    ordered = sorted(backups, key=lambda b: (b.created_at, b.path.name), reverse=True)
    keep: set[int] = set(range(min(keep_last, len(ordered))))
    months = set()
    y, m = now.year, now.month
    for _ in range(monthly_for_months):
        months.add((y, m))
        y, m = (y, m - 1) if m > 1 else (y - 1, 12)
    seen_months: set[tuple[int, int]] = set()
    for i, b in enumerate(ordered):
        month = (b.created_at.year, b.created_at.month)
        if month in months and month not in seen_months:
            seen_months.add(month)
            keep.add(i)
    if not any(ordered[i].verifies for i in keep):
        for i, b in enumerate(ordered):
            if b.verifies:
                keep.add(i)
                break
    return RotationPlan(
        keep=tuple(b for i, b in enumerate(ordered) if i in keep),
        delete=tuple(b for i, b in enumerate(ordered) if i not in keep),
    )


def list_backups(folder: Path, register_name: str, register_id: str) -> list[BackupFile]:
    """Backups of one register in ``folder``: named ``NAME-YYYYMMDD-HHMMSS.tipbak`` and whose
    manifest names that register. Files that cannot be read are left out (never deleted)."""
    found = []
    with contextlib.suppress(OSError):
        for p in folder.iterdir():
            match = _NAME_RE.match(p.name)
            if not match or match["name"] != register_name or not p.is_file():
                continue
            try:
                manifest = read_manifest(p)
            except (TipdeskError, OSError):
                continue  # not provably ours: leave it alone
            if manifest.register_id == register_id:
                found.append(BackupFile(p, manifest.created_at, verifies=True))
    return found


def _rotate(reg: Register, folder: Path, name: str, newest: Path,
            keep_last: int) -> tuple[list[str], int, list[str]]:
    backups = [b if b.path != newest else BackupFile(b.path, b.created_at, True)
               for b in list_backups(folder, name, reg.register_id)]
    if newest not in {b.path for b in backups}:  # it must be there: keep everything if not
        return [], len(backups), ["Old backups were not cleaned up: the new one could not be listed."]
    plan = plan_rotation(backups, utcnow(), keep_last)
    if newest not in {b.path for b in plan.keep}:  # pragma: no cover - the newest is always kept
        return [], len(backups), []
    deleted, warnings = [], []
    for b in plan.delete:
        try:
            b.path.unlink()
            deleted.append(b.path.name)
        except OSError as exc:
            warnings.append(f"Could not remove the old backup {b.path.name}: {exc.strerror or exc}.")
    return deleted, len(backups) - len(deleted), warnings


# --- verifying a backup file ----------------------------------------------------------------------

def verify_backup(
    path: Path | str,
    credentials: Credentials,
    *,
    work_dir: Path | None = None,
    progress: ProgressFn | None = None,
    keep_going: KeepGoing | None = None,
) -> VerifyReport:
    """Check a backup file in full: structure, checksums, key file, database integrity and
    encryption, audit chain, schema version, row counts. Raises ``BackupDamaged`` for a file that
    cannot even be read as a backup, and a credentials error for a wrong password."""
    path = Path(path).expanduser()
    steps = _Steps(progress, keep_going)
    report = CheckReport()
    with _open_archive(path) as (zf, manifest):
        report.passed("backup file", f"made {_local(manifest.created_at)} by tipdesk "
                                     f"{manifest.software_version}")
        scratch = work_dir if work_dir is not None else Path(tempfile.gettempdir())
        _check_space(scratch, manifest.members[MEMBER_DB].bytes, "to check the backup")
        _clean_stale_leftovers(scratch, TEMP_PREFIX + "*")
        with _private_folder(scratch, TEMP_PREFIX) as work:
            keys = work / "verify.tipdb.keys"
            _extract(zf, manifest, MEMBER_KEYS, keys, path)
            slots = _load_keys(keys, manifest, path)
            key, _tag = _unlock(slots, credentials)  # wrong password: before the long part
            steps.stage(0.0, 0.25, "Reading the backup")
            db = work / "verify.tipdb"
            _extract(zf, manifest, MEMBER_DB, db, path, steps)
            report.passed("checksums", "every part is complete and matches its SHA-256 checksum")
            report.passed("key file", f"{sum(1 for s in slots.slots if s.state == 'active')} password slots")
            steps.stage(0.25, 1.0, "Checking the backup")
            _check_database(db, key, manifest, report, steps)
    restorable = report.ok and manifest.schema_revision in migrate.REVISIONS
    return VerifyReport(report.ok, tuple(report.lines), manifest, restorable)


def _check_space(folder: Path, size: int, why: str) -> None:
    free = _free_bytes(folder)
    need = int(size * 1.02) + 1_000_000
    if free is not None and free < need:
        raise LocationError(f"There is not enough space in {folder} {why}: it needs about {_mb(need)}, "
                            f"and only {_mb(free)} are free.")


# --- restoring ------------------------------------------------------------------------------------

def register_exists(path: Path) -> bool:
    return path.exists() or files.keys_path(path).exists()


def restore(
    backup_path: Path | str,
    to_path: Path | str,
    credentials: Credentials,
    *,
    replace: bool = False,
    progress: ProgressFn | None = None,
    keep_going: KeepGoing | None = None,
) -> RestoreResult:
    """Restore a backup as the register ``to_path``, after checking the backup in full.

    An existing register there is refused unless ``replace``; then it is first moved aside
    (renamed ``NAME-replaced-YYYYMMDD-HHMMSS.tipdb`` with its key file), never deleted — and only
    when it is the same register (same register id) or cannot be identified at all. The person
    restoring must be an administrator in the backup. A backup made by a newer tipdesk is refused.
    """
    backup_path = Path(backup_path).expanduser()
    target = files.normalise_register_path(to_path)
    steps = _Steps(progress, keep_going)
    check_restore_target(target, replace)
    with _open_archive(backup_path) as (zf, manifest):
        _refuse_too_new(backup_path, manifest)
        if replace and register_exists(target):
            _refuse_other_register(target, manifest)
            _refuse_open_register(target)
        _check_space(target.parent, manifest.members[MEMBER_DB].bytes, "to restore the backup")
        _clean_stale_leftovers(target.parent, RESTORE_TEMP_PREFIX + "*")
        with _private_folder(target.parent, RESTORE_TEMP_PREFIX) as work:
            db = work / "restore.tipdb"
            keys = files.keys_path(db)
            _extract(zf, manifest, MEMBER_KEYS, keys, backup_path)
            slots = _load_keys(keys, manifest, backup_path)
            key, tag = _unlock(slots, credentials)
            steps.stage(0.0, 0.25, "Reading the backup")
            _extract(zf, manifest, MEMBER_DB, db, backup_path, steps)
            steps.stage(0.25, 0.95, "Checking the backup")
            report = CheckReport()
            _check_database(db, key, manifest, report, steps)
            if not report.ok:
                raise CheckFailed(
                    f"{backup_path.name} did not pass its check, so nothing was restored and nothing "
                    "was changed.", [line for line in report.lines if line.startswith("FAILED")])
            actor = _restoring_admin(db, key, slots, tag, credentials)
            steps.stage(0.95, 1.0, "Putting the register in place")
            steps.check()
            if replace and register_exists(target):
                _refuse_open_register(target)
            elif register_exists(target):  # appeared while the backup was being checked
                raise LocationError(f"{target} appeared while the backup was checked; nothing was changed.")
            moved = _move_aside(target) if replace else []
            try:
                # The database last: a crash in between leaves at most a stray key file.
                os.replace(keys, files.keys_path(target))
                os.replace(db, target)
                files.fsync_directory(target.parent)
            except OSError as exc:
                _put_back(target, moved)
                raise files.location_error(exc, target) from exc
    aside = [new for _old, new in moved]
    warnings = _after_restore(target, credentials, actor, manifest, backup_path, aside)
    return RestoreResult(target, tuple(aside), manifest.created_at, actor.username, tuple(warnings))


def check_restore(backup_path: Path | str, to_path: Path | str, replace: bool) -> Manifest:
    """Every check that needs no password, before asking for one: the target, the backup file's
    structure, its schema version, and whether it is the same register as the one it replaces."""
    target = files.normalise_register_path(to_path)
    check_restore_target(target, replace)
    manifest = read_manifest(Path(backup_path).expanduser())
    _refuse_too_new(Path(backup_path), manifest)
    if replace and register_exists(target):
        _refuse_other_register(target, manifest)
        _refuse_open_register(target)
    return manifest


def _refuse_too_new(backup_path: Path, manifest: Manifest) -> None:
    if manifest.schema_revision not in migrate.REVISIONS:
        raise RegisterTooNew(
            f"{backup_path.name} was made by a newer version of tipdesk ({manifest.software_version}, "
            f"schema {manifest.schema_revision}). Install that version or a later one to restore "
            "it; nothing was changed."
        )


def check_restore_target(target: Path, replace: bool) -> None:
    """Cheap checks before any work (and before asking for a password)."""
    if not target.parent.is_dir():
        raise LocationError(f"The folder {target.parent} does not exist.")
    files.refuse_network_location(target)
    if register_exists(target) and not replace:
        raise LocationError(
            f"{target} already exists. tipdesk does not overwrite a register: restore under another "
            "name, or replace it on purpose (--replace; the current one is then moved aside, not "
            "deleted)."
        )
    files.check_writable_directory(target.parent)


def _refuse_open_register(target: Path) -> None:
    """Refuse to replace a register another process has open: its later writes would go to the
    moved-aside file and seem lost. (SQLite holds a shared lock on a byte of the ``-shm`` file
    while a connection is open; within this process the caller must close the register.)"""
    shm = target.with_name(target.name + "-shm")
    if os.name == "nt" or not shm.exists():
        return  # on Windows, renaming an open file fails instead: see _move_aside
    import fcntl

    try:
        fd = os.open(shm, os.O_RDWR)
    except OSError:
        return
    try:
        fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB, 1, _SHM_DMS_BYTE)
    except OSError as exc:
        if exc.errno in (errno.EAGAIN, errno.EACCES):
            raise LocationError(f"{target.name} is open in tipdesk: close it there first, then restore "
                                "again. Nothing was changed.") from exc
    else:
        fcntl.lockf(fd, fcntl.LOCK_UN, 1, _SHM_DMS_BYTE)
    finally:
        os.close(fd)


_SHM_DMS_BYTE = 128  # SQLite's unix VFS: the "dead man switch" lock of the shared memory file


def _refuse_other_register(target: Path, manifest: Manifest) -> None:
    try:
        current = KeyslotFile.load(files.keys_path(target)).register_id
    except (KeyslotsMissing, KeyslotsDamaged):
        return  # cannot be identified (e.g. its key file is lost): it is moved aside, not deleted
    if current != manifest.register_id:
        raise LocationError(
            f"{target.name} is a different register from the one in this backup (register "
            f"{current[:12]}… here, {manifest.register_id[:12]}… in the backup). Nothing was "
            "changed. To look at the backup, restore it under another name."
        )


def _restoring_admin(db: Path, key: bytes, slots: KeyslotFile, tag: str | None,
                     credentials: Credentials) -> Actor:
    """The backup's account of the person restoring; it must be an active administrator."""
    conn = connect_raw(db, key)
    try:
        rows = conn.execute("SELECT id, username, display_name, role, active FROM user_account").fetchall()
    finally:
        conn.close()
    if tag is not None:
        user = next((r for r in rows if slots.tag_of(r[1]) == tag), None)
        if user is None:
            raise WrongCredentials()
    else:
        if not credentials.username:
            raise UsageError("With the recovery key, say which administrator you are with --user.")
        wanted = normalise_username(credentials.username)
        user = next((r for r in rows if r[1] == wanted), None)
        if user is None:
            raise UsageError(f"There is no user '{credentials.username}' in this backup.")
    if not user[4]:
        raise AccountRevoked()
    actor = Actor(user[0], user[1], user[2], user[3])
    actor.require("backup.restore")
    return actor


def _aside_names(target: Path) -> tuple[Path, list[tuple[Path, Path]]]:
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    n = 1
    while True:
        suffix = f"-{n}" if n > 1 else ""
        aside = target.with_name(f"{target.stem}-replaced-{stamp}{suffix}{target.suffix}")
        pairs = [(target, aside), (files.keys_path(target), files.keys_path(aside)),
                 (files.attempts_path(target), files.attempts_path(aside))]
        pairs += list(zip(files.sidecar_paths(target), files.sidecar_paths(aside), strict=True))
        if not any(dst.exists() for _src, dst in pairs):
            return aside, pairs
        n += 1


def _move_aside(target: Path) -> list[tuple[Path, Path]]:
    """Rename the current register and all its companion files; returns (old, new) pairs."""
    _aside, pairs = _aside_names(target)
    moved: list[tuple[Path, Path]] = []
    try:
        for src, dst in pairs:
            if src.exists():
                os.replace(src, dst)
                moved.append((src, dst))
        files.fsync_directory(target.parent)
    except OSError as exc:
        _put_back(target, moved, restored=False)
        if os.name == "nt" and exc.errno in (errno.EACCES, errno.EPERM):
            raise LocationError(f"{target.name} is in use: close tipdesk wherever it is open, then "
                                "restore again. Nothing was changed.") from exc
        raise files.location_error(exc, target) from exc
    return moved


def _put_back(target: Path, moved: list[tuple[Path, Path]], *, restored: bool = True) -> None:
    """Undo a half-done restore: remove what was put in place, rename the old register back."""
    if restored and moved:
        for p in (target, files.keys_path(target)):
            with contextlib.suppress(FileNotFoundError):
                p.unlink()
    for src, dst in reversed(moved):
        try:
            os.replace(dst, src)
        except OSError as exc:
            log.warning("could not rename %s back to %s: %s", dst.name, src.name, exc)


def _after_restore(target: Path, credentials: Credentials, actor: Actor, manifest: Manifest,
                   backup_path: Path, moved: list[Path]) -> list[str]:
    """Open the restored register once: audit the restore there, and note the backup."""
    warnings: list[str] = []
    try:
        if credentials.recovery_key is not None:
            reg = open_with_recovery_key(target, credentials.recovery_key, as_username=actor.username)
        else:
            reg = open_register(target, actor.username, credentials.password or "")
    except TipdeskError as exc:
        return [f"The register was restored, but opening it to record the restore failed: {exc}"]
    try:
        with reg.write() as s:
            audit.record(s, reg.actor, "backup_restored", "register", None, {
                "backup_file": backup_path.name, "backup_folder": str(backup_path.parent),
                "backup_made_at": _iso(manifest.created_at),
                "backup_software_version": manifest.software_version,
                "moved_aside": [p.name for p in moved], "verified": True,
            })
            previous = _parse_iso(get_meta(s, META_LAST_BACKUP_AT))
            if previous is None or previous < manifest.created_at:
                set_meta(s, META_LAST_BACKUP_AT, _iso(manifest.created_at))
                set_meta(s, META_LAST_BACKUP_FILE, backup_path.name)
    except (SQLAlchemyError, TipdeskError) as exc:
        warnings.append(f"The register was restored, but the restore could not be recorded in it: {exc}")
    finally:
        reg.close()
    from tipdesk.settings import Settings

    try:
        settings = Settings.load()
        settings.remember_register(target)
        notes = settings.notes_for(target)
        previous = _parse_iso(notes.last_verified_backup_at)
        if previous is None or previous < manifest.created_at:
            notes.last_verified_backup_at = _iso(manifest.created_at)
        settings.save()
    except (OSError, TipdeskError) as exc:
        log.warning("could not save the settings: %s", type(exc).__name__)
    return warnings

