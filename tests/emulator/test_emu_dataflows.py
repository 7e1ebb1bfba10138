"""Dataflows by hand through the documented routes: the whole chain, its reads, and the refusals
that keep what a flow uses alive (FLOW-1418-400 for a base connection, 1447 for its source and
target connections)."""

from __future__ import annotations

from pathlib import Path

import httpx

from provisioner.emulator import Emulator, EmulatorConfig

from .chain_helpers import (
    CONVERSION,
    Clock,
    chain,
    created_id,
    dataset,
    flow_body,
    mapping_body,
    source_body,
    target_body,
)
from .emu_helpers import FLOW, ORG, create, flow_code, make_client, pg_payload


def test_a_whole_chain_reads_back_as_adobe_shows_it(df: httpx.Client, emu: Emulator) -> None:
    ids = chain(df, emu)
    (flow,) = df.get(f"{FLOW}/flows/{ids['flow']}").json()["items"]
    assert flow["state"] == "enabled"
    assert flow["sourceConnectionIds"] == [ids["source"]]
    assert flow["scheduleParams"] == {
        "startTime": str(1767225600 + 3600),
        "frequency": "minute",
        "interval": "15",
        "backfill": "true",
    }
    mapping = flow["transformations"][1]
    assert mapping == {
        "name": "Mapping",
        "params": {"mappingId": ids["mapping"], "mappingVersion": "0"},  # a string on GET
    }
    inherited = flow["inheritedAttributes"]["sourceConnections"][0]
    assert inherited["baseConnection"]["id"] == ids["base"]
    assert flow["runs"] == f"/runs?property=flowId=={ids['flow']}"
    assert not any(key.startswith("_") for key in flow)
    (source,) = df.get(f"{FLOW}/sourceConnections/{ids['source']}").json()["items"]
    assert source["params"]["tableName"] == "public.orders"
    assert source["inheritedAttributes"]["baseConnection"]["id"] == ids["base"]
    (target,) = df.get(f"{FLOW}/targetConnections/{ids['target']}").json()["items"]
    assert target["params"] == {"dataSetId": ids["dataset"]}


def test_what_a_flow_uses_cannot_be_deleted_until_the_flow_goes(
    df: httpx.Client, emu: Emulator
) -> None:
    ids = chain(df, emu)
    refused = df.delete(f"{FLOW}/connections/{ids['base']}")
    assert (refused.status_code, flow_code(refused)) == (400, "1418-400")
    assert "'orders to lake'" in refused.json()["errorMessage"]
    for kind, collection in (("source", "sourceConnections"), ("target", "targetConnections")):
        in_use = df.delete(f"{FLOW}/{collection}/{ids[kind]}")
        assert flow_code(in_use) == "1447-400"
        assert in_use.json()["errorMessage"] == (
            f"Found active flows containing id {ids[kind]}: {ids['flow']}."
        )
    assert df.delete(f"{FLOW}/flows/{ids['flow']}").status_code == 204
    assert flow_code(df.get(f"{FLOW}/flows/{ids['flow']}")) == "1101-404"
    # No cascade: the source and target connections stay until deleted.
    assert df.get(f"{FLOW}/sourceConnections/{ids['source']}").status_code == 200
    assert df.delete(f"{FLOW}/targetConnections/{ids['target']}").status_code == 204
    assert df.delete(f"{FLOW}/sourceConnections/{ids['source']}").status_code == 204
    assert df.delete(f"{FLOW}/connections/{ids['base']}").status_code == 204


def test_in_use_delete_allowed_by_option(df: httpx.Client, emu: Emulator) -> None:
    ids = chain(df, emu)
    emu.set_dataflow_options(in_use_delete="allowed")
    assert df.delete(f"{FLOW}/sourceConnections/{ids['source']}").status_code == 204


def test_a_source_connection_alone_does_not_hold_its_base_connection(df: httpx.Client) -> None:
    base = create(df)["id"]
    created_id(df.post(f"{FLOW}/sourceConnections", json=source_body(base)))
    assert df.delete(f"{FLOW}/connections/{base}").status_code == 204


def test_lists_filter_with_list_fields_and_page_by_token(df: httpx.Client, emu: Emulator) -> None:
    first, second = chain(df, emu, "public.orders"), chain(df, emu, "public.items")
    by_source = df.get(
        f"{FLOW}/flows", params={"property": f"sourceConnectionIds[]=={second['source']}"}
    )
    assert [f["id"] for f in by_source.json()["items"]] == [second["flow"]]
    by_base = df.get(
        f"{FLOW}/flows",
        params={
            "property": "inheritedAttributes.sourceConnections[].baseConnection.id=="
            f"{first['base']},{second['base']}"
        },
    )
    assert len(by_base.json()["items"]) == 2
    columns = df.get(f"{FLOW}/sourceConnections", params={"property": "params.columns[].name==id"})
    assert len(columns.json()["items"]) == 2
    page = df.get(f"{FLOW}/targetConnections", params={"limit": "1", "orderby": "-createdAt"})
    href = page.json()["_links"]["next"]["href"]
    assert href.startswith("/targetConnections?continuationToken=")
    rest = df.get(f"{FLOW}{href}").json()
    assert [t["id"] for t in page.json()["items"] + rest["items"]] == [
        second["target"],
        first["target"],
    ]
    assert df.get(f"{FLOW}/flows", params={"count": "true"}).json() == {"count": 2}
    unknown = df.get(f"{FLOW}/flows", params={"property": "sourceConnectionIds==x"})
    assert unknown.json()["errorMessage"] == (
        "Cannot filter on 'sourceConnectionIds': flows have no such field. "
        "Did you mean 'sourceConnectionIds[]'?"
    )


