"""The main window: navigation, pages, status bar, and the lock (KeePassXC's lock flow).

While locked the window holds no page at all: pages are built for one unlocked session and
destroyed on lock, so no view can keep personal data. Locking: unsaved edits become drafts
(inside the register), running operations are dropped, every page and dialog goes, the
register is locked (engine disposed, key zeroed), and the login dialog is shown over the empty
window. The title never names a person: it shows the office code and the register's file.
"""

from __future__ import annotations

import gc
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QByteArray, QSize, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QMessageBox,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from tipdesk import __version__
from tipdesk.errors import TipdeskError
from tipdesk.settings import Settings
from ui.backups import WindowBackups
from ui.i18n import tr
from ui.lock import InactivityTimer, ScreenLockWatcher
from ui.login import LoginDialog
from ui.operations import OperationRunner
from ui.pages.base import Page
from ui.widgets import ask, error_box

if TYPE_CHECKING:  # the login dialog shows before SQLAlchemy and the services are imported
    from tipdesk.security.roles import Actor
    from tipdesk.vault.register import Register

log = logging.getLogger(__name__)

NAV_STYLE = (
    "QListWidget#navigation { background: palette(base); font-size: 11pt; padding-top: 8px; }"
    "QListWidget#navigation::item { padding: 9px 14px; }"
    "QListWidget#navigation::item:selected { background: palette(highlight);"
    " color: palette(highlighted-text); }"
)

PageFactory = Callable[["Register", OperationRunner, QWidget], Page]


@dataclass(frozen=True)
class PageSpec:
    """One entry of the left navigation."""

    key: str
    label: str
    allowed: Callable[["Actor"], bool]
    factory: PageFactory
    draft_kinds: tuple[str, ...] = ()


@dataclass(frozen=True)
class SessionFacts:
    """What the window needs at once after unlocking (read on the login's worker thread)."""

    office_code: str
    lock_minutes: int


def load_session_facts(reg: Register) -> SessionFacts:
    """Office code and lock timeout, in one go."""
    from tipdesk.services import office as office_service

    return SessionFacts(office_service.office_info(reg).code, office_service.lock_timeout_minutes(reg))


def _cases_page(reg: Register, runner: OperationRunner, parent: QWidget) -> Page:
    from ui.pages.cases import CasesPage

    return CasesPage(reg, runner, parent)


def _shelter_page(reg: Register, runner: OperationRunner, parent: QWidget) -> Page:
    from ui.pages.shelter import ShelterPage

    return ShelterPage(reg, runner, parent)


def _followup_page(reg: Register, runner: OperationRunner, parent: QWidget) -> Page:
    from ui.pages.followup import FollowUpPage

    return FollowUpPage(reg, runner, parent)


def _dashboard_page(reg: Register, runner: OperationRunner, parent: QWidget) -> Page:
    from ui.pages.dashboard import DashboardPage

    return DashboardPage(reg, runner, parent)

def _returns_page(reg: Register, runner: OperationRunner, parent: QWidget) -> Page:
    from ui.pages.returns import ReturnsPage

    return ReturnsPage(reg, runner, parent)


def _admin_page(reg: Register, runner: OperationRunner, parent: QWidget) -> Page:
    from ui.pages.admin import AdminPage

    return AdminPage(reg, runner, parent)


def page_specs() -> list[PageSpec]:
    """The navigation, in order; each page only for the roles whose permissions allow it."""
    return [
        PageSpec("cases", tr("Nav", "Cases"), lambda a: a.can("case.read"), _cases_page, ("case",)),
        PageSpec("shelter", tr("Nav", "Shelter"), lambda a: a.can("shelter.read"), _shelter_page),
        PageSpec("followup", tr("Nav", "Follow-up"), lambda a: a.can("followup.read"), _followup_page),
        PageSpec("returns", tr("Nav", "Returns"), lambda a: a.can("return.export"), _returns_page),
        PageSpec("dashboard", tr("Nav", "Dashboard"), lambda a: a.can("dashboard.view"), _dashboard_page),
        PageSpec("admin", tr("Nav", "Administration"), lambda a: a.can("user.manage"), _admin_page,
                 ("office_details",)),
    ]


