"""A register: one SQLCipher 4 file ``NAME.tipdb`` plus its keyslot file ``NAME.tipdb.keys``.

``create_register`` makes both; ``open_register`` unlocks one with a user's password;
``open_with_recovery_key`` with the recovery key. An open ``Register`` hands out sessions
(``read()``/``write()``) and knows its acting user. ``lock()`` disposes the engine and zeroes
the key bytes; nothing can be read after that without unlocking again.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import json
import os
import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import sqlcipher3
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from models import Organisation, RegisterMeta, UserAccount, utcnow, vocab
from models.countries import is_country
from tipdesk.errors import (
    AccountRevoked,
    Cancelled,
    KeyslotsDamaged,
    LocationError,
    NotARegister,
    RegisterLocked,
    RegisterTooNew,
    UsageError,
    WrongCredentials,
)
from tipdesk.security import audit
from tipdesk.security.roles import SYSTEM, Actor
from tipdesk.vault import files, migrate
from tipdesk.services.followup_plans import ensure_default_plan
from tipdesk.vault.engine import connect_raw, ensure_wal, key_pragma, make_engine
from tipdesk.vault.keyslots import (
    KEY_BYTES,
    KdfParams,
    KeyslotFile,
    calibrate,
    format_recovery_key,
    normalise_username,
)

SQLITE_PLAIN_HEADER = b"SQLite format 3\x00"
PAGE_SIZE = 4096
MAX_FAILED_ATTEMPTS_KEPT = 1000

# register_meta keys
META_REGISTER_ID = "register_id"
META_CREATED_AT = "created_at"
META_CREATED_BY_VERSION = "created_by_version"
META_OFFICE_SECRET = "office_secret"
META_LINKAGE_KEY = "linkage_key"
META_COUNTRY = "country"


def software_version() -> str:
    from tipdesk import __version__

    return __version__


@dataclass
class Register:
    """An unlocked register and the user acting on it."""

    path: Path
    actor: Actor
    register_id: str
    _engine: Engine | None
    _key: bytearray = field(repr=False)
    # An idle connection held while unlocked: without it every transaction's close would be the
    # last one, and SQLite would checkpoint and delete the WAL each time (slow, and it fsyncs).
    _anchor: sqlcipher3.Connection | None = None

    def __post_init__(self) -> None:
        if self._engine is not None and self._anchor is None:
            self._anchor = connect_raw(self.path, self._key)

    # --- sessions ------------------------------------------------------------------------------

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            raise RegisterLocked("The register is locked.")
        return self._engine

    @property
    def is_open(self) -> bool:
        return self._engine is not None

    @contextlib.contextmanager
    def read(self) -> Iterator[Session]:
        """A read unit of work (a deferred transaction, ended without committing).

        Objects loaded in it stay readable after it ends (detached, not expired).
        """
        with Session(self.engine, expire_on_commit=False) as session:
            yield session

    @contextlib.contextmanager
    def write(self) -> Iterator[Session]:
        """A write unit of work: ``BEGIN IMMEDIATE``, committed on success, else rolled back."""
        bind = self.engine.execution_options(tipdesk_write=True)
        with Session(bind, expire_on_commit=False) as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    def sessionmaker(self) -> sessionmaker[Session]:
        return sessionmaker(self.engine, expire_on_commit=False)

    # --- facts about the register -------------------------------------------------------------

    def meta(self, key: str, default: str | None = None) -> str | None:
        with self.read() as s:
            return get_meta(s, key, default)

    def office(self) -> Organisation:
        with self.read() as s:
            return own_office(s)

    def recovery_key(self) -> str:
        """The recovery key (admin only): shown at creation, printable again by an admin."""
        self.actor.require("user.manage")
        return format_recovery_key(bytes(self._key))

    def key_bytes_for_backup(self) -> bytes:
        """The raw key, for ``sqlcipher_export`` into an encrypted copy. Never shown or logged."""
        if not any(self._key):
            raise RegisterLocked("The register is locked.")
        return bytes(self._key)

    # --- lock and close ------------------------------------------------------------------------

    def lock(self, reason: str = "lock") -> None:
        """Record the lock, dispose the engine and overwrite the key bytes."""
        if self._engine is None:
            return
        with contextlib.suppress(Exception), self.write() as s:
            audit.record(s, self.actor, reason)
        self.close()

    def close(self) -> None:
        if self._anchor is not None:
            self._anchor.close()
            self._anchor = None
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None
        for i in range(len(self._key)):
            self._key[i] = 0

    def __enter__(self) -> Register:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# --- metadata helpers ----------------------------------------------------------------------------

def get_meta(session: Session, key: str, default: str | None = None) -> str | None:
    row = session.get(RegisterMeta, key)
    return row.value if row is not None else default


def set_meta(session: Session, key: str, value: str | None) -> None:
    row = session.get(RegisterMeta, key)
    if value is None:
        if row is not None:
            session.delete(row)
        return
    if row is None:
        session.add(RegisterMeta(key=key, value=value))
    else:
        row.value = value


def own_office(session: Session) -> Organisation:
    office = session.scalars(select(Organisation).where(Organisation.is_self.is_(True))).first()
    if office is None:
        raise NotARegister("This register has no office record: it is damaged.")
    return office


# --- creating -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class OfficeDetails:
    code: str
    name: str
    org_type: str
    country: str

    def validate(self) -> None:
        if not re.fullmatch(r"[A-Z0-9]{2,10}", self.code):
            raise UsageError("The office code must be 2 to 10 capital letters or digits (A–Z, 0–9).")
        if not self.name.strip():
            raise UsageError("The office needs a name.")
        if self.org_type not in vocab.names(vocab.ORG_TYPES):
            raise UsageError(
                f"Unknown organisation type '{self.org_type}'. Use one of: "
                + ", ".join(vocab.names(vocab.ORG_TYPES)) + "."
            )
        if not is_country(self.country):
            raise UsageError(f"'{self.country}' is not an ISO 3166-1 alpha-3 country code (e.g. JAM).")


@dataclass(frozen=True)
class CreatedRegister:
    register: Register
    recovery_key: str


def _check_new_location(path: Path) -> None:
    if path.exists() or files.keys_path(path).exists():
        raise LocationError(f"{path} already exists. tipdesk never overwrites a register; choose another name.")
    files.check_writable_directory(path.parent)
    files.refuse_network_location(path)


def validate_password(password: str) -> None:
    if len(password) < 8:
        raise UsageError("A password must have at least 8 characters.")


def create_register(
    path: Path,
    office: OfficeDetails,
    admin_username: str,
    admin_password: str,
    admin_display_name: str | None = None,
    kdf: KdfParams | None = None,
) -> CreatedRegister:
    """Create a new register with its first administrator. Refuses to touch an existing path."""
    path = Path(path)
    office.validate()
    username = normalise_username(admin_username)
    validate_user_name(username)
    validate_password(admin_password)
    _check_new_location(path)
    params = kdf or calibrate()
    db_key = bytearray(os.urandom(KEY_BYTES))
    register_id = uuid.uuid4().hex
    created: list[Path] = []
    try:
        conn = connect_raw(path, db_key)
        created.append(path)
        ensure_wal(conn)
        conn.close()
        engine = make_engine(path, db_key)
        with engine.begin() as conn2:
            migrate.upgrade(conn2)
        reg = Register(path=path, actor=SYSTEM, register_id=register_id, _engine=engine, _key=db_key)
        with reg.write() as s:
            now = utcnow()
            for key, value in {
                META_REGISTER_ID: register_id,
                META_CREATED_AT: now.isoformat(),
                META_CREATED_BY_VERSION: software_version(),
                META_OFFICE_SECRET: os.urandom(32).hex(),
                META_COUNTRY: office.country,
            }.items():
                set_meta(s, key, value)
            s.add(Organisation(code=office.code, name=office.name.strip(), org_type=office.org_type,
                               country=office.country, is_self=True))
            admin = UserAccount(username=username, display_name=admin_display_name or username,
                                role="admin", created_at=now)
            s.add(admin)
            s.flush()
            ensure_default_plan(s)
            audit.record(s, SYSTEM, "register_created", "register", None,
                         {"office": office.code, "software_version": software_version()})
            audit.record(s, SYSTEM, "user_added", "user", admin.id,
                         {"username": username, "role": "admin"})
            actor = Actor(admin.id, admin.username, admin.display_name, admin.role)
        slots = KeyslotFile.new(register_id)
        slots.set_password(username, admin_password, bytes(db_key), params, admin=True)
        slots.save(files.keys_path(path))
        created.append(files.keys_path(path))
        reg.actor = actor
        return CreatedRegister(register=reg, recovery_key=format_recovery_key(bytes(db_key)))
    except BaseException:
        for p in created + files.sidecar_paths(path):
            with contextlib.suppress(OSError):
                p.unlink()
        raise


def validate_user_name(username: str) -> None:
    if not re.fullmatch(r"[a-z0-9][a-z0-9._-]{1,31}", username):
        raise UsageError(
            "A user name must be 2 to 32 characters: letters, digits, dot, dash or underscore, "
            "starting with a letter or digit."
        )


# --- opening ------------------------------------------------------------------------------------

def check_register_file(path: Path) -> None:
    """Cheap checks before any key work: exists, not plain SQLite, plausible size, local disk."""
    if not path.exists():
        raise NotARegister(f"There is no register at {path}.")
    if path.is_dir():
        raise NotARegister(f"{path} is a folder, not a register.")
    size = path.stat().st_size
    if size == 0:
        raise NotARegister(f"{path.name} is empty: it is not a tipdesk register.")
    with open(path, "rb") as fh:
        header = fh.read(16)
    if header == SQLITE_PLAIN_HEADER:
        raise NotARegister(
            f"{path.name} is an ordinary (unencrypted) SQLite database, not a tipdesk register."
        )
    if size % PAGE_SIZE != 0:
        raise NotARegister(f"{path.name} is not a tipdesk register (or it has been cut short).")
    files.refuse_network_location(path)


def _open_engine(path: Path, db_key: bytearray, extra_versions: list[Path] | None) -> tuple[Engine, str]:
    """Open and check the database with ``db_key``; migrate an older schema after a backup."""
    try:
        probe = connect_raw(path, db_key)
    except Exception as exc:  # sqlcipher3.DatabaseError: "file is not a database"
        raise NotARegister(
            f"{path.name} could not be opened with the key from its key file: either it is not a "
            "tipdesk register, or the key file beside it belongs to another register."
        ) from exc
    try:
        ensure_wal(probe)
    finally:
        probe.close()
    engine = make_engine(path, db_key)
    cfg = migrate.alembic_config(extra_versions) if extra_versions else None
    revisions = migrate.alembic_revisions(cfg) if cfg else migrate.REVISIONS
    try:
        with engine.connect() as conn:
            state = migrate.schema_state(conn, revisions)
            if state.current is None:
                raise NotARegister(f"{path.name} is an encrypted database but not a tipdesk register.")
            if state.too_new:
                raise RegisterTooNew(
                    f"{path.name} was last used by a newer version of tipdesk (schema "
                    f"{state.current}). Install that version or a later one to open it; this "
                    f"version ({software_version()}) leaves the register untouched."
                )
            register_id = conn.exec_driver_sql(
                "SELECT value FROM register_meta WHERE key = ?", (META_REGISTER_ID,)
            ).scalar()
        if not state.up_to_date:
            backup = migration_backup_path(path, state.current or "none")
            export_encrypted_copy(engine, backup, bytes(db_key))
            with engine.begin() as conn:
                migrate.upgrade(conn, cfg)
        return engine, str(register_id)
    except BaseException:
        engine.dispose()
        raise


def migration_backup_path(path: Path, revision: str) -> Path:
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    return path.with_name(f"{path.stem}-before-upgrade-{revision}-{stamp}{path.suffix}")


def export_encrypted_copy(
    engine: Engine,
    destination: Path,
    key: bytes,
    *,
    keep_going: Callable[[], bool] | None = None,
    durable: bool = True,
) -> dict[str, int]:
    """Write an encrypted copy of the live database with ``sqlcipher_export`` (never a file copy).

    The copy is keyed with the same raw key, so the same passwords (with a copy of the keyslot
    file) and the same recovery key open it. It is taken inside one read transaction: a
    consistent snapshot even while others write, and it blocks no writer (WAL). Returns the row
    count of every table in that snapshot. ``keep_going`` is called every 100,000 SQLite steps
    (dozens of times a second); returning False stops the export (``Cancelled``). On
    any failure the partial copy is removed. ``durable=False`` skips the fsyncs, for a
    temporary copy that is checked and then copied elsewhere.
    """
    if destination.exists():
        raise LocationError(f"{destination} already exists.")
    key_clause = key_pragma(key).split("=", 1)[1].strip()  # "x'…'" built from validated bytes
    raw = engine.raw_connection()
    conn = raw.driver_connection
    stopped = False

    def progress_handler() -> int:
        nonlocal stopped
        if keep_going is not None and not keep_going():
            stopped = True
            return 1  # SQLite interrupts the running statement
        return 0

    try:
        cur = conn.cursor()
        cur.execute(f"ATTACH DATABASE ? AS export KEY {key_clause}", (str(destination),))
        try:
            if not durable:
                cur.execute("PRAGMA export.synchronous = OFF")
            cur.execute("BEGIN")
            counts = row_counts(cur)  # the first read fixes the snapshot
            conn.set_progress_handler(progress_handler, _PROGRESS_STEPS)
            cur.execute("SELECT sqlcipher_export('export')").fetchall()
            cur.execute("COMMIT")
        finally:
            conn.set_progress_handler(None, 0)
            if conn.in_transaction:
                cur.execute("ROLLBACK")
            cur.execute("DETACH DATABASE export")
        cur.close()
        return counts
    except BaseException as exc:
        for p in [destination, *files.sidecar_paths(destination)]:
            with contextlib.suppress(OSError):
                p.unlink()
        if stopped:
            raise Cancelled("Stopped: nothing was kept.") from None
        if isinstance(exc, OSError):
            raise files.location_error(exc, destination) from exc
        if isinstance(exc, sqlcipher3.OperationalError) and _is_disk_problem(exc):
            raise _disk_problem(exc, destination) from exc
        raise
    finally:
        raw.close()


_PROGRESS_STEPS = 100_000  # SQLite VM steps between progress calls (a few dozen per second)


def _is_disk_problem(exc: Exception) -> bool:
    text = str(exc).lower()
    return any(s in text for s in ("disk is full", "readonly", "read-only", "disk i/o", "unable to open"))


def _disk_problem(exc: Exception, destination: Path) -> LocationError:
    """A plain sentence for SQLite's own write failures (it reports no errno)."""
    text = str(exc).lower()
    if "disk is full" in text:
        return files.location_error(OSError(errno.ENOSPC, "disk full"), destination)
    if "readonly" in text or "read-only" in text:
        return files.location_error(OSError(errno.EROFS, "read-only"), destination)
    return LocationError(f"Could not write {destination.name} in {destination.parent}: {exc}.")


