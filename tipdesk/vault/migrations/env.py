"""Alembic environment: migrations always run on a connection tipdesk has opened and keyed."""

from __future__ import annotations

from typing import Any, Literal

from alembic import context
from sqlalchemy import TypeDecorator

import models
from tipdesk.vault.migrate import include_object



def render_item(type_: str, obj: Any, autogen_context: Any) -> str | Literal[False]:
    """Render tipdesk's column types as their storage type, so migrations never import models."""
    if type_ == "type" and isinstance(obj, TypeDecorator):
        return f"sa.{obj.impl_instance!r}"
    return False


connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("tipdesk migrations run only through tipdesk.vault.migrate")

context.configure(
    connection=connection,
    target_metadata=models.Base.metadata,
    render_as_batch=True,  # SQLite cannot ALTER most things: copy-and-move tables instead
    include_object=include_object,
    render_item=render_item,
    transaction_per_migration=False,
)
with context.begin_transaction():
    context.run_migrations()
