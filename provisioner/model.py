"""Frozen records passed between stages: what the manifests ask for, what the API has."""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Protocol

from provisioner import ownermark
from provisioner.errors import Location

Cloud = Literal["azure", "aws"]
Identity = tuple[str, str, str]  # (org, sandbox, rendered name)


@dataclass(frozen=True)
class SecretRef:
    """Where a secret lives: an environment variable, or a file beside the manifest."""

    kind: Literal["env", "file"]
    name: str
    base_dir: Path
    location: Location

    def __str__(self) -> str:
        return f"{{{self.kind}: {self.name}}}"


class Auth(Protocol):
    """A validated `auth:` block. Each connector (provisioner/connectors/) defines its own
    records; the core reads only which connector owns one and which secrets it names."""

    @property
    def connector(self) -> str: ...

    @property
    def secrets(self) -> tuple[SecretRef, ...]: ...


@dataclass(frozen=True)
class DesiredConnection:
    org: str
    sandbox: str
    cloud: Cloud
    name: str
    description: str | None
    auth: Auth
    source: Location
    # The `prune: {owner: ...}` of its file: marked on the remote connection (ownermark.py).
    owner: str | None = None

    @property
    def identity(self) -> Identity:
        return (self.org, self.sandbox, self.name)

    @property
    def remote_description(self) -> str | None:
        """The description as sent: the manifest's text and the owner mark."""
        return ownermark.compose(self.description, self.owner)

    @property
    def secrets(self) -> tuple[SecretRef, ...]:
        return self.auth.secrets


@dataclass(frozen=True)
class RemoteConnection:
    """One connection as the Flow Service lists it (secret params come back masked)."""

    id: str
    name: str
    etag: str
    description: str | None
    spec_id: str | None
    auth_spec_name: str | None
    params: Mapping[str, object] = field(hash=False)
    state: str | None
    created_at: int | None  # epoch milliseconds
    created_client: str | None
    spec_version: str | None = None


@dataclass(frozen=True)
class CreatedConnection:
    id: str
    etag: str


@dataclass(frozen=True)
class PruneRule:
    """A manifest's claim on remote names in one of its sandboxes (its `prune:` block).

    `apply --prune` may delete a remote connection only inside such a claim, only when it
    carries the claim's owner mark, and only when no manifest declares it: a connection
    nobody claims, or another owner's, is never touched.
    """

    org: str
    sandbox: str
    cloud: Cloud
    patterns: tuple[str, ...]
    source: Location
    owner: str = ""  # validation requires one; an empty owner matches no mark

    def owns(self, name: str) -> str | None:
        """The first pattern that matches `name`, or None."""
        return next((p for p in self.patterns if fnmatch.fnmatchcase(name, p)), None)


@dataclass(frozen=True)
class ConnectionTest:
    """What ``GET /connections/{id}/test`` said; ``reason`` only when it failed."""

    ok: bool
    reason: str = ""
