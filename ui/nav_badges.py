"""Counts beside the navigation's entries: Follow-up shows its overdue, due-this-week and
high-risk counts as small pills, kept current after every change.

The counts come from the follow-up queues (``ui.pages.followup.queue_counts``, three count
queries) on the operation runner; a delegate paints them (vector shapes, sharp at any scale)
and the item's accessible text says them in words.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QModelIndex, QObject, QPersistentModelIndex, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter
from PySide6.QtWidgets import QStyledItemDelegate, QStyleOptionViewItem

from ui.i18n import tr

if TYPE_CHECKING:
    from ui.main_window import MainWindow

BADGES_ROLE = Qt.ItemDataRole.UserRole + 2  # [(text, colour name, what it counts)]
OVERDUE = "#b3261e"
DUE = "#5f6368"
HIGH_RISK = "#a15c00"


class NavDelegate(QStyledItemDelegate):
    """The navigation's entries, with their count pills on the right."""

    def paint(self, painter: QPainter, option: QStyleOptionViewItem,
              index: QModelIndex | QPersistentModelIndex) -> None:
        super().paint(painter, option, index)
        badges = index.data(BADGES_ROLE) or []
        if not badges:
            return
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        font = QFont(option.font)
        font.setPointSizeF(max(7.0, font.pointSizeF() * 0.8))
        font.setBold(True)
        painter.setFont(font)
        m = QFontMetrics(font)
        right = option.rect.right() - 8.0
        height = m.height() + 2
        top = option.rect.center().y() - height / 2 + 1
        for text, colour, _what in reversed(badges):
            width = max(height, m.horizontalAdvance(text) + 10)
            rect = QRectF(right - width, top, width, height)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QColor(colour))
            painter.drawRoundedRect(rect, height / 2, height / 2)
            painter.setPen(QColor("white"))
            painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, text)
            right -= width + 4
        painter.restore()


class NavBadges(QObject):
    """Keeps the badges of a main window's navigation current."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.counts = None
        window.nav.setItemDelegate(NavDelegate(window.nav))
        window.unlocked.connect(self.refresh)
        window.runner.changed.connect(self._changed)
        self._busy = False
        self._again = False

    def _changed(self, what: set) -> None:
        if what & {"followups", "cases", "shelter"}:
            self.refresh()

    def refresh(self) -> None:
        """Count again (merged while a count runs)."""
        reg = self.window.reg
        if reg is None or not reg.actor.can("followup.read"):
            return
        if self._busy:
            self._again = True
            return
        from ui.pages.followup import queue_counts

        self._busy = True
        self.window.runner.run(lambda _p: queue_counts(reg), self._counted, self._failed)

    def _failed(self, _exc: BaseException) -> None:
        self._busy = False  # the badges simply stay as they were

    def _counted(self, counts) -> None:  # noqa: ANN001
        self._busy = False
        if self._again:
            self._again = False
            self.refresh()
        self.counts = counts
        nav = self.window.nav
        for row in range(nav.count()):
            item = nav.item(row)
            if item.data(Qt.ItemDataRole.UserRole) != "followup":
                continue
            badges = []

            def short(n: int) -> str:
                return f"{n:,}" if n < 1000 else "999+"  # the exact number is in the tooltip

            if counts.overdue:
                badges.append((short(counts.overdue), OVERDUE, tr("Nav", "{n} overdue").format(n=counts.overdue)))
            if counts.due_this_week:
                badges.append((short(counts.due_this_week), DUE,
                               tr("Nav", "{n} due this week").format(n=counts.due_this_week)))
            if counts.high_risk:
                badges.append((short(counts.high_risk), HIGH_RISK,
                               tr("Nav", "{n} high risk").format(n=counts.high_risk)))
            item.setData(BADGES_ROLE, badges)
            words = ", ".join(b[2] for b in badges) or tr("Nav", "nothing due")
            label = tr("Nav", "Follow-up")
            item.setData(Qt.ItemDataRole.AccessibleTextRole, f"{label}: {words}")
            item.setToolTip(words)
        nav.viewport().update()
