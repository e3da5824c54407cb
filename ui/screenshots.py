"""``tipdesk screenshots DIR``: render the main windows offscreen into PNG files.

Drives the real widgets (start screen, the create-register wizard, login, every page of the
main window, the locked window) the way a person would, on a register made for the occasion
(synthetic data only) or on one given with ``--register``. ``docs/screenshots/`` is refreshed
by ``python3 tasks.py screenshots``.
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QPoint, QSize
from PySide6.QtGui import QColor, QPainter, QPixmap
from PySide6.QtWidgets import QApplication, QDialog, QWidget

from tipdesk.settings import Settings
from tipdesk.vault.register import open_register
from ui.app import make_application
from ui.main_window import MainWindow
from ui.operations import OperationRunner

WINDOW_SIZE = QSize(1180, 760)
DEMO_PASSWORD = "screenshot-admin-1"  # a throwaway register made only for the pictures


def wait_until(condition: Callable[[], bool], timeout_s: float = 30.0) -> None:
    """Let the event loop run until ``condition()`` holds."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("the window did not reach the expected state in time")
        QApplication.processEvents()
        time.sleep(0.01)


def settle(ms: int = 150) -> None:
    end = time.monotonic() + ms / 1000
    while time.monotonic() < end:
        QApplication.processEvents()
        time.sleep(0.01)


