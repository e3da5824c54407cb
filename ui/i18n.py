"""Translation helpers: every visible string goes through ``QCoreApplication.translate``.

``tr("Context", "text")`` keeps the context explicit so that ``pyside6-lupdate`` finds the
strings and Qt Linguist groups them by window.
"""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication


def tr(context: str, text: str, disambiguation: str | None = None, n: int = -1) -> str:
    """Translate ``text`` in ``context`` (the English text when no catalogue is loaded)."""
    return QCoreApplication.translate(context, text, disambiguation, n)
