"""`plan` with dataflows against the emulator, through the real client: the chains are built
as a manifest declares them, then planned as `provision plan` plans them."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import replace

import httpx

from provisioner.dataflow import SCHEMA_VERSION, MappingRule
from provisioner.emulator import Emulator
from provisioner.errors import Location
from provisioner.model import PruneRule
from provisioner.plan.diff import Drift
from provisioner.plan.make import Action, PlanOptions
from tests.dataflows.client_helpers import ORG, Handler, connect
from tests.dataflows.plan_helpers import base, chain, dataset, declared, plan
from tests.emulator.chain_helpers import SCHEMA, START
from tests.reconcile.plan_literals import desired


def recording(seen: list[tuple[str, str]]) -> Callable[[Handler], Handler]:
    def wrap(emulated: Handler) -> Handler:
        def handler(request: httpx.Request) -> httpx.Response:
            if "/ims/" not in request.url.path:
                seen.append((request.method, request.url.path))
            return emulated(request)

        return handler

    return wrap


def test_a_declared_dataflow_is_created_then_unchanged_once_its_chain_exists(
    emulator: Emulator,
) -> None:
    client = connect(emulator)
    base_id = base(client)
    dataset_id = dataset(emulator)
    wanted = declared()
    first = plan(client, [wanted])
    (entry,) = first.dataflows
    assert (entry.action, entry.base_connection_id, entry.dataset and entry.dataset.id) == (
        Action.CREATE,
        base_id,
        dataset_id,
    )
    flow_id = chain(client, base_id, wanted, dataset_id, start=START)
    again = plan(client, [wanted])
    (entry,) = again.dataflows
    assert (entry.action, entry.drift) == (Action.UNCHANGED, ())
    assert entry.chain is not None and entry.chain.flow.id == flow_id
    assert again.summary().endswith("Dataflows: 0 to add, 1 unchanged.")


def test_drift_made_in_the_platform_is_planned_in_place(emulator: Emulator) -> None:
    client = connect(emulator)
    base_id, dataset_id = base(client), dataset(emulator)
    wanted = declared()
    flow_id = chain(client, base_id, wanted, dataset_id, start=START)
    flow = client.get_flow(ORG, "prod", flow_id)
    client.update_flow(
        ORG,
        "prod",
        flow_id,
        [{"op": "replace", "path": "/scheduleParams/frequency", "value": "hour"}],
        etag=flow.etag,
        name=flow.name,
    )
    client.flow_action(ORG, "prod", flow_id, "disable", name=flow.name)
    (entry,) = plan(client, [wanted]).dataflows
    assert entry.action is Action.UPDATE
    assert entry.drift == (
        Drift("frequency", "minute", "hour"),
        Drift("state", "enabled", "disabled"),
    )
    assert entry.flow_ops == (
        {"op": "replace", "path": "/scheduleParams/frequency", "value": "minute"},
    )
    assert entry.toggle == "enable"


def test_a_changed_table_needs_the_flag_and_then_replaces_the_chain(emulator: Emulator) -> None:
    client = connect(emulator)
    base_id, dataset_id = base(client), dataset(emulator)
    flow_id = chain(client, base_id, declared(), dataset_id, start=START)
    moved = declared(table="public.orders_v2", name=declared().name)
    (entry,) = plan(client, [moved]).dataflows
    assert (entry.action, entry.reason) == (
        Action.REPLACE,
        "the API cannot change in place: the table; --replace-dataflows makes a new flow; "
        "with backfill it re-ingests history into the same dataset",
    )
    replacing = plan(client, [moved], options=PlanOptions(update=True, replace_dataflows=True))
    assert replacing.dataflows[0].action is Action.RECREATE
    assert [(d.flow.id, d.why) for d in replacing.chain_deletions] == [(flow_id, "replaced")]


def test_prune_deletes_an_undeclared_flow_of_ours_and_keeps_a_hand_made_one(
    emulator: Emulator,
) -> None:
    client = connect(emulator)
    base_id, dataset_id = base(client), dataset(emulator)
    ours = chain(
        client,
        base_id,
        declared(table="public.old"),
        dataset_id,
        start=START,
    )
    hand = chain(
        client,
        base_id,
        declared(name="by hand", owner=None, table="public.hand"),
        dataset_id,
        start=START,
    )
    rule = PruneRule(
        ORG, "prod", "azure", ("orders-*",), Location("team/orders.yaml", 3, 3), "team-a"
    )
    prune = PlanOptions(update=True, prune=True)
    made = plan(client, [], [desired("orders-prod")], options=prune, rules=[rule])
    assert [(d.flow.id, d.why) for d in made.chain_deletions] == [(ours, "pruned")]
    assert [(a.id, a.kind) for a in made.dataflows_left_alone] == [(hand, "flow")]


def test_plan_only_reads_and_its_requests_grow_with_pages_not_flows(emulator: Emulator) -> None:
    setup = connect(emulator)
    sandboxes = ("prod", "dev", "stage")
    per_sandbox = 7
    wanted = []
    for sandbox in sandboxes:
        base_id = base(setup, "orders-" + sandbox, sandbox)
        dataset_id = dataset(emulator, sandbox)
        for n in range(per_sandbox):
            flow = declared("orders-" + sandbox, sandbox, table=f"public.t{n}")
            chain(setup, base_id, flow, dataset_id, start=START)
            wanted.append(flow)
    seen: list[tuple[str, str]] = []
    client = connect(emulator, page_size=3, wrap=recording(seen))
    made = plan(client, wanted)
    assert Counter(d.action for d in made.dataflows) == {Action.UNCHANGED: 21}
    assert {method for method, _ in seen} == {"GET"}
    # Per sandbox, by list pages of 3: connections 1; flows, sources, targets, mapping sets
    # 3 each (7 objects); Catalog 1 (its own page size); and the credential check's one read
    # of the connection spec. Never a GET of one flow, connection or mapping set.
    per_kind = Counter(path.split("/")[4] for _, path in seen)
    assert per_kind == {
        "connectionSpecs": 1,
        "connections": 3 * 1,
        "flows": 3 * 3,
        "sourceConnections": 3 * 3,
        "targetConnections": 3 * 3,
        "mappingSets": 3 * 3,
        "dataSets": 3 * 1,
    }


def test_a_flow_pinned_to_an_older_mapping_version_is_compared_with_that_version(
    emulator: Emulator,
) -> None:
    setup = connect(emulator)
    base_id, dataset_id = base(setup), dataset(emulator)
    wanted = declared()
    flow_id = chain(setup, base_id, wanted, dataset_id, start=START)
    mapping_id = setup.get_flow(ORG, "prod", flow_id).mapping_id
    assert mapping_id is not None
    # Someone writes a new version of the mapping set and never points the flow at it.
    setup.update_mapping_set(
        ORG,
        "prod",
        mapping_id,
        {
            "outputSchema": {"schemaRef": {"id": SCHEMA, "contentType": SCHEMA_VERSION}},
            "mappings": [{"sourceType": "ATTRIBUTE", "source": "id", "destination": "_id"}],
        },
        name=wanted.name,
    )
    seen: list[tuple[str, str]] = []
    client = connect(emulator, wrap=recording(seen))
    (entry,) = plan(client, [wanted]).dataflows
    # The flow still runs with version 0, which matches: one extra read, no change.
    assert entry.action is Action.UNCHANGED
    assert ("GET", f"/data/foundation/conversion/mappingSets/{mapping_id}") in seen
    only_new = replace(wanted, mapping=(MappingRule("attribute", "id", "_id"),))
    (entry,) = plan(connect(emulator), [only_new]).dataflows
    assert (entry.action, entry.new_mapping) == (Action.UPDATE, True)


def test_a_dataflow_listing_the_api_refuses_plans_nothing_for_that_sandbox(
    emulator: Emulator,
) -> None:
    setup = connect(emulator)
    base(setup)
    dataset(emulator)

    def refuse_catalog(emulated: Handler) -> Handler:
        def handler(request: httpx.Request) -> httpx.Response:
            if request.url.path.endswith("/dataSets"):
                return httpx.Response(403, json={"title": "Forbidden", "status": 403})
            return emulated(request)

        return handler

    made = plan(connect(emulator, wrap=refuse_catalog), [declared()])
    (entry,) = made.dataflows
    assert entry.action is Action.UNKNOWN
    assert entry.reason is not None
    assert entry.reason.startswith(
        "the dataflows of sandbox prod could not be listed: list datasets in sandbox 'prod'"
    )
    assert made.has_errors and made.connections[0].action is not Action.UNKNOWN
