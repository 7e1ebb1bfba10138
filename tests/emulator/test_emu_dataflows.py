"""Source connections and dataflows: created, listed, read, deleted, and the in-use refusal
(FLOW-1418-400) that keeps a base connection its dataflows read from being deleted."""

from __future__ import annotations

from pathlib import Path

import httpx

from provisioner.emulator import Emulator, EmulatorConfig

from .emu_helpers import FLOW, ORG, create, flow_code, make_client, pg_payload

SPEC = {"id": "74a1c565-4e59-48d7-9d67-7c03b8a13137", "version": "1.0"}
FLOW_SPEC = {"id": "14518937-270c-4525-bdec-c2ba7cce3860", "version": "1.0"}


def source(api: httpx.Client, base_id: str, name: str = "orders table") -> str:
    body = {"name": name, "baseConnectionId": base_id, "connectionSpec": SPEC}
    response = api.post(f"{FLOW}/sourceConnections", json=body)
    assert response.status_code == 201, response.text
    assert response.headers["Location"].endswith(f"/sourceConnections/{response.json()['id']}")
    return str(response.json()["id"])


def dataflow(api: httpx.Client, source_id: str, name: str = "orders to lake") -> str:
    body = {
        "name": name,
        "flowSpec": FLOW_SPEC,
        "sourceConnectionIds": [source_id],
        "targetConnectionIds": ["t-1"],
    }
    response = api.post(f"{FLOW}/flows", json=body)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def test_a_connection_a_dataflow_reads_cannot_be_deleted_until_the_flow_goes(
    api: httpx.Client,
) -> None:
    base = create(api)["id"]
    source_id = source(api, base)
    flow_id = dataflow(api, source_id)

    refused = api.delete(f"{FLOW}/connections/{base}")
    assert (refused.status_code, flow_code(refused)) == (400, "1418-400")
    assert "'orders to lake'" in refused.json()["errorMessage"]
    assert api.get(f"{FLOW}/connections/{base}").status_code == 200
    in_use_source = api.delete(f"{FLOW}/sourceConnections/{source_id}")
    assert (in_use_source.status_code, flow_code(in_use_source)) == (400, "1418-400")

    assert api.delete(f"{FLOW}/flows/{flow_id}").status_code == 204
    assert api.get(f"{FLOW}/flows/{flow_id}").status_code == 404
    assert api.delete(f"{FLOW}/connections/{base}").status_code == 204


def test_a_source_connection_alone_does_not_hold_its_base_connection(api: httpx.Client) -> None:
    base = create(api)["id"]
    source(api, base)
    assert api.delete(f"{FLOW}/connections/{base}").status_code == 204


def test_lists_filter_and_page_like_connections(api: httpx.Client) -> None:
    orders, billing = create(api)["id"], create(api, pg_payload("billing"))["id"]
    sources = [source(api, orders, "a"), source(api, orders, "b"), source(api, billing, "c")]
    listed = api.get(
        f"{FLOW}/sourceConnections", params={"property": f"baseConnectionId=={orders}"}
    )
    assert [item["id"] for item in listed.json()["items"]] == sources[:2]
    first = api.get(f"{FLOW}/sourceConnections", params={"limit": "2"}).json()
    assert len(first["items"]) == 2 and "next" in first["_links"]
    rest = api.get(f"{FLOW}{first['_links']['next']['href']}").json()
    assert [i["id"] for i in first["items"] + rest["items"]] == sources
    flow_id = dataflow(api, sources[0])
    (item,) = api.get(f"{FLOW}/flows").json()["items"]
    assert (item["id"], item["sourceConnectionIds"], item["state"]) == (
        flow_id,
        [sources[0]],
        "enabled",
    )
    assert api.get(f"{FLOW}/flows/{flow_id}").json()["items"][0]["name"] == "orders to lake"


def test_references_must_exist_in_the_same_sandbox(emulator: Emulator, api: httpx.Client) -> None:
    base = create(api)["id"]
    with make_client(emulator, "dev") as dev:
        missing_base = dev.post(
            f"{FLOW}/sourceConnections",
            json={"name": "x", "baseConnectionId": base, "connectionSpec": SPEC},
        )
        assert (missing_base.status_code, flow_code(missing_base)) == (404, "1101-404")
    source_id = source(api, base)
    with make_client(emulator, "dev") as dev:
        body = {"name": "f", "flowSpec": FLOW_SPEC, "sourceConnectionIds": [source_id]}
        missing_source = dev.post(f"{FLOW}/flows", json=body)
        assert (missing_source.status_code, flow_code(missing_source)) == (404, "1101-404")
    bad = api.post(f"{FLOW}/flows", json={"name": "f", "flowSpec": FLOW_SPEC})
    assert (bad.status_code, flow_code(bad)) == (400, "1100-400")


def test_preloaded_through_the_admin_route_and_shown_in_the_state(
    emulator: Emulator, api: httpx.Client
) -> None:
    base = create(api)["id"]
    preload = {"org": ORG, "sandbox": "prod", "connection_id": base, "name": "nightly orders"}
    made = api.post("/__emulator/dataflows", json=preload)
    assert made.status_code == 201
    ids = made.json()
    state = api.get("/__emulator/state").json()
    assert [f["id"] for f in state["flows"]] == [ids["flowId"]]
    assert [s["baseConnectionId"] for s in state["sourceConnections"]] == [base]
    refused = api.delete(f"{FLOW}/connections/{base}")
    assert flow_code(refused) == "1418-400"
    unknown = api.post("/__emulator/dataflows", json={**preload, "connection_id": "nope"})
    assert unknown.status_code == 404
    assert api.post("/__emulator/dataflows", json={"org": ORG}).status_code == 400


def test_dataflows_survive_a_restart(tmp_path: Path) -> None:
    state = str(tmp_path / "emu.db")
    first = Emulator(EmulatorConfig(state_file=state))
    with make_client(first) as api:
        base = create(api)["id"]
    first.add_dataflow(ORG, "prod", base, "nightly")
    first.close()
    second = Emulator(EmulatorConfig(state_file=state))
    try:
        with make_client(second) as api:
            assert flow_code(api.delete(f"{FLOW}/connections/{base}")) == "1418-400"
    finally:
        second.close()
