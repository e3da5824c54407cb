"""Per-user application settings kept outside any register (never personal data).

Holds what must be known before a register is unlocked: recent register paths, the last
verified backup of each register and its destination, language, window geometry. Settings of an
office (lock timeout, follow-up plans…) live inside the register instead.

Where: ``TIPDESK_SETTINGS_DIR`` if set (tests); else, in portable mode (a file named
``tipdesk.portable`` next to the executable, for use from a USB stick), a ``settings`` folder
beside the executable; else the platform's per-user config folder. In portable mode, registers
on the same stick are remembered relative to the program's folder (drive letters change).
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from tipdesk.vault.files import atomic_write

PORTABLE_MARKER = "tipdesk.portable"
MAX_RECENT = 10


def app_dir() -> Path:
    """The folder of the executable (frozen) or of the source checkout."""
    if getattr(sys, "frozen", False):
        return Path(sys.executable).resolve().parent
    return Path(__file__).resolve().parent.parent


def is_portable() -> bool:
    return (app_dir() / PORTABLE_MARKER).exists()


def settings_dir() -> Path:
    env = os.environ.get("TIPDESK_SETTINGS_DIR")
    if env:
        return Path(env)
    if is_portable():
        return app_dir() / "settings"
    import platformdirs

    return Path(platformdirs.user_config_dir("tipdesk", appauthor=False))


def _volume(path: Path) -> str:
    """The drive (Windows) or mount point (elsewhere) holding ``path``."""
    if path.drive:
        return path.drive.upper()
    current = path
    while not os.path.ismount(current) and current != current.parent:
        current = current.parent
    return str(current)


def stored_register_path(path: Path) -> str:
    """How settings remember a register's path.

    In portable mode a register on the same USB stick as tipdesk is remembered relative to the
    program's folder, so that it is still found when the stick gets another drive letter (or
    mount point) on the next computer. Anything else is remembered by its absolute path.
    """
    full = Path(path).resolve()
    if is_portable():
        base = app_dir()
        if _volume(full) == _volume(base):
            return Path(os.path.relpath(full, base)).as_posix()
    return str(full)


def resolve_register_path(stored: str) -> Path:
    """The path a remembered register has on this computer (see ``stored_register_path``)."""
    path = Path(stored)
    return path if path.is_absolute() else (app_dir() / path).resolve()


def log_dir() -> Path:
    if os.environ.get("TIPDESK_SETTINGS_DIR") or is_portable():
        return settings_dir() / "logs"
    import platformdirs

    return Path(platformdirs.user_log_dir("tipdesk", appauthor=False))


def _int(value: Any) -> int:
    try:
        return max(0, int(value))
    except (TypeError, ValueError):
        return 0


@dataclass
class RegisterNotes:
    """What tipdesk remembers about one register, by path (no names, no contents)."""

    last_verified_backup_at: str = ""  # UTC ISO time
    backup_destination: str = ""
    backup_remind_after_days: int = 0  # a copy of the register's setting (0: the default)


@dataclass
class Settings:
    recent_registers: list[str] = field(default_factory=list)
    registers: dict[str, RegisterNotes] = field(default_factory=dict)
    language: str = "en"
    window_geometry: str = ""  # base64 of Qt's saveGeometry()
    extra: dict[str, Any] = field(default_factory=dict)

    # --- persistence ---------------------------------------------------------------------------

    @classmethod
    def path(cls) -> Path:
        return settings_dir() / "settings.json"

    @classmethod
    def load(cls) -> Settings:
        try:
            data = json.loads(cls.path().read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return cls()
        if not isinstance(data, dict):
            return cls()
        notes = {}
        for key, value in dict(data.get("registers", {})).items():
            if isinstance(value, dict):
                notes[str(key)] = RegisterNotes(
                    last_verified_backup_at=str(value.get("last_verified_backup_at", "")),
                    backup_destination=str(value.get("backup_destination", "")),
                    backup_remind_after_days=_int(value.get("backup_remind_after_days", 0)),
                )
        return cls(
            recent_registers=[str(p) for p in data.get("recent_registers", [])][:MAX_RECENT],
            registers=notes,
            language=str(data.get("language", "en")),
            window_geometry=str(data.get("window_geometry", "")),
            extra=dict(data.get("extra", {})),
        )

    def save(self) -> None:
        target = self.path()
        target.parent.mkdir(parents=True, exist_ok=True)
        data = asdict(self)
        atomic_write(target, json.dumps(data, indent=1, sort_keys=True).encode("utf-8"))

    # --- helpers -------------------------------------------------------------------------------

    def remember_register(self, path: Path) -> None:
        text = stored_register_path(path)
        self.recent_registers = [text] + [p for p in self.recent_registers if p != text]
        self.recent_registers = self.recent_registers[:MAX_RECENT]

    def recent_register_paths(self) -> list[Path]:
        """The recent registers as paths on this computer, most recent first."""
        return [resolve_register_path(p) for p in self.recent_registers]

    def notes_for(self, path: Path) -> RegisterNotes:
        key = stored_register_path(path)
        return self.registers.setdefault(key, RegisterNotes())
