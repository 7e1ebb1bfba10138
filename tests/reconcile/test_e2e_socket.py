"""The whole tool against the emulator on a real loopback socket: plan, apply, re-run."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from provisioner.emulator import Emulator, RunningServer

from .recon_helpers import (
    EXPECTED,
    FLOW_POSTS,
    NOTHING_APPLIED,
    ORG,
    SECRETS,
    TOTAL,
    Clock,
    create_remote,
    inventory,
    names,
    orders,
    run_cli,
    sent_payload,
    stored,
)

pytestmark = pytest.mark.usefixtures("aep_env")

M = "manifests/connections.yaml"
ALL_CREATES = f"""\
Read 1 manifest file(s) from {M}.
sandbox prod (azure, {ORG})
  + orders-prod  aep_reader@pg-orders.db.example.test:5432/orders ssl=verify-full  ({M}:13)
  + inventory  aep_inventory@pg-inventory.db.example.test:6432/inventory ssl=disable  ({M}:23)
  + billing  connection string from {{env: RECON_BILLING_DSN}}  ({M}:33)
sandbox dev (azure, {ORG})
  + orders-dev  aep_reader@pg-orders.db.example.test:5432/orders ssl=verify-full  ({M}:13)
  + payments  aep_payments@pg-payments.db.example.test:5432/payments encryption=ssl, certificate verified  ({M}:38)
sandbox prod-aws (aws, {ORG})
  + orders-prod-aws  aep_reader@pg-orders.db.example.test:5432/orders ssl=verify-full  ({M}:13)
  + inventory  aep_inventory@pg-inventory.db.example.test:6432/inventory ssl=disable  ({M}:23)
Plan: 7 to add, 0 unchanged, 0 drifted.
"""
ALL_UNCHANGED = f"""\
Read 1 manifest file(s) from {M}.
sandbox prod (azure, {ORG}): 3 unchanged
sandbox dev (azure, {ORG}): 2 unchanged
sandbox prod-aws (aws, {ORG}): 2 unchanged
Plan: 0 to add, 7 unchanged, 0 drifted.
"""


def by_name(payloads: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(payloads, key=lambda p: str(p["name"]))


def test_empty_sandboxes_are_filled_once_with_the_spec_payloads(
    manifest: Path, emulator: Emulator, capsys: pytest.CaptureFixture[str]
) -> None:
    plan = run_cli(capsys, ["plan", str(manifest), "--detailed-exitcode"])
    assert (plan.code, plan.out, plan.err) == (2, ALL_CREATES, "")
    assert stored(emulator) == []
    assert FLOW_POSTS not in emulator.request_counts()  # plan is read-only

    apply = run_cli(capsys, ["apply", str(manifest), "--auto-approve"])
    assert apply.code == 0
    assert apply.out == ALL_CREATES + (
        "  prod: 3 created\n  dev: 2 created\n  prod-aws: 2 created\nApply complete: 7 created.\n"
    )
    assert apply.err.startswith("Creating 7 connections, up to 7 at a time...\n")
    for sandbox, expected in EXPECTED.items():
        records = stored(emulator, sandbox)
        assert by_name([sent_payload(r) for r in records]) == by_name(expected)
        # Made through the gateway with our client's headers: token, x-api-key, org, sandbox.
        assert {(r["imsOrgId"], r["sandboxName"], r["createdClient"]) for r in records} == {
            (ORG, sandbox, "emulator-client@AdobeID")
        }
    assert emulator.request_counts()[FLOW_POSTS] == TOTAL

    again = run_cli(capsys, ["plan", str(manifest), "--detailed-exitcode"])
    assert (again.code, again.out, again.err) == (0, ALL_UNCHANGED, "")

    rerun = run_cli(capsys, ["apply", str(manifest), "--auto-approve"])
    assert (rerun.code, rerun.out, rerun.err) == (0, ALL_UNCHANGED + "Nothing to change.\n", "")
    assert len(stored(emulator)) == TOTAL
    assert emulator.request_counts()[FLOW_POSTS] == TOTAL


def test_existing_duplicate_and_unmanaged_connections(
    manifest: Path, emulator: Emulator, clock: Clock, capsys: pytest.CaptureFixture[str]
) -> None:
    # Made a day ago: duplicates that young would be a concurrent apply's race in flight,
    # which apply waits out; these are a person's mistake.
    clock.offset = -86_400
    existing = create_remote(emulator, "prod", orders("prod", "Verify Full"))
    twins = [create_remote(emulator, "prod-aws", inventory("false")) for _ in range(2)]
    legacy = orders("prod", "Require") | {"name": "legacy-crm"}
    for sandbox in ("prod", "dev", "dev"):
        create_remote(emulator, sandbox, legacy)
    clock.offset = 0
    before = {r["id"]: r for r in stored(emulator)}

    expected_plan = f"""\
Read 1 manifest file(s) from {M}.
sandbox prod (azure, {ORG}): 1 unchanged, 1 unmanaged, left alone
  + inventory  aep_inventory@pg-inventory.db.example.test:6432/inventory ssl=disable  ({M}:23)
  + billing  connection string from {{env: RECON_BILLING_DSN}}  ({M}:33)
sandbox dev (azure, {ORG}): 2 unmanaged, left alone
  + orders-dev  aep_reader@pg-orders.db.example.test:5432/orders ssl=verify-full  ({M}:13)
  + payments  aep_payments@pg-payments.db.example.test:5432/payments encryption=ssl, certificate verified  ({M}:38)
