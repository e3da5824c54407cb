"""Bad backups and bad places: each gives a plain message and leaves the live register untouched.

Truncated and byte-flipped files (in the database part, the manifest, the key file and the zip's
own structures), forged files with recomputed checksums, a backup of another register, a backup
from a newer tipdesk, a full disk and a read-only USB stick (simulated, and — when this runs as
root — real tiny file systems).
"""

from __future__ import annotations

import errno
import hashlib
import io
import os
import subprocess
import uuid
from pathlib import Path

import pytest
from sqlalchemy import select

from models import Organisation
from tests.backup_helpers import flip_byte, member_offset, members, repack
from tests.conftest import ADMIN_PASSWORD, FAST_KDF, OFFICE
from tipdesk.errors import BackupDamaged, CheckFailed, LocationError, RegisterTooNew
from tipdesk.security import audit
from tipdesk.vault import backup as backups
from tipdesk.vault import files
from tipdesk.vault.backup import Credentials
from tipdesk.vault.register import create_register, open_register

CREDS = Credentials("admin", ADMIN_PASSWORD)


def fingerprint(*paths: Path) -> str:
    h = hashlib.sha256()
    for p in paths:
        h.update(p.read_bytes() if p.exists() else b"<none>")
    return h.hexdigest()


@pytest.fixture
def made(reg, tmp_path):
    """A register with some rows, its backup, and the register closed (as when restoring)."""
    for i in range(20):
        with reg.write() as s:
            s.add(Organisation(name=f"org {i}", org_type="NGO", country="JAM", notes="x" * 500))
    dest = tmp_path / "usb"
    dest.mkdir()
    result = backups.backup(reg, dest)
    return result.path


def assert_untouched(register_path: Path, before: str) -> None:
    paths = [register_path, files.keys_path(register_path)]
    assert fingerprint(*paths) == before
    reg = open_register(register_path, "admin", ADMIN_PASSWORD)
    try:
        with reg.read() as s:
            assert audit.verify(s).ok
            assert len(list(s.scalars(select(Organisation)))) == 21
    finally:
        reg.close()


def restore_over(bad: Path, register_path: Path, **kw) -> Exception:
    with pytest.raises(Exception) as err:
        backups.restore(bad, register_path, CREDS, replace=True, **kw)
    return err.value


# --- truncated and flipped ----------------------------------------------------------------------

@pytest.mark.parametrize("keep", [0.0, 0.1, 0.5, 0.999])
def test_a_truncated_backup_is_refused_plainly(made, reg, register_path, tmp_path, keep):
    reg.close()
    data = made.read_bytes()
    bad = tmp_path / "cut.tipbak"
    bad.write_bytes(data[: int(len(data) * keep)])
    before = fingerprint(register_path, files.keys_path(register_path))
    for call in (lambda: backups.read_manifest(bad),
                 lambda: backups.verify_backup(bad, CREDS),
                 lambda: backups.restore(bad, register_path, CREDS, replace=True)):
        with pytest.raises(BackupDamaged) as err:
            call()
        assert "cannot be used" in str(err.value)
    assert_untouched(register_path, before)
    assert not list(tmp_path.glob("**/.tipdesk-*"))


def _positions(path: Path) -> dict[str, int]:
    db = member_offset(path, backups.MEMBER_DB)
    keys = member_offset(path, backups.MEMBER_KEYS)
    manifest = member_offset(path, backups.MEMBER_MANIFEST)
    size = path.stat().st_size
    return {
        "zip local header of the database": 10,
        "database, first page": db + 100,
        "database, middle": db + (keys - db) // 2,
        "database, last page": keys - 200,
        "key file": keys + 40,
        "manifest": manifest + 30,
        "central directory": size - 120,
        "end record": size - 10,
    }


@pytest.mark.parametrize("where", [
    "zip local header of the database", "database, first page", "database, middle",
    "database, last page", "key file", "manifest", "central directory", "end record",
])
def test_a_flipped_byte_anywhere_is_detected(made, reg, register_path, tmp_path, where):
    reg.close()
    bad = tmp_path / "flipped.tipbak"
    bad.write_bytes(made.read_bytes())
    flip_byte(bad, _positions(bad)[where])
    before = fingerprint(register_path, files.keys_path(register_path))
    with pytest.raises(CheckFailed) as err:
        backups.verify_backup(bad, CREDS)
    assert "cannot be used" in str(err.value) or "damaged" in str(err.value)
    error = restore_over(bad, register_path)
    assert isinstance(error, CheckFailed), error
    assert_untouched(register_path, before)


