"""An outage of the API's writing side stops apply early, says why once, and converges after.

A real ``python -m provisioner apply`` against the emulator on a loopback socket, every
write answered 500/503/504 (listings still work, as in a partial outage). Each failed
create is checked by listing (never sent again blindly) and tried again up to four times,
so one connection is four POSTs. After five connections in a row fail that way, no other
create starts in that org: one line on stderr says why, the summary groups the identical
causes into one line and reports the rest as not started, exit 1. Once the API is back,
the next apply creates everything, each connection exactly once.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from provisioner.apply.breaker import THRESHOLD
from provisioner.apply.create import MAX_CREATE_ATTEMPTS
from provisioner.emulator import Emulator, EmulatorConfig, Faults, RunningServer

from .soak import (
    CONNECTIONS,
    ORG,
    SANDBOXES,
    SECRET_ENV,
    assert_converged,
    census,
    cli_env,
    client_for,
    desired_from,
    write_manifest,
)

ROOT = Path(__file__).resolve().parents[2]
CREATES = "POST /data/foundation/flowservice/connections"
CAUSE = "the API answered a server error (5xx) to every attempt"


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    emu = Emulator(EmulatorConfig(sandboxes=SANDBOXES, seed=5, faults=Faults(rate_5xx_writes=1.0)))
    yield emu
    emu.close()


def apply(
    server: RunningServer, emulator: Emulator, manifest: Path, parallelism: int
) -> subprocess.CompletedProcess[str]:
    more = ["--parallelism", str(parallelism)]
    return subprocess.run(
        [sys.executable, "-m", "provisioner", "apply", str(manifest), "--auto-approve", *more],
        cwd=ROOT,
        env=cli_env(server.url, emulator, **SECRET_ENV),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_an_outage_stops_the_writes_says_why_once_and_a_rerun_converges(
    tmp_path: Path, server: RunningServer, emulator: Emulator
) -> None:
    manifest = write_manifest(tmp_path)
    desired = desired_from(manifest)
    run = apply(server, emulator, manifest, parallelism=1)

    assert run.returncode == 1, run.stdout + run.stderr
    assert "Traceback" not in run.stderr
    # One connection at a time: exactly THRESHOLD connections were tried, each as often as a
    # create with an unclear answer is (listing in between), and no other write was sent.
    assert emulator.request_counts()[CREATES] == THRESHOLD * MAX_CREATE_ATTEMPTS
    assert not any(k.startswith(("PATCH", "DELETE")) for k in emulator.request_counts())
    why = f"{THRESHOLD} writes in a row failed after retries ({CAUSE})"
    notice = (
        f"org {ORG}: {why}; the API looks down there, so no other write starts in this org "
        "(those running finish). Re-run apply once it is back: it never duplicates."
    )
    assert run.stderr.splitlines().count(notice) == 1, run.stderr
    assert "may have succeeded" not in run.stderr + run.stdout  # no per-connection essays
    left = CONNECTIONS - THRESHOLD
    summary = run.stdout[run.stdout.index("  ! ") :]
    first = [c for c in desired if c.sandbox == SANDBOXES[0]][:3]
    named = ", ".join(f"{c.name} ({c.sandbox})" for c in first)
    assert summary.splitlines()[:2] == [
        f"  ! {THRESHOLD} connections: {CAUSE}: {named} and {THRESHOLD - 3} more",
        f"  ! org {ORG}: stopped writing there after {why}; {left} not started",
    ]
    assert summary.splitlines()[-1] == (
        f"Apply stopped early (the API kept failing): 0 created, {THRESHOLD} failed, "
        f"{left} not started; re-run apply to converge (it never duplicates)."
    )
    assert census(emulator, desired) == (0, 0, CONNECTIONS)

    emulator.set_faults(Faults())  # the API is back
    again = apply(server, emulator, manifest, parallelism=8)
    assert again.returncode == 0, again.stdout + again.stderr
    assert again.stdout.splitlines()[-1] == f"Apply complete: {CONNECTIONS} created."
    assert_converged(emulator, client_for(emulator), desired)


def test_in_parallel_the_outage_costs_at_most_the_writes_already_running(
    tmp_path: Path, server: RunningServer, emulator: Emulator
) -> None:
    manifest = write_manifest(tmp_path)
    parallelism = 8
    run = apply(server, emulator, manifest, parallelism=parallelism)
    assert run.returncode == 1, run.stdout + run.stderr
    tried = emulator.request_counts()[CREATES] // MAX_CREATE_ATTEMPTS
    # The fifth failure in a row stops new writes; the others running then finish.
    assert THRESHOLD <= tried <= THRESHOLD + parallelism - 1
    last = run.stdout.splitlines()[-1]
    assert last == (
        f"Apply stopped early (the API kept failing): 0 created, {tried} failed, "
        f"{CONNECTIONS - tried} not started; re-run apply to converge (it never duplicates)."
    )
    assert sum("no other write starts in this org" in line for line in run.stderr.splitlines()) == 1
