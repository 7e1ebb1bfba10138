"""What a sandbox's cloud allows, checked on create and on patch.

Adobe documents that PostgreSQL on AWS takes basic authentication only and sends ``sslMode``
as a boolean string, while Azure takes both auth types and the ``sslMode`` enum [doc, see
flow-service-api.md "Cloud differences"]. Which error code Adobe answers for the wrong cloud's
payload is [open]: the emulator answers ``1415-400`` (auth spec not found) for an auth type the
cloud lacks and ``1100-400`` for an sslMode spelling it does not take. A sandbox the emulator
was not told the cloud of accepts both, as before.
"""

from __future__ import annotations

from typing import Any

from provisioner.emulator.errors import flow_error
from provisioner.emulator.spec import POSTGRES_SPEC_ID

_AWS_AUTH = ("Basic Authentication",)
_AWS_SSL = ("true", "false")


def check_cloud(cloud: str | None, sandbox: str, auth: Any) -> None:
    """Refuse ``auth`` (already valid for the spec) when ``sandbox``'s cloud does not take it."""
    if cloud is None or not isinstance(auth, dict):
        return
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
