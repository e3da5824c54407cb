"""Admit, transfer, discharge and waiting-list dialogs (shelter board and case editor).

Every rule is the core's (``tipdesk.services.placements``): a bed taken that night, a second
open stay for the person, a full facility, a placement outside the facility's eligibility…
come back as plain sentences and are shown under the field they concern. A placement outside
the eligibility shows the reasons and asks for the exception's reason right there.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from PySide6.QtWidgets import QPushButton, QWidget

from models import vocab
from tipdesk.errors import NotFound, ValidationError
from ui.fields import ChoiceField, DateField, FieldInputError, NotesField, TextField
from ui.i18n import tr
from ui.work_dialogs import CoreFormDialog, reason_field

if TYPE_CHECKING:
    from tipdesk.services.facilities import FacilityInfo
    from tipdesk.services.placements import Occupancy, StayInfo
    from tipdesk.vault.register import Register
    from ui.operations import OperationRunner

NO_BED = "none"
SHELTER_CHANGES = frozenset({"shelter", "cases"})


def _case_id_of(reg: Register, number: str) -> int:
    from tipdesk.services.cases import find_case_id

    if not number.strip():
        raise ValidationError(tr("Shelter", "Type the case number, e.g. OAS-2026-0042."), "case")
    try:
        return find_case_id(reg, number)
    except NotFound as exc:
        raise ValidationError(str(exc), "case") from None


class _PlaceForm(CoreFormDialog):
    """What admitting and transferring share: facility, bed, date, planned discharge, notes,
    and the reason for an exception to the facility's eligibility."""

    field_map = {"facility": "facility_id", "bed": "bed_id", "admitted": "on", "on": "on",
                 "planned_discharge": "planned_discharge", "notes": "notes"}
    changes = SHELTER_CHANGES

    def _place_fields(self, facilities: Sequence[FacilityInfo], occupancy: Sequence[Occupancy],
                      facility_id: int | None, bed_id: int | None, on: dt.date, date_label: str) -> None:
        self.facilities = {f.id: f for f in facilities}
        self.free: dict[int, list] = {o.facility_id: list(o.free_beds) for o in occupancy}
        self.held: dict[int, Mapping[int, dt.date]] = {o.facility_id: o.reserved_beds for o in occupancy}
        self.places_free: dict[int, int] = {o.facility_id: o.free_places for o in occupancy}
        choices = [(f.id, f"{f.name} ({f.code})") for f in facilities if f.active]
        self.facility = self.add(tr("Shelter", "&Facility:"), ChoiceField("facility_id", choices))
        self.takes = self.add_note("")
        self.bed = self.add(tr("Shelter", "&Bed or room:"), ChoiceField("bed_id", []))
        self.on = self.add(date_label, DateField("on"))
        self.planned = self.add(tr("Shelter", "&Planned discharge:"), DateField("planned_discharge"),
                                tr("Shelter", "Optional: the day the stay is expected to end."))
        self.notes = self.add(tr("Shelter", "&Notes:"), NotesField("notes"))
        self.override = self.add(
            tr("Shelter", "&Exception reason:"), reason_field("eligibility_override"),
            tr("Shelter", "Only when the facility does not normally take this person (sex or age): why "
                          "place them here anyway. It is kept with the stay and in the audit trail."))
        self.override.widget.setAccessibleName(tr("Shelter", "Reason for an exception to the eligibility"))
        self.form.set_values({"facility_id": facility_id, "on": on})
        self._wanted_bed = bed_id
        self.facility.combo.currentIndexChanged.connect(self._facility_changed)
        self.on.edit.editingFinished.connect(self._date_changed)
        self._shown_for = on
        self._facility_changed()

    def _facility_changed(self, *_a: object) -> None:
        fid = self.facility.get()
        facility = self.facilities.get(fid)
        combo = self.bed.combo
        combo.clear()
        if facility is None:
            return
        named = [b for b in facility.beds if b.active]
        if not named:
            combo.addItem(tr("Shelter", "(this facility has places, not named beds)"), None)
        else:
            free = self.free.get(fid, [])
            held = self.held.get(fid, {})
            for b in free:
                combo.addItem(self._bed_text(b.label, held.get(b.id)), b.id)
            if not free:
                combo.addItem(tr("Shelter", "(no bed free on that day)"), None)
            wanted = combo.findData(self._wanted_bed)
            if wanted >= 0:
                combo.setCurrentIndex(wanted)
        free_places = self.places_free.get(fid, facility.capacity)
        self.takes.setText(tr("Shelter", "{name} takes: {who}. {free} of {capacity} places free that night.").format(
            name=facility.name, who=facility.eligibility_text(), capacity=facility.capacity, free=free_places))
        self.facility_full(free_places == 0 or (named and not self.free.get(fid)))

    def _bed_text(self, label: str, held_from: dt.date | None) -> str:
        """A free bed in the choice: free, reserved (that night), or reserved from a later night."""
        if held_from is None:
            return tr("Shelter", "{bed} — free").format(bed=label)
        if held_from <= self._shown_for:
            return tr("Shelter", "{bed} — reserved").format(bed=label)
        return tr("Shelter", "{bed} — free, reserved from {date}").format(bed=label, date=held_from.isoformat())

    def facility_full(self, full: bool) -> None:
        """The chosen facility has no place that night (the admit dialog offers its waiting list)."""

    def _date_changed(self) -> None:
        try:
            day = self.on.get()
        except FieldInputError:  # an unreadable date is reported when OK is pressed
            return
        if day is None or day == self._shown_for:
            return
        self._shown_for = day
        from tipdesk.services import placements

        reg = self.reg

        def got(found: list) -> None:
            self.free = {o.facility_id: list(o.free_beds) for o in found}
            self.held = {o.facility_id: o.reserved_beds for o in found}
            self.places_free = {o.facility_id: o.free_places for o in found}
            self._wanted_bed = self.bed.get()
            self._facility_changed()

        self.runner.run(lambda _p: placements.occupancy(reg, day), got, lambda exc: self.say(str(exc)))


