"""Pseudonyms of TIP-RETURN/1: ``case_key``, ``person_key`` and ``linkage_key_id``."""

from __future__ import annotations

import datetime as dt
import functools
import hmac
import unicodedata


def case_key(office_secret: bytes, case_id: int) -> str:
    """First 16 hex digits of HMAC-SHA256(office secret, case id as decimal text)."""
    # hmac.digest: OpenSSL's one-shot HMAC, several times quicker than an hmac.new object per key.
    return hmac.digest(office_secret, str(int(case_id)).encode("ascii"), "sha256").hex()[:16]


@functools.lru_cache(maxsize=65536)
def normalise_name(text: str) -> str:
    """NFKD, drop combining marks, casefold, keep only letters (Unicode category L*)."""
    if text.isascii():
        # The same result for plain ASCII, without a look-up per character: NFKD changes no
        # ASCII character, none is a combining mark, and the ASCII letters are exactly isalpha().
        return "".join(filter(str.isalpha, text.casefold()))
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
    return hmac.digest(linkage_key, message, "sha256").hex()[:32]


def linkage_key_id(linkage_key: bytes | None) -> str:
    """First 8 hex digits of SHA-256 of the key bytes; empty when no key is set."""
    from tipdesk.services.linkage import key_id

    return key_id(linkage_key) if linkage_key else ""
