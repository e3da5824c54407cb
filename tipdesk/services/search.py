"""Case lists and search: filtered, sorted and paged in SQL, with the total count.

Text search uses the register's full-text index (``case_search``, SQLite FTS5 inside the
encrypted file, kept current by triggers in the same transaction as the data). What a person
types is never passed to ``MATCH`` as is: it is cut into words, and each word becomes a quoted
prefix term (``"jose"*``), all of which must match. The index folds accents, so ``Jose`` finds
``José``. When the words find nothing, search tries names within one or two typing errors of
each word (``Jonh`` finds ``John``), and says so (``Page.approximate``).

Roles that may not see names (the secretariat analyst) get rows without names, and their text
search looks at case numbers only.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass

from rapidfuzz.distance import OSA
from sqlalchemy import TextClause, text
from sqlalchemy.orm import Session

from models import vocab
from tipdesk.errors import UsageError
from tipdesk.services.common import Page, can_see_pii, today
from tipdesk.services.persons import display_name
from tipdesk.vault.register import Register

#: Owner filter value for cases without an owner.
NO_OWNER = 0
MAX_LIMIT = 1000
MAX_WORDS = 8
_WORD = re.compile(r"[^\W_]+")

SORTS = ("registration_date", "case_number", "name", "trafficking_status", "case_status", "age",
         "sex", "next_followup_due")


@dataclass(frozen=True)
class CaseFilter:
    """What a case list shows; empty tuples and None mean "any"."""

    text: str = ""
    trafficking_status: tuple[str, ...] = ()
    case_status: tuple[str, ...] = ()
    sex: tuple[str, ...] = ()  # Female / Male / Other / Unknown
    age_group: tuple[str, ...] = ()  # 0-17 / 18+ / unknown
    exploitation_category: tuple[str, ...] = ()  # vocab.EXPLOITATION_CATEGORIES: any of them
    registered_from: dt.date | None = None
    registered_to: dt.date | None = None  # inclusive
    owner_id: int | None = None  # NO_OWNER: cases without an owner
    overdue_followup: bool = False  # a scheduled follow-up (not done, not cancelled) due before today


@dataclass(frozen=True)
class CaseSummary:
    """One row of a case list; ``name`` is blank for roles that may not see names."""

    id: int
    case_number: str
    name: str
    registration_date: dt.date
    sex: str
    age: int | None
    age_group: str
    trafficking_status: str
    case_status: str
    exploitation: tuple[str, ...]
    citizenship: str | None  # first-listed, ISO 3166-1 alpha-3
    scope: str
    owner_name: str
    next_followup_due: dt.date | None
    high_risk: bool

    @property
    def trafficking_status_label(self) -> str:
        return vocab.label(vocab.TRAFFICKING_STATUSES, self.trafficking_status)

    @property
    def case_status_label(self) -> str:
        return vocab.label(vocab.CASE_STATUSES, self.case_status)


@dataclass(frozen=True)
class CasePage(Page[CaseSummary]):
    """A page of cases; ``approximate`` when the text matched only with typing errors allowed."""

    approximate: bool = False


# --- the text query -----------------------------------------------------------------------------


def words_of(user_text: str) -> list[str]:
    """The words of a search box (letters and digits only), at most ``MAX_WORDS``."""
    return [w[:64] for w in _WORD.findall(user_text or "")][:MAX_WORDS]


def match_expression(words: Sequence[str | Sequence[str]], column: str | None = None) -> str | None:
    """An FTS5 query of quoted prefix terms, all required. A word may be a group of
    alternatives (any of them). Built only from ``words_of`` output: no user syntax survives."""
    if not words:
        return None
    prefix = f"{column} : " if column else ""
    parts = []
    for word in words:
        options = [word] if isinstance(word, str) else list(word)
        terms = [f'{prefix}"{w}"*' for w in options if _WORD.fullmatch(w)]
        if not terms:
            return None
        parts.append(terms[0] if len(terms) == 1 else "(" + " OR ".join(terms) + ")")
    return " AND ".join(parts)


def _similar_words(s: Session, words: list[str]) -> list[list[str]] | None:
    """For each word, names in the index within one or two typing errors (same first letter);
    None when some word has none."""
    conn = s.connection()
    # A per-connection view of the index vocabulary (temp: in memory, gone with the connection).
    conn.exec_driver_sql(
        "CREATE VIRTUAL TABLE IF NOT EXISTS temp.case_search_terms "
        "USING fts5vocab(main, case_search, 'col')")
    groups: list[list[str]] = []
    for word in words:
        folded = word.casefold()
        if folded.isdigit() or len(folded) < 3:
            groups.append([folded])
            continue
        first = folded[0]
        candidates = conn.exec_driver_sql(
            "SELECT term FROM temp.case_search_terms WHERE col = 'names' AND term >= ? AND term < ?",
            (first, chr(ord(first) + 1)),
        ).scalars().all()
        limit = 1 if len(folded) <= 5 else 2
        close = [t for t in candidates
                 if min(OSA.distance(folded, t), OSA.distance(folded, t[:len(folded)])) <= limit]
        if not close:
            return None
        close.sort(key=lambda t: (OSA.distance(folded, t[:len(folded)]), t))
        groups.append(close[:12])
    return groups


# --- filters, plans and sorting -----------------------------------------------------------------
#
# The SQL is written here rather than generated, because how SQLite walks a 100,000-case register
# matters more than anything else for a list: every page read costs a decryption. Values are
# always bound parameters; only fixed column and index names are put into the text.
#
# Plans (checked with EXPLAIN QUERY PLAN in the cases benchmark):
# - one trafficking status and one sex, newest first: ix_case_file_list gives the order;
# - other filters, newest first: walk ix_case_file_registration_date (it holds every filter
#   and sort column) from the newest and stop at the page's last row; other sorts scan it and
#   sort, still without reading case rows; by name: persons in name order, then their cases;
# - few possible matches (``FEW``: a rare word, few overdue follow-ups): look them up by id;
# - the total: a covering index scan, or the full-text index alone for a text without filters.
# A page query touches case_file only; persons are read for the rows of the page.

FEW = 400  # candidates looked up by id rather than found by walking an index
_FLAGS = {"Sexual exploitation": "expl_sexual", "Forced labour": "expl_labour",
          vocab.OTHER_EXPLOITATION: "expl_other"}
_FTS_IN = "c.id IN (SELECT rowid FROM case_search WHERE case_search MATCH :fts)"


class _Where:
    """The conditions of one list request, as SQL on ``case_file AS c`` and bound values."""

    def __init__(self, f: CaseFilter, on: dt.date) -> None:
        self.sql: list[str] = []
        self.params: dict[str, object] = {}
        self._in("trafficking_status", f.trafficking_status)
        self._in("case_status", f.case_status)
        self._in("sex", f.sex)
        self._in("age_group", f.age_group)
        if f.exploitation_category:
            unknown = [x for x in f.exploitation_category if x not in _FLAGS]
            if unknown:
                raise UsageError(f"Unknown form of exploitation: {', '.join(unknown)}.")
            flags = [f"c.{_FLAGS[x]} = 1" for x in dict.fromkeys(f.exploitation_category)]
            self.sql.append(flags[0] if len(flags) == 1 else "(" + " OR ".join(flags) + ")")
        if f.registered_from is not None:
            self.sql.append("c.registration_date >= :registered_from")
            self.params["registered_from"] = f.registered_from.isoformat()
        if f.registered_to is not None:
            self.sql.append("c.registration_date <= :registered_to")
            self.params["registered_to"] = f.registered_to.isoformat()
        if f.owner_id is not None:
            if f.owner_id == NO_OWNER:
                self.sql.append("c.owner_id IS NULL")
            else:
                self.sql.append("c.owner_id = :owner_id")
                self.params["owner_id"] = int(f.owner_id)
        if f.overdue_followup:
            # From the follow-up queue index (status, due date).
            self.sql.append(f"c.id IN ({_OVERDUE_CASES})")
            self.params["today"] = on.isoformat()
        self.ordered_by_list_index = len(f.trafficking_status) == 1 and len(f.sex) == 1

    def _in(self, column: str, values: tuple[str, ...]) -> None:
        if not values:
            return
        names = []
        for i, value in enumerate(dict.fromkeys(values)):
            key = f"{column}_{i}"
            self.params[key] = value
            names.append(f":{key}")
        self.sql.append(f"c.{column} = {names[0]}" if len(names) == 1 else f"c.{column} IN ({', '.join(names)})")

    def clause(self, extra: list[str] | None = None) -> str:
        parts = self.sql + (extra or [])
        return (" WHERE " + " AND ".join(parts)) if parts else ""


_ORDER = {
    "registration_date": ["c.registration_date"],
    "case_number": ["c.case_number"],
    "name": ["p.name_key"],  # folded: accents and case do not change the order
    "trafficking_status": ["c.trafficking_status", "c.registration_date"],
    "case_status": ["c.case_status", "c.registration_date"],
    "age": ["c.age_at_registration"],
    "sex": ["c.sex", "c.registration_date"],
    "next_followup_due": ["c.next_followup_due"],
}


def _order_by(sort: str, descending: bool, pii: bool) -> tuple[str, str]:
    """The ORDER BY clause and the sort actually used."""
    if sort not in SORTS:
        raise UsageError(f"Cannot sort cases by '{sort}'.")
    if sort == "name" and not pii:
        sort = "case_number"
    direction = " DESC" if descending else ""
    keys = _ORDER[sort] + ["c.id"]
    return " ORDER BY " + ", ".join(k + direction for k in keys), sort


class _Query:
    """One list request resolved: conditions, the text's FTS expression and its hit count."""

    def __init__(self, s: Session, f: CaseFilter, pii: bool) -> None:
        self.where = _Where(f, today())
        self.approximate = False
        self.fts_hits: int | None = None
        self.overdue: int | None = None
        self.nothing = False
        if f.overdue_followup:
            self.overdue = int(s.execute(_OVERDUE_COUNT, {"today": self.where.params["today"]}).scalar() or 0)
        words = words_of(f.text)
        if f.text.strip() and not words:
            self.nothing = True  # only punctuation: nothing can match
            return
        if not words:
            return
        column = None if pii else "case_number"
        expression = match_expression(words, column)
        assert expression is not None
        hits = _fts_count(s, expression)
        if hits == 0 and pii:
            similar = _similar_words(s, words)
            if similar is not None and similar != [[w.casefold()] for w in words]:
                expression = match_expression(similar, column) or expression
                hits = _fts_count(s, expression)
                self.approximate = hits > 0
        self.where.params["fts"] = expression
        self.fts_hits = hits
        if hits == 0:
            self.nothing = True

    @property
    def text_only(self) -> bool:
        return self.fts_hits is not None and not self.where.sql

    def source(self, sort: str) -> str:
        """``case_file AS c`` with the access path this request should take (whatever the
        planner's statistics say: a register grows without ANALYZE)."""
        if self.few_hits:
            return "case_file AS c NOT INDEXED"  # the few candidates, by id
        if self.where.ordered_by_list_index and sort in ("registration_date", "count"):
            return "case_file AS c INDEXED BY ix_case_file_list"
        if sort == "count" and not self.where.sql:
            return "case_file AS c"  # count(*) of a whole table: SQLite's own shortcut
        # Every filter and sort column is in this index: a scan of it (and a sort) never reads
        # a case row.
        return "case_file AS c INDEXED BY ix_case_file_registration_date"

    @property
    def few_hits(self) -> bool:
        """Few cases can match at all (a rare word, or few overdue follow-ups): look them up."""
        return ((self.fts_hits is not None and self.fts_hits <= FEW)
                or (self.overdue is not None and self.overdue <= FEW))

    def conditions(self) -> list[str]:
        return [_FTS_IN] if self.fts_hits is not None else []


