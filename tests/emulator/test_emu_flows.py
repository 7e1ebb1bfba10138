"""Flows: what a create must hold, what a PATCH may change, and the enable/disable rules."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from provisioner.emulator import Emulator, EmulatorConfig

from .chain_helpers import (
    CONVERSION,
    START,
    Clock,
    chain,
    created_id,
    dataset,
    flow_body,
    mapping_body,
    source_body,
    target_body,
)
from .emu_helpers import FLOW, create, flow_code, make_client, pg_payload


@pytest.fixture
def parts(df: httpx.Client, emu: Emulator) -> dict[str, str]:
    """A source, a target and a mapping set no flow uses yet."""
    base = create(df, pg_payload("parts"))["id"]
    return {
        "source": created_id(df.post(f"{FLOW}/sourceConnections", json=source_body(base))),
        "target": created_id(df.post(f"{FLOW}/targetConnections", json=target_body(dataset(emu)))),
        "mapping": created_id(df.post(f"{CONVERSION}/mappingSets", json=mapping_body()), 200),
    }


def post_flow(df: httpx.Client, parts: dict[str, str], **changes: Any) -> httpx.Response:
    body = flow_body(parts["source"], parts["target"], parts["mapping"])
    schedule = changes.pop("schedule", None)
    if schedule is not None:
        body["scheduleParams"] = schedule
    body.update(changes)
    return df.post(f"{FLOW}/flows", json=body)


def message(response: httpx.Response) -> str:
    return str(response.json()["errorMessage"])


def test_a_create_with_state_is_1410(df: httpx.Client, parts: dict[str, str]) -> None:
    assert flow_code(post_flow(df, parts, state="disabled")) == "1410-400"


def test_a_create_names_the_database_flow_spec(df: httpx.Client, parts: dict[str, str]) -> None:
    refused = post_flow(df, parts, flowSpec={"id": "9753525b-0000", "version": "1.0"})
    assert flow_code(refused) == "1413-400"


def test_an_unknown_key_in_a_flow_is_refused(df: httpx.Client, parts: dict[str, str]) -> None:
    refused = post_flow(df, parts, descripton="typo")
    assert message(refused) == (
        "Unknown field 'descripton' in the request body. Did you mean 'description'?"
    )
    schedule = {"startTime": str(START), "frequency": "hour", "intervall": "1"}
    assert message(post_flow(df, parts, schedule=schedule)) == (
        "Unknown field 'scheduleParams.intervall' in the request body. Did you mean 'interval'?"
    )


def test_copy_needs_a_delta_column(df: httpx.Client, parts: dict[str, str]) -> None:
    steps = [
        {"name": "Copy", "params": {}},
        {"name": "Mapping", "params": {"mappingId": parts["mapping"], "mappingVersion": 0}},
    ]
    refused = post_flow(df, parts, transformations=steps)
    assert message(refused) == "The Copy transformation needs params.deltaColumn.name (CRMToAEP)."


def test_a_mapping_version_that_does_not_exist_is_1412(
    df: httpx.Client, parts: dict[str, str]
) -> None:
    body = flow_body(parts["source"], parts["target"], parts["mapping"], version=3)
    refused = df.post(f"{FLOW}/flows", json=body)
    assert flow_code(refused) == "1412-400"
    assert message(refused) == (
        f"The mapping version '3' of mapping set '{parts['mapping']}' is invalid."
    )


@pytest.mark.parametrize(
    ("schedule", "expected"),
    [
        ({"startTime": str(START), "frequency": "minute", "interval": "5"}, "at least 15"),
        ({"startTime": str(START), "frequency": "hour", "interval": "0"}, "at least 1"),
        ({"startTime": str(START), "frequency": "daily", "interval": "1"}, "frequency must be"),
        ({"startTime": str(START), "frequency": "once", "interval": "15"}, "must be absent"),
        ({"startTime": str(START), "frequency": "once", "backfill": True}, "must be absent"),
        ({"startTime": str(START), "frequency": "hour"}, "interval is required"),
        ({"startTime": "1612310466", "frequency": "once"}, "startTime is in the past"),
        ({"frequency": "once"}, "startTime is required"),
        ({"startTime": "soon", "frequency": "once"}, "startTime must be"),
        ({"startTime": str(START * 1000), "frequency": "once"}, "looks like milliseconds"),
    ],
)
def test_schedule_rules(
    df: httpx.Client, parts: dict[str, str], schedule: dict[str, Any], expected: str
) -> None:
    refused = post_flow(df, parts, schedule=schedule)
    assert flow_code(refused) == "1100-400"
    assert expected in message(refused)


def test_hourly_interval_1_is_accepted_unless_the_tutorials_prose_is_chosen(
    emu: Emulator, df: httpx.Client, parts: dict[str, str]
) -> None:
    """Open point 2: the flowSpec's JSON Schema (what schedules are checked against) allows
    1 for hour/day/week; the database tutorial's prose says 15, against its own table."""
    hourly = {"startTime": str(START), "frequency": "hour", "interval": "1"}
    assert post_flow(df, parts, schedule=hourly).status_code == 201
    emu.set_dataflow_options(min_interval_other=15)
    refused = post_flow(df, parts, schedule=hourly)
    assert flow_code(refused) == "1100-400"
    assert "at least 15" in message(refused)


