"""Every dataflow call of the client against the emulator, as apply, plan, import and verify
use them: a whole chain made, read back into the records of provisioner/dataflow.py,
updated, toggled, its runs read, and deleted in order."""

from __future__ import annotations

import pytest

from provisioner.dataflow import (
    DATA_LAKE_SPEC_ID,
    FLOW_SPEC_ID,
    CreatedMappingSet,
    Dataset,
    FlowRun,
    Incremental,
    MappingRule,
    RemoteMappingSet,
    RemoteSourceConnection,
    RemoteTargetConnection,
)
from provisioner.emulator import POSTGRES_SPEC_ID, Emulator
from provisioner.errors import ApiError
from provisioner.remote.client import FlowServiceClient
from tests.emulator.chain_helpers import SCHEMA, START

from .client_helpers import (
    ORG,
    base_connection,
    connect,
    flow_payload,
    mapping_payload,
    source_payload,
    target_payload,
)

RULES = (
    MappingRule("attribute", "id", "_id"),
    MappingRule("expression", "lower(id)", "_acme.key"),
)


def make_chain(emulator: Emulator, client: FlowServiceClient) -> dict[str, str]:
    base = base_connection(client)
    dataset = str(emulator.add_dataset(ORG, "prod", name="Orders", schemaId=SCHEMA)["id"])
    source = client.create_source_connection(ORG, "prod", source_payload(base), name="orders")
    target = client.create_target_connection(ORG, "prod", target_payload(dataset), name="orders")
    mapping = client.create_mapping_set(ORG, "prod", mapping_payload(), name="orders")
    assert mapping == CreatedMappingSet(mapping.id, "0")
    flow = client.create_flow(
        ORG, "prod", flow_payload(source.id, target.id, mapping.id), name="orders"
    )
    assert all(made.etag.startswith('"') for made in (source, target, flow))
    return {
        "base": base,
        "dataset": dataset,
        "source": source.id,
        "target": target.id,
        "mapping": mapping.id,
        "flow": flow.id,
    }


def test_a_whole_chain_reads_back_through_the_list_calls(emulator: Emulator) -> None:
    client = connect(emulator)
    ids = make_chain(emulator, client)

    [flow] = client.list_flows(ORG, "prod")
    assert (flow.id, flow.name, flow.description, flow.spec_id, flow.state) == (
        ids["flow"],
        "orders",
        "nightly orders",
        FLOW_SPEC_ID,
        "enabled",
    )
    assert flow.source_connection_ids == (ids["source"],)
    assert flow.target_connection_ids == (ids["target"],)
    assert flow.base_connection_id == ids["base"]  # from inheritedAttributes
    assert dict(flow.schedule) == {
        "startTime": str(START),
        "frequency": "minute",
        "interval": "15",
        "backfill": "true",
    }
    assert (flow.mapping_id, flow.mapping_version, flow.mapping_index) == (ids["mapping"], "0", 1)
    assert flow.incremental == Incremental("updated_at", "yyyy-MM-dd HH:mm:ss", "UTC")
    assert flow.etag and isinstance(flow.created_at, int)
    assert client.get_flow(ORG, "prod", ids["flow"]) == flow

    [source] = client.list_source_connections(ORG, "prod", spec_id=POSTGRES_SPEC_ID)
    assert source == RemoteSourceConnection(
        ids["source"],
        "public.orders (source)",
        source.etag,
        None,
        POSTGRES_SPEC_ID,
        ids["base"],
        "public.orders",
        ("id", "updated_at"),
    )
    assert client.list_source_connections(ORG, "prod", spec_id="another-spec") == []
    [target] = client.list_target_connections(ORG, "prod")
    assert target == RemoteTargetConnection(
        ids["target"],
        "orders (target)",
        target.etag,
        None,
        DATA_LAKE_SPEC_ID,
        ids["dataset"],
        SCHEMA,
    )
    expected = RemoteMappingSet(ids["mapping"], "0", SCHEMA, RULES)
    assert client.list_mapping_sets(ORG, "prod") == [expected]
    assert client.get_mapping_set(ORG, "prod", ids["mapping"], version=None) == expected
    assert client.list_datasets(ORG, "prod") == [Dataset(ids["dataset"], "Orders", SCHEMA)]
    # Another sandbox holds none of it.
    assert client.list_flows(ORG, "dev") == [] and client.list_datasets(ORG, "dev") == []


