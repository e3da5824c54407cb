"""Portable mode: a ``tipdesk.portable`` marker beside the program keeps settings beside it."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import ADMIN_PASSWORD
from tipdesk import settings
from tipdesk.cli import main
from tipdesk.settings import Settings


@pytest.fixture
def stick(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A program folder on a 'USB stick', with the user's own config folder elsewhere."""
    app = tmp_path / "stick" / "tipdesk"
    app.mkdir(parents=True)
    monkeypatch.setattr(settings, "app_dir", lambda: app)
    monkeypatch.delenv("TIPDESK_SETTINGS_DIR", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "home" / ".config"))
    return app


def test_without_the_marker_settings_go_to_the_user_profile(stick: Path, tmp_path: Path) -> None:
    assert not settings.is_portable()
    assert settings.settings_dir() == tmp_path / "home" / ".config" / "tipdesk"


def test_with_the_marker_settings_and_logs_stay_beside_the_program(stick: Path) -> None:
    (stick / "tipdesk.portable").touch()
    assert settings.is_portable()
    assert settings.settings_dir() == stick / "settings"
    assert settings.log_dir() == stick / "settings" / "logs"


def test_creating_a_register_in_portable_mode_writes_nothing_into_the_profile(
    stick: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    (stick / "tipdesk.portable").touch()
    monkeypatch.setenv("TIPDESK_PASSWORD", ADMIN_PASSWORD)
    register = stick.parent / "registers" / "office.tipdb"
    register.parent.mkdir()
    assert main(["init", str(register), "--org-code", "OAS", "--org-name", "Open Arms",
                 "--org-type", "NGO", "--country", "JAM", "--admin", "maria"]) == 0
    saved = Settings.load()
    assert settings.Settings.path() == stick / "settings" / "settings.json"
    assert saved.recent_register_paths() == [register.resolve()]
    assert not (tmp_path / "home").exists()


def test_a_register_on_the_stick_is_found_after_the_stick_moves(stick: Path, tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    (stick / "tipdesk.portable").touch()
    register = stick.parent / "registers" / "office.tipdb"
    s = Settings()
    s.remember_register(register)
    assert s.recent_registers == ["../registers/office.tipdb"]
    s.save()
    # The same stick on another computer, mounted elsewhere (another drive letter on Windows).
    moved = tmp_path / "elsewhere" / "stick"
    moved.parent.mkdir()
    stick.parent.rename(moved)
    monkeypatch.setattr(settings, "app_dir", lambda: moved / "tipdesk")
    assert Settings.load().recent_register_paths() == [(moved / "registers" / "office.tipdb").resolve()]


def test_outside_portable_mode_registers_are_remembered_by_absolute_path(stick: Path, tmp_path: Path) -> None:
    register = tmp_path / "office.tipdb"
    s = Settings()
    s.remember_register(register)
    assert s.recent_registers == [str(register.resolve())]
    assert s.recent_register_paths() == [register.resolve()]


def test_the_start_dialog_offers_a_register_remembered_on_the_stick(stick: Path, qtbot) -> None:
    from PySide6.QtCore import Qt

    from ui.operations import OperationRunner
    from ui.start import StartDialog

    (stick / "tipdesk.portable").touch()
    register = stick.parent / "registers" / "office.tipdb"
    register.parent.mkdir()
    register.write_bytes(b"\0" * 4096)
    s = Settings()
    s.remember_register(register)
    s.save()
    dialog = StartDialog(OperationRunner())
    qtbot.addWidget(dialog)
    assert dialog.recent.item(0).text() == str(register.resolve())  # found, not "(not found)"
    qtbot.keyClick(dialog.recent, Qt.Key.Key_Return)
    assert dialog.path == register.resolve()
