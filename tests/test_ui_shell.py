"""The window's shell, driven through real widgets offscreen: login, lock, drafts, single
instance, administration, the create-register wizard and the operation runner."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QMessageBox, QPushButton
from sqlalchemy import select

from models import AuditEvent
from tests.conftest import ADMIN_PASSWORD, FAST_KDF
from tests.ui_helpers import all_visible_text, main_window, submit_login
from tipdesk.security import accounts
from tipdesk.services import drafts as drafts_service
from tipdesk.services import office as office_service
from tipdesk.vault.register import consecutive_failures, open_register

pytestmark = [
    pytest.mark.gui,
    pytest.mark.qt_log_level_fail("WARNING"),
    pytest.mark.qt_log_ignore(r"This plugin does not support .*"),
]

PERSON = "Zebediah Quartermaine"  # a name that must vanish from the window on lock


def audit_actions(path: Path) -> list[str]:
    reg = open_register(path, "admin", ADMIN_PASSWORD, via="check")
    try:
        with reg.read() as s:
            return list(s.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))
    finally:
        reg.close()


@pytest.fixture
def closed_register(created) -> Path:
    """A register on disk with an admin and a case worker whose display name is a person's."""
    reg = created.register
    accounts.add_user(reg, "maria", "caseworker", "caseworker-pw-1", PERSON, kdf=FAST_KDF)
    accounts.add_user(reg, "ana", "analyst", "analyst-pw-123", "", kdf=FAST_KDF)
    path = reg.path
    reg.close()
    return path


@pytest.fixture
def window(qtbot, closed_register):
    with main_window(qtbot, closed_register, size=None) as win:
        yield win


def sign_in(qtbot, win, user: str, password: str) -> None:
    submit_login(qtbot, win, user, password, wait=False)


def test_right_password_opens_the_window_for_that_role(qtbot, window) -> None:
    assert window.reg is None and "locked" in window.windowTitle()
    sign_in(qtbot, window, "admin", ADMIN_PASSWORD)
    qtbot.waitUntil(lambda: window.reg is not None, timeout=10_000)
    assert window.reg.actor.username == "admin"
    assert window.login is None
    labels = [window.nav.item(i).text() for i in range(window.nav.count())]
    assert labels == ["Cases", "Shelter", "Follow-up", "Returns", "Dashboard", "Administration"]
    assert "OAS" in window.windowTitle() and "Ada" not in window.windowTitle()
    assert "admin" in window.status_user.text() and "Administrator" in window.status_role.text()
    qtbot.waitUntil(lambda: window.status_lock.text().startswith("Locks in"), timeout=3000)


def test_wrong_password_says_so_without_saying_which_and_slows_down(qtbot, window, closed_register) -> None:
    sign_in(qtbot, window, "admin", "not-the-password")
    dialog = window.login
    qtbot.waitUntil(lambda: dialog.message.isVisible(), timeout=10_000)
    assert dialog.message.text() == "The user name or password is not correct."
    assert window.reg is None
    assert not dialog.sign_in.isEnabled() and dialog.sign_in.text().startswith("Wait")
    # an unknown user gets exactly the same sentence
    qtbot.waitUntil(dialog.sign_in.isEnabled, timeout=3000)
    dialog.user_edit.setText("nobody")
    dialog.password_edit.setText("whatever-123")
    dialog.try_sign_in()
    qtbot.waitUntil(lambda: consecutive_failures(closed_register) == 2, timeout=10_000)
    qtbot.waitUntil(lambda: not dialog.sign_in.isEnabled() and "Wait 2 s" in dialog.sign_in.text(), timeout=3000)
    assert dialog.message.text() == "The user name or password is not correct."
    # pressing Enter while waiting does nothing (the back-off holds), and the UI stays responsive
    dialog.password_edit.setText(ADMIN_PASSWORD)
    dialog.user_edit.setText("admin")
    qtbot.keyClick(dialog.password_edit, Qt.Key.Key_Return)
    qtbot.wait(200)
    assert window.reg is None
    qtbot.waitUntil(dialog.sign_in.isEnabled, timeout=4000)
    dialog.password_edit.setText(ADMIN_PASSWORD)
    qtbot.keyClick(dialog.password_edit, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.reg is not None, timeout=10_000)
    assert consecutive_failures(closed_register) == 0


