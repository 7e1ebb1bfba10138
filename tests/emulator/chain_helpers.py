"""Bodies for a whole dataflow chain, as Adobe's database tutorial sends them."""

from __future__ import annotations

from typing import Any

import httpx

from provisioner.emulator import Emulator

from .emu_helpers import FLOW, ORG, create

CONVERSION = "/data/foundation/conversion"
CATALOG = "/data/foundation/catalog"
PG_SPEC = {"id": "74a1c565-4e59-48d7-9d67-7c03b8a13137", "version": "1.0"}
LAKE_SPEC = {"id": "c604ff05-7f1a-43c0-8e18-33bf874cb11c", "version": "1.0"}
FLOW_SPEC = {"id": "14518937-270c-4525-bdec-c2ba7cce3860", "version": "1.0"}
SCHEMA = "https://ns.adobe.com/acme/schemas/0a1b2c3d4e5f"
SCHEMA_VERSION = "application/vnd.adobe.xed-full+json;version=1"
# A fixed clock: 2026-01-01T00:00:00Z; flows start an hour later unless a test says otherwise.
NOW = 1767225600.0
START = int(NOW) + 3600


def dataset(emulator: Emulator, name: str = "Orders", schema: str = SCHEMA) -> str:
    return str(emulator.add_dataset(ORG, "prod", name=name, schemaId=schema)["id"])


def source_body(base_id: str, table: str = "public.orders", **extra: Any) -> dict[str, Any]:
    return {
        "name": f"{table} source",
        "baseConnectionId": base_id,
        "data": {"format": "tabular"},
        "params": {
            "tableName": table,
            "columns": [
                {"name": "id", "type": "integer", "xdm": {"type": "integer"}},
                {"name": "updated_at", "type": "timestamp", "xdm": {"type": "string"}},
            ],
        },
        "connectionSpec": PG_SPEC,
        **extra,
    }


def target_body(dataset_id: str, schema: str = SCHEMA, **extra: Any) -> dict[str, Any]:
    return {
        "name": "orders target",
        "data": {"schema": {"id": schema, "version": SCHEMA_VERSION}},
        "params": {"dataSetId": dataset_id},
        "connectionSpec": LAKE_SPEC,
        **extra,
    }


def mapping_body(schema: str = SCHEMA) -> dict[str, Any]:
    return {
        "outputSchema": {"schemaRef": {"id": schema, "contentType": SCHEMA_VERSION}},
        "mappings": [
            {"sourceType": "ATTRIBUTE", "source": "id", "destination": "_id"},
            {"sourceType": "EXPRESSION", "source": "lower(id)", "destination": "_acme.key"},
        ],
    }


def flow_body(
    source_id: str, target_id: str, mapping_id: str, version: Any = 0, **extra: Any
) -> dict[str, Any]:
    return {
        "name": "orders to lake",
        "description": "nightly orders",
        "flowSpec": FLOW_SPEC,
        "sourceConnectionIds": [source_id],
        "targetConnectionIds": [target_id],
        "transformations": [
            {
                "name": "Copy",
                "params": {"deltaColumn": {"name": "updated_at", "dateFormat": "YYYY-MM-DD"}},
            },
            {"name": "Mapping", "params": {"mappingId": mapping_id, "mappingVersion": version}},
        ],
        "scheduleParams": {
            "startTime": str(START),
            "frequency": "minute",
            "interval": "15",
            "backfill": "true",
        },
        **extra,
    }


def created_id(response: httpx.Response, status: int = 201) -> str:
    assert response.status_code == status, response.text
    return str(response.json()["id"])


def chain(api: httpx.Client, emulator: Emulator, table: str = "public.orders") -> dict[str, str]:
    """A base connection and a whole dataflow on it; the ids by kind."""
    base = create(api)["id"]
    data_set = dataset(emulator, f"{table} set")
    source = created_id(api.post(f"{FLOW}/sourceConnections", json=source_body(base, table)))
    target = created_id(api.post(f"{FLOW}/targetConnections", json=target_body(data_set)))
    mapping = created_id(api.post(f"{CONVERSION}/mappingSets", json=mapping_body()), 200)
    flow = created_id(api.post(f"{FLOW}/flows", json=flow_body(source, target, mapping)))
    return {
        "base": base,
        "dataset": data_set,
        "source": source,
        "target": target,
        "mapping": mapping,
        "flow": flow,
    }


class Clock:
    """A clock the test moves by hand: runs and "in the past" depend on it, not on the wall."""

    def __init__(self, now: float = NOW) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now
