"""Two repositories manage one sandbox and both claim `orders-*` (docs/pipelines.md allows
several repositories per sandbox; a glob in one cannot see the other's). The owner marks keep
them apart: with separate credentials and with one shared credential, one after the other and
at the same moment, neither ever deletes the other's connection or a hand-made one, and each
deletes its own stale ones. Real processes on a loopback socket."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from provisioner.emulator import Emulator, EmulatorConfig, Faults, RunningServer
from provisioner.remote.client import Credentials, Endpoints, FlowServiceClient

from .recon_helpers import ORG, basic

SEPARATE = (("team-a-client", "team-a-secret-1f0c"), ("team-b-client", "team-b-secret-77d2"))
SHARED = (("shared-client", "shared-secret-4b1e"),) * 2
SCRIPT = Path(sys.executable).with_name("provision")


def manifest(owner: str, names: list[str]) -> str:
    lines = [
        "version: 1",
        f"org: {ORG}",
        f'prune: {{owner: {owner}, names: ["orders-*"]}}',
        "sandboxes:",
        "  - {name: prod, cloud: azure}",
        "connections:",
    ]
    for name in names:
        lines += [
            f"  - name: {name}",
            "    auth:",
            "      type: basic",
            "      server: pg.example.test",
            "      database: orders",
            "      username: aep_reader",
            "      password: {env: TWO_REPOS_PW}",
        ]
    return "\n".join(lines) + "\n"


class Repository:
    def __init__(self, root: Path, owner: str, credential: tuple[str, str], url: str) -> None:
        self.root, self.owner = root, owner
        subprocess.run(["git", "init", "-q", str(root)], check=True)
        self.env = {
            "PATH": os.environ.get("PATH", ""),
            "AEP_IMS_URL": url,
            "AEP_PLATFORM_URL": url,
            "AEP_CLIENT_ID": credential[0],
            "AEP_CLIENT_SECRET": credential[1],
            "TWO_REPOS_PW": f"{owner}-pw",
        }

    def declare(self, *names: str) -> None:
        path = self.root / "configs" / "orders.yaml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(manifest(self.owner, list(names)), encoding="utf-8")

    def start(self, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [str(SCRIPT), *args],
            cwd=self.root,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(SCRIPT), *args],
            cwd=self.root,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )


@pytest.fixture(params=["separate credentials", "one shared credential"])
def credentials(request: pytest.FixtureRequest) -> tuple[tuple[str, str], ...]:
    return SEPARATE if request.param == "separate credentials" else SHARED


@pytest.fixture
def emulator(credentials: tuple[tuple[str, str], ...]) -> Iterator[Emulator]:
    clients = tuple(dict.fromkeys((ORG, cid, secret) for cid, secret in credentials))
    config = EmulatorConfig(
        client_id="unused-client",
        client_secret="unused-secret",
        orgs=(ORG,),
        org_clients=clients,
        sandboxes=("prod",),
        seed=11,
    )
    emu = Emulator(config)
    yield emu
    emu.close()


@pytest.fixture
def repos(
    tmp_path: Path, server: RunningServer, credentials: tuple[tuple[str, str], ...]
) -> tuple[Repository, Repository]:
    a = Repository(tmp_path / "repo-a", "team-a", credentials[0], server.url)
    b = Repository(tmp_path / "repo-b", "team-b", credentials[1], server.url)
    return a, b


def names(emulator: Emulator) -> list[str]:
    return sorted(r["name"] for r in emulator.connections(ORG, "prod"))


def made_by_hand(emulator: Emulator, credential: tuple[str, str]) -> str:
    """A connection a person made in the UI with the first credential: no owner mark."""
    base = "http://emulator.test"
    client = FlowServiceClient(
        httpx.Client(transport=emulator.transport()),
        Credentials(*credential),
        Endpoints(ims_url=base, platform_url=base),
    )
    payload = basic(
        "orders-by-hand",
        server="pg.example.test",
        port="5432",
        database="orders",
        username="aep_reader",
        password="by-hand",
        ssl="Verify Full",
    )
    return client.create_connection(ORG, "prod", payload, name="orders-by-hand").id


def test_overlapping_globs_of_two_repositories_never_delete_each_other(
    emulator: Emulator,
    repos: tuple[Repository, Repository],
    credentials: tuple[tuple[str, str], ...],
) -> None:
    a, b = repos
    by_hand = made_by_hand(emulator, credentials[0])
    a.declare("orders-a", "orders-a-old")
    b.declare("orders-b", "orders-b-old")
    for repo in (a, b):
        done = repo.run("apply", "configs", "--prune", "--auto-approve")
        assert done.returncode == 0, done.stdout + done.stderr
    assert names(emulator) == [
        "orders-a",
        "orders-a-old",
        "orders-b",
        "orders-b-old",
        "orders-by-hand",
    ]
    # Each retires one; every run of either, in any order, deletes only its own.
    a.declare("orders-a")
    b.declare("orders-b")
    for repo in (b, a, b, a):
        done = repo.run("apply", "configs", "--prune", "--auto-approve")
        assert done.returncode == 0, done.stdout + done.stderr
        assert "orders-by-hand" in names(emulator)
        assert {"orders-a", "orders-b"} <= set(names(emulator))
    assert names(emulator) == ["orders-a", "orders-b", "orders-by-hand"]
    plan = a.run("plan", "configs", "--prune", "-v")
    assert "owner team-a (configs/orders.yaml:3) matches it, but it carries owner=team-b" in (
        plan.stdout
    )
    assert by_hand in {r["id"] for r in emulator.connections(ORG, "prod")}


def test_two_owners_pruning_at_the_same_moment_converge(
    emulator: Emulator,
    repos: tuple[Repository, Repository],
    credentials: tuple[tuple[str, str], ...],
) -> None:
    a, b = repos
    made_by_hand(emulator, credentials[1])
    # Latency wide enough that both processes list before either writes.
    emulator.set_faults(Faults(latency_ms=40.0))
    for round_ in range(3):
        a.declare("orders-a", f"orders-a-{round_}")
        b.declare("orders-b", f"orders-b-{round_}")
        # The previous round's names are now stale, each in its own repository.
        runs = [repo.start("apply", "configs", "--prune", "--auto-approve") for repo in (a, b)]
        for process in runs:
            out, err = process.communicate(timeout=120)
            assert process.returncode == 0, out + err
        assert names(emulator) == sorted(
            ["orders-a", f"orders-a-{round_}", "orders-b", f"orders-b-{round_}", "orders-by-hand"]
        )
