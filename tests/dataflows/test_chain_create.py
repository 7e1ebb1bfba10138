"""Creating a dataflow's chain against the emulator: the parts in order, the bodies Adobe
accepts, a declared-disabled flow disabled, leftovers of a broken run reused."""

from __future__ import annotations

from provisioner.apply.chain_result import DataflowStatus
from provisioner.emulator import POSTGRES_SPEC_ID, Emulator
from provisioner.plan.dataflows import Leftover

from .apply_helpers import census, run, sandbox, to_create
from .client_helpers import ORG
from .helpers import desired


def test_a_declared_dataflow_becomes_one_whole_chain(emulator: Emulator) -> None:
    box = sandbox(emulator)
    [outcome] = run(box, [to_create(box, desired())])
    assert outcome.status is DataflowStatus.CREATED, outcome.message
    flow = box.client.get_flow(ORG, "prod", outcome.flow_id or "")
    assert (flow.name, flow.state, flow.base_connection_id) == (
        "orders-prod/public.orders",
        "enabled",
        box.base_id,
    )
    assert flow.description == "orders into AEP\nmanaged-by: provision owner=team-orders"
    assert dict(flow.schedule) == {
        "startTime": str(int(box.clock.now) + 60),
        "frequency": "minute",
        "interval": "15",
        "backfill": "true",
    }
    [source] = box.client.list_source_connections(ORG, "prod", spec_id=POSTGRES_SPEC_ID)
    assert (source.name, source.table, source.columns) == (
        "orders-prod/public.orders (source)",
        "public.orders",
        ("id", "email", "updated_at"),
    )
    [target] = box.client.list_target_connections(ORG, "prod")
    assert (target.dataset_id, target.id) == (box.dataset.id, flow.target_connection_ids[0])
    mapping = box.client.get_mapping_set(ORG, "prod", flow.mapping_id or "", version=None)
    assert [(r.kind, r.source, r.destination) for r in mapping.rules] == [
        ("attribute", "id", "_id"),
        ("expression", "lower(email)", "personalEmail.address"),
    ]
    now = census(emulator)
    assert (now.duplicates, now.orphans, now.mapping_sets) == (0, (), 1)


def test_a_dataflow_declared_disabled_is_created_then_disabled(emulator: Emulator) -> None:
    box = sandbox(emulator)
    [outcome] = run(box, [to_create(box, desired(enabled=False))])
    assert outcome.status is DataflowStatus.CREATED, outcome.message
    assert box.client.get_flow(ORG, "prod", outcome.flow_id or "").state == "disabled"


def test_a_half_chain_left_by_an_earlier_run_is_reused(emulator: Emulator) -> None:
    box = sandbox(emulator)
    [broken] = run(box, [to_create(box, desired(dataset="Orders"))])
    # What a killed run leaves: its flow never made, its source and target there.
    box.client.delete_flow(ORG, "prod", broken.flow_id or "", name="x")
    source, target = (
        box.client.list_source_connections(ORG, "prod", spec_id=POSTGRES_SPEC_ID)[0],
        box.client.list_target_connections(ORG, "prod")[0],
    )
    reuse = (
        Leftover("source", source.id, source.name, source.etag),
        Leftover("target", target.id, target.name, target.etag),
    )
    [outcome] = run(box, [to_create(box, desired(), reuse)])
    assert outcome.status is DataflowStatus.CREATED, outcome.message
    flow = box.client.get_flow(ORG, "prod", outcome.flow_id or "")
    assert (flow.source_connection_ids, flow.target_connection_ids) == ((source.id,), (target.id,))
    now = census(emulator)
    assert (now.sources, now.targets, now.orphans) == (1, 1, ())
