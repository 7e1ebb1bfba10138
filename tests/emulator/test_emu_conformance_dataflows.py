"""The dataflow routes against Adobe's OpenAPI response schemas, and every Flow Service code
the emulator knows reached by a request.

Item schemas are closed (``additionalProperties: false``) where the emulator answers only
fields the OpenAPI names. Two documented deviations: runs answer ``etag`` and ``activities``
as the monitoring guide shows them, where the OpenAPI spells ``eTag`` and ``activites``; the
flow spec's ``transformationSpecs`` is the tutorial's array, where the OpenAPI types one
object. Data Prep and Catalog have OpenAPI files of their own, which are not beside this one:
their shapes follow the guides and are asserted in test_emu_dataprep_catalog.py.
"""

from __future__ import annotations

import copy
from typing import Any

import httpx

from provisioner.emulator import Emulator
from provisioner.emulator.errors import FLOW_CODES

from .chain_helpers import (
    CONVERSION,
    START,
    Clock,
    chain,
    dataset,
    flow_body,
    mapping_body,
    source_body,
    target_body,
)
from .emu_helpers import FLOW, flow_code, pg_payload
from .test_emu_conformance import DOC, check, resolve, response_schema


def closed(schema: dict[str, Any]) -> dict[str, Any]:
    strict = copy.deepcopy(schema)
    strict["properties"]["items"]["items"]["additionalProperties"] = False
    return strict


def test_create_bodies_know_the_openapi_fields() -> None:
    from provisioner.emulator.fields import FLOW_BODY, SOURCE_BODY, TARGET_BODY

    schemas = DOC["components"]["schemas"]
    for name, shape, extra in (
        ("CreateSourceConnectionRequest", SOURCE_BODY, set()),
        # [open 8] baseConnectionId: the legacy dataset base connection; SF filters on it.
        ("CreateTargetConnectionRequest", TARGET_BODY, {"baseConnectionId"}),
        # [open 17] options: only with flow_options=accepted.
        ("CreateFlowRequest", FLOW_BODY, {"options"}),
    ):
        assert set(shape) == set(schemas[name]["properties"]) | extra, name


def test_dataflow_responses_match_the_openapi(
    df: httpx.Client, emu: Emulator, clock: Clock
) -> None:
    ids = chain(df, emu)
    base = df.post(f"{FLOW}/connections", json=pg_payload("second")).json()["id"]
    made = df.post(f"{FLOW}/sourceConnections", json=source_body(base))
    check(made.json(), response_schema("/sourceConnections", "post", "201"))
    assert made.headers["Location"].endswith(made.json()["id"])
    target = df.post(f"{FLOW}/targetConnections", json=target_body(dataset(emu, "second")))
    check(target.json(), response_schema("/targetConnections", "post", "201"))
    mapping = df.post(f"{CONVERSION}/mappingSets", json=mapping_body()).json()["id"]
    second = df.post(
        f"{FLOW}/flows", json=flow_body(made.json()["id"], target.json()["id"], mapping)
    )
    check(second.json(), response_schema("/flows", "post", "201"))
    assert second.headers["Location"].endswith(second.json()["id"])
    for path, item in (
        ("/flows/{FLOW_ID}", f"flows/{second.json()['id']}"),
        ("/targetConnections/{TARGET_CONNECTION_ID}", f"targetConnections/{target.json()['id']}"),
        ("/sourceConnections/{SOURCE_CONNECTION_ID}", f"sourceConnections/{made.json()['id']}"),
    ):
        assert "204" in DOC["paths"][path]["delete"]["responses"]
        assert df.delete(f"{FLOW}/{item}").status_code == 204
    emu.set_dataflow_options(schedule_echo="openapi")
    for collection, item in (
        ("sourceConnections", "/sourceConnections/{SOURCE_CONNECTION_ID}"),
        ("targetConnections", "/targetConnections/{TARGET_CONNECTION_ID}"),
        ("flows", "/flows/{FLOW_ID}"),
    ):
        listed = df.get(f"{FLOW}/{collection}", params={"limit": "1"}).json()
        check(listed, closed(response_schema(f"/{collection}", "get", "200")))
        key = {"sourceConnections": "source", "targetConnections": "target"}.get(collection, "flow")
        one = df.get(f"{FLOW}/{collection}/{ids[key]}").json()
        check(one, closed(response_schema(item, "get", "200")))
    etag = df.get(f"{FLOW}/sourceConnections/{ids['source']}").json()["items"][0]["etag"]
    patched = df.patch(
        f"{FLOW}/sourceConnections/{ids['source']}",
        json=[{"op": "replace", "path": "/description", "value": "orders table"}],
        headers={"If-Match": etag},
    )
    patch_schema = DOC["paths"]["/sourceConnections/{SOURCE_CONNECTION_ID}"]["patch"]
    schema = resolve(patch_schema["responses"]["200"]["content"]["application/json"]["schema"])
    check(patched.json(), closed(schema))
    flow_etag = df.get(f"{FLOW}/flows/{ids['flow']}").json()["items"][0]["etag"]
    flow_patch = df.patch(
        f"{FLOW}/flows/{ids['flow']}",
        json=[{"op": "replace", "path": "/description", "value": "d"}],
        headers={"If-Match": flow_etag},
    )
    flow_patch_schema = DOC["paths"]["/flows/{FLOW_ID}"]["patch"]["responses"]["200"]
    check(flow_patch.json(), resolve(flow_patch_schema["content"]["application/json"]["schema"]))
    acted = df.post(f"{FLOW}/flows/{ids['flow']}/action", params={"op": "disable"})
    check(acted.json(), response_schema("/flows/{FLOW_ID}/action", "post", "200"))
    df.post(f"{FLOW}/flows/{ids['flow']}/action", params={"op": "enable"})
    clock.now = START + 1000
    runs = df.get(f"{FLOW}/runs").json()
    check(runs, response_schema("/runs", "get", "200"))
    one_run = df.get(f"{FLOW}/runs/{runs['items'][0]['id']}").json()
    check(one_run, response_schema("/runs/{RUN_ID}", "get", "200"))
    # [open 1] The update guide shows every scheduleParams value as a string (the default);
    # the OpenAPI types startTime and backfill: schedule_echo=openapi answers that way.
    emu.set_dataflow_options(schedule_echo="openapi")
    (flow,) = df.get(f"{FLOW}/flows/{ids['flow']}").json()["items"]
    check({"items": [flow]}, closed(response_schema("/flows/{FLOW_ID}", "get", "200")))


