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
import re
from collections.abc import Sequence
from dataclasses import dataclass

from rapidfuzz.distance import OSA
from sqlalchemy import Select, and_, exists, false, func, or_, select, text
from sqlalchemy.orm import Session

from models import Case, FollowUp, Person, UserAccount, vocab
from tipdesk.errors import UsageError
from tipdesk.services.common import Page, can_see_pii, today
from tipdesk.services.persons import display_name
from tipdesk.vault.register import Register

#: Owner filter value for cases without an owner.
NO_OWNER = 0
MAX_LIMIT = 1000
MAX_WORDS = 8
_WORD = re.compile(r"[^\W_]+")

_c = Case.__table__.c
_p = Person.__table__.c

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
    overdue_followup: bool = False  # a follow-up not done, not cancelled, due before today


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


def _fts_ids(expression: str) -> Select:
    return select(text("rowid")).select_from(text("case_search")).where(
        text("case_search MATCH :fts_query").bindparams(fts_query=expression))


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


# --- filters and sorting -------------------------------------------------------------------------


def _conditions(f: CaseFilter, on: dt.date) -> list:
    conds: list = []
    if f.trafficking_status:
        conds.append(_c.trafficking_status.in_(f.trafficking_status))
    if f.case_status:
        conds.append(_c.case_status.in_(f.case_status))
    if f.sex:
        conds.append(_c.sex.in_(f.sex))
    if f.age_group:
        conds.append(_c.age_group.in_(f.age_group))
    if f.exploitation_category:
        flags = {
            "Sexual exploitation": _c.expl_sexual,
            "Forced labour": _c.expl_labour,
            vocab.OTHER_EXPLOITATION: _c.expl_other,
        }
        unknown = [x for x in f.exploitation_category if x not in flags]
        if unknown:
            raise UsageError(f"Unknown form of exploitation: {', '.join(unknown)}.")
        chosen = [flags[x].is_(True) for x in f.exploitation_category]
        conds.append(chosen[0] if len(chosen) == 1 else or_(*chosen))
    if f.registered_from is not None:
        conds.append(_c.registration_date >= f.registered_from)
    if f.registered_to is not None:
        conds.append(_c.registration_date <= f.registered_to)
    if f.owner_id is not None:
        conds.append(_c.owner_id.is_(None) if f.owner_id == NO_OWNER else _c.owner_id == f.owner_id)
    if f.overdue_followup:
        fu = FollowUp.__table__.c
        conds.append(exists().where(
            fu.case_id == _c.id, fu.done_date.is_(None), fu.cancelled_on.is_(None), fu.due_date < on))
    return conds


def _order(sort: str, descending: bool, pii: bool) -> list:
    if sort not in SORTS:
        raise UsageError(f"Cannot sort cases by '{sort}'.")
    if sort == "name" and not pii:
        sort = "case_number"
    keys = {
        "registration_date": [_c.registration_date],
        "case_number": [_c.case_number],
        "name": [func.lower(_p.family_names), func.lower(_p.given_names)],
        "trafficking_status": [_c.trafficking_status, _c.registration_date],
        "case_status": [_c.case_status, _c.registration_date],
        "age": [_c.age_at_registration],
        "sex": [_c.sex, _c.registration_date],
        "next_followup_due": [_c.next_followup_due],
    }[sort] + [_c.id]
    return [k.desc() for k in keys] if descending else [k.asc() for k in keys]


class _Query:
    """The WHERE clause of one list request (text resolved to an FTS expression or none)."""

    def __init__(self, s: Session, f: CaseFilter, pii: bool) -> None:
        self.pii = pii
        self.approximate = False
        self.conds = _conditions(f, today())
        self.empty = False
        words = words_of(f.text)
        if f.text.strip() and not words:
            self.empty = True  # only punctuation: nothing can match
        if words:
            column = None if pii else "case_number"
            expression = match_expression(words, column)
            assert expression is not None
            if pii and not s.execute(select(func.count()).select_from(
                    _fts_ids(expression).limit(1).subquery())).scalar():
                similar = _similar_words(s, words)
                if similar is not None and similar != [[w.casefold()] for w in words]:
                    expression = match_expression(similar, column)
                    self.approximate = True
            self.conds.append(_c.id.in_(_fts_ids(expression or "")))
        if self.empty:
            self.conds.append(false())

    def where(self):  # -> ColumnElement
        return and_(*self.conds) if self.conds else None