def test_a_forged_database_with_matching_checksums_fails_the_encryption_check(made, reg, register_path, tmp_path):
    """A deliberate edit that recomputes the manifest's SHA-256 is still caught: every page of
    the database carries an HMAC keyed by the register's key."""
    reg.close()

    def edit(parts):
        db = bytearray(parts[backups.MEMBER_DB])
        db[len(db) // 2] ^= 0x01
        parts[backups.MEMBER_DB] = bytes(db)

    bad = repack(made, tmp_path / "forged.tipbak", edit)
    report = backups.verify_backup(bad, CREDS)
    assert not report.ok and not report.restorable
    assert any(line.startswith("FAILED") for line in report.lines)
    before = fingerprint(register_path, files.keys_path(register_path))
    error = restore_over(bad, register_path)
    assert isinstance(error, CheckFailed) and "nothing was changed" in str(error)
    assert_untouched(register_path, before)


def test_a_manifest_that_lies_about_counts_or_identity_is_caught(made, reg, tmp_path):
    reg.close()

    def more_cases(m):
        m["row_counts"]["organisation"] += 1

    bad = repack(made, tmp_path / "counts.tipbak", lambda parts: None, manifest_change=more_cases)
    report = backups.verify_backup(bad, CREDS)
    assert not report.ok and any("FAILED  row counts" in line for line in report.lines)

    def other_id(m):
        m["register_id"] = "ab" * 16

    bad = repack(made, tmp_path / "id.tipbak", lambda parts: None, manifest_change=other_id)
    with pytest.raises(BackupDamaged, match="key file belongs to another register"):
        backups.verify_backup(bad, CREDS)


def test_a_zip_with_extra_or_compressed_or_traversing_members_is_refused(made, tmp_path):
    import zipfile

    parts = members(made)
    evil = tmp_path / "evil.tipbak"
    with zipfile.ZipFile(evil, "w") as zf:
        for name, data in parts.items():
            zf.writestr(name, data)
        zf.writestr("../../outside.txt", b"boo")
    with pytest.raises(BackupDamaged, match="other files"):
        backups.read_manifest(evil)
    assert not (tmp_path.parent / "outside.txt").exists()

    squeezed = tmp_path / "deflated.tipbak"
    with zipfile.ZipFile(squeezed, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, data in parts.items():
            zf.writestr(name, data)
    with pytest.raises(BackupDamaged, match="compressed"):
        backups.read_manifest(squeezed)


def test_files_that_are_not_backups_are_named_as_such(made, reg, register_path, tmp_path):
    reg.close()
    for name, data in [("empty.tipbak", b""), ("text.tipbak", b"hello"),
                       ("register.tipbak", register_path.read_bytes()[:8192])]:
        bad = tmp_path / name
        bad.write_bytes(data)
        with pytest.raises(BackupDamaged, match="not a tipdesk backup|incomplete"):
            backups.read_manifest(bad)
    folder = tmp_path / "a-folder.tipbak"
    folder.mkdir()
    with pytest.raises(Exception, match="folder"):
        backups.read_manifest(folder)


# --- another register, a newer version --------------------------------------------------------

def test_replacing_a_register_with_a_backup_of_another_is_refused(made, reg, tmp_path):
    other_path = tmp_path / "other.tipdb"
    other = create_register(other_path, OFFICE, "admin", ADMIN_PASSWORD, kdf=FAST_KDF).register
    other.close()
    before = fingerprint(other_path, files.keys_path(other_path))
    with pytest.raises(LocationError, match="different register") as err:
        backups.restore(made, other_path, CREDS, replace=True)
    assert "Nothing was changed" in str(err.value)
    assert fingerprint(other_path, files.keys_path(other_path)) == before
    assert not list(tmp_path.glob("other-replaced-*"))
    # The same backup can be restored beside it, under another name.
    backups.restore(made, tmp_path / "look.tipdb", CREDS)
    assert (tmp_path / "look.tipdb").exists()


def test_a_register_whose_key_file_is_lost_can_be_replaced_and_is_kept_aside(made, reg, register_path):
    reg.close()
    files.keys_path(register_path).unlink()
    done = backups.restore(made, register_path, CREDS, replace=True)
    assert any(p.suffix == ".tipdb" for p in done.moved_aside)
    assert all(p.exists() for p in done.moved_aside)


def test_a_backup_from_a_newer_tipdesk_is_refused(reg, register_path, tmp_path):
    with reg.engine.begin() as conn:
        conn.exec_driver_sql("UPDATE alembic_version SET version_num = '9999'")
    dest = tmp_path / "usb"
    dest.mkdir()
    # A register at an unknown revision still backs up (verification says it is too new).
    with pytest.raises(CheckFailed, match="newer version"):
        backups.backup(reg, dest)
    # Build the file a newer tipdesk would have written: manifest and database both say 9999.
    with reg.engine.begin() as conn:
        conn.exec_driver_sql("UPDATE alembic_version SET version_num = '0001'")
    made = backups.backup(reg, dest).path
    reg.close()

    def newer(m):
        m["schema_revision"] = "9999"
        m["software_version"] = "9.0.0"

    bad = repack(made, tmp_path / "newer.tipbak", lambda parts: None, manifest_change=newer)
    target = tmp_path / "new.tipdb"
    with pytest.raises(RegisterTooNew, match="newer version of tipdesk") as err:
        backups.restore(bad, target, CREDS)
    assert "9.0.0" in str(err.value)
    assert not target.exists()
    with pytest.raises(RegisterTooNew):
        backups.check_restore(bad, target, replace=False)


# --- full and read-only destinations -------------------------------------------------------------

class _FullDisk(io.RawIOBase):
    """A file that accepts ``room`` bytes, then fails as a full disk does."""

    def __init__(self, real, room: int, err: int = errno.ENOSPC) -> None:
        self.real, self.room, self.err = real, room, err

    def writable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def write(self, data) -> int:
        if self.real.tell() + len(data) > self.room:
            raise OSError(self.err, os.strerror(self.err))
        return self.real.write(data)

    def seek(self, *a):
        return self.real.seek(*a)

    def tell(self) -> int:
        return self.real.tell()

    def flush(self) -> None:
        self.real.flush()

    def fileno(self) -> int:
        return self.real.fileno()

    def close(self) -> None:
        if not self.closed:
            super().close()  # flushes first
            self.real.close()


def test_a_full_destination_disk_gives_a_plain_message(reg, register_path, tmp_path, monkeypatch):
    dest = tmp_path / "usb"
    dest.mkdir()
    real_open = backups._open_new_file

    def nearly_full(path):
        return _FullDisk(real_open(path), room=64 * 1024)

    monkeypatch.setattr(backups, "_open_new_file", nearly_full)
    with pytest.raises(LocationError, match="disk is full") as err:
        backups.backup(reg, dest)
    assert "office-" in str(err.value)
    assert list(dest.iterdir()) == [], "the half-written file is removed"
    assert not list(register_path.parent.glob(backups.TEMP_PREFIX + "*"))
    assert backups.status(reg).state == "never"
    reg.close()
    assert_untouched_after_failed_backup(register_path)


def assert_untouched_after_failed_backup(register_path: Path) -> None:
    again = open_register(register_path, "admin", ADMIN_PASSWORD)
    try:
        with again.read() as s:
            assert audit.verify(s).ok
    finally:
        again.close()


def test_too_little_free_space_is_said_before_writing(reg, tmp_path, monkeypatch):
    dest = tmp_path / "usb"
    dest.mkdir()
    monkeypatch.setattr(backups, "_free_bytes", lambda folder: 1000 if folder == dest else 10**12)
    with pytest.raises(LocationError, match="not enough space in .*usb.*needs about"):
        backups.backup(reg, dest)
    assert list(dest.iterdir()) == []


def test_a_read_only_stick_gives_a_plain_message(reg, tmp_path, monkeypatch):
    dest = tmp_path / "usb"
    dest.mkdir()

    def read_only(*a, **k):
        raise OSError(errno.EROFS, "Read-only file system")

    with monkeypatch.context() as m:
        m.setattr(files.tempfile, "mkstemp", read_only)
        with pytest.raises(LocationError, match="read-only") as err:
            backups.backup(reg, dest)
    assert "lock switch" in str(err.value)
    assert list(dest.iterdir()) == []


def test_a_missing_destination_is_explained(reg, tmp_path):
    with pytest.raises(LocationError) as err:
        backups.backup(reg, tmp_path / "E-drive" / "backups")
    assert "plug it in" in str(err.value)
    a_file = tmp_path / "file"
    a_file.write_text("x")
    with pytest.raises(LocationError, match="is a file, not a folder"):
        backups.backup(reg, a_file)


def _mount(kind: str, target: Path, options: str) -> bool:
    if os.name == "nt" or not hasattr(os, "geteuid") or os.geteuid() != 0:
        return False
    target.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(["mount", "-t", kind, "-o", options, kind, str(target)],
                          capture_output=True, text=True)
    return done.returncode == 0


@pytest.fixture
def tiny_disk(tmp_path):
    target = tmp_path / f"tiny-{uuid.uuid4().hex[:6]}"
    if not _mount("tmpfs", target, "size=256k"):
        pytest.skip("needs root and permission to mount a tmpfs")
    yield target
    subprocess.run(["umount", str(target)], check=False)


@pytest.fixture
def read_only_disk(tmp_path):
    target = tmp_path / f"ro-{uuid.uuid4().hex[:6]}"
    if not _mount("tmpfs", target, "size=1m,ro"):
        pytest.skip("needs root and permission to mount a tmpfs")
    yield target
    subprocess.run(["umount", str(target)], check=False)


def test_a_real_full_disk(reg, tiny_disk, monkeypatch):
    # The register is bigger than the 256 KiB disk; let the up-front space check pass so that
    # the write itself meets the full disk.
    with reg.write() as s:
        for i in range(300):
            s.add(Organisation(name=f"filler {i}", org_type="NGO", country="JAM", notes="y" * 2000))
    with monkeypatch.context() as m:
        m.setattr(backups, "_free_bytes", lambda folder: 10**12)
        with pytest.raises(LocationError, match="disk is full"):
            backups.backup(reg, tiny_disk)
    assert [p.name for p in tiny_disk.iterdir()] == []
    with pytest.raises(LocationError, match="not enough space"):
        backups.backup(reg, tiny_disk)


def test_a_real_read_only_disk(reg, read_only_disk):
    with pytest.raises(LocationError, match="read-only"):
        backups.backup(reg, read_only_disk)


def test_restoring_onto_a_read_only_disk_changes_nothing(made, read_only_disk):
    with pytest.raises(LocationError, match="read-only"):
        backups.restore(made, read_only_disk / "x.tipdb", CREDS)


@pytest.mark.skipif(os.name == "nt", reason="POSIX locks; on Windows renaming an open file fails")
def test_a_register_open_in_another_process_is_not_replaced(made, reg, register_path, tmp_path):
    import sys

    reg.close()
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sys; from pathlib import Path; from tipdesk.vault.register import open_register; "
         f"r = open_register(Path(sys.argv[1]), 'admin', sys.argv[2]); print('open', flush=True); "
         "sys.stdin.read()", str(register_path), ADMIN_PASSWORD],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        cwd=Path(__file__).resolve().parent.parent)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "open"
        before = fingerprint(register_path, files.keys_path(register_path))
        with pytest.raises(LocationError, match="is open in tipdesk"):
            backups.restore(made, register_path, CREDS, replace=True)
        assert fingerprint(register_path, files.keys_path(register_path)) == before
        assert not list(tmp_path.glob("office-replaced-*"))
    finally:
        holder.communicate("")
    done = backups.restore(made, register_path, CREDS, replace=True)
    assert done.moved_aside


def test_a_zip64_backup_reads_back(reg, tmp_path, monkeypatch):
    """Backups over 4 GB use zip64 records; pretend the limit is tiny to exercise that path."""
    import zipfile

    dest = tmp_path / "usb"
    dest.mkdir()
    with monkeypatch.context() as m:
        m.setattr(zipfile, "ZIP64_LIMIT", 1000)
        made = backups.backup(reg, dest).path
    data = made.read_bytes()
    assert b"PK\x06\x06" in data[-200:], "a zip64 end record was written"
    assert backups.verify_backup(made, CREDS).ok
    bad = tmp_path / "bad64.tipbak"
    bad.write_bytes(data[:-30] + bytes([data[-30] ^ 1]) + data[-29:])
    with pytest.raises(BackupDamaged):
        backups.verify_backup(bad, CREDS)
