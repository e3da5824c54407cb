"""Declarative base and the column types every table shares."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from sqlalchemy import MetaData, String, Text, TypeDecorator
from sqlalchemy.orm import DeclarativeBase

# Stable constraint names, so that Alembic migrations can refer to them (SQLite batch mode).
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UtcDateTime(TypeDecorator[dt.datetime]):
    """An aware UTC timestamp stored as ISO text ``YYYY-MM-DDTHH:MM:SS.ffffffZ`` (sortable)."""

    impl = String(32)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> str | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("timestamps must be timezone-aware (UTC)")
        return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")

    def process_result_value(self, value: str | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        return dt.datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=dt.UTC)


class StrList(TypeDecorator[list[str]]):
    """An ordered list of short strings (picklist values, codes, aliases) as a JSON array."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: list[str] | tuple[str, ...] | None, dialect: Any) -> str:
        return json.dumps(list(value or ()), ensure_ascii=False, separators=(",", ":"))

    def process_result_value(self, value: str | None, dialect: Any) -> list[str]:
        return list(json.loads(value)) if value else []


class JsonDict(TypeDecorator[dict[str, Any]]):
    """A small JSON object (checklists, weights, schedules)."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: dict[str, Any] | None, dialect: Any) -> str:
        return json.dumps(value or {}, ensure_ascii=False, sort_keys=True, separators=(",", ":"))

    def process_result_value(self, value: str | None, dialect: Any) -> dict[str, Any]:
        return dict(json.loads(value)) if value else {}


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)
