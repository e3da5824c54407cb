"""``tipdesk check``: SQLite integrity, SQLCipher page authentication, key file, audit chain."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select

from models import UserAccount
from tipdesk.errors import KeyslotsDamaged, KeyslotsMissing
from tipdesk.security import audit
from tipdesk.vault import files
from tipdesk.vault.keyslots import KeyslotFile
from tipdesk.vault.register import Register


@dataclass
class CheckReport:
    ok: bool = True
    lines: list[str] = field(default_factory=list)

    def passed(self, what: str, detail: str) -> None:
        self.lines.append(f"OK      {what}: {detail}")

    def failed(self, what: str, detail: str) -> None:
        self.ok = False
        self.lines.append(f"FAILED  {what}: {detail}")


def check_register(reg: Register) -> CheckReport:
    report = CheckReport()
    with reg.engine.connect() as conn:
        rows = [r[0] for r in conn.exec_driver_sql("PRAGMA integrity_check").fetchall()]
        if rows == ["ok"]:
            report.passed("database integrity", "SQLite integrity_check found no problems")
        else:
            report.failed("database integrity", f"{len(rows)} problems, first: {rows[0]}")
        errors = [r[0] for r in conn.exec_driver_sql("PRAGMA cipher_integrity_check").fetchall()]
        if not errors:
            report.passed("encryption", "every page's HMAC is valid (cipher_integrity_check)")
        else:
            report.failed("encryption", f"{len(errors)} damaged pages, first: {errors[0]}")
        fk = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
        if fk:
            report.failed("references", f"{len(fk)} rows point at missing records (first in table {fk[0][0]})")
        else:
            report.passed("references", "every reference points at an existing record")
    try:
        slots = KeyslotFile.load(files.keys_path(reg.path))
    except (KeyslotsMissing, KeyslotsDamaged) as exc:
        report.failed("key file", str(exc))
    else:
        with reg.read() as s:
            users = list(s.scalars(select(UserAccount)))
        problems = []
        if slots.register_id != reg.register_id:
            problems.append("it belongs to another register")
        tags = {slots.tag_of(u.username): u for u in users}
        for slot in slots.slots:
            user = tags.get(slot.tag)
            if slot.state == "active" and (user is None or not user.active):
                problems.append("a password slot exists for an account that is revoked or unknown")
        missing = [u.username for u in users if u.active and (slots.find(u.username) is None
                                                             or slots.find(u.username).state != "active")]
        active = sum(1 for s in slots.slots if s.state == "active")
        if problems:
            report.failed("key file", "; ".join(sorted(set(problems))))
        else:
            note = f"{active} password slots, {len(slots.slots) - active} revoked"
            if missing:
                note += f"; {len(missing)} active accounts have no password yet (set one with users passwd)"
            report.passed("key file", note)
    with reg.read() as s:
        chain = audit.verify(s)
    if chain.ok:
        report.passed("audit chain", f"{chain.count} events, head {chain.head_hash[:16]}")
    else:
        report.failed("audit chain", chain.describe())
    return report