def test_backoff_survives_a_restart(qtbot, closed_register) -> None:
    from tipdesk.vault.register import note_failed_attempt
    from ui.login import LoginDialog, backoff_seconds
    from ui.operations import OperationRunner

    assert [backoff_seconds(n) for n in range(6)] == [0, 1, 2, 4, 8, 16]
    assert backoff_seconds(100) == 300
    for _ in range(5):
        note_failed_attempt(closed_register, "wrong-credentials")
    dialog = LoginDialog(closed_register, OperationRunner())
    qtbot.addWidget(dialog)
    qtbot.waitUntil(lambda: dialog.sign_in.text().startswith("Wait"), timeout=5000)
    assert not dialog.sign_in.isEnabled()


def names_in_window() -> bool:
    return PERSON in all_visible_text()


def open_admin_users(qtbot, window) -> None:
    window.go("admin")
    page = window.pages["admin"]
    qtbot.waitUntil(lambda: page.users_model.rowCount() == 3, timeout=5000)


def test_the_login_appears_before_the_register_code_loads() -> None:
    """Start-up shows the login first: the database layer (SQLAlchemy, the register's model,
    ~0.6 s of imports) loads while the person types, not before the dialog can be painted."""
    import subprocess
    import sys

    code = ("import sys, ui.main_window, ui.login; "
            "loaded = sorted(m for m in ('sqlalchemy', 'models', 'alembic') if m in sys.modules); "
            "print(','.join(loaded))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_lock_by_timer_clears_every_view_and_locks_the_register(qtbot, window, closed_register) -> None:
    sign_in(qtbot, window, "admin", ADMIN_PASSWORD)
    qtbot.waitUntil(lambda: window.reg is not None, timeout=10_000)
    open_admin_users(qtbot, window)
    assert names_in_window()  # the name is on screen before the lock (so the check below can fail)
    reg = window.reg
    window.inactivity.set_timeout(0.6)
    with qtbot.waitSignal(window.locked, timeout=5000):
        pass
    assert window.reg is None and not reg.is_open
    assert not any(reg._key)  # the key bytes were overwritten
    QApplication.processEvents()
    qtbot.wait(50)  # let deleteLater() run
    assert not names_in_window()
    assert window.login is not None and window.login.isVisible()
    assert window.windowTitle().startswith("tipdesk — locked")
    assert "lock_idle" in audit_actions(closed_register)


def test_input_keeps_the_window_unlocked(qtbot, window) -> None:
    sign_in(qtbot, window, "admin", ADMIN_PASSWORD)
    qtbot.waitUntil(lambda: window.reg is not None, timeout=10_000)
    window.inactivity.set_timeout(0.8)
    # Input as the windowing system delivers it: to the window, which hands it to the widget.
    window.activateWindow()
    window.nav.setFocus()
    for _ in range(8):
        qtbot.wait(200)
        QTest.keyClick(window.windowHandle(), Qt.Key.Key_Down)
    assert window.reg is not None


def test_input_in_a_dialog_keeps_the_window_unlocked_and_idleness_still_locks(qtbot, window) -> None:
    """A person working in a dialog (here: moving the mouse and typing in one) is not idle;
    once they stop, the lock comes as set — the dialog does not keep the register open."""
    from PySide6.QtCore import QPoint
    from PySide6.QtWidgets import QDialog, QLineEdit, QVBoxLayout

    sign_in(qtbot, window, "admin", ADMIN_PASSWORD)
    qtbot.waitUntil(lambda: window.reg is not None, timeout=10_000)
    dialog = QDialog(window)
    edit = QLineEdit(dialog)
    QVBoxLayout(dialog).addWidget(edit)
    dialog.show()
    qtbot.waitExposed(dialog)
    edit.setFocus()
    window.inactivity.set_timeout(0.8)
    for i in range(10):
        qtbot.wait(150)
        if i % 2:
            QTest.mouseMove(dialog.windowHandle(), QPoint(10 + i, 10 + i))
        else:
            QTest.keyClick(dialog.windowHandle(), Qt.Key.Key_A)
    assert window.reg is not None and edit.text() == "aaaaa"  # the keys reached the field
    with qtbot.waitSignal(window.locked, timeout=5000):
        pass  # no more input: locked within the timeout
    assert window.reg is None


def test_ctrl_l_locks_and_the_same_user_unlocks(qtbot, window, closed_register) -> None:
    sign_in(qtbot, window, "maria", "caseworker-pw-1")
    qtbot.waitUntil(lambda: window.reg is not None, timeout=10_000)
    assert "Administration" not in [window.nav.item(i).text() for i in range(window.nav.count())]
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window, timeout=3000)
    qtbot.keyClick(window.nav, Qt.Key.Key_L, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: window.reg is None, timeout=3000)
    login = window.login
    assert login.user_edit.text() == "maria"  # only the password is asked again
    login.password_edit.setText("caseworker-pw-1")
    qtbot.keyClick(login.password_edit, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.reg is not None, timeout=10_000)
    actions = audit_actions(closed_register)
    assert actions[-2:] == ["lock", "unlock"] or actions[-3:-1] == ["lock", "unlock"]


