"""Follow-up dialogs: record a visit, move one follow-up, start or change a plan.

The rules are the core's (``tipdesk.services.followup``): a date not in the future, the mode,
scores 1–5 (each optional), the risk level (required) and a safety note when the risk is
high; changing a plan needs a reason. Each score choice says what its level means
(``models.vocab.SCORE_LEVELS``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from PySide6.QtWidgets import QButtonGroup, QHBoxLayout, QRadioButton, QWidget

from models import vocab
from tipdesk.errors import ValidationError
from ui.fields import ChoiceField, DateField, Field, IntField, NotesField
from ui.i18n import tr
from ui.work_dialogs import CoreFormDialog, reason_field

if TYPE_CHECKING:
    from tipdesk.vault.register import Register
    from ui.operations import OperationRunner

FOLLOWUP_CHANGES = frozenset({"followups", "cases"})
SCORE_CHOICES = tuple((str(n), text) for n, text in vocab.SCORE_LEVELS)


class RiskField(Field):
    """Low / medium / high as three radio buttons (arrow keys move between them)."""

    def __init__(self, name: str) -> None:
        holder = QWidget()
        row = QHBoxLayout(holder)
        row.setContentsMargins(0, 0, 0, 0)
        self.group = QButtonGroup(holder)
        self.buttons: dict[str, QRadioButton] = {}
        for value, label in vocab.RISK_LEVELS:
            b = QRadioButton(tr("Vocabulary", label), holder)
            b.setAccessibleName(tr("FollowUp", "Risk: {level}").format(level=tr("Vocabulary", label)))
            self.group.addButton(b)
            self.buttons[value] = b
            row.addWidget(b)
        row.addStretch(1)
        super().__init__(name, holder)
        holder.setFocusProxy(self.buttons["Low"])

    def get(self) -> str | None:
        return next((v for v, b in self.buttons.items() if b.isChecked()), None)

    def set(self, value: Any) -> None:
        self.group.setExclusive(False)
        for v, b in self.buttons.items():
            b.setChecked(v == value)
        self.group.setExclusive(True)

    def get_raw(self) -> str | None:
        return self.get()

    def set_raw(self, raw: Any) -> None:
        self.set(raw)

    def connect(self, slot) -> None:  # noqa: ANN001
        self.group.buttonToggled.connect(lambda *_: slot())


class VisitDialog(CoreFormDialog):
    """Record a follow-up as done (planned, or an unplanned contact when ``followup_id`` is None)."""

    changes = FOLLOWUP_CHANGES

    def __init__(self, reg: Register, runner: OperationRunner, *, case_id: int, case_number: str,
                 followup_id: int | None = None, due: dt.date | None = None, staff: Sequence = (),
                 parent: QWidget | None = None) -> None:
        planned = followup_id is not None
        title = (tr("FollowUp", "Record the follow-up of {case}") if planned
                 else tr("FollowUp", "Record an unplanned contact with {case}")).format(case=case_number)
        if planned and due:
            late = (dt.date.today() - due).days
            intro = (tr("FollowUp", "{case}: due on {date}, overdue by {n} days.") if late > 0
                     else tr("FollowUp", "{case}: due on {date}.")).format(case=case_number, date=due.isoformat(), n=late)
        else:
            intro = tr("FollowUp", "{case}: a contact that was not scheduled (due and done the same day).").format(
                case=case_number)
        super().__init__(reg, runner, title, tr("FollowUp", "&Record"), parent, intro)
        self.case_id, self.followup_id = case_id, followup_id
        self.add(tr("FollowUp", "&Date of the contact:"), DateField("done_date"))
        self.add(tr("FollowUp", "&How:"), ChoiceField("mode", vocab.FOLLOWUP_MODES, blank=tr("FollowUp", "— choose —")))
        me = reg.actor.id
        people = [(p.id, p.display_name or p.username) for p in staff]
        if me is not None and all(pid != me for pid, _ in people):
            people.insert(0, (me, reg.actor.display_name or reg.actor.username))
        self.add(tr("FollowUp", "Contact made &by:"), ChoiceField("done_by", people))
        blank = tr("FollowUp", "not assessed")
        for name, label, help_text in (
            ("score_economic", tr("FollowUp", "&Economic (1–5):"),
             tr("FollowUp", "Income, work, housing: can the person meet their needs?")),
            ("score_social", tr("FollowUp", "&Social (1–5):"),
             tr("FollowUp", "Family, friends, community: does the person have people to rely on?")),
            ("score_psychosocial", tr("FollowUp", "&Psychosocial (1–5):"),
             tr("FollowUp", "Wellbeing, safety felt, coping: how is the person doing in themselves?")),
        ):
            self.add(label, ChoiceField(name, SCORE_CHOICES, blank=blank), help_text)
        self.add(tr("FollowUp", "&Risk:"), RiskField("risk_level"),
                 tr("FollowUp", "How safe is the person now? High risk flags the case until a later follow-up "
                                "finds it lower."))
        self.add(tr("FollowUp", "Sa&fety note:"), NotesField("safety_note"),
                 tr("FollowUp", "Needed when the risk is high: what the danger is and what is being done."))
        self.add(tr("FollowUp", "&Outcome:"), NotesField("outcome"))
        self.add(tr("FollowUp", "&Next action:"), NotesField("next_action"))
        self.form.set_values({"done_date": dt.date.today(), "done_by": me})

    def call(self, v: dict[str, Any]) -> Callable[[], Any]:
        from tipdesk.services import followup

        if v["done_date"] is None:
            raise ValidationError(tr("FollowUp", "Give the date of the contact."), "done_date")
        scores = {k: int(v[k]) if v[k] else None for k in ("score_economic", "score_social", "score_psychosocial")}
        visit = followup.Visit(done_date=v["done_date"], mode=v["mode"] or "", risk_level=v["risk_level"] or "",
                               safety_note=v["safety_note"], outcome=v["outcome"], next_action=v["next_action"],
                               done_by=v["done_by"], **scores)
        reg, fid, case_id = self.reg, self.followup_id, self.case_id
        if fid is not None:
            return lambda: followup.record_followup(reg, fid, visit)
        return lambda: followup.record_unplanned_followup(reg, case_id, visit)


class RescheduleDialog(CoreFormDialog):
    """Move a follow-up not yet done to another date, saying why."""

    changes = FOLLOWUP_CHANGES

    def __init__(self, reg: Register, runner: OperationRunner, followup_id: int, due: dt.date,
                 parent: QWidget | None = None) -> None:
        super().__init__(reg, runner, tr("FollowUp", "Move a follow-up"), tr("FollowUp", "&Move"), parent,
                         tr("FollowUp", "It is due on {date} now.").format(date=due.isoformat()))
        self.followup_id = followup_id
        self.add(tr("FollowUp", "&New due date:"), DateField("due_date"))
        self.add(tr("FollowUp", "&Why:"), reason_field())
        self.form.set_values({"due_date": due})

    def call(self, v: dict[str, Any]) -> Callable[[], Any]:
        from tipdesk.services import followup

        if v["due_date"] is None:
            raise ValidationError(tr("FollowUp", "Give the new due date."), "due_date")
        reg, fid, due, reason = self.reg, self.followup_id, v["due_date"], v["reason"]
        return lambda: followup.reschedule_followup(reg, fid, due, reason=reason)


class StartPlanDialog(CoreFormDialog):
    """Start follow-up for a case entering reintegration."""

    field_map = {"definition": "definition_id", "started_on": "started_on", "plan": "definition_id"}
    changes = FOLLOWUP_CHANGES

    def __init__(self, reg: Register, runner: OperationRunner, case_id: int, plans: Sequence,
                 parent: QWidget | None = None) -> None:
        super().__init__(reg, runner, tr("FollowUp", "Start follow-up"), tr("FollowUp", "&Start"), parent,
                         tr("FollowUp", "The plan's follow-ups are scheduled from the start date; changing the "
                                        "plan's definition later never moves them."))
        self.case_id = case_id
        self.add(tr("FollowUp", "&Plan:"), ChoiceField("definition_id", [
            (p.id, f"{p.name} — {p.describe()}") for p in plans], blank=tr("FollowUp", "The office's default plan")))
        self.add(tr("FollowUp", "&Starts on:"), DateField("started_on"))
        self.add(tr("FollowUp", "&Why now:"), NotesField("reason"))
        self.form.set_values({"started_on": dt.date.today()})

    def call(self, v: dict[str, Any]) -> Callable[[], Any]:
        from tipdesk.services import followup

        if v["started_on"] is None:
            raise ValidationError(tr("FollowUp", "Give the date the plan starts."), "started_on")
        reg, case_id, on, plan, reason = self.reg, self.case_id, v["started_on"], v["definition_id"], v["reason"]
        return lambda: followup.start_plan(reg, case_id, on, plan, reason)


CHANGE_KINDS = (
    ("shorten", "Shorten it: cancel the follow-ups due after…"),
    ("extend", "Extend it: add follow-ups"),
    ("cancel", "Cancel it: no more follow-ups"),
)


class ChangePlanDialog(CoreFormDialog):
    """Shorten, extend or cancel a plan, with the reason."""

    field_map = {"until": "until", "months": "months", "to_months": "to_months", "every_months": "every_months",
                 "on": "on", "plan": "kind"}
    changes = FOLLOWUP_CHANGES

    def __init__(self, reg: Register, runner: OperationRunner, plan, parent: QWidget | None = None) -> None:  # noqa: ANN001
        super().__init__(reg, runner, tr("FollowUp", "Change the follow-up plan"), tr("FollowUp", "&Change"), parent,
                         tr("FollowUp", "{name}, started {date}: {left} follow-up(s) still to do.").format(
                             name=plan.definition_name or tr("FollowUp", "Plan"), date=plan.started_on.isoformat(),
                             left=plan.outstanding))
        self.plan = plan
        self.add(tr("FollowUp", "&What:"), ChoiceField("kind", CHANGE_KINDS))
        self.add(tr("FollowUp", "Shorten &until:"), DateField("until"),
                 tr("FollowUp", "Follow-ups due after this date are cancelled."))
        self.add(tr("FollowUp", "Extend &to (months after the start):"), IntField("to_months"))
        self.add(tr("FollowUp", "… &every (months):"), IntField("every_months"))
        self.add(tr("FollowUp", "Cancel &on:"), DateField("on"))
        self.add(tr("FollowUp", "&Why:"), reason_field())
        self.form.set_values({"kind": "shorten", "on": dt.date.today(), "every_months": "6"})
        self.form.fields["every_months"].edit.setText("6")
        self.form.fields["kind"].connect(self._kind_changed)
        self._kind_changed()

    def _kind_changed(self, *_a: object) -> None:
        kind = self.form.fields["kind"].get()
        for name, shown in (("until", kind == "shorten"), ("to_months", kind == "extend"),
                            ("every_months", kind == "extend"), ("on", kind == "cancel")):
            field = self.form.fields[name]
            field.row.setVisible(shown)
            label = self.layout_form.labelForField(field.row)
            if label is not None:
                label.setVisible(shown)

    def call(self, v: dict[str, Any]) -> Callable[[], Any]:
        from tipdesk.services import followup

        reg, plan_id, reason, kind = self.reg, self.plan.id, v["reason"], v["kind"]
        if kind == "shorten":
            if v["until"] is None:
                raise ValidationError(tr("FollowUp", "Give the date after which follow-ups are cancelled."), "until")
            until = v["until"]
            return lambda: followup.shorten_plan(reg, plan_id, until=until, reason=reason)
        if kind == "extend":
            if v["to_months"] is None or v["every_months"] is None:
                problems = []
                from tipdesk.errors import FieldProblem

                for name in ("to_months", "every_months"):
                    if v[name] is None:
                        problems.append(FieldProblem(name, tr("FollowUp", "Give a whole number of months.")))
                raise ValidationError(problems)
            to_months, every = v["to_months"], v["every_months"]
            return lambda: followup.extend_plan(reg, plan_id, to_months=to_months, every_months=every, reason=reason)
        on = v["on"]
        return lambda: followup.cancel_plan(reg, plan_id, reason=reason, on=on)
