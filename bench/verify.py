"""`make bench`, verify section: 200 connections ≈ (connections / parallelism) x one round trip.

A throwaway PostgreSQL server (tests/verify/pgserver.py). `api`: the emulator as its own
process in connect mode with injected API latency, so every `GET /connections/{id}/test`
opens a real PostgreSQL connection. `direct`: `verify --direct`'s stage through a proxy
process that holds every packet a few milliseconds each way, a network instead of loopback.
One round trip is the median of single checks made one after another; the floor of a run is
connections / parallelism x that round trip. Timed in this process around the verify stage
only (`verify_remote`, `verify_direct`), with the CPU seconds every process involved spent,
since real logins cost CPU that parallelism cannot hide. Run alone: `python bench/verify.py`.
"""

from __future__ import annotations

import asyncio
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from provisioner.commands import load_desired
from provisioner.commands.session import plan_for
from provisioner.manifests.selection import Selection
from provisioner.remote.client import Credentials, Endpoints, FlowServiceClient, build_http_client
from provisioner.verify.checks import test_one, verify_direct, verify_remote

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests" / "verify"))

import pgserver  # noqa: E402

SANDBOXES, PER_SANDBOX = 5, 40
PARALLELISMS = (4, 16, 32)
SAMPLES = 15
REPEATS = 3


def _manifest(folder: Path, server: pgserver.PgServer, port: int, name: str) -> Path:
    lines = [
        "version: 1",
        "org: 0123456789ABCDEF01234567@AdobeOrg",
        "sandboxes:",
        *[f"  - {{name: sb-{i}, cloud: azure}}" for i in range(SANDBOXES)],
        "connections:",
    ]
    for c in range(PER_SANDBOX):
        lines += [
            f'  - name: "conn-{c:02d}"',
            "    auth:",
            "      type: basic",
            f"      server: {server.host}",
            f"      port: {port}",
            f"      database: {server.database}",
            f"      username: {server.user}",
            "      password: {env: BENCH_VERIFY_PASSWORD}",
            "      ssl: disable",
        ]
    path = folder / name
    path.write_text("\n".join(lines) + "\n")
    return path


