"""The worst inputs in a child interpreter under an address-space limit: a segfault in
libyaml's composer (deep nesting), a MemoryError or a hang would show here as a signal,
a traceback or a timeout instead of taking the test run down."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from .hostile import MANIFEST, Run, check

LIMIT_BYTES = 768 * 1024 * 1024
CHILD = f"""
import resource, sys
resource.setrlimit(resource.RLIMIT_AS, ({LIMIT_BYTES}, {LIMIT_BYTES}))
from provisioner.cli.main import main
raise SystemExit(main(sys.argv[1:]))
"""
DEPTH = 100_000


def _bomb(leaf: str, levels: int = 9, width: int = 9) -> str:
    lines = [f"  a0: &a0 [{', '.join([leaf] * width)}]"]
    for i in range(1, levels):
        lines.append(f"  a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * width)}]")
    return MANIFEST.replace("vars:\n", "vars:\n" + "\n".join(lines) + "\n", 1)


CASES = {
    "flow-lists-10^5-deep": "[" * DEPTH + "]" * DEPTH,
    "flow-maps-10^5-deep": "{a: " * DEPTH + "1" + "}" * DEPTH,
    "unclosed-10^5-deep": "[{" * DEPTH,
    "block-lists-deep": "".join(" " * i + "-\n" for i in range(1200)),
    "billion-laughs": _bomb('"lol"'),
    "billion-laughs-of-tags": _bomb("!lol x"),
    "billion-laughs-of-deep-lists": _bomb("[" * 70 + "]" * 70, levels=6),
    "anchors-in-vars-printed": _bomb("x").replace(
        'name: "orders-{{ sandbox.name }}"', 'name: "{{ vars.a8 }}"'
    ),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_worst_inputs_end_cleanly_in_a_limited_child(tmp_path: Path, name: str) -> None:
    path = tmp_path / "m.yaml"
    path.write_text(CASES[name], encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-c", CHILD, "validate", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode >= 0, f"killed by signal {-done.returncode}"
    check(Run(done.returncode, done.stdout, done.stderr))
    assert done.returncode == 1
