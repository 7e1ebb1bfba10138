"""Changing a dataflow in place, replacing it, deleting it: against the emulator."""

from __future__ import annotations

from dataclasses import replace

import httpx
import pytest

from provisioner.apply.chain_result import DataflowStatus
from provisioner.apply.flow_state import settled
from provisioner.dataflow import MappingRule
from provisioner.emulator import POSTGRES_SPEC_ID, Emulator
from provisioner.plan.dataflows import PlannedDataflow
from provisioner.plan.make import Action

from .apply_helpers import Sandbox, census, chain_of, deletion_of, run, sandbox, to_create
from .client_helpers import ORG, Handler
from .helpers import desired

NEW_MAPPING = (
    MappingRule("attribute", "id", "_id"),
    MappingRule("attribute", "email", "personalEmail.address"),
)


def made(emulator: Emulator) -> tuple[Sandbox, str]:
    box = sandbox(emulator)
    [outcome] = run(box, [to_create(box, desired())])
    assert outcome.flow_id is not None
    return box, outcome.flow_id


def to_update(box: Sandbox, flow_id: str, **fields: object) -> PlannedDataflow:
    entry = PlannedDataflow(
        desired(),
        Action.UPDATE,
        chain=chain_of(box, flow_id),
        dataset=box.dataset,
        base_connection_id=box.base_id,
    )
    return replace(entry, **fields)  # type: ignore[arg-type]


def test_description_schedule_and_mapping_change_in_place(emulator: Emulator) -> None:
    box, flow_id = made(emulator)
    entry = to_update(
        box,
        flow_id,
        desired=desired(mapping=NEW_MAPPING, description="hourly orders"),
        flow_ops=(
            {
                "op": "replace",
                "path": "/description",
                "value": "hourly orders\nmanaged-by: provision owner=team-orders",
            },
            {"op": "replace", "path": "/scheduleParams/frequency", "value": "hour"},
        ),
        new_mapping=True,
    )
    [outcome] = run(box, [entry])
    assert outcome.status is DataflowStatus.UPDATED, outcome.message
    flow = box.client.get_flow(ORG, "prod", flow_id)
    assert (flow.description, flow.schedule["frequency"]) == (
        "hourly orders\nmanaged-by: provision owner=team-orders",
        "hour",
    )
    # The same mapping set, a new version, pointed at by the flow's Mapping entry.
    assert (flow.mapping_id, flow.mapping_version) == (
        entry.chain.flow.mapping_id if entry.chain else None,
        "1",
    )
    mapping = box.client.get_mapping_set(ORG, "prod", flow.mapping_id or "", version="1")
    assert mapping.rules == NEW_MAPPING
    assert census(emulator).duplicates == 0


def test_a_toggle_waits_out_a_transient_state_then_acts(emulator: Emulator) -> None:
    box, flow_id = made(emulator)
    entry = to_update(box, flow_id, toggle="enable")
    emulator.set_dataflow_options(transient_reads=3)
    # A person disabled it a moment ago: it is still disabling when apply reads it.
    box.client.flow_action(ORG, "prod", flow_id, "disable", name="x")
    [outcome] = run(box, [entry])
    assert outcome.status is DataflowStatus.UPDATED, outcome.message
    # Still "disabling" at two reads, waited out by the injected sleep, not the wall clock.
    assert box.sleeps == [0.5, 1.0]
    flow = settled(box.client, ORG, "prod", flow_id, name="x", waiting=box.waiting)
    assert flow.state == "enabled"


def test_a_toggle_already_in_that_state_sends_nothing(emulator: Emulator) -> None:
    box, flow_id = made(emulator)
    box.client.flow_action(ORG, "prod", flow_id, "disable", name="x")
    [outcome] = run(box, [to_update(box, flow_id, toggle="disable")])
    assert outcome.status is DataflowStatus.CURRENT


def test_a_412_is_read_again_and_only_what_still_differs_is_sent(emulator: Emulator) -> None:
    box, flow_id = made(emulator)
    entry = to_update(
        box,
        flow_id,
        flow_ops=({"op": "replace", "path": "/scheduleParams/frequency", "value": "hour"},),
    )
    # Someone else changes the flow after the plan read it: the plan's etag is stale.
    stale = entry.chain.flow if entry.chain else None
    assert stale is not None
    box.client.update_flow(
        ORG,
        "prod",
        flow_id,
        [{"op": "replace", "path": "/description", "value": "a person's note"}],
        etag=stale.etag,
        name="x",
    )
    [outcome] = run(box, [entry])
    assert outcome.status is DataflowStatus.UPDATED, outcome.message
    flow = box.client.get_flow(ORG, "prod", flow_id)
    assert (flow.schedule["frequency"], flow.description) == ("hour", "a person's note")


