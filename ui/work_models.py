"""Item models of the shelter, follow-up, dashboard and settings views.

Each is a small list-backed table model (Vorta's pattern): the rows are frozen dataclasses from
the core services, one page or one case's worth at a time, replaced whole with
``set_rows``. Columns are declared once (title, text of a row, optional colour and tooltip), so
every model answers ``DisplayRole``, ``AccessibleTextRole`` and ``ToolTipRole`` the same way.
All of them are checked with pytest-qt's ``qtmodeltester``.

Names only ever come from ``CaseRef.person_name``, which the core leaves ``None`` for roles
that may not see names; no model here looks anywhere else for one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QBrush, QColor

from models import vocab
from ui.i18n import tr

Index = QModelIndex | QPersistentModelIndex
R = TypeVar("R")

OVERDUE_COLOUR = QColor("#b3261e")  # the error colour of the window, readable on light backgrounds
DONE_COLOUR = QColor("#1e6b34")
MUTED_COLOUR = QColor("#6b6b6b")


def day_text(value: dt.date | None) -> str:
    return value.isoformat() if value else ""


def vocab_text(vocabulary: tuple[tuple[str, str], ...], value: str | None) -> str:
    return tr("Vocabulary", vocab.label(vocabulary, value)) if value else ""


@dataclass(frozen=True)
class Col(Generic[R]):
    """One column: its title, the text of a row, and optionally a colour and a tooltip."""

    title: str
    text: Callable[[R], str]
    colour: Callable[[R], QColor | None] | None = None
    tooltip: Callable[[R], str] | None = None
    align_right: bool = False


class RowsModel(QAbstractTableModel, Generic[R]):
    """Rows of plain data shown through column definitions."""

    def __init__(self, columns: Sequence[Col[R]], parent=None) -> None:  # noqa: ANN001
        super().__init__(parent)
        self.columns = list(columns)
        self._rows: list[R] = []

    def set_rows(self, rows: Sequence[R]) -> None:
        self.beginResetModel()
        self._rows = list(rows)
        self.endResetModel()

    def clear(self) -> None:
        self.set_rows([])

    def rows(self) -> list[R]:
        return list(self._rows)

    def row_at(self, row: int) -> R | None:
        return self._rows[row] if 0 <= row < len(self._rows) else None

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: N802, B008 (Qt API)
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(self.columns)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows) \
                or not 0 <= index.column() < len(self.columns):
            return None
        row, col = self._rows[index.row()], self.columns[index.column()]
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole):
            return col.text(row)
        if role == Qt.ItemDataRole.ToolTipRole:
            return col.tooltip(row) if col.tooltip else None
        if role == Qt.ItemDataRole.ForegroundRole and col.colour is not None:
            colour = col.colour(row)
            return QBrush(colour) if colour is not None else None
        if role == Qt.ItemDataRole.TextAlignmentRole and col.align_right:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def headerData(self, section: int, orientation: Qt.Orientation,  # noqa: N802
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        if orientation == Qt.Orientation.Horizontal and 0 <= section < len(self.columns):
            return self.columns[section].title
        if orientation == Qt.Orientation.Vertical and 0 <= section < len(self._rows):
            return str(section + 1)
        return None


def _name(ref: Any) -> str:
    """A case as a list shows it: number, and the name only when the core sent one."""
    return ref.person_name or ""


# --- shelter ---------------------------------------------------------------------------------------


def waiting_list_model(parent=None) -> RowsModel:  # noqa: ANN001
    """Open waiting-list entries of a facility, longest-waiting first."""
    today = dt.date.today()
    cols: list[Col] = [
        Col(tr("Shelter", "Case"), lambda e: e.case.case_number),
        Col(tr("Shelter", "Name"), lambda e: _name(e.case)),
        Col(tr("Shelter", "Waiting since"), lambda e: day_text(e.requested_on)),
        Col(tr("Shelter", "Days"), lambda e: str(max(0, (today - e.requested_on).days)), align_right=True),
        Col(tr("Shelter", "Bed held"), lambda e: tr("Shelter", "{bed}, last night {date}").format(
            bed=e.bed_label, date=day_text(e.held_until)) if e.bed_label and e.held_until >= today else ""),
        Col(tr("Shelter", "Note"), lambda e: e.note or ""),
    ]
    return RowsModel(cols, parent)


def stays_model(parent=None) -> RowsModel:  # noqa: ANN001
    """A case's stays, oldest first."""
    cols: list[Col] = [
        Col(tr("Shelter", "Facility"), lambda s: f"{s.facility_name} ({s.facility_code})"),
        Col(tr("Shelter", "Bed or room"), lambda s: s.bed_label or ""),
        Col(tr("Shelter", "Admitted"), lambda s: day_text(s.admitted)),
        Col(tr("Shelter", "Discharged"), lambda s: day_text(s.discharged) or tr("Shelter", "still placed"),
            colour=lambda s: None if s.discharged else DONE_COLOUR),
        Col(tr("Shelter", "Reason"), lambda s: vocab_text(vocab.DISCHARGE_REASONS, s.discharge_reason)),
        Col(tr("Shelter", "Nights"), lambda s: str(s.nights()), align_right=True),
        Col(tr("Shelter", "Exception"), lambda s: (s.eligibility_override or tr("Shelter", "yes"))
            if s.outside_eligibility else "",
            tooltip=lambda s: tr("Shelter", "Placed outside the facility's eligibility, with this reason.")
            if s.outside_eligibility else ""),
    ]
    return RowsModel(cols, parent)


