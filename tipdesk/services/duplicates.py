"""The duplicate warning at intake: persons already in the register who may be the one being
entered — similar names (typing errors, given and family names swapped, accents, aliases) with
a compatible birth date or age and sex — ranked by a score from 0 to 100.

Two stages keep it fast at 100,000 persons: SQL picks candidates (a name word sharing its first
three letters, through the accent-folding full-text index; a compatible sex; a birth date
within two years, on the same day and month, or unknown), then rapidfuzz scores them. The worker
then links the new case to an existing person (``cases.register_case(person_id=…)``) or
confirms a new one (``dismissed_duplicates=…`` keeps the decision in the audit trail).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from rapidfuzz import fuzz
from sqlalchemy import and_, or_, select, text
from sqlalchemy.orm import Session

from models import Case, Person
from tipdesk import counting
from tipdesk.names import alias_keys, fold, tokens
from tipdesk.services.common import today
from tipdesk.services.persons import PersonInput, display_name
from tipdesk.services.search import match_expression
from tipdesk.vault.register import Register

#: A candidate is shown when its name scores at least this…
NAME_THRESHOLD = 75
#: …and its overall score at least this.
SCORE_THRESHOLD = 65
_WEIGHTS = (0.7, 0.2, 0.1)  # name, birth date or age, sex


@dataclass(frozen=True)
class DuplicateCandidate:
    person_id: int
    name: str
    aliases: tuple[str, ...]
    birth_date: dt.date | None
    age: int | None  # today, from the birth date or the estimate
    sex: str
    case_numbers: tuple[str, ...]
    latest_case_id: int
    score: int  # 0–100
    name_score: int
    reasons: tuple[str, ...]  # plain words, e.g. "Same birth date"


@dataclass
class _Row:
    id: int
    given: str
    family: str
    aliases: list[str]
    birth: dt.date | None
    est: int | None
    est_on: dt.date | None
    gender: str


def _block_words(person: PersonInput) -> list[str]:
    words = tokens(person.given_names, person.family_names, *person.aliases)
    return sorted({w[:3] for w in words if w})


def _name_score(query: list[str], variants: list[str]) -> tuple[int, str]:
    best, why = 0.0, ""
    for qi, q in enumerate(query):
        for vi, v in enumerate(variants):
            sorted_ = fuzz.token_sort_ratio(q, v)
            set_ = fuzz.token_set_ratio(q, v) - 10  # a shared subset of names is weaker evidence
            score = max(sorted_, set_)
            if score > best:
                best = score
                if q == v:
                    why = "Same name" if vi == 0 and qi == 0 else "Same name as an alias"
                elif vi > 0 or qi > 0:
                    why = f"Name similar to an alias ({round(score)}%)"
                elif sorted_ >= 90 and fuzz.ratio(q, v) < 80:
                    why = "Same names in a different order"
                else:
                    why = f"Similar name ({round(score)}%)"
    return round(best), why


def _age(birth: dt.date | None, est: int | None, est_on: dt.date | None, on: dt.date) -> int | None:
    return counting.age_at(on, birth, est, est_on)


def _birth_score(new: PersonInput, row: _Row, on: dt.date) -> tuple[int, str]:
    a, b = new.birth_date, row.birth
    if a is not None and b is not None:
        if a == b:
            return 100, "Same birth date"
        if (a.day, a.month) == (b.month, b.day) and a.year == b.year:
            return 90, "Birth date with day and month swapped"
        if (a.year, a.month) == (b.year, b.month):
            return 80, "Birth date in the same month"
        if (a.month, a.day) == (b.month, b.day):
            return 75, "Same birthday, another year"
        if abs((a - b).days) <= 731:
            return 50, "Birth dates within two years"
        return 0, ""
    age_a = _age(a, new.estimated_age, new.age_estimated_on, on)
    age_b = _age(b, row.est, row.est_on, on)
    if age_a is None or age_b is None:
        return 40, "Age unknown"
    gap = abs(age_a - age_b)
    if gap <= 2:
        return 60, f"Ages compatible (about {age_b})"
    if gap <= 5:
        return 45, f"Ages roughly compatible (about {age_b})"
    return 0, ""


def _sex_score(new_sex: str, sex: str) -> tuple[int, str]:
    if new_sex == sex and sex in ("Female", "Male"):
        return 100, "Same sex"
    if {new_sex, sex} == {"Female", "Male"}:
        return 0, ""
    return 60, ""


def _candidates(s: Session, person: PersonInput, on: dt.date, exclude: int | None) -> list[_Row]:
    expression = match_expression([[w for w in _block_words(person)]], "names") if _block_words(person) else None
    if expression is None:
        return []
    fts = select(text("rowid")).select_from(text("case_search")).where(
        text("case_search MATCH :q").bindparams(q=expression))
    c, p = Case.__table__.c, Person.__table__.c
    conds = [p.id.in_(select(c.person_id).where(c.id.in_(fts)))]
    sex = counting.sex_of_gender(person.gender)
    if sex == "Female":
        conds.append(p.gender != "Masculine")
    elif sex == "Male":
        conds.append(p.gender != "Feminine")
    if person.birth_date is not None:
        b = person.birth_date
        conds.append(or_(
            p.birth_date.is_(None),
            p.birth_date.between(b - dt.timedelta(days=731), b + dt.timedelta(days=731)),
            text("substr(person.birth_date, 6) IN (:md, :dm)").bindparams(
                md=f"{b.month:02d}-{b.day:02d}", dm=f"{b.day:02d}-{b.month:02d}"),
        ))
    else:
        age = _age(None, person.estimated_age, person.age_estimated_on, on)
        if age is not None:
            # born within six years either side of the estimate
            lo = dt.date(max(on.year - age - 6, 1), 1, 1)
            hi = dt.date(min(on.year - age + 6, 9999), 12, 31)
            conds.append(or_(p.birth_date.is_(None), p.birth_date.between(lo, hi)))
    if exclude is not None:
        conds.append(p.id != exclude)
    rows = s.execute(select(p.id, p.given_names, p.family_names, p.aliases, p.birth_date,
                            p.estimated_age, p.age_estimated_on, p.gender).where(and_(*conds))).all()
    return [_Row(*r) for r in rows]


def find_duplicates(
    reg: Register, person: PersonInput, *, exclude_person_id: int | None = None, limit: int = 10,
) -> list[DuplicateCandidate]:
    """Persons who may be ``person``, best first (at most ``limit``)."""
    reg.actor.require("case.write")
    reg.actor.require("case.read_pii")
    on = today()
    person = person.cleaned(on)
    query = [" ".join(tokens(person.given_names, person.family_names))] + alias_keys(person.aliases)
    query = [q for q in query if q]
    if not query:
        return []
    new_sex = counting.sex_of_gender(person.gender)
    with reg.read() as s:
        scored: list[tuple[int, int, _Row, list[str]]] = []
        for row in _candidates(s, person, on, exclude_person_id):
            variants = [" ".join(tokens(row.given, row.family))] + alias_keys(row.aliases)
            name, name_why = _name_score(query, variants)
            if name < NAME_THRESHOLD:
                continue
            birth, birth_why = _birth_score(person, row, on)
            sex, sex_why = _sex_score(new_sex, counting.sex_of_gender(row.gender))
            if birth == 0 or sex == 0:
                continue
            total = round(_WEIGHTS[0] * name + _WEIGHTS[1] * birth + _WEIGHTS[2] * sex)
            if total < SCORE_THRESHOLD:
                continue
            reasons = [r for r in (name_why, birth_why, sex_why) if r]
            scored.append((total, name, row, reasons))
        scored.sort(key=lambda x: (-x[0], -x[1], fold(x[2].family), fold(x[2].given), x[2].id))
        top = scored[:limit]
        cases: dict[int, list[tuple[int, str]]] = {}
        if top:
            for pid, cid, number in s.execute(
                select(Case.person_id, Case.id, Case.case_number)
                .where(Case.person_id.in_([t[2].id for t in top]))
                .order_by(Case.registration_date, Case.id)
            ):
                cases.setdefault(pid, []).append((cid, number))
        return [
            DuplicateCandidate(
                person_id=row.id, name=display_name(row.given, row.family, row.aliases),
                aliases=tuple(row.aliases), birth_date=row.birth,
                age=_age(row.birth, row.est, row.est_on, on),
                sex=counting.sex_of_gender(row.gender),
                case_numbers=tuple(n for _, n in cases.get(row.id, [])),
                latest_case_id=cases[row.id][-1][0] if cases.get(row.id) else 0,
                score=total, name_score=name, reasons=tuple(reasons),
            )
            for total, name, row, reasons in top
        ]
