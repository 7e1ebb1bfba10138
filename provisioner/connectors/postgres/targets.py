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

A whole connection-string secret is secret in every piece: a target read from one shows its
fields by name (``Server=``, ``UID=``) in every message, never their values.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from provisioner import redact
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
    # Where the manifest sets TLS: `ssl`, `encryption`, or inside a connection-string secret.
    tls_key: str = "ssl"

    @property
    def from_secret(self) -> bool:
        """Read out of a whole connection-string secret: show field names, never values."""
        return self.tls_key == SECRET_TLS_KEY

    @property
    def shown_host(self) -> str:
        return "the connection string's Server=" if self.from_secret else repr(self.host)

    @property
    def shown_address(self) -> str:
        if self.from_secret:
            return "the connection string's Server= and Port="
        return f"{self.host}:{self.port}"

    @property
    def shown_user(self) -> str:
        return "the connection string's UID=" if self.from_secret else f'user "{self.user}"'

    @property
    def shown_database(self) -> str:
        if self.from_secret:
            return "the connection string's Database="
        return f'database "{self.database}"'

    @property
    def tls_setting(self) -> str:
        """The manifest key (or connection-string attribute) that sets TLS for this entry."""
        if self.from_secret:
            return "EncryptionMethod= in the connection string"
        return self.tls_key

    def tls_advice(self, mode: str) -> str:
        """How this entry asks for libpq's `mode`, in its own manifest keys."""
        if self.tls_key == "ssl":
            return f"ssl: {mode}"
        setting = "ssl" if mode in ("require", "verify-ca", "verify-full") else "none"
        if self.tls_key == "encryption":
            return f"encryption: {setting}"
        return (
            "EncryptionMethod=1 in the connection string"
            if setting == "ssl"
            else ("EncryptionMethod=0 in the connection string")
        )

    def __str__(self) -> str:
        if self.from_secret:
            return f"the connection string's target, sslmode={self.sslmode}"
        return f"{self.user}@{self.host}:{self.port}/{self.database} sslmode={self.sslmode}"


SECRET_TLS_KEY = "EncryptionMethod"


def encryption_sslmode(encryption: str, validate_certificate: bool) -> str:
    if encryption == "ssl" and validate_certificate:
        return "verify-full"
    return ENCRYPTION_SSLMODE[encryption]


def target_for(connection: DesiredConnection, secret: str) -> Target:
    """The libpq target; ``secret`` is the resolved password or connection string."""
    auth = connection.auth
    where = ""
    if isinstance(auth, BasicAuth):
        target = Target(auth.server, auth.port, auth.database, auth.username, secret, auth.ssl)
    elif isinstance(auth, ConnectionStringParts):
        mode = encryption_sslmode(auth.encryption, auth.validate_server_certificate)
        target = Target(
            auth.server, auth.port, auth.database, auth.username, secret, mode, "encryption"
        )
    else:
        assert isinstance(auth, ConnectionStringSecret)
        where = str(auth.connection_string)
        target = _from_string(secret, where)
    # libpq reads a host list, a socket folder, and a dbname that looks like a connection
    # string as options: a manifest's values are data, so those are refused, not followed.
    if any(ch in target.host for ch in "/,\\ ") or target.host.startswith("@"):
        raise TargetProblem(_not_a(target, where, "Server=", "a host name or address"))
    if "=" in target.database or "://" in target.database:
        raise TargetProblem(_not_a(target, where, "Database=", "a database name"))
    return target


def _not_a(target: Target, where: str, key: str, what: str) -> str:
    if target.from_secret:
        return (
            f"the connection string in {where} has a {key} that is not {what} (is a `;` "
            "missing after it?); fix the secret"
        )
    value = target.host if key == "Server=" else target.database
    return f"{'server' if key == 'Server=' else 'database'} {value!r} is not {what}"


def secret_pieces(text: str) -> list[str]:
    """The password inside a connection string: as secret as the whole, and an answer that
    quotes a fragment of the string may quote it alone. A value holding `=` swallowed the
    attribute after it (a missing `;`): what follows its `=` is a password as likely."""
    attrs = odbc.parse(text)
    pieces = [value for key in ("password", "pwd") if (value := attrs.get(key))]
    for value in attrs.values():
        pieces += [part.split()[0] for part in value.split("=")[1:] if part.strip()]
    return pieces


def _from_string(text: str, where: str) -> Target:
    # Every value below came out of a secret: the messages name the field and the rule it
    # breaks, never the value (a typo such as a missing `;` pulls the password into it).
    for piece in secret_pieces(text):
        redact.register_secret(piece)
    attrs = odbc.parse(text)
    missing = [key for key in ("server", "database") if not attrs.get(key)]
    if missing:
        names = " and ".join(k.capitalize() + "=" for k in missing)
        raise TargetProblem(f"the connection string in {where} has no {names}; add it")
    port = attrs.get("port", "5432")
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise TargetProblem(
            f"the connection string in {where} has a Port= that is not a port (a number from "
            "1 to 65535; is a `;` missing after it?); fix the secret"
        )
    method = _METHOD_NAMES.get(attrs.get("encryptionmethod", "0"))
    if method is None:
        raise TargetProblem(
            f"the connection string in {where} has an EncryptionMethod= that PostgreSQL does "
            "not take: 0 (none), 1 (SSL) or 6 (request SSL); fix the secret"
        )
    validate = attrs.get("validateservercertificate", "1") != "0"
    return Target(
        attrs["server"],
        int(port),
        attrs["database"],
        attrs.get("uid") or attrs.get("user") or "",
        attrs.get("password") or attrs.get("pwd") or "",
        encryption_sslmode(method, validate),
        SECRET_TLS_KEY,
    )