def services_model(parent=None) -> RowsModel:  # noqa: ANN001
    """A case's services: ongoing and planned first."""
    cols: list[Col] = [
        Col(tr("Services", "Service"), lambda s: vocab_text(vocab.SERVICE_TYPES, s.service_type)),
        Col(tr("Services", "Status"), lambda s: vocab_text(vocab.SERVICE_STATUSES, s.status)),
        Col(tr("Services", "Provider"), lambda s: tr("Services", "This office")
            if s.provider_org_id is None else s.provider_name),
        Col(tr("Services", "Planned"), lambda s: _span(s.planned_start, s.planned_end)),
        Col(tr("Services", "Actual"), lambda s: _span(s.actual_start, s.actual_end)),
        Col(tr("Services", "Objectives"), lambda s: s.objectives or ""),
    ]
    return RowsModel(cols, parent)


def _span(start: dt.date | None, end: dt.date | None) -> str:
    if not start and not end:
        return ""
    return f"{day_text(start) or '…'} – {day_text(end) or '…'}"


# --- follow-up -------------------------------------------------------------------------------------


def queue_model(parent=None) -> RowsModel:  # noqa: ANN001
    """A follow-up queue (due this week, overdue)."""
    cols: list[Col] = [
        Col(tr("FollowUp", "Case"), lambda q: q.case.case_number),
        Col(tr("FollowUp", "Name"), lambda q: _name(q.case)),
        Col(tr("FollowUp", "Due"), lambda q: day_text(q.due_date)),
        Col(tr("FollowUp", "Overdue by"), lambda q: tr("FollowUp", "{n} days").format(n=q.days_overdue)
            if q.days_overdue else "", colour=lambda q: OVERDUE_COLOUR if q.days_overdue else None,
            align_right=True),
        Col(tr("FollowUp", "High risk"), lambda q: tr("FollowUp", "high risk") if q.case_high_risk else "",
            colour=lambda q: OVERDUE_COLOUR if q.case_high_risk else None),
    ]
    return RowsModel(cols, parent)


def high_risk_model(parent=None) -> RowsModel:  # noqa: ANN001
    cols: list[Col] = [
        Col(tr("FollowUp", "Case"), lambda h: h.case.case_number),
        Col(tr("FollowUp", "Name"), lambda h: _name(h.case)),
        Col(tr("FollowUp", "High risk found on"), lambda h: day_text(h.assessed_on)),
        Col(tr("FollowUp", "Next follow-up"), lambda h: day_text(h.next_followup_due) or tr("FollowUp", "none planned"),
            colour=lambda h: OVERDUE_COLOUR if h.next_followup_due is None
            or h.next_followup_due < dt.date.today() else None),
    ]
    return RowsModel(cols, parent)


def followup_state(f: Any, today: dt.date | None = None) -> str:
    """done / overdue / due / cancelled: the state the timeline shows."""
    today = today or dt.date.today()
    if f.status == "Done":
        return "done"
    if f.status == "Cancelled":
        return "cancelled"
    return "overdue" if f.due_date < today else "due"


STATE_TEXT = {
    "done": ("FollowUp", "done"),
    "overdue": ("FollowUp", "overdue"),
    "due": ("FollowUp", "to do"),
    "cancelled": ("FollowUp", "cancelled"),
}
STATE_COLOUR = {"done": DONE_COLOUR, "overdue": OVERDUE_COLOUR, "due": None, "cancelled": MUTED_COLOUR}


def state_text(state: str) -> str:
    context, text = STATE_TEXT[state]
    return tr(context, text)


def _scores(f: Any) -> str:
    parts = []
    for label, value in ((tr("FollowUp", "economic"), f.score_economic), (tr("FollowUp", "social"), f.score_social),
                         (tr("FollowUp", "psychosocial"), f.score_psychosocial)):
        if value is not None:
            parts.append(f"{label} {value}")
    return ", ".join(parts)


def timeline_model(parent=None) -> RowsModel:  # noqa: ANN001
    """A case's follow-ups in date order, each with its state (done, to do, overdue, cancelled)."""
    cols: list[Col] = [
        Col(tr("FollowUp", "Due"), lambda f: day_text(f.due_date)),
        Col(tr("FollowUp", "State"), lambda f: state_text(followup_state(f)),
            colour=lambda f: STATE_COLOUR[followup_state(f)]),
        Col(tr("FollowUp", "Done on"), lambda f: day_text(f.done_date) or day_text(f.cancelled_on)),
        Col(tr("FollowUp", "How"), lambda f: vocab_text(vocab.FOLLOWUP_MODES, f.mode)),
        Col(tr("FollowUp", "By"), lambda f: f.done_by or ""),
        Col(tr("FollowUp", "Scores"), _scores),
        Col(tr("FollowUp", "Risk"), lambda f: vocab_text(vocab.RISK_LEVELS, f.risk_level),
            colour=lambda f: OVERDUE_COLOUR if f.risk_level == "High" else None),
        Col(tr("FollowUp", "Outcome"), lambda f: f.outcome or "",
            tooltip=lambda f: "\n".join(x for x in ((f.outcome or ""), (f.next_action or "")) if x)),
    ]
    return RowsModel(cols, parent)