class AdmitDialog(_PlaceForm):
    """Place a case's person in a facility (from the board, a case, or the waiting list)."""

    def __init__(self, reg: Register, runner: OperationRunner, facilities: Sequence[FacilityInfo],
                 occupancy: Sequence[Occupancy], *, facility_id: int | None = None, bed_id: int | None = None,
                 on: dt.date | None = None, case_id: int | None = None, case_number: str = "",
                 parent: QWidget | None = None) -> None:
        super().__init__(reg, runner, tr("Shelter", "Admit to a shelter"), tr("Shelter", "&Admit"), parent,
                         tr("Shelter", "A bed holds one person a night: someone may leave in the morning and "
                                       "another arrive the same day. A person has one open stay at a time."))
        self.case_id = case_id
        self.case_field = self.add(tr("Shelter", "&Case number:"), TextField("case", 32, "OAS-2026-0042"))
        if case_id is not None:
            self.case_field.edit.setReadOnly(True)
        self.case_field.set(case_number)
        self._place_fields(facilities, occupancy, facility_id, bed_id, on or dt.date.today(),
                           tr("Shelter", "Admitted &on:"))
        self.waiting_button = QPushButton(tr("Shelter", "Put on the &waiting list instead…"), self)
        self.waiting_button.setAccessibleName(tr("Shelter", "Put on the waiting list instead"))
        self.buttons.addButton(self.waiting_button, self.buttons.ButtonRole.ActionRole)
        self.wants_waiting_list = False
        self.waiting_button.clicked.connect(self._to_waiting_list)
        self._facility_changed()

    def facility_full(self, full: bool) -> None:
        button = getattr(self, "waiting_button", None)
        if button is not None:
            button.setVisible(full)

    def call(self, v: dict[str, Any]) -> Callable[[], Any]:
        from tipdesk.services import placements

        reg, known = self.reg, self.case_id
        number, facility_id, bed_id = v["case"], v["facility_id"], v["bed_id"]
        on, planned, notes, override = v["on"], v["planned_discharge"], v["notes"], v["eligibility_override"]
        if on is None:
            raise ValidationError(tr("Shelter", "Give the admission date."), "on")
        if facility_id is None:
            raise ValidationError(tr("Shelter", "Choose the facility."), "facility_id")

        def work():  # noqa: ANN202
            case_id = known if known is not None else _case_id_of(reg, number)
            return placements.admit(reg, case_id, facility_id, on, bed_id=bed_id, planned_discharge=planned,
                                    notes=notes, eligibility_override=override)

        return work

    def show_problems(self, exc: ValidationError) -> None:
        super().show_problems(exc)
        if any(p.field == "facility" and "waiting list" in p.message for p in exc.problems):
            self.waiting_button.setVisible(True)

    def _to_waiting_list(self) -> None:
        self.wants_waiting_list = True
        self.reject()


