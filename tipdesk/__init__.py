"""tipdesk: an encrypted, offline case register for counter-trafficking offices (core, no Qt)."""

from __future__ import annotations


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("tipdesk")
    except PackageNotFoundError:  # running from a source tree that was not installed
        import tomllib
        from pathlib import Path

        pyproject = Path(__file__).resolve().parent.parent / "pyproject.toml"
        try:
            return str(tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]["version"])
        except (OSError, KeyError, ValueError):
            return "0+unknown"


__version__ = _version()