def _emulator(manifest: Path, latency_ms: float) -> tuple[subprocess.Popen[str], dict[str, str]]:
    proc = subprocess.Popen(
        [
            *(sys.executable, "-m", "provisioner", "emulator", str(manifest), "--port", "0"),
            *("--latency-ms", str(latency_ms), "--databases", "connect", "--seed", "1"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    env: dict[str, str] = {}
    assert proc.stdout is not None
    for line in proc.stdout:
        match = re.match(r"export (AEP_\w+)=(.*)", line.strip())
        if match:
            env[match[1]] = match[2]
        if "AEP_CLIENT_SECRET" in env:
            break
    return proc, env


def _timed(function: Any) -> float:
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


def _process_cpu(pid: int) -> float:
    """CPU seconds of a process and its reaped children (PostgreSQL's exited backends)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return sum(int(f) for f in fields[11:15]) / os.sysconf("SC_CLK_TCK")


class CpuMeter:
    """CPU seconds used by this process, the emulator and the PostgreSQL server together."""

    def __init__(self, *pids: int) -> None:
        self._pids = pids

    def __call__(self) -> float:
        own = resource.getrusage(resource.RUSAGE_SELF)
        return own.ru_utime + own.ru_stime + sum(_process_cpu(pid) for pid in self._pids)


class DelayProxy:
    """A TCP proxy in front of PostgreSQL that holds every chunk ``delay`` seconds each
    way, so a direct check sees a network's round trips instead of loopback's."""

    def __init__(self, host: str, port: int, delay: float) -> None:
        self._target, self._delay = (host, port), delay
        self._loop = asyncio.new_event_loop()
        ready = threading.Event()
        self.port = 0

        async def start() -> None:
            server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
            self.port = server.sockets[0].getsockname()[1]
            ready.set()

        threading.Thread(target=self._loop.run_forever, daemon=True).start()
        asyncio.run_coroutine_threadsafe(start(), self._loop)
        ready.wait(10)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection(*self._target)
        await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer))

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()

        async def deliver() -> None:
            while True:
                due, data = await queue.get()
                await asyncio.sleep(max(0.0, due - time.monotonic()))
                if not data:
                    writer.close()
                    return
                writer.write(data)
                await writer.drain()

        delivering = asyncio.ensure_future(deliver())
        while True:
            data = await reader.read(65536)
            queue.put_nowait((time.monotonic() + self._delay, data))
            if not data:
                break
        await delivering

    def close(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)


def _proxy_process(host: str, port: int, delay: float) -> tuple[subprocess.Popen[str], int]:
    # Its own process: in this one, its event loop would compete for the GIL with the
    # checks being measured.
    proc = subprocess.Popen(
        [sys.executable, __file__, "--proxy", host, str(port), str(delay)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    return proc, int(proc.stdout.readline())


def run(latency_ms: float = 50.0, direct_delay_ms: float = 10.0) -> dict[str, Any]:
    server = pgserver.start(tls=False)
    proxy, proxy_port = _proxy_process(server.host, server.port, direct_delay_ms / 1000)
    proc = None
    os.environ["BENCH_VERIFY_PASSWORD"] = server.password
    figures: dict[str, Any] = {"latency_ms": latency_ms, "direct_delay_ms": direct_delay_ms}
    try:
        with tempfile.TemporaryDirectory() as tmp:
            manifest = _manifest(Path(tmp), server, server.port, "api.yaml")
            desired = load_desired([str(manifest)], Selection(), [])
            far = _manifest(Path(tmp), server, proxy_port, "direct.yaml")
            far_desired = load_desired([str(far)], Selection(), [])
            figures["connections"] = len(desired)
            proc, env = _emulator(manifest, latency_ms)
            assert server.process is not None
            cpu = CpuMeter(proc.pid, server.process.pid, proxy.pid)
            figures["api"] = _api(desired, env, server.password, cpu)
            lookup = lambda ref: server.password  # noqa: E731 - every check, one password
            figures["direct"] = _runs(
                lambda p: _check(_direct(far_desired, lookup, p)),
                lambda: _check(_direct(far_desired[:1], lookup, 1)),
                cpu,
                bare=lambda p: _bare(server, proxy_port, len(far_desired), p),
            )
            figures["stall"] = _stall(server, lookup)
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(10)
        proxy.terminate()
        proxy.wait(10)
        server.stop()
    return figures


def _api(desired: Any, env: dict[str, str], password: str, cpu: CpuMeter) -> dict[str, Any]:
    credentials = Credentials(env["AEP_CLIENT_ID"], env["AEP_CLIENT_SECRET"])
    endpoints = Endpoints(env["AEP_IMS_URL"], env["AEP_PLATFORM_URL"])
    with build_http_client(30.0, parallelism=max(PARALLELISMS)) as http:
        client = FlowServiceClient(http, credentials, endpoints)
        for c in desired:
            client.create_connection(c.org, c.sandbox, _payload(c, password), name=c.name)
        plan = plan_for(client, desired, 16)
        first = plan.connections[0]
        return _runs(
            lambda p: _check(verify_remote(client, plan, explore=False, parallelism=p)),
            lambda: test_one(client, first.desired, first.remote[0].id, False),
            cpu,
        )


def _runs(everything: Any, one: Any, cpu: CpuMeter, bare: Any = None) -> dict[str, Any]:
    """One round trip (the median of single checks), then every connection per parallelism,
    each with the CPU seconds the three processes spent on it; with `bare`, a plain psycopg
    loop making the same connections, timed in turn with each run (the same machine load)."""
    figures: dict[str, Any] = {
        "trip_s": statistics.median(_timed(one) for _ in range(SAMPLES)),
        "seconds": {},
        "cpu_s": {},
        "bare_s": {},
    }
    for parallelism in PARALLELISMS:
        # The best of a few runs: the machine is shared, and other work only adds time.
        runs, bares = [], []
        for _ in range(REPEATS):
            before = cpu()
            runs.append((_timed(lambda p=parallelism: everything(p)), cpu() - before))
            if bare is not None:
                bares.append(_timed(lambda p=parallelism: bare(p)))
        figures["seconds"][parallelism], figures["cpu_s"][parallelism] = min(runs)
        if bares:
            figures["bare_s"][parallelism] = min(bares)
    return figures


def _bare(server: pgserver.PgServer, port: int, count: int, parallelism: int) -> None:
    """What `verify --direct` is compared with: psycopg alone, the same connects and query."""
    import psycopg

    async def everything() -> None:
        gate = asyncio.Semaphore(parallelism)

        async def one() -> None:
            async with gate:
                conn = await psycopg.AsyncConnection.connect(
                    host=server.host, port=port, dbname=server.database, user=server.user,
                    password=server.password, sslmode="disable", connect_timeout=5,
                )  # fmt: skip
                async with conn:
                    await conn.execute("SELECT 1")

        await asyncio.gather(*(one() for _ in range(count)))

    asyncio.run(everything())


STALLED, STALL_PARALLELISM, STALL_DEADLINE = 16, 8, 2.0


def _stall(server: pgserver.PgServer, lookup: Any) -> dict[str, float]:
    """16 servers that complete the login and then stall (a pool exhausted), at parallelism
    8 with a 2 s deadline: the floor is 2 rounds of 2 s."""
    from fakes import StallingProxy

    with StallingProxy(server.port) as proxy, tempfile.TemporaryDirectory() as tmp:
        manifest = _manifest(Path(tmp), server, proxy.port, "stall.yaml")
        desired = load_desired([str(manifest)], Selection(), [])[:STALLED]
        start = time.perf_counter()
        result = verify_direct(
            desired, lookup, parallelism=STALL_PARALLELISM, timeout=STALL_DEADLINE,
            explore=False, ca_file=None,
        )  # fmt: skip
        seconds = time.perf_counter() - start
    if result.count(result.checks[0].status) != STALLED or result.passed:
        raise SystemExit(f"verify bench, stall case: {result.summary()}")
    floor = -(-STALLED // STALL_PARALLELISM) * STALL_DEADLINE
    return {"seconds": seconds, "floor": floor}


def _payload(connection: Any, password: str) -> dict[str, Any]:
    from provisioner.connectors.postgres.payload import render_payload

    return render_payload(connection, lambda ref: password)


def _direct(desired: Any, lookup: Any, parallelism: int) -> Any:
    return verify_direct(
        desired, lookup, parallelism=parallelism, timeout=5.0, explore=False, ca_file=None
    )


def _check(result: Any) -> None:
    # A benchmark of failures would measure the wrong thing.
    if not result.passed or len(result.checks) == 0:
        raise SystemExit(f"verify bench: {result.summary()}")


def render(figures: dict[str, Any]) -> list[str]:
    n, cores = figures["connections"], os.cpu_count() or 1
    lines = [
        f"## verify: {n} connections against a real PostgreSQL",
        "",
        f"`api`: the emulator (its own process, {figures['latency_ms']:g} ms API latency) opens "
        "a real PostgreSQL connection for every `GET /connections/{id}/test`. `direct`: "
        "`verify --direct` connects from the provisioner, through a proxy holding every packet "
        f"{figures['direct_delay_ms']:g} ms each way (a network, not loopback). One round trip "
        "= the median of single checks made one after another; floor = connections / "
        "parallelism x one round trip. Seconds = the verify stage only (no start-up), the best of "
        f"{REPEATS} runs. CPU s = "
        "what the provisioner, the emulator, PostgreSQL (its backends included) and the proxy "
        "used "
        f"during the run; CPU floor = CPU s / {cores} cores.",
        "",
        "| mode | one round trip ms | parallelism | seconds | floor s | seconds/floor | "
        "CPU s | CPU floor s | seconds/max(floors) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for mode in ("api", "direct"):
        trip = figures[mode]["trip_s"]
        for parallelism, seconds in figures[mode]["seconds"].items():
            floor = n / parallelism * trip
            cpu = figures[mode]["cpu_s"][parallelism]
            lines.append(
                f"| {mode} | {trip * 1000:.1f} | {parallelism} | {seconds:.2f} | {floor:.2f} | "
                f"{seconds / floor:.2f}x | {cpu:.2f} | {cpu / cores:.2f} | "
                f"{seconds / max(floor, cpu / cores):.2f}x |"
            )
    bare = figures["direct"].get("bare_s") or {}
    if bare:
        lines += [
            "",
            "`direct` against a bare psycopg loop (the same connects through the same proxy and "
            "`SELECT 1`, no classification, no deadline), timed in turn in the same run, the "
            "best of each; target: at most 1.2x.",
            "",
            "| parallelism | verify --direct s | bare psycopg s | ratio |",
            "|---:|---:|---:|---:|",
        ]
        for parallelism, seconds in figures["direct"]["seconds"].items():
            lines.append(
                f"| {parallelism} | {seconds:.2f} | {bare[parallelism]:.2f} | "
                f"{seconds / bare[parallelism]:.2f}x |"
            )
    stall = figures.get("stall")
    if stall:
        lines += [
            "",
            f"Stall: {STALLED} servers that log in and then stall, `--parallelism "
            f"{STALL_PARALLELISM} --connect-timeout {STALL_DEADLINE:g}`: {stall['seconds']:.2f} s "
            f"against a deadline floor of {stall['floor']:.2f} s "
            f"({stall['seconds'] / stall['floor']:.2f}x).",
        ]
    lines += [
        "",
        "Target: about 1x the floor while waiting is the bound. Every check is a real "
        "PostgreSQL login (a backend forked, SCRAM-SHA-256 on both ends, `SELECT 1`); once "
        "parallelism hides the waiting, those CPU seconds on a machine shared with other "
        "work are the bound, and the last column compares with the larger floor.",
        "",
    ]
    return lines


if __name__ == "__main__":
    if sys.argv[1:2] == ["--proxy"]:
        running = DelayProxy(sys.argv[2], int(sys.argv[3]), float(sys.argv[4]))
        print(running.port, flush=True)
        threading.Event().wait()
    print("\n".join(render(run())))
