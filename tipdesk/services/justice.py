"""Criminal justice: dated stages (the rows of TIP-RETURN/1's T8_Justice: reported to police,
investigation opened, prosecution started, conviction, acquittal or dismissal). The police
reference and whether the victim is a witness are fields of the case (``CaseInput``), also
settable here on their own."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Case, JusticeStage, utcnow, vocab
from tipdesk.errors import NotFound
from tipdesk.security import audit
from tipdesk.services.common import (
    Problems,
    can_see_pii,
    check_choice,
    check_date,
    check_length,
    check_version,
    clean_text,
    fmt_date,
    load_case,
    snapshot,
    today,
)
from tipdesk.services.records import (  # noqa: F401  (re-exported)
    CaseDetail,
    JusticeStageInfo,
    JusticeStageInput,
    build_case_detail,
)
from tipdesk.vault.register import Register

STAGES = vocab.names(vocab.JUSTICE_STAGES)
_ORDER = {name: i for i, name in enumerate(STAGES)}
# Conviction and acquittal/dismissal are both outcomes: neither needs to come before the other.
_OUTCOMES = {"Conviction", "Acquittal or dismissal"}


def stage_problems(data: JusticeStageInput, born: dt.date | None, on: dt.date) -> Problems:
    """The rules one stage meets on its own (pure)."""
    p = Problems()
    check_choice(p, "stage", data.stage, vocab.JUSTICE_STAGES, "justice stage", required=True)
    check_date(p, "stage_date", data.stage_date, "date of the stage", on=on, born=born,
               required=True)
    check_length(p, "note", data.note, 4000, "note")
    return p


def _validate(s: Session, case: Case, data: JusticeStageInput, on: dt.date,
              stage_id: int | None) -> Problems:
    p = stage_problems(data, case.person.birth_date, on)
    if p:
        return p
    others = s.scalars(select(JusticeStage).where(JusticeStage.case_id == case.id,
                                                  JusticeStage.id != (stage_id or 0))).all()
    mine = _ORDER[data.stage]
    for other in others:
        if other.stage == data.stage and other.stage_date == data.stage_date:
            p.add("stage", f"“{data.stage}” on {fmt_date(data.stage_date)} is already recorded.")
            break
        theirs = _ORDER.get(other.stage)
        if theirs is None or {other.stage, data.stage} <= _OUTCOMES:
            continue
        if theirs < mine and other.stage_date > data.stage_date:
            p.add("stage_date", f"“{data.stage}” cannot be dated before “{other.stage}” "
                                f"({fmt_date(other.stage_date)}).")
            break
        if theirs > mine and other.stage_date < data.stage_date:
            p.add("stage_date", f"“{data.stage}” cannot be dated after “{other.stage}” "
                                f"({fmt_date(other.stage_date)}).")
            break
    return p


def add_justice_stage(reg: Register, case_id: int, data: JusticeStageInput,
                      expected_version: int | None = None) -> CaseDetail:
    """Record a dated justice stage of a case (audited)."""
    reg.actor.require("justice.write")
    data = replace(data, note=clean_text(data.note))
    with reg.write() as s:
        case = load_case(s, case_id)
        check_version(case, expected_version)
        _validate(s, case, data, today(), None).raise_if_any()
        row = JusticeStage(case_id=case.id, stage=data.stage, stage_date=data.stage_date, note=data.note)
        s.add(row)
        s.flush()
        case.updated_at = utcnow()
        audit.record(s, reg.actor, "justice_stage_added", "case", case.id,
                     {"stage_id": row.id, **snapshot(row, ("stage", "stage_date", "note"))})
        return build_case_detail(s, case, can_see_pii(reg.actor))


def update_justice_stage(reg: Register, stage_id: int, data: JusticeStageInput) -> CaseDetail:
    """Correct a justice stage (audited old → new)."""
    reg.actor.require("justice.write")
    data = replace(data, note=clean_text(data.note))
    with reg.write() as s:
        row = _load(s, stage_id)
        case = load_case(s, row.case_id)
        _validate(s, case, data, today(), row.id).raise_if_any()
        before = snapshot(row, ("stage", "stage_date", "note"))
        row.stage, row.stage_date, row.note = data.stage, data.stage_date, data.note
        diff = audit.changes(before, snapshot(row, ("stage", "stage_date", "note")))
        if diff:
            case.updated_at = utcnow()
            audit.record(s, reg.actor, "justice_stage_changed", "case", case.id,
                         {"stage_id": row.id, **diff})
        return build_case_detail(s, case, can_see_pii(reg.actor))


def remove_justice_stage(reg: Register, stage_id: int) -> CaseDetail:
    """Remove a stage entered by mistake (audited with what it held)."""
    reg.actor.require("justice.write")
    with reg.write() as s:
        row = _load(s, stage_id)
        case = load_case(s, row.case_id)
        details = {"stage_id": row.id, **snapshot(row, ("stage", "stage_date", "note"))}
        s.delete(row)
        case.updated_at = utcnow()
        audit.record(s, reg.actor, "justice_stage_removed", "case", case.id, details)
        return build_case_detail(s, case, can_see_pii(reg.actor))


def set_justice_details(reg: Register, case_id: int, police_reference: str, victim_as_witness: bool,
                        expected_version: int | None = None) -> CaseDetail:
    """Set the police reference and whether the victim is a witness (audited old → new)."""
    reg.actor.require("justice.write")
    reference = clean_text(police_reference)
    p = Problems()
    check_length(p, "police_reference", reference, 64, "police reference")
    p.raise_if_any()
    with reg.write() as s:
        case = load_case(s, case_id)
        check_version(case, expected_version)
        before = snapshot(case, ("police_reference", "victim_as_witness"))
        case.police_reference, case.victim_as_witness = reference, bool(victim_as_witness)
        diff = audit.changes(before, snapshot(case, ("police_reference", "victim_as_witness")))
        if diff:
            case.updated_at = utcnow()
            audit.record(s, reg.actor, "case_changed", "case", case.id, diff)
        return build_case_detail(s, case, can_see_pii(reg.actor))


def _load(s: Session, stage_id: int) -> JusticeStage:
    row = s.get(JusticeStage, stage_id)
    if row is None:
        raise NotFound("That justice stage does not exist.")
    return row
