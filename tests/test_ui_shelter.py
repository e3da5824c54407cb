"""The shelter board through real widgets: admit, a double booking refused, a second open stay
refused, an eligibility exception, transfer, discharge into follow-up, the waiting list and the
occupancy sheet (a PDF without names)."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess

import pytest
from PySide6.QtCore import Qt

from tests.ui_work_helpers import NAMES, TODAY, Setup, build_register, close_window, open_window
from tipdesk.services import followup, placements

pytestmark = [pytest.mark.gui, pytest.mark.qt_log_level_fail("WARNING"),
              pytest.mark.qt_log_ignore(r"This plugin does not support .*")]


@pytest.fixture
def setup(created) -> Setup:
    return build_register(created.register)


@pytest.fixture
def page(qtbot, setup):
    win = open_window(qtbot, setup.path)
    win.go("shelter")
    page = win.pages["shelter"]
    qtbot.waitUntil(lambda: page.board.board_model.rowCount() == 3, timeout=10_000)
    yield page
    close_window(win)


def card_row(page, label: str) -> int:
    return next(r for r, c in enumerate(page.board.board_model.cards()) if c.label == label)


def select(page, label: str) -> None:
    page.board.setCurrentIndex(page.board.board_model.index(card_row(page, label)))


def submit(qtbot, dialog) -> None:
    """Press OK and wait until the core answered (closed, or a problem shown)."""
    dialog.ok_button.click()
    qtbot.waitUntil(lambda: not dialog.busy, timeout=10_000)


def test_the_board_shows_beds_and_who_is_in_them(page) -> None:
    assert page.facility().code == "HWS"  # the largest facility in service comes first
    cards = {c.label: c for c in page.board.board_model.cards()}
    assert cards["Room 1"].occupied and cards["Room 1"].stay.case.first_name == "Beatrix"
    assert not cards["Room 2"].occupied
    assert "1 of 3 places taken tonight, 2 free" in page.summary.text()
    said = page.board.board_model.data(page.board.board_model.index(card_row(page, "Room 1")),
                                       Qt.ItemDataRole.AccessibleTextRole)
    assert said.startswith("Room 1: case ") and "(Beatrix), since" in said and "10 nights" in said
    assert "purple: reserved for a waiting case" in page.legend.text()


def test_admit_then_a_double_booking_and_a_second_stay_are_refused(qtbot, page, setup) -> None:
    select(page, "Room 2")
    dialog = page.admit()
    assert dialog.bed.get() == setup.rooms["Room 2"]
    dialog.case_field.set(_number(setup, setup.annabel))
    submit(qtbot, dialog)
    assert not dialog.isVisible()
    qtbot.waitUntil(lambda: page.board.board_model.cards()[card_row(page, "Room 2")].occupied, timeout=5000)
    assert "was admitted to Room 2" in page.message.text()

    # Room 1 has been Beatrix's for ten nights: a stay in it from five days ago is a double booking.
    dialog = page.admit()
    dialog.case_field.set(_number(setup, setup.marcus))
    dialog.facility.set(setup.hope)
    dialog.bed.combo.addItem("Room 1", setup.rooms["Room 1"])  # as if chosen when it was still free
    dialog.bed.set(setup.rooms["Room 1"])
    dialog.on.set(TODAY - dt.timedelta(days=5))
    dialog.override.set("Staff decision: the men's house is full.")
    submit(qtbot, dialog)
    assert dialog.isVisible()
    bed_error = dialog.bed.row.error.text()
    assert "'Room 1' at Hope Women's Shelter is taken on the night of" in bed_error
    assert _number(setup, setup.beatrix) in bed_error
    assert dialog.message.text().startswith("Nothing was saved")
    dialog.reject()

    # Beatrix already has an open stay: a second one anywhere is refused in plain words.
    page.facility_combo.setCurrentIndex(page.facility_combo.findData(setup.blue))
    qtbot.waitUntil(lambda: page.board.board_model.rowCount() == 2, timeout=5000)
    dialog = page.admit()
    dialog.case_field.set(_number(setup, setup.beatrix))
    submit(qtbot, dialog)
    assert "already placed at Hope Women's Shelter" in dialog.case_field.row.error.text()
    dialog.reject()
    assert len(placements.stays_of_case(page.reg, setup.beatrix)) == 1


def test_eligibility_exception_needs_a_reason_and_is_shown(qtbot, page, setup) -> None:
    select(page, "Room 3")
    dialog = page.admit()
    dialog.case_field.set(_number(setup, setup.marcus))
    submit(qtbot, dialog)
    problems = dialog.override.row.error.text()
    assert "takes Female residents only; this person's recorded sex is Male" in problems
    assert "give the reason for the exception" in problems
    dialog.override.set("Emergency night: no other safe place.")
    submit(qtbot, dialog)
    assert not dialog.isVisible()
    qtbot.waitUntil(lambda: page.board.board_model.cards()[card_row(page, "Room 3")].occupied, timeout=5000)
    card = page.board.board_model.cards()[card_row(page, "Room 3")]
    assert card.stay.outside_eligibility
    assert "exception" in card.sentence(TODAY)


def test_transfer_and_discharge_into_follow_up(qtbot, page, setup) -> None:
    select(page, "Room 1")
    assert page.transfer_button.isEnabled() and page.discharge_button.isEnabled()
    dialog = page.transfer()
    dialog.facility.set(setup.blue)
    dialog.bed.set(setup.rooms["Bed A"])
    submit(qtbot, dialog)
    assert not dialog.isVisible()
    qtbot.waitUntil(lambda: not page.board.board_model.cards()[card_row(page, "Room 1")].occupied, timeout=5000)
    stays = placements.stays_of_case(page.reg, setup.beatrix)
    assert [s.discharge_reason for s in stays] == ["TransferredToOtherFacility", None]
    assert stays[1].bed_label == "Bed A" and stays[1].admitted == TODAY

    page.facility_combo.setCurrentIndex(page.facility_combo.findData(setup.blue))
    qtbot.waitUntil(lambda: page.facility().code == "BMS" and page.board.board_model.rowCount() == 2, timeout=5000)
    qtbot.waitUntil(lambda: page.board.board_model.cards()[card_row(page, "Bed A")].occupied, timeout=5000)
    select(page, "Bed A")
    dialog = page.discharge()
    dialog.form.fields["reason"].set("ReintegratedWithFamily")
    submit(qtbot, dialog)
    assert not dialog.isVisible()
    qtbot.waitUntil(lambda: "follow-up plan has started" in page.message.text(), timeout=5000)
    plans = followup.plans_of_case(page.reg, setup.beatrix)
    assert len(plans) == 1 and plans[0].status == "Active" and plans[0].started_on == TODAY


def test_a_full_facility_points_to_its_waiting_list(qtbot, page, setup) -> None:
    page.facility_combo.setCurrentIndex(page.facility_combo.findData(setup.blue))
    qtbot.waitUntil(lambda: page.facility().code == "BMS", timeout=5000)
    for case_id, bed in ((setup.annabel, "Bed A"), (setup.marcus, "Bed B")):
        placements.admit(page.reg, case_id, setup.blue, TODAY, bed_id=setup.rooms[bed])
    page.refresh()
    qtbot.waitUntil(lambda: all(c.occupied for c in page.board.board_model.cards()), timeout=5000)
    assert not page.admit_button.isEnabled() or page.board.selected_card() is None
    dialog = page.admit()
    dialog.case_field.set(_number(setup, setup.dorothea))
    assert dialog.waiting_button.isVisible()  # no bed free tonight: the waiting list is offered at once
    assert "0 of 2 places free that night" in dialog.takes.text()
    submit(qtbot, dialog)
    assert "Choose a bed or room of Blue Mountain Safe House" in dialog.bed.row.error.text()
    dialog.waiting_button.click()
    from ui.shelter_dialogs import WaitingListDialog

    qtbot.waitUntil(lambda: any(d.isVisible() for d in page.findChildren(WaitingListDialog)), timeout=3000)
    wl = next(d for d in page.findChildren(WaitingListDialog) if d.isVisible())
    assert wl.form.fields["case"].get() == _number(setup, setup.dorothea)  # carried over
    submit(qtbot, wl)
    assert not wl.isVisible()
    qtbot.waitUntil(lambda: page.waiting_model.rowCount() == 1, timeout=5000)
    assert page.waiting_model.row_at(0).case.case_number == _number(setup, setup.dorothea)
    assert "Waiting list (1)" in page.waiting_label.text().replace("&", "")


def test_the_occupancy_sheet_is_a_pdf_without_names(qtbot, page, setup, tmp_path) -> None:
    dialog = page.occupancy_sheet()
    target = tmp_path / "sheet.pdf"
    assert dialog.save_it(target) == target
    data = target.read_bytes()
    assert data.startswith(b"%PDF") and len(data) > 1000
    if shutil.which("pdftotext"):
        text = subprocess.run(["pdftotext", str(target), "-"], capture_output=True, text=True, check=True).stdout
        assert "Hope Women" in text and "Room 1" in text and "1 of 3 places taken" in text
        assert not any(name in text for name in NAMES)
        assert _number(setup, setup.beatrix) not in text  # case numbers only on request
        dialog.numbers.setChecked(True)
        dialog.save_it(target)
        text = subprocess.run(["pdftotext", str(target), "-"], capture_output=True, text=True, check=True).stdout
        assert _number(setup, setup.beatrix) in text
        assert not any(name in text for name in NAMES)
    dialog.accept()


def test_a_bed_reserved_for_a_waiting_case(qtbot, page, setup, tmp_path) -> None:
    """Reserve a free bed from the board: the card shows it held (for whom, until when), nobody
    else is admitted to it, admitting from it takes the case it is held for, and releasing it
    asks first and frees it."""
    from ui.shelter_dialogs import AdmitDialog, ReserveDialog

    select(page, "Room 2")
    assert page.reserve_button.isEnabled() and not page.release_button.isEnabled()
    page.reserve_button.click()  # the real button (its clicked(bool) must not pass for a case)
    dialog = next(d for d in page.findChildren(ReserveDialog) if d.isVisible())
    assert not dialog.form.fields["case"].edit.isReadOnly()
    dialog.form.fields["case"].set(_number(setup, setup.dorothea))
    dialog.form.fields["held_until"].set(TODAY - dt.timedelta(days=1))
    submit(qtbot, dialog)
    assert "The last night comes before the first." in dialog.form.fields["held_until"].row.error.text()
    dialog.form.fields["held_until"].set(TODAY + dt.timedelta(days=3))
    submit(qtbot, dialog)
    assert not dialog.isVisible()
    qtbot.waitUntil(lambda: page.board.board_model.cards()[card_row(page, "Room 2")].reserved, timeout=5000)
    card = page.board.board_model.cards()[card_row(page, "Room 2")]
    until = (TODAY + dt.timedelta(days=3)).isoformat()
    assert card.sentence(TODAY) == (f"Room 2: reserved for case {_number(setup, setup.dorothea)} (Dorothea), "
                                    f"last night {until}.")
    assert "1 of the free beds reserved" in page.summary.text() and "Room 2 is reserved" in page.message.text()
    qtbot.waitUntil(lambda: page.waiting_model.rowCount() == 1, timeout=5000)
    assert page.waiting_model.row_at(0).bed_label == "Room 2"
    select(page, "Room 2")
    assert page.release_button.isEnabled() and not page.reserve_button.isEnabled()

    # Someone else cannot have it tonight; the message says for whom it is held.
    dialog = page.admit(setup.annabel, _number(setup, setup.annabel))
    assert dialog.bed.get() == setup.rooms["Room 2"] and dialog.bed.combo.currentText() == "Room 2 — reserved"
    submit(qtbot, dialog)
    assert f"reserved for case {_number(setup, setup.dorothea)} from {TODAY.isoformat()} to {until}" in \
        dialog.bed.row.error.text()
    dialog.reject()

    # The sheet on the wall says reserved, without a name.
    sheet = page.sheet_text(with_case_numbers=False)
    assert f"reserved<br>last night {until}" in sheet and "Dorothea" not in sheet

    # The Admit button, and Enter on the card, admit the case it is held for.
    page.admit_button.click()
    admit = next(d for d in page.findChildren(AdmitDialog) if d.isVisible())
    assert admit.case_field.get() == _number(setup, setup.dorothea) and admit.case_field.edit.isReadOnly()
    admit.reject()
    page.board.setFocus()
    qtbot.keyClick(page.board, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: any(d.isVisible() for d in page.findChildren(AdmitDialog)), timeout=3000)
    admit = next(d for d in page.findChildren(AdmitDialog) if d.isVisible())
    assert admit.case_field.get() == _number(setup, setup.dorothea) and admit.case_field.edit.isReadOnly()
    admit.reject()

    # Releasing asks first; "Keep it" keeps it.
    box = page.release()
    box.buttons()[1].click()
    assert page.board.board_model.cards()[card_row(page, "Room 2")].reserved
    box = page.release()
    box.buttons()[0].click()
    qtbot.waitUntil(lambda: not page.board.board_model.cards()[card_row(page, "Room 2")].reserved, timeout=5000)
    assert placements.reservations(page.reg, setup.hope) == []
    assert page.waiting_model.rowCount() == 1  # still waiting, without a bed

    # A bed held from a later night is free tonight, and the bed choice says until when.
    later = TODAY + dt.timedelta(days=10)
    placements.reserve_bed(page.reg, setup.dorothea, setup.rooms["Room 3"], later, held_from=later)
    page.refresh()
    qtbot.waitUntil(lambda: page.occupancy and any(o.reserved_beds for o in page.occupancy), timeout=5000)
    select(page, "Room 3")
    assert not page.board.selected_card().reserved
    dialog = page.admit()
    texts = [dialog.bed.combo.itemText(i) for i in range(dialog.bed.combo.count())]
    assert f"Room 3 — free, reserved from {later.isoformat()}" in texts and "Room 2 — free" in texts
    dialog.reject()


def _number(setup: Setup, case_id: int) -> str:
    return setup.number(case_id)
