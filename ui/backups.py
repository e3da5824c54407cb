"""Backups in the window: File → Back up now, Administration → Backups, the status-bar reminder,
checking a backup file, and restoring one from the start screen.

All the work is done by ``tipdesk.vault.backup`` on the operation runner (progress dialog with
Cancel after a second); this module only asks, shows and explains. A backup keeps the users and
passwords of its time: the window says so wherever backups are made.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt, Slot
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from tipdesk.errors import Cancelled, TipdeskError
from tipdesk.settings import Settings
from ui.dialogs import _FormDialog, password_edit
from ui.i18n import tr
from ui.operations import OperationRunner, Progress
from ui.widgets import ERROR_STYLE, add_row, ask

if TYPE_CHECKING:
    from tipdesk.vault.backup import BackupResult, BackupStatus, Credentials, VerifyReport
    from tipdesk.vault.register import Register

OVERDUE_STYLE = "color: #b3261e; font-weight: bold;"  # the same dark red as errors
PROGRESS_STEPS = 1000


def pick_folder(parent: QWidget, title: str, start: str) -> str:
    """A folder chosen by the person ('' when cancelled). Tests replace this."""
    return QFileDialog.getExistingDirectory(parent, title, start)


def pick_backup_file(parent: QWidget, title: str, start: str) -> str:
    """A backup file chosen by the person ('' when cancelled). Tests replace this."""
    name, _ = QFileDialog.getOpenFileName(parent, title, start, tr("Backup", "tipdesk backups (*.tipbak)"))
    return name


def pick_new_register(parent: QWidget, title: str, start: str) -> str:
    """Where to put a restored register ('' when cancelled). Tests replace this."""
    name, _ = QFileDialog.getSaveFileName(parent, title, start, tr("Backup", "tipdesk registers (*.tipdb)"),
                                          options=QFileDialog.Option.DontConfirmOverwrite)
    return name


def _reporter(progress: Progress) -> Callable[[float, str], None]:
    return lambda fraction, text: progress.report(int(fraction * PROGRESS_STEPS), PROGRESS_STEPS, text)


def refresh_settings(settings: Settings) -> None:
    """Take what the core just noted on disk (last backup, folder) into a window's settings, so
    that the window saving its own settings later does not write older notes over them."""
    settings.registers = Settings.load().registers


def result_text(result: BackupResult) -> str:
    """What a person reads after a backup: where it is, that it was checked, what it keeps."""
    from tipdesk.vault.backup import PASSWORDS_NOTE

    parts = [tr("Backup", "It is here:\n{path}\n({mb:,.1f} MB; the database, its encryption, the audit chain "
                "and the number of records were all checked).").format(path=result.path, mb=result.megabytes)]
    if result.deleted:
        parts.append(tr("Backup", "{n} older backups were removed from that folder (tipdesk keeps the last "
                        "{keep} and one a month for a year).").format(n=len(result.deleted), keep=result.keep_last))
    parts.extend(result.warnings)
    parts.append(tr("Backup", PASSWORDS_NOTE))
    return "\n\n".join(parts)


RESULT_HEADLINE = "The backup was made and checked in full."


def _information(parent: QWidget, title: str, text: str,
                 icon: QMessageBox.Icon = QMessageBox.Icon.Information, details: str = "") -> QMessageBox:
    """A non-blocking message (a lock arriving meanwhile closes it cleanly): a headline, and the
    details under it."""
    box = QMessageBox(icon, title, text, QMessageBox.StandardButton.Ok, parent)
    if details:
        box.setInformativeText(details)
    box.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    box.open()
    return box


def _problem(parent: QWidget, exc: BaseException, title: str) -> QMessageBox:
    """What went wrong, in the core's plain sentence (like ``error_box``, without blocking)."""
    if isinstance(exc, TipdeskError):
        text = str(exc)
        problems = getattr(exc, "problems", None)
        if problems and all(isinstance(p, str) for p in problems):
            text += "\n\n" + "\n".join(problems[:5])
    else:
        text = tr("Errors", "Something went wrong that tipdesk did not expect ({kind}). "
                  "Nothing was changed. If it happens again, tell your administrator.").format(
            kind=type(exc).__name__)
    return _information(parent, title, text, QMessageBox.Icon.Warning)