def test_updates_need_the_current_etag_and_a_mapping_update_makes_a_new_version(
    emulator: Emulator,
) -> None:
    client = connect(emulator)
    ids = make_chain(emulator, client)
    flow = client.get_flow(ORG, "prod", ids["flow"])

    changed = mapping_payload("_acme.extra")
    assert client.update_mapping_set(ORG, "prod", ids["mapping"], changed, name="orders") == (
        CreatedMappingSet(ids["mapping"], "1")
    )
    replace: dict[str, object] = {
        "op": "replace",
        "path": f"/transformations/{flow.mapping_index}",
        "value": {
            "name": "Mapping",
            "params": {"mappingId": ids["mapping"], "mappingVersion": "1"},
        },
    }
    ops: list[dict[str, object]] = [
        {"op": "replace", "path": "/description", "value": "hourly orders"},
        replace,
    ]
    updated = client.update_flow(ORG, "prod", ids["flow"], ops, etag=flow.etag, name="orders")
    assert updated.id == ids["flow"] and updated.etag not in ("", flow.etag)

    now = client.get_flow(ORG, "prod", ids["flow"])
    assert (now.description, now.mapping_version, now.etag) == ("hourly orders", "1", updated.etag)
    latest = client.get_mapping_set(ORG, "prod", ids["mapping"], version=None)
    assert (latest.version, latest.rules[-1]) == (
        "1",
        MappingRule("attribute", "id", "_acme.extra"),
    )
    assert client.get_mapping_set(ORG, "prod", ids["mapping"], version="0").rules == RULES

    # Someone changed the flow since it was read: 412, and nothing changed.
    with pytest.raises(ApiError) as stale:
        client.update_flow(ORG, "prod", ids["flow"], ops[:1], etag=flow.etag, name="orders")
    assert stale.value.status == 412
    assert str(stale.value).startswith(
        f"update flow 'orders' ({ids['flow']}) in sandbox 'prod' failed: PATCH "
    )
    assert client.get_flow(ORG, "prod", ids["flow"]).etag == updated.etag


def test_disable_and_enable_a_flow(emulator: Emulator) -> None:
    client = connect(emulator)
    ids = make_chain(emulator, client)
    before = client.get_flow(ORG, "prod", ids["flow"]).etag

    disabled = client.flow_action(ORG, "prod", ids["flow"], "disable", name="orders")
    assert disabled.etag not in ("", before)
    assert client.get_flow(ORG, "prod", ids["flow"]).state == "disabled"
    # Asked again: the API refuses (FLOW-1422-400) in the state asked for, which is done.
    again = client.flow_action(ORG, "prod", ids["flow"], "disable", name="orders")
    assert again.etag == disabled.etag
    client.flow_action(ORG, "prod", ids["flow"], "enable", name="orders")
    assert client.get_flow(ORG, "prod", ids["flow"]).state == "enabled"
    assert client.requests_sent["POST"] == 8  # base + 4 chain creates + 3 actions, no retry


def test_runs_of_flows_with_their_counts_and_errors(emulator: Emulator) -> None:
    client = connect(emulator)
    ids = make_chain(emulator, client)
    other = emulator.add_dataflow(ORG, "prod", ids["base"], "other")
    failed = {
        "flowId": ids["flow"],
        "status": "failed",
        "startedAt": START,
        "inputRecordCount": 10,
        "outputRecordCount": 7,
        "failedRecordCount": 3,
        "errors": [{"code": "CONNECTOR-2001-500", "message": "updated_at is null"}],
    }
    emulator.add_run(ORG, "prod", failed)
    later = {"flowId": ids["flow"], "status": "success", "startedAt": START + 900}
    emulator.add_run(ORG, "prod", later | {"inputRecordCount": 5, "outputRecordCount": 5})
    emulator.add_run(ORG, "prod", {"flowId": other["flowId"], "startedAt": START})

    runs = client.list_runs(ORG, "prod", [ids["flow"]])
    assert [(r.status, r.started_at, r.completed_at) for r in runs] == [
        ("failed", START * 1000, (START + 60) * 1000),
        ("success", (START + 900) * 1000, (START + 960) * 1000),
    ]
    first = runs[0]
    assert first == FlowRun(
        first.id,
        ids["flow"],
        "failed",
        START * 1000,
        (START + 60) * 1000,
        10,
        7,
        3,
        (("CONNECTOR-2001-500", "updated_at is null"),),
    )
    since = client.list_runs(ORG, "prod", [ids["flow"]], since_ms=(START + 1) * 1000)
    assert [r.status for r in since] == ["success"]
    both = client.list_runs(ORG, "prod", [ids["flow"], other["flowId"]])
    # The other flow's: its first run (due when it was made, still going) and the stored one.
    assert sorted((r.flow_id == ids["flow"], r.status) for r in both) == [
        (False, "failed"),
        (False, "inProgress"),
        (True, "failed"),
        (True, "success"),
    ]
    sent = client.requests_sent["GET"]
    assert client.list_runs(ORG, "prod", []) == [] and client.requests_sent["GET"] == sent


def test_a_chain_is_deleted_flow_first(emulator: Emulator) -> None:
    client = connect(emulator)
    ids = make_chain(emulator, client)
    with pytest.raises(ApiError, match="FLOW-1447-400") as in_use:
        client.delete_source_connection(ORG, "prod", ids["source"], name="orders")
    assert str(in_use.value).startswith(
        f"delete source connection 'orders' ({ids['source']}) in sandbox 'prod' failed"
    )

    client.delete_flow(ORG, "prod", ids["flow"], name="orders")
    client.delete_target_connection(ORG, "prod", ids["target"], name="orders")
    client.delete_source_connection(ORG, "prod", ids["source"], name="orders")
    assert client.list_flows(ORG, "prod") == []
    assert client.list_target_connections(ORG, "prod") == []
    assert client.list_source_connections(ORG, "prod", spec_id=POSTGRES_SPEC_ID) == []
    with pytest.raises(ApiError) as gone:
        client.get_flow(ORG, "prod", ids["flow"])
    assert gone.value.status == 404
    # The mapping set stays: Data Prep documents no delete.
    assert [m.id for m in client.list_mapping_sets(ORG, "prod")] == [ids["mapping"]]
