"""The demo's shelter step: its stays, services and follow-ups keep every rule the services
enforce, and there is enough of each (overdue follow-ups and high-risk flags included)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

import pytest

from tests.conftest import FAST_KDF
from tipdesk import counting
from tipdesk.demo import make_demo_register
from tipdesk.services import followup as fu
from tipdesk.services import placements as pl
from tipdesk.services.support_services import ServiceFields, service_problems
from tipdesk.vault.register import open_register

TODAY = dt.date(2026, 6, 30)
PASSWORD = "demo-admin-2026"


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    path = tmp_path_factory.mktemp("demo") / "DEMO.tipdb"
    make_demo_register(path, cases=1500, admin_password=PASSWORD, today=TODAY, kdf=FAST_KDF)
    reg = open_register(path, "admin", PASSWORD)
    yield reg
    reg.close()


def rows(reg, sql: str) -> list[tuple]:
    with reg.engine.connect() as conn:
        return [tuple(r) for r in conn.exec_driver_sql(sql)]


def d(text: str | None) -> dt.date | None:
    return dt.date.fromisoformat(text) if text else None


@pytest.mark.slow
def test_no_bed_and_no_person_holds_two_stays_on_one_night(demo):
    stays = rows(demo, "SELECT s.bed_id, c.person_id, s.admitted, coalesce(s.discharged, s.planned_discharge), "
                       "s.discharged IS NULL FROM stay s JOIN case_file c ON c.id = s.case_id")
    assert len(stays) > 300
    for index in (0, 1):
        spans = defaultdict(list)
        for row in stays:
            start, end = d(row[2]), d(row[3]) or dt.date.max
            spans[row[index]].append((start, max(end, start + dt.timedelta(days=1))))
        for found in spans.values():
            found.sort()
            assert all(b[0] >= a[1] for a, b in zip(found, found[1:], strict=False)), found
    open_per_person = defaultdict(int)
    for row in stays:
        open_per_person[row[1]] += row[4]
    assert max(open_per_person.values()) == 1


@pytest.mark.slow
def test_no_facility_is_over_capacity_and_t5_agrees_with_the_counting_rules(demo):
    for day in (TODAY, TODAY - dt.timedelta(days=200), TODAY - dt.timedelta(days=700)):
        for o in pl.occupancy(demo, day):
            assert o.occupied <= o.capacity
    period = counting.last_complete_quarter(TODAY)
    stays = rows(demo, "SELECT facility_id, admitted, discharged FROM stay")
    figures = pl.shelter_figures(demo, period)
    assert figures.total.admissions > 0
    for row in figures.rows:
        mine = [(d(a), d(b)) for f, a, b in stays if f == row.facility_id]
        assert row.bed_nights == sum(counting.bed_nights(a, b, period) for a, b in mine)
        assert row.occupied_at_end == sum(counting.occupied_at_end(a, b, period) for a, b in mine)


@pytest.mark.slow
def test_services_keep_the_status_and_date_rules(demo):
    services = rows(demo, "SELECT service_type, status, provider_org_id, planned_start, planned_end, "
                          "actual_start, actual_end FROM service")
    for t, status, provider, ps, pe, a, b in services:
        fields = ServiceFields(t, status, provider, "", d(ps), d(pe), d(a), d(b))
        assert service_problems(fields, TODAY) == [], fields
    assert {s[1] for s in services} == {"Planned", "Ongoing", "Completed", "Cancelled"}


@pytest.mark.slow
def test_about_ten_service_and_follow_up_rows_per_case_with_overdue_and_high_risk(demo):
    (cases, services, followups), = rows(demo, "SELECT (SELECT count(*) FROM case_file), "
                                               "(SELECT count(*) FROM service), (SELECT count(*) FROM followup)")
    assert 8 <= (services + followups) / cases <= 14
    assert fu.overdue(demo, TODAY).total > 20
    assert fu.high_risk(demo).total > 5
    assert fu.due_this_week(demo, TODAY).total > 0


@pytest.mark.slow
def test_derived_case_columns_match_the_follow_ups(demo):
    before = rows(demo, "SELECT id, next_followup_due, high_risk FROM case_file ORDER BY id")
    with demo.write() as s:
        fu.refresh_case_flags(s, [r[0] for r in before])
        after = [tuple(r) for r in s.connection().exec_driver_sql(
            "SELECT id, next_followup_due, high_risk FROM case_file ORDER BY id")]
        s.rollback()
    assert before == after


@pytest.mark.slow
def test_closed_cases_have_nothing_left_to_do(demo):
    left = rows(demo, "SELECT count(*) FROM followup f JOIN case_file c ON c.id = f.case_id "
                      "WHERE c.case_status IN ('Closed', 'ClosedReferred') AND f.status = 'Scheduled'")
    active = rows(demo, "SELECT count(*) FROM followup_plan p JOIN case_file c ON c.id = p.case_id "
                        "WHERE c.case_status IN ('Closed', 'ClosedReferred') AND p.status = 'Active'")
    assert left == [(0,)] and active == [(0,)]
    # Every follow-up done lies on or before the day its case closed.
    late = rows(demo, "SELECT count(*) FROM followup f JOIN case_file c ON c.id = f.case_id "
                      "JOIN case_status_entry e ON e.case_id = c.id AND e.status IN ('Closed', 'ClosedReferred') "
                      "WHERE f.done_date > e.effective_date AND c.case_status IN ('Closed', 'ClosedReferred')")
    assert late == [(0,)]


@pytest.mark.slow
def test_the_queues_agree_with_the_returns_counting_rules(demo):
    found = rows(demo, "SELECT due_date, done_date, cancelled_on, status FROM followup")
    overdue = sum(counting.followup_overdue_at(d(a), d(b), d(c), s, TODAY) for a, b, c, s in found)
    assert fu.overdue(demo, TODAY).total == overdue
    plans = rows(demo, "SELECT started_on, ended_on, status FROM followup_plan")
    active = sum(counting.plan_active_at(d(a), d(b), s, TODAY) for a, b, s in plans)
    assert active == rows(demo, "SELECT count(*) FROM followup_plan WHERE status = 'Active'")[0][0]
