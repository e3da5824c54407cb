"""Per-user keyslots: several passwords for one register; revoking; changing passwords."""

from __future__ import annotations

import pytest

from tests.conftest import ADMIN_PASSWORD, FAST_KDF
from tipdesk.errors import AccountRevoked, PermissionDenied, UsageError, WrongCredentials
from tipdesk.security import accounts, audit
from tipdesk.vault.keyslots import parse_recovery_key
from tipdesk.vault.register import open_register, open_with_recovery_key


def test_two_users_with_their_own_passwords_open_the_same_register(reg, register_path):
    accounts.add_user(reg, "Bea", "caseworker", "bea-password", "Bea Worker", kdf=FAST_KDF)
    reg.close()
    with open_register(register_path, "bea", "bea-password") as r1:
        assert r1.actor.role == "caseworker" and r1.actor.display_name == "Bea Worker"
    with open_register(register_path, "admin", ADMIN_PASSWORD) as r2:
        assert r2.actor.role == "admin"
    with pytest.raises(WrongCredentials):
        open_register(register_path, "bea", ADMIN_PASSWORD)


def test_revoking_one_user_stops_them_and_leaves_the_other_working(reg, register_path):
    accounts.add_user(reg, "bea", "caseworker", "bea-password", kdf=FAST_KDF)
    accounts.add_user(reg, "cal", "police", "cal-password", kdf=FAST_KDF)
    accounts.revoke_user(reg, "bea")
    reg.close()
    with pytest.raises(AccountRevoked):
        open_register(register_path, "bea", "bea-password")
    with open_register(register_path, "cal", "cal-password") as r:
        assert r.actor.username == "cal"


def test_changing_a_password_does_not_reencrypt_the_register(created, register_path):
    reg = created.register
    header_before = register_path.read_bytes()[:16]  # SQLCipher's per-file salt
    accounts.set_password(reg, "admin", "a-new-password", kdf=FAST_KDF)
    reg.close()
    assert register_path.read_bytes()[:16] == header_before
    with pytest.raises(WrongCredentials):
        open_register(register_path, "admin", ADMIN_PASSWORD)
    open_register(register_path, "admin", "a-new-password").close()
    # The recovery key made at creation still opens it: the database key did not change.
    open_with_recovery_key(register_path, parse_recovery_key(created.recovery_key), as_username="admin").close()


def test_the_last_administrator_cannot_be_revoked_or_demoted(reg):
    with pytest.raises(UsageError, match="last administrator"):
        accounts.revoke_user(reg, "admin")
    with pytest.raises(UsageError, match="last administrator"):
        accounts.change_role(reg, "admin", "caseworker")


def test_only_admins_manage_users(reg, register_path):
    accounts.add_user(reg, "bea", "caseworker", "bea-password", kdf=FAST_KDF)
    reg.close()
    with open_register(register_path, "bea", "bea-password") as r, pytest.raises(PermissionDenied):
        accounts.add_user(r, "eve", "admin", "eve-password", kdf=FAST_KDF)


def test_user_may_change_own_password_with_the_current_one(reg, register_path):
    accounts.add_user(reg, "bea", "caseworker", "bea-password", kdf=FAST_KDF)
    reg.close()
    with open_register(register_path, "bea", "bea-password") as r:
        with pytest.raises(UsageError, match="current password"):
            accounts.set_password(r, "bea", "new-password-1", current_password="wrong-one", kdf=FAST_KDF)
        accounts.set_password(r, "bea", "new-password-1", current_password="bea-password", kdf=FAST_KDF)
    open_register(register_path, "bea", "new-password-1").close()


def test_user_names_are_case_insensitive_and_never_reused(reg):
    accounts.add_user(reg, "Bea", "caseworker", "bea-password", kdf=FAST_KDF)
    with pytest.raises(UsageError, match="already"):
        accounts.add_user(reg, "BEA", "police", "other-password", kdf=FAST_KDF)


def test_account_changes_are_audited(reg):
    accounts.add_user(reg, "bea", "caseworker", "bea-password", kdf=FAST_KDF)
    accounts.change_role(reg, "bea", "police")
    accounts.revoke_user(reg, "bea")
    from sqlalchemy import select

    from models import AuditEvent

    with reg.read() as s:
        actions = [e.action for e in s.scalars(select(AuditEvent).order_by(AuditEvent.id))]
        assert audit.verify(s).ok
    assert actions[-3:] == ["user_added", "role_changed", "user_revoked"]


def test_recovery_sets_a_new_admin_password_even_without_the_key_file(created, register_path):
    from tipdesk.vault import files

    created.register.close()
    files.keys_path(register_path).unlink()
    accounts.recover(register_path, parse_recovery_key(created.recovery_key), "admin", "recovered-pass", kdf=FAST_KDF)
    with open_register(register_path, "admin", "recovered-pass") as r:
        with r.read() as s:
            assert audit.verify(s).ok


def test_default_user_is_the_only_admin(reg, register_path):
    reg.close()
    with open_register(register_path, None, ADMIN_PASSWORD) as r:
        assert r.actor.username == "admin"
