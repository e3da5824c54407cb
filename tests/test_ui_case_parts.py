"""The parts of a case changed on their own in the editor: case status, trafficking status
(with undo), referrals and justice stages (change, record the outcome, remove after asking) —
driven through the real widgets offscreen."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QApplication,
    QComboBox,
    QDialog,
    QLabel,
    QLineEdit,
    QMessageBox,
    QWidget,
)
from sqlalchemy import select

from models import AuditEvent
from tests.conftest import ADMIN_PASSWORD, FAST_KDF
from tests.factories import add_case, add_partner
from tests.ui_helpers import main_window, submit_login
from tipdesk.security import accounts
from tipdesk.services import justice, referrals
from tipdesk.services.records import JusticeStageInput, ReferralInput
from tipdesk.vault.register import open_register

pytestmark = [
    pytest.mark.gui,
    pytest.mark.qt_log_level_fail("WARNING"),
    pytest.mark.qt_log_ignore(r"This plugin does not support .*"),
]

REGISTERED = dt.date(2025, 9, 1)
TODAY = dt.date.today()


@pytest.fixture
def register_path_with_case(created) -> Path:
    reg = created.register
    partner = add_partner(reg, "Legal Aid Clinic", "LegalService")
    add_partner(reg, "Open Arms Shelter")
    case = add_case(reg, given_names="Zebediah", family_names="Quartermaine", registered=REGISTERED,
                    police_reference="JCF-2025-77")
    referrals.add_referral(reg, case.id, ReferralInput("Out", partner.id, dt.date(2025, 9, 3),
                                                       "AdditionalServicesRequired", "Immigration advice"))
    justice.add_justice_stage(reg, case.id, JusticeStageInput("Reported to police", dt.date(2025, 9, 2)))
    justice.add_justice_stage(reg, case.id, JusticeStageInput("Investigation opened", dt.date(2025, 9, 20)))
    accounts.add_user(reg, "ana", "analyst", "analyst-pw-123", "", kdf=FAST_KDF)
    path = reg.path
    reg.close()
    return path


@pytest.fixture
def window(qtbot, register_path_with_case):
    with main_window(qtbot, register_path_with_case) as win:
        yield win


def open_case(qtbot, win, user: str = "admin", password: str = ADMIN_PASSWORD):
    submit_login(qtbot, win, user, password)
    page = win.pages["cases"]
    qtbot.waitUntil(lambda: not page._busy and page.model.rowCount() == 1, timeout=10_000)
    page.view.selectRow(0)
    page.open_selected()
    qtbot.waitUntil(lambda: len(page.editors()) == 1, timeout=5000)
    return page, page.editors()[0]


def actions(path: Path) -> list[tuple[str, dict]]:
    reg = open_register(path, "admin", ADMIN_PASSWORD, via="check")
    try:
        with reg.read() as s:
            return [(a, json.loads(d) if d else {}) for a, d in
                    s.execute(select(AuditEvent.action, AuditEvent.details).order_by(AuditEvent.id))]
    finally:
        reg.close()


def visible_box(parent: QWidget) -> QMessageBox:
    return next(w for w in parent.findChildren(QMessageBox) if w.isVisible())


def click(box: QMessageBox, text: str) -> None:
    next(b for b in box.buttons() if b.text() == text).click()


def activate(qtbot, win) -> None:
    win.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is win, timeout=3000)


def test_closing_needs_a_reason_next_to_the_field_and_can_be_undone(qtbot, window, register_path_with_case):
    page, editor = open_case(qtbot, window)
    editor.sections.setCurrentIndex(1)
    assert editor.status_values["case"].text() == f"Active, since {REGISTERED.isoformat()}"
    assert not editor.undo_status_buttons["case"].isEnabled()  # nothing to undo yet
    editor.change_status_buttons["case"].click()
    dialog = editor.status_dialog
    qtbot.waitUntil(dialog.isVisible, timeout=3000)
    f = dialog.form.fields
    f["status"].set("Closed")
    assert f["reason"].row.isVisible()  # asked only when closing
    f["effective_date"].edit.setText((TODAY + dt.timedelta(days=3)).isoformat())
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: f["reason"].row.error.isVisible(), timeout=5000)
    assert "reason for closing" in f["reason"].row.error.text()
    assert dialog.isVisible() and editor.detail.case_status == "Active"  # nothing changed
    f["effective_date"].edit.setText("2025-13-40")
    dialog.submit()
    assert "year-month-day" in f["effective_date"].row.error.text()
    f["effective_date"].edit.setText((TODAY + dt.timedelta(days=3)).isoformat())
    f["reason"].edit.setText("Returned home to her family")
    dialog.submit()
    qtbot.waitUntil(lambda: f["effective_date"].row.error.isVisible(), timeout=5000)
    assert "future" in f["effective_date"].row.error.text()
    f["effective_date"].edit.setText("2025-10-15")
    dialog.submit()
    qtbot.waitUntil(lambda: editor.detail.case_status == "Closed", timeout=5000)
    assert not any(d.isVisible() for d in editor.findChildren(QDialog))  # closed on success
    assert editor.status_values["case"].text() == "Closed, since 2025-10-15"
    assert "case closed" in editor.status_line.text()
    assert "Returned home to her family" in editor.history_label.text()
    assert editor.message.text() == "The case status was changed."
    qtbot.waitUntil(lambda: not page._busy, timeout=5000)

    assert editor.undo_status_buttons["case"].isEnabled()
    editor.undo_status_buttons["case"].click()
    box = visible_box(editor)
    assert "“Closed” of 2025-10-15" in box.text() and "“Active” again" in box.text()
    click(box, "Keep it")
    assert editor.detail.case_status == "Closed"
    editor.undo_status_buttons["case"].click()
    click(visible_box(editor), "Undo the change")
    qtbot.waitUntil(lambda: editor.detail.case_status == "Active", timeout=5000)
    assert not editor.undo_status_buttons["case"].isEnabled()
    qtbot.waitUntil(lambda: not page._busy, timeout=5000)
    done = [a for a, _d in actions(register_path_with_case)]
    assert done.count("case_status_changed") == 1 and "case_status_change_undone" in done
    changed = next(d for a, d in actions(register_path_with_case) if a == "case_status_changed")
    assert changed["case_status"] == ["Active", "Closed"] and changed["reason"] == "Returned home to her family"


@pytest.fixture
def register_with_open_work(register_path_with_case) -> Path:
    """The case's person is placed in a shelter and the case has an active follow-up plan."""
    from tipdesk.services import cases
    from tipdesk.services import facilities as fac
    from tipdesk.services import followup as fu
    from tipdesk.services import placements as pl

    reg = open_register(register_path_with_case, "admin", ADMIN_PASSWORD)
    try:
        case_id = cases.find_case_id(reg, "OAS-2025-0001")
        house = fac.create_facility(reg, fac.FacilityFields(code="SH", name="Safe House", capacity=2))
        pl.admit(reg, case_id, house.id, dt.date(2025, 9, 2))
        fu.start_plan(reg, case_id, dt.date(2025, 9, 10), reason="reintegration")
    finally:
        reg.close()
    return register_path_with_case


