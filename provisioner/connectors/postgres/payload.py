"""Stage 3, render: a desired connection to the Flow Service payload that creates it.

The payload text comes from a Jinja2 template per cloud and auth type kept in the package,
with every value inserted through ``tojson``; the text is parsed back and validated
against the payload schema before anything may send it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import cache
from typing import TYPE_CHECKING, Any

from provisioner import redact, schemas
from provisioner.connectors.postgres import odbc
from provisioner.connectors.postgres.auth import (
    BasicAuth,
    ConnectionStringParts,
    ConnectionStringSecret,
)
from provisioner.connectors.postgres.fields import auth_of, auth_type
from provisioner.connectors.postgres.spec import (
    AWS_SSL_ENABLED,
    AZURE_SSL_MODE,
    PAYLOAD_SCHEMAS,
    SPEC_ID,
    SPEC_VERSION,
)
from provisioner.connectors.postgres.targets import secret_pieces
from provisioner.errors import ProvisionError
from provisioner.model import DesiredConnection, SecretRef

if TYPE_CHECKING:
    import jinja2

Payload = dict[str, Any]
SecretLookup = Callable[[SecretRef], str]


@cache
def _environment() -> jinja2.Environment:
    import jinja2  # when a payload is rendered: `validate` of a plain file never needs it

    return jinja2.Environment(
        loader=jinja2.PackageLoader("provisioner.connectors.postgres", "templates"),
        undefined=jinja2.StrictUndefined,
        autoescape=False,
    )


def render_payload(connection: DesiredConnection, secret: SecretLookup) -> Payload:
    """The validated POST /connections body; `secret` supplies (or masks) secret values."""
    auth = auth_of(connection)
    values: dict[str, Any] = {
        "name": connection.name,
        "description": connection.remote_description,
        "spec_id": SPEC_ID,
        "spec_version": SPEC_VERSION,
    }
    if isinstance(auth, BasicAuth):
        values.update(
            server=auth.server,
            port=auth.port,
            database=auth.database,
            username=auth.username,
            password=secret(auth.password),
            ssl_mode=AZURE_SSL_MODE[auth.ssl],
            ssl_enabled=AWS_SSL_ENABLED.get(auth.ssl, "true"),
        )
    elif isinstance(auth, ConnectionStringSecret):
        values["connection_string"] = secret(auth.connection_string)
        # Its password alone is as secret: an answer may quote a fragment of the string.
        for piece in secret_pieces(values["connection_string"]):
            redact.register_secret(piece)
    else:
        values["connection_string"] = _built_string(connection, auth, secret)
    template = f"{connection.cloud}-{auth_type(connection)}.json.j2"
    payload: Payload = json.loads(_environment().get_template(template).render(values))
    _validate(connection, payload)
    return payload


def _built_string(
    connection: DesiredConnection, parts: ConnectionStringParts, secret: SecretLookup
) -> str:
    try:
        return odbc.build(parts, secret(parts.password))
    except odbc.ConnectionStringError as error:
        # The only unchecked part is the secret: never print it, only where it came from.
        raise ProvisionError(
            f"{parts.password.location}: the password of connection {connection.name!r} "
            f"(sandbox {connection.sandbox!r}) {error}; fix the secret {parts.password}"
        ) from None


def _validate(connection: DesiredConnection, payload: Payload) -> None:
    error = next(schemas.errors(PAYLOAD_SCHEMAS[auth_type(connection)], payload), None)
    if error is not None:
        where = "/".join(str(p) for p in error.absolute_path) or "(root)"
        raise ProvisionError(
            f"{connection.source}: the payload for connection {connection.name!r} in sandbox "
            f"{connection.sandbox!r} is invalid at {where}: {error.validator} check failed; "
            "this is a bug in provision, please report it"
        )
