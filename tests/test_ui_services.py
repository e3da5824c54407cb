"""Core services the window needs: office settings (lock timeout, office details) and drafts."""

from __future__ import annotations

import pytest

from tipdesk.errors import PermissionDenied, ValidationError
from tipdesk.security import accounts
from tipdesk.security.audit import verify
from tipdesk.services import drafts, office
from tipdesk.vault.register import open_register
from tests.conftest import ADMIN_PASSWORD


def _actions(reg) -> list[str]:
    from sqlalchemy import select

    from models import AuditEvent

    with reg.read() as s:
        return list(s.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


def test_lock_timeout_defaults_to_ten_minutes_and_is_audited_when_changed(reg) -> None:
    assert office.lock_timeout_minutes(reg) == 10
    office.set_lock_timeout(reg, 3)
    assert office.lock_timeout_minutes(reg) == 3
    assert _actions(reg)[-1] == "setting_changed"
    with pytest.raises(ValidationError):
        office.set_lock_timeout(reg, 0)
    assert office.lock_timeout_minutes(reg) == 3


def test_only_an_administrator_changes_office_settings(reg, register_path) -> None:
    accounts.add_user(reg, "cw", "caseworker", "caseworker-pw-1")
    worker = open_register(register_path, "cw", "caseworker-pw-1")
    try:
        assert office.lock_timeout_minutes(worker) == 10  # everyone reads it
        with pytest.raises(PermissionDenied):
            office.set_lock_timeout(worker, 5)
        with pytest.raises(PermissionDenied):
            office.update_office(worker, "Other", "NGO", "JAM")
    finally:
        worker.close()
    assert office.office_info(reg).name == "Test Office"


def test_office_details_change_with_field_problems_and_an_audit_diff(reg) -> None:
    with pytest.raises(ValidationError) as err:
        office.update_office(reg, " ", "NoSuchType", "XXX")
    assert set(err.value.by_field()) == {"name", "org_type", "country"}
    info = office.update_office(reg, "Open Arms Shelter", "NGO", "jam")
    assert (info.code, info.name, info.country) == ("OAS", "Open Arms Shelter", "JAM")
    assert _actions(reg)[-1] == "office_changed"
    with reg.read() as s:
        assert verify(s).ok


def test_drafts_belong_to_their_user_and_are_replaced_and_discarded(reg, register_path) -> None:
    drafts.save_draft(reg, "case", 7, {"given_names": "Ann"})
    drafts.save_draft(reg, "case", 7, {"given_names": "Anne"})
    drafts.save_draft(reg, "case", None, {"given_names": "New"})
    kept = drafts.load_draft(reg, "case", 7)
    assert kept is not None and kept.payload == {"given_names": "Anne"}
    assert len(drafts.list_drafts(reg)) == 2
    accounts.add_user(reg, "cw", "caseworker", "caseworker-pw-1")
    other = open_register(register_path, "cw", "caseworker-pw-1")
    try:
        assert drafts.list_drafts(other) == []
    finally:
        other.close()
    assert drafts.discard_draft(reg, "case", 7)
    assert not drafts.discard_draft(reg, "case", 7)
    assert [d.entity_id for d in drafts.list_drafts(reg)] == [None]
    # the audit trail says a draft was kept, never what it held
    with reg.read() as s:
        from sqlalchemy import select

        from models import AuditEvent

        details = " ".join(d or "" for d in s.scalars(select(AuditEvent.details)))
    assert "Anne" not in details


def test_register_repr_never_shows_the_key(reg) -> None:
    assert reg.key_bytes_for_backup().hex() not in repr(reg)
    assert "_key" not in repr(reg)


def test_reopened_register_keeps_settings(reg, register_path) -> None:
    office.set_lock_timeout(reg, 25)
    reg.close()
    again = open_register(register_path, "admin", ADMIN_PASSWORD)
    try:
        assert office.lock_timeout_minutes(again) == 25
    finally:
        again.close()
