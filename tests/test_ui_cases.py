"""The case list and the case editor, driven through real widgets offscreen."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QMessageBox
from sqlalchemy import select

from models import AuditEvent
from tests.conftest import ADMIN_PASSWORD, FAST_KDF
from tests.factories import add_case, add_partner
from tests.ui_helpers import all_visible_text, main_window, submit_login
from tipdesk.security import accounts
from tipdesk.services import drafts as drafts_service
from tipdesk.vault.register import open_register

pytestmark = [
    pytest.mark.gui,
    pytest.mark.qt_log_level_fail("WARNING"),
    pytest.mark.qt_log_ignore(r"This plugin does not support .*"),
]

PERSON = ("Zebediah", "Quartermaine")
NAME_PARTS = ("Zebediah", "Quartermaine")


def audit_actions(path: Path) -> list[str]:
    reg = open_register(path, "admin", ADMIN_PASSWORD, via="check")
    try:
        with reg.read() as s:
            return list(s.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))
    finally:
        reg.close()


@pytest.fixture
def register_with_cases(created) -> Path:
    reg = created.register
    add_partner(reg, "Open Arms Shelter")
    others = [("Ana", "Brown", "Feminine"), ("Maria", "Campbell", "Feminine"),
              ("Devon", "Williams", "Masculine"), ("Keisha", "Reid", "Feminine")]
    for i in range(24):
        g, f, gender = others[i % 4]
        add_case(reg, given_names=g, family_names=f"{f}{i}", gender=gender,
                 registered=dt.date(2025, 1, 6) + dt.timedelta(days=7 * i))
    add_case(reg, given_names=PERSON[0], family_names=PERSON[1], registered=dt.date(2025, 9, 1),
             police_reference="JCF-2025-77")
    accounts.add_user(reg, "ana", "analyst", "analyst-pw-123", "", kdf=FAST_KDF)
    path = reg.path
    reg.close()
    return path


@pytest.fixture
def window(qtbot, register_with_cases):
    with main_window(qtbot, register_with_cases) as win:
        yield win


def sign_in(qtbot, win, user: str = "admin", password: str = ADMIN_PASSWORD):
    submit_login(qtbot, win, user, password)
    page = win.pages["cases"]
    qtbot.waitUntil(lambda: page.model.rowCount() == 25, timeout=10_000)
    return page


def activate(qtbot, win) -> None:
    win.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is win, timeout=3000)


def search(qtbot, page, text: str) -> None:
    page.search_box.setFocus()
    page.search_box.selectAll()
    qtbot.keyClicks(page.search_box, text)
    qtbot.waitUntil(lambda: not page._busy and not page._timer.isActive()
                    and page.filter.text == text, timeout=5000)


def open_first(qtbot, page):
    page.view.selectRow(0)
    qtbot.keyClick(page.view, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: len(page.editors()) == 1, timeout=5000)
    return page.editors()[0]


def test_search_finds_by_name_and_says_how_many(qtbot, window) -> None:
    page = sign_in(qtbot, window)
    assert page.count_label.text().startswith("25 cases")
    search(qtbot, page, "quarterm")
    assert page.model.rowCount() == 1
    assert page.model.data(page.model.index(0, 1)) == "Quartermaine, Zebediah"
    assert page.count_label.text() == "1 of 25 cases match."
    search(qtbot, page, "nobody-like-this")
    assert page.list_stack.currentWidget() is page.empty
    assert "No case matches" in page.empty.text()


def test_filters_and_sorting_happen_in_the_query(qtbot, window) -> None:
    page = sign_in(qtbot, window)
    sex = page.filters["sex"]
    sex.setCurrentIndex(sex.findData("Male"))
    qtbot.waitUntil(lambda: not page._busy and page.model.rowCount() == 6, timeout=5000)
    assert {page.model.data(page.model.index(r, 2)) for r in range(6)} == {"Male"}
    page.clear_filters()
    qtbot.waitUntil(lambda: not page._busy and page.model.rowCount() == 25, timeout=5000)
    first_newest = page.model.data(page.model.index(0, 0))
    page.view.horizontalHeader().sectionClicked.emit(0)  # case number, ascending
    qtbot.waitUntil(lambda: not page._busy and page.model.data(page.model.index(0, 0)) != first_newest,
                    timeout=5000)
    numbers = [page.model.data(page.model.index(r, 0)) for r in range(25)]
    assert numbers == sorted(numbers)
    page.filters["registered_from"].setText("2025-13-01")
    page.filters["registered_from"].editingFinished.emit()
    assert "year-month-day" in page.filter_error.text()


def test_open_edit_validate_save_and_see_it_in_the_history(qtbot, window, register_with_cases) -> None:
    page = sign_in(qtbot, window)
    search(qtbot, page, "Zebediah")
    editor = open_first(qtbot, page)
    assert editor.detail.case_number in page.tabs.tabText(1)
    assert "case_viewed" in audit_actions(register_with_cases)
    version = editor.detail.version
    birth = editor.form.fields["birth_date"]
    birth.edit.setText("1998-02-30")
    activate(qtbot, window)
    birth.edit.setFocus()
    qtbot.keyClick(birth.edit, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)  # Ctrl+S saves
    assert birth.row.error.isVisible()
    assert "year-month-day" in birth.row.error.text()
    assert "Nothing was saved" in editor.message.text()
    # the core's rule, shown next to the field too
    birth.edit.setText((dt.date.today() + dt.timedelta(days=30)).isoformat())
    editor.save()
    qtbot.waitUntil(lambda: "future" in birth.row.error.text(), timeout=5000)
    assert editor.detail.version == version  # nothing saved
    birth.edit.setText("1998-04-12")
    editor.form.fields["family_names"].edit.setText("Quartermaine-Smith")
    assert editor.has_unsaved() and page.tabs.tabText(1).endswith("*")
    editor.save()
    qtbot.waitUntil(lambda: editor.message.text() == "Saved.", timeout=5000)
    assert not birth.row.error.isVisible()
    assert not editor.has_unsaved()
    editor.show_section("history")
    model = editor.history_model
    qtbot.waitUntil(lambda: model.rowCount() >= 3, timeout=5000)
    rows = [" | ".join(str(model.data(model.index(r, c))) for c in range(4)) for r in range(model.rowCount())]
    changed = next(r for r in rows if "Changed the person's details" in r)
    assert "admin" in changed and "Quartermaine → Quartermaine-Smith" in changed
    qtbot.waitUntil(lambda: not page._busy, timeout=5000)


def test_leaving_with_unsaved_changes_asks_and_esc_cancels(qtbot, window) -> None:
    page = sign_in(qtbot, window)
    editor = open_first(qtbot, page)
    editor.form.fields["phone"].edit.setText("876-555-0101")
    page.close_tab(1)
    box = next(w for w in page.findChildren(QMessageBox) if w.isVisible())
    assert "not saved" in box.text()
    next(b for b in box.buttons() if b.text() == "Keep editing").click()
    assert len(page.editors()) == 1
    activate(qtbot, window)
    editor.form.fields["phone"].edit.setFocus()
    qtbot.keyClick(editor.form.fields["phone"].edit, Qt.Key.Key_Escape)
    box = next(w for w in editor.findChildren(QMessageBox) if w.isVisible())
    next(b for b in box.buttons() if b.text() == "Throw them away").click()
    assert editor.form.fields["phone"].edit.text() == "" and not editor.has_unsaved()


def test_new_case_warns_about_a_duplicate_before_saving(qtbot, window, register_with_cases) -> None:
    page = sign_in(qtbot, window)
    activate(qtbot, window)
    page.view.setFocus()
    qtbot.keyClick(page.view, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: len(page.editors()) == 1, timeout=3000)
    editor = page.editors()[0]
    f = editor.form.fields
    qtbot.keyClicks(f["given_names"].edit, "Zebedia")
    qtbot.keyClicks(f["family_names"].edit, "Quartermain")
    f["gender"].set("Feminine")
    f["birth_date"].edit.setText("1998-04-12")
    qtbot.waitUntil(lambda: editor.dup_box.isVisible(), timeout=5000)
    table = editor.dup_table
    assert table.item(0, 1).text() == "Zebedia Quartermain"
    assert table.item(0, 2).text() == "Quartermaine, Zebediah"
    editor.save()
    assert "same person" in editor.message.text()  # blocked until the worker decides
    editor.different_button.click()
    assert not editor.dup_box.isVisible()
    editor.save()
    qtbot.waitUntil(lambda: editor.detail is not None, timeout=5000)
    assert editor.detail.case_number.startswith("OAS-")
    qtbot.waitUntil(lambda: not page._busy and page.model.rowCount() == 26, timeout=5000)
    reg = open_register(register_with_cases, "admin", ADMIN_PASSWORD, via="check")
    try:
        with reg.read() as s:
            details = s.scalars(select(AuditEvent.details).where(AuditEvent.action == "case_registered")
                                .order_by(AuditEvent.id.desc())).first()
    finally:
        reg.close()
    assert '"dismissed_duplicates":[' in details and '"dismissed_duplicates":[]' not in details


def test_same_person_adds_a_case_to_them(qtbot, window) -> None:
    page = sign_in(qtbot, window)
    page.new_case()
    editor = page.editors()[0]
    editor.form.fields["given_names"].edit.setText("Zebediah")
    editor.form.fields["family_names"].edit.setText("Quartermaine")
    editor.form.fields["gender"].set("Feminine")
    qtbot.waitUntil(lambda: editor.dup_box.isVisible(), timeout=5000)
    editor.same_button.click()
    editor.save()
    qtbot.waitUntil(lambda: editor.detail is not None, timeout=5000)
    assert len(editor.detail.other_cases) == 1


def test_screening_suggests_in_plain_words_and_records_the_decision(qtbot, window) -> None:
    page = sign_in(qtbot, window)
    search(qtbot, page, "Zebediah")
    editor = open_first(qtbot, page)
    editor.sections.setCurrentIndex(1)
    sf = editor.screen_form.fields
    sf["acts"].set(("Recruitment",))
    assert "still missing: the means, a purpose" in editor.suggestion.text()
    sf["means"].set(("Deception",))
    sf["purposes"].set(("SexualExploitation",))
    assert "Actual victim" in editor.suggestion.text()
    editor.record_screening()  # an actual victim needs the deciding body
    qtbot.waitUntil(lambda: editor.message.isVisible() or any(
        f.row.error.isVisible() for f in editor.screen_form.fields.values()), timeout=5000)
    sf["decided_by"].set("NGO")
    editor.record_screening()
    qtbot.waitUntil(lambda: editor.detail.trafficking_status == "ActualVictimOfTrafficking", timeout=5000)
    assert "Earlier screenings" in editor.screenings_label.text()


def test_lock_clears_every_name_and_keeps_the_edit_as_a_draft(qtbot, window, register_with_cases) -> None:
    page = sign_in(qtbot, window)
    search(qtbot, page, "Zebediah")
    editor = open_first(qtbot, page)
    editor.form.fields["phone"].edit.setText("876-555-0199")
    assert PERSON[1] in all_visible_text()
    window.inactivity.set_timeout(0.5)
    with qtbot.waitSignal(window.locked, timeout=5000):
        pass
    QApplication.processEvents()
    qtbot.wait(50)
    text = all_visible_text()
    assert PERSON[1] not in text and PERSON[0] not in text and "876-555-0199" not in text
    reg = open_register(register_with_cases, "admin", ADMIN_PASSWORD, via="check")
    try:
        assert [d.kind for d in drafts_service.list_drafts(reg)] == ["case"]
    finally:
        reg.close()
    login = window.login
    login.password_edit.setText(ADMIN_PASSWORD)
    qtbot.keyClick(login.password_edit, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.reg is not None, timeout=10_000)
    box = None

    def asked() -> bool:
        nonlocal box
        box = next((w for w in QApplication.topLevelWidgets() if isinstance(w, QMessageBox) and w.isVisible()), None)
        return box is not None

    qtbot.waitUntil(asked, timeout=5000)
    next(b for b in box.buttons() if b.text() == "Put them back").click()
    page = window.pages["cases"]
    qtbot.waitUntil(lambda: bool(page.editors()) and page.editors()[0].form.fields["phone"].edit.text()
                    == "876-555-0199", timeout=5000)
    assert page.editors()[0].has_unsaved()


def test_an_analyst_never_sees_a_name_anywhere(qtbot, window) -> None:
    page = sign_in(qtbot, window, "ana", "analyst-pw-123")
    assert "Name" not in [c.title for c in page.model.columns]
    assert not page.new_button.isVisible()
    editor = open_first(qtbot, page)
    for i in range(editor.sections.count()):
        editor.sections.setCurrentIndex(i)
        qtbot.wait(30)
    qtbot.waitUntil(lambda: editor.history_model.rowCount() > 0, timeout=5000)
    search(qtbot, page, "OAS-2025")
    text = all_visible_text()
    for part in NAME_PARTS + ("Brown", "Campbell", "JCF-2025-77"):
        assert part not in text
    assert not editor.save_button.isVisible()


def test_case_models_pass_the_model_tester(qtmodeltester, created) -> None:
    from tipdesk.services import search
    from tipdesk.services.history import case_history
    from ui.case_table import CaseTableModel, HistoryModel

    reg = created.register
    for i in range(5):
        add_case(reg, given_names="Ana", family_names=f"Brown{i}")
    model = CaseTableModel(lambda ids: search.summaries(reg, ids), True)
    model.set_ids(search.case_ids(reg))
    qtmodeltester.check(model, force_py=True)
    assert model.rowCount() == 5 and model.columnCount() == 9
    hidden = CaseTableModel(lambda ids: search.summaries(reg, ids), False)
    hidden.set_ids(search.case_ids(reg))
    qtmodeltester.check(hidden, force_py=True)
    assert hidden.columnCount() == 8
    history = HistoryModel()
    history.set_entries(case_history(reg, search.case_ids(reg)[0]))
    qtmodeltester.check(history, force_py=True)


def test_rows_are_fetched_a_page_at_a_time(created) -> None:
    from ui.case_table import PAGE_SIZE, CaseTableModel

    fetched: list[int] = []

    def fetch(ids):
        fetched.append(len(ids))
        return []

    model = CaseTableModel(fetch, True)
    model.set_ids(list(range(1, 1001)))
    assert fetched == []  # nothing read until a row is shown
    model.data(model.index(0, 0))
    model.data(model.index(5, 3))
    model.data(model.index(999, 0))
    assert fetched == [PAGE_SIZE, PAGE_SIZE]


def test_rows_read_in_the_background_show_dots_until_they_arrive(reg) -> None:
    """The window's list never reads the register while painting: an unread row shows "…",
    the newest screen asked for is read first, and rows that arrive for a list that changed
    meanwhile are dropped."""
    from tipdesk.services import search as search_service
    from ui.case_table import PAGE_SIZE, CaseTableModel

    made = [add_case(reg, given_names=f"Person{i}", family_names="Background",
                     registered=dt.date(2025, 1, 1) + dt.timedelta(days=i)) for i in range(3 * PAGE_SIZE)]
    ids = [c.id for c in made]
    model = CaseTableModel(lambda _ids: pytest.fail("read while painting"), True)
    model.read_in_background = True
    asked: list[int] = []
    model.pages_needed.connect(lambda: asked.append(1))
    model.set_ids(ids)
    assert model.data(model.index(PAGE_SIZE + 3, 0)) == "…" and asked == [1]
    assert model.data(model.index(2 * PAGE_SIZE + 3, 0)) == "…"  # the user dragged on
    first, wanted = model.next_wanted()
    assert first == 2 and wanted == ids[2 * PAGE_SIZE:3 * PAGE_SIZE]  # the newest screen first
    assert model.next_wanted() is None  # the screen left behind is not read
    changed: list[int] = []
    model.dataChanged.connect(lambda top, _bottom: changed.append(top.row()))
    model.attach_pages(first, wanted, search_service.summaries(reg, wanted), 1.0)
    assert changed == [2 * PAGE_SIZE]
    assert model.data(model.index(2 * PAGE_SIZE + 3, 0)) == made[2 * PAGE_SIZE + 3].case_number
    assert model.data(model.index(2 * PAGE_SIZE + 3, 1)) == "Background, Person103"
    # A list replaced while its rows were being read: the late rows are not shown in it.
    model.set_ids(list(reversed(ids)))
    model.attach_pages(first, wanted, search_service.summaries(reg, wanted), 1.0)
    assert model.data(model.index(2 * PAGE_SIZE + 3, 0)) == "…"


def test_a_screenful_late_in_a_page_reads_the_next_page_in_the_same_query(created) -> None:
    from ui.case_table import PAGE_SIZE, SCREEN_ROWS, CaseTableModel

    fetched: list[list[int]] = []

    def fetch(ids):
        fetched.append(list(ids))
        return []

    model = CaseTableModel(fetch, True)
    model.set_ids(list(range(1, 1001)))
    late_row = 3 * PAGE_SIZE + PAGE_SIZE - SCREEN_ROWS + 5
    model.data(model.index(late_row, 0))
    assert fetched == [list(range(3 * PAGE_SIZE + 1, 5 * PAGE_SIZE + 1))]  # pages 3 and 4 at once
    model.data(model.index(4 * PAGE_SIZE + 10, 0))  # the next page is there already
    assert len(fetched) == 1
    assert model.data(model.index(late_row, 0)) == "(no longer in the register)"  # nothing came back
