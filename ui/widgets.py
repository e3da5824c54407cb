"""Small shared pieces: labelled form rows with inline errors, plain-language messages."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QFormLayout,
    QLabel,
    QMessageBox,
    QVBoxLayout,
    QWidget,
)

from tipdesk.errors import TipdeskError, ValidationError
from ui.i18n import tr

ERROR_STYLE = "color: #b3261e;"  # dark red, readable on light and Fusion backgrounds


class FieldRow(QWidget):
    """A field with its error line underneath (hidden while there is no error)."""

    def __init__(self, field: QWidget, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.field = field
        box = QVBoxLayout(self)
        box.setContentsMargins(0, 0, 0, 0)
        box.setSpacing(2)
        box.addWidget(field)
        self.error = QLabel(self)
        self.error.setStyleSheet(ERROR_STYLE)
        self.error.setWordWrap(True)
        self.error.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.error.hide()
        box.addWidget(self.error)
        self.setFocusProxy(field)

    def set_error(self, message: str) -> None:
        self.error.setText(message)
        self.error.setVisible(bool(message))
        self.error.setAccessibleName(message)
        # Screen readers announce the description of the field that has the focus.
        self.field.setAccessibleDescription(message)
        self._fit_error()

    def _fit_error(self) -> None:
        # A form layout gives its rows their plain size hint, not the height a wrapped line
        # needs at the row's real width: ask for that height, so that no message is cut off.
        if not self.error.text():
            self.error.setMinimumHeight(0)
            return
        width = max(self.field.width(), 200)
        self.error.setMinimumHeight(self.error.heightForWidth(width))

    def resizeEvent(self, event) -> None:  # noqa: ANN001, N802 (Qt API)
        super().resizeEvent(event)
        if self.error.isVisible():
            self._fit_error()


def add_row(form: QFormLayout, label: str, field: QWidget, accessible_name: str | None = None) -> FieldRow:
    """Add ``field`` with a buddy label (``&`` marks its Alt key) and an error line."""
    row = FieldRow(field)
    lab = QLabel(label)
    lab.setBuddy(field)
    field.setAccessibleName(accessible_name or label.replace("&", "").rstrip(":"))
    form.addRow(lab, row)
    return row


def show_errors(rows: dict[str, FieldRow], error: ValidationError) -> str:
    """Put each problem next to its field; return the problems that belong to no field."""
    for row in rows.values():
        row.set_error("")
    loose = []
    for field, messages in error.by_field().items():
        if field in rows:
            rows[field].set_error(" ".join(messages))
        else:
            loose.extend(messages)
    first = next((rows[f] for f in error.by_field() if f in rows), None)
    if first is not None:
        first.field.setFocus()
    return " ".join(loose)


def clear_errors(rows: dict[str, FieldRow]) -> None:
    for row in rows.values():
        row.set_error("")


def error_box(parent: QWidget | None, exc: BaseException, title: str | None = None) -> None:
    """Tell a person what went wrong, in the core's plain sentence."""
    if isinstance(exc, TipdeskError):
        text = str(exc)
    else:
        text = tr("Errors", "Something went wrong that tipdesk did not expect ({kind}). "
                  "Nothing was changed. If it happens again, tell your administrator.").format(
            kind=type(exc).__name__)
    QMessageBox.warning(parent, title or tr("Errors", "tipdesk"), text)


def heading(text: str, parent: QWidget | None = None) -> QLabel:
    label = QLabel(text, parent)
    font = label.font()
    font.setPointSizeF(font.pointSizeF() * 1.35)
    font.setBold(True)
    label.setFont(font)
    label.setAccessibleName(text)
    return label


def ask(parent: QWidget, title: str, text: str, yes_text: str, on_yes, *,  # noqa: ANN001
        destructive: bool = False, no_text: str | None = None, on_no=None) -> QMessageBox:
    """Ask a yes/no question without a nested event loop; ``on_yes()`` runs on yes.

    Window-modal and non-blocking, so that a lock arriving meanwhile can close it cleanly;
    ``on_no()`` runs only when the no button was pressed.
    """
    box = QMessageBox(QMessageBox.Icon.Warning if destructive else QMessageBox.Icon.Question,
                      title, text, QMessageBox.StandardButton.NoButton, parent)
    yes = box.addButton(yes_text, QMessageBox.ButtonRole.AcceptRole)
    no = box.addButton(no_text or tr("Dialogs", "Cancel"), QMessageBox.ButtonRole.RejectRole)
    box.setDefaultButton(no if destructive else yes)
    box.setEscapeButton(no)

    def done() -> None:
        # Only a real click counts: a box closed by a lock answers neither yes nor no.
        if box.clickedButton() is yes:
            on_yes()
        elif box.clickedButton() is no and on_no is not None:
            on_no()

    box.finished.connect(done)
    box.open()
    return box
