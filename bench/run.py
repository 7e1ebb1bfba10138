"""`make bench`: how close provision gets to the network floor, under Adobe's limits, at scale.

One run measures, each `provision` command as its own process against the emulator (also
its own process):

- the main workload (50 sandboxes x 40, 50 ms latency): plan, apply, plan again, against
  the floor (requests / parallelism x latency) and a parallelism-1 run; apply also once
  without the pacer (the client as it was before adaptive pacing), in the same run;
- the same 2,000 creates against `--rate-limit 100`: the rate achieved and the 429 share;
- 800 creates against `--rate-limit 40` at parallelism 4, 16 and 32: the 429 share at each
  (the pacer's slow start: no burst of 429s however many workers; `--throttled-only` runs
  this section alone and prints it);
- scale (bench/scale.py): plan and apply over 500 sandboxes against a minimal client;
- dataflows (bench/dataflows.py): plan and apply of 2,000 dataflows over 50 sandboxes, by
  route and against a minimal client (`--dataflows-only` runs it alone, in a few minutes,
  and writes bench/RESULTS-dataflows.md, which every run writes and RESULTS.md includes);
- offline validate + render, the emulator's own capacity, and start-up (bench/startup.py).

Results go to bench/RESULTS.md with the machine and its load: the machine is shared, so
ratios measured in one run mean more than absolute seconds. `make bench-scale` runs the
scale section alone at 2k/10k/50k and writes bench/RESULTS-scale.md, which RESULTS.md
includes.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import dataflows  # noqa: E402
import emulator_load  # noqa: E402
import offline  # noqa: E402
import report  # noqa: E402
import report_dataflows  # noqa: E402
import scale  # noqa: E402
import startup  # noqa: E402
import verify as verify_bench  # noqa: E402
from harness import EmulatorProcess, Phase, load, run_phase, write_manifest  # noqa: E402

PER_SANDBOX = 40
ALLOWED = 100.0  # requests per second, the throttled run's --rate-limit


def workload(
    emulator: EmulatorProcess, sandboxes: int, parallelism: int, folder: Path
) -> list[Phase]:
    emulator.reset()
    manifest = str(write_manifest(folder, sandboxes, PER_SANDBOX))
    create = ["apply", manifest, "--auto-approve"]
    return [
        run_phase(emulator, "plan (empty)", ["plan", manifest], parallelism, folder),
        run_phase(emulator, "apply (create all)", create, parallelism, folder),
        run_phase(emulator, "plan (all exist)", ["plan", manifest], parallelism, folder),
    ]


def unpaced_apply(emulator: EmulatorProcess, parallelism: int, folder: Path) -> Phase:
    """The main apply with the pacer switched off: the client as it was before pacing."""
    emulator.reset()
    manifest = str(write_manifest(folder, 50, PER_SANDBOX))
    return run_phase(
        emulator,
        "apply, no pacer",
        ["apply", manifest, "--auto-approve"],
        parallelism,
        folder,
        extra_env={"BENCH_NO_PACER": "1"},
    )


def throttled(latency_ms: float, parallelism: int, folder: Path) -> dict[str, Any]:
    emulator = EmulatorProcess(latency_ms, "--rate-limit", f"{ALLOWED:g}")
    try:
        before = load()
        emulator.reset()
        manifest = str(write_manifest(folder, 50, PER_SANDBOX))
        phase = run_phase(
            emulator,
            "apply (create all), --rate-limit 100",
            ["apply", manifest, "--auto-approve"],
            parallelism,
            folder,
            expect=(0,),
        )
        stored = len(emulator.admin.get("/state").json()["connections"])
    finally:
        emulator.close()
    admitted = phase.flow_requests - phase.throttled
    return {
        "phase": phase,
        "allowed": ALLOWED,
        "achieved": admitted / phase.network_seconds,
        "share_429": phase.throttled / phase.flow_requests,
        "stored": stored,
        "load": f"{before} → {load()}",
    }


SWEEP_ALLOWED = 40.0  # requests per second: the limit of the parallelism sweep
SWEEP_PARALLELISM = (4, 16, 32)


def throttled_sweep(latency_ms: float, folder: Path) -> dict[str, Any]:
    """20 sandboxes x 40 creates against a 40/s header-less limit, at each parallelism."""
    emulator = EmulatorProcess(latency_ms, "--rate-limit", f"{SWEEP_ALLOWED:g}")
    rows = []
    try:
        before = load()
        manifest = str(write_manifest(folder, 20, PER_SANDBOX))
        for parallelism in SWEEP_PARALLELISM:
            emulator.reset()
            phase = run_phase(
                emulator,
                f"apply, --rate-limit {SWEEP_ALLOWED:g}, parallelism {parallelism}",
                ["apply", manifest, "--auto-approve"],
                parallelism,
                folder,
                expect=(0,),
            )
            stored = len(emulator.admin.get("/state").json()["connections"])
            admitted = phase.flow_requests - phase.throttled
            rows.append(
                {
                    "parallelism": parallelism,
                    "phase": phase,
                    "achieved": admitted / phase.network_seconds,
                    "share_429": phase.throttled / phase.flow_requests,
                    "stored": stored,
                }
            )
    finally:
        emulator.close()
    return {"allowed": SWEEP_ALLOWED, "rows": rows, "load": f"{before} → {load()}"}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--parallelism", type=int, default=16)
    parser.add_argument("--scale-sizes", default="2000,10000", help="connections, comma-separated")
    parser.add_argument("--scale-latency-ms", type=float, default=10.0)
    parser.add_argument("--scale-only", action="store_true", help="write RESULTS-scale.md only")
    parser.add_argument(
        "--throttled-only", action="store_true", help="print the --rate-limit 40 sweep only"
    )
    parser.add_argument(
        "--dataflows-only", action="store_true", help="write RESULTS-dataflows.md only"
    )
    args = parser.parse_args()
    if args.throttled_only:
        with tempfile.TemporaryDirectory() as tmp:
            sweep = throttled_sweep(args.latency_ms, Path(tmp))
        print("\n".join(report.throttled_sweep(sweep, args)))
        return 0
    if args.dataflows_only:
        print(f"dataflows: 2,000 over 50 sandboxes, parallelism {args.parallelism}", flush=True)
        section = dataflows.run(args.latency_ms, args.parallelism)
        text = report_dataflows.dataflows_file(section, args, "`bench/run.py --dataflows-only`")
        (HERE / "RESULTS-dataflows.md").write_text(text)
        print(text)
        return 0
    sizes = [int(s) for s in args.scale_sizes.split(",") if s]
    if args.scale_only:
        figures = scale.run(sizes, args.scale_latency_ms, args.parallelism)
        text = report.scale_file(figures, args)
        (HERE / "RESULTS-scale.md").write_text(text)
        print(text)
        return 0
    results: dict[str, Any] = {"load_start": load()}
    emulator = EmulatorProcess(args.latency_ms)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            print(f"main workload: 50 sandboxes x {PER_SANDBOX}, parallelism {args.parallelism}")
            results["main"] = workload(emulator, 50, args.parallelism, folder)
            results["unpaced"] = unpaced_apply(emulator, args.parallelism, folder)
            results["main_load"] = load()
            print("sequential: 5 sandboxes x 40 at parallelism 1 (scaled x10)")
            results["sequential"] = workload(emulator, 5, 1, folder)
            print(f"throttled: 2,000 creates against --rate-limit {ALLOWED:g}")
            results["throttled"] = throttled(args.latency_ms, args.parallelism, folder)
            print(f"throttled sweep: 800 creates against --rate-limit {SWEEP_ALLOWED:g}")
            results["sweep"] = throttled_sweep(args.latency_ms, folder)
            print("start-up: --help, validate, schema against python -c pass")
            results["startup"] = startup.run(folder)
            results["startup_load"] = load()
    finally:
        emulator.close()
    print(f"dataflows: 2,000 over 50 sandboxes, parallelism {args.parallelism}", flush=True)
    section = dataflows.run(args.latency_ms, args.parallelism)
    flows_text = report_dataflows.dataflows_file(section, args, "`make bench`")
    (HERE / "RESULTS-dataflows.md").write_text(flows_text)
    results["scale"] = scale.run(sizes, args.scale_latency_ms, args.parallelism)
    print("offline: validate + render of 10,000 connections")
    results["offline"] = offline.run()
    print("verify: 200 connections against a real PostgreSQL")
    results["verify"] = verify_bench.run(args.latency_ms)
    print("emulator: 32 clients, 50 ms latency")
    results["emulator"] = emulator_load.run(clients=32, latency_ms=args.latency_ms, seconds=5.0)
    results["load_end"] = load()
    results["generated"] = datetime.now(UTC)
    extra = HERE / "RESULTS-scale.md"
    text = report.render(results, args, extra.read_text() if extra.exists() else None, flows_text)
    (HERE / "RESULTS.md").write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
