"""Offline cost: validate + render of 10,000 literal connections vs a bare PyYAML C parse.

Writes an expanded manifest set (10 files x 1,000 literal entries) to a temporary folder,
then times, in one process and one run: `yaml.load(CSafeLoader)` of every file, and
provision's own load -> validate -> render of the same files. Peak memory is the peak RSS
of a separate process doing the same work, so measuring it does not slow the timed pass.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

from provisioner.commands import load_desired
from provisioner.connectors.postgres.payload import render_payload
from provisioner.manifests.selection import Selection
from provisioner.redact import SENSITIVE

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


def _peak_rss_mb(folder: Path) -> float:
    """Peak RSS of a fresh process that validates and renders the files (memory pass)."""
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]); import offline, peak; "
        "from pathlib import Path; "
        "offline.validate_and_render(sorted(Path(sys.argv[2]).glob('*.yaml'))); "
        "print(peak.peak_kb())"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(Path(__file__).parent), str(folder)],
        capture_output=True,
        text=True,
        check=True,
    )
    return int(done.stdout.strip()) / 1024


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
        peak_rss_mb = _peak_rss_mb(Path(tmp))
    return {
        "connections": count,
        "yaml_parse_s": parse_seconds,
        "validate_render_s": provision_seconds,
        "ratio": provision_seconds / parse_seconds,
        "peak_mb": peak_rss_mb,
    }


if __name__ == "__main__":
    result = run()
    print(
        f"offline: {result['connections']} connections; PyYAML C parse "
        f"{result['yaml_parse_s']:.2f} s, validate+render {result['validate_render_s']:.2f} s "
        f"= {result['ratio']:.2f}x (target <= 4x); peak {result['peak_mb']:.0f} MB (< 200 MB)"
    )
