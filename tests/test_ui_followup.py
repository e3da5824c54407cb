"""Follow-up through real widgets: the queues and their badges, recording a visit from a queue
and from the case's Follow-up section, the core's rules shown in the dialog, changing a plan."""

from __future__ import annotations

import datetime as dt

import pytest
from PySide6.QtCore import Qt

from tests.ui_work_helpers import TODAY, Setup, build_register, close_window, open_window
from tipdesk.services import followup

pytestmark = [pytest.mark.gui, pytest.mark.qt_log_level_fail("WARNING"),
              pytest.mark.qt_log_ignore(r"This plugin does not support .*")]


@pytest.fixture
def setup(created) -> Setup:
    return build_register(created.register)


@pytest.fixture
def window(qtbot, setup):
    win = open_window(qtbot, setup.path)
    yield win
    close_window(win)


def wait_counts(qtbot, page) -> None:
    qtbot.waitUntil(lambda: all(page.queues[k].position.text() for k in ("due", "overdue", "high_risk")),
                    timeout=10_000)


def badges(win) -> dict[str, str]:
    from ui.nav_badges import BADGES_ROLE

    item = next(win.nav.item(r) for r in range(win.nav.count())
                if win.nav.item(r).data(Qt.ItemDataRole.UserRole) == "followup")
    return {what: text for text, _colour, what in item.data(BADGES_ROLE) or []}


def test_queues_record_a_visit_and_counts_follow(qtbot, window, setup) -> None:
    # Dorothea's plan started 70 days ago: months 1 and 2 are overdue.
    window.go("followup")
    page = window.pages["followup"]
    wait_counts(qtbot, page)
    overdue = page.queues["overdue"]
    assert overdue.total == 2
    assert [r.case.case_number for r in overdue.model.rows()] == [setup.number(setup.dorothea)] * 2
    first, second = overdue.model.rows()
    assert first.due_date < second.due_date and first.days_overdue > second.days_overdue  # oldest first
    assert "O&verdue (2)" == page.tabs.tabText(1)
    qtbot.waitUntil(lambda: badges(window).get("2 overdue") == "2", timeout=5000)

    page.tabs.setCurrentIndex(1)
    overdue.view.selectRow(0)
    dialog = overdue.record_selected()
    f = dialog.form.fields
    f["mode"].set("HomeVisit")
    f["score_economic"].set("3")
    f["risk_level"].set("High")
    dialog.ok_button.click()
    qtbot.waitUntil(lambda: not dialog.busy, timeout=5000)
    # High risk needs a safety note: said under the field, nothing saved.
    assert "High risk needs a safety note" in f["safety_note"].row.error.text()
    assert followup.overdue(window.reg).total == 2
    f["safety_note"].set("Former recruiter seen near the house; police informed.")
    f["outcome"].set("Living with her aunt.")
    dialog.ok_button.click()
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=5000)

    # The queue, the tab titles and the navigation's badges follow at once.
    qtbot.waitUntil(lambda: overdue.total == 1, timeout=5000)
    qtbot.waitUntil(lambda: page.queues["high_risk"].total == 1, timeout=5000)
    assert page.tabs.tabText(1) == "O&verdue (1)" and page.tabs.tabText(2) == "&High risk (1)"
    qtbot.waitUntil(lambda: badges(window).get("1 overdue") == "1" and badges(window).get("1 high risk") == "1",
                    timeout=5000)
    done = [x for x in followup.followups_of_case(window.reg, setup.dorothea) if x.status == "Done"]
    assert len(done) == 1 and done[0].mode == "HomeVisit" and done[0].score_economic == 3
    assert done[0].risk_level == "High" and done[0].done_by == "admin"


def test_a_queue_row_opens_the_case_at_its_follow_up_section(qtbot, window, setup) -> None:
    window.go("followup")
    page = window.pages["followup"]
    wait_counts(qtbot, page)
    overdue = page.queues["overdue"]
    overdue.view.selectRow(0)
    qtbot.keyClick(overdue.view, Qt.Key.Key_Return)
    cases = window.pages["cases"]
    qtbot.waitUntil(lambda: bool(cases.editors()), timeout=5000)
    editor = cases.editors()[0]
    from ui.case_editor import SECTIONS

    assert window.stack.currentWidget() is cases
    assert editor.sections.currentIndex() == SECTIONS.index("followup")
    section = editor.work.sections["followup"]
    qtbot.waitUntil(lambda: section.model.rowCount() == 10, timeout=5000)
    assert "Standard (36 months): started" in section.plan_label.text()
    assert "10 follow-up(s) still to do" in section.plan_label.text()
    states = [section.model.data(section.model.index(r, 1)) for r in range(10)]
    assert states[:2] == ["overdue", "overdue"] and set(states[2:]) == {"to do"}
    assert "2 overdue, 8 to do" in section.strip.accessibleDescription()

    # Record the next one from the section; the timeline and the queues follow.
    dialog = section.record()
    assert dialog.followup_id == section.model.row_at(0).id
    dialog.form.fields["mode"].set("Phone")
    dialog.form.fields["risk_level"].set("Low")
    dialog.ok_button.click()
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=5000)
    qtbot.waitUntil(lambda: section.model.data(section.model.index(0, 1)) == "done", timeout=5000)
    assert "1 done, 1 overdue, 8 to do" in section.strip.accessibleDescription()
    qtbot.waitUntil(lambda: page.queues["overdue"].total == 1, timeout=5000)


def test_move_cancel_and_change_the_plan(qtbot, window, setup) -> None:
    window.go("cases")
    cases = window.pages["cases"]
    cases.open_case(setup.dorothea, lambda e: e.show_section("followup"))
    qtbot.waitUntil(lambda: bool(cases.editors()), timeout=5000)
    section = cases.editors()[0].work.sections["followup"]
    qtbot.waitUntil(lambda: section.model.rowCount() == 10, timeout=5000)
    section.view.selectRow(2)
    moved = section.model.row_at(2)
    dialog = section.move()
    dialog.form.fields["due_date"].set(moved.due_date + dt.timedelta(days=5))
    dialog.ok_button.click()
    qtbot.waitUntil(lambda: not dialog.busy, timeout=5000)
    assert "Say why the follow-up is moved" in dialog.message.text() + dialog.form.fields["reason"].row.error.text()
    dialog.form.fields["reason"].set("She travels to see her mother that week.")
    dialog.ok_button.click()
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=5000)
    qtbot.waitUntil(lambda: any(f.due_date == moved.due_date + dt.timedelta(days=5) for f in section.model.rows()),
                    timeout=5000)

    dialog = section.change_plan()
    dialog.form.fields["kind"].set("shorten")
    assert dialog.form.fields["until"].row.isVisibleTo(dialog)
    assert not dialog.form.fields["to_months"].row.isVisibleTo(dialog)
    dialog.form.fields["until"].set(TODAY + dt.timedelta(days=400))
    dialog.form.fields["reason"].set("Stable for a year; case conference decided to shorten.")
    dialog.ok_button.click()
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=5000)
    qtbot.waitUntil(lambda: any(f.status == "Cancelled" for f in section.model.rows()), timeout=5000)
    plan = followup.plans_of_case(window.reg, setup.dorothea)[0]
    assert all(f.status == "Cancelled" for f in plan.followups if f.due_date > TODAY + dt.timedelta(days=400))
    assert "cancelled" in [section.model.data(section.model.index(r, 1)) for r in range(section.model.rowCount())]