def user_tables(cur: sqlcipher3.Cursor, schema: str = "main") -> list[str]:
    """The names of the ordinary tables (not SQLite's own, not virtual ones) of ``schema``."""
    rows = cur.execute(
        f"SELECT name FROM {schema}.sqlite_master WHERE type = 'table' "
        "AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND coalesce(sql, '') NOT LIKE 'CREATE VIRTUAL%' "
        "ORDER BY name"
    ).fetchall()
    return [r[0] for r in rows]


def row_counts(cur: sqlcipher3.Cursor, schema: str = "main") -> dict[str, int]:
    """``{table: number of rows}`` for every ordinary table of ``schema``."""
    counts = {}
    for name in user_tables(cur, schema):
        quoted = '"' + name.replace('"', '""') + '"'
        counts[name] = int(cur.execute(f"SELECT count(*) FROM {schema}.{quoted}").fetchone()[0])
    return counts


def open_register(
    path: Path,
    username: str | None,
    password: str,
    *,
    via: str = "login",
    extra_versions: list[Path] | None = None,
) -> Register:
    """Unlock ``path`` as ``username`` (None: the register's only administrator).

    Failed attempts are counted outside the vault, without names.
    """
    path = Path(path)
    check_register_file(path)
    slots = KeyslotFile.load(files.keys_path(path))
    if username is None:
        admins = slots.active_admin_slots()
        if len(admins) != 1:
            raise UsageError("This register has several administrators: say which one with --user.")
        slot = admins[0]
    else:
        slot = slots.find(username)
    try:
        key_bytes = slots.unwrap_slot(slot, password)
    except (WrongCredentials, AccountRevoked) as exc:
        note_failed_attempt(path, "revoked" if isinstance(exc, AccountRevoked) else "wrong-credentials")
        raise
    assert slot is not None
    db_key = bytearray(key_bytes)
    engine, register_id = _open_engine(path, db_key, extra_versions)
    if register_id != slots.register_id:
        engine.dispose()
        raise KeyslotsDamaged(f"The key file beside {path.name} belongs to another register.")
    reg = Register(path=path, actor=SYSTEM, register_id=register_id, _engine=engine, _key=db_key)
    refused: Exception | None = None
    try:
        with reg.write() as s:
            _flush_failed_attempts(s, path)
            user = _user_of_slot(s, slots, slot.tag)
            if user is None or not user.active:
                # A slot without an active account (e.g. an old key file put back): refuse,
                # and keep the refusal in the chain.
                audit.record(s, SYSTEM, "login_failed", "user", user.id if user else None,
                             {"kind": "account revoked or unknown"})
                refused = AccountRevoked() if user is not None else WrongCredentials()
            else:
                user.last_login_at = utcnow()
                reg.actor = Actor(user.id, user.username, user.display_name, user.role)
                audit.record(s, reg.actor, via, "user", user.id)
    except BaseException:
        reg.close()
        raise
    clear_failed_attempts(path)
    if refused is not None:
        reg.close()
        raise refused
    clear_failed_attempts(path)
    return reg