def test_references_must_exist_in_the_same_sandbox(df: httpx.Client, emu: Emulator) -> None:
    ids = chain(df, emu)
    with make_client(emu, "dev") as dev:
        missing_base = dev.post(f"{FLOW}/sourceConnections", json=source_body(ids["base"]))
        assert (missing_base.status_code, flow_code(missing_base)) == (404, "1101-404")
        body = flow_body(ids["source"], ids["target"], ids["mapping"])
        assert flow_code(dev.post(f"{FLOW}/flows", json=body)) == "1101-404"


def test_preloaded_through_the_admin_route_and_shown_in_the_state(
    emu: Emulator, df: httpx.Client
) -> None:
    base = create(df)["id"]
    preload = {"org": ORG, "sandbox": "prod", "connection_id": base, "name": "nightly orders"}
    made = df.post("/__emulator/dataflows", json=preload)
    assert made.status_code == 201
    ids = made.json()
    assert set(ids) == {
        "sourceConnectionId",
        "targetConnectionId",
        "dataSetId",
        "mappingSetId",
        "flowId",
    }
    state = df.get("/__emulator/state").json()
    assert [f["id"] for f in state["flows"]] == [ids["flowId"]]
    assert [s["baseConnectionId"] for s in state["sourceConnections"]] == [base]
    assert [t["id"] for t in state["targetConnections"]] == [ids["targetConnectionId"]]
    assert [d["id"] for d in state["dataSets"]] == [ids["dataSetId"]]
    assert [m["id"] for m in state["mappingSets"]] == [ids["mappingSetId"]]
    assert flow_code(df.delete(f"{FLOW}/connections/{base}")) == "1418-400"
    unknown = df.post("/__emulator/dataflows", json={**preload, "connection_id": "nope"})
    assert unknown.status_code == 404
    assert df.post("/__emulator/dataflows", json={"org": ORG}).status_code == 400


def test_datasets_are_preloaded_through_the_admin_route(df: httpx.Client) -> None:
    made = df.post(
        "/__emulator/datasets",
        json={"org": ORG, "sandbox": "prod", "name": "Orders", "schemaId": "https://s/x"},
    )
    assert made.status_code == 201
    assert len(made.json()["id"]) == 24
    bad = df.post("/__emulator/datasets", json={"org": ORG, "sandbox": "prod", "name": "x"})
    assert bad.status_code == 400


def test_dataflows_survive_a_restart(tmp_path: Path, clock: Clock) -> None:
    state = str(tmp_path / "emu.db")
    first = Emulator(EmulatorConfig(state_file=state), clock=clock)
    with make_client(first) as api:
        ids = chain(api, first)
    first.add_dataflow(ORG, "prod", ids["base"], "nightly")
    first.close()
    second = Emulator(EmulatorConfig(state_file=state), clock=clock)
    try:
        with make_client(second) as api:
            assert flow_code(api.delete(f"{FLOW}/connections/{ids['base']}")) == "1418-400"
            assert len(api.get(f"{FLOW}/flows").json()["items"]) == 2
            mapping = api.get(f"{CONVERSION}/mappingSets/{ids['mapping']}")
            assert mapping.json()["version"] == 0
            data = api.get(f"/data/foundation/catalog/dataSets/{ids['dataset']}")
            assert data.status_code == 200
    finally:
        second.close()


def test_a_target_needs_a_dataset_with_its_schema(df: httpx.Client, emu: Emulator) -> None:
    data_set = dataset(emu, schema="https://ns.adobe.com/acme/schemas/other")
    mismatch = df.post(f"{FLOW}/targetConnections", json=target_body(data_set))
    assert flow_code(mismatch) == "1425-400"
    missing = df.post(f"{FLOW}/targetConnections", json=target_body("0" * 24))
    assert missing.json()["errorMessage"] == (f"params.dataSetId '{'0' * 24}' is not a dataset.")


def test_a_mapping_for_another_schema_is_1425(df: httpx.Client, emu: Emulator) -> None:
    base = create(df, pg_payload("x"))["id"]
    source = created_id(df.post(f"{FLOW}/sourceConnections", json=source_body(base)))
    target = created_id(df.post(f"{FLOW}/targetConnections", json=target_body(dataset(emu))))
    other = mapping_body("https://ns.adobe.com/acme/schemas/other")
    mapping = created_id(df.post(f"{CONVERSION}/mappingSets", json=other), 200)
    refused = df.post(f"{FLOW}/flows", json=flow_body(source, target, mapping))
    assert flow_code(refused) == "1425-400"
