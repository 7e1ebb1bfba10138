"""Offline cost: validate + render of 10,000 literal connections vs a bare PyYAML C parse.

Writes an expanded manifest set (10 files x 1,000 literal entries) to a temporary folder,
then times, in one process and one run: `yaml.load(CSafeLoader)` of every file, and
provision's own load -> validate -> render of the same files. Peak memory is measured
with tracemalloc in a separate pass so it does not slow the timed one.
"""

from __future__ import annotations

import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any

import yaml

from provisioner.commands import load_desired
from provisioner.payloads import render_payload
from provisioner.redact import SENSITIVE
from provisioner.select import Selection

FILES = 10
PER_FILE = 1_000


def write_manifests(folder: Path, files: int = FILES, per_file: int = PER_FILE) -> list[Path]:
    paths = []
    for f in range(files):
        lines = [
            "version: 1",
            "org: 0123456789ABCDEF01234567@AdobeOrg",
            "sandboxes:",
            f"  - {{name: sb-{f}, cloud: {'aws' if f % 5 == 4 else 'azure'}}}",
            "connections:",
        ]
        for i in range(per_file):
            lines += [
                f"  - name: conn-{f}-{i}",
                f"    description: Literal connection {i} of file {f}",
                "    auth:",
                "      type: basic",
                f"      server: pg-{i}.db.example.com",
                "      port: 5432",
                f"      database: db_{i}",
                "      username: aep_reader",
                f"      password: {{env: PG_PASSWORD_{i % 50}}}",
                "      ssl: verify-full",
            ]
        path = folder / f"manifest-{f:02d}.yaml"
        path.write_text("\n".join(lines) + "\n")
        paths.append(path)
    return paths


def parse_only(paths: list[Path]) -> None:
    for path in paths:
        yaml.load(path.read_text(), Loader=yaml.CSafeLoader)


def validate_and_render(paths: list[Path]) -> int:
    desired = load_desired([str(p) for p in paths], Selection(), [])
    for connection in desired:
        render_payload(connection, lambda ref: SENSITIVE)
    return len(desired)


def run() -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        paths = write_manifests(Path(tmp))
        parse_only(paths)  # warm the page cache and imports for both sides
        start = time.perf_counter()
        parse_only(paths)
        parse_seconds = time.perf_counter() - start
        start = time.perf_counter()
        count = validate_and_render(paths)
        provision_seconds = time.perf_counter() - start
        tracemalloc.start()
        validate_and_render(paths)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    return {
        "connections": count,
        "yaml_parse_s": parse_seconds,
        "validate_render_s": provision_seconds,
        "ratio": provision_seconds / parse_seconds,
        "peak_mb": peak / 1e6,
    }


if __name__ == "__main__":
    result = run()
    print(
        f"offline: {result['connections']} connections; PyYAML C parse "
        f"{result['yaml_parse_s']:.2f} s, validate+render {result['validate_render_s']:.2f} s "
        f"= {result['ratio']:.2f}x (target <= 4x); peak {result['peak_mb']:.0f} MB (< 200 MB)"
    )
