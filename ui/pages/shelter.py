"""The Shelter page: a board per facility (beds as cards) for a chosen night, its waiting list,
admit / transfer / discharge, and the occupancy sheet for the office wall.

Everything comes from ``tipdesk.services.facilities`` and ``placements`` on the operation runner;
the rules (a bed taken that night, one open stay per person, capacity, eligibility) are the
core's, shown in its words by the dialogs.
"""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QDate, QModelIndex, Qt, Signal, Slot
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDateEdit,
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from tipdesk.errors import TipdeskError
from ui.bed_board import BedBoard, BedCard, cards_for
from ui.i18n import tr
from ui.pages.base import Page
from ui.shelter_dialogs import (
    AdmitDialog,
    DischargeDialog,
    ReasonDialog,
    ReserveDialog,
    TransferDialog,
    WaitingListDialog,
)
from ui.widgets import ask, error_box, heading
from ui.work_models import waiting_list_model

if TYPE_CHECKING:
    from tipdesk.vault.register import Register
    from ui.operations import OperationRunner


def open_case_at(widget: QWidget, case_id: int, section: str | None = None) -> None:
    """Show a case in the Cases page (its editor tab), at ``section`` when given."""
    window = widget.window()
    if not hasattr(window, "go"):
        return
    window.go("cases")
    page = window.page("cases")
    if page is None or not hasattr(page, "open_case"):
        return
    page.open_case(case_id, (lambda editor: editor.show_section(section)) if section else None)


def _qdate(day: dt.date) -> QDate:
    return QDate(day.year, day.month, day.day)


def _pydate(day: QDate) -> dt.date:
    return dt.date(day.year(), day.month(), day.day())


