"""The command line of the foundation: init, users, recover, check, audit verify, exit codes,
and bad input that changes nothing on disk."""

from __future__ import annotations

import errno
import hashlib
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tipdesk import cli
from tipdesk.vault import files

PW = "cli-admin-password"


@pytest.fixture
def env(monkeypatch):
    monkeypatch.setenv("TIPDESK_PASSWORD", PW)
    return monkeypatch


def init(path: Path, *extra: str) -> int:
    return cli.main(["init", str(path), "--org-code", "OAS", "--org-name", "Office A",
                     "--org-type", "NGO", "--country", "JAM", "--admin", "boss", *extra])


def digest(*paths: Path) -> str:
    h = hashlib.sha256()
    for p in paths:
        h.update(p.read_bytes() if p.exists() else b"<none>")
    return h.hexdigest()


def test_init_prints_the_recovery_key_once_and_saves_it_when_asked(env, tmp_path, capsys):
    key_file = tmp_path / "recovery.txt"
    assert init(tmp_path / "a", "--recovery-key-out", str(key_file)) == 0
    out = capsys.readouterr().out
    key = key_file.read_text().strip()
    assert key in out and len(key) == 71
    assert (tmp_path / "a.tipdb").exists() and (tmp_path / "a.tipdb.keys").exists()


def test_existing_path_is_never_overwritten(env, tmp_path, capsys):
    assert init(tmp_path / "a") == 0
    before = digest(tmp_path / "a.tipdb", tmp_path / "a.tipdb.keys")
    assert init(tmp_path / "a") == 6
    assert "already exists" in capsys.readouterr().err
    assert digest(tmp_path / "a.tipdb", tmp_path / "a.tipdb.keys") == before


def test_wrong_password_unknown_user_and_revoked_user_exit_3(env, tmp_path, capsys):
    path = tmp_path / "a.tipdb"
    assert init(path) == 0
    env.setenv("TIPDESK_NEW_PASSWORD", "worker-password")
    assert cli.main(["users", "add", str(path), "bea", "--role", "caseworker"]) == 0
    assert cli.main(["users", "revoke", str(path), "bea"]) == 0
    capsys.readouterr()
    env.setenv("TIPDESK_PASSWORD", "not-the-password")
    assert cli.main(["check", str(path)]) == 3
    err1 = capsys.readouterr().err
    assert cli.main(["check", str(path), "--user", "nobody"]) == 3
    err2 = capsys.readouterr().err
    assert err1 == err2, "wrong password and unknown user must read the same"
    env.setenv("TIPDESK_PASSWORD", "worker-password")
    assert cli.main(["check", str(path), "--user", "bea"]) == 3
    assert "revoked" in capsys.readouterr().err


def test_password_file_and_no_password_at_all(env, tmp_path, capsys):
    path = tmp_path / "a.tipdb"
    assert init(path) == 0
    pw_file = tmp_path / "pw"
    pw_file.write_text(PW + "\n")
    env.delenv("TIPDESK_PASSWORD")
    assert cli.main(["audit", "verify", str(path), "--password-file", str(pw_file)]) == 0
    assert cli.main(["audit", "verify", str(path)]) == 2  # stdin is not a terminal under pytest
    assert "No password given" in capsys.readouterr().err


@pytest.mark.parametrize("content", [b"", b"hello, this is a text file\n" * 10, "sqlite"])
def test_files_that_are_not_registers_exit_4_and_stay_unchanged(env, tmp_path, capsys, content):
    path = tmp_path / "x.tipdb"
    if content == "sqlite":
        conn = sqlite3.connect(path)
        conn.execute("CREATE TABLE t (a)")
        conn.commit()
        conn.close()
    else:
        path.write_bytes(content)
    before = digest(path)
    assert cli.main(["check", str(path)]) == 4
    err = capsys.readouterr().err
    assert "not a tipdesk register" in err or "empty" in err
    assert digest(path) == before
    assert not files.attempts_path(path).exists()


def test_random_bytes_of_page_size_are_not_a_register(env, tmp_path, capsys):
    import os

    path = tmp_path / "x.tipdb"
    path.write_bytes(os.urandom(8192))
    assert init(tmp_path / "real") == 0
    (tmp_path / "real.tipdb.keys").rename(files.keys_path(path))
    assert cli.main(["check", str(path)]) == 4
    assert "could not be opened" in capsys.readouterr().err


def test_missing_key_file_mentions_the_recovery_key(env, tmp_path, capsys):
    path = tmp_path / "a.tipdb"
    assert init(path) == 0
    files.keys_path(path).unlink()
    capsys.readouterr()
    assert cli.main(["check", str(path)]) == 4
    assert "recovery key" in capsys.readouterr().err


