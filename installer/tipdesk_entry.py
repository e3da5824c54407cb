"""Entry point of the frozen executables ``tipdesk`` (windowed) and ``tipdesk-cli`` (console)."""

import os
import sys

if sys.stdout is None or sys.stderr is None:
    # The windowed executable on Windows has no console: give print() somewhere harmless to go,
    # so that e.g. ``tipdesk.exe --self-test`` still ends with a meaningful exit code.
    _devnull = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115 (lives as long as the process)
    sys.stdout = sys.stdout or _devnull
    sys.stderr = sys.stderr or _devnull

from tipdesk.cli import main  # noqa: E402

sys.exit(main())
