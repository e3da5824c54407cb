"""The Follow-up page: the work queues — due this week, overdue (oldest first), high risk.

Each queue is a page of rows from ``tipdesk.services.followup`` (ordered and counted in SQL);
Enter or a double click opens the case at its Follow-up section, and a visit can be recorded
straight from the queue. The navigation's badges show the same counts (``queue_counts``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6.QtCore import QModelIndex, Qt, Signal, Slot
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from ui.followup_dialogs import VisitDialog
from ui.i18n import tr
from ui.pages.base import Page
from ui.pages.shelter import open_case_at
from ui.widgets import error_box, heading
from ui.work_models import RowsModel, high_risk_model, queue_model

if TYPE_CHECKING:
    from tipdesk.vault.register import Register
    from ui.operations import OperationRunner

PAGE_ROWS = 50
QUEUES = ("due", "overdue", "high_risk")


@dataclass(frozen=True)
class QueueCounts:
    due_this_week: int
    overdue: int
    high_risk: int


def queue_counts(reg: Register, today: dt.date | None = None) -> QueueCounts:
    """How many rows each queue holds (the badges of the navigation); runs on a worker."""
    from tipdesk.services import followup

    return QueueCounts(followup.due_this_week(reg, today, limit=1).total, followup.overdue(reg, today, limit=1).total,
                       followup.high_risk(reg, limit=1).total)


def _without_names(model: RowsModel, names_visible: bool) -> RowsModel:
    if not names_visible:
        model.columns = [c for c in model.columns if c.title != tr("FollowUp", "Name")]
    return model


class QueueView(QWidget):
    """One queue: a page of rows, the pager, and what can be done with the selected row."""

    def __init__(self, page: FollowUpPage, key: str, empty_text: str) -> None:
        super().__init__(page)
        self.page, self.key = page, key
        self.offset = 0
        self.total = 0
        names = page.reg.actor.can("case.read_pii")
        self.model = _without_names(high_risk_model(self) if key == "high_risk" else queue_model(self), names)
        col = QVBoxLayout(self)
        self.view = QTableView(self)
        self.view.setObjectName(f"queue_{key}")
        self.view.setModel(self.model)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.view.setTabKeyNavigation(False)
        self.view.verticalHeader().hide()
        self.view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.view.horizontalHeader().setStretchLastSection(True)
        self.view.activated.connect(self._activated)
        self.empty = QLabel(empty_text, self)
        self.empty.setWordWrap(True)
        self.empty.setEnabled(False)
        self.empty.hide()
        col.addWidget(self.view, 1)
        col.addWidget(self.empty)
        row = QHBoxLayout()
        self.open_button = QPushButton(tr("FollowUp", "&Open the case"), self)
        self.record_button = QPushButton(tr("FollowUp", "&Record the visit…"), self)
        self.previous_button = QPushButton(tr("FollowUp", "◀ &Previous"), self)
        self.next_button = QPushButton(tr("FollowUp", "N&ext ▶"), self)
        self.position = QLabel(self)
        self.position.setAccessibleName(tr("FollowUp", "Rows shown"))
        for b, name, slot in ((self.open_button, tr("FollowUp", "Open the case"), self.open_selected),
                              (self.record_button, tr("FollowUp", "Record the visit"), self.record_selected),
                              (self.previous_button, tr("FollowUp", "Previous page"), self.previous_page),
                              (self.next_button, tr("FollowUp", "Next page"), self.next_page)):
            b.setAccessibleName(name)
            b.clicked.connect(slot)
        row.addWidget(self.open_button)
        row.addWidget(self.record_button)
        row.addStretch(1)
        row.addWidget(self.previous_button)
        row.addWidget(self.position)
        row.addWidget(self.next_button)
        col.addLayout(row)
        self.record_button.setVisible(key != "high_risk" and page.can_write)
        self.view.selectionModel().selectionChanged.connect(self._update_buttons)
        self._update_buttons()

    def show_page(self, rows, total: int, offset: int) -> None:  # noqa: ANN001
        self.model.set_rows(rows)
        self.total, self.offset = total, offset
        self.view.setVisible(total > 0)
        self.empty.setVisible(total == 0)
        first, last = (offset + 1, offset + len(rows)) if rows else (0, 0)
        self.position.setText(tr("FollowUp", "{first}–{last} of {total:,}").format(first=first, last=last, total=total))
        self._update_buttons()

    def selected(self):  # noqa: ANN201
        rows = self.view.selectionModel().selectedRows() if self.view.selectionModel() else []
        return self.model.row_at(rows[0].row()) if rows else None

    @Slot()
    def _update_buttons(self, *_a: object) -> None:
        chosen = self.selected() is not None
        self.open_button.setEnabled(chosen)
        self.record_button.setEnabled(chosen)
        self.previous_button.setEnabled(self.offset > 0)
        self.next_button.setEnabled(self.offset + PAGE_ROWS < self.total)

    def _activated(self, index: QModelIndex) -> None:
        row = self.model.row_at(index.row())
        if row is not None:
            open_case_at(self, row.case.case_id, "followup")

    @Slot()
    def open_selected(self) -> None:
        row = self.selected()
        if row is not None:
            open_case_at(self, row.case.case_id, "followup")

    @Slot()
    def record_selected(self) -> VisitDialog | None:
        row = self.selected()
        if row is None or self.key == "high_risk" or not self.page.can_write:
            return None
        dialog = VisitDialog(self.page.reg, self.page.runner, case_id=row.case.case_id, case_number=row.case.case_number,
                             followup_id=row.followup_id, due=row.due_date, staff=self.page.staff, parent=self)
        dialog.succeeded.connect(lambda _f: self.page.say(tr("FollowUp", "The follow-up of {case} was recorded.").format(
            case=row.case.case_number)))
        dialog.open()
        return dialog

    @Slot()
    def previous_page(self) -> None:
        self.page.load(self.key, max(0, self.offset - PAGE_ROWS))

    @Slot()
    def next_page(self) -> None:
        if self.offset + PAGE_ROWS < self.total:
            self.page.load(self.key, self.offset + PAGE_ROWS)


class FollowUpPage(Page):
    key = "followup"
    loaded = Signal(str)  # a queue has been shown

    def __init__(self, reg: Register, runner: OperationRunner, parent: QWidget | None = None) -> None:
        super().__init__(reg, runner, parent)
        self.setObjectName("FollowUpPage")
        self.can_write = reg.actor.can("followup.write")
        self.staff: list = []
        box = QVBoxLayout(self)
        box.addWidget(heading(tr("FollowUp", "Follow-up"), self))
        intro = QLabel(tr("FollowUp", "Follow-ups still to do, from every case's plan. A follow-up is overdue from the "
                                      "day after it was due. Enter opens the case at its Follow-up section."), self)
        intro.setWordWrap(True)
        box.addWidget(intro)
        self.tabs = QTabWidget(self)
        self.tabs.setObjectName("queues")
        self.tabs.setAccessibleName(tr("FollowUp", "Follow-up queues"))
        self.queues = {
            "due": QueueView(self, "due", tr("FollowUp", "Nothing is due from today to the end of the week.")),
            "overdue": QueueView(self, "overdue", tr("FollowUp", "No follow-up is overdue.")),
            "high_risk": QueueView(self, "high_risk", tr("FollowUp", "No open case is flagged high risk.")),
        }
        for key in QUEUES:
            self.tabs.addTab(self.queues[key], self._tab_title(key, None))
        box.addWidget(self.tabs, 1)
        self.message = QLabel(self)
        self.message.setObjectName("followupMessage")
        self.message.setWordWrap(True)
        box.addWidget(self.message)
        sc = QShortcut(QKeySequence("F5"), self)
        sc.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        sc.activated.connect(self.refresh)
        self.runner.changed.connect(self._something_changed)
        self._load_staff()
        self.refresh()

    def _tab_title(self, key: str, total: int | None) -> str:
        names = {"due": tr("FollowUp", "&Due this week"), "overdue": tr("FollowUp", "O&verdue"),
                 "high_risk": tr("FollowUp", "&High risk")}
        return names[key] if total is None else f"{names[key]} ({total:,})"

    def _load_staff(self) -> None:
        if not self.can_write:
            return
        from tipdesk.services.cases import list_owners

        reg = self.reg
        self.runner.run(lambda _p: list_owners(reg), lambda found: setattr(self, "staff", found), lambda exc: None)

    def say(self, text: str) -> None:
        self.message.setText(text)

    @Slot()
    def refresh(self) -> None:
        for key in QUEUES:
            self.load(key, self.queues[key].offset)

    def load(self, key: str, offset: int = 0) -> None:
        from tipdesk.services import followup

        reg = self.reg
        calls = {
            "due": lambda: followup.due_this_week(reg, offset=offset, limit=PAGE_ROWS),
            "overdue": lambda: followup.overdue(reg, offset=offset, limit=PAGE_ROWS),
            "high_risk": lambda: followup.high_risk(reg, offset=offset, limit=PAGE_ROWS),
        }
        call = calls[key]
        self.runner.run(lambda _p: call(), lambda page: self._shown(key, page), lambda exc: error_box(self, exc),
                        label=tr("FollowUp", "Reading the follow-ups…"), parent=self)

    def _shown(self, key: str, page) -> None:  # noqa: ANN001
        if page.total and page.offset >= page.total:  # the last page emptied: show the one before
            self.load(key, max(0, page.total - PAGE_ROWS))
            return
        self.queues[key].show_page(page.rows, page.total, page.offset)
        self.tabs.setTabText(QUEUES.index(key), self._tab_title(key, page.total))
        self.loaded.emit(key)

    def _something_changed(self, what: set) -> None:
        if what & {"followups", "cases", "shelter"}:
            self.refresh()

    def activated(self) -> None:
        self.refresh()
