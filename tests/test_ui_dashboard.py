"""The dashboard page: what it shows equals the return for the same period; the window stays
usable while it counts; a chart turns into a table and copies as a picture."""

from __future__ import annotations

import datetime as dt

import pytest
from PySide6.QtWidgets import QApplication

from exports.returns import spec
from exports.returns.prepare import OfficeInfo, compute_return
from tests.factories import add_case, add_partner
from tests.ui_work_helpers import TODAY, build_register, close_window, open_window
from tipdesk import counting
from tipdesk.services import placements

pytestmark = [pytest.mark.gui, pytest.mark.qt_log_level_fail("WARNING"),
              pytest.mark.qt_log_ignore(r"This plugin does not support .*")]

QUARTER = counting.last_complete_quarter(TODAY)


@pytest.fixture
def setup(created):
    reg = created.register
    made = build_register(reg)
    police = add_partner(reg, "Constabulary", "LawEnforcement")
    day = QUARTER.start + dt.timedelta(days=3)
    people = [
        dict(given_names="Ines", gender="Feminine", birth_date=day.replace(year=day.year - 16),
             citizenships=("VEN",), exploitation=("SexualExploitation",), identified_by_org_id=police.id),
        dict(given_names="Jo", gender="Masculine", birth_date=day.replace(year=day.year - 30),
             citizenships=("HTI",), exploitation=("ForcedLabour",), self_referral=True),
        dict(given_names="Kay", gender="Feminine", birth_date=day.replace(year=day.year - 25),
             citizenships=("JAM",), exploitation=("ForcedLabour", "SexualExploitation")),
    ]
    ids = [add_case(reg, registered=day + dt.timedelta(days=i * 9), family_names="Testcase", **p).id
           for i, p in enumerate(people)]
    placements.admit(reg, ids[2], made.hope, day + dt.timedelta(days=20), bed_id=made.rooms["Room 2"])
    return made


def the_return(reg):
    with reg.read() as s:
        return compute_return(s, QUARTER, OfficeInfo("OAS", "Test Office", "NGO", "JAM"), office_secret=bytes(32),
                              linkage_key=None, generated_at=dt.datetime.now(dt.UTC), preparer="t",
                              software_version="t")


def test_the_dashboard_shows_the_returns_figures(qtbot, setup) -> None:
    win = open_window(qtbot, setup.path)
    try:
        win.go("dashboard")
        page = win.pages["dashboard"]
        assert page.requested == QUARTER  # the last complete quarter, like a return
        # While it counts, the window answers: every section arrives on its own.
        shown: list[str] = []
        page.section_shown.connect(shown.append)
        qtbot.waitUntil(lambda: page.complete, timeout=20_000)
        assert sorted(shown) == ["followups", "people", "shelter", "trends"]
        ret = the_return(win.reg)
        t2, t5, t7 = ret.tables[spec.T2], ret.tables[spec.T5], ret.tables[spec.T7]
        assert page.tiles["victims"].value.text() == f"{t2.value('Total victims', 'Total'):,}"
        assert int(page.tiles["victims"].value.text()) >= 3
        assert page.tiles["in_shelter"].value.text() == str(t5.value("Total", "Occupied at period end"))
        assert page.tiles["overdue"].value.text() == str(t7.value("Overdue at period end", "Total"))
        # Each chart's table holds the return's numbers.
        forms = page.cards["forms"].model
        shown_forms = {forms.data(forms.index(r, 0)): forms.value(r, 0) for r in range(forms.rowCount())}
        assert shown_forms == {name: t2.value(name, "Total") for name in spec.T2_ROWS[:-1]}
        sex_age = page.cards["sex_age"].model
        female_children = sex_age.value(0, 0)  # Female × 0–17
        assert female_children == t2.value("Total victims", "Female 0-17") == 1
        follow = page.cards["followups"].model
        assert [follow.value(r, 1) for r in range(3)] == [t7.value(n, "Total") for n in spec.T7_ROWS[:3]]
        assert "the figures of the return for this period" in page.status.text()
        assert not page.provisional
    finally:
        close_window(win)


def test_current_quarter_is_provisional_and_charts_turn_into_tables(qtbot, setup) -> None:
    win = open_window(qtbot, setup.path)
    try:
        win.go("dashboard")
        page = win.pages["dashboard"]
        qtbot.waitUntil(lambda: page.complete, timeout=20_000)
        page.which.setCurrentIndex(0)  # this quarter, so far
        qtbot.waitUntil(lambda: page.provisional and page.complete, timeout=20_000)
        assert page.counted.end == TODAY and "provisional" in page.status.text()
        card = page.cards["occupancy"]
        card.table_button.click()
        assert card.stack.currentWidget() is card.table
        assert card.model.rowCount() == len(page.results["shelter"].occupancy)
        QApplication.clipboard().clear()
        card.copy_button.click()
        image = QApplication.clipboard().image()
        assert not image.isNull() and image.width() > 100
        assert "Copied" in page.status.text()
        card.table_button.click()
        assert card.stack.currentWidget() is card.view
        # A custom stretch of days
        page.kind.setCurrentIndex(page.kind.findData("custom"))
        page.start_edit.setDate(page.start_edit.date().addDays(-40))
        page.show_button.click()
        qtbot.waitUntil(lambda: page.complete, timeout=20_000)
        assert page.requested.code.endswith(f"to {page.requested.end.isoformat()}")
    finally:
        close_window(win)
