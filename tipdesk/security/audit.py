"""The audit chain: every login, view, change, export and import, hash-chained.

Each event stores ``prev_hash`` (the previous event's ``hash``) and its own ``hash`` = SHA-256
of its canonical form: ``[id, at, user_id, username, action, entity, entity_id, details_hash,
prev_hash]`` as compact JSON. The canonical form holds a hash of the details, not the details,
so that personal values can be erased from old events on a lawful request without breaking the
chain. ``verify`` finds edited, deleted, inserted or reordered events and names the first broken
position.

What a chain alone cannot show: someone holding the database key who rewrites the whole chain
from some point on, or cuts off its newest events. ``verify`` reports the head (count and hash)
so that it can be compared with one noted elsewhere (a backup, a printed report).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert, select, text, update
from sqlalchemy.orm import Session

from models import AuditEvent, UtcDateTime, utcnow
from tipdesk.security.roles import Actor

GENESIS = "0" * 64
_TS = UtcDateTime()


def canonical_details(details: Mapping[str, Any] | None) -> str:
    return json.dumps(
        details or {}, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_json_default
    )


def _json_default(value: Any) -> Any:
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, set | frozenset | tuple):
        return sorted(value) if isinstance(value, set | frozenset) else list(value)
    return str(value)


def sha256_hex(data: str) -> str:
    return hashlib.sha256(data.encode("utf-8")).hexdigest()


def event_hash(
    id_: int, at: str, user_id: int | None, username: str, action: str, entity: str,
    entity_id: int | None, details_hash: str, prev_hash: str,
) -> str:
    form = [id_, at, user_id, username, action, entity, entity_id, details_hash, prev_hash]
    return sha256_hex(_FORM_ENCODER.encode(form))


# What json.dumps(form, separators=(",", ":"), ensure_ascii=False) builds on every call: made
# once, since verifying a long chain calls event_hash for every event.
_FORM_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)


_HEAD = text("SELECT id, hash FROM audit_event ORDER BY id DESC LIMIT 1")


def _head(session: Session) -> tuple[int, str]:
    row = session.execute(_HEAD).first()
    return (row[0], row[1]) if row else (0, GENESIS)


@dataclass(frozen=True)
class PendingEvent:
    action: str
    entity: str = ""
    entity_id: int | None = None
    details: Mapping[str, Any] | None = None
    at: dt.datetime | None = None


def record(
    session: Session,
    actor: Actor | None,
    action: str,
    entity: str = "",
    entity_id: int | None = None,
    details: Mapping[str, Any] | None = None,
    at: dt.datetime | None = None,
) -> AuditEvent:
    """Append one event (call inside a write transaction: BEGIN IMMEDIATE serialises the chain)."""
    return record_many(session, actor, [PendingEvent(action, entity, entity_id, details, at)])[-1]


def record_many(session: Session, actor: Actor | None, events: Iterable[PendingEvent]) -> list[AuditEvent]:
    last_id, prev = _head(session)
    rows = []
    user_id = actor.id if actor else None
    username = actor.username if actor else ""
    for pending in events:
        last_id += 1
        at = pending.at or utcnow()
        at_text = _TS.process_bind_param(at, None)
        assert at_text is not None
        details_text = canonical_details(pending.details)
        details_hash = sha256_hex(details_text)
        digest = event_hash(
            last_id, at_text, user_id, username, pending.action, pending.entity,
            pending.entity_id, details_hash, prev,
        )
        rows.append(dict(
            id=last_id, at=_TS.process_result_value(at_text, None), user_id=user_id,
            username=username, action=pending.action, entity=pending.entity,
            entity_id=pending.entity_id, details=details_text, details_hash=details_hash,
            erased_at=None, prev_hash=prev, hash=digest,
        ))
        prev = digest
    # A Core insert (not the ORM unit of work): every change of the application writes here,
    # so this path is kept short. Pending ORM changes are flushed first, as before.
    session.flush()
    if rows:
        session.execute(insert(AuditEvent.__table__), rows)
    return [AuditEvent(**row) for row in rows]


def changes(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, list[Any]]:
    """``{field: [old, new]}`` for every field whose value differs."""
    return {
        key: [before.get(key), after.get(key)]
        for key in sorted(set(before) | set(after))
        if before.get(key) != after.get(key)
    }


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    count: int
    head_hash: str
    first_bad_position: int | None = None
    problem: str = ""

    def describe(self) -> str:
        if self.ok:
            return f"Audit chain intact: {self.count} events, head {self.head_hash[:16]}."
        return f"Audit chain broken at event {self.first_bad_position}: {self.problem}"


def verify(session: Session, batch: int = 5000) -> ChainReport:
    """Walk the chain in order and report the first break (position = 1-based event number)."""
    prev = GENESIS
    expected_id = 1
    count = 0
    erased_ids = _erased_by_erase_events(session)
    last_id = 0
    while True:
        rows = session.execute(
            text(
                "SELECT id, at, user_id, username, action, entity, entity_id, details, "
                "details_hash, erased_at, prev_hash, hash FROM audit_event WHERE id > :after "
                "ORDER BY id LIMIT :n"
            ),
            {"after": last_id, "n": batch},
        ).all()
        if not rows:
            break
        for row in rows:
            (id_, at, user_id, username, action, entity, entity_id, details, details_hash,
             erased_at, prev_hash, stored_hash) = row
            position = expected_id
            if id_ != expected_id:
                what = "an event is missing before it" if id_ > expected_id else "an event was inserted"
                return ChainReport(False, count, prev, position, f"{what} (found number {id_}).")
            if prev_hash != prev:
                return ChainReport(False, count, prev, position,
                                   "it does not follow the event before it (deleted, inserted or reordered).")
            if details is None:
                if erased_at is None or id_ not in erased_ids:
                    return ChainReport(False, count, prev, position,
                                       "its details are gone without a recorded erasure.")
            elif sha256_hex(details) != details_hash:
                return ChainReport(False, count, prev, position, "its details were changed.")
            digest = event_hash(id_, at, user_id, username, action, entity, entity_id,
                                details_hash, prev_hash)
            if digest != stored_hash:
                return ChainReport(False, count, prev, position, "the event was changed.")
            prev = stored_hash
            expected_id += 1
            count += 1
            last_id = id_
    return ChainReport(True, count, prev)


ERASE_ACTION = "audit_details_erased"


def _erased_by_erase_events(session: Session) -> set[int]:
    ids: set[int] = set()
    for (details,) in session.execute(
        select(AuditEvent.details).where(AuditEvent.action == ERASE_ACTION)
    ):
        if details:
            ids.update(int(i) for i in json.loads(details).get("event_ids", []))
    return ids


def erase_details(
    session: Session, actor: Actor, entity: str, entity_id: int, reason: str
) -> int:
    """Erase the details (old/new values) of every event about one record; audited itself.

    Returns how many events were erased. The chain still verifies: it covers details hashes.
    """
    actor.require("audit.erase")
    ids = [
        i for (i,) in session.execute(
            select(AuditEvent.id).where(
                AuditEvent.entity == entity, AuditEvent.entity_id == entity_id,
                AuditEvent.details.is_not(None),
            )
        )
    ]
    if ids:
        session.execute(
            update(AuditEvent).where(AuditEvent.id.in_(ids)).values(details=None, erased_at=utcnow())
        )
    record(session, actor, ERASE_ACTION, entity, entity_id,
           {"event_ids": ids, "reason": reason})
    return len(ids)
