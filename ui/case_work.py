"""The case editor's Shelter, Services and Follow-up sections.

Each section reads its case's rows when it is first shown (and again after a change), through
the core services, on the operation runner; its buttons open the dialogs of ``shelter_dialogs``,
``followup_dialogs`` and ``ServiceDialog`` below. Free texts (notes, objectives, outcomes)
arrive empty for roles that may not read them; nothing here reads a name.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFontMetrics, QPainter, QPalette, QPen
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from models import vocab
from tipdesk.errors import ValidationError
from ui.fields import ChoiceField, DateField, NotesField
from ui.followup_dialogs import ChangePlanDialog, RescheduleDialog, StartPlanDialog, VisitDialog
from ui.i18n import tr
from ui.shelter_dialogs import AdmitDialog, DischargeDialog, ReasonDialog, TransferDialog, WaitingListDialog
from ui.widgets import ERROR_STYLE
from ui.work_dialogs import CoreFormDialog
from ui.work_models import (
    DONE_COLOUR,
    MUTED_COLOUR,
    OVERDUE_COLOUR,
    RowsModel,
    followup_state,
    services_model,
    state_text,
    stays_model,
    timeline_model,
)

if TYPE_CHECKING:
    from tipdesk.services.records import CaseDetail
    from ui.case_editor import CaseEditor

WORK_SECTIONS = ("shelter", "services", "followup")


def _table(model: RowsModel, name: str) -> QTableView:
    view = QTableView()
    view.setModel(model)
    view.setObjectName(name)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    view.setTabKeyNavigation(False)
    view.setWordWrap(False)
    view.verticalHeader().hide()
    view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    view.horizontalHeader().setStretchLastSection(True)
    view.setMinimumHeight(150)
    return view


def _selected(view: QTableView, model: RowsModel):  # noqa: ANN202
    rows = view.selectionModel().selectedRows() if view.selectionModel() else []
    return model.row_at(rows[0].row()) if rows else None


class _Section(QWidget):
    """A section of the editor that loads its case's rows when shown."""

    key = ""
    changes_watched: frozenset[str] = frozenset()

    def __init__(self, editor: CaseEditor) -> None:
        super().__init__()
        self.editor = editor
        self.reg = editor.reg
        self.runner = editor.runner
        self.case_id: int | None = None
        self.case_number = ""
        self.case_closed = False
        self.stale = True
        self.col = QVBoxLayout(self)
        self.message = QLabel(self)
        self.message.setWordWrap(True)
        self.message.setObjectName(f"{self.key}Message")
        self.message.hide()
        self.new_note = QLabel(tr("Case", "Save the new case first; then this section can be used."), self)
        self.new_note.setWordWrap(True)
        self.runner.changed.connect(self._something_changed)

    def buttons_row(self, *buttons: tuple[str, str, Callable[[], Any]]) -> dict[str, QPushButton]:
        row = QHBoxLayout()
        made = {}
        for key, text, slot in buttons:
            b = QPushButton(text, self)
            b.setObjectName(f"{self.key}_{key}")
            b.setAccessibleName(text.replace("&", "").rstrip("…"))
            b.clicked.connect(lambda _c=False, s=slot: s())
            row.addWidget(b)
            made[key] = b
        row.addStretch(1)
        self.col.addLayout(row)
        return made

    def say(self, text: str, error: bool = False) -> None:
        self.message.setText(text)
        self.message.setStyleSheet(ERROR_STYLE if error else "")
        self.message.setVisible(bool(text))

    def set_case(self, detail: CaseDetail | None) -> None:
        new_id = detail.id if detail is not None else None
        if new_id != self.case_id:
            self.say("")
        self.case_id = new_id
        self.case_number = detail.case_number if detail is not None else ""
        self.case_closed = detail is not None and detail.case_status in ("Closed", "ClosedReferred")
        self.stale = True
        self.new_note.setVisible(detail is None)
        if detail is None:
            self.clear()
        elif self.isVisible():
            self.reload()

    def shown(self) -> None:
        if self.stale and self.case_id is not None:
            self.reload()

    def _something_changed(self, what: set) -> None:
        if what & self.changes_watched and self.case_id is not None:
            self.stale = True
            if self.isVisible():
                self.reload()

    def done(self, text: str) -> Callable[[object], None]:
        return lambda _result: self.say(text)

    def clear(self) -> None: ...

    def reload(self) -> None: ...


