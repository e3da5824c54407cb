"""TIP-RETURN/1 as constants and plain data: sheet names, header texts, fixed rows, picklists,
and the typed rows a return is made of. Writer, reader and validator all use these, so that
there is one place where the standard's texts are spelled.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import NamedTuple

from models import vocab
from models.countries import COUNTRIES

SCHEMA = "TIP-RETURN"
SCHEMA_VERSION = "1"
KNOWN_VERSIONS = ("1",)
SOFTWARE = "tipdesk"

# --- limits (see docs/returns.md "Limits") --------------------------------------------------------
#: The standard allows files up to 100 MB; tipdesk accepts exactly that (a conforming return must
#: never be refused: one at the 500,000-row limit written by tipdesk itself is about 61 MB).
MAX_FILE_BYTES = 100 * 1000 * 1000
MAX_INFLATED_BYTES = 2 * 1024 * 1024 * 1024
MAX_LINE_ROWS = 500_000
MAX_ZIP_ENTRIES = 10_000

# --- sheets ----------------------------------------------------------------------------------------
COVER = "Cover"
T1, T2, T3, T4, T5, T6, T7, T8 = (
    "T1_Status", "T2_Exploitation", "T3_Citizenship", "T4_Identification",
    "T5_Shelter", "T6_Services", "T7_FollowUp", "T8_Justice",
)
TABLE_SHEETS = (T1, T2, T3, T4, T5, T6, T7, T8)
GRID_SHEETS = (T1, T2, T3, T4, T6, T7, T8)
LINELIST, STAYS, FACILITIES, META = "LineList", "Stays", "Facilities", "_meta"
SHEETS = (COVER, *TABLE_SHEETS, LINELIST, STAYS, FACILITIES, META)
SUPPRESSED_SHEETS = (COVER, *TABLE_SHEETS, FACILITIES, META)
#: Sheets the digest covers, in digest order (those present).
DIGEST_ORDER = (*TABLE_SHEETS, LINELIST, STAYS, FACILITIES, META)

TABLE_TITLES = {
    T1: "T1 — Cases identified in the period, by trafficking status at period end",
    T2: "T2 — Victims identified in the period, by form of exploitation",
    T3: "T3 — Victims identified in the period, by citizenship and scope",
    T4: "T4 — Victims identified in the period, by identifying organisation",
    T5: "T5 — Shelter: capacity, admissions, discharges, bed-nights, occupancy",
    T6: "T6 — Cases in the return that received a service in the period, by service",
    T7: "T7 — Follow-up of cases in the return",
    T8: "T8 — Criminal-justice stages reached in the period",
}

# --- columns ---------------------------------------------------------------------------------------
CATEGORY = "Category"
SEXES = ("Female", "Male", "Other", "Unknown")
AGE_GROUPS = ("0-17", "18+", "unknown")
_SEX_HEAD = {"Female": "Female", "Male": "Male", "Other": "Other", "Unknown": "Unknown sex"}
_AGE_HEAD = {"0-17": "0-17", "18+": "18+", "unknown": "age unknown"}
#: (sex, age_group) of each grid column, in the standard's order, then ``Total``.
GRID_KEYS = tuple((s, a) for s in SEXES for a in AGE_GROUPS)
GRID_COLUMNS = tuple(f"{_SEX_HEAD[s]} {_AGE_HEAD[a]}" for s, a in GRID_KEYS) + ("Total",)
GRID_INDEX = {key: i for i, key in enumerate(GRID_KEYS)}

T5_COLUMNS = ("Capacity", "Admissions", "Discharges", "Bed-nights", "Occupied at period end",
              "Average stay of discharged (days)")
T5_COUNT_COLUMNS = ("Admissions", "Discharges", "Bed-nights", "Occupied at period end")
AVERAGE_COLUMN = T5_COLUMNS[-1]

LINE_COLUMNS = (
    "case_key", "person_key", "registered", "identified_in_period", "status",
    "status_decided_by", "sex", "age_group", "age", "citizenship", "scope", "exploitation",
    "labour_industry", "sex_exploitation", "methods_of_control", "relationship_to_trafficker",
    "identified_by", "services_in_period", "followups_due", "followups_done",
    "followups_overdue", "active_followup", "justice_in_period", "case_status", "closed",
)
MULTI_SORTED = ("exploitation", "sex_exploitation", "methods_of_control", "services_in_period",
                "justice_in_period")
STAY_COLUMNS = ("case_key", "facility", "admitted", "discharged", "discharge_reason")
FACILITY_COLUMNS = ("facility", "name", "capacity", "child_friendly")

META_KEYS = (
    "schema", "schema_version", "org_code", "org_name", "org_type", "country", "period",
    "period_start", "period_end", "generated_at", "software", "software_version", "suppressed",
    "linkage_key_id", "line_count", "stay_count", "digest_algorithm", "digest",
)

# --- fixed rows ------------------------------------------------------------------------------------
POSSIBLE, ACTUAL, NOT_VICTIM = ("PossibleVictimOfTrafficking", "ActualVictimOfTrafficking",
                                "NotAVictimOfTrafficking")
VICTIM_STATUSES = frozenset({POSSIBLE, ACTUAL})
T1_ROWS = (POSSIBLE, ACTUAL, NOT_VICTIM, "Total")
T2_ROWS = ("Sexual exploitation", "Forced labour", "Other forms of exploitation", "Total victims")
T3_FIXED = ("Unknown", "Domestic", "Transnational", "Scope unknown")
T4_FIXED = (vocab.SELF_REFERRAL, vocab.UNKNOWN)
T7_ROWS = ("Follow-ups due in period", "Follow-ups done in period", "Overdue at period end",
           "In active follow-up at period end", "Closed in period")
T8_ROWS = tuple(vocab.names(vocab.JUSTICE_STAGES))
TOTAL = "Total"

# --- picklists -------------------------------------------------------------------------------------
TRAFFICKING_STATUSES = frozenset(vocab.names(vocab.TRAFFICKING_STATUSES))
DECISION_BODIES = frozenset(vocab.names(vocab.DECISION_BODIES))
CASE_STATUSES = frozenset(vocab.names(vocab.CASE_STATUSES))
CLOSED_STATUSES = frozenset({"Closed", "ClosedReferred"})
ORG_TYPES = frozenset(vocab.names(vocab.ORG_TYPES))
IDENTIFIED_BY = ORG_TYPES | {vocab.SELF_REFERRAL, vocab.UNKNOWN}
SCOPES = frozenset(vocab.names(vocab.SCOPES))
COUNTRY_CODES = frozenset(COUNTRIES)
PICKLISTS: dict[str, frozenset[str]] = {
    "status": TRAFFICKING_STATUSES,
    "status_decided_by": DECISION_BODIES,
    "sex": frozenset(SEXES),
    "age_group": frozenset(AGE_GROUPS),
    "citizenship": COUNTRY_CODES,
    "scope": SCOPES,
    "exploitation": frozenset(vocab.names(vocab.EXPLOITATION_TYPES)),
    "labour_industry": frozenset(vocab.names(vocab.LABOUR_INDUSTRIES)),
    "sex_exploitation": frozenset(vocab.names(vocab.SEX_EXPLOITATION_TYPES)),
    "methods_of_control": frozenset(vocab.names(vocab.METHODS_OF_CONTROL)),
    "relationship_to_trafficker": frozenset(vocab.names(vocab.RELATIONSHIPS)),
    "identified_by": IDENTIFIED_BY,
    "services_in_period": frozenset(vocab.names(vocab.SERVICE_TYPES)),
    "justice_in_period": frozenset(T8_ROWS),
    "case_status": CASE_STATUSES,
    "discharge_reason": frozenset(vocab.names(vocab.DISCHARGE_REASONS)),
}

HEX16 = re.compile(r"[0-9a-f]{16}")
HEX32 = re.compile(r"[0-9a-f]{32}")
HEX8 = re.compile(r"[0-9a-f]{8}")
HEX64 = re.compile(r"[0-9a-f]{64}")
ORG_CODE = re.compile(r"[A-Z0-9]{2,10}")
DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
GENERATED_AT = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")
#: Characters a cell never holds: writers replace each with one space. Tabs, CR and LF are the
#: standard's; the other C0 controls cannot be stored in an XML part at all.
FORBIDDEN_CHARS = re.compile(r"[\x00-\x1f]")
FORMULA_STARTS = ("=", "+", "-", "@")


def file_name(org_code: str, period_code: str) -> str:
    return f"TIPRETURN_{org_code}_{period_code}.xlsx"


# --- typed rows ------------------------------------------------------------------------------------


class LineRow(NamedTuple):
    """One row of ``LineList`` (one case in scope), typed.

    A named tuple rather than a frozen dataclass: returns hold up to 500,000 of them, and a
    tuple is made in one step where a frozen dataclass sets each of its 25 fields in turn.
    """

    case_key: str
    person_key: str
    registered: dt.date
    identified_in_period: bool
    status: str
    status_decided_by: str
    sex: str
    age_group: str
    age: int | None
    citizenship: tuple[str, ...]
    scope: str
    exploitation: tuple[str, ...]
    labour_industry: str
    sex_exploitation: tuple[str, ...]
    methods_of_control: tuple[str, ...]
    relationship_to_trafficker: str
    identified_by: str
    services_in_period: tuple[str, ...]
    followups_due: int
    followups_done: int
    followups_overdue: int
    active_followup: bool
    justice_in_period: tuple[str, ...]
    case_status: str
    closed: dt.date | None

    @property
    def is_victim(self) -> bool:
        return self.status in VICTIM_STATUSES

    def cells(self) -> list[str | int | None]:
        """The row's cell values as written (None = empty cell), in ``LINE_COLUMNS`` order."""
        return [
            self.case_key, self.person_key or None, self.registered.isoformat(),
            "Y" if self.identified_in_period else "N", self.status,
            self.status_decided_by or None, self.sex, self.age_group, self.age,
            ";".join(self.citizenship) or None, self.scope, ";".join(self.exploitation) or None,
            self.labour_industry or None, ";".join(self.sex_exploitation) or None,
            ";".join(self.methods_of_control) or None, self.relationship_to_trafficker or None,
            self.identified_by, ";".join(self.services_in_period) or None, self.followups_due,
            self.followups_done, self.followups_overdue, "Y" if self.active_followup else "N",
            ";".join(self.justice_in_period) or None, self.case_status,
            self.closed.isoformat() if self.closed else None,
        ]


