"""The Dashboard: figures of a quarter, a year or any stretch of days, as charts and tables.

Every number is the return's (TIP-RETURN/1) for the same period, computed by the return's own
code (``exports.dashboard``). The four sections — persons identified, shelter, follow-ups,
trends over eight quarters — are computed side by side on the operation runner and shown as
each arrives, so the window never waits. A period that has not ended is counted up to today and
marked provisional; nothing here ever shows a name.
"""

from __future__ import annotations

import datetime as dt
import time
from typing import TYPE_CHECKING

from PySide6.QtCore import QDate, Qt, QTimer, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from exports import dashboard as core
from exports.returns import spec
from models import vocab
from models.countries import country_name
from tipdesk import counting
from tipdesk.counting import Period
from ui.charts import ChartCard
from ui.i18n import tr
from ui.pages.base import Page
from ui.widgets import heading

if TYPE_CHECKING:
    from tipdesk.vault.register import Register
    from ui.operations import OperationRunner

#: The sections counted one after the other in each lane, the two lanes side by side on the
#: operation runner's two threads. Every section is mostly SQLite's work, which lets go of the
#: interpreter while it reads; follow-ups is the longest (about as long as the other three
#: together on a year of 100,000 cases), so it has a lane of its own.
LANES = (("people", "shelter", "trends"), ("followups",))
PYTHON_SECTION = "people"
TOP_COUNTRIES = 8
SEXES = (("Female", "Female"), ("Male", "Male"), ("Other", "Other"), ("Unknown sex", "Not recorded"))
AGES = (("0-17", "0–17"), ("18+", "18+"), ("age unknown", "age unknown"))


def _qdate(day: dt.date) -> QDate:
    return QDate(day.year, day.month, day.day)


def _pydate(day: QDate) -> dt.date:
    return dt.date(day.year(), day.month(), day.day())


def _short(label: str, most: int = 24) -> str:
    """A chart label of at most ``most`` characters, shortened with an ellipsis."""
    return label if len(label) <= most else label[:most - 1].rstrip() + "…"


def _short_country(code: str) -> str:
    """A country's name without its official additions, e.g. 'Venezuela (VEN)'."""
    name = country_name(code).split(" (")[0].split(",")[0]
    return f"{name[:18]}… ({code})" if len(name) > 19 else f"{name} ({code})"


