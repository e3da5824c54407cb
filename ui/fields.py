"""Form fields bound to plain values: parse, show, keep as a draft, report errors in place.

Each field owns its widget and the error line under it (``FieldRow``). ``Form`` collects them:
``values()`` parses every field (problems by field, in plain words), ``snapshot()`` gives
JSON-able raw values for drafts and for "unsaved changes?" checks.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QWidget,
)

from tipdesk.errors import FieldProblem, ValidationError
from ui.i18n import tr
from ui.widgets import FieldRow

Choices = Sequence[tuple[str, str]]


class FieldInputError(Exception):
    """What a person typed cannot be read (e.g. a date that is not a date)."""


class Field:
    """A value and the widget that edits it."""

    def __init__(self, name: str, widget: QWidget) -> None:
        self.name = name
        self.widget = widget
        self.row = FieldRow(widget)

    def get(self) -> Any:
        raise NotImplementedError

    def set(self, value: Any) -> None:
        raise NotImplementedError

    def raw(self) -> Any:
        return self.get_raw()

    def get_raw(self) -> Any:
        raise NotImplementedError

    def set_raw(self, raw: Any) -> None:
        raise NotImplementedError

    def set_read_only(self, read_only: bool) -> None:
        self.widget.setEnabled(not read_only)

    def connect(self, slot) -> None:  # noqa: ANN001
        raise NotImplementedError


class TextField(Field):
    def __init__(self, name: str, max_length: int = 200, placeholder: str = "") -> None:
        edit = QLineEdit()
        edit.setMaxLength(max_length)
        edit.setPlaceholderText(placeholder)
        super().__init__(name, edit)
        self.edit = edit

    def get(self) -> str:
        return self.edit.text().strip()

    def set(self, value: Any) -> None:
        self.edit.setText("" if value is None else str(value))

    def get_raw(self) -> str:
        return self.edit.text()

    def set_raw(self, raw: Any) -> None:
        self.edit.setText(str(raw or ""))

    def set_read_only(self, read_only: bool) -> None:
        self.edit.setReadOnly(read_only)

    def connect(self, slot) -> None:  # noqa: ANN001
        self.edit.textChanged.connect(slot)


class ListTextField(TextField):
    """Several short values separated by commas (aliases, ISO codes)."""

    def __init__(self, name: str, upper: bool = False, lower: bool = False, placeholder: str = "") -> None:
        super().__init__(name, 400, placeholder)
        self.upper, self.lower = upper, lower

    def get(self) -> tuple[str, ...]:
        parts = [p.strip() for p in self.edit.text().split(",")]
        parts = [p.upper() if self.upper else p.lower() if self.lower else p for p in parts if p]
        return tuple(parts)

    def set(self, value: Any) -> None:
        self.edit.setText(", ".join(value or ()))


class DateField(TextField):
    """A date typed as year-month-day (blank allowed unless required by the core)."""

    def __init__(self, name: str) -> None:
        super().__init__(name, 10, tr("Fields", "YYYY-MM-DD"))

    def get(self) -> dt.date | None:
        text = self.edit.text().strip()
        if not text:
            return None
        try:
            return dt.date.fromisoformat(text)
        except ValueError:
            raise FieldInputError(tr("Fields", "Write the date as year-month-day, e.g. 2026-03-14.")) from None

    def set(self, value: Any) -> None:
        self.edit.setText(value.isoformat() if value else "")


class IntField(TextField):
    def __init__(self, name: str, placeholder: str = "") -> None:
        super().__init__(name, 3, placeholder)

    def get(self) -> int | None:
        text = self.edit.text().strip()
        if not text:
            return None
        if not text.isdigit():
            raise FieldInputError(tr("Fields", "Write a whole number, e.g. 17."))
        return int(text)


class NotesField(Field):
    def __init__(self, name: str) -> None:
        edit = QPlainTextEdit()
        edit.setTabChangesFocus(True)
        edit.setFixedHeight(72)
        super().__init__(name, edit)
        self.edit = edit

    def get(self) -> str:
        return self.edit.toPlainText().strip()

    def set(self, value: Any) -> None:
        self.edit.setPlainText(str(value or ""))

    def get_raw(self) -> str:
        return self.edit.toPlainText()

    def set_raw(self, raw: Any) -> None:
        self.edit.setPlainText(str(raw or ""))

    def set_read_only(self, read_only: bool) -> None:
        self.edit.setReadOnly(read_only)

    def connect(self, slot) -> None:  # noqa: ANN001
        self.edit.textChanged.connect(slot)


class ChoiceField(Field):
    """One value of a vocabulary (labels shown, value names kept); optional blank."""

    def __init__(self, name: str, choices: Choices, blank: str | None = None) -> None:
        combo = QComboBox()
        if blank is not None:
            combo.addItem(blank, None)
        for value, label in choices:
            combo.addItem(tr("Vocabulary", label), value)
        super().__init__(name, combo)
        self.combo = combo

    def get(self) -> Any:
        return self.combo.currentData()

    def set(self, value: Any) -> None:
        self.combo.setCurrentIndex(max(0, self.combo.findData(value)))

    def get_raw(self) -> Any:
        return self.combo.currentData()

    def set_raw(self, raw: Any) -> None:
        self.set(raw)

    def connect(self, slot) -> None:  # noqa: ANN001
        self.combo.currentIndexChanged.connect(slot)


class BoolField(Field):
    def __init__(self, name: str, text: str) -> None:
        box = QCheckBox(text)
        super().__init__(name, box)
        self.box = box

    def get(self) -> bool:
        return self.box.isChecked()

    def set(self, value: Any) -> None:
        self.box.setChecked(bool(value))

    def get_raw(self) -> bool:
        return self.box.isChecked()

    def set_raw(self, raw: Any) -> None:
        self.set(raw)

    def connect(self, slot) -> None:  # noqa: ANN001
        self.box.toggled.connect(slot)


class CheckListField(Field):
    """Several values of a vocabulary, each a checkable line (Space toggles)."""

    def __init__(self, name: str, choices: Choices, rows_shown: int = 5) -> None:
        listw = QListWidget()
        for value, label in choices:
            item = QListWidgetItem(tr("Vocabulary", label))
            item.setData(Qt.ItemDataRole.UserRole, value)
            item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsUserCheckable | Qt.ItemFlag.ItemIsSelectable)
            item.setCheckState(Qt.CheckState.Unchecked)
            listw.addItem(item)
        row_height = max(listw.sizeHintForRow(0), listw.fontMetrics().height() + 2)
        listw.setFixedHeight(min(len(choices), rows_shown) * row_height + 2 * listw.frameWidth() + 4)
        super().__init__(name, listw)
        self.list = listw

    def _items(self) -> Iterable[QListWidgetItem]:
        return (self.list.item(i) for i in range(self.list.count()))

    def get(self) -> tuple[str, ...]:
        return tuple(i.data(Qt.ItemDataRole.UserRole) for i in self._items()
                     if i.checkState() == Qt.CheckState.Checked)

    def set(self, value: Any) -> None:
        chosen = set(value or ())
        self.list.blockSignals(True)
        try:
            for item in self._items():
                item.setCheckState(Qt.CheckState.Checked if item.data(Qt.ItemDataRole.UserRole) in chosen
                                   else Qt.CheckState.Unchecked)
        finally:
            self.list.blockSignals(False)
        self.list.itemChanged.emit(self.list.item(0)) if self.list.count() else None

    def get_raw(self) -> list[str]:
        return list(self.get())

    def set_raw(self, raw: Any) -> None:
        self.set(raw)

    _read_only = False

    def set_read_only(self, read_only: bool) -> None:
        if read_only == self._read_only:
            return
        self._read_only = read_only
        flags = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
        self.list.blockSignals(True)  # flags are not a change of the value
        try:
            for item in self._items():
                item.setFlags(flags if read_only else flags | Qt.ItemFlag.ItemIsUserCheckable)
        finally:
            self.list.blockSignals(False)

    def connect(self, slot) -> None:  # noqa: ANN001
        self.list.itemChanged.connect(lambda *_: slot())


class Form(QObject):
    """Fields of one editor, with their labels and error lines."""

    changed = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.fields: dict[str, Field] = {}
        self._quiet = 0

    def add(self, layout: QFormLayout, label: str, field: Field, help_text: str = "") -> Field:
        """Add ``field`` under a buddy label (``&`` marks its Alt key)."""
        caption = QLabel(label)
        caption.setBuddy(field.widget)
        field.widget.setAccessibleName(label.replace("&", "").rstrip(":"))
        if help_text:
            field.widget.setToolTip(help_text)
            field.widget.setAccessibleDescription(help_text)
        layout.addRow(caption, field.row)
        self.fields[field.name] = field
        field.connect(self._field_changed)
        return field

    def _field_changed(self, *_a: object) -> None:
        if not self._quiet:
            self.changed.emit()

    def set_values(self, values: dict[str, Any]) -> None:
        self._quiet += 1
        try:
            for name, value in values.items():
                if name in self.fields:
                    self.fields[name].set(value)
        finally:
            self._quiet -= 1

    def values(self, names: Iterable[str] | None = None) -> dict[str, Any]:
        """Every field parsed; a ``ValidationError`` names each field that cannot be read."""
        out, problems = {}, []
        for name in names if names is not None else self.fields:
            try:
                out[name] = self.fields[name].get()
            except FieldInputError as exc:
                problems.append(FieldProblem(name, str(exc)))
        if problems:
            raise ValidationError(problems)
        return out

    def snapshot(self) -> dict[str, Any]:
        return {name: f.get_raw() for name, f in self.fields.items()}

    def restore(self, raw: dict[str, Any]) -> None:
        self._quiet += 1
        try:
            for name, value in raw.items():
                if name in self.fields:
                    self.fields[name].set_raw(value)
        finally:
            self._quiet -= 1
        self.changed.emit()

    def show_problems(self, error: ValidationError) -> list[str]:
        """Each problem next to its field; returns those that belong to no field here."""
        for f in self.fields.values():
            f.row.set_error("")
        loose = []
        first = None
        for name, messages in error.by_field().items():
            field = self.fields.get(name)
            if field is None:
                loose.extend(messages)
                continue
            field.row.set_error(" ".join(messages))
            first = first or field
        if first is not None:
            first.widget.setFocus()
        return loose

    def clear_problems(self) -> None:
        for f in self.fields.values():
            f.row.set_error("")

    def set_read_only(self, read_only: bool) -> None:
        self._quiet += 1
        try:
            for f in self.fields.values():
                f.set_read_only(read_only)
        finally:
            self._quiet -= 1
