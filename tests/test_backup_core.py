"""Backups end to end: one verified file that opens with the passwords and recovery key of its
time, restores to an identical register, and is recorded in the audit trail and the settings."""

from __future__ import annotations

import json
import os
import stat
import threading
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import func, select

from models import AuditEvent, Organisation
from tests.conftest import ADMIN_PASSWORD, FAST_KDF
from tipdesk.errors import (
    AccountRevoked,
    CheckFailed,
    LocationError,
    Cancelled,
    PermissionDenied,
    WrongCredentials,
)
from tipdesk.security import audit
from tipdesk.security.accounts import add_user, revoke_user, set_password
from tipdesk.settings import Settings
from tipdesk.vault import backup as backups
from tipdesk.vault import migrate
from tipdesk.vault import files
from tipdesk.vault.backup import Credentials
from tipdesk.vault.engine import connect_raw
from tipdesk.vault.keyslots import parse_recovery_key
from tipdesk.vault.register import open_register

MARKER = "Quillon-Brackenridge-4471"


def add_org(reg, name: str) -> None:
    with reg.write() as s:
        s.add(Organisation(name=name, org_type="NGO", country="JAM", notes=name * 5))


def org_names(reg) -> set[str]:
    with reg.read() as s:
        return set(s.scalars(select(Organisation.name)))


@pytest.fixture
def dest(tmp_path: Path) -> Path:
    folder = tmp_path / "usb"
    folder.mkdir()
    return folder


def test_backup_is_one_verified_file_named_by_register_and_time(reg, dest):
    add_org(reg, MARKER)
    result = backups.backup(reg, dest)
    assert result.path.parent == dest
    assert result.path.name.startswith("office-") and result.path.suffix == ".tipbak"
    assert [p.name for p in dest.iterdir()] == [result.path.name], "one file, no leftovers"
    with zipfile.ZipFile(result.path) as zf:
        assert sorted(zf.namelist()) == sorted(backups.MEMBERS)
        assert all(i.compress_type == zipfile.ZIP_STORED for i in zf.infolist())
        manifest = json.loads(zf.read(backups.MEMBER_MANIFEST))
        assert zf.read(backups.MEMBER_KEYS) == files.keys_path(reg.path).read_bytes()
    assert manifest["register_id"] == reg.register_id
    assert manifest["schema_revision"] == migrate.REVISIONS[-1]
    assert manifest["row_counts"]["organisation"] == 2
    assert manifest["audit"]["events"] == result.audit_events > 0
    # Nothing readable in the whole file: the payload is the encrypted export.
    blob = result.path.read_bytes()
    assert MARKER.encode() not in blob and b"SQLite format 3" not in blob
    assert b"Ada Admin" not in blob and b"admin" not in manifest["register_name"].encode()


def test_backup_opens_with_the_passwords_and_the_recovery_key(created, dest, tmp_path):
    reg = created.register
    add_org(reg, MARKER)
    result = backups.backup(reg, dest)
    report = backups.verify_backup(result.path, Credentials("admin", ADMIN_PASSWORD))
    assert report.ok and report.restorable, report.lines
    key = parse_recovery_key(created.recovery_key)
    assert backups.verify_backup(result.path, Credentials(recovery_key=key)).ok
    with pytest.raises(WrongCredentials):
        backups.verify_backup(result.path, Credentials("admin", "not-the-password"))
    # The database part itself opens with the raw key (stock SQLCipher tools can read it).
    with zipfile.ZipFile(result.path) as zf:
        (tmp_path / "db").write_bytes(zf.read(backups.MEMBER_DB))
    conn = connect_raw(tmp_path / "db", key)
    assert conn.execute("SELECT count(*) FROM organisation WHERE name = ?", (MARKER,)).fetchone()[0] == 1
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"  # self-contained, no WAL
    conn.close()


def test_restore_gives_back_the_register_as_it_was(reg, dest, tmp_path):
    add_org(reg, "before")
    result = backups.backup(reg, dest)
    add_org(reg, "after")
    target = tmp_path / "restored.tipdb"
    restored = backups.restore(result.path, target, Credentials("admin", ADMIN_PASSWORD))
    assert restored.path == target and not restored.moved_aside
    assert "passwords that were valid then" in restored.sentence
    again = open_register(target, "admin", ADMIN_PASSWORD)
    try:
        names = org_names(again)
        assert "before" in names and "after" not in names
        assert again.register_id == reg.register_id
        with again.read() as s:
            assert audit.verify(s).ok
            last = s.scalars(select(AuditEvent).where(AuditEvent.action == "backup_restored")).one()
            details = json.loads(last.details)
        assert last.username == "admin"
        assert details["backup_file"] == result.path.name and details["verified"] is True
    finally:
        again.close()
    assert stat.S_IMODE(target.stat().st_mode) & 0o077 == 0 or os.name == "nt"


