"""PostgreSQL's auth records: what a manifest entry's `auth:` block becomes once validated."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from provisioner.connectors.postgres.spec import NAME
from provisioner.model import SecretRef


@dataclass(frozen=True)
class _ServerLogin:
    """A server, database and user; only the password is secret."""

    connector: ClassVar[str] = NAME

    server: str
    port: int
    database: str
    username: str
    password: SecretRef

    @property
    def secrets(self) -> tuple[SecretRef, ...]:
        return (self.password,)


@dataclass(frozen=True)
class BasicAuth(_ServerLogin):
    ssl: str


@dataclass(frozen=True)
class ConnectionStringSecret:
    """The whole connection string comes from one secret."""

    connector: ClassVar[str] = NAME

    connection_string: SecretRef

    @property
    def secrets(self) -> tuple[SecretRef, ...]:
        return (self.connection_string,)


@dataclass(frozen=True)
class ConnectionStringParts(_ServerLogin):
    """A connection string built from parts."""

    encryption: str
    validate_server_certificate: bool


PostgresAuth = BasicAuth | ConnectionStringSecret | ConnectionStringParts
