"""apply against a throttling gateway, end to end on a loopback socket.

The emulator's rate limit answers 429 429050 without Retry-After, like Adobe's gateway;
the CLI has to find the pace, create everything exactly once and say what it saw.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from provisioner.emulator import Emulator, EmulatorConfig, Faults, RunningServer, serve

from .recon_helpers import ORG, point_at, run_cli

SANDBOXES = 8
PER_SANDBOX = 15
LIMIT = 50.0  # requests a second for the org; 8 workers on loopback send several times that


def manifest_text() -> str:
    lines = ["version: 1", f"org: {ORG}", "sandboxes:"]
    lines += [f"  - {{name: sb-{i}, cloud: azure}}" for i in range(SANDBOXES)]
    lines.append("connections:")
    for c in range(PER_SANDBOX):
        lines += [
            f'  - name: "c{c:02d}-{{{{ sandbox.name }}}}"',
            "    auth:",
            "      type: basic",
            f"      server: pg-{c}.example.test",
            "      database: db",
            "      username: reader",
            "      password: {env: THROTTLE_PG_PASSWORD}",
        ]
    return "\n".join(lines) + "\n"


@pytest.fixture
def limited() -> Iterator[tuple[Emulator, RunningServer]]:
    emulator = Emulator(EmulatorConfig(any_sandbox=True, faults=Faults(rate_limit=LIMIT), seed=2))
    with serve(emulator, port=0) as server:
        yield emulator, server
    emulator.close()


def test_apply_paces_itself_and_creates_each_connection_once(
    limited: tuple[Emulator, RunningServer],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    emulator, server = limited
    point_at(monkeypatch, server, emulator, {"THROTTLE_PG_PASSWORD": "throttle-pw-1"})
    manifest = tmp_path / "many.yaml"
    manifest.write_text(manifest_text())

    run = run_cli(capsys, ["apply", str(manifest), "--auto-approve", "--parallelism", "8"])

    assert run.code == 0, run.out + run.err
    total = SANDBOXES * PER_SANDBOX
    assert run.out.endswith(f"Apply complete: {total} created.\n")
    stored = Counter((r["sandboxName"], r["name"]) for r in emulator.connections())
    assert len(stored) == total and set(stored.values()) == {1}  # every one, exactly once
    # The gateway did throttle, and the client kept the refusals to a small share.
    assert emulator.throttled > 0
    assert emulator.throttled / emulator.request_count <= 0.10
    # Progress in a log shows the rate and why it is paced; the end says what happened.
    progress = [line for line in run.err.splitlines() if line.startswith("  progress:")]
    assert progress and all("requests/s" in line for line in progress)
    assert any("(paced at " in line and "the API throttles)" in line for line in progress)
    assert "The API throttled " in run.err and "requests/s at the lowest." in run.err
    assert "Traceback" not in run.err


def test_quiet_apply_stays_quiet_about_throttling(
    limited: tuple[Emulator, RunningServer],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    emulator, server = limited
    emulator.set_faults(rate_limit=20.0)
    point_at(monkeypatch, server, emulator, {"THROTTLE_PG_PASSWORD": "throttle-pw-1"})
    manifest = tmp_path / "many.yaml"
    manifest.write_text(manifest_text())
    run = run_cli(capsys, ["apply", str(manifest), "--auto-approve", "-q", "--sandbox", "sb-0"])
    assert run.code == 0
    assert run.err == ""
    assert len(emulator.connections()) == PER_SANDBOX
