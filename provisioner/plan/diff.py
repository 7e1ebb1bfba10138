"""What differs between a manifest entry and its remote connection, and the JSON Patch
that closes the difference. Pure: the plan calls it with literal values.

Only fields the API lets us read back are compared (description, auth type, and the basic
params); secret params come back masked, so a secret can only be re-sent (rotation), never
compared. The auth type and the connection spec cannot be changed by PATCH (the Flow
Service documents `/name`, `/description` and `/auth/params` as patchable, and refuses a
`connectionSpec` change with FLOW-1414-400): such a difference is reported with what the
user must do instead, never turned into a delete and a create.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from provisioner.connectors.postgres.auth import BasicAuth
from provisioner.connectors.postgres.payload import auth_type
from provisioner.connectors.postgres.spec import AWS_SSL_ENABLED, AZURE_SSL_MODE, SPEC_NAMES
from provisioner.connectors.postgres.spec import SPEC_ID as POSTGRES_SPEC_ID
from provisioner.connectors.postgres.spec import SPEC_VERSION as POSTGRES_SPEC_VERSION
from provisioner.model import DesiredConnection, RemoteConnection

PatchOp = dict[str, Any]
BASIC_PARAMS = ("server", "port", "database", "username", "sslMode")


@dataclass(frozen=True)
class Drift:
    field: str
    desired: str | None
    observed: str | None


def readable_fields(desired: DesiredConnection) -> dict[str, str | None]:
    """The non-secret fields the API lets us read back, as the payload would send them."""
    fields: dict[str, str | None] = {
        "description": desired.description,
        "auth type": SPEC_NAMES[auth_type(desired)],
    }
    auth = desired.auth
    if isinstance(auth, BasicAuth):
        ssl = AZURE_SSL_MODE[auth.ssl] if desired.cloud == "azure" else AWS_SSL_ENABLED[auth.ssl]
        fields.update(
            server=auth.server,
            port=str(auth.port),
            database=auth.database,
            username=auth.username,
            sslMode=ssl,
        )
    return fields


def drift_between(desired: DesiredConnection, remote: RemoteConnection) -> list[Drift]:
    observed: dict[str, str | None] = {
        "description": remote.description or None,
        "auth type": remote.auth_spec_name,
    }
    for name in BASIC_PARAMS:
        value = remote.params.get(name)
        observed[name] = None if value is None else str(value)
    drifts = []
    for name, wanted in readable_fields(desired).items():
        if (wanted or None) != (observed.get(name) or None):
            drifts.append(Drift(name, wanted, observed.get(name)))
    return drifts


def not_in_place(drift: tuple[Drift, ...], remote: RemoteConnection) -> str | None:
    """Why PATCH cannot make this connection match, with what to do; None when it can."""
    wrong_spec = remote.spec_id not in (None, POSTGRES_SPEC_ID) or remote.spec_version not in (
        None,
        POSTGRES_SPEC_VERSION,
    )
    changed = [d for d in drift if d.field == "auth type"]
    if not wrong_spec and not changed:
        return None
    what = (
        f"connection spec {remote.spec_id} version {remote.spec_version}"
        if wrong_spec
        else f"auth type {changed[0].observed!r} -> {changed[0].desired!r}"
    )
    return (
        f"the API cannot change the {what} in place; create the new connection under "
        f"another name and move its dataflows, or delete {remote.id} by hand (its dataflows "
        "first) and apply again"
    )


def update_ops(drift: tuple[Drift, ...]) -> list[PatchOp]:
    """JSON Patch operations for the readable fields that differ (no secret in them)."""
    ops: list[PatchOp] = []
    for d in drift:
        if d.field == "description":
            path = "/description"
        elif d.field in BASIC_PARAMS:
            path = f"/auth/params/{d.field}"
        else:
            continue  # the auth type: not_in_place() reports it
        if d.desired is None:
            ops.append({"op": "remove", "path": path})
        else:
            ops.append({"op": "replace" if d.observed else "add", "path": path, "value": d.desired})
    return ops


def secret_params(desired: DesiredConnection) -> tuple[str, ...]:
    """The auth params that carry the secret: re-sent whole by a rotation."""
    return ("password",) if isinstance(desired.auth, BasicAuth) else ("connectionString",)


def rotate_ops(
    desired: DesiredConnection, remote: RemoteConnection, params: dict[str, Any]
) -> list[PatchOp]:
    """Operations re-sending the secret params, taken from a rendered payload's params
    (masked in a plan, real at apply)."""
    return [
        {
            "op": "replace" if key in remote.params else "add",
            "path": f"/auth/params/{key}",
            "value": params[key],
        }
        for key in secret_params(desired)
    ]
