"""When to lock: the inactivity timer (KeePassXC's ``InactivityTimer``) and the OS screen lock.

The timer watches input where it enters the application: an event filter on each top-level
``QWindow`` (the main window, every dialog, menu and pop-up), which receives every key press or
release, click, wheel turn, touch and mouse move from the windowing system before Qt hands it on
to a widget. It only notes the time. An application-wide filter would see the same input, but
also every paint, layout, timer and widget-to-widget event — thousands for one redraw of the
dashboard, each a call into Python — so it is not used. New top-level windows are picked up when
they get the focus, and on every tick of the countdown (once a second), long before any lock
timeout could matter. A ticking ``QTimer`` compares the last input with the timeout, updates the
countdown and fires ``timed_out`` once.

The screen lock is watched where the platform can tell, best effort: on Linux the
freedesktop/GNOME/KDE screen savers' ``ActiveChanged`` D-Bus signals and logind's session
``Lock`` signal; on Windows ``WTSRegisterSessionNotification`` and ``WM_WTSSESSION_CHANGE``.
"""

from __future__ import annotations

import ctypes
import logging
import os
import sys
import time

from PySide6.QtCore import (
    QAbstractNativeEventFilter,
    QCoreApplication,
    QEvent,
    QObject,
    QTimer,
    Signal,
    Slot,
)
from PySide6.QtGui import QGuiApplication, QWindow

log = logging.getLogger(__name__)


def _input_events() -> frozenset[QEvent.Type]:
    # Built on first use: touching QEvent.Type creates a large Python enum (slows the start).
    return frozenset({
        QEvent.Type.KeyPress, QEvent.Type.KeyRelease, QEvent.Type.MouseButtonPress,
        QEvent.Type.MouseButtonRelease, QEvent.Type.MouseButtonDblClick, QEvent.Type.MouseMove,
        QEvent.Type.Wheel, QEvent.Type.TouchBegin, QEvent.Type.TouchUpdate, QEvent.Type.TabletPress,
        QEvent.Type.Shortcut,
    })


class InactivityTimer(QObject):
    """Fires ``timed_out`` after ``timeout_s`` seconds without keyboard or mouse input."""

    timed_out = Signal()
    remaining_changed = Signal(int)  # whole seconds left

    def __init__(self, timeout_s: float, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._timeout_s = float(timeout_s)
        self._last_input = time.monotonic()
        self._active = False
        self._inputs: frozenset[QEvent.Type] | None = None
        self._tick = QTimer(self)
        self._tick.timeout.connect(self._on_tick)
        self._set_tick_interval()

    def _set_tick_interval(self) -> None:
        # One tick a second for the countdown; faster for very short (test) timeouts.
        self._tick.setInterval(int(max(50, min(1000, self._timeout_s * 1000 / 4))))

    @property
    def timeout_s(self) -> float:
        return self._timeout_s

    def set_timeout(self, seconds: float) -> None:
        self._timeout_s = float(seconds)
        self._set_tick_interval()
        self.touch()

    def start(self) -> None:
        """Begin watching input (an event filter on every top-level window, new ones too)."""
        if self._active:
            return
        if self._inputs is None:
            self._inputs = _input_events()
        self._active = True
        app = QCoreApplication.instance()
        if isinstance(app, QGuiApplication):
            app.focusWindowChanged.connect(self._watch_window)
        self._watch_windows()
        self.touch()
        self._tick.start()

    def stop(self) -> None:
        if not self._active:
            return
        app = QCoreApplication.instance()
        if isinstance(app, QGuiApplication):
            app.focusWindowChanged.disconnect(self._watch_window)
            for window in QGuiApplication.topLevelWindows():
                window.removeEventFilter(self)
        self._active = False
        self._tick.stop()

    def _watch_windows(self) -> None:
        """Filter every top-level window (a few: cheap every second). Installing the filter on a
        window that has it already only moves it to the front: Qt keeps one, and drops it with
        the window — tipdesk holds no reference to any window."""
        if isinstance(QCoreApplication.instance(), QGuiApplication):
            for window in QGuiApplication.topLevelWindows():
                window.installEventFilter(self)

    @Slot(QWindow)
    def _watch_window(self, window: QWindow | None) -> None:
        if window is not None and self._active:
            window.installEventFilter(self)

    @property
    def active(self) -> bool:
        return self._active

    def touch(self) -> None:
        """Count now as activity."""
        self._last_input = time.monotonic()

    def remaining(self) -> float:
        return max(0.0, self._timeout_s - (time.monotonic() - self._last_input))

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt API)
        if self._inputs is not None and event.type() in self._inputs:
            self._last_input = time.monotonic()
        return False

    @Slot()
    def _on_tick(self) -> None:
        self._watch_windows()
        left = self.remaining()
        self.remaining_changed.emit(int(left + 0.999))
        if left <= 0 and self._active:
            self.stop()
            self.timed_out.emit()


