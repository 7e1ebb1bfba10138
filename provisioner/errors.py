"""Errors a user can cause, and the diagnostics that locate them.

Every failure meant for the user derives from ``ProvisionError``; the CLI prints its
message (one line per problem) and exits 1. Anything else is a bug.

    ProvisionError
    ├── ManifestError     invalid manifests: every located Diagnostic of the run, sorted
    ├── UsageError        bad options or environment (missing credentials, empty selection)
    ├── CredentialError   the credentials are refused: found once, before any sandbox is listed
    ├── SecretError       secrets that cannot be resolved (all of them listed)
    ├── PlanFileError     a saved plan that is unreadable or stale
    └── ApiError          the Flow Service or IMS refused or failed a request
        └── AuthError     IMS refused the client credentials
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Location:
    """A 1-based position in a manifest file."""

    file: str
    line: int
    column: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


@dataclass(frozen=True, order=True)
class Diagnostic:
    location: Location
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.location}: {self.path}: {self.message}"


class ProvisionError(Exception):
    """A failure the user can fix; its message is shown as is, without a traceback."""


class ManifestError(ProvisionError):
    def __init__(self, diagnostics: Iterable[Diagnostic]) -> None:
        self.diagnostics = sorted(set(diagnostics))
        super().__init__("\n".join(str(d) for d in self.diagnostics))


class UsageError(ProvisionError):
    pass


class CredentialError(ProvisionError):
    pass


class SecretError(ProvisionError):
    pass


class PlanFileError(ProvisionError):
    pass


class ApiError(ProvisionError):
    """A request the API refused or that failed; the message names what and where."""

    def __init__(
        self,
        message: str,
        *,
        method: str = "",
        url: str = "",
        status: int | None = None,
        code: str = "",
        retryable: bool = False,
    ) -> None:
        self.method = method
        self.url = url
        self.status = status
        self.code = code
        self.retryable = retryable
        super().__init__(message)


class AuthError(ApiError):
    pass