def _user_of_slot(session: Session, slots: KeyslotFile, tag: str) -> UserAccount | None:
    for user in session.scalars(select(UserAccount)):
        if slots.tag_of(user.username) == tag:
            return user
    return None


def open_with_recovery_key(path: Path, recovery_key: bytes, *, as_username: str) -> Register:
    """Open with the raw key (recovery). Acts as ``as_username``, who must be an active admin
    or the account being recovered; the opening is audited as a recovery."""
    path = Path(path)
    check_register_file(path)
    db_key = bytearray(recovery_key)
    try:
        engine, register_id = _open_engine(path, db_key, None)
    except NotARegister as exc:
        raise NotARegister(f"{path.name} cannot be opened with that recovery key.") from exc
    reg = Register(path=path, actor=SYSTEM, register_id=register_id, _engine=engine, _key=db_key)
    try:
        with reg.write() as s:
            user = s.scalars(select(UserAccount).where(
                UserAccount.username == normalise_username(as_username))).first()
            if user is None:
                raise UsageError(f"There is no user '{as_username}' in this register.")
            if not user.active:
                raise AccountRevoked()
            reg.actor = Actor(user.id, user.username, user.display_name, user.role)
            _flush_failed_attempts(s, path)
            audit.record(s, reg.actor, "recovery_key_used", "user", user.id)
    except BaseException:
        reg.close()
        raise
    clear_failed_attempts(path)
    return reg


