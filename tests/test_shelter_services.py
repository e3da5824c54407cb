"""Services for a case: status and dates agree, providers, audit, permissions, and which services
a case received in a period."""

from __future__ import annotations

import pytest

from models import Organisation
from tests.shelter_helpers import D, acting_as, audit_events, make_case
from tipdesk.counting import parse_period
from tipdesk.errors import PermissionDenied, ValidationError
from tipdesk.services import support_services as sv
from tipdesk.services.support_services import ServiceFields as F

TODAY = D(2026, 6, 30)


@pytest.fixture
def partner(reg) -> int:
    with reg.write() as s:
        org = Organisation(name="Legal Aid Clinic", org_type="LegalService", country="JAM")
        s.add(org)
        s.flush()
        return org.id


def test_status_and_actual_dates_must_agree(reg):
    case = make_case(reg)
    bad = [
        (F("Health", "Planned", actual_start=D(2026, 1, 1)), "status"),
        (F("Health", "Ongoing"), "actual_start"),
        (F("Health", "Ongoing", actual_start=D(2026, 1, 1), actual_end=D(2026, 2, 1)), "status"),
        (F("Health", "Completed", actual_start=D(2026, 1, 1)), "actual_end"),
        (F("Health", "Cancelled", actual_start=D(2026, 1, 1)), "actual_end"),
        (F("Health", "Completed", actual_start=D(2026, 2, 1), actual_end=D(2026, 1, 1)), "actual_end"),
        (F("Health", "Ongoing", actual_start=D(2026, 7, 1)), "actual_start"),  # in the future
        (F("Massage"), "service_type"),
        (F("Health", "Planned", planned_start=D(2026, 9, 1), planned_end=D(2026, 8, 1)), "planned_end"),
    ]
    for fields, field in bad:
        with pytest.raises(ValidationError) as exc:
            sv.add_service(reg, case, fields, today=TODAY)
        assert field in exc.value.by_field(), (fields, exc.value.by_field())
    assert sv.services_of_case(reg, case) == []
    # A planned service may lie in the future.
    ok = sv.add_service(reg, case, F("Education", planned_start=D(2026, 9, 1), planned_end=D(2027, 6, 30)),
                        today=TODAY)
    assert ok.status == "Planned" and ok.provider_name == "This office"


def test_services_are_audited_old_to_new(reg, partner):
    case = make_case(reg)
    s = sv.add_service(reg, case, F("Legal", "Planned", provider_org_id=partner, objectives="witness support"),
                       today=TODAY)
    assert s.provider_name == "Legal Aid Clinic" and s.type_label == "Legal"
    started = sv.update_service(reg, s.id, F(**{**s.fields().__dict__, "status": "Ongoing",
                                                "actual_start": D(2026, 3, 2)}), today=TODAY)
    assert started.status == "Ongoing"
    actions = audit_events(reg, "service", s.id)
    assert [a for a, _ in actions] == ["service_added", "service_changed"]
    assert actions[1][1] == {"status": ["Planned", "Ongoing"], "actual_start": [None, "2026-03-02"]}


def test_services_received_in_a_period(reg):
    """Received on every day from the actual start to the actual end; ongoing ones up to today."""
    a, b, c = make_case(reg, given="A"), make_case(reg, given="B"), make_case(reg, given="C")
    sv.add_service(reg, a, F("Health", "Completed", actual_start=D(2025, 12, 1), actual_end=D(2026, 1, 1)),
                   today=TODAY)  # ends on Q1's first day: counts in Q1
    sv.add_service(reg, a, F("Psychosocial", "Ongoing", actual_start=D(2025, 6, 1)), today=TODAY)
    sv.add_service(reg, b, F("Legal", "Completed", actual_start=D(2025, 10, 1), actual_end=D(2025, 12, 31)),
                   today=TODAY)  # ended the day before Q1
    sv.add_service(reg, b, F("Education", "Planned", planned_start=D(2026, 2, 1)), today=TODAY)
    sv.add_service(reg, b, F("Livelihood", "Cancelled"), today=TODAY)  # never started
    sv.add_service(reg, c, F("Financial", "Cancelled", actual_start=D(2026, 3, 31), actual_end=D(2026, 4, 2)),
                   today=TODAY)  # started on Q1's last day, then stopped
    q1 = parse_period("2026-Q1")
    assert sv.services_in_period(reg, q1, today=TODAY) == {
        a: ("Health", "Psychosocial"), c: ("Financial",)}
    assert sv.service_counts(reg, q1, today=TODAY) == {"Financial": 1, "Health": 1, "Psychosocial": 1}
    assert sv.services_in_period(reg, parse_period("2025-Q4"), today=TODAY) == {
        a: ("Health", "Psychosocial"), b: ("Legal",)}
    # An ongoing service counts up to today, not into a period that has not begun.
    assert sv.services_in_period(reg, parse_period("2026-Q2"), today=TODAY) == {a: ("Psychosocial",), c: ("Financial",)}
    assert sv.services_in_period(reg, parse_period("2026-Q3"), today=TODAY) == {}
    assert sv.services_in_period(reg, parse_period("2026-Q3"), today=D(2026, 7, 1)) == {a: ("Psychosocial",)}


