"""PostgreSQL: the Flow Service connection spec, its payloads, adoption and the direct probe.

`CONNECTOR` is what the registry (provisioner/connectors/__init__.py) lists.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from provisioner.connectors.postgres import adopt, fields, payload, promises, rules, spec
from provisioner.model import Auth, Cloud, DesiredConnection, RemoteConnection

if TYPE_CHECKING:
    from provisioner.connectors import (
        Adopted,
        DirectOptions,
        EntryReader,
        Payload,
        Probed,
        SecretLookup,
    )


class Postgres:
    name = spec.NAME
    spec_id = spec.SPEC_ID
    spec_version = spec.SPEC_VERSION
    auth_types = tuple(spec.SPEC_NAMES)
    secret_param_names = tuple(p for params in spec.SECRET_PARAMS.values() for p in params)
    one_of_hints: Mapping[str, str] = rules.ONE_OF_HINTS

    def auth(self, auth: Mapping[str, Any], cloud: Cloud, reader: EntryReader) -> Auth | None:
        return rules.auth(auth, cloud, reader)

    def render(self, connection: DesiredConnection, secret: SecretLookup) -> Payload:
        return payload.render_payload(connection, secret)

    def readable_fields(self, connection: DesiredConnection) -> dict[str, str | None]:
        return fields.readable_fields(connection)

    def observed_fields(self, remote: RemoteConnection) -> dict[str, str | None]:
        return fields.observed_fields(remote)

    def secret_params(self, connection: DesiredConnection) -> tuple[str, ...]:
        return fields.secret_params(connection)

    def destination(self, connection: DesiredConnection) -> str:
        return fields.destination(connection)

    def cloud_of(self, remote: RemoteConnection) -> Cloud | None:
        return adopt.cloud_of(remote)

    def adopt(
        self, remote: RemoteConnection, cloud: Cloud, hollow: Callable[[str], str]
    ) -> Adopted | str:
        return adopt.adopt(remote, cloud, hollow)

    def promises(self, connection: DesiredConnection) -> list[str]:
        return promises.promises(connection)

    def verify_direct(
        self, connections: Sequence[tuple[DesiredConnection, str]], options: DirectOptions
    ) -> list[Probed]:
        from provisioner.connectors.postgres import probe  # asyncio and psycopg: verify only

        return list(probe.verify_direct(connections, options))


CONNECTOR = Postgres()
