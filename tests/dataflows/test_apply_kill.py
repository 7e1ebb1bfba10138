"""A real `provision apply` killed (SIGKILL) in the middle of a dataflow's chain, then run
again: the next run reuses the half chain and ends with one flow, no orphan, and the
mapping sets nothing uses reported.

The emulator answers slowly (latency) so the chain's steps are far apart; the test watches
the emulator's own records and kills the process at the step it names.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from provisioner.emulator import Emulator, Faults, RunningServer

from .apply_helpers import census
from .cli_helpers import apply, cli_env, dataflow, manifest, point_at, prepare

State = dict[str, Any]
KILL_AT: dict[str, Callable[[State], bool]] = {
    "after the source connection": lambda s: bool(s["sourceConnections"]),
    "after the target connection": lambda s: bool(s["targetConnections"]),
    "after the mapping set": lambda s: bool(s["mappingSets"]),
    "after the flow, before its disable": lambda s: bool(s["flows"]),
}


def wait_for(emulator: Emulator, reached: Callable[[State], bool], process: Any) -> None:
    deadline = time.monotonic() + 60
    while not reached(emulator.state()):
        assert process.poll() is None, "apply ended before the step was reached"
        assert time.monotonic() < deadline, "the step was never reached"
        time.sleep(0.001)


@pytest.mark.parametrize("step", list(KILL_AT))
def test_a_kill_mid_chain_then_a_re_run_converges(
    step: str,
    monkeypatch: pytest.MonkeyPatch,
    server: RunningServer,
    emulator: Emulator,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    prepare(emulator)
    path = tmp_path / "orders.yaml"
    path.write_text(manifest(dataflow(enabled=False)), encoding="utf-8")
    emulator.set_faults(Faults(latency_ms=40.0))
    process = subprocess.Popen(
        [sys.executable, "-m", "provisioner", "apply", str(path), "--auto-approve", "-q"],
        cwd=tmp_path,
        env=cli_env(server, emulator),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(emulator, KILL_AT[step], process)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
    killed = census(emulator)
    # Killed mid-chain: no flow yet, or (the last step) the flow and not its disable.
    assert sum(killed.flows.values()) == (1 if step.startswith("after the flow") else 0)
    emulator.set_faults(Faults())
    point_at(monkeypatch, server, emulator)
    again = apply(capsys, path)
    assert again.code == 0, again.out + again.err
    now = census(emulator)
    assert (dict(now.flows), now.orphans, now.sources, now.targets) == (
        {"orders-prod/public.orders": 1},
        (),
        1,
        1,
    )
    [flow] = emulator.state()["flows"]
    assert flow["state"] == "disabled"
    # A mapping set the killed run made before its flow stays unused: Adobe has no delete.
    assert len(now.unused_mapping_sets) <= 1
    final = apply(capsys, path)
    assert final.out.splitlines()[-1] == "Nothing to change."