def test_closing_with_open_work_says_what_is_open_and_needs_a_reason_to_close_anyway(
        qtbot, window, register_with_open_work):
    from tipdesk.services import followup as fu

    page, editor = open_case(qtbot, window)
    editor.change_status_buttons["case"].click()
    dialog = editor.status_dialog
    qtbot.waitUntil(lambda: bool(dialog.warnings), timeout=5000)
    f = dialog.form.fields
    assert not dialog.open_work.isVisible()  # only when closing
    f["status"].set("Closed")
    assert dialog.open_work.isVisible() and f["open_work_reason"].row.isVisible()
    assert "still placed in a shelter" in dialog.open_work.text()
    assert "active follow-up plan" in dialog.open_work.text()
    f["effective_date"].set(dt.date(2025, 10, 15))
    f["reason"].edit.setText("Moved abroad")
    dialog.submit()
    qtbot.waitUntil(lambda: f["open_work_reason"].row.error.isVisible(), timeout=5000)
    assert "give the reason to close anyway" in f["open_work_reason"].row.error.text()
    assert editor.detail.case_status == "Active"
    f["open_work_reason"].edit.setText("The family took her abroad; the partner NGO follows up.")
    dialog.submit()
    qtbot.waitUntil(lambda: editor.detail.case_status == "Closed", timeout=5000)
    qtbot.waitUntil(lambda: not page._busy, timeout=5000)
    changed = next(d for a, d in actions(register_with_open_work) if a == "case_status_changed")
    assert changed["open_work_reason"] == "The family took her abroad; the partner NGO follows up."
    reg = open_register(register_with_open_work, "admin", ADMIN_PASSWORD, via="check")
    try:
        (plan,) = fu.plans_of_case(reg, editor.detail.id)
    finally:
        reg.close()
    assert plan.status == "Cancelled" and {f.status for f in plan.followups} == {"Cancelled"}


