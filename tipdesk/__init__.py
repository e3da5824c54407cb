"""tipdesk: an encrypted, offline case register for counter-trafficking offices (core, no Qt)."""

from __future__ import annotations


def _version() -> str:
    # A source checkout (or editable install) reads pyproject.toml beside the package: much
    # faster than importlib.metadata, whose import alone costs ~0.15 s of every start.
    import tomllib
    from pathlib import Path

    pyproject = Path(__file__).resolve().parent.parent / "pyproject.toml"
    try:
        data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
        if data.get("project", {}).get("name") == "tipdesk":
            return str(data["project"]["version"])
    except (OSError, KeyError, ValueError):
        pass
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("tipdesk")
    except PackageNotFoundError:
        return "0+unknown"


__version__ = _version()
