"""The keyslot file beside a register: the database key wrapped once per user (like LUKS).

Each slot holds the random 256-bit database key encrypted with AES-256-GCM under a key derived
by Argon2id from that user's password and a random salt. Adding, revoking or re-passwording a
user rewrites this small file atomically and never re-encrypts the register.

Slots are found by a salted hash of the user name, so the file holds no names. The GCM
associated data binds each slot to the register id, its tag and its KDF parameters, so slots
cannot be moved between registers or users unnoticed.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from argon2.low_level import Type, hash_secret_raw
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from tipdesk.errors import (
    AccountRevoked,
    KeyslotsDamaged,
    KeyslotsMissing,
    UsageError,
    WrongCredentials,
)
from tipdesk.vault.files import atomic_write

FORMAT = "tipdesk-keyslots"
FORMAT_VERSION = 1
MAX_FILE_BYTES = 1_000_000
KEY_BYTES = 32

# Production floor: t ≥ 3, 64 MiB. Tests pass cheaper parameters explicitly.
DEFAULT_MEMORY_KIB = 64 * 1024
MIN_TIME_COST = 3
TARGET_SECONDS = 0.5

_HEX = re.compile(r"^[0-9a-f]+$")


@dataclass(frozen=True)
class KdfParams:
    """Argon2id cost parameters: passes, memory in KiB, lanes."""

    t: int
    m: int
    p: int

    def derive(self, password: str, salt: bytes) -> bytes:
        return hash_secret_raw(
            password.encode("utf-8"), salt, time_cost=self.t, memory_cost=self.m,
            parallelism=self.p, hash_len=KEY_BYTES, type=Type.ID,
        )


_calibrated: KdfParams | None = None


def calibrate(target_seconds: float = TARGET_SECONDS, memory_kib: int = DEFAULT_MEMORY_KIB) -> KdfParams:
    """Argon2id parameters taking about ``target_seconds`` here (64 MiB, never below t=3).

    Measured once per process; every slot created by this process uses the same result.
    """
    global _calibrated
    if _calibrated is not None:
        return _calibrated
    lanes = max(1, min(4, os.cpu_count() or 1))
    probe = KdfParams(MIN_TIME_COST, memory_kib, lanes)
    start = time.perf_counter()
    probe.derive("calibration", os.urandom(16))
    elapsed = max(time.perf_counter() - start, 1e-3)
    t = max(MIN_TIME_COST, round(MIN_TIME_COST * target_seconds / elapsed))
    _calibrated = KdfParams(t, memory_kib, lanes)
    return _calibrated


def user_tag(tag_salt: bytes, username: str) -> str:
    return hashlib.sha256(tag_salt + normalise_username(username).encode("utf-8")).hexdigest()


def normalise_username(username: str) -> str:
    return username.strip().casefold()


@dataclass
class Slot:
    tag: str
    state: str  # "active" or "revoked"
    kdf: dict[str, Any] = field(default_factory=dict)
    nonce: str = ""
    wrapped: str = ""
    admin: bool = False  # lets the CLI find "the only admin" without names outside the vault


@dataclass
class KeyslotFile:
    register_id: str
    tag_salt: str
    slots: list[Slot] = field(default_factory=list)

    # --- reading and writing -------------------------------------------------------------

    @classmethod
    def new(cls, register_id: str) -> KeyslotFile:
        return cls(register_id=register_id, tag_salt=os.urandom(16).hex())

    @classmethod
    def load(cls, path: Path) -> KeyslotFile:
        if not path.exists():
            raise KeyslotsMissing(
                f"The key file {path.name} is missing beside the register. Without it nobody can "
                "log in with a password. Put it back from a backup, or open the register with "
                "its recovery key (tipdesk recover) to set new passwords."
            )
        try:
            if path.stat().st_size > MAX_FILE_BYTES:
                raise ValueError("too large")
            data = json.loads(path.read_bytes().decode("utf-8"))
            return cls._from_json(data)
        except (OSError, ValueError, KeyError, TypeError, UnicodeDecodeError) as exc:
            raise KeyslotsDamaged(
                f"The key file {path.name} is damaged or is not a tipdesk key file. Put it back "
                "from a backup, or open the register with its recovery key (tipdesk recover)."
            ) from exc

    @classmethod
    def _from_json(cls, data: dict[str, Any]) -> KeyslotFile:
        if data.get("format") != FORMAT:
            raise ValueError("not a keyslot file")
        if data.get("version") != FORMAT_VERSION:
            raise ValueError("unknown keyslot file version")
        register_id = str(data["register_id"])
        tag_salt = str(data["tag_salt"])
        if not _HEX.match(register_id) or not _HEX.match(tag_salt):
            raise ValueError("malformed ids")
        slots = []
        for raw in data["slots"]:
            slot = Slot(
                tag=str(raw["tag"]), state=str(raw["state"]), kdf=dict(raw.get("kdf", {})),
                nonce=str(raw.get("nonce", "")), wrapped=str(raw.get("wrapped", "")),
                admin=bool(raw.get("admin", False)),
            )
            if slot.state not in ("active", "revoked") or not _HEX.match(slot.tag):
                raise ValueError("malformed slot")
            slots.append(slot)
        return cls(register_id=register_id, tag_salt=tag_salt, slots=slots)

    def to_bytes(self) -> bytes:
        data = {
            "format": FORMAT,
            "version": FORMAT_VERSION,
            "register_id": self.register_id,
            "tag_salt": self.tag_salt,
            "slots": [asdict(s) for s in self.slots],
        }
        return (json.dumps(data, indent=1, sort_keys=True) + "\n").encode("utf-8")

    def save(self, path: Path) -> None:
        atomic_write(path, self.to_bytes())

    # --- slots -------------------------------------------------------------------------------

    def _tag(self, username: str) -> str:
        return user_tag(bytes.fromhex(self.tag_salt), username)

    def find(self, username: str) -> Slot | None:
        tag = self._tag(username)
        for slot in self.slots:
            if slot.tag == tag:
                return slot
        return None

    def _aad(self, slot: Slot) -> bytes:
        k = slot.kdf
        return f"{FORMAT}/{FORMAT_VERSION}|{self.register_id}|{slot.tag}|argon2id|{k['t']}|{k['m']}|{k['p']}|{k['salt']}".encode()

    def tag_of(self, username: str) -> str:
        return self._tag(username)

    def active_admin_slots(self) -> list[Slot]:
        return [s for s in self.slots if s.state == "active" and s.admin]

    def set_admin_flag(self, username: str, admin: bool) -> None:
        slot = self.find(username)
        if slot is not None:
            slot.admin = admin

    def set_password(
        self, username: str, password: str, db_key: bytes, params: KdfParams, admin: bool = False
    ) -> None:
        """Create or replace the user's slot: the key wrapped under the new password."""
        if len(db_key) != KEY_BYTES:
            raise ValueError("database key must be 32 bytes")
        salt = os.urandom(16)
        slot = Slot(
            tag=self._tag(username), state="active", admin=admin,
            kdf={"name": "argon2id", "t": params.t, "m": params.m, "p": params.p, "salt": salt.hex()},
        )
        nonce = os.urandom(12)
        wrapping_key = params.derive(password, salt)
        slot.nonce = nonce.hex()
        slot.wrapped = AESGCM(wrapping_key).encrypt(nonce, db_key, self._aad(slot)).hex()
        self.slots = [s for s in self.slots if s.tag != slot.tag] + [slot]

    def revoke(self, username: str) -> None:
        """Replace the user's slot by a tombstone: the wrapped key is gone for good."""
        tag = self._tag(username)
        self.slots = [s for s in self.slots if s.tag != tag] + [Slot(tag=tag, state="revoked")]

    def unwrap(self, username: str, password: str) -> bytes:
        """The database key, or ``WrongCredentials``/``AccountRevoked``.

        An unknown user costs the same Argon2id work as a wrong password, so timing does not
        tell which user names exist.
        """
        return self.unwrap_slot(self.find(username), password)

    def unwrap_slot(self, slot: Slot | None, password: str) -> bytes:
        if slot is None or slot.state != "active":
            params = self._any_params()
            params.derive(password, b"\0" * 16)
            if slot is not None and slot.state == "revoked":
                raise AccountRevoked()
            raise WrongCredentials()
        try:
            k = slot.kdf
            params = KdfParams(int(k["t"]), int(k["m"]), int(k["p"]))
            wrapping_key = params.derive(password, bytes.fromhex(k["salt"]))
            return AESGCM(wrapping_key).decrypt(
                bytes.fromhex(slot.nonce), bytes.fromhex(slot.wrapped), self._aad(slot)
            )
        except InvalidTag:
            raise WrongCredentials() from None
        except (KeyError, ValueError) as exc:
            raise KeyslotsDamaged("The key file's entry for this user is damaged.") from exc

    def _any_params(self) -> KdfParams:
        for slot in self.slots:
            if slot.state == "active":
                k = slot.kdf
                return KdfParams(int(k["t"]), int(k["m"]), int(k["p"]))
        return KdfParams(MIN_TIME_COST, DEFAULT_MEMORY_KIB, 1)


# --- recovery key --------------------------------------------------------------------------

def format_recovery_key(db_key: bytes) -> str:
    """64 hex digits in 8 groups of 8 separated by ``-``."""
    text = db_key.hex()
    return "-".join(text[i:i + 8] for i in range(0, 64, 8))


def parse_recovery_key(text: str) -> bytes:
    """Accept the grouped form, any case, with spaces, dashes or line breaks anywhere."""
    cleaned = re.sub(r"[\s\-]", "", text).lower()
    if not re.fullmatch(r"[0-9a-f]{64}", cleaned):
        raise UsageError(
            "That is not a recovery key: it must be 64 hexadecimal digits (0–9, a–f), "
            "usually written in 8 groups of 8."
        )
    return bytes.fromhex(cleaned)