def test_a_412_for_the_same_change_finds_it_up_to_date(emulator: Emulator) -> None:
    box, flow_id = made(emulator)
    ops = ({"op": "replace", "path": "/scheduleParams/frequency", "value": "hour"},)
    entry = to_update(box, flow_id, flow_ops=ops)
    stale = entry.chain.flow if entry.chain else None
    assert stale is not None
    box.client.update_flow(ORG, "prod", flow_id, list(ops), etag=stale.etag, name="x")
    [outcome] = run(box, [entry])
    assert outcome.status is DataflowStatus.CURRENT, outcome.message


def test_recreate_retires_the_old_flow_makes_the_new_chain_then_deletes_the_old(
    emulator: Emulator,
) -> None:
    box, old_id = made(emulator)
    old = chain_of(box, old_id)
    wanted = desired(columns=("id", "updated_at"), mapping=NEW_MAPPING[:1])
    entry = PlannedDataflow(
        wanted,
        Action.RECREATE,
        chain=old,
        dataset=box.dataset,
        base_connection_id=box.base_id,
        reason="columns changed",
    )
    outcomes = run(box, [entry], [deletion_of(old, "replaced", "team-orders")])
    assert [(o.kind, o.status) for o in outcomes] == [
        ("dataflow", DataflowStatus.REPLACED),
        ("deletion", DataflowStatus.DELETED),
    ]
    assert outcomes[1].left_behind == (old.flow.mapping_id,)
    now = census(emulator)
    assert (dict(now.flows), now.sources, now.targets, now.orphans) == (
        {"orders-prod/public.orders": 1},
        1,
        1,
        (),
    )
    new = box.client.get_flow(ORG, "prod", outcomes[0].flow_id or "")
    [source] = box.client.list_source_connections(ORG, "prod", spec_id=POSTGRES_SPEC_ID)
    assert new.id != old_id
    assert (new.source_connection_ids, source.columns) == ((source.id,), ("id", "updated_at"))


def test_a_recreate_to_a_column_the_table_lacks_leaves_the_old_flow_as_it_is(
    emulator: Emulator,
) -> None:
    box, old_id = made(emulator)
    old = chain_of(box, old_id)
    entry = PlannedDataflow(
        desired(columns=("id", "no_such_column", "updated_at")),
        Action.RECREATE,
        chain=old,
        dataset=box.dataset,
        base_connection_id=box.base_id,
    )
    outcomes = run(box, [entry], [deletion_of(old, "replaced", "team-orders")])
    assert [(o.status, o.message) for o in outcomes] == [
        (
            DataflowStatus.FAILED,
            "table 'public.orders' has no column 'no_such_column' (it has 'id', 'email', "
            "'updated_at'); fix the dataflow's columns or incremental column in the manifest; "
            "the old flow was left as it is",
        ),
        (DataflowStatus.SKIPPED, "kept: the flow replacing it was not created; re-run apply"),
    ]
    flow = box.client.get_flow(ORG, "prod", old_id)
    assert (flow.name, flow.state, flow.etag) == (old.flow.name, "enabled", old.flow.etag)


def test_a_recreate_whose_new_chain_fails_keeps_the_old_one_renamed_and_disabled(
    emulator: Emulator,
) -> None:
    armed: list[bool] = []

    def refuse_mapping_sets(inner: Handler) -> Handler:
        def handler(request: httpx.Request) -> httpx.Response:
            if armed and request.method == "POST" and request.url.path.endswith("/mappingSets"):
                return httpx.Response(400, json={"message": "mapping refused"})
            return inner(request)

        return handler

    box = sandbox(emulator, refuse_mapping_sets)
    [first] = run(box, [to_create(box, desired())])
    old_id = first.flow_id or ""
    old = chain_of(box, old_id)
    entry = PlannedDataflow(
        desired(columns=("id", "updated_at")),
        Action.RECREATE,
        chain=old,
        dataset=box.dataset,
        base_connection_id=box.base_id,
    )
    # The new chain's mapping set is refused: the chain stops after its target.
    armed.append(True)
    outcomes = run(box, [entry], [deletion_of(old, "replaced", "team-orders")])
    assert [o.status for o in outcomes] == [DataflowStatus.FAILED, DataflowStatus.SKIPPED]
    flow = box.client.get_flow(ORG, "prod", old_id)
    assert (flow.name, flow.state) == ("orders-prod/public.orders (replaced)", "disabled")


@pytest.mark.parametrize("owner", ["team-orders", "someone-else"])
def test_a_pruned_chain_goes_flow_then_target_then_source(emulator: Emulator, owner: str) -> None:
    box, flow_id = made(emulator)
    [outcome] = run(box, [], [deletion_of(chain_of(box, flow_id), "pruned", owner)])
    now = census(emulator)
    if owner == "team-orders":
        assert outcome.status is DataflowStatus.DELETED
        assert (sum(now.flows.values()), now.sources, now.targets, now.mapping_sets) == (0, 0, 0, 1)
    else:  # the mark says another owner's: never deleted
        assert outcome.status is DataflowStatus.FAILED
        assert outcome.message == (
            "not deleted: its owner mark changed since the plan (owner=team-orders, was "
            "owner=someone-else); it is no longer this owner's to delete"
        )
        assert sum(now.flows.values()) == 1
