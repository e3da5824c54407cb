"""Shared fixtures: offscreen Qt, cheap Argon2 parameters, fresh temporary registers.

Production code never weakens its Argon2 defaults; tests replace the calibration with cheap
parameters explicitly here, so that creating a register costs milliseconds.
"""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # before any Qt import
os.environ.pop("TIPDESK_PASSWORD", None)
os.environ.pop("TIPDESK_NEW_PASSWORD", None)

from collections.abc import Iterator  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

from tipdesk.vault import keyslots  # noqa: E402
from tipdesk.vault.keyslots import KdfParams  # noqa: E402
from tipdesk.vault.register import OfficeDetails, Register, create_register  # noqa: E402

FAST_KDF = KdfParams(t=1, m=1024, p=1)
ADMIN_PASSWORD = "admin-password-1"
OFFICE = OfficeDetails(code="OAS", name="Test Office", org_type="NGO", country="JAM")


@pytest.fixture(autouse=True)
def fast_kdf(monkeypatch: pytest.MonkeyPatch) -> KdfParams:
    monkeypatch.setattr(keyslots, "calibrate", lambda *a, **k: FAST_KDF)
    monkeypatch.setattr("tipdesk.vault.register.calibrate", lambda *a, **k: FAST_KDF)
    monkeypatch.setattr("tipdesk.security.accounts.calibrate", lambda *a, **k: FAST_KDF)
    return FAST_KDF


@pytest.fixture(autouse=True)
def private_settings(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own settings folder, so no test sees another's recent registers."""
    folder = tmp_path_factory.mktemp("settings")
    monkeypatch.setenv("TIPDESK_SETTINGS_DIR", str(folder))
    monkeypatch.delenv("TIPDESK_PASSWORD", raising=False)
    monkeypatch.delenv("TIPDESK_NEW_PASSWORD", raising=False)
    return folder


@pytest.fixture
def register_path(tmp_path: Path) -> Path:
    return tmp_path / "office.tipdb"


@pytest.fixture
def created(register_path: Path):
    result = create_register(register_path, OFFICE, "admin", ADMIN_PASSWORD, "Ada Admin", kdf=FAST_KDF)
    yield result
    result.register.close()


@pytest.fixture
def reg(created) -> Iterator[Register]:
    """An open register, acting as its first administrator."""
    yield created.register
