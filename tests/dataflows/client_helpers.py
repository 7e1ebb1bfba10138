"""The client against the emulator in process, and a whole dataflow chain made through it."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from provisioner.dataflow import DATA_LAKE_SPEC_ID, FLOW_SPEC_ID, SCHEMA_VERSION
from provisioner.emulator import POSTGRES_SPEC_ID, Emulator
from provisioner.emulator.config import DEFAULT_ORG
from provisioner.remote.client import Credentials, Endpoints, FlowServiceClient
from tests.client.client_fakes import FakeClock
from tests.emulator.chain_helpers import SCHEMA, START
from tests.emulator.emu_helpers import pg_payload

ORG = DEFAULT_ORG
BASE = "http://emulator.test"
Handler = Callable[[httpx.Request], httpx.Response]


def connect(
    emulator: Emulator,
    clock: FakeClock | None = None,
    *,
    page_size: int = 100,
    wrap: Callable[[Handler], Handler] | None = None,
) -> FlowServiceClient:
    """A client of the emulator; ``wrap`` puts a handler in front of it (faults, shapes)."""
    inner = emulator.transport()

    def emulated(request: httpx.Request) -> httpx.Response:
        response = inner.handle_request(request)
        response.read()
        return response

    transport: httpx.BaseTransport = inner if wrap is None else httpx.MockTransport(wrap(emulated))
    clock = clock or FakeClock()
    config = emulator.config
    return FlowServiceClient(
        httpx.Client(transport=transport),
        Credentials(config.client_id, config.client_secret),
        Endpoints(ims_url=BASE, platform_url=BASE),
        sleep=clock.sleep,
        clock=clock,
        page_size=page_size,
    )


def base_connection(client: FlowServiceClient, name: str = "orders-prod") -> str:
    return client.create_connection(ORG, "prod", pg_payload(name), name=name).id


def source_payload(base_id: str, table: str = "public.orders") -> dict[str, object]:
    return {
        "name": f"{table} (source)",
        "baseConnectionId": base_id,
        "data": {"format": "tabular"},
        "params": {
            "tableName": table,
            "columns": [
                {"name": "id", "type": "integer", "xdm": {"type": "integer"}},
                {"name": "updated_at", "type": "string", "xdm": {"type": "string"}},
            ],
        },
        "connectionSpec": {"id": POSTGRES_SPEC_ID, "version": "1.0"},
    }


def target_payload(dataset_id: str) -> dict[str, object]:
    return {
        "name": "orders (target)",
        "data": {"schema": {"id": SCHEMA, "version": SCHEMA_VERSION}},
        "params": {"dataSetId": dataset_id},
        "connectionSpec": {"id": DATA_LAKE_SPEC_ID, "version": "1.0"},
    }


def mapping_payload(*destinations: str) -> dict[str, object]:
    rules: list[dict[str, str]] = [
        {"sourceType": "ATTRIBUTE", "source": "id", "destination": "_id"},
        {"sourceType": "EXPRESSION", "source": "lower(id)", "destination": "_acme.key"},
    ]
    rules += [{"sourceType": "ATTRIBUTE", "source": "id", "destination": d} for d in destinations]
    return {
        "outputSchema": {"schemaRef": {"id": SCHEMA, "contentType": SCHEMA_VERSION}},
        "mappings": rules,
    }


def flow_payload(source: str, target: str, mapping: str, name: str = "orders") -> dict[str, object]:
    return {
        "name": name,
        "description": "nightly orders",
        "flowSpec": {"id": FLOW_SPEC_ID, "version": "1.0"},
        "sourceConnectionIds": [source],
        "targetConnectionIds": [target],
        "transformations": [
            {
                "name": "Copy",
                "params": {
                    "deltaColumn": {
                        "name": "updated_at",
                        "dateFormat": "yyyy-MM-dd HH:mm:ss",
                        "timezone": "UTC",
                    }
                },
            },
            {"name": "Mapping", "params": {"mappingId": mapping, "mappingVersion": "0"}},
        ],
        "scheduleParams": {
            "startTime": str(START),
            "frequency": "minute",
            "interval": "15",
            "backfill": "true",
        },
    }
