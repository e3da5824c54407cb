"""The audit chain detects edited, deleted, inserted and reordered events at the right place."""

from __future__ import annotations

import json

import pytest
import sqlcipher3
from sqlalchemy import select

from models import AuditEvent
from tipdesk.security import audit
from tipdesk.vault.keyslots import parse_recovery_key


def _fill(reg, n=10):
    with reg.write() as s:
        for i in range(n):
            audit.record(s, reg.actor, "case_viewed", "case", i + 1, {"field": ["old", f"new {i}"]})
    with reg.read() as s:
        return s.scalar(select(AuditEvent.id).order_by(AuditEvent.id.desc()).limit(1))


def _raw(created, register_path):
    """What an attacker holding the recovery key gets: the database, with guards dropped."""
    created.register.close()
    conn = sqlcipher3.connect(str(register_path), isolation_level=None)
    conn.execute(f"PRAGMA key = \"x'{parse_recovery_key(created.recovery_key).hex()}'\"")
    conn.execute("DROP TRIGGER audit_event_no_delete")
    conn.execute("DROP TRIGGER audit_event_no_update")
    return conn


def _verify(register_path):
    from tests.conftest import ADMIN_PASSWORD
    from tipdesk.vault.register import open_register

    # Opening appends a login event; verification must still name the tampered position.
    with open_register(register_path, "admin", ADMIN_PASSWORD) as reg, reg.read() as s:
        return audit.verify(s)


def test_intact_chain_verifies(reg):
    last = _fill(reg)
    with reg.read() as s:
        report = audit.verify(s)
    assert report.ok and report.count == last


def test_edited_event_is_found_at_its_position(created, register_path):
    _fill(created.register)
    conn = _raw(created, register_path)
    conn.execute("UPDATE audit_event SET action = 'nothing_to_see' WHERE id = 6")
    conn.close()
    report = _verify(register_path)
    assert not report.ok and report.first_bad_position == 6


def test_edited_details_are_found(created, register_path):
    _fill(created.register)
    conn = _raw(created, register_path)
    conn.execute("UPDATE audit_event SET details = ? WHERE id = 7", (json.dumps({"field": ["x", "y"]}),))
    conn.close()
    report = _verify(register_path)
    assert not report.ok and report.first_bad_position == 7
    assert "details" in report.problem


def test_deleted_event_is_found(created, register_path):
    _fill(created.register)
    conn = _raw(created, register_path)
    conn.execute("DELETE FROM audit_event WHERE id = 5")
    conn.close()
    report = _verify(register_path)
    assert not report.ok and report.first_bad_position == 5


def test_inserted_event_is_found(created, register_path):
    _fill(created.register)
    conn = _raw(created, register_path)
    # Shift events 8.. up by one and insert a forged event as number 8, keeping ids dense.
    conn.execute("UPDATE audit_event SET id = id + 1000 WHERE id >= 8")
    conn.execute("UPDATE audit_event SET id = id - 999 WHERE id >= 1000")
    row = conn.execute("SELECT prev_hash, hash FROM audit_event WHERE id = 7").fetchone()
    conn.execute(
        "INSERT INTO audit_event (id, at, user_id, username, action, entity, entity_id, details, "
        "details_hash, prev_hash, hash) VALUES (8, '2026-01-01T00:00:00.000000Z', 1, 'admin', "
        "'forged', 'case', 1, '{}', ?, ?, ?)",
        (audit.sha256_hex("{}"), row[1], "f" * 64),
    )
    conn.close()
    report = _verify(register_path)
    assert not report.ok and report.first_bad_position == 8


def test_reordered_events_are_found(created, register_path):
    _fill(created.register)
    conn = _raw(created, register_path)
    conn.execute("UPDATE audit_event SET id = -1 WHERE id = 4")
    conn.execute("UPDATE audit_event SET id = 4 WHERE id = 5")
    conn.execute("UPDATE audit_event SET id = 5 WHERE id = -1")
    conn.close()
    report = _verify(register_path)
    assert not report.ok and report.first_bad_position == 4


def test_the_application_cannot_change_or_delete_events(reg):
    _fill(reg, 2)
    with pytest.raises(Exception, match="cannot be"), reg.write() as s:
        s.execute(AuditEvent.__table__.update().where(AuditEvent.id == 1).values(action="x"))
    with pytest.raises(Exception, match="cannot be"), reg.write() as s:
        s.execute(AuditEvent.__table__.delete().where(AuditEvent.id == 1))


def test_erasing_details_keeps_the_chain_valid(reg):
    with reg.write() as s:
        audit.record(s, reg.actor, "case_changed", "case", 42, {"family_names": ["Old", "New"]})
        audit.record(s, reg.actor, "case_changed", "case", 43, {"family_names": ["Other", "Kept"]})
    with reg.write() as s:
        erased = audit.erase_details(s, reg.actor, "case", 42, "data subject request 2026-11")
    assert erased == 1
    with reg.read() as s:
        assert audit.verify(s).ok
        rows = {e.entity_id: e.details for e in s.scalars(select(AuditEvent).where(AuditEvent.action == "case_changed"))}
    assert rows[42] is None and "Kept" in rows[43]


def test_erasure_without_a_record_is_detected(created, register_path):
    _fill(created.register, 3)
    conn = _raw(created, register_path)
    conn.execute("UPDATE audit_event SET details = NULL, erased_at = '2026-01-01T00:00:00.000000Z' WHERE id = 3")
    conn.close()
    report = _verify(register_path)
    assert not report.ok and report.first_bad_position == 3