class StayRow(NamedTuple):
    """One row of ``Stays``, typed (a named tuple, like ``LineRow``)."""

    case_key: str
    facility: str
    admitted: dt.date
    discharged: dt.date | None
    discharge_reason: str

    def sort_key(self) -> tuple[str, str, str]:
        return (self.case_key, self.admitted.isoformat(), self.facility)

    def cells(self) -> list[str | None]:
        return [self.case_key, self.facility, self.admitted.isoformat(),
                self.discharged.isoformat() if self.discharged else None,
                self.discharge_reason or None]


@dataclass(frozen=True, slots=True)
class FacilityRow:
    facility: str
    name: str
    capacity: int
    child_friendly: bool

    def cells(self) -> list[str | int]:
        return [self.facility, self.name, self.capacity, "Y" if self.child_friendly else "N"]


Value = int | float | str | None  # a table cell: a count, T5's average, "<5" when suppressed, empty


@dataclass(frozen=True)
class Table:
    """One aggregate sheet: ``rows`` are ``(category, values)`` with values in ``columns`` order
    (the columns after ``Category``)."""

    sheet: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str, tuple[Value, ...]], ...]

    @property
    def title(self) -> str:
        return TABLE_TITLES[self.sheet]

    def row(self, category: str) -> tuple[Value, ...] | None:
        for name, values in self.rows:
            if name == category:
                return values
        return None

    def value(self, category: str, column: str) -> Value:
        values = self.row(category)
        return None if values is None else values[self.columns.index(column)]