def test_schedule_options_relax_the_open_points(
    df: httpx.Client, parts: dict[str, str], emu: Emulator
) -> None:
    emu.set_dataflow_options(min_interval_other=1, past_start_time="accepted")
    schedule = {"startTime": 1612310466, "frequency": "hour", "interval": 1, "backfill": False}
    flow_id = created_id(post_flow(df, parts, schedule=schedule))
    (flow,) = df.get(f"{FLOW}/flows/{flow_id}").json()["items"]
    # JSON numbers and booleans come back as the strings a GET shows [doc UPD].
    assert flow["scheduleParams"] == {
        "startTime": "1612310466",
        "frequency": "hour",
        "interval": "1",
        "backfill": "false",
    }
    emu.set_dataflow_options(schedule_types="strings")
    with pytest.raises(ValueError, match="unknown dataflow option 'nope'"):
        emu.set_dataflow_options(nope="x")


def test_a_source_and_target_belong_to_one_flow(df: httpx.Client, parts: dict[str, str]) -> None:
    created_id(post_flow(df, parts))
    again = post_flow(df, parts)
    assert message(again).endswith("a source and a target connection belong to a single dataflow.")


def patch(df: httpx.Client, flow_id: str, ops: Any, etag: str | None) -> httpx.Response:
    headers = {"If-Match": etag} if etag else {}
    return df.patch(f"{FLOW}/flows/{flow_id}", json=ops, headers=headers)


def test_patch_documented_paths(df: httpx.Client, emu: Emulator) -> None:
    ids = chain(df, emu)
    etag = df.get(f"{FLOW}/flows/{ids['flow']}").json()["items"][0]["etag"]
    assert flow_code(patch(df, ids["flow"], [], None)) == "1403-400"
    rename = [{"op": "replace", "path": "/name", "value": "x"}]
    assert flow_code(patch(df, ids["flow"], rename, '"stale"')) == "1404-412"
    ops = [
        {"op": "replace", "path": "/name", "value": "renamed"},
        {"op": "replace", "path": "/scheduleParams/frequency", "value": "once"},
    ]
    refused = patch(df, ids["flow"], ops, etag)
    assert message(refused) == (
        "The patch request is invalid: a periodic flow cannot be rescheduled to once."
    )
    ops[1]["value"] = "day"
    done = patch(df, ids["flow"], ops, etag)
    assert done.status_code == 200 and set(done.json()) == {"id", "etag"}
    assert done.json()["etag"] != etag
    (flow,) = df.get(f"{FLOW}/flows/{ids['flow']}").json()["items"]
    assert (flow["name"], flow["scheduleParams"]["frequency"]) == ("renamed", "day")
    assert flow["lastOperation"]["operation"] == "update"
    moved = patch(df, ids["flow"], [{"op": "move", "from": "/name", "path": "/x"}], flow["etag"])
    assert flow_code(moved) == "1434-400"
    other = [{"op": "replace", "path": "/scheduleParams/interval", "value": "30"}]
    assert flow_code(patch(df, ids["flow"], other, flow["etag"])) == "1455-400"
    emu.set_dataflow_options(flow_patch_paths="schedule")
    assert patch(df, ids["flow"], other, flow["etag"]).status_code == 200


def test_patch_the_mapping_to_a_new_version(df: httpx.Client, emu: Emulator) -> None:
    ids = chain(df, emu)
    etag = df.get(f"{FLOW}/flows/{ids['flow']}").json()["items"][0]["etag"]
    put = df.put(f"{CONVERSION}/mappingSets/{ids['mapping']}", json=mapping_body())
    assert put.json()["version"] == 1
    value = {"name": "Mapping", "params": {"mappingId": ids["mapping"], "mappingVersion": 1}}
    # The update guide's example replaces index 0, which is Copy for database flows.
    wrong = patch(
        df, ids["flow"], [{"op": "replace", "path": "/transformations/0", "value": value}], etag
    )
    assert message(wrong) == (
        "The patch request is invalid: /transformations/0 is the Copy transformation, not Mapping."
    )
    ok = patch(
        df, ids["flow"], [{"op": "replace", "path": "/transformations/1", "value": value}], etag
    )
    assert ok.status_code == 200
    (flow,) = df.get(f"{FLOW}/flows/{ids['flow']}").json()["items"]
    assert flow["transformations"][1]["params"]["mappingVersion"] == "1"
    bad = {**value, "params": {**value["params"], "mappingVersion": 9}}
    gone = patch(
        df,
        ids["flow"],
        [{"op": "replace", "path": "/transformations/1", "value": bad}],
        flow["etag"],
    )
    assert flow_code(gone) == "1412-400"


