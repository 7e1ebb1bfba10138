"""`apply --format json`: one document on stdout saying what was done to each connection;
the lines people read on stderr; no secret anywhere."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from provisioner.emulator import POSTGRES_SPEC_ID as SPEC_ID
from provisioner.emulator import Emulator

from .recon_helpers import (
    ORG,
    SECRETS,
    TOTAL,
    create_remote,
    direct_client,
    inventory,
    run_cli,
    stored,
)

pytestmark = pytest.mark.usefixtures("aep_env")


def test_apply_json_says_what_was_created(
    manifest: Path, emulator: Emulator, capsys: pytest.CaptureFixture[str]
) -> None:
    run = run_cli(capsys, ["apply", str(manifest), "--auto-approve", "--format", "json"])
    assert run.code == 0, run.err
    document = json.loads(run.out)
    ids = {(r["sandboxName"], r["name"]): r["id"] for r in stored(emulator)}
    assert len(ids) == TOTAL
    assert {k: document[k] for k in ("format", "format_version", "result", "exit_code")} == {
        "format": "provision-apply",
        "format_version": 1,
        "result": "complete",
        "exit_code": 0,
    }
    assert document["connections"][0] == {
        "org": ORG,
        "sandbox": "prod",
        "name": "orders-prod",
        "action": "create",
        "outcome": "created",
        "id": ids["prod", "orders-prod"],
        "source": "manifests/connections.yaml:13",
        "message": None,
    }
    assert {(e["sandbox"], e["name"]): e["id"] for e in document["connections"]} == ids
    assert {e["outcome"] for e in document["connections"]} == {"created"}
    assert (document["errors"], document["summary"]) == ([], {"created": TOTAL})
    # The plan and the tally went to stderr, for the log.
    assert "Apply complete: 7 created.\n" in run.err
    for secret in SECRETS.values():
        assert secret not in run.out + run.err


def test_apply_json_says_what_changed_and_what_is_in_error(
    manifest: Path, emulator: Emulator, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_cli(capsys, ["apply", str(manifest), "--auto-approve", "-q"]).code == 0
    client = direct_client(emulator)
    [orders] = [
        r for r in client.list_connections(ORG, "dev", spec_id=SPEC_ID) if r.name == "orders-dev"
    ]
    client.update_connection(
        ORG,
        "dev",
        orders.id,
        [{"op": "replace", "path": "/description", "value": "changed by hand"}],
        etag=orders.etag,
        name=orders.name,
    )
    [original] = [r["id"] for r in stored(emulator, "prod-aws") if r["name"] == "inventory"]
    twin = create_remote(emulator, "prod-aws", inventory("true"))
    run = run_cli(capsys, ["apply", str(manifest), "--auto-approve", "--format", "json"])
    assert run.code == 1
    document = json.loads(run.out)
    changed = [e for e in document["connections"] if e["action"] != "unchanged"]
    # Both ids, in the order the listing gave them.
    shared = changed[1].pop("message").removeprefix("connections share this name: ")
    assert sorted(shared.split(", ")) == sorted([original, twin])
    assert changed == [
        {
            "org": ORG,
            "sandbox": "dev",
            "name": "orders-dev",
            "action": "update",
            "outcome": "updated",
            "id": orders.id,
            "source": "manifests/connections.yaml:13",
            "message": None,
        },
        {
            "org": ORG,
            "sandbox": "prod-aws",
            "name": "inventory",
            "action": "ambiguous",
            "outcome": "error",
            "id": None,
            "source": "manifests/connections.yaml:23",
        },
    ]
    assert document["summary"] == {"none": TOTAL - 2, "updated": 1, "error": 1}


def test_apply_json_needs_no_question(
    manifest: Path, emulator: Emulator, capsys: pytest.CaptureFixture[str]
) -> None:
    run = run_cli(capsys, ["apply", str(manifest), "--format", "json"])
    assert (run.code, run.out, run.err) == (
        1,
        "",
        "error: --format json needs --auto-approve or --plan FILE: a question would mix with "
        "the JSON\n",
    )
    assert stored(emulator) == []
