"""Offline tables: what ``/explore`` lists when no database is connected.

Offline, a connection reaches no server, so explore would list nothing and a rehearsal could
never make a source connection's columns. ``POST /__emulator/tables`` preloads a table for
the connections it names, in one of three ways:

- ``{"connectionId": "<id>"}``: one existing connection;
- ``{"host": "...", "database": "..."}``: every connection reading that database (host
  compared without case, the connection string's ``Server=``/``Database=`` included);
- ``{"org": "...", "sandbox": "...", "connectionName": "..."}``: the connection of that name,
  whenever it is created (``provision emulator PATH...`` preloads the manifests' tables so).

with ``"path": "schema.table"`` and ``"columns": [{"name", "type"}]``. A type is a PostgreSQL
type name (``text`` when absent); explore answers it as ``postgres.py`` maps a real column
(``timestamp`` → ``string`` with ``meta:xdmType`` ``date-time``). Preloading a table again
under the same key and path replaces it. Records live in the ``--state`` file with the rest.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from provisioner.emulator.errors import JsonObject
from provisioner.emulator.postgres import Target, explore_column, split_path
from provisioner.emulator.store import MemoryStore

_SCOPE = ("", "")  # one scope: a key may name no org or sandbox
_KEYS = (("connectionId",), ("host", "database"), ("org", "sandbox", "connectionName"))
# Short spellings PostgreSQL accepts for the types explore maps (information_schema's names).
_ALIASES = {
    "int": "integer",
    "int2": "smallint",
    "int4": "integer",
    "int8": "bigint",
    "bool": "boolean",
    "float4": "real",
    "float8": "double precision",
    "decimal": "numeric",
    "timestamp": "timestamp without time zone",
    "timestamptz": "timestamp with time zone",
}
MAX_COLUMNS = 1000


def _key_of(body: dict[str, Any]) -> dict[str, str]:
    given = [names for names in _KEYS if any(name in body for name in names)]
    if len(given) != 1 or not all(isinstance(body.get(n), str) and body[n] for n in given[0]):
        raise ValueError(
            "a table names its connections by connectionId, by host and database, or by org, "
            "sandbox and connectionName (non-empty strings, one way only)"
        )
    return {name: body[name] for name in given[0]}


def _columns(raw: Any) -> list[JsonObject]:
    if not isinstance(raw, list) or not 1 <= len(raw) <= MAX_COLUMNS:
        raise ValueError(f"columns must be a list of 1 to {MAX_COLUMNS} {{name, type}} objects")
    columns: list[JsonObject] = []
    for item in raw:
        name = item.get("name") if isinstance(item, dict) else None
        kind = item.get("type", "text") if isinstance(item, dict) else None
        if not isinstance(name, str) or not name or not isinstance(kind, str):
            raise ValueError("each column is {name: a non-empty string, type?: a string}")
        if any(c["name"] == name for c in columns):
            raise ValueError(f"column {name[:80]!r} is listed twice")
        normal = " ".join(kind.lower().split())
        columns.append(explore_column(name, _ALIASES.get(normal, normal)))
    return columns


def _same_table(a: str, b: str) -> bool:
    # Paths are schema-qualified; a bare name is a table of public, as postgres.py reads it.
    def parts(path: str) -> list[str]:
        names = split_path(path)
        return names if len(names) == 2 else ["public", *names]

    return parts(a) == parts(b)


class OfflineTables:
    def __init__(self, store: MemoryStore) -> None:
        self.store = store

    def preload(self, body: Any) -> JsonObject:
        """A table from ``{<key>, "path", "columns"}`` (ValueError says what is wrong)."""
        if not isinstance(body, dict):
            raise ValueError("a table is a JSON object")
        unknown = set(body) - {"path", "columns", *(n for names in _KEYS for n in names)}
        if unknown:
            raise ValueError(f"unknown field {sorted(unknown)[0][:80]!r}")
        key = _key_of(body)
        path = body.get("path")
        if not isinstance(path, str) or not path.strip() or len(path) > 1024:
            raise ValueError("path must be the table's explore path, 'schema.table'")
        record: JsonObject = {
            "id": hashlib.sha256(json.dumps([key, split_path(path)]).encode()).hexdigest()[:32],
            "imsOrgId": _SCOPE[0],
            "sandboxName": _SCOPE[1],
            **key,
            "path": path,
            "columns": _columns(body.get("columns")),
        }
        self.store.insert(record)
        return {k: v for k, v in record.items() if k not in ("imsOrgId", "sandboxName")}

    def paths(self, connection: JsonObject, target: Target) -> list[str]:
        """The tables explore lists for this connection, sorted, each once."""
        found = {r["path"] for r in self._matching(connection, target)}
        return sorted(found)

    def columns(self, connection: JsonObject, target: Target, path: str) -> list[JsonObject] | None:
        # By the most precise key first: a connection's own table before its database's.
        for record in self._matching(connection, target):
            if _same_table(record["path"], path):
                return list(record["columns"])
        return None

    def _matching(self, connection: JsonObject, target: Target) -> list[JsonObject]:
        def rank(record: JsonObject) -> int | None:
            if record.get("connectionId") == connection.get("id"):
                return 0
            if (record.get("org"), record.get("sandbox"), record.get("connectionName")) == (
                connection.get("imsOrgId"),
                connection.get("sandboxName"),
                connection.get("name"),
            ):
                return 1
            host = target.host.strip().lower().rstrip(".")
            if "host" in record and (record["host"].lower().rstrip("."), record["database"]) == (
                host,
                target.dbname,
            ):
                return 2
            return None

        chosen = self.store.matching(_SCOPE, lambda r: rank(r) is not None)
        ranked = [(n, r) for r in chosen if (n := rank(r)) is not None]
        return [record for _, record in sorted(ranked, key=lambda pair: pair[0])]