def test_unsaved_edits_become_a_draft_on_lock_and_come_back(qtbot, window, closed_register) -> None:
    sign_in(qtbot, window, "admin", ADMIN_PASSWORD)
    qtbot.waitUntil(lambda: window.reg is not None, timeout=10_000)
    window.go("admin")
    page = window.pages["admin"]
    page.office_name.setText("Open Arms Shelter (edited)")
    assert page.has_unsaved()
    window.lock()
    reg = open_register(closed_register, "admin", ADMIN_PASSWORD, via="check")
    try:
        kept = drafts_service.list_drafts(reg)
        assert [d.payload["name"] for d in kept] == ["Open Arms Shelter (edited)"]
        assert office_service.office_info(reg).name == "Test Office"  # nothing saved
    finally:
        reg.close()
    sign_in(qtbot, window, "admin", ADMIN_PASSWORD)
    qtbot.waitUntil(lambda: window.reg is not None, timeout=10_000)
    box = None

    def question_shown() -> bool:
        nonlocal box
        box = next((w for w in QApplication.topLevelWidgets()
                    if isinstance(w, QMessageBox) and w.isVisible()), None)
        return box is not None

    qtbot.waitUntil(question_shown, timeout=3000)
    put_back = next(b for b in box.buttons() if b.text() == "Put them back")
    put_back.click()
    page = window.pages["admin"]
    qtbot.waitUntil(lambda: page.office_name.text() == "Open Arms Shelter (edited)", timeout=3000)
    assert drafts_service.list_drafts(window.reg) == []


def test_an_analyst_never_sees_a_name(qtbot, window) -> None:
    sign_in(qtbot, window, "ana", "analyst-pw-123")
    qtbot.waitUntil(lambda: window.reg is not None, timeout=10_000)
    labels = [window.nav.item(i).text() for i in range(window.nav.count())]
    assert "Administration" not in labels and "Cases" in labels
    for row in range(window.nav.count()):
        window.nav.setCurrentRow(row)
        qtbot.wait(50)
        assert not names_in_window()


def test_administration_adds_changes_and_revokes_users_with_audit(qtbot, window, closed_register,
                                                                  monkeypatch) -> None:
    from ui.dialogs import AddUserDialog, RoleDialog

    sign_in(qtbot, window, "admin", ADMIN_PASSWORD)
    qtbot.waitUntil(lambda: window.reg is not None, timeout=10_000)
    open_admin_users(qtbot, window)
    page = window.pages["admin"]
    page.add_button.click()
    dialog = next(w for w in page.findChildren(AddUserDialog) if w.isVisible())
    dialog.username.setText("p.brown")
    dialog.role.setCurrentIndex(dialog.role.findData("police"))
    dialog.password.setText("police-pw-1")
    dialog.again.setText("police-pw-2")
    dialog.buttons.accepted.emit()
    assert dialog.isVisible() and dialog.rows["again"].error.text() == "The two passwords are not the same."
    dialog.again.setText("police-pw-1")
    dialog.buttons.accepted.emit()
    qtbot.waitUntil(lambda: page.users_model.rowCount() == 4, timeout=10_000)
    row = next(r for r in range(4) if page.users_model.user_at(r).username == "p.brown")
    page.users_view.selectRow(row)
    page.role_button.click()
    role_dialog = next(w for w in page.findChildren(RoleDialog) if w.isVisible())
    role_dialog.role.setCurrentIndex(role_dialog.role.findData("caseworker"))
    role_dialog.buttons.accepted.emit()
    qtbot.waitUntil(lambda: "Changed the role" in page.status.text(), timeout=5000)
    page.users_view.selectRow(row)
    page.revoke_button.click()
    box = next(w for w in page.findChildren(QMessageBox) if w.isVisible())
    assert "cannot be undone" in box.text()
    next(b for b in box.findChildren(QPushButton) if b.text() == "Revoke").click()
    qtbot.waitUntil(lambda: "Revoked" in page.status.text(), timeout=5000)
    window.lock()
    actions = audit_actions(closed_register)
    for action in ("user_added", "role_changed", "user_revoked"):
        assert action in actions


