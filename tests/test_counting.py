"""TIP-RETURN/1 counting rules, with expected numbers worked out by hand."""

from __future__ import annotations

import datetime as dt

import pytest

from tipdesk import counting as c
from tipdesk.errors import UsageError

D = dt.date


def test_periods():
    q3 = c.parse_period("2026-Q3")
    assert (q3.start, q3.end) == (D(2026, 7, 1), D(2026, 9, 30))
    assert c.parse_period("2024-Q1").end == D(2024, 3, 31)
    assert c.parse_period("2026-Q4").end == D(2026, 12, 31)
    assert c.parse_period(" 2026 ").end == D(2026, 12, 31)
    assert D(2026, 9, 30) in q3 and D(2026, 10, 1) not in q3
    assert c.last_complete_quarter(D(2026, 11, 23)).code == "2026-Q3"
    assert c.last_complete_quarter(D(2026, 2, 1)).code == "2025-Q4"
    for bad in ("2026-Q5", "26-Q1", "2026Q1", "2026-q1", ""):
        with pytest.raises(UsageError):
            c.parse_period(bad)


def test_age_and_leap_day_birthdays():
    assert c.whole_years(D(2008, 2, 29), D(2026, 2, 28)) == 17
    assert c.whole_years(D(2008, 2, 29), D(2026, 3, 1)) == 18
    assert c.age_at(D(2026, 7, 1), D(2008, 7, 2)) == 17
    assert c.age_at(D(2026, 7, 2), D(2008, 7, 2)) == 18
    # estimated 16 on 2025-08-15 → 17 on 2026-08-15, still 16 the day before
    assert c.age_at(D(2026, 8, 14), None, 16, D(2025, 8, 15)) == 16
    assert c.age_at(D(2026, 8, 15), None, 16, D(2025, 8, 15)) == 17
    assert c.age_at(D(2026, 1, 1), None) is None
    assert [c.age_group(a) for a in (0, 17, 18, None)] == ["0-17", "0-17", "18+", "unknown"]


def test_sex_and_exploitation_categories():
    assert c.sex_of_gender("TransgenderMasculine") == "Other"
    assert c.sex_of_gender(None) == "Unknown"
    assert c.sex_of_gender("NonSpecifiedUnknown") == "Unknown"
    assert c.exploitation_categories(["ChildLabour", "Servitude", "ForcedBegging"]) == {
        "Forced labour", "Other forms of exploitation"}


def test_scope():
    assert c.derive_scope("JAM", "JAM", ["JAM", None]) == "Domestic"
    assert c.derive_scope("JAM", "JAM", ["HTI"]) == "Transnational"
    assert c.derive_scope("JAM", "VEN", []) == "Transnational"
    assert c.derive_scope("JAM", None, [None]) == "Unknown"


def test_status_on_takes_the_latest_entry_and_breaks_ties_by_entry_order():
    history = [(D(2026, 1, 5), 1, "PossibleVictimOfTrafficking"),
               (D(2026, 3, 1), 3, "NotAVictimOfTrafficking"),
               (D(2026, 3, 1), 2, "ActualVictimOfTrafficking")]
    assert c.status_on(history, D(2026, 1, 4)) is None
    assert c.status_on(history, D(2026, 2, 28)) == "PossibleVictimOfTrafficking"
    assert c.status_on(history, D(2026, 3, 1)) == "NotAVictimOfTrafficking"


def test_closure_date():
    q = c.parse_period("2026-Q2")
    h = [(D(2026, 1, 1), 1, "Active"), (D(2026, 4, 10), 2, "Closed"), (D(2026, 5, 1), 3, "ClosedReferred")]
    assert c.closure_date(h, q) == D(2026, 4, 10)
    reopened = h + [(D(2026, 6, 1), 4, "Active")]
    assert c.closure_date(reopened, q) is None
    assert c.closure_date([(D(2025, 1, 1), 1, "Active"), (D(2025, 12, 1), 2, "Closed")], q) is None


def test_bed_nights_and_occupancy():
    q = c.parse_period("2026-Q1")  # 90 days
    assert c.bed_nights(D(2025, 12, 1), None, q) == 90  # spans the whole period
    assert c.bed_nights(D(2026, 3, 31), None, q) == 1  # the night starting on E counts
    assert c.bed_nights(D(2026, 2, 10), D(2026, 2, 10), q) == 0  # same-day discharge
    assert c.bed_nights(D(2026, 2, 10), D(2026, 2, 13), q) == 3
    assert c.bed_nights(D(2026, 3, 30), D(2026, 5, 1), q) == 2
    assert c.occupied_at_end(D(2026, 3, 30), D(2026, 5, 1), q)
    assert not c.occupied_at_end(D(2026, 3, 30), D(2026, 3, 31), q)
    assert c.stay_overlaps(D(2025, 12, 1), D(2026, 1, 1), q)
    assert not c.stay_overlaps(D(2025, 12, 1), D(2025, 12, 31), q)


def test_average_stay_rounds_halves_away_from_zero():
    assert c.average_stay([]) is None
    assert c.average_stay([1, 2]) == 1.5
    assert c.average_stay([1, 1, 2, 2, 2, 2, 2, 2]) == 1.8  # 1.75 → 1.8
    assert c.round_half_away(2.25) == 2.3 and c.round_half_away(-2.25) == -2.3
    assert c.round_half_away(0.05) == 0.1