_OVERDUE_CASES = ("SELECT f.case_id FROM followup AS f WHERE f.status = 'Scheduled' "
                  "AND f.due_date < :today AND f.done_date IS NULL AND f.cancelled_on IS NULL")
_OVERDUE_COUNT = text(f"SELECT count(DISTINCT case_id) FROM ({_OVERDUE_CASES})")
_FTS_COUNT = text("SELECT count(*) FROM case_search WHERE case_search MATCH :q")


def _fts_count(s: Session, expression: str) -> int:
    return int(s.execute(_FTS_COUNT, {"q": expression}).scalar() or 0)


@functools.lru_cache(maxsize=256)
def _sql(statement: str) -> TextClause:
    """A compiled ``text()`` per distinct statement (statements are built from fixed parts)."""
    return text(statement)


def _page_sql(q: _Query, sort: str, descending: bool, pii: bool) -> tuple[str, str]:
    """The ids of a page, in order (no person is read unless sorting by name)."""
    order, sort = _order_by(sort, descending, pii)
    if sort == "name" and not q.few_hits:
        # Persons in name order, then their cases: the page's first rows come first.
        source = ("person AS p INDEXED BY ix_person_name_key "
                  "CROSS JOIN case_file AS c ON c.person_id = p.id")
    elif sort == "name":
        source = f"{q.source(sort)} JOIN person AS p ON p.id = c.person_id"
    else:
        source = q.source(sort)
    return (f"SELECT c.id FROM {source}{q.where.clause(q.conditions())}{order}"
            " LIMIT :limit OFFSET :offset"), order


