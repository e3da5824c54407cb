"""The Returns page: this office's standardised return (TIP-RETURN/1) for a quarter or a year.

Pick the period (the last complete quarter unless you choose otherwise), see the headline
figures before anything is saved, save the return — or a suppressed copy for publication — with
a progress dialog that can be cancelled, see the returns prepared before (from the audit trail),
and check any return file against the standard.

Everything heavy runs on the operation runner: preparing the figures (with a progress bar on
the page, cancelled when a newer period is chosen), saving, and checking a file. The page calls
``exports.returns.service`` only (see docs/returns.md, "For the window").
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Slot
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFileDialog,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QPushButton,
    QTableView,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from tipdesk.counting import Period, last_complete_quarter, parse_period
from tipdesk.errors import Cancelled, TipdeskError, ValidationError
from ui.i18n import tr
from ui.operations import OperationCancelled
from ui.pages.base import Page
from ui.widgets import ERROR_STYLE, error_box, heading
from ui.work_models import Col, RowsModel

if TYPE_CHECKING:
    from exports.returns.prepare import PreparedReturn
    from exports.returns.reader import ReadReport
    from exports.returns.service import ExportRecord
    from tipdesk.vault.register import Register
    from ui.operations import OperationHandle, OperationRunner

QUARTERS_OFFERED = 20  # five years of quarters
YEARS_OFFERED = 10
OK_STYLE = "color: #1b5e20;"  # dark green


def periods_offered(today: dt.date, quarters: bool) -> list[Period]:
    """Complete periods, newest first: the last five years of quarters, or the last ten years."""
    if quarters:
        out = [last_complete_quarter(today)]
        while len(out) < QUARTERS_OFFERED:
            out.append(out[-1].previous())
        return out
    return [parse_period(str(today.year - i)) for i in range(1, YEARS_OFFERED + 1)]


def describe_period(period: Period) -> str:
    return tr("Returns", "{code} ({start} to {end})").format(
        code=period.code, start=period.start.isoformat(), end=period.end.isoformat())


def prepared_returns_model(parent: QWidget | None = None) -> RowsModel:
    """Returns prepared from this register, newest first (a few hundred rows at most: held whole)."""

    def where(r: ExportRecord) -> str:
        return str(Path(r.folder) / r.file)

    cols: list[Col] = [
        Col(tr("Returns", "Saved"), lambda r: r.at.astimezone().strftime("%Y-%m-%d %H:%M")),
        Col(tr("Returns", "By"), lambda r: r.username),
        Col(tr("Returns", "Period"), lambda r: r.period),
        Col(tr("Returns", "Kind"), lambda r: tr("Returns", "publication copy") if r.suppressed
            else tr("Returns", "full return")),
        Col(tr("Returns", "Cases"), lambda r: "" if r.suppressed else f"{r.line_count:,}", align_right=True),
        Col(tr("Returns", "File"), lambda r: r.file, tooltip=where),
        Col(tr("Returns", "Folder"), lambda r: str(r.folder), tooltip=where),
    ]
    return RowsModel(cols, parent)


class ReturnsPage(Page):
    key = "returns"

    def __init__(self, reg: Register, runner: OperationRunner, parent: QWidget | None = None) -> None:
        super().__init__(reg, runner, parent)
        self.setObjectName("ReturnsPage")
        self.prepared: PreparedReturn | None = None
        self.prepared_for: str = ""  # the period code the figures belong to
        self.stale = True  # the register changed since the figures were prepared
        self.report: ReadReport | None = None
        self.last_saved: Path | None = None
        self.folder = Path.home()
        self._preparing: OperationHandle | None = None
        self._prepare_token = 0
        self.save_handle: OperationHandle | None = None
        self.save_progress_delay_ms = 1000
        self.file_dialog: QFileDialog | None = None

        col = QVBoxLayout(self)
        col.setContentsMargins(16, 12, 16, 12)
        col.addWidget(heading(tr("Returns", "Returns to the national secretariat"), self))
        intro = QLabel(tr("Returns", "Each quarter (or year) this office sends the secretariat one Excel return "
                                     "in the national standard TIP-RETURN/1: tables of figures and a list of "
                                     "cases without names. Check the figures, then save the return and send "
                                     "the file."), self)
        intro.setWordWrap(True)
        col.addWidget(intro)

        pick = QWidget(self)
        row = QHBoxLayout(pick)
        row.setContentsMargins(0, 6, 0, 6)
        self.kind = QComboBox(pick)
        self.kind.addItem(tr("Returns", "Quarter"), "quarter")
        self.kind.addItem(tr("Returns", "Year"), "year")
        self.kind.setAccessibleName(tr("Returns", "Return for a quarter or a year"))
        kind_label = QLabel(tr("Returns", "Return &for:"), pick)
        kind_label.setBuddy(self.kind)
        self.period = QComboBox(pick)
        self.period.setObjectName("returnPeriod")
        self.period.setAccessibleName(tr("Returns", "Period"))
        self.period.setMinimumContentsLength(30)
        period_label = QLabel(tr("Returns", "&Period:"), pick)
        period_label.setBuddy(self.period)
        row.addWidget(kind_label)
        row.addWidget(self.kind)
        row.addSpacing(12)
        row.addWidget(period_label)
        row.addWidget(self.period)
        row.addStretch(1)
        col.addWidget(pick)

        middle = QHBoxLayout()
        col.addLayout(middle, 1)
        right = QVBoxLayout()
        self.figures_box = QGroupBox(tr("Returns", "Figures"), self)
        self.figures_box.setObjectName("returnFigures")
        fcol = QVBoxLayout(self.figures_box)
        self.figures_note = QLabel(self.figures_box)
        self.figures_note.setWordWrap(True)
        self.figures_note.setObjectName("figuresNote")
        fcol.addWidget(self.figures_note)
        bar_row = QHBoxLayout()
        self.bar = QProgressBar(self.figures_box)
        self.bar.setAccessibleName(tr("Returns", "Preparing the figures"))
        self.bar.setRange(0, 100)
        self.stop_button = QPushButton(tr("Returns", "S&top"), self.figures_box)
        self.stop_button.setAccessibleName(tr("Returns", "Stop preparing the figures"))
        self.stop_button.clicked.connect(self.stop_preparing)
        bar_row.addWidget(self.bar, 1)
        bar_row.addWidget(self.stop_button)
        fcol.addLayout(bar_row)
        self.figures = QTableWidget(0, 2, self.figures_box)
        self.figures.setObjectName("headlineFigures")
        self.figures.setHorizontalHeaderLabels([tr("Returns", "What"), tr("Returns", "Count")])
        self.figures.setAccessibleName(tr("Returns", "Headline figures"))
        self.figures.verticalHeader().hide()
        self.figures.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.figures.setTabKeyNavigation(False)
        self.figures.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.figures.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.figures.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        fcol.addWidget(self.figures, 1)
        buttons = QHBoxLayout()
        self.save_button = QPushButton(tr("Returns", "&Save return…"), self.figures_box)
        self.save_button.setObjectName("saveReturn")
        self.save_button.setAccessibleName(tr("Returns", "Save return"))
        self.save_button.setToolTip(tr("Returns", "Save the return of this period as an Excel file (Ctrl+S)"))
        self.save_button.clicked.connect(lambda: self.choose_file(suppressed=False))
        self.copy_button = QPushButton(tr("Returns", "Save p&ublication copy (suppressed)…"), self.figures_box)
        self.copy_button.setAccessibleName(tr("Returns", "Save publication copy (suppressed)"))
        self.copy_button.setToolTip(tr("Returns", "A copy for publishing: no list of cases, and counts from 1 "
                                                  "to 4 shown as <5"))
        self.copy_button.clicked.connect(lambda: self.choose_file(suppressed=True))
        buttons.addWidget(self.save_button)
        buttons.addWidget(self.copy_button)
        buttons.addStretch(1)
        fcol.addLayout(buttons)
        self.save_message = QLabel(self.figures_box)
        self.save_message.setObjectName("saveMessage")
        self.save_message.setWordWrap(True)
        self.save_message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.save_message.hide()
        fcol.addWidget(self.save_message)
        middle.addWidget(self.figures_box, 5)
        middle.addLayout(right, 6)

        history_box = QGroupBox(tr("Returns", "Returns prepared before"), self)
        hcol = QVBoxLayout(history_box)
        self.history_model = prepared_returns_model(self)
        self.history = QTableView(history_box)
        self.history.setObjectName("preparedReturns")
        self.history.setModel(self.history_model)
        self.history.setAccessibleName(tr("Returns", "Returns prepared before"))
        self.history.verticalHeader().hide()
        self.history.setTabKeyNavigation(False)
        self.history.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.history.setWordWrap(False)
        self.history.horizontalHeader().setStretchLastSection(True)
        self.history_empty = QLabel(tr("Returns", "No return has been saved from this register yet."), history_box)
        self.history_empty.setWordWrap(True)
        self.history_empty.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        hcol.addWidget(self.history, 1)
        hcol.addWidget(self.history_empty)
        hcol.addStretch(0)
        right.addWidget(history_box, 2)

        check = QGroupBox(tr("Returns", "Check a return file"), self)
        check.setObjectName("checkReturn")
        ccol = QGridLayout(check)
        self.check_button = QPushButton(tr("Returns", "&Check a return file…"), check)
        self.check_button.setObjectName("checkReturnFile")
        self.check_button.setAccessibleName(tr("Returns", "Check a return file"))
        self.check_button.setToolTip(tr("Returns", "Check any TIP-RETURN/1 file against the standard: this "
                                                   "office's or another's"))
        self.check_button.clicked.connect(self.choose_file_to_check)
        self.verdict = QLabel(tr("Returns", "Choose a return file to see whether it follows the standard and "
                                            "was not changed after it was prepared."), check)
        self.verdict.setObjectName("checkVerdict")
        self.verdict.setWordWrap(True)
        self.verdict.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.verdict.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.problems = QListWidget(check)
        self.problems.setObjectName("checkProblems")
        self.problems.setAccessibleName(tr("Returns", "Problems found in the file"))
        self.problems.setWordWrap(True)
        self.problems.hide()
        ccol.addWidget(self.check_button, 0, 0, Qt.AlignmentFlag.AlignTop)
        ccol.addWidget(self.verdict, 0, 1, Qt.AlignmentFlag.AlignTop)
        ccol.addWidget(self.problems, 1, 0, 1, 2)
        ccol.setColumnStretch(1, 1)
        ccol.setRowStretch(1, 1)
        right.addWidget(check, 3)

        sc = QShortcut(QKeySequence("Ctrl+S"), self)
        sc.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        sc.activated.connect(lambda: self.choose_file(suppressed=False))

        self._fill_periods()
        self.kind.currentIndexChanged.connect(self._kind_changed)
        self.period.currentIndexChanged.connect(self._period_changed)
        self.runner.changed.connect(self._something_changed)
        self._show_idle()
        self._activated_once = False

    # --- period -------------------------------------------------------------------------------------

    def _fill_periods(self) -> None:
        quarters = self.kind.currentData() == "quarter"
        self.period.blockSignals(True)
        self.period.clear()
        for p in periods_offered(dt.date.today(), quarters):
            self.period.addItem(describe_period(p), p.code)
        self.period.setCurrentIndex(0)
        self.period.blockSignals(False)

    def selected_period(self) -> Period:
        return parse_period(self.period.currentData())

    def set_period(self, code: str) -> None:
        """Choose a period by its code (``2026-Q3`` or ``2025``)."""
        self.kind.setCurrentIndex(0 if "-Q" in code else 1)
        index = self.period.findData(code)
        if index >= 0:
            self.period.setCurrentIndex(index)

    @Slot()
    def _kind_changed(self, *_a: object) -> None:
        self._fill_periods()
        self._period_changed()

    @Slot()
    def _period_changed(self, *_a: object) -> None:
        self.prepare()

    def activated(self) -> None:
        if not self._activated_once:
            self._activated_once = True
            self.load_history()
        if self.stale or self.prepared_for != self.period.currentData():
            self.prepare()

    def _something_changed(self, what: set) -> None:
        if "cases" in what or "shelter" in what or "followup" in what:
            self.stale = True
            if self.isVisible():
                self.prepare()
        if "returns" in what:
            self.load_history()

    # --- figures ------------------------------------------------------------------------------------

    @Slot()
    def prepare(self) -> None:
        """Compute the figures of the chosen period (nothing is saved); a newer request wins."""
        from exports.returns import service

        if self._preparing is not None:
            self._preparing.cancel()
        self._prepare_token += 1
        token = self._prepare_token
        period, reg = self.selected_period(), self.reg
        self.prepared = None
        self.prepared_for = ""
        self.figures.setRowCount(0)
        self.bar.setValue(0)
        self.bar.show()
        self.stop_button.show()
        self.save_button.setEnabled(False)
        self.copy_button.setEnabled(False)
        self._note(tr("Returns", "Preparing the figures for {period}…").format(period=describe_period(period)))

        def op(p):  # noqa: ANN001, ANN202
            return service.prepare_return(reg, period, progress=lambda pct, what: p.report(pct, 100, what),
                                          cancel=lambda: p.cancelled)

        handle = self.runner.run(op, lambda prepared: self._prepared(token, prepared),
                                 lambda exc: self._prepare_failed(token, exc))
        handle.signals.progress.connect(lambda done, total, text, t=token: self._prepare_progress(t, done, text))
        self._preparing = handle

    def _prepare_progress(self, token: int, done: int, text: str) -> None:
        if token == self._prepare_token:
            self.bar.setValue(done)
            self.bar.setFormat(f"{text} %p%" if text else "%p%")

    @Slot()
    def stop_preparing(self) -> None:
        if self._preparing is not None:
            self._preparing.cancel()

    def _prepared(self, token: int, prepared: PreparedReturn) -> None:
        if token != self._prepare_token:
            return
        self._preparing = None
        self.prepared = prepared
        self.prepared_for = prepared.meta.period
        self.stale = False
        self._show_idle()
        rows = prepared.headline()
        self.figures.setRowCount(len(rows))
        for r, (label, value) in enumerate(rows):
            what = QTableWidgetItem(tr("Returns", label))
            count = QTableWidgetItem(f"{value:,}" if isinstance(value, int) else str(value))
            count.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            self.figures.setItem(r, 0, what)
            self.figures.setItem(r, 1, count)
        self.figures.resizeRowsToContents()
        note = tr("Returns", "Figures for {period}, as the return will state them. Nothing has been saved yet.").format(
            period=describe_period(prepared.period))
        if not prepared.meta.linkage_key_id:
            note += " " + tr("Returns", "This register has no national linkage key yet, so the list of cases "
                                        "carries no person keys (the secretariat cannot match people across "
                                        "offices).")
        self._note(note)
        self.save_button.setEnabled(True)
        self.copy_button.setEnabled(True)

    def _prepare_failed(self, token: int, exc: BaseException) -> None:
        if token != self._prepare_token:
            return
        self._preparing = None
        self._show_idle()
        if isinstance(exc, Cancelled | OperationCancelled):
            self._note(tr("Returns", "Preparing the figures was stopped. Choose a period to start again."))
        elif isinstance(exc, ValidationError):
            # Values the standard does not allow: one plain sentence per case number.
            lines = [p.message for p in exc.problems]
            self._note(tr("Returns", "The return cannot be prepared until these are corrected in the "
                                     "register:") + "\n" + "\n".join(lines), error=True)
        elif isinstance(exc, TipdeskError):
            self._note(str(exc), error=True)
        else:
            self._note("", error=True)
            error_box(self, exc)

    def _show_idle(self) -> None:
        self.bar.hide()
        self.stop_button.hide()

    def _note(self, text: str, error: bool = False) -> None:
        self.figures_note.setText(text)
        self.figures_note.setAccessibleName(text)
        self.figures_note.setStyleSheet(ERROR_STYLE if error else "")

    # --- saving -------------------------------------------------------------------------------------

    @Slot()
    def choose_file(self, suppressed: bool) -> None:
        """Ask where to save (the standard's file name suggested), then save."""
        if self.prepared is None or self.save_handle is not None:
            return
        from exports.returns import service

        name = service.default_path(self.prepared, self.folder)
        if suppressed:
            name = name.with_name(name.stem + "_publication.xlsx")
        title = (tr("Returns", "Save publication copy (suppressed)") if suppressed
                 else tr("Returns", "Save return"))
        dialog = QFileDialog(self, title, str(name.parent))
        dialog.setObjectName("saveReturnDialog")
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        dialog.setNameFilter(tr("Returns", "Excel workbook (*.xlsx)"))
        dialog.setDefaultSuffix("xlsx")
        dialog.selectFile(name.name)
        # The dialog asks before replacing a file; saying yes there is the only way to replace one.
        dialog.fileSelected.connect(lambda path: self.save_to(Path(path), suppressed, replace_existing=True))
        dialog.finished.connect(lambda _r: dialog.deleteLater())
        self.file_dialog = dialog
        dialog.open()

    def save_to(self, path: Path, suppressed: bool = False, replace_existing: bool = False) -> None:
        """Save the prepared return (or its suppressed copy) to ``path``, with a progress dialog."""
        if self.prepared is None or self.save_handle is not None:
            return
        from exports.returns import service

        prepared, reg, period = self.prepared, self.reg, self.selected_period()
        fresh = not self.stale and self.prepared_for == period.code
        self.folder = path.parent

        def op(p):  # noqa: ANN001, ANN202
            report = lambda pct, what: p.report(pct, 100, what)  # noqa: E731
            again = prepared if fresh else service.prepare_return(reg, period, progress=report,
                                                                   cancel=lambda: p.cancelled)
            return service.save_return(reg, again, path, suppressed=suppressed, replace_existing=replace_existing,
                                       progress=report, cancel=lambda: p.cancelled)

        self.save_button.setEnabled(False)
        self.copy_button.setEnabled(False)
        self.save_message.hide()
        label = (tr("Returns", "Saving the publication copy…") if suppressed
                 else tr("Returns", "Saving the return…"))
        self.save_handle = self.runner.run(op, self._saved, self._save_failed, label=label, parent=self,
                                           changes={"returns"}, progress_delay_ms=self.save_progress_delay_ms)

    def _saved(self, written) -> None:  # noqa: ANN001 (WrittenReturn)
        self.save_handle = None
        self.last_saved = written.path
        self.save_button.setEnabled(True)
        self.copy_button.setEnabled(True)
        if self.prepared is not None and self.prepared_for == written.meta.period:
            self._note(tr("Returns", "Figures for {period}, as the saved return states them.").format(
                period=describe_period(self.prepared.period)))
        kind = (tr("Returns", "The publication copy") if written.meta.suppressed else tr("Returns", "The return"))
        self._say(tr("Returns", "{kind} of {period} was saved as {path}.").format(
            kind=kind, period=written.meta.period, path=written.path))

    def _save_failed(self, exc: BaseException) -> None:
        self.save_handle = None
        self.save_button.setEnabled(self.prepared is not None)
        self.copy_button.setEnabled(self.prepared is not None)
        if isinstance(exc, Cancelled | OperationCancelled):
            self._say(tr("Returns", "Saving was cancelled. Nothing was saved."))
        elif isinstance(exc, TipdeskError):
            self._say(str(exc), error=True)
        else:
            error_box(self, exc)

    def _say(self, text: str, error: bool = False) -> None:
        self.save_message.setText(text)
        self.save_message.setAccessibleName(text)
        self.save_message.setStyleSheet(ERROR_STYLE if error else "")
        self.save_message.setVisible(bool(text))

    # --- returns prepared before -----------------------------------------------------------------------

    def load_history(self) -> None:
        from exports.returns import service

        reg = self.reg
        self.runner.run(lambda _p: service.prepared_returns(reg), self._history_loaded,
                        lambda exc: error_box(self, exc))

    def _history_loaded(self, records: list) -> None:
        self.history_model.set_rows(records)
        self.history.resizeColumnsToContents()
        self.history.setVisible(bool(records))
        self.history_empty.setVisible(not records)

    # --- checking a file ------------------------------------------------------------------------------

    @Slot()
    def choose_file_to_check(self) -> None:
        dialog = QFileDialog(self, tr("Returns", "Check a return file"), str(self.folder))
        dialog.setObjectName("checkReturnDialog")
        dialog.setFileMode(QFileDialog.FileMode.ExistingFile)
        dialog.setNameFilters([tr("Returns", "Excel workbooks (*.xlsx)"), tr("Returns", "All files (*)")])
        dialog.fileSelected.connect(lambda path: self.check(Path(path)))
        dialog.finished.connect(lambda _r: dialog.deleteLater())
        self.file_dialog = dialog
        dialog.open()

    def check(self, path: Path) -> None:
        """Run the validator on ``path`` off the GUI thread and show its report."""
        from exports.returns import service

        self.check_button.setEnabled(False)
        self.verdict.setStyleSheet("")
        self.verdict.setText(tr("Returns", "Checking {file}…").format(file=path.name))
        self.problems.hide()

        def op(p):  # noqa: ANN001, ANN202
            return service.check_return_file(path, progress=lambda pct, what: p.report(pct, 100, what),
                                             cancel=lambda: p.cancelled)

        self.check_handle = self.runner.run(op, self._checked, self._check_failed,
                                            label=tr("Returns", "Checking the return file…"), parent=self)

    def _checked(self, report: ReadReport) -> None:
        self.check_button.setEnabled(True)
        self.report = report
        lines = report.lines()
        self.verdict.setText(lines[0])
        self.verdict.setAccessibleName(lines[0])
        self.verdict.setStyleSheet(OK_STYLE if report.ok else ERROR_STYLE)
        self.problems.clear()
        for problem in report.problems:
            self.problems.addItem(QListWidgetItem(str(problem)))
        for note in report.notes:
            self.problems.addItem(QListWidgetItem(tr("Returns", "Note: {note}").format(note=note)))
        self.problems.setVisible(self.problems.count() > 0)

    def _check_failed(self, exc: BaseException) -> None:
        self.check_button.setEnabled(True)
        if isinstance(exc, Cancelled | OperationCancelled):
            self.verdict.setText(tr("Returns", "The check was stopped."))
        elif isinstance(exc, TipdeskError):
            self.verdict.setText(str(exc))
            self.verdict.setStyleSheet(ERROR_STYLE)
        else:
            error_box(self, exc)