def _summary_columns(pii: bool) -> list:
    cols = [_c.id, _c.case_number, _c.registration_date, _c.sex, _c.age_at_registration,
            _c.age_group, _c.trafficking_status, _c.case_status, _c.exploitation, _c.scope,
            _c.owner_id, _c.next_followup_due, _c.high_risk, _p.citizenships]
    if pii:
        cols += [_p.given_names, _p.family_names, _p.aliases]
    return cols


def _summaries(s: Session, rows: Sequence, pii: bool) -> list[CaseSummary]:
    owner_ids = {r.owner_id for r in rows if r.owner_id is not None}
    owners = dict(s.execute(select(UserAccount.id, UserAccount.display_name)
                            .where(UserAccount.id.in_(owner_ids))).all()) if owner_ids else {}
    out = []
    for r in rows:
        citizenships = r.citizenships or []  # StrList: already a list
        name = display_name(r.given_names, r.family_names, r.aliases) if pii else ""
        out.append(CaseSummary(
            r.id, r.case_number, name, r.registration_date, r.sex, r.age_at_registration,
            r.age_group, r.trafficking_status, r.case_status, tuple(r.exploitation),
            citizenships[0] if citizenships else None, r.scope, owners.get(r.owner_id, ""),
            r.next_followup_due, bool(r.high_risk),
        ))
    return out


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
        where = q.where()
        stmt = (select(*_summary_columns(pii)).select_from(Case.__table__.join(
            Person.__table__, _p.id == _c.person_id)))
        if where is not None:
            stmt = stmt.where(where)
        rows = s.execute(stmt.order_by(*_order(sort, descending, pii)).offset(offset).limit(limit)).all()
        if offset == 0 and len(rows) < limit:
            total = len(rows)
        else:
            total = _count(s, where)
        return CasePage(tuple(_summaries(s, rows, pii)), total, offset, limit, q.approximate)


def _count(s: Session, where) -> int:
    stmt = select(func.count()).select_from(Case.__table__)
    if where is not None:
        stmt = stmt.where(where)
    return int(s.execute(stmt).scalar() or 0)


def count_cases(reg: Register, flt: CaseFilter = CaseFilter()) -> int:
    """How many cases match ``flt``."""
    reg.actor.require("case.read")
    with reg.read() as s:
        return _count(s, _Query(s, flt, can_see_pii(reg.actor)).where())


def case_ids(reg: Register, flt: CaseFilter = CaseFilter(), *, sort: str = "registration_date",
             descending: bool = True) -> list[int]:
    """The ids of every matching case, in order (for table models that fetch rows lazily)."""
    reg.actor.require("case.read")
    pii = can_see_pii(reg.actor)
    with reg.read() as s:
        q = _Query(s, flt, pii)
        where = q.where()
        stmt = select(_c.id).select_from(Case.__table__)
        if sort == "name" and pii:
            stmt = select(_c.id).select_from(Case.__table__.join(Person.__table__, _p.id == _c.person_id))
        if where is not None:
            stmt = stmt.where(where)
        return list(s.execute(stmt.order_by(*_order(sort, descending, pii))).scalars())


def summaries(reg: Register, ids: Sequence[int]) -> list[CaseSummary]:
    """List rows of the given cases, in the order given (missing ids are skipped)."""
    reg.actor.require("case.read")
    pii = can_see_pii(reg.actor)
    with reg.read() as s:
        rows = s.execute(select(*_summary_columns(pii)).select_from(
            Case.__table__.join(Person.__table__, _p.id == _c.person_id)).where(
            _c.id.in_(list(ids)))).all()
        by_id = {r.id: r for r in rows}
        ordered = [by_id[i] for i in ids if i in by_id]
        return _summaries(s, ordered, pii)

