"""User accounts: add, revoke, change password or role, recover with the recovery key.

An account lives in two places: its row in the register (name, role, active) and its keyslot
in the key file (the database key wrapped under the user's password). Both change inside one
write transaction of the register — ``BEGIN IMMEDIATE`` also serialises key-file edits between
processes — and the key file is written (atomically) just before the transaction commits.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models import ROLE_LABELS, UserAccount, utcnow
from tipdesk.errors import KeyslotsDamaged, KeyslotsMissing, UsageError, WrongCredentials
from tipdesk.security import audit
from tipdesk.security.roles import Actor, role_of
from tipdesk.vault import files
from tipdesk.vault.keyslots import KdfParams, KeyslotFile, calibrate, normalise_username
from tipdesk.vault.register import (
    Register,
    get_meta,
    validate_password,
    validate_user_name,
    META_REGISTER_ID,
    open_with_recovery_key,
)


@dataclass(frozen=True)
class UserInfo:
    id: int
    username: str
    display_name: str
    role: str
    active: bool
    created_at: dt.datetime
    last_login_at: dt.datetime | None

    @property
    def role_label(self) -> str:
        return ROLE_LABELS.get(self.role, self.role)


def _info(u: UserAccount) -> UserInfo:
    return UserInfo(u.id, u.username, u.display_name, u.role, u.active, u.created_at, u.last_login_at)


def list_users(reg: Register) -> list[UserInfo]:
    reg.actor.require("user.manage")
    with reg.read() as s:
        return [_info(u) for u in s.scalars(select(UserAccount).order_by(UserAccount.username))]


def _get(s: Session, username: str) -> UserAccount:
    user = s.scalars(select(UserAccount).where(UserAccount.username == normalise_username(username))).first()
    if user is None:
        raise UsageError(f"There is no user '{username}' in this register.")
    return user


def _active_admins(s: Session) -> int:
    return s.scalar(
        select(func.count()).select_from(UserAccount).where(
            UserAccount.role == "admin", UserAccount.active.is_(True))
    ) or 0


def _slots(reg: Register) -> KeyslotFile:
    return KeyslotFile.load(files.keys_path(reg.path))


def add_user(
    reg: Register, username: str, role: str, password: str,
    display_name: str = "", kdf: KdfParams | None = None,
) -> UserInfo:
    """Create an account and its keyslot."""
    reg.actor.require("user.manage")
    name = normalise_username(username)
    validate_user_name(name)
    role = role_of(role)
    validate_password(password)
    params = kdf or calibrate()
    with reg.write() as s:
        if s.scalars(select(UserAccount).where(UserAccount.username == name)).first() is not None:
            raise UsageError(f"There is already a user '{name}' (user names are never reused).")
        user = UserAccount(username=name, display_name=display_name.strip() or name, role=role,
                           created_at=utcnow(), password_changed_at=utcnow())
        s.add(user)
        s.flush()
        audit.record(s, reg.actor, "user_added", "user", user.id, {"username": name, "role": role})
        slots = _slots(reg)
        slots.set_password(name, password, reg.key_bytes_for_backup(), params, admin=role == "admin")
        slots.save(files.keys_path(reg.path))
        return _info(user)


def revoke_user(reg: Register, username: str) -> None:
    """Deactivate an account and destroy its keyslot. The last administrator cannot go."""
    reg.actor.require("user.manage")
    with reg.write() as s:
        user = _get(s, username)
        if not user.active:
            raise UsageError(f"'{user.username}' is already revoked.")
        if user.role == "admin" and _active_admins(s) <= 1:
            raise UsageError("This is the last administrator: add another one before revoking it.")
        user.active = False
        user.revoked_at = utcnow()
        audit.record(s, reg.actor, "user_revoked", "user", user.id, {"username": user.username})
        slots = _slots(reg)
        slots.revoke(user.username)
        slots.save(files.keys_path(reg.path))


def set_password(
    reg: Register, username: str, new_password: str, *,
    current_password: str | None = None, kdf: KdfParams | None = None,
) -> None:
    """Set a user's password (admin for anyone; anyone for themselves with the current one).

    Only the user's keyslot changes: the register is not re-encrypted.
    """
    validate_password(new_password)
    name = normalise_username(username)
    own = reg.actor.username == name
    if not own:
        reg.actor.require("user.manage")
    params = kdf or calibrate()
    with reg.write() as s:
        user = _get(s, name)
        if not user.active:
            raise UsageError(f"'{user.username}' is revoked; add a new account instead.")
        slots = _slots(reg)
        if own and current_password is not None:
            try:
                slots.unwrap(name, current_password)
            except WrongCredentials:
                raise UsageError("The current password is not correct.") from None
        user.password_changed_at = utcnow()
        audit.record(s, reg.actor, "password_changed", "user", user.id, {"username": user.username})
        slots.set_password(name, new_password, reg.key_bytes_for_backup(), params,
                           admin=user.role == "admin")
        slots.save(files.keys_path(reg.path))


def change_role(reg: Register, username: str, role: str) -> None:
    reg.actor.require("user.manage")
    role = role_of(role)
    with reg.write() as s:
        user = _get(s, username)
        if user.role == role:
            return
        if user.role == "admin" and user.active and _active_admins(s) <= 1:
            raise UsageError("This is the last administrator: make another user an administrator first.")
        audit.record(s, reg.actor, "role_changed", "user", user.id,
                     {"username": user.username, "role": [user.role, role]})
        user.role = role
        slots = _slots(reg)
        slots.set_admin_flag(user.username, role == "admin")
        slots.save(files.keys_path(reg.path))


def recover(
    path: Path, recovery_key: bytes, username: str, new_password: str, kdf: KdfParams | None = None
) -> Actor:
    """With the recovery key, set a new password for ``username`` (e.g. when every admin
    password is lost). Rebuilds a missing or damaged key file; other users then need new
    passwords from an administrator."""
    validate_password(new_password)
    params = kdf or calibrate()
    reg = open_with_recovery_key(Path(path), recovery_key, as_username=username)
    try:
        with reg.write() as s:
            user = _get(s, username)
            keys = files.keys_path(reg.path)
            rebuilt = False
            try:
                slots = KeyslotFile.load(keys)
                if slots.register_id != reg.register_id:
                    raise KeyslotsDamaged("key file of another register")
            except (KeyslotsMissing, KeyslotsDamaged):
                slots = KeyslotFile.new(get_meta(s, META_REGISTER_ID) or reg.register_id)
                rebuilt = True
            user.password_changed_at = utcnow()
            audit.record(s, reg.actor, "password_recovered", "user", user.id,
                         {"username": user.username, "key_file_rebuilt": rebuilt})
            slots.set_password(user.username, new_password, reg.key_bytes_for_backup(), params,
                               admin=user.role == "admin")
            slots.save(keys)
        return reg.actor
    finally:
        reg.close()