@dataclass(frozen=True)
class ReturnMeta:
    """The ``_meta`` sheet, typed. ``digest`` is empty until the file is written."""

    org_code: str
    org_name: str
    org_type: str
    country: str
    period: str
    period_start: dt.date
    period_end: dt.date
    generated_at: dt.datetime
    software: str
    software_version: str
    suppressed: bool
    linkage_key_id: str
    line_count: int | str  # "<5" only in a suppressed copy
    stay_count: int | str
    digest: str = ""
    schema: str = SCHEMA
    schema_version: str = SCHEMA_VERSION
    digest_algorithm: str = "sha256"

    def rows(self) -> list[tuple[str, str | int]]:
        """``(key, value)`` in the standard's order, the digest last."""
        values: dict[str, str | int] = {
            "schema": self.schema, "schema_version": self.schema_version,
            "org_code": self.org_code, "org_name": self.org_name, "org_type": self.org_type,
            "country": self.country, "period": self.period,
            "period_start": self.period_start.isoformat(), "period_end": self.period_end.isoformat(),
            "generated_at": self.generated_at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "software": self.software, "software_version": self.software_version,
            "suppressed": "Y" if self.suppressed else "N", "linkage_key_id": self.linkage_key_id,
            "line_count": self.line_count, "stay_count": self.stay_count,
            "digest_algorithm": self.digest_algorithm, "digest": self.digest,
        }
        return [(key, values[key]) for key in META_KEYS]


@dataclass(frozen=True)
class Return:
    """A return as read and validated: what consolidation builds on."""

    meta: ReturnMeta
    tables: dict[str, Table]
    line_list: tuple[LineRow, ...] = ()
    stays: tuple[StayRow, ...] = ()
    facilities: tuple[FacilityRow, ...] = ()
    notes: tuple[str, ...] = field(default=())

    @property
    def suppressed(self) -> bool:
        return self.meta.suppressed
