"""Start the window: ``run_gui(path)`` is what ``tipdesk open [PATH]`` calls.

Sets up the Qt application (Fusion style, the app icon, translations), routes Qt's own
messages into logging without personal data, keeps one tipdesk per register, and walks from
the start screen (or a given path) to the login dialog over the main window.
"""

from __future__ import annotations

import logging
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import (
    QLibraryInfo,
    QLocale,
    QObject,
    Qt,
    QtMsgType,
    QTimer,
    QTranslator,
    qInstallMessageHandler,
)
from PySide6.QtGui import QGuiApplication, QIcon
from PySide6.QtWidgets import QApplication, QDialog, QMessageBox, QWidget

from tipdesk import __version__, logs
from tipdesk.errors import EXIT_NOT_A_REGISTER, EXIT_OK, TipdeskError
from tipdesk.settings import Settings
from ui.i18n import tr
from ui.operations import OperationRunner
from ui.single_instance import RegisterGuard

if TYPE_CHECKING:
    from tipdesk.vault.register import CreatedRegister

log = logging.getLogger("tipdesk.ui")

EXIT_IN_USE = 6  # the same code as "that place cannot be used" on the command line
_QUOTED = re.compile(r"(\"[^\"]*\"|'[^']*'|«[^»]*»)")
_LEVELS = {
    QtMsgType.QtDebugMsg: logging.DEBUG,
    QtMsgType.QtInfoMsg: logging.INFO,
    QtMsgType.QtWarningMsg: logging.WARNING,
    QtMsgType.QtCriticalMsg: logging.ERROR,
    QtMsgType.QtFatalMsg: logging.CRITICAL,
}


def scrub(message: str) -> str:
    """Qt's messages quote object names and texts, which could be personal: drop the quotes."""
    return _QUOTED.sub("'…'", message)[:500]


def _qt_message(mode: QtMsgType, context: object, message: str) -> None:
    category = getattr(context, "category", None) or "qt"
    logging.getLogger(f"tipdesk.qt.{category}").log(_LEVELS.get(mode, logging.WARNING), "%s", scrub(message))


def app_icon() -> QIcon:
    """The application icon: from resources/ when it exists, else a theme icon placeholder."""
    here = Path(__file__).resolve().parent.parent / "resources" / "icons"
    for name in ("tipdesk.svg", "tipdesk.png"):
        if (here / name).exists():
            return QIcon(str(here / name))
    return QIcon.fromTheme("security-high", QApplication.style().standardIcon(
        QApplication.style().StandardPixmap.SP_DriveHDIcon))


def make_application(argv: list[str] | None = None) -> QApplication:
    """The one QApplication (created once; tests and the screenshot command reuse it)."""
    app = QApplication.instance()
    if app is None:
        QGuiApplication.setHighDpiScaleFactorRoundingPolicy(Qt.HighDpiScaleFactorRoundingPolicy.PassThrough)
        app = QApplication(argv if argv is not None else [sys.argv[0]])
    assert isinstance(app, QApplication)
    app.setApplicationName("tipdesk")
    app.setApplicationDisplayName("tipdesk")
    app.setApplicationVersion(__version__)
    app.setOrganizationName("tipdesk")
    app.setDesktopFileName("tipdesk")
    app.setStyle("Fusion")
    app.setWindowIcon(app_icon())
    load_translations(app, Settings.load().language)
    return app


TRANSLATIONS = Path(__file__).resolve().parent.parent / "resources" / "translations"


def load_translations(app: QApplication, language: str, folder: Path | None = None) -> list[QTranslator]:
    """Install Qt's own catalogue (``qtbase_<lang>``: standard buttons, dialogs) and tipdesk's
    (``tipdesk_<lang>.qm``, built from resources/translations by ``tasks.py``) for ``language``;
    returns those installed. A missing catalogue leaves the English texts."""
    for old in app.findChildren(QTranslator, "tipdesk-translator"):
        app.removeTranslator(old)
        old.deleteLater()
    language = (language or "en").strip()
    locale = QLocale(language)
    installed = []
    # Qt's own texts are English without a catalogue.
    candidates = [] if language.startswith("en") else [
        ("qtbase", QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath))]
    candidates.append(("tipdesk", str(folder or TRANSLATIONS)))
    for name, where in candidates:
        translator = QTranslator(app)
        translator.setObjectName("tipdesk-translator")
        if translator.load(locale, name, "_", where) and app.installTranslator(translator):
            installed.append(translator)
        else:
            translator.deleteLater()
            if name == "tipdesk":
                log.info("no tipdesk catalogue for language %s", language)
    return installed


class Session(QObject):
    """Opens one register in one window: single-instance lock, window, login."""

    def __init__(self, path: Path, created: CreatedRegister | None = None) -> None:
        super().__init__()
        from ui.main_window import MainWindow

        self.path = Path(path)
        self.guard = RegisterGuard(self.path, self)
        self.window: MainWindow | None = None
        self._created = created
        self._window_cls = MainWindow
        self.failure = ""  # why start() refused: not_a_register, activated, in_use

    def start(self, parent: QWidget | None = None) -> bool:
        """Show the window (and the login dialog). False when the register cannot be used."""
        if self._created is None and not self.path.is_file():
            # The full check (not plain SQLite, size, local disk) runs on a worker while the
            # login dialog is up, so that the dialog appears before the core has loaded.
            self.failure = "not_a_register"
            QMessageBox.warning(parent, tr("App", "tipdesk"),
                                tr("App", "There is no register at {path}.").format(path=self.path))
            return False
        in_use = self.guard.acquire()
        if in_use is not None:
            self.failure = "activated" if in_use.activated else "in_use"
            if in_use.activated:
                print(tr("App", "tipdesk: {file} is already open in another tipdesk window; "
                         "that window was brought forward.").format(file=self.path.name), file=sys.stderr)
            else:
                where = tr("App", " on the computer {host}").format(host=in_use.host) if in_use.host else ""
                QMessageBox.warning(parent, tr("App", "Register in use"), tr(
                    "App", "{file} is open in another tipdesk{where}. Only one tipdesk at a time may "
                    "use a register. Close it there, then try again.").format(file=self.path.name, where=where))
            if self._created is not None:
                self._created.register.close()
            return False
        window = self._window_cls(self.path, OperationRunner())
        self.guard.activation_requested.connect(window.activate_from_elsewhere)
        window.destroyed.connect(lambda *_: self.guard.release())
        self.window = window
        window.show()
        if self._created is not None:
            window.attach(self._created.register)
            self._created = None
        else:
            window.show_login()
        return True

    def stop(self) -> None:
        self.guard.release()


def run_gui(path: Path | None) -> int:
    """Open the window on ``path`` (or the start screen) and run until it closes."""
    logs.install_excepthook()
    app = make_application()
    QTimer.singleShot(0, logs.configure)  # after the first window is up: the log file can wait
    previous = qInstallMessageHandler(_qt_message)
    try:
        session: Session | None = None
        if path is not None:
            session = Session(path)
            if not session.start():
                session.stop()
                return {"activated": EXIT_OK, "in_use": EXIT_IN_USE}.get(session.failure, EXIT_NOT_A_REGISTER)
        else:
            while session is None:
                from ui.start import StartDialog

                start = StartDialog(OperationRunner(app))
                if start.exec() != QDialog.DialogCode.Accepted or start.path is None:
                    return EXIT_OK
                candidate = Session(start.path, start.created)
                if candidate.start():
                    session = candidate
                else:
                    candidate.stop()
        code = app.exec()
        session.stop()
        return code
    finally:
        qInstallMessageHandler(previous)
