"""Data files of tipdesk: the application icon (SVG master, PNGs, .ico), desktop entry, translations.

Only paths live here, no Qt: the window loads the files. In the frozen bundle these files sit in
the same place relative to this module (``installer/contents.py`` lists them).
"""

from __future__ import annotations

from pathlib import Path

HERE = Path(__file__).resolve().parent
ICON_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)


def icon_files() -> list[Path]:
    """The application icon's PNGs, smallest first (for QIcon.addFile, one per size)."""
    return [HERE / "icons" / f"tipdesk-{size}.png" for size in ICON_SIZES]


def translations_dir() -> Path:
    return HERE / "translations"