# --- failed attempts, outside the vault -------------------------------------------------------

def note_failed_attempt(path: Path, kind: str) -> None:
    """Count a failed login beside the register: time and kind only (no names, no passwords)."""
    target = files.attempts_path(path)
    data = read_failed_attempts(path)
    data["failures"].append({"at": utcnow().strftime("%Y-%m-%dT%H:%M:%SZ"), "kind": kind})
    if len(data["failures"]) > MAX_FAILED_ATTEMPTS_KEPT:
        data["dropped"] += len(data["failures"]) - MAX_FAILED_ATTEMPTS_KEPT
        data["failures"] = data["failures"][-MAX_FAILED_ATTEMPTS_KEPT:]
    with contextlib.suppress(LocationError):
        files.atomic_write(target, json.dumps(data).encode("utf-8"))


def read_failed_attempts(path: Path) -> dict:
    target = files.attempts_path(path)
    try:
        data = json.loads(target.read_text(encoding="utf-8"))
        failures = [
            {"at": str(f["at"]), "kind": str(f["kind"])}
            for f in data.get("failures", [])[-MAX_FAILED_ATTEMPTS_KEPT:]
        ]
        return {"failures": failures, "dropped": int(data.get("dropped", 0))}
    except (OSError, ValueError, TypeError, KeyError):
        return {"failures": [], "dropped": 0}


def consecutive_failures(path: Path) -> int:
    """Failed logins since the last successful one (drives the login back-off)."""
    data = read_failed_attempts(path)
    return len(data["failures"]) + data["dropped"]


def _flush_failed_attempts(session: Session, path: Path) -> None:
    data = read_failed_attempts(path)
    events = [
        audit.PendingEvent("login_failed", "register", None, {"kind": f["kind"], "at": f["at"]})
        for f in data["failures"]
    ]
    if data["dropped"]:
        events.insert(0, audit.PendingEvent("login_failed", "register", None,
                                            {"kind": "older failures not itemised", "count": data["dropped"]}))
    if events:
        audit.record_many(session, SYSTEM, events)


def clear_failed_attempts(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        files.attempts_path(path).unlink()


