"""The case editor: Person, Identification & screening, Exploitation & route, Consent,
Referrals, Justice, History — one tab of the Cases page per open case.

Everything goes through the case services: the editor builds ``PersonInput``/``CaseInput``
from its fields and shows each ``ValidationError`` problem next to its field. Nothing is saved
until the whole case is valid. A new person is checked for duplicates while it is typed, and
the worker says "same person" or "different person" before saving.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, QTimer, Signal, Slot
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QScrollArea,
    QTableView,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from models import vocab
from models.countries import country_name
from tipdesk.errors import ConflictError, FieldProblem, TipdeskError, ValidationError
from ui.case_table import HistoryModel
from ui.fields import (
    BoolField,
    CheckListField,
    ChoiceField,
    DateField,
    FieldInputError,
    Form,
    IntField,
    ListTextField,
    NotesField,
    TextField,
)
from ui.i18n import tr
from ui.widgets import ERROR_STYLE, ask, error_box, heading

if TYPE_CHECKING:
    from tipdesk.services.records import CaseDetail
    from tipdesk.vault.register import Register
    from ui.operations import OperationRunner

SECTIONS = ("person", "identification", "exploitation", "consent", "referrals", "justice", "shelter", "services",
            "followup", "history")
PERSON_FIELDS = ("given_names", "family_names", "aliases", "birth_date", "estimated_age", "gender",
                 "citizenships", "languages", "identity_number", "phone", "email", "address")
SECTION_OF = {
    **{f: "person" for f in PERSON_FIELDS + ("age_estimated_on",)},
    **{f: "identification" for f in ("registration_date", "identified_by", "identified_by_org_id",
                                      "age_when_trafficked", "owner_id")},
    **{f: "exploitation" for f in ("exploitation", "labour_industry", "sex_exploitation",
                                    "methods_of_control", "recruitment_methods",
                                    "relationship_to_trafficker", "scope_override", "route")},
    **{f: "consent" for f in ("consent_given", "consent_services", "consent_data_sharing",
                              "consent_referral", "consent_date")},
    **{f: "justice" for f in ("police_reference", "victim_as_witness", "notes")},
}
SELF = "self"
DRAFT_KIND = "case"


@dataclass(frozen=True)
class EditorContext:
    """What every editor needs besides its case: read once per session by the Cases page."""

    organisations: tuple = ()  # OrganisationInfo
    owners: tuple = ()  # OwnerInfo
    screening_settings: Any = None
    can_write: bool = False
    names_visible: bool = False
    office_code: str = ""
    extra: dict = field(default_factory=dict)


def _scroll(inner: QWidget) -> QScrollArea:
    area = QScrollArea()
    area.setWidgetResizable(True)
    area.setWidget(inner)
    area.setFrameShape(QScrollArea.Shape.NoFrame)
    return area


def _form_box(title: str | None = None) -> tuple[QWidget, QFormLayout]:
    box = QGroupBox(title) if title else QWidget()
    form = QFormLayout(box)
    form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.ExpandingFieldsGrow)
    box.setMaximumWidth(760)
    return box, form


def _table(columns: list[str]) -> QTableWidget:
    t = QTableWidget(0, len(columns))
    t.setHorizontalHeaderLabels(columns)
    t.verticalHeader().hide()
    t.horizontalHeader().setStretchLastSection(True)
    t.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    t.setTabKeyNavigation(False)
    return t


def _ro_item(text: str) -> QTableWidgetItem:
    item = QTableWidgetItem(text)
    item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable)
    return item


def _show_widget(widget: QWidget) -> None:
    """Scroll the section holding ``widget`` so that it is in view."""
    parent = widget.parentWidget()
    while parent is not None and not isinstance(parent, QScrollArea):
        parent = parent.parentWidget()
    if parent is not None:
        parent.ensureWidgetVisible(widget, 20, 20)


class CaseEditor(QWidget):
    """Edits one case (or registers a new one when ``detail`` is None)."""

    saved = Signal(object)  # CaseDetail
    title_changed = Signal(str)

    def __init__(self, reg: Register, runner: OperationRunner, ctx: EditorContext,
                 detail: CaseDetail | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("CaseEditor")
        self.reg = reg
        self.runner = runner
        self.ctx = ctx
        self.detail = detail
        self.form = Form(self)
        self.screen_form = Form(self)
        self.ref_form = Form(self)
        self.stage_form = Form(self)
        self.duplicates: list = []
        self.dismissed: set[int] = set()
        self.linked_person_id: int | None = None
        self._dup_checked_for: tuple = ()
        self._baseline: dict[str, Any] = {}
        self._saving = False

        box = QVBoxLayout(self)
        top = QHBoxLayout()
        self.title = heading("", self)
        self.title.setObjectName("caseTitle")
        top.addWidget(self.title, 1)
        self.save_button = QPushButton(tr("Case", "&Save"), self)
        self.save_button.setObjectName("saveCase")
        self.save_button.setToolTip(tr("Case", "Save (Ctrl+S)"))
        self.save_button.setAccessibleName(tr("Case", "Save the case"))
        self.cancel_button = QPushButton(tr("Case", "Cancel edit"), self)
        self.cancel_button.setToolTip(tr("Case", "Throw away the changes (Esc)"))
        self.cancel_button.setAccessibleName(tr("Case", "Cancel edit"))
        top.addWidget(self.save_button)
        top.addWidget(self.cancel_button)
        box.addLayout(top)
        self.status_line = QLabel(self)
        self.status_line.setObjectName("caseStatusLine")
        self.status_line.setAccessibleName(tr("Case", "Status of the case"))
        box.addWidget(self.status_line)
        self.message = QLabel(self)
        self.message.setObjectName("caseMessage")
        self.message.setWordWrap(True)
        self.message.setAccessibleName(tr("Case", "Message"))
        self.message.hide()
        box.addWidget(self.message)
        self.sections = QTabWidget(self)
        self.sections.setObjectName("caseSections")
        self.sections.setAccessibleName(tr("Case", "Sections of the case"))
        box.addWidget(self.sections, 1)

        self.sections.addTab(_scroll(self._person_section()), tr("Case", "Person"))
        self.sections.addTab(_scroll(self._identification_section()), tr("Case", "Identification && screening"))
        self.sections.addTab(_scroll(self._exploitation_section()), tr("Case", "Exploitation && route"))
        self.sections.addTab(_scroll(self._consent_section()), tr("Case", "Consent"))
        self.sections.addTab(_scroll(self._referrals_section()), tr("Case", "Referrals"))
        self.sections.addTab(_scroll(self._justice_section()), tr("Case", "Justice"))
        from ui.case_work import CaseWork

        self.work = CaseWork(self)
        for key, title in self.work.titles().items():
            self.sections.addTab(self.work.sections[key], title)
        self.sections.addTab(self._history_section(), tr("Case", "History"))
        self.sections.currentChanged.connect(self._section_changed)

        self.save_button.clicked.connect(self.save)
        self.cancel_button.clicked.connect(self.cancel_edit)
        for keys, slot in (("Ctrl+S", self.save), ("Esc", self.cancel_edit)):
            sc = QShortcut(QKeySequence(keys), self)
            sc.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            sc.activated.connect(slot)
        self.form.changed.connect(self._changed)
        self.screen_form.changed.connect(self._update_suggestion)
        self._dup_timer = QTimer(self)
        self._dup_timer.setSingleShot(True)
        self._dup_timer.setInterval(400)
        self._dup_timer.timeout.connect(self._check_duplicates)
        for name in ("given_names", "family_names", "aliases", "birth_date", "estimated_age", "gender"):
            self.form.fields[name].connect(self._person_typed)
        self.load(detail)

    # --- sections ----------------------------------------------------------------------------------

    def _person_section(self) -> QWidget:
        page = QWidget()
        col = QVBoxLayout(page)
        self.dup_box = QGroupBox(tr("Case", "Is this someone already in the register?"))
        self.dup_box.setObjectName("duplicateWarning")
        dcol = QVBoxLayout(self.dup_box)
        self.dup_intro = QLabel()
        self.dup_intro.setWordWrap(True)
        dcol.addWidget(self.dup_intro)
        self.dup_choice = QComboBox()
        self.dup_choice.setAccessibleName(tr("Case", "Possible same person"))
        self.dup_choice.currentIndexChanged.connect(self._show_candidate)
        dcol.addWidget(self.dup_choice)
        self.dup_table = _table([tr("Case", ""), tr("Case", "Being entered"), tr("Case", "Already in the register")])
        self.dup_table.setObjectName("duplicateComparison")
        self.dup_table.setAccessibleName(tr("Case", "Side-by-side comparison"))
        self.dup_table.setMinimumHeight(190)
        dcol.addWidget(self.dup_table)
        row = QHBoxLayout()
        self.same_button = QPushButton(tr("Case", "Sa&me person: add a case for them"))
        self.different_button = QPushButton(tr("Case", "&Different person"))
        self.same_button.clicked.connect(self.choose_same_person)
        self.different_button.clicked.connect(self.choose_different_person)
        for b in (self.same_button, self.different_button):
            b.setAccessibleName(b.text().replace("&", ""))
            row.addWidget(b)
        row.addStretch(1)
        dcol.addLayout(row)
        self.dup_box.setMaximumWidth(760)
        self.dup_box.hide()
        col.addWidget(self.dup_box)
        w, f = _form_box()
        a = self.form.add
        a(f, tr("Case", "&Given names:"), TextField("given_names"))
        a(f, tr("Case", "&Family names:"), TextField("family_names"))
        a(f, tr("Case", "&Aliases:"), ListTextField("aliases", placeholder=tr("Case", "separated by commas")))
        a(f, tr("Case", "&Birth date:"), DateField("birth_date"))
        a(f, tr("Case", "Estimated a&ge:"), IntField("estimated_age", tr("Case", "when the birth date is not known")))
        a(f, tr("Case", "G&ender:"), ChoiceField("gender", vocab.GENDERS))
        a(f, tr("Case", "&Citizenships:"), ListTextField("citizenships", upper=True,
                                                        placeholder=tr("Case", "ISO codes, e.g. JAM, HTI")))
        a(f, tr("Case", "&Languages:"), ListTextField("languages", lower=True,
                                                     placeholder=tr("Case", "e.g. en, es, ht")))
        a(f, tr("Case", "&Identity number:"), TextField("identity_number", 64))
        a(f, tr("Case", "&Phone:"), TextField("phone", 64))
        a(f, tr("Case", "E&mail:"), TextField("email"))
        a(f, tr("Case", "A&ddress:"), NotesField("address"))
        col.addWidget(w)
        col.addStretch(1)
        return page

    def _identification_section(self) -> QWidget:
        page = QWidget()
        col = QVBoxLayout(page)
        w, f = _form_box()
        orgs = [(SELF, tr("Case", "Self-referral (came forward themselves)"))]
        orgs += [(f"org:{o.id}", f"{o.name} ({o.org_type_label})") for o in self.ctx.organisations]
        owners = [(o.id, f"{o.username} — {o.display_name}" if o.display_name != o.username else o.username)
                  for o in self.ctx.owners]
        a = self.form.add
        a(f, tr("Case", "&Registered on:"), DateField("registration_date"))
        a(f, tr("Case", "Identified &by:"), ChoiceField("identified_by", orgs, blank=tr("Case", "Unknown")))
        a(f, tr("Case", "Age when &trafficked:"), IntField("age_when_trafficked"))
        a(f, tr("Case", "Case &owner:"), ChoiceField("owner_id", owners, blank=tr("Case", "No owner")))
        col.addWidget(w)
        col.addWidget(self._statuses_box())

        self.screen_box = QGroupBox(tr("Case", "Screening: Act, Means, Purpose and indicators"))
        self.screen_box.setObjectName("screening")
        sf = QFormLayout(self.screen_box)
        s = self.screen_form.add
        s(sf, tr("Case", "Scr&eened on:"), DateField("screened_on"))
        s(sf, tr("Case", "A&ct:"), CheckListField("acts", vocab.PALERMO_ACTS),
          tr("Case", "What was done to the person: recruitment, transport, transfer, harbouring, receipt."))
        s(sf, tr("Case", "&Means:"), CheckListField("means", vocab.PALERMO_MEANS),
          tr("Case", "How: threat, force, coercion, abduction, fraud, deception, abuse of power or "
                     "vulnerability, payments. Not needed for a child."))
        s(sf, tr("Case", "&Purpose:"), CheckListField("purposes", vocab.EXPLOITATION_TYPES))
        from tipdesk.services.screening import INDICATORS

        weights = dict(self.ctx.screening_settings.weights) if self.ctx.screening_settings else {}
        s(sf, tr("Case", "I&ndicators:"), CheckListField(
            "indicators", [(i, f"{text} ({tr('Case', 'weight')} {weights.get(i, w)})") for i, text, w in INDICATORS], 6))
        s(sf, tr("Case", "&Under 18 at the time:"), ChoiceField(
            "child_at_time", [("yes", tr("Case", "Yes")), ("no", tr("Case", "No"))],
            blank=tr("Case", "Work it out from the ages recorded")))
        self.suggestion = QLabel()
        self.suggestion.setObjectName("suggestion")
        self.suggestion.setWordWrap(True)
        self.suggestion.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.suggestion.setStyleSheet("padding: 8px; border: 1px solid palette(mid); background: palette(base);")
        self.suggestion.setAccessibleName(tr("Case", "Suggested status and why"))
        sf.addRow(QLabel(tr("Case", "Suggestion:")), self.suggestion)
        s(sf, tr("Case", "&Your decision:"), ChoiceField("decided_status", vocab.TRAFFICKING_STATUSES,
                                                      blank=tr("Case", "Same as the suggestion")))
        s(sf, tr("Case", "&Decided by:"), ChoiceField("decided_by", vocab.DECISION_BODIES, blank=tr("Case", "—")),
          tr("Case", "Needed when the decision is an actual victim."))
        s(sf, tr("Case", "&Why (if you decide otherwise):"), TextField("note", 4000))
        self.record_screening_button = QPushButton(tr("Case", "Record the screening"))
        self.record_screening_button.setAccessibleName(tr("Case", "Record the screening"))
        self.record_screening_button.clicked.connect(self.record_screening)
        sf.addRow(self.record_screening_button)
        self.screen_box.setMaximumWidth(760)
        col.addWidget(self.screen_box)
        self.screen_note = QLabel(tr("Case", "Save the new case first; then screen it here."))
        self.screen_note.setWordWrap(True)
        col.addWidget(self.screen_note)
        self.screenings_label = QLabel()
        self.screenings_label.setWordWrap(True)
        col.addWidget(self.screenings_label)
        col.addStretch(1)
        return page

    def _statuses_box(self) -> QWidget:
        """Both statuses as they are now, their history, and buttons to change or undo them."""
        self.statuses_box = QGroupBox(tr("Case", "Statuses"))
        self.statuses_box.setObjectName("statuses")
        self.statuses_box.setMaximumWidth(760)
        grid = QGridLayout(self.statuses_box)
        self.status_values: dict[str, QLabel] = {}
        self.change_status_buttons: dict[str, QPushButton] = {}
        self.undo_status_buttons: dict[str, QPushButton] = {}
        rows = (("trafficking", tr("Case", "Trafficking status:"), tr("Case", "C&hange…"),
                 tr("Case", "Change the trafficking status"), tr("Case", "Undo the last trafficking-status change")),
                ("case", tr("Case", "Case status:"), tr("Case", "Chan&ge…"),
                 tr("Case", "Change the case status"), tr("Case", "Undo the last case-status change")))
        for r, (which, caption, change_text, change_name, undo_name) in enumerate(rows):
            value = QLabel()
            value.setObjectName(f"{which}StatusNow")
            value.setWordWrap(True)
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            label = QLabel(caption)
            label.setBuddy(value)
            change = QPushButton(change_text)
            change.setAccessibleName(change_name)
            change.setToolTip(change_name)
            change.clicked.connect(lambda _c=False, w=which: self.change_status(w))
            undo = QPushButton(tr("Case", "Undo…"))
            undo.setAccessibleName(undo_name)
            undo.setToolTip(undo_name)
            undo.clicked.connect(lambda _c=False, w=which: self.undo_status(w))
            grid.addWidget(label, r, 0)
            grid.addWidget(value, r, 1)
            grid.addWidget(change, r, 2)
            grid.addWidget(undo, r, 3)
            self.status_values[which] = value
            self.change_status_buttons[which] = change
            self.undo_status_buttons[which] = undo
        grid.setColumnStretch(1, 1)
        self.history_label = QLabel()
        self.history_label.setWordWrap(True)
        self.history_label.setObjectName("statusHistory")
        self.history_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        grid.addWidget(self.history_label, 2, 0, 1, 4)
        return self.statuses_box

    def _exploitation_section(self) -> QWidget:
        page = QWidget()
        col = QVBoxLayout(page)
        w, f = _form_box()
        a = self.form.add
        a(f, tr("Case", "&Exploitation:"), CheckListField("exploitation", vocab.EXPLOITATION_TYPES))
        a(f, tr("Case", "Forced-labour &industry:"), ChoiceField("labour_industry", vocab.LABOUR_INDUSTRIES, blank="—"))
        a(f, tr("Case", "Se&xual exploitation:"), CheckListField("sex_exploitation", vocab.SEX_EXPLOITATION_TYPES))
        a(f, tr("Case", "Methods of &control:"), CheckListField("methods_of_control", vocab.METHODS_OF_CONTROL))
        a(f, tr("Case", "&Recruitment:"), CheckListField("recruitment_methods", vocab.RECRUITMENT_METHODS))
        a(f, tr("Case", "Relationship to &trafficker:"), ChoiceField(
            "relationship_to_trafficker", vocab.RELATIONSHIPS, blank="—"))
        a(f, tr("Case", "&Scope:"), ChoiceField("scope_override", vocab.SCOPES,
                                              blank=tr("Case", "Work it out from the route and citizenship")))
        col.addWidget(w)
        col.addWidget(QLabel(tr("Case", "Route (where the person was recruited, moved and exploited):")))
        self.route = _table([tr("Case", "Kind"), tr("Case", "Country (ISO)"), tr("Case", "Place"),
                             tr("Case", "Date"), tr("Case", "Description")])
        self.route.setObjectName("route")
        self.route.setAccessibleName(tr("Case", "Route"))
        self.route.setMinimumHeight(140)
        self.route.itemChanged.connect(self._changed)
        col.addWidget(self.route)
        self.route_error = QLabel()
        self.route_error.setStyleSheet(ERROR_STYLE)
        self.route_error.setWordWrap(True)
        self.route_error.hide()
        col.addWidget(self.route_error)
        row = QHBoxLayout()
        self.add_route_button = QPushButton(tr("Case", "Add a route &event"))
        self.remove_route_button = QPushButton(tr("Case", "Remove the selected event"))
        self.add_route_button.clicked.connect(lambda: self._add_route_row())
        self.remove_route_button.clicked.connect(self._remove_route_row)
        for b in (self.add_route_button, self.remove_route_button):
            b.setAccessibleName(b.text().replace("&", ""))
            row.addWidget(b)
        row.addStretch(1)
        col.addLayout(row)
        col.addStretch(1)
        return page

    def _consent_section(self) -> QWidget:
        page = QWidget()
        col = QVBoxLayout(page)
        w, f = _form_box()
        a = self.form.add
        a(f, tr("Case", "Consent:"), BoolField("consent_given", tr("Case", "The person gave &consent")))
        a(f, tr("Case", "It covers:"), BoolField("consent_services", tr("Case", "&Services")))
        a(f, "", BoolField("consent_data_sharing", tr("Case", "&Data sharing (de-identified, with the secretariat)")))
        a(f, "", BoolField("consent_referral", tr("Case", "&Referral to partners")))
        a(f, tr("Case", "Consent &date:"), DateField("consent_date"))
        for name, text in (("consent_services", "Consent covers services"),
                           ("consent_data_sharing", "Consent covers data sharing"),
                           ("consent_referral", "Consent covers referral")):
            self.form.fields[name].widget.setAccessibleName(tr("Case", text))
        col.addWidget(w)
        col.addStretch(1)
        return page

    def _row_buttons(self, col: QVBoxLayout, table: QTableWidget, change_text: str, remove_text: str,
                     on_change: Callable[[], None], on_remove: Callable[[], None]) -> tuple[QPushButton, QPushButton]:
        """Buttons under a table to change or remove its selected row; Enter or a double click changes too."""
        row = QHBoxLayout()
        change = QPushButton(change_text)
        remove = QPushButton(remove_text)
        change.clicked.connect(on_change)
        remove.clicked.connect(on_remove)
        for b in (change, remove):
            b.setAccessibleName(b.text().replace("&", "").rstrip("…"))
            b.setEnabled(False)
            row.addWidget(b)
        row.addStretch(1)
        col.addLayout(row)
        table.activated.connect(lambda _i: on_change())

        def selection() -> None:
            chosen = bool(table.selectionModel().selectedRows()) and self.ctx.can_write
            change.setEnabled(chosen)
            remove.setEnabled(chosen)

        table.itemSelectionChanged.connect(selection)
        return change, remove

    def _referrals_section(self) -> QWidget:
        page = QWidget()
        col = QVBoxLayout(page)
        caption = QLabel(tr("Case", "Referrals of this case (Enter changes the selected one):"))
        col.addWidget(caption)
        self.referrals = _table([tr("Case", "Direction"), tr("Case", "Partner"), tr("Case", "Date"),
                                 tr("Case", "Reason"), tr("Case", "Outcome"), tr("Case", "Accepted or declined on")])
        self.referrals.setObjectName("referrals")
        self.referrals.setAccessibleName(tr("Case", "Referrals"))
        self.referrals.setMinimumHeight(140)
        self.referrals.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.referrals.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        caption.setBuddy(self.referrals)
        col.addWidget(self.referrals)
        self.change_referral_button, self.remove_referral_button = self._row_buttons(
            col, self.referrals, tr("Case", "C&hange the selected referral"),
            tr("Case", "Re&move the selected referral…"), self.edit_referral, self.remove_referral)
        self.ref_box, f = _form_box(tr("Case", "Add a referral"))
        self.ref_box.setObjectName("referralForm")
        partners = [(o.id, o.name) for o in self.ctx.organisations if not o.is_self]
        a = self.ref_form.add
        a(f, tr("Case", "Di&rection:"), ChoiceField("direction", vocab.REFERRAL_DIRECTIONS))
        a(f, tr("Case", "&Partner:"), ChoiceField("partner_org_id", partners, blank="—"))
        a(f, tr("Case", "Da&te:"), DateField("referral_date"))
        a(f, tr("Case", "Re&ason:"), ChoiceField("reason", vocab.REFERRAL_REASONS, blank="—"))
        a(f, tr("Case", "Deta&ils:"), TextField("details", 4000))
        a(f, tr("Case", "O&utcome:"), ChoiceField("outcome", vocab.REFERRAL_OUTCOMES))
        a(f, tr("Case", "Accepted or declined o&n:"), DateField("outcome_date"),
          tr("Case", "The day the partner accepted or declined the referral."))
        self.ref_form.fields["outcome"].connect(self._outcome_changed)
        buttons = QHBoxLayout()
        self.add_referral_button = QPushButton(tr("Case", "Add the referral"))
        self.add_referral_button.setObjectName("submitReferral")
        self.add_referral_button.clicked.connect(self.add_referral)
        self.stop_referral_button = QPushButton(tr("Case", "Cancel"))
        self.stop_referral_button.setAccessibleName(tr("Case", "Stop changing the referral"))
        self.stop_referral_button.clicked.connect(lambda: self._referral_mode(None))
        buttons.addWidget(self.add_referral_button, 1)
        buttons.addWidget(self.stop_referral_button)
        f.addRow(buttons)
        col.addWidget(self.ref_box)
        col.addStretch(1)
        self._editing_referral: int | None = None
        return page

    def _justice_section(self) -> QWidget:
        page = QWidget()
        col = QVBoxLayout(page)
        w, f = _form_box()
        a = self.form.add
        a(f, tr("Case", "Police &reference:"), TextField("police_reference", 64))
        a(f, tr("Case", "Witness:"), BoolField("victim_as_witness", tr("Case", "The person is a &witness")))
        a(f, tr("Case", "&Notes:"), NotesField("notes"))
        col.addWidget(w)
        caption = QLabel(tr("Case", "Justice stages (Enter changes the selected one):"))
        col.addWidget(caption)
        self.stages = _table([tr("Case", "Stage"), tr("Case", "Date"), tr("Case", "Note")])
        self.stages.setObjectName("justiceStages")
        self.stages.setAccessibleName(tr("Case", "Justice stages"))
        self.stages.setMinimumHeight(120)
        self.stages.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.stages.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        caption.setBuddy(self.stages)
        col.addWidget(self.stages)
        self.change_stage_button, self.remove_stage_button = self._row_buttons(
            col, self.stages, tr("Case", "C&hange the selected stage"),
            tr("Case", "Re&move the selected stage…"), self.edit_stage, self.remove_stage)
        self.stage_box, sf = _form_box(tr("Case", "Add a stage"))
        self.stage_box.setObjectName("stageForm")
        s = self.stage_form.add
        s(sf, tr("Case", "Sta&ge:"), ChoiceField("stage", vocab.JUSTICE_STAGES))
        s(sf, tr("Case", "Dat&e:"), DateField("stage_date"))
        s(sf, tr("Case", "N&ote:"), TextField("note", 4000))
        buttons = QHBoxLayout()
        self.add_stage_button = QPushButton(tr("Case", "Add the stage"))
        self.add_stage_button.setObjectName("submitStage")
        self.add_stage_button.clicked.connect(self.add_stage)
        self.stop_stage_button = QPushButton(tr("Case", "Cancel"))
        self.stop_stage_button.setAccessibleName(tr("Case", "Stop changing the stage"))
        self.stop_stage_button.clicked.connect(lambda: self._stage_mode(None))
        buttons.addWidget(self.add_stage_button, 1)
        buttons.addWidget(self.stop_stage_button)
        sf.addRow(buttons)
        col.addWidget(self.stage_box)
        col.addStretch(1)
        self._editing_stage: int | None = None
        return page

    def _history_section(self) -> QWidget:
        page = QWidget()
        col = QVBoxLayout(page)
        self.history_model = HistoryModel(self)
        self.history_view = QTableView()
        self.history_view.setObjectName("caseHistory")
        self.history_view.setModel(self.history_model)
        self.history_view.setAccessibleName(tr("Case", "History of the case"))
        self.history_view.verticalHeader().hide()
        self.history_view.setWordWrap(True)
        self.history_view.setTabKeyNavigation(False)
        header = self.history_view.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        label = QLabel(tr("Case", "Who did what, and when (newest first):"))
        label.setBuddy(self.history_view)
        col.addWidget(label)
        col.addWidget(self.history_view)
        return page

    # --- loading -----------------------------------------------------------------------------------

    @property
    def case_id(self) -> int | None:
        return self.detail.id if self.detail is not None else None

    def tab_title(self) -> str:
        return self.detail.case_number if self.detail is not None else tr("Case", "New case")

    def load(self, detail: CaseDetail | None) -> None:
        """Show ``detail`` (None: an empty new case) and make it the unchanged state."""
        self.detail = detail
        today = dt.date.today()
        if detail is None:
            self.form.set_values({name: None for name in self.form.fields})
            self.form.set_values({"registration_date": today, "gender": "NonSpecifiedUnknown",
                                  "citizenships": (), "aliases": (), "languages": (),
                                  "exploitation": (), "sex_exploitation": (), "methods_of_control": (),
                                  "recruitment_methods": ()})
            self._set_route([])
            self.title.setText(tr("Case", "New case"))
            self.status_line.setText(tr("Case", "Not saved yet. Fill in what you know; you can add more later."))
        else:
            p = detail.person
            values = {name: getattr(p, name) for name in PERSON_FIELDS}
            ci = detail.to_input()
            for name in self.form.fields:
                if hasattr(ci, name):
                    values[name] = getattr(ci, name)
            values["identified_by"] = (SELF if detail.self_referral else
                                       f"org:{detail.identified_by_org_id}" if detail.identified_by_org_id else None)
            self.form.set_values(values)
            self._set_route(list(ci.route))
            self.title.setText(detail.case_number + (f" — {p.display_name}" if self.ctx.names_visible else ""))
            self._show_lists(detail)
        self.screen_form.set_values({"screened_on": today, "acts": (), "means": (), "purposes": (),
                                     "indicators": (), "child_at_time": None, "decided_status": None,
                                     "decided_by": None, "note": ""})
        self._referral_mode(None)
        self._stage_mode(None)
        for f in (self.form, self.screen_form):
            f.clear_problems()
        is_new = detail is None
        self.screen_box.setVisible(not is_new)
        self.screen_note.setVisible(is_new)
        self.statuses_box.setVisible(not is_new)
        self.ref_box.setEnabled(not is_new and self.ctx.can_write)
        self.stage_box.setEnabled(not is_new and self.ctx.can_write)
        for button in (*self.change_status_buttons.values(), *self.undo_status_buttons.values()):
            button.setVisible(self.ctx.can_write)
        self.form.set_read_only(not self.ctx.can_write)
        self.save_button.setVisible(self.ctx.can_write)
        self.cancel_button.setVisible(self.ctx.can_write)
        self.add_route_button.setEnabled(self.ctx.can_write)
        self.remove_route_button.setEnabled(self.ctx.can_write)
        self.record_screening_button.setEnabled(self.ctx.can_write)
        self.dup_box.hide()
        self.duplicates = []
        self._update_suggestion()
        self._baseline = self.snapshot()
        self.title_changed.emit(self.tab_title())
        self.work.set_case(detail)
        if detail is not None and self.sections.currentIndex() == SECTIONS.index("history"):
            self.load_history()

    def _show_lists(self, d: CaseDetail) -> None:
        """Everything of the case that changes apart from the form: statuses, screenings,
        referrals and justice stages."""
        self.status_line.setText(tr("Case", "{status} · case {case_status} · registered {date}").format(
            status=tr("Vocabulary", vocab.label(vocab.TRAFFICKING_STATUSES, d.trafficking_status)),
            case_status=tr("Vocabulary", vocab.label(vocab.CASE_STATUSES, d.case_status)).lower(),
            date=d.registration_date.isoformat()))
        for which, history, vocabulary, current in (
                ("trafficking", d.status_history, vocab.TRAFFICKING_STATUSES, d.trafficking_status),
                ("case", d.case_status_history, vocab.CASE_STATUSES, d.case_status)):
            since = history[-1].effective_date if history else d.registration_date
            text = tr("Case", "{status}, since {date}").format(
                status=tr("Vocabulary", vocab.label(vocabulary, current)), date=since.isoformat())
            self.status_values[which].setText(text)
            self.status_values[which].setAccessibleName(text)
            self.undo_status_buttons[which].setEnabled(len(history) > 1)
        hist = [tr("Case", "Trafficking status:")]
        for e in d.status_history:
            by = f" ({tr('Vocabulary', vocab.label(vocab.DECISION_BODIES, e.decided_by))})" if e.decided_by else ""
            hist.append(f"  {e.effective_date.isoformat()}: {tr('Vocabulary', e.label)}{by}")
        hist.append(tr("Case", "Case status:"))
        for e in d.case_status_history:
            hist.append(f"  {e.effective_date.isoformat()}: {tr('Vocabulary', e.label)}"
                        + (f" — {e.reason}" if e.reason else ""))
        self.history_label.setText("\n".join(hist))
        screens = [tr("Case", "Earlier screenings:")] if d.screenings else []
        for sc in d.screenings:
            screens.append(tr("Case", "{date}: suggested {s}, decided {d}").format(
                date=sc.screened_on.isoformat(),
                s=tr("Vocabulary", vocab.label(vocab.TRAFFICKING_STATUSES, sc.suggested_status)).lower(),
                d=tr("Vocabulary", vocab.label(vocab.TRAFFICKING_STATUSES, sc.decided_status)).lower()))
        self.screenings_label.setText("\n".join(screens))
        self.referrals.setRowCount(0)
        for r in d.referrals:
            i = self.referrals.rowCount()
            self.referrals.insertRow(i)
            for c, text in enumerate((tr("Vocabulary", r.direction_label), r.partner_name,
                                      r.referral_date.isoformat(),
                                      tr("Vocabulary", vocab.label(vocab.REFERRAL_REASONS, r.reason)) if r.reason else "",
                                      tr("Vocabulary", vocab.label(vocab.REFERRAL_OUTCOMES, r.outcome)),
                                      r.outcome_date.isoformat() if r.outcome_date else "")):
                self.referrals.setItem(i, c, _ro_item(text))
        self.referrals.resizeColumnsToContents()
        self.stages.setRowCount(0)
        for st in d.justice_stages:
            i = self.stages.rowCount()
            self.stages.insertRow(i)
            for c, text in enumerate((tr("Vocabulary", st.stage), st.stage_date.isoformat(), st.note)):
                self.stages.setItem(i, c, _ro_item(text))
        self.stages.resizeColumnsToContents()

    # --- route table -------------------------------------------------------------------------------

    def _add_route_row(self, kind: str = "Recruitment", country: str = "", place: str = "",
                       date: str = "", description: str = "") -> None:
        self.route.blockSignals(True)
        i = self.route.rowCount()
        self.route.insertRow(i)
        combo = QComboBox()
        for value, label in vocab.ROUTE_EVENT_TYPES:
            combo.addItem(tr("Vocabulary", label), value)
        combo.setCurrentIndex(max(0, combo.findData(kind)))
        combo.setAccessibleName(tr("Case", "Kind of route event"))
        combo.currentIndexChanged.connect(self._changed)
        combo.setEnabled(self.ctx.can_write)
        self.route.setCellWidget(i, 0, combo)
        for c, text in enumerate((country, place, date, description), start=1):
            item = QTableWidgetItem(text)
            if not self.ctx.can_write:
                item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable)
            self.route.setItem(i, c, item)
        self.route.blockSignals(False)
        self._changed()

    def _remove_route_row(self) -> None:
        rows = sorted({i.row() for i in self.route.selectedIndexes()}, reverse=True)
        for r in rows:
            self.route.removeRow(r)
        self._changed()

    def _set_route(self, events: list) -> None:
        self.route.setRowCount(0)
        self._route_ids: list[int | None] = []
        for e in events:
            self._add_route_row(e.kind, e.country or "", e.place, e.event_date.isoformat() if e.event_date else "",
                                e.description)
            self._route_ids.append(e.id)

    def _route_raw(self) -> list[list[str]]:
        out = []
        for r in range(self.route.rowCount()):
            combo = self.route.cellWidget(r, 0)
            kind = combo.currentData() if isinstance(combo, QComboBox) else ""
            cells = [(self.route.item(r, c).text() if self.route.item(r, c) else "") for c in range(1, 5)]
            out.append([kind, *cells])
        return out

    def _route_inputs(self) -> tuple:
        from tipdesk.services.records import RouteEventInput

        events, problems = [], []
        ids = getattr(self, "_route_ids", [])
        for r, (kind, country, place, date, description) in enumerate(self._route_raw()):
            when = None
            if date.strip():
                try:
                    when = dt.date.fromisoformat(date.strip())
                except ValueError:
                    problems.append(FieldProblem(f"route.{r}.event_date", tr(
                        "Case", "Route event {n}: write the date as year-month-day, e.g. 2026-03-14.").format(n=r + 1)))
            events.append(RouteEventInput(kind, country.strip().upper() or None, place.strip(), when,
                                          description.strip(), ids[r] if r < len(ids) else None))
        if problems:
            raise ValidationError(problems)
        return tuple(events)

    # --- state ---------------------------------------------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        return {"form": self.form.snapshot(), "route": self._route_raw(),
                "screening": self.screen_form.snapshot()}

    def has_unsaved(self) -> bool:
        return self.ctx.can_write and self.snapshot() != self._baseline

    def draft_payload(self) -> dict[str, Any]:
        return {"case_id": self.case_id, **self.snapshot()}

    def restore(self, payload: dict[str, Any]) -> None:
        self.form.restore(payload.get("form", {}))
        self.route.setRowCount(0)
        for kind, country, place, date, description in payload.get("route", []):
            self._add_route_row(kind, country, place, date, description)
        self.screen_form.restore(payload.get("screening", {}))
        self._changed()

    @Slot()
    def _changed(self, *_a: object) -> None:
        dirty = self.has_unsaved()
        title = self.tab_title() + (" *" if dirty else "")
        self.title_changed.emit(title)

    def _section_changed(self, index: int) -> None:
        if SECTIONS[index] == "history" and self.detail is not None:
            self.load_history()
        self.work.shown(SECTIONS[index])

    def show_section(self, key: str) -> None:
        """Bring the section ``key`` (one of ``SECTIONS``) forward."""
        if key in SECTIONS:
            self.sections.setCurrentIndex(SECTIONS.index(key))

    def load_history(self) -> None:
        from tipdesk.services.history import case_history

        reg, case_id = self.reg, self.case_id
        if case_id is None:
            return
        self.runner.run(lambda _p: case_history(reg, case_id), self.history_model.set_entries,
                        lambda exc: self._say(str(exc), error=True))

    def _say(self, text: str, error: bool = False) -> None:
        self.message.setText(text)
        self.message.setAccessibleName(text)
        self.message.setStyleSheet(ERROR_STYLE if error else "")
        self.message.setVisible(bool(text))

    # --- inputs for the services -----------------------------------------------------------------

    def _inputs(self):  # noqa: ANN202 (PersonInput, CaseInput)
        from tipdesk.services.persons import PersonInput
        from tipdesk.services.records import CaseInput

        problems = []
        try:
            v = self.form.values()
        except ValidationError as exc:
            problems.extend(exc.problems)
            v = None
        try:
            route = self._route_inputs()
        except ValidationError as exc:
            problems.extend(exc.problems)
            route = ()
        if problems:
            raise ValidationError(problems)
        assert v is not None
        person = PersonInput(**{name: v[name] for name in PERSON_FIELDS})
        ident = v["identified_by"]
        case = CaseInput(
            registration_date=v["registration_date"],
            identified_by_org_id=int(ident.split(":")[1]) if ident and ident.startswith("org:") else None,
            self_referral=ident == SELF,
            age_when_trafficked=v["age_when_trafficked"], exploitation=v["exploitation"],
            labour_industry=v["labour_industry"], sex_exploitation=v["sex_exploitation"],
            methods_of_control=v["methods_of_control"], recruitment_methods=v["recruitment_methods"],
            relationship_to_trafficker=v["relationship_to_trafficker"], route=route,
            scope_override=v["scope_override"], consent_given=v["consent_given"],
            consent_services=v["consent_services"], consent_data_sharing=v["consent_data_sharing"],
            consent_referral=v["consent_referral"], consent_date=v["consent_date"],
            owner_id=v["owner_id"], police_reference=v["police_reference"],
            victim_as_witness=v["victim_as_witness"], notes=v["notes"],
        )
        return person, case

    def _show_validation(self, exc: ValidationError) -> None:
        loose = self.form.show_problems(exc)
        route_msgs = [m for f, ms in exc.by_field().items() if f.startswith("route") for m in ms]
        self.route_error.setText(" ".join(route_msgs))
        self.route_error.setVisible(bool(route_msgs))
        loose = [m for m in loose if m not in route_msgs]
        first = next((f for f in exc.by_field()), "")
        section = SECTION_OF.get(first.split(".")[0])
        if section is not None:
            self.sections.setCurrentIndex(SECTIONS.index(section))
            field = self.form.fields.get(first)
            if field is not None:
                field.widget.setFocus()
        count = len(exc.problems)
        head = (tr("Case", "Nothing was saved: one thing to correct, shown next to its field.") if count == 1 else
                tr("Case", "Nothing was saved: {n} things to correct, shown next to the fields.").format(n=count))
        self._say(" ".join([head, *loose]), error=True)

    # --- saving ------------------------------------------------------------------------------------

    @Slot()
    def save(self) -> None:
        if not self.ctx.can_write or self._saving:
            return
        try:
            person, case = self._inputs()
        except ValidationError as exc:
            self._show_validation(exc)
            return
        if self.detail is None and self.duplicates and self.linked_person_id is None:
            undecided = [c for c in self.duplicates if c.person_id not in self.dismissed]
            if undecided:
                self.sections.setCurrentIndex(0)
                self.dup_box.show()
                self._say(tr("Case", "Say first whether this is the same person as one already in the "
                                     "register (below the person's details)."), error=True)
                self.same_button.setFocus()
                return
        from tipdesk.services import cases as case_service

        reg = self.reg
        if self.detail is None:
            linked = self.linked_person_id
            dismissed = sorted(self.dismissed)

            def op(_p):  # noqa: ANN001, ANN202
                if linked is not None:
                    return case_service.register_case(reg, case, person_id=linked, dismissed_duplicates=dismissed)
                return case_service.register_case(reg, case, person, dismissed_duplicates=dismissed)
        else:
            case_id, version = self.detail.id, self.detail.version
            same_person = not self.ctx.names_visible

            def op(_p):  # noqa: ANN001, ANN202
                return case_service.update_case(reg, case_id, case, person=None if same_person else person,
                                                expected_version=version)

        self._saving = True
        self.save_button.setEnabled(False)
        self.runner.run(op, self._saved, self._save_failed, label=tr("Case", "Saving the case…"),
                        parent=self, cancellable=False, changes={"cases"})

    def _saved(self, detail: CaseDetail) -> None:
        self._saving = False
        self.save_button.setEnabled(True)
        self.linked_person_id = None
        self.dismissed = set()
        self.load(detail)
        self._say(tr("Case", "Saved."))
        self.route_error.hide()
        self.saved.emit(detail)

    def _save_failed(self, exc: BaseException) -> None:
        self._saving = False
        self.save_button.setEnabled(True)
        if isinstance(exc, ValidationError):
            self._show_validation(exc)
        elif isinstance(exc, ConflictError):
            self._say(tr("Case", "Someone else changed this case since you opened it. Nothing was saved: "
                                 "close it and open it again, then redo your changes."), error=True)
        elif isinstance(exc, TipdeskError):
            self._say(str(exc), error=True)
        else:
            error_box(self, exc)

    @Slot()
    def cancel_edit(self) -> None:
        """Esc: throw away unsaved changes (asks first)."""
        if not self.has_unsaved():
            return
        ask(self, tr("Case", "Cancel edit"), tr("Case", "Throw away your changes to this case?"),
            tr("Case", "Throw them away"), lambda: self.load(self.detail), destructive=True,
            no_text=tr("Case", "Keep editing"))

    # --- screening ---------------------------------------------------------------------------------

    def _screening_input(self):  # noqa: ANN202
        from tipdesk.services.screening import ScreeningInput

        v = self.screen_form.values(["screened_on", "acts", "means", "purposes", "indicators", "child_at_time"])
        child = {"yes": True, "no": False}.get(v["child_at_time"])
        return ScreeningInput(v["screened_on"] or dt.date.today(), v["acts"], v["means"], v["purposes"],
                              v["indicators"], child)

    def _child_at_time(self, data) -> bool | None:  # noqa: ANN001
        if data.child_at_time is not None:
            return data.child_at_time
        from tipdesk import counting

        try:
            age_then = self.form.fields["age_when_trafficked"].get()
            if age_then is not None:
                return age_then < 18
            age = counting.age_at(data.screened_on, self.form.fields["birth_date"].get(),
                                  self.form.fields["estimated_age"].get(),
                                  self.detail.person.age_estimated_on if self.detail else dt.date.today())
        except FieldInputError:
            return None
        return None if age is None else age < 18

    @Slot()
    def _update_suggestion(self, *_a: object) -> None:
        if self.ctx.screening_settings is None:
            return
        from tipdesk.services.screening import suggest

        try:
            data = self._screening_input()
        except ValidationError:
            self.suggestion.setText(tr("Case", "Write the screening date as year-month-day."))
            return
        s = suggest(data, self.ctx.screening_settings, self._child_at_time(data))
        self._suggested = s.status
        self.suggestion.setText(f"<b>{tr('Vocabulary', s.label)}</b><br>{s.reasoning}")
        self._changed()

    @Slot()
    def record_screening(self) -> None:
        if self.detail is None or not self.ctx.can_write:
            return
        from tipdesk.services import screening

        try:
            data = self._screening_input()
            v = self.screen_form.values(["decided_status", "decided_by", "note"])
        except ValidationError as exc:
            self.screen_form.show_problems(exc)
            return
        decision = screening.ScreeningDecision(v["decided_status"] or getattr(self, "_suggested", ""),
                                               v["note"], v["decided_by"])
        reg, case_id, version = self.reg, self.detail.id, self.detail.version

        def failed(exc: BaseException) -> None:
            if isinstance(exc, ValidationError):
                by = {"decided_status": "decided_status", "note": "note", "screened_on": "screened_on"}
                problems = [FieldProblem(by.get(p.field, p.field), p.message) for p in exc.problems]
                loose = self.screen_form.show_problems(ValidationError(problems))
                if loose:
                    self._say(" ".join(loose), error=True)
            else:
                self._save_failed(exc)

        self.runner.run(lambda _p: screening.record_screening(reg, case_id, data, decision, version),
                        lambda d: (self._saved(d), self._say(tr("Case", "The screening was recorded."))),
                        failed, parent=self, cancellable=False, changes={"cases"})

    # --- statuses ------------------------------------------------------------------------------------

    @Slot()
    def change_status(self, which: str) -> None:
        """Open the dialog that records a dated change of the case or trafficking status."""
        if self.detail is None or not self.ctx.can_write:
            return
        from ui.case_dialogs import CaseStatusDialog, TraffickingStatusDialog

        kind = CaseStatusDialog if which == "case" else TraffickingStatusDialog
        dialog = kind(self.reg, self.runner, self.detail, self)
        done = (tr("Case", "The case status was changed.") if which == "case"
                else tr("Case", "The trafficking status was changed."))
        dialog.succeeded.connect(lambda d: self._part_saved(d, done))
        dialog.finished.connect(lambda _r: dialog.deleteLater())
        dialog.open()
        self.status_dialog = dialog

    @Slot()
    def undo_status(self, which: str) -> None:
        """Undo the latest change of one status history, after saying what it will do."""
        if self.detail is None or not self.ctx.can_write:
            return
        from tipdesk.services import cases

        d = self.detail
        history, vocabulary = ((d.case_status_history, vocab.CASE_STATUSES) if which == "case"
                               else (d.status_history, vocab.TRAFFICKING_STATUSES))
        if len(history) < 2:
            return
        latest, before = history[-1], history[-2]
        what = tr("Case", "case status") if which == "case" else tr("Case", "trafficking status")
        text = tr("Case", "Undo the change of the {what} to “{status}” of {date}? The {what} will be "
                          "“{previous}” again. The audit trail keeps both.").format(
            what=what, status=tr("Vocabulary", vocab.label(vocabulary, latest.status)),
            date=latest.effective_date.isoformat(),
            previous=tr("Vocabulary", vocab.label(vocabulary, before.status)))
        reg, case_id, version = self.reg, d.id, d.version

        def undo() -> None:
            self._run_part(lambda: cases.undo_status_change(reg, case_id, which, version), None,
                           tr("Case", "The change was undone."))

        self.undo_box = ask(self, tr("Case", "Undo a status change"), text, tr("Case", "Undo the change"), undo,
                            no_text=tr("Case", "Keep it"))

    # --- referrals and justice ------------------------------------------------------------------------

    def _selected_row(self, table: QTableWidget) -> int | None:
        rows = table.selectionModel().selectedRows()
        return rows[0].row() if rows else None

    def _referral_mode(self, referral=None) -> None:  # noqa: ANN001 (ReferralInfo | None)
        """Show the referral form empty for a new referral, or filled to change ``referral``."""
        self.ref_form.clear_problems()
        if referral is None:
            self._editing_referral = None
            self.ref_box.setTitle(tr("Case", "Add a referral"))
            self.add_referral_button.setText(tr("Case", "Add the referral"))
            self.ref_form.set_values({"direction": "In", "partner_org_id": None,
                                      "referral_date": dt.date.today(), "reason": None, "details": "",
                                      "outcome": "Pending", "outcome_date": None})
        else:
            self._editing_referral = referral.id
            self.ref_box.setTitle(tr("Case", "Change the referral of {date} ({partner})").format(
                date=referral.referral_date.isoformat(), partner=referral.partner_name))
            self.add_referral_button.setText(tr("Case", "Save the referral"))
            self.ref_form.set_values({"direction": referral.direction, "partner_org_id": referral.partner_org_id,
                                      "referral_date": referral.referral_date, "reason": referral.reason,
                                      "details": referral.details, "outcome": referral.outcome,
                                      "outcome_date": referral.outcome_date})
        self.add_referral_button.setAccessibleName(self.add_referral_button.text())
        self.stop_referral_button.setVisible(referral is not None)
        self._outcome_changed()

    @Slot()
    def _outcome_changed(self, *_a: object) -> None:
        decided = self.ref_form.fields["outcome"].get() in ("Accepted", "Declined")
        day = self.ref_form.fields["outcome_date"]
        day.set_read_only(not decided)
        if not decided:
            day.set(None)
        elif not day.edit.text().strip():
            day.set(dt.date.today())

    @Slot()
    def edit_referral(self) -> None:
        row = self._selected_row(self.referrals)
        if self.detail is None or row is None or not self.ctx.can_write:
            return
        self._referral_mode(self.detail.referrals[row])
        _show_widget(self.ref_box)
        self.ref_form.fields["outcome"].widget.setFocus()

    @Slot()
    def add_referral(self) -> None:
        """Add the referral in the form, or save the changes to the one being changed."""
        if self.detail is None:
            return
        from tipdesk.services import referrals
        from tipdesk.services.records import ReferralInput

        try:
            v = self.ref_form.values()
        except ValidationError as exc:
            self.ref_form.show_problems(exc)
            return
        data = ReferralInput(v["direction"], v["partner_org_id"], v["referral_date"], v["reason"],
                             v["details"], v["outcome"], v["outcome_date"])
        reg, case_id, editing = self.reg, self.detail.id, self._editing_referral
        if editing is None:
            self._run_part(lambda: referrals.add_referral(reg, case_id, data), self.ref_form,
                           tr("Case", "The referral was added."))
        else:
            self._run_part(lambda: referrals.update_referral(reg, editing, data), self.ref_form,
                           tr("Case", "The referral was changed."))

    @Slot()
    def remove_referral(self) -> None:
        row = self._selected_row(self.referrals)
        if self.detail is None or row is None or not self.ctx.can_write:
            return
        from tipdesk.services import referrals

        r = self.detail.referrals[row]
        reg = self.reg
        text = tr("Case", "Remove the referral of {date} ({direction}, {partner})? Do this only for a referral "
                          "entered by mistake; the audit trail keeps what it held.").format(
            date=r.referral_date.isoformat(), direction=tr("Vocabulary", r.direction_label).lower(),
            partner=r.partner_name)
        self.remove_box = ask(self, tr("Case", "Remove a referral"), text, tr("Case", "Remove it"),
                              lambda: self._run_part(lambda: referrals.remove_referral(reg, r.id), None,
                                                     tr("Case", "The referral was removed.")),
                              destructive=True, no_text=tr("Case", "Keep it"))

    def _stage_mode(self, stage=None) -> None:  # noqa: ANN001 (JusticeStageInfo | None)
        self.stage_form.clear_problems()
        if stage is None:
            self._editing_stage = None
            self.stage_box.setTitle(tr("Case", "Add a stage"))
            self.add_stage_button.setText(tr("Case", "Add the stage"))
            self.stage_form.set_values({"stage": vocab.JUSTICE_STAGES[0][0], "stage_date": dt.date.today(),
                                        "note": ""})
        else:
            self._editing_stage = stage.id
            self.stage_box.setTitle(tr("Case", "Change the stage “{stage}” of {date}").format(
                stage=tr("Vocabulary", stage.stage), date=stage.stage_date.isoformat()))
            self.add_stage_button.setText(tr("Case", "Save the stage"))
            self.stage_form.set_values({"stage": stage.stage, "stage_date": stage.stage_date,
                                        "note": stage.note})
        self.add_stage_button.setAccessibleName(self.add_stage_button.text())
        self.stop_stage_button.setVisible(stage is not None)

    @Slot()
    def edit_stage(self) -> None:
        row = self._selected_row(self.stages)
        if self.detail is None or row is None or not self.ctx.can_write:
            return
        self._stage_mode(self.detail.justice_stages[row])
        _show_widget(self.stage_box)
        self.stage_form.fields["stage_date"].widget.setFocus()

    @Slot()
    def add_stage(self) -> None:
        """Add the stage in the form, or save the changes to the one being changed."""
        if self.detail is None:
            return
        from tipdesk.services import justice
        from tipdesk.services.records import JusticeStageInput

        try:
            v = self.stage_form.values()
        except ValidationError as exc:
            self.stage_form.show_problems(exc)
            return
        data = JusticeStageInput(v["stage"], v["stage_date"], v["note"])
        reg, case_id, editing = self.reg, self.detail.id, self._editing_stage
        if editing is None:
            self._run_part(lambda: justice.add_justice_stage(reg, case_id, data), self.stage_form,
                           tr("Case", "The stage was added."))
        else:
            self._run_part(lambda: justice.update_justice_stage(reg, editing, data), self.stage_form,
                           tr("Case", "The stage was changed."))

    @Slot()
    def remove_stage(self) -> None:
        row = self._selected_row(self.stages)
        if self.detail is None or row is None or not self.ctx.can_write:
            return
        from tipdesk.services import justice

        st = self.detail.justice_stages[row]
        reg = self.reg
        text = tr("Case", "Remove the stage “{stage}” of {date}? Do this only for a stage entered by mistake; "
                          "the audit trail keeps what it held.").format(
            stage=tr("Vocabulary", st.stage), date=st.stage_date.isoformat())
        self.remove_box = ask(self, tr("Case", "Remove a justice stage"), text, tr("Case", "Remove it"),
                              lambda: self._run_part(lambda: justice.remove_justice_stage(reg, st.id), None,
                                                     tr("Case", "The stage was removed.")),
                              destructive=True, no_text=tr("Case", "Keep it"))

    def _run_part(self, call, form: Form | None, done_text: str) -> None:  # noqa: ANN001
        """Run a change of one part of the case (status, referral, stage) on the runner.

        Such a change leaves the case's form alone: unsaved edits there stay as they are and are
        saved with the case's new version.
        """
        def failed(exc: BaseException) -> None:
            if isinstance(exc, ValidationError):
                loose = form.show_problems(exc) if form is not None else [p.message for p in exc.problems]
                self._say(" ".join(loose), error=bool(loose))
            else:
                self._save_failed(exc)

        self.runner.run(lambda _p: call(), lambda d: self._part_saved(d, done_text, form), failed,
                        parent=self, cancellable=False, changes={"cases"})

    def _part_saved(self, detail: CaseDetail, done_text: str, form: Form | None = None) -> None:
        self.detail = detail
        self._show_lists(detail)
        gone = self._editing_referral is not None and self._editing_referral not in {r.id for r in detail.referrals}
        if form is self.ref_form or gone:
            self._referral_mode(None)
        gone = self._editing_stage is not None and self._editing_stage not in {st.id for st in detail.justice_stages}
        if form is self.stage_form or gone:
            self._stage_mode(None)
        self._say(done_text)
        if self.sections.currentIndex() == SECTIONS.index("history"):
            self.load_history()
        self.saved.emit(detail)

    # --- duplicates --------------------------------------------------------------------------------

    def _person_typed(self, *_a: object) -> None:
        if self.detail is None and self.ctx.names_visible and self.ctx.can_write:
            self._dup_timer.start()

    @Slot()
    def _check_duplicates(self) -> None:
        from tipdesk.services.duplicates import find_duplicates
        from tipdesk.services.persons import PersonInput

        try:
            v = self.form.values(["given_names", "family_names", "aliases", "birth_date", "estimated_age", "gender"])
        except ValidationError:
            return
        key = tuple(sorted((k, str(x)) for k, x in v.items()))
        if key == self._dup_checked_for or not (v["given_names"] or v["family_names"] or v["aliases"]):
            return
        self._dup_checked_for = key
        person = PersonInput(**v)
        reg = self.reg
        self.runner.run(lambda _p: find_duplicates(reg, person, limit=5), self._duplicates_found,
                        lambda exc: None)

    def _duplicates_found(self, found: list) -> None:
        if self.detail is not None:
            return
        self.duplicates = [c for c in found if c.person_id not in self.dismissed]
        self.linked_person_id = None
        self.dup_choice.blockSignals(True)
        self.dup_choice.clear()
        for c in self.duplicates:
            self.dup_choice.addItem(tr("Case", "{name} — {score}% alike").format(name=c.name, score=c.score), c.person_id)
        self.dup_choice.blockSignals(False)
        if not self.duplicates:
            self.dup_box.hide()
            return
        self.dup_intro.setText(tr("Case", "{n} person(s) in the register look like the one you are entering. "
                                          "Compare, then say whether it is the same person.").format(n=len(self.duplicates)))
        self._show_candidate(0)
        self.dup_box.show()

    def _show_candidate(self, index: int) -> None:
        if not 0 <= index < len(self.duplicates):
            return
        c = self.duplicates[index]
        f = self.form.fields

        def safe(name: str) -> str:
            try:
                value = f[name].get()
            except FieldInputError:
                return ""
            return value.isoformat() if isinstance(value, dt.date) else str(value or "")

        new_name = " ".join(x for x in (safe("given_names"), safe("family_names")) if x)
        from tipdesk import counting

        rows = [
            (tr("Case", "Name"), new_name, c.name),
            (tr("Case", "Aliases"), safe("aliases").strip("()',"), ", ".join(c.aliases)),
            (tr("Case", "Birth date"), safe("birth_date"), c.birth_date.isoformat() if c.birth_date else ""),
            (tr("Case", "Age"), safe("estimated_age"), "" if c.age is None else str(c.age)),
            (tr("Case", "Sex"), tr("Vocabulary", counting.sex_of_gender(f["gender"].get() or "NonSpecifiedUnknown")),
             tr("Vocabulary", c.sex)),
            (tr("Case", "Cases"), "", ", ".join(c.case_numbers)),
            (tr("Case", "Why alike"), "", "; ".join(c.reasons)),
        ]
        self.dup_table.setRowCount(len(rows))
        for r, cells in enumerate(rows):
            for col, text in enumerate(cells):
                self.dup_table.setItem(r, col, _ro_item(text))
        self.dup_table.resizeColumnsToContents()

    @Slot()
    def choose_same_person(self) -> None:
        index = self.dup_choice.currentIndex()
        if not 0 <= index < len(self.duplicates):
            return
        c = self.duplicates[index]
        self.linked_person_id = c.person_id
        self.dup_box.hide()
        self._say(tr("Case", "This case will be added to the person already registered ({cases}). Their "
                             "details stay as recorded; save to register the case.").format(
            cases=", ".join(c.case_numbers)))

    @Slot()
    def choose_different_person(self) -> None:
        index = self.dup_choice.currentIndex()
        if not 0 <= index < len(self.duplicates):
            return
        self.dismissed.add(self.duplicates[index].person_id)
        self.duplicates = [c for c in self.duplicates if c.person_id not in self.dismissed]
        if self.duplicates:
            self._duplicates_found(self.duplicates)
        else:
            self.dup_box.hide()
            self._say(tr("Case", "Noted: a different person. Save when ready."))