# --- shelter ---------------------------------------------------------------------------------------


class ShelterSection(_Section):
    key = "shelter"
    changes_watched = frozenset({"shelter", "facilities"})

    def __init__(self, editor: CaseEditor) -> None:
        super().__init__(editor)
        self.can_write = self.reg.actor.can("shelter.write")
        self.facilities: list = []
        self.occupancy: list = []
        self.plans: list = []
        self.col.addWidget(self.new_note)
        self.now = QLabel(self)
        self.now.setObjectName("placedNow")
        self.now.setWordWrap(True)
        self.col.addWidget(self.now)
        self.model = stays_model(self)
        self.view = _table(self.model, "stays")
        self.view.setAccessibleName(tr("Case", "Shelter stays"))
        label = QLabel(tr("Case", "S&tays in shelters (oldest first):"), self)
        label.setBuddy(self.view)
        self.col.addWidget(label)
        self.col.addWidget(self.view, 1)
        self.buttons = self.buttons_row(
            ("admit", tr("Case", "&Admit…"), self.admit), ("transfer", tr("Case", "T&ransfer…"), self.transfer),
            ("discharge", tr("Case", "&Discharge…"), self.discharge),
            ("waiting", tr("Case", "&Waiting list…"), self.waiting_list),
            ("remove", tr("Case", "Remove a stay recorded in &error…"), self.remove))
        self.col.addWidget(self.message)
        self.view.selectionModel().selectionChanged.connect(self._update)
        self._update()

    def open_stay(self):  # noqa: ANN201
        return next((s for s in self.model.rows() if s.is_open), None)

    def _update(self, *_a: object) -> None:
        known = self.case_id is not None
        open_stay = self.open_stay()
        w = self.can_write and known
        self.buttons["admit"].setEnabled(w and open_stay is None and not self.case_closed)
        self.buttons["transfer"].setEnabled(w and open_stay is not None and not self.case_closed)
        self.buttons["discharge"].setEnabled(w and open_stay is not None)
        self.buttons["waiting"].setEnabled(w and not self.case_closed)
        self.buttons["remove"].setEnabled(w and _selected(self.view, self.model) is not None)
        for b in self.buttons.values():
            b.setVisible(self.can_write)

    def clear(self) -> None:
        self.model.clear()
        self.now.setText("")
        self._update()

    def reload(self) -> None:
        from tipdesk.services import facilities, followup_plans, placements

        reg, case_id = self.reg, self.case_id
        if case_id is None:
            return
        self.stale = False
        plans_too = reg.actor.can("followup.read")

        def op(_p):  # noqa: ANN001, ANN202
            return (placements.stays_of_case(reg, case_id), facilities.list_facilities(reg),
                    placements.occupancy(reg, dt.date.today()),
                    followup_plans.list_plan_definitions(reg) if plans_too else [])

        self.runner.run(op, lambda r: self._loaded(case_id, r), lambda exc: self.say(str(exc), True))

    def _loaded(self, case_id: int, result) -> None:  # noqa: ANN001
        if case_id != self.case_id:
            return
        stays, self.facilities, self.occupancy, self.plans = result
        self.model.set_rows(stays)
        current = self.open_stay()
        if current is not None:
            self.now.setText(tr("Case", "Placed now: {bed} at {facility}, since {date} ({n} nights).").format(
                bed=current.bed_label or tr("Case", "a place"), facility=current.facility_name,
                date=current.admitted.isoformat(), n=current.nights()))
        else:
            self.now.setText(tr("Case", "Not placed in a shelter now.") if stays else
                             tr("Case", "Never placed in a shelter."))
        self._update()

    def admit(self) -> AdmitDialog | None:
        if self.case_id is None:
            return None
        dialog = AdmitDialog(self.reg, self.runner, self.facilities, self.occupancy, case_id=self.case_id,
                             case_number=self.case_number, parent=self)
        dialog.succeeded.connect(lambda stay: self.say(tr("Case", "Admitted to {bed} at {facility}.").format(
            bed=stay.bed_label or tr("Case", "a place"), facility=stay.facility_name)))
        dialog.open()
        return dialog

    def transfer(self) -> TransferDialog | None:
        stay = self.open_stay()
        if stay is None:
            return None
        dialog = TransferDialog(self.reg, self.runner, stay, self.facilities, self.occupancy, parent=self)
        dialog.succeeded.connect(lambda r: self.say(tr("Case", "Moved to {bed} at {facility}.").format(
            bed=r.opened.bed_label or tr("Case", "a place"), facility=r.opened.facility_name)))
        dialog.open()
        return dialog

    def discharge(self) -> DischargeDialog | None:
        stay = self.open_stay()
        if stay is None:
            return None
        dialog = DischargeDialog(self.reg, self.runner, stay, self.plans, parent=self)
        dialog.succeeded.connect(lambda r: self.say(
            tr("Case", "Discharged.") + (" " + tr("Case", "The follow-up plan has started.") if r.followup_plan_id else "")))
        dialog.open()
        return dialog

    def waiting_list(self) -> WaitingListDialog | None:
        if self.case_id is None:
            return None
        dialog = WaitingListDialog(self.reg, self.runner, self.facilities, case_id=self.case_id,
                                   case_number=self.case_number, parent=self)
        dialog.succeeded.connect(self.done(tr("Case", "Added to the waiting list.")))
        dialog.open()
        return dialog

    def remove(self) -> ReasonDialog | None:
        stay = _selected(self.view, self.model)
        if stay is None:
            return None
        from tipdesk.services import placements

        reg, stay_id = self.reg, stay.id
        dialog = ReasonDialog(
            reg, self.runner, tr("Case", "Remove a stay"), tr("Case", "&Remove"),
            tr("Case", "Only for a stay recorded in error (the wrong case, a test). The audit trail keeps what it "
                       "held and your reason."), lambda reason, _on: placements.remove_stay(reg, stay_id, reason),
            changes=frozenset({"shelter", "cases"}), parent=self)
        dialog.succeeded.connect(self.done(tr("Case", "The stay was removed.")))
        dialog.open()
        return dialog


