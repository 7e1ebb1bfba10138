"""``GET /connections/{id}/test`` and ``/explore``: offline, or against the real server.

Offline (``databases="offline"``, for tests and rehearsals with no database): a host under
the reserved ``.invalid`` TLD (RFC 2606) is unreachable and everything else works; explore
lists the tables preloaded for the connection (``tables.py``: ``POST /__emulator/tables``,
or ``provision emulator PATH...`` from the manifests' dataflows), none otherwise. Connect
mode (``databases="connect"``) opens a real PostgreSQL connection per call (``postgres.py``).

Answers follow the OpenAPI: ``/test`` is ``{"result": bool}``; when false the emulator adds
``errorMessage`` with the reason (the shape Adobe's error bodies use for a message; whether
the platform itself explains a failed test is [open]). ``/explore?objectType=root`` is a list
of ``{"type": "table", "name", "path", "canPreview", "canFetchSchema"}``, schema-qualified;
``objectType=table&object=<path>`` is ``{"format": "flat", "schema": {"columns": [...]}}``.
"""

from __future__ import annotations

from typing import Any

from provisioner.emulator.errors import JsonObject, flow_error
from provisioner.emulator.http import Request, Response
from provisioner.emulator.postgres import Prober, Target, Unreachable, target_of
from provisioner.emulator.store import MemoryStore
from provisioner.emulator.tables import OfflineTables


def psycopg_available() -> bool:
    try:
        import psycopg  # noqa: F401
    except ImportError:
        return False
    return True


class Databases:
    def __init__(
        self, mode: str, timeout_s: float, ca_file: str | None, tables: MemoryStore | None = None
    ) -> None:
        self.mode = mode
        self.tables = OfflineTables(tables if tables is not None else MemoryStore())
        if mode == "connect" and not psycopg_available():
            raise ValueError(
                "connecting to databases needs psycopg: pip install 'aep-provision[postgres]' "
                "(or run with --databases offline)"
            )
        self._prober = Prober(timeout_s, ca_file) if mode == "connect" else None

    def test(self, record: JsonObject) -> Response:
        try:
            target = target_of(record["auth"]["params"])
            if self._prober is None:
                _offline(target)
            else:
                self._prober.test(target)
        except Unreachable as problem:
            return Response(200, {"result": False, "errorMessage": str(problem)})
        return Response(200, {"result": True})

    def explore(self, record: JsonObject, request: Request) -> Response:
        object_type = (request.param("objectType") or "root").lower()
        if object_type not in ("root", "table"):
            raise flow_error(
                "1100-400",
                f"objectType '{object_type}' is not supported by PostgreSQL; use root or table.",
            )
        try:
            target = target_of(record["auth"]["params"])
            if object_type == "root":
                return Response(200, [_table(path) for path in self._tables(record, target)])
            path = request.param("object")
            if not path:
                raise flow_error("1100-400", "objectType=table needs object=<schema.table>.")
            columns = self._columns(record, target, path)
        except Unreachable as problem:
            raise flow_error("1100-400", f"Cannot explore the connection: {problem}.") from None
        if columns is None:
            raise flow_error("1101-404", f"No table '{path[:200]}' is visible to this connection.")
        return Response(200, {"format": "flat", "schema": {"columns": columns}})

    def _tables(self, record: JsonObject, target: Target) -> list[str]:
        # Tables preloaded for this connection answer in either mode: a rehearsal that
        # preloads them means them, even where psycopg makes connect mode the default.
        preloaded = self.tables.paths(record, target)
        if self._prober is None or preloaded:
            _offline(target)
            return preloaded
        return self._prober.tables(target)

    def _columns(
        self, record: JsonObject, target: Target, path: str
    ) -> list[dict[str, Any]] | None:
        if self._prober is None or self.tables.paths(record, target):
            _offline(target)
            return self.tables.columns(record, target, path)
        return self._prober.columns(target, path)


def _offline(target: Target) -> None:
    if target.host.strip().lower().rstrip(".").endswith(".invalid"):
        raise Unreachable(f"DNS: host {target.shown('Server')} not found")


def _table(path: str) -> JsonObject:
    return {"type": "table", "name": path, "path": path, "canPreview": True, "canFetchSchema": True}
