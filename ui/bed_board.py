"""The shelter board: one card per bed (or place) of a facility on a night.

A list model of cards and a delegate that paints them, in a ``QListView`` in icon mode: a
facility of 300 beds paints as quickly as one of 6, arrow keys move between beds, and a screen
reader reads each card's sentence (``AccessibleTextRole``). Painted with the palette and vector
shapes only, so it is sharp at any scaling.

An occupied card shows the case number and — only when the core sent it, i.e. for roles that
may see names — the person's first name. A free bed held for a case that is waiting
(``placements.reserve_bed``) is a reserved card: the case number (and first name, likewise)
and the last night it is held.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QAbstractListModel, QModelIndex, QPersistentModelIndex, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPalette, QPen
from PySide6.QtWidgets import QAbstractItemView, QListView, QStyle, QStyledItemDelegate, QStyleOptionViewItem, QWidget

from ui.i18n import tr

if TYPE_CHECKING:
    from tipdesk.services.facilities import FacilityInfo
    from tipdesk.services.placements import Reservation, StayInfo

Index = QModelIndex | QPersistentModelIndex
CARD_ROLE = Qt.ItemDataRole.UserRole + 1

OCCUPIED = QColor("#2b5797")
FREE = QColor("#1e6b34")
EXCEPTION = QColor("#a15c00")
RESERVED = QColor("#8e3b73")  # Okabe–Ito reddish purple, darkened for text on a light card


@dataclass(frozen=True)
class BedCard:
    """One bed (or, in a facility without named beds, one place) on one night."""

    label: str
    bed_id: int | None
    stay: StayInfo | None
    in_use: bool = True  # False: a bed taken out of use that still holds someone
    reservation: Reservation | None = None  # a free bed held for a waiting case that night

    @property
    def occupied(self) -> bool:
        return self.stay is not None

    @property
    def reserved(self) -> bool:
        return self.stay is None and self.reservation is not None

    def sentence(self, on: dt.date) -> str:
        """What a screen reader says about the card."""
        if self.stay is None and self.reservation is not None:
            r = self.reservation
            who = r.case.case_number + (f" ({r.case.first_name})" if r.case.first_name else "")
            return tr("Board", "{bed}: reserved for case {who}, last night {date}.").format(
                bed=self.label, who=who, date=r.held_until.isoformat())
        if self.stay is None:
            return tr("Board", "{bed}: free on {date}.").format(bed=self.label, date=on.isoformat())
        s = self.stay
        who = s.case.case_number + (f" ({s.case.first_name})" if s.case.first_name else "")
        text = tr("Board", "{bed}: case {who}, since {since}, {n} nights.").format(
            bed=self.label, who=who, since=s.admitted.isoformat(), n=max(0, (on - s.admitted).days))
        if s.planned_discharge:
            text += " " + tr("Board", "Planned to leave on {date}.").format(date=s.planned_discharge.isoformat())
        if s.outside_eligibility:
            text += " " + tr("Board", "Placed as an exception to the facility's eligibility.")
        return text


def cards_for(facility: FacilityInfo, residents: Sequence[StayInfo],
              reserved: Sequence[Reservation] = ()) -> list[BedCard]:
    """The cards of a facility for one night: its beds in use (with their reservations), then
    any place without a bed."""
    by_bed = {s.bed_id: s for s in residents if s.bed_id is not None}
    held = {r.bed_id: r for r in reserved}
    cards = [BedCard(b.label, b.id, by_bed.pop(b.id, None), reservation=held.get(b.id))
             for b in facility.beds if b.active]
    # someone in a bed since taken out of use: still shown, so that nobody disappears
    retired = {b.id: b.label for b in facility.beds if not b.active}
    cards += [BedCard(retired.get(bed_id, "?"), bed_id, stay, in_use=False) for bed_id, stay in by_bed.items()]
    unbedded = [s for s in residents if s.bed_id is None]
    if not any(b.active for b in facility.beds):
        places = max(facility.capacity, len(unbedded))
        cards += [BedCard(tr("Board", "Place {n}").format(n=i + 1), None, unbedded[i] if i < len(unbedded) else None)
                  for i in range(places)]
    else:
        cards += [BedCard(tr("Board", "No bed"), None, s) for s in unbedded]
    return cards


class BedCardModel(QAbstractListModel):
    """The cards of the board (one facility, one night)."""

    def __init__(self, parent=None) -> None:  # noqa: ANN001
        super().__init__(parent)
        self._cards: list[BedCard] = []
        self.on = dt.date.today()

    def set_cards(self, cards: Sequence[BedCard], on: dt.date) -> None:
        self.beginResetModel()
        self._cards = list(cards)
        self.on = on
        self.endResetModel()

    def card_at(self, row: int) -> BedCard | None:
        return self._cards[row] if 0 <= row < len(self._cards) else None

    def cards(self) -> list[BedCard]:
        return list(self._cards)

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: N802, B008 (Qt API)
        return 0 if parent.isValid() else len(self._cards)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._cards):
            return None
        card = self._cards[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return card.label
        if role in (Qt.ItemDataRole.AccessibleTextRole, Qt.ItemDataRole.ToolTipRole):
            return card.sentence(self.on)
        if role == CARD_ROLE:
            return card
        return None


class BedCardDelegate(QStyledItemDelegate):
    """Paints a card: the bed's name, then free, or the case number and first name, and dates."""

    def card_size(self, font: QFont) -> QSize:
        m = QFontMetrics(font)
        widest = max(m.horizontalAdvance("OAS-2026-00000  Xxxxxxxxx"),
                     m.horizontalAdvance(tr("Board", "since {date} · {n} nights").format(date="2026-12-30", n=999)))
        return QSize(max(180, widest + 30), m.height() * 4 + 22)

    def sizeHint(self, option: QStyleOptionViewItem, index: Index) -> QSize:  # noqa: N802
        return self.card_size(option.font)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: Index) -> None:
        card = index.data(CARD_ROLE)
        if not isinstance(card, BedCard):
            return
        model = index.model()
        on = getattr(model, "on", dt.date.today())
        pal = option.palette
        rect = QRectF(option.rect).adjusted(3, 3, -3, -3)
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        focus = bool(option.state & QStyle.StateFlag.State_HasFocus)
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        accent = OCCUPIED if card.occupied else RESERVED if card.reserved else FREE
        background = pal.color(QPalette.ColorRole.Base)
        if card.occupied or card.reserved:
            background = _mix(background, accent, 0.10)
        painter.setPen(QPen(pal.color(QPalette.ColorRole.Highlight) if selected else _mix(
            pal.color(QPalette.ColorRole.Mid), accent, 0.35), 3 if selected else 1))
        painter.setBrush(background)
        painter.drawRoundedRect(rect, 6, 6)
        stripe = QRectF(rect.left(), rect.top(), 6, rect.height())
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(accent)
        painter.drawRoundedRect(stripe, 3, 3)
        if focus:
            painter.setPen(QPen(pal.color(QPalette.ColorRole.Highlight), 1, Qt.PenStyle.DotLine))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRoundedRect(rect.adjusted(3, 3, -3, -3), 4, 4)

        m = QFontMetrics(option.font)
        line = m.height() + 2
        x = rect.left() + 14
        width = rect.width() - 22
        y = rect.top() + 6
        bold = QFont(option.font)
        bold.setBold(True)
        text_colour = pal.color(QPalette.ColorRole.Text)
        painter.setFont(bold)
        painter.setPen(text_colour)
        title = card.label if card.in_use else tr("Board", "{bed} (not in use)").format(bed=card.label)
        painter.drawText(QRectF(x, y, width, line), Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                         QFontMetrics(bold).elidedText(title, Qt.TextElideMode.ElideRight, int(width)))
        y += line
        painter.setFont(option.font)
        if card.reserved:
            r = card.reservation
            painter.setPen(RESERVED)
            painter.drawText(QRectF(x, y, width, line), Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                             tr("Board", "Reserved"))
            y += line
            painter.setPen(text_colour)
            who = r.case.case_number + (f"  {r.case.first_name}" if r.case.first_name else "")
            painter.drawText(QRectF(x, y, width, line), Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                             m.elidedText(who, Qt.TextElideMode.ElideRight, int(width)))
            y += line
            painter.setPen(_mix(text_colour, background, 0.35))
            until = tr("Board", "last night {date}").format(date=r.held_until.isoformat())
            painter.drawText(QRectF(x, y, width, line), Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                             m.elidedText(until, Qt.TextElideMode.ElideRight, int(width)))
        elif card.stay is None:
            painter.setPen(FREE)
            painter.drawText(QRectF(x, y, width, line), Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                             tr("Board", "Free"))
        else:
            s = card.stay
            painter.setPen(text_colour)
            who = s.case.case_number + (f"  {s.case.first_name}" if s.case.first_name else "")
            painter.drawText(QRectF(x, y, width, line), Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                             m.elidedText(who, Qt.TextElideMode.ElideRight, int(width)))
            y += line
            secondary = _mix(text_colour, background, 0.35)  # quieter than the number, still readable
            painter.setPen(secondary)
            nights = max(0, (on - s.admitted).days)
            since = tr("Board", "since {date} · {n} nights").format(date=s.admitted.isoformat(), n=nights)
            painter.drawText(QRectF(x, y, width, line), Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                             m.elidedText(since, Qt.TextElideMode.ElideRight, int(width)))
            y += line
            notes = []
            if s.planned_discharge:
                notes.append(tr("Board", "leaves {date}").format(date=s.planned_discharge.isoformat()))
            if s.outside_eligibility:
                notes.append(tr("Board", "exception"))
            if notes:
                painter.setPen(EXCEPTION if s.outside_eligibility else secondary)
                painter.drawText(QRectF(x, y, width, line), Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                                 m.elidedText(" · ".join(notes), Qt.TextElideMode.ElideRight, int(width)))
        painter.restore()


