"""2,000 dataflows over 50 sandboxes: plan and apply, by route, against a minimal client.

50 sandboxes x 40 connections, each connection with one dataflow (its table, its own
dataset, four columns declared, an incremental column, every 15 minutes or hourly, three
mapping rules). The emulator runs offline (`--databases offline`) with every dataset and
table preloaded through its admin routes before each half, as a rehearsal would. provision
runs plan (empty), apply (create all: the connections and the 2,000 chains) and plan (all
exist: no change, exit 0 with --detailed-exitcode), each phase its own process; then the
emulator is emptied, preloaded again, and bench/reference_dataflows.py (bare keep-alive
httpx requests) does the same listings and creates, in the same run, at the same parallelism.

The issue's scale rule is checked here, not in a unit test: plan (all exist) sends exactly
the list pages of each sandbox (base connections, flows, source and target connections,
mapping sets, Catalog datasets), one credentials check and the token, never one GET per
flow; plan (empty) the same; a different count stops the run with both numbers. So does a
flow count other than 2,000 after either apply.

Run alone with `python bench/run.py --dataflows-only` (writes bench/RESULTS-dataflows.md).
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import reference_dataflows as workload
from harness import (
    HERE,
    PHASES,
    EmulatorProcess,
    Phase,
    load,
    provision_phases,
    routes_between,
)

SANDBOXES = 50
PER_SANDBOX = 40
ORG = "0123456789ABCDEF01234567@AdobeOrg"
# The listings plan reads per sandbox, and how each pages: Flow Service follows
# `_links.next` (a last page is never empty), Data Prep and Catalog read `limit` + `start`
# until a page is short (a full last page costs one more, empty, read).
LISTINGS = (
    ("GET /data/foundation/flowservice/connections", "next"),
    ("GET /data/foundation/flowservice/flows", "next"),
    ("GET /data/foundation/flowservice/sourceConnections", "next"),  # one per connector spec
    ("GET /data/foundation/flowservice/targetConnections", "next"),
    ("GET /data/foundation/conversion/mappingSets", "offset"),
    ("GET /data/foundation/catalog/dataSets", "offset"),
)
# Besides the pages, once per org: a connection spec read that proves the credentials.
CREDENTIALS_CHECK = "GET /data/foundation/flowservice/connectionSpecs/{id}"


@dataclass
class Reference:
    name: str
    seconds: float  # the whole process, from outside
    inside_seconds: float  # after its imports: token, listings, creates
    peak_mb: float
    by_route: dict[str, int]  # as the emulator counted them, the token included

    @property
    def requests(self) -> int:
        return sum(self.by_route.values())


@dataclass
class Section:
    provision: list[Phase]
    reference: list[Reference]
    expected_gets: dict[str, int]  # route -> pages plan must read, every sandbox together
    flows_stored: tuple[int, int]  # after provision's apply, after the reference's
    preload_seconds: float
    load_before: str
    load_after: str

    def ratio(self, index: int) -> float:
        return self.provision[index].seconds / self.reference[index].seconds


def pages(items: int, paging: str, page_size: int = workload.PAGE_SIZE) -> int:
    if paging == "next":
        return max(1, math.ceil(items / page_size))
    return items // page_size + 1


def expected_gets(sandboxes: int = SANDBOXES, per_sandbox: int = PER_SANDBOX) -> dict[str, int]:
    """The GETs of a plan over every sandbox, by route: list pages, and one credentials
    check for the one org."""
    found = {route: sandboxes * pages(per_sandbox, paging) for route, paging in LISTINGS}
    return {**found, CREDENTIALS_CHECK: 1}


def describe(expected: dict[str, int]) -> str:
    """Say "301 GETs (connections 50, flows 50, ..., connectionSpecs/{id} 1)"."""
    each = ", ".join(
        f"{route.removeprefix('GET /data/foundation/').split('/', 1)[1]} {n}"
        for route, n in expected.items()
    )
    return f"{sum(expected.values())} GETs ({each})"


def gets(by_route: dict[str, int]) -> int:
    return sum(n for route, n in by_route.items() if route.startswith("GET "))


def write_manifest(folder: Path, sandboxes: int, per_sandbox: int) -> Path:
    """``per_sandbox`` templated connections, each rendered once in every sandbox, each
    with its dataflow."""
    lines = [
        "version: 1",
        f"org: {ORG}",
        "sandboxes:",
        *[f"  - {{name: sb-{i:03d}, cloud: azure}}" for i in range(sandboxes)],
        "connections:",
    ]
    for c in range(per_sandbox):
        lines += [
            f'  - name: "conn-{c:02d}-{{{{ sandbox.name }}}}"',
            "    auth:",
            "      type: basic",
            f"      server: {workload.server(c)}",
            f"      database: {workload.database(c)}",
            "      username: reader",
            "      password: {env: BENCH_PG_PASSWORD}",
            *dataflow_lines(c),
        ]
    path = folder / f"bench-dataflows-{sandboxes}x{per_sandbox}.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


def dataflow_lines(c: int) -> list[str]:
    """The manifest lines of connection c's one dataflow."""
    frequency, interval = workload.schedule(c)
    columns = ", ".join(name for name, _ in workload.COLUMNS)
    lines = [
        "    dataflows:",
        f"      - table: {workload.table(c)}",
        f"        dataset: {workload.dataset(c)}",
        f"        columns: [{columns}]",
        f"        incremental: {workload.INCREMENTAL}",
        f"        schedule: {{frequency: {frequency}, interval: {interval}}}",
        "        mapping:",
    ]
    for kind, source, destination in workload.MAPPING:
        key = "source" if kind == "attribute" else "expression"
        lines.append(f'          - {{{key}: "{source}", destination: {destination}}}')
    return lines


