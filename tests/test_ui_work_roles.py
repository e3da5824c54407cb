"""Who sees and does what on the new pages: the analyst never sees a name (every widget's text is
walked), read-only roles get no buttons that change anything; an administrator's settings tabs
work (plans, facilities and beds, partners, screening weights, the linkage key, language)."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.ui_work_helpers import ANALYST, NAMES, build_register, close_window, open_window
from tests.ui_helpers import all_visible_text
from tipdesk.services import facilities, followup, followup_plans, linkage, organisations, screening

pytestmark = [pytest.mark.gui, pytest.mark.qt_log_level_fail("WARNING"),
              pytest.mark.qt_log_ignore(r"This plugin does not support .*")]


@pytest.fixture
def setup(created):
    s = build_register(created.register)
    reg = created.register
    # something on every page: a waiting list entry, a high-risk visit, notes with no name
    facilities.add_to_waiting_list(reg, s.annabel, s.hope, note="asked by Annabel's sister")
    first = followup.overdue(reg).rows[0]
    followup.record_followup(reg, first.followup_id, followup.Visit(
        dt.date.today(), "HomeVisit", "High", safety_note="Dorothea fears her uncle", outcome="Beatrix visited too"))
    return s


def test_an_analyst_sees_no_name_on_shelter_follow_up_dashboard_and_case_sections(qtbot, setup) -> None:
    win = open_window(qtbot, setup.path, *ANALYST)
    try:
        assert set(win.specs) >= {"shelter", "followup", "dashboard"} and "admin" not in win.specs
        win.go("shelter")
        shelter = win.pages["shelter"]
        qtbot.waitUntil(lambda: shelter.board.board_model.rowCount() == 3 and shelter.waiting_model.rowCount() == 1,
                        timeout=10_000)
        assert not shelter.admit_button.isVisible() and not shelter.wait_add_button.isVisible()
        card = next(c for c in shelter.cards() if c.occupied)
        assert card.stay.case.first_name is None and card.stay.case.person_name is None
        assert "Name" not in [c.title for c in shelter.waiting_model.columns]
        sheet = shelter.sheet_text(with_case_numbers=True)
        win.go("followup")
        fu = win.pages["followup"]
        qtbot.waitUntil(lambda: fu.queues["high_risk"].total == 1 and fu.queues["overdue"].total == 1, timeout=10_000)
        assert not fu.queues["overdue"].record_button.isVisible()
        win.go("dashboard")
        dash = win.pages["dashboard"]
        qtbot.waitUntil(lambda: dash.complete, timeout=20_000)
        # the case editor's new sections, opened from the follow-up queue
        win.go("followup")
        fu.queues["high_risk"].view.selectRow(0)
        fu.queues["high_risk"].open_selected()
        cases = win.pages["cases"]
        qtbot.waitUntil(lambda: bool(cases.editors()), timeout=5000)
        editor = cases.editors()[0]
        for key in ("shelter", "services", "followup"):
            editor.show_section(key)
            section = editor.work.sections[key]
            qtbot.waitUntil(lambda s=section: not s.stale, timeout=5000)
            assert not any(b.isVisible() for b in section.buttons.values())
        qtbot.waitUntil(lambda: editor.work.sections["followup"].model.rowCount() == 10, timeout=5000)
        done = next(f for f in editor.work.sections["followup"].model.rows() if f.status == "Done")
        assert done.safety_note is None and done.outcome is None  # free text never reaches the analyst
        qtbot.wait(200)
        text = all_visible_text() + "\n" + sheet
        for name in NAMES:
            assert name not in text, name
    finally:
        close_window(win)


def test_settings_tabs_change_plans_facilities_partners_weights_and_keys(qtbot, setup, tmp_path) -> None:
    win = open_window(qtbot, setup.path)
    try:
        win.go("admin")
        admin = win.pages["admin"]
        titles = [admin.tabs.tabText(i).replace("&", "") for i in range(admin.tabs.count())]
        assert titles[:3] == ["Users", "Office", "Security"]
        assert titles[-6:] == ["Follow-up plans", "Facilities", "Partners", "Screening", "Keys", "Language"]
        tabs = {t: admin.tabs.widget(i) for i, t in enumerate(titles)}

        plans = tabs["Follow-up plans"]
        qtbot.waitUntil(lambda: plans.model.rowCount() == 1, timeout=5000)
        dialog = plans.new()
        dialog.form.fields["name"].set("Short (6 months)")
        dialog.form.fields["months"].set("1, 2, x")
        dialog.ok_button.click()
        assert "whole numbers" in dialog.form.fields["months"].row.error.text()
        dialog.form.fields["months"].set("1, 3, 6")
        dialog.ok_button.click()
        qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=5000)
        qtbot.waitUntil(lambda: plans.model.rowCount() == 2, timeout=5000)
        assert [d.months for d in followup_plans.list_plan_definitions(win.reg) if d.name.startswith("Short")] == [(1, 3, 6)]

        fac = tabs["Facilities"]
        qtbot.waitUntil(lambda: fac.model.rowCount() == 2, timeout=5000)
        dialog = fac.new()
        dialog.form.fields["code"].set("HWS")
        dialog.form.fields["name"].set("Second house")
        dialog.form.fields["bed_labels"].set(("Bed 1", "Bed 2"))
        dialog.ok_button.click()
        qtbot.waitUntil(lambda: not dialog.busy, timeout=5000)
        assert "Another facility already has the code HWS" in dialog.form.fields["code"].row.error.text()
        dialog.form.fields["code"].set("SEC")
        dialog.ok_button.click()
        qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=5000)
        qtbot.waitUntil(lambda: fac.model.rowCount() == 3 and fac.beds.rowCount() == 2, timeout=5000)
        bed = fac.add_bed()
        bed.form.fields["label"].set("Bed 3")
        bed.ok_button.click()
        qtbot.waitUntil(lambda: fac.beds.rowCount() == 3, timeout=5000)
        second = next(f for f in facilities.list_facilities(win.reg) if f.code == "SEC")
        assert second.capacity == 3 and [b.label for b in second.beds] == ["Bed 1", "Bed 2", "Bed 3"]

        partners = tabs["Partners"]
        dialog = partners.new()
        dialog.form.fields["name"].set("Harbour Clinic")
        dialog.form.fields["org_type"].set("HealthServiceOrganisation")
        dialog.form.fields["country"].set("JAM")
        dialog.ok_button.click()
        qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=5000)
        assert [o.org_type for o in organisations.list_organisations(win.reg) if o.name == "Harbour Clinic"] == [
            "HealthServiceOrganisation"]

        weights = tabs["Screening"]
        qtbot.waitUntil(lambda: weights.threshold.value() == 4, timeout=5000)
        weights.spins["violence"].setValue(7)
        weights.save()
        qtbot.waitUntil(lambda: screening.get_screening_settings(win.reg).weights["violence"] == 7, timeout=5000)

        keys = tabs["Keys"]
        qtbot.waitUntil(lambda: keys.linkage.text() == "not set", timeout=5000)
        assert keys.secret.text().startswith("set (fingerprint ")
        bad = tmp_path / "bad.txt"
        bad.write_text("not a key")
        keys.set_from_file(bad)
        qtbot.waitUntil(lambda: "64 hexadecimal digits" in keys.status.text(), timeout=5000)
        good = tmp_path / "key.txt"
        good.write_text("9d87c157613d48af830b69ed2dd7f4fc 0b06d8e5b184b5be57b85620464b56f9\n")
        keys.set_from_file(good)
        qtbot.waitUntil(lambda: keys.linkage.text().startswith("set (fingerprint "), timeout=5000)
        key_id = linkage.key_status(win.reg).linkage_key_id
        assert key_id in keys.linkage.text() and "9d87c157" not in keys.linkage.text()
        assert "9d87c157613d48af" not in all_visible_text()

        language = tabs["Language"]
        assert language.combo.itemData(0) == "en"
        language.save()
        assert "next start" in language.status.text()
    finally:
        close_window(win)


def test_a_case_worker_sees_first_names_on_the_board_and_names_in_the_queues(qtbot, setup) -> None:
    """The counterpart of the analyst's test: the same walk finds the names a case worker may see."""
    from tests.ui_work_helpers import CASEWORKER

    win = open_window(qtbot, setup.path, *CASEWORKER)
    try:
        win.go("shelter")
        shelter = win.pages["shelter"]
        qtbot.waitUntil(lambda: shelter.waiting_model.rowCount() == 1, timeout=10_000)
        assert next(c for c in shelter.cards() if c.occupied).stay.case.first_name == "Beatrix"
        win.go("followup")
        fu = win.pages["followup"]
        qtbot.waitUntil(lambda: fu.queues["high_risk"].total == 1, timeout=10_000)
        text = all_visible_text()
        assert "Beatrix" in text and "Annabel Zephyrine" in text and "Dorothea Wintergreen" in text
        assert "Beatrix" not in shelter.sheet_text(with_case_numbers=True)  # the wall sheet: never
    finally:
        close_window(win)
