"""Qt item models of the window (each checked with pytest-qt's ``qtmodeltester``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt

from tipdesk.security.accounts import UserInfo
from ui.i18n import tr

Index = QModelIndex | QPersistentModelIndex


def _local_time(value) -> str:  # noqa: ANN001 (aware datetime or None)
    if value is None:
        return tr("Users", "never")
    return value.astimezone().strftime("%Y-%m-%d %H:%M")


class UsersModel(QAbstractTableModel):
    """The register's accounts (a handful of rows: held whole)."""

    COLUMNS = ("username", "display_name", "role", "state", "last_login")

    def __init__(self, parent=None) -> None:  # noqa: ANN001
        super().__init__(parent)
        self._rows: list[UserInfo] = []

    def headers(self) -> list[str]:
        return [tr("Users", "User name"), tr("Users", "Shown as"), tr("Users", "Role"),
                tr("Users", "State"), tr("Users", "Last sign-in")]

    def set_users(self, users: Sequence[UserInfo]) -> None:
        self.beginResetModel()
        self._rows = list(users)
        self.endResetModel()

    def clear(self) -> None:
        self.set_users([])

    def user_at(self, row: int) -> UserInfo | None:
        return self._rows[row] if 0 <= row < len(self._rows) else None

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: N802, B008 (Qt API)
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(self.COLUMNS)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        user = self._rows[index.row()]
        column = self.COLUMNS[index.column()]
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole):
            if column == "username":
                return user.username
            if column == "display_name":
                return user.display_name
            if column == "role":
                return tr("Roles", user.role_label)
            if column == "state":
                return tr("Users", "active") if user.active else tr("Users", "revoked")
            return _local_time(user.last_login_at)
        if role == Qt.ItemDataRole.ForegroundRole and not user.active:
            from PySide6.QtGui import QPalette
            from PySide6.QtWidgets import QApplication

            return QApplication.palette().brush(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text)
        return None

    def headerData(self, section: int, orientation: Qt.Orientation,  # noqa: N802
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        if orientation == Qt.Orientation.Horizontal and 0 <= section < len(self.COLUMNS):
            return self.headers()[section]
        if orientation == Qt.Orientation.Vertical and 0 <= section < len(self._rows):
            return str(section + 1)
        return None