# --- services --------------------------------------------------------------------------------------


class ServiceDialog(CoreFormDialog):
    """Plan or record a service (add), or change one (its status and dates)."""

    field_map = {"provider": "provider_org_id"}
    changes = frozenset({"services", "cases"})

    def __init__(self, editor: CaseEditor, case_id: int, service=None, parent: QWidget | None = None) -> None:  # noqa: ANN001
        title = tr("Services", "Plan or record a service") if service is None else tr("Services", "Change a service")
        super().__init__(editor.reg, editor.runner, title, tr("Services", "&Save"), parent,
                         tr("Services", "Planned: no actual dates yet. Ongoing: it started. Completed: it started "
                                        "and ended. A service counts in a period's return on every day it ran."))
        self.case_id, self.service = case_id, service
        partners = [(o.id, o.name) for o in editor.ctx.organisations]
        self.add(tr("Services", "&Service:"), ChoiceField("service_type", vocab.SERVICE_TYPES,
                                                          blank=tr("Services", "— choose —")))
        self.add(tr("Services", "&Provided by:"), ChoiceField("provider_org_id", partners,
                                                              blank=tr("Services", "This office")))
        self.add(tr("Services", "S&tatus:"), ChoiceField("status", vocab.SERVICE_STATUSES))
        self.add(tr("Services", "&Objectives:"), NotesField("objectives"))
        self.add(tr("Services", "Planned &from:"), DateField("planned_start"))
        self.add(tr("Services", "Planned &until:"), DateField("planned_end"))
        self.add(tr("Services", "Started &on:"), DateField("actual_start"))
        self.add(tr("Services", "&Ended on:"), DateField("actual_end"))
        self.add(tr("Services", "&Notes:"), NotesField("notes"))
        if service is not None:
            f = service.fields()
            self.form.set_values({k: getattr(f, k) for k in ("service_type", "provider_org_id", "status", "objectives",
                                                              "planned_start", "planned_end", "actual_start",
                                                              "actual_end", "notes")})
        else:
            self.form.set_values({"status": "Planned", "planned_start": dt.date.today()})

    def call(self, v: dict[str, Any]) -> Callable[[], Any]:
        from tipdesk.services import support_services as svc

        if v["service_type"] is None:
            raise ValidationError(tr("Services", "Choose the service."), "service_type")
        fields = svc.ServiceFields(**v)
        reg, case_id, service = self.reg, self.case_id, self.service
        if service is None:
            return lambda: svc.add_service(reg, case_id, fields)
        return lambda: svc.update_service(reg, service.id, fields)