class ShelterPage(Page):
    key = "shelter"
    board_shown = Signal()  # the board shows the facility and night asked for last

    def __init__(self, reg: Register, runner: OperationRunner, parent: QWidget | None = None) -> None:
        super().__init__(reg, runner, parent)
        self.setObjectName("ShelterPage")
        self.can_write = reg.actor.can("shelter.write")
        self.facilities: list = []
        self.occupancy: list = []
        self.plans: list = []
        self.office_code = ""
        self._token = 0
        self.shown_token = 0  # the request the board shows (equal to _token once it has arrived)
        self.requested_at = 0.0
        self.last_load_ms = 0.0

        box = QVBoxLayout(self)
        top = QHBoxLayout()
        top.addWidget(heading(tr("Shelter", "Shelter"), self))
        top.addStretch(1)
        self.facility_combo = QComboBox(self)
        self.facility_combo.setObjectName("facilityChoice")
        self.facility_combo.setMinimumWidth(280)
        self.facility_combo.setAccessibleName(tr("Shelter", "Facility"))
        label = QLabel(tr("Shelter", "&Facility:"), self)
        label.setBuddy(self.facility_combo)
        top.addWidget(label)
        top.addWidget(self.facility_combo)
        self.date_edit = QDateEdit(self)
        self.date_edit.setObjectName("boardDate")
        self.date_edit.setCalendarPopup(True)
        self.date_edit.setDisplayFormat("yyyy-MM-dd")
        self.date_edit.setDate(_qdate(dt.date.today()))
        self.date_edit.setAccessibleName(tr("Shelter", "Night of"))
        date_label = QLabel(tr("Shelter", "&Night of:"), self)
        date_label.setBuddy(self.date_edit)
        top.addWidget(date_label)
        top.addWidget(self.date_edit)
        self.today_button = QPushButton(tr("Shelter", "T&onight"), self)
        self.today_button.setAccessibleName(tr("Shelter", "Show tonight"))
        self.today_button.clicked.connect(lambda: self.date_edit.setDate(_qdate(dt.date.today())))
        top.addWidget(self.today_button)
        box.addLayout(top)

        self.summary = QLabel(self)
        self.summary.setObjectName("boardSummary")
        self.summary.setWordWrap(True)
        self.summary.setAccessibleName(tr("Shelter", "Occupancy"))
        font = self.summary.font()
        font.setPointSizeF(font.pointSizeF() * 1.1)
        self.summary.setFont(font)
        box.addWidget(self.summary)

        split = QSplitter(Qt.Orientation.Horizontal, self)
        left = QWidget(split)
        lcol = QVBoxLayout(left)
        lcol.setContentsMargins(0, 0, 0, 0)
        self.board = BedBoard(left)
        self.board.setAccessibleName(tr("Shelter", "Beds"))
        board_label = QLabel(tr("Shelter", "&Beds (arrow keys move, Enter opens the case):"), left)
        board_label.setBuddy(self.board)
        lcol.addWidget(board_label)
        lcol.addWidget(self.board, 1)
        self.legend = QLabel(tr("Shelter", "Blue: taken that night · green: free · “exception”: placed outside the "
                                           "facility's eligibility, with a reason · purple: reserved for a waiting case."), left)
        self.legend.setWordWrap(True)
        lcol.addWidget(self.legend)
        actions = QHBoxLayout()
        self.admit_button = QPushButton(tr("Shelter", "&Admit…"), left)
        self.transfer_button = QPushButton(tr("Shelter", "T&ransfer…"), left)
        self.discharge_button = QPushButton(tr("Shelter", "&Discharge…"), left)
        self.open_button = QPushButton(tr("Shelter", "Open the &case"), left)
        self.reserve_button = QPushButton(tr("Shelter", "Reser&ve…"), left)
        self.release_button = QPushButton(tr("Shelter", "R&elease"), left)
        self.release_button.setToolTip(tr("Shelter", "End the reservation: the bed is free for anyone, and the "
                                                     "case stays on the waiting list."))
        self.sheet_button = QPushButton(tr("Shelter", "Occupancy &sheet…"), left)
        for b, slot in ((self.admit_button, self.admit), (self.transfer_button, self.transfer),
                        (self.discharge_button, self.discharge), (self.reserve_button, self.reserve),
                        (self.release_button, self.release), (self.open_button, self.open_selected),
                        (self.sheet_button, self.occupancy_sheet)):
            b.setAccessibleName(b.text().replace("&", "").rstrip("…"))
            b.clicked.connect(lambda _checked=False, act=slot: act())  # not clicked(bool) as a case id
            actions.addWidget(b)
        actions.addStretch(1)
        lcol.addLayout(actions)

        right = QWidget(split)
        rcol = QVBoxLayout(right)
        rcol.setContentsMargins(0, 0, 0, 0)
        self.waiting_model = waiting_list_model(self)
        if not reg.actor.can("case.read_pii"):
            self.waiting_model.columns = [c for c in self.waiting_model.columns if c.title != tr("Shelter", "Name")]
        self.waiting_view = QTableView(right)
        self.waiting_view.setObjectName("waitingList")
        self.waiting_view.setModel(self.waiting_model)
        self.waiting_view.setAccessibleName(tr("Shelter", "Waiting list"))
        self.waiting_view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.waiting_view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.waiting_view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.waiting_view.setTabKeyNavigation(False)
        self.waiting_view.verticalHeader().hide()
        self.waiting_view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.waiting_view.horizontalHeader().setStretchLastSection(True)
        self.waiting_label = QLabel(tr("Shelter", "&Waiting list:"), right)
        self.waiting_label.setBuddy(self.waiting_view)
        rcol.addWidget(self.waiting_label)
        rcol.addWidget(self.waiting_view, 1)
        wrow = QHBoxLayout()
        self.wait_add_button = QPushButton(tr("Shelter", "Add to the &list…"), right)
        self.wait_admit_button = QPushButton(tr("Shelter", "Ad&mit from the list…"), right)
        self.wait_remove_button = QPushButton(tr("Shelter", "Take off the l&ist…"), right)
        for b, slot in ((self.wait_add_button, self.add_to_waiting_list),
                        (self.wait_admit_button, self.admit_from_waiting_list),
                        (self.wait_remove_button, self.remove_from_waiting_list)):
            b.setAccessibleName(b.text().replace("&", "").rstrip("…"))
            b.clicked.connect(lambda _checked=False, act=slot: act())
            wrow.addWidget(b)
        wrow.addStretch(1)
        rcol.addLayout(wrow)
        split.addWidget(left)
        split.addWidget(right)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        box.addWidget(split, 1)
        self.message = QLabel(self)
        self.message.setObjectName("shelterMessage")
        self.message.setWordWrap(True)
        box.addWidget(self.message)

        self.facility_combo.currentIndexChanged.connect(self.refresh)
        self.date_edit.dateChanged.connect(self.refresh)
        self.board.selectionModel().selectionChanged.connect(self._update_buttons)
        self.board.activated.connect(self._card_activated)
        self.waiting_view.selectionModel().selectionChanged.connect(self._update_buttons)
        self.waiting_view.activated.connect(lambda _i: self.admit_from_waiting_list())
        for b in (self.admit_button, self.transfer_button, self.discharge_button, self.reserve_button,
                  self.release_button, self.wait_add_button, self.wait_admit_button, self.wait_remove_button):
            b.setVisible(self.can_write)
        sc = QShortcut(QKeySequence("F5"), self)
        sc.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        sc.activated.connect(self.refresh)
        self.runner.changed.connect(self._something_changed)
        self._update_buttons()
        self.load_facilities()

    # --- loading ---------------------------------------------------------------------------------

    def load_facilities(self) -> None:
        from tipdesk.services import facilities, followup_plans
        from tipdesk.services.office import office_info

        reg, can_plan = self.reg, self.reg.actor.can("followup.read")

        def op(_p):  # noqa: ANN001, ANN202
            return (facilities.list_facilities(reg), followup_plans.list_plan_definitions(reg) if can_plan else [],
                    office_info(reg).code)

        self.runner.run(op, self._facilities_loaded, lambda exc: error_box(self, exc),
                        label=tr("Shelter", "Reading the facilities…"), parent=self)

    def _facilities_loaded(self, result) -> None:  # noqa: ANN001
        found, self.plans, self.office_code = result
        keep = self.facility_combo.currentData()
        self.facilities = sorted(found, key=lambda f: (not f.active, f.code))
        self.facility_combo.blockSignals(True)
        self.facility_combo.clear()
        for f in self.facilities:
            text = f"{f.name} ({f.code})" if f.active else tr("Shelter", "{name} ({code}) — closed").format(
                name=f.name, code=f.code)
            self.facility_combo.addItem(text, f.id)
        if keep is None and self.facilities:  # first time: the largest facility in service
            keep = max(self.facilities, key=lambda f: (f.active, f.capacity, -f.id)).id
        if keep is not None and self.facility_combo.findData(keep) >= 0:
            self.facility_combo.setCurrentIndex(self.facility_combo.findData(keep))
        self.facility_combo.blockSignals(False)
        if not self.facilities:
            self.summary.setText(tr("Shelter", "No facilities yet. An administrator adds shelters, safe houses and "
                                               "their beds under Administration → Facilities."))
            self.board.board_model.set_cards([], self.night())
            self.board_shown.emit()
            return
        self.refresh()

    @property
    def board_current(self) -> bool:
        """The board shows the facility and night asked for last."""
        return self.shown_token == self._token

    def facility(self):  # noqa: ANN201 (FacilityInfo | None)
        fid = self.facility_combo.currentData()
        return next((f for f in self.facilities if f.id == fid), None)

    def night(self) -> dt.date:
        return _pydate(self.date_edit.date())

    @Slot()
    def refresh(self, *_a: object) -> None:
        """Read the board of the chosen facility and night."""
        facility = self.facility()
        if facility is None:
            return
        from tipdesk.services import facilities, placements

        reg, fid, on = self.reg, facility.id, self.night()
        self._token += 1
        token = self._token
        self.requested_at = time.perf_counter()

        def op(_p):  # noqa: ANN001, ANN202
            return (placements.residents(reg, fid, on), placements.occupancy(reg, on, include_inactive=True),
                    facilities.waiting_list(reg, fid, limit=200), placements.reservations(reg, fid, on))

        self.runner.run(op, lambda r: self._shown(token, facility, on, r), lambda exc: error_box(self, exc),
                        label=tr("Shelter", "Reading the board…"), parent=self)

    def _shown(self, token: int, facility, on: dt.date, result) -> None:  # noqa: ANN001
        if token != self._token:
            return  # a newer request is on its way
        residents, occupancy, waiting, reserved = result
        self.shown_token = token
        self.occupancy = occupancy
        selected = self.board.selected_card()
        cards = cards_for(facility, residents, reserved)
        self.board.board_model.set_cards(cards, on)
        if selected is not None:
            self.board.select_bed(selected.bed_id)
        self.waiting_model.set_rows(waiting.rows)
        here = next((o for o in occupancy if o.facility_id == facility.id), None)
        taken = here.occupied if here else len(residents)
        when = tr("Shelter", "tonight") if on == dt.date.today() else tr("Shelter", "on the night of {date}").format(
            date=on.isoformat())
        self.summary.setText(tr("Shelter", "{name}: {taken} of {capacity} places taken {when}, {free} free. "
                                           "Takes {who}. {waiting} waiting.").format(
            name=facility.name, taken=taken, capacity=facility.capacity, when=when,
            free=max(0, facility.capacity - taken), who=facility.eligibility_text(), waiting=waiting.total))
        held = sum(1 for c in cards if c.reserved)
        if held:
            self.summary.setText(self.summary.text() + " " + tr("Shelter", "{n} of the free beds reserved.").format(
                n=held))
        self.waiting_label.setText(tr("Shelter", "&Waiting list ({n}):").format(n=waiting.total))
        self.last_load_ms = (time.perf_counter() - self.requested_at) * 1000
        self._update_buttons()
        self.board_shown.emit()

    def _something_changed(self, what: set) -> None:
        if what & {"shelter", "facilities"}:
            if "facilities" in what:
                self.load_facilities()
            else:
                self.refresh()

    def activated(self) -> None:
        if self.facilities:
            self.refresh()

    # --- actions ---------------------------------------------------------------------------------

    @Slot()
    def _update_buttons(self, *_a: object) -> None:
        card = self.board.selected_card()
        facility = self.facility()
        usable = facility is not None and facility.active
        self.admit_button.setEnabled(self.can_write and usable and (card is None or not card.occupied))
        self.reserve_button.setEnabled(self.can_write and usable and card is not None and card.bed_id is not None
                                       and card.in_use and not card.occupied and not card.reserved)
        self.release_button.setEnabled(self.can_write and card is not None and card.reserved)
        self.transfer_button.setEnabled(self.can_write and card is not None and card.occupied)
        self.discharge_button.setEnabled(self.can_write and card is not None and card.occupied)
        self.open_button.setEnabled(card is not None and card.occupied)
        waiting = self._selected_waiting()
        self.wait_admit_button.setEnabled(self.can_write and waiting is not None)
        self.wait_remove_button.setEnabled(self.can_write and waiting is not None)
        self.wait_add_button.setEnabled(self.can_write and usable)
        self.sheet_button.setEnabled(facility is not None)

    def _selected_waiting(self):  # noqa: ANN202
        rows = self.waiting_view.selectionModel().selectedRows() if self.waiting_view.selectionModel() else []
        return self.waiting_model.row_at(rows[0].row()) if rows else None

    def _card_activated(self, index: QModelIndex) -> None:
        card = self.board.board_model.card_at(index.row())
        if card is None:
            return
        if card.occupied:
            open_case_at(self, card.stay.case.case_id)
        elif self.can_write:
            self.admit()  # a reserved bed: admits the case it is held for
        elif card.reserved:
            open_case_at(self, card.reservation.case.case_id)

    def _after(self, text: str):  # noqa: ANN202
        def done(_result: object) -> None:
            self.message.setText(text)
        return done

    @Slot()
    def open_selected(self) -> None:
        card = self.board.selected_card()
        if card is not None and card.stay is not None:
            open_case_at(self, card.stay.case.case_id)

    @Slot()
    def admit(self, case_id: int | None = None, case_number: str = "") -> AdmitDialog | None:
        facility = self.facility()
        if facility is None or not self.can_write:
            return None
        card = self.board.selected_card()
        on = min(self.night(), dt.date.today())
        if case_id is None and card is not None and card.reserved:
            case_id, case_number = card.reservation.case.case_id, card.reservation.case.case_number
        dialog = AdmitDialog(self.reg, self.runner, self.facilities, self.occupancy, facility_id=facility.id,
                             bed_id=card.bed_id if card and not card.occupied else None, on=on, case_id=case_id,
                             case_number=case_number, parent=self)
        dialog.succeeded.connect(lambda stay: self.message.setText(tr(
            "Shelter", "{case} was admitted to {bed} at {facility}.").format(
            case=stay.case.case_number, bed=stay.bed_label or tr("Shelter", "a place"), facility=stay.facility_name)))
        dialog.rejected.connect(lambda: self._maybe_wait(dialog))
        dialog.open()
        return dialog

    def _maybe_wait(self, dialog: AdmitDialog) -> None:
        if dialog.wants_waiting_list:
            self.add_to_waiting_list(dialog.case_id, dialog.form.fields["case"].get())

    @Slot()
    def transfer(self) -> TransferDialog | None:
        card = self.board.selected_card()
        if card is None or card.stay is None or not self.can_write:
            return None
        dialog = TransferDialog(self.reg, self.runner, card.stay, self.facilities, self.occupancy,
                                on=min(self.night(), dt.date.today()), parent=self)
        dialog.succeeded.connect(lambda r: self.message.setText(tr(
            "Shelter", "{case} moved to {bed} at {facility}.").format(
            case=r.opened.case.case_number, bed=r.opened.bed_label or tr("Shelter", "a place"),
            facility=r.opened.facility_name)))
        dialog.open()
        return dialog

    @Slot()
    def discharge(self) -> DischargeDialog | None:
        card = self.board.selected_card()
        if card is None or card.stay is None or not self.can_write:
            return None
        dialog = DischargeDialog(self.reg, self.runner, card.stay, self.plans,
                                 on=min(self.night(), dt.date.today()), parent=self)

        def done(r) -> None:  # noqa: ANN001
            text = tr("Shelter", "{case} was discharged on {date}.").format(
                case=r.stay.case.case_number, date=r.stay.discharged.isoformat())
            if r.followup_plan_id:
                text += " " + tr("Shelter", "Its follow-up plan has started.")
            self.message.setText(text)

        dialog.succeeded.connect(done)
        dialog.open()
        return dialog

    @Slot()
    def reserve(self, case_id: int | None = None, case_number: str = "") -> ReserveDialog | None:
        facility, card = self.facility(), self.board.selected_card()
        if facility is None or card is None or card.bed_id is None or card.occupied or not self.can_write:
            return None
        dialog = ReserveDialog(self.reg, self.runner, card.bed_id, card.label, facility.name,
                               first_night=max(self.night(), dt.date.today()),
                               case_id=case_id, case_number=case_number, parent=self)
        dialog.succeeded.connect(self._after(tr("Shelter", "{bed} is reserved.").format(bed=card.label)))
        dialog.open()
        return dialog

    @Slot()
    def release(self) -> QMessageBox | None:
        card = self.board.selected_card()
        if card is None or not card.reserved or not self.can_write:
            return None
        from tipdesk.services import placements

        reg, entry_id, label = self.reg, card.reservation.entry_id, card.label

        def release() -> None:
            self.runner.run(lambda _p: placements.release_bed(reg, entry_id),
                            self._after(tr("Shelter", "{bed} is no longer reserved.").format(bed=label)),
                            lambda exc: error_box(self, exc), changes=frozenset({"shelter"}), parent=self)

        return ask(self, tr("Shelter", "Release the reservation"), tr(
            "Shelter", "Release {bed}? It will be free for anyone; case {case} stays on the waiting list.").format(
            bed=label, case=card.reservation.case.case_number), tr("Shelter", "&Release"), release,
            no_text=tr("Shelter", "&Keep it"), destructive=True)

    @Slot()
    def add_to_waiting_list(self, case_id: int | None = None, case_number: str = "") -> WaitingListDialog | None:
        facility = self.facility()
        if facility is None or not self.can_write:
            return None
        dialog = WaitingListDialog(self.reg, self.runner, self.facilities, facility_id=facility.id,
                                   case_id=case_id, case_number=case_number, parent=self)
        dialog.succeeded.connect(self._after(tr("Shelter", "Added to the waiting list.")))
        dialog.open()
        return dialog

    @Slot()
    def admit_from_waiting_list(self) -> AdmitDialog | None:
        entry = self._selected_waiting()
        if entry is None or not self.can_write:
            return None
        return self.admit(entry.case.case_id, entry.case.case_number)

    @Slot()
    def remove_from_waiting_list(self) -> None:
        entry = self._selected_waiting()
        if entry is None or not self.can_write:
            return
        from tipdesk.services import facilities

        reg, entry_id = self.reg, entry.id

        def remove(_reason: str, on: dt.date | None) -> None:
            facilities.remove_from_waiting_list(reg, entry_id, "withdrawn", on)

        dialog = ReasonDialog(self.reg, self.runner, tr("Shelter", "Take off the waiting list"),
                              tr("Shelter", "Take &off"), tr("Shelter", "{case} will no longer wait for this "
                                                                        "facility.").format(case=entry.case.case_number),
                              remove, with_date=tr("Shelter", "&On:"), changes=frozenset({"shelter"}), parent=self)
        dialog.succeeded.connect(self._after(tr("Shelter", "Taken off the waiting list.")))
        dialog.open()

    # --- the occupancy sheet ------------------------------------------------------------------------

    @Slot()
    def occupancy_sheet(self) -> QDialog | None:
        facility = self.facility()
        if facility is None:
            return None
        dialog = SheetDialog(self, facility)
        dialog.open()
        return dialog

    def sheet_text(self, with_case_numbers: bool) -> str:
        from ui.occupancy_sheet import sheet_html

        facility = self.facility()
        return sheet_html(self.office_code, facility.name, facility.code, self.night(),
                          self.board.board_model.cards(), facility.capacity, self.waiting_model.rowCount(),
                          with_case_numbers)

    # --- the lock ----------------------------------------------------------------------------------

    def cards(self) -> list[BedCard]:
        return self.board.board_model.cards()


