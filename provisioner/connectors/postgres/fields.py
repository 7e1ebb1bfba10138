"""What a PostgreSQL connection shows of itself: the fields the API reads back (compared
for drift), the params that carry its secret, and where it points."""

from __future__ import annotations

from provisioner.connectors.postgres.auth import BasicAuth, ConnectionStringSecret, PostgresAuth
from provisioner.connectors.postgres.spec import (
    AWS_SSL_ENABLED,
    AZURE_SSL_MODE,
    BASIC,
    CONNECTION_STRING,
    READABLE_PARAMS,
    SECRET_PARAMS,
    SPEC_NAMES,
)
from provisioner.model import DesiredConnection, RemoteConnection


def auth_of(connection: DesiredConnection) -> PostgresAuth:
    auth = connection.auth
    assert isinstance(auth, PostgresAuth), auth  # the registry sends only ours here
    return auth


def auth_type(connection: DesiredConnection) -> str:
    return BASIC if isinstance(connection.auth, BasicAuth) else CONNECTION_STRING


def readable_fields(connection: DesiredConnection) -> dict[str, str | None]:
    fields: dict[str, str | None] = {"auth type": SPEC_NAMES[auth_type(connection)]}
    auth = auth_of(connection)
    if isinstance(auth, BasicAuth):
        ssl = AZURE_SSL_MODE[auth.ssl] if connection.cloud == "azure" else AWS_SSL_ENABLED[auth.ssl]
        fields.update(
            server=auth.server,
            port=str(auth.port),
            database=auth.database,
            username=auth.username,
            sslMode=ssl,
        )
    return fields


def observed_fields(remote: RemoteConnection) -> dict[str, str | None]:
    observed: dict[str, str | None] = {"auth type": remote.auth_spec_name}
    for name in READABLE_PARAMS:
        value = remote.params.get(name)
        observed[name] = None if value is None else str(value)
    return observed


def secret_params(connection: DesiredConnection) -> tuple[str, ...]:
    return SECRET_PARAMS[auth_type(connection)]


def destination(connection: DesiredConnection) -> str:
    """user@host:port/database and TLS, or where the whole connection string comes from."""
    auth = auth_of(connection)
    if isinstance(auth, ConnectionStringSecret):
        return f"connection string from {auth.connection_string}"
    where = f"{auth.username}@{auth.server}:{auth.port}/{auth.database}"
    if isinstance(auth, BasicAuth):
        return f"{where} ssl={auth.ssl}"
    tls = "verified" if auth.validate_server_certificate else "not verified"
    return f"{where} encryption={auth.encryption}, certificate {tls}"
