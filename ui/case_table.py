"""The case list's model: row ids plus a page cache (Anki's browser ``DataModel``).

The ids of every matching case come from one SQL query (filtered and sorted there); rows are
fetched a page at a time, only when the view asks for them, through ``search.summaries``.
The name column does not exist for roles that may not see names.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, QPointF, Qt, Signal
from PySide6.QtGui import QColor, QPainter, QPalette, QStaticText
from PySide6.QtWidgets import (
    QApplication,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionFocusRect,
    QStyleOptionViewItem,
    QWidget,
)

from models import vocab
from ui.i18n import tr

if TYPE_CHECKING:
    from tipdesk.services.search import CaseSummary

Index = QModelIndex | QPersistentModelIndex
PAGE_SIZE = 50  # rows fetched at once: two screens' worth, quick to read
SCREEN_ROWS = 30  # about a screenful of rows (for reading the next page along)
MAX_PAGES = 80  # pages kept in memory (4,000 rows): enough for any screen, small in RAM


@dataclass(frozen=True)
class Column:
    key: str
    title: str
    sort: str | None  # the service's sort key; None: not sortable


def columns(names_visible: bool) -> list[Column]:
    cols = [
        Column("case_number", tr("CaseList", "Case number"), "case_number"),
        Column("name", tr("CaseList", "Name"), "name"),
        Column("sex", tr("CaseList", "Sex"), "sex"),
        Column("age_group", tr("CaseList", "Age group"), "age"),
        Column("status", tr("CaseList", "Status"), "trafficking_status"),
        Column("exploitation", tr("CaseList", "Exploitation"), None),
        Column("registered", tr("CaseList", "Registered"), "registration_date"),
        Column("owner", tr("CaseList", "Owner"), None),
        Column("next_followup", tr("CaseList", "Next follow-up"), "next_followup_due"),
    ]
    return [c for c in cols if names_visible or c.key != "name"]


def _exploitation(values: Sequence[str]) -> str:
    found = []
    for v in values:
        cat = vocab.exploitation_category(v)
        if cat not in found:
            found.append(cat)
    return ", ".join(tr("Vocabulary", c) for c in found)


def _age_group(value: str) -> str:
    return {"0-17": tr("CaseList", "child (0–17)"), "18+": tr("CaseList", "adult (18+)")}.get(
        value, tr("CaseList", "unknown"))


class FastTextDelegate(QStyledItemDelegate):
    """Paints a cell's text (one line, elided at the right) straight onto the view.

    The standard delegate asks the model for about seven roles per cell and lays every text out
    anew (``QTextLayout``): for a list that repaints a screenful of rows while someone drags the
    scroll bar, that was most of each frame. Here a cell costs one ``data()`` call and one
    ``drawStaticText`` of a text laid out once (per text and column width). Selection and the
    focus frame look as the style draws them.
    """

    MARGIN = 4
    MAX_CACHED = 2_000  # laid-out texts kept: a few screens of every column (few objects for the collector)

    def __init__(self, parent: QWidget | None = None, text_at: Callable[[int, int], str] | None = None) -> None:
        super().__init__(parent)
        # Least recently painted first: the texts every screen repeats (sexes, statuses, age
        # groups) stay laid out while a fast scroll brings thousands of new case numbers.
        self._laid_out: OrderedDict[tuple[str, int], tuple[QStaticText, float]] = OrderedDict()
        # The model's text of a cell, called directly: no trip through C++ and a QVariant.
        self._text_at = text_at
        self._pens: dict[tuple[int, bool, bool], QColor] = {}  # (palette, selected, active) → colour

    def _pen(self, palette: QPalette, selected: bool, active: bool) -> QColor:
        key = (palette.cacheKey(), selected, active)
        colour = self._pens.get(key)
        if colour is None:
            if len(self._pens) > 16:
                self._pens.clear()
            group = QPalette.ColorGroup.Active if active else QPalette.ColorGroup.Inactive
            role = QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text
            colour = self._pens[key] = QColor(palette.color(group, role))
        return colour

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex) -> None:
        rect = option.rect
        state = option.state.value  # plain ints: Python's enum flags are slow in a paint loop
        palette = option.palette
        active = bool(state & _ACTIVE)
        selected = bool(state & _SELECTED)
        if selected:
            group = QPalette.ColorGroup.Active if active else QPalette.ColorGroup.Inactive
            painter.fillRect(rect, palette.brush(group, QPalette.ColorRole.Highlight))
        painter.setPen(self._pen(palette, selected, active))
        text = self._text_at(index.row(), index.column()) if self._text_at is not None else index.data()
        if text:
            width = rect.width() - 2 * self.MARGIN
            key = (text, width)
            cache = self._laid_out
            laid_out = cache.get(key)
            if laid_out is None:
                if len(cache) >= self.MAX_CACHED:
                    for _ in range(self.MAX_CACHED // 4):
                        cache.popitem(last=False)
                static = QStaticText(option.fontMetrics.elidedText(text, Qt.TextElideMode.ElideRight, width))
                static.setTextFormat(Qt.TextFormat.PlainText)
                static.prepare(painter.transform(), option.font)
                laid_out = cache[key] = (static, (rect.height() - static.size().height()) / 2)
            else:
                cache.move_to_end(key)
            static, dy = laid_out
            painter.drawStaticText(QPointF(rect.x() + self.MARGIN, rect.y() + dy), static)
        if state & _HAS_FOCUS:
            focus = QStyleOptionFocusRect()
            focus.rect = rect
            focus.state = option.state
            focus.palette = palette
            widget = option.widget
            style = widget.style() if widget is not None else QApplication.style()
            style.drawPrimitive(QStyle.PrimitiveElement.PE_FrameFocusRect, focus, painter, widget)


_SELECTED = QStyle.StateFlag.State_Selected.value
_ACTIVE = QStyle.StateFlag.State_Active.value
_HAS_FOCUS = QStyle.StateFlag.State_HasFocus.value


class CaseTableModel(QAbstractTableModel):
    ids_needed = Signal()  # a row past the first page was asked for before the ids are known
    pages_needed = Signal()  # background reading: rows on screen whose page is not read yet

    """Case ids in display order; rows fetched lazily by page.

    A list can arrive in two steps: first its opening page and its length (quick), then — only
    when someone scrolls past that page (``ids_needed``) — the ids of every row
    (``attach_ids``), which later pages are fetched by. Until then, those rows show as "…".
    """

    def __init__(self, fetch: Callable[[Sequence[int]], list[CaseSummary]], names_visible: bool,
                 parent=None) -> None:  # noqa: ANN001
        super().__init__(parent)
        self._fetch = fetch
        self.columns = columns(names_visible)
        self.names_visible = names_visible
        self._ids: list[int] = []
        self._count = 0
        self._ids_known = True
        self._ids_asked = False
        self._pages: OrderedDict[int, list[CaseSummary]] = OrderedDict()
        self._texts: dict[int, list[str]] = {}  # case id → display text per column (made once)
        self.fetch_times_ms: list[float] = []  # per page fetch (the benchmark reads them)
        # Background reading (``read_in_background``): a page not read yet shows "…" while a
        # worker reads it, so that painting never waits for the register. Wanted pages in the
        # order asked for; the newest is read first (during a fast drag, earlier screens are gone).
        self.read_in_background = False
        self._wanted: OrderedDict[int, int] = OrderedDict()  # first page → how many pages

    # --- contents --------------------------------------------------------------------------------

    def set_ids(self, ids: Sequence[int]) -> None:
        self.beginResetModel()
        self._ids = list(ids)
        self._count = len(self._ids)
        self._ids_known = True
        self._pages.clear()
        self._texts.clear()
        self._wanted.clear()
        self.endResetModel()

    def set_first_page(self, rows: Sequence[CaseSummary], total: int) -> None:
        """Show a list's opening rows and its length; the other ids follow (``attach_ids``)."""
        self.beginResetModel()
        self._ids = [r.id for r in rows]
        self._count = total
        self._ids_known = len(rows) >= total
        self._ids_asked = False
        self._pages.clear()
        self._texts.clear()
        self._wanted.clear()
        for n in range(0, len(rows), PAGE_SIZE):
            self._pages[n // PAGE_SIZE] = list(rows[n:n + PAGE_SIZE])
        self.endResetModel()

    def attach_ids(self, ids: Sequence[int]) -> bool:
        """The ids of the list shown by ``set_first_page``; False if they do not fit it."""
        if self._ids_known or len(ids) != self._count or list(ids[:len(self._ids)]) != self._ids:
            return False
        self._ids = list(ids)
        self._ids_known = True
        if self._count > PAGE_SIZE:
            self.dataChanged.emit(self.index(PAGE_SIZE, 0), self.index(self._count - 1, len(self.columns) - 1))
        return True

    @property
    def ids_known(self) -> bool:
        return self._ids_known

    def clear(self) -> None:
        self.set_ids([])

    def id_at(self, row: int) -> int | None:
        return self._ids[row] if 0 <= row < len(self._ids) else None

    def row_of(self, case_id: int) -> int:
        try:
            return self._ids.index(case_id)
        except ValueError:
            return -1

    def summary_at(self, row: int) -> CaseSummary | None:
        if not 0 <= row < self._count:
            return None
        page_no = row // PAGE_SIZE
        page = self._pages.get(page_no)
        if page is None:
            if not self._ids_known:
                if not self._ids_asked:
                    self._ids_asked = True
                    self.ids_needed.emit()
                return None  # its id is not known yet: shown as "…" until it is
            # A screenful that begins late in a page runs into the next one: read both at once.
            late = row - page_no * PAGE_SIZE > PAGE_SIZE - SCREEN_ROWS
            next_missing = late and page_no + 1 not in self._pages and (page_no + 1) * PAGE_SIZE < self._count
            count = 2 if next_missing else 1
            if self.read_in_background:
                if page_no not in self._wanted and self._wanted.get(page_no - 1) != 2:  # not asked yet
                    self._wanted[page_no] = count
                    if len(self._wanted) == 1:
                        self.pages_needed.emit()
                return None  # shown as "…" for the moment the worker takes
            page = self._load_pages(page_no, count)
        else:
            self._pages.move_to_end(page_no)
        offset = row - page_no * PAGE_SIZE
        return page[offset] if offset < len(page) else None

    def next_wanted(self) -> tuple[int, list[int]] | None:
        """Background reading: the newest wanted page run (first page, its ids), or None.

        Runs wanted earlier are dropped: they were on screens a fast drag has left behind (if
        one is still visible, painting it asks again)."""
        while self._wanted:
            first, count = self._wanted.popitem(last=True)
            self._wanted.clear()
            if first not in self._pages:
                return first, self._ids[first * PAGE_SIZE:(first + count) * PAGE_SIZE]
        return None

    def attach_pages(self, first: int, ids: Sequence[int], rows: Sequence[CaseSummary],
                     fetch_ms: float) -> None:
        """Rows read in the background for the pages from ``first`` (ids as asked for)."""
        if list(ids) != self._ids[first * PAGE_SIZE:first * PAGE_SIZE + len(ids)]:
            return  # the list changed meanwhile: painting asks again
        self.fetch_times_ms.append(fetch_ms)
        self._store_pages(first, ids, rows)
        last = min(self._count, first * PAGE_SIZE + len(ids)) - 1
        self.dataChanged.emit(self.index(first * PAGE_SIZE, 0), self.index(last, len(self.columns) - 1))

    def _load_pages(self, first: int, count: int) -> list[CaseSummary]:
        """Read ``count`` pages from page ``first`` in one query; returns the first of them."""
        ids = self._ids[first * PAGE_SIZE:(first + count) * PAGE_SIZE]
        start = time.perf_counter()
        rows = self._fetch(ids)
        self.fetch_times_ms.append((time.perf_counter() - start) * 1000)
        return self._store_pages(first, ids, rows)

    def _store_pages(self, first: int, ids: Sequence[int], rows: Sequence[CaseSummary]) -> list[CaseSummary]:
        count = (len(ids) + PAGE_SIZE - 1) // PAGE_SIZE
        by_id = {r.id: r for r in rows}
        # A case that vanished under the list keeps its position (None) rather than shift the rest.
        found = [by_id.get(i) for i in ids]
        for n in range(count):
            self._pages[first + n] = found[n * PAGE_SIZE:(n + 1) * PAGE_SIZE]
        self._pages.move_to_end(first)
        while len(self._pages) > MAX_PAGES:
            _, dropped = self._pages.popitem(last=False)
            for r in dropped:
                if r is not None:
                    self._texts.pop(r.id, None)
        return self._pages[first]

    def _row_texts(self, row: CaseSummary) -> list[str]:
        texts = self._texts.get(row.id)
        if texts is None:
            texts = [self._text(row, c.key) for c in self.columns]
            self._texts[row.id] = texts
        return texts

    @staticmethod
    def _text(row: CaseSummary, key: str) -> str:
        if key == "case_number":
            return row.case_number
        if key == "name":
            return row.name
        if key == "sex":
            return tr("Vocabulary", row.sex)
        if key == "age_group":
            return _age_group(row.age_group)
        if key == "status":
            return tr("Vocabulary", row.trafficking_status_label)
        if key == "exploitation":
            return _exploitation(row.exploitation)
        if key == "registered":
            return row.registration_date.isoformat()
        if key == "owner":
            return row.owner_name
        if key == "next_followup":
            return row.next_followup_due.isoformat() if row.next_followup_due else ""
        return ""

    def invalidate_rows(self) -> None:
        """Forget cached rows (a case changed); ids and order stay."""
        self._pages.clear()
        self._texts.clear()
        if self._count:
            self.dataChanged.emit(self.index(0, 0), self.index(self._count - 1, len(self.columns) - 1))

    # --- Qt API ------------------------------------------------------------------------------------

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else self._count

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(self.columns)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or role not in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole,
                                               Qt.ItemDataRole.ToolTipRole):
            return None
        if not 0 <= index.row() < self._count or not 0 <= index.column() < len(self.columns):
            return None
        if role == Qt.ItemDataRole.ToolTipRole:  # the exploitation column's text may be cut short
            if self.columns[index.column()].key != "exploitation" or self.summary_at(index.row()) is None:
                return None
        return self.display_text(index.row(), index.column())

    def display_text(self, row: int, column: int) -> str:
        """What ``data(index, DisplayRole)`` says, for the list's delegate to call directly."""
        if not 0 <= row < self._count or not 0 <= column < len(self.columns):
            return ""
        summary = self.summary_at(row)
        if summary is None:
            if not self._ids_known or (self.read_in_background and row // PAGE_SIZE not in self._pages):
                return "…" if column == 0 else ""
            return tr("CaseList", "(no longer in the register)") if column == 0 else ""
        return self._row_texts(summary)[column]

    def headerData(self, section: int, orientation: Qt.Orientation,  # noqa: N802
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        if orientation == Qt.Orientation.Horizontal and 0 <= section < len(self.columns):
            return self.columns[section].title
        if orientation == Qt.Orientation.Vertical and 0 <= section < self._count:
            return str(section + 1)
        return None

    _FLAGS = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemNeverHasChildren

    def flags(self, index: Index) -> Qt.ItemFlag:
        return self._FLAGS if index.isValid() else Qt.ItemFlag.NoItemFlags


class HistoryModel(QAbstractTableModel):
    """A case's history (audit trail), newest first."""

    def __init__(self, parent=None) -> None:  # noqa: ANN001
        super().__init__(parent)
        self._rows: list = []
        self._titles = [tr("History", "When"), tr("History", "Who"), tr("History", "What"),
                        tr("History", "Details")]

    def set_entries(self, entries: Sequence) -> None:
        self.beginResetModel()
        self._rows = list(entries)
        self.endResetModel()

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else 4

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        if role not in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole,
                        Qt.ItemDataRole.ToolTipRole):
            return None
        e = self._rows[index.row()]
        col = index.column()
        if col == 0:
            return e.at.astimezone().strftime("%Y-%m-%d %H:%M")
        if col == 1:
            return e.username
        if col == 2:
            return tr("History", e.what)
        if col == 3:
            return e.details
        return None

    def headerData(self, section: int, orientation: Qt.Orientation,  # noqa: N802
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal and 0 <= section < 4:
            return self._titles[section]
        return None