def test_the_flow_spec_matches_the_openapi(df: httpx.Client) -> None:
    schema = response_schema("/flowSpecs", "get", "200")
    # The tutorial's GET shows transformationSpecs as an array of {name, spec}.
    item = schema["properties"]["items"]["items"]
    item["properties"]["transformationSpecs"] = {
        "type": "array",
        "items": item["properties"]["transformationSpecs"],
    }
    item["additionalProperties"] = False
    found = df.get(f"{FLOW}/flowSpecs", params={"property": 'name=="CRMToAEP"'}).json()
    check(found, schema)
    (spec,) = found["items"]
    assert spec["id"] == "14518937-270c-4525-bdec-c2ba7cce3860"
    assert "74a1c565-4e59-48d7-9d67-7c03b8a13137" in spec["sourceConnectionSpecIds"]
    one = df.get(f"{FLOW}/flowSpecs/{spec['id']}").json()
    check(one, schema)
    assert flow_code(df.get(f"{FLOW}/flowSpecs/nope")) == "1101-404"


def test_every_flow_code_is_reached(df: httpx.Client, emu: Emulator) -> None:
    ids = chain(df, emu)
    flow_url = f"{FLOW}/flows/{ids['flow']}"
    etag = df.get(flow_url).json()["items"][0]["etag"]
    action = f"{flow_url}/action"
    seen: dict[str, str] = {}

    def reach(code: str, response: httpx.Response) -> None:
        seen[code] = flow_code(response)

    body = flow_body(ids["source"], ids["target"], ids["mapping"])
    reach("1410-400", df.post(f"{FLOW}/flows", json={**body, "state": "enabled"}))
    bad_version = {"name": "Mapping", "params": {"mappingId": ids["mapping"], "mappingVersion": 5}}
    reach(
        "1412-400",
        df.patch(
            flow_url,
            json=[{"op": "replace", "path": "/transformations/1", "value": bad_version}],
            headers={"If-Match": etag},
        ),
    )
    reach("1418-400", df.delete(f"{FLOW}/connections/{ids['base']}"))
    reach("1447-400", df.delete(f"{FLOW}/sourceConnections/{ids['source']}"))
    reach("1402-400", df.post(action, params={"op": "FINALIZE"}))
    reach("1444-400", df.post(action, params={"op": "PUBLISH"}))
    reach("1436-400", df.post(action, params={"op": "ENABLE", "subOp": "PROGRESS"}))
    reach("1422-400", df.post(action, params={"op": "ENABLE"}))
    reach(
        "1434-400",
        df.patch(flow_url, json=[{"op": "move", "path": "/a"}], headers={"If-Match": etag}),
    )
    emu.set_dataflow_options(transient_reads=1)
    etag = df.post(action, params={"op": "DISABLE"}).json()["etag"]
    reach("1421-400", df.post(action, params={"op": "ENABLE"}))
    rename = [{"op": "replace", "path": "/name", "value": "x"}]
    reach("1420-400", df.patch(flow_url, json=rename, headers={"If-Match": etag}))
    other = CONVERSION + "/mappingSets"
    mapping = df.post(
        other,
        json={
            "xdmSchema": "https://other",
            "mappings": [{"sourceAttribute": "id", "destinationXdmPath": "_id"}],
        },
    ).json()["id"]
    value = {"name": "Mapping", "params": {"mappingId": mapping, "mappingVersion": 0}}
    df.get(flow_url)  # the transient state settles
    reach(
        "1425-400",
        df.patch(
            flow_url,
            json=[{"op": "replace", "path": "/transformations/1", "value": value}],
            headers={"If-Match": etag},
        ),
    )
    reach(
        "1413-400",
        df.post(f"{FLOW}/flows", json={**body, "flowSpec": {"id": "x", "version": "1.0"}}),
    )
    reach(
        "1455-400",
        df.patch(
            flow_url,
            json=[{"op": "test", "path": "/name", "value": "x"}],
            headers={"If-Match": etag},
        ),
    )
    assert seen == {code: code for code in seen}
    # Reached in test_emu_conformance.py; 1102/1103/1104 by the fault tests; 1100-405 by
    # the robustness tests.
    elsewhere = {
        "1100-400",
        "1101-404",
        "1401-400",
        "1403-400",
        "1404-412",
        "1405-400",
        "1414-400",
        "1415-400",
        "1416-400",
        "2100-404",
        "2105-400",
        "1102-500",
        "1103-503",
        "1104-504",
        "1100-405",
    }
    assert set(FLOW_CODES) == set(seen) | elsewhere
