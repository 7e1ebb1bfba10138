"""Source connections and dataflows: enough of them for a base connection to be "in use".

Adobe refuses to delete a base connection its dataflows still use (FLOW-1418-400). Here a
base connection is in use when a flow of its sandbox lists a source connection whose
``baseConnectionId`` is that connection. Both kinds are created by the documented routes
(``POST /sourceConnections``, ``POST /flows``) or preloaded through the admin route
(``POST /__emulator/dataflows``), listed with the same filters and pages as connections,
and deleted with ``DELETE``; a source connection a flow uses is refused the same way.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from typing import Any

from provisioner.emulator.auth import Caller
from provisioner.emulator.connections import FLOW_PREFIX, new_etag, sandbox_id
from provisioner.emulator.errors import JsonObject, flow_error
from provisioner.emulator.http import Request, Response
from provisioner.emulator.listing import list_response
from provisioner.emulator.store import MemoryStore

# Adobe's flow spec for database sources into the data lake [doc: sources API tutorials].
DATABASE_FLOW_SPEC = {"id": "14518937-270c-4525-bdec-c2ba7cce3860", "version": "1.0"}


class Dataflows:
    def __init__(
        self,
        sources: MemoryStore,
        flows: MemoryStore,
        connections: MemoryStore,
        now_ms: Callable[[], int],
        clock: Callable[[], float],
        usage_lock: threading.Lock,
    ) -> None:
        self.sources = sources
        self.flows = flows
        self._connections = connections
        self._now_ms = now_ms
        self._clock = clock
        self.usage_lock = usage_lock

    # -- who uses what ------------------------------------------------------------------

    def users_of_connection(self, org: str, sandbox: str, conn_id: str) -> list[str]:
        """Names of the flows that read through a base connection (call with usage_lock)."""
        sources = {
            s["id"]
            for s in self.sources.in_scope((org, sandbox))
            if s.get("baseConnectionId") == conn_id
        }
        return self._flows_using(org, sandbox, sources)

    def _flows_using(self, org: str, sandbox: str, source_ids: set[str]) -> list[str]:
        return sorted(
            f"'{f['name']}' ({f['id']})"
            for f in self.flows.in_scope((org, sandbox))
            if source_ids & set(f.get("sourceConnectionIds", []))
        )

    # -- records ------------------------------------------------------------------------

    def _record(self, caller: Caller, body: JsonObject, extra: JsonObject) -> JsonObject:
        name = body.get("name")
        if not isinstance(name, str) or not name.strip():
            raise flow_error("1100-400", "name is required and must be a non-empty string.")
        description = body.get("description")
        if description is not None and not isinstance(description, str):
            raise flow_error("1100-400", "description must be a string.")
        now, etag = self._now_ms(), new_etag(self._clock)
        record: JsonObject = {
            "id": str(uuid.uuid4()),
            "name": name,
            **({"description": description} if description is not None else {}),
            **extra,
            "state": "enabled",
            "createdAt": now,
            "updatedAt": now,
            "createdBy": caller.adobe_id,
            "updatedBy": caller.adobe_id,
            "createdClient": caller.adobe_id,
            "updatedClient": caller.adobe_id,
            "sandboxId": sandbox_id(caller.org, caller.sandbox),
            "sandboxName": caller.sandbox,
            "imsOrgId": caller.org,
            "etag": etag,
            "version": etag,
        }
        return record

    def create_source(self, caller: Caller, body: Any) -> Response:
        if not isinstance(body, dict):
            raise flow_error("1100-400", "The request body must be a JSON object.")
        spec = body.get("connectionSpec")
        if not isinstance(spec, dict) or not isinstance(spec.get("id"), str):
            raise flow_error("1100-400", "connectionSpec.id is required.")
        base = body.get("baseConnectionId")
        if base is not None and (
            not isinstance(base, str)
            or self._connections.get((caller.org, caller.sandbox), base) is None
        ):
            raise flow_error("1101-404", f"No base connection with id '{base}'.")
        extra: JsonObject = {
            "baseConnectionId": base,
            "connectionSpec": {"id": spec["id"], "version": str(spec.get("version") or "1.0")},
            "params": body.get("params") if isinstance(body.get("params"), dict) else {},
        }
        record = self._record(caller, body, extra)
        self.sources.insert(record)
        return _created(record, "sourceConnections")

    def create_flow(self, caller: Caller, body: Any) -> Response:
        if not isinstance(body, dict):
            raise flow_error("1100-400", "The request body must be a JSON object.")
        spec = body.get("flowSpec")
        if not isinstance(spec, dict) or not isinstance(spec.get("id"), str):
            raise flow_error("1100-400", "flowSpec.id is required.")
        sources = body.get("sourceConnectionIds")
        targets = body.get("targetConnectionIds", [])
        if (
            not isinstance(sources, list)
            or not sources
            or not all(isinstance(s, str) for s in sources)
        ):
            raise flow_error("1100-400", "sourceConnectionIds must be a non-empty list of ids.")
        if not isinstance(targets, list) or not all(isinstance(t, str) for t in targets):
            raise flow_error("1100-400", "targetConnectionIds must be a list of ids.")
        extra: JsonObject = {
            "flowSpec": {"id": spec["id"], "version": str(spec.get("version") or "1.0")},
            "sourceConnectionIds": sources,
            "targetConnectionIds": targets,
        }
        with self.usage_lock:  # a base connection cannot be deleted while this checks it
            for source in sources:
                if self.sources.get((caller.org, caller.sandbox), source) is None:
                    raise flow_error("1101-404", f"No source connection with id '{source}'.")
            record = self._record(caller, body, extra)
            self.flows.insert(record)
        return _created(record, "flows")

    def preload(self, caller: Caller, connection_id: str, name: str) -> JsonObject:
        """A source connection on `connection_id` and a flow reading it, in one call."""
        source = self.create_source(
            caller,
            {
                "name": f"{name} source",
                "baseConnectionId": connection_id,
                "connectionSpec": {"id": "74a1c565-4e59-48d7-9d67-7c03b8a13137", "version": "1.0"},
                "params": {"tableName": "public.orders"},
            },
        ).body
        flow = self.create_flow(
            caller,
            {
                "name": name,
                "flowSpec": DATABASE_FLOW_SPEC,
                "sourceConnectionIds": [source["id"]],
                "targetConnectionIds": [],
            },
        ).body
        return {"sourceConnectionId": source["id"], "flowId": flow["id"]}

    # -- reads and deletes -----------------------------------------------------------------

    def route(
        self,
        collection: str,
        method: str,
        item_id: str | None,
        caller: Caller,
        request: Request,
        page_size: Callable[[str | None], int],
    ) -> Response:
        """Serve `/sourceConnections[/{id}]` and `/flows[/{id}]`."""
        if item_id is None and method == "POST":
            if collection == "flows":
                return self.create_flow(caller, request.json())
            return self.create_source(caller, request.json())
        if item_id is None:
            records = self.store_of(collection).in_scope((caller.org, caller.sandbox))
            return list_response(records, request, collection, page_size)
        if method == "GET":
            return self.get(collection, caller, item_id)
        return self.delete(collection, caller, item_id)

    def store_of(self, collection: str) -> MemoryStore:
        return self.sources if collection == "sourceConnections" else self.flows

    def get(self, collection: str, caller: Caller, item_id: str) -> Response:
        record = self.store_of(collection).get((caller.org, caller.sandbox), item_id)
        if record is None:
            raise flow_error("1101-404", f"No {_singular(collection)} with id '{item_id}'.")
        return Response(200, {"items": [record]})

    def delete(self, collection: str, caller: Caller, item_id: str) -> Response:
        scope = (caller.org, caller.sandbox)
        with self.usage_lock:
            if collection == "sourceConnections":
                users = self._flows_using(caller.org, caller.sandbox, {item_id})
                if users:
                    raise flow_error(
                        "1418-400",
                        f"The source connection '{item_id}' is in use by dataflow(s) "
                        f"{', '.join(users)} and cannot be deleted.",
                    )
            if not self.store_of(collection).delete(scope, item_id):
                raise flow_error("1101-404", f"No {_singular(collection)} with id '{item_id}'.")
        return Response(204)


def _singular(collection: str) -> str:
    return "source connection" if collection == "sourceConnections" else "flow"


def _created(record: JsonObject, collection: str) -> Response:
    location = f"{FLOW_PREFIX}/{collection}/{record['id']}"
    return Response(201, {"id": record["id"], "etag": record["etag"]}, {"Location": location})
