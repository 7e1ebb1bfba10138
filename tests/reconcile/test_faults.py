"""One apply under injected faults ends with every connection present exactly once.

429s with and without Retry-After, 5xx before the request is handled, and creates that
are committed and then answered with a 500 or a dropped connection. The in-process runs
are serial, so the emulator's seed decides every fault; a fast retry policy and a recording
`sleep` keep them quick. One CLI run over a socket uses modest rates and real waits.
"""

from __future__ import annotations

import io
import json
import random
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest

from provisioner.apply.create import Status, apply_plan
from provisioner.apply.progress import Progress
from provisioner.commands import load_desired
from provisioner.connectors.postgres.payload import render_payload
from provisioner.emulator import Emulator, EmulatorConfig, Faults, serve
from provisioner.manifests.secrets import SecretResolver
from provisioner.manifests.selection import Selection
from provisioner.plan.make import Action, make_plan
from provisioner.plan.observe import observe
from provisioner.remote.client import Credentials, Endpoints, FlowServiceClient
from provisioner.remote.retry import RetryPolicy

from .recon_helpers import ORG, create_remote, point_at, run_cli, sent_payload, stored

SANDBOXES = {"alpha": "azure", "beta": "azure", "gamma": "aws"}
PER_SANDBOX = 20
GEN_SECRETS = {f"RECON_GEN_PW_{n}": f"gen-secret-{n}-{n * 7919:05d}" for n in range(3)}
FAST = RetryPolicy(base_delay=0.001, max_delay=0.005)


def generated_manifest(seed: int) -> str:
    """3 sandboxes x 20 connections of every kind, as JSON (which YAML reads too)."""
    rng = random.Random(seed)
    connections: list[dict[str, Any]] = []
    for sandbox, cloud in SANDBOXES.items():
        for i in range(PER_SANDBOX):
            secret = {"env": rng.choice(sorted(GEN_SECRETS))}
            kind = rng.choice(["basic", "string", "parts"] if cloud == "azure" else ["basic"])
            auth: dict[str, Any]
            if kind == "basic":
                ssl = rng.choice(["require", "verify-ca", "verify-full", "disable"])
                auth = {"type": "basic", "ssl": ssl, "password": secret}
            elif kind == "string":
                auth = {"type": "connection-string", "connection_string": secret}
            else:
                auth = {"type": "connection-string", "password": secret, "encryption": "ssl"}
                auth["validate_server_certificate"] = rng.random() < 0.5
            if kind != "string":
                auth |= {
                    "server": f"pg-{rng.randrange(1000):03d}.db.example.test",
                    "port": rng.choice([5432, 6432, 5433]),
                    "database": rng.choice(["orders", "billing", "clicks"]),
                    "username": f"reader_{rng.randrange(100)}",
                }
            entry: dict[str, Any] = {"name": f"gen-{i:02d}-{kind}", "sandboxes": [sandbox]}
            if rng.random() < 0.5:
                entry["description"] = f"Generated #{i} in {sandbox}"
            connections.append(entry | {"auth": auth})
    sandboxes = [{"name": s, "cloud": c} for s, c in SANDBOXES.items()]
    document = {"version": 1, "org": ORG, "sandboxes": sandboxes, "connections": connections}
    return json.dumps(document, indent=1)


