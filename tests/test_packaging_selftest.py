"""``tipdesk --self-test`` from source: what it checks, how it reports failure, what it leaves."""

from __future__ import annotations

import io
import tempfile
from pathlib import Path

import pytest

from tipdesk import selftest
from tipdesk.cli import main
from tipdesk.selftest import Step, StepFailed


def leftover_scratch() -> set[str]:
    return {p.name for p in Path(tempfile.gettempdir()).glob("tipdesk-selftest-*")}


def test_self_test_passes_and_leaves_nothing_behind(private_settings: Path, qapp) -> None:
    before = leftover_scratch()
    out = io.StringIO()
    assert selftest.run(out=out) is True
    text = out.getvalue()
    for name in ("installation", "create a register", "unlock it", "write and read a case",
                 "encrypted at rest", "register check", "spreadsheet libraries", "Qt platform", "fonts"):
        assert f"  {name:<24} ok" in text, text
    assert "Self-test passed" in text
    assert leftover_scratch() == before  # the temporary register is gone
    assert list(private_settings.iterdir()) == []  # the user's settings are untouched


def test_a_failing_step_is_named_and_its_dependants_skipped(qapp) -> None:
    def broken(ctx: selftest.SelfTestContext) -> str:
        raise StepFailed("the widget rendered blank")

    def after(ctx: selftest.SelfTestContext) -> str:
        raise AssertionError("must not run")

    out = io.StringIO()
    ok = selftest.run([Step("window", broken), Step("after window", after, needs=("window",))], out=out)
    assert ok is False
    text = out.getvalue()
    assert "FAILED  the widget rendered blank" in text
    assert "skipped needs: window" in text
    assert "Self-test FAILED: 2 of" in text and "(window, after window)" in text


def test_an_unexpected_error_is_reported_with_its_type_and_place(qapp) -> None:
    def crashes(ctx: selftest.SelfTestContext) -> str:
        return {}["missing"]

    out = io.StringIO()
    assert selftest.run([Step("crashing step", crashes)], out=out) is False
    assert "FAILED  KeyError: 'missing' (at test_packaging_selftest.py:" in out.getvalue()


def test_without_a_display_the_offscreen_platform_is_chosen(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(selftest.sys, "platform", "linux")
    monkeypatch.setattr(selftest.os, "name", "posix")
    monkeypatch.delenv("QT_QPA_PLATFORM", raising=False)
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    assert selftest.choose_qt_platform() == "offscreen"
    assert selftest.os.environ["QT_QPA_PLATFORM"] == "offscreen"


def test_with_a_display_the_native_platform_is_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(selftest.sys, "platform", "linux")
    monkeypatch.setattr(selftest.os, "name", "posix")
    monkeypatch.delenv("QT_QPA_PLATFORM", raising=False)
    monkeypatch.setenv("DISPLAY", ":0")
    assert selftest.choose_qt_platform() == "native"
    assert "QT_QPA_PLATFORM" not in selftest.os.environ


def test_missing_glyphs_drawn_as_identical_boxes_fail_the_font_step(monkeypatch: pytest.MonkeyPatch, qapp) -> None:
    box = selftest.render_text("■", 40, 80)
    monkeypatch.setattr(selftest, "render_text", lambda *a, **k: box)
    ctx = selftest.SelfTestContext(workdir=Path(tempfile.gettempdir()))
    with pytest.raises(StepFailed, match="look alike"):
        selftest.step_fonts(ctx)


def test_ink_counts_only_pixels_that_differ_from_the_background(qapp) -> None:
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QImage

    blank = QImage(50, 20, QImage.Format.Format_ARGB32)
    blank.fill(Qt.GlobalColor.white)
    assert selftest.ink(blank) == 0
    assert selftest.ink(selftest.render_text("W")) > 100


def test_cli_self_test_saves_screenshots_with_text(tmp_path: Path, qapp, capsys) -> None:
    from PySide6.QtGui import QImage

    assert main(["--self-test", "--screenshot-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "Self-test passed" in out
    assert f"  {'export a return':<24} ok      TIPRETURN_SELFTEST_" in out  # written and validated
    for name in ("selftest-fonts.png", "selftest-window.png"):
        image = QImage(str(tmp_path / name))
        assert not image.isNull()
        assert selftest.ink(image, image.pixel(1, 1)) > 300


def test_screenshot_dir_without_self_test_is_a_usage_error(tmp_path: Path, capsys) -> None:
    assert main(["--screenshot-dir", str(tmp_path)]) == 2
    assert "--screenshot-dir goes with --self-test" in capsys.readouterr().err


def test_version_comes_from_pyproject(capsys) -> None:
    import tomllib

    from tipdesk.settings import app_dir

    version = tomllib.loads((app_dir() / "pyproject.toml").read_text())["project"]["version"]
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"tipdesk {version}"


def test_startup_probe_stops_at_the_login_dialog_of_a_register(created, register_path: Path,
                                                               private_settings: Path) -> None:
    import os
    import subprocess
    import sys

    created.register.close()
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", TIPDESK_SETTINGS_DIR=str(private_settings))
    out = subprocess.run([sys.executable, "-m", "tipdesk", "--startup-probe", str(register_path)],
                         capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "first window painted: LoginDialog" in out.stdout
