"""What every page of the main window offers the window: drafts on lock, unsaved-edit checks."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from ui.i18n import tr
from ui.operations import OperationRunner
from ui.widgets import heading

if TYPE_CHECKING:  # the window starts before SQLAlchemy is imported
    from tipdesk.services.drafts import DraftInfo
    from tipdesk.vault.register import Register


@dataclass(frozen=True)
class PendingDraft:
    """Unsaved edits a page hands over when the window locks."""

    kind: str
    entity_id: int | None
    payload: dict[str, Any]


class Page(QWidget):
    """A page is built for one unlocked session and thrown away when the window locks."""

    key = ""

    def __init__(self, reg: Register, runner: OperationRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.reg = reg
        self.runner = runner

    def has_unsaved(self) -> bool:
        return False

    def pending_drafts(self) -> list[PendingDraft]:
        """Unsaved edits to keep as drafts when the window locks."""
        return []

    def draft_kinds(self) -> tuple[str, ...]:
        return ()

    def restore_draft(self, draft: DraftInfo) -> bool:
        """Put a kept draft back into the page; True if it was taken."""
        return False

    def discard_changes(self) -> None:
        """Forget unsaved edits (the user chose not to keep them)."""

    def activated(self) -> None:
        """The page became the visible one."""

