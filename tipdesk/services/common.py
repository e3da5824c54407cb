"""What the case services share: pages, today's date, rule helpers and record loading."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields, is_dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import text
from sqlalchemy.orm import Session, joinedload

from models import Case, vocab
from models.countries import is_country
from tipdesk.errors import ConflictError, FieldProblem, NotFound, ValidationError
from tipdesk.security.roles import Actor
from tipdesk.vault.register import META_COUNTRY, own_office

T = TypeVar("T")

#: Earliest date tipdesk accepts anywhere (a birth date of a 120-year-old is still later).
EARLIEST = dt.date(1900, 1, 1)
MAX_AGE = 120


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a list: its rows, and how many rows the whole list has."""

    rows: tuple[T, ...]
    total: int
    offset: int
    limit: int

    @property
    def has_more(self) -> bool:
        return self.offset + len(self.rows) < self.total


def today() -> dt.date:
    """The local date on this computer (dates entered by people are local dates)."""
    return dt.date.today()


def can_see_pii(actor: Actor) -> bool:
    """Whether the acting user may see names, contacts, identity numbers and notes."""
    return actor.can("case.read_pii")


def fmt_date(day: dt.date) -> str:
    """A date as people here write it in messages: 3 March 2026."""
    return f"{day.day} {day.strftime('%B')} {day.year}"


# --- rule helpers: each appends plain-sentence problems ------------------------------------------


class Problems(list[FieldProblem]):
    """The problems found while validating one input."""

    def add(self, field: str, message: str) -> None:
        self.append(FieldProblem(field, message))

    def raise_if_any(self) -> None:
        if self:
            raise ValidationError(list(self))


def check_date(
    problems: Problems,
    field: str,
    value: dt.date | None,
    what: str,
    *,
    on: dt.date,
    born: dt.date | None = None,
    not_before: tuple[dt.date, str] | None = None,
    required: bool = False,
) -> None:
    """A date must exist when required, not lie in the future, not before birth or 1900, and
    not before ``not_before`` (a date and what it is, for the message)."""
    if value is None:
        if required:
            problems.add(field, f"Enter the {what}.")
        return
    if not isinstance(value, dt.date) or isinstance(value, dt.datetime):
        problems.add(field, f"The {what} is not a date.")
        return
    if value > on:
        problems.add(field, f"The {what} ({fmt_date(value)}) lies in the future.")
    elif born is not None and value < born:
        problems.add(field, f"The {what} ({fmt_date(value)}) is before the person's birth date.")
    elif value < EARLIEST:
        problems.add(field, f"The {what} ({fmt_date(value)}) is too long ago: check the year.")
    elif not_before is not None and value < not_before[0]:
        problems.add(field, f"The {what} ({fmt_date(value)}) is before the {not_before[1]} "
                            f"({fmt_date(not_before[0])}).")


_KNOWN: dict[int, tuple[tuple[tuple[str, str], ...], frozenset[str]]] = {}


def known_values(vocabulary: tuple[tuple[str, str], ...]) -> frozenset[str]:
    """The value names of a vocabulary as a set (kept, with the vocabulary, by identity)."""
    entry = _KNOWN.get(id(vocabulary))
    if entry is None or entry[0] is not vocabulary:
        entry = _KNOWN[id(vocabulary)] = (vocabulary, frozenset(vocab.names(vocabulary)))
    return entry[1]


def check_choice(
    problems: Problems, field: str, value: str | None, vocabulary: tuple[tuple[str, str], ...],
    what: str, *, required: bool = False,
) -> None:
    if value is None or value == "":
        if required:
            problems.add(field, f"Choose the {what}.")
        return
    if value not in known_values(vocabulary):
        problems.add(field, f"'{value}' is not a known {what}.")


def check_choices(
    problems: Problems, field: str, values: Sequence[str], vocabulary: tuple[tuple[str, str], ...],
    what: str,
) -> None:
    known = known_values(vocabulary)
    unknown = [v for v in values if v not in known]
    if unknown:
        problems.add(field, f"Not a known {what}: {', '.join(unknown)}.")
    if len(set(values)) != len(values):
        problems.add(field, f"A {what} is listed twice.")


def check_countries(problems: Problems, field: str, values: Sequence[str], what: str) -> None:
    bad = [v for v in values if not is_country(v)]
    if bad:
        problems.add(field, f"Not a country code (ISO 3166-1 alpha-3, e.g. JAM): {', '.join(bad)} "
                            f"in the {what}.")
    if len(set(values)) != len(values):
        problems.add(field, f"A country is listed twice in the {what}.")


def check_length(problems: Problems, field: str, value: str, limit: int, what: str) -> None:
    if len(value) > limit:
        problems.add(field, f"The {what} is too long ({len(value)} characters; at most {limit}).")


# --- loading and small conversions ---------------------------------------------------------------


def load_case(s: Session, case_id: int) -> Case:
    """The case and its person, in one query."""
    case = s.get(Case, case_id, options=[joinedload(Case.person)])
    if case is None:
        raise NotFound("That case does not exist (it may be in another register).")
    return case


def check_version(case: Case, expected_version: int | None) -> None:
    """Refuse to overwrite a case that someone else saved since it was opened."""
    if expected_version is not None and case.version != expected_version:
        raise ConflictError(
            f"Case {case.case_number} was changed by someone else since you opened it. "
            "Close it and open it again to see their changes; yours were not saved."
        )


_COUNTRY = text("SELECT value FROM register_meta WHERE key = :key")


def office_country(s: Session) -> str:
    country = s.execute(_COUNTRY, {"key": META_COUNTRY}).scalar()
    return country or (own_office(s).country or "")


def clean_text(value: str | None) -> str:
    return (value or "").strip()


def clean_list(values: Iterable[str] | None, upper: bool = False) -> tuple[str, ...]:
    """Trimmed, non-empty values in order (case-normalised codes when ``upper``)."""
    out = []
    for v in values or ():
        v = (v or "").strip()
        if upper:
            v = v.upper()
        if v:
            out.append(v)
    return tuple(out)


def as_audit(value: Any) -> Any:
    """A value in the form audit details keep (lists for tuples, ISO text for dates)."""
    if isinstance(value, tuple | list):
        return [as_audit(v) for v in value]
    if isinstance(value, dt.date):
        return value.isoformat()
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: as_audit(getattr(value, f.name)) for f in fields(value)}
    return value


def snapshot(obj: object, names: Iterable[str]) -> dict[str, Any]:
    """Audit-ready values of ``names`` read from an ORM row or a dataclass."""
    return {n: as_audit(getattr(obj, n)) for n in names}