class Witness(httpx.BaseTransport):
    """Notes which faults the client met, so the test knows it tested something."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner = inner
        self.seen: Counter[str] = Counter()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        kind = "create" if request.method == "POST" and "/flowservice/" in request.url.path else ""
        kind = kind or request.method
        try:
            response = self.inner.handle_request(request)
        except httpx.RemoteProtocolError:
            self.seen[f"{kind} dropped"] += 1
            raise
        if response.status_code == 429:
            has_header = "retry-after" in response.headers
            self.seen[f"{kind} 429 {'with' if has_header else 'without'} Retry-After"] += 1
        elif response.status_code >= 500:
            self.seen[f"{kind} {response.status_code}"] += 1
        return response


@pytest.fixture
def manifest(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name, value in GEN_SECRETS.items():
        monkeypatch.setenv(name, value)
    path = tmp_path / "generated.yaml"
    path.write_text(generated_manifest(seed=20240611), encoding="utf-8")
    return path


@pytest.mark.parametrize(("seed", "parallelism"), [(11, 1), (12, 1), (13, 8)])
def test_one_apply_under_faults_creates_everything_exactly_once(
    manifest: Path, seed: int, parallelism: int
) -> None:
    emulator = Emulator(EmulatorConfig(sandboxes=tuple(SANDBOXES), seed=seed))
    desired = load_desired([str(manifest)], Selection(), [])
    assert len(desired) == 3 * PER_SANDBOX
    # Some already exist, and some connections nobody manages: neither may be touched.
    for c in desired[::9]:
        create_remote(emulator, c.sandbox, render_payload(c, lambda ref: "pre-existing-pw"))
    create_remote(emulator, "gamma", render_payload(desired[-1], lambda r: "x") | {"name": "other"})
    before = stored(emulator)

    emulator.set_faults(
        Faults(
            rate_429=0.15,
            rate_429_no_retry_after=0.5,
            retry_after_s=7,
            rate_5xx=0.1 if parallelism == 1 else 0.05,
            rate_commit_then_500=0.1,
            rate_commit_then_drop=0.1,
            page_size=6,  # listings take several pages, each of which can fail
        ),
        seed=seed,
    )
    witness = Witness(emulator.transport())
    waits: list[float] = []
    client = FlowServiceClient(
        httpx.Client(transport=witness),
        Credentials(emulator.config.client_id, emulator.config.client_secret),
        Endpoints(ims_url="http://emulator.test", platform_url="http://emulator.test"),
        retry=FAST,
        sleep=waits.append,
        rng=random.Random(seed),
    )
    plan = make_plan(desired, observe(client, [(c.org, c.sandbox) for c in desired], parallelism))
    assert plan.counts == {Action.CREATE: 53, Action.UNCHANGED: 7}
    values = SecretResolver(GEN_SECRETS).resolve_all(r for c in desired for r in c.secrets)
    result = apply_plan(
        plan,
        client,
        lambda c: render_payload(c, values.__getitem__),
        parallelism=parallelism,
        progress=Progress(io.StringIO(), live=False, quiet=True),
    )

    assert [o.message for o in result.outcomes if o.status is not Status.CREATED] == []
    after = {r["id"]: r for r in stored(emulator)}
    assert {r["id"]: after[r["id"]] for r in before} == {r["id"]: r for r in before}
    created = [r for i, r in after.items() if i not in {b["id"] for b in before}]
    # Exactly once each, with the payload the manifest asks for.
    assert sorted((r["sandboxName"], r["name"]) for r in created) == sorted(
        (p.desired.sandbox, p.desired.name) for p in plan.creates
    )
    assert {(r["sandboxName"], r["name"]): sent_payload(r) for r in created} == {
        (p.desired.sandbox, p.desired.name): render_payload(p.desired, values.__getitem__)
        for p in plan.creates
    }

    # The faults did happen (so the test tested something), and Retry-After was honoured.
    assert sum(o.note is not None for o in result.outcomes) >= 3  # committed, then unclear
    with_header = sum(n for k, n in witness.seen.items() if k.endswith("with Retry-After"))
    assert waits.count(7.0) == with_header > 0
    if parallelism == 1:  # serial: the seed decides every fault, so every kind is there
        assert set(witness.seen) >= {
            "create 429 with Retry-After",
            "create 429 without Retry-After",
            "create dropped",
            "GET 429 with Retry-After",
            "GET 429 without Retry-After",
        }
        assert any(k.startswith("create 5") for k in witness.seen)
        assert any(k.startswith("GET 5") for k in witness.seen)
    else:
        assert sum(witness.seen.values()) >= 20
    emulator.close()


def test_cli_apply_over_a_socket_with_modest_faults(
    manifest: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    faults = Faults(
        latency_ms=1.0,
        rate_429=0.05,
        rate_429_no_retry_after=0.5,
        retry_after_s=0,
        rate_5xx=0.05,
        rate_commit_then_500=0.05,
        rate_commit_then_drop=0.05,
    )
    emulator = Emulator(EmulatorConfig(sandboxes=tuple(SANDBOXES), seed=5, faults=faults))
    with serve(emulator) as server:
        point_at(monkeypatch, server, emulator, secrets=GEN_SECRETS)
        apply = run_cli(capsys, ["apply", str(manifest), "--auto-approve", "-q"])
        emulator.set_faults(Faults())
        plan = run_cli(capsys, ["plan", str(manifest), "--detailed-exitcode"])
    assert (apply.code, apply.err) == (0, "")
    assert apply.out.endswith("Apply complete: 60 created.\n")
    assert Counter((r["sandboxName"], r["name"]) for r in stored(emulator)) == Counter(
        (c.sandbox, c.name) for c in load_desired([str(manifest)], Selection(), [])
    )
    assert (plan.code, plan.err) == (0, "")
    assert plan.out.endswith("Plan: 0 to add, 60 unchanged, 0 drifted.\n")
    emulator.close()
