"""Literal dataflow records for the pure plan and its reports: one declared dataflow and a
remote chain that matches it exactly, to change one field at a time."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from provisioner import ownermark
from provisioner.dataflow import (
    DATA_LAKE_SPEC_ID,
    FLOW_SPEC_ID,
    Dataset,
    DesiredDataflow,
    Incremental,
    MappingRule,
    RemoteFlow,
    RemoteMappingSet,
    RemoteSourceConnection,
    RemoteTargetConnection,
    SandboxDataflows,
    Schedule,
)
from provisioner.errors import Location
from provisioner.model import DesiredConnection, PruneRule, RemoteConnection
from provisioner.plan.dataflow_make import ObservedDataflows, plan_dataflows
from provisioner.plan.make import DEFAULT_LIFECYCLE, ListingFailed, Plan, PlanOptions, make_plan
from tests.reconcile.plan_literals import ORG, desired, remote

__all__ = ["ORG", "desired", "remote"]

NOW = 1_800_000_000  # epoch seconds
PG_SPEC = "74a1c565-4e59-48d7-9d67-7c03b8a13137"
DATASET = Dataset("ds-1", "Orders (PostgreSQL)", "https://ns.adobe.com/acme/schemas/orders")
DELTA = Incremental("updated_at")
RULES = (
    MappingRule("attribute", "id", "_id"),
    MappingRule("expression", "lower(email)", "personalEmail.address"),
)


def wanted(**changes: object) -> DesiredDataflow:
    base = DesiredDataflow(
        org=ORG,
        sandbox="prod",
        connection="orders",
        table="public.orders",
        name="orders/public.orders",
        description="Orders into AEP",
        dataset=DATASET.name,
        columns=("id", "amount", "updated_at"),
        incremental=DELTA,
        schedule=Schedule("minute", 15, None, True),
        mapping=RULES,
        enabled=True,
        source=Location("team/orders.yaml", 14, 9),
        owner="team-a",
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def flow(
    name: str = "orders/public.orders",
    id: str = "f-1",
    *,
    base: str = "c-1",
    owner: str | None = "team-a",
    description: str | None = "Orders into AEP",
    state: str = "enabled",
    schedule: dict[str, str] | None = None,
    incremental: Incremental | None = DELTA,
    sources: tuple[str, ...] = ("s-1",),
    targets: tuple[str, ...] = ("t-1",),
    mapping: str | None = "m-1",
    etag: str = '"e-1"',
    spec: str = FLOW_SPEC_ID,
) -> RemoteFlow:
    return RemoteFlow(
        id=id,
        name=name,
        etag=etag,
        description=ownermark.compose(description, owner),
        spec_id=spec,
        state=state,
        source_connection_ids=sources,
        target_connection_ids=targets,
        base_connection_id=base,
        schedule=schedule
        or {
            "frequency": "minute",
            "interval": "15",
            "startTime": str(NOW - 3600),
            "backfill": "true",
        },
        mapping_id=mapping,
        mapping_version="0",
        mapping_index=1,
        incremental=incremental,
        created_at=1_700_000_000_000,
    )


def source(
    id: str = "s-1",
    *,
    name: str = "orders/public.orders (source)",
    table: str = "public.orders",
    columns: tuple[str, ...] = ("id", "amount", "updated_at"),
    owner: str | None = "team-a",
    base: str = "c-1",
) -> RemoteSourceConnection:
    mark = ownermark.compose(None, owner)
    return RemoteSourceConnection(id, name, '"se"', mark, PG_SPEC, base, table, columns)


def target(
    id: str = "t-1",
    *,
    name: str = "orders/public.orders (target)",
    dataset: str = DATASET.id,
    owner: str | None = "team-a",
) -> RemoteTargetConnection:
    mark = ownermark.compose(None, owner)
    return RemoteTargetConnection(
        id, name, '"te"', mark, DATA_LAKE_SPEC_ID, dataset, DATASET.schema_id
    )


def mapping_set(id: str = "m-1", rules: Sequence[MappingRule] = RULES) -> RemoteMappingSet:
    return RemoteMappingSet(id, "0", DATASET.schema_id, tuple(rules))


def listing(
    flows: Sequence[RemoteFlow] = (),
    sources: Sequence[RemoteSourceConnection] = (),
    targets: Sequence[RemoteTargetConnection] = (),
    mappings: Sequence[RemoteMappingSet] = (),
    datasets: Sequence[Dataset] = (DATASET,),
) -> SandboxDataflows:
    return SandboxDataflows(
        tuple(flows),
        tuple(sources),
        tuple(targets),
        {m.id: m for m in mappings},
        tuple(datasets),
    )


def whole_chain(**flow_changes: object) -> SandboxDataflows:
    """The sandbox holding the declared dataflow's chain, as the last apply left it."""
    return listing([flow(**flow_changes)], [source()], [target()], [mapping_set()])  # type: ignore[arg-type]


def plan_of(
    dataflows: Sequence[DesiredDataflow],
    found: SandboxDataflows | ListingFailed,
    *,
    options: PlanOptions = DEFAULT_LIFECYCLE,
    connections: Sequence[RemoteConnection] | None = None,
    declared: Sequence[DesiredConnection] | None = None,
    rules: Sequence[PruneRule] = (),
    managed: frozenset[tuple[str, str, str, str]] = frozenset(),
    now_s: int = NOW,
) -> Plan:
    """make_plan for the connection `orders` (remote c-1), then the dataflows."""
    listed = [remote("orders", "c-1")] if connections is None else list(connections)
    wanted_connections = [desired("orders")] if declared is None else list(declared)
    observed = {(ORG, "prod"): listed}
    plan = make_plan(wanted_connections, observed, options=options, rules=rules)
    flows: ObservedDataflows = {(ORG, "prod"): found}
    return plan_dataflows(
        plan, dataflows, flows, observed, now_s=now_s, managed=managed, rules=rules
    )
