"""The aggregate tables T1–T8, computed FROM the line list (and T5 from Stays and Facilities).

The writer calls these to fill the table sheets and the validator calls them to recompute the
tables of a file it reads, so that a return written by tipdesk agrees with itself by
construction and a changed table is caught.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from exports.returns import spec
from exports.returns.spec import GRID_COLUMNS, GRID_INDEX, FacilityRow, LineRow, StayRow, Table
from models import vocab
from tipdesk import counting
from tipdesk.counting import Period

_CATEGORY_OF_TYPE = {name: vocab.exploitation_category(name) for name in vocab.names(vocab.EXPLOITATION_TYPES)}


class _Grid:
    """Counts of cases by row category × (sex, age group), from a Counter of
    ``(category, sex, age_group)`` (counted in C: a year's line list has tens of thousands of rows)."""

    def __init__(self, counts: Counter | None = None) -> None:
        self.counts: dict[str, list[int]] = {}
        for (category, sex, group), n in (counts or Counter()).items():
            cells = self.counts.get(category)
            if cells is None:
                cells = self.counts[category] = [0] * len(spec.GRID_KEYS)
            cells[GRID_INDEX[(sex, group)]] += n

    def values(self, category: str) -> tuple[int, ...]:
        cells = self.counts.get(category) or [0] * len(spec.GRID_KEYS)
        return (*cells, sum(cells))

    def table(self, sheet: str, per_value: Iterable[str] = (), fixed: Sequence[str] = ()) -> Table:
        rows = [(name, self.values(name)) for name in sorted(set(per_value))
                if sum(self.counts.get(name, ())) > 0]
        rows += [(name, self.values(name)) for name in fixed]
        return Table(sheet, GRID_COLUMNS[:], tuple(rows))


def t2_categories(exploitation: Iterable[str]) -> set[str]:
    """The T2 rows a victim counts in: each UNODC category of its forms of exploitation, once."""
    return {_CATEGORY_OF_TYPE.get(t, vocab.OTHER_EXPLOITATION) for t in exploitation}


def scope_row(scope: str) -> str:
    """The T3 scope row of a victim: Domestic, Transnational, or Scope unknown."""
    return scope if scope in ("Domestic", "Transnational") else "Scope unknown"


def t3_row(citizenship: Sequence[str]) -> str:
    """The T3 row of a victim: the first-listed citizenship, else Unknown."""
    return citizenship[0] if citizenship else "Unknown"


@dataclass
class PersonCounts:
    """The counts behind T1–T4, each a Counter of ``(row, sex, age group)``: persons identified
    by status (T1), victims by UNODC category (T2), by citizenship and scope (T3) and by
    identifying organisation (T4); with the values that get a row of their own in T3 and T4."""

    t1: Counter = field(default_factory=Counter)
    t2: Counter = field(default_factory=Counter)
    t3: Counter = field(default_factory=Counter)
    t4: Counter = field(default_factory=Counter)
    citizenships: set[str] = field(default_factory=set)
    identifiers: set[str] = field(default_factory=set)

    def tables(self) -> dict[str, Table]:
        """T1–T4 from these counts, rows in the return's order."""
        return {
            spec.T1: _Grid(self.t1).table(spec.T1, fixed=spec.T1_ROWS),
            spec.T2: _Grid(self.t2).table(spec.T2, fixed=spec.T2_ROWS),
            spec.T3: _Grid(self.t3).table(spec.T3, per_value=self.citizenships, fixed=spec.T3_FIXED),
            spec.T4: _Grid(self.t4).table(spec.T4, per_value=self.identifiers, fixed=spec.T4_FIXED),
        }


def grid_tables(rows: Iterable[LineRow], activity: bool = True) -> dict[str, Table]:
    """T1–T4 and T6–T8 from the line list alone (``activity=False``: T1–T4 only, which never
    read the activity columns)."""
    rows = rows if isinstance(rows, (list, tuple)) else list(rows)
    identified = [r for r in rows if r.identified_in_period]
    victims = [r for r in identified if r.is_victim]
    counts = PersonCounts(
        t1=Counter((r.status, r.sex, r.age_group) for r in identified),
        t2=Counter((c, r.sex, r.age_group) for r in victims for c in t2_categories(r.exploitation)),
        t3=Counter((t3_row(r.citizenship), r.sex, r.age_group) for r in victims),
        t4=Counter((r.identified_by, r.sex, r.age_group) for r in victims),
        citizenships={r.citizenship[0] for r in victims if r.citizenship},
        identifiers={r.identified_by for r in victims if r.identified_by not in spec.T4_FIXED},
    )
    counts.t1.update((spec.TOTAL, r.sex, r.age_group) for r in identified)
    counts.t2.update(("Total victims", r.sex, r.age_group) for r in victims)
    counts.t3.update((scope_row(r.scope), r.sex, r.age_group) for r in victims)
    found = counts.tables()
    if not activity:
        return found
    t6 = Counter((s, r.sex, r.age_group) for r in rows for s in r.services_in_period)
    t7 = Counter()
    for flag, name in zip(("followups_due", "followups_done", "followups_overdue"), spec.T7_ROWS[:3], strict=True):
        t7.update((name, r.sex, r.age_group) for r in rows if getattr(r, flag) > 0)
    t7.update((spec.T7_ROWS[3], r.sex, r.age_group) for r in rows if r.active_followup)
    t7.update((spec.T7_ROWS[4], r.sex, r.age_group) for r in rows if r.closed is not None)
    t8 = Counter((stage, r.sex, r.age_group) for r in rows for stage in r.justice_in_period)
    services = {s for r in rows for s in r.services_in_period}
    found.update({
        spec.T6: _Grid(t6).table(spec.T6, per_value=services),
        spec.T7: _Grid(t7).table(spec.T7, fixed=spec.T7_ROWS),
        spec.T8: _Grid(t8).table(spec.T8, fixed=spec.T8_ROWS),
    })
    return found


def shelter_table(stays: Iterable[StayRow], facilities: Iterable[FacilityRow], period: Period) -> Table:
    """T5: one row per facility of ``Facilities`` sorted by code, zeros included, then Total."""
    facility_rows = sorted(facilities, key=lambda f: f.facility)
    counts = {f.facility: [0, 0, 0, 0] for f in facility_rows}
    lengths: dict[str, list[int]] = {f.facility: [] for f in facility_rows}
    for stay in stays:
        c = counts.setdefault(stay.facility, [0, 0, 0, 0])
        a, d = stay.admitted, stay.discharged
        if a in period:
            c[0] += 1
        if d is not None and d in period:
            c[1] += 1
            lengths.setdefault(stay.facility, []).append((d - a).days)
        c[2] += counting.bed_nights(a, d, period)
        if counting.occupied_at_end(a, d, period):
            c[3] += 1
    rows: list[tuple[str, tuple[spec.Value, ...]]] = []
    capacity = {f.facility: f.capacity for f in facility_rows}
    for f in facility_rows:
        c = counts[f.facility]
        rows.append((f.facility, (f.capacity, *c, counting.average_stay(lengths[f.facility]))))
    total = [sum(counts[f.facility][i] for f in facility_rows) for i in range(4)]
    all_lengths = [n for f in facility_rows for n in lengths[f.facility]]
    rows.append((spec.TOTAL, (sum(capacity.values()), *total, counting.average_stay(all_lengths))))
    return Table(spec.T5, spec.T5_COLUMNS, tuple(rows))


def all_tables(rows: Iterable[LineRow], stays: Iterable[StayRow], facilities: Iterable[FacilityRow],
               period: Period) -> dict[str, Table]:
    tables = grid_tables(rows)
    tables[spec.T5] = shelter_table(stays, facilities, period)
    return {sheet: tables[sheet] for sheet in spec.TABLE_SHEETS}


# --- suppression (publication copies) -------------------------------------------------------------

SUPPRESSED = "<5"


def suppress_count(value: spec.Value) -> spec.Value:
    """A count from 1 to 4 becomes the text ``<5``; zeros and counts ≥ 5 stay numbers."""
    if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 4:
        return SUPPRESSED
    return value


def suppress_table(table: Table) -> Table:
    """Suppress every count of a grid table, and T5's count columns (totals were computed
    before, so they are suppressed in the same way)."""
    if table.sheet == spec.T5:
        which = {table.columns.index(c) for c in spec.T5_COUNT_COLUMNS}
    else:
        which = set(range(len(table.columns)))
    rows = tuple(
        (name, tuple(suppress_count(v) if i in which else v for i, v in enumerate(values)))
        for name, values in table.rows
    )
    return Table(table.sheet, table.columns, rows)


def headline(tables: dict[str, Table], line_count: int | str) -> list[tuple[str, spec.Value]]:
    """The figures a person looks at first (for the Cover and the window)."""
    t1, t2, t5, t7 = tables[spec.T1], tables[spec.T2], tables[spec.T5], tables[spec.T7]
    total_col = "Total"
    children = None
    victims_total = t2.value("Total victims", total_col)
    victim_row = t2.row("Total victims")
    if victim_row is not None:
        child_cols = [GRID_COLUMNS.index(f"{s} 0-17") for s in ("Female", "Male", "Other", "Unknown sex")]
        parts = [victim_row[i] for i in child_cols]
        children = sum(p for p in parts if isinstance(p, int)) if all(isinstance(p, int) for p in parts) else None
    return [
        ("Cases in this return (line list rows)", line_count),
        ("Cases identified in the period", t1.value(spec.TOTAL, total_col)),
        ("of which victims (possible or actual)", victims_total),
        ("of which children (0-17)", children if children is not None else "see T2"),
        ("Victims of sexual exploitation", t2.value("Sexual exploitation", total_col)),
        ("Victims of forced labour", t2.value("Forced labour", total_col)),
        ("Victims of other forms of exploitation", t2.value("Other forms of exploitation", total_col)),
        ("Shelter admissions", t5.value(spec.TOTAL, "Admissions")),
        ("Shelter bed-nights", t5.value(spec.TOTAL, "Bed-nights")),
        ("Persons in shelter at period end", t5.value(spec.TOTAL, "Occupied at period end")),
        ("Cases with follow-ups overdue at period end", t7.value("Overdue at period end", total_col)),
        ("Cases closed in the period", t7.value("Closed in period", total_col)),
    ]