# --- settings --------------------------------------------------------------------------------------


def plan_definitions_model(parent=None) -> RowsModel:  # noqa: ANN001
    cols: list[Col] = [
        Col(tr("Settings", "Plan"), lambda d: d.name),
        Col(tr("Settings", "Follow-ups after (months)"), lambda d: ", ".join(str(m) for m in d.months)),
        Col(tr("Settings", "Default"), lambda d: tr("Settings", "default") if d.is_default else ""),
        Col(tr("Settings", "In use"), lambda d: tr("Settings", "yes") if d.active else tr("Settings", "retired"),
            colour=lambda d: None if d.active else MUTED_COLOUR),
    ]
    return RowsModel(cols, parent)


def facilities_model(parent=None) -> RowsModel:  # noqa: ANN001
    cols: list[Col] = [
        Col(tr("Settings", "Code"), lambda f: f.code),
        Col(tr("Settings", "Name"), lambda f: f.name),
        Col(tr("Settings", "Kind"), lambda f: vocab_text(vocab.FACILITY_KINDS, f.kind)),
        Col(tr("Settings", "Places"), lambda f: str(f.capacity), align_right=True),
        Col(tr("Settings", "Beds or rooms"), lambda f: str(sum(1 for b in f.beds if b.active)), align_right=True),
        Col(tr("Settings", "Takes"), lambda f: f.eligibility_text()),
        Col(tr("Settings", "In service"), lambda f: tr("Settings", "yes") if f.active
            else tr("Settings", "closed {date}").format(date=day_text(f.closed_on)),
            colour=lambda f: None if f.active else MUTED_COLOUR),
    ]
    return RowsModel(cols, parent)


def beds_model(parent=None) -> RowsModel:  # noqa: ANN001
    cols: list[Col] = [
        Col(tr("Settings", "Bed or room"), lambda b: b.label),
        Col(tr("Settings", "In use"), lambda b: tr("Settings", "yes") if b.active else tr("Settings", "retired"),
            colour=lambda b: None if b.active else MUTED_COLOUR),
    ]
    return RowsModel(cols, parent)


def organisations_model(parent=None) -> RowsModel:  # noqa: ANN001
    cols: list[Col] = [
        Col(tr("Settings", "Name"), lambda o: o.name),
        Col(tr("Settings", "Code"), lambda o: o.code or ""),
        Col(tr("Settings", "Type (HTCDS)"), lambda o: vocab_text(vocab.ORG_TYPES, o.org_type)),
        Col(tr("Settings", "Country"), lambda o: o.country or ""),
        Col(tr("Settings", "Active"), lambda o: tr("Settings", "yes") if o.active else tr("Settings", "no"),
            colour=lambda o: None if o.active else MUTED_COLOUR),
    ]
    return RowsModel(cols, parent)


# --- dashboard -------------------------------------------------------------------------------------


class FigureTableModel(QAbstractTableModel):
    """A chart's numbers as a table: one row per category, one column per series."""

    def __init__(self, parent=None) -> None:  # noqa: ANN001
        super().__init__(parent)
        self._categories: list[str] = []
        self._series: list[str] = []
        self._values: list[list[float | int | None]] = []
        self._category_title = ""

    def set_figures(self, category_title: str, categories: Sequence[str], series: Sequence[str],
                    values: Sequence[Sequence[float | int | None]]) -> None:
        """``values[row][column]``: the value of category ``row`` in series ``column``."""
        self.beginResetModel()
        self._category_title = category_title
        self._categories = list(categories)
        self._series = list(series)
        self._values = [list(v) for v in values]
        self.endResetModel()

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(self._categories)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else 1 + len(self._series)

    def value(self, row: int, column: int) -> float | int | None:
        return self._values[row][column]

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._categories) \
                or not 0 <= index.column() <= len(self._series):
            return None
        r, c = index.row(), index.column()
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole):
            if c == 0:
                return self._categories[r]
            v = self._values[r][c - 1]
            if v is None:
                return "—"
            return f"{v:,.1f}" if isinstance(v, float) and not float(v).is_integer() else f"{int(v):,}"
        if role == Qt.ItemDataRole.TextAlignmentRole and c > 0:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def headerData(self, section: int, orientation: Qt.Orientation,  # noqa: N802
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        if orientation == Qt.Orientation.Horizontal:
            if section == 0:
                return self._category_title
            if 1 <= section <= len(self._series):
                return self._series[section - 1]
        elif 0 <= section < len(self._categories):
            return str(section + 1)
        return None