class LockedView(QWidget):
    """What the window shows while locked: nothing but the word."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        box = QVBoxLayout(self)
        label = QLabel(tr("Main", "tipdesk is locked."), self)
        label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        label.setEnabled(False)
        box.addWidget(label)


class MainWindow(QMainWindow):
    """The one window of tipdesk for one register."""

    locked = Signal()
    unlocked = Signal()

    def __init__(self, path: Path, runner: OperationRunner | None = None,
                 settings: Settings | None = None) -> None:
        super().__init__()
        self.setObjectName("MainWindow")
        self.path = Path(path)
        self.runner = runner or OperationRunner(self)
        if self.runner.parent() is None:
            self.runner.setParent(self)
        self.settings = settings or Settings.load()
        self.reg: Register | None = None
        self.office_code = ""
        self.pages: dict[str, Page] = {}
        self.specs: dict[str, PageSpec] = {}
        self.login: LoginDialog | None = None
        self._last_username = ""
        self._locking = False
        self._closing_confirmed = False
        self.setWindowTitle(self._title())
        self.resize(QSize(1180, 760))

        self.inactivity = InactivityTimer(10 * 60, self)
        self.inactivity.timed_out.connect(lambda: self.lock("lock_idle"))
        self.inactivity.remaining_changed.connect(self._show_countdown)
        self.screen_lock = ScreenLockWatcher(self)
        self.screen_lock.screen_locked.connect(lambda: self.lock("lock_screen"))
        self.runner.unhandled_failure.connect(lambda exc: error_box(self, exc))

        self.backups = WindowBackups(self, self.runner, self.settings)
        self._build_actions()
        self._build_status_bar()
        self.stack = QStackedWidget(self)
        self.nav = QListWidget(self)
        self.nav.setObjectName("navigation")
        self.nav.setAccessibleName(tr("Main", "Sections"))
        self.nav.setFixedWidth(190)
        self.nav.setFrameShape(QListWidget.Shape.NoFrame)
        self.nav.setStyleSheet(NAV_STYLE)
        self.nav.currentRowChanged.connect(self._nav_changed)
        from ui.nav_badges import NavBadges

        self.badges = NavBadges(self)
        body = QWidget(self)
        row = QHBoxLayout(body)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.nav)
        row.addWidget(self.stack, 1)
        self.setCentralWidget(body)
        self._locked_view = LockedView(self)
        self.stack.addWidget(self._locked_view)
        self._show_locked_state()
        if self.settings.window_geometry:
            self.restoreGeometry(QByteArray.fromBase64(self.settings.window_geometry.encode()))

    # --- building --------------------------------------------------------------------------------

    def _title(self) -> str:
        if self.reg is None:
            return tr("Main", "tipdesk — locked — {file}").format(file=self.path.name)
        # Office code and file name only: never a person's name (title bar and task bar).
        return tr("Main", "tipdesk — {office} — {file}").format(office=self.office_code, file=self.path.name)

    def _build_actions(self) -> None:
        menu = self.menuBar()
        file_menu = menu.addMenu(tr("Main", "&File"))
        self.lock_action = QAction(tr("Main", "&Lock"), self)
        self.lock_action.setShortcut(QKeySequence("Ctrl+L"))
        self.lock_action.setShortcutContext(Qt.ShortcutContext.ApplicationShortcut)
        self.lock_action.triggered.connect(lambda: self.lock("lock"))
        file_menu.addAction(self.lock_action)
        self.password_action = QAction(tr("Main", "Change my &password…"), self)
        self.password_action.triggered.connect(self.change_own_password)
        file_menu.addAction(self.password_action)
        file_menu.addAction(self.backups.action)
        file_menu.addSeparator()
        quit_action = QAction(tr("Main", "&Quit"), self)
        quit_action.setShortcut(QKeySequence.StandardKey.Quit)
        quit_action.setShortcutContext(Qt.ShortcutContext.ApplicationShortcut)
        quit_action.triggered.connect(self.close)
        file_menu.addAction(quit_action)
        self.go_menu = menu.addMenu(tr("Main", "&Go"))
        help_menu = menu.addMenu(tr("Main", "&Help"))
        shortcuts = QAction(tr("Main", "&Keyboard shortcuts"), self)
        shortcuts.setShortcut(QKeySequence.StandardKey.HelpContents)
        shortcuts.triggered.connect(self.show_shortcuts)
        help_menu.addAction(shortcuts)
        about = QAction(tr("Main", "&About tipdesk"), self)
        about.triggered.connect(self.show_about)
        help_menu.addAction(about)
        self.addAction(self.lock_action)

    def _build_status_bar(self) -> None:
        bar = self.statusBar()
        self.status_register = QLabel(self)
        self.status_user = QLabel(self)
        self.status_role = QLabel(self)
        self.status_lock = QLabel(self)
        for label, name in ((self.status_register, tr("Main", "Register")),
                            (self.status_user, tr("Main", "User")),
                            (self.status_role, tr("Main", "Role")),
                            (self.status_lock, tr("Main", "Locks in"))):
            label.setAccessibleName(name)
            label.setContentsMargins(10, 0, 10, 0)
            bar.addPermanentWidget(label)
        bar.insertPermanentWidget(0, self.backups.label)
        self.status_register.setText(tr("Main", "Register: {file}").format(file=self.path.name))
        self.status_register.setToolTip(str(self.path))

    # --- unlocking ---------------------------------------------------------------------------------

    def show_login(self) -> LoginDialog:
        """Show the login dialog over the (empty) window."""
        if self.login is not None:
            self.login.raise_()
            self.login.activateWindow()
            return self.login
        dialog = LoginDialog(self.path, self.runner, self, username=self._last_username,
                             locked=bool(self._last_username))
        dialog.setWindowModality(Qt.WindowModality.WindowModal)
        dialog.unlocked.connect(self.attach)
        dialog.rejected.connect(self._login_refused)
        dialog.finished.connect(lambda _r: self._forget_login(dialog))
        self.login = dialog
        dialog.open()
        return dialog

    def _forget_login(self, dialog: LoginDialog) -> None:
        if self.login is dialog:
            self.login = None
        dialog.deleteLater()

    @Slot()
    def _login_refused(self) -> None:
        if self.reg is None:
            self._closing_confirmed = True
            self.close()

    @Slot(object)
    def attach(self, reg: Register, facts: SessionFacts | None = None) -> None:
        """Take an unlocked register: list the pages this user's role may see (built when shown)."""
        self.reg = reg
        self._last_username = reg.actor.username
        if facts is None:
            try:
                facts = load_session_facts(reg)
            except TipdeskError as exc:
                error_box(self, exc)
                facts = SessionFacts("", 10)
        self.office_code = facts.office_code
        self.go_menu.clear()
        self.nav.blockSignals(True)
        self.nav.clear()
        self.specs = {}
        for spec in page_specs():
            if not spec.allowed(reg.actor):
                continue
            self.specs[spec.key] = spec
            item = QListWidgetItem(spec.label)
            item.setData(Qt.ItemDataRole.UserRole, spec.key)
            item.setData(Qt.ItemDataRole.AccessibleTextRole, spec.label)
            self.nav.addItem(item)
            action = QAction(spec.label, self)
            if len(self.specs) <= 9:
                action.setShortcut(QKeySequence(f"Ctrl+{len(self.specs)}"))
            action.triggered.connect(lambda _c=False, k=spec.key: self.go(k))
            self.go_menu.addAction(action)
        self.nav.blockSignals(False)
        self.nav.show()
        self.nav.setCurrentRow(0)
        self.status_user.setText(tr("Main", "User: {user}").format(user=reg.actor.username))
        self.status_role.setText(tr("Main", "Role: {role}").format(role=tr("Roles", reg.actor.role_label)))
        self.lock_action.setEnabled(True)
        self.password_action.setEnabled(True)
        self.setWindowTitle(self._title())
        self.inactivity.set_timeout(facts.lock_minutes * 60)
        self.inactivity.start()
        self._show_countdown(facts.lock_minutes * 60)
        self.backups.attach(reg)
        self.unlocked.emit()
        QTimer.singleShot(0, self._after_unlock)

    def _after_unlock(self) -> None:
        """Work that can wait until the first page has painted."""
        self.settings.remember_register(self.path)
        try:
            self.settings.save()
        except TipdeskError:
            log.warning("could not save the settings")
        self._offer_drafts()
        # The objects alive now (Qt wrappers, modules, the first page) live as long as the
        # session: take them out of the garbage collector's full sweeps, which otherwise stop
        # the window for tens of milliseconds every so often (a dropped frame while scrolling).
        # Locking puts them back and collects, so that nothing of the session outlives it.
        gc.freeze()

    def page(self, key: str) -> Page | None:
        """The page ``key``, built on first use (only for roles allowed to see it)."""
        if key in self.pages:
            return self.pages[key]
        spec = self.specs.get(key)
        if spec is None or self.reg is None:
            return None
        page = spec.factory(self.reg, self.runner, self.stack)
        page.setObjectName(f"page_{key}")
        self.pages[key] = page
        self.stack.addWidget(page)
        return page

    def go(self, key: str) -> None:
        for row in range(self.nav.count()):
            if self.nav.item(row).data(Qt.ItemDataRole.UserRole) == key:
                self.nav.setCurrentRow(row)
                return

    @Slot(int)
    def _nav_changed(self, row: int) -> None:
        item = self.nav.item(row) if row >= 0 else None
        page = self.page(item.data(Qt.ItemDataRole.UserRole)) if item else None
        if page is not None:
            self.stack.setCurrentWidget(page)
            page.activated()

    def current_page(self) -> Page | None:
        widget = self.stack.currentWidget()
        return widget if isinstance(widget, Page) else None

    # --- drafts ------------------------------------------------------------------------------------

    def _offer_drafts(self) -> None:
        if self.reg is None or self.reg.actor.id is None:
            return
        from tipdesk.services import drafts as drafts_service

        reg = self.reg
        self.runner.run(lambda _p: drafts_service.list_drafts(reg), self._drafts_listed,
                        lambda exc: error_box(self, exc))

    def _drafts_listed(self, kept: list) -> None:
        from tipdesk.services import drafts as drafts_service

        reg = self.reg
        for draft in kept:
            key = next((k for k, spec in self.specs.items() if draft.kind in spec.draft_kinds), None)
            if key is None or reg is None:
                continue
            when = draft.saved_at.astimezone().strftime("%Y-%m-%d %H:%M")

            def restore(d=draft, k=key) -> None:  # noqa: ANN001
                if self.reg is not reg:
                    return
                self.go(k)
                page = self.page(k)
                if page is not None:
                    page.restore_draft(d)
                drafts_service.discard_draft(reg, d.kind, d.entity_id)

            def throw_away(d=draft) -> None:  # noqa: ANN001
                if self.reg is reg:
                    drafts_service.discard_draft(reg, d.kind, d.entity_id)

            ask(self, tr("Main", "Unsaved edits"),
                tr("Main", "When tipdesk locked at {when}, you had edits that were not saved yet. "
                   "They were kept. Put them back now?").format(when=when),
                tr("Main", "Put them back"), restore,
                no_text=tr("Main", "Throw them away"), on_no=throw_away)
            return  # one question at a time; the next at the next unlock

    # --- locking -----------------------------------------------------------------------------------

    @Slot()
    def lock(self, reason: str = "lock") -> None:
        """Lock now: keep unsaved edits as drafts, clear every view, lock the register."""
        if self.reg is None or self._locking:
            return
        self._locking = True
        try:
            reg = self.reg
            self.inactivity.stop()
            self.runner.invalidate()
            for page in self.pages.values():
                for pending in page.pending_drafts():
                    try:
                        from tipdesk.services import drafts as drafts_service

                        drafts_service.save_draft(reg, pending.kind, pending.entity_id, pending.payload)
                    except TipdeskError:
                        log.warning("a draft could not be kept on lock")
            self._close_dialogs()
            self._drop_pages()
            self.reg = None
            reg.lock(reason)
            gc.unfreeze()
            gc.collect()
            QTimer.singleShot(0, gc.collect)  # again once the pages' deleteLater has run
            self._show_locked_state()
            self.locked.emit()
            QApplication.clipboard().clear()
        finally:
            self._locking = False
        self.show_login()

    def _close_dialogs(self) -> None:
        for dialog in self.findChildren(QDialog):
            if dialog is not self.login and dialog.isVisible():
                dialog.reject()
                dialog.hide()
            if dialog is not self.login:
                dialog.deleteLater()

    def _drop_pages(self) -> None:
        for page in self.pages.values():
            # Still owned by the stack until deleted on this thread (never by a Python reference
            # dropped elsewhere).
            self.stack.removeWidget(page)
            page.hide()
            page.deleteLater()
        self.pages.clear()
        self.specs = {}
        self.nav.clear()
        self.go_menu.clear()

    def _show_locked_state(self) -> None:
        self.backups.detach()
        self.stack.setCurrentWidget(self._locked_view)
        self.nav.hide()
        self.status_user.setText("")
        self.status_role.setText("")
        self.status_lock.setText(tr("Main", "Locked"))
        self.lock_action.setEnabled(False)
        self.password_action.setEnabled(False)
        self.setWindowTitle(self._title())

    @Slot(int)
    def _show_countdown(self, seconds: int) -> None:
        if self.reg is None:
            return
        minutes, secs = divmod(max(0, seconds), 60)
        self.status_lock.setText(tr("Main", "Locks in {m}:{s:02d}").format(m=minutes, s=secs))

    # --- other actions -----------------------------------------------------------------------------

    @Slot()
    def change_own_password(self) -> None:
        if self.reg is None:
            return
        from tipdesk.security import accounts
        from ui.dialogs import PasswordDialog

        reg = self.reg
        dialog = PasswordDialog(reg.actor.username, own=True, parent=self)

        def accepted() -> None:
            new, current = dialog.new.text(), dialog.current.text()
            self.runner.run(
                lambda _p: accounts.set_password(reg, reg.actor.username, new, current_password=current),
                lambda _r: self.statusBar().showMessage(tr("Main", "Your password was changed."), 8000),
                lambda exc: error_box(self, exc),
                label=tr("Main", "Changing your password…"), parent=self, cancellable=False)

        dialog.accepted.connect(accepted)
        dialog.open()

    @Slot()
    def show_shortcuts(self) -> None:
        rows = [
            ("Ctrl+L", tr("Main", "Lock tipdesk now")),
            ("Ctrl+B", tr("Main", "Back up now")),
            ("Ctrl+1 … Ctrl+6", tr("Main", "Go to a section")),
            ("Ctrl+F", tr("Main", "Search the cases")),
            ("Ctrl+N", tr("Main", "New case")),
            ("Ctrl+S", tr("Main", "Save")),
            ("Esc", tr("Main", "Cancel an edit")),
            ("Ctrl+Q", tr("Main", "Quit")),
        ]
        text = "<table>" + "".join(f"<tr><td><b>{k}</b>&nbsp;&nbsp;</td><td>{v}</td></tr>" for k, v in rows) + "</table>"
        QMessageBox.information(self, tr("Main", "Keyboard shortcuts"), text)

    @Slot()
    def show_about(self) -> None:
        QMessageBox.about(self, tr("Main", "About tipdesk"), tr(
            "Main", "tipdesk {version}\n\nAn encrypted case register for offices that fight "
            "trafficking in persons.").format(version=__version__))

    def activate_from_elsewhere(self) -> None:
        """A second start asked for this window: bring it forward."""
        if self.isMinimized():
            self.showNormal()
        self.show()
        self.raise_()
        self.activateWindow()
        if self.login is not None:
            self.login.raise_()
            self.login.activateWindow()

    # --- closing ---------------------------------------------------------------------------------

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 (Qt API)
        if self.reg is not None and not self._closing_confirmed:
            unsaved = [p for p in self.pages.values() if p.has_unsaved()]
            if unsaved:
                event.ignore()

                def close_anyway() -> None:
                    for p in unsaved:
                        p.discard_changes()
                    self._closing_confirmed = True
                    self.close()

                ask(self, tr("Main", "Unsaved changes"),
                    tr("Main", "Some changes are not saved. Close tipdesk and lose them?"),
                    tr("Main", "Close and lose them"), close_anyway, destructive=True,
                    no_text=tr("Main", "Go back"))
                return
        self.settings.window_geometry = bytes(self.saveGeometry().toBase64().data()).decode()
        try:
            self.settings.save()
        except TipdeskError:
            log.warning("could not save the settings")
        self.inactivity.stop()
        self.runner.invalidate()
        if self.reg is not None:
            reg, self.reg = self.reg, None
            self._drop_pages()
            reg.lock("logout")
        if self.login is not None:
            self.login.blockSignals(True)
            self.login.done(QDialog.DialogCode.Rejected)
        event.accept()
