"""The duplicate warning at intake: persons already in the register who may be the one being
entered — similar names (typing errors, given and family names swapped, accents, aliases) with
a compatible birth date or age and sex — ranked by a score from 0 to 100.

Two stages keep it fast at 100,000 persons. SQL picks the candidates from one covering index
(``ix_person_match``: birth date, estimated age, sex and folded names), by index ranges, so no
person row is read: a birth date within two years, or on the same day and month (or swapped)
in a year mistyped by up to eleven, or an estimated age that fits, or an unknown age; not the
other sex; and some word of a name or alias starting with the same three letters as an entered
word (a typing error rarely hits the start of every word). rapidfuzz then scores those
candidates' folded names. The worker links the new case to an existing person
(``cases.register_case(person_id=…)``) or confirms a new one (``dismissed_duplicates=…`` keeps
that decision in the audit trail).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

from rapidfuzz import fuzz, process
from sqlalchemy import text
from sqlalchemy.orm import Session

from tipdesk import counting
from tipdesk.names import alias_keys, full_name_key, name_variants
from tipdesk.services.common import today
from tipdesk.services.persons import PersonInput, display_name
from tipdesk.vault.register import Register

#: A candidate is shown when its name scores at least this…
NAME_THRESHOLD = 75
#: …and its overall score at least this.
SCORE_THRESHOLD = 65
_WEIGHTS = (0.7, 0.2, 0.1)  # name, birth date or age, sex
_OTHER_SEX_GENDER = {"Female": "Masculine", "Male": "Feminine"}


@dataclass(frozen=True)
class DuplicateCandidate:
    person_id: int
    name: str  # as lists show it: "FAMILY, Given"
    aliases: tuple[str, ...]
    birth_date: dt.date | None
    age: int | None  # today, from the birth date or the estimate
    sex: str
    case_numbers: tuple[str, ...]  # oldest first
    latest_case_id: int
    score: int  # 0–100
    name_score: int
    reasons: tuple[str, ...]  # plain words, e.g. "Same birth date"


@dataclass
class _Row:
    id: int
    birth: dt.date | None
    est: int | None
    est_on: dt.date | None
    gender: str
    variants: list[str]


def _name_score(query: list[str], variants: list[str]) -> tuple[int, str]:
    best, why = 0.0, ""
    for qi, q in enumerate(query):
        for vi, v in enumerate(variants):
            if not q or not v:
                continue
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


def _birth_score(new: PersonInput, row: _Row, on: dt.date) -> tuple[int, str]:
    a, b = new.birth_date, row.birth
    if a is not None and b is not None:
        if a == b:
            return 100, "Same birth date"
        if (a.day, a.month) == (b.month, b.day) and a.year == b.year:
            return 90, "Birth date with day and month swapped"
        if (a.year, a.month) == (b.year, b.month):
            return 80, "Birth date in the same month"
        if (a.month, a.day) in ((b.month, b.day), (b.day, b.month)):
            return 75, "Same birthday, another year"
        if abs((a - b).days) <= 731:
            return 50, "Birth dates within two years"
        return 0, ""
    age_a = counting.age_at(on, a, new.estimated_age, new.age_estimated_on)
    age_b = counting.age_at(on, b, row.est, row.est_on)
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


def _years_back(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def _candidate_branches(person: PersonInput, on: dt.date) -> tuple[list[str], dict[str, object]]:
    """Conditions on ``ix_person_match`` columns, one per index range (joined by UNION ALL so
    that each is a range of the index, not a scan of it)."""
    params: dict[str, object] = {}
    estimate_fits = ("(estimated_age IS NULL OR "
                     "(CAST(substr(age_estimated_on, 1, 4) AS INTEGER) - estimated_age) "
                     "BETWEEN :year_lo AND :year_hi)")
    branches: list[str] = []
    if person.birth_date is not None:
        b = person.birth_date
        params.update(lo2=_years_back(b, 2).isoformat(), hi2=_years_back(b, -2).isoformat(),
                      year_lo=b.year - 5, year_hi=b.year + 5)
        # the same day and month (or swapped) in a year mistyped by up to eleven years
        days = {_years_back(b, k) for k in range(-11, 12)}
        if b.day <= 12:
            swapped = dt.date(b.year, b.day, b.month)
            days |= {_years_back(swapped, k) for k in range(-11, 12)}
        for i, day in enumerate(sorted(days)):
            params[f"d{i}"] = day.isoformat()
        same_day = ", ".join(f":d{i}" for i in range(len(days)))
        branches += ["birth_date BETWEEN :lo2 AND :hi2",
                     f"birth_date IN ({same_day}) AND NOT (birth_date BETWEEN :lo2 AND :hi2)",
                     "birth_date IS NULL AND " + estimate_fits]
    else:
        age_now = counting.age_at(on, None, person.estimated_age, person.age_estimated_on)
        if age_now is None:
            branches.append("1")
        else:
            year = on.year - age_now
            params.update(lo=dt.date(max(year - 6, 1), 1, 1).isoformat(),
                          hi=dt.date(min(year + 6, 9999), 12, 31).isoformat(),
                          year_lo=year - 6, year_hi=year + 6)
            branches += ["birth_date BETWEEN :lo AND :hi", "birth_date IS NULL AND " + estimate_fits]
    common = []
    sex = counting.sex_of_gender(person.gender)
    if sex in _OTHER_SEX_GENDER:
        params["other_sex"] = _OTHER_SEX_GENDER[sex]
        common.append("gender != :other_sex")
    # Some word of the name or an alias starts with the same three letters as one of the
    # entered words (a typing error rarely hits the start of every word).
    starts = sorted({w[:3] for q in _query_words(person) for w in q.split()})
    for i, start in enumerate(starts):
        params[f"n{i}"] = f"% {start}%"
    if starts:
        common.append("(" + " OR ".join(
            f"(' ' || replace(name_key, '|', ' ')) LIKE :n{i}" for i in range(len(starts))) + ")")
    return [" AND ".join([b, *common]) for b in branches], params


def _query_words(person: PersonInput) -> list[str]:
    return [q for q in [full_name_key(person.given_names, person.family_names),
                        *alias_keys(person.aliases)] if q]


def _candidates(s: Session, person: PersonInput, on: dt.date, exclude: int | None,
                query: list[str]) -> list[_Row]:
    branches, params = _candidate_branches(person, on)
    if exclude is not None:
        branches = [f"{b} AND id != :exclude" for b in branches]
        params["exclude"] = exclude
    select_ = ("SELECT id, birth_date, estimated_age, age_estimated_on, gender, name_key "
               "FROM person INDEXED BY ix_person_match WHERE ")
    rows = s.connection().execute(text(" UNION ALL ".join(select_ + b for b in branches)), params).all()
    # rapidfuzz over every name and alias of the candidates; token_set_ratio is never below the
    # final name score, so this cut keeps everyone who can reach the threshold.
    choices: list[str] = []
    owners: list[int] = []
    for i, r in enumerate(rows):
        for variant in name_variants(r[5] or ""):
            if variant:
                choices.append(variant)
                owners.append(i)
    keep: set[int] = set()
    for q in query:
        for _choice, _score, position in process.extract(
                q, choices, scorer=fuzz.token_set_ratio, score_cutoff=NAME_THRESHOLD, limit=None):
            keep.add(owners[position])
    out = []
    for i in sorted(keep):
        r = rows[i]
        out.append(_Row(r[0], dt.date.fromisoformat(r[1]) if r[1] else None, r[2],
                        dt.date.fromisoformat(r[3]) if r[3] else None, r[4], name_variants(r[5] or "")))
    return out


def find_duplicates(
    reg: Register, person: PersonInput, *, exclude_person_id: int | None = None, limit: int = 10,
) -> list[DuplicateCandidate]:
    """Persons who may be ``person``, best first (at most ``limit``)."""
    reg.actor.require("case.write")
    reg.actor.require("case.read_pii")
    on = today()
    person = person.cleaned(on)
    query = _query_words(person)
    if not query:
        return []
    new_sex = counting.sex_of_gender(person.gender)
    with reg.read() as s:
        scored: list[tuple[int, int, _Row, list[str]]] = []
        for row in _candidates(s, person, on, exclude_person_id, query):
            name, name_why = _name_score(query, row.variants)
            if name < NAME_THRESHOLD:
                continue
            birth, birth_why = _birth_score(person, row, on)
            sex, sex_why = _sex_score(new_sex, counting.sex_of_gender(row.gender))
            if birth == 0 or sex == 0:
                continue
            total = round(_WEIGHTS[0] * name + _WEIGHTS[1] * birth + _WEIGHTS[2] * sex)
            if total < SCORE_THRESHOLD:
                continue
            scored.append((total, name, row, [r for r in (name_why, birth_why, sex_why) if r]))
        scored.sort(key=lambda x: (-x[0], -x[1], x[2].variants[0], x[2].id))
        return _describe(s, scored[:limit], on)


def _describe(s: Session, top: list[tuple[int, int, _Row, list[str]]], on: dt.date) -> list[DuplicateCandidate]:
    """The candidates as the worker sees them (names and case numbers of these persons only)."""
    if not top:
        return []
    ids = json.dumps([row.id for _, _, row, _ in top])
    people = {r[0]: r for r in s.execute(text(
        "SELECT id, given_names, family_names, aliases FROM person "
        "WHERE id IN (SELECT value FROM json_each(:ids))"), {"ids": ids})}
    cases: dict[int, list[tuple[int, str]]] = {}
    for pid, cid, number in s.execute(text(
            "SELECT person_id, id, case_number FROM case_file "
            "WHERE person_id IN (SELECT value FROM json_each(:ids)) ORDER BY registration_date, id"),
            {"ids": ids}):
        cases.setdefault(pid, []).append((cid, number))
    out = []
    for total, name, row, reasons in top:
        _, given, family, aliases_json = people[row.id]
        aliases = tuple(json.loads(aliases_json or "[]"))
        own = cases.get(row.id, [])
        out.append(DuplicateCandidate(
            person_id=row.id, name=display_name(given, family, aliases), aliases=aliases,
            birth_date=row.birth, age=counting.age_at(on, row.birth, row.est, row.est_on),
            sex=counting.sex_of_gender(row.gender), case_numbers=tuple(n for _, n in own),
            latest_case_id=own[-1][0] if own else 0, score=total, name_score=name,
            reasons=tuple(reasons),
        ))
    return out
