"""The reliability suites at full size, then their figures as one table.

Runs ``PROVISION_SOAK=1 pytest tests/reliability`` (10 seeds; 500 connections over 10
sandboxes per fault profile; 5 kills per seed), which writes bench/out/soak.json, and
prints runs, connections created, duplicates, lost and crashes survived per suite.
Exits non-zero when a test failed or any duplicate or lost connection was counted.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out" / "soak.json"
COLUMNS = ("runs", "connections_created", "duplicates", "lost", "crashes_survived")


def table(figures: dict[str, object]) -> str:
    rows = dict(figures["by_suite"])  # type: ignore[call-overload]
    rows["total"] = {k: figures[k] for k in COLUMNS}
    width = max(len(name) for name in rows) + 2
    lines = ["suite".ljust(width) + "".join(k.replace("_", " ").rjust(22) for k in COLUMNS)]
    for name, row in rows.items():
        lines.append(name.ljust(width) + "".join(str(row.get(k, 0)).rjust(22) for k in COLUMNS))
    return "\n".join(lines)


def main() -> int:
    OUT.unlink(missing_ok=True)
    started = time.monotonic()
    env = {**os.environ, "PROVISION_SOAK": "1", "PROVISION_SOAK_OUT": str(OUT)}
    tests = subprocess.run(
        [sys.executable, "-m", "pytest", "tests/reliability", "-q", *sys.argv[1:]],
        cwd=ROOT,
        env=env,
        check=False,
    )
    if not OUT.exists():
        print("no figures were written", file=sys.stderr)
        return tests.returncode or 1
    figures = json.loads(OUT.read_text(encoding="utf-8"))
    print(f"\nSoak, full size, {time.monotonic() - started:.0f} s ({OUT.relative_to(ROOT)}):")
    print(table(figures))
    bad = figures["duplicates"] or figures["lost"]
    return tests.returncode or (1 if bad else 0)


if __name__ == "__main__":
    raise SystemExit(main())
