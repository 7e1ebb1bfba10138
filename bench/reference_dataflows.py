"""The minimal client the dataflow section compares provision with: bare keep-alive httpx.

No manifests, no validation, no templates, no retries, no pacing, no settling: one token;
per sandbox the listings provision's plan reads (base connections, flows, source and target
connections, Data Prep mapping sets, Catalog datasets, every page of each); and for `apply`,
per connection a POST when it is missing, then per dataflow whose flow is missing the chain
provision makes: explore the table's columns, POST the source connection, the target
connection, the mapping set and the flow, with the bodies provision sends. Each connection's
work runs as one job, so its chain follows its create without waiting for the others.

The workload (tables, datasets, columns, schedules, mappings) is defined here once:
bench/dataflows.py writes the manifest and the emulator's preloads from the same functions.

    python bench/reference_dataflows.py {plan|apply} URL --sandboxes 50 --per-sandbox 40 -p 16

Prints one JSON object: seconds (inside the process, after imports), requests, peak_kb.
"""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import peak
from reference import FLOW, SPEC, Reference, arguments

CONVERSION = "/data/foundation/conversion"
CATALOG = "/data/foundation/catalog"
LAKE_SPEC = "c604ff05-7f1a-43c0-8e18-33bf874cb11c"
FLOW_SPEC = "14518937-270c-4525-bdec-c2ba7cce3860"
SCHEMA_VERSION = "application/vnd.adobe.xed-full+json;version=1"
PAGE_SIZE = 100  # provision's list page; the emulator's and Catalog's largest
START_DELAY_S = 60  # a flow without a declared start starts a minute after its create

# The workload: in every sandbox, connection c reads table t_<c> of database db_<c> on
# server pg-<c> (the same database feeds every sandbox) into that sandbox's dataset ds-<c>.
COLUMNS = (("id", "bigint"), ("email", "text"), ("amount", "numeric"), ("updated_at", "timestamp"))
INCREMENTAL = "updated_at"
MAPPING = (
    ("attribute", "id", "_id"),
    ("attribute", "amount", "_bench.amount"),
    ("expression", "lower(email)", "personalEmail.address"),
)


def server(c: int) -> str:
    return f"pg-{c:02d}.bench.example.com"


def database(c: int) -> str:
    return f"db_{c:02d}"


def table(c: int) -> str:
    return f"public.t_{c:02d}"


def dataset(c: int) -> str:
    return f"ds-{c:02d}"


def schema_id(c: int) -> str:
    return f"https://ns.adobe.com/bench/schemas/t{c:02d}"


def schedule(c: int) -> tuple[str, int]:
    """Half the flows every 15 minutes, half hourly."""
    return ("minute", 15) if c % 2 == 0 else ("hour", 1)


def connection(sandbox: str, c: int) -> str:
    return f"conn-{c:02d}-{sandbox}"


def flow_name(sandbox: str, c: int) -> str:
    # A manifest dataflow without a name is called "<connection name>/<table>".
    return f"{connection(sandbox, c)}/{table(c)}"


def payload(sandbox: str, c: int) -> dict[str, Any]:
    # What provision renders for bench/dataflows.py's manifest (`provision render` shows it).
    return {
        "name": connection(sandbox, c),
        "auth": {
            "specName": "Basic Authentication",
            "params": {
                "server": server(c),
                "port": "5432",
                "database": database(c),
                "username": "reader",
                "password": "bench-secret",
                "sslMode": "Verify Full",
            },
        },
        "connectionSpec": {"id": SPEC, "version": "1.0"},
    }


@dataclass
class Listing:
    """What one sandbox holds, by name: base connection ids, flow names, datasets."""

    connections: dict[str, str] = field(default_factory=dict)
    flows: set[str] = field(default_factory=set)
    datasets: dict[str, tuple[str, str]] = field(default_factory=dict)  # name -> id, schema


