"""Pseudonyms of TIP-RETURN/1: ``case_key``, ``person_key`` and ``linkage_key_id``."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import unicodedata


def case_key(office_secret: bytes, case_id: int) -> str:
    """First 16 hex digits of HMAC-SHA256(office secret, case id as decimal text)."""
    return hmac.new(office_secret, str(int(case_id)).encode("ascii"), hashlib.sha256).hexdigest()[:16]


def normalise_name(text: str) -> str:
    """NFKD, drop combining marks, casefold, keep only letters (Unicode category L*)."""
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    folded = stripped.casefold()
    return "".join(ch for ch in folded if unicodedata.category(ch).startswith("L"))


def person_key(
    linkage_key: bytes | None,
    consent_data_sharing: bool,
    family_names: str | None,
    given_names: str | None,
    birth_date: dt.date | None,
) -> str:
    """First 32 hex digits of HMAC-SHA256(linkage key, ``family|given|YYYY-MM-DD``).

    Empty without consent to data sharing, without a linkage key, or when the family name,
    the given names or the birth date is unknown (a name with no letter left after
    normalisation counts as unknown).
    """
    if not consent_data_sharing or not linkage_key or birth_date is None:
        return ""
    family = normalise_name(family_names or "")
    given = normalise_name(given_names or "")
    if not family or not given:
        return ""
    message = f"{family}|{given}|{birth_date.isoformat()}".encode()
    return hmac.new(linkage_key, message, hashlib.sha256).hexdigest()[:32]


def linkage_key_id(linkage_key: bytes | None) -> str:
    """First 8 hex digits of SHA-256 of the key bytes; empty when no key is set."""
    from tipdesk.services.linkage import key_id

    return key_id(linkage_key) if linkage_key else ""
