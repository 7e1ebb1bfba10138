"""Where `verify --direct` connects: a desired connection and its secret as libpq parameters.

Every TLS setting a manifest can hold maps to one libpq ``sslmode`` (docs/verify.md has the
table):

- ``ssl`` (basic auth, both clouds) is already a libpq mode and is used as written. On AWS
  the platform receives only ``"true"``/``"false"``; the check uses the manifest's mode, the
  stricter reading, so ``verify-full`` on AWS still verifies the certificate here.
- ``encryption``/``validate_server_certificate`` (a connection string built from parts), and
  ``EncryptionMethod``/``ValidateServerCertificate`` inside a whole connection string:
  ``0``/none → ``disable``; ``1``/ssl → ``verify-full`` when the certificate is validated,
  else ``require``; ``6``/request-ssl → ``prefer`` (DataDirect falls back to plain text).
  DataDirect's defaults apply when a string omits them: no encryption, validation on.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from provisioner.connectors.postgres import odbc
from provisioner.connectors.postgres.auth import (
    BasicAuth,
    ConnectionStringParts,
    ConnectionStringSecret,
)
from provisioner.model import DesiredConnection

ENCRYPTION_SSLMODE = {"none": "disable", "ssl": "require", "request-ssl": "prefer"}
_METHOD_NAMES = {"0": "none", "1": "ssl", "6": "request-ssl"}


class TargetProblem(ValueError):
    """The connection cannot even be attempted; the message says what to fix."""


@dataclass(frozen=True)
class Target:
    host: str
    port: int
    database: str
    user: str
    password: str = field(repr=False)
    sslmode: str

    def __str__(self) -> str:
        return f"{self.user}@{self.host}:{self.port}/{self.database} sslmode={self.sslmode}"


def encryption_sslmode(encryption: str, validate_certificate: bool) -> str:
    if encryption == "ssl" and validate_certificate:
        return "verify-full"
    return ENCRYPTION_SSLMODE[encryption]


def target_for(connection: DesiredConnection, secret: str) -> Target:
    """The libpq target; ``secret`` is the resolved password or connection string."""
    auth = connection.auth
    if isinstance(auth, BasicAuth):
        target = Target(auth.server, auth.port, auth.database, auth.username, secret, auth.ssl)
    elif isinstance(auth, ConnectionStringParts):
        mode = encryption_sslmode(auth.encryption, auth.validate_server_certificate)
        target = Target(auth.server, auth.port, auth.database, auth.username, secret, mode)
    else:
        assert isinstance(auth, ConnectionStringSecret)
        target = _from_string(secret, str(auth.connection_string))
    # libpq reads a host list, a socket folder, and a dbname that looks like a connection
    # string as options: a manifest's values are data, so those are refused, not followed.
    if any(ch in target.host for ch in "/,\\") or target.host.startswith("@"):
        raise TargetProblem(f"server {target.host!r} is not a host name or address")
    if "=" in target.database or "://" in target.database:
        raise TargetProblem(f"database {target.database!r} is not a database name")
    return target


def _from_string(text: str, where: str) -> Target:
    attrs = odbc.parse(text)
    missing = [key for key in ("server", "database") if not attrs.get(key)]
    if missing:
        names = " and ".join(k.capitalize() + "=" for k in missing)
        raise TargetProblem(f"the connection string in {where} has no {names}; add it")
    port = attrs.get("port", "5432")
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise TargetProblem(f"the connection string in {where} has Port={port!r}, not a port")
    method = _METHOD_NAMES.get(attrs.get("encryptionmethod", "0"))
    if method is None:
        raise TargetProblem(
            f"the connection string in {where} has EncryptionMethod="
            f"{attrs['encryptionmethod']!r}; PostgreSQL takes 0 (none), 1 (SSL) or 6 (request SSL)"
        )
    validate = attrs.get("validateservercertificate", "1") != "0"
    return Target(
        attrs["server"],
        int(port),
        attrs["database"],
        attrs.get("uid") or attrs.get("user") or "",
        attrs.get("password") or attrs.get("pwd") or "",
        encryption_sslmode(method, validate),
    )
