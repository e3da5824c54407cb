"""The register is encrypted at rest: nothing readable in the file, the WAL or the shm."""

from __future__ import annotations

import sqlite3

import pytest
import sqlcipher3

from models import Organisation
from tipdesk.vault import files
from tipdesk.vault.keyslots import parse_recovery_key

MARKER = "Zephyrine-Quockbottom-7731"


def _all_bytes(path):
    data = b""
    for p in [path, *files.sidecar_paths(path)]:
        if p.exists():
            data += p.read_bytes()
    return data


def test_marker_is_absent_from_every_file_while_open_and_after_close(reg, register_path):
    with reg.write() as s:
        s.add(Organisation(name=MARKER, org_type="NGO", country="JAM", notes=MARKER * 3))
    # While the register is open in another connection, the WAL and shm exist.
    holder = reg.engine.connect()
    try:
        holder.exec_driver_sql("SELECT count(*) FROM organisation").scalar()
        assert files.sidecar_paths(register_path)[0].exists(), "WAL mode should keep a -wal file"
        blob = _all_bytes(register_path)
        assert MARKER.encode() not in blob
        assert MARKER.encode("utf-16-le") not in blob
    finally:
        holder.close()
    reg.close()
    blob = _all_bytes(register_path)
    assert MARKER.encode() not in blob
    assert blob[:16] != b"SQLite format 3\x00"


def test_stock_sqlite_cannot_read_the_register(reg, register_path):
    reg.close()
    conn = sqlite3.connect(register_path)
    with pytest.raises(sqlite3.DatabaseError):
        conn.execute("SELECT * FROM sqlite_master").fetchall()
    conn.close()


def test_sqlcipher_with_the_recovery_key_reads_it(created, register_path):
    reg = created.register
    with reg.write() as s:
        s.add(Organisation(name=MARKER, org_type="NGO", country="JAM"))
    reg.close()
    key = parse_recovery_key(created.recovery_key)
    conn = sqlcipher3.connect(str(register_path))
    conn.execute(f"PRAGMA key = \"x'{key.hex()}'\"")
    names = [r[0] for r in conn.execute("SELECT name FROM organisation")]
    conn.close()
    assert MARKER in names


def test_a_wrong_raw_key_reads_nothing(reg, register_path):
    reg.close()
    conn = sqlcipher3.connect(str(register_path))
    conn.execute("PRAGMA key = \"x'" + "ab" * 32 + "'\"")
    with pytest.raises(sqlcipher3.DatabaseError):
        conn.execute("SELECT * FROM sqlite_master").fetchall()
    conn.close()


def test_files_are_private_to_their_owner(reg, register_path):
    import os
    import stat

    if os.name == "nt":
        pytest.skip("POSIX modes")
    mode = stat.S_IMODE(files.keys_path(register_path).stat().st_mode)
    assert mode == 0o600


def test_recovery_key_format(created):
    groups = created.recovery_key.split("-")
    assert len(groups) == 8 and all(len(g) == 8 for g in groups)
    assert parse_recovery_key(created.recovery_key.upper().replace("-", " ")) == parse_recovery_key(created.recovery_key)


def test_locking_drops_the_key_and_refuses_reads(reg):
    from tipdesk.errors import RegisterLocked

    key_buffer = reg._key
    reg.lock()
    assert not any(key_buffer)
    with pytest.raises(RegisterLocked), reg.read() as s:
        s.get(Organisation, 1)
