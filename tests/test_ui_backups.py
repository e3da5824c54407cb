"""Backups in the window, driven through real widgets offscreen: File → Back up now (folder
chosen, remembered, missing, stopped), the status-bar reminder, Administration → Backups,
checking a backup file, and restoring one from the start screen."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

import pytest
from PySide6.QtWidgets import QMessageBox, QProgressDialog, QPushButton, QWidget
from sqlalchemy import select

from models import AuditEvent
from tests.conftest import ADMIN_PASSWORD, FAST_KDF
from tests.ui_helpers import main_window, submit_login
from tipdesk.security import accounts
from tipdesk.settings import Settings
from tipdesk.vault import backup as backups
from tipdesk.vault.register import open_register, set_meta

pytestmark = [
    pytest.mark.gui,
    pytest.mark.qt_log_level_fail("WARNING"),
    pytest.mark.qt_log_ignore(r"This plugin does not support .*"),
]


@pytest.fixture
def closed_register(created) -> Path:
    reg = created.register
    accounts.add_user(reg, "maria", "caseworker", "caseworker-pw-1", "", kdf=FAST_KDF)
    accounts.add_user(reg, "ana", "analyst", "analyst-pw-123", "", kdf=FAST_KDF)
    path = reg.path
    reg.close()
    return path


@pytest.fixture
def usb(tmp_path) -> Path:
    folder = tmp_path / "usb"
    folder.mkdir()
    return folder


@pytest.fixture
def window(qtbot, closed_register):
    with main_window(qtbot, closed_register, size=None) as win:
        yield win


def sign_in(qtbot, win, user: str = "admin", password: str = ADMIN_PASSWORD) -> None:
    submit_login(qtbot, win, user, password)


def visible_box(parent: QWidget, containing: str = "") -> QMessageBox:
    boxes = [b for b in parent.findChildren(QMessageBox) if b.isVisible() and containing in b.text()]
    assert boxes, f"no message box saying {containing!r}"
    return boxes[-1]


def click(box: QMessageBox, text: str) -> None:
    next(b for b in box.findChildren(QPushButton) if b.text() == text).click()


def wait_for_box(qtbot, parent: QWidget, containing: str) -> QMessageBox:
    qtbot.waitUntil(lambda: any(b.isVisible() and containing in b.text()
                                for b in parent.findChildren(QMessageBox)), timeout=20_000)
    return visible_box(parent, containing)


def audit_actions(path: Path) -> list[str]:
    reg = open_register(path, "admin", ADMIN_PASSWORD, via="check")
    try:
        with reg.read() as s:
            return list(s.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))
    finally:
        reg.close()


def test_back_up_now_asks_where_then_remembers(qtbot, window, usb, monkeypatch, closed_register) -> None:
    asked = []
    monkeypatch.setattr("ui.backups.pick_folder", lambda parent, title, start: asked.append(title) or str(usb))
    sign_in(qtbot, window)
    qtbot.waitUntil(lambda: window.backups.label.text() == "No backup yet", timeout=5000)
    assert window.backups.action.isEnabled() and window.backups.action.shortcut().toString() == "Ctrl+B"
    window.backups.action.trigger()
    box = wait_for_box(qtbot, window, "made and checked in full")
    assert "USB stick" in asked[0]
    made = list(usb.glob("office-*.tipbak"))
    assert len(made) == 1 and str(made[0]) in box.informativeText()
    assert "revoked later can still open an older backup" in box.informativeText()
    qtbot.waitUntil(lambda: window.backups.label.text() == "Backed up today", timeout=5000)
    assert "verified" in window.backups.label.toolTip()
    click(box, "OK")
    # The second time, the folder is remembered: no question.
    time.sleep(1.0)
    window.backups.action.trigger()
    wait_for_box(qtbot, window, "made and checked in full")
    assert len(asked) == 1 and len(list(usb.glob("*.tipbak"))) == 2
    # The window's own settings now know the backup too (closing it must not erase the note).
    window.close()
    notes = Settings.load().notes_for(closed_register)
    assert notes.backup_destination == str(usb) and notes.last_verified_backup_at
    assert audit_actions(closed_register).count("backup_made") == 2


def test_a_missing_stick_is_explained_and_another_folder_can_be_chosen(qtbot, window, usb, tmp_path,
                                                                       monkeypatch) -> None:
    sign_in(qtbot, window)
    backups.set_preferences(window.reg, destination=str(tmp_path / "STICK" / "backups"))
    monkeypatch.setattr("ui.backups.pick_folder", lambda parent, title, start: str(usb))
    window.backups.back_up_now()
    box = wait_for_box(qtbot, window, "is not there")
    assert "plug it in" in box.text() and box.windowTitle() == "Backup folder not available"
    click(box, "Choose another folder…")
    wait_for_box(qtbot, window, "made and checked in full")
    assert len(list(usb.glob("*.tipbak"))) == 1
    assert backups.preferences(window.reg).destination == str(usb)


def test_stopping_a_backup_keeps_nothing(qtbot, window, usb, monkeypatch) -> None:
    real_open = backups._open_new_file

    class Slow:
        def __init__(self, fh):
            self.fh = fh

        def write(self, data):
            time.sleep(0.03)
            return self.fh.write(data)

        def __getattr__(self, name):
            return getattr(self.fh, name)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.fh.close()

    monkeypatch.setattr(backups, "_open_new_file", lambda path: Slow(real_open(path)))
    monkeypatch.setattr(backups, "CHUNK", 4096)
    sign_in(qtbot, window)
    backups.set_preferences(window.reg, destination=str(usb))
    window.backups.back_up_now()
    qtbot.waitUntil(lambda: any(d.isVisible() for d in window.findChildren(QProgressDialog)), timeout=10_000)
    dialog = next(d for d in window.findChildren(QProgressDialog) if d.isVisible())
    assert dialog.labelText()  # says what is happening
    next(b for b in dialog.findChildren(QPushButton) if b.text() == "Cancel").click()
    box = wait_for_box(qtbot, window, "stopped")
    assert "Nothing was kept" in box.text()
    assert list(usb.iterdir()) == []


def test_the_status_bar_reminds_when_a_backup_is_overdue(qtbot, window, closed_register) -> None:
    reg = open_register(closed_register, "admin", ADMIN_PASSWORD)
    with reg.write() as s:
        old = dt.datetime.now(dt.UTC) - dt.timedelta(days=9)
        set_meta(s, backups.META_LAST_BACKUP_AT, old.strftime("%Y-%m-%dT%H:%M:%SZ"))
    reg.close()
    sign_in(qtbot, window)
    label = window.backups.label
    qtbot.waitUntil(lambda: label.text() == "Backup overdue (9 days)", timeout=5000)
    assert "make a new backup today" in label.toolTip()
    assert "b3261e" in label.styleSheet()
    assert label.accessibleDescription() == label.toolTip()
    window.lock()
    assert label.text() == "" and not window.backups.action.isEnabled()


def test_roles_that_may_not_back_up_see_no_action(qtbot, window) -> None:
    sign_in(qtbot, window, "ana", "analyst-pw-123")
    assert not window.backups.action.isEnabled() and not window.backups.label.isVisible()
    window.lock()
    sign_in(qtbot, window, "maria", "caseworker-pw-1")
    assert window.backups.action.isEnabled() and window.backups.label.isVisible()


def test_administration_backups_tab(qtbot, window, usb, monkeypatch, closed_register) -> None:
    monkeypatch.setattr("ui.backups.pick_folder", lambda parent, title, start: str(usb))
    sign_in(qtbot, window)
    window.go("admin")
    page = window.pages["admin"]
    tab = page.backups_tab
    page.tabs.setCurrentWidget(tab)
    qtbot.waitUntil(lambda: "No backup" in tab.status.text(), timeout=5000)
    assert "revoked later can still open an older backup" in tab.findChild(QWidget, "passwordsNote").text()
    assert tab.keep.value() == 10 and tab.remind.value() == 7
    tab.choose_button.click()
    assert tab.folder.text() == str(usb)
    tab.keep.setValue(4)
    tab.remind.setValue(3)
    tab.save_button.click()
    qtbot.waitUntil(lambda: "Saved the backup settings" in tab.result.text(), timeout=5000)
    prefs = backups.preferences(window.reg)
    assert (prefs.destination, prefs.keep_last, prefs.remind_after_days) == (str(usb), 4, 3)
    tab.backup_button.click()
    box = wait_for_box(qtbot, tab, "made and checked in full")
    click(box, "OK")
    qtbot.waitUntil(lambda: "verified" in tab.status.text(), timeout=5000)
    qtbot.waitUntil(lambda: window.backups.label.text() == "Backed up today", timeout=5000)
    # Check a backup file: the password of backup time opens it.
    made = next(usb.glob("*.tipbak"))
    monkeypatch.setattr("ui.backups.pick_backup_file", lambda parent, title, start: str(made))
    tab.check_button.click()
    from ui.backups import BackupCredentialsDialog

    dialog = next(d for d in tab.findChildren(BackupCredentialsDialog) if d.isVisible())
    assert dialog.username.text() == "admin"
    dialog.buttons.accepted.emit()
    assert dialog.isVisible() and dialog.rows["password"].error.text()
    dialog.password.setText(ADMIN_PASSWORD)
    dialog.buttons.accepted.emit()
    qtbot.waitUntil(lambda: "is a sound backup" in tab.result.text(), timeout=20_000)
    assert "OK      audit chain" in visible_box(tab, "sound backup").text()
    window.lock()
    actions = audit_actions(closed_register)
    assert "settings_changed" in actions and "backup_made" in actions


def test_start_screen_restores_a_backup_beside_and_over_a_register(qtbot, closed_register, usb,
                                                                   tmp_path, monkeypatch) -> None:
    from ui.backups import BackupCredentialsDialog
    from ui.operations import OperationRunner
    from ui.start import StartDialog

    reg = open_register(closed_register, "admin", ADMIN_PASSWORD)
    made = backups.backup(reg, usb).path
    reg.close()
    settings = Settings.load()
    settings.remember_register(closed_register)
    settings.save()
    dialog = StartDialog(OperationRunner())
    qtbot.addWidget(dialog)
    dialog.show()
    assert "Last verified backup" in dialog.backup.text() and str(usb) in dialog.backup.text()
    monkeypatch.setattr("ui.backups.pick_backup_file", lambda parent, title, start: str(made))
    target = tmp_path / "restored.tipdb"
    monkeypatch.setattr("ui.backups.pick_new_register", lambda parent, title, start: str(target))
    dialog.restore_button.click()
    creds = next(d for d in dialog.findChildren(BackupCredentialsDialog) if d.isVisible())
    creds.username.setText("admin")
    creds.password.setText("not-the-password")
    creds.buttons.accepted.emit()
    wrong = wait_for_box(qtbot, dialog, "not correct")
    click(wrong, "OK")
    assert not target.exists()
    dialog.restore_button.click()
    creds = next(d for d in dialog.findChildren(BackupCredentialsDialog) if d.isVisible())
    creds.username.setText("admin")
    creds.password.setText(ADMIN_PASSWORD)
    creds.buttons.accepted.emit()
    box = wait_for_box(qtbot, dialog, "passwords that were valid then")
    click(box, "OK")
    assert target.exists() and dialog.recent.currentItem().text() == str(target.resolve())
    # Over the original: asked first, then moved aside.
    monkeypatch.setattr("ui.backups.pick_new_register", lambda parent, title, start: str(closed_register))
    dialog.restore_button.click()
    question = wait_for_box(qtbot, dialog, "moved aside")
    click(question, "Replace it")
    creds = next(d for d in dialog.findChildren(BackupCredentialsDialog) if d.isVisible())
    creds.username.setText("admin")
    creds.password.setText(ADMIN_PASSWORD)
    creds.buttons.accepted.emit()
    box = wait_for_box(qtbot, dialog, "moved aside, not deleted")
    assert list(closed_register.parent.glob("office-replaced-*.tipdb"))


def test_start_screen_refuses_a_file_that_is_not_a_backup(qtbot, tmp_path, monkeypatch) -> None:
    from ui.operations import OperationRunner
    from ui.start import StartDialog

    bad = tmp_path / "holiday.tipbak"
    bad.write_bytes(b"PK\x03\x04 not really")
    monkeypatch.setattr("ui.backups.pick_backup_file", lambda parent, title, start: str(bad))
    dialog = StartDialog(OperationRunner())
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.restore_button.click()
    box = visible_box(dialog, "cannot be used")
    assert box.windowTitle() == "This backup cannot be restored"


def test_start_screen_note_says_when_a_backup_is_due_and_the_stick_is_missing(qtbot, closed_register,
                                                                             tmp_path) -> None:
    from ui.operations import OperationRunner
    from ui.start import StartDialog

    settings = Settings.load()
    settings.remember_register(closed_register)
    notes = settings.notes_for(closed_register)
    notes.last_verified_backup_at = (dt.datetime.now(dt.UTC) - dt.timedelta(days=12)).strftime("%Y-%m-%dT%H:%M:%SZ")
    notes.backup_destination = str(tmp_path / "E-drive")
    settings.save()
    dialog = StartDialog(OperationRunner())
    qtbot.addWidget(dialog)
    text = dialog.backup.text()
    assert "Last verified backup" in text and "make a new backup today" in text and "plug it in" in text
