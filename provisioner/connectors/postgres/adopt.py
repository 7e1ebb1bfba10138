"""`provision import` for PostgreSQL: a listed connection's `auth:` block, and its cloud.

Non-secret params are copied verbatim (text through the caller's `hollow`, which takes the
sandbox name out); the secret becomes an `{env: NAME}` reference named
`PG_<SANDBOX>_<KEY>_PASSWORD` for a password, `PG_<SANDBOX>_<KEY>_DSN` for a whole
connection string (docs/lifecycle.md). Anything the manifest cannot hold is a reason.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from provisioner.connectors import Adopted
from provisioner.connectors.postgres.spec import (
    AZURE_SSL_MODE,
    BASIC,
    CONNECTION_STRING,
    READABLE_PARAMS,
    SPEC_NAMES,
)
from provisioner.model import Cloud, RemoteConnection

_BASIC, _STRING = SPEC_NAMES[BASIC], SPEC_NAMES[CONNECTION_STRING]
_FROM_AZURE = {mode: ssl for ssl, mode in AZURE_SSL_MODE.items()}
# AWS only says on or off; verify-full is the manifest's default and sends "true" too.
_FROM_AWS = {"true": "verify-full", "false": "disable"}
_ENV_PREFIX = "PG"


def cloud_of(item: RemoteConnection) -> Cloud | None:
    """AWS sends sslMode "true"/"false", Azure an enum or a connection string."""
    mode = item.params.get("sslMode")
    if item.auth_spec_name == _STRING or mode in _FROM_AZURE:
        return "azure"
    if mode in _FROM_AWS:
        return "aws"
    return None


def adopt(item: RemoteConnection, cloud: Cloud, hollow: Callable[[str], str]) -> Adopted | str:
    if item.auth_spec_name == _STRING:
        if cloud == "aws":
            return "a connection string connection in an AWS sandbox (AWS takes basic only)"
        return Adopted({"type": CONNECTION_STRING}, "connection_string", _ENV_PREFIX, "DSN")
    if item.auth_spec_name != _BASIC:
        return f"auth type {item.auth_spec_name!r} is not one provision manages"
    params = {k: item.params.get(k) for k in READABLE_PARAMS}
    if not all(isinstance(v, str) and v.strip() for v in params.values()):
        return "a basic connection without server, port, database, username or sslMode"
    text = {k: str(v) for k, v in params.items()}
    if any(_control(v) for v in text.values()):
        return "server, database or username holds a control character (C0 or DEL)"
    port = text["port"]
    if not re.fullmatch(r"[1-9][0-9]{0,4}", port) or int(port) > 65535:
        return f"port {port!r} is not a number from 1 to 65535"
    ssl = (_FROM_AWS if cloud == "aws" else _FROM_AZURE).get(text["sslMode"])
    if ssl is None:
        return f"sslMode {text['sslMode']!r} is not one {cloud} takes"
    auth = {
        "type": BASIC,
        "server": hollow(text["server"]),
        "port": int(port),
        "database": hollow(text["database"]),
        "username": hollow(text["username"]),
        "ssl": ssl,
    }
    return Adopted(auth, "password", _ENV_PREFIX, "PASSWORD")


def _control(text: str) -> bool:
    # What rules.py refuses in these fields (C0 and DEL); anything else YAML's escapes carry.
    return any(ord(ch) < 32 or ch == "\x7f" for ch in text)