class ServicesSection(_Section):
    key = "services"
    changes_watched = frozenset({"services"})

    def __init__(self, editor: CaseEditor) -> None:
        super().__init__(editor)
        self.can_write = self.reg.actor.can("service.write")
        self.col.addWidget(self.new_note)
        self.model = services_model(self)
        self.view = _table(self.model, "services")
        self.view.setAccessibleName(tr("Case", "Services"))
        label = QLabel(tr("Case", "Se&rvices (ongoing and planned first):"), self)
        label.setBuddy(self.view)
        self.col.addWidget(label)
        self.col.addWidget(self.view, 1)
        self.view.activated.connect(lambda _i: self.change())
        self.buttons = self.buttons_row(
            ("add", tr("Case", "&Plan or record a service…"), self.add),
            ("change", tr("Case", "&Change…"), self.change),
            ("complete", tr("Case", "Mark &completed…"), self.complete),
            ("remove", tr("Case", "Remove one recorded in &error…"), self.remove))
        self.col.addWidget(self.message)
        self.view.selectionModel().selectionChanged.connect(self._update)
        self._update()

    def _update(self, *_a: object) -> None:
        chosen = _selected(self.view, self.model)
        w = self.can_write and self.case_id is not None
        self.buttons["add"].setEnabled(w and not self.case_closed)
        self.buttons["change"].setEnabled(w and chosen is not None)
        self.buttons["complete"].setEnabled(w and chosen is not None and chosen.status in ("Planned", "Ongoing"))
        self.buttons["remove"].setEnabled(w and chosen is not None)
        for b in self.buttons.values():
            b.setVisible(self.can_write)

    def clear(self) -> None:
        self.model.clear()
        self._update()

    def reload(self) -> None:
        from tipdesk.services import support_services as svc

        reg, case_id = self.reg, self.case_id
        if case_id is None:
            return
        self.stale = False
        self.runner.run(lambda _p: svc.services_of_case(reg, case_id), lambda rows: self._loaded(case_id, rows),
                        lambda exc: self.say(str(exc), True))

    def _loaded(self, case_id: int, rows: Sequence) -> None:
        if case_id == self.case_id:
            self.model.set_rows(rows)
            self._update()

    def add(self) -> ServiceDialog | None:
        if self.case_id is None:
            return None
        dialog = ServiceDialog(self.editor, self.case_id, parent=self)
        dialog.succeeded.connect(self.done(tr("Case", "The service was saved.")))
        dialog.open()
        return dialog

    def change(self) -> ServiceDialog | None:
        chosen = _selected(self.view, self.model)
        if chosen is None or self.case_id is None or not self.can_write:
            return None
        dialog = ServiceDialog(self.editor, self.case_id, chosen, parent=self)
        dialog.succeeded.connect(self.done(tr("Case", "The service was saved.")))
        dialog.open()
        return dialog

    def complete(self) -> ServiceDialog | None:
        """Change the selected service with status Completed and today's end filled in."""
        dialog = self.change()
        if dialog is not None:
            today = dt.date.today()
            values: dict[str, Any] = {"status": "Completed", "actual_end": today}
            if dialog.form.fields["actual_start"].get() is None:
                values["actual_start"] = today
            dialog.form.set_values(values)
            dialog.setWindowTitle(tr("Services", "Mark a service completed"))
        return dialog

    def remove(self) -> ReasonDialog | None:
        chosen = _selected(self.view, self.model)
        if chosen is None:
            return None
        from tipdesk.services import support_services as svc

        reg, service_id = self.reg, chosen.id
        dialog = ReasonDialog(reg, self.runner, tr("Case", "Remove a service"), tr("Case", "&Remove"),
                              tr("Case", "Only for a service recorded in error. The audit trail keeps what it held."),
                              lambda reason, _on: svc.remove_service(reg, service_id, reason),
                              changes=frozenset({"services", "cases"}), parent=self)
        dialog.succeeded.connect(self.done(tr("Case", "The service was removed.")))
        dialog.open()
        return dialog