# --- making a backup -------------------------------------------------------------------------------

@dataclass(frozen=True)
class FolderProblem:
    """The backup folder cannot be used now (e.g. the USB stick is not plugged in)."""

    text: str


class BackupRunner(QObject):
    """Makes a backup of an open register: finds or asks for the folder, runs, reports."""

    def __init__(self, runner: OperationRunner, parent_widget: QWidget, settings: Settings,
                 on_finished: Callable[[], None] = lambda: None) -> None:
        super().__init__(parent_widget)
        self.runner = runner
        self.parent_widget = parent_widget
        self.settings = settings
        self.on_finished = on_finished
        self.message: QMessageBox | None = None  # the last result shown (tests read it)
        self.running = False

    def start(self, reg: Register, folder: str | None = None) -> None:
        """Back up now: to ``folder``, else the remembered one, else ask where."""
        from tipdesk.vault import backup as backups

        if self.running:
            return
        if folder is None:
            folder = backups.preferences(reg).destination or self._noted_folder(reg)
        if not folder:
            self._choose_then_start(reg, tr("Backup", "Choose where to keep backups — a folder on a USB stick "
                                            "or on another computer, not on this computer's own disk"))
            return
        self._run(reg, folder)

    def _noted_folder(self, reg: Register) -> str:
        notes = self.settings.registers.get(str(reg.path.resolve()))
        return notes.backup_destination if notes is not None else ""

    def _choose_then_start(self, reg: Register, title: str) -> None:
        chosen = pick_folder(self.parent_widget, title, str(Path.home()))
        if chosen:
            self.start(reg, chosen)

    def _run(self, reg: Register, folder: str) -> None:
        from tipdesk.vault import backup as backups

        self.running = True

        def op(progress: Progress) -> BackupResult | FolderProblem:
            # Looking at the folder (a USB stick, a share) happens here, off the GUI thread.
            problem = backups.destination_problem(folder)
            if problem:
                return FolderProblem(problem)
            return backups.backup(reg, folder, progress=_reporter(progress),
                                  keep_going=lambda: not progress.cancelled)

        def done(outcome: BackupResult | FolderProblem) -> None:
            if isinstance(outcome, FolderProblem):
                self.running = False
                self.message = ask(self.parent_widget, tr("Backup", "Backup folder not available"), outcome.text,
                                   tr("Backup", "Choose another folder…"),
                                   lambda: self._choose_then_start(reg, tr("Backup", "Choose where to keep backups")))
                return
            self._succeeded(outcome)

        self.runner.run(op, done, self._failed, label=tr("Backup", "Making a backup…"),
                        parent=self.parent_widget, changes={"backup"})

    def _succeeded(self, result: BackupResult) -> None:
        self.running = False
        refresh_settings(self.settings)
        self.message = _information(self.parent_widget, tr("Backup", "Backup made"),
                                    tr("Backup", RESULT_HEADLINE), details=result_text(result))
        self.on_finished()

    def _failed(self, exc: BaseException) -> None:
        self.running = False
        refresh_settings(self.settings)
        self.on_finished()
        if isinstance(exc, Cancelled):
            self.message = _information(self.parent_widget, tr("Backup", "Backup stopped"), tr(
                "Backup", "The backup was stopped. Nothing was kept, and the register is untouched."))
            return
        self.message = _problem(self.parent_widget, exc, tr("Backup", "The backup was not made"))


# --- the reminder --------------------------------------------------------------------------------

def reminder_text(status: BackupStatus) -> str:
    """The short status-bar text for a reminder."""
    if status.state == "never":
        return tr("Backup", "No backup yet")
    if status.last_at is None:
        return ""
    days = (dt.datetime.now(dt.UTC) - status.last_at).days
    if status.state == "overdue":
        return tr("Backup", "Backup overdue ({n} days)").format(n=days)
    if days == 0:
        return tr("Backup", "Backed up today")
    return tr("Backup", "Backed up {n} days ago").format(n=days)


