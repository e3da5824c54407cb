"""Dialogs whose OK button runs a core service: the core's rules answer, in its own words.

``CoreFormDialog`` holds a ``Form`` (labelled fields with an error line under each). OK reads
the fields, asks the subclass for the service call, and runs it on the operation runner; while
it runs the dialog stays up. A ``ValidationError`` puts each problem under its field (the core's
field names are mapped onto the form's with ``field_map``) and the rest in the message line at
the bottom; nothing is closed until the core has accepted. On success ``succeeded`` carries the
service's result and the dialog closes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QVBoxLayout,
    QWidget,
)

from tipdesk.errors import FieldProblem, TipdeskError, ValidationError
from ui.fields import Field, Form, NotesField
from ui.i18n import tr
from ui.widgets import ERROR_STYLE, error_box

if TYPE_CHECKING:
    from tipdesk.vault.register import Register
    from ui.operations import OperationRunner


class CoreFormDialog(QDialog):
    """A form dialog whose OK runs a service call built by ``call``."""

    succeeded = Signal(object)
    #: the core's field name → this form's field name (unlisted names are used as they are)
    field_map: dict[str, str] = {}
    changes: frozenset[str] = frozenset()

    def __init__(self, reg: Register, runner: OperationRunner, title: str, ok_text: str,
                 parent: QWidget | None = None, intro: str = "") -> None:
        super().__init__(parent)
        self.reg = reg
        self.runner = runner
        self.setWindowTitle(title)
        self.setMinimumWidth(560)
        self.setWindowModality(Qt.WindowModality.WindowModal)
        self.box = QVBoxLayout(self)
        if intro:
            self.intro = QLabel(intro, self)
            self.intro.setWordWrap(True)
            self.intro.setObjectName("dialogIntro")
            self.box.addWidget(self.intro)
        self.form = Form(self)
        self.layout_form = QFormLayout()
        self.layout_form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.ExpandingFieldsGrow)
        self.box.addLayout(self.layout_form)
        self.message = QLabel(self)
        self.message.setObjectName("dialogMessage")
        self.message.setStyleSheet(ERROR_STYLE)
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.message.hide()
        self.box.addWidget(self.message)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self)
        self.ok_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok_button.setText(ok_text)
        self.ok_button.setAccessibleName(ok_text.replace("&", ""))
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setText(tr("Dialogs", "Cancel"))
        self.buttons.accepted.connect(self.submit)
        self.buttons.rejected.connect(self.reject)
        self.box.addWidget(self.buttons)
        self.busy = False
        self.result_value: Any = None

    def add(self, label: str, field: Field, help_text: str = "") -> Field:
        """A field under a buddy label (``&`` marks its Alt key), with its error line."""
        return self.form.add(self.layout_form, label, field, help_text)

    def add_note(self, text: str) -> QLabel:
        note = QLabel(text, self)
        note.setWordWrap(True)
        note.setEnabled(False)
        self.layout_form.addRow(note)
        return note

    def say(self, text: str) -> None:
        self.message.setText(text)
        self.message.setAccessibleName(text)
        self.message.setVisible(bool(text))
        if text:
            self.grow()

    # --- for subclasses ------------------------------------------------------------------------

    def call(self, values: dict[str, Any]) -> Callable[[], Any]:
        """The service call to run with these values (raise ``ValidationError`` to refuse at once).

        It runs on a worker thread: it must capture plain values and the register only, never
        a widget.
        """
        raise NotImplementedError

    def label_of_call(self) -> str:
        return tr("Dialogs", "Saving…")

    # --- running ------------------------------------------------------------------------------

    def submit(self) -> None:
        if self.busy:
            return
        self.say("")
        self.form.clear_problems()
        try:
            work = self.call(self.form.values())
        except ValidationError as exc:
            self.show_problems(exc)
            return
        self.busy = True
        self.ok_button.setEnabled(False)
        self.runner.run(lambda _p: work(), self._done, self._failed, label=self.label_of_call(),
                        parent=self, cancellable=False, changes=self.changes)

    def _done(self, result: Any) -> None:
        self.busy = False
        self.ok_button.setEnabled(True)
        self.result_value = result
        self.succeeded.emit(result)
        self.accept()

    def _failed(self, exc: BaseException) -> None:
        self.busy = False
        self.ok_button.setEnabled(True)
        if isinstance(exc, ValidationError):
            self.show_problems(exc)
        elif isinstance(exc, TipdeskError):
            self.say(str(exc))
        else:
            error_box(self, exc)

    def show_problems(self, exc: ValidationError) -> None:
        mapped = ValidationError([FieldProblem(self.field_map.get(p.field, p.field), p.message)
                                  for p in exc.problems])
        loose = self.form.show_problems(mapped)
        count = len(exc.problems)
        head = (tr("Dialogs", "Nothing was saved: one thing to correct.") if count == 1 else
                tr("Dialogs", "Nothing was saved: {n} things to correct.").format(n=count))
        self.say(" ".join([head, *loose]))
        self.grow()

    def grow(self) -> None:
        """Make room for the messages just shown (wrapped labels do not resize a dialog)."""
        self.layout().activate()
        hint = self.sizeHint()
        self.resize(max(self.width(), hint.width()), max(self.height(), self.heightForWidth(self.width()), hint.height()))


def reason_field(name: str = "reason") -> NotesField:
    field = NotesField(name)
    field.edit.setFixedHeight(56)
    return field