def test_an_actual_victim_needs_the_deciding_body(qtbot, window, register_path_with_case):
    page, editor = open_case(qtbot, window)
    editor.sections.setCurrentIndex(1)
    editor.change_status_buttons["trafficking"].click()
    dialog = editor.status_dialog
    f = dialog.form.fields
    f["status"].set("ActualVictimOfTrafficking")
    f["effective_date"].set(dt.date(2025, 10, 1))
    dialog.submit()
    qtbot.waitUntil(lambda: f["decided_by"].row.error.isVisible(), timeout=5000)
    assert "Say which body decided" in f["decided_by"].row.error.text()
    assert dialog.isVisible()
    f["decided_by"].set("Police")
    f["note"].edit.setText("Confirmed by the TIP unit")
    dialog.submit()
    qtbot.waitUntil(lambda: editor.detail.trafficking_status == "ActualVictimOfTrafficking", timeout=5000)
    assert editor.status_values["trafficking"].text() == "Actual victim of trafficking, since 2025-10-01"
    assert "2025-10-01: Actual victim of trafficking (Police)" in editor.history_label.text()
    assert editor.status_line.text().startswith("Actual victim of trafficking")
    qtbot.waitUntil(lambda: not page._busy, timeout=5000)
    changed = next(d for a, d in actions(register_path_with_case) if a == "trafficking_status_changed")
    assert changed["decided_by"] == "Police" and changed["note"] == "Confirmed by the TIP unit"


def test_edits_in_the_form_survive_a_status_change_and_save_afterwards(qtbot, window):
    page, editor = open_case(qtbot, window)
    editor.form.fields["phone"].edit.setText("876-555-0101")
    assert editor.has_unsaved()
    editor.change_status_buttons["case"].click()
    dialog = editor.status_dialog
    dialog.form.fields["status"].set("FollowUp")
    dialog.form.fields["effective_date"].set(dt.date(2025, 10, 1))
    dialog.submit()
    qtbot.waitUntil(lambda: editor.detail.case_status == "FollowUp", timeout=5000)
    assert editor.form.fields["phone"].edit.text() == "876-555-0101" and editor.has_unsaved()
    editor.save()  # with the case's new version: no conflict
    qtbot.waitUntil(lambda: editor.message.text() == "Saved.", timeout=5000)
    assert editor.detail.person.phone == "876-555-0101" and editor.detail.case_status == "FollowUp"
    qtbot.waitUntil(lambda: not page._busy, timeout=5000)


def test_a_referral_is_changed_accepted_on_a_date_and_removed_after_asking(qtbot, window, register_path_with_case):
    page, editor = open_case(qtbot, window)
    editor.sections.setCurrentIndex(4)
    table = editor.referrals
    assert table.rowCount() == 1 and table.item(0, 4).text() == "Pending"
    assert not editor.change_referral_button.isEnabled()
    activate(qtbot, window)
    table.setFocus()
    table.selectRow(0)
    qtbot.keyClick(table, Qt.Key.Key_Return)  # Enter changes the selected referral
    assert editor.ref_box.title() == "Change the referral of 2025-09-03 (Legal Aid Clinic)"
    assert editor.add_referral_button.text() == "Save the referral"
    f = editor.ref_form.fields
    assert f["details"].get() == "Immigration advice" and f["outcome_date"].edit.isReadOnly()
    f["outcome"].set("Accepted")
    assert f["outcome_date"].get() == TODAY and not f["outcome_date"].edit.isReadOnly()
    f["outcome_date"].edit.setText("2025-09-01")  # before the referral itself
    editor.add_referral_button.click()
    qtbot.waitUntil(lambda: f["outcome_date"].row.error.isVisible(), timeout=5000)
    assert "before the referral date" in f["outcome_date"].row.error.text()
    f["outcome_date"].edit.setText("2025-09-05")
    editor.add_referral_button.click()
    qtbot.waitUntil(lambda: editor.detail.referrals[0].outcome == "Accepted", timeout=5000)
    assert (table.item(0, 4).text(), table.item(0, 5).text()) == ("Accepted", "2025-09-05")
    assert editor.ref_box.title() == "Add a referral" and editor.message.text() == "The referral was changed."
    assert not editor.stop_referral_button.isVisible()

    table.selectRow(0)
    editor.remove_referral_button.click()
    box = visible_box(editor)
    assert "Remove the referral of 2025-09-03 (outgoing, Legal Aid Clinic)?" in box.text()
    assert box.defaultButton().text() == "Keep it"  # destructive: Enter keeps it
    click(box, "Keep it")
    assert table.rowCount() == 1
    editor.remove_referral_button.click()
    click(visible_box(editor), "Remove it")
    qtbot.waitUntil(lambda: table.rowCount() == 0, timeout=5000)
    assert editor.message.text() == "The referral was removed."
    qtbot.waitUntil(lambda: not page._busy, timeout=5000)
    done = dict(actions(register_path_with_case))
    assert done["referral_changed"]["outcome"] == ["Pending", "Accepted"]
    assert done["referral_removed"]["outcome"] == "Accepted"


