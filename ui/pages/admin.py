"""Administration: users (add, revoke, reset password, change role), office details, lock timeout,
backups.

Every action goes through a core service that checks ``user.manage`` or ``settings.manage`` and
writes the audit event; this page only mirrors those permissions.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Slot
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from models import vocab
from models.countries import COUNTRIES
from tipdesk.errors import ValidationError
from tipdesk.security import accounts
from tipdesk.services import office as office_service
from tipdesk.services.drafts import DraftInfo
from tipdesk.vault.register import Register
from ui.backups import BackupsTab
from ui.dialogs import AddUserDialog, PasswordDialog, RoleDialog
from ui.i18n import tr
from ui.item_models import UsersModel
from ui.operations import OperationRunner
from ui.pages.base import Page, PendingDraft
from ui.widgets import ERROR_STYLE, FieldRow, add_row, ask, error_box, heading, show_errors

OFFICE_DRAFT = "office_details"


def country_combo(parent: QWidget) -> QComboBox:
    """Countries by name (ISO 3166-1 alpha-3 as data); type to jump."""
    combo = QComboBox(parent)
    combo.setEditable(False)
    for code, (name, _region, _sub) in sorted(COUNTRIES.items(), key=lambda kv: kv[1][0]):
        combo.addItem(f"{name} ({code})", code)
    combo.setMaxVisibleItems(20)
    return combo


def org_type_combo(parent: QWidget) -> QComboBox:
    combo = QComboBox(parent)
    for value, label in vocab.ORG_TYPES:
        combo.addItem(tr("Vocabulary", label), value)
    return combo


FORM_WIDTH = 640


def _limited(form: QFormLayout, parent: QWidget) -> QWidget:
    """A form no wider than a person reads comfortably."""
    holder = QWidget(parent)
    holder.setLayout(form)
    holder.setMaximumWidth(FORM_WIDTH)
    return holder


class AdminPage(Page):
    key = "admin"

    def __init__(self, reg: Register, runner: OperationRunner, parent: QWidget | None = None) -> None:
        super().__init__(reg, runner, parent)
        self.setObjectName("AdminPage")
        box = QVBoxLayout(self)
        box.addWidget(heading(tr("Admin", "Administration"), self))
        self.status = QLabel(self)
        self.status.setObjectName("adminStatus")
        self.status.setWordWrap(True)
        self.status.setAccessibleName(tr("Admin", "Result"))
        self.tabs = QTabWidget(self)
        self.tabs.setAccessibleName(tr("Admin", "Administration sections"))
        self.tabs.addTab(self._users_tab(), tr("Admin", "&Users"))
        self.tabs.addTab(self._office_tab(), tr("Admin", "&Office"))
        self.tabs.addTab(self._security_tab(), tr("Admin", "&Security"))
        self.backups_tab = BackupsTab(reg, runner, self)
        self.tabs.addTab(self.backups_tab, tr("Admin", "&Backups"))
        from ui.pages.settings import settings_tabs

        for widget, title in settings_tabs(reg, runner, self):
            self.tabs.addTab(widget, title)
        box.addWidget(self.tabs)
        box.addWidget(self.status)
        self._office_loaded: dict[str, str] = {}
        # Two small reads: done at once, so that a restored draft cannot be overwritten later.
        self._users_loaded(accounts.list_users(self.reg))
        self._office_loaded_from(office_service.office_info(self.reg))

    # --- users -------------------------------------------------------------------------------------

    def _users_tab(self) -> QWidget:
        tab = QWidget(self)
        box = QVBoxLayout(tab)
        self.users_model = UsersModel(self)
        self.users_view = QTableView(tab)
        self.users_view.setObjectName("usersTable")
        self.users_view.setModel(self.users_model)
        self.users_view.setAccessibleName(tr("Admin", "Users"))
        self.users_view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.users_view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.users_view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.users_view.verticalHeader().hide()
        self.users_view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.users_view.horizontalHeader().setStretchLastSection(True)
        self.users_view.setTabKeyNavigation(False)
        label = QLabel(tr("Admin", "&Accounts of this register:"), tab)
        label.setBuddy(self.users_view)
        box.addWidget(label)
        box.addWidget(self.users_view)
        row = QHBoxLayout()
        self.add_button = QPushButton(tr("Admin", "A&dd user…"), tab)
        self.reset_button = QPushButton(tr("Admin", "&Reset password…"), tab)
        self.role_button = QPushButton(tr("Admin", "Change r&ole…"), tab)
        self.revoke_button = QPushButton(tr("Admin", "Re&voke…"), tab)
        for button, slot in ((self.add_button, self.add_user), (self.reset_button, self.reset_password),
                             (self.role_button, self.change_role), (self.revoke_button, self.revoke_user)):
            button.setAccessibleName(button.text().replace("&", "").rstrip("…"))
            button.clicked.connect(slot)
            row.addWidget(button)
        row.addStretch(1)
        box.addLayout(row)
        note = QLabel(tr("Admin", "Revoking destroys the account's copy of the register key. Backups made "
                         "before then still open with its old password."), tab)
        note.setWordWrap(True)
        box.addWidget(note)
        self.users_view.selectionModel().selectionChanged.connect(self._update_buttons)
        self._update_buttons()
        return tab

    def reload_users(self) -> None:
        reg = self.reg
        self.runner.run(lambda _p: accounts.list_users(reg), self._users_loaded, self._failed,
                        label=tr("Admin", "Reading the accounts…"), parent=self)

    def _users_loaded(self, users) -> None:  # noqa: ANN001
        keep = self.selected_user()
        self.users_model.set_users(users)
        if keep is not None:
            for r in range(self.users_model.rowCount()):
                u = self.users_model.user_at(r)
                if u is not None and u.username == keep.username:
                    self.users_view.selectRow(r)
        self._update_buttons()

    def selected_user(self):  # noqa: ANN201
        rows = self.users_view.selectionModel().selectedRows() if self.users_view.selectionModel() else []
        return self.users_model.user_at(rows[0].row()) if rows else None

    @Slot()
    def _update_buttons(self) -> None:
        user = self.selected_user()
        usable = user is not None and user.active
        for b in (self.reset_button, self.role_button, self.revoke_button):
            b.setEnabled(usable)

    def _failed(self, exc: BaseException) -> None:
        error_box(self, exc)

    def _done(self, message: str):  # noqa: ANN202
        def finish(_result: object) -> None:
            self.status.setText(message)
            self.reload_users()
        return finish

    @Slot()
    def add_user(self) -> None:
        dialog = AddUserDialog(self)

        def accepted() -> None:
            name = dialog.username.text().strip().lower()
            role = dialog.role.currentData()
            password = dialog.password.text()
            shown = dialog.display_name.text().strip()
            reg = self.reg
            self.runner.run(lambda _p: accounts.add_user(reg, name, role, password, shown),
                            self._done(tr("Admin", "Added {user}.").format(user=name)), self._failed,
                            label=tr("Admin", "Adding the user…"), parent=self, cancellable=False,
                            changes={"users"})

        dialog.accepted.connect(accepted)
        dialog.open()

    @Slot()
    def reset_password(self) -> None:
        user = self.selected_user()
        if user is None:
            return
        own = user.username == self.reg.actor.username
        dialog = PasswordDialog(user.username, own=own, parent=self)

        def accepted() -> None:
            new = dialog.new.text()
            current = dialog.current.text() if own else None
            reg = self.reg
            self.runner.run(
                lambda _p: accounts.set_password(reg, user.username, new, current_password=current),
                self._done(tr("Admin", "Set a new password for {user}.").format(user=user.username)),
                self._failed, label=tr("Admin", "Setting the password…"), parent=self, cancellable=False)

        dialog.accepted.connect(accepted)
        dialog.open()

    @Slot()
    def change_role(self) -> None:
        user = self.selected_user()
        if user is None:
            return
        dialog = RoleDialog(user.username, user.role, self)

        def accepted() -> None:
            role = dialog.role.currentData()
            reg = self.reg
            self.runner.run(lambda _p: accounts.change_role(reg, user.username, role),
                            self._done(tr("Admin", "Changed the role of {user}.").format(user=user.username)),
                            self._failed, label=tr("Admin", "Changing the role…"), parent=self,
                            cancellable=False, changes={"users"})

        dialog.accepted.connect(accepted)
        dialog.open()

    @Slot()
    def revoke_user(self) -> None:
        user = self.selected_user()
        if user is None:
            return

        reg = self.reg

        def revoke() -> None:
            self.runner.run(lambda _p: accounts.revoke_user(reg, user.username),
                            self._done(tr("Admin", "Revoked {user}.").format(user=user.username)),
                            self._failed, label=tr("Admin", "Revoking…"), parent=self,
                            cancellable=False, changes={"users"})

        ask(self, tr("Admin", "Revoke account"),
            tr("Admin", "Revoke {user}? They can no longer open this register. This cannot be undone: "
               "to let them back in, add a new account.").format(user=user.username),
            tr("Admin", "Revoke"), revoke, destructive=True)

    # --- office ------------------------------------------------------------------------------------

    def _office_tab(self) -> QWidget:
        tab = QWidget(self)
        box = QVBoxLayout(tab)
        form = QFormLayout()
        self.code_label = QLabel(tab)
        self.code_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        code_caption = QLabel(tr("Admin", "Office code:"), tab)
        code_caption.setBuddy(self.code_label)
        self.code_label.setAccessibleName(tr("Admin", "Office code"))
        form.addRow(code_caption, self.code_label)
        self.office_name = QLineEdit(tab)
        self.office_name.setMaxLength(200)
        self.org_type = org_type_combo(tab)
        self.country = country_combo(tab)
        self.office_rows: dict[str, FieldRow] = {
            "name": add_row(form, tr("Admin", "Office &name:"), self.office_name),
            "org_type": add_row(form, tr("Admin", "&Kind of organisation:"), self.org_type),
            "country": add_row(form, tr("Admin", "C&ountry:"), self.country),
        }
        box.addWidget(_limited(form, tab))
        note = QLabel(tr("Admin", "The office code is part of every case number, so it cannot change."), tab)
        note.setWordWrap(True)
        box.addWidget(note)
        row = QHBoxLayout()
        self.save_office_button = QPushButton(tr("Admin", "Save office details"), tab)
        self.save_office_button.setAccessibleName(tr("Admin", "Save office details"))
        self.save_office_button.clicked.connect(self.save_office)
        row.addWidget(self.save_office_button)
        row.addStretch(1)
        box.addLayout(row)
        box.addStretch(1)
        return tab

    def _office_loaded_from(self, info: office_service.OfficeInfo) -> None:
        self.code_label.setText(info.code)
        self._set_office_fields(info.name, info.org_type, info.country)
        self._office_loaded = self._office_values()

    def _set_office_fields(self, name: str, org_type: str, country: str) -> None:
        self.office_name.setText(name)
        self.org_type.setCurrentIndex(max(0, self.org_type.findData(org_type)))
        self.country.setCurrentIndex(max(0, self.country.findData(country)))

    def _office_values(self) -> dict[str, str]:
        return {"name": self.office_name.text(), "org_type": str(self.org_type.currentData()),
                "country": str(self.country.currentData())}

    @Slot()
    def save_office(self) -> None:
        values = self._office_values()

        def saved(info: office_service.OfficeInfo) -> None:
            self._office_loaded_from(info)
            for r in self.office_rows.values():
                r.set_error("")
            self.status.setText(tr("Admin", "Saved the office details."))

        def failed(exc: BaseException) -> None:
            if isinstance(exc, ValidationError):
                rest = show_errors(self.office_rows, exc)
                if rest:
                    self.status.setText(rest)
            else:
                error_box(self, exc)

        reg = self.reg
        self.runner.run(lambda _p: office_service.update_office(reg, values["name"], values["org_type"],
                                                                values["country"]),
                        saved, failed, parent=self, cancellable=False, changes={"office"})

    # --- security ----------------------------------------------------------------------------------

    def _security_tab(self) -> QWidget:
        tab = QWidget(self)
        box = QVBoxLayout(tab)
        form = QFormLayout()
        self.lock_minutes = QSpinBox(tab)
        self.lock_minutes.setRange(office_service.MIN_LOCK_MINUTES, office_service.MAX_LOCK_MINUTES)
        self.lock_minutes.setSuffix(tr("Admin", " minutes"))
        self.lock_minutes.setValue(office_service.lock_timeout_minutes(self.reg))
        self.lock_row = add_row(form, tr("Admin", "&Lock after:"), self.lock_minutes,
                                tr("Admin", "Lock after this many idle minutes"))
        box.addWidget(_limited(form, tab))
        note = QLabel(tr("Admin", "tipdesk locks itself after this many minutes without use, for every user "
                         "of this register. Shared computers need a short time."), tab)
        note.setWordWrap(True)
        box.addWidget(note)
        row = QHBoxLayout()
        self.save_lock_button = QPushButton(tr("Admin", "Save lock time"), tab)
        self.save_lock_button.setAccessibleName(tr("Admin", "Save lock time"))
        self.save_lock_button.clicked.connect(self.save_lock_timeout)
        row.addWidget(self.save_lock_button)
        row.addStretch(1)
        box.addLayout(row)
        box.addSpacing(16)
        own = QHBoxLayout()
        self.own_password_button = QPushButton(tr("Admin", "Change &my password…"), tab)
        self.own_password_button.setAccessibleName(tr("Admin", "Change my password"))
        self.own_password_button.clicked.connect(self._change_own_password)
        own.addWidget(self.own_password_button)
        own.addStretch(1)
        box.addLayout(own)
        box.addStretch(1)
        return tab

    @Slot()
    def _change_own_password(self) -> None:
        window = self.window()
        if hasattr(window, "change_own_password"):
            window.change_own_password()

    @Slot()
    def save_lock_timeout(self) -> None:
        minutes = self.lock_minutes.value()

        def saved(_r: object) -> None:
            self.lock_row.set_error("")
            self.status.setText(tr("Admin", "tipdesk now locks after {n} idle minutes.").format(n=minutes))

        def failed(exc: BaseException) -> None:
            if isinstance(exc, ValidationError):
                self.lock_row.set_error(str(exc))
            else:
                error_box(self, exc)

        reg = self.reg
        self.runner.run(lambda _p: office_service.set_lock_timeout(reg, minutes), saved, failed,
                        parent=self, cancellable=False, changes={"lock_timeout"})

    # --- drafts ------------------------------------------------------------------------------------

    def has_unsaved(self) -> bool:
        return bool(self._office_loaded) and self._office_values() != self._office_loaded

    def pending_drafts(self) -> list[PendingDraft]:
        if not self.has_unsaved():
            return []
        return [PendingDraft(OFFICE_DRAFT, None, self._office_values())]

    def draft_kinds(self) -> tuple[str, ...]:
        return (OFFICE_DRAFT,)

    def restore_draft(self, draft: DraftInfo) -> bool:
        if draft.kind != OFFICE_DRAFT:
            return False
        p = draft.payload
        self._set_office_fields(str(p.get("name", "")), str(p.get("org_type", "")), str(p.get("country", "")))
        self.tabs.setCurrentIndex(1)
        return True

    def discard_changes(self) -> None:
        if self._office_loaded:
            v = self._office_loaded
            self._set_office_fields(v["name"], v["org_type"], v["country"])
