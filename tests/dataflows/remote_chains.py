"""Dataflow chains made on the emulator as a person would in AEP (through the API, with the
bodies of Adobe's database tutorial), for the import and verify suites."""

from __future__ import annotations

from typing import Any

from provisioner.dataflow import FLOW_SPEC_ID, SCHEMA_VERSION
from provisioner.emulator import POSTGRES_SPEC_ID, Emulator
from tests.emulator.emu_helpers import FLOW, ORG, make_client, pg_payload

CONVERSION = "/data/foundation/conversion"
SCHEMA = "https://ns.adobe.com/acme/schemas/0a1b2c3d4e5f"
LAKE = {"id": "c604ff05-7f1a-43c0-8e18-33bf874cb11c", "version": "1.0"}
NOW = 1767225600.0  # the emulator's clock: 2026-01-01T00:00:00Z
START = int(NOW) + 3600  # 2026-01-01T01:00:00Z


def _created(response: Any, status: int = 201) -> str:
    assert response.status_code == status, response.text
    return str(response.json()["id"])


def base_connection(emu: Emulator, sandbox: str, name: str) -> str:
    with make_client(emu, sandbox) as api:
        return _created(
            api.post(f"{FLOW}/connections", json=pg_payload(name, server="pg.example.test"))
        )


def dataset(emu: Emulator, sandbox: str, name: str) -> str:
    return str(emu.add_dataset(ORG, sandbox, name=name, schemaId=SCHEMA)["id"])


def chain(
    emu: Emulator,
    sandbox: str,
    base_id: str,
    dataset_id: str,
    *,
    name: str,
    table: str = "public.orders",
    description: str | None = "Orders into the lake",
    schedule: dict[str, str] | None = None,
) -> dict[str, str]:
    """Source -> target -> mapping set -> flow on `base_id`; the ids by kind."""
    columns = [
        {"name": c, "type": "string", "xdm": {"type": "string"}}
        for c in ("id", "email", "updated_at")
    ]
    with make_client(emu, sandbox) as api:
        source = _created(
            api.post(
                f"{FLOW}/sourceConnections",
                json={
                    "name": f"{name} (source)",
                    "baseConnectionId": base_id,
                    "data": {"format": "tabular"},
                    "params": {"tableName": table, "columns": columns},
                    "connectionSpec": {"id": POSTGRES_SPEC_ID, "version": "1.0"},
                },
            )
        )
        target = _created(
            api.post(
                f"{FLOW}/targetConnections",
                json={
                    "name": f"{name} (target)",
                    "data": {"schema": {"id": SCHEMA, "version": SCHEMA_VERSION}},
                    "params": {"dataSetId": dataset_id},
                    "connectionSpec": LAKE,
                },
            )
        )
        mapping = _created(
            api.post(
                f"{CONVERSION}/mappingSets",
                json={
                    "outputSchema": {"schemaRef": {"id": SCHEMA, "contentType": SCHEMA_VERSION}},
                    "mappings": [
                        {"sourceType": "ATTRIBUTE", "source": "id", "destination": "_id"},
                        {
                            "sourceType": "EXPRESSION",
                            "source": "lower(email)",
                            "destination": "personalEmail.address",
                        },
                    ],
                },
            ),
            200,
        )
        body: dict[str, Any] = {
            "name": name,
            "flowSpec": {"id": FLOW_SPEC_ID, "version": "1.0"},
            "sourceConnectionIds": [source],
            "targetConnectionIds": [target],
            "transformations": [
                {"name": "Copy", "params": {"deltaColumn": {"name": "updated_at"}}},
                {"name": "Mapping", "params": {"mappingId": mapping, "mappingVersion": "0"}},
            ],
            "scheduleParams": schedule
            or {
                "startTime": str(START),
                "frequency": "minute",
                "interval": "15",
                "backfill": "true",
            },
        }
        if description is not None:
            body["description"] = description
        flow = _created(api.post(f"{FLOW}/flows", json=body))
    return {"source": source, "target": target, "mapping": mapping, "flow": flow}


def disable(emu: Emulator, sandbox: str, flow_id: str) -> None:
    with make_client(emu, sandbox) as api:
        response = api.post(f"{FLOW}/flows/{flow_id}/action", params={"op": "disable"})
        assert response.status_code == 200, response.text


def delete_target(emu: Emulator, sandbox: str, target_id: str) -> None:
    emu.set_dataflow_options(in_use_delete="allowed")
    with make_client(emu, sandbox) as api:
        response = api.delete(f"{FLOW}/targetConnections/{target_id}")
        assert response.status_code == 204, response.text
