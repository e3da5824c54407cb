"""``tipdesk backup``, ``tipdesk restore`` and ``tipdesk backup-verify``: messages and exit codes."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.backup_helpers import flip_byte, member_offset
from tipdesk import cli
from tipdesk.vault import backup as backups
from tipdesk.vault import files

PW = "cli-admin-password"


@pytest.fixture
def env(monkeypatch):
    monkeypatch.setenv("TIPDESK_PASSWORD", PW)
    return monkeypatch


@pytest.fixture
def office(env, tmp_path, capsys) -> Path:
    path = tmp_path / "office.tipdb"
    assert cli.main(["init", str(path), "--org-code", "OAS", "--org-name", "Office A",
                     "--org-type", "NGO", "--country", "JAM", "--admin", "boss",
                     "--recovery-key-out", str(tmp_path / "recovery.txt")]) == 0
    capsys.readouterr()
    return path


@pytest.fixture
def usb(tmp_path) -> Path:
    folder = tmp_path / "usb"
    folder.mkdir()
    return folder


def digest(*paths: Path) -> str:
    h = hashlib.sha256()
    for p in paths:
        h.update(p.read_bytes() if p.exists() else b"<none>")
    return h.hexdigest()


def only_backup(folder: Path) -> Path:
    found = list(folder.glob("*.tipbak"))
    assert len(found) == 1, found
    return found[0]


def test_backup_remembers_its_folder(office, usb, capsys):
    assert cli.main(["backup", str(office), "--to", str(usb)]) == 0
    out = capsys.readouterr().out
    made = only_backup(usb)
    assert str(made) in out and "Verified" in out and "recovery key" in out
    time.sleep(1.1)
    assert cli.main(["backup", str(office)]) == 0, "the remembered folder is used"
    assert len(list(usb.glob("*.tipbak"))) == 2


def test_backup_without_a_folder_says_what_to_do(office, capsys):
    assert cli.main(["backup", str(office)]) == 2
    err = capsys.readouterr().err
    assert "--to FOLDER" in err and "remembers" in err


def test_backup_to_a_missing_stick_exits_6_before_asking_a_password(office, tmp_path, env, capsys):
    env.delenv("TIPDESK_PASSWORD")
    assert cli.main(["backup", str(office), "--to", str(tmp_path / "E")]) == 6
    assert "plug it in" in capsys.readouterr().err


def test_backup_by_a_role_without_the_right_exits_7(office, usb, env, capsys):
    env.setenv("TIPDESK_NEW_PASSWORD", "analyst-password")
    assert cli.main(["users", "add", str(office), "ann", "--role", "analyst"]) == 0
    env.setenv("TIPDESK_PASSWORD", "analyst-password")
    assert cli.main(["backup", str(office), "--to", str(usb), "--user", "ann"]) == 7
    assert list(usb.iterdir()) == []


def test_verify_exit_codes(office, usb, tmp_path, env, capsys):
    assert cli.main(["backup", str(office), "--to", str(usb)]) == 0
    made = only_backup(usb)
    capsys.readouterr()
    assert cli.main(["backup-verify", str(made)]) == 0
    out = capsys.readouterr().out
    for what in ("database integrity", "encryption", "audit chain", "schema version", "row counts"):
        assert f"OK      {what}" in out
    assert "can restore it" in out
    # With the recovery key instead of a password.
    env.delenv("TIPDESK_PASSWORD")
    assert cli.main(["backup-verify", str(made), "--recovery-key-file", str(tmp_path / "recovery.txt")]) == 0
    capsys.readouterr()
    env.setenv("TIPDESK_PASSWORD", "wrong-password")
    assert cli.main(["backup-verify", str(made)]) == 3
    env.setenv("TIPDESK_PASSWORD", PW)
    bad = tmp_path / "bad.tipbak"
    bad.write_bytes(made.read_bytes())
    flip_byte(bad, member_offset(bad, backups.MEMBER_DB) + 5000)
    assert cli.main(["backup-verify", str(bad)]) == 1
    assert "damaged" in capsys.readouterr().err
    cut = tmp_path / "cut.tipbak"
    cut.write_bytes(made.read_bytes()[:-100])
    assert cli.main(["backup-verify", str(cut)]) == 1
    assert "cut short" in capsys.readouterr().err
    assert cli.main(["backup-verify", str(tmp_path / "nothing.tipbak")]) == 2


def test_restore_refuses_to_overwrite_then_moves_aside(office, usb, capsys):
    assert cli.main(["backup", str(office), "--to", str(usb)]) == 0
    made = only_backup(usb)
    before = digest(office, files.keys_path(office))
    capsys.readouterr()
    assert cli.main(["restore", str(made), "--to", str(office)]) == 6
    assert "--replace" in capsys.readouterr().err
    assert digest(office, files.keys_path(office)) == before
    assert cli.main(["restore", str(made), "--to", str(office), "--replace"]) == 0
    out = capsys.readouterr().out
    assert "moved aside, not deleted" in out and "passwords that were valid then" in out
    aside = list(office.parent.glob("office-replaced-*.tipdb"))
    assert len(aside) == 1 and digest(aside[0], files.keys_path(aside[0])) == before
    assert cli.main(["check", str(office)]) == 0


def test_restore_to_a_new_path(office, usb, tmp_path, capsys):
    assert cli.main(["backup", str(office), "--to", str(usb)]) == 0
    made = only_backup(usb)
    assert cli.main(["restore", str(made), "--to", str(tmp_path / "copy")]) == 0
    assert (tmp_path / "copy.tipdb").exists() and (tmp_path / "copy.tipdb.keys").exists()
    assert cli.main(["audit", "verify", str(tmp_path / "copy.tipdb")]) == 0


def test_restore_of_a_damaged_backup_exits_1_and_changes_nothing(office, usb, tmp_path, capsys):
    assert cli.main(["backup", str(office), "--to", str(usb)]) == 0
    bad = tmp_path / "bad.tipbak"
    bad.write_bytes(only_backup(usb).read_bytes()[:-5000])
    before = digest(office, files.keys_path(office))
    assert cli.main(["restore", str(bad), "--to", str(office), "--replace"]) == 1
    assert digest(office, files.keys_path(office)) == before
    assert not list(office.parent.glob("office-replaced-*"))


def test_restore_of_another_registers_backup_over_this_one_exits_6(office, usb, tmp_path, env, capsys):
    other = tmp_path / "other.tipdb"
    assert cli.main(["init", str(other), "--org-code", "OTH", "--org-name", "Other",
                     "--org-type", "NGO", "--country", "JAM", "--admin", "boss"]) == 0
    assert cli.main(["backup", str(other), "--to", str(usb)]) == 0
    before = digest(office, files.keys_path(office))
    capsys.readouterr()
    assert cli.main(["restore", str(only_backup(usb)), "--to", str(office), "--replace"]) == 6
    assert "different register" in capsys.readouterr().err
    assert digest(office, files.keys_path(office)) == before


CHILD = """
import sys
from pathlib import Path
from tipdesk.vault.register import open_register
from tipdesk.vault import backup as backups
reg = open_register(Path(sys.argv[1]), "boss", sys.argv[2])
print("ready", flush=True)
while True:
    backups.backup(reg, Path(sys.argv[3]))
