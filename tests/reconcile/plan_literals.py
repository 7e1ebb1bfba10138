"""Literal desired and remote connections for the pure plan and the reporters."""

from __future__ import annotations

from pathlib import Path

from provisioner.connectors.postgres.auth import BasicAuth, ConnectionStringSecret
from provisioner.connectors.postgres.spec import SPEC_ID as POSTGRES_SPEC_ID
from provisioner.errors import Location
from provisioner.model import DesiredConnection, SecretRef
from provisioner.remote.client import RemoteConnection

ORG = "0123456789ABCDEF01234567@AdobeOrg"


def desired(
    name: str,
    sandbox: str = "prod",
    *,
    cloud: str = "azure",
    description: str | None = "Orders",
    server: str = "pg.example.test",
    port: int = 5432,
    ssl: str = "verify-full",
    line: int = 10,
) -> DesiredConnection:
    where = Location("team/orders.yaml", line, 5)
    password = SecretRef("env", "ORDERS_PW", Path("team"), Location("team/orders.yaml", 16, 17))
    auth = BasicAuth(server, port, "orders", "reader", password, ssl)
    return DesiredConnection(ORG, sandbox, cloud, name, description, auth, where)  # type: ignore[arg-type]


def desired_dsn(name: str, sandbox: str = "prod", line: int = 30) -> DesiredConnection:
    ref = SecretRef("env", "DSN", Path("team"), Location("team/orders.yaml", line + 4, 26))
    where = Location("team/orders.yaml", line, 5)
    return DesiredConnection(ORG, sandbox, "azure", name, None, ConnectionStringSecret(ref), where)


def remote(
    name: str,
    id: str,
    *,
    description: str | None = "Orders",
    spec_name: str = "Basic Authentication",
    created_at: int = 1_700_000_000_000,
    **params: object,
) -> RemoteConnection:
    defaults: dict[str, object] = {
        "server": "pg.example.test",
        "port": "5432",
        "database": "orders",
        "username": "reader",
        "password": "***",
        "sslMode": "Verify Full",
    }
    if spec_name != "Basic Authentication":
        defaults = {"connectionString": "***"}
    return RemoteConnection(
        id=id,
        name=name,
        etag=f'"etag-{id}"',
        description=description,
        spec_id=POSTGRES_SPEC_ID,
        auth_spec_name=spec_name,
        params=defaults | params,
        state="enabled",
        created_at=created_at,
        created_client="client@AdobeID",
    )
