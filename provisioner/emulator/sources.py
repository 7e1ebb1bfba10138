"""Source and target connections: a table of a PostgreSQL base connection, and a dataset.

Create checks follow the database tutorial [doc DB-DF, TPL] and the OpenAPI's required fields:
a source connection names an existing PostgreSQL base connection, ``data.format: tabular``,
``params.tableName`` (``schema.table``, as explore shows it) and its ``columns``; a target
connection names the data lake spec (``c604ff05…``), the dataset's XDM schema and a dataset
that exists in Catalog with that schema (FLOW-1425-400 otherwise). PATCH takes /name and
/description only: Adobe says other changes are not reflected in the dataflow and asks for
a new source, target and flow instead [doc UPD]. A connection a flow uses cannot be deleted
(FLOW-1447-400, or allowed by option).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from provisioner.emulator.auth import Caller
from provisioner.emulator.catalog import Catalog
from provisioner.emulator.dataflow_options import DataflowOptions
from provisioner.emulator.errors import JsonObject, flow_error
from provisioner.emulator.fields import SOURCE_BODY, TARGET_BODY, check_keys
from provisioner.emulator.http import Request, Response
from provisioner.emulator.resources import (
    check_etag,
    created,
    if_match,
    new_record,
    patch_ops,
    patch_text,
    public,
    require,
    text,
    touched,
)
from provisioner.emulator.spec import POSTGRES_SPEC_ID
from provisioner.emulator.store import MemoryStore

DATA_LAKE_SPEC_ID = "c604ff05-7f1a-43c0-8e18-33bf874cb11c"
SPEC_VERSION = "1.0"
SCHEMA_VERSIONS = {
    # "must be set" to this, meaning the latest minor [doc DB-DF]
    "major-only": ("application/vnd.adobe.xed-full+json;version=1",),
    # also what other tutorials, aepp and the OpenAPI example send
    "any": tuple(
        f"application/vnd.adobe.xed-full+json;version={v}" for v in ("1", "1.0", "1.1", "1.2")
    ),
}


def check_spec(spec: Any, expected: str, what: str) -> JsonObject:
    if not isinstance(spec, dict) or not all(
        isinstance(spec.get(k), str) for k in ("id", "version")
    ):
        raise flow_error("1100-400", "connectionSpec needs string id and version.")
    if spec["id"] != expected or spec["version"] != SPEC_VERSION:
        raise flow_error(
            "1413-400",
            f"The provided spec ID is invalid for a {what}: expected {expected} version "
            f"{SPEC_VERSION}.",
        )
    return {"id": spec["id"], "version": spec["version"]}


class Connectors:
    """The source and target connection routes."""

    def __init__(
        self,
        sources: MemoryStore,
        targets: MemoryStore,
        connections: MemoryStore,
        catalog: Catalog,
        options: Callable[[], DataflowOptions],
        now_ms: Callable[[], int],
        clock: Callable[[], float],
        lenient: bool,
    ) -> None:
        self.sources, self.targets = sources, targets
        self._connections = connections
        self._catalog = catalog
        self._options = options
        self._now_ms, self._clock = now_ms, clock
        self._lenient = lenient

    def store_of(self, collection: str) -> MemoryStore:
        return self.sources if collection == "sourceConnections" else self.targets

    def create_source(self, caller: Caller, body: JsonObject) -> Response:
        check_keys(body, SOURCE_BODY, lenient=self._lenient)
        name = text(body, "name", required=True)
        description = text(body, "description", required=False)
        spec = check_spec(body.get("connectionSpec"), POSTGRES_SPEC_ID, "PostgreSQL source")
        base_id = text(body, "baseConnectionId", required=True)
        assert base_id is not None
        base = self._connections.get((caller.org, caller.sandbox), base_id)
        if base is None:
            raise flow_error("1101-404", f"No base connection with id '{base_id[:80]}'.")
        data = body.get("data")
        if not isinstance(data, dict) or data.get("format") != "tabular":
            raise flow_error("1100-400", "data.format must be 'tabular' for a table source.")
        params = body.get("params")
        if not isinstance(params, dict):
            raise flow_error("1100-400", "params with tableName is required.")
        table = text(params, "tableName", required=True, where="params.")
        if table is not None and "." not in table.strip("."):
            raise flow_error(
                "1100-400", "params.tableName must be the explore path 'schema.table'."
            )
        self._check_columns(params.get("columns"))
        if "cdcEnabled" in params:
            # [doc CDC] change data capture exists for Databricks, BigQuery and Snowflake only.
            raise flow_error("1100-400", "params.cdcEnabled is not supported for PostgreSQL.")
        fields: JsonObject = {
            "name": name,
            **({"description": description} if description is not None else {}),
            "baseConnectionId": base_id,
            "state": "enabled",
            "data": {"format": "tabular"},
            "connectionSpec": spec,
            "params": params,
            "inheritedAttributes": {
                "baseConnection": {"id": base_id, "connectionSpec": dict(base["connectionSpec"])}
            },
        }
        record = new_record(caller, self._now_ms(), self._clock, fields)
        self.sources.insert(record)
        return created(record, "sourceConnections")

    def _check_columns(self, columns: Any) -> None:
        if columns is None:
            if self._options().source_columns == "required":
                raise flow_error("1100-400", "params.columns is required.")
            return
        if not isinstance(columns, list) or not columns:
            raise flow_error("1100-400", "params.columns must be a non-empty array.")
        for index, column in enumerate(columns):
            if not isinstance(column, dict) or not isinstance(column.get("name"), str):
                raise flow_error("1100-400", f"params.columns[{index}] needs a string name.")

    def create_target(self, caller: Caller, body: JsonObject) -> Response:
        check_keys(body, TARGET_BODY, lenient=self._lenient)
        options = self._options()
        name = text(body, "name", required=False)
        description = text(body, "description", required=False)
        spec = check_spec(body.get("connectionSpec"), DATA_LAKE_SPEC_ID, "data lake target")
        data = body.get("data")
        schema = data.get("schema") if isinstance(data, dict) else None
        if not isinstance(schema, dict) or not all(
            isinstance(schema.get(k), str) and schema.get(k) for k in ("id", "version")
        ):
            raise flow_error("1100-400", "data.schema needs the schema's id and version.")
        versions = SCHEMA_VERSIONS[options.schema_versions]
        if schema["version"] not in versions:
            raise flow_error(
                "1100-400", f"data.schema.version must be one of: {', '.join(versions)}."
            )
        assert isinstance(data, dict)
        fmt = data.get("format")
        if fmt is not None and not isinstance(fmt, str):
            raise flow_error("1100-400", "data.format must be a string.")
        if options.target_format != "any" and fmt not in (None, "parquet_xdm"):
            raise flow_error("1100-400", "data.format must be absent or 'parquet_xdm'.")
        params = body.get("params")
        dataset_id = (
            text(params, "dataSetId", required=True, where="params.")
            if isinstance(params, dict)
            else None
        )
        if dataset_id is None:
            raise flow_error("1100-400", "params.dataSetId is required.")
        dataset = self._catalog.find(caller, dataset_id)
        if dataset is None:
            # [open] Adobe: "An invalid dataset ID will result in an error", code not given.
            raise flow_error("1100-400", f"params.dataSetId '{dataset_id[:80]}' is not a dataset.")
        if dataset["schemaRef"]["id"] != schema["id"]:
            raise flow_error(
                "1425-400",
                f"The target schema '{schema['id'][:120]}' is not the schema of dataset "
                f"'{dataset_id}'.",
            )
        base_id = text(body, "baseConnectionId", required=False)
        if (
            base_id is not None
            and self._connections.get((caller.org, caller.sandbox), base_id) is None
        ):
            raise flow_error("1101-404", f"No base connection with id '{base_id[:80]}'.")
        fields: JsonObject = {
            **({"name": name} if name is not None else {}),
            **({"description": description} if description is not None else {}),
            **({"baseConnectionId": base_id} if base_id is not None else {}),
            "state": "enabled",
            "data": {**({"format": fmt} if fmt else {}), "schema": dict(schema)},
            "connectionSpec": spec,
            "params": {"dataSetId": dataset_id},
        }
        record = new_record(caller, self._now_ms(), self._clock, fields)
        self.targets.insert(record)
        return created(record, "targetConnections")

    def patch(self, collection: str, caller: Caller, item_id: str, request: Request) -> Response:
        store = self.store_of(collection)
        require(store, caller, item_id, _singular(collection))
        sent = if_match(request)
        ops = patch_ops(request.json())

        def change(record: JsonObject) -> JsonObject:
            check_etag(record, sent)
            for index, op in enumerate(ops):
                if not patch_text(record, op, index):
                    raise flow_error(
                        "1455-400",
                        f"The patch request is invalid: path '{op['path'][:80]}' cannot be "
                        "patched; Adobe asks for a new source, target and flow instead.",
                    )
            touched(record, caller, self._now_ms(), self._clock)
            return record

        new = store.update((caller.org, caller.sandbox), item_id, change)
        assert new is not None
        if self._options().connection_patch_response == "id-etag":
            return Response(200, {"id": new["id"], "etag": new["etag"]})
        return Response(200, {"items": [public(new)]})


def _singular(collection: str) -> str:
    return "source connection" if collection == "sourceConnections" else "target connection"
