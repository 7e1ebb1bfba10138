"""Start-up cost of the offline commands against a bare interpreter (`python -c pass`).

Each command runs `REPEATS` times as its own process; the median wall time is reported, and
its ratio to the bare interpreter's. The commands are the ones a pre-commit hook or a review
job runs first: `provision --help`, `provision validate` of one small file, `provision
schema`. Which modules they import is pinned by tests/test_fast_start.py, not here.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

REPEATS = 15
SMALL = """\
version: 1
org: 0123456789ABCDEF01234567@AdobeOrg
sandboxes:
  - {name: prod, cloud: azure}
connections:
  - name: "orders-{{ sandbox.name }}"
    auth:
      type: basic
      server: pg.example.test
      database: orders
      username: reader
      password: {env: ORDERS_PG_PASSWORD}
"""


def _provision() -> list[str]:
    script = Path(sys.executable).with_name("provision")
    return [str(script)] if script.exists() else [sys.executable, "-m", "provisioner"]


def _median_ms(command: list[str], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def run(folder: Path, repeats: int = REPEATS) -> dict[str, Any]:
    small = folder / "small.yaml"
    small.write_text(SMALL)
    provision = _provision()
    commands = {
        "python -c pass": [sys.executable, "-c", "pass"],
        "provision --help": [*provision, "--help"],
        "provision validate small.yaml": [*provision, "validate", str(small)],
        "provision schema": [*provision, "schema"],
    }
    # Interleaved rounds, so a burst of load elsewhere hits every command alike.
    samples: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(repeats):
        for name, command in commands.items():
            samples[name].append(_median_ms(command, 1))
    medians = {name: statistics.median(values) for name, values in samples.items()}
    bare = medians["python -c pass"]
    return {
        "repeats": repeats,
        "ms": medians,
        "ratio": {name: value / bare for name, value in medians.items()},
    }


if __name__ == "__main__":
    import json
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        print(json.dumps(run(Path(tmp)), indent=2))
