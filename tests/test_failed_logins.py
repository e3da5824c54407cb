"""Failed logins are counted outside the vault without names, and enter the audit chain at
the next successful unlock."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from models import AuditEvent
from tests.conftest import ADMIN_PASSWORD
from tipdesk.errors import WrongCredentials
from tipdesk.security import audit
from tipdesk.vault import files
from tipdesk.vault.register import consecutive_failures, open_register


def test_failures_are_counted_without_names_then_written_into_the_chain(reg, register_path):
    reg.close()
    for who in ("admin", "mallory-the-guesser"):
        with pytest.raises(WrongCredentials):
            open_register(register_path, who, "Secret-Guess-123")
    text = files.attempts_path(register_path).read_text()
    assert "mallory" not in text and "admin" not in text and "Secret-Guess" not in text
    assert consecutive_failures(register_path) == 2
    with open_register(register_path, "admin", ADMIN_PASSWORD) as r, r.read() as s:
        failed = list(s.scalars(select(AuditEvent).where(AuditEvent.action == "login_failed")))
        assert len(failed) == 2
        assert audit.verify(s).ok
    assert not files.attempts_path(register_path).exists()
    assert consecutive_failures(register_path) == 0
