"""The minimal client `make bench` compares provision with: bare keep-alive httpx requests.

No manifests, no validation, no templates, no retries, no pacing, no settling: one token,
then the same listing requests provision sends (every page of every sandbox) and, for
`apply`, one POST per missing connection with the payload provision would render. It is
the least work any client must do against the same emulator, so its time is the floor a
real client is measured against.

    python bench/reference.py {plan|apply} URL --sandboxes 500 --per-sandbox 100 -p 16

Prints one JSON object: seconds (inside the process, after imports), requests, peak_kb.
"""

from __future__ import annotations

import argparse
import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import peak

ORG = "0123456789ABCDEF01234567@AdobeOrg"
SPEC = "74a1c565-4e59-48d7-9d67-7c03b8a13137"
FLOW = "/data/foundation/flowservice"


def payload(sandbox: str, c: int) -> dict[str, Any]:
    # What provision renders for bench/run.py's manifest (`provision render` shows it).
    return {
        "name": f"conn-{c:02d}-{sandbox}",
        "auth": {
            "specName": "Basic Authentication",
            "params": {
                "server": f"pg-{c}.{sandbox}.example.com",
                "port": "5432",
                "database": f"db_{c}",
                "username": "reader",
                "password": "bench-secret",
                "sslMode": "Verify Full",
            },
        },
        "connectionSpec": {"id": SPEC, "version": "1.0"},
    }


class Reference:
    def __init__(self, url: str, parallelism: int) -> None:
        self.url = url
        self.sent = 0
        self._lock = threading.Lock()
        limits = httpx.Limits(max_connections=parallelism, max_keepalive_connections=parallelism)
        self.http = httpx.Client(base_url=url, limits=limits, timeout=60)
        token = self.http.post(
            "/ims/token/v3",
            data={
                "grant_type": "client_credentials",
                "client_id": "emulator-client",
                "client_secret": "emulator-secret",
                "scope": "openid,AdobeID,read_organizations",
            },
        ).json()["access_token"]
        self.headers = {
            "Authorization": f"Bearer {token}",
            "x-api-key": "emulator-client",
            "x-gw-ims-org-id": ORG,
        }

    def _count(self) -> None:
        with self._lock:
            self.sent += 1

    def names(self, sandbox: str) -> set[str]:
        headers = {**self.headers, "x-sandbox-name": sandbox}
        url = f"{FLOW}/connections"
        params: dict[str, str] | None = {
            "property": f"connectionSpec.id=={SPEC}",
            "limit": "100",
        }
        found: set[str] = set()
        while True:
            self._count()
            body = self.http.get(url, params=params, headers=headers).json()
            found.update(item["name"] for item in body["items"])
            link = (body.get("_links") or {}).get("next")
            href = link.get("href") if isinstance(link, dict) else link
            if not href:
                return found
            url, params = f"{FLOW}{href}" if href.startswith("/connections") else href, None

    def create(self, sandbox: str, body: dict[str, Any]) -> None:
        self._count()
        headers = {**self.headers, "x-sandbox-name": sandbox}
        response = self.http.post(f"{FLOW}/connections", json=body, headers=headers)
        if response.status_code != 201:
            raise SystemExit(f"reference create failed: {response.status_code} {response.text}")


def arguments(doc: str) -> argparse.Namespace:
    """The command line every minimal client takes: phase, URL, workload size, parallelism."""
    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    parser.add_argument("phase", choices=("plan", "apply"))
    parser.add_argument("url")
    parser.add_argument("--sandboxes", type=int, required=True)
    parser.add_argument("--per-sandbox", type=int, required=True)
    parser.add_argument("-p", "--parallelism", type=int, default=16)
    return parser.parse_args()


def main() -> int:
    args = arguments(__doc__)
    sandboxes = [f"sb-{i:03d}" for i in range(args.sandboxes)]
    start = time.perf_counter()
    client = Reference(args.url, args.parallelism)
    with ThreadPoolExecutor(args.parallelism) as pool:
        existing = dict(zip(sandboxes, pool.map(client.names, sandboxes), strict=True))
        if args.phase == "apply":
            missing = [
                (sandbox, payload(sandbox, c))
                for sandbox in sandboxes
                for c in range(args.per_sandbox)
                if f"conn-{c:02d}-{sandbox}" not in existing[sandbox]
            ]
            list(pool.map(lambda job: client.create(*job), missing))
    seconds = time.perf_counter() - start
    client.http.close()
    peak_kb = peak.peak_kb()
    print(json.dumps({"seconds": seconds, "requests": client.sent, "peak_kb": peak_kb}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
