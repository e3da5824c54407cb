"""Helpers for the window tests: every text a person could see or a screen reader could read."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QApplication,
    QComboBox,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QTabBar,
    QTextEdit,
    QWidget,
)

ROLES = (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole, Qt.ItemDataRole.AccessibleTextRole)


def _model_texts(view: QAbstractItemView) -> list[str]:
    model = view.model()
    if model is None:
        return []
    out: list[str] = []

    def count(fn, parent: QModelIndex) -> int:  # noqa: ANN001
        try:
            return int(fn(parent))
        except TypeError:  # list models hide columnCount/hasChildren: flat, one column
            return 1 if not parent.isValid() else 0

    def walk(parent: QModelIndex) -> None:
        for r in range(count(model.rowCount, parent)):
            for c in range(max(1, count(model.columnCount, parent))):
                index = model.index(r, c, parent)
                for role in ROLES:
                    value = model.data(index, role)
                    if value is not None:
                        out.append(str(value))
                if c == 0 and count(model.rowCount, index) > 0:
                    walk(index)

    walk(QModelIndex())
    for section in range(count(model.columnCount, QModelIndex())):
        value = model.headerData(section, Qt.Orientation.Horizontal)
        if value is not None:
            out.append(str(value))
    return out


def widget_texts(widget: QWidget) -> list[str]:
    texts = [widget.windowTitle(), widget.toolTip(), widget.accessibleName(),
             widget.accessibleDescription(), widget.statusTip(), widget.whatsThis()]
    if isinstance(widget, QLabel | QAbstractButton):
        texts.append(widget.text())
    if isinstance(widget, QLineEdit):
        texts += [widget.text(), widget.placeholderText()]
    if isinstance(widget, QTextEdit):
        texts.append(widget.toPlainText())
    if isinstance(widget, QPlainTextEdit):
        texts.append(widget.toPlainText())
    if isinstance(widget, QComboBox):
        texts += [widget.itemText(i) for i in range(widget.count())] + [widget.currentText()]
    if isinstance(widget, QTabBar):
        texts += [widget.tabText(i) for i in range(widget.count())]
    if isinstance(widget, QAbstractItemView):
        texts += _model_texts(widget)
    return [t for t in texts if t]


def all_visible_text(include_hidden: bool = True) -> str:
    """Every text of every live widget of the application, joined by newlines."""
    chunks: list[str] = []
    for widget in QApplication.allWidgets():
        if not include_hidden and not widget.isVisible():
            continue
        chunks += widget_texts(widget)
    return "\n".join(chunks)


@contextmanager
def main_window(qtbot, path: Path, *, size: tuple[int, int] | None = (1180, 760)) -> Iterator:  # noqa: ANN001
    """The main window on the register at ``path`` as it opens (locked), closed afterwards."""
    from ui.main_window import MainWindow
    from ui.operations import OperationRunner

    win = MainWindow(path, OperationRunner())
    qtbot.addWidget(win)
    if size is not None:
        win.resize(*size)
    win.show()
    try:
        yield win
    finally:
        if win.reg is not None:
            win.reg.close()


def submit_login(qtbot, win, user: str, password: str, *, wait: bool = True) -> None:  # noqa: ANN001
    """Type a user name and password into the login dialog and press Enter, as a person does."""
    dialog = win.show_login()
    dialog.user_edit.setText(user)
    dialog.password_edit.setText(password)
    qtbot.keyClick(dialog.password_edit, Qt.Key.Key_Return)
    if wait:
        qtbot.waitUntil(lambda: win.reg is not None, timeout=10_000)
