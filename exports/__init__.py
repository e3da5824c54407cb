"""Standardised returns and data exchange. Pure functions over registers, sessions and plain
data; no Qt. Only ``tipdesk.cli``/``tipdesk.__main__`` and ``ui`` import this package."""
