"""Returns as the CLI and the window use them: prepare (preview), export (audited), list the
returns prepared before (from the audit trail), and check a return file."""

from __future__ import annotations

import contextlib
import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

from exports.returns import spec
from exports.returns.gc_pause import paused_gc
from exports.returns.prepare import CancelCheck, OfficeInfo, PreparedReturn, Progress, compute_return
from exports.returns.reader import ReadReport, check_file
from exports.returns.writer import WrittenReturn, write_return
from models import AuditEvent
from tipdesk.counting import Period
from tipdesk.errors import UsageError
from tipdesk.security import audit
from tipdesk.vault.register import META_LINKAGE_KEY, META_OFFICE_SECRET, Register, get_meta, own_office

EXPORT_ACTION = "return_exported"


def _today() -> dt.date:
    return dt.date.today()


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


def require_complete(period: Period, today: dt.date | None = None) -> None:
    """A return describes a period that has ended (statuses are counted at its last day)."""
    today = today or _today()
    if period.end >= today:
        raise UsageError(
            f"The period {period.code} ends on {period.end.isoformat()}: a return for it can be prepared "
            f"from {(period.end + dt.timedelta(days=1)).isoformat()} on, when its figures are final."
        )


def prepare_return(
    reg: Register,
    period: Period,
    *,
    progress: Progress | None = None,
    cancel: CancelCheck | None = None,
    now: dt.datetime | None = None,
) -> PreparedReturn:
    """Compute the return of ``period`` (nothing is written, nothing audited): the preview."""
    reg.actor.require("return.export")
    require_complete(period, now.date() if now else None)
    from tipdesk.vault.register import software_version

    with reg.read() as s, paused_gc():
        office = own_office(s)
        info = OfficeInfo(office.code or "", office.name, office.org_type, office.country or "")
        secret_hex = get_meta(s, META_OFFICE_SECRET)
        linkage_hex = get_meta(s, META_LINKAGE_KEY)
        if not secret_hex:
            raise UsageError("This register has no office secret, so it cannot make case keys. It is damaged.")
        preparer = f"{reg.actor.display_name} ({reg.actor.username}, {reg.actor.role_label})"
        return compute_return(
            s, period, info,
            office_secret=bytes.fromhex(secret_hex),
            linkage_key=bytes.fromhex(linkage_hex) if linkage_hex else None,
            generated_at=now or _now(),
            preparer=preparer,
            software_version=software_version(),
            progress=progress,
            cancel=cancel,
        )


def default_path(prepared: PreparedReturn, folder: Path | None = None) -> Path:
    return (folder or Path.cwd()) / spec.file_name(prepared.meta.org_code, prepared.meta.period)


def save_return(
    reg: Register,
    prepared: PreparedReturn,
    target: Path,
    *,
    suppressed: bool = False,
    replace_existing: bool = False,
    progress: Progress | None = None,
    cancel: CancelCheck | None = None,
) -> WrittenReturn:
    """Write a prepared return and record the export in the audit trail (both, or neither)."""
    reg.actor.require("return.export")
    with paused_gc():
        written = write_return(prepared, target, suppressed=suppressed, replace_existing=replace_existing,
                               progress=progress, cancel=cancel)
    try:
        with reg.write() as s:
            audit.record(s, reg.actor, EXPORT_ACTION, "return", None, {
                "period": written.meta.period,
                "file": written.path.name,
                "folder": str(written.path.parent),
                "suppressed": written.meta.suppressed,
                "line_count": prepared.meta.line_count,
                "stay_count": prepared.meta.stay_count,
                "digest": written.meta.digest,
                "generated_at": written.meta.rows()[9][1],
                "linkage_key_id": written.meta.linkage_key_id,
            })
    except BaseException:
        # An export that is not in the audit trail must not exist.
        with contextlib.suppress(OSError):
            written.path.unlink()
        raise
    if progress:
        progress(100, "Saved")
    return written


def export_return(
    reg: Register,
    period: Period,
    target: Path | None = None,
    *,
    suppressed: bool = False,
    replace_existing: bool = False,
    progress: Progress | None = None,
    cancel: CancelCheck | None = None,
) -> WrittenReturn:
    """Prepare and save in one go (the CLI's ``export-return``)."""
    prepared = prepare_return(reg, period, progress=progress, cancel=cancel)
    return save_return(reg, prepared, target or default_path(prepared), suppressed=suppressed,
                       replace_existing=replace_existing, progress=progress, cancel=cancel)


@dataclass(frozen=True)
class ExportRecord:
    """A return prepared before, as the audit trail remembers it."""

    at: dt.datetime
    username: str
    period: str
    file: str
    folder: str
    suppressed: bool
    line_count: int
    digest: str


def prepared_returns(reg: Register, limit: int = 200) -> list[ExportRecord]:
    """Returns prepared from this register, newest first (from the audit trail)."""
    reg.actor.require("return.export")
    import json

    records = []
    with reg.read() as s:
        for at, username, details in s.execute(
            select(AuditEvent.at, AuditEvent.username, AuditEvent.details)
            .where(AuditEvent.action == EXPORT_ACTION).order_by(AuditEvent.id.desc()).limit(limit)
        ):
            d = json.loads(details) if details else {}
            records.append(ExportRecord(
                at=at, username=username, period=str(d.get("period", "")), file=str(d.get("file", "")),
                folder=str(d.get("folder", "")), suppressed=bool(d.get("suppressed", False)),
                line_count=int(d.get("line_count", 0) or 0), digest=str(d.get("digest", "")),
            ))
    return records


def check_return_file(path: Path, *, progress: Progress | None = None,
                      cancel: CancelCheck | None = None) -> ReadReport:
    """Read and validate a return file from anywhere (no register needed); ``cancel()`` → ``Cancelled``."""
    return check_file(Path(path), progress=progress, cancel=cancel)
