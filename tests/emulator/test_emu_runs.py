"""Runs derived from a flow's schedule on a hand-moved clock, and runs failed on purpose."""

from __future__ import annotations

import httpx

from provisioner.emulator import Emulator

from .chain_helpers import START, Clock, chain
from .emu_helpers import FLOW, ORG, flow_code


def runs(df: httpx.Client, *filters: str) -> list[dict[str, object]]:
    response = df.get(f"{FLOW}/runs", params=[("property", f) for f in filters])
    assert response.status_code == 200, response.text
    items: list[dict[str, object]] = response.json()["items"]
    return items


def started(run: dict[str, object]) -> int:
    metrics = run["metrics"]
    assert isinstance(metrics, dict)
    return int(metrics["durationSummary"]["startedAtUTC"]) // 1000


def test_runs_follow_the_schedule(df: httpx.Client, emu: Emulator, clock: Clock) -> None:
    ids = chain(df, emu)  # every 15 minutes from START
    assert runs(df) == []
    clock.now = START + 3600 + 30
    listed = runs(df, f"flowId=={ids['flow']}")
    assert [started(r) for r in listed] == [START + k * 900 for k in range(5)]
    statuses = [r["metrics"]["statusSummary"]["status"] for r in listed]  # type: ignore[index]
    assert statuses == ["success"] * 4 + ["inProgress"]
    (one,) = df.get(f"{FLOW}/runs/{listed[0]['id']}").json()["items"]
    assert one == listed[0]
    assert flow_code(df.get(f"{FLOW}/runs/nope")) == "1101-404"
    (flow,) = df.get(f"{FLOW}/flows/{ids['flow']}").json()["items"]
    assert flow["lastRunDetails"]["id"] == listed[-1]["id"]


def test_a_disabled_flow_does_not_run(df: httpx.Client, emu: Emulator, clock: Clock) -> None:
    ids = chain(df, emu)
    clock.now = START + 1000  # runs at START and START+900
    df.post(f"{FLOW}/flows/{ids['flow']}/action", params={"op": "disable"})
    clock.now = START + 2000  # START+1800 falls while disabled
    df.post(f"{FLOW}/flows/{ids['flow']}/action", params={"op": "enable"})
    clock.now = START + 2800  # START+2700 runs again
    assert [started(r) for r in runs(df)] == [START, START + 900, START + 2700]


def test_a_run_made_to_fail_through_the_admin_route(
    df: httpx.Client, emu: Emulator, clock: Clock
) -> None:
    ids = chain(df, emu)
    clock.now = START + 1000
    body = {
        "org": ORG,
        "sandbox": "prod",
        "flowId": ids["flow"],
        "inputRecordCount": 10,
        "outputRecordCount": 7,
        "failedRecordCount": 3,
        "errors": [{"code": "CONNECTOR-2001-500", "message": "column updated_at is null"}],
    }
    made = df.post("/__emulator/runs", json=body)
    assert made.status_code == 201
    failed = runs(df, "metrics.statusSummary.status==failed")
    assert [r["id"] for r in failed] == [made.json()["id"]]
    assert started(failed[0]) == START + 900  # the latest due run, replaced
    metrics = failed[0]["metrics"]
    assert isinstance(metrics, dict)
    assert metrics["recordSummary"]["failedRecordCount"] == 3
    assert metrics["statusSummary"]["errors"][0]["code"] == "CONNECTOR-2001-500"
    assert len(runs(df)) == 2
    (flow,) = df.get(f"{FLOW}/flows/{ids['flow']}").json()["items"]
    assert flow["lastRunDetails"]["state"] == "failed"
    bad = df.post("/__emulator/runs", json={**body, "failedRecordCount": -1})
    assert bad.json()["message"] == "failedRecordCount must be a non-negative integer"
    state = df.get("/__emulator/state").json()
    assert [r["id"] for r in state["runs"]] == [made.json()["id"]]


def test_a_deleted_flow_takes_its_runs_along(df: httpx.Client, emu: Emulator, clock: Clock) -> None:
    ids = chain(df, emu)
    clock.now = START + 10
    emu.add_run(ORG, "prod", {"flowId": ids["flow"], "status": "success", "inputRecordCount": 4})
    assert df.delete(f"{FLOW}/flows/{ids['flow']}").status_code == 204
    assert runs(df) == []
    assert emu.state()["runs"] == []
