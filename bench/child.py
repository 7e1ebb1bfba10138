"""Run one `provision` command and report its peak memory and network time (bench/run.py).

The benchmark needs the provisioner process's own figures: this wrapper runs the CLI
in-process, times the network stages (observe and its dataflow listing; apply's creates and
its dataflow stage) by wrapping them, and writes
`{"peak_kb", "network_s"}` to the file named by BENCH_RSS_FILE. BENCH_NO_PACER=1 runs the
client without its pacer, as it was before adaptive pacing (the "as fast as before" check).
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable
from typing import Any

import peak

import provisioner.commands.apply as apply_command
import provisioner.commands.apply_stages as apply_stages
import provisioner.commands.session as remote
from provisioner.cli.main import main

network_seconds = 0.0


class NoPacers:
    """Every org's client without a pacer; reports see nothing throttled."""

    throttled, lowest = 0, None

    def new(self) -> None:
        return None

    def describe(self) -> str:
        return "unpaced"


def timed(function: Callable[..., Any]) -> Callable[..., Any]:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        global network_seconds
        start = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            network_seconds += time.perf_counter() - start

    return wrapper


if __name__ == "__main__":
    if os.environ.get("BENCH_NO_PACER"):
        remote.OrgPacers = NoPacers  # type: ignore[assignment,misc]
    remote.observe = timed(remote.observe)  # type: ignore[assignment]
    remote.observe_dataflows = timed(remote.observe_dataflows)  # type: ignore[assignment]
    apply_command.apply_plan = timed(apply_command.apply_plan)  # type: ignore[assignment]
    apply_stages.apply_dataflows = timed(apply_stages.apply_dataflows)  # type: ignore[assignment]
    code = main(sys.argv[1:])
    peak_kb = peak.peak_kb()
    with open(os.environ["BENCH_RSS_FILE"], "w") as handle:
        json.dump({"peak_kb": peak_kb, "network_s": network_seconds}, handle)
    raise SystemExit(code)
