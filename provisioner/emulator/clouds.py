"""What a sandbox's cloud allows, checked on create and on patch.

Adobe documents that PostgreSQL on AWS takes basic authentication only and sends ``sslMode``
as a boolean string, while Azure takes both auth types and the ``sslMode`` enum [doc, see
flow-service-api.md "Cloud differences"]. Which error code Adobe answers for the wrong cloud's
payload is [open]: the emulator answers ``1415-400`` (auth spec not found) for an auth type the
cloud lacks and ``1100-400`` for an sslMode spelling it does not take.

A real sandbox is on one cloud. A sandbox the emulator was not told the cloud of is pinned by
its first connection whose form only one cloud takes (a connection string or an sslMode enum:
Azure; a boolean sslMode: AWS), so a rehearsal mixing both clouds' forms in one sandbox fails
as it would on Adobe. ``lenient`` keeps the older reading: both forms, never pinned.
"""

from __future__ import annotations

from typing import Any

from provisioner.emulator.errors import ApiError, JsonObject, flow_error
from provisioner.emulator.spec import POSTGRES_SPEC_ID

_AWS_AUTH = ("Basic Authentication",)
_AWS_SSL = ("true", "false")


def cloud_of_auth(auth: Any) -> str | None:
    """The only cloud that takes this (valid) auth, or None when both do."""
    if not isinstance(auth, dict):
        return None
    params = auth.get("params") if isinstance(auth.get("params"), dict) else {}
    ssl_mode = params.get("sslMode") if isinstance(params, dict) else None
    if ssl_mode in _AWS_SSL:
        return "aws"
    if auth.get("specName") not in _AWS_AUTH or ssl_mode is not None:
        return "azure"
    return None


def pinned_cloud(auths: list[Any]) -> str | None:
    """The cloud a sandbox's stored connections pin it to, if any does."""
    for auth in auths:
        cloud = cloud_of_auth(auth)
        if cloud is not None:
            return cloud
    return None


def check_cloud(cloud: str | None, sandbox: str, auth: Any, *, pinned: bool = False) -> None:
    """Refuse ``auth`` (already valid for the spec) when ``sandbox``'s cloud does not take it."""
    if cloud is None or not isinstance(auth, dict):
        return
    try:
        _check(cloud, sandbox, auth)
    except ApiError as exc:
        if pinned:
            # Say why, so a rehearsal that meant another cloud knows what to name.
            why = " (pinned by the sandbox's existing connections; name its cloud to choose)"
            message = str(exc.body["errorMessage"]) + why
            code = exc.body["type"].rsplit("FLOW-", 1)[1]
            raise flow_error(code, message) from None
        raise


def _check(cloud: str, sandbox: str, auth: JsonObject) -> None:
    spec_name = auth.get("specName")
    params = auth.get("params") if isinstance(auth.get("params"), dict) else {}
    ssl_mode = params.get("sslMode") if isinstance(params, dict) else None
    if cloud == "aws":
        if spec_name not in _AWS_AUTH:
            raise flow_error(
                "1415-400",
                f"Auth spec '{spec_name}' is not available for connection spec id "
                f"{POSTGRES_SPEC_ID} in sandbox '{sandbox}' (AWS takes Basic Authentication).",
            )
        if ssl_mode is not None and ssl_mode not in _AWS_SSL:
            raise flow_error(
                "1100-400",
                f"auth.params.sslMode must be 'true' or 'false' in sandbox '{sandbox}' (AWS).",
            )
    elif ssl_mode in _AWS_SSL:
        raise flow_error(
            "1100-400",
            f"auth.params.sslMode '{ssl_mode}' is the AWS form; sandbox '{sandbox}' is on Azure "
            "(Disable, Allow, Prefer, Require, Verify Ca, Verify Full).",
        )
