"""Apply killed at random points during its creates, then run again, converges exactly once.

A real ``python -m provisioner apply --auto-approve`` against the emulator on a loopback
socket, with 20-70 ms of latency so creates are in flight when the signal lands (a seeded
random delay after apply says it starts creating). SIGKILL leaves no chance to clean up: a
create the server committed but whose answer the process never read must show up in the
next run's plan as existing. SIGINT must stop cleanly: exit 130, no traceback, and a summary
whose count of created connections is exactly what appeared on the server (in-flight
creates are finished, not abandoned half-known). After the kills, one more apply finishes.
"""

from __future__ import annotations

import random
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from provisioner.emulator import Emulator, EmulatorConfig, Faults, RunningServer

from .soak import (
    CONNECTIONS,
    FIGURES,
    FULL,
    SANDBOXES,
    SECRET_ENV,
    SEEDS,
    assert_converged,
    census,
    cli_env,
    client_for,
    desired_from,
    write_manifest,
)

KILLS_PER_SEED = 5 if FULL else 3
PARALLELISM = 8
LATENCY = Faults(latency_ms=20.0, latency_jitter_ms=50.0)
ROOT = Path(__file__).resolve().parents[2]
SUMMARY = re.compile(r"^Apply interrupted: (\d+) created", re.MULTILINE)


@dataclass
class Apply:
    process: subprocess.Popen[bytes]
    out: Path
    err: Path

    def stderr(self) -> str:
        return self.err.read_text(encoding="utf-8", errors="replace")

    def stdout(self) -> str:
        return self.out.read_text(encoding="utf-8", errors="replace")


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    emu = Emulator(EmulatorConfig(sandboxes=SANDBOXES, seed=11, faults=LATENCY))
    yield emu
    emu.close()


def start_apply(
    server: RunningServer, emulator: Emulator, manifest: Path, logs: Path, run: int
) -> Apply:
    env = cli_env(server.url, emulator, **SECRET_ENV)
    out, err = logs / f"run{run}.out", logs / f"run{run}.err"
    with out.open("wb") as stdout, err.open("wb") as stderr:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "provisioner",
                "apply",
                str(manifest),
                "--auto-approve",
                "--parallelism",
                str(PARALLELISM),
            ],
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=stdout,
            stderr=stderr,
        )
    return Apply(process, out, err)


def wait_for_creates(apply: Apply) -> bool:
    """True once apply says it is creating; False if it ended first (nothing to create)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if "Creating " in apply.stderr():
            return True
        if apply.process.poll() is not None:
            return False
        time.sleep(0.005)
    raise AssertionError(f"apply never started creating:\n{apply.stderr()}")


@pytest.mark.parametrize("seed", SEEDS)
def test_killed_applies_converge_on_the_next_run(
    seed: int, tmp_path: Path, server: RunningServer, emulator: Emulator
) -> None:
    rng = random.Random(seed)
    desired = desired_from(write_manifest(tmp_path))
    crashes, created, started = 0, 0, time.monotonic()
    signals = [signal.SIGKILL, signal.SIGINT] * KILLS_PER_SEED
    for run in range(KILLS_PER_SEED):
        sig = signals[run + seed % 2]
        before = census(emulator, desired)[0]
        apply = start_apply(server, emulator, tmp_path / "soak.yaml", tmp_path, run)
        if not wait_for_creates(apply):
            break  # an earlier run got everything done
        # Somewhere within the creates still to do: ~45 ms per create, PARALLELISM at a time.
        remaining = CONNECTIONS - before
        time.sleep(rng.uniform(0.0, remaining / PARALLELISM * 0.045))
        landed = apply.process.poll() is None
        apply.process.send_signal(sig)
        code = apply.process.wait(timeout=120)
        time.sleep(0.1)  # a create the killed process left in flight lands (latency < 70 ms)
        once, duplicates, lost = census(emulator, desired)
        assert duplicates == 0
        created += once - before
        if not landed:
            assert code == 0, apply.stderr()
            break
        crashes += 1
        err = apply.stderr()
        assert "Traceback" not in err, err
        if sig is signal.SIGKILL:
            assert code == -signal.SIGKILL
            continue
        out = apply.stdout()
        assert code == 130, out + err
        # What it says it did is what the server holds: nothing in flight was left unknown.
        summary = SUMMARY.search(out)
        assert summary, out + err
        assert int(summary.group(1)) == once - before, out

    before = census(emulator, desired)[0]
    final = start_apply(server, emulator, tmp_path / "soak.yaml", tmp_path, KILLS_PER_SEED)
    assert final.process.wait(timeout=300) == 0, final.stdout() + final.stderr()
    created += census(emulator, desired)[0] - before
    assert_converged(emulator, client_for(emulator), desired)
    once, duplicates, lost = census(emulator, desired)
    assert created == CONNECTIONS
    FIGURES.add(
        "crashes",
        runs=1,
        connections_created=created,
        duplicates=duplicates,
        lost=lost,
        crashes_survived=crashes,
    )
    print(
        f"\ncrashes seed {seed}: {crashes} kills survived, {once}/{CONNECTIONS} present once, "
        f"{time.monotonic() - started:.1f} s"
    )
