"""The pictures of the shelter board, the follow-up queues, the dashboard and the case editor's
Shelter, Services and Follow-up sections, for ``tipdesk screenshots``.

Nothing here changes the register: the admission shown is one the core refuses (the person is
already placed), and every dialog is closed without saving (the reserved bed shown is one the
demo register holds).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtWidgets import QScrollArea

from ui.screenshots import Shooter, settle, wait_until, with_dialog

if TYPE_CHECKING:
    from ui.main_window import MainWindow


def work_pictures(shots: Shooter, window: MainWindow, key: str, page) -> bool:  # noqa: ANN001
    """Pictures of the page ``key``; False when it is not one of this module's pages."""
    if key == "shelter":
        _shelter(shots, window, page)
    elif key == "followup":
        _followup(shots, window, page)
    elif key == "dashboard":
        _dashboard(shots, window, page)
    else:
        return False
    return True


def _shelter(shots: Shooter, window: MainWindow, page) -> None:  # noqa: ANN001
    wait_until(lambda: page.board.board_model.rowCount() > 0 or not page.facilities, 60)
    settle(300)
    cards = page.board.board_model.cards()
    occupied = next((i for i, c in enumerate(cards) if c.occupied), None)
    if occupied is not None:
        page.board.setCurrentIndex(page.board.board_model.index(occupied))
    settle(200)
    shots.save("shelter-board", window)
    free = next((c for c in cards if not c.occupied and not c.reserved), None)
    if occupied is not None and free is not None and page.can_write:
        _admit_refused(shots, window, page, cards, cards[occupied].stay.case, free)
    sheet = page.occupancy_sheet()
    settle(200)
    shots.save("shelter-occupancy-sheet", with_dialog(window, sheet))
    sheet.reject()
    _reserved(shots, window, page)


def _admit_refused(shots: Shooter, window: MainWindow, page, cards, placed, free) -> None:  # noqa: ANN001
    page.board.setCurrentIndex(page.board.board_model.index(cards.index(free)))
    dialog = page.admit()
    dialog.case_field.set(placed.case_number)  # already placed: the core refuses, nothing is written
    dialog.submit()
    wait_until(lambda: not dialog.busy, 30)
    settle(300)
    shots.save("shelter-admit-refused", with_dialog(window, dialog))
    dialog.reject()


def _reserved(shots: Shooter, window: MainWindow, page) -> None:  # noqa: ANN001
    """A facility with a bed held for a waiting case (the demo holds a few), and the dialog that
    reserves one (closed without saving)."""
    from tipdesk.services import placements

    held = next((f for f in page.facilities if placements.reservations(page.reg, f.id)), None)
    if held is None:
        return
    page.facility_combo.setCurrentIndex(page.facility_combo.findData(held.id))
    wait_until(lambda: any(c.reserved for c in page.board.board_model.cards()), 60)
    cards = page.board.board_model.cards()
    page.board.setCurrentIndex(page.board.board_model.index(next(i for i, c in enumerate(cards) if c.reserved)))
    settle(300)
    shots.save("shelter-board-reserved", window)
    free = next((i for i, c in enumerate(cards) if not c.occupied and not c.reserved and c.bed_id), None)
    if free is None or not page.can_write:
        return
    page.board.setCurrentIndex(page.board.board_model.index(free))
    dialog = page.reserve()
    settle(200)
    shots.save("shelter-reserve", with_dialog(window, dialog))
    dialog.reject()


def _followup(shots: Shooter, window: MainWindow, page) -> None:  # noqa: ANN001
    wait_until(lambda: all(q.position.text() for q in page.queues.values()), 60)
    page.tabs.setCurrentIndex(1)  # overdue, oldest first
    settle(300)
    shots.save("followup-queues", window)
    queue = page.queues["overdue"]
    if queue.total and page.can_write:
        queue.view.selectRow(0)
        dialog = queue.record_selected()
        fields = dialog.form.fields
        fields["mode"].set("HomeVisit")
        fields["score_economic"].set("3")
        fields["score_social"].set("4")
        fields["risk_level"].set("Medium")
        fields["outcome"].set("Working part time; rent paid.")
        settle(300)
        shots.save("followup-visit", with_dialog(window, dialog))
        dialog.reject()
    page.tabs.setCurrentIndex(0)


def _dashboard(shots: Shooter, window: MainWindow, page) -> None:  # noqa: ANN001
    wait_until(lambda: page.complete, 120)
    settle(500)
    shots.save("dashboard", window)
    area = page.findChild(QScrollArea)
    if area is not None:
        shots.save("dashboard-all-charts", area.widget())
    card = page.cards["trends"]
    card.table_button.setChecked(True)
    settle(200)
    shots.save("dashboard-table-view", card)
    card.table_button.setChecked(False)


def case_pictures(shots: Shooter, window: MainWindow) -> None:
    """The case editor's Shelter, Services and Follow-up sections, on a case that has all three."""
    from tipdesk.services import followup

    cases = window.page("cases")
    reg = window.reg
    if cases is None or reg is None:
        return
    found = followup.high_risk(reg, limit=1).rows or followup.overdue(reg, limit=1).rows
    if not found:
        return
    window.go("cases")
    cases.open_case(found[0].case.case_id)
    wait_until(lambda: bool(cases.editors()), 30)
    editor = cases.editors()[-1]
    for key in ("shelter", "services", "followup"):
        editor.show_section(key)
        section = editor.work.sections[key]
        wait_until(lambda s=section: not s.stale and not window.runner.busy, 30)
        settle(300)
        shots.save(f"case-editor-{key}", window)
    for i in range(cases.tabs.count() - 1, 0, -1):
        cases.tabs.removeTab(i)
    cases.tabs.setCurrentIndex(0)
