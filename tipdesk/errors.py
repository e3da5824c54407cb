"""The one exception hierarchy of tipdesk. Each error carries a plain sentence and an exit code.

The CLI prints ``str(error)`` and exits with ``error.exit_code``; the window shows the same
sentence. Messages never contain personal data.
"""

from __future__ import annotations

from dataclasses import dataclass

# Exit codes (documented in the README).
EXIT_OK = 0
EXIT_FAILED = 1  # a check or validation failed
EXIT_USAGE = 2
EXIT_CREDENTIALS = 3
EXIT_NOT_A_REGISTER = 4
EXIT_TOO_NEW = 5
EXIT_LOCATION = 6  # cannot use that place: read-only, full, network share, already exists
EXIT_PERMISSION = 7  # the acting user's role may not do this


class TipdeskError(Exception):
    """Base of every error tipdesk reports to a person."""

    exit_code = EXIT_FAILED

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class UsageError(TipdeskError):
    exit_code = EXIT_USAGE


class CredentialsError(TipdeskError):
    exit_code = EXIT_CREDENTIALS


class WrongCredentials(CredentialsError):
    """Unknown user name or wrong password: deliberately not saying which."""

    def __init__(self) -> None:
        super().__init__("The user name or password is not correct.")


class AccountRevoked(CredentialsError):
    def __init__(self) -> None:
        super().__init__(
            "This account has been revoked and can no longer open the register. "
            "Ask your administrator."
        )


class RegisterFileError(TipdeskError):
    exit_code = EXIT_NOT_A_REGISTER


class NotARegister(RegisterFileError):
    pass


class KeyslotsMissing(RegisterFileError):
    pass


class KeyslotsDamaged(RegisterFileError):
    pass


class RegisterTooNew(TipdeskError):
    exit_code = EXIT_TOO_NEW


class LocationError(TipdeskError):
    """The place cannot be used: exists already, read-only, full, or a network share."""

    exit_code = EXIT_LOCATION


class PermissionDenied(TipdeskError):
    exit_code = EXIT_PERMISSION


class RegisterLocked(TipdeskError):
    """An operation was attempted after the register was locked or closed."""


class NotFound(TipdeskError):
    exit_code = EXIT_USAGE


class ConflictError(TipdeskError):
    """Someone else changed the record since it was opened."""


@dataclass(frozen=True)
class FieldProblem:
    """One validation problem: which field, and what is wrong, in plain words."""

    field: str
    message: str


class ValidationError(TipdeskError):
    """Input that breaks a rule; carries every problem found, by field."""

    exit_code = EXIT_FAILED

    def __init__(self, problems: list[FieldProblem] | str, field: str = "") -> None:
        if isinstance(problems, str):
            problems = [FieldProblem(field, problems)]
        self.problems = list(problems)
        super().__init__(" ".join(p.message for p in self.problems))

    def by_field(self) -> dict[str, list[str]]:
        result: dict[str, list[str]] = {}
        for problem in self.problems:
            result.setdefault(problem.field, []).append(problem.message)
        return result


class CheckFailed(TipdeskError):
    """A check (integrity, audit chain, backup verification) found problems."""

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        super().__init__(message)
        self.problems = list(problems or [])


class Cancelled(TipdeskError):
    """A person cancelled a long operation; nothing half-done was kept."""


@dataclass(frozen=True)
class ReturnProblem:
    """One problem of a return file: where (sheet and cell, either may be empty) and what."""

    sheet: str
    cell: str
    message: str

    def __str__(self) -> str:
        if self.sheet and self.cell:
            return f"{self.sheet}!{self.cell}: {self.message}"
        if self.sheet:
            return f"{self.sheet}: {self.message}"
        return self.message


class InvalidReturn(TipdeskError):
    """A return file that breaks TIP-RETURN/1; carries every problem found."""

    def __init__(self, file_name: str, problems: list[ReturnProblem]) -> None:
        self.file_name = file_name
        self.problems = list(problems)
        count = len(self.problems)
        super().__init__(
            f"{file_name} is not a valid return: {count} problem{'s' if count != 1 else ''} found."
        )


class BackupDamaged(CheckFailed):
    """A backup file is cut short, altered, or not a tipdesk backup at all."""
