"""What the fault and crash suites share: sizes, the manifest, a fast client, the figures.

``PROVISION_SOAK=1`` runs the full size (10 seeds, 500 connections over 10 sandboxes per
profile); the default is small enough for ``make test``. Every test adds its counts to one
``Figures`` record; the conftest prints the table at the end of the session and, at full
size, writes it to ``bench/out/soak.json`` (``PROVISION_SOAK_OUT`` overrides the path).
"""

from __future__ import annotations

import dataclasses
import io
import json
import os
import threading
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import httpx

from provisioner.apply.create import ApplyResult, apply_plan
from provisioner.apply.progress import Progress
from provisioner.commands import load_desired
from provisioner.commands.session import plan_for
from provisioner.connectors.postgres.payload import render_payload
from provisioner.emulator import Emulator
from provisioner.manifests.secrets import SecretResolver
from provisioner.manifests.selection import Selection
from provisioner.model import DesiredConnection
from provisioner.plan.make import Action, Plan
from provisioner.remote.client import Credentials, Endpoints, FlowServiceClient
from provisioner.remote.retry import RetryPolicy

ORG = "0123456789ABCDEF01234567@AdobeOrg"
FULL = os.environ.get("PROVISION_SOAK") == "1"
SEEDS = tuple(range(10)) if FULL else (0, 1)
SANDBOX_COUNT = 10 if FULL else 3
NAMES_PER_SANDBOX = 50 if FULL else 20
SANDBOXES = tuple(f"sb{i:02d}" for i in range(SANDBOX_COUNT))
CONNECTIONS = SANDBOX_COUNT * NAMES_PER_SANDBOX
SECRET_ENV = {"SOAK_PG_PASSWORD": "soak-pw-4e1d"}

# Fast but real: backoff and an honoured Retry-After are capped to milliseconds, and the
# budget of attempts stays the production one so the retry paths run as shipped.
FAST_RETRY = RetryPolicy(base_delay=0.002, max_delay=0.02, max_retry_after=0.02, deadline=30.0)


def cli_env(url: str, emulator: Emulator, **secrets: str) -> dict[str, str]:
    """The environment a `provision` subprocess needs to reach an emulator served at `url`."""
    return {
        **os.environ,
        "AEP_IMS_URL": url,
        "AEP_PLATFORM_URL": url,
        "AEP_CLIENT_ID": emulator.config.client_id,
        "AEP_CLIENT_SECRET": emulator.config.client_secret,
        **secrets,
    }


def manifest_text(names: int = NAMES_PER_SANDBOX, sandboxes: Sequence[str] = SANDBOXES) -> str:
    """``names`` entries, each rendered into every sandbox: names x sandboxes connections."""
    lines = [
        "version: 1",
        f"org: {ORG}",
        "sandboxes:",
        *[f"  - {{name: {s}, cloud: azure}}" for s in sandboxes],
        "connections:",
    ]
    for i in range(names):
        lines += [
            f"  - name: soak-{i:03d}",
            "    auth:",
            "      type: basic",
            f"      server: pg-{i:03d}.db.example.test",
            "      database: soak",
            "      username: soak_reader",
            "      password: {env: SOAK_PG_PASSWORD}",
            "      ssl: require",
        ]
    return "\n".join(lines) + "\n"


def write_manifest(
    folder: Path, names: int = NAMES_PER_SANDBOX, sandboxes: Sequence[str] = SANDBOXES
) -> Path:
    path = folder / "soak.yaml"
    path.write_text(manifest_text(names, sandboxes), encoding="utf-8")
    return path


def desired_from(manifest: Path) -> list[DesiredConnection]:
    return load_desired([str(manifest)], Selection(), [])


def client_for(
    emulator: Emulator, *, http: httpx.Client | None = None, base: str = "http://emulator.test"
) -> FlowServiceClient:
    """A client with the fast retry policy; in-process unless given an ``http`` client."""
    config = emulator.config
    return FlowServiceClient(
        http or httpx.Client(transport=emulator.transport()),
        Credentials(config.client_id, config.client_secret),
        Endpoints(ims_url=base, platform_url=base),
        retry=FAST_RETRY,
    )


def apply_once(
    client: FlowServiceClient, desired: Sequence[DesiredConnection], parallelism: int
) -> tuple[Plan, ApplyResult]:
    """What ``provision apply --auto-approve`` does, without the printing."""
    plan = plan_for(client, desired, parallelism)
    values = SecretResolver(SECRET_ENV).resolve_all(
        ref for p in plan.creates for ref in p.desired.secrets
    )
    result = apply_plan(
        plan,
        client,
        lambda c: render_payload(c, values.__getitem__),
        parallelism=parallelism,
        progress=Progress(io.StringIO(), live=False, quiet=True),
    )
    return plan, result


def census(emulator: Emulator, desired: Sequence[DesiredConnection]) -> tuple[int, int, int]:
    """(present exactly once, duplicates, lost) of the desired connections on the server."""
    counts: Counter[tuple[str, str]] = Counter()
    for sandbox in {c.sandbox for c in desired}:
        counts.update((sandbox, r["name"]) for r in emulator.connections(ORG, sandbox))
    wanted = [(c.sandbox, c.name) for c in desired]
    once = sum(1 for key in wanted if counts[key] == 1)
    duplicates = sum(counts[key] - 1 for key in wanted if counts[key] > 1)
    lost = sum(1 for key in wanted if counts[key] == 0)
    return once, duplicates, lost


def assert_converged(
    emulator: Emulator, client: FlowServiceClient, desired: Sequence[DesiredConnection]
) -> None:
    once, duplicates, lost = census(emulator, desired)
    assert (duplicates, lost, once) == (0, 0, len(desired))
    follow_up = plan_for(client, desired, 8)
    actions = Counter(c.action for c in follow_up.connections)
    assert actions == {Action.UNCHANGED: len(desired)}, actions


@dataclasses.dataclass
class Figures:
    """Counts across the session; one shared record, updated under a lock."""

    runs: int = 0
    connections_created: int = 0
    duplicates: int = 0
    lost: int = 0
    crashes_survived: int = 0
    reruns_after_failures: int = 0
    by_suite: dict[str, dict[str, int]] = dataclasses.field(default_factory=dict)
    _lock: threading.Lock = dataclasses.field(default_factory=threading.Lock, repr=False)

    def add(self, suite: str, **counts: int) -> None:
        with self._lock:
            row = self.by_suite.setdefault(suite, {})
            for key, value in counts.items():
                setattr(self, key, getattr(self, key) + value)
                row[key] = row.get(key, 0) + value

    def as_dict(self) -> dict[str, object]:
        with self._lock:
            data = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
            data.pop("_lock")
            data["by_suite"] = {k: dict(v) for k, v in self.by_suite.items()}
        return {"size": "full" if FULL else "default", **data}

    def table(self) -> str:
        keys = ("runs", "connections_created", "duplicates", "lost", "crashes_survived")
        width = max(len(s) for s in [*self.by_suite, "total"]) + 2
        head = "suite".ljust(width) + "".join(k.replace("_", " ").rjust(22) for k in keys)
        rows = [
            name.ljust(width) + "".join(str(row.get(k, 0)).rjust(22) for k in keys)
            for name, row in sorted(self.by_suite.items())
        ]
        total = "total".ljust(width) + "".join(str(getattr(self, k)).rjust(22) for k in keys)
        return "\n".join([head, *rows, total])

    def write(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.as_dict(), indent=2) + "\n", encoding="utf-8")


FIGURES = Figures()
