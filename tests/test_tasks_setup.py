"""tasks.py, the README's two set-up commands: what a newcomer on a fresh Debian machine sees."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

import tasks

MISSING = {"libxcb-cursor0", "python3.11-venv"}


@pytest.fixture
def fresh_debian(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> list[list[str]]:
    """No .venv yet, Python without ensurepip, one Qt library missing; records commands run."""
    monkeypatch.setattr(tasks, "VENV", tmp_path / ".venv")
    monkeypatch.setattr(tasks, "VENV_PY", tmp_path / ".venv" / "bin" / "python")
    monkeypatch.setattr(tasks, "venv_package", lambda: ["python3.11-venv"])
    monkeypatch.setattr(
        tasks, "missing_debian_packages", lambda packages: [p for p in packages if p in MISSING]
    )
    monkeypatch.setattr(tasks.shutil, "which", lambda name: f"/usr/bin/{name}")
    ran: list[list[str]] = []
    monkeypatch.setattr(tasks.subprocess, "run", lambda cmd, **kw: ran.append(list(cmd)))
    return ran


def test_a_user_without_root_gets_one_apt_get_line_for_qt_and_venv(
    fresh_debian: list[list[str]], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(tasks.os, "geteuid", lambda: 1000)
    with pytest.raises(SystemExit) as exit_info:
        tasks.main(["run"])
    assert exit_info.value.code == 2
    out = capsys.readouterr().out
    lines = [line.strip() for line in out.splitlines() if "apt-get install" in line]
    assert lines == ["apt-get install -y --no-install-recommends libxcb-cursor0 python3.11-venv"]
    assert fresh_debian == []  # nothing was attempted without root


def test_root_installs_qt_and_venv_packages_in_one_apt_get_call(
    fresh_debian: list[list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tasks.os, "geteuid", lambda: 0)
    tasks.ensure_debian_packages(tasks.QT_OFFSCREEN_PACKAGES + ["libxcb-cursor0"], "to test")
    assert fresh_debian == [
        ["apt-get", "update", "-qq"],
        ["apt-get", "install", "-y", "--no-install-recommends", "libxcb-cursor0", "python3.11-venv"],
    ]


def test_a_venv_left_without_pip_by_a_failed_python3_m_venv_is_not_ready(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    venv_dir = tmp_path / ".venv"
    monkeypatch.setattr(tasks, "VENV", venv_dir)
    monkeypatch.setattr(tasks, "VENV_PY", venv_dir / "bin" / "python")
    (venv_dir / "bin").mkdir(parents=True)
    (venv_dir / "bin" / "python").touch()
    (venv_dir / "lib" / "python3.11" / "site-packages").mkdir(parents=True)
    assert not tasks.venv_ready()
    (venv_dir / "lib" / "python3.11" / "site-packages" / "pip").mkdir()
    assert tasks.venv_ready()


def test_a_failed_install_step_ends_with_a_plain_message_not_a_traceback(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def failing_pip(args: list[str]) -> int:
        raise subprocess.CalledProcessError(1, [".venv/bin/python", "-m", "pip", "install"])

    monkeypatch.setitem(tasks.COMMANDS, "test", failing_pip)
    assert tasks.main(["test"]) == 1
    out = capsys.readouterr().out
    assert "failed (exit code 1): .venv/bin/python -m pip install" in out
    assert "run the same command again" in out
