"""The Cases page: the case list (search, filters, sorting, lazy rows) and one editor tab per
open case.

A list first shows its opening page and its length (one query that stops at the page's last
row); the ids of all its rows are read only when someone scrolls past that page, and rows are
fetched a page at a time. Typing in the search box starts a search after a short pause; while
one runs, newer keystrokes are merged into the next one, so the list keeps up with typing
without queuing stale searches.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import replace
from typing import TYPE_CHECKING

from PySide6.QtCore import QModelIndex, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QStackedWidget,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from models import vocab
from tipdesk.errors import ValidationError
from ui.case_editor import DRAFT_KIND, CaseEditor, EditorContext
from ui.case_table import CaseTableModel, FastTextDelegate
from ui.i18n import tr
from ui.pages.base import Page, PendingDraft
from ui.widgets import ask, error_box

if TYPE_CHECKING:
    from tipdesk.services.drafts import DraftInfo
    from tipdesk.vault.register import Register
    from ui.operations import OperationRunner

SEARCH_PAUSE_MS = 20  # the pause after a keystroke before searching; a burst merges further
SPARE_AFTER_QUIET_S = 1.0  # no keystroke for this long: time to build the next editor ahead


def load_context(reg: Register) -> EditorContext:
    """Partners, owners and screening settings: read once when the page opens (worker)."""
    from tipdesk.services import organisations, screening
    from tipdesk.services.cases import list_owners
    from tipdesk.services.common import can_see_pii
    from tipdesk.services.office import office_info

    can_write = reg.actor.can("case.write")
    return EditorContext(
        organisations=tuple(organisations.list_organisations(reg)),
        owners=tuple(list_owners(reg)) if can_write else (),
        screening_settings=screening.get_screening_settings(reg),
        can_write=can_write, names_visible=can_see_pii(reg.actor), office_code=office_info(reg).code,
    )


class CasesPage(Page):
    key = "cases"
    list_updated = Signal()  # the list shows the result of the latest search

    def __init__(self, reg: Register, runner: OperationRunner, parent: QWidget | None = None) -> None:
        super().__init__(reg, runner, parent)
        from tipdesk.services import search
        from tipdesk.services.common import can_see_pii

        self.setObjectName("CasesPage")
        self._search = search
        self.names_visible = can_see_pii(reg.actor)
        self.can_write = reg.actor.can("case.write")
        self.ctx = load_context(reg)  # small reads; the editors need them at once
        self.filter = search.CaseFilter()
        self.sort_key = "registration_date"
        self.descending = True
        self._busy = False
        self._again = False
        self._requested_at = 0.0
        self.last_search_ms = 0.0
        self.total = 0
        self._everything: int | None = None  # cases in the register (recounted after changes)
        self._list_token = 0
        self._spare: CaseEditor | None = None
        self._last_keystroke = 0.0

        box = QVBoxLayout(self)
        self.tabs = QTabWidget(self)
        self.tabs.setObjectName("caseTabs")
        self.tabs.setTabsClosable(True)
        self.tabs.setDocumentMode(True)
        self.tabs.setAccessibleName(tr("Cases", "Case list and open cases"))
        self.tabs.tabCloseRequested.connect(self.close_tab)
        box.addWidget(self.tabs)
        self.list_tab = self._build_list()
        self.tabs.addTab(self.list_tab, tr("Cases", "Case list"))
        self.tabs.tabBar().setTabButton(0, self.tabs.tabBar().ButtonPosition.RightSide, None)
        self.tabs.tabBar().setTabButton(0, self.tabs.tabBar().ButtonPosition.LeftSide, None)

        for keys, slot in (("Ctrl+F", self.focus_search), ("Ctrl+N", self.new_case),
                           ("Ctrl+W", self.close_current_tab)):
            sc = QShortcut(QKeySequence(keys), self)
            sc.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            sc.activated.connect(slot)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(SEARCH_PAUSE_MS)
        self._timer.timeout.connect(self.refresh)
        self.runner.changed.connect(self._something_changed)
        self.refresh()

    # --- the list --------------------------------------------------------------------------------

    def _build_list(self) -> QWidget:
        page = QWidget()
        col = QVBoxLayout(page)
        top = QHBoxLayout()
        self.search_box = QLineEdit(page)
        self.search_box.setObjectName("caseSearch")
        self.search_box.setClearButtonEnabled(True)
        self.search_box.setPlaceholderText(
            tr("Cases", "Search names, aliases, case numbers, police references, notes…  (Ctrl+F)")
            if self.names_visible else tr("Cases", "Search case numbers…  (Ctrl+F)"))
        self.search_box.setAccessibleName(tr("Cases", "Search cases"))
        self.search_box.textEdited.connect(self._typed)
        self.search_box.returnPressed.connect(self.open_selected)
        label = QLabel(tr("Cases", "&Search:"), page)
        label.setBuddy(self.search_box)
        top.addWidget(label)
        top.addWidget(self.search_box, 1)
        self.new_button = QPushButton(tr("Cases", "&New case"), page)
        self.new_button.setObjectName("newCase")
        self.new_button.setToolTip(tr("Cases", "Register a new case (Ctrl+N)"))
        self.new_button.setAccessibleName(tr("Cases", "New case"))
        self.new_button.clicked.connect(self.new_case)
        self.new_button.setVisible(self.can_write)
        top.addWidget(self.new_button)
        col.addLayout(top)

        grid = QGridLayout()
        self.filters: dict[str, QWidget] = {}

        def combo(key: str, label: str, options: list[tuple[object, str]], r: int, c: int) -> QComboBox:
            w = QComboBox(page)
            w.addItem(tr("Cases", "any"), None)
            for value, text in options:
                w.addItem(text, value)
            w.setAccessibleName(label.replace("&", "").rstrip(":"))
            w.currentIndexChanged.connect(self._filters_changed)
            lab = QLabel(label, page)
            lab.setBuddy(w)
            grid.addWidget(lab, r, c * 2)
            grid.addWidget(w, r, c * 2 + 1)
            self.filters[key] = w
            return w

        voc = lambda v: [(name, tr("Vocabulary", text)) for name, text in v]  # noqa: E731
        combo("trafficking_status", tr("Cases", "Trafficking s&tatus:"), voc(vocab.TRAFFICKING_STATUSES), 0, 0)
        combo("case_status", tr("Cases", "Case stat&us:"), voc(vocab.CASE_STATUSES), 0, 1)
        combo("sex", tr("Cases", "Se&x:"), [(s, tr("Vocabulary", s)) for s in vocab.SEXES], 0, 2)
        combo("age_group", tr("Cases", "A&ge group:"), [("0-17", tr("Cases", "child (0–17)")),
                                                        ("18+", tr("Cases", "adult (18+)")),
                                                        ("unknown", tr("Cases", "unknown"))], 0, 3)
        combo("exploitation_category", tr("Cases", "E&xploitation:"),
              [(c, tr("Vocabulary", c)) for c in vocab.EXPLOITATION_CATEGORIES], 1, 0)
        owners = [(o.id, o.username) for o in self.ctx.owners]
        combo("owner_id", tr("Cases", "O&wner:"), [(0, tr("Cases", "no owner")), *owners], 1, 1)
        for key, text, c in (("registered_from", tr("Cases", "Registered &from:"), 2),
                             ("registered_to", tr("Cases", "Registered t&o:"), 3)):
            edit = QLineEdit(page)
            edit.setPlaceholderText(tr("Cases", "YYYY-MM-DD"))
            edit.setMaxLength(10)
            edit.setAccessibleName(text.replace("&", "").rstrip(":"))
            edit.editingFinished.connect(self._filters_changed)
            lab = QLabel(text, page)
            lab.setBuddy(edit)
            grid.addWidget(lab, 1, c * 2)
            grid.addWidget(edit, 1, c * 2 + 1)
            self.filters[key] = edit
        self.overdue = QCheckBox(tr("Cases", "Only with an o&verdue follow-up"), page)
        self.overdue.setAccessibleName(tr("Cases", "Only with an overdue follow-up"))
        self.overdue.toggled.connect(self._filters_changed)
        grid.addWidget(self.overdue, 2, 0, 1, 3)
        self.clear_button = QPushButton(tr("Cases", "C&lear filters"), page)
        self.clear_button.setAccessibleName(tr("Cases", "Clear filters"))
        self.clear_button.clicked.connect(self.clear_filters)
        grid.addWidget(self.clear_button, 2, 7)
        col.addLayout(grid)
        self.filter_error = QLabel(page)
        self.filter_error.setStyleSheet("color: #b3261e;")
        self.filter_error.hide()
        col.addWidget(self.filter_error)

        self.count_label = QLabel(page)
        self.count_label.setObjectName("caseCount")
        self.count_label.setAccessibleName(tr("Cases", "How many cases"))
        col.addWidget(self.count_label)
        self.model = CaseTableModel(lambda ids: self._search.summaries(self.reg, ids), self.names_visible, self)
        self.model.ids_needed.connect(self._ids_needed, Qt.ConnectionType.QueuedConnection)
        # Rows past the opening page are read on a worker: painting a screenful never waits for
        # the register (a page shows "…" for the few milliseconds the read takes).
        self.model.read_in_background = True
        self.model.pages_needed.connect(self._read_pages, Qt.ConnectionType.QueuedConnection)
        self._reading_pages = False
        self.view = QTableView(page)
        self.view.setObjectName("caseList")
        self.view.setModel(self.model)
        self.view.setItemDelegate(FastTextDelegate(self.view, self.model.display_text))
        self.view.setAccessibleName(tr("Cases", "Cases"))
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.view.setTabKeyNavigation(False)
        self.view.setSortingEnabled(False)
        self.view.setWordWrap(False)
        self.view.verticalHeader().hide()
        self.view.verticalHeader().setDefaultSectionSize(self.view.fontMetrics().height() + 8)
        self.view.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        header = self.view.horizontalHeader()
        header.setSectionsClickable(True)
        header.setSortIndicatorShown(True)
        header.sectionClicked.connect(self._header_clicked)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        widths = {"case_number": 125, "name": 200, "sex": 62, "age_group": 95, "status": 175,
                  "exploitation": 150, "registered": 88, "owner": 90}
        for i, c in enumerate(self.model.columns):
            if c.key in widths:
                self.view.setColumnWidth(i, widths[c.key])
        self._show_sort_indicator()
        self.view.activated.connect(self._row_activated)
        self.empty = QLabel(page)
        self.empty.setObjectName("emptyState")
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setWordWrap(True)
        self.empty.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.list_stack = QStackedWidget(page)
        self.list_stack.addWidget(self.view)
        self.list_stack.addWidget(self.empty)
        col.addWidget(self.list_stack, 1)
        return page

    def _show_sort_indicator(self) -> None:
        for i, c in enumerate(self.model.columns):
            if c.sort == self.sort_key:
                self.view.horizontalHeader().setSortIndicator(
                    i, Qt.SortOrder.DescendingOrder if self.descending else Qt.SortOrder.AscendingOrder)

    @Slot(int)
    def _header_clicked(self, section: int) -> None:
        column = self.model.columns[section]
        if column.sort is None:
            self._show_sort_indicator()  # not sortable: keep showing the real order
            return
        if column.sort == self.sort_key:
            self.descending = not self.descending
        else:
            self.sort_key, self.descending = column.sort, column.sort in ("registration_date", "next_followup_due")
        self._show_sort_indicator()
        self.refresh()

    @Slot()
    def focus_search(self) -> None:
        self.tabs.setCurrentIndex(0)
        self.search_box.setFocus()
        self.search_box.selectAll()

    def _typed(self, _text: str) -> None:
        self._requested_at = self._last_keystroke = time.perf_counter()
        self._timer.start()

    def _read_filter(self):  # noqa: ANN202
        f = self.filters
        values = {}
        for key in ("trafficking_status", "case_status", "sex", "age_group", "exploitation_category"):
            v = f[key].currentData()
            values[key] = (v,) if v is not None else ()
        owner = f["owner_id"].currentData()
        problems = []
        dates = {}
        for key in ("registered_from", "registered_to"):
            text = f[key].text().strip()
            try:
                dates[key] = dt.date.fromisoformat(text) if text else None
            except ValueError:
                problems.append(tr("Cases", "Write the date as year-month-day, e.g. 2026-03-14."))
                dates[key] = None
        self.filter_error.setText(" ".join(sorted(set(problems))))
        self.filter_error.setVisible(bool(problems))
        return replace(self._search.CaseFilter(), text=self.search_box.text(), owner_id=owner,
                       overdue_followup=self.overdue.isChecked(), **values, **dates)

    @Slot()
    def _filters_changed(self, *_a: object) -> None:
        self._requested_at = time.perf_counter()
        self.refresh()

    @Slot()
    def clear_filters(self) -> None:
        for key, w in self.filters.items():
            w.blockSignals(True)
            if isinstance(w, QComboBox):
                w.setCurrentIndex(0)
            else:
                w.clear()
            w.blockSignals(False)
        self.overdue.blockSignals(True)
        self.overdue.setChecked(False)
        self.overdue.blockSignals(False)
        self.search_box.clear()
        self.refresh()

    @Slot()
    def refresh(self) -> None:
        """Run the search for the current text, filters and sort (merged while one runs)."""
        if self._busy:
            self._again = True
            return
        self.filter = self._read_filter()
        flt, sort, desc, reg = self.filter, self.sort_key, self.descending, self.reg
        search = self._search
        self._busy = True
        self._again = False
        started = self._requested_at or time.perf_counter()
        recount = self._everything is None
        from ui.case_table import PAGE_SIZE

        def op(_p):  # noqa: ANN001, ANN202
            everything = search.count_cases(reg) if recount else None
            # The opening page and the total only: the query stops at the page's last row, even
            # when one letter matches a tenth of the register. The other ids are read when
            # someone scrolls past this page.
            page = search.list_cases(reg, flt, sort=sort, descending=desc, limit=PAGE_SIZE)
            return page.rows, page.total, everything

        self.runner.run(op, lambda result: self._listed(result, started, (flt, sort, desc)),
                        self._list_failed, label=tr("Cases", "Searching…"), parent=self)

    def _listed(self, result, started: float, query) -> None:  # noqa: ANN001
        rows, total, everything = result
        self._busy = False
        if everything is not None:
            self._everything = everything
        selected = self.selected_case_id()
        self._list_token += 1
        self.model.set_first_page(rows, total)
        self._query = query
        self.total = total
        self._show_counts(self._everything or 0)
        if selected is not None and (row := self.model.row_of(selected)) >= 0:
            self.view.selectRow(row)
        self.last_search_ms = (time.perf_counter() - started) * 1000
        self._requested_at = 0.0
        if self._again:
            self.refresh()
        else:
            self.list_updated.emit()
            if self._spare is None:
                QTimer.singleShot(200, self._prepare_spare)

    @Slot()
    def _ids_needed(self) -> None:
        """Someone scrolled past the first page: fetch the ids of the whole list."""
        flt, sort, desc = self._query
        token = self._list_token
        reg, search = self.reg, self._search

        def got(ids: list[int]) -> None:
            if token == self._list_token and not self.model.attach_ids(ids):
                self.refresh()  # the register changed in between: list again

        self.runner.run(lambda _p: search.case_ids(reg, flt, sort=sort, descending=desc), got,
                        lambda exc: None)

    @Slot()
    def _read_pages(self) -> None:
        """Read the newest page run the list is waiting for, one read at a time."""
        if self._reading_pages or self.reg is None:
            return
        wanted = self.model.next_wanted()
        if wanted is None:
            return
        first, ids = wanted
        token, reg, search = self._list_token, self.reg, self._search
        self._reading_pages = True

        def read(_p):  # noqa: ANN001, ANN202
            start = time.perf_counter()
            rows = search.summaries(reg, ids)
            return rows, (time.perf_counter() - start) * 1000

        def done(result) -> None:  # noqa: ANN001
            self._reading_pages = False
            if token == self._list_token:
                rows, ms = result
                self.model.attach_pages(first, ids, rows, ms)
            self._read_pages()  # what the list asked for meanwhile

        def failed(_exc: BaseException) -> None:
            self._reading_pages = False

        self.runner.run(read, done, failed)

    def _list_failed(self, exc: BaseException) -> None:
        self._busy = False
        if isinstance(exc, ValidationError | Exception) and hasattr(exc, "message"):
            self.filter_error.setText(str(exc))
            self.filter_error.show()
        else:
            error_box(self, exc)
        if self._again:
            self.refresh()

    def _show_counts(self, everything: int) -> None:
        searching = bool(self.filter.text.strip()) or self.filter != replace(self._search.CaseFilter(),
                                                                             text=self.filter.text)
        if everything == 0:
            self.count_label.setText("")
            self.empty.setText(tr("Cases", "No cases yet.\n\nPress Ctrl+N (or New case) to register the first one.")
                               if self.can_write else tr("Cases", "No cases yet."))
            self.list_stack.setCurrentWidget(self.empty)
            return
        if self.total == 0:
            self.count_label.setText(tr("Cases", "No case matches."))
            self.empty.setText(tr("Cases", "No case matches this search and these filters.\n\nCheck the spelling, "
                                           "search for part of a name or a case number, or press Clear filters."))
            self.list_stack.setCurrentWidget(self.empty)
            return
        self.list_stack.setCurrentWidget(self.view)
        if searching:
            self.count_label.setText(tr("Cases", "{n:,} of {all:,} cases match.").format(n=self.total, all=everything))
        else:
            self.count_label.setText(tr("Cases", "{n:,} cases. Newest first; click a column title to sort.").format(
                n=self.total))

    def selected_case_id(self) -> int | None:
        rows = self.view.selectionModel().selectedRows() if self.view.selectionModel() else []
        return self.model.id_at(rows[0].row()) if rows else None

    @Slot()
    def open_selected(self) -> None:
        case_id = self.selected_case_id()
        if case_id is None and self.model.rowCount() == 1:
            case_id = self.model.id_at(0)
        if case_id is not None:
            self.open_case(case_id)

    @Slot(QModelIndex)
    def _row_activated(self, index: QModelIndex) -> None:
        case_id = self.model.id_at(index.row())
        if case_id is not None:
            self.open_case(case_id)

    def _something_changed(self, what: set) -> None:
        if "cases" in what:
            self._everything = None
            self.model.invalidate_rows()
            self.refresh()

    # --- editors -----------------------------------------------------------------------------------

    def editors(self) -> list[CaseEditor]:
        return [w for i in range(1, self.tabs.count()) if isinstance(w := self.tabs.widget(i), CaseEditor)]

    def open_case(self, case_id: int, then=None) -> None:  # noqa: ANN001
        """Open (or bring forward) the editor of a case; ``then(editor)`` once it shows."""
        for i in range(1, self.tabs.count()):
            w = self.tabs.widget(i)
            if isinstance(w, CaseEditor) and w.case_id == case_id:
                self.tabs.setCurrentIndex(i)
                if then:
                    then(w)
                return
        from tipdesk.services.cases import get_case

        reg = self.reg

        def opened(detail) -> None:  # noqa: ANN001
            editor = self._add_editor(detail)
            if then:
                then(editor)

        self.runner.run(lambda _p: get_case(reg, case_id), opened, lambda exc: error_box(self, exc),
                        label=tr("Cases", "Opening the case…"), parent=self)

    def _prepare_spare(self) -> None:
        """Build an empty editor ahead of time, so that opening a case only fills it in.

        Building one takes the window a moment: never while someone is typing a search (it
        would hold up the next keystroke's result), but after a second without one.
        """
        if self._spare is not None or self.reg is None:
            return
        quiet = time.perf_counter() - self._last_keystroke
        if self._busy or self._timer.isActive() or quiet < SPARE_AFTER_QUIET_S:
            QTimer.singleShot(int(1000 * max(0.2, SPARE_AFTER_QUIET_S - quiet)), self._prepare_spare)
            return
        self._spare = CaseEditor(self.reg, self.runner, self.ctx, None, self)
        self._spare.hide()

    def _add_editor(self, detail) -> CaseEditor:  # noqa: ANN001
        if self._spare is not None:
            editor, self._spare = self._spare, None
            editor.load(detail)
        else:
            editor = CaseEditor(self.reg, self.runner, self.ctx, detail, self)
        QTimer.singleShot(300, self._prepare_spare)
        index = self.tabs.addTab(editor, editor.tab_title())
        editor.title_changed.connect(lambda t, e=editor: self._retitle(e, t))
        editor.saved.connect(lambda _d, e=editor: self._retitle(e, e.tab_title()))
        self.tabs.setCurrentIndex(index)
        editor.sections.setFocus()
        return editor

    def _retitle(self, editor: CaseEditor, title: str) -> None:
        i = self.tabs.indexOf(editor)
        if i > 0:
            self.tabs.setTabText(i, title)

    @Slot()
    def new_case(self) -> None:
        if not self.can_write:
            return
        editor = self._add_editor(None)
        editor.form.fields["given_names"].widget.setFocus()

    @Slot()
    def close_current_tab(self) -> None:
        if self.tabs.currentIndex() > 0:
            self.close_tab(self.tabs.currentIndex())

    @Slot(int)
    def close_tab(self, index: int) -> None:
        editor = self.tabs.widget(index)
        if index == 0 or not isinstance(editor, CaseEditor):
            return

        def close() -> None:
            i = self.tabs.indexOf(editor)
            if i > 0:
                self.tabs.removeTab(i)
                editor.deleteLater()

        if editor.has_unsaved():
            ask(self, tr("Cases", "Unsaved changes"),
                tr("Cases", "{case} has changes that are not saved. Close it and lose them?").format(
                    case=editor.tab_title()),
                tr("Cases", "Close and lose them"), close, destructive=True, no_text=tr("Cases", "Keep editing"))
        else:
            close()

    # --- drafts and the lock -----------------------------------------------------------------------

    def has_unsaved(self) -> bool:
        return any(e.has_unsaved() for e in self.editors())

    def pending_drafts(self) -> list[PendingDraft]:
        return [PendingDraft(DRAFT_KIND, e.case_id, e.draft_payload()) for e in self.editors() if e.has_unsaved()]

    def draft_kinds(self) -> tuple[str, ...]:
        return (DRAFT_KIND,)

    def restore_draft(self, draft: DraftInfo) -> bool:
        if draft.kind != DRAFT_KIND:
            return False
        payload = draft.payload
        if draft.entity_id is None:
            editor = self._add_editor(None)
            editor.restore(payload)
        else:
            self.open_case(draft.entity_id, lambda e: e.restore(payload))
        return True

    def discard_changes(self) -> None:
        for e in self.editors():
            e.load(e.detail)
