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

from provisioner import connectors, ownermark
from provisioner.model import DesiredConnection, RemoteConnection

PatchOp = dict[str, Any]
AUTH_TYPE = "auth type"  # the drift field of the auth kind, which PATCH cannot change
OWNER = "owner"  # the drift field of the owner mark, a trailer of the description


@dataclass(frozen=True)
class Drift:
    field: str
    desired: str | None
    observed: str | None


def readable_fields(desired: DesiredConnection) -> dict[str, str | None]:
    """The non-secret fields the API lets us read back, as the payload would send them."""
    return {"description": desired.description, **connectors.of(desired).readable_fields(desired)}


def drift_between(desired: DesiredConnection, remote: RemoteConnection) -> list[Drift]:
    # The owner mark is compared on its own, never as part of the description text.
    text, mark = ownermark.split(remote.description)
    observed: dict[str, str | None] = {
        "description": text,
        **connectors.of(desired).observed_fields(remote),
    }
    wanted_fields = readable_fields(desired)
    if mark is not None:  # the text before a mark reads back without trailing spaces
        wanted_fields["description"] = (desired.description or "").rstrip() or None
    drifts = []
    for name, wanted in wanted_fields.items():
        if (wanted or None) != (observed.get(name) or None):
            drifts.append(Drift(name, wanted, observed.get(name)))
    if desired.owner is not None and mark != desired.owner:
        drifts.append(Drift(OWNER, desired.owner, mark))
    return drifts


def not_in_place(
    drift: tuple[Drift, ...], remote: RemoteConnection, desired: DesiredConnection
) -> str | None:
    """Why PATCH cannot make this connection match, with what to do; None when it can."""
    connector = connectors.of(desired)
    wrong_spec = remote.spec_id not in (None, connector.spec_id) or remote.spec_version not in (
        None,
        connector.spec_version,
    )
    changed = [d for d in drift if d.field == AUTH_TYPE]
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


def update_ops(
    drift: tuple[Drift, ...], desired: DesiredConnection, remote: RemoteConnection
) -> list[PatchOp]:
    """JSON Patch operations for the readable fields that differ (no secret in them).

    The description is written whole, text and owner mark together: the desired owner's,
    else the mark it already carries, which an update never drops."""
    ops: list[PatchOp] = []
    if any(d.field in ("description", OWNER) for d in drift):
        mark = ownermark.owner_of(remote.description)
        value = ownermark.compose(desired.description, desired.owner or mark)
        if value is None:
            ops.append({"op": "remove", "path": "/description"})
        else:
            ops.append(
                {
                    "op": "replace" if remote.description else "add",
                    "path": "/description",
                    "value": value,
                }
            )
    for d in drift:
        if d.field in ("description", OWNER, AUTH_TYPE):
            continue  # the description above, mark included; the auth type: not_in_place()
        path = f"/auth/params/{d.field}"  # every other readable field is an auth param
        if d.desired is None:
            ops.append({"op": "remove", "path": path})
        else:
            ops.append({"op": "replace" if d.observed else "add", "path": path, "value": d.desired})
    return ops


def secret_params(desired: DesiredConnection) -> tuple[str, ...]:
    """The auth params that carry the secret: re-sent whole by a rotation."""
    return connectors.of(desired).secret_params(desired)


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