def test_backup_keeps_the_passwords_and_users_of_its_time(reg, dest, tmp_path):
    add_user(reg, "bea", "caseworker", "bea-password-1", kdf=FAST_KDF)
    result = backups.backup(reg, dest)
    revoke_user(reg, "bea")
    set_password(reg, "admin", "admin-password-2", kdf=FAST_KDF)
    # Revoking bea and changing admin's password do not reach the old backup.
    assert backups.verify_backup(result.path, Credentials("bea", "bea-password-1")).ok
    assert backups.verify_backup(result.path, Credentials("admin", ADMIN_PASSWORD)).ok
    with pytest.raises(WrongCredentials):
        backups.verify_backup(result.path, Credentials("admin", "admin-password-2"))
    # A case worker may check a backup but not restore it.
    with pytest.raises(PermissionDenied):
        backups.restore(result.path, tmp_path / "r.tipdb", Credentials("bea", "bea-password-1"))
    assert not (tmp_path / "r.tipdb").exists()
    # A backup made after the revocation refuses bea.
    later = backups.backup(reg, dest)
    with pytest.raises(AccountRevoked):
        backups.verify_backup(later.path, Credentials("bea", "bea-password-1"))


def test_restore_with_the_recovery_key_names_the_admin(created, dest, tmp_path):
    reg = created.register
    result = backups.backup(reg, dest)
    key = parse_recovery_key(created.recovery_key)
    target = tmp_path / "by-key.tipdb"
    with pytest.raises(Exception, match="say which administrator"):
        backups.restore(result.path, target, Credentials(recovery_key=key))
    assert not target.exists()
    done = backups.restore(result.path, target, Credentials("admin", recovery_key=key))
    assert done.acting_user == "admin"
    again = open_register(target, "admin", ADMIN_PASSWORD)
    with again.read() as s:
        actions = list(s.scalars(select(AuditEvent.action).order_by(AuditEvent.id.desc()).limit(3)))
    again.close()
    assert actions == ["login", "backup_restored", "recovery_key_used"]


def test_replace_moves_the_current_register_aside_and_never_deletes_it(reg, dest, register_path):
    add_org(reg, "before")
    result = backups.backup(reg, dest)
    add_org(reg, "after")
    reg.close()
    with pytest.raises(LocationError, match="already exists"):
        backups.restore(result.path, register_path, Credentials("admin", ADMIN_PASSWORD))
    done = backups.restore(result.path, register_path, Credentials("admin", ADMIN_PASSWORD), replace=True)
    aside = [p for p in done.moved_aside if p.suffix == ".tipdb"]
    assert len(aside) == 1 and aside[0].name.startswith("office-replaced-")
    assert files.keys_path(aside[0]) in done.moved_aside
    old = open_register(aside[0], "admin", ADMIN_PASSWORD)
    assert "after" in org_names(old), "the replaced register is intact under its new name"
    old.close()
    now = open_register(register_path, "admin", ADMIN_PASSWORD)
    assert "after" not in org_names(now) and "before" in org_names(now)
    now.close()


def test_backup_is_a_consistent_snapshot_while_others_write(reg, dest):
    stop = threading.Event()
    written = []

    def writer() -> None:
        other = open_register(reg.path, "admin", ADMIN_PASSWORD)
        try:
            n = 0
            while not stop.is_set():
                n += 1
                with other.write() as s:
                    org = Organisation(name=f"w{n}", org_type="NGO", country="JAM")
                    s.add(org)
                    s.flush()
                    audit.record(s, other.actor, "organisation_added", "organisation", org.id)
                written.append(n)
        finally:
            other.close()

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        while len(written) < 5:
            threading.Event().wait(0.01)
        result = backups.backup(reg, dest)
    finally:
        stop.set()
        thread.join()
    assert backups.verify_backup(result.path, Credentials("admin", ADMIN_PASSWORD)).ok
    assert 0 < result.row_counts["organisation"] - 1 <= len(written)


def test_audit_events_record_who_where_and_whether_verified(reg, dest, tmp_path):
    result = backups.backup(reg, dest)
    with pytest.raises(LocationError):
        backups.backup(reg, tmp_path / "not-plugged-in")
    with reg.read() as s:
        events = list(s.scalars(select(AuditEvent).where(
            AuditEvent.action.in_(["backup_made", "backup_failed"])).order_by(AuditEvent.id)))
        assert audit.verify(s).ok
    made, failed = events
    assert made.username == failed.username == "admin"
    made_details, failed_details = json.loads(made.details), json.loads(failed.details)
    assert made_details["folder"] == str(dest) and made_details["file"] == result.path.name
    assert made_details["verified"] is True
    assert failed_details["verified"] is False and "not there" in failed_details["reason"]


def test_last_verified_backup_is_noted_in_register_and_settings(reg, dest):
    assert backups.status(reg).state == "never"
    assert backups.status_before_unlock(reg.path).state == "never"
    result = backups.backup(reg, dest)
    status = backups.status(reg)
    assert status.state == "ok" and status.last_at == result.created_at
    assert status.destination == str(dest)
    assert backups.preferences(reg).destination == str(dest)
    notes = Settings.load().notes_for(reg.path)
    assert notes.backup_destination == str(dest)
    before_unlock = backups.status_before_unlock(reg.path)
    assert before_unlock.state == "ok" and before_unlock.last_at == result.created_at


