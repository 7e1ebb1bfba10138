"""Load check for the emulator: 32 keep-alive clients against 50 ms of injected latency.

With latency L and N concurrent clients a server that never serialises requests answers
about N / L requests a second (32 / 0.05 s = 512 req/s); the check passes at 80% of that.
The emulator runs in a subprocess by default (as `provision emulator` would), so the clients'
and the server's Python threads do not share one GIL.

    .venv/bin/python bench/emulator_load.py [--clients 32] [--latency-ms 50] [--seconds 5]

`run(...)` returns the figures as a dict for `make bench`.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
FLOW = "/data/foundation/flowservice"
ORG = "0123456789ABCDEF01234567@AdobeOrg"
SPEC = "74a1c565-4e59-48d7-9d67-7c03b8a13137"
SERVER = (
    "import sys; from provisioner.emulator import main; "
    "raise SystemExit(main(sys.argv[1:], prog='emulator'))"
)


def _start_server(latency_ms: float) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [sys.executable, "-c", SERVER, "--port", "0", "--latency-ms", str(latency_ms)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.startswith("export AEP_PLATFORM_URL="):
            return proc, line.strip().split("=", 1)[1]
    raise RuntimeError("the emulator did not start")


def _headers(url: str) -> dict[str, str]:
    token = httpx.post(
        f"{url}/ims/token/v3",
        data={
            "grant_type": "client_credentials",
            "client_id": "emulator-client",
            "client_secret": "emulator-secret",
        },
    ).json()["access_token"]
    return {
        "Authorization": f"Bearer {token}",
        "x-api-key": "emulator-client",
        "x-gw-ims-org-id": ORG,
        "x-sandbox-name": "prod",
    }


def _seed(url: str, headers: dict[str, str], count: int) -> list[str]:
    ids = []
    with httpx.Client(base_url=url, headers=headers, timeout=30) as client:
        for i in range(count):
            body = {
                "name": f"load-{i}",
                "auth": {
                    "specName": "Connection String Based Authentication",
                    "params": {"connectionString": f"Server=pg{i};Database=d;Password=p"},
                },
                "connectionSpec": {"id": SPEC, "version": "1.0"},
            }
            ids.append(client.post(f"{FLOW}/connections", json=body).json()["id"])
    return ids


def run(
    clients: int = 32,
    latency_ms: float = 50.0,
    seconds: float = 5.0,
    url: str | None = None,
) -> dict[str, Any]:
    """Measure; ``url`` targets an already running emulator (its latency is then yours)."""
    proc = None
    if url is None:
        proc, url = _start_server(latency_ms)
    try:
        headers = _headers(url)
        ids = _seed(url, headers, 10)
        statuses: Counter[int] = Counter()
        lock = threading.Lock()
        start_gate = threading.Barrier(clients + 1)
        deadline = [0.0]

        def worker(n: int) -> None:
            local: Counter[int] = Counter()
            with httpx.Client(base_url=url, headers=headers, timeout=30) as client:
                client.get("/__emulator/health")  # open the keep-alive connection first
                start_gate.wait()
                i = n
                while time.perf_counter() < deadline[0]:
                    if i % 2:
                        response = client.get(f"{FLOW}/connections", params={"limit": "5"})
                    else:
                        response = client.get(f"{FLOW}/connections/{ids[i % len(ids)]}")
                    local[response.status_code] += 1
                    i += 1
            with lock:
                statuses.update(local)

        threads = [threading.Thread(target=worker, args=(n,)) for n in range(clients)]
        for t in threads:
            t.start()
        deadline[0] = time.perf_counter() + seconds
        start = time.perf_counter()
        start_gate.wait()
        for t in threads:
            t.join()
        elapsed = time.perf_counter() - start
        with httpx.Client(base_url=url) as client:
            served = client.get("/__emulator/requests").json()["total"]
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(timeout=10)
    total = sum(statuses.values())
    ideal = clients / (latency_ms / 1000.0) if latency_ms else float("inf")
    throughput = total / elapsed
    return {
        "clients": clients,
        "latency_ms": latency_ms,
        "seconds": round(elapsed, 2),
        "requests": total,
        "requests_seen_by_emulator": served,
        "statuses": dict(statuses),
        "throughput_rps": round(throughput, 1),
        "ideal_rps": round(ideal, 1),
        "ratio": round(throughput / ideal, 3),
        "passed": throughput >= 0.8 * ideal and set(statuses) == {200},
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args()
    result = run(args.clients, args.latency_ms, args.seconds)
    print(
        f"emulator load: {result['throughput_rps']} req/s with {result['clients']} clients and "
        f"{result['latency_ms']:g} ms latency = {result['ratio']:.0%} of ideal "
        f"{result['ideal_rps']} req/s ({result['requests']} requests, statuses "
        f"{result['statuses']}): {'PASS' if result['passed'] else 'FAIL'}"
    )
    return 0 if result["passed"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
