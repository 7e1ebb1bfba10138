"""Secret rotation end to end over a socket: planned without any secret, applied with new
(canary) values that land in the emulator and appear in no output, file or log."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from provisioner.emulator import Emulator

from .recon_helpers import MANIFEST, ORG, SECRETS, run_cli, stored, write_manifest

pytestmark = pytest.mark.usefixtures("aep_env")

NEW = {
    "RECON_ORDERS_PASSWORD": 'CANARY-rotated-"orders\\-\u00e9-41aa',
    "RECON_INVENTORY_PASSWORD": "CANARY-rotated-inventory-93be",
    "RECON_BILLING_DSN": "Server=pg-billing;Port=5432;Password=CANARY-rotated-billing-0c1d",
    "RECON_PAYMENTS_PASSWORD": "CANARY-rotated-payments-77f0",
}


def secret_of(emulator: Emulator, sandbox: str, name: str) -> str:
    (record,) = [r for r in stored(emulator, sandbox) if r["name"] == name]
    params = record["auth"]["params"]
    return str(params.get("password") or params["connectionString"])


def test_rotation_is_planned_without_secrets_and_stores_the_new_values_unseen(
    manifest: Path,
    emulator: Emulator,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    assert run_cli(capsys, ["apply", str(manifest), "--auto-approve"]).code == 0
    before = {r["id"]: r for r in stored(emulator)}
    caplog.set_level(logging.DEBUG)

    for name in SECRETS:  # review: no database secret at all
        monkeypatch.delenv(name)
    m = str(manifest)
    plan = run_cli(
        capsys,
        [
            "plan",
            m,
            "--rotate-secrets",
            "--sandbox",
            "prod",
            "--detailed-exitcode",
            "--out",
            "p.json",
        ],
    )
    assert (plan.code, plan.err) == (2, "")
    ids = {r["name"]: r["id"] for r in stored(emulator, "prod")}
    assert plan.out == (
        f"Read 1 manifest file(s) from {manifest}.\n"
        f"sandbox prod (azure, {ORG})\n"
        f"  ~ rotate orders-prod  ({ids['orders-prod']}) will re-send its secret from "
        "{env: RECON_ORDERS_PASSWORD}\n"
        f"  ~ rotate inventory  ({ids['inventory']}) will re-send its secret from "
        "{env: RECON_INVENTORY_PASSWORD}\n"
        f"  ~ rotate billing  ({ids['billing']}) will re-send its secret from "
        "{env: RECON_BILLING_DSN}\n"
        "Plan: 0 to add, 3 to rotate, 0 unchanged, 0 drifted.\n"
        "Saved the plan to p.json; apply it with `provision apply --plan p.json`.\n"
    )
    missing = run_cli(capsys, ["apply", "--plan", "p.json"])
    assert missing.code == 1 and "RECON_ORDERS_PASSWORD" in missing.err
    assert stored(emulator) == list(before.values())  # nothing sent without every secret

    for name, value in NEW.items():
        monkeypatch.setenv(name, value)
    apply = run_cli(capsys, ["apply", "--plan", "p.json", "-vv"])
    assert apply.code == 0, apply.out
    assert "\nRotating the secrets of 3 connections, up to 3 at a time...\n" in apply.err
    assert apply.out.endswith(
        "  prod: 3 secrets rotated\nApply complete: 0 created, 3 secrets rotated.\n"
    )
    assert secret_of(emulator, "prod", "orders-prod") == NEW["RECON_ORDERS_PASSWORD"]
    assert secret_of(emulator, "prod", "inventory") == NEW["RECON_INVENTORY_PASSWORD"]
    assert secret_of(emulator, "prod", "billing") == NEW["RECON_BILLING_DSN"]
    # Only the selected sandbox, and only the secret: every other field is as it was.
    for record in stored(emulator):
        old = before[record["id"]]
        if record["sandboxName"] != "prod":
            assert record == old
            continue
        params = {
            k: v
            for k, v in record["auth"]["params"].items()
            if k not in ("password", "connectionString")
        }
        assert params == {
            k: v
            for k, v in old["auth"]["params"].items()
            if k not in ("password", "connectionString")
        }
        assert record["etag"] != old["etag"]

    everything = "\n".join(
        [
            plan.out,
            plan.err,
            missing.out,
            missing.err,
            apply.out,
            apply.err,
            Path("p.json").read_text(),
        ]
        + [f"{r.name} {r.getMessage()}" for r in caplog.records]
    )
    assert "CANARY" not in everything
    again = run_cli(capsys, ["plan", m, "--detailed-exitcode"])
    assert (again.code, again.out.splitlines()[-1]) == (
        0,
        "Plan: 0 to add, 7 unchanged, 0 drifted.",
    )


def test_zero_downtime_rotation_switches_user_and_password_in_one_patch(
    manifest: Path,
    emulator: Emulator,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """docs/lifecycle.md: the green role gets its password on the database first; one apply
    switches user and password together; only then is the blue role revoked."""
    assert run_cli(capsys, ["apply", str(manifest), "--auto-approve"]).code == 0
    green = MANIFEST.replace(
        "      username: aep_reader\n      password: {env: RECON_ORDERS_PASSWORD}",
        "      username: aep_reader_green\n      password: {env: RECON_ORDERS_PASSWORD_GREEN}",
    )
    write_manifest(Path("manifests"), green)
    monkeypatch.setenv("RECON_ORDERS_PASSWORD_GREEN", "CANARY-green-5d2e")
    emulator.reset_counts()
    select = ["--connection", "orders-*", "--rotate-secrets"]
    plan = run_cli(capsys, ["plan", str(manifest), *select, "--sandbox", "dev"])
    (dev_id,) = [r["id"] for r in stored(emulator, "dev") if r["name"] == "orders-dev"]
    assert plan.out == (
        f"Read 1 manifest file(s) from {manifest}.\n"
        f"sandbox dev (azure, {ORG})\n"
        f"  ~ orders-dev  ({dev_id}) will update and re-send its secret from "
        "{env: RECON_ORDERS_PASSWORD_GREEN}\n"
        "      username: 'aep_reader' -> 'aep_reader_green'\n"
        "Plan: 0 to add, 1 to update, 0 unchanged, 0 drifted.\n"
    )
    apply = run_cli(capsys, ["apply", str(manifest), *select, "--auto-approve"])
    assert apply.code == 0, apply.out
    assert apply.out.endswith("Apply complete: 0 created, 3 updated.\n")
    for sandbox in ("prod", "dev", "prod-aws"):
        (record,) = [r for r in stored(emulator, sandbox) if r["name"].startswith("orders-")]
        assert (record["auth"]["params"]["username"], record["auth"]["params"]["password"]) == (
            "aep_reader_green",
            "CANARY-green-5d2e",
        )
    # One PATCH per connection: never a moment with the new user and the old password.
    assert emulator.request_counts()["PATCH /data/foundation/flowservice/connections/{id}"] == 3
    assert "CANARY" not in plan.out + plan.err + apply.out + apply.err
