"""`apply --prune` killed while it marks and deletes, then run again, converges without ever
deleting an unmarked connection (issue 18).

A real ``python -m provisioner apply --prune --auto-approve`` on a loopback socket, with
latency so writes are in flight when the signal lands. The sandbox holds every kind of
connection the owner rule must tell apart: declared and missing (created, marked in the same
POST), declared and unmarked (made by 0.2: adopted by a PATCH that writes the mark), stale and
marked by this owner (deleted), and, matching the same glob, hand-made and another owner's
(never touched). After every kill: no connection that existed is gone unless it was this
owner's stale one, every connection a create left is marked, no duplicates. One last run
converges: everything declared exists once and carries the mark, every stale one is gone.
"""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from provisioner.emulator import Emulator, EmulatorConfig, Faults, RunningServer

from .soak import FULL, SEEDS, cli_env, client_for

ORG = "0123456789ABCDEF01234567@AdobeOrg"
SANDBOXES = ("alpha", "beta")
DECLARED = [f"orders-{i:02d}" for i in range(10)]
MARK = "managed-by: provision owner=team-a"
KILLS = 4 if FULL else 2
LATENCY = Faults(latency_ms=15.0, latency_jitter_ms=40.0)
SECRET = {"CRASH_PG_PASSWORD": "crash-pw-51ac"}
FLAGS = ("--prune", "--auto-approve", "--parallelism", "4", "-q")


def manifest() -> str:
    lines = [
        "version: 1",
        f"org: {ORG}",
        'prune: {owner: team-a, names: ["orders-*"]}',
        "sandboxes:",
        *[f"  - {{name: {s}, cloud: azure}}" for s in SANDBOXES],
        "connections:",
    ]
    for name in DECLARED:
        lines += [
            f"  - name: {name}",
            "    description: Orders",
            "    auth:",
            "      type: basic",
            "      server: pg.example.test",
            "      database: orders",
            "      username: reader",
            "      password: {env: CRASH_PG_PASSWORD}",
        ]
    return "\n".join(lines) + "\n"


def payload(name: str, description: str) -> dict[str, Any]:
    return {
        "name": name,
        "description": description,
        "auth": {
            "specName": "Basic Authentication",
            "params": {
                "server": "pg.example.test",
                "port": "5432",
                "database": "orders",
                "username": "reader",
                "password": "old-pw",
                "sslMode": "Verify Full",
            },
        },
        "connectionSpec": {"id": "74a1c565-4e59-48d7-9d67-7c03b8a13137", "version": "1.0"},
    }


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    emu = Emulator(EmulatorConfig(sandboxes=SANDBOXES, seed=5))
    yield emu
    emu.close()


def arrange(emulator: Emulator, rng: random.Random) -> tuple[set[str], set[str]]:
    """Each sandbox: half the declared names made by 0.2 (unmarked), stale ones of team-a,
    and a hand-made and a team-b connection in the claim. (survivors, stale) ids."""
    client = client_for(emulator)
    survivors, stale = set(), set()
    for sandbox in SANDBOXES:

        def make(name: str, description: str, sandbox: str = sandbox) -> str:
            body = payload(name, description)
            return client.create_connection(ORG, sandbox, body, name=name).id

        for name in rng.sample(DECLARED, len(DECLARED) // 2):
            survivors.add(make(name, "Orders"))  # made by 0.2: declared, adopted, never lost
        for i in range(6):
            stale.add(make(f"orders-old-{i}", f"Retired\n{MARK}"))
        survivors.add(make("orders-by-hand", "made in the UI"))
        survivors.add(make("orders-b", "B\nmanaged-by: provision owner=team-b"))
    return survivors, stale


def start(server: RunningServer, emulator: Emulator, path: Path, logs: Path, n: int) -> Any:
    err = logs / f"run{n}.err"
    with err.open("wb") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "provisioner", "apply", str(path), *FLAGS],
            cwd=path.parent,
            env=cli_env(server.url, emulator, **SECRET),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
    return process, err


def records(emulator: Emulator) -> dict[str, dict[str, Any]]:
    return {r["id"]: dict(r) for r in emulator.connections(ORG)}


@pytest.mark.parametrize("seed", SEEDS)
def test_killed_marking_and_pruning_converge_without_deleting_anything_unmarked(
    seed: int, tmp_path: Path, server: RunningServer, emulator: Emulator
) -> None:
    rng = random.Random(seed)
    path = tmp_path / "team-a.yaml"
    path.write_text(manifest(), encoding="utf-8")
    survivors, stale = arrange(emulator, rng)
    emulator.set_faults(LATENCY)
    for run in range(KILLS):
        before = records(emulator)
        process, _ = start(server, emulator, path, tmp_path, run)
        time.sleep(rng.uniform(0.3, 1.5))  # start-up, plan, then somewhere in the writes
        process.send_signal(rng.choice([signal.SIGKILL, signal.SIGINT]))
        process.wait(timeout=120)
        time.sleep(0.15)  # a write left in flight lands (latency < 60 ms)
        after = records(emulator)
        gone = set(before) - set(after)
        assert gone <= stale, f"deleted what was not team-a's stale: {gone - stale}"
        assert survivors <= set(after)
        for conn_id in set(after) - set(before):  # created: marked in the same request
            assert after[conn_id]["description"] == f"Orders\n{MARK}"
    emulator.set_faults(Faults())
    process, err = start(server, emulator, path, tmp_path, KILLS)
    assert process.wait(timeout=120) == 0, err.read_text()
    final = records(emulator)
    assert survivors <= set(final) and not stale & set(final)
    for sandbox in SANDBOXES:
        here = [r for r in final.values() if r["sandboxName"] == sandbox]
        names = sorted(r["name"] for r in here)
        assert names == sorted([*DECLARED, "orders-b", "orders-by-hand"])
        for record in here:
            if record["name"] in DECLARED:
                assert record["description"] == f"Orders\n{MARK}"
        by_hand = next(r for r in here if r["name"] == "orders-by-hand")
        assert by_hand["description"] == "made in the UI"


FAULTS = Faults(
    latency_ms=2.0,
    latency_jitter_ms=10.0,
    rate_429=0.1,
    rate_429_no_retry_after=0.5,
    retry_after_s=1,
    rate_5xx=0.1,
    rate_commit_then_500=0.1,
    rate_commit_then_drop=0.05,
)


@pytest.mark.parametrize("seed", SEEDS)
def test_faults_while_marking_and_pruning_never_cost_an_unmarked_connection(
    seed: int, tmp_path: Path, server: RunningServer, emulator: Emulator
) -> None:
    """5xx, 429 and creates that commit but answer 500 or drop the connection, on every
    write of the run: each run either finishes or fails loudly, never deletes what is not
    team-a's stale, and re-runs converge."""
    path = tmp_path / "team-a.yaml"
    path.write_text(manifest(), encoding="utf-8")
    survivors, stale = arrange(emulator, random.Random(seed))
    emulator.set_faults(FAULTS, seed=seed)
    for run in range(8):
        process, err = start(server, emulator, path, tmp_path, run)
        code = process.wait(timeout=300)
        after = records(emulator)
        assert survivors <= set(after), err.read_text()
        assert "Traceback" not in err.read_text()
        if code == 0:
            break
        assert code == 1, err.read_text()
    else:
        raise AssertionError("apply --prune did not converge in 8 runs under faults")
    final = records(emulator)
    assert not stale & set(final)
    for sandbox in SANDBOXES:
        here = [r for r in final.values() if r["sandboxName"] == sandbox]
        assert sorted(r["name"] for r in here) == sorted([*DECLARED, "orders-b", "orders-by-hand"])
