"""Every item model of the shelter, follow-up, dashboard and settings views passes Qt's model
checks (pytest-qt's ``qtmodeltester``), with real rows from the services."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.factories import add_partner
from tests.ui_work_helpers import TODAY, build_register
from tipdesk.services import facilities, followup, followup_plans, organisations, placements, support_services
from ui import work_models
from ui.bed_board import BedCardModel, cards_for

pytestmark = [pytest.mark.gui]


@pytest.fixture
def rows(created):
    reg = created.register
    s = build_register(reg)
    support_services.add_service(reg, s.beatrix, support_services.ServiceFields(
        "Health", "Ongoing", actual_start=TODAY - dt.timedelta(days=3), objectives="Check-up"))
    support_services.add_service(reg, s.beatrix, support_services.ServiceFields("Legal"))
    facilities.add_to_waiting_list(reg, s.annabel, s.hope, note="Needs a quiet room")
    first = followup.overdue(reg).rows[0]
    followup.record_followup(reg, first.followup_id, followup.Visit(TODAY, "Phone", "High", safety_note="Threats"))
    add_partner(reg, "Constabulary", "LawEnforcement")
    hope = next(f for f in facilities.list_facilities(reg) if f.id == s.hope)
    return {
        "waiting": facilities.waiting_list(reg, s.hope).rows,
        "stays": placements.stays_of_case(reg, s.dorothea),
        "services": support_services.services_of_case(reg, s.beatrix),
        "queue": followup.overdue(reg).rows,
        "high_risk": followup.high_risk(reg).rows,
        "timeline": followup.followups_of_case(reg, s.dorothea),
        "plans": followup_plans.list_plan_definitions(reg, include_inactive=True),
        "facilities": facilities.list_facilities(reg),
        "beds": hope.beds,
        "organisations": organisations.list_organisations(reg, include_inactive=True),
        "cards": cards_for(hope, placements.residents(reg, s.hope)),
    }


FACTORIES = {
    "waiting": work_models.waiting_list_model, "stays": work_models.stays_model,
    "services": work_models.services_model, "queue": work_models.queue_model,
    "high_risk": work_models.high_risk_model, "timeline": work_models.timeline_model,
    "plans": work_models.plan_definitions_model, "facilities": work_models.facilities_model,
    "beds": work_models.beds_model, "organisations": work_models.organisations_model,
}


@pytest.mark.parametrize("key", sorted(FACTORIES))
def test_rows_models(qtmodeltester, rows, key: str) -> None:
    model = FACTORIES[key]()
    assert rows[key], key
    model.set_rows(rows[key])
    qtmodeltester.check(model, force_py=True)
    qtmodeltester.check(model)
    if rows[key]:
        assert model.data(model.index(0, 0)) not in (None, "")
    model.set_rows([])
    qtmodeltester.check(model)


def test_bed_card_model(qtmodeltester, rows) -> None:
    model = BedCardModel()
    model.set_cards(rows["cards"], TODAY)
    qtmodeltester.check(model, force_py=True)
    qtmodeltester.check(model)
    assert model.rowCount() == 3


def test_figure_table_model(qtmodeltester) -> None:
    model = work_models.FigureTableModel()
    model.set_figures("Quarter", ["2026-Q1", "2026-Q2"], ["Victims", "In shelter"], [[12, 3], [9, None]])
    qtmodeltester.check(model, force_py=True)
    qtmodeltester.check(model)
    assert model.data(model.index(1, 2)) == "—" and model.data(model.index(0, 1)) == "12"
    model.set_figures("", [], [], [])
    qtmodeltester.check(model)
