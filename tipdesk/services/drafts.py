"""Drafts: unsaved edits kept inside the (encrypted) register when the window locks.

A draft belongs to one user and one thing being edited (``kind`` + ``entity_id``; entity_id
None for a record not yet saved). Its payload is plain JSON made by the window; it never
leaves the register. Saving and discarding are audited without their contents.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from models import Draft, utcnow
from tipdesk.errors import UsageError
from tipdesk.security import audit
from tipdesk.vault.register import Register

MAX_PAYLOAD_CHARS = 1_000_000


@dataclass(frozen=True)
class DraftInfo:
    """One kept draft of the acting user."""

    id: int
    kind: str
    entity_id: int | None
    saved_at: dt.datetime
    payload: dict[str, Any]


def _own_id(reg: Register) -> int:
    if reg.actor.id is None:
        raise UsageError("Drafts belong to a signed-in user.")
    return reg.actor.id


def _find(s, user_id: int, kind: str, entity_id: int | None) -> Draft | None:
    query = select(Draft).where(Draft.user_id == user_id, Draft.kind == kind)
    query = query.where(Draft.entity_id.is_(None) if entity_id is None else Draft.entity_id == entity_id)
    return s.scalars(query).first()


def save_draft(reg: Register, kind: str, entity_id: int | None, payload: dict[str, Any]) -> None:
    """Keep (or replace) the acting user's draft for ``kind``/``entity_id``."""
    user_id = _own_id(reg)
    text = json.dumps(payload, ensure_ascii=False, sort_keys=True, default=str)
    if len(text) > MAX_PAYLOAD_CHARS:
        raise UsageError("These unsaved edits are too large to keep as a draft.")
    with reg.write() as s:
        draft = _find(s, user_id, kind, entity_id)
        if draft is None:
            draft = Draft(user_id=user_id, kind=kind, entity_id=entity_id, payload=text, saved_at=utcnow())
            s.add(draft)
        else:
            draft.payload = text
            draft.saved_at = utcnow()
        s.flush()
        audit.record(s, reg.actor, "draft_saved", "draft", draft.id, {"kind": kind, "entity_id": entity_id})


def list_drafts(reg: Register) -> list[DraftInfo]:
    """The acting user's drafts, newest first."""
    user_id = _own_id(reg)
    with reg.read() as s:
        rows = s.scalars(select(Draft).where(Draft.user_id == user_id).order_by(Draft.saved_at.desc()))
        return [DraftInfo(d.id, d.kind, d.entity_id, d.saved_at, json.loads(d.payload)) for d in rows]


def load_draft(reg: Register, kind: str, entity_id: int | None) -> DraftInfo | None:
    """The acting user's draft for ``kind``/``entity_id``, if one was kept."""
    user_id = _own_id(reg)
    with reg.read() as s:
        d = _find(s, user_id, kind, entity_id)
        return None if d is None else DraftInfo(d.id, d.kind, d.entity_id, d.saved_at, json.loads(d.payload))


def discard_draft(reg: Register, kind: str, entity_id: int | None) -> bool:
    """Delete the acting user's draft (after it was restored or refused). True if one existed."""
    user_id = _own_id(reg)
    with reg.write() as s:
        d = _find(s, user_id, kind, entity_id)
        if d is None:
            return False
        audit.record(s, reg.actor, "draft_discarded", "draft", d.id, {"kind": kind, "entity_id": entity_id})
        s.delete(d)
        return True
