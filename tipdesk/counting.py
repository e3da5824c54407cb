"""The counting rules of TIP-RETURN/1 that several parts of tipdesk share, as pure functions.

Returns, the dashboard, shelter queries and the case list all count with these, so that the
same question always gets the same answer. Definitions are quoted from RETURNS-v1.md
("Shared definitions" and "T5_Shelter").
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import TypeVar

from models import vocab
from tipdesk.errors import UsageError

T = TypeVar("T")

# --- periods -------------------------------------------------------------------------------------


@dataclass(frozen=True, order=True)
class Period:
    """A calendar quarter (``2026-Q3``) or year (``2026``); both ends included."""

    start: dt.date
    end: dt.date
    code: str

    def __contains__(self, day: object) -> bool:
        return isinstance(day, dt.date) and self.start <= day <= self.end

    @property
    def is_quarter(self) -> bool:
        return "-Q" in self.code

    @property
    def day_before_start(self) -> dt.date:
        return self.start - dt.timedelta(days=1)

    def previous(self) -> Period:
        return period_containing(self.day_before_start, quarter=self.is_quarter)


_PERIOD = re.compile(r"^(\d{4})(?:-Q([1-4]))?$")


def parse_period(text: str) -> Period:
    """``YYYY-Qn`` or ``YYYY``; anything else is a usage error in plain words."""
    match = _PERIOD.match(text.strip())
    if not match or not 1900 <= int(match.group(1)) <= 2999:
        raise UsageError(f"'{text}' is not a period: write a quarter like 2026-Q3 or a year like 2026.")
    year = int(match.group(1))
    if match.group(2) is None:
        return Period(dt.date(year, 1, 1), dt.date(year, 12, 31), f"{year:04d}")
    q = int(match.group(2))
    start = dt.date(year, 3 * q - 2, 1)
    end = (dt.date(year + 1, 1, 1) if q == 4 else dt.date(year, 3 * q + 1, 1)) - dt.timedelta(days=1)
    return Period(start, end, f"{year:04d}-Q{q}")


def period_containing(day: dt.date, quarter: bool = True) -> Period:
    if not quarter:
        return parse_period(f"{day.year}")
    return parse_period(f"{day.year}-Q{(day.month - 1) // 3 + 1}")


def last_complete_quarter(today: dt.date) -> Period:
    """The quarter before the one containing ``today`` (the default period of a return)."""
    return period_containing(today).previous()


# --- persons -------------------------------------------------------------------------------------


def whole_years(born: dt.date, on: dt.date) -> int:
    """``on.year − born.year − (1 if (on.month, on.day) < (born.month, born.day) else 0)``.

    A 29 February birthday is reached on 1 March in other years.
    """
    return on.year - born.year - (1 if (on.month, on.day) < (born.month, born.day) else 0)


def age_at(
    on: dt.date,
    birth_date: dt.date | None,
    estimated_age: int | None = None,
    estimated_on: dt.date | None = None,
) -> int | None:
    """Age in whole years on ``on``: from the birth date; failing that the estimated age plus
    the whole years from the estimate's date; otherwise unknown (None)."""
    if birth_date is not None:
        return whole_years(birth_date, on)
    if estimated_age is not None and estimated_on is not None:
        return estimated_age + whole_years(estimated_on, on)
    if estimated_age is not None:  # an estimate without its date is taken as of ``on``
        return estimated_age
    return None


def age_group(age: int | None) -> str:
    if age is None:
        return "unknown"
    return "0-17" if age < 18 else "18+"


def sex_of_gender(gender: str | None) -> str:
    """HTCDS ``prs_Gender`` → Female / Male / Other / Unknown."""
    return vocab.SEX_OF_GENDER.get(gender or "", "Unknown")


def exploitation_categories(types: Iterable[str]) -> set[str]:
    return {vocab.exploitation_category(t) for t in types}


def derive_scope(office_country: str, first_citizenship: str | None, route_countries: Iterable[str | None]) -> str:
    """Transnational when any route country or the first-listed citizenship differs from the
    office's country; Domestic when at least one is recorded and all equal it; else Unknown."""
    known = [c for c in [first_citizenship, *route_countries] if c]
    if not known:
        return "Unknown"
    return "Transnational" if any(c != office_country for c in known) else "Domestic"


# --- status histories ----------------------------------------------------------------------------


def entry_on(entries: Iterable[tuple[dt.date, int, T]], day: dt.date) -> T | None:
    """The payload of the entry in force on ``day`` among ``(effective_date, entry_order,
    payload)``: the latest effective date ≤ day; same-date entries ordered by entry, the later
    winning."""
    best: tuple[dt.date, int] | None = None
    found: T | None = None
    for effective, order, value in entries:
        if effective <= day and (best is None or (effective, order) > best):
            best, found = (effective, order), value
    return found


def status_on(entries: Iterable[tuple[dt.date, int, str]], day: dt.date) -> str | None:
    """The status on ``day`` from ``(effective_date, entry_order, status)`` entries: the entry
    with the latest effective date ≤ day; same-date entries ordered by entry, the later winning."""
    return entry_on(entries, day)


CLOSED_STATUSES = ("Closed", "ClosedReferred")


def _entry_order(entry: tuple) -> tuple:
    return entry[0], entry[1]


