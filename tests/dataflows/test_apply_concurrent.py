"""Two real `provision apply` processes of the same dataflows at once converge: one flow per
identity, no orphan source or target connection, and a third run has nothing to change."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from provisioner.emulator import Emulator, Faults, RunningServer

from .apply_helpers import census
from .cli_helpers import apply, cli_env, dataflow, manifest, point_at, prepare

SANDBOXES = ("prod", "dev")


def test_two_concurrent_applies_end_with_one_flow_per_dataflow(
    monkeypatch: pytest.MonkeyPatch,
    server: RunningServer,
    emulator: Emulator,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    point_at(monkeypatch, server, emulator)
    prepare(emulator, SANDBOXES)
    path = tmp_path / "orders.yaml"
    # The connections first: the race under test is the dataflows'.
    path.write_text(manifest(sandboxes=SANDBOXES), encoding="utf-8")
    assert apply(capsys, path).code == 0
    items = dataflow(
        "public.items", columns="[id, sku, updated_at]", mapping=("{source: id, destination: _id}",)
    )
    path.write_text(manifest(dataflow(), items, sandboxes=SANDBOXES), encoding="utf-8")
    # Slow answers: both runs plan before either creates, so both create every chain.
    emulator.set_faults(Faults(latency_ms=20.0, latency_jitter_ms=20.0), seed=3)
    runs = [
        subprocess.Popen(
            [sys.executable, "-m", "provisioner", "apply", str(path), "--auto-approve"],
            cwd=tmp_path,
            env=cli_env(server, emulator),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [run.communicate(timeout=120) for run in runs]
    assert [run.returncode for run in runs] == [0, 0], outputs
    emulator.set_faults(Faults())
    now = census(emulator)
    names = {f"orders-{s}/public.{t}" for s in SANDBOXES for t in ("orders", "items")}
    assert (dict(now.flows), now.orphans) == (dict.fromkeys(names, 1), ())
    # Each duplicate chain's mapping set is reported by the run that deleted it.
    reported = "".join(out for out, _ in outputs)
    assert all(m in reported for m in now.unused_mapping_sets)
    final = apply(capsys, path)
    assert final.out.splitlines()[-1] == "Nothing to change."
