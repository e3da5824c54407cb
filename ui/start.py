"""The start screen: choose a recent register, open another one, or create a new one.

Recent registers are remembered by path only (never anything from inside them); for each, the
last verified backup known to this computer is shown.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Slot
from PySide6.QtWidgets import (
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from tipdesk.settings import Settings
from tipdesk.vault import files
from tipdesk.vault.register import CreatedRegister
from ui.i18n import tr
from ui.operations import OperationRunner
from ui.widgets import heading


def backup_note(settings: Settings, path: Path) -> str:
    """'Last verified backup: …' for ``path``, in plain words, with the reminder when one is due
    and a word when the backup folder is not there (e.g. the USB stick is not plugged in)."""
    from tipdesk.vault.backup import status_before_unlock

    status = status_before_unlock(path, settings=settings)
    if status.last_at is None:
        text = tr("Start", "No verified backup of this register is known on this computer.")
    else:
        shown = status.last_at.astimezone().strftime("%Y-%m-%d %H:%M")
        text = tr("Start", "Last verified backup: {when}").format(when=shown)
        if status.destination:
            text += " " + tr("Start", "to {folder}").format(folder=status.destination)
    if status.state == "overdue":
        text += ". " + tr("Start", "That is more than {n} days ago: please make a new backup today.").format(
            n=status.remind_after_days)
    if status.destination_problem:
        text += " " + status.destination_problem
    return text


class StartDialog(QDialog):
    """Returns a chosen ``path`` (to log in to) or a ``created`` register (already open)."""

    def __init__(self, runner: OperationRunner, settings: Settings | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("StartDialog")
        self.runner = runner
        if runner.parent() is None:
            runner.setParent(self)
        self.settings = settings or Settings.load()
        self.path: Path | None = None
        self.created: CreatedRegister | None = None
        self.setWindowTitle(tr("Start", "tipdesk"))
        self.setMinimumSize(620, 400)
        box = QVBoxLayout(self)
        box.addWidget(heading(tr("Start", "Open a register"), self))
        self.recent = QListWidget(self)
        self.recent.setObjectName("recentRegisters")
        self.recent.setAccessibleName(tr("Start", "Recent registers"))
        label = QLabel(tr("Start", "&Recent registers on this computer:"), self)
        label.setBuddy(self.recent)
        box.addWidget(label)
        box.addWidget(self.recent, 1)
        self.backup = QLabel(self)
        self.backup.setObjectName("backupNote")
        self.backup.setWordWrap(True)
        self.backup.setAccessibleName(tr("Start", "Backup"))
        box.addWidget(self.backup)
        row = QHBoxLayout()
        self.open_button = QPushButton(tr("Start", "&Open"), self)
        self.open_button.setDefault(True)
        self.browse_button = QPushButton(tr("Start", "Open &another…"), self)
        self.create_button = QPushButton(tr("Start", "&Create a new register…"), self)
        self.restore_button = QPushButton(tr("Start", "Restore from a &backup…"), self)
        self.quit_button = QPushButton(tr("Start", "&Quit"), self)
        for b in (self.open_button, self.browse_button, self.create_button, self.restore_button,
                  self.quit_button):
            b.setAccessibleName(b.text().replace("&", "").rstrip("…"))
            row.addWidget(b)
        row.insertStretch(4, 1)
        box.addLayout(row)
        self.open_button.clicked.connect(self.open_selected)
        self.browse_button.clicked.connect(self.browse)
        self.create_button.clicked.connect(self.create)
        self.restore_button.clicked.connect(self.restore_backup)
        self.quit_button.clicked.connect(self.reject)
        self.recent.currentRowChanged.connect(self._selection_changed)
        self.recent.itemActivated.connect(lambda _i: self.open_selected())
        # Resolved: in portable mode, registers on the stick are remembered relative to it.
        for text in (str(p) for p in self.settings.recent_register_paths()):
            item = QListWidgetItem(text)
            item.setData(Qt.ItemDataRole.UserRole, text)
            if not Path(text).exists():
                item.setText(tr("Start", "{path}  (not found)").format(path=text))
            self.recent.addItem(item)
        if self.recent.count():
            self.recent.setCurrentRow(0)
            self.recent.setFocus()
        else:
            self.recent.addItem(tr("Start", "None yet: open a register or create a new one."))
            self.recent.item(0).setFlags(Qt.ItemFlag.NoItemFlags)
            self.create_button.setFocus()
        self._selection_changed(self.recent.currentRow())

    def _selected_path(self) -> Path | None:
        item = self.recent.currentItem()
        text = item.data(Qt.ItemDataRole.UserRole) if item is not None else None
        return Path(text) if text else None

    @Slot(int)
    def _selection_changed(self, _row: int) -> None:
        path = self._selected_path()
        self.open_button.setEnabled(path is not None and path.exists())
        self.backup.setText(backup_note(self.settings, path) if path is not None else "")

    @Slot()
    def open_selected(self) -> None:
        path = self._selected_path()
        if path is not None and path.exists():
            self.path = path
            self.accept()

    @Slot()
    def browse(self) -> None:
        start = str(self._selected_path().parent) if self._selected_path() else str(Path.home())
        name, _ = QFileDialog.getOpenFileName(self, tr("Start", "Open a register"), start,
                                              tr("Start", "tipdesk registers (*.tipdb)"))
        if name:
            self.path = files.normalise_register_path(name)
            self.accept()

    @Slot()
    def create(self) -> None:
        from ui.wizard import CreateRegisterWizard

        folder = self._selected_path().parent if self._selected_path() else Path.home()
        wizard = CreateRegisterWizard(self.runner, folder, self)
        if wizard.exec() == QDialog.DialogCode.Accepted and wizard.created is not None:
            self.created = wizard.created
            self.path = wizard.created.register.path
            self.accept()

    @Slot()
    def restore_backup(self) -> None:
        """Restore a backup as a register (a new one, or replacing one, which is moved aside)."""
        from ui.backups import RestoreFlow

        selected = self._selected_path()
        self.restore_flow = RestoreFlow(self.runner, self, self._restored)
        self.restore_flow.start(selected.parent if selected is not None else None)

    def _restored(self, path: Path) -> None:
        """Show the restored register first in the list, selected, ready to open."""
        self.settings = Settings.load()
        text = str(path.resolve())
        for row in range(self.recent.count()):
            if self.recent.item(row).data(Qt.ItemDataRole.UserRole) == text:
                self.recent.takeItem(row)
                break
        if self.recent.count() == 1 and self.recent.item(0).data(Qt.ItemDataRole.UserRole) is None:
            self.recent.clear()  # the "None yet" line
        item = QListWidgetItem(text)
        item.setData(Qt.ItemDataRole.UserRole, text)
        self.recent.insertItem(0, item)
        self.recent.setCurrentRow(0)
        self._selection_changed(0)
        self.recent.setFocus()
