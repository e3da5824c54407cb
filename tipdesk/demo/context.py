"""What a demo generation step receives: ``DemoContext`` (the register, a seeded random
generator, the office, users, partners and every generated case) and the bulk writer.

A step is ``Step(name, run)``; ``run(ctx)`` adds its rows. Rules for steps:

- draw every random number from ``ctx.rng`` (seeded by the demo seed and the step's name, so a
  new step never changes what the others generate) and never from the global ``random``;
- keep the person-related draws independent of ``ctx.today`` and of the office code: draw the
  same numbers whatever the date, and only then turn offsets into dates (so two offices' demo
  registers made with one seed hold the same people);
- validate with the same pure rule functions as the services (``validate_*``/``*_problems``),
  and raise ``DemoRuleBroken`` when generated data breaks one (a bug in the generator);
- write through ``ctx.write()`` in batches (``ctx.batches``): ``w.insert(table, columns, rows)``
  (``executemany``; values in storage form: ``iso``/``stamp``/``js``/``flag``) and one
  ``w.audit(action, details)`` per batch instead of one event per row.
"""

from __future__ import annotations

import bisect
import contextlib
import itertools
import datetime as dt
import json
import random
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from json.encoder import encode_basestring as _quote  # type: ignore[attr-defined]
from typing import Any

from sqlalchemy.orm import Session

from tipdesk.counting import CLOSED_STATUSES
from tipdesk.errors import FieldProblem
from tipdesk.security import audit
from tipdesk.vault.register import Register

BATCH = 10_000


class DemoRuleBroken(RuntimeError):
    """Generated data broke a validation rule: a bug in the generator, never shown to users."""

    def __init__(self, what: str, problems: Sequence[FieldProblem]) -> None:
        super().__init__(f"demo {what} breaks a rule: " + "; ".join(f"{p.field}: {p.message}" for p in problems))


@dataclass
class DemoCase:
    """One generated case, as later steps need it (ids are those in the register)."""

    index: int  # position in generation order (stable for a seed)
    id: int
    person_id: int
    case_number: str
    registration_date: dt.date
    sex: str  # Female / Male / Other / Unknown
    age: int | None  # at registration
    birth_date: dt.date | None
    child: bool  # under 18 when trafficked (or at registration)
    citizenship: str | None  # first-listed
    exploitation: tuple[str, ...]
    identified_by_org_id: int | None
    owner_id: int | None
    consent_services: bool
    consent_data_sharing: bool
    police_reference: str
    victim_as_witness: bool
    #: (effective date, status, deciding body), oldest first; the first on the registration date
    status_history: list[tuple[dt.date, str, str | None]] = field(default_factory=list)
    #: (effective date, status, reason), oldest first; the first is Active on the registration date
    case_status_history: list[tuple[dt.date, str, str]] = field(default_factory=list)

    @property
    def trafficking_status(self) -> str:
        return self.status_history[-1][1]

    @property
    def case_status(self) -> str:
        return self.case_status_history[-1][1]

    @property
    def closed_on(self) -> dt.date | None:
        """When the case became Closed or ClosedReferred (None while open)."""
        if self.case_status not in CLOSED_STATUSES:
            return None
        became = self.case_status_history[-1][0]
        for day, status, _ in reversed(self.case_status_history):
            if status not in CLOSED_STATUSES:
                break
            became = day
        return became

    def status_on(self, day: dt.date) -> str | None:
        """Case status on ``day``."""
        current = None
        for effective, status, _ in self.case_status_history:
            if effective <= day:
                current = status
        return current


@dataclass(frozen=True)
class OfficeInfo:
    id: int
    code: str
    country: str


