"""PostgreSQL's manifest rules a schema cannot express: per-cloud auth and TLS, values
that must not be empty or hold control characters, and what ODBC can carry."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from provisioner.connectors.postgres import odbc
from provisioner.connectors.postgres.auth import (
    BasicAuth,
    ConnectionStringParts,
    ConnectionStringSecret,
    PostgresAuth,
)
from provisioner.connectors.postgres.spec import (
    AWS_SSL,
    BASIC,
    CONNECTION_STRING,
    DEFAULT_PORT,
    DEFAULT_SSL,
)
from provisioner.model import Cloud

if TYPE_CHECKING:
    from provisioner.connectors import EntryReader

_CONTROL_OR_DEL = re.compile(r"[\x00-\x1f\x7f]")
ONE_OF_HINTS = {
    CONNECTION_STRING: (
        "give either connection_string: {env: ...} (the whole string from a secret), or "
        "server, database, username and password to build it, not both"
    )
}


def auth(auth: Mapping[str, Any], cloud: Cloud, reader: EntryReader) -> PostgresAuth | None:
    kind = auth["type"]
    if kind == CONNECTION_STRING and cloud == "aws":
        reader.fail(
            ("auth", "type"), "connection-string auth is not available on AWS; use type: basic"
        )
        return None
    ssl = auth.get("ssl", DEFAULT_SSL)
    if kind == BASIC and cloud == "aws" and ssl not in AWS_SSL:
        reader.fail(
            ("auth", "ssl"),
            f"ssl: {ssl} is not available on AWS, which only turns "
            "TLS on or off; use require, verify-ca, verify-full or disable",
        )
        return None
    if "connection_string" in auth:
        ref = reader.secret(auth["connection_string"], ("auth", "connection_string"))
        return ConnectionStringSecret(ref)
    fields = {
        key: reader.text(auth[key], ("auth", key)) for key in ("server", "database", "username")
    }
    port = reader.port(auth.get("port", DEFAULT_PORT), ("auth", "port"))
    password = reader.secret(auth["password"], ("auth", "password"))
    for key, value in fields.items():
        if not reader.failed and not value.strip():
            reader.fail(("auth", key), f"{key} renders empty")
        elif not reader.failed and _CONTROL_OR_DEL.search(value):
            # No host, database or user name holds one; in a plan it could repaint a
            # reviewer's terminal.
            reader.fail(("auth", key), f"{key} contains a control character")
    if kind == BASIC:
        return BasicAuth(port=port, password=password, ssl=ssl, **fields)
    parts = ConnectionStringParts(
        port=port,
        password=password,
        encryption=auth.get("encryption", "ssl"),
        validate_server_certificate=auth.get("validate_server_certificate", True),
        **fields,
    )
    for key, value in fields.items():
        try:
            odbc.quote(value)
        except odbc.ConnectionStringError as error:
            reader.fail(("auth", key), f"{key} {error}")
    return parts
