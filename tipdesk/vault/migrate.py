"""Schema revisions of a register, through Alembic, on a connection tipdesk has keyed.

Opening a register only reads its revision and compares it with ``REVISIONS``; Alembic itself
(slow to import) is loaded only when a register must be created or upgraded.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection

if TYPE_CHECKING:
    from alembic.config import Config

#: Every schema revision this tipdesk knows, oldest first (a test checks it against Alembic's).
REVISIONS: tuple[str, ...] = ("0001", "0002")

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"

# Tables Alembic must not compare with the models: the full-text index and its shadow tables.
UNMANAGED_TABLE_PREFIXES = ("case_search",)


def include_object(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    if type_ == "table" and name and name.startswith(UNMANAGED_TABLE_PREFIXES):
        return False
    return True


def alembic_config(extra_version_locations: list[Path] | None = None) -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    locations = [MIGRATIONS_DIR / "versions", *(extra_version_locations or [])]
    cfg.set_main_option("version_locations", " ".join(str(p) for p in locations))
    cfg.set_main_option("path_separator", "space")
    return cfg


@dataclass(frozen=True)
class SchemaState:
    current: str | None
    head: str
    known: bool  # this tipdesk knows the register's revision

    @property
    def up_to_date(self) -> bool:
        return self.current == self.head

    @property
    def too_new(self) -> bool:
        return self.current is not None and not self.known


def current_revision(conn: Connection) -> str | None:
    has_table = conn.exec_driver_sql(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'alembic_version'"
    ).scalar()
    if not has_table:
        return None
    return conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()


def schema_state(conn: Connection, revisions: tuple[str, ...] = REVISIONS) -> SchemaState:
    current = current_revision(conn)
    known = current is None or current in revisions
    return SchemaState(current=current, head=revisions[-1], known=known)


def upgrade(conn: Connection, cfg: Config | None = None) -> None:
    """Run every migration up to head on ``conn`` (inside the caller's transaction)."""
    from alembic import command

    cfg = cfg or alembic_config()
    cfg.attributes["connection"] = conn
    command.upgrade(cfg, "head")


def alembic_revisions(cfg: Config | None = None) -> tuple[str, ...]:
    """The revisions Alembic finds on disk, oldest first (for tests and extra locations)."""
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(cfg or alembic_config())
    return tuple(reversed([r.revision for r in script.walk_revisions()]))
