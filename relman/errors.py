"""One exception tree for the whole of relman.

Every error carries a one-line, human-readable message that names what failed and why, and
the exit status the command line reports for it. Messages never contain secrets.
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2


class RelmanError(Exception):
    """Base of every error relman raises on purpose."""

    exit_code = EXIT_USAGE

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class UsageError(RelmanError):
    """The operator asked for something that cannot be done as asked (exit 2)."""


class InputError(RelmanError):
    """An input cannot be read as what it claims to be (exit 2)."""


class ChecksumListError(InputError):
    """A checksum list or sidecar is malformed."""

    def __init__(self, source: str, reason: str, line: int | None = None) -> None:
        where = f"{source}, line {line}" if line is not None else source
        super().__init__(f"{where}: {reason}")
        self.source = source
        self.line = line
        self.reason = reason


class VerificationError(RelmanError):
    """Data that does not verify (exit 1)."""

    exit_code = EXIT_FAILED


class Cancelled(RelmanError):
    """The operation was cancelled through its cancel token."""

    exit_code = EXIT_FAILED

    def __init__(self, message: str = "cancelled") -> None:
        super().__init__(message)
