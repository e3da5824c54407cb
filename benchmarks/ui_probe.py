"""Run by ``bench_ui`` in a fresh process: ``tipdesk open PATH`` until the login dialog is painted.

Prints ``painted`` on stdout the moment the login dialog's first paint event arrives, then
quits. Only the benchmark uses this; the product has no timing hook.
"""

from __future__ import annotations

import sys

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication


class _FirstPaint(QObject):
    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
        if event.type() == QEvent.Type.Paint:
            print("painted", flush=True)
            watched.removeEventFilter(self)
            QTimer.singleShot(0, QApplication.quit)
        return False


def main(path: str) -> int:
    import ui.main_window as mw

    original = mw.MainWindow.show_login
    spy = _FirstPaint()

    def show_login(self):  # noqa: ANN001, ANN202
        dialog = original(self)
        dialog.installEventFilter(spy)
        return dialog

    mw.MainWindow.show_login = show_login
    from tipdesk.cli import main as cli_main

    return cli_main(["open", path])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
