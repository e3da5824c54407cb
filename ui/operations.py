"""The operation runner: long work off the GUI thread, results back on it.

An operation must not touch widgets, nor capture one in its closure: the closure is released
on the worker thread, and a widget must never be destroyed there.

Modelled on Anki's ``CollectionOp``/``QueryOp``: ``op`` runs on a ``QThreadPool`` worker and
must not touch any widget; ``on_success``/``on_failure`` run on the GUI thread. A progress
dialog with a Cancel button appears when the work takes longer than about a second. After a
successful operation the runner emits ``changed`` with what it changed, so that each view can
decide whether to refresh.

Locking bumps the runner's generation: results of operations started before the lock are
dropped rather than shown on a window that has been cleared.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any, Generic, TypeVar

from PySide6.QtCore import QObject, QRunnable, Qt, QThreadPool, QTimer, Signal, Slot
from PySide6.QtWidgets import QProgressDialog, QWidget

from tipdesk.errors import TipdeskError
from ui.i18n import tr

log = logging.getLogger(__name__)

T = TypeVar("T")
PROGRESS_DELAY_MS = 1000


class OperationCancelled(Exception):
    """Raised inside an operation (via ``Progress.check``) when the user pressed Cancel."""


class Progress:
    """Handed to an operation: report progress, and notice a cancel request."""

    def __init__(self, signals: _Signals) -> None:
        self._signals = signals
        self._cancel = threading.Event()

    def report(self, done: int, total: int = 0, text: str = "") -> None:
        """Tell the window how far the work is (``total`` 0: unknown)."""
        self._signals.progress.emit(int(done), int(total), text)

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def check(self) -> None:
        """Raise ``OperationCancelled`` if the user asked to stop."""
        if self._cancel.is_set():
            raise OperationCancelled()

    def cancel(self) -> None:
        self._cancel.set()


class _Signals(QObject):
    succeeded = Signal(object)
    failed = Signal(object)
    progress = Signal(int, int, str)


class _Job(QRunnable):
    def __init__(self, op: Callable[[Progress], Any], signals: _Signals, progress: Progress) -> None:
        super().__init__()
        self.setAutoDelete(True)
        self._op = op
        self._signals = signals
        self._progress = progress

    def run(self) -> None:  # worker thread: no widgets here
        signals, op = self._signals, self._op
        self._op = None  # type: ignore[assignment]
        try:
            result = op(self._progress)
        except BaseException as exc:  # delivered to on_failure on the GUI thread
            signals.failed.emit(exc)
        else:
            signals.succeeded.emit(result)


class OperationHandle(QObject, Generic[T]):
    """One running operation; lives on the GUI thread, so its slots run there."""

    def __init__(
        self, runner: OperationRunner, label: str, parent_widget: QWidget | None,
        on_success: Callable[[T], None] | None, on_failure: Callable[[BaseException], None] | None,
        changes: frozenset[str], cancellable: bool, progress_delay_ms: int,
    ) -> None:
        super().__init__(runner)
        self._runner = runner
        self._generation = runner.generation
        self._label = label
        self._parent_widget = parent_widget
        self._on_success = on_success
        self._on_failure = on_failure
        self._changes = changes
        self._cancellable = cancellable
        self._dialog: QProgressDialog | None = None
        self._last = (0, 0, "")
        # Owned by the handle (C++ parent), so it is destroyed on the GUI thread with it, never
        # by a worker dropping the last Python reference (a QObject must die in its own thread).
        self.signals = _Signals(self)
        self.progress = Progress(self.signals)
        self.signals.succeeded.connect(self._succeeded)
        self.signals.failed.connect(self._failed)
        self.signals.progress.connect(self._progressed)
        self.done = False
        self.started_at = time.perf_counter()
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._show_dialog)
        if progress_delay_ms >= 0 and parent_widget is not None:
            self._timer.start(progress_delay_ms)

    def cancel(self) -> None:
        self.progress.cancel()

    @Slot()
    def _show_dialog(self) -> None:
        if self.done or self._parent_widget is None:
            return
        dialog = QProgressDialog(self._parent_widget)
        dialog.setWindowTitle(tr("Operation", "Please wait"))
        dialog.setLabelText(self._label or tr("Operation", "Working…"))
        dialog.setAccessibleName(tr("Operation", "Progress"))
        dialog.setWindowModality(Qt.WindowModality.WindowModal)
        dialog.setMinimumDuration(0)
        dialog.setAutoClose(False)
        dialog.setAutoReset(False)
        if self._cancellable:
            dialog.setCancelButtonText(tr("Operation", "Cancel"))
            dialog.canceled.connect(self._cancel_pressed)
        else:
            dialog.setCancelButton(None)
        done, total, text = self._last
        if text:
            dialog.setLabelText(text)
        dialog.setRange(0, total)
        self._dialog = dialog  # before setValue: it may run the event loop, and the work end
        dialog.show()
        dialog.setValue(done if total else 0)

    @Slot()
    def _cancel_pressed(self) -> None:
        self.progress.cancel()
        if self._dialog is not None:
            self._dialog.setLabelText(tr("Operation", "Stopping…"))

    @Slot(int, int, str)
    def _progressed(self, done: int, total: int, text: str) -> None:
        self._last = (done, total, text)
        dialog = self._dialog
        if dialog is not None:
            if text:
                dialog.setLabelText(text)
            dialog.setRange(0, total)
            # A window-modal progress dialog runs the event loop inside setValue: the operation
            # may finish (and the dialog go) meanwhile, so nothing of it is touched afterwards.
            dialog.setValue(done if total else 0)

    def _finish(self) -> bool:
        self.done = True
        self._timer.stop()
        if self._dialog is not None:
            self._dialog.hide()
            self._dialog.deleteLater()
            self._dialog = None
        self._runner._forget(self)
        return self._generation == self._runner.generation

    def _take_callbacks(self):  # noqa: ANN202
        # Drop our references at once: a callback may hold the last reference to a widget, and
        # it must not be released later from inside this handle's own deletion.
        callbacks = (self._on_success, self._on_failure)
        self._on_success = self._on_failure = None
        return callbacks

    @Slot(object)
    def _succeeded(self, result: Any) -> None:
        on_success, _ = self._take_callbacks()
        if not self._finish():
            return
        if on_success is not None:
            on_success(result)
        if self._changes:
            self._runner.changed.emit(set(self._changes))

    @Slot(object)
    def _failed(self, exc: BaseException) -> None:
        _, on_failure = self._take_callbacks()
        if not self._finish():
            return
        if not isinstance(exc, (TipdeskError, OperationCancelled)):
            from tipdesk.logs import describe_exception

            # Type and place only: a message could hold personal data or SQL parameters.
            log.error("operation failed: %s", describe_exception(exc))
        if on_failure is not None:
            on_failure(exc)
        elif not isinstance(exc, OperationCancelled):
            self._runner.unhandled_failure.emit(exc)


class OperationRunner(QObject):
    """Runs operations on a thread pool; one per window."""

    changed = Signal(object)  # set[str] of what an operation changed, e.g. {"cases"}
    unhandled_failure = Signal(object)  # an exception no on_failure took

    def __init__(self, parent: QObject | None = None, max_threads: int = 2) -> None:
        super().__init__(parent)
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(max_threads)
        self.generation = 0
        self._running: list[OperationHandle[Any]] = []

    def run(
        self,
        op: Callable[[Progress], T],
        on_success: Callable[[T], None] | None = None,
        on_failure: Callable[[BaseException], None] | None = None,
        *,
        label: str = "",
        parent: QWidget | None = None,
        changes: Iterable[str] = (),
        cancellable: bool = True,
        progress_delay_ms: int = PROGRESS_DELAY_MS,
    ) -> OperationHandle[T]:
        """Run ``op(progress)`` off the GUI thread; callbacks come back on the GUI thread.

        ``parent``: the window over which a progress dialog appears when the work takes longer
        than ``progress_delay_ms`` (none without a parent). ``changes``: what a successful run
        changed, announced through ``changed``.
        """
        handle: OperationHandle[T] = OperationHandle(
            self, label, parent, on_success, on_failure, frozenset(changes), cancellable,
            progress_delay_ms,
        )
        self._running.append(handle)
        self.pool.start(_Job(op, handle.signals, handle.progress))
        return handle

    @property
    def busy(self) -> bool:
        return bool(self._running)

    def _forget(self, handle: OperationHandle[Any]) -> None:
        if handle in self._running:
            self._running.remove(handle)
        handle.deleteLater()

    def invalidate(self, wait_ms: int = 5000) -> bool:
        """Drop the results of every running operation (the window is locking).

        Asks them to cancel and waits up to ``wait_ms`` for the workers to finish, so that no
        operation still holds the register when it is locked. True if all finished.
        """
        self.generation += 1
        for handle in list(self._running):
            handle.cancel()
        finished = self.pool.waitForDone(wait_ms)
        return bool(finished)
