"""Remote text in apply's dataflow output is data: a flow of ours named with a CI workflow
command, ANSI escapes and bidi controls, pruned by `apply --prune`, shows no line a CI runner
or a terminal would act on, and keeps its exact name in the JSON document."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from provisioner.dataflow import DATA_LAKE_SPEC_ID, FLOW_SPEC_ID, SCHEMA_VERSION
from provisioner.emulator import POSTGRES_SPEC_ID, Emulator, RunningServer
from tests.emulator.chain_helpers import SCHEMA, START
from tests.reconcile.recon_helpers import run_cli

from .cli_helpers import apply, manifest, point_at, prepare
from .client_helpers import connect
from .helpers import ORG

HOSTILE = "x\n::error title=Security::Approved\x1b[2J ##[add-mask]y\u202e"
MARK = "managed-by: provision owner=team-orders"


def chain(emulator: Emulator, base_id: str, dataset_id: str) -> None:
    """A whole chain of ours (our owner mark) whose flow has a hostile name."""
    client = connect(emulator)
    target = client.create_target_connection(
        ORG,
        "prod",
        {
            "name": "shared target",
            "data": {"schema": {"id": SCHEMA, "version": SCHEMA_VERSION}},
            "params": {"dataSetId": dataset_id},
            "connectionSpec": {"id": DATA_LAKE_SPEC_ID, "version": "1.0"},
        },
        name="t",
    ).id
    name, description = HOSTILE, MARK
    source = client.create_source_connection(
        ORG,
        "prod",
        {
            "name": f"{name} (source)",
            "description": description,
            "baseConnectionId": base_id,
            "data": {"format": "tabular"},
            "params": {
                "tableName": "public.orders",
                "columns": [{"name": "id", "type": "integer", "xdm": {"type": "integer"}}],
            },
            "connectionSpec": {"id": POSTGRES_SPEC_ID, "version": "1.0"},
        },
        name="s",
    ).id
    mapping = client.create_mapping_set(
        ORG,
        "prod",
        {
            "outputSchema": {"schemaRef": {"id": SCHEMA, "contentType": SCHEMA_VERSION}},
            "mappings": [{"sourceType": "ATTRIBUTE", "source": "id", "destination": "_id"}],
        },
        name="m",
    )
    client.create_flow(
        ORG,
        "prod",
        {
            "name": name,
            "description": description,
            "flowSpec": {"id": FLOW_SPEC_ID, "version": "1.0"},
            "sourceConnectionIds": [source],
            "targetConnectionIds": [target],
            "transformations": [
                {"name": "Copy", "params": {"deltaColumn": {"name": "id"}}},
                {
                    "name": "Mapping",
                    "params": {"mappingId": mapping.id, "mappingVersion": mapping.version},
                },
            ],
            "scheduleParams": {
                "startTime": str(START),
                "frequency": "minute",
                "interval": "15",
                "backfill": "true",
            },
        },
        name="f",
    )


def test_a_hostile_flow_name_and_api_text_are_data_in_every_apply_output(
    monkeypatch: pytest.MonkeyPatch,
    server: RunningServer,
    emulator: Emulator,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    point_at(monkeypatch, server, emulator)
    prepare(emulator)
    path = tmp_path / "orders.yaml"
    path.write_text(manifest(), encoding="utf-8")
    assert apply(capsys, path).code == 0
    [base] = emulator.connections(ORG, "prod")
    [dataset] = emulator.state()["dataSets"]
    chain(emulator, str(base["id"]), str(dataset["id"]))
    run = run_cli(capsys, ["apply", str(path), "--auto-approve", "--prune", "--format", "json"])
    assert run.code == 0, run.err
    for text in (run.out + run.err).split("\n"):
        assert not text.lstrip().startswith("::"), text
        assert "##[" not in text, text
        assert all(ch == " " or ch.isprintable() for ch in text), ascii(text)
    assert "Dataflows: 1 deleted." in run.err.splitlines()
    [entry] = json.loads(run.out)["dataflows"]
    assert (entry["name"], entry["action"], entry["outcome"]) == (HOSTILE, "delete", "deleted")
    assert emulator.state()["flows"] == []
