"""Connectors: each source's facts behind one small Protocol, and the registry that lists them.

The core (manifests, plan, apply, verify, remote) knows a connector only through `Connector`;
`ALL` is the one place that names every connector. A new source is one package under
``provisioner/connectors/`` and one line in `ALL` (pre-commit's ``languages/`` and
``all_languages`` are the model). Nothing outside this folder names a connector's constants
or branches on its auth kinds: tests/test_connector_seam.py holds that.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from provisioner.model import Auth, Cloud, DesiredConnection, RemoteConnection, SecretRef

Payload = dict[str, Any]
SecretLookup = Callable[[SecretRef], str]
JsonPath = tuple[str | int, ...]


class EntryReader(Protocol):
    """What validation offers a connector reading one manifest entry's `auth:` block for
    one sandbox: templated text, ports and secret references, each reported at its path."""

    @property
    def failed(self) -> bool: ...

    def fail(self, path: JsonPath, message: str) -> None: ...

    def text(self, value: str, path: JsonPath) -> str: ...

    def port(self, value: int | str, path: JsonPath) -> int: ...

    def secret(self, value: Mapping[str, str], path: JsonPath) -> SecretRef: ...


@dataclass(frozen=True)
class Adopted:
    """A remote connection's `auth:` block for `provision import`, without its secret (the
    API reads secrets back masked), and where that secret's `{env: NAME}` goes."""

    auth: dict[str, Any]  # text values with the sandbox name hollowed out
    secret_key: str  # the key of the secret reference in `auth:`
    env_prefix: str  # its variable is named PREFIX_<SANDBOX>_<KEY>_SUFFIX
    env_suffix: str


@dataclass(frozen=True)
class DirectOptions:
    """How `verify --direct` connects: how many at once, each within `timeout` seconds;
    `explore` also lists the tables; `ca_file` holds the roots to trust (None: the default)."""

    parallelism: int
    timeout: float
    explore: bool
    ca_file: str | None
    as_platform: bool = False  # check only what the payload asks the platform to check


class Probed(Protocol):
    """One `verify --direct` attempt: whether it worked, why not, the tables it could see."""

    @property
    def ok(self) -> bool: ...

    @property
    def reason(self) -> str: ...

    @property
    def tables(self) -> tuple[str, ...] | None: ...


class Connector(Protocol):
    """Everything the core needs of one source (one Flow Service connection spec)."""

    name: str  # the registry key; each of its Auth records names it
    spec_id: str  # the connection spec its connections are listed by
    spec_version: str
    auth_types: tuple[str, ...]  # the manifest's `auth.type` values this connector reads
    secret_param_names: tuple[str, ...]  # auth params that may carry a secret
    # Auth type -> what to write instead, when a manifest's `auth:` block of that type
    # matches none or several of its shapes (the schema's `oneOf`).
    one_of_hints: Mapping[str, str]

    def auth(self, auth: Mapping[str, Any], cloud: Cloud, reader: EntryReader) -> Auth | None:
        """A validated manifest `auth:` block (already schema-valid) for one sandbox: the
        rules a schema cannot express; None once `reader.fail` was called."""

    def render(self, connection: DesiredConnection, secret: SecretLookup) -> Payload:
        """The validated POST /connections body; `secret` supplies (or masks) secrets."""

    def readable_fields(self, connection: DesiredConnection) -> dict[str, str | None]:
        """The auth fields the API reads back, as the payload would send them; the auth
        type first (under "auth type"), then the params by name."""

    def observed_fields(self, remote: RemoteConnection) -> dict[str, str | None]:
        """The same fields as a remote connection shows them."""

    def secret_params(self, connection: DesiredConnection) -> tuple[str, ...]:
        """The auth params carrying this connection's secret: a rotation re-sends them."""

    def destination(self, connection: DesiredConnection) -> str:
        """Where the connection points, for a reviewer (no secret)."""

    def cloud_of(self, remote: RemoteConnection) -> Cloud | None:
        """The cloud a remote connection shows it runs on, when it tells."""

    def adopt(
        self, remote: RemoteConnection, cloud: Cloud, hollow: Callable[[str], str]
    ) -> Adopted | str:
        """The manifest `auth:` of a remote connection (text through `hollow`), or why not."""

    def promises(self, connection: DesiredConnection) -> list[str]:
        """Each way the manifest asks for more than the payload asks of the platform."""

    def verify_direct(
        self, connections: Sequence[tuple[DesiredConnection, str]], options: DirectOptions
    ) -> list[Probed]:
        """Connect to each (connection, resolved secret) from this machine, in order."""


# The registry: every connector, in one line each. Imported last: a connector's modules may
# use the records above.
from provisioner.connectors import postgres  # noqa: E402

ALL: tuple[Connector, ...] = (postgres.CONNECTOR,)
DEFAULT = ALL[0]  # for a listed connection whose answer does not name its spec
_BY_NAME = {c.name: c for c in ALL}
_BY_SPEC_ID = {c.spec_id: c for c in ALL}
_BY_AUTH_TYPE = {auth_type: c for c in ALL for auth_type in c.auth_types}


def by_name(name: str) -> Connector:
    return _BY_NAME[name]


def by_spec_id(spec_id: str | None) -> Connector | None:
    return _BY_SPEC_ID.get(spec_id or "")


def of_entry(entry: Mapping[str, Any]) -> Connector:
    """The connector a (schema-valid) manifest entry is for, by its `auth.type`."""
    return _BY_AUTH_TYPE[entry["auth"]["type"]]


def of(connection: DesiredConnection) -> Connector:
    """The connector a desired connection's auth belongs to."""
    return _BY_NAME[connection.auth.connector]


def of_remote(remote: RemoteConnection) -> Connector:
    """The connector of a listed connection. Listings are asked per spec, so one whose
    answer leaves the spec out is taken as the default's."""
    return by_spec_id(remote.spec_id) or DEFAULT


def render_payload(connection: DesiredConnection, secret: SecretLookup) -> Payload:
    """The validated POST /connections body of a desired connection."""
    return of(connection).render(connection, secret)
