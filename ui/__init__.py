"""The tipdesk window (PySide6). Talks to the core only through ``tipdesk`` services."""