def test_received_in_is_the_returns_rule_up_to_today():
    q1 = parse_period("2026-Q1")
    assert sv.received_in(D(2025, 12, 1), D(2026, 1, 1), "Completed", q1, TODAY)
    assert not sv.received_in(D(2025, 12, 1), D(2025, 12, 31), "Completed", q1, TODAY)
    assert sv.received_in(D(2025, 6, 1), None, "Ongoing", q1, TODAY)
    assert not sv.received_in(D(2025, 6, 1), None, "Ongoing", parse_period("2026-Q3"), D(2026, 6, 30))
    assert sv.received_in(D(2025, 6, 1), None, "Ongoing", parse_period("2026-Q3"), D(2026, 7, 1))
    assert not sv.received_in(None, None, "Planned", q1, TODAY)


@pytest.mark.parametrize("role", ["police", "analyst", "auditor"])
def test_only_case_workers_and_admins_record_services(reg, role):
    case = make_case(reg)
    existing = sv.add_service(reg, case, F("Health", notes="clinic at Spanish Town"), today=TODAY)
    with acting_as(reg, role) as other:
        with pytest.raises(PermissionDenied, match="may not record services"):
            sv.add_service(other, case, F("Health"), today=TODAY)
        with pytest.raises(PermissionDenied):
            sv.remove_service(other, existing.id, "wrong case")
        seen = sv.services_of_case(other, case)
    assert [s.id for s in seen] == [existing.id]
    assert (seen[0].notes is None) == (role == "analyst")


def test_a_closed_case_gets_no_new_services_and_removal_needs_a_reason(reg):
    closed = make_case(reg, closed=D(2025, 6, 1))
    with pytest.raises(ValidationError, match="is closed"):
        sv.add_service(reg, closed, F("Health"), today=TODAY)
    case = make_case(reg, given="Bea")
    s = sv.add_service(reg, case, F("Health"), today=TODAY)
    with pytest.raises(ValidationError, match="Say why"):
        sv.remove_service(reg, s.id, "")
    sv.remove_service(reg, s.id, "entered twice")
    assert sv.services_of_case(reg, case) == []
    assert audit_events(reg, "service", s.id)[-1][1]["reason"] == "entered twice"


def test_the_period_query_agrees_with_received_in_on_random_services(reg):
    """``SERVICES_IN_PERIOD_SQL`` and the pure rule ``received_in`` give the same answer."""
    import datetime as dt
    import random

    rnd = random.Random(5)
    spans = {}
    for i in range(12):
        case = make_case(reg, given=f"R{i}")
        start = D(2025, 9, 1) + dt.timedelta(days=rnd.randrange(300))
        if start > TODAY:
            start = TODAY
        kind = rnd.choice(["Ongoing", "Completed", "Completed", "Cancelled"])
        end = None if kind == "Ongoing" else min(TODAY, start + dt.timedelta(days=rnd.choice([0, 1, 40, 120])))
        sv.add_service(reg, case, F("Health", kind, actual_start=start, actual_end=end), today=TODAY)
        spans[case] = (start, end, kind)
    # Rows the services would refuse but an older register or an import may hold: completed or
    # cancelled without an end date (the returns count them on their start day only).
    from models import Service

    for i, (status, start) in enumerate((("Completed", D(2026, 2, 3)), ("Cancelled", D(2025, 12, 30)))):
        case = make_case(reg, given=f"Old{i}")
        with reg.write() as s:
            s.add(Service(case_id=case, service_type="Legal", status=status, actual_start=start))
        spans[case] = (start, None, status)
    for code in ("2025-Q4", "2026-Q1", "2026-Q2", "2026-Q3", "2026"):
        period = parse_period(code)
        expected = {c for c, (a, b, status) in spans.items() if sv.received_in(a, b, status, period, TODAY)}
        assert set(sv.services_in_period(reg, period, today=TODAY)) == expected, code
