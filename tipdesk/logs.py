"""Logging that never holds personal data.

tipdesk logs what happened (an operation, its duration, an error's type and location), never
values: no names, no case contents, no SQL parameters (engines run with
``hide_parameters=True``), no passwords. Tracebacks are written without local variables.
Log records whose message carries arguments are formatted as usual, so callers must only pass
ids, counts and kinds — the rule every module follows.
"""

from __future__ import annotations

import logging
import logging.handlers
import sys
import traceback
from pathlib import Path
from types import TracebackType

from tipdesk.settings import log_dir

LOG_NAME = "tipdesk.log"
_configured = False


def configure(level: int = logging.INFO, to_stderr: bool = False) -> Path | None:
    """Log to a rotating file in the per-user log folder (private mode); idempotent."""
    global _configured
    if _configured:
        return None
    folder = log_dir()
    path: Path | None = folder / LOG_NAME
    root = logging.getLogger("tipdesk")
    root.setLevel(level)
    formatter = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        handler: logging.Handler = logging.handlers.RotatingFileHandler(
            path, maxBytes=1_000_000, backupCount=3, encoding="utf-8"
        )
    except OSError:
        handler, path = logging.StreamHandler(sys.stderr), None
    handler.setFormatter(formatter)
    root.addHandler(handler)
    if to_stderr and path is not None:
        err = logging.StreamHandler(sys.stderr)
        err.setLevel(logging.WARNING)
        err.setFormatter(formatter)
        root.addHandler(err)
    _configured = True
    return path


def describe_exception(exc: BaseException, tb: TracebackType | None = None) -> str:
    """Type and where it happened (file:line:function per frame), without the message.

    Exception messages can quote data (e.g. a constraint error names a value), so only our own
    ``TipdeskError`` messages — plain sentences without personal data — are kept.
    """
    from tipdesk.errors import TipdeskError

    frames = traceback.extract_tb(tb or exc.__traceback__)
    where = " <- ".join(f"{Path(f.filename).name}:{f.lineno}:{f.name}" for f in reversed(frames[-8:]))
    message = f": {exc}" if isinstance(exc, TipdeskError) else ""
    return f"{type(exc).__module__}.{type(exc).__qualname__}{message} at {where}"


def install_excepthook() -> None:
    """Unhandled errors go to the log as type and location only."""
    log = logging.getLogger("tipdesk.crash")

    def hook(exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        log.error("unhandled %s", describe_exception(exc, tb))
        sys.__excepthook__(exc_type, exc, tb)

    sys.excepthook = hook