def with_dialog(window: QWidget, dialog: QWidget) -> QPixmap:
    """The window with its dialog drawn over it, centred and the window dimmed, as a person sees it."""
    base = window.grab()
    painter = QPainter(base)
    painter.fillRect(base.rect(), QColor(0, 0, 0, 60))
    top = dialog.grab()
    at = QPoint((base.width() - top.width()) // 2, (base.height() - top.height()) // 3)
    painter.drawPixmap(at, top)
    painter.setPen(QColor(90, 90, 90))
    painter.drawRect(at.x() - 1, at.y() - 1, top.width() + 1, top.height() + 1)
    painter.end()
    return base


class Shooter:
    def __init__(self, out: Path) -> None:
        self.out = out
        self.saved: list[Path] = []
        out.mkdir(parents=True, exist_ok=True)

    def save(self, name: str, picture: QPixmap | QWidget) -> None:
        settle()
        pixmap = picture.grab() if isinstance(picture, QWidget) else picture
        target = self.out / f"{name}.png"
        if not pixmap.save(str(target), "PNG"):
            raise OSError(f"could not write {target}")
        self.saved.append(target)


def _create_with_wizard(shots: Shooter, folder: Path) -> Path:
    from PySide6.QtWidgets import QWizard

    from ui.wizard import CreateRegisterWizard

    wizard = CreateRegisterWizard(OperationRunner(), folder)
    wizard.resize(720, 520)
    wizard.show()
    path = folder / "open-arms-shelter.tipdb"
    wizard.place_page.path_edit.setText(str(path))
    wizard.next()
    wizard.office_page.code.setText("OAS")
    wizard.office_page.name.setText("Open Arms Shelter")
    shots.save("wizard-office", wizard)
    wizard.next()
    wizard.admin_page.username.setText("admin")
    wizard.admin_page.display_name.setText("Office administrator")
    wizard.admin_page.password.setText(DEMO_PASSWORD)
    wizard.admin_page.again.setText(DEMO_PASSWORD)
    wizard.next()
    wait_until(lambda: wizard.currentPage() is wizard.key_page, 120)
    shots.save("wizard-recovery-key", wizard)
    wizard.key_page.stored.setChecked(True)
    assert wizard.button(QWizard.WizardButton.FinishButton).isEnabled()
    wizard.accept()
    wizard.created.register.close()
    wizard.deleteLater()
    return path


def _demo_register(folder: Path, cases: int) -> Path:
    """A demo register of synthetic cases (``tipdesk demo``), for the pictures only."""
    from tipdesk.demo import make_demo_register

    path = folder / "demo.tipdb"
    make_demo_register(path, cases=cases, admin_password=DEMO_PASSWORD)
    return path


def take(out: Path, register: Path | None = None, username: str | None = None,
         password: str | None = None, cases: int = 1000) -> list[Path]:
    """Render every main view into ``out``; returns the files written."""
    from PySide6.QtCore import qInstallMessageHandler

    from ui.app import _qt_message

    app = make_application()
    previous = qInstallMessageHandler(_qt_message)  # Qt's offscreen notices go to the log
    try:
        return _take(app, out, register, username, password, cases)
    finally:
        qInstallMessageHandler(previous)


def _take(app: QApplication, out: Path, register: Path | None, username: str | None,
          password: str | None, cases: int) -> list[Path]:
    shots = Shooter(out)
    with tempfile.TemporaryDirectory(prefix="tipdesk-shots-") as tmp:
        os.environ["TIPDESK_SETTINGS_DIR"] = str(Path(tmp) / "settings")  # leave the user's settings alone
        _create_with_wizard(shots, Path(tmp))
        made_here = register is None
        if register is None:
            register = _demo_register(Path(tmp), cases)
            username, password = "admin", DEMO_PASSWORD
        settings = Settings.load()
        settings.remember_register(register)
        settings.save()

        from ui.start import StartDialog

        start = StartDialog(OperationRunner())
        start.show()
        shots.save("start", start)
        start.close()

        window = MainWindow(register, OperationRunner())
        window.resize(WINDOW_SIZE)
        window.show()
        login = window.show_login()
        login.user_edit.setText(username or "admin")
        settle()
        shots.save("login", with_dialog(window, login))
        login.password_edit.setText("not the password")
        login.try_sign_in()
        wait_until(lambda: login.message.isVisible())
        shots.save("login-wrong-password", with_dialog(window, login))
        from tipdesk.vault.register import clear_failed_attempts

        clear_failed_attempts(register)  # the pictures' own failure must not slow the next sign-in
        login._retry_at = 0
        login._tick()
        login.password_edit.setText(password or "")
        login.try_sign_in()
        wait_until(lambda: window.reg is not None, 60)
        settle(300)
        for key in list(window.specs):
            window.go(key)
            page = window.page(key)
            settle()
            from ui.screenshots_work import case_pictures, work_pictures

            if key == "cases":
                _case_pictures(shots, window, page, may_edit=made_here)
                case_pictures(shots, window)
                window.go(key)
            elif key == "returns":
                _returns_pictures(shots, window, page, Path(tmp), may_save=made_here)
            elif key == "admin":
                for index in range(page.tabs.count()):
                    page.tabs.setCurrentIndex(index)
                    settle(200)
                    name = page.tabs.tabText(index).replace("&", "").lower().replace(" ", "-")
                    shots.save(f"admin-{name}", window)
                _backup_pictures(shots, window, page, Path(tmp))
            elif not work_pictures(shots, window, key, page):
                shots.save(f"page-{key}", window)
        window.lock("lock")
        settle()
        shots.save("locked", with_dialog(window, window.login))
        window.login.blockSignals(True)
        window.login.done(QDialog.DialogCode.Rejected)
        window._closing_confirmed = True
        window.close()
        app.processEvents()
    return shots.saved


def _backup_pictures(shots: Shooter, window: MainWindow, page, folder: Path) -> None:  # noqa: ANN001
    """Administration → Backups after a backup, and the message a person reads then."""
    from PySide6.QtWidgets import QMessageBox

    usb = folder / "USB-STICK"
    tab = page.backups_tab
    page.tabs.setCurrentWidget(tab)
    tab.folder.setText(str(usb))  # not plugged in yet
    tab.back_up_now()
    wait_until(lambda: any(b.isVisible() for b in window.findChildren(QMessageBox)), 60)
    box = next(b for b in window.findChildren(QMessageBox) if b.isVisible())
    shots.save("backup-folder-missing", with_dialog(window, box))
    box.reject()
    usb.mkdir(exist_ok=True)
    tab.back_up_now()
    wait_until(lambda: any(b.isVisible() for b in tab.findChildren(QMessageBox)), 120)
    box = next(b for b in tab.findChildren(QMessageBox) if b.isVisible())
    settle(300)
    shots.save("backup-done", with_dialog(window, box))
    box.accept()
    wait_until(lambda: "verified" in tab.status.text())
    shots.save("admin-backups-after", window)


def _returns_pictures(shots: Shooter, window: MainWindow, page, folder: Path, may_save: bool) -> None:  # noqa: ANN001
    """The figures of the last complete quarter; on a register made here, a saved return, its
    check, and the check of a copy changed by hand."""
    wait_until(lambda: page.prepared is not None or not page.bar.isVisible(), 120)
    settle(300)
    shots.save("returns", window)
    if not may_save or page.prepared is None:
        return
    out = folder / "returns"
    out.mkdir()
    page.save_to(out / f"TIPRETURN_{page.prepared.meta.org_code}_{page.prepared.meta.period}.xlsx")
    wait_until(lambda: page.save_handle is None, 120)
    wait_until(lambda: page.history_model.rowCount() > 0)
    page.check(page.last_saved)
    wait_until(lambda: page.check_button.isEnabled(), 120)
    settle(300)
    shots.save("returns-saved-and-checked", window)
    from openpyxl import load_workbook

    book = load_workbook(page.last_saved)  # a person "correcting" a figure by hand
    sheet = book["T1_Status"]
    sheet["B4"] = (sheet["B4"].value or 0) + 1 if isinstance(sheet["B4"].value, int) else 1
    changed = out / "changed-by-hand.xlsx"
    book.save(changed)
    page.check(changed)
    wait_until(lambda: page.check_button.isEnabled(), 120)
    settle(300)
    shots.save("returns-check-changed-file", window)


def _show(widget: QWidget) -> None:
    """Scroll the section holding ``widget`` so that it is in view."""
    from PySide6.QtWidgets import QScrollArea

    parent = widget.parentWidget()
    while parent is not None and not isinstance(parent, QScrollArea):
        parent = parent.parentWidget()
    if parent is not None:
        parent.ensureWidgetVisible(widget, 50, 200)


def _case_pictures(shots: Shooter, window: MainWindow, page, may_edit: bool) -> None:  # noqa: ANN001
    from ui.case_editor import SECTIONS

    wait_until(lambda: not page._busy and page.model.rowCount() > 0)
    settle(300)
    shots.save("case-list", window)
    words = (page.model.summary_at(0).name.split(",")[0] if page.names_visible else "")[:5]
    if words:
        page.search_box.setText(words)
        page._typed(words)
        wait_until(lambda: not page._busy and not page._timer.isActive())
        settle(300)
        shots.save("case-list-search", window)
    page.clear_filters()
    wait_until(lambda: not page._busy)
    sex = page.filters["sex"]
    sex.setCurrentIndex(sex.findData("Female"))
    age = page.filters["age_group"]
    age.setCurrentIndex(age.findData("0-17"))
    wait_until(lambda: not page._busy)
    settle(300)
    shots.save("case-list-filtered", window)
    page.clear_filters()
    wait_until(lambda: not page._busy)
    page.view.selectRow(0)
    page.open_selected()
    wait_until(lambda: bool(page.editors()))
    editor = page.editors()[0]
    if may_edit and editor.ctx.can_write:
        # one saved change, so that the History section shows who changed what
        editor.form.fields["phone"].set("876-555-0142")
        editor.save()
        wait_until(lambda: not editor._saving and editor.message.text() == "Saved.")
    for index, name in enumerate(SECTIONS):
        editor.sections.setCurrentIndex(index)
        if name == "history":
            wait_until(lambda: editor.history_model.rowCount() > 0)
        elif name == "identification" and editor.ctx.can_write:
            sf = editor.screen_form.fields
            sf["acts"].set(("Recruitment", "Transport"))
            sf["means"].set(("Deception",))
            sf["purposes"].set(("SexualExploitation",))
            settle()
            _show(editor.suggestion)
        settle(250)
        shots.save(f"case-editor-{name}", window)
    editor.load(editor.detail)
    if may_edit and editor.ctx.can_write and editor.detail is not None:
        _part_pictures(shots, window, editor)
    if editor.ctx.can_write and editor.detail is not None:
        # the duplicate warning: a new case for someone whose name is typed slightly differently
        person = editor.detail.person
        page.new_case()
        new = page.editors()[-1]
        f = new.form.fields
        f["given_names"].set(person.given_names[:-1] if len(person.given_names) > 3 else person.given_names)
        f["family_names"].set(person.family_names)
        f["gender"].set(person.gender)
        f["birth_date"].set(person.birth_date)
        new._check_duplicates()
        wait_until(lambda: new.dup_box.isVisible() or not page.runner.busy)
        settle(300)
        shots.save("case-new-duplicate-warning", window)
        f["birth_date"].edit.setText("1998-02-30")
        new.save()
        settle(200)
        shots.save("case-new-validation", window)
        new.load(None)  # nothing of it is kept
    for i in range(page.tabs.count() - 1, 0, -1):
        page.tabs.removeTab(i)
    page.tabs.setCurrentIndex(0)


def _part_pictures(shots: Shooter, window: MainWindow, editor) -> None:  # noqa: ANN001
    """The status dialogs and a referral being changed (on the register made for the pictures)."""
    from ui.case_editor import SECTIONS

    editor.sections.setCurrentIndex(SECTIONS.index("identification"))
    _show(editor.statuses_box)
    editor.change_status("case")
    dialog = editor.status_dialog
    dialog.form.fields["status"].set("Closed")
    dialog.form.fields["reason"].set("")
    dialog.submit()  # no reason: the core's message appears next to the field
    wait_until(lambda: not dialog.running)
    settle(200)
    shots.save("case-status-close", with_dialog(window, dialog))
    dialog.reject()
    editor.change_status("trafficking")
    dialog = editor.status_dialog
    dialog.form.fields["status"].set("ActualVictimOfTrafficking")
    dialog.form.fields["decided_by"].set("Police")
    settle(200)
    shots.save("case-status-trafficking", with_dialog(window, dialog))
    dialog.submit()
    wait_until(lambda: editor.detail.trafficking_status == "ActualVictimOfTrafficking")
    editor.sections.setCurrentIndex(SECTIONS.index("identification"))
    settle(200)
    _show(editor.statuses_box)
    shots.save("case-editor-statuses", window)
    partners = [o for o in editor.ctx.organisations if not o.is_self]
    if partners:
        editor.sections.setCurrentIndex(SECTIONS.index("referrals"))
        if not editor.detail.referrals:  # one referral, entered through the form
            f = editor.ref_form.fields
            f["direction"].set("Out")
            f["partner_org_id"].set(partners[0].id)
            f["referral_date"].set(editor.detail.registration_date)
            f["details"].set("Legal advice on immigration status")
            editor.add_referral()
            wait_until(lambda: bool(editor.detail.referrals) and not editor.runner.busy)
        editor.referrals.selectRow(0)
        editor.edit_referral()
        editor.ref_form.fields["outcome"].set("Accepted")
        settle(250)
        shots.save("case-editor-referral-change", window)
        editor._referral_mode(None)


def run_screenshots(out: Path, register: Path | None, username: str | None, password: str | None,
                    scale: float | None = None) -> int:
    """The CLI's entry: render into ``out`` and list the files (at ``scale``, e.g. 2 for 200 %)."""
    from tipdesk import logs

    if scale:
        os.environ["QT_SCALE_FACTOR"] = f"{scale:g}"  # read when the application is made, just below

    logs.configure()  # Qt's notices go to the log file, not the terminal
    if register is not None:
        # Check the password before any picture is taken: a clear error instead of a login picture
        open_register(register, username, password or "", via="check").close()
    for path in take(out, register, username, password):
        print(path)
    return 0