def test_lock_timeout_setting_is_saved_and_used(qtbot, window, closed_register) -> None:
    sign_in(qtbot, window, "admin", ADMIN_PASSWORD)
    qtbot.waitUntil(lambda: window.reg is not None, timeout=10_000)
    assert window.inactivity.timeout_s == 600  # default 10 minutes
    window.go("admin")
    page = window.pages["admin"]
    page.lock_minutes.setValue(2)
    page.save_lock_button.click()
    qtbot.waitUntil(lambda: "2 idle minutes" in page.status.text(), timeout=5000)
    window.lock()
    sign_in(qtbot, window, "admin", ADMIN_PASSWORD)
    qtbot.waitUntil(lambda: window.reg is not None, timeout=10_000)
    assert window.inactivity.timeout_s == 120


def test_users_model_passes_the_model_tester(qtmodeltester, reg) -> None:
    from ui.item_models import UsersModel

    model = UsersModel()
    model.set_users(accounts.list_users(reg))
    qtmodeltester.check(model, force_py=True)
    model.clear()
    qtmodeltester.check(model, force_py=True)


# --- single instance ------------------------------------------------------------------------------

def test_second_guard_is_refused_and_asks_the_first_to_come_forward(qtbot, closed_register) -> None:
    from ui.single_instance import RegisterGuard, lock_path

    first = RegisterGuard(closed_register)
    assert first.acquire() is None and lock_path(closed_register).exists()
    second = RegisterGuard(closed_register)
    with qtbot.waitSignal(first.activation_requested, timeout=3000):
        in_use = second.acquire()
    assert in_use is not None and in_use.activated
    first.release()
    assert second.acquire() is None
    second.release()


def test_a_stale_lock_from_a_crash_is_taken_over(closed_register) -> None:
    from ui.single_instance import RegisterGuard, lock_path

    # QLockFile's format: pid, application name, host name; pid 2**22+1 does not exist
    lock_path(closed_register).write_text(f"{2**22 + 1}\ntipdesk\n{os.uname().nodename}\n")
    guard = RegisterGuard(closed_register)
    assert guard.acquire() is None
    guard.release()