def test_damaged_key_file_exits_4(env, tmp_path, capsys):
    path = tmp_path / "a.tipdb"
    assert init(path) == 0
    files.keys_path(path).write_text("{not json")
    assert cli.main(["check", str(path)]) == 4
    assert "damaged" in capsys.readouterr().err


def test_read_only_location_is_refused_plainly(env, tmp_path, capsys, monkeypatch):
    import tempfile as tf

    def read_only(*a, **k):
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr(files.tempfile, "mkstemp", read_only)
    assert init(tmp_path / "ro") == 6
    assert "read-only" in capsys.readouterr().err
    assert not list(tmp_path.glob("ro*"))
    monkeypatch.setattr(files.tempfile, "mkstemp", tf.mkstemp)


def test_network_share_is_refused_with_the_reason(env, tmp_path, capsys, monkeypatch):
    real_table = files._mount_table
    monkeypatch.setattr(files, "_mount_table",
                        lambda text=None: real_table(f"server:/export {tmp_path} nfs4 rw 0 0\n"))
    assert init(tmp_path / "share") == 6
    err = capsys.readouterr().err
    assert "network share" in err and "local" in err
    assert not list(tmp_path.glob("share*"))


def test_filesystem_type_from_a_mount_table(tmp_path):
    table = "/dev/sda1 / ext4 rw 0 0\n//nas/office /mnt/office cifs rw 0 0\n"
    assert files.filesystem_type(Path("/mnt/office/reg.tipdb"), table) == "cifs"
    assert files.filesystem_type(Path("/home/me/reg.tipdb"), table) == "ext4"
    assert files.is_network_location(Path("/mnt/office/x"), table) is True
    assert files.is_network_location(Path("/mnt/officex/x"), table) is False


def test_recover_with_the_recovery_key_sets_a_new_password(env, tmp_path, capsys):
    path = tmp_path / "a.tipdb"
    key_file = tmp_path / "rk"
    assert init(path, "--recovery-key-out", str(key_file)) == 0
    env.setenv("TIPDESK_NEW_PASSWORD", "brand-new-password")
    assert cli.main(["recover", str(path), "--recovery-key-file", str(key_file), "--user", "boss"]) == 0
    env.setenv("TIPDESK_PASSWORD", "brand-new-password")
    assert cli.main(["audit", "verify", str(path)]) == 0
    bad = tmp_path / "bad"
    bad.write_text("1234-5678")
    assert cli.main(["recover", str(path), "--recovery-key-file", str(bad), "--user", "boss"]) == 2
    bad.write_text("-".join(["0" * 8] * 8))
    assert cli.main(["recover", str(path), "--recovery-key-file", str(bad), "--user", "boss"]) == 4


def test_check_and_users_list(env, tmp_path, capsys):
    path = tmp_path / "a.tipdb"
    assert init(path) == 0
    capsys.readouterr()
    assert cli.main(["check", str(path)]) == 0
    out = capsys.readouterr().out
    for part in ("database integrity", "encryption", "key file", "audit chain"):
        assert f"OK      {part}" in out
    assert cli.main(["users", "list", str(path)]) == 0
    assert "boss" in capsys.readouterr().out


def test_check_fails_on_a_tampered_chain(env, tmp_path, capsys):
    import sqlcipher3

    from tipdesk.vault.keyslots import parse_recovery_key

    path = tmp_path / "a.tipdb"
    key_file = tmp_path / "rk"
    assert init(path, "--recovery-key-out", str(key_file)) == 0
    conn = sqlcipher3.connect(str(path), isolation_level=None)
    conn.execute(f"PRAGMA key = \"x'{parse_recovery_key(key_file.read_text()).hex()}'\"")
    conn.execute("DROP TRIGGER audit_event_no_update")
    conn.execute("UPDATE audit_event SET username = 'someone' WHERE id = 1")
    conn.close()
    capsys.readouterr()
    assert cli.main(["audit", "verify", str(path)]) == 1
    assert "broken at event 1" in capsys.readouterr().out
    assert cli.main(["check", str(path)]) == 1


def test_usage_errors_exit_2(env, tmp_path, capsys):
    assert cli.main(["init"]) == 2
    assert cli.main(["init", str(tmp_path / "a"), "--org-code", "x", "--org-name", "A",
                     "--org-type", "NGO", "--country", "JAM", "--admin", "boss"]) == 2
    assert cli.main(["init", str(tmp_path / "a"), "--org-code", "OAS", "--org-name", "A",
                     "--org-type", "Church", "--country", "JAM", "--admin", "boss"]) == 2
    assert cli.main(["users", "add", str(tmp_path / "missing.tipdb"), "x", "--role", "king"]) == 4


def test_the_installed_entry_point_answers_version():
    result = subprocess.run([sys.executable, "-m", "tipdesk", "--version"], capture_output=True, text=True)
    assert result.returncode == 0
    from tipdesk import __version__

    assert result.stdout.strip() == f"tipdesk {__version__}"