def _mix(a: QColor, b: QColor, share: float) -> QColor:
    return QColor(round(a.red() * (1 - share) + b.red() * share), round(a.green() * (1 - share) + b.green() * share),
                  round(a.blue() * (1 - share) + b.blue() * share))


class BedBoard(QListView):
    """The cards in rows that wrap with the window's width; arrow keys move between beds."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("bedBoard")
        self.setViewMode(QListView.ViewMode.IconMode)
        self.setFlow(QListView.Flow.LeftToRight)
        self.setWrapping(True)
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setMovement(QListView.Movement.Static)
        self.setUniformItemSizes(True)
        self.setSpacing(4)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setTabKeyNavigation(False)
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.delegate = BedCardDelegate(self)
        self.setItemDelegate(self.delegate)
        self.board_model = BedCardModel(self)
        self.setModel(self.board_model)
        self.setGridSize(self.delegate.card_size(self.font()) + QSize(8, 8))

    def selected_card(self) -> BedCard | None:
        rows = self.selectionModel().selectedIndexes() if self.selectionModel() else []
        return self.board_model.card_at(rows[0].row()) if rows else None

    def select_bed(self, bed_id: int | None) -> None:
        for row, card in enumerate(self.board_model.cards()):
            if card.bed_id == bed_id and bed_id is not None:
                self.setCurrentIndex(self.board_model.index(row))
                return
