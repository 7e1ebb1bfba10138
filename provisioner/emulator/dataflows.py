"""Dataflows end to end: the Flow Service collections beside connections, Data Prep and Catalog.

This module wires the stores and serves the routes; the rules live beside it (``sources.py``,
``flows.py``, ``flow_patch.py``, ``flow_checks.py``, ``runs.py``, ``mappingsets.py``,
``catalog.py``). It also answers who uses a base connection: a flow whose source connection
reads through it, so deleting that connection is FLOW-1418-400; a source or target connection
a flow names cannot be deleted either (FLOW-1447-400, or allowed by option).
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable

from provisioner.emulator.auth import Caller
from provisioner.emulator.catalog import Catalog
from provisioner.emulator.dataflow_options import DataflowOptions
from provisioner.emulator.errors import JsonObject, flow_error
from provisioner.emulator.flows import Flows
from provisioner.emulator.flowspecs import FLOW_SPEC_ID, FLOW_SPEC_VERSION, flow_specs
from provisioner.emulator.http import Request, Response
from provisioner.emulator.listing import PageSize, list_response
from provisioner.emulator.mappingsets import MappingSets
from provisioner.emulator.resources import body_object, public, require
from provisioner.emulator.runs import Runs
from provisioner.emulator.sources import DATA_LAKE_SPEC_ID, SCHEMA_VERSIONS, Connectors
from provisioner.emulator.spec import POSTGRES_SPEC_ID
from provisioner.emulator.store import MemoryStore

# Adobe's flow spec for database sources into the data lake [doc: sources API tutorials].
DATABASE_FLOW_SPEC = {"id": FLOW_SPEC_ID, "version": FLOW_SPEC_VERSION}
TABLES = ("source_connections", "target_connections", "flows", "runs", "mapping_sets", "datasets")
_WHAT = {
    "sourceConnections": "source connection",
    "targetConnections": "target connection",
    "flows": "flow",
}


class Dataflows:
    def __init__(
        self,
        stores: dict[str, MemoryStore],
        connections: MemoryStore,
        options: DataflowOptions,
        now_ms: Callable[[], int],
        clock: Callable[[], float],
        usage_lock: threading.Lock,
        lenient: bool,
    ) -> None:
        self.stores = stores
        self.options = options
        self.usage_lock = usage_lock
        self._lenient = lenient
        current = lambda: self.options  # noqa: E731 - options may change while serving
        self.catalog = Catalog(stores["datasets"], now_ms)
        self.mapping_sets = MappingSets(stores["mapping_sets"], now_ms, current, lenient)
        self.connectors = Connectors(
            stores["source_connections"],
            stores["target_connections"],
            connections,
            self.catalog,
            current,
            now_ms,
            clock,
            lenient,
        )
        self.flows = Flows(
            stores["flows"],
            stores["source_connections"],
            stores["target_connections"],
            self.mapping_sets,
            current,
            now_ms,
            clock,
            usage_lock,
            lenient,
        )
        self.runs = Runs(stores["runs"], stores["flows"], clock)
        self._clock = clock

    # -- who uses what ------------------------------------------------------------------

    def users_of_connection(self, org: str, sandbox: str, conn_id: str) -> list[str]:
        """Names of the flows that read through a base connection (call with usage_lock)."""
        sources = {
            s["id"]
            for s in self.stores["source_connections"].in_scope((org, sandbox))
            if s.get("baseConnectionId") == conn_id
        }
        return sorted(
            f"'{f['name']}' ({f['id']})"
            for f in self.stores["flows"].in_scope((org, sandbox))
            if sources & set(f.get("sourceConnectionIds", []))
        )

    # -- views --------------------------------------------------------------------------

    def flow_view(self, caller: Caller, flow_id: str) -> JsonObject | None:
        record = self.flows.settle(caller, flow_id)
        if record is None:
            return None
        details = self.runs.last_run_details(record)
        view = {**public(record), **({"lastRunDetails": details} if details else {})}
        if self.options.schedule_echo == "openapi":
            schedule = dict(view["scheduleParams"])
            schedule["startTime"] = int(schedule["startTime"])
            if "backfill" in schedule:
                schedule["backfill"] = schedule["backfill"] == "true"
            view["scheduleParams"] = schedule
        return view

    def _records(self, collection: str, caller: Caller) -> list[JsonObject]:
        if collection == "runs":
            return self.runs.in_scope(caller)
        if collection == "flows":
            ids = [f["id"] for f in self.stores["flows"].in_scope((caller.org, caller.sandbox))]
            return [v for v in (self.flow_view(caller, i) for i in ids) if v is not None]
        return [
            public(r)
            for r in self.connectors.store_of(collection).in_scope((caller.org, caller.sandbox))
        ]

    # -- routes -------------------------------------------------------------------------

    def route(
        self,
        collection: str,
        method: str,
        item_id: str | None,
        action: bool,
        caller: Caller,
        request: Request,
        page_size: PageSize,
    ) -> Response:
        """Serve ``/sourceConnections``, ``/targetConnections``, ``/flows``, ``/flowSpecs``,
        ``/runs`` and their ``/{id}`` (and ``/flows/{id}/action``)."""
        if collection == "flowSpecs":
            return flow_specs(item_id, request, page_size, self._lenient)
        if item_id is None:
            if method == "POST":
                return self._create(collection, caller, body_object(request))
            records = self._records(collection, caller)
            return list_response(records, request, collection, page_size, lenient=self._lenient)
        if action:
            return self.flows.action(caller, item_id, request)
        if method == "GET":
            return Response(200, {"items": [self._one(collection, caller, item_id)]})
        if method == "PATCH":
            if collection == "flows":
                return self.flows.patch(caller, item_id, request)
            return self.connectors.patch(collection, caller, item_id, request)
        return self._delete(collection, caller, item_id)

    def _create(self, collection: str, caller: Caller, body: JsonObject) -> Response:
        if collection == "flows":
            return self.flows.create(caller, body)
        if collection == "sourceConnections":
            return self.connectors.create_source(caller, body)
        return self.connectors.create_target(caller, body)

    def _one(self, collection: str, caller: Caller, item_id: str) -> JsonObject:
        if collection == "runs":
            return self.runs.get(caller, item_id)
        if collection == "flows":
            view = self.flow_view(caller, item_id)
            if view is None:
                raise flow_error("1101-404", f"No flow with id '{item_id[:80]}'.")
            return view
        store = self.connectors.store_of(collection)
        return public(require(store, caller, item_id, _WHAT[collection]))

    def _delete(self, collection: str, caller: Caller, item_id: str) -> Response:
        scope = (caller.org, caller.sandbox)
        store = (
            self.stores["flows"] if collection == "flows" else self.connectors.store_of(collection)
        )
        with self.usage_lock:
            if collection != "flows" and self.options.in_use_delete == "refused":
                key = (
                    "sourceConnectionIds"
                    if collection == "sourceConnections"
                    else ("targetConnectionIds")
                )
                users = [f["id"] for f in self.stores["flows"].in_scope(scope) if item_id in f[key]]
                if users:
                    raise flow_error(
                        "1447-400",
                        f"Found active flows containing id {item_id}: {', '.join(users)}.",
                    )
            if not store.delete(scope, item_id):
                raise flow_error("1101-404", f"No {_WHAT[collection]} with id '{item_id[:80]}'.")
            if collection == "flows":  # its runs go with it; nothing else does
                for run in self.stores["runs"].in_scope(scope):
                    if run["flowId"] == item_id:
                        self.stores["runs"].delete(scope, run["id"])
        return Response(204)

    # -- rehearsal preload --------------------------------------------------------------

    def preload(self, caller: Caller, connection_id: str, name: str) -> JsonObject:
        """A whole chain on ``connection_id`` (dataset, source, target, mapping set, flow),
        through the same checks as the API."""
        schema = f"https://ns.adobe.com/emulator/schemas/{secrets.token_hex(20)}"
        dataset = self.catalog.preload(
            caller.org, caller.sandbox, {"name": f"{name} dataset", "schemaId": schema}
        )
        source = self.connectors.create_source(
            caller,
            {
                "name": f"{name} source",
                "baseConnectionId": connection_id,
                "data": {"format": "tabular"},
                "params": {
                    "tableName": "public.orders",
                    "columns": [{"name": "id", "type": "integer", "xdm": {"type": "integer"}}],
                },
                "connectionSpec": {"id": POSTGRES_SPEC_ID, "version": "1.0"},
            },
        ).body
        target = self.connectors.create_target(
            caller,
            {
                "name": f"{name} target",
                "data": {"schema": {"id": schema, "version": SCHEMA_VERSIONS["major-only"][0]}},
                "params": {"dataSetId": dataset["id"]},
                "connectionSpec": {"id": DATA_LAKE_SPEC_ID, "version": "1.0"},
            },
        ).body
        mapping = self.mapping_sets.create(
            caller,
            {
                "outputSchema": {
                    "schemaRef": {
                        "id": schema,
                        "contentType": "application/vnd.adobe.xed-full+json;version=1",
                    }
                },
                "mappings": [{"sourceType": "ATTRIBUTE", "source": "id", "destination": "_id"}],
            },
        )
        flow = self.flows.create(
            caller,
            {
                "name": name,
                "flowSpec": DATABASE_FLOW_SPEC,
                "sourceConnectionIds": [source["id"]],
                "targetConnectionIds": [target["id"]],
                "transformations": [
                    {"name": "Copy", "params": {"deltaColumn": {"name": "updated_at"}}},
                    {
                        "name": "Mapping",
                        "params": {"mappingId": mapping["id"], "mappingVersion": "0"},
                    },
                ],
                "scheduleParams": {
                    "startTime": str(int(self._clock())),
                    "frequency": "hour",
                    "interval": "15" if self.options.min_interval_other == 15 else "1",
                },
            },
        ).body
        return {
            "sourceConnectionId": source["id"],
            "targetConnectionId": target["id"],
            "dataSetId": dataset["id"],
            "mappingSetId": mapping["id"],
            "flowId": flow["id"],
        }