"""


@pytest.mark.slow
@pytest.mark.skipif(os.name == "nt", reason="SIGKILL")
def test_killing_a_backup_never_leaves_a_half_file_that_looks_valid(office, usb, tmp_path):
    """Kill backups at random moments: every *.tipbak left verifies; leftovers are hidden."""
    import random

    from tipdesk.vault.backup import Credentials

    rng = random.Random(1123)
    root = Path(__file__).resolve().parent.parent
    for round_no in range(6):
        child = subprocess.Popen([sys.executable, "-c", CHILD, str(office), PW, str(usb)],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=root,
                                 env=dict(os.environ, TIPDESK_SETTINGS_DIR=str(tmp_path / "s")))
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "ready", child.stderr.read() if child.stderr else ""
        time.sleep(rng.uniform(0.05, 1.5))
        os.kill(child.pid, signal.SIGKILL)
        child.communicate()
    finished = list(usb.glob("*.tipbak"))
    for made in finished:
        assert backups.verify_backup(made, Credentials("boss", PW)).ok, made
    for leftover in usb.iterdir():
        assert leftover in finished or leftover.name.startswith("."), leftover
    assert cli.main(["check", str(office)]) == 0


def test_backup_settings_show_and_change(office, usb, capsys):
    assert cli.main(["backup-settings", str(office)]) == 0
    out = capsys.readouterr().out
    assert "(none chosen yet)" in out and "the last 10" in out and "No backup" in out
    assert cli.main(["backup-settings", str(office), "--keep", "3", "--remind-after-days", "2",
                     "--to", str(usb)]) == 0
    out = capsys.readouterr().out
    assert "the last 3" in out and "2 days" in out and str(usb) in out
    assert cli.main(["backup", str(office)]) == 0, "the folder set in the settings is used"
    assert cli.main(["backup-settings", str(office), "--keep", "0"]) == 2
