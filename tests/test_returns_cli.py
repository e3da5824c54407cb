"""The command line: export-return, validate-return, settings set-linkage-key."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import select

from exports.returns import service
from models import AuditEvent
from tests.conftest import ADMIN_PASSWORD
from tests.factories import acting_as
from tests.returns_data import add_case, fill_register
from tipdesk.cli import main


@pytest.fixture
def filled(reg):
    with reg.write() as s:
        fill_register(s, 60, seed=5, end=dt.date(2025, 12, 31))
    return reg


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_export_writes_the_standard_name_in_the_current_folder_and_is_audited(filled, register_path, tmp_path,
                                                                              monkeypatch, capsys):
    monkeypatch.setenv("TIPDESK_PASSWORD", ADMIN_PASSWORD)
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    filled.close()
    code, out, err = run(capsys, "export-return", str(register_path), "--period", "2025-Q4")
    assert code == 0, err
    target = work / "TIPRETURN_OAS_2025-Q4.xlsx"
    assert target.exists() and f"Wrote the return {target}" in out
    code, out, _ = run(capsys, "validate-return", str(target))
    assert code == 0 and out.startswith("TIPRETURN_OAS_2025-Q4.xlsx: valid TIP-RETURN/1 file, a full return")
    # never overwrite silently
    code, _, err = run(capsys, "export-return", str(register_path), "--period", "2025-Q4")
    assert code == 6 and "already exists" in err
    code, _, err = run(capsys, "export-return", str(register_path), "--period", "2025-Q4", "--replace")
    assert code == 0, err
    code, out, _ = run(capsys, "export-return", str(register_path), "--period", "2025", "--suppressed",
                       "--out", str(tmp_path))
    assert code == 0 and "suppressed copy" in out
    code, out, _ = run(capsys, "validate-return", str(tmp_path / "TIPRETURN_OAS_2025.xlsx"))
    assert code == 0 and "suppressed copy for publication" in out
    from tipdesk.vault.register import open_register

    with open_register(register_path, "admin", ADMIN_PASSWORD) as reg, reg.read() as s:
        events = [json.loads(e.details) for e in s.scalars(
            select(AuditEvent).where(AuditEvent.action == "return_exported").order_by(AuditEvent.id))]
        records = service.prepared_returns(reg)
    assert [(e["period"], e["suppressed"], e["file"]) for e in events] == [
        ("2025-Q4", False, "TIPRETURN_OAS_2025-Q4.xlsx"), ("2025-Q4", False, "TIPRETURN_OAS_2025-Q4.xlsx"),
        ("2025", True, "TIPRETURN_OAS_2025.xlsx")]
    assert [r.period for r in records] == ["2025", "2025-Q4", "2025-Q4"]  # newest first


@pytest.mark.parametrize("role,allowed", [("caseworker", True), ("police", True), ("analyst", True),
                                          ("auditor", False)])
def test_who_may_export(reg, register_path, tmp_path, monkeypatch, capsys, role, allowed):
    with acting_as(reg, role):
        pass
    monkeypatch.setenv("TIPDESK_PASSWORD", "role-password-1")
    code, _out, err = run(capsys, "export-return", str(register_path), "--period", "2025-Q4", "--user",
                          f"{role}user", "--out", str(tmp_path / f"{role}.xlsx"))
    if allowed:
        assert code == 0, err
    else:
        assert code == 7 and "may not prepare returns" in err
        assert not (tmp_path / f"{role}.xlsx").exists()


def test_validate_prints_every_problem_and_exits_1(tmp_path, capsys):
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(b"not a workbook")
    missing = tmp_path / "nothing.xlsx"
    code, out, _ = run(capsys, "validate-return", str(bad), str(missing))
    assert code == 1
    assert "bad.xlsx: NOT valid — 1 problem found." in out
    assert "This is not an Excel workbook (.xlsx)" in out
    assert "There is no file" in out


def test_a_period_that_is_not_a_period(reg, register_path, monkeypatch, capsys):
    monkeypatch.setenv("TIPDESK_PASSWORD", ADMIN_PASSWORD)
    code, _, err = run(capsys, "export-return", str(register_path), "--period", "2026-Q5")
    assert code == 2 and "is not a period" in err


def test_set_linkage_key(reg, register_path, tmp_path, monkeypatch, capsys):
    with reg.write() as s:
        add_case(s, dt.date(2025, 11, 3), consent_data_sharing=True)
    key_file = tmp_path / "national-key.txt"
    key_file.write_text("00112233 44556677 8899aabb ccddeeff\n00112233-44556677-8899aabb-ccddeeff\n")
    monkeypatch.setenv("TIPDESK_PASSWORD", ADMIN_PASSWORD)
    code, out, err = run(capsys, "settings", "set-linkage-key", str(register_path), "--key-file", str(key_file))
    assert code == 0, err
    import hashlib

    key_id = hashlib.sha256(bytes.fromhex("00112233445566778899aabbccddeeff" * 2)).hexdigest()[:8]
    assert f"key id {key_id}" in out
    with reg.read() as s:
        event = s.scalars(select(AuditEvent).where(AuditEvent.action == "linkage_key_set")).one()
    assert json.loads(event.details)["linkage_key_id"] == key_id
    assert "0011" not in event.details  # the key itself is never in the audit trail
    out_file = tmp_path / "r.xlsx"
    code, _, err = run(capsys, "export-return", str(register_path), "--period", "2025-Q4", "--out", str(out_file))
    assert code == 0, err
    ret = service.check_return_file(out_file).ret
    assert ret.meta.linkage_key_id == key_id and len(ret.line_list[0].person_key) == 32
    key_file.write_text("not a key")
    code, _, err = run(capsys, "settings", "set-linkage-key", str(register_path), "--key-file", str(key_file))
    assert code == 2 and "64" in err
    with acting_as(reg, "caseworker"):
        pass
    monkeypatch.setenv("TIPDESK_PASSWORD", "role-password-1")
    key_file.write_text("ab" * 32)
    code, _, err = run(capsys, "settings", "set-linkage-key", str(register_path), "--key-file", str(key_file),
                       "--user", "caseworkeruser")
    assert code == 7
