"""Account dialogs: add a user, set a password (own or someone else's), change a role."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from ui.i18n import tr
from ui.widgets import ERROR_STYLE, FieldRow, add_row


def password_edit(parent: QWidget) -> QLineEdit:
    edit = QLineEdit(parent)
    edit.setEchoMode(QLineEdit.EchoMode.Password)
    return edit


def role_combo(parent: QWidget, current: str = "caseworker") -> QComboBox:
    combo = QComboBox(parent)
    from models import ROLE_LABELS, ROLES  # the register's model loads after the login shows

    for role in ROLES:
        combo.addItem(tr("Roles", ROLE_LABELS[role]), role)
    combo.setCurrentIndex(max(0, combo.findData(current)))
    return combo


class _FormDialog(QDialog):
    """A form with OK/Cancel and a message line for problems that belong to no field."""

    def __init__(self, title: str, ok_text: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setMinimumWidth(440)
        self.box = QVBoxLayout(self)
        self.form = QFormLayout()
        self.box.addLayout(self.form)
        self.message = QLabel(self)
        self.message.setStyleSheet(ERROR_STYLE)
        self.message.setWordWrap(True)
        self.message.hide()
        self.box.addWidget(self.message)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self)
        ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        ok.setText(ok_text)
        ok.setAccessibleName(ok_text)
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setText(tr("Dialogs", "Cancel"))
        self.buttons.accepted.connect(self._check_and_accept)
        self.buttons.rejected.connect(self.reject)
        self.box.addWidget(self.buttons)
        self.rows: dict[str, FieldRow] = {}

    def show_message(self, text: str) -> None:
        self.message.setText(text)
        self.message.setAccessibleName(text)
        self.message.setVisible(bool(text))

    def problems(self) -> dict[str, str]:
        return {}

    def _check_and_accept(self) -> None:
        found = self.problems()
        for key, row in self.rows.items():
            row.set_error(found.get(key, ""))
        if found:
            first = next(k for k in self.rows if k in found)
            self.rows[first].field.setFocus()
            return
        self.accept()


class PasswordDialog(_FormDialog):
    """A new password, typed twice (and the current one when it is the user's own)."""

    def __init__(self, username: str, own: bool, parent: QWidget | None = None) -> None:
        super().__init__(
            tr("Dialogs", "Change my password") if own else tr("Dialogs", "Set a new password"),
            tr("Dialogs", "Change password"), parent)
        self.own = own
        if not own:
            intro = QLabel(tr("Dialogs", "New password for {user}. Tell it to them in person; "
                              "they can change it themselves afterwards.").format(user=username), self)
            intro.setWordWrap(True)
            self.form.addRow(intro)
        self.current = password_edit(self)
        if own:
            self.rows["current"] = add_row(self.form, tr("Dialogs", "&Current password:"), self.current)
        self.new = password_edit(self)
        self.rows["new"] = add_row(self.form, tr("Dialogs", "&New password:"), self.new)
        self.again = password_edit(self)
        self.rows["again"] = add_row(self.form, tr("Dialogs", "Type it &again:"), self.again)
        hint = QLabel(tr("Dialogs", "At least 8 characters. A short sentence is easy to remember and hard to guess."), self)
        hint.setWordWrap(True)
        self.form.addRow(hint)

    def problems(self) -> dict[str, str]:
        found = {}
        if self.own and not self.current.text():
            found["current"] = tr("Dialogs", "Type your current password.")
        if len(self.new.text()) < 8:
            found["new"] = tr("Dialogs", "A password must have at least 8 characters.")
        elif self.new.text() != self.again.text():
            found["again"] = tr("Dialogs", "The two passwords are not the same.")
        return found


class AddUserDialog(_FormDialog):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(tr("Dialogs", "Add a user"), tr("Dialogs", "Add user"), parent)
        self.username = QLineEdit(self)
        self.rows["username"] = add_row(self.form, tr("Dialogs", "&User name:"), self.username)
        self.display_name = QLineEdit(self)
        self.rows["display_name"] = add_row(self.form, tr("Dialogs", "&Shown as:"), self.display_name)
        self.role = role_combo(self)
        self.rows["role"] = add_row(self.form, tr("Dialogs", "&Role:"), self.role)
        self.password = password_edit(self)
        self.rows["password"] = add_row(self.form, tr("Dialogs", "&Password:"), self.password)
        self.again = password_edit(self)
        self.rows["again"] = add_row(self.form, tr("Dialogs", "Type it &again:"), self.again)

    def problems(self) -> dict[str, str]:
        import re

        found = {}
        if not re.fullmatch(r"[a-z0-9][a-z0-9._-]{1,31}", self.username.text().strip().lower()):
            found["username"] = tr("Dialogs", "2 to 32 characters: letters, digits, dot, dash or "
                                   "underscore, starting with a letter or digit.")
        if len(self.password.text()) < 8:
            found["password"] = tr("Dialogs", "A password must have at least 8 characters.")
        elif self.password.text() != self.again.text():
            found["again"] = tr("Dialogs", "The two passwords are not the same.")
        return found


class RoleDialog(_FormDialog):
    def __init__(self, username: str, current: str, parent: QWidget | None = None) -> None:
        super().__init__(tr("Dialogs", "Change role"), tr("Dialogs", "Change role"), parent)
        intro = QLabel(tr("Dialogs", "What may {user} do?").format(user=username), self)
        self.form.addRow(intro)
        self.role = role_combo(self, current)
        self.rows["role"] = add_row(self.form, tr("Dialogs", "&Role:"), self.role)