class BackupStatusLabel(QLabel):
    """The status bar's backup reminder; the whole sentence is its tool tip and accessible text."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("backupStatus")
        self.setContentsMargins(10, 0, 10, 0)
        self.setAccessibleName(tr("Backup", "Backup"))

    def show_status(self, status: BackupStatus | None) -> None:
        if status is None:
            self.clear()
            self.setToolTip("")
            self.setAccessibleDescription("")
            return
        self.setText(reminder_text(status))
        self.setToolTip(status.sentence)
        self.setAccessibleDescription(status.sentence)
        self.setStyleSheet(OVERDUE_STYLE if status.state != "ok" or status.destination_problem else "")


class WindowBackups(QObject):
    """What the main window carries for backups: the File menu action and the status label."""

    def __init__(self, window: QWidget, runner: OperationRunner, settings: Settings) -> None:
        super().__init__(window)
        self.window = window
        self.runner = runner
        self.reg: Register | None = None
        self.action = QAction(tr("Backup", "&Back up now…"), window)
        self.action.setShortcut(QKeySequence("Ctrl+B"))
        self.action.setEnabled(False)
        self.action.triggered.connect(self.back_up_now)
        self.label = BackupStatusLabel(window)
        self.maker = BackupRunner(runner, window, settings, self.refresh)
        self.status: BackupStatus | None = None

    def attach(self, reg: Register) -> None:
        """A register was unlocked: enable the action (for roles that may back up), show the reminder."""
        self.reg = reg
        may = reg.actor.can("backup.run")
        self.action.setEnabled(may)
        self.label.setVisible(may)
        if may:
            self.refresh()

    def detach(self) -> None:
        self.reg = None
        self.maker.running = False  # a backup's result is dropped on lock: allow the next one
        self.action.setEnabled(False)
        self.label.show_status(None)

    @Slot()
    def back_up_now(self) -> None:
        if self.reg is not None and self.reg.actor.can("backup.run"):
            self.maker.start(self.reg)

    @Slot()
    def refresh(self) -> None:
        """Read the reminder off the GUI thread (it looks at the backup folder, e.g. a USB stick)."""
        from tipdesk.vault import backup as backups

        reg = self.reg
        if reg is None:
            return

        def shown(status: BackupStatus) -> None:
            if self.reg is reg:
                self.status = status
                self.label.show_status(status)

        self.runner.run(lambda _p: backups.status(reg), shown,
                        lambda exc: self.label.show_status(None), cancellable=False)


# --- Administration → Backups ------------------------------------------------------------------------

def _with_words(spin: QSpinBox, words: str, parent: QWidget) -> QWidget:
    """A narrow number box followed by what the number means."""
    holder = QWidget(parent)
    row = QHBoxLayout(holder)
    row.setContentsMargins(0, 0, 0, 0)
    spin.setMinimumWidth(80)
    spin.setMaximumWidth(110)
    row.addWidget(spin)
    row.addWidget(QLabel(words, holder), 1)
    holder.setFocusProxy(spin)
    return holder


class BackupsTab(QWidget):
    """Administration → Backups: where backups go, how many are kept, reminders, back up now,
    check a backup file."""

    def __init__(self, reg: Register, runner: OperationRunner, parent: QWidget | None = None) -> None:
        from tipdesk.vault import backup as backups

        super().__init__(parent)
        self.setObjectName("backupsTab")
        self.reg = reg
        self.runner = runner
        box = QVBoxLayout(self)
        self.status = QLabel(self)
        self.status.setObjectName("backupState")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.status.setAccessibleName(tr("Backup", "Last backup"))
        box.addWidget(self.status)
        form = QFormLayout()
        folder_row = QWidget(self)
        row = QHBoxLayout(folder_row)
        row.setContentsMargins(0, 0, 0, 0)
        self.folder = QLineEdit(folder_row)
        self.folder.setObjectName("backupFolder")
        self.folder.setReadOnly(True)
        self.folder.setPlaceholderText(tr("Backup", "not chosen yet"))
        self.choose_button = QPushButton(tr("Backup", "C&hoose…"), folder_row)
        self.choose_button.setAccessibleName(tr("Backup", "Choose the backup folder"))
        self.choose_button.clicked.connect(self.choose_folder)
        row.addWidget(self.folder, 1)
        row.addWidget(self.choose_button)
        self.folder_row = add_row(form, tr("Backup", "Backup &folder:"), folder_row, tr("Backup", "Backup folder"))
        self.folder_row.setFocusProxy(self.choose_button)
        self.folder.setAccessibleName(tr("Backup", "Backup folder"))
        self.keep = QSpinBox(self)
        self.keep.setRange(1, 1000)
        self.keep_row = add_row(form, tr("Backup", "Kee&p:"), _with_words(
            self.keep, tr("Backup", "recent backups in each folder, and one a month for a year"), self),
            tr("Backup", "Recent backups kept"))
        self.keep_row.setFocusProxy(self.keep)
        self.keep.setAccessibleName(tr("Backup", "Recent backups kept"))
        self.remind = QSpinBox(self)
        self.remind.setRange(1, 365)
        self.remind_row = add_row(form, tr("Backup", "&Remind after:"), _with_words(
            self.remind, tr("Backup", "days without a backup"), self),
            tr("Backup", "Remind after this many days without a backup"))
        self.remind_row.setFocusProxy(self.remind)
        self.remind.setAccessibleName(tr("Backup", "Remind after this many days without a backup"))
        holder = QWidget(self)
        holder.setLayout(form)
        holder.setMaximumWidth(720)
        box.addWidget(holder)
        buttons = QHBoxLayout()
        self.save_button = QPushButton(tr("Backup", "Sa&ve backup settings"), self)
        self.backup_button = QPushButton(tr("Backup", "Back up &now…"), self)
        self.check_button = QPushButton(tr("Backup", "Chec&k a backup file…"), self)
        for button, slot in ((self.save_button, self.save), (self.backup_button, self.back_up_now),
                             (self.check_button, self.check_backup)):
            button.setAccessibleName(button.text().replace("&", "").rstrip("…"))
            button.clicked.connect(slot)
            buttons.addWidget(button)
        buttons.addStretch(1)
        box.addLayout(buttons)
        note = QLabel(tr("Backup", backups.PASSWORDS_NOTE) + " " + tr(
            "Backup", "Keep backups away from this computer: on a USB stick kept elsewhere, or on another "
            "computer. To restore one, use “Restore from a backup…” on the start screen."), self)
        note.setObjectName("passwordsNote")
        note.setWordWrap(True)
        box.addWidget(note)
        self.result = QLabel(self)
        self.result.setObjectName("backupResult")
        self.result.setWordWrap(True)
        self.result.setAccessibleName(tr("Backup", "Result"))
        box.addWidget(self.result)
        box.addStretch(1)
        window = self.window()
        settings = getattr(window, "settings", None) or Settings.load()
        self.maker = BackupRunner(runner, self, settings, self._after_backup)
        self.load()

    def load(self) -> None:
        """Show the settings (a small read, at once) and the last backup (it looks at the backup
        folder, perhaps a USB stick: off the GUI thread)."""
        from tipdesk.vault import backup as backups

        prefs = backups.preferences(self.reg)
        self.folder.setText(prefs.destination)
        self.folder.setToolTip(prefs.destination)
        self.keep.setValue(prefs.keep_last)
        self.remind.setValue(prefs.remind_after_days)
        reg = self.reg
        self.runner.run(lambda _p: backups.status(reg), self.show_status,
                        lambda exc: self.status.setText(str(exc)), cancellable=False)

    def show_status(self, status: BackupStatus) -> None:
        self.status.setText(status.sentence)
        self.status.setStyleSheet(OVERDUE_STYLE if status.state != "ok" or status.destination_problem else "")

    @Slot()
    def choose_folder(self) -> None:
        chosen = pick_folder(self, tr("Backup", "Choose where to keep backups"), self.folder.text() or str(Path.home()))
        if chosen:
            self.folder.setText(chosen)
            self.folder.setToolTip(chosen)
            self.folder_row.set_error("")

    @Slot()
    def save(self) -> None:
        from tipdesk.vault import backup as backups

        folder = self.folder.text().strip()
        problem = backups.destination_problem(folder, probe=False) if folder else ""
        reg = self.reg
        keep, remind = self.keep.value(), self.remind.value()

        def saved(_prefs: object) -> None:
            window = self.window()
            if isinstance(getattr(window, "settings", None), Settings):
                refresh_settings(window.settings)
            self.folder_row.set_error(problem)
            self.result.setText(tr("Backup", "Saved the backup settings."))
            self.load()
            refresh = getattr(getattr(window, "backups", None), "refresh", None)
            if refresh is not None:
                refresh()

        self.runner.run(lambda _p: backups.set_preferences(reg, destination=folder or None, keep_last=keep,
                                                           remind_after_days=remind),
                        saved, lambda exc: _problem(self, exc, tr("Backup", "Not saved")), parent=self,
                        cancellable=False,
                        changes={"backup_settings"})

    @Slot()
    def back_up_now(self) -> None:
        self.maker.start(self.reg, self.folder.text().strip() or None)

    def _after_backup(self) -> None:
        self.load()
        window = self.window()
        refresh = getattr(getattr(window, "backups", None), "refresh", None)
        if refresh is not None:
            refresh()

    @Slot()
    def check_backup(self) -> None:
        start = self.folder.text() or str(Path.home())
        name = pick_backup_file(self, tr("Backup", "Check a backup file"), start)
        if not name:
            return
        dialog = BackupCredentialsDialog(Path(name), self.reg.actor.username, self,
                                         ok_text=tr("Backup", "Check"))

        def accepted() -> None:
            credentials = dialog.credentials()
            self.runner.run(
                lambda p: _verify(Path(name), credentials, p),
                lambda report: self._checked(Path(name), report),
                lambda exc: _problem(self, exc, tr("Backup", "The backup could not be checked")),
                label=tr("Backup", "Checking the backup…"), parent=self)

        dialog.accepted.connect(accepted)
        dialog.open()

    def _checked(self, path: Path, report: VerifyReport) -> None:
        if report.restorable:
            verdict = tr("Backup", "{name} is a sound backup; this version of tipdesk can restore it.")
        elif report.ok:
            verdict = tr("Backup", "{name} is sound, but only a newer version of tipdesk can restore it.")
        else:
            verdict = tr("Backup", "{name} did NOT pass its check: do not rely on it. Make a new backup.")
        self.result.setText(verdict.format(name=path.name))
        self.result.setStyleSheet("" if report.ok else ERROR_STYLE)
        self.message = _information(self, tr("Backup", "Backup checked"),
                                    verdict.format(name=path.name) + "\n\n" + "\n".join(report.lines))


def _verify(path: Path, credentials: Credentials, progress: Progress) -> VerifyReport:
    from tipdesk.vault import backup as backups

    return backups.verify_backup(path, credentials, progress=_reporter(progress),
                                 keep_going=lambda: not progress.cancelled)


class BackupCredentialsDialog(_FormDialog):
    """Whose password opens a backup: a user of the backup, with the password valid when it was
    made — or the recovery key."""

    def __init__(self, path: Path, username: str, parent: QWidget | None = None, *, ok_text: str) -> None:
        super().__init__(tr("Backup", "Open a backup"), ok_text, parent)
        self.setObjectName("BackupCredentialsDialog")
        intro = QLabel(tr("Backup", "{name} opens with the password a user had when it was made (not one set "
                          "later), or with the register's recovery key.").format(name=path.name), self)
        intro.setWordWrap(True)
        self.box.insertWidget(0, intro)
        self.username = QLineEdit(username, self)
        self.password = password_edit(self)
        self.recovery = QLineEdit(self)
        self.recovery.setPlaceholderText(tr("Backup", "only if no password is known"))
        # Readable while typed from the paper, hidden once the field is left.
        self.recovery.setEchoMode(QLineEdit.EchoMode.PasswordEchoOnEdit)
        self.rows = {
            "username": add_row(self.form, tr("Backup", "&User name:"), self.username),
            "password": add_row(self.form, tr("Backup", "&Password at that time:"), self.password),
            "recovery": add_row(self.form, tr("Backup", "or &recovery key:"), self.recovery),
        }
        self.password.setFocus()

    def problems(self) -> dict[str, str]:
        from tipdesk.vault.keyslots import parse_recovery_key

        found = {}
        if self.recovery.text().strip():
            try:
                parse_recovery_key(self.recovery.text())
            except TipdeskError as exc:
                found["recovery"] = str(exc)
            if not self.username.text().strip():
                found["username"] = tr("Backup", "Say which administrator you are.")
        elif not self.password.text():
            found["password"] = tr("Backup", "Type the password, or give the recovery key.")
        return found

    def credentials(self) -> Credentials:
        from tipdesk.vault.backup import Credentials
        from tipdesk.vault.keyslots import parse_recovery_key

        user = self.username.text().strip() or None
        if self.recovery.text().strip():
            return Credentials(user, recovery_key=parse_recovery_key(self.recovery.text()))
        return Credentials(user, self.password.text())


# --- the start screen: restore -------------------------------------------------------------------

class RestoreFlow(QObject):
    """Start screen → Restore from a backup…: choose the file and where it goes, check, restore.

    Runs with no register open. Replacing an existing register moves it aside first (never
    deletes it); a backup of another register is refused by the core, with its reason.
    """

    def __init__(self, runner: OperationRunner, parent_widget: QWidget,
                 on_restored: Callable[[Path], None]) -> None:
        super().__init__(parent_widget)
        self.runner = runner
        self.parent_widget = parent_widget
        self.on_restored = on_restored
        self.message: QMessageBox | None = None

    def start(self, near: Path | None = None) -> None:
        from tipdesk.vault import backup as backups
        from tipdesk.vault import files

        start = str(near) if near is not None else str(Path.home())
        name = pick_backup_file(self.parent_widget, tr("Backup", "Restore from a backup"), start)
        if not name:
            return
        source = Path(name)
        try:
            manifest = backups.read_manifest(source)
        except (TipdeskError, OSError) as exc:
            self.message = _problem(self.parent_widget, exc, tr("Backup", "This backup cannot be restored"))
            return
        suggested = (near or source.parent) / f"{manifest.register_name}.tipdb"
        chosen = pick_new_register(self.parent_widget, tr("Backup", "Restore the register as…"), str(suggested))
        if not chosen:
            return
        target = files.normalise_register_path(chosen)
        replace = backups.register_exists(target)
        try:
            backups.check_restore(source, target, replace)
        except TipdeskError as exc:
            self.message = _problem(self.parent_widget, exc, tr("Backup", "This backup cannot be restored there"))
            return
        made = backups.local_time(manifest.created_at)
        if replace:
            ask(self.parent_widget, tr("Backup", "Replace the register?"),
                tr("Backup", "{target} exists. Replace it with the backup made on {made}? The register there "
                   "is first moved aside (renamed, not deleted), so nothing is lost.").format(
                    target=target.name, made=made),
                tr("Backup", "Replace it"), lambda: self._ask_credentials(source, target, True),
                destructive=True)
        else:
            self._ask_credentials(source, target, False)

    def _ask_credentials(self, source: Path, target: Path, replace: bool) -> None:
        dialog = BackupCredentialsDialog(source, "", self.parent_widget, ok_text=tr("Backup", "Restore"))
        dialog.username.setFocus()

        def accepted() -> None:
            credentials = dialog.credentials()
            self.runner.run(lambda p: _restore(source, target, credentials, replace, p), self._restored,
                            lambda exc: self._failed(exc),
                            label=tr("Backup", "Checking and restoring the backup…"), parent=self.parent_widget)

        dialog.accepted.connect(accepted)
        dialog.open()

    def _failed(self, exc: BaseException) -> None:
        self.message = _problem(self.parent_widget, exc, tr("Backup", "Nothing was restored"))

    def _restored(self, result) -> None:  # noqa: ANN001 (RestoreResult)
        text = result.sentence
        if result.moved_aside:
            text += "\n\n" + tr("Backup", "The register that was there was moved aside, not deleted: {names}").format(
                names=", ".join(p.name for p in result.moved_aside))
        text += "".join("\n\n" + w for w in result.warnings)
        self.message = _information(self.parent_widget, tr("Backup", "Backup restored"), text)
        self.on_restored(result.path)


def _restore(source: Path, target: Path, credentials: Credentials, replace: bool, progress: Progress):  # noqa: ANN202
    from tipdesk.vault import backup as backups

    return backups.restore(source, target, credentials, replace=replace, progress=_reporter(progress),
                           keep_going=lambda: not progress.cancelled)
