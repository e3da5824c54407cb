"""The national linkage key: set from the file the secretariat distributes (admin only, audited)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from tipdesk.security import audit
from tipdesk.vault.register import META_LINKAGE_KEY, META_OFFICE_SECRET, Register, get_meta, set_meta


def key_id(key: bytes) -> str:
    """First 8 hex digits of SHA-256 of the key bytes (TIP-RETURN/1 ``linkage_key_id``)."""
    return hashlib.sha256(key).hexdigest()[:8]


def parse_key_file_text(text: str) -> bytes:
    """The secretariat's file holds 64 hex digits (spaces, dashes and line breaks are ignored)."""
    from tipdesk.errors import UsageError

    digits = "".join(ch for ch in text if ch not in " \t\r\n-:")
    if len(digits) != 64 or any(ch not in "0123456789abcdefABCDEF" for ch in digits):
        raise UsageError(
            "That is not a national linkage key: the secretariat's key file holds exactly 64 "
            "hexadecimal digits (0–9, a–f)."
        )
    return bytes.fromhex(digits)


def set_linkage_key(reg: Register, key: bytes) -> str:
    """Store the national linkage key in the register; returns its key id. Audited (id only)."""
    reg.actor.require("settings.manage")
    if len(key) != 32:
        from tipdesk.errors import UsageError

        raise UsageError("A national linkage key is 32 bytes (64 hexadecimal digits).")
    new_id = key_id(key)
    with reg.write() as s:
        old = get_meta(s, META_LINKAGE_KEY)
        old_id = key_id(bytes.fromhex(old)) if old else ""
        set_meta(s, META_LINKAGE_KEY, key.hex())
        audit.record(s, reg.actor, "linkage_key_set", "register", None,
                     {"linkage_key_id": new_id, "previous_linkage_key_id": old_id})
    return new_id


def current_key_id(reg: Register) -> str:
    """The key id of the linkage key set in the register, or '' when none is."""
    value = reg.meta(META_LINKAGE_KEY)
    return key_id(bytes.fromhex(value)) if value else ""


@dataclass(frozen=True)
class KeyStatus:
    """Whether the register's two keys are set, each named by its id — never the key itself."""

    office_secret_id: str  # '' when missing (a damaged register)
    linkage_key_id: str  # '' when no national linkage key is set

    @property
    def office_secret_set(self) -> bool:
        return bool(self.office_secret_id)

    @property
    def linkage_key_set(self) -> bool:
        return bool(self.linkage_key_id)


def key_status(reg: Register) -> KeyStatus:
    """The office secret and the national linkage key: set or not, and their ids (admin only)."""
    reg.actor.require("settings.manage")
    with reg.read() as s:
        secret, linkage = get_meta(s, META_OFFICE_SECRET), get_meta(s, META_LINKAGE_KEY)
    return KeyStatus(key_id(bytes.fromhex(secret)) if secret else "",
                     key_id(bytes.fromhex(linkage)) if linkage else "")


def set_linkage_key_from_file(reg: Register, path: Path) -> str:
    """Read the secretariat's key file (at most 4 KiB of text) and store the key; its id."""
    from tipdesk.errors import UsageError

    reg.actor.require("settings.manage")
    try:
        with open(path, "rb") as fh:
            raw = fh.read(4097)
    except OSError as exc:
        raise UsageError(f"The key file cannot be read: {exc.strerror or exc}.") from exc
    if len(raw) > 4096:
        raise UsageError("That file is too large to be a national linkage key file.")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise UsageError("That file is not a text file with a national linkage key.") from None
    return set_linkage_key(reg, parse_key_file_text(text))