class DataflowReference(Reference):
    def _get(self, sandbox: str, url: str, params: dict[str, str] | None) -> Any:
        self._count()
        headers = {**self.headers, "x-sandbox-name": sandbox}
        response = self.http.get(url, params=params, headers=headers)
        if response.status_code != 200:
            raise SystemExit(f"reference GET failed: {response.status_code} {response.text}")
        return response.json()

    def _post(self, sandbox: str, url: str, body: Any, status: int = 201) -> str:
        self._count()
        headers = {**self.headers, "x-sandbox-name": sandbox}
        response = self.http.post(url, json=body, headers=headers)
        if response.status_code != status:
            raise SystemExit(f"reference POST {url} failed: {response.status_code} {response.text}")
        return str(response.json()["id"])

    def flow_items(self, sandbox: str, collection: str, spec: str | None) -> list[Any]:
        """Every item of a Flow Service list, following `_links.next`."""
        url = f"{FLOW}/{collection}"
        params: dict[str, str] | None = {"limit": str(PAGE_SIZE)}
        if spec is not None:
            params = {"property": f"connectionSpec.id=={spec}", **(params or {})}
        items: list[Any] = []
        while True:
            body = self._get(sandbox, url, params)
            items += body["items"]
            href = ((body.get("_links") or {}).get("next") or {}).get("href")
            if not href:
                return items
            url, params = f"{FLOW}{href}", None

    def offset_items(self, sandbox: str, url: str, query: dict[str, str]) -> list[Any]:
        """Every item of a Data Prep or Catalog list: `limit` + `start` until a short page."""
        items: list[Any] = []
        while True:
            params = {**query, "limit": str(PAGE_SIZE), "start": str(len(items))}
            body = self._get(sandbox, url, params)
            page = body["data"] if "data" in body else [{"id": k, **v} for k, v in body.items()]
            items += page
            if len(page) < PAGE_SIZE:
                return items

    def listing(self, sandbox: str) -> Listing:
        found = Listing()
        for item in self.flow_items(sandbox, "connections", SPEC):
            found.connections[item["name"]] = item["id"]
        found.flows = {item["name"] for item in self.flow_items(sandbox, "flows", None)}
        self.flow_items(sandbox, "sourceConnections", SPEC)
        self.flow_items(sandbox, "targetConnections", LAKE_SPEC)
        self.offset_items(sandbox, f"{CONVERSION}/mappingSets", {})
        sets = self.offset_items(sandbox, f"{CATALOG}/dataSets", {"properties": "name,schemaRef"})
        found.datasets = {d["name"]: (d["id"], d["schemaRef"]["id"]) for d in sets}
        return found

    def make(self, sandbox: str, c: int, listing: Listing) -> None:
        """Connection c of the sandbox and its dataflow, whichever is missing."""
        base = listing.connections.get(connection(sandbox, c))
        if base is None:
            base = self._post(sandbox, f"{FLOW}/connections", payload(sandbox, c))
        if flow_name(sandbox, c) in listing.flows:
            return
        explored = self._get(
            sandbox,
            f"{FLOW}/connections/{base}/explore",
            {"objectType": "table", "object": table(c)},
        )
        by_name = {column["name"]: column for column in explored["schema"]["columns"]}
        data_set, schema = listing.datasets[dataset(c)]
        name = flow_name(sandbox, c)
        source = self._post(sandbox, f"{FLOW}/sourceConnections", _source(name, base, c, by_name))
        target = self._post(sandbox, f"{FLOW}/targetConnections", _target(name, data_set, schema))
        mapping = self._post(sandbox, f"{CONVERSION}/mappingSets", _mapping(schema), status=200)
        self._post(sandbox, f"{FLOW}/flows", _flow(name, c, source, target, mapping))


def _source(name: str, base: str, c: int, by_name: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": f"{name} (source)",
        "baseConnectionId": base,
        "data": {"format": "tabular"},
        "params": {"tableName": table(c), "columns": [by_name[n] for n, _ in COLUMNS]},
        "connectionSpec": {"id": SPEC, "version": "1.0"},
    }


def _target(name: str, data_set: str, schema: str) -> dict[str, Any]:
    return {
        "name": f"{name} (target)",
        "data": {"schema": {"id": schema, "version": SCHEMA_VERSION}},
        "params": {"dataSetId": data_set},
        "connectionSpec": {"id": LAKE_SPEC, "version": "1.0"},
    }


def _mapping(schema: str) -> dict[str, Any]:
    return {
        "outputSchema": {"schemaRef": {"id": schema, "contentType": SCHEMA_VERSION}},
        "mappings": [
            {"sourceType": kind.upper(), "source": source, "destination": destination}
            for kind, source, destination in MAPPING
        ],
    }


def _flow(name: str, c: int, source: str, target: str, mapping: str) -> dict[str, Any]:
    frequency, interval = schedule(c)
    return {
        "name": name,
        "flowSpec": {"id": FLOW_SPEC, "version": "1.0"},
        "sourceConnectionIds": [source],
        "targetConnectionIds": [target],
        "transformations": [
            {"name": "Copy", "params": {"deltaColumn": {"name": INCREMENTAL}}},
            {"name": "Mapping", "params": {"mappingId": mapping, "mappingVersion": "0"}},
        ],
        "scheduleParams": {
            "startTime": str(int(time.time()) + START_DELAY_S),
            "frequency": frequency,
            "interval": str(interval),
            "backfill": "true",
        },
    }


def main() -> int:
    args = arguments(__doc__)
    sandboxes = [f"sb-{i:03d}" for i in range(args.sandboxes)]
    start = time.perf_counter()
    client = DataflowReference(args.url, args.parallelism)
    with ThreadPoolExecutor(args.parallelism) as pool:
        listings = dict(zip(sandboxes, pool.map(client.listing, sandboxes), strict=True))
        if args.phase == "apply":
            jobs = [(s, c) for s in sandboxes for c in range(args.per_sandbox)]
            list(pool.map(lambda job: client.make(job[0], job[1], listings[job[0]]), jobs))
    seconds = time.perf_counter() - start
    client.http.close()
    peak_kb = peak.peak_kb()
    print(json.dumps({"seconds": seconds, "requests": client.sent, "peak_kb": peak_kb}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
