"""The start screen: choose a recent register, open another one, or create a new one.

Recent registers are remembered by path only (never anything from inside them); for each, the
last verified backup known to this computer is shown.
"""

from __future__ import annotations

import datetime as dt
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
    """'Last verified backup: …' for ``path``, in plain words."""
    notes = settings.registers.get(str(Path(path).resolve()))
    if notes is None or not notes.last_verified_backup_at:
        return tr("Start", "No verified backup of this register is known on this computer.")
    try:
        when = dt.datetime.fromisoformat(notes.last_verified_backup_at.replace("Z", "+00:00"))
        shown = when.astimezone().strftime("%Y-%m-%d %H:%M")
    except ValueError:
        shown = notes.last_verified_backup_at
    return tr("Start", "Last verified backup: {when}").format(when=shown)


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
        self.quit_button = QPushButton(tr("Start", "&Quit"), self)
        for b in (self.open_button, self.browse_button, self.create_button, self.quit_button):
            b.setAccessibleName(b.text().replace("&", "").rstrip("…"))
            row.addWidget(b)
        row.insertStretch(3, 1)
        box.addLayout(row)
        self.open_button.clicked.connect(self.open_selected)
        self.browse_button.clicked.connect(self.browse)
        self.create_button.clicked.connect(self.create)
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