@pytest.mark.slow
def test_a_second_tipdesk_process_brings_the_first_window_forward(qtbot, closed_register) -> None:
    from ui.single_instance import RegisterGuard

    first = RegisterGuard(closed_register)
    assert first.acquire() is None
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    received = []
    first.activation_requested.connect(lambda: received.append(True))
    proc = subprocess.Popen([sys.executable, "-m", "tipdesk", "open", str(closed_register)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while proc.poll() is None and time.monotonic() < deadline:
        qtbot.wait(50)  # keep our event loop serving the local socket
    out, err = proc.communicate(timeout=5)
    first.release()
    assert proc.returncode == 0, err
    assert "already open" in err
    qtbot.waitUntil(lambda: bool(received), timeout=3000)


# --- create-register wizard --------------------------------------------------------------------

def test_wizard_creates_a_register_and_shows_the_recovery_key_once(qtbot, tmp_path) -> None:
    from PySide6.QtWidgets import QWizard

    from ui.operations import OperationRunner
    from ui.wizard import CreateRegisterWizard

    wizard = CreateRegisterWizard(OperationRunner(), tmp_path)
    qtbot.addWidget(wizard)
    wizard.show()
    target = tmp_path / "shelter.tipdb"
    wizard.place_page.path_edit.setText(str(target))
    wizard.next()
    wizard.office_page.code.setText("O")
    wizard.office_page.name.setText("")
    wizard.next()
    assert wizard.currentPage() is wizard.office_page
    assert wizard.office_page.rows["code"].error.isVisible()
    assert wizard.office_page.rows["name"].error.text() == "The office needs a name."
    wizard.office_page.code.setText("OAS")
    wizard.office_page.name.setText("Open Arms Shelter")
    wizard.next()
    assert wizard.currentPage() is wizard.admin_page
    wizard.admin_page.username.setText("maria")
    wizard.admin_page.password.setText("a-good-password")
    wizard.admin_page.again.setText("a-good-password")
    wizard.next()
    qtbot.waitUntil(lambda: wizard.currentPage() is wizard.key_page, timeout=15_000)
    key = wizard.created.recovery_key
    assert wizard.key_page.key_label.text().replace("\n", "") == key
    assert len(key.replace("-", "")) == 64
    assert not wizard.button(QWizard.WizardButton.FinishButton).isEnabled()
    wizard.key_page.write_text(tmp_path / "key.txt")
    assert (tmp_path / "key.txt").read_text().strip() == key
    wizard.key_page.write_pdf(tmp_path / "key.pdf")
    assert (tmp_path / "key.pdf").read_bytes().startswith(b"%PDF")
    wizard.reject()  # cannot walk away before confirming the key is stored
    assert wizard.isVisible()
    wizard.key_page.stored.setChecked(True)
    assert wizard.button(QWizard.WizardButton.FinishButton).isEnabled()
    wizard.accept()
    created = wizard.created
    assert created.register.actor.username == "maria" and target.exists()
    created.register.close()
    reg = open_register(target, "maria", "a-good-password")
    try:
        assert office_service.office_info(reg).name == "Open Arms Shelter"
    finally:
        reg.close()


def test_start_screen_lists_recent_registers_by_path_with_backup_note(qtbot, closed_register) -> None:
    from tipdesk.settings import Settings
    from ui.operations import OperationRunner
    from ui.start import StartDialog

    settings = Settings.load()
    settings.remember_register(closed_register)
    settings.notes_for(closed_register).last_verified_backup_at = "2026-03-01T10:00:00+00:00"
    settings.save()
    dialog = StartDialog(OperationRunner())
    qtbot.addWidget(dialog)
    assert dialog.recent.count() == 1
    assert dialog.recent.item(0).text() == str(closed_register.resolve())
    assert "Last verified backup: 2026-03-01" in dialog.backup.text()
    qtbot.keyClick(dialog.recent, Qt.Key.Key_Return)
    assert dialog.path == closed_register.resolve()


# --- operation runner --------------------------------------------------------------------------

def test_operations_deliver_results_on_the_gui_thread(qtbot) -> None:
    import threading

    from ui.operations import OperationRunner

    runner = OperationRunner()
    seen = {}

    def op(_p):
        seen["worker"] = threading.current_thread() is threading.main_thread()
        return 42

    done = []
    runner.run(op, lambda r: done.append((r, threading.current_thread() is threading.main_thread())))
    qtbot.waitUntil(lambda: bool(done), timeout=3000)
    assert done == [(42, True)] and seen["worker"] is False
    failures = []
    runner.run(lambda _p: 1 / 0, None, failures.append)
    qtbot.waitUntil(lambda: bool(failures), timeout=3000)
    assert isinstance(failures[0], ZeroDivisionError)


def test_slow_operations_show_a_progress_dialog_that_cancels(qtbot) -> None:
    from PySide6.QtWidgets import QProgressDialog, QWidget

    from ui.operations import OperationCancelled, OperationRunner

    parent = QWidget()
    qtbot.addWidget(parent)
    parent.show()
    runner = OperationRunner()

    def slow(progress):
        for i in range(200):
            progress.report(i, 200, "Counting…")
            progress.check()
            time.sleep(0.02)
        return "finished"

    outcome = []
    runner.run(slow, outcome.append, outcome.append, label="Counting", parent=parent, progress_delay_ms=100)
    qtbot.waitUntil(lambda: any(d.isVisible() for d in parent.findChildren(QProgressDialog)), timeout=3000)
    dialog = next(d for d in parent.findChildren(QProgressDialog) if d.isVisible())
    next(b for b in dialog.findChildren(QPushButton) if b.text() == "Cancel").click()
    qtbot.waitUntil(lambda: bool(outcome), timeout=5000)
    assert isinstance(outcome[0], OperationCancelled)


def test_results_after_a_lock_are_dropped(qtbot) -> None:
    from ui.operations import OperationRunner

    runner = OperationRunner()
    got = []
    runner.run(lambda _p: time.sleep(0.2) or "late", got.append)
    runner.invalidate()
    qtbot.wait(300)
    assert got == []
