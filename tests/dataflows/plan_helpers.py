"""End-to-end plan helpers: chains built through the real client in the emulator, exactly as
a declared dataflow asks (the way apply will build them), and the plan made through
`plan_for`, the road `provision plan` takes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from provisioner import ownermark
from provisioner.commands.session import plan_for
from provisioner.dataflow import (
    DATA_LAKE_SPEC_ID,
    FLOW_SPEC_ID,
    FLOW_SPEC_VERSION,
    SCHEMA_VERSION,
    DesiredDataflow,
)
from provisioner.emulator import POSTGRES_SPEC_ID, Emulator
from provisioner.model import DesiredConnection, PruneRule
from provisioner.plan.make import DEFAULT_LIFECYCLE, Plan, PlanOptions
from provisioner.remote.client import FlowServiceClient
from tests.dataflows.client_helpers import ORG
from tests.dataflows.literals import wanted
from tests.emulator.chain_helpers import SCHEMA
from tests.emulator.emu_helpers import pg_payload
from tests.reconcile.plan_literals import desired

NOW = 1_900_000_000


def declared(
    connection: str = "orders-prod", sandbox: str = "prod", **changes: object
) -> DesiredDataflow:
    """The literal dataflow on `connection`; its name follows its table unless given."""
    table = str(changes.get("table", "public.orders"))
    fields: dict[str, object] = {
        "sandbox": sandbox,
        "connection": connection,
        "name": f"{connection}/{table}",
        "schedule": replace(wanted().schedule, start=None),
    }
    return replace(wanted(), **(fields | changes))  # type: ignore[arg-type]


def base(client: FlowServiceClient, name: str = "orders-prod", sandbox: str = "prod") -> str:
    return client.create_connection(ORG, sandbox, pg_payload(name), name=name).id


def dataset(emulator: Emulator, sandbox: str = "prod", name: str = "Orders (PostgreSQL)") -> str:
    return str(emulator.add_dataset(ORG, sandbox, name=name, schemaId=SCHEMA)["id"])


def chain(
    client: FlowServiceClient, base_id: str, flow: DesiredDataflow, dataset_id: str, *, start: int
) -> str:
    """source -> target -> mapping set -> flow, as `flow` declares them; the flow's id."""
    org, sandbox, described = flow.org, flow.sandbox, flow.remote_description
    columns = [{"name": c, "type": "string", "xdm": {"type": "string"}} for c in flow.columns or ()]
    source = client.create_source_connection(
        org,
        sandbox,
        {
            "name": flow.source_name,
            "description": described,
            "baseConnectionId": base_id,
            "data": {"format": "tabular"},
            "params": {"tableName": flow.table, "columns": columns},
            "connectionSpec": {"id": POSTGRES_SPEC_ID, "version": "1.0"},
        },
        name=flow.source_name,
    ).id
    target = client.create_target_connection(
        org,
        sandbox,
        {
            "name": flow.target_name,
            "description": described,
            "data": {"schema": {"id": SCHEMA, "version": SCHEMA_VERSION}},
            "params": {"dataSetId": dataset_id},
            "connectionSpec": {"id": DATA_LAKE_SPEC_ID, "version": "1.0"},
        },
        name=flow.target_name,
    ).id
    rules = [
        {"sourceType": r.kind.upper(), "source": r.source, "destination": r.destination}
        for r in flow.mapping
    ]
    mapping = client.create_mapping_set(
        org,
        sandbox,
        {
            "outputSchema": {"schemaRef": {"id": SCHEMA, "contentType": SCHEMA_VERSION}},
            "mappings": rules,
        },
        name=flow.name,
    )
    schedule = flow.schedule
    params = {"startTime": str(start), "frequency": schedule.frequency}
    if schedule.interval is not None:
        params |= {"interval": str(schedule.interval), "backfill": str(schedule.backfill).lower()}
    delta = {"name": flow.incremental.column}
    body = {
        "name": flow.name,
        "description": described,
        "flowSpec": {"id": FLOW_SPEC_ID, "version": FLOW_SPEC_VERSION},
        "sourceConnectionIds": [source],
        "targetConnectionIds": [target],
        "transformations": [
            {"name": "Copy", "params": {"deltaColumn": delta}},
            {
                "name": "Mapping",
                "params": {"mappingId": mapping.id, "mappingVersion": mapping.version},
            },
        ],
        "scheduleParams": params,
    }
    return client.create_flow(org, sandbox, body, name=flow.name).id


def plan(
    client: FlowServiceClient,
    dataflows: Sequence[DesiredDataflow],
    connections: Sequence[DesiredConnection] | None = None,
    *,
    options: PlanOptions = DEFAULT_LIFECYCLE,
    rules: Sequence[PruneRule] = (),
    now_s: int = NOW,
) -> Plan:
    wanted_connections = (
        [desired(d.connection, d.sandbox) for d in dict.fromkeys(dataflows)]
        if connections is None
        else connections
    )
    unique = list({(c.org, c.sandbox, c.name): c for c in wanted_connections}.values())
    return plan_for(
        client,
        unique,
        2,
        options=options,
        rules=rules,
        dataflows=dataflows,
        now_s=now_s,
    )


def owned(description: str | None, owner: str) -> str | None:
    return ownermark.compose(description, owner)
