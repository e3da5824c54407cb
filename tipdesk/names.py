"""Folding personal names for comparison: accents dropped, case folded, letters only.

The same folding serves the duplicate warning (``Person.name_key``) and matches the
normalisation TIP-RETURN/1 prescribes for the person linkage key (NFKD, drop combining marks,
casefold, keep characters whose Unicode category starts with ``L``), so that ``José`` and
``JOSE`` are one name everywhere.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable


def fold(text: str) -> str:
    """Letters of ``text`` folded (NFKD, no combining marks, casefolded); other characters
    become single spaces between words."""
    out: list[str] = []
    pending_space = False
    for ch in unicodedata.normalize("NFKD", text):
        if unicodedata.combining(ch):
            continue
        if unicodedata.category(ch).startswith("L"):
            if pending_space and out:
                out.append(" ")
            pending_space = False
            out.append(ch.casefold())
        else:
            pending_space = True
    # casefold can expand (ß → ss) and NFKD can leave letters to fold again: normalise once more
    return unicodedata.normalize("NFKD", "".join(out)).casefold()


def fold_letters(text: str) -> str:
    """``fold`` without spaces: the form of TIP-RETURN/1's person linkage key."""
    return fold(text).replace(" ", "")


def tokens(*parts: str) -> list[str]:
    """The folded words of several name fields, in order."""
    words: list[str] = []
    for part in parts:
        words.extend(fold(part).split())
    return words


def full_name_key(given_names: str, family_names: str) -> str:
    """The folded name, family names first (``perez jose``): the order lists sort by."""
    return " ".join(tokens(family_names, given_names))


def name_key(given_names: str, family_names: str, aliases: Iterable[str] = ()) -> str:
    """``Person.name_key``: the folded full name (family first), then each folded alias, joined
    by ``|`` (``perez jose|pepe``)."""
    return "|".join([full_name_key(given_names, family_names), *alias_keys(aliases)])


def name_variants(key: str) -> list[str]:
    """The names held in a ``name_key``: the full name first (may be empty), then aliases."""
    return key.split("|") if key else [""]


def alias_keys(aliases: Iterable[str]) -> list[str]:
    return [key for key in (" ".join(tokens(a)) for a in aliases) if key]
