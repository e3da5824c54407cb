"""SQLAlchemy engines over SQLCipher 4 with a raw 256-bit key.

The key is given to SQLCipher by the ``creator`` function, before any other statement, as
``PRAGMA key = "x'<64 hex>'"`` built from bytes we generated and validated — never from user
text. The stock pysqlcipher dialect would issue a second, empty ``PRAGMA key`` after connecting;
our dialect subclass leaves keying to the creator. A small ``QueuePool`` keeps a few keyed
connections between units of work: opening one (key, pragmas, schema) and warming its page cache
(every page read is a decryption) would otherwise cost more than most list queries. A pooled
connection serves one thread at a time (never ``SingletonThreadPool``), and ``Register.lock``
disposes the engine, so no connection — and no decrypted page — outlives a lock.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import sqlcipher3
from sqlalchemy import Engine, create_engine, event, pool
from sqlalchemy.dialects import registry
from sqlalchemy.dialects.sqlite.pysqlcipher import SQLiteDialect_pysqlcipher
from sqlalchemy.dialects.sqlite.pysqlite import SQLiteDialect_pysqlite

from tipdesk.errors import RegisterLocked

_RAW_KEY = re.compile(r"^[0-9a-f]{64}$")
BUSY_TIMEOUT_SECONDS = 30


class KeyedSQLCipherDialect(SQLiteDialect_pysqlcipher):
    """pysqlcipher without its own ``PRAGMA key``: our creator has keyed the connection."""

    supports_statement_cache = True

    def on_connect_url(self, url: Any) -> Callable[[Any], None] | None:
        return SQLiteDialect_pysqlite.on_connect_url(self, url)

    @classmethod
    def get_pool_class(cls, url: Any) -> type[pool.Pool]:
        return pool.QueuePool


registry.register("sqlite.tipdeskcipher", __name__, "KeyedSQLCipherDialect")


def key_pragma(key: bytes | bytearray) -> str:
    hex_key = bytes(key).hex()
    if not _RAW_KEY.match(hex_key):
        raise ValueError("a register key is exactly 32 bytes")
    return f"PRAGMA key = \"x'{hex_key}'\""


def connect_raw(path: Path, key: bytes | bytearray) -> sqlcipher3.Connection:
    """A keyed, checked DB-API connection with tipdesk's pragmas. Raises on a wrong key."""
    conn = sqlcipher3.connect(
        str(path), isolation_level=None, check_same_thread=False, timeout=BUSY_TIMEOUT_SECONDS
    )
    try:
        conn.execute(key_pragma(key))
        conn.execute("PRAGMA cipher_log_level = NONE")
        # Reading the schema is the first access: a wrong key fails here.
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("PRAGMA synchronous = FULL")
        conn.execute("PRAGMA temp_store = MEMORY")  # no unencrypted temp files
        conn.execute("PRAGMA secure_delete = ON")  # deleted personal data is overwritten
    except BaseException:
        conn.close()
        raise
    return conn


def ensure_wal(conn: sqlcipher3.Connection) -> None:
    """Switch the file to write-ahead logging (persistent: done once per file)."""
    mode = conn.execute("PRAGMA journal_mode").fetchone()[0]
    if str(mode).lower() != "wal":
        conn.execute("PRAGMA journal_mode = WAL").fetchone()


def make_engine(path: Path, key: bytearray) -> Engine:
    """An engine whose connections are keyed with ``key`` (a bytearray the caller may zero).

    Once the caller zeroes ``key`` (lock), every new connection attempt raises
    ``RegisterLocked``.
    """

    def creator() -> sqlcipher3.Connection:
        if not any(key):
            raise RegisterLocked("The register is locked.")
        return connect_raw(path, key)

    engine = create_engine(
        "sqlite+tipdeskcipher://",
        creator=creator,
        poolclass=pool.QueuePool,
        pool_size=2,  # the window's thread and one background operation
        max_overflow=6,
        hide_parameters=True,  # SQL parameters may hold personal data: keep them out of errors
    )

    @event.listens_for(engine, "begin")
    def _begin(conn: Any) -> None:
        # Writers take the write lock up front, so two writers never deadlock upgrading.
        immediate = conn.get_execution_options().get("tipdesk_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine
