"""Synthetic demo registers: valid by the services' own rules, deterministic per seed whatever
the office code, usable by every demo user, and made by the ``tipdesk demo`` command."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import text

from tests.conftest import FAST_KDF
from tipdesk import cli, counting
from tipdesk.demo import DEMO_LINKAGE_KEY, DEMO_PASSWORDS, make_demo_register
from tipdesk.security import audit
from tipdesk.services import cases, search
from tipdesk.vault.register import open_register

TODAY = dt.date(2026, 11, 20)
PASSWORD = "demo-admin-2026"


def make(path: Path, n: int, seed: int = 7, code: str = "DEMO"):
    return make_demo_register(path, cases=n, admin_password=PASSWORD, seed=seed, org_code=code,
                              today=TODAY, kdf=FAST_KDF)


def dump(path: Path, sql: str) -> list[tuple]:
    reg = open_register(path, "admin", PASSWORD)
    try:
        with reg.read() as s:
            return [tuple(r) for r in s.execute(text(sql)).all()]
    finally:
        reg.close()


PEOPLE = ("SELECT id, given_names, family_names, aliases, birth_date, estimated_age, gender, "
          "citizenships, identity_number FROM person ORDER BY id")
CASES = ("SELECT id, substr(case_number, instr(case_number, '-')), person_id, registration_date, "
         "exploitation, trafficking_status, case_status, sex, age_group, scope, owner_id, "
         "consent_data_sharing FROM case_file ORDER BY id")
ALSO = ("SELECT 'ts', case_id, effective_date, status, decided_by FROM trafficking_status_entry "
        "UNION ALL SELECT 'cs', case_id, effective_date, status, reason FROM case_status_entry "
        "UNION ALL SELECT 'rt', case_id, kind, country, place FROM route_event "
        "UNION ALL SELECT 'sc', case_id, screened_on, suggested_status, decided_status FROM screening "
        "UNION ALL SELECT 'rf', case_id, direction, referral_date, outcome FROM referral "
        "UNION ALL SELECT 'js', case_id, stage, stage_date, '' FROM justice_stage ORDER BY 1, 2, 3, 4")


def test_same_seed_same_people_whatever_the_office_code(tmp_path):
    a, b, c = tmp_path / "a.tipdb", tmp_path / "b.tipdb", tmp_path / "c.tipdb"
    make(a, 150, seed=7, code="KGN")
    make(b, 150, seed=7, code="MBJ")
    make(c, 150, seed=8, code="KGN")
    for sql in (PEOPLE, CASES, ALSO):
        assert dump(a, sql) == dump(b, sql)
    assert dump(a, PEOPLE) != dump(c, PEOPLE)
    numbers = [n for (n,) in dump(b, "SELECT case_number FROM case_file ORDER BY id")]
    assert all(n.startswith("MBJ-") for n in numbers) and len(set(numbers)) == 150
    # the people do not depend on the date either: only case dates move with it
    d = tmp_path / "d.tipdb"
    make_demo_register(d, cases=150, admin_password=PASSWORD, seed=7, org_code="KGN",
                       today=TODAY + dt.timedelta(days=400), kdf=FAST_KDF)
    people = "SELECT given_names, family_names, birth_date, gender, citizenships FROM person ORDER BY 1, 2, 3"
    assert dump(d, people) == dump(a, people)


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    path = tmp_path_factory.mktemp("demo") / "demo.tipdb"
    result = make_demo_register(path, cases=300, admin_password=PASSWORD, seed=3, today=TODAY, kdf=FAST_KDF)
    return path, result


def test_a_small_demo_has_every_entity_and_a_plausible_mix(small):
    path, result = small
    counts = dict(dump(path, "SELECT 'cases', count(*) FROM case_file UNION ALL SELECT 'persons', count(*) "
                             "FROM person UNION ALL SELECT 'screenings', count(*) FROM screening UNION ALL "
                             "SELECT 'referrals', count(*) FROM referral UNION ALL SELECT 'justice', "
                             "count(*) FROM justice_stage UNION ALL SELECT 'route', count(*) FROM route_event "
                             "UNION ALL SELECT 'partners', count(*) FROM organisation WHERE is_self = 0"))
    assert counts["cases"] == 300 and 270 <= counts["persons"] < 300  # a few re-trafficked persons
    assert min(counts.values()) > 10
    sexes = Counter(dict(dump(path, "SELECT sex, count(*) FROM case_file GROUP BY sex")))
    assert sexes["Female"] > sexes["Male"] > sexes["Other"] + sexes["Unknown"]
    flags = dump(path, "SELECT sum(expl_sexual), sum(expl_labour), sum(expl_other) FROM case_file")[0]
    assert flags[0] > flags[1] > flags[2] > 0
    jam = dump(path, "SELECT count(*) FROM person WHERE citizenships LIKE '[\"JAM\"%'")[0][0]
    assert jam > counts["persons"] / 2
    assert dump(path, "SELECT value FROM register_meta WHERE key = 'linkage_key'") == [(DEMO_LINKAGE_KEY,)]
    refusals = dump(path, "SELECT count(*) FROM case_file WHERE consent_given = 1 AND consent_data_sharing = 0")
    assert refusals[0][0] > 0
    assert {"organisations", "cases", "screenings", "referrals", "justice", "total"} <= set(result.seconds)


def test_demo_cases_obey_the_services_rules_and_derived_columns(small):
    path, _ = small
    reg = open_register(path, "caseworker", DEMO_PASSWORDS["caseworker"])
    try:
        with reg.read() as s:
            rows = s.execute(text("SELECT id, trafficking_status, case_status FROM case_file")).all()
            history = s.execute(text(
                "SELECT case_id, effective_date, id, status FROM trafficking_status_entry")).all()
            case_history = s.execute(text(
                "SELECT case_id, effective_date, id, status, reason FROM case_status_entry")).all()
            reg_dates = dict(s.execute(text("SELECT id, registration_date FROM case_file")).all())
            verified = audit.verify(s)
        assert verified.ok
        by_case: dict[int, list] = {}
        for cid, day, eid, status in history:
            by_case.setdefault(cid, []).append((dt.date.fromisoformat(day), eid, status))
        for cid, status, case_status in rows:
            entries = by_case[cid]
            assert min(e[0] for e in entries).isoformat() == reg_dates[cid]
            assert counting.status_on(entries, TODAY) == status
        closed = [r for r in case_history if r[3] in ("Closed", "ClosedReferred")]
        assert closed and all(r[4] for r in closed)
        # re-saving demo cases through the services finds nothing to correct
        for cid, *_ in rows[::15]:
            detail = cases.get_case(reg, cid)
            saved = cases.update_case(reg, cid, detail.to_input(), person=detail.person.to_input(),
                                      expected_version=detail.version)
            assert saved.version == detail.version
        found = search.list_cases(reg, search.CaseFilter(text=detail.person.family_names.split()[0] if
                                                         detail.person.family_names else detail.case_number))
        assert detail.id in {r.id for r in found.rows} or found.total > len(found.rows)
    finally:
        reg.close()


def test_every_demo_user_logs_in_with_the_documented_password(small):
    path, _ = small
    for name, password in {"admin": PASSWORD, **DEMO_PASSWORDS}.items():
        reg = open_register(path, name, password)
        assert reg.actor.role == name
        reg.close()
    analyst = open_register(path, "analyst", DEMO_PASSWORDS["analyst"])
    try:
        page = search.list_cases(analyst, search.CaseFilter(), limit=50)
        assert page.total == 300 and all(r.name == "" for r in page.rows)
    finally:
        analyst.close()


def test_the_demo_command(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("TIPDESK_PASSWORD", PASSWORD)
    target = tmp_path / "cli.tipdb"
    key_file = tmp_path / "key.txt"
    assert cli.main(["demo", str(target), "--cases", "40", "--seed", "5", "--org-code", "tst",
                     "--recovery-key-out", str(key_file)]) == 0
    out = capsys.readouterr().out
    assert "demo-caseworker-2026" in out and key_file.read_text().strip() in out
    assert dump(target, "SELECT count(*) FROM case_file WHERE case_number LIKE 'TST-%'") == [(40,)]
    before = target.read_bytes()
    assert cli.main(["demo", str(target), "--cases", "40"]) == 6  # never overwrites
    assert target.read_bytes() == before
    assert cli.main(["demo", str(tmp_path / "x.tipdb"), "--cases", "-1"]) == 2
    assert cli.main(["demo", str(tmp_path / "y.tipdb"), "--cases", "3", "--org-code", "bad code"]) == 2
    assert not (tmp_path / "y.tipdb").exists()
