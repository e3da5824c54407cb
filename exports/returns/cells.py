"""Cell-level rules of TIP-RETURN/1: neutralising text, canonical cell text, and the digest.

The writer feeds the values it writes and the reader the values it reads through the same
``Digest``, so that a file written by tipdesk and read back gives the same digest by construction.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable

from exports.returns.spec import DIGEST_ORDER, FORBIDDEN_CHARS, FORMULA_STARTS


def clean_text(text: str) -> str:
    """Replace each tab, carriage return, line feed (and other C0 control) with one space."""
    return FORBIDDEN_CHARS.sub(" ", text) if FORBIDDEN_CHARS.search(text) else text


def needs_quote_prefix(text: str) -> bool:
    """Text a spreadsheet program would take for a formula when opened or edited."""
    return text.startswith(FORMULA_STARTS)


def canonical(value: object) -> str:
    """A cell's canonical text: empty → ''; whole number → digits; other number → float repr;
    date → YYYY-MM-DD; text as is."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):  # never written; a reader rejects booleans before this
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value.is_integer():
            return str(int(value))
        return repr(float(value))
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def canonical_row(values: Iterable[object]) -> str | None:
    """Cells joined by a tab with trailing empty cells dropped; None for an empty row."""
    cells = [canonical(v) for v in values]
    while cells and cells[-1] == "":
        cells.pop()
    if not cells:
        return None
    return "\t".join(cells)


class Digest:
    """SHA-256 over the canonical text of the data sheets, fed sheet by sheet in digest order."""

    def __init__(self) -> None:
        self._hash = hashlib.sha256()
        self._last = -1

    def sheet(self, name: str) -> None:
        order = DIGEST_ORDER.index(name)
        if order <= self._last:
            raise ValueError(f"sheet {name} fed to the digest out of order")
        self._last = order
        self._hash.update(f"#{name}\n".encode())

    def row(self, values: Iterable[object]) -> None:
        line = canonical_row(values)
        if line is not None:
            self._hash.update(line.encode("utf-8"))
            self._hash.update(b"\n")

    def raw_row(self, values: list[object]) -> bool:
        """A row as python-calamine gives it ('' for an empty cell); False when the row is empty.

        The fast path of ``row`` for large sheets: text cells need no conversion.
        """
        cells = [v if type(v) is str else canonical(v) for v in values]
        while cells and cells[-1] == "":
            cells.pop()
        if not cells:
            return False
        self._hash.update(("\t".join(cells) + "\n").encode("utf-8"))
        return True

    def update_text(self, text: str) -> None:
        """Canonical lines already made (each ending with a line feed)."""
        self._hash.update(text.encode("utf-8"))

    def rows(self, rows: Iterable[Iterable[object]]) -> None:
        for values in rows:
            self.row(values)

    def hexdigest(self) -> str:
        return self._hash.hexdigest()