# --- follow-up -------------------------------------------------------------------------------------


class TimelineStrip(QWidget):
    """A case's follow-ups along a line of time: done (filled green), to do (hollow), overdue
    (red), cancelled (grey cross), and today."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("followupTimeline")
        self.followups: list = []
        self.today = dt.date.today()
        self.setMinimumHeight(QFontMetrics(self.font()).height() * 4 + 24)
        self.setFocusPolicy(Qt.FocusPolicy.TabFocus)

    def set_followups(self, followups: Sequence) -> None:
        self.followups = sorted(followups, key=lambda f: (f.due_date, f.id))
        counts = {"done": 0, "due": 0, "overdue": 0, "cancelled": 0}
        for f in self.followups:
            counts[followup_state(f, self.today)] += 1
        text = tr("Case", "Follow-ups: {done} done, {overdue} overdue, {due} to do, {cancelled} cancelled.").format(**counts)
        self.setAccessibleName(tr("Case", "Follow-up timeline"))
        self.setAccessibleDescription(text)
        self.setToolTip(text)
        self.update()

    def sizeHint(self) -> QSize:  # noqa: N802
        return QSize(600, self.minimumHeight())

    def paintEvent(self, _event) -> None:  # noqa: ANN001, N802
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        pal = self.palette()
        m = QFontMetrics(self.font())
        if not self.followups:
            painter.setPen(pal.color(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text))
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, tr("Case", "No follow-up planned."))
            return
        first = min(self.followups[0].due_date, self.today)
        last = max(self.followups[-1].due_date, self.today)
        span = max(1, (last - first).days)
        left, right = 16.0, float(self.width() - 16)
        y = m.height() + 10.0

        def x_of(day: dt.date) -> float:
            return left + (right - left) * (day - first).days / span

        painter.setPen(QPen(pal.color(QPalette.ColorRole.Mid), 2))
        painter.drawLine(QPointF(left, y), QPointF(right, y))
        tx = x_of(self.today)
        painter.setPen(QPen(pal.color(QPalette.ColorRole.Highlight), 2, Qt.PenStyle.DashLine))
        painter.drawLine(QPointF(tx, y - 12), QPointF(tx, y + 12))
        painter.setPen(pal.color(QPalette.ColorRole.Text))
        label = tr("Case", "today")
        painter.drawText(QRectF(tx - 60, 0, 120, m.height()), Qt.AlignmentFlag.AlignCenter, label)
        r = 6.0
        for f in self.followups:
            self._mark(painter, followup_state(f, self.today), QPointF(x_of(f.due_date), y), r)
        muted = pal.color(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text)
        painter.setPen(muted)
        painter.drawText(QRectF(left - 10, y + 12, 120, m.height()), Qt.AlignmentFlag.AlignLeft,
                         first.strftime("%b %Y"))
        painter.drawText(QRectF(right - 110, y + 12, 120, m.height()), Qt.AlignmentFlag.AlignRight,
                         last.strftime("%b %Y"))
        # the legend, with the very marks of the line
        states = ("done", "due", "overdue", "cancelled")
        widths = [m.horizontalAdvance(state_text(st)) + 2 * r + 8 for st in states]
        x = (left + right - sum(widths) - 16 * (len(states) - 1)) / 2
        ly = y + 14 + m.height() * 1.5
        for st, width in zip(states, widths, strict=True):
            self._mark(painter, st, QPointF(x + r, ly), r - 1)
            painter.setPen(pal.color(QPalette.ColorRole.Text))
            painter.drawText(QRectF(x + 2 * r + 6, ly - m.height() / 2, width, m.height()),
                             Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, state_text(st))
            x += width + 16

    def _mark(self, painter: QPainter, state: str, at: QPointF, r: float) -> None:
        """A follow-up's mark: filled green (done), hollow (to do), red (overdue), grey cross."""
        pal = self.palette()
        x, y = at.x(), at.y()
        painter.setBrush(Qt.BrushStyle.NoBrush)
        if state == "done":
            painter.setPen(QPen(DONE_COLOUR, 1.5))
            painter.setBrush(DONE_COLOUR)
            painter.drawEllipse(at, r, r)
        elif state == "overdue":
            painter.setPen(QPen(OVERDUE_COLOUR, 2))
            painter.setBrush(QColor(OVERDUE_COLOUR.red(), OVERDUE_COLOUR.green(), OVERDUE_COLOUR.blue(), 70))
            painter.drawEllipse(at, r, r)
        elif state == "cancelled":
            painter.setPen(QPen(MUTED_COLOUR, 2))
            painter.drawLine(QPointF(x - r + 1, y - r + 1), QPointF(x + r - 1, y + r - 1))
            painter.drawLine(QPointF(x - r + 1, y + r - 1), QPointF(x + r - 1, y - r + 1))
        else:
            painter.setPen(QPen(pal.color(QPalette.ColorRole.Text), 1.5))
            painter.setBrush(pal.color(QPalette.ColorRole.Base))
            painter.drawEllipse(at, r, r)


