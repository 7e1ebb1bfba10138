"""What every `make bench` section shares: the emulator process, manifests, timed phases.

A phase is one `provision` process (bench/child.py runs the CLI in-process and reports its
peak RSS and the time spent in the network stages); the emulator runs in its own process,
as `provision emulator` would, and its admin routes count what it saw.
"""

from __future__ import annotations

import json
import os
import platform
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

HERE = Path(__file__).resolve().parent


@dataclass
class Phase:
    name: str
    seconds: float  # the whole process, start-up included, measured from outside
    network_seconds: float  # inside the two network stages (observe, apply)
    requests: int  # Flow Service and token requests the emulator saw
    throttled: int  # of those, refused by the emulator's rate limit
    tokens: int  # of those, IMS token requests
    peak_mb: float
    parallelism: int
    latency: float
    by_route: dict[str, int] = field(default_factory=dict)  # "METHOD route" -> requests

    @property
    def flow_requests(self) -> int:
        return self.requests - self.tokens

    @property
    def floor(self) -> float:
        return self.requests / self.parallelism * self.latency

    @property
    def ratio(self) -> float:
        return self.seconds / self.floor if self.floor else float("nan")

    @property
    def network_ratio(self) -> float:
        return self.network_seconds / self.floor if self.floor else float("nan")


class EmulatorProcess:
    def __init__(self, latency_ms: float, *extra: str) -> None:
        self.latency = latency_ms / 1000
        command = [sys.executable, "-m", "provisioner", "emulator", "--port", "0"]
        command += ["--any-sandbox", "--latency-ms", str(latency_ms), "--seed", "1", *extra]
        self.proc = subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        self.env: dict[str, str] = {}
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            match = re.match(r"export (AEP_\w+)=(.*)", line.strip())
            if match:
                self.env[match[1]] = match[2]
            if "AEP_CLIENT_SECRET" in self.env:
                break
        self.url = self.env["AEP_PLATFORM_URL"]
        self.admin = httpx.Client(base_url=self.url + "/__emulator", timeout=120)

    def reset(self) -> None:
        self.admin.delete("/state").raise_for_status()
        self.admin.delete("/requests").raise_for_status()

    def counts(self) -> dict[str, Any]:
        counts: dict[str, Any] = self.admin.get("/requests").json()
        return counts

    def set_faults(self, **faults: Any) -> None:
        self.admin.put("/faults", json=faults).raise_for_status()

    def close(self) -> None:
        self.admin.close()
        self.proc.terminate()
        self.proc.wait(10)


def write_manifest(folder: Path, sandboxes: int, per_sandbox: int) -> Path:
    """``per_sandbox`` templated connections, each rendered once in every sandbox."""
    lines = [
        "version: 1",
        "org: 0123456789ABCDEF01234567@AdobeOrg",
        "sandboxes:",
        *[f"  - {{name: sb-{i:03d}, cloud: azure}}" for i in range(sandboxes)],
        "connections:",
    ]
    for c in range(per_sandbox):
        lines += [
            f'  - name: "conn-{c:02d}-{{{{ sandbox.name }}}}"',
            "    auth:",
            "      type: basic",
            f'      server: "pg-{c}.{{{{ sandbox.name }}}}.example.com"',
            f"      database: db_{c}",
            "      username: reader",
            "      password: {env: BENCH_PG_PASSWORD}",
        ]
    path = folder / f"bench-{sandboxes}x{per_sandbox}.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


def run_phase(
    emulator: EmulatorProcess,
    name: str,
    args: list[str],
    parallelism: int,
    folder: Path,
    extra_env: dict[str, str] | None = None,
    expect: tuple[int, ...] = (0, 2),
) -> Phase:
    rss_file = folder / "rss"
    env = {
        **os.environ,
        **emulator.env,
        "BENCH_PG_PASSWORD": "bench-secret",
        "BENCH_RSS_FILE": str(rss_file),
        **(extra_env or {}),
    }
    before = emulator.counts()
    start = _now()
    done = subprocess.run(
        [sys.executable, str(HERE / "child.py"), *args, "--parallelism", str(parallelism), "-q"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = _now() - start
    if done.returncode not in expect:
        raise SystemExit(f"{name} failed ({done.returncode}):\n{done.stderr}")
    after = emulator.counts()
    figures = json.loads(rss_file.read_text())
    return Phase(
        name,
        seconds,
        figures["network_s"],
        after["total"] - before["total"],
        after.get("throttled", 0) - before.get("throttled", 0),
        _tokens(after) - _tokens(before),
        figures["peak_kb"] / 1024,
        parallelism,
        emulator.latency,
        routes_between(before, after),
    )


def routes_between(before: dict[str, Any], after: dict[str, Any]) -> dict[str, int]:
    """The requests per route the emulator saw between two readings of its counters."""
    was: dict[str, int] = before.get("by_route", {})
    now: dict[str, int] = after.get("by_route", {})
    return {r: n - was.get(r, 0) for r, n in sorted(now.items()) if n > was.get(r, 0)}


PHASES = ("plan (empty)", "apply (create all)", "plan (all exist)")


def provision_phases(
    emulator: EmulatorProcess, manifest: str, parallelism: int, folder: Path
) -> list[Phase]:
    """The three phases a scale section times provision on: plan against an empty emulator,
    apply of everything, then a plan that must report no change (exit 0)."""
    return [
        run_phase(emulator, PHASES[0], ["plan", manifest], parallelism, folder),
        run_phase(
            emulator,
            PHASES[1],
            ["apply", manifest, "--auto-approve"],
            parallelism,
            folder,
            expect=(0,),
        ),
        run_phase(
            emulator,
            PHASES[2],
            ["plan", manifest, "--detailed-exitcode"],
            parallelism,
            folder,
            expect=(0,),  # everything exists: no changes
        ),
    ]


def _tokens(counts: dict[str, Any]) -> int:
    return int(counts.get("by_route", {}).get("POST /ims/token/v3", 0))


def _now() -> float:
    import time

    return time.perf_counter()


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    return (
        f"{platform.system()} {platform.machine()}, {os.cpu_count()} cores ({cpu}), "
        f"Python {platform.python_version()}"
    )


def load() -> str:
    """The 1/5/15-minute load averages: the machine is shared, so figures move with them."""
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} / {five:.2f} / {fifteen:.2f}"
