"""Settings an administrator keeps, as tabs of Administration (beside Users, Office and
Security, where the lock timeout lives): follow-up plans, facilities and beds, partner
organisations, screening weights, the register's keys, and the language.

Every change goes through a core service that checks ``settings.manage`` (or the area's own
permission) and writes the audit event; this page only mirrors those permissions. Keys are
never shown: only whether they are set, and their short ids.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from models import vocab
from tipdesk.errors import TipdeskError, ValidationError
from ui.fields import BoolField, CheckListField, ChoiceField, DateField, IntField, ListTextField, NotesField, TextField
from ui.i18n import tr
from ui.widgets import ERROR_STYLE, error_box
from ui.work_dialogs import CoreFormDialog
from ui.work_models import RowsModel, beds_model, facilities_model, organisations_model, plan_definitions_model

if TYPE_CHECKING:
    from tipdesk.vault.register import Register
    from ui.operations import OperationRunner

SETTINGS_CHANGES = frozenset({"settings"})


def _table(model: RowsModel, name: str, parent: QWidget) -> QTableView:
    view = QTableView(parent)
    view.setObjectName(name)
    view.setModel(model)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    view.setTabKeyNavigation(False)
    view.verticalHeader().hide()
    view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    view.horizontalHeader().setStretchLastSection(True)
    return view


def _selected(view: QTableView, model: RowsModel):  # noqa: ANN202
    rows = view.selectionModel().selectedRows() if view.selectionModel() else []
    return model.row_at(rows[0].row()) if rows else None


class _Tab(QWidget):
    """A settings tab: reads its rows on the runner, says what happened on one line."""

    def __init__(self, reg: Register, runner: OperationRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.reg, self.runner = reg, runner
        self.col = QVBoxLayout(self)
        self.status = QLabel(self)
        self.status.setWordWrap(True)

    def buttons(self, *spec: tuple[str, Callable[[], Any]]) -> list[QPushButton]:
        row = QHBoxLayout()
        made = []
        for text, slot in spec:
            b = QPushButton(text, self)
            b.setAccessibleName(text.replace("&", "").rstrip("…"))
            b.clicked.connect(lambda _c=False, s=slot: s())
            row.addWidget(b)
            made.append(b)
        row.addStretch(1)
        self.col.addLayout(row)
        return made

    def run(self, call: Callable[[], Any], done: Callable[[Any], None], changes: frozenset[str] = SETTINGS_CHANGES,
            ) -> None:
        def failed(exc: BaseException) -> None:
            if isinstance(exc, TipdeskError):
                self.say(str(exc), error=True)
            else:
                error_box(self, exc)

        self.runner.run(lambda _p: call(), done, failed, parent=self, cancellable=False, changes=changes)

    def say(self, text: str, error: bool = False) -> None:
        self.status.setText(text)
        self.status.setStyleSheet(ERROR_STYLE if error else "")


# --- follow-up plans -------------------------------------------------------------------------------


def parse_months(text: str) -> tuple[int, ...]:
    """'1, 2, 3, 6' → (1, 2, 3, 6); anything but whole numbers is refused in plain words."""
    parts = [p for p in re.split(r"[,;\s]+", text.strip()) if p]
    if not parts or not all(p.isdigit() for p in parts):
        raise ValidationError(tr("Settings", "List the months after the start as whole numbers, e.g. 1, 2, 3, 6, 12."),
                              "months")
    return tuple(int(p) for p in parts)


class PlanDialog(CoreFormDialog):
    changes = frozenset({"settings", "followup_plans"})

    def __init__(self, reg: Register, runner: OperationRunner, plan=None, parent: QWidget | None = None) -> None:  # noqa: ANN001
        super().__init__(reg, runner, tr("Settings", "Follow-up plan") if plan else tr("Settings", "New follow-up plan"),
                         tr("Settings", "&Save"), parent,
                         tr("Settings", "A plan schedules one follow-up per number of months after its start. Plans "
                                        "already started keep their dates when this changes."))
        self.plan = plan
        self.add(tr("Settings", "&Name:"), TextField("name", 100))
        self.add(tr("Settings", "&Months after the start:"), TextField("months", 200, "1, 2, 3, 6, 9, 12, 18, 24"))
        self.add(tr("Settings", "Default:"), BoolField("make_default", tr("Settings", "&Use for new plans unless "
                                                                                      "another is chosen")))
        if plan is not None:
            self.form.set_values({"name": plan.name, "months": ", ".join(str(m) for m in plan.months),
                                  "make_default": plan.is_default})

    def call(self, v: dict[str, Any]) -> Callable[[], Any]:
        from tipdesk.services import followup_plans as fp

        months = parse_months(v["months"])
        reg, name, default, plan = self.reg, v["name"], v["make_default"], self.plan
        if plan is None:
            return lambda: fp.create_plan_definition(reg, name, months, make_default=default)
        return lambda: fp.update_plan_definition(reg, plan.id, name=name, months=months,
                                                 make_default=default and not plan.is_default)


class PlansTab(_Tab):
    def __init__(self, reg: Register, runner: OperationRunner, parent: QWidget | None = None) -> None:
        super().__init__(reg, runner, parent)
        self.model = plan_definitions_model(self)
        self.view = _table(self.model, "planDefinitions", self)
        self.view.setAccessibleName(tr("Settings", "Follow-up plans"))
        label = QLabel(tr("Settings", "Follow-up &plans of this office:"), self)
        label.setBuddy(self.view)
        self.col.addWidget(label)
        self.col.addWidget(self.view, 1)
        self.new_b, self.change_b, self.default_b, self.retire_b = self.buttons(
            (tr("Settings", "&New plan…"), self.new), (tr("Settings", "C&hange…"), self.change),
            (tr("Settings", "Make &default"), self.make_default), (tr("Settings", "&Retire or bring back"), self.retire))
        self.col.addWidget(self.status)
        self.view.activated.connect(lambda _i: self.change())
        self.view.selectionModel().selectionChanged.connect(self._update)
        self.reload()

    def _update(self, *_a: object) -> None:
        plan = _selected(self.view, self.model)
        for b in (self.change_b, self.retire_b):
            b.setEnabled(plan is not None)
        self.default_b.setEnabled(plan is not None and plan.active and not plan.is_default)

    def reload(self) -> None:
        from tipdesk.services import followup_plans as fp

        reg = self.reg
        self.runner.run(lambda _p: fp.list_plan_definitions(reg, include_inactive=True),
                        lambda rows: (self.model.set_rows(rows), self._update()), lambda exc: self.say(str(exc), True))

    def new(self) -> PlanDialog:
        dialog = PlanDialog(self.reg, self.runner, parent=self)
        dialog.succeeded.connect(lambda d: (self.say(tr("Settings", "Added the plan {name}.").format(name=d.name)),
                                            self.reload()))
        dialog.open()
        return dialog

    def change(self) -> PlanDialog | None:
        plan = _selected(self.view, self.model)
        if plan is None:
            return None
        dialog = PlanDialog(self.reg, self.runner, plan, parent=self)
        dialog.succeeded.connect(lambda d: (self.say(tr("Settings", "Saved the plan {name}.").format(name=d.name)),
                                            self.reload()))
        dialog.open()
        return dialog

    def make_default(self) -> None:
        from tipdesk.services import followup_plans as fp

        plan = _selected(self.view, self.model)
        if plan is None:
            return
        reg = self.reg
        self.run(lambda: fp.update_plan_definition(reg, plan.id, make_default=True),
                 lambda d: (self.say(tr("Settings", "New plans now use {name}.").format(name=d.name)), self.reload()))

    def retire(self) -> None:
        from tipdesk.services import followup_plans as fp

        plan = _selected(self.view, self.model)
        if plan is None:
            return
        reg, active = self.reg, not plan.active
        self.run(lambda: fp.update_plan_definition(reg, plan.id, active=active),
                 lambda d: (self.say(tr("Settings", "{name} is in use again.").format(name=d.name) if d.active
                                     else tr("Settings", "{name} is retired: no new plan uses it.").format(name=d.name)),
                            self.reload()))


# --- facilities and beds ---------------------------------------------------------------------------

SEX_CHOICES = (("Female", "Female"), ("Male", "Male"), ("Other", "Other"))


class FacilityDialog(CoreFormDialog):
    field_map = {"beds": "bed_labels"}
    changes = frozenset({"facilities", "shelter"})

    def __init__(self, reg: Register, runner: OperationRunner, facility=None, parent: QWidget | None = None) -> None:  # noqa: ANN001
        super().__init__(reg, runner, tr("Settings", "Facility") if facility else tr("Settings", "New facility"),
                         tr("Settings", "&Save"), parent,
                         tr("Settings", "Who it takes decides which placements need an exception with a reason. "
                                        "Leave the sexes unticked to take anyone."))
        self.facility = facility
        self.add(tr("Settings", "&Code:"), TextField("code", 16, "HWS"))
        self.add(tr("Settings", "&Name:"), TextField("name", 200))
        self.add(tr("Settings", "&Kind:"), ChoiceField("kind", vocab.FACILITY_KINDS))
        self.add(tr("Settings", "Ca&pacity (places):"), IntField("capacity", tr("Settings", "the number of beds if empty")))
        self.add(tr("Settings", "&Takes:"), CheckListField("sexes", SEX_CHOICES, 3))
        self.add(tr("Settings", "From a&ge:"), IntField("min_age"))
        self.add(tr("Settings", "&Up to age:"), IntField("max_age"))
        self.add(tr("Settings", "Children:"), BoolField("child_friendly", tr("Settings", "C&hild-friendly")))
        self.add(tr("Settings", "&Opened on:"), DateField("opened_on"))
        self.add(tr("Settings", "No&tes:"), NotesField("notes"))
        if facility is None:
            self.add(tr("Settings", "&Beds or rooms:"), ListTextField("bed_labels", placeholder="Room 1, Room 2, Room 3"),
                     tr("Settings", "Their names, separated by commas. More can be added later."))
        else:
            self.form.set_values({"code": facility.code, "name": facility.name, "kind": facility.kind,
                                  "capacity": facility.capacity, "sexes": facility.sexes, "min_age": facility.min_age,
                                  "max_age": facility.max_age, "child_friendly": facility.child_friendly,
                                  "opened_on": facility.opened_on, "notes": facility.notes or ""})

    def call(self, v: dict[str, Any]) -> Callable[[], Any]:
        from tipdesk.services import facilities as fac

        fields = fac.FacilityFields(code=v["code"], name=v["name"], kind=v["kind"] or "Shelter",
                                    capacity=v["capacity"] or 0, child_friendly=v["child_friendly"],
                                    sexes=tuple(v["sexes"]), min_age=v["min_age"], max_age=v["max_age"],
                                    opened_on=v["opened_on"], notes=v["notes"], bed_labels=v.get("bed_labels", ()))
        reg, facility = self.reg, self.facility
        if facility is None:
            return lambda: fac.create_facility(reg, fields)
        return lambda: fac.update_facility(reg, facility.id, fields)


class BedDialog(CoreFormDialog):
    changes = frozenset({"facilities", "shelter"})

    def __init__(self, reg: Register, runner: OperationRunner, facility, bed=None, parent: QWidget | None = None) -> None:  # noqa: ANN001
        super().__init__(reg, runner, tr("Settings", "Rename a bed or room") if bed else tr("Settings", "Add a bed or room"),
                         tr("Settings", "&Save"), parent, facility.name)
        self.facility, self.bed = facility, bed
        self.add(tr("Settings", "&Name:"), TextField("label", 64, "Room 4"))
        if bed is not None:
            self.form.set_values({"label": bed.label})

    def call(self, v: dict[str, Any]) -> Callable[[], Any]:
        from tipdesk.services import facilities as fac

        reg, label = self.reg, v["label"]
        if self.bed is None:
            fid = self.facility.id
            return lambda: fac.add_bed(reg, fid, label)
        bed_id = self.bed.id
        return lambda: fac.set_bed(reg, bed_id, label=label)


class FacilitiesTab(_Tab):
    def __init__(self, reg: Register, runner: OperationRunner, parent: QWidget | None = None) -> None:
        super().__init__(reg, runner, parent)
        self.model = facilities_model(self)
        self.view = _table(self.model, "facilities", self)
        self.view.setAccessibleName(tr("Settings", "Facilities"))
        label = QLabel(tr("Settings", "&Facilities (shelters, safe houses, children's homes):"), self)
        label.setBuddy(self.view)
        self.col.addWidget(label)
        self.col.addWidget(self.view, 2)
        self.new_b, self.change_b, self.close_b = self.buttons(
            (tr("Settings", "&New facility…"), self.new), (tr("Settings", "C&hange…"), self.change),
            (tr("Settings", "Take out of service or &back"), self.toggle))
        self.beds = beds_model(self)
        self.beds_view = _table(self.beds, "beds", self)
        self.beds_view.setAccessibleName(tr("Settings", "Beds or rooms"))
        self.beds_label = QLabel(tr("Settings", "&Beds or rooms of the facility chosen above:"), self)
        self.beds_label.setBuddy(self.beds_view)
        self.col.addWidget(self.beds_label)
        self.col.addWidget(self.beds_view, 1)
        self.add_bed_b, self.rename_b, self.retire_b = self.buttons(
            (tr("Settings", "&Add a bed or room…"), self.add_bed), (tr("Settings", "&Rename…"), self.rename_bed),
            (tr("Settings", "Take out of &use or back"), self.toggle_bed))
        self.col.addWidget(self.status)
        self.view.activated.connect(lambda _i: self.change())
        self.view.selectionModel().selectionChanged.connect(self._selected_facility)
        self.beds_view.selectionModel().selectionChanged.connect(self._update)
        self.reload()

    def facility(self):  # noqa: ANN201
        return _selected(self.view, self.model)

    def _selected_facility(self, *_a: object) -> None:
        f = self.facility()
        self.beds.set_rows(f.beds if f else [])
        self._update()

    def _update(self, *_a: object) -> None:
        f = self.facility()
        bed = _selected(self.beds_view, self.beds)
        self.change_b.setEnabled(f is not None)
        self.close_b.setEnabled(f is not None)
        self.add_bed_b.setEnabled(f is not None and f.active)
        self.rename_b.setEnabled(bed is not None)
        self.retire_b.setEnabled(bed is not None)

    def reload(self, keep: int | None = None) -> None:
        from tipdesk.services import facilities as fac

        reg = self.reg
        keep = keep if keep is not None else (self.facility().id if self.facility() else None)

        def shown(rows: list) -> None:
            self.model.set_rows(rows)
            for r, f in enumerate(rows):
                if f.id == keep:
                    self.view.selectRow(r)
            self._selected_facility()

        self.runner.run(lambda _p: fac.list_facilities(reg), shown, lambda exc: self.say(str(exc), True))

    def new(self) -> FacilityDialog:
        dialog = FacilityDialog(self.reg, self.runner, parent=self)
        dialog.succeeded.connect(lambda f: (self.say(tr("Settings", "Added {name}.").format(name=f.name)),
                                            self.reload(f.id)))
        dialog.open()
        return dialog

    def change(self) -> FacilityDialog | None:
        f = self.facility()
        if f is None:
            return None
        dialog = FacilityDialog(self.reg, self.runner, f, parent=self)
        dialog.succeeded.connect(lambda g: (self.say(tr("Settings", "Saved {name}.").format(name=g.name)),
                                            self.reload(g.id)))
        dialog.open()
        return dialog

    def toggle(self) -> None:
        from tipdesk.services import facilities as fac

        f = self.facility()
        if f is None:
            return
        reg, active = self.reg, not f.active
        self.run(lambda: fac.set_facility_active(reg, f.id, active),
                 lambda g: (self.say(tr("Settings", "{name} is in service.").format(name=g.name) if g.active else
                                     tr("Settings", "{name} is out of service.").format(name=g.name)), self.reload(g.id)),
                 frozenset({"facilities", "shelter"}))

    def add_bed(self) -> BedDialog | None:
        f = self.facility()
        if f is None:
            return None
        dialog = BedDialog(self.reg, self.runner, f, parent=self)
        dialog.succeeded.connect(lambda b: (self.say(tr("Settings", "Added {bed}.").format(bed=b.label)),
                                            self.reload(f.id)))
        dialog.open()
        return dialog

    def rename_bed(self) -> BedDialog | None:
        f, bed = self.facility(), _selected(self.beds_view, self.beds)
        if f is None or bed is None:
            return None
        dialog = BedDialog(self.reg, self.runner, f, bed, parent=self)
        dialog.succeeded.connect(lambda b: (self.say(tr("Settings", "Renamed to {bed}.").format(bed=b.label)),
                                            self.reload(f.id)))
        dialog.open()
        return dialog

    def toggle_bed(self) -> None:
        from tipdesk.services import facilities as fac

        f, bed = self.facility(), _selected(self.beds_view, self.beds)
        if f is None or bed is None:
            return
        reg, active = self.reg, not bed.active
        self.run(lambda: fac.set_bed(reg, bed.id, active=active),
                 lambda b: (self.say(tr("Settings", "{bed} is in use.").format(bed=b.label) if b.active else
                                     tr("Settings", "{bed} is out of use.").format(bed=b.label)), self.reload(f.id)),
                 frozenset({"facilities", "shelter"}))


# --- partner organisations -------------------------------------------------------------------------


class OrganisationDialog(CoreFormDialog):
    changes = frozenset({"organisations", "settings"})

    def __init__(self, reg: Register, runner: OperationRunner, org=None, parent: QWidget | None = None) -> None:  # noqa: ANN001
        super().__init__(reg, runner, tr("Settings", "Partner organisation") if org else tr("Settings", "New partner"),
                         tr("Settings", "&Save"), parent,
                         tr("Settings", "Partners identify people, receive referrals and provide services. Their type "
                                        "(HTCDS org_Type) is what returns count in T4."))
        self.org = org
        self.add(tr("Settings", "&Name:"), TextField("name", 200))
        self.add(tr("Settings", "&Type:"), ChoiceField("org_type", vocab.ORG_TYPES, blank=tr("Settings", "— choose —")))
        self.add(tr("Settings", "C&ountry (ISO code):"), TextField("country", 3, "JAM"))
        self.add(tr("Settings", "Short &code:"), TextField("code", 10, tr("Settings", "optional, e.g. JCF")))
        self.add(tr("Settings", "In use:"), BoolField("active", tr("Settings", "&Active (offered in lists)")))
        self.add(tr("Settings", "No&tes:"), NotesField("notes"))
        if org is not None:
            self.form.set_values({"name": org.name, "org_type": org.org_type, "country": org.country or "",
                                  "code": org.code or "", "active": org.active, "notes": org.notes})
        else:
            self.form.set_values({"active": True})

    def call(self, v: dict[str, Any]) -> Callable[[], Any]:
        from tipdesk.services import organisations as orgs

        data = orgs.OrganisationInput(v["name"], v["org_type"] or "", v["country"] or None, v["code"] or None,
                                      v["active"], v["notes"])
        reg, org = self.reg, self.org
        if org is None:
            return lambda: orgs.add_organisation(reg, data)
        return lambda: orgs.update_organisation(reg, org.id, data)


class PartnersTab(_Tab):
    def __init__(self, reg: Register, runner: OperationRunner, parent: QWidget | None = None) -> None:
        super().__init__(reg, runner, parent)
        self.model = organisations_model(self)
        self.view = _table(self.model, "partners", self)
        self.view.setAccessibleName(tr("Settings", "Partner organisations"))
        label = QLabel(tr("Settings", "&Partner organisations:"), self)
        label.setBuddy(self.view)
        self.col.addWidget(label)
        self.col.addWidget(self.view, 1)
        self.new_b, self.change_b = self.buttons((tr("Settings", "&New partner…"), self.new),
                                                 (tr("Settings", "C&hange…"), self.change))
        self.col.addWidget(self.status)
        self.view.activated.connect(lambda _i: self.change())
        self.view.selectionModel().selectionChanged.connect(
            lambda *_: self.change_b.setEnabled(_selected(self.view, self.model) is not None))
        self.change_b.setEnabled(False)
        self.reload()

    def reload(self) -> None:
        from tipdesk.services import organisations as orgs

        reg = self.reg
        self.runner.run(lambda _p: orgs.list_organisations(reg, include_inactive=True), self.model.set_rows,
                        lambda exc: self.say(str(exc), True))

    def new(self) -> OrganisationDialog:
        dialog = OrganisationDialog(self.reg, self.runner, parent=self)
        dialog.succeeded.connect(lambda o: (self.say(tr("Settings", "Added {name}.").format(name=o.name)), self.reload()))
        dialog.open()
        return dialog

    def change(self) -> OrganisationDialog | None:
        org = _selected(self.view, self.model)
        if org is None:
            return None
        dialog = OrganisationDialog(self.reg, self.runner, org, parent=self)
        dialog.succeeded.connect(lambda o: (self.say(tr("Settings", "Saved {name}.").format(name=o.name)), self.reload()))
        dialog.open()
        return dialog


# --- screening weights -----------------------------------------------------------------------------


class ScreeningTab(_Tab):
    """Indicator weights (0–10) and the score from which indicators alone suggest a possible victim."""

    def __init__(self, reg: Register, runner: OperationRunner, parent: QWidget | None = None) -> None:
        super().__init__(reg, runner, parent)
        from tipdesk.services import screening

        intro = QLabel(tr("Settings", "Each indicator a worker ticks adds its weight to the screening score. From the "
                                      "threshold on, indicators alone suggest a possible victim (the Act–Means–Purpose "
                                      "test decides otherwise). Each screening keeps the weights it used."), self)
        intro.setWordWrap(True)
        self.col.addWidget(intro)
        area = QScrollArea(self)
        area.setWidgetResizable(True)
        inner = QWidget(area)
        grid = QGridLayout(inner)
        self.spins: dict[str, QSpinBox] = {}
        for r, (key, text, _default) in enumerate(screening.INDICATORS):
            label = QLabel(text, inner)
            label.setWordWrap(True)
            spin = QSpinBox(inner)
            spin.setRange(0, 10)
            spin.setAccessibleName(tr("Settings", "Weight of: {indicator}").format(indicator=text))
            label.setBuddy(spin)
            grid.addWidget(label, r, 0)
            grid.addWidget(spin, r, 1)
            self.spins[key] = spin
        grid.setColumnStretch(0, 1)
        inner.setMaximumWidth(760)
        area.setWidget(inner)
        self.col.addWidget(area, 1)
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.FieldsStayAtSizeHint)
        self.threshold = QSpinBox(self)
        self.threshold.setRange(1, 100)
        self.threshold.setAccessibleName(tr("Settings", "Threshold for a possible victim"))
        label = QLabel(tr("Settings", "&Threshold:"), self)
        label.setBuddy(self.threshold)
        form.addRow(label, self.threshold)
        self.col.addLayout(form)
        self.save_b, self.defaults_b = self.buttons((tr("Settings", "&Save the weights"), self.save),
                                                    (tr("Settings", "Back to the &defaults"), self.defaults))
        self.col.addWidget(self.status)
        self.reload()

    def reload(self) -> None:
        from tipdesk.services import screening

        reg = self.reg
        self.runner.run(lambda _p: screening.get_screening_settings(reg), self._show, lambda exc: self.say(str(exc), True))

    def _show(self, settings) -> None:  # noqa: ANN001
        for key, spin in self.spins.items():
            spin.setValue(int(settings.weights.get(key, 0)))
        self.threshold.setValue(int(settings.possible_threshold))

    def defaults(self) -> None:
        from tipdesk.services import screening

        self._show(screening.ScreeningSettings())
        self.say(tr("Settings", "The default weights are shown; press Save to keep them."))

    def save(self) -> None:
        from tipdesk.services import screening

        settings = screening.ScreeningSettings({k: s.value() for k, s in self.spins.items()}, self.threshold.value())
        reg = self.reg
        self.run(lambda: screening.set_screening_settings(reg, settings),
                 lambda _s: self.say(tr("Settings", "Saved. New screenings use these weights; earlier ones keep "
                                                    "theirs.")), frozenset({"settings", "screening"}))


# --- keys --------------------------------------------------------------------------------------------


class KeysTab(_Tab):
    """Whether the office secret and the national linkage key are set — never the keys."""

    def __init__(self, reg: Register, runner: OperationRunner, parent: QWidget | None = None) -> None:
        super().__init__(reg, runner, parent)
        form = QFormLayout()
        self.secret = QLabel(self)
        self.secret.setObjectName("officeSecretStatus")
        self.secret.setWordWrap(True)
        self.linkage = QLabel(self)
        self.linkage.setObjectName("linkageKeyStatus")
        self.linkage.setWordWrap(True)
        for label, value, name in ((tr("Settings", "Office secret:"), self.secret, tr("Settings", "Office secret")),
                                   (tr("Settings", "National linkage key:"), self.linkage,
                                    tr("Settings", "National linkage key"))):
            value.setAccessibleName(name)
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            caption = QLabel(label, self)
            caption.setBuddy(value)
            form.addRow(caption, value)
        self.col.addLayout(form)
        explain = QLabel(tr("Settings", "The office secret makes the case keys of this office's returns (it was made "
                                        "with the register and never leaves it). The national linkage key comes from "
                                        "the secretariat as a file of 64 hexadecimal digits; with it, returns carry a "
                                        "person key for people who consented to data sharing, so that the secretariat "
                                        "can count each person once. Only the first 8 digits of each key's fingerprint "
                                        "are shown here."), self)
        explain.setWordWrap(True)
        self.col.addWidget(explain)
        (self.set_b,) = self.buttons((tr("Settings", "Set the national linkage key from a &file…"), self.set_from_file))
        self.col.addWidget(self.status)
        self.col.addStretch(1)
        self.reload()

    def reload(self) -> None:
        from tipdesk.services import linkage

        reg = self.reg
        self.runner.run(lambda _p: linkage.key_status(reg), self._show, lambda exc: self.say(str(exc), True))

    def _show(self, status) -> None:  # noqa: ANN001
        self.secret.setText(tr("Settings", "set (fingerprint {id}…)").format(id=status.office_secret_id)
                            if status.office_secret_set else tr("Settings", "NOT SET — this register is damaged"))
        self.linkage.setText(tr("Settings", "set (fingerprint {id}…)").format(id=status.linkage_key_id)
                             if status.linkage_key_set else tr("Settings", "not set"))

    def set_from_file(self, path: Path | None = None) -> None:
        from tipdesk.services import linkage

        if not isinstance(path, Path):
            chosen, _ = QFileDialog.getOpenFileName(self, tr("Settings", "The secretariat's key file"), str(Path.home()),
                                                    tr("Settings", "Text files (*.txt *.key);;All files (*)"))
            if not chosen:
                return
            path = Path(chosen)
        reg = self.reg
        self.run(lambda: linkage.set_linkage_key_from_file(reg, path),
                 lambda key_id: (self.say(tr("Settings", "The national linkage key is set (fingerprint {id}…).").format(
                     id=key_id)), self.reload()), frozenset({"settings", "linkage_key"}))


# --- language ------------------------------------------------------------------------------------------

LANGUAGE_NAMES = {"en": "English", "es": "Español", "fr": "Français", "pt": "Português", "ht": "Kreyòl ayisyen"}


def available_languages() -> list[tuple[str, str]]:
    """English, and every language whose catalogue ships in resources/translations."""
    folder = Path(__file__).resolve().parent.parent.parent / "resources" / "translations"
    found = {"en"}
    if folder.is_dir():
        for qm in folder.glob("tipdesk_*.qm"):
            found.add(qm.stem.split("_", 1)[1])
    return [(code, LANGUAGE_NAMES.get(code, code)) for code in sorted(found, key=lambda c: (c != "en", c))]


class LanguageTab(_Tab):
    """The language of the window on this computer (applies at the next start)."""

    def __init__(self, reg: Register, runner: OperationRunner, parent: QWidget | None = None) -> None:
        super().__init__(reg, runner, parent)
        from tipdesk.settings import Settings

        form = QFormLayout()
        self.combo = QComboBox(self)
        self.combo.setObjectName("language")
        for code, name in available_languages():
            self.combo.addItem(name, code)
        current = Settings.load().language or "en"
        self.combo.setCurrentIndex(max(0, self.combo.findData(current)))
        self.combo.setAccessibleName(tr("Settings", "Language"))
        label = QLabel(tr("Settings", "&Language:"), self)
        label.setBuddy(self.combo)
        form.addRow(label, self.combo)
        self.col.addLayout(form)
        note = QLabel(tr("Settings", "This is a setting of this computer, not of the register. tipdesk uses the new "
                                     "language from its next start. Languages appear here as their translations are "
                                     "added."), self)
        note.setWordWrap(True)
        self.col.addWidget(note)
        self.buttons((tr("Settings", "&Save the language"), self.save))
        self.col.addWidget(self.status)
        self.col.addStretch(1)

    def save(self) -> None:
        from tipdesk.settings import Settings

        settings = Settings.load()
        settings.language = self.combo.currentData()
        try:
            settings.save()
        except TipdeskError as exc:
            self.say(str(exc), error=True)
            return
        self.say(tr("Settings", "Saved: {name} from the next start.").format(name=self.combo.currentText()))


def settings_tabs(reg: Register, runner: OperationRunner, parent: QWidget) -> list[tuple[QWidget, str]]:
    """The tabs Administration adds after Users, Office and Security."""
    tabs: list[tuple[QWidget, str]] = []
    if reg.actor.can("followup.write"):
        tabs.append((PlansTab(reg, runner, parent), tr("Settings", "Follow-up &plans")))
    if reg.actor.can("shelter.write"):
        tabs.append((FacilitiesTab(reg, runner, parent), tr("Settings", "&Facilities")))
    if reg.actor.can("case.write"):
        tabs.append((PartnersTab(reg, runner, parent), tr("Settings", "P&artners")))
    if reg.actor.can("settings.manage"):
        tabs.append((ScreeningTab(reg, runner, parent), tr("Settings", "Scree&ning")))
        tabs.append((KeysTab(reg, runner, parent), tr("Settings", "&Keys")))
    tabs.append((LanguageTab(reg, runner, parent), tr("Settings", "&Language")))
    return tabs