def test_a_failed_verification_deletes_the_new_file_and_nothing_else(reg, dest, monkeypatch):
    add_org(reg, "kept")

    def broken(db_path, key):
        return audit.ChainReport(False, 3, "0" * 64, 2, "simulated break")

    monkeypatch.setattr(backups, "_audit_chain", broken)
    before = reg.path.read_bytes()
    with pytest.raises(CheckFailed) as err:
        backups.backup(reg, dest)
    assert "deleted" in str(err.value) and "register itself is untouched" in str(err.value)
    assert list(dest.iterdir()) == []
    assert "kept" in org_names(reg)
    assert backups.status(reg).state == "never", "a failed backup is not noted as the last one"
    assert not list(reg.path.parent.glob(backups.TEMP_PREFIX + "*"))
    assert len(before) > 0


def test_verification_works_in_a_private_folder_that_stays_encrypted(reg, dest, monkeypatch):
    add_org(reg, MARKER)
    seen = []
    real = backups._check_database

    def spy(db_path, key, manifest, report, steps, during=None):
        folder = db_path.parent
        seen.append((folder, stat.S_IMODE(folder.stat().st_mode)))
        result = real(db_path, key, manifest, report, steps, during)
        for p in folder.iterdir():
            assert MARKER.encode() not in p.read_bytes()
        return result

    monkeypatch.setattr(backups, "_check_database", spy)
    result = backups.backup(reg, dest)
    backups.verify_backup(result.path, Credentials("admin", ADMIN_PASSWORD))
    assert len(seen) == 2
    for folder, mode in seen:
        assert not folder.exists(), "the temporary folder is always removed"
        if os.name != "nt":
            assert mode == 0o700


def test_stopping_a_backup_keeps_nothing(reg, dest):
    calls = []

    def keep_going() -> bool:
        calls.append(1)
        return len(calls) < 3

    with pytest.raises(Cancelled):
        backups.backup(reg, dest, keep_going=keep_going)
    assert list(dest.iterdir()) == []
    assert not list(reg.path.parent.glob(backups.TEMP_PREFIX + "*"))


def test_progress_goes_from_zero_to_one(reg, dest):
    seen: list[tuple[float, str]] = []
    backups.backup(reg, dest, progress=lambda f, t: seen.append((f, t)))
    fractions = [f for f, _ in seen]
    assert fractions == sorted(fractions) and fractions[0] == 0.0 and fractions[-1] <= 1.0
    assert {t for _, t in seen} >= {"Copying the register (it stays encrypted)", "Writing and checking the backup"}


def test_backups_in_the_same_second_get_distinct_names(reg, dest, monkeypatch):
    import datetime as dt

    fixed = dt.datetime(2026, 3, 12, 14, 3, 12, tzinfo=dt.UTC)
    monkeypatch.setattr(backups, "utcnow", lambda: fixed)
    first = backups.backup(reg, dest)
    second = backups.backup(reg, dest)
    assert first.path != second.path and second.path.name.endswith("-2.tipbak")
    assert first.path.exists() and second.path.exists()


def test_backup_to_the_registers_own_disk_warns(reg, tmp_path):
    folder = tmp_path / "same-disk"
    folder.mkdir()
    result = backups.backup(reg, folder)
    assert any("same disk" in w for w in result.warnings)


def test_restored_register_counts_equal_the_backup(reg, dest, tmp_path):
    for i in range(30):
        add_org(reg, f"org {i}")
    result = backups.backup(reg, dest)
    target = tmp_path / "copy.tipdb"
    backups.restore(result.path, target, Credentials("admin", ADMIN_PASSWORD))
    again = open_register(target, "admin", ADMIN_PASSWORD)
    with again.read() as s:
        assert s.scalar(select(func.count()).select_from(Organisation)) == result.row_counts["organisation"]
    again.close()


def test_a_relative_folder_is_remembered_as_an_absolute_one(reg, tmp_path, monkeypatch):
    (tmp_path / "rel").mkdir()
    monkeypatch.chdir(tmp_path)
    backups.backup(reg, Path("rel"))
    assert backups.preferences(reg).destination == str(tmp_path / "rel")
    assert Settings.load().notes_for(reg.path).backup_destination == str(tmp_path / "rel")


def test_an_unexpected_failure_is_still_recorded_and_raised(reg, dest, monkeypatch):
    def boom(*a, **k):
        raise RuntimeError("something odd")

    monkeypatch.setattr(backups, "_describe", boom)
    with pytest.raises(RuntimeError):
        backups.backup(reg, dest)
    with reg.read() as s:
        event = s.scalars(select(AuditEvent).where(AuditEvent.action == "backup_failed")).one()
    assert json.loads(event.details)["reason"] == "unexpected RuntimeError"
    assert list(dest.iterdir()) == []