def _page_ids(s: Session, q: _Query, sort: str, descending: bool, pii: bool, offset: int,
              limit: int) -> list[int]:
    sql, _ = _page_sql(q, sort, descending, pii)
    # Up to every id of the register: straight from the driver (named parameters are the
    # driver's own style too), without a result object per row.
    cursor = s.connection().exec_driver_sql(sql, {**q.where.params, "limit": limit, "offset": offset})
    return [row[0] for row in cursor.cursor.fetchall()]


_ROW_COLUMNS = (
    "c.id, c.case_number, c.registration_date, c.sex, c.age_at_registration, c.age_group, "
    "c.trafficking_status, c.case_status, "
    "(SELECT group_concat(value, char(31)) FROM json_each(c.exploitation)) AS exploitation, "
    "c.scope, coalesce(o.display_name, '') AS owner_name, c.next_followup_due, c.high_risk, "
    "json_extract(p.citizenships, '$[0]') AS citizenship")
_NAME_COLUMNS = ", p.given_names, p.family_names, json_extract(p.aliases, '$[0]') AS alias"


def _page_rows(s: Session, q: _Query, sort: str, descending: bool, pii: bool, offset: int,
               limit: int) -> list[CaseSummary]:
    """One statement: the page's ids by the planned path, then their rows, persons and owners
    (SQLite does not flatten a subquery with LIMIT into a join, so the plan stays)."""
    inner, order = _page_sql(q, sort, descending, pii)
    sql = (f"SELECT {_ROW_COLUMNS}{_NAME_COLUMNS if pii else ''} FROM ({inner}) AS page "
           "CROSS JOIN case_file AS c ON c.id = page.id CROSS JOIN person AS p ON p.id = c.person_id "
           f"LEFT JOIN user_account AS o ON o.id = c.owner_id{order}")
    rows = s.execute(_sql(sql), {**q.where.params, "limit": limit, "offset": offset}).all()
    return [_summary(r, pii) for r in rows]


