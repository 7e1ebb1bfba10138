"""Two and three applies started at the same moment converge on one connection per name.

Real processes over a real loopback socket, with latency wide enough (100 ms a request,
ten rounds of creates) that their plans overlap even when the processes start unevenly: every
process sees the names absent and creates them, then settles the race (provisioner/apply/settle.py).
"""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from provisioner.emulator import Emulator, EmulatorConfig, Faults, RunningServer

from .soak import cli_env

ORG = "0123456789ABCDEF01234567@AdobeOrg"
SANDBOXES = ("alpha", "beta")
NAMES = [f"conn-{i:02d}" for i in range(20)]


def manifest_text() -> str:
    lines = [
        "version: 1",
        f"org: {ORG}",
        "sandboxes:",
        *[f"  - {{name: {s}, cloud: azure}}" for s in SANDBOXES],
        "connections:",
    ]
    for name in NAMES:
        lines += [
            f"  - name: {name}",
            "    auth:",
            "      type: basic",
            "      server: pg.example.test",
            "      database: db",
            "      username: reader",
            "      password: {env: RACE_PW}",
        ]
    return "\n".join(lines) + "\n"


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    emu = Emulator(EmulatorConfig(sandboxes=SANDBOXES, seed=3, faults=Faults(latency_ms=100.0)))
    yield emu
    emu.close()


def start_apply(server: RunningServer, emulator: Emulator, manifest: Path) -> subprocess.Popen[str]:
    env = cli_env(server.url, emulator, RACE_PW="race-secret-1")
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "provisioner",
            "apply",
            str(manifest),
            "--auto-approve",
            "--parallelism",
            "4",
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.parametrize("processes", [2, 3])
def test_simultaneous_applies_leave_one_connection_per_name(
    processes: int, tmp_path: Path, server: RunningServer, emulator: Emulator
) -> None:
    manifest = tmp_path / "race.yaml"
    manifest.write_text(manifest_text())
    # Someone's hand-made connections: a duplicate pair of an unmanaged name must survive.
    with httpx.Client(base_url=server.url) as http:
        token = http.post(
            "/ims/token/v3",
            data={
                "grant_type": "client_credentials",
                "client_id": emulator.config.client_id,
                "client_secret": emulator.config.client_secret,
                "scope": "openid",
            },
        ).json()
        headers = {
            "Authorization": f"Bearer {token['access_token']}",
            "x-api-key": emulator.config.client_id,
            "x-gw-ims-org-id": ORG,
            "x-sandbox-name": "alpha",
        }
        body = {
            "name": "hand-made",
            "auth": {
                "specName": "Connection String Based Authentication",
                "params": {"connectionString": "Server=x"},
            },
            "connectionSpec": {"id": "74a1c565-4e59-48d7-9d67-7c03b8a13137", "version": "1.0"},
        }
        for _ in range(2):
            assert (
                http.post(
                    "/data/foundation/flowservice/connections", json=body, headers=headers
                ).status_code
                == 201
            )

    runs = [start_apply(server, emulator, manifest) for _ in range(processes)]
    results = [run.communicate(timeout=120) for run in runs]
    for run, (out, err) in zip(runs, results, strict=True):
        assert run.returncode == 0, out + err
        assert "Traceback" not in err

    for sandbox in SANDBOXES:
        names = Counter(c["name"] for c in emulator.connections(ORG, sandbox))
        assert {n: names[n] for n in NAMES} == dict.fromkeys(NAMES, 1), sandbox
    assert Counter(c["name"] for c in emulator.connections(ORG, "alpha"))["hand-made"] == 2
    created = sum(out.count(" created") for out, _ in results)
    assert created >= 1
    outputs = "".join(out for out, _ in results)
    # The race did happen: at least one process created and then yielded a duplicate.
    assert "found made already" in outputs
