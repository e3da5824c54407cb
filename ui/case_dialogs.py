"""Dialogs of the case editor that change one part of a case on their own: the case status and
the trafficking status (dated changes, kept as history).

Each dialog runs its service call on the operation runner and stays open until the core accepts
the change: a problem the core finds is shown next to its field, in the core's plain words, and
nothing changes meanwhile.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QVBoxLayout,
    QWidget,
)
from shiboken6 import isValid

from models import vocab
from tipdesk.errors import ConflictError, TipdeskError, ValidationError
from ui.fields import ChoiceField, DateField, Field, Form, TextField
from ui.i18n import tr
from ui.widgets import ERROR_STYLE, error_box

if TYPE_CHECKING:
    from tipdesk.services.records import CaseDetail
    from tipdesk.vault.register import Register
    from ui.operations import OperationRunner

CLOSED = ("Closed", "ClosedReferred")


class ServiceFormDialog(QDialog):
    """A small form whose OK button runs one service call off the GUI thread.

    Subclasses add fields to ``self.form`` (``self.add``) and implement ``call()``, which reads
    the fields and returns the function to run on the worker (it must not touch a widget).
    """

    succeeded = Signal(object)  # what the service returned (a CaseDetail)

    def __init__(self, runner: OperationRunner, title: str, ok_text: str, intro: str = "",
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.runner = runner
        self.setWindowTitle(title)
        self.setMinimumWidth(520)
        self.setWindowModality(Qt.WindowModality.WindowModal)
        box = QVBoxLayout(self)
        self.intro = QLabel(intro, self)
        self.intro.setWordWrap(True)
        self.intro.setAccessibleName(intro)
        self.intro.setVisible(bool(intro))
        box.addWidget(self.intro)
        self.layout_form = QFormLayout()
        self.layout_form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.ExpandingFieldsGrow)
        box.addLayout(self.layout_form)
        # A note between two groups of fields sits in the box layout, which wraps it properly.
        self.note = QLabel(self)
        self.note.setWordWrap(True)
        self.note.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.note.hide()
        box.addWidget(self.note)
        self.layout_more = QFormLayout()
        self.layout_more.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.ExpandingFieldsGrow)
        box.addLayout(self.layout_more)
        self.form = Form(self)
        self.message = QLabel(self)
        self.message.setObjectName("dialogMessage")
        self.message.setStyleSheet(ERROR_STYLE)
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.message.hide()
        box.addWidget(self.message)
        box.addStretch(1)  # any room to spare goes here, not around the intro
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self)
        self.ok_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok_button.setText(ok_text)
        self.ok_button.setAccessibleName(ok_text.replace("&", ""))
        cancel = self.buttons.button(QDialogButtonBox.StandardButton.Cancel)
        cancel.setText(tr("Dialogs", "Cancel"))
        cancel.setAccessibleName(tr("Dialogs", "Cancel"))
        self.buttons.accepted.connect(self.submit)
        self.buttons.rejected.connect(self.reject)
        box.addWidget(self.buttons)
        self.running = False

    def add(self, label: str, field: Field, help_text: str = "", after_note: bool = False) -> Field:
        return self.form.add(self.layout_more if after_note else self.layout_form, label, field, help_text)

    def set_row_visible(self, name: str, visible: bool) -> None:
        row = self.form.fields[name].row
        for layout in (self.layout_form, self.layout_more):
            if layout.indexOf(row) >= 0:
                layout.setRowVisible(row, visible)
        self._fit()

    def _fit(self) -> None:
        # A row or an error line appeared: grow to show it whole rather than squeeze the fields.
        layout = self.layout()
        layout.activate()
        # Wrapped labels need the height for this width, which the plain size hint does not know.
        needed = layout.totalHeightForWidth(self.width()) if layout.hasHeightForWidth() else -1
        self.resize(self.width(), max(needed, self.minimumSizeHint().height()))

    def call(self) -> Callable[[], Any]:
        raise NotImplementedError

    def say(self, text: str) -> None:
        self.message.setText(text)
        self.message.setAccessibleName(text)
        self.message.setVisible(bool(text))

    @Slot()
    def submit(self) -> None:
        """Check what can be checked here, then let the core decide."""
        if self.running:
            return
        self.form.clear_problems()
        self.say("")
        try:
            work = self.call()
        except ValidationError as exc:
            self.show_problems(exc)
            return
        self.running = True
        self.ok_button.setEnabled(False)
        self.runner.run(lambda _p: work(), self._succeeded, self._failed, parent=self,
                        cancellable=False, changes={"cases"})

    def _succeeded(self, result: Any) -> None:
        self.running = False
        self.ok_button.setEnabled(True)
        self.succeeded.emit(result)
        self.accept()

    def _failed(self, exc: BaseException) -> None:
        self.running = False
        self.ok_button.setEnabled(True)
        if isinstance(exc, ValidationError):
            self.show_problems(exc)
        elif isinstance(exc, ConflictError):
            self.say(tr("Case", "Someone else changed this case since you opened it. Nothing was "
                                "changed: close the case and open it again."))
        elif isinstance(exc, TipdeskError):
            self.say(str(exc))
        else:
            error_box(self, exc)

    def show_problems(self, exc: ValidationError) -> None:
        """Each problem next to its field; the rest above the buttons."""
        loose = self.form.show_problems(exc)
        self.say(" ".join(loose))
        self._fit()


def _label(vocabulary: Any, value: str | None) -> str:
    return tr("Vocabulary", vocab.label(vocabulary, value)) if value else ""


class CaseStatusDialog(ServiceFormDialog):
    """Move a case to Active, Follow-up, Closed or Closed – referred on a date."""

    def __init__(self, reg: Register, runner: OperationRunner, detail: CaseDetail,
                 parent: QWidget | None = None) -> None:
        current = detail.case_status
        since = detail.case_status_history[-1].effective_date if detail.case_status_history else None
        intro = tr("Case", "The case has been {status} since {date}. A change is kept with its date: "
                           "the returns count the status each case had on the last day of a period.").format(
            status=_label(vocab.CASE_STATUSES, current).lower(),
            date=since.isoformat() if since else detail.registration_date.isoformat())
        super().__init__(runner, tr("Case", "Change the case status"), tr("Case", "Change the status"),
                         intro, parent)
        self.setObjectName("caseStatusDialog")
        self.reg = reg
        self.case_id, self.version = detail.id, detail.version
        choices = [(v, t) for v, t in vocab.CASE_STATUSES if v != current]
        self.add(tr("Case", "New &status:"), ChoiceField("status", choices))
        self.add(tr("Case", "&From:"), DateField("effective_date"),
                 tr("Case", "The day the case took this status (not in the future)."))
        self.add(tr("Case", "&Reason for closing:"), TextField("reason", 4000),
                 tr("Case", "Needed when the case is closed, e.g. the person returned home."))
        self.open_work = self.note
        self.open_work.setObjectName("openWork")
        self.add(tr("Case", "Why close it &anyway:"), TextField("open_work_reason", 4000),
                 tr("Case", "The case still has open work (a shelter stay or a follow-up plan)."),
                 after_note=True)
        self.form.set_values({"effective_date": dt.date.today()})
        self.form.fields["status"].connect(self._status_changed)
        self.warnings: list[str] = []
        self._status_changed()
        if current not in CLOSED:
            # The shelter's rules: closing a case whose person is still placed, or that has an
            # active follow-up plan, needs a reason to close anyway; say what is open up front.
            from tipdesk.services import casework

            case_id = detail.id
            runner.run(lambda _p: casework.closing_warnings(reg, case_id), self._got_warnings, lambda _e: None)

    def _got_warnings(self, warnings: list[str]) -> None:
        if not isValid(self):  # the dialog was closed before the answer came
            return
        self.warnings = list(warnings)
        self._status_changed()

    @Slot()
    def _status_changed(self, *_a: object) -> None:
        closing = self.form.fields["status"].get() in CLOSED
        self.set_row_visible("reason", closing)
        open_work = closing and bool(self.warnings)
        if open_work:
            text = tr("Case", "Still open:") + "\n" + "\n".join(f"• {w}" for w in self.warnings) + "\n" + tr(
                "Case", "Discharge the person or end the plan first, or say below why the case closes anyway.")
            self.open_work.setText(text)
            self.open_work.setAccessibleName(text)
        self.open_work.setVisible(open_work)
        self.set_row_visible("open_work_reason", open_work)

    def show_problems(self, exc: ValidationError) -> None:
        found = exc.by_field()
        if "open_work_reason" in found:
            said = found["open_work_reason"]
            if not self.warnings or any(m not in self.warnings for m in said[:-1]):
                # The core found open work the dialog did not know of (e.g. a stay added
                # meanwhile): its sentences say what is open.
                self.warnings = said[:-1] or said
                self._status_changed()
            # What is open is said above the field already: next to it, only what to do.
            exc = ValidationError([p for p in exc.problems
                                   if p.field != "open_work_reason" or p.message not in self.warnings])
        super().show_problems(exc)

    def call(self) -> Callable[[], Any]:
        from tipdesk.services import cases

        v = self.form.values()
        closing = v["status"] in CLOSED
        change = cases.CaseStatusChange(v["status"], v["effective_date"], v["reason"] if closing else "",
                                        v["open_work_reason"] if closing and self.warnings else "")
        reg, case_id, version = self.reg, self.case_id, self.version
        return lambda: cases.change_case_status(reg, case_id, change, version)


class TraffickingStatusDialog(ServiceFormDialog):
    """A new trafficking-status decision outside a screening, with who decided it."""

    def __init__(self, reg: Register, runner: OperationRunner, detail: CaseDetail,
                 parent: QWidget | None = None) -> None:
        current = detail.trafficking_status
        since = detail.status_history[-1].effective_date if detail.status_history else None
        intro = tr("Case", "The trafficking status has been “{status}” since {date}. Record a new "
                           "decision with the day it was taken and the body that took it.").format(
            status=_label(vocab.TRAFFICKING_STATUSES, current),
            date=since.isoformat() if since else detail.registration_date.isoformat())
        super().__init__(runner, tr("Case", "Change the trafficking status"),
                         tr("Case", "Record the decision"), intro, parent)
        self.setObjectName("traffickingStatusDialog")
        self.reg = reg
        self.case_id, self.version = detail.id, detail.version
        self.add(tr("Case", "New &status:"), ChoiceField("status", vocab.TRAFFICKING_STATUSES))
        self.add(tr("Case", "&From:"), DateField("effective_date"),
                 tr("Case", "The day the decision was taken (not in the future)."))
        self.add(tr("Case", "Decided &by:"), ChoiceField("decided_by", vocab.DECISION_BODIES, blank="—"),
                 tr("Case", "Needed for an actual victim: police, NGO, court or prosecution…"))
        self.add(tr("Case", "&Note:"), TextField("note", 4000))
        others = [v for v, _t in vocab.TRAFFICKING_STATUSES if v != current]
        self.form.set_values({"status": others[0] if others else current,
                              "effective_date": dt.date.today()})

    def call(self) -> Callable[[], Any]:
        from tipdesk.services import cases

        v = self.form.values()
        change = cases.TraffickingStatusChange(v["status"], v["effective_date"], v["decided_by"], v["note"])
        reg, case_id, version = self.reg, self.case_id, self.version
        return lambda: cases.change_trafficking_status(reg, case_id, change, version)