def preload(emulator: EmulatorProcess, sandboxes: int, per_sandbox: int) -> float:
    """Every dataset and table the manifest names, through the admin routes; seconds taken.

    A table is preloaded once for its database (``{host, database}``), which every
    sandbox's connection to it reads, rather than once per connection name: the emulator
    scans every preloaded table on each explore, and 2,000 of them (41 ms an explore)
    made it, not the clients, the bound of the apply.
    """
    columns = [{"name": name, "type": kind} for name, kind in workload.COLUMNS]
    jobs: list[tuple[str, dict[str, object]]] = [
        (
            "/tables",
            {
                "host": workload.server(c),
                "database": workload.database(c),
                "path": workload.table(c),
                "columns": columns,
            },
        )
        for c in range(per_sandbox)
    ]
    for i in range(sandboxes):
        for c in range(per_sandbox):
            data_set = {"name": workload.dataset(c), "schemaId": workload.schema_id(c)}
            jobs.append(("/datasets", {"org": ORG, "sandbox": f"sb-{i:03d}", **data_set}))
    start = time.perf_counter()
    with ThreadPoolExecutor(8) as pool:
        for response in pool.map(lambda job: emulator.admin.post(job[0], json=job[1]), jobs):
            response.raise_for_status()
    return time.perf_counter() - start


def run_reference(emulator: EmulatorProcess, index: int, parallelism: int) -> Reference:
    phase = "apply" if index == 1 else "plan"
    before = emulator.counts()
    start = time.perf_counter()
    command = [sys.executable, str(HERE / "reference_dataflows.py"), phase, emulator.url]
    command += ["--sandboxes", str(SANDBOXES), "--per-sandbox", str(PER_SANDBOX)]
    done = subprocess.run(
        [*command, "-p", str(parallelism)], capture_output=True, text=True, check=False
    )
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"reference {phase} failed ({done.returncode}):\n{done.stderr}")
    figures = json.loads(done.stdout)
    by_route = routes_between(before, emulator.counts())
    return Reference(
        PHASES[index],
        seconds,
        figures["seconds"],
        figures["peak_kb"] / 1024,
        by_route,
    )


COUNT_FLOWS = (
    "import httpx, sys; "
    "print(len(httpx.get(sys.argv[1] + '/__emulator/state', timeout=120).json()['flows']))"
)


def flows_stored(emulator: EmulatorProcess) -> int:
    # Read in a child process: the state of 2,000 chains is large, and each process this one
    # starts afterwards would report this one's peak memory as its own (Linux carries the
    # peak RSS across fork and exec).
    command = [sys.executable, "-c", COUNT_FLOWS, emulator.url]
    return int(subprocess.run(command, capture_output=True, text=True, check=True).stdout)


def run(latency_ms: float, parallelism: int) -> Section:
    emulator = EmulatorProcess(latency_ms, "--databases", "offline")
    try:
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            before = load()
            manifest = str(write_manifest(folder, SANDBOXES, PER_SANDBOX))
            emulator.reset()
            preloaded = preload(emulator, SANDBOXES, PER_SANDBOX)
            ours = provision_phases(emulator, manifest, parallelism, folder)
            stored = flows_stored(emulator)
            emulator.reset()
            preload(emulator, SANDBOXES, PER_SANDBOX)
            theirs = [
                run_reference(emulator, 0, parallelism),
                run_reference(emulator, 1, parallelism),
                run_reference(emulator, 2, parallelism),
            ]
            section = Section(
                ours,
                theirs,
                expected_gets(),
                (stored, flows_stored(emulator)),
                preloaded,
                before,
                load(),
            )
    finally:
        emulator.close()
    check(section)
    return section


def check(section: Section) -> None:
    """The scale rule, and the same work on both sides; a failure stops the bench."""
    settled = section.provision[2]
    print(
        f"dataflows: plan (all exist) sent {gets(settled.by_route)} GETs for "
        f"{SANDBOXES * PER_SANDBOX} dataflows; expected {describe(section.expected_gets)}",
        flush=True,
    )
    problems = []
    for phase in (section.provision[0], settled):
        listed = {r: n for r, n in phase.by_route.items() if r.startswith("GET ")}
        if listed != section.expected_gets:
            problems.append(
                f"{phase.name}: GETs by route {listed}, expected {section.expected_gets}"
            )
        if phase.requests != gets(phase.by_route) + phase.tokens:
            problems.append(f"{phase.name}: requests other than GETs and tokens: {phase.by_route}")
    wanted = SANDBOXES * PER_SANDBOX
    if section.flows_stored != (wanted, wanted):
        problems.append(
            f"flows stored (provision, reference) {section.flows_stored}, expected {wanted}"
        )
    if problems:
        raise SystemExit("dataflow bench: " + "; ".join(problems))
