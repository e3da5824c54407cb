"""Logs keep the type and place of an error, never the values in its message."""

from __future__ import annotations

import logging

from tipdesk import logs
from tipdesk.errors import UsageError


def test_foreign_exception_messages_are_not_logged():
    try:
        raise ValueError("Maria Campbell born 2001-04-05")
    except ValueError as exc:
        text = logs.describe_exception(exc)
    assert "Maria" not in text and "2001" not in text
    assert "ValueError" in text and "test_logs.py" in text


def test_own_plain_messages_are_kept():
    try:
        raise UsageError("The office code must be 2 to 10 capital letters.")
    except UsageError as exc:
        assert "office code" in logs.describe_exception(exc)


def test_configure_writes_into_the_private_settings_folder(private_settings):
    logs._configured = False
    root = logging.getLogger("tipdesk")
    before = list(root.handlers)
    try:
        path = logs.configure()
        logging.getLogger("tipdesk.test").info("opened register (%d cases)", 3)
        for h in root.handlers:
            h.flush()
        assert path is not None and path.is_relative_to(private_settings)
        assert "opened register (3 cases)" in path.read_text()
    finally:
        for h in root.handlers[len(before):]:
            h.close()
        root.handlers[:] = before
        logs._configured = False