class TransferDialog(_PlaceForm):
    """Close a stay and open the next one the same day, in one step."""

    def __init__(self, reg: Register, runner: OperationRunner, stay: StayInfo, facilities: Sequence[FacilityInfo],
                 occupancy: Sequence[Occupancy], on: dt.date | None = None, parent: QWidget | None = None) -> None:
        who = stay.case.case_number
        super().__init__(reg, runner, tr("Shelter", "Transfer {case}").format(case=who), tr("Shelter", "&Transfer"),
                         parent, tr("Shelter", "{case} is in {bed} at {facility} since {date}. The transfer ends "
                                               "that stay and starts the next one on the same day.").format(
                             case=who, bed=stay.bed_label or tr("Shelter", "a place"), facility=stay.facility_name,
                             date=stay.admitted.isoformat()))
        self.stay = stay
        self._place_fields(facilities, occupancy, stay.facility_id, None, on or dt.date.today(),
                           tr("Shelter", "Transferred &on:"))

    def call(self, v: dict[str, Any]) -> Callable[[], Any]:
        from tipdesk.services import placements

        reg, stay_id = self.reg, self.stay.id
        if v["on"] is None:
            raise ValidationError(tr("Shelter", "Give the date of the transfer."), "on")
        facility_id, bed_id, on = v["facility_id"], v["bed_id"], v["on"]
        planned, notes, override = v["planned_discharge"], v["notes"], v["eligibility_override"]
        return lambda: placements.transfer(reg, stay_id, on, facility_id, to_bed_id=bed_id, planned_discharge=planned,
                                           notes=notes, eligibility_override=override)


FOLLOWUP_CHOICES = (
    ("auto", "As the reason says (reintegration starts follow-up)"),
    ("yes", "Start the follow-up plan"),
    ("no", "Do not start follow-up"),
)


class DischargeDialog(CoreFormDialog):
    """End a stay; a discharge into reintegration starts the follow-up plan."""

    field_map = {"discharged": "discharged", "discharge_reason": "reason", "definition": "plan"}
    changes = SHELTER_CHANGES | {"followups"}

    def __init__(self, reg: Register, runner: OperationRunner, stay: StayInfo, plans: Sequence = (),
                 on: dt.date | None = None, parent: QWidget | None = None) -> None:
        super().__init__(reg, runner, tr("Shelter", "Discharge {case}").format(case=stay.case.case_number),
                         tr("Shelter", "&Discharge"), parent,
                         tr("Shelter", "{case} has been in {bed} at {facility} since {date}.").format(
                             case=stay.case.case_number, bed=stay.bed_label or tr("Shelter", "a place"),
                             facility=stay.facility_name, date=stay.admitted.isoformat()))
        self.stay = stay
        reasons = [r for r in vocab.DISCHARGE_REASONS if r[0] != "TransferredToOtherFacility"]
        self.add(tr("Shelter", "Discharged &on:"), DateField("discharged"))
        self.add(tr("Shelter", "&Reason:"), ChoiceField("reason", reasons, blank=tr("Shelter", "— choose —")))
        self.add(tr("Shelter", "&Follow-up:"), ChoiceField("followup", FOLLOWUP_CHOICES))
        self.add(tr("Shelter", "&Plan:"), ChoiceField("plan", [(p.id, p.name) for p in plans],
                                                      blank=tr("Shelter", "The office's default plan")))
        self.add(tr("Shelter", "&Notes:"), NotesField("notes"))
        self.form.set_values({"discharged": on or dt.date.today(), "followup": "auto"})

    def call(self, v: dict[str, Any]) -> Callable[[], Any]:
        from tipdesk.services import placements

        if v["discharged"] is None:
            raise ValidationError(tr("Shelter", "Give the discharge date."), "discharged")
        if v["reason"] is None:
            raise ValidationError(tr("Shelter", "Choose the reason for the discharge."), "reason")
        reg, stay_id = self.reg, self.stay.id
        start = {"auto": None, "yes": True, "no": False}[v["followup"]]
        on, reason, notes, plan = v["discharged"], v["reason"], v["notes"], v["plan"]
        return lambda: placements.discharge(reg, stay_id, on, reason, notes=notes or None, start_followup=start,
                                            plan_definition_id=plan)