class BulkWriter:
    """Core ``executemany`` inserts inside one write transaction, plus batch audit events."""

    def __init__(self, session: Session, ctx: DemoContext) -> None:
        self.session = session
        self._ctx = ctx

    def insert(self, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
        rows = list(rows)
        if rows:
            sql = (f"INSERT INTO {table} ({', '.join(columns)}) "
                   f"VALUES ({', '.join('?' for _ in columns)})")
            self.session.connection().exec_driver_sql(sql, rows)
        return len(rows)

    def audit(self, action: str, details: dict[str, Any]) -> None:
        audit.record(self.session, self._ctx.actor, action, "register", None, details)

    def next_id(self, table: str) -> int:
        """The next free id of ``table`` (steps give rows explicit ids to know them)."""
        last = self.session.connection().exec_driver_sql(f"SELECT max(id) FROM {table}").scalar()
        return int(last or 0) + 1


@dataclass
class DemoContext:
    """Everything a step needs. ``rng`` is replaced by a fresh generator for each step."""

    reg: Register
    seed: int
    today: dt.date
    target_cases: int  # how many cases the cases step makes
    rng: random.Random
    office: OfficeInfo
    users: dict[str, int]  # role → id of that role's demo user
    partners: dict[str, int] = field(default_factory=dict)  # partner code → organisation id
    cases: list[DemoCase] = field(default_factory=list)  # in id order, filled by the cases step
    progress: Callable[[str], None] = lambda message: None
    _stamps: dict[tuple[dt.date, int], str] = field(default_factory=dict)
    _now: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))

    @property
    def actor(self):  # -> Actor
        return self.reg.actor

    @property
    def now(self) -> dt.datetime:
        return self._now

    @contextlib.contextmanager
    def write(self) -> Iterator[BulkWriter]:
        """One write transaction (``BEGIN IMMEDIATE``; committed at the end of the block)."""
        with self.reg.write() as s:
            yield BulkWriter(s, self)

    def batches(self, items: Sequence[Any], size: int = BATCH) -> Iterator[Sequence[Any]]:
        for start in range(0, len(items), size):
            yield items[start:start + size]

    def stamp_on(self, day: dt.date, hour: int = 12) -> str:
        """A storage timestamp on ``day`` (never later than now)."""
        key = (day, hour)
        found = self._stamps.get(key)
        if found is None:
            moment = min(dt.datetime(day.year, day.month, day.day, hour, tzinfo=dt.UTC), self._now)
            found = self._stamps[key] = stamp(moment)
        return found


# --- values in storage form (as the column types of models.base store them) ---------------------


def iso(day: dt.date | None) -> str | None:
    return day.isoformat() if day is not None else None


def stamp(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def js(values: Sequence[str]) -> str:
    """A ``StrList`` value: the same text as ``json.dumps(values, ensure_ascii=False,
    separators=(",", ":"))``, built faster."""
    return "[" + ",".join(map(_quote, values)) + "]" if values else "[]"


def js_dict(values: dict[str, Any]) -> str:
    return json.dumps(values, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def flag(value: bool) -> int:
    return 1 if value else 0


_TABLES: dict[tuple[tuple[Any, int], ...], tuple[list[Any], list[float], float]] = {}


def weighted(rng: random.Random, table: tuple[tuple[Any, int], ...]) -> Any:
    """One value of a ``(value, weight)`` table (a tuple: its cumulative weights are cached)."""
    prepared = _TABLES.get(table)
    if prepared is None:
        values = [v for v, _ in table]
        cumulative = list(itertools.accumulate(w for _, w in table))
        prepared = _TABLES[table] = (values, cumulative, cumulative[-1])
    values, cumulative, total = prepared
    return values[bisect.bisect_right(cumulative, rng.random() * total)]


def pick(rng: random.Random, items: Sequence[Any]) -> Any:
    """One item of a non-empty sequence (one draw; faster than ``choice``)."""
    return items[int(rng.random() * len(items))]


def sample(rng: random.Random, items: Sequence[Any], k: int) -> list[Any]:
    """``k`` different items in random order (a partial shuffle; faster than ``rng.sample``)."""
    pool = list(items)
    n = len(pool)
    for i in range(min(k, n)):
        j = i + int(rng.random() * (n - i))
        pool[i], pool[j] = pool[j], pool[i]
    return pool[:k]


def ri(rng: random.Random, low: int, high: int) -> int:
    """A whole number from ``low`` to ``high`` inclusive (one draw; faster than ``randint``)."""
    return low + int(rng.random() * (high - low + 1))


@dataclass(frozen=True)
class Step:
    """A generation step: ``run(ctx)`` adds its rows (see the module docstring for the rules)."""

    name: str
    run: Callable[[DemoContext], None]
    description: str = ""