sandbox prod-aws (aws, {ORG})
  + orders-prod-aws  aep_reader@pg-orders.db.example.test:5432/orders ssl=verify-full  ({M}:13)
  ! inventory  ERROR: 2 connections share this name ({twins[0]}, {twins[1]}); nothing will \
be done for it until only one remains
Plan: 5 to add, 1 unchanged, 0 drifted. 1 in error.
"""
    plan = run_cli(capsys, ["plan", str(manifest), "--detailed-exitcode"])
    assert plan.out == expected_plan
    assert (plan.code, plan.err) == (1, "")

    apply = run_cli(capsys, ["apply", str(manifest), "--auto-approve"])
    assert apply.code == 1
    assert apply.out.startswith(expected_plan)
    ambiguous = (
        f"  ! inventory (prod-aws): 2 connections share this name ({twins[0]}, {twins[1]}); "
        "nothing is done for it until only one remains\n"
    )
    assert apply.out == expected_plan + ambiguous + (
        "  prod: 2 created\n  dev: 2 created\n  prod-aws: 1 created\n"
        "Apply complete: 5 created; re-run apply to converge (it never duplicates).\n"
    )
    after = {r["id"]: r for r in stored(emulator)}
    # Everything that existed is untouched, byte for byte; the rest was created once.
    assert {i: after[i] for i in before} == before
    assert [r["name"] for r in stored(emulator, "prod")].count("orders-prod") == 1
    assert [r["id"] for r in stored(emulator, "prod") if r["name"] == "orders-prod"] == [existing]
    assert names(emulator, "prod") == ["billing", "inventory", "legacy-crm", "orders-prod"]
    assert names(emulator, "dev") == ["legacy-crm", "legacy-crm", "orders-dev", "payments"]
    assert names(emulator, "prod-aws") == ["inventory", "inventory", "orders-prod-aws"]

    # Quiet, as a pipeline runs it: the only output says which connection is in error.
    rerun = run_cli(capsys, ["apply", str(manifest), "--auto-approve", "-q"])
    assert (rerun.code, rerun.out, rerun.err) == (1, ambiguous + NOTHING_APPLIED, "")
    assert len(stored(emulator)) == len(after)


def test_drift_is_reported_and_left_alone_with_no_update(
    manifest: Path, emulator: Emulator, capsys: pytest.CaptureFixture[str]
) -> None:
    old = orders("dev", "Verify Full")
    old["description"] = "Old orders"
    old["auth"]["params"] |= {"server": "pg-orders-old.db.example.test", "port": "5433"}
    drifted = create_remote(emulator, "dev", old)
    (record,) = stored(emulator)

    plan = run_cli(
        capsys, ["plan", str(manifest), "--sandbox", "dev", "--detailed-exitcode", "--no-update"]
    )
    assert (
        plan.out
        == f"""\
Read 1 manifest file(s) from {M}.
sandbox dev (azure, {ORG})
  ~ orders-dev  ({drifted}) drifted, not changed by apply
      description: 'Old orders' -> 'Orders (dev)'
      server: 'pg-orders-old.db.example.test' -> 'pg-orders.db.example.test'
      port: '5433' -> '5432'
  + payments  aep_payments@pg-payments.db.example.test:5432/payments encryption=ssl, certificate verified  ({M}:38)
Plan: 1 to add, 0 unchanged, 1 drifted.
"""
    )
    assert (plan.code, plan.err) == (2, "")

    apply = run_cli(
        capsys, ["apply", str(manifest), "--sandbox", "dev", "--auto-approve", "--no-update"]
    )
    assert apply.code == 0
    assert apply.out.endswith("  dev: 1 created\nApply complete: 1 created.\n")
    assert stored(emulator, "dev")[0] == record  # same etag, same fields: not modified
    assert names(emulator, "dev") == ["orders-dev", "payments"]


def test_console_script_as_a_user_runs_it(
    manifest: Path, emulator: Emulator, server: RunningServer
) -> None:
    script = Path(sys.executable).with_name("provision")
    env = {
        "PATH": os.environ.get("PATH", ""),
        "AEP_IMS_URL": server.url,
        "AEP_PLATFORM_URL": server.url,
        "AEP_CLIENT_ID": emulator.config.client_id,
        "AEP_CLIENT_SECRET": emulator.config.client_secret,
        **SECRETS,
    }

    def provision(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(script), *args], env=env, capture_output=True, text=True, timeout=60, check=False
        )

    plan = provision("plan", str(manifest), "--detailed-exitcode")
    assert (plan.returncode, plan.stdout, plan.stderr) == (2, ALL_CREATES, "")

    apply = provision("apply", str(manifest))  # no terminal, no --auto-approve
    assert (apply.returncode, apply.stdout) == (1, "")
    assert apply.stderr == (
        "error: not running on a terminal: pass --auto-approve, or apply a reviewed plan "
        "with --plan FILE\n"
    )
    assert stored(emulator) == []

    apply = provision("apply", str(manifest), "--auto-approve", "-q")
    assert (apply.returncode, apply.stderr) == (0, "")
    assert apply.stdout == (
        "  prod: 3 created\n  dev: 2 created\n  prod-aws: 2 created\nApply complete: 7 created.\n"
    )
    assert len(stored(emulator)) == TOTAL

    again = provision("plan", str(manifest), "--detailed-exitcode")
    assert (again.returncode, again.stdout, again.stderr) == (0, ALL_UNCHANGED, "")