class FollowUpSection(_Section):
    key = "followup"
    changes_watched = frozenset({"followups", "shelter"})

    def __init__(self, editor: CaseEditor) -> None:
        super().__init__(editor)
        self.can_write = self.reg.actor.can("followup.write")
        self.plans: list = []
        self.definitions: list = []
        self.col.addWidget(self.new_note)
        self.plan_label = QLabel(self)
        self.plan_label.setObjectName("planSummary")
        self.plan_label.setWordWrap(True)
        self.plan_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.col.addWidget(self.plan_label)
        self.strip = TimelineStrip(self)
        self.col.addWidget(self.strip)
        self.model = timeline_model(self)
        self.view = _table(self.model, "followups")
        self.view.setAccessibleName(tr("Case", "Follow-ups"))
        label = QLabel(tr("Case", "Follow-&ups, by due date (Enter records the selected one):"), self)
        label.setBuddy(self.view)
        self.col.addWidget(label)
        self.col.addWidget(self.view, 1)
        self.view.activated.connect(lambda _i: self.record())
        self.buttons = self.buttons_row(
            ("record", tr("Case", "&Record the visit…"), self.record),
            ("unplanned", tr("Case", "Unplanned &contact…"), self.unplanned),
            ("move", tr("Case", "&Move…"), self.move),
            ("cancel", tr("Case", "Ca&ncel this one…"), self.cancel_one),
            ("start", tr("Case", "&Start follow-up…"), self.start_plan),
            ("change", tr("Case", "C&hange the plan…"), self.change_plan))
        self.col.addWidget(self.message)
        self.view.selectionModel().selectionChanged.connect(self._update)
        self._update()

    def active_plan(self):  # noqa: ANN201
        return next((p for p in self.plans if p.status == "Active"), None)

    def next_due(self):  # noqa: ANN201
        """The selected follow-up if it is still to do, else the earliest one still to do."""
        chosen = _selected(self.view, self.model)
        if chosen is not None and chosen.status == "Scheduled":
            return chosen
        return next((f for f in self.model.rows() if f.status == "Scheduled"), None)

    def _update(self, *_a: object) -> None:
        chosen = _selected(self.view, self.model)
        w = self.can_write and self.case_id is not None
        todo = self.next_due()
        self.buttons["record"].setEnabled(w and (todo is not None or (chosen is not None and chosen.status == "Done")))
        self.buttons["unplanned"].setEnabled(w)
        self.buttons["move"].setEnabled(w and chosen is not None and chosen.status == "Scheduled")
        self.buttons["cancel"].setEnabled(w and chosen is not None and chosen.status == "Scheduled")
        self.buttons["start"].setEnabled(w and self.active_plan() is None and not self.case_closed)
        plan = self.active_plan() or next((p for p in reversed(self.plans) if p.status == "Completed"), None)
        self.buttons["change"].setEnabled(w and plan is not None)
        for b in self.buttons.values():
            b.setVisible(self.can_write)

    def clear(self) -> None:
        self.plans = []
        self.model.clear()
        self.strip.set_followups([])
        self.plan_label.setText("")
        self._update()

    def reload(self) -> None:
        from tipdesk.services import followup, followup_plans

        reg, case_id = self.reg, self.case_id
        if case_id is None:
            return
        self.stale = False

        def op(_p):  # noqa: ANN001, ANN202
            return (followup.plans_of_case(reg, case_id), followup.followups_of_case(reg, case_id),
                    followup_plans.list_plan_definitions(reg))

        self.runner.run(op, lambda r: self._loaded(case_id, r), lambda exc: self.say(str(exc), True))

    def _loaded(self, case_id: int, result) -> None:  # noqa: ANN001
        if case_id != self.case_id:
            return
        self.plans, followups, self.definitions = result
        selected = _selected(self.view, self.model)
        self.model.set_rows(followups)
        if selected is not None:
            for row, f in enumerate(followups):
                if f.id == selected.id:
                    self.view.selectRow(row)
        self.strip.set_followups(followups)
        lines = []
        for p in self.plans:
            state = {"Active": tr("Case", "active"), "Completed": tr("Case", "completed"),
                     "Cancelled": tr("Case", "cancelled")}.get(p.status, p.status)
            text = tr("Case", "{name}: started {date}, {state}").format(
                name=p.definition_name or tr("Case", "Plan"), date=p.started_on.isoformat(), state=state)
            if p.ended_on:
                text += tr("Case", " on {date}").format(date=p.ended_on.isoformat())
            if p.status == "Active":
                text += tr("Case", "; {n} follow-up(s) still to do").format(n=p.outstanding)
            lines.append(text + ".")
        if not lines:
            lines.append(tr("Case", "No follow-up plan. A discharge into reintegration starts one, or press "
                                    "Start follow-up."))
        self.plan_label.setText("\n".join(lines))
        self._update()

    def record(self) -> VisitDialog | None:
        chosen = _selected(self.view, self.model)
        target = chosen if chosen is not None and chosen.status == "Done" else self.next_due()
        if target is None or self.case_id is None or not self.can_write:
            return None
        dialog = VisitDialog(self.reg, self.runner, case_id=self.case_id, case_number=self.case_number,
                             followup_id=target.id, due=target.due_date, staff=self.editor.ctx.owners, parent=self)
        if target.status == "Done":  # a correction: start from what was recorded
            dialog.setWindowTitle(tr("Case", "Correct the follow-up of {date}").format(date=target.due_date.isoformat()))
            dialog.form.set_values({
                "done_date": target.done_date, "mode": target.mode, "risk_level": target.risk_level,
                "score_economic": str(target.score_economic) if target.score_economic else None,
                "score_social": str(target.score_social) if target.score_social else None,
                "score_psychosocial": str(target.score_psychosocial) if target.score_psychosocial else None,
                "safety_note": target.safety_note or "", "outcome": target.outcome or "",
                "next_action": target.next_action or ""})
        dialog.succeeded.connect(self.done(tr("Case", "The follow-up was recorded.")))
        dialog.open()
        return dialog

    def unplanned(self) -> VisitDialog | None:
        if self.case_id is None:
            return None
        dialog = VisitDialog(self.reg, self.runner, case_id=self.case_id, case_number=self.case_number,
                             staff=self.editor.ctx.owners, parent=self)
        dialog.succeeded.connect(self.done(tr("Case", "The contact was recorded.")))
        dialog.open()
        return dialog

    def move(self) -> RescheduleDialog | None:
        chosen = _selected(self.view, self.model)
        if chosen is None or chosen.status != "Scheduled":
            return None
        dialog = RescheduleDialog(self.reg, self.runner, chosen.id, chosen.due_date, parent=self)
        dialog.succeeded.connect(self.done(tr("Case", "The follow-up was moved.")))
        dialog.open()
        return dialog

    def cancel_one(self) -> ReasonDialog | None:
        chosen = _selected(self.view, self.model)
        if chosen is None or chosen.status != "Scheduled":
            return None
        from tipdesk.services import followup

        reg, fid = self.reg, chosen.id
        dialog = ReasonDialog(reg, self.runner, tr("Case", "Cancel a follow-up"), tr("Case", "Cancel &it"),
                              tr("Case", "The follow-up due on {date} will not happen. It no longer counts as due or "
                                         "overdue.").format(date=chosen.due_date.isoformat()),
                              lambda reason, on: followup.cancel_followup(reg, fid, reason=reason, on=on),
                              with_date=tr("Case", "Cancelled &on:"), changes=frozenset({"followups", "cases"}),
                              parent=self)
        dialog.succeeded.connect(self.done(tr("Case", "The follow-up was cancelled.")))
        dialog.open()
        return dialog

    def start_plan(self) -> StartPlanDialog | None:
        if self.case_id is None:
            return None
        dialog = StartPlanDialog(self.reg, self.runner, self.case_id, self.definitions, parent=self)
        dialog.succeeded.connect(self.done(tr("Case", "Follow-up has started.")))
        dialog.open()
        return dialog

    def change_plan(self) -> ChangePlanDialog | None:
        plan = self.active_plan() or next((p for p in reversed(self.plans) if p.status == "Completed"), None)
        if plan is None:
            return None
        dialog = ChangePlanDialog(self.reg, self.runner, plan, parent=self)
        dialog.succeeded.connect(self.done(tr("Case", "The plan was changed.")))
        dialog.open()
        return dialog


class CaseWork:
    """The three sections, as the case editor holds them."""

    def __init__(self, editor: CaseEditor) -> None:
        self.sections: dict[str, _Section] = {
            "shelter": ShelterSection(editor),
            "services": ServicesSection(editor),
            "followup": FollowUpSection(editor),
        }

    def titles(self) -> dict[str, str]:
        return {"shelter": tr("Case", "Shelter"), "services": tr("Case", "Services"),
                "followup": tr("Case", "Follow-up")}

    def set_case(self, detail: CaseDetail | None) -> None:
        for section in self.sections.values():
            section.set_case(detail)

    def shown(self, key: str) -> None:
        section = self.sections.get(key)
        if section is not None:
            section.shown()

