"""PostgreSQL connection strings in the DataDirect ODBC grammar the platform reads."""

from __future__ import annotations

from provisioner.connectors.postgres.auth import ConnectionStringParts

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


def parse(text: str) -> dict[str, str]:
    """`Key=value;Key={va;lue}` to {"key": "value"} (keys lower-cased, `}}` read as `}`)."""
    found: dict[str, str] = {}
    i = 0
    while i < len(text):
        if text[i] in "; ":  # empty attributes and spaces between them
            i += 1
            continue
        eq = text.find("=", i)
        if eq < 0:
            break
        key = text[i:eq].strip().lower()
        i = eq + 1
        if text.startswith("{", i):
            value, i = [], i + 1
            while i < len(text):
                if text[i] == "}":
                    if text.startswith("}", i + 1):
                        value.append("}")
                        i += 2
                        continue
                    i += 1
                    break
                value.append(text[i])
                i += 1
            found[key] = "".join(value)
            end = text.find(";", i)
            i = len(text) if end < 0 else end + 1
        else:
            end = text.find(";", i)
            end = len(text) if end < 0 else end
            found[key] = text[i:end].strip()
            i = end + 1
    return found