def _summary(r, pii: bool) -> CaseSummary:  # noqa: ANN001  (a result row)
    name = display_name(r.given_names, r.family_names, (r.alias,) if r.alias else ()) if pii else ""
    return CaseSummary(
        r.id, r.case_number, name, dt.date.fromisoformat(r.registration_date), r.sex,
        r.age_at_registration, r.age_group, r.trafficking_status, r.case_status,
        tuple(r.exploitation.split("\x1f")) if r.exploitation else (), r.citizenship, r.scope,
        r.owner_name, dt.date.fromisoformat(r.next_followup_due) if r.next_followup_due else None,
        bool(r.high_risk),
    )


def _count(s: Session, q: _Query) -> int:
    if q.nothing:
        return 0
    if q.text_only:
        return int(q.fts_hits or 0)
    sql = f"SELECT count(*) FROM {q.source('count')}{q.where.clause(q.conditions())}"
    return int(s.execute(_sql(sql), q.where.params).scalar() or 0)


def _summary_rows(s: Session, ids: Sequence[int], pii: bool) -> list[CaseSummary]:
    """List rows of ``ids`` in that order."""
    if not ids:
        return []
    sql = (f"SELECT {_ROW_COLUMNS}{_NAME_COLUMNS if pii else ''} FROM case_file AS c "
           "JOIN person AS p ON p.id = c.person_id LEFT JOIN user_account AS o ON o.id = c.owner_id "
           "WHERE c.id IN (SELECT value FROM json_each(:ids))")
    by_id = {r.id: _summary(r, pii) for r in s.execute(_sql(sql), {"ids": json.dumps(list(ids))})}
    return [by_id[i] for i in ids if i in by_id]


def list_cases(
    reg: Register, flt: CaseFilter = CaseFilter(), *, sort: str = "registration_date",
    descending: bool = True, offset: int = 0, limit: int = 100,
) -> CasePage:
    """One page of cases matching ``flt``, sorted, with the total count."""
    reg.actor.require("case.read")
    if not 1 <= limit <= MAX_LIMIT or offset < 0:
        raise UsageError(f"A page holds 1 to {MAX_LIMIT} rows from a non-negative offset.")
    pii = can_see_pii(reg.actor)
    with reg.read() as s:
        q = _Query(s, flt, pii)
        if q.nothing:
            return CasePage((), 0, offset, limit, q.approximate)
        rows = _page_rows(s, q, sort, descending, pii, offset, limit)
        total = offset + len(rows) if len(rows) < limit and (rows or offset == 0) else _count(s, q)
        return CasePage(tuple(rows), total, offset, limit, q.approximate)


def count_cases(reg: Register, flt: CaseFilter = CaseFilter()) -> int:
    """How many cases match ``flt``."""
    reg.actor.require("case.read")
    with reg.read() as s:
        return _count(s, _Query(s, flt, can_see_pii(reg.actor)))


def case_ids(reg: Register, flt: CaseFilter = CaseFilter(), *, sort: str = "registration_date",
             descending: bool = True) -> list[int]:
    """The ids of every matching case, in order (for table models that fetch rows lazily)."""
    reg.actor.require("case.read")
    pii = can_see_pii(reg.actor)
    with reg.read() as s:
        q = _Query(s, flt, pii)
        if q.nothing:
            return []
        return _page_ids(s, q, sort, descending, pii, 0, -1)


def summaries(reg: Register, ids: Sequence[int]) -> list[CaseSummary]:
    """List rows of the given cases, in the order given (missing ids are skipped)."""
    reg.actor.require("case.read")
    with reg.read() as s:
        return _summary_rows(s, [int(i) for i in ids], can_see_pii(reg.actor))
