"""Secrets resolved before the first write; an expired or revoked token renewed once."""

from __future__ import annotations

import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest

from provisioner.emulator import Emulator, EmulatorConfig, serve

from .recon_helpers import (
    EXPECTED,
    FLOW_POSTS,
    SANDBOXES,
    TOTAL,
    connection_string,
    create_remote,
    orders,
    point_at,
    run_cli,
    sent_payload,
    stored,
)

TOKENS = "POST /ims/token/v3"


@pytest.mark.usefixtures("aep_env")
def test_missing_secrets_stop_apply_before_any_write(
    manifest: Path,
    emulator: Emulator,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("RECON_ORDERS_PASSWORD", "RECON_BILLING_DSN", "RECON_PAYMENTS_PASSWORD"):
        monkeypatch.delenv(name)
    monkeypatch.setenv("RECON_INVENTORY_PASSWORD", "")

    apply = run_cli(capsys, ["apply", str(manifest), "--auto-approve"])
    assert apply.code == 1
    assert apply.out.endswith("Plan: 7 to add, 0 unchanged, 0 drifted.\n")
    assert apply.err == (
        "error: 4 secret(s) cannot be resolved; nothing was changed:\n"
        "error: manifests/connections.yaml:21:17: environment variable RECON_ORDERS_PASSWORD "
        "is not set\n"
        "error: manifests/connections.yaml:31:17: secret {env: RECON_INVENTORY_PASSWORD} is "
        "empty; give it a value\n"
        "error: manifests/connections.yaml:37:26: environment variable RECON_BILLING_DSN is "
        "not set\n"
        "error: manifests/connections.yaml:46:17: environment variable RECON_PAYMENTS_PASSWORD "
        "is not set\n"
    )
    assert stored(emulator) == []
    assert FLOW_POSTS not in emulator.request_counts()


@pytest.mark.usefixtures("aep_env")
def test_a_secret_the_payload_cannot_carry_stops_apply_before_any_write(
    manifest: Path,
    emulator: Emulator,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("RECON_PAYMENTS_PASSWORD", "payments\npw")  # ODBC cannot carry \n

    apply = run_cli(capsys, ["apply", str(manifest), "--auto-approve", "--parallelism", "1"])
    assert apply.code == 1
    assert apply.err == (
        "error: 1 payload(s) cannot be built; nothing was changed:\n"
        "error: manifests/connections.yaml:46:17: the password of connection 'payments' "
        "(sandbox 'dev') contains a control character, which ODBC cannot carry; fix the "
        "secret {env: RECON_PAYMENTS_PASSWORD}\n"
    )
    assert stored(emulator) == []
    assert FLOW_POSTS not in emulator.request_counts()


@pytest.mark.usefixtures("aep_env")
def test_only_the_secrets_of_connections_to_create_are_needed(
    manifest: Path,
    emulator: Emulator,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    create_remote(emulator, "prod", connection_string("billing", "Server=x;Password=y"))
    for sandbox, ssl in (("prod", "Verify Full"), ("dev", "Verify Full"), ("prod-aws", "true")):
        create_remote(emulator, sandbox, orders(sandbox, ssl))
    monkeypatch.delenv("RECON_ORDERS_PASSWORD")
    monkeypatch.delenv("RECON_BILLING_DSN")

    apply = run_cli(capsys, ["apply", str(manifest), "--auto-approve", "-q"])
    assert (apply.code, apply.err) == (0, "")
    assert apply.out == (
        "  prod: 1 created\n  dev: 1 created\n  prod-aws: 1 created\nApply complete: 3 created.\n"
    )
    assert len(stored(emulator)) == TOTAL


class RenewingEmulator(Emulator):
    """Makes the client's token unusable just before the first create arrives."""

    def __init__(self, how: str) -> None:
        self.offset = 0.0
        super().__init__(
            EmulatorConfig(sandboxes=SANDBOXES, token_lifetime_s=3600),
            clock=lambda: time.time() + self.offset,
        )
        self.how = how
        self.fired = False

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        creating = environ["REQUEST_METHOD"] == "POST" and environ["PATH_INFO"].endswith(
            "/flowservice/connections"
        )
        if creating and not self.fired:
            self.fired = True
            if self.how == "revoked":
                assert self.revoke_tokens() == 1
            else:
                self.offset += 3601  # the emulator's clock passes the token's expiry
        return super().__call__(environ, start_response)


@pytest.mark.parametrize("how", ["revoked", "expired"])
def test_a_dead_token_is_renewed_once_mid_run(
    how: str,
    manifest: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    emulator = RenewingEmulator(how)
    with serve(emulator) as server:
        point_at(monkeypatch, server, emulator)
        apply = run_cli(capsys, ["apply", str(manifest), "--auto-approve", "-q"])
    assert emulator.fired
    assert (apply.code, apply.err) == (0, "")
    assert apply.out.endswith("Apply complete: 7 created.\n")
    by_sandbox = {s: sorted(map(sent_payload, stored(emulator, s)), key=str) for s in EXPECTED}
    assert by_sandbox == {s: sorted(p, key=str) for s, p in EXPECTED.items()}
    counts = emulator.request_counts()
    # One token for the run, one more after the 401, however many workers saw the 401.
    assert counts[TOKENS] == 2
    assert counts[FLOW_POSTS] >= TOTAL
    emulator.close()
