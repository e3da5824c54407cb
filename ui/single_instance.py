"""One tipdesk per register (like Vorta's ``qt_single_application``).

A ``QLockFile`` beside the register (``NAME.tipdb.lock``: process id, host and application
name only) says the register is open; a ``QLocalServer`` named after a hash of the register's
path lets a second start on the same computer ask the first to come forward. The lock file also
stops a second user on another account or computer (shared folder) from opening it at once.
A lock left by a crashed tipdesk on this computer is recognised as stale and taken over.
"""

from __future__ import annotations

import getpass
import hashlib
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QLockFile, QObject, Signal, Slot
from PySide6.QtNetwork import QLocalServer, QLocalSocket

ACTIVATE = b"activate\n"
LOCK_SUFFIX = ".lock"


def lock_path(register: Path) -> Path:
    return register.with_name(register.name + LOCK_SUFFIX)


def server_name(register: Path) -> str:
    """A local-socket name for this register and OS user (no path or name visible in it)."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no user name in the environment or password database
        user = ""
    digest = hashlib.sha256(f"{Path(register).resolve()}\0{user}".encode()).hexdigest()[:24]
    return f"tipdesk-{digest}"


@dataclass(frozen=True)
class InUse:
    """Another tipdesk holds the register."""

    activated: bool  # the other window was asked to come forward
    host: str  # the computer holding the lock ('' when unknown)
    pid: int


class RegisterGuard(QObject):
    """Holds the single-instance lock of one register while it is open in this process."""

    activation_requested = Signal()

    def __init__(self, register: Path, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.register = Path(register)
        self._lock = QLockFile(str(lock_path(self.register)))
        self._lock.setStaleLockTime(0)  # stale only when the owning process is gone
        self._server: QLocalServer | None = None

    def acquire(self) -> InUse | None:
        """Take the register, or describe who holds it (and ask them to come forward)."""
        if self._lock.tryLock(200):
            self._serve()
            return None
        info = self._lock.getLockInfo()  # (pid, host, app), or () when unreadable
        pid, host = (int(info[0]), str(info[1])) if isinstance(info, tuple) and len(info) >= 2 else (0, "")
        activated = ask_to_activate(self.register)
        return InUse(activated=activated, host=host, pid=pid)

    def _serve(self) -> None:
        name = server_name(self.register)
        QLocalServer.removeServer(name)  # a socket file left by a crash
        server = QLocalServer(self)
        server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        if server.listen(name):
            server.newConnection.connect(self._on_connection)
            self._server = server

    @Slot()
    def _on_connection(self) -> None:
        assert self._server is not None
        while self._server.hasPendingConnections():
            sock = self._server.nextPendingConnection()
            sock.readyRead.connect(self._read)
            if sock.bytesAvailable():
                self._read_from(sock)

    @Slot()
    def _read(self) -> None:
        sock = self.sender()
        if isinstance(sock, QLocalSocket):
            self._read_from(sock)

    def _read_from(self, sock: QLocalSocket) -> None:
        data = bytes(sock.readAll().data())
        if data.startswith(ACTIVATE.strip()):
            self.activation_requested.emit()
        sock.readyRead.disconnect(self._read)
        sock.abort()
        sock.deleteLater()

    def release(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server.deleteLater()
            self._server = None
        if self._lock.isLocked():
            self._lock.unlock()

    @property
    def held(self) -> bool:
        return self._lock.isLocked()


def ask_to_activate(register: Path, timeout_ms: int = 1000) -> bool:
    """Ask the tipdesk holding ``register`` on this computer to bring its window forward."""
    sock = QLocalSocket()
    sock.connectToServer(server_name(register))
    if not sock.waitForConnected(timeout_ms):
        return False
    sock.write(ACTIVATE)
    ok = sock.waitForBytesWritten(timeout_ms)
    sock.disconnectFromServer()
    if sock.state() != QLocalSocket.LocalSocketState.UnconnectedState:
        sock.waitForDisconnected(timeout_ms)
    return bool(ok)
