"""`provision apply` of dataflows under injected faults on a loopback socket, re-run until it
succeeds: 429s, 5xx, and creates committed then answered with a 500 or a dropped connection,
on every POST of the chain (source, target, mapping set, flow, the disable action) as on the
connections'. The end: no duplicate flow, no orphan source or target connection, every
mapping set nothing uses reported (by id, or as possibly left behind when its answer was
lost), and a run without faults has nothing to change."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from provisioner.emulator import Emulator, Faults, RunningServer

from .apply_helpers import census
from .cli_helpers import apply, dataflow, manifest, point_at, prepare

SANDBOXES = ("prod", "dev")
MAX_RUNS = 10
FAULTS = Faults(
    rate_429=0.1,
    retry_after_s=0,
    rate_5xx=0.04,
    rate_commit_then_500=0.12,
    rate_commit_then_drop=0.12,
)
LEFT_BEHIND = re.compile(
    r"mapping sets? left behind, unused \(Adobe documents no delete for them\): (.*)"
)
UNCLEAR_MAPPING = "a mapping set may have been made and left behind"


@pytest.mark.parametrize("seed", [0, 1])
def test_faults_then_re_runs_converge_without_duplicates_or_orphans(
    seed: int,
    monkeypatch: pytest.MonkeyPatch,
    server: RunningServer,
    emulator: Emulator,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    point_at(monkeypatch, server, emulator)
    prepare(emulator, SANDBOXES)
    path = tmp_path / "orders.yaml"
    text = manifest(
        dataflow(),
        dataflow(
            "public.items",
            columns="[id, sku, updated_at]",
            enabled=False,
            mapping=("{source: id, destination: _id}",),
        ),
        sandboxes=SANDBOXES,
    )
    path.write_text(text, encoding="utf-8")
    emulator.set_faults(FAULTS, seed=seed)
    reported: set[str] = set()
    unclear = 0
    for _ in range(MAX_RUNS):
        done = apply(capsys, path, "--parallelism", "4")
        for line in done.out.splitlines():
            if found := LEFT_BEHIND.search(line):
                reported.update(found.group(1).split(", "))
            unclear += line.count(UNCLEAR_MAPPING)
        if done.code == 0:
            break
    else:
        pytest.fail(f"no success after {MAX_RUNS} runs:\n{done.out}\n{done.err}")
    emulator.set_faults(Faults())
    final = apply(capsys, path)
    assert (final.code, final.out.splitlines()[-1]) == (0, "Nothing to change.")
    now = census(emulator)
    names = {f"orders-{s}/public.{t}" for s in SANDBOXES for t in ("orders", "items")}
    assert dict(now.flows) == dict.fromkeys(names, 1)
    assert now.orphans == ()
    # Every unused mapping set was reported: by id, or as possibly made by a lost answer.
    assert len(set(now.unused_mapping_sets) - reported) <= unclear
    assert reported <= set(now.unused_mapping_sets)