class WaitingListDialog(CoreFormDialog):
    """Put a case on a facility's waiting list."""

    field_map = {"facility": "facility_id", "requested_on": "requested_on"}
    changes = SHELTER_CHANGES

    def __init__(self, reg: Register, runner: OperationRunner, facilities: Sequence[FacilityInfo], *,
                 facility_id: int | None = None, case_id: int | None = None, case_number: str = "",
                 parent: QWidget | None = None) -> None:
        super().__init__(reg, runner, tr("Shelter", "Add to the waiting list"), tr("Shelter", "&Add"), parent,
                         tr("Shelter", "Admitting the case anywhere later takes it off every waiting list."))
        self.case_id = case_id
        self.add(tr("Shelter", "&Case number:"), TextField("case", 32, "OAS-2026-0042"))
        self.form.fields["case"].edit.setReadOnly(case_id is not None)
        self.add(tr("Shelter", "&Facility:"), ChoiceField("facility_id", [(f.id, f"{f.name} ({f.code})")
                                                                          for f in facilities if f.active]))
        self.add(tr("Shelter", "&Requested on:"), DateField("requested_on"))
        self.add(tr("Shelter", "&Note:"), NotesField("note"))
        self.form.set_values({"case": case_number, "facility_id": facility_id, "requested_on": dt.date.today()})

    def call(self, v: dict[str, Any]) -> Callable[[], Any]:
        from tipdesk.services import facilities

        reg, known = self.reg, self.case_id
        number, facility_id, requested, note = v["case"], v["facility_id"], v["requested_on"], v["note"]

        def work():  # noqa: ANN202
            case_id = known if known is not None else _case_id_of(reg, number)
            return facilities.add_to_waiting_list(reg, case_id, facility_id, requested, note)

        return work


class ReserveDialog(CoreFormDialog):
    """Hold a free bed for a case on some nights (the case waits for the facility meanwhile)."""

    changes = SHELTER_CHANGES

    def __init__(self, reg: Register, runner: OperationRunner, bed_id: int, bed_label: str, facility_name: str, *,
                 first_night: dt.date, case_id: int | None = None, case_number: str = "",
                 parent: QWidget | None = None) -> None:
        super().__init__(reg, runner, tr("Shelter", "Reserve a bed"), tr("Shelter", "&Reserve"), parent,
                         tr("Shelter", "{bed} at {facility} will take nobody else on these nights. The case is "
                                       "put on the facility's waiting list; admitting it ends the reservation.").format(
                             bed=bed_label, facility=facility_name))
        self.case_id, self.bed_id = case_id, bed_id
        self.add(tr("Shelter", "&Case number:"), TextField("case", 32, "OAS-2026-0042"))
        self.form.fields["case"].edit.setReadOnly(case_id is not None)
        self.add(tr("Shelter", "&First night:"), DateField("held_from"))
        self.add(tr("Shelter", "&Last night:"), DateField("held_until"),
                 tr("Shelter", "The bed is held up to and including this night."))
        self.add(tr("Shelter", "&Note:"), NotesField("note"))
        self.form.set_values({"case": case_number, "held_from": first_night,
                              "held_until": first_night + dt.timedelta(days=2)})

    def call(self, v: dict[str, Any]) -> Callable[[], Any]:
        from tipdesk.services import placements

        reg, known, bed_id = self.reg, self.case_id, self.bed_id
        number, first, last, note = v["case"], v["held_from"], v["held_until"], v["note"]
        if first is None or last is None:
            raise ValidationError(tr("Shelter", "Give the first and the last night."),
                                  "held_from" if first is None else "held_until")

        def work():  # noqa: ANN202
            case_id = known if known is not None else _case_id_of(reg, number)
            return placements.reserve_bed(reg, case_id, bed_id, last, held_from=first, note=note)

        return work


class ReasonDialog(CoreFormDialog):
    """Ask for one reason (and maybe a date), then run ``action(reason, date)``."""

    def __init__(self, reg: Register, runner: OperationRunner, title: str, ok_text: str, intro: str,
                 action: Callable[[str, dt.date | None], Any], *, with_date: str = "",
                 changes: frozenset[str] = frozenset(), parent: QWidget | None = None) -> None:
        super().__init__(reg, runner, title, ok_text, parent, intro)
        self.action = action
        self.changes = changes
        if with_date:
            self.add(with_date, DateField("on"))
            self.form.set_values({"on": dt.date.today()})
        self.add(tr("Dialogs", "&Why:"), reason_field("reason"))

    def call(self, v: dict[str, Any]) -> Callable[[], Any]:
        if not v["reason"]:
            raise ValidationError(tr("Dialogs", "Say why, in a few words."), "reason")
        action, reason, on = self.action, v["reason"], v.get("on")
        return lambda: action(reason, on)