def closure_date(entries: Iterable[tuple[dt.date, int, str]], period: Period) -> dt.date | None:
    """The date the case status became Closed/ClosedReferred, when within the period and the
    status at period end is one of the two (tipdesk's reading: the start of the final closed
    run of entries as of the period end — see docs/returns.md)."""
    in_force = [e for e in entries if e[0] <= period.end]
    if not in_force or max(in_force, key=_entry_order)[2] not in CLOSED_STATUSES:
        return None  # not closed at the period end (most cases: no sorting needed to know)
    ordered = sorted(in_force, key=_entry_order)
    became = ordered[-1][0]
    for effective, _order, value in reversed(ordered):
        if value not in CLOSED_STATUSES:
            break
        became = effective
    return became if became in period else None


# --- shelter (T5) --------------------------------------------------------------------------------


def stay_overlaps(admitted: dt.date, discharged: dt.date | None, period: Period) -> bool:
    """A stay overlaps the period: A ≤ E and (no D or D ≥ S)."""
    return admitted <= period.end and (discharged is None or discharged >= period.start)


def bed_nights(admitted: dt.date, discharged: dt.date | None, period: Period) -> int:
    """Dates N with max(A, S) ≤ N ≤ min(D − 1 day, E) (no D: ≤ E)."""
    first = max(admitted, period.start)
    last = period.end if discharged is None else min(discharged - dt.timedelta(days=1), period.end)
    return max(0, (last - first).days + 1)


def occupied_at_end(admitted: dt.date, discharged: dt.date | None, period: Period) -> bool:
    return admitted <= period.end and (discharged is None or discharged > period.end)


def round_half_away(value: float | Decimal, places: int = 1) -> float:
    """Round halves away from zero (2.25 → 2.3, −2.25 → −2.3), unlike Python's round()."""
    d = Decimal(str(value))
    quantum = Decimal(1).scaleb(-places)
    rounded = abs(d).quantize(quantum, rounding=ROUND_HALF_UP)
    return float(rounded if d >= 0 else -rounded)


def average_stay(days: Iterable[int]) -> float | None:
    """Mean of D − A over stays discharged within the period, one decimal; None when none."""
    values = list(days)
    if not values:
        return None
    return round_half_away(Decimal(sum(values)) / Decimal(len(values)), 1)


# --- cases in a period (TIP-RETURN/1 "Case in scope", LineList columns) --------------------------

OPEN_CASE_STATUSES = ("Active", "FollowUp")


def case_status_changed_in(entries: Iterable[tuple[dt.date, int, str]], period: Period) -> bool:
    """The case status on some date D of the period differs from the status on D − 1 day.

    Entries that leave the status as it was (e.g. a same-day correction back) are no change.
    """
    history = list(entries)
    for day in sorted({e[0] for e in history if e[0] in period}):
        if status_on(history, day) != status_on(history, day - dt.timedelta(days=1)):
            return True
    return False


def case_in_scope(registered: dt.date, entries: Iterable[tuple[dt.date, int, str]], period: Period) -> bool:
    """Registered on or before the period end, and registered within the period, or Active or
    FollowUp on the day before the period start, or its case status changed within the period."""
    if registered > period.end:
        return False
    if registered in period:
        return True
    history = list(entries)
    if status_on(history, period.day_before_start) in OPEN_CASE_STATUSES:
        return True
    return case_status_changed_in(history, period)


def service_received_in(
    actual_start: dt.date | None, actual_end: dt.date | None, status: str, period: Period
) -> bool:
    """A service was received on at least one day of the period: it started on or before the
    period end and ended on or after its start. A service completed or cancelled without an end
    date counts on its start day only; one still planned or ongoing runs on (docs/returns.md)."""
    if actual_start is None or actual_start > period.end:
        return False
    if actual_end is not None:
        return actual_end >= period.start
    if status in ("Completed", "Cancelled"):
        return actual_start >= period.start
    return True


def followup_cancelled_by(cancelled_on: dt.date | None, status: str, day: dt.date) -> bool:
    """Cancelled on or before ``day``; a follow-up marked cancelled without a date counts as
    cancelled on every date."""
    if cancelled_on is not None:
        return cancelled_on <= day
    return status == "Cancelled"


def followup_due_in(due: dt.date, cancelled_on: dt.date | None, status: str, period: Period) -> bool:
    """Not cancelled (by the period end) and due within the period."""
    return due in period and not followup_cancelled_by(cancelled_on, status, period.end)


def followup_done_in(done: dt.date | None, period: Period) -> bool:
    return done is not None and done in period


def followup_overdue_at(
    due: dt.date, done: dt.date | None, cancelled_on: dt.date | None, status: str, day: dt.date
) -> bool:
    """Not cancelled (by ``day``), due before ``day`` and not done on or before it."""
    if followup_cancelled_by(cancelled_on, status, day):
        return False
    return due < day and (done is None or done > day)


def plan_active_at(started_on: dt.date, ended_on: dt.date | None, status: str, day: dt.date) -> bool:
    """A follow-up plan started on or before ``day`` and neither completed nor cancelled by then
    (a plan marked completed or cancelled without a date counts as ended on every date)."""
    if started_on > day:
        return False
    if ended_on is not None:
        return ended_on > day
    return status not in ("Completed", "Cancelled")


def identified_by(org_type: str | None, self_referral: bool) -> str:
    """HTCDS ``org_Type`` of the identifying organisation, else ``Self-referral``, else
    ``Unknown`` (a recorded organisation wins over a self-referral flag)."""
    if org_type:
        return org_type
    return vocab.SELF_REFERRAL if self_referral else vocab.UNKNOWN
