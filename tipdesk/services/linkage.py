"""The national linkage key: set from the file the secretariat distributes (admin only, audited)."""

from __future__ import annotations

import hashlib

from tipdesk.security import audit
from tipdesk.vault.register import META_LINKAGE_KEY, Register, get_meta, set_meta


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
