"""The login dialog: user name + password; Enter signs in; failures slow down (1 s, 2 s, 4 s…).

The password check (Argon2id, about half a second by design) runs on the operation runner, and
the back-off is a countdown on a timer, so the window never freezes. The back-off counts the
failures kept beside the register (``consecutive_failures``), so restarting tipdesk does not
reset it.
"""

from __future__ import annotations

import datetime as dt
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, QTimer, Signal, Slot
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from tipdesk.errors import AccountRevoked, CredentialsError, TipdeskError
from ui.i18n import tr
from ui.operations import OperationRunner
from ui.widgets import ERROR_STYLE, heading

if TYPE_CHECKING:
    from tipdesk.vault.register import Register

MAX_DELAY_S = 300
PREFLIGHT_DELAY_MS = 150


@dataclass(frozen=True)
class Preflight:
    """What the dialog learns about the register before anyone types a password."""

    problem: str  # '' when the file looks like a register
    wait_s: float  # back-off still to run


def backoff_seconds(failures: int) -> int:
    """Wait after ``failures`` consecutive failed logins: 0, then 1, 2, 4, 8 … up to 5 minutes."""
    if failures <= 0:
        return 0
    return int(min(2 ** (failures - 1), MAX_DELAY_S))


def backoff_remaining(path: Path, now: dt.datetime | None = None) -> float:
    """Seconds still to wait before the next try, from the failures kept beside the register."""
    from tipdesk.vault.register import read_failed_attempts

    data = read_failed_attempts(path)
    count = len(data["failures"]) + data["dropped"]
    if count == 0 or not data["failures"]:
        return 0.0
    try:
        last = dt.datetime.strptime(data["failures"][-1]["at"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.UTC)
    except ValueError:
        return 0.0
    now = now or dt.datetime.now(dt.UTC)
    return max(0.0, backoff_seconds(count) - (now - last).total_seconds())


def preflight(path: Path) -> Preflight:
    """Is it a register, and must the next try wait? (Runs on a worker: imports the core.)"""
    from tipdesk.vault.register import check_register_file

    try:
        check_register_file(path)
    except TipdeskError as exc:
        return Preflight(str(exc), 0.0)
    return Preflight("", backoff_remaining(path))


def unlock(path: Path, user: str, password: str, via: str):  # noqa: ANN201 (Register, facts)
    """Open the register and read what the window needs first (worker thread)."""
    from tipdesk.vault.register import open_register
    from ui.main_window import load_session_facts

    reg = open_register(path, user, password, via=via)
    try:
        return reg, load_session_facts(reg)
    except BaseException:
        reg.close()
        raise


class LoginDialog(QDialog):
    """Asks for a user name and password and unlocks the register with them."""

    unlocked = Signal(object, object)  # the open Register, SessionFacts

    def __init__(
        self, path: Path, runner: OperationRunner, parent: QWidget | None = None, *,
        username: str = "", locked: bool = False,
    ) -> None:
        super().__init__(parent)
        self.path = Path(path)
        self.runner = runner
        if runner.parent() is None:
            runner.setParent(self)  # lives as long as the dialog, deleted with it on this thread
        self.register: Register | None = None
        self._via = "unlock" if locked else "login"
        self._retry_at = 0.0  # monotonic time before which signing in waits
        self._busy = False
        self._checked = False  # the preflight has answered
        self._pending_sign_in = False
        self.setObjectName("LoginDialog")
        self.setWindowTitle(tr("Login", "tipdesk — locked") if locked else tr("Login", "tipdesk — sign in"))
        self.setModal(True)
        self.setMinimumWidth(420)

        box = QVBoxLayout(self)
        title = heading(tr("Login", "The register is locked") if locked else tr("Login", "Sign in"), self)
        box.addWidget(title)
        where = QLabel(tr("Login", "Register: {name}").format(name=self.path.name), self)
        where.setToolTip(str(self.path))
        where.setAccessibleName(where.text())
        box.addWidget(where)

        form = QFormLayout()
        self.user_edit = QLineEdit(username, self)
        self.user_edit.setObjectName("userName")
        self.user_edit.setAccessibleName(tr("Login", "User name"))
        self.user_edit.setInputMethodHints(Qt.InputMethodHint.ImhNoAutoUppercase | Qt.InputMethodHint.ImhNoPredictiveText)
        user_label = QLabel(tr("Login", "&User name:"), self)
        user_label.setBuddy(self.user_edit)
        form.addRow(user_label, self.user_edit)
        self.password_edit = QLineEdit(self)
        self.password_edit.setObjectName("password")
        self.password_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.password_edit.setAccessibleName(tr("Login", "Password"))
        self.password_edit.setInputMethodHints(Qt.InputMethodHint.ImhHiddenText | Qt.InputMethodHint.ImhSensitiveData)
        pw_label = QLabel(tr("Login", "&Password:"), self)
        pw_label.setBuddy(self.password_edit)
        form.addRow(pw_label, self.password_edit)
        box.addLayout(form)

        self.message = QLabel(self)
        self.message.setObjectName("loginMessage")
        self.message.setWordWrap(True)
        self.message.setStyleSheet(ERROR_STYLE)
        self.message.setAccessibleName(tr("Login", "Message"))
        self.message.hide()
        box.addWidget(self.message)

        self.buttons = QDialogButtonBox(self)
        self.sign_in = self.buttons.addButton(tr("Login", "Sign in"), QDialogButtonBox.ButtonRole.AcceptRole)
        self.sign_in.setObjectName("signIn")
        self.sign_in.setDefault(True)
        self.sign_in.setAccessibleName(tr("Login", "Sign in"))
        self.cancel = self.buttons.addButton(
            tr("Login", "Close tipdesk") if locked else tr("Login", "Cancel"),
            QDialogButtonBox.ButtonRole.RejectRole)
        self.cancel.setAccessibleName(self.cancel.text())
        self.buttons.accepted.connect(self.try_sign_in)
        self.buttons.rejected.connect(self.reject)
        box.addWidget(self.buttons)
        self.setTabOrder(self.user_edit, self.password_edit)
        self.setTabOrder(self.password_edit, self.sign_in)
        self.setTabOrder(self.sign_in, self.cancel)

        self._countdown = QTimer(self)
        self._countdown.setInterval(250)
        self._countdown.timeout.connect(self._tick)
        # The core (SQLAlchemy, the vault) loads on a worker while the person types; started
        # just after the dialog has painted, so that it does not compete with the first paint.
        QTimer.singleShot(PREFLIGHT_DELAY_MS, self._start_preflight)
        (self.password_edit if username else self.user_edit).setFocus()

    # --- signing in ------------------------------------------------------------------------------

    def show_message(self, text: str) -> None:
        self.message.setText(text)
        self.message.setAccessibleName(text)
        self.message.setVisible(bool(text))

    @Slot()
    def _start_preflight(self) -> None:
        path = self.path
        self.runner.run(lambda _p: preflight(path), self._preflight_done, self._preflight_failed)

    def _preflight_done(self, result: Preflight) -> None:
        self._checked = True
        if result.problem:
            self.show_message(result.problem)
            self.sign_in.setEnabled(False)
            self.sign_in.setText(tr("Login", "Sign in"))
            self._unusable = True
            return
        if result.wait_s > 0:
            self._wait(result.wait_s)
        if self._pending_sign_in:
            self._pending_sign_in = False
            self.try_sign_in()

    def _preflight_failed(self, exc: BaseException) -> None:
        self._checked = True
        self.show_message(str(exc) if isinstance(exc, TipdeskError) else tr(
            "Login", "The register could not be read ({kind}).").format(kind=type(exc).__name__))

    _unusable = False

    @Slot()
    def try_sign_in(self) -> None:
        if self._busy or self._waiting() or self._unusable:
            return
        if not self._checked:
            self._pending_sign_in = True  # signs in as soon as the back-off is known
            return
        user = self.user_edit.text().strip()
        password = self.password_edit.text()
        if not user:
            self.show_message(tr("Login", "Type your user name."))
            self.user_edit.setFocus()
            return
        if not password:
            self.show_message(tr("Login", "Type your password."))
            self.password_edit.setFocus()
            return
        self._set_busy(True)
        self.show_message("")
        path, via = self.path, self._via
        self.runner.run(
            lambda _p: unlock(path, user, password, via),
            self._signed_in, self._failed,
            label=tr("Login", "Opening the register…"), parent=self, cancellable=False,
        )

    def _signed_in(self, result) -> None:  # noqa: ANN001 (Register, SessionFacts)
        reg, facts = result
        self._set_busy(False)
        self.password_edit.clear()
        self.register = reg
        self.unlocked.emit(reg, facts)
        self.accept()

    def _failed(self, exc: BaseException) -> None:
        self._set_busy(False)
        self.password_edit.clear()
        if isinstance(exc, CredentialsError):
            text = str(exc) if isinstance(exc, AccountRevoked) else tr(
                "Login", "The user name or password is not correct.")
            self.show_message(text)
            from tipdesk.vault.register import consecutive_failures

            self._wait(backoff_seconds(max(consecutive_failures(self.path), 1)))
        elif isinstance(exc, TipdeskError):
            self.show_message(str(exc))
        else:
            self.show_message(tr("Login", "The register could not be opened ({kind}).").format(
                kind=type(exc).__name__))
        self.password_edit.setFocus()

    # --- back-off --------------------------------------------------------------------------------

    def _waiting(self) -> bool:
        return time.monotonic() < self._retry_at

    def _wait(self, seconds: float) -> None:
        self._retry_at = max(self._retry_at, time.monotonic() + seconds)
        self._tick()
        self._countdown.start()

    @Slot()
    def _tick(self) -> None:
        left = self._retry_at - time.monotonic()
        waiting = left > 0
        self.sign_in.setEnabled(not waiting and not self._busy)
        if waiting:
            self.sign_in.setText(tr("Login", "Wait {n} s").format(n=math.ceil(left)))
        else:
            self.sign_in.setText(tr("Login", "Sign in"))
            self._countdown.stop()

    def _set_busy(self, busy: bool) -> None:
        self._busy = busy
        self.user_edit.setEnabled(not busy)
        self.password_edit.setEnabled(not busy)
        self.sign_in.setEnabled(not busy and not self._waiting())
        if busy:
            self.sign_in.setText(tr("Login", "Checking…"))
        else:
            self._tick()

    def reject(self) -> None:
        if self._busy:
            return  # the unlock is under way; its result must not be left unclaimed
        self.password_edit.clear()
        super().reject()
