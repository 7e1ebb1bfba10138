"""PostgreSQL connection strings in the DataDirect ODBC grammar the platform reads."""

from __future__ import annotations

from provisioner.model import ConnectionStringParts

ENCRYPTION_METHOD = {"none": "0", "ssl": "1", "request-ssl": "6"}

# A value must be wrapped in braces when it would otherwise end the attribute early or
# be trimmed: `;` separates attributes, `=` separates key and value, braces quote.
_SPECIAL = frozenset(";{}=")


class ConnectionStringError(ValueError):
    pass


def quote(value: str) -> str:
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
        raise ConnectionStringError("contains a control character, which ODBC cannot carry")
    if value != value.strip(" ") or any(ch in _SPECIAL for ch in value):
        return "{" + value.replace("}", "}}") + "}"
    return value


def build(parts: ConnectionStringParts, password: str) -> str:
    """Build `Server=…;Database=…;Port=…;UID=…;Password=…;EncryptionMethod=…;…`."""
    attributes = (
        ("Server", parts.server),
        ("Database", parts.database),
        ("Port", str(parts.port)),
        ("UID", parts.username),
        ("Password", password),
        ("EncryptionMethod", ENCRYPTION_METHOD[parts.encryption]),
        ("ValidateServerCertificate", "1" if parts.validate_server_certificate else "0"),
    )
    return ";".join(f"{key}={quote(value)}" for key, value in attributes)
