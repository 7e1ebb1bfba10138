"""`provision apply` on manifests that declare dataflows, against the emulator on a loopback
socket: what a pipeline runs, what it prints, and what the sandbox holds afterwards."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from provisioner.emulator import Emulator, RunningServer
from provisioner.emulator.config import DEFAULT_ORG
from tests.reconcile.recon_helpers import run_cli

from .apply_helpers import census
from .cli_helpers import apply, converged, dataflow, manifest, point_at, prepare

ONE_FLOW = {
    "flows": {"orders-prod/public.orders": 1},
    "duplicates": 0,
    "orphans": (),
    "sources": 1,
    "targets": 1,
}


@pytest.fixture
def ready(monkeypatch: pytest.MonkeyPatch, server: RunningServer, emulator: Emulator) -> Emulator:
    point_at(monkeypatch, server, emulator)
    prepare(emulator)
    return emulator


def write(tmp_path: Path, *dataflows: str) -> Path:
    path = tmp_path / "orders.yaml"
    path.write_text(manifest(*dataflows), encoding="utf-8")
    return path


def tail(text: str, lines: int) -> list[str]:
    return text.splitlines()[-lines:]


def the_flow(emulator: Emulator) -> dict[str, object]:
    [flow] = emulator.state()["flows"]
    return dict(flow)


def test_apply_creates_the_connection_and_its_dataflow_then_nothing_changes(
    ready: Emulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, dataflow())
    first = apply(capsys, path)
    assert first.code == 0, first.out + first.err
    assert tail(first.out, 3) == [
        "  prod: 1 created",
        "Dataflows: 1 created.",
        "Apply complete: 1 created.",
    ]
    assert first.err == "Creating 1 connection...\nCreating 1 dataflow...\n"
    assert converged(ready) == ONE_FLOW
    second = apply(capsys, path)
    assert (second.code, tail(second.out, 1)) == (0, ["Nothing to change."])


def test_a_dataflow_declared_disabled_is_created_disabled(
    ready: Emulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    done = apply(capsys, write(tmp_path, dataflow(enabled=False)))
    assert done.code == 0, done.out + done.err
    assert the_flow(ready)["state"] == "disabled"


def test_description_schedule_mapping_and_state_are_updated_in_place(
    ready: Emulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert apply(capsys, write(tmp_path, dataflow())).code == 0
    before = the_flow(ready)
    changed = dataflow(
        description="hourly orders",
        frequency="hour",
        enabled=False,
        mapping=(
            "{source: id, destination: _id}",
            "{source: email, destination: personalEmail.address}",
        ),
    )
    done = apply(capsys, write(tmp_path, changed))
    assert done.code == 0, done.out + done.err
    assert tail(done.out, 2) == ["Dataflows: 1 updated.", "Apply complete: 0 created."]
    after = the_flow(ready)
    assert after["id"] == before["id"]
    assert (after["description"], after["scheduleParams"]["frequency"], after["state"]) == (  # type: ignore[index]
        "hourly orders\nmanaged-by: provision owner=team-orders",
        "hour",
        "disabled",
    )
    [mapping] = [t for t in after["transformations"] if t["name"] == "Mapping"]  # type: ignore[attr-defined]
    assert mapping["params"]["mappingVersion"] in ("1", 1)
    again = apply(capsys, write(tmp_path, changed))
    assert tail(again.out, 1) == ["Nothing to change."]


def test_what_cannot_change_in_place_is_replaced_only_when_asked(
    ready: Emulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert apply(capsys, write(tmp_path, dataflow())).code == 0
    old = the_flow(ready)
    path = write(tmp_path, dataflow(columns="[id, email, amount, updated_at]"))
    refused = apply(capsys, path)
    assert refused.code == 1
    assert tail(refused.out, 2) == [
        "  ! dataflow 'orders-prod/public.orders' (prod): the API cannot change in place: the "
        "columns; --replace-dataflows makes a new flow; with backfill it re-ingests history "
        "into the same dataset",
        "Nothing was applied: fix the problems above, then re-run apply.",
    ]
    assert the_flow(ready)["id"] == old["id"]
    done = apply(capsys, path, "--replace-dataflows")
    assert done.code == 0, done.out + done.err
    [old_mapping] = [t for t in old["transformations"] if t["name"] == "Mapping"]  # type: ignore[attr-defined]
    assert tail(done.out, 3) == [
        "  prod: 1 mapping set left behind, unused (Adobe documents no delete for them): "
        + old_mapping["params"]["mappingId"],
        "Dataflows: 1 replaced, 1 deleted.",
        "Apply complete: 0 created.",
    ]
    assert converged(ready) == ONE_FLOW
    assert the_flow(ready)["id"] != old["id"]
    assert census(ready).unused_mapping_sets == (old_mapping["params"]["mappingId"],)


def test_prune_deletes_an_undeclared_dataflow_flow_then_target_then_source(
    ready: Emulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert apply(capsys, write(tmp_path, dataflow())).code == 0
    [mapping_id] = [m["id"] for m in ready.state()["mappingSets"]]
    done = apply(capsys, write(tmp_path), "--prune")
    assert done.code == 0, done.out + done.err
    assert tail(done.out, 2)[0] == "Dataflows: 1 deleted."
    assert (
        f"mapping set left behind, unused (Adobe documents no delete for them): {mapping_id}"
        in done.out
    )
    now = census(ready)
    assert (sum(now.flows.values()), now.sources, now.targets) == (0, 0, 0)


def test_the_json_document_says_what_was_done_to_each_dataflow(
    ready: Emulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    done = run_cli(
        capsys,
        ["apply", str(write(tmp_path, dataflow())), "--auto-approve", "--format", "json"],
    )
    assert done.code == 0, done.err
    document = json.loads(done.out)
    flow = the_flow(ready)
    assert document["dataflows"] == [
        {
            "org": DEFAULT_ORG,
            "sandbox": "prod",
            "name": "orders-prod/public.orders",
            "action": "create",
            "outcome": "created",
            "id": flow["id"],
            "source": f"{tmp_path / 'orders.yaml'}:15",
            "message": None,
            "mapping_sets_left_behind": [],
        }
    ]
    assert document["dataflow_summary"] == {"created": 1}


def test_a_saved_plan_with_a_dataflow_is_applied_as_reviewed(
    ready: Emulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, dataflow())
    saved = tmp_path / "plan.json"
    assert run_cli(capsys, ["plan", str(path), "--out", str(saved)]).code == 0
    done = run_cli(capsys, ["apply", "--plan", str(saved)])
    assert done.code == 0, done.out + done.err
    assert tail(done.out, 2) == ["Dataflows: 1 created.", "Apply complete: 1 created."]
    assert converged(ready) == ONE_FLOW
