"""PostgreSQL as the Flow Service knows it: the connection spec, its auth kinds and params,
and how each cloud takes TLS. Every PostgreSQL constant lives here; nothing outside
``provisioner/connectors/`` names one (tests/test_connector_seam.py holds that)."""

from __future__ import annotations

NAME = "postgres"
TITLE = "PostgreSQL"
SPEC_ID = "74a1c565-4e59-48d7-9d67-7c03b8a13137"
SPEC_VERSION = "1.0"

BASIC = "basic"
CONNECTION_STRING = "connection-string"
# The auth kinds (the manifest's `auth.type`) and the names the Flow Service gives them.
SPEC_NAMES = {
    BASIC: "Basic Authentication",
    CONNECTION_STRING: "Connection String Based Authentication",
}
PAYLOAD_BASIC = "payload-basic.schema.json"  # in provisioner/schemas/
PAYLOAD_CONNECTION_STRING = "payload-connection-string.schema.json"
PAYLOAD_SCHEMAS = {BASIC: PAYLOAD_BASIC, CONNECTION_STRING: PAYLOAD_CONNECTION_STRING}

# The params the API reads back (compared for drift, patched in place) and the secret ones
# (read back masked: only re-sent, by a rotation).
READABLE_PARAMS = ("server", "port", "database", "username", "sslMode")
SECRET_PARAMS = {BASIC: ("password",), CONNECTION_STRING: ("connectionString",)}

DEFAULT_PORT = 5432
DEFAULT_SSL = "verify-full"

AZURE_SSL_MODE = {
    "disable": "Disable",
    "allow": "Allow",
    "prefer": "Prefer",
    "require": "Require",
    "verify-ca": "Verify Ca",
    "verify-full": "Verify Full",
}
# AWS takes TLS as a boolean sent as a string; allow/prefer are refused by validation.
AWS_SSL_ENABLED = {
    "disable": "false",
    "require": "true",
    "verify-ca": "true",
    "verify-full": "true",
}
AWS_SSL = {"require", "verify-ca", "verify-full", "disable"}