class Tile(QFrame):
    """One headline number."""

    def __init__(self, caption: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        col = QVBoxLayout(self)
        col.setContentsMargins(12, 8, 12, 8)
        self.value = QLabel("—", self)
        font = self.value.font()
        font.setPointSizeF(font.pointSizeF() * 1.9)
        font.setBold(True)
        self.value.setFont(font)
        self.caption = QLabel(caption, self)
        self.caption.setWordWrap(True)
        col.addWidget(self.value)
        col.addWidget(self.caption)
        self.setAccessibleName(caption)

    def set(self, value: int | None) -> None:
        self.value.setText("—" if value is None else f"{value:,}")
        self.setAccessibleDescription(self.value.text())


class DashboardPage(Page):
    key = "dashboard"
    section_shown = Signal(str)
    all_shown = Signal()

    def __init__(self, reg: Register, runner: OperationRunner, parent: QWidget | None = None) -> None:
        super().__init__(reg, runner, parent)
        self.setObjectName("DashboardPage")
        self.today = dt.date.today()
        self.requested: Period = counting.last_complete_quarter(self.today)
        self.counted: Period = self.requested
        self.provisional = False
        self.results: dict[str, object] = {}
        self._cache: dict[tuple, dict[str, object]] = {}
        self._token = 0
        self.started_at = 0.0
        self.section_ms: dict[str, float] = {}
        self._handles: list = []
        self._lanes: list[list] = []
        self._drawing: list = []
        self._holding = False  # charts wait while persons identified counts (see ``_later``)
        self.shown_sections: set[str] = set()

        outer = QVBoxLayout(self)
        top = QHBoxLayout()
        top.addWidget(heading(tr("Dashboard", "Dashboard"), self))
        top.addStretch(1)
        self.kind = QComboBox(self)
        self.kind.setObjectName("periodKind")
        for value, text in (("quarter", tr("Dashboard", "Quarter")), ("year", tr("Dashboard", "Year")),
                            ("custom", tr("Dashboard", "From … to …"))):
            self.kind.addItem(text, value)
        kind_label = QLabel(tr("Dashboard", "&Period:"), self)
        kind_label.setBuddy(self.kind)
        self.kind.setAccessibleName(tr("Dashboard", "Kind of period"))
        self.which = QComboBox(self)
        self.which.setObjectName("periodChoice")
        self.which.setAccessibleName(tr("Dashboard", "Which period"))
        self.which.setMinimumWidth(170)
        self.start_edit, self.end_edit = QDateEdit(self), QDateEdit(self)
        for edit, name in ((self.start_edit, tr("Dashboard", "From")), (self.end_edit, tr("Dashboard", "To"))):
            edit.setCalendarPopup(True)
            edit.setDisplayFormat("yyyy-MM-dd")
            edit.setAccessibleName(name)
        self.start_edit.setDate(_qdate(self.requested.start))
        self.end_edit.setDate(_qdate(self.requested.end))
        self.to_label = QLabel(tr("Dashboard", "to"), self)
        self.show_button = QPushButton(tr("Dashboard", "&Show"), self)
        self.show_button.setAccessibleName(tr("Dashboard", "Show the figures of these dates"))
        for w in (kind_label, self.kind, self.which, self.start_edit, self.to_label, self.end_edit, self.show_button):
            top.addWidget(w)
        outer.addLayout(top)
        self.status = QLabel(self)
        self.status.setObjectName("dashboardStatus")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        outer.addWidget(self.status)

        area = QScrollArea(self)
        area.setWidgetResizable(True)
        area.setFrameShape(QScrollArea.Shape.NoFrame)
        inner = QWidget(area)
        grid = QGridLayout(inner)
        grid.setContentsMargins(0, 0, 4, 0)
        tiles = QHBoxLayout()
        self.tiles = {
            "victims": Tile(tr("Dashboard", "victims identified (possible or actual)"), inner),
            "children": Tile(tr("Dashboard", "of them children (0–17)"), inner),
            "in_shelter": Tile(tr("Dashboard", "in shelter on the last day"), inner),
            "overdue": Tile(tr("Dashboard", "cases with a follow-up overdue on the last day"), inner),
        }
        for t in self.tiles.values():
            tiles.addWidget(t)
        grid.addLayout(tiles, 0, 0, 1, 2)
        self.cards = {
            "sex_age": ChartCard("sex_age", tr("Dashboard", "Victims identified, by sex and age group"), inner),
            "forms": ChartCard("forms", tr("Dashboard", "Victims identified, by form of exploitation"), inner),
            "citizenship": ChartCard("citizenship", tr("Dashboard", "Victims identified, by citizenship (top {n})").format(
                n=TOP_COUNTRIES), inner),
            "identified_by": ChartCard("identified_by", tr("Dashboard", "Victims identified, by who identified them"),
                                       inner),
            "occupancy": ChartCard("occupancy", tr("Dashboard", "Shelter: people placed each night"), inner),
            "followups": ChartCard("followups", tr("Dashboard", "Follow-ups: due, done and overdue"), inner),
            "trends": ChartCard("trends", tr("Dashboard", "Trends over the last eight quarters"), inner),
        }
        order = ("sex_age", "forms", "citizenship", "identified_by", "occupancy", "followups")
        for i, key in enumerate(order):
            grid.addWidget(self.cards[key], 1 + i // 2, i % 2)
        grid.addWidget(self.cards["trends"], 4, 0, 1, 2)
        self.cards["trends"].view.setMinimumHeight(300)
        grid.setColumnStretch(0, 1)
        grid.setColumnStretch(1, 1)
        area.setWidget(inner)
        outer.addWidget(area, 1)
        self.note = QLabel(tr("Dashboard", "Every figure is the one the standard return (TIP-RETURN/1) gives for the "
                                           "same period, counted the same way. No names are ever shown here."), self)
        self.note.setWordWrap(True)
        self.note.setEnabled(False)
        outer.addWidget(self.note)
        for card in self.cards.values():
            card.copied.connect(lambda c=card: self.status_flash(tr("Dashboard", "Copied “{title}” as a picture.").format(
                title=c.title.text())))

        self.kind.currentIndexChanged.connect(self._kind_changed)
        self.which.currentIndexChanged.connect(self._which_changed)
        self.show_button.clicked.connect(self._custom_chosen)
        sc = QShortcut(QKeySequence("F5"), self)
        sc.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        sc.activated.connect(lambda: self.show_period(self.requested, use_cache=False))
        self.runner.changed.connect(self._something_changed)
        self._kind_changed()

    # --- choosing the period ------------------------------------------------------------------------

    def _kind_changed(self, *_a: object) -> None:
        kind = self.kind.currentData()
        custom = kind == "custom"
        for w in (self.start_edit, self.to_label, self.end_edit, self.show_button):
            w.setVisible(custom)
        self.which.setVisible(not custom)
        if custom:
            return
        self.which.blockSignals(True)
        self.which.clear()
        current = counting.period_containing(self.today, quarter=kind == "quarter")
        p = current
        for _ in range(16 if kind == "quarter" else 8):
            label = p.code if p.end < self.today else tr("Dashboard", "{code} (so far)").format(code=p.code)
            self.which.addItem(label, p.code)
            p = p.previous()
        default = counting.last_complete_quarter(self.today).code if kind == "quarter" else current.code
        self.which.setCurrentIndex(max(0, self.which.findData(default)))
        self.which.blockSignals(False)
        self._which_changed()

    def _which_changed(self, *_a: object) -> None:
        code = self.which.currentData()
        if code:
            self.show_period(counting.parse_period(code))

    def _custom_chosen(self) -> None:
        from tipdesk.errors import UsageError

        try:
            period = core.custom_period(_pydate(self.start_edit.date()), _pydate(self.end_edit.date()))
        except UsageError as exc:
            self.status.setText(str(exc))
            return
        self.show_period(period)

    # --- computing ---------------------------------------------------------------------------------

    def show_period(self, requested: Period, use_cache: bool = True) -> None:
        """Compute (or take from this session's cache) and show every section for ``requested``."""
        from tipdesk.errors import UsageError

        self.today = dt.date.today()
        try:
            counted, provisional = core.counted_period(requested, self.today)
        except UsageError as exc:
            self.status.setText(str(exc))
            return
        self.requested, self.counted, self.provisional = requested, counted, provisional
        self._token += 1
        token = self._token
        self.started_at = time.perf_counter()
        self.section_ms = {}
        self.results = {}
        self.shown_sections = set()
        self._drawing = []
        self._say_status(counting_now=True)
        key = (requested, self.today)
        cached = self._cache.get(key, {}) if use_cache else {}
        self._holding = PYTHON_SECTION not in cached
        for card in self.cards.values():
            card.set_waiting(True)
        for handle in self._handles:
            handle.cancel()  # an older period still being counted: stop it
        self._handles = []
        self._lanes = [[core.SECTION[k] for k in lane if k not in cached] for lane in LANES]
        for section in core.SECTIONS:
            if section.key in cached:
                self._section_done(token, key, section.key, cached[section.key])
        for lane in self._lanes:
            self._next_section(token, key, counted, lane)

    def _next_section(self, token: int, key: tuple, counted: Period, lane: list) -> None:
        """Count the next section of ``lane``; the lanes run side by side (see ``LANES``)."""
        if token != self._token or not lane:
            return
        section = lane.pop(0)
        reg, today = self.reg, self.today

        def op(progress, compute=section.compute):  # noqa: ANN001, ANN202
            with reg.read() as s:
                return compute(s, counted, today, lambda: progress.cancelled)

        def done(result: object, k: str = section.key) -> None:
            self._section_done(token, key, k, result)
            self._next_section(token, key, counted, lane)

        self._handles.append(self.runner.run(op, done, lambda exc, k=section.key: self._section_failed(token, k, exc),
                                             label=tr("Dashboard", "Counting…"), progress_delay_ms=-1))

    def _section_done(self, token: int, key: tuple, section: str, result: object) -> None:
        if token != self._token:
            return
        self._cache.setdefault(key, {})[section] = result
        self.results[section] = result
        getattr(self, f"_show_{section}")(result)
        if section == PYTHON_SECTION:
            self._release()

    def _release(self) -> None:
        """The Python lane's section has finished: draw what waited."""
        if self._holding:
            self._holding = False
            if self._drawing:
                QTimer.singleShot(0, self, self._draw_next)

    def _later(self, token: int, work, first: bool = False) -> None:  # noqa: ANN001
        """Draw one chart per turn of the event loop, so that keys and clicks get in between.

        While persons identified is being counted the charts of sections already counted wait:
        it is counted first and finishes first on an ordinary register, so this costs nothing;
        but a period holding a value the return refuses is counted case by case in Python on
        the other thread, and a chart drawn meanwhile runs Python for thousands of Qt events,
        each waiting for the interpreter the counting holds (stalls of 100 ms and more when
        this was the rule for every period)."""
        if first:
            self._drawing.insert(0, (token, work))
        else:
            self._drawing.append((token, work))
        if len(self._drawing) == 1 and not self._holding:
            QTimer.singleShot(0, self, self._draw_next)  # bound to the page: dropped if it goes

    def _draw_next(self) -> None:
        if not self._drawing or self._holding:
            return
        token, work = self._drawing.pop(0)
        if token == self._token:
            work()
        if self._drawing:
            QTimer.singleShot(0, self, self._draw_next)

    @property
    def complete(self) -> bool:
        """Every section of the period asked for last is drawn."""
        return len(self.shown_sections) == len(core.SECTIONS)

    def _section_drawn(self, token: int, section: str) -> None:
        if token != self._token:
            return
        self.section_ms[section] = (time.perf_counter() - self.started_at) * 1000
        self.shown_sections.add(section)
        self.section_shown.emit(section)
        if len(self.shown_sections) == len(core.SECTIONS):
            self._say_status(counting_now=False)
            self.all_shown.emit()

    def _section_failed(self, token: int, section: str, exc: BaseException) -> None:
        if token != self._token:
            return
        if section == PYTHON_SECTION:
            self._release()  # the other sections are drawn all the same
        from ui.operations import OperationCancelled

        from tipdesk.errors import Cancelled

        if isinstance(exc, OperationCancelled | Cancelled):
            return
        from tipdesk.errors import TipdeskError

        text = str(exc) if isinstance(exc, TipdeskError) else tr(
            "Dashboard", "Something went wrong while counting ({kind}).").format(kind=type(exc).__name__)
        self.status.setText(text)

    def _something_changed(self, what: set) -> None:
        if what & {"cases", "shelter", "followups", "services", "facilities", "organisations"}:
            self._cache.clear()
            if self.isVisible():
                self.show_period(self.requested, use_cache=False)

    def activated(self) -> None:
        if not self.results and self._token == 0:
            self.show_period(self.requested)

    def status_flash(self, text: str) -> None:
        self.status.setText(text)

    def _say_status(self, counting_now: bool) -> None:
        p = self.counted
        dates = tr("Dashboard", "{start} to {end}").format(start=p.start.isoformat(), end=p.end.isoformat())
        if self.provisional:
            text = tr("Dashboard", "{code}, so far ({dates}): provisional figures, counted as things stand today. "
                                   "The return for {code} counts on its last day, {end}.").format(
                code=self.requested.code, dates=dates, end=self.requested.end.isoformat())
        else:
            text = tr("Dashboard", "{code} ({dates}): the figures of the return for this period.").format(
                code=p.code, dates=dates)
        if counting_now:
            text += " " + tr("Dashboard", "Counting…")
        people = self.results.get("people")
        if people is not None and people.left_out:
            text += " " + tr("Dashboard", "{n} case(s) hold values the return does not allow and are left out: "
                                          "{cases}. Correct them before preparing the return.").format(
                n=len(people.left_out), cases=", ".join(people.left_out[:10]))
        self.status.setText(text)

    # --- showing -----------------------------------------------------------------------------------

    def _draw(self, section: str, *charts) -> None:  # noqa: ANN002
        """Each of ``charts`` (key, fill) drawn in a turn of its own, then the section is done."""
        token = self._token
        jobs = []
        for key, fill in charts:
            def job(key=key, fill=fill) -> None:  # noqa: ANN001
                fill(self.cards[key])
                self.cards[key].set_waiting(False)
            jobs.append(job)
        jobs.append(lambda: self._section_drawn(token, section))
        # The section the others waited for is drawn before them (it is the one asked for first).
        first = self._holding and section == PYTHON_SECTION
        for job in reversed(jobs) if first else jobs:
            self._later(token, job, first=first)

    def _show_people(self, people: core.PeopleFigures) -> None:
        t2, t3, t4 = people.tables[spec.T2], people.tables[spec.T3], people.tables[spec.T4]
        row = t2.row("Total victims") or ()
        cols = list(t2.columns)

        def cell(sex: str, age: str) -> int:
            name = f"{sex} {age}"
            return int(row[cols.index(name)]) if row and name in cols else 0

        sexes = [tr("Vocabulary", label) for _k, label in SEXES]
        forms = list(spec.T2_ROWS[:-1])
        countries = [(name, int(t3.value(name, "Total") or 0)) for name, _v in t3.rows if name not in spec.T3_FIXED]
        countries.sort(key=lambda c: (-c[1], c[0]))
        shown = countries[:TOP_COUNTRIES]
        rest = sum(n for _c, n in countries[TOP_COUNTRIES:])
        labels = [_short_country(c) for c, _n in shown]
        values = [n for _c, n in shown]
        if rest:
            labels.append(tr("Dashboard", "other countries"))
            values.append(rest)
        unknown = int(t3.value("Unknown", "Total") or 0)
        if unknown:
            labels.append(tr("Dashboard", "not recorded"))
            values.append(unknown)
        orgs = [(name, int(t4.value(name, "Total") or 0)) for name, _v in t4.rows]
        orgs = [o for o in orgs if o[1]] or orgs
        org_labels = [_short(tr("Vocabulary", vocab.label(vocab.ORG_TYPES, n)) if n not in spec.T4_FIXED
                             else tr("Vocabulary", n)) for n, _v in orgs]

        def citizenship(card: ChartCard) -> None:
            card.set_bars(tr("Dashboard", "Citizenship (first listed)"), labels[::-1],
                          [(tr("Dashboard", "Victims"), values[::-1])], horizontal=True)
            card.set_note(tr("Dashboard", "Domestic: {d} · transnational: {t} · scope unknown: {u}.").format(
                d=t3.value("Domestic", "Total") or 0, t=t3.value("Transnational", "Total") or 0,
                u=t3.value("Scope unknown", "Total") or 0))

        self.tiles["victims"].set(int(t2.value("Total victims", "Total") or 0))
        self.tiles["children"].set(sum(cell(sex, "0-17") for sex, _l in SEXES))
        self._say_status(counting_now=len(self.results) < len(core.SECTIONS))
        self._draw("people",
                   ("sex_age", lambda card: card.set_bars(tr("Dashboard", "Sex"), sexes, [
                       (tr("Dashboard", age_label), [cell(sex, age) for sex, _l in SEXES]) for age, age_label in AGES
                   ], stacked=True)),
                   ("forms", lambda card: card.set_bars(
                       tr("Dashboard", "Form of exploitation"), [tr("Vocabulary", f) for f in forms],
                       [(tr("Dashboard", "Victims"), [int(t2.value(f, "Total") or 0) for f in forms])],
                       horizontal=True)),
                   ("citizenship", citizenship),
                   ("identified_by", lambda card: card.set_bars(
                       tr("Dashboard", "Identified by"), org_labels[::-1],
                       [(tr("Dashboard", "Victims"), [v for _n, v in orgs][::-1])], horizontal=True)))

    def _show_shelter(self, shelter: core.ShelterFigures) -> None:
        points = shelter.occupancy
        days = [p.day.strftime("%d %b") for p in points]
        every = max(1, -(-len(points) // 8))
        t5 = shelter.table
        average = t5.value("Total", "Average stay of discharged (days)")

        def fill(card: ChartCard) -> None:
            card.set_lines(tr("Dashboard", "Night of"), days, [
                (tr("Dashboard", "People placed"), [p.occupied for p in points]),
                (tr("Dashboard", "Places"), [shelter.capacity] * len(points)),
            ], dashed=(tr("Dashboard", "Places"),), label_every=every)
            card.set_note(tr(
                "Dashboard", "Admissions {a} · discharges {d} · bed-nights {n:,} · average stay of those discharged: "
                             "{s}.").format(
                a=t5.value("Total", "Admissions"), d=t5.value("Total", "Discharges"),
                n=t5.value("Total", "Bed-nights") or 0,
                s=tr("Dashboard", "{days} days").format(days=average) if average not in (None, "") else "—"))

        self.tiles["in_shelter"].set(int(t5.value("Total", "Occupied at period end") or 0))
        self._draw("shelter", ("occupancy", fill))

    def _show_followups(self, f: core.FollowUpFigures) -> None:
        self.tiles["overdue"].set(f.cases_overdue)
        self._draw("followups", ("followups", lambda card: card.set_bars(tr("Dashboard", "Follow-ups"), [
            tr("Dashboard", "due"), tr("Dashboard", "done"), tr("Dashboard", "overdue at the end")], [
            (tr("Dashboard", "Follow-ups"), [f.due, f.done, f.overdue]),
            (tr("Dashboard", "Cases"), [f.cases_due, f.cases_done, f.cases_overdue]),
        ])))

    def _show_trends(self, quarters: tuple) -> None:
        labels = [q.period.code + ("*" if q.provisional else "") for q in quarters]
        series = [(tr("Dashboard", "Victims identified"), [q.victims for q in quarters])]
        for i, form in enumerate(spec.T2_ROWS[:-1]):
            series.append((tr("Vocabulary", form), [q.by_form[i][1] for q in quarters]))
        series.append((tr("Dashboard", "In shelter at the quarter's end"), [q.in_shelter_at_end for q in quarters]))
        provisional = [q.period.code for q in quarters if q.provisional]

        def fill(card: ChartCard) -> None:
            card.set_lines(tr("Dashboard", "Quarter"), labels, series,
                           dashed=(tr("Dashboard", "In shelter at the quarter's end"),))
            card.set_note(tr("Dashboard", "* {code} so far (provisional).").format(code=provisional[0])
                          if provisional else "")

        self._draw("trends", ("trends", fill))