def test_a_justice_stage_is_changed_and_removed_after_asking(qtbot, window, register_path_with_case):
    page, editor = open_case(qtbot, window)
    editor.sections.setCurrentIndex(5)
    table = editor.stages
    assert [table.item(r, 0).text() for r in range(2)] == ["Reported to police", "Investigation opened"]
    table.selectRow(1)
    editor.change_stage_button.click()
    f = editor.stage_form.fields
    assert editor.stage_box.title() == "Change the stage “Investigation opened” of 2025-09-20"
    f["stage_date"].edit.setText("2025-08-01")  # before it was reported: the core's order rule
    editor.add_stage_button.click()
    qtbot.waitUntil(lambda: f["stage_date"].row.error.isVisible(), timeout=5000)
    assert "cannot be dated before" in f["stage_date"].row.error.text()
    f["stage_date"].edit.setText("2025-09-25")
    f["note"].edit.setText("Detective Sgt. assigned")
    editor.add_stage_button.click()
    qtbot.waitUntil(lambda: editor.detail.justice_stages[1].stage_date == dt.date(2025, 9, 25), timeout=5000)
    assert table.item(1, 2).text() == "Detective Sgt. assigned"
    editor.stop_stage_button.click() if editor.stop_stage_button.isVisible() else None
    table.selectRow(0)
    editor.remove_stage_button.click()
    click(visible_box(editor), "Remove it")
    qtbot.waitUntil(lambda: table.rowCount() == 1, timeout=5000)
    assert table.item(0, 0).text() == "Investigation opened"
    qtbot.waitUntil(lambda: not page._busy, timeout=5000)
    done = [a for a, _d in actions(register_path_with_case)]
    assert "justice_stage_changed" in done and "justice_stage_removed" in done


def inside_a_view(w: QWidget) -> bool:
    """Headers and corner buttons of a table belong to the table (one Tab stop)."""
    parent = w.parentWidget()
    while parent is not None:
        if isinstance(parent, QAbstractItemView):
            return True
        parent = parent.parentWidget()
    return False


def test_every_control_is_named_labelled_and_reachable_by_tab(qtbot, window):
    page, editor = open_case(qtbot, window)
    activate(qtbot, window)
    for index in (1, 4, 5):
        editor.sections.setCurrentIndex(index)
        section = editor.sections.currentWidget()
        qtbot.wait(20)
        for label in section.findChildren(QLabel):
            if "&" in label.text():
                assert label.buddy() is not None, label.text()
        wanted = [w for w in section.findChildren(QWidget)
                  if isinstance(w, QAbstractButton | QLineEdit | QComboBox | QAbstractItemView)
                  and w.isVisibleTo(section) and w.isEnabled() and not inside_a_view(w)]
        for w in wanted:
            assert w.accessibleName() or (isinstance(w, QAbstractButton) and w.text()), w
        # walk the Tab order from the section's tab bar and see every control come by
        editor.sections.tabBar().setFocus()
        reached: set[int] = set()
        for _ in range(200):
            qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Tab)
            reached.add(id(QApplication.focusWidget()))
        missing = [w.accessibleName() or w.objectName() for w in wanted
                   if w.focusPolicy() & Qt.FocusPolicy.TabFocus and id(w) not in reached]
        assert missing == [], (index, missing)
    editor.sections.setCurrentIndex(1)
    editor.change_status_buttons["case"].click()
    dialog = editor.status_dialog
    for label in dialog.findChildren(QLabel):
        if "&" in label.text():
            assert label.buddy() is not None
    assert dialog.form.fields["status"].widget.accessibleName() == "New status"
    dialog.reject()


def test_an_analyst_can_read_the_statuses_but_change_nothing(qtbot, window):
    page, editor = open_case(qtbot, window, "ana", "analyst-pw-123")
    editor.sections.setCurrentIndex(1)
    assert editor.status_values["case"].text().startswith("Active")
    assert not any(b.isVisible() for b in editor.change_status_buttons.values())
    assert not any(b.isVisible() for b in editor.undo_status_buttons.values())
    editor.sections.setCurrentIndex(4)
    editor.referrals.selectRow(0)
    assert not editor.change_referral_button.isEnabled() and not editor.ref_box.isEnabled()
    editor.change_status("case")
    assert not hasattr(editor, "status_dialog")