class SheetDialog(QDialog):
    """Print or save the occupancy sheet (no names; case numbers only if asked)."""

    def __init__(self, page: ShelterPage, facility) -> None:  # noqa: ANN001
        super().__init__(page)
        self.page = page
        self.setWindowTitle(tr("Sheet", "Occupancy sheet"))
        self.setWindowModality(Qt.WindowModality.WindowModal)
        col = QVBoxLayout(self)
        intro = QLabel(tr("Sheet", "A one-page list of the beds of {name} on the night of {date}, for the office "
                                   "wall. It never shows a name.").format(name=facility.name,
                                                                          date=page.night().isoformat()), self)
        intro.setWordWrap(True)
        col.addWidget(intro)
        self.numbers = QCheckBox(tr("Sheet", "Show &case numbers too"), self)
        self.numbers.setAccessibleName(tr("Sheet", "Show case numbers too"))
        col.addWidget(self.numbers)
        row = QHBoxLayout()
        self.print_button = QPushButton(tr("Sheet", "&Print…"), self)
        self.pdf_button = QPushButton(tr("Sheet", "Save as P&DF…"), self)
        close = QPushButton(tr("Sheet", "Close"), self)
        for b in (self.print_button, self.pdf_button, close):
            b.setAccessibleName(b.text().replace("&", "").rstrip("…"))
            row.addWidget(b)
        col.addLayout(row)
        self.status = QLabel(self)
        self.status.setWordWrap(True)
        col.addWidget(self.status)
        self.print_button.clicked.connect(self.print_it)
        self.pdf_button.clicked.connect(self.save_it)
        close.clicked.connect(self.accept)
        self.default_name = f"occupancy-{facility.code}-{page.night().isoformat()}.pdf"

    def text(self) -> str:
        return self.page.sheet_text(self.numbers.isChecked())

    def print_it(self) -> None:
        from ui.occupancy_sheet import print_sheet

        if print_sheet(self.text(), self):
            self.status.setText(tr("Sheet", "Sent to the printer."))

    def save_it(self, path: Path | None = None) -> Path | None:
        """Ask where (unless ``path`` is given) and write the PDF."""
        from ui.occupancy_sheet import save_pdf

        if not isinstance(path, Path):
            chosen, _ = QFileDialog.getSaveFileName(self, tr("Sheet", "Save the occupancy sheet"),
                                                    str(Path.home() / self.default_name), tr("Sheet", "PDF (*.pdf)"))
            if not chosen:
                return None
            path = Path(chosen)
        try:
            save_pdf(self.text(), path)
        except TipdeskError as exc:
            self.status.setText(str(exc))
            return None
        self.status.setText(tr("Sheet", "Saved {file}.").format(file=path.name))
        return path
