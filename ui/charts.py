"""A chart card for the dashboard: a Qt Charts chart, the same numbers as a table, and
"Copy as image".

The card is built once and refilled with ``set_bars``/``set_lines``; the table view shows the
chart's numbers (``FigureTableModel``), which screen readers can read cell by cell. Charts are
vector drawings, so they stay sharp at any scaling, and carry no names — the dashboard has none.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCharts import (
    QAbstractAxis,
    QBarCategoryAxis,
    QBarSeries,
    QBarSet,
    QChart,
    QChartView,
    QHorizontalBarSeries,
    QLineSeries,
    QStackedBarSeries,
    QValueAxis,
)
from PySide6.QtCore import QMargins, QPointF, Qt, Signal
from PySide6.QtGui import QColor, QPainter, QPen
from PySide6.QtWidgets import (
    QAbstractItemView,
    QGraphicsItem,
    QApplication,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSizePolicy,
    QStackedWidget,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from ui.i18n import tr
from ui.work_models import FigureTableModel

#: Colours that stay apart for readers with the common colour-vision deficiencies (Okabe–Ito).
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")


class ChartCard(QFrame):
    """One figure of the dashboard: title, chart or table, and its buttons."""

    copied = Signal()

    def __init__(self, key: str, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.key = key
        self.setObjectName(f"chart_{key}")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setAccessibleName(title)
        col = QVBoxLayout(self)
        col.setContentsMargins(10, 8, 10, 8)
        top = QHBoxLayout()
        self.title = QLabel(title, self)
        font = self.title.font()
        font.setBold(True)
        self.title.setFont(font)
        self.title.setWordWrap(True)
        top.addWidget(self.title, 1)
        self.table_button = QPushButton(tr("Charts", "Table"), self)
        self.table_button.setCheckable(True)
        self.table_button.setToolTip(tr("Charts", "Show the numbers as a table"))
        self.table_button.setAccessibleName(tr("Charts", "Show {title} as a table").format(title=title))
        self.copy_button = QPushButton(tr("Charts", "Copy as image"), self)
        self.copy_button.setToolTip(tr("Charts", "Copy this figure to the clipboard as a picture"))
        self.copy_button.setAccessibleName(tr("Charts", "Copy {title} as an image").format(title=title))
        top.addWidget(self.table_button)
        top.addWidget(self.copy_button)
        col.addLayout(top)
        # The note and the "Counting…" line keep their place whether they say something or not:
        # a card that changes its layout makes Qt Charts lay the chart out and draw it again.
        self.note = QLabel(self)
        self.note.setWordWrap(True)
        self.note.setMinimumHeight(self.note.fontMetrics().height() * 2 + 2)
        self.note.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        col.addWidget(self.note)
        self.stack = QStackedWidget(self)
        self.chart = QChart()
        self.chart.setAnimationOptions(QChart.AnimationOption.NoAnimation)
        self.chart.legend().setAlignment(Qt.AlignmentFlag.AlignBottom)
        self.chart.setMargins(QMargins(4, 4, 4, 4))
        self.chart.setBackgroundRoundness(0)
        # drawn once into a pixmap, then copied: repainting the page does not redraw every chart
        self.chart.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        self.view = QChartView(self.chart, self)
        self.view.setRenderHint(QPainter.RenderHint.Antialiasing)
        self.view.setMinimumHeight(290)
        self.view.setAccessibleName(tr("Charts", "{title}, chart").format(title=title))
        self.view.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.model = FigureTableModel(self)
        self.table = QTableView(self)
        self.table.setModel(self.model)
        self.table.setAccessibleName(tr("Charts", "{title}, table").format(title=title))
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setTabKeyNavigation(False)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.stack.addWidget(self.view)
        self.stack.addWidget(self.table)
        col.addWidget(self.stack, 1)
        self.waiting = QLabel(tr("Charts", "Counting…"), self)
        self.waiting.setEnabled(False)
        self.waiting.setFixedHeight(self.waiting.sizeHint().height())
        col.addWidget(self.waiting)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.table_button.toggled.connect(lambda on: self.stack.setCurrentIndex(1 if on else 0))
        self.copy_button.clicked.connect(self.copy_image)

    # --- filling -----------------------------------------------------------------------------

    def _clear(self) -> None:
        self.chart.removeAllSeries()
        for axis in list(self.chart.axes()):
            self.chart.removeAxis(axis)

    def set_waiting(self, waiting: bool) -> None:
        # Only the line says so, in a place it always keeps: disabling a chart view, or a card
        # whose layout changes, makes Qt Charts lay the chart out and draw it again.
        self.waiting.setText(tr("Charts", "Counting…") if waiting else "")

    def set_note(self, text: str) -> None:
        self.note.setText(text)
        self.note.setAccessibleName(text)

    def set_bars(self, category_title: str, categories: Sequence[str], series: Sequence[tuple[str, Sequence[float]]],
                 *, horizontal: bool = False, stacked: bool = False) -> None:
        """Bars: one set per series, one bar (or segment) per category."""
        self._clear()
        if stacked:
            chart_series = QStackedBarSeries()
        elif horizontal:
            chart_series = QHorizontalBarSeries()
        else:
            chart_series = QBarSeries()
        for i, (name, values) in enumerate(series):
            bar_set = QBarSet(name)
            bar_set.setColor(QColor(PALETTE[i % len(PALETTE)]))
            # inside a stacked segment the number is white; beyond a bar's end, the text colour
            bar_set.setLabelColor(QColor("white") if stacked else self.palette().color(self.foregroundRole()))
            bar_set.append([float(v) for v in values])
            chart_series.append(bar_set)
        chart_series.setLabelsVisible(True)
        chart_series.setLabelsFormat("@value")
        chart_series.setLabelsPrecision(6)
        chart_series.setLabelsPosition(QBarSeries.LabelsPosition.LabelsCenter if stacked
                                       else QBarSeries.LabelsPosition.LabelsOutsideEnd)
        self.chart.addSeries(chart_series)
        cat_axis = QBarCategoryAxis()
        cat_axis.append(list(categories))
        top = max((sum(v[i] for _n, v in series) if stacked else max((v[i] for _n, v in series), default=0))
                  for i in range(len(categories))) if categories else 0
        value_axis = _value_axis(top)
        if horizontal:
            self._attach(cat_axis, Qt.AlignmentFlag.AlignLeft, chart_series)
            self._attach(value_axis, Qt.AlignmentFlag.AlignBottom, chart_series)
        else:
            self._attach(cat_axis, Qt.AlignmentFlag.AlignBottom, chart_series)
            self._attach(value_axis, Qt.AlignmentFlag.AlignLeft, chart_series)
        self.chart.legend().setVisible(len(series) > 1)
        self.model.set_figures(category_title, categories, [n for n, _v in series],
                               [[v[i] for _n, v in series] for i in range(len(categories))])

    def set_lines(self, category_title: str, categories: Sequence[str], series: Sequence[tuple[str, Sequence[float]]],
                  *, dashed: Sequence[str] = (), label_every: int = 1) -> None:
        """Lines over categories (dates, quarters): one line per series."""
        self._clear()
        cat_axis = QBarCategoryAxis()
        shown = [c if i % label_every == 0 or i == len(categories) - 1 else "" for i, c in enumerate(categories)]
        # a category axis needs distinct labels: blank ones are made distinct with spaces
        cat_axis.append([label or " " * (i + 1) for i, label in enumerate(shown)])
        top = max((max(values, default=0) for _n, values in series), default=0)
        value_axis = _value_axis(top)
        cat_axis.setTruncateLabels(False)
        self.chart.addAxis(cat_axis, Qt.AlignmentFlag.AlignBottom)
        self.chart.addAxis(value_axis, Qt.AlignmentFlag.AlignLeft)
        for i, (name, values) in enumerate(series):
            line = QLineSeries()
            line.setName(name)
            pen = QPen(QColor(PALETTE[i % len(PALETTE)]), 2.5)
            if name in dashed:
                pen.setStyle(Qt.PenStyle.DashLine)
            line.setPen(pen)
            line.setPointsVisible(len(categories) <= 16)
            for x, y in enumerate(values):
                line.append(QPointF(x, float(y)))
            self.chart.addSeries(line)
            line.attachAxis(cat_axis)
            line.attachAxis(value_axis)
        cat_axis.setLabelsAngle(-45 if len(categories) > 10 else 0)
        self.chart.legend().setVisible(len(series) > 1)
        self.model.set_figures(category_title, categories, [n for n, _v in series],
                               [[v[i] for _n, v in series] for i in range(len(categories))])

    def _attach(self, axis: QAbstractAxis, where: Qt.AlignmentFlag, series) -> None:  # noqa: ANN001
        axis.setTruncateLabels(False)
        self.chart.addAxis(axis, where)
        series.attachAxis(axis)

    # --- copying ------------------------------------------------------------------------------

    def picture(self):  # noqa: ANN201 (QPixmap)
        """The card's figure as a picture: the chart, or the table when that is shown."""
        return self.stack.currentWidget().grab()

    def copy_image(self) -> None:
        QApplication.clipboard().setImage(self.picture().toImage())
        self.copied.emit()


def _value_axis(top: float) -> QValueAxis:
    """A count axis from 0 with round steps (1, 2 or 5 × 10ⁿ), at most six of them."""
    step = 1.0
    while top / step > 6:
        for factor in (2, 2.5, 2):
            step *= factor
            if top / step <= 6:
                break
    steps = max(1, -(-int(top) // int(step)) if step >= 1 else 1)
    if steps * step < top * 1.08:  # room above the longest bar for its label
        steps += 1
    axis = QValueAxis()
    axis.setRange(0, steps * step)
    axis.setTickCount(steps + 1)
    axis.setLabelFormat("%d")
    return axis