# --- the OS screen lock ----------------------------------------------------------------------

class ScreenLockWatcher(QObject):
    """Emits ``screen_locked`` when the operating system locks the screen (where it can tell)."""

    screen_locked = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.sources: list[str] = []
        self._win_filter: _WindowsSessionFilter | None = None
        if sys.platform.startswith("linux"):
            self._watch_dbus()
        elif os.name == "nt":
            self._watch_windows()

    # Linux ------------------------------------------------------------------------------------
    def _watch_dbus(self) -> None:
        try:
            from PySide6.QtDBus import QDBusConnection
        except ImportError:
            return
        session = QDBusConnection.sessionBus()
        if session.isConnected():
            for service, path, iface in (
                ("org.freedesktop.ScreenSaver", "/org/freedesktop/ScreenSaver", "org.freedesktop.ScreenSaver"),
                ("org.gnome.ScreenSaver", "/org/gnome/ScreenSaver", "org.gnome.ScreenSaver"),
                ("org.kde.screensaver", "/ScreenSaver", "org.freedesktop.ScreenSaver"),
                ("org.mate.ScreenSaver", "/org/mate/ScreenSaver", "org.mate.ScreenSaver"),
                ("org.cinnamon.ScreenSaver", "/org/cinnamon/ScreenSaver", "org.cinnamon.ScreenSaver"),
            ):
                if session.connect(service, path, iface, "ActiveChanged", self, b"1_saver_changed(bool)"):
                    self.sources.append(iface)
        system = QDBusConnection.systemBus()
        session_id = os.environ.get("XDG_SESSION_ID")
        if system.isConnected() and session_id:
            path = f"/org/freedesktop/login1/session/{session_id}"
            if system.connect("org.freedesktop.login1", path, "org.freedesktop.login1.Session",
                              "Lock", self, b"1_logind_lock()"):
                self.sources.append("logind")

    @Slot(bool)
    def _saver_changed(self, active: bool) -> None:
        if active:
            self.screen_locked.emit()

    @Slot()
    def _logind_lock(self) -> None:
        self.screen_locked.emit()

    # Windows ----------------------------------------------------------------------------------
    def _watch_windows(self) -> None:
        app = QCoreApplication.instance()
        if app is None:
            return
        self._win_filter = _WindowsSessionFilter(self.screen_locked.emit)
        app.installNativeEventFilter(self._win_filter)
        self.sources.append("wts")

    def register_window(self, win_id: int) -> None:
        """Windows delivers session notifications to a window: register the main window."""
        if os.name != "nt":
            return
        try:
            wtsapi = ctypes.WinDLL("wtsapi32")  # type: ignore[attr-defined]
            NOTIFY_FOR_THIS_SESSION = 0
            wtsapi.WTSRegisterSessionNotification(ctypes.c_void_p(int(win_id)), NOTIFY_FOR_THIS_SESSION)
        except OSError:
            log.info("session notifications unavailable")


class _WindowsSessionFilter(QAbstractNativeEventFilter):
    WM_WTSSESSION_CHANGE = 0x02B1
    WTS_SESSION_LOCK = 0x7

    def __init__(self, callback) -> None:  # noqa: ANN001
        super().__init__()
        self._callback = callback

    def nativeEventFilter(self, event_type, message):  # noqa: ANN001, N802 (Qt API)
        if event_type == b"windows_generic_MSG":
            from ctypes import wintypes

            msg = wintypes.MSG.from_address(int(message))
            if msg.message == self.WM_WTSSESSION_CHANGE and msg.wParam == self.WTS_SESSION_LOCK:
                self._callback()
        return False, 0