def action(df: httpx.Client, flow_id: str, op: str, **params: str) -> httpx.Response:
    return df.post(f"{FLOW}/flows/{flow_id}/action", params={"op": op, **params})


def test_enable_and_disable_follow_the_state_rules(df: httpx.Client, emu: Emulator) -> None:
    ids = chain(df, emu)
    assert flow_code(action(df, ids["flow"], "enable")) == "1422-400"
    disabled = action(df, ids["flow"], "disable")  # no body, no Content-Type, like aepp
    assert disabled.status_code == 200 and set(disabled.json()) == {"id", "etag"}
    assert df.get(f"{FLOW}/flows/{ids['flow']}").json()["items"][0]["state"] == "disabled"
    again = action(df, ids["flow"], "DISABLE")
    assert message(again) == "The action disable cannot be applied on the current state disabled."
    assert action(df, ids["flow"], "ENABLE").status_code == 200
    assert flow_code(action(df, ids["flow"], "finalize")) == "1402-400"
    assert flow_code(action(df, ids["flow"], "publish")) == "1444-400"
    assert flow_code(action(df, ids["flow"], "enable", subOp="PROGRESS")) == "1436-400"
    stale = df.post(
        f"{FLOW}/flows/{ids['flow']}/action",
        params={"op": "disable"},
        headers={"If-Match": '"stale"'},
    )
    assert flow_code(stale) == "1404-412"
    emu.set_dataflow_options(repeated_action="accepted")
    assert action(df, ids["flow"], "enable").status_code == 200


def test_transient_states_refuse_actions_and_patches(df: httpx.Client, emu: Emulator) -> None:
    ids = chain(df, emu)
    emu.set_dataflow_options(transient_reads=2)
    etag = action(df, ids["flow"], "disable").json()["etag"]
    assert flow_code(action(df, ids["flow"], "enable")) == "1421-400"
    rename = [{"op": "replace", "path": "/name", "value": "x"}]
    assert flow_code(patch(df, ids["flow"], rename, etag)) == "1420-400"
    states = [df.get(f"{FLOW}/flows/{ids['flow']}").json()["items"][0]["state"] for _ in range(3)]
    assert states == ["disabling", "disabled", "disabled"]
    assert patch(df, ids["flow"], rename, etag).status_code == 200


def test_op_case_is_an_option(df: httpx.Client, emu: Emulator) -> None:
    ids = chain(df, emu)
    emu.set_dataflow_options(action_op_case="upper")
    assert message(action(df, ids["flow"], "disable")) == "op must be upper case (ENABLE, DISABLE)."
    assert action(df, ids["flow"], "DISABLE").status_code == 200


def test_source_and_target_bodies_are_checked_too(df: httpx.Client, emu: Emulator) -> None:
    base = create(df, pg_payload("typos"))["id"]
    body = source_body(base)
    body["params"]["tabelName"] = body["params"].pop("tableName")
    refused = df.post(f"{FLOW}/sourceConnections", json=body)
    assert message(refused) == (
        "Unknown field 'params.tabelName' in the request body. Did you mean 'tableName'?"
    )
    target = target_body(dataset(emu))
    target["params"]["datasetId"] = target["params"].pop("dataSetId")
    assert message(df.post(f"{FLOW}/targetConnections", json=target)) == (
        "Unknown field 'params.datasetId' in the request body. Did you mean 'dataSetId'?"
    )
    old_version = target_body(dataset(emu, "v"))
    old_version["data"]["schema"]["version"] = "application/vnd.adobe.xed-full+json;version=1.0"
    assert flow_code(df.post(f"{FLOW}/targetConnections", json=old_version)) == "1100-400"
    emu.set_dataflow_options(schema_versions="any")
    assert df.post(f"{FLOW}/targetConnections", json=old_version).status_code == 201


def test_lenient_drops_unknown_keys_in_dataflow_bodies(clock: Clock) -> None:
    emulator = Emulator(EmulatorConfig(lenient=True), clock=clock)
    with make_client(emulator) as api:
        base = create(api)["id"]
        body = {**source_body(base), "descripton": "typo"}
        assert api.post(f"{FLOW}/sourceConnections", json=body).status_code == 201
    emulator.close()
