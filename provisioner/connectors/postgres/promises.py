"""Where a manifest asks for more TLS checking than the payload can carry to the platform.

AWS takes TLS as a boolean: `verify-ca`/`verify-full` reach it as `"true"`, so the platform
encrypts and is never asked to check a certificate. A connection string built from parts
asks for `EncryptionMethod=1;ValidateServerCertificate=1`: Adobe documents a certificate
check but not whether the host name is compared, and with `request-ssl` (which falls back to
plain text) validation asks nothing. `validate` and `plan` warn about each; `verify --direct
--as-platform` connects with only what the payload asks (`platform_sslmode`).
"""

from __future__ import annotations

from provisioner.connectors.postgres.auth import BasicAuth, ConnectionStringParts
from provisioner.model import DesiredConnection


def promises(connection: DesiredConnection) -> list[str]:
    """Each way the manifest asks for more than the platform is asked to do, in words."""
    auth = connection.auth
    aws = isinstance(auth, BasicAuth) and connection.cloud == "aws"
    if aws and isinstance(auth, BasicAuth) and auth.ssl in ("verify-ca", "verify-full"):
        return [
            f'ssl: {auth.ssl} reaches AWS as sslMode "true": the platform encrypts but is '
            "never asked to verify the certificate; `verify --direct` verifies it, "
            "`verify --direct --as-platform` does what the platform does"
        ]
    if isinstance(auth, ConnectionStringParts) and auth.validate_server_certificate:
        if auth.encryption == "request-ssl":
            return [
                "validate_server_certificate with encryption: request-ssl asks nothing: "
                "request-ssl falls back to plain text, so no certificate need be shown"
            ]
        if auth.encryption == "ssl":
            return [
                "validate_server_certificate: Adobe documents a certificate check but not "
                "whether the host name is compared; `verify --direct` compares it "
                "(verify-full), `--as-platform` checks the certificate only (verify-ca)"
            ]
    return []


def platform_sslmode(connection: DesiredConnection, written: str) -> str:
    """The libpq mode for only what the payload asks; `written` is the manifest's reading."""
    auth = connection.auth
    if isinstance(auth, BasicAuth) and connection.cloud == "aws" and written != "disable":
        return "require"
    if isinstance(auth, ConnectionStringParts) and written == "verify-full":
        return "verify-ca"
    return written
